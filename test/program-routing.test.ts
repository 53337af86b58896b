/**
 * The routing half of index.ts under mocks: the stack's default config (Zendesk off), then, in a child
 * process, the program with Zendesk configured.
 */
import * as assert from "assert";
import { runProgramChild } from "./support/program-child";
import { resourcesOf, registrationsDone, valueOf } from "./support/pulumi-mocks";
import * as pulumi from "@pulumi/pulumi";
import { ALL_CLIENT_EVENTS_PATTERN, LOYALTY_PURCHASE_PATTERN } from "../pipeline/event-patterns";
import { buildPartitionKeysQuery, PARTITION_KEYS_JQ_QUERY, S3_PREFIX } from "../pipeline/partitioning";
import { TICKET_INPUT_TEMPLATE } from "../pipeline/zendesk-ticket";

const PREFIX = "client-events-test";

describe("program (index.ts): routing with the default config", function () {
    this.timeout(120_000);
    let program: Record<string, unknown>;
    before(async () => {
        program = require("../index");
        await registrationsDone();
    });
    const output = <T>(name: string) => valueOf(program[name] as pulumi.Output<T>);

    it("exports the routing outputs", async () => {
        const [bucket] = await resourcesOf(`${PREFIX}-archive-bucket`, "aws:s3/bucket:Bucket");
        const [stream] = await resourcesOf(`${PREFIX}-archive-stream`, "aws:kinesis/firehoseDeliveryStream:FirehoseDeliveryStream");
        const [bus] = await resourcesOf(`${PREFIX}-routing-bus`, "aws:cloudwatch/eventBus:EventBus");
        assert.strictEqual(await output("bucketName"), bucket.state.bucket);
        assert.strictEqual(await output("deliveryStreamName"), stream.state.name);
        assert.strictEqual(await output("eventBusName"), bus.state.name);
        const dlqs = await output<Record<string, string>>("deadLetterQueueUrls");
        assert.deepStrictEqual(Object.keys(dlqs), ["archive"]);
        assert.match(dlqs.archive, /^https:\/\/sqs\.us-east-1\.amazonaws\.com\/123456789012\/client-events-test-routing-archive-dlq/);
        assert.strictEqual(program.zendeskEnabled, false);
    });

    it("wires the bus's archive rule to the archive's Firehose stream, with the default partitioning", async () => {
        const [stream] = await resourcesOf(`${PREFIX}-archive-stream`, "aws:kinesis/firehoseDeliveryStream:FirehoseDeliveryStream");
        const [target] = await resourcesOf(`${PREFIX}-routing-archive-target`, "aws:cloudwatch/eventTarget:EventTarget");
        const [rule] = await resourcesOf(`${PREFIX}-routing-archive-rule`, "aws:cloudwatch/eventRule:EventRule");
        assert.strictEqual(target.inputs.arn, stream.state.arn);
        assert.deepStrictEqual(JSON.parse(rule.inputs.eventPattern), ALL_CLIENT_EVENTS_PATTERN);
        const s3 = stream.inputs.extendedS3Configuration;
        assert.strictEqual(s3.prefix, S3_PREFIX);
        assert.strictEqual(s3.processingConfiguration.processors[1].parameters[0].parameterValue, PARTITION_KEYS_JQ_QUERY);
        assert.strictEqual(s3.bufferingSize, 64);
    });

    it("a non-dev stack keeps the bucket on destroy; a replay archive of 7 days; no Zendesk resources", async () => {
        const [bucket] = await resourcesOf(`${PREFIX}-archive-bucket`, "aws:s3/bucket:Bucket");
        assert.strictEqual(bucket.inputs.forceDestroy, false);
        const [replay] = await resourcesOf(`${PREFIX}-routing-replay`, "aws:cloudwatch/eventArchive:EventArchive");
        assert.strictEqual(replay.inputs.retentionDays, 7);
        assert.match(replay.inputs.name, new RegExp(`^${PREFIX}-replay-[0-9a-f]{6}$`));
        assert.deepStrictEqual(await resourcesOf(`${PREFIX}-zendesk`), []);
        assert.deepStrictEqual(await resourcesOf(`${PREFIX}-routing-zendesk`), []);
    });
});

describe("program (index.ts): routing with Zendesk configured", function () {
    this.timeout(120_000);
    let result: any;
    before(() => {
        result = runProgramChild("program-with-zendesk.ts", undefined, ['{"outputs"']);
    });

    it("creates the connection, the API destination and the loyalty rule, wired together", () => {
        assert.strictEqual(result.outputs.zendeskEnabled, true);
        assert.deepStrictEqual(Object.keys(result.outputs.deadLetterQueueUrls).sort(), ["archive", "zendesk"]);
        assert.strictEqual(result.connections.length, 1);
        assert.strictEqual(result.destinations.length, 1);
        const [destination] = result.destinations;
        assert.strictEqual(destination.inputs.invocationEndpoint, "https://acme.zendesk.com/api/v2/tickets");
        assert.strictEqual(destination.inputs.invocationRateLimitPerSecond, 3);
        const rule = result.rules.find((r: any) => r.name.endsWith("-routing-zendesk-rule"));
        assert.deepStrictEqual(JSON.parse(rule.inputs.eventPattern), LOYALTY_PURCHASE_PATTERN);
        const target = result.targets.find((t: any) => t.name.endsWith("-routing-zendesk-target"));
        assert.strictEqual(target.inputs.arn, destination.state.arn);
        assert.strictEqual(target.inputs.inputTransformer.inputTemplate, TICKET_INPUT_TEMPLATE);
    });

    it("passes the token as a secret from config to the connection", () => {
        const auth = result.connections[0].inputs.authParameters;
        assert.strictEqual(
            auth["4dabf18193072939515e22adb298388d"],
            "1b47061264138c4ac30d75fd1eb44270",
            "secret on the wire to the engine",
        );
        assert.strictEqual(auth.value.basic.username, "support@example.com/token");
        assert.strictEqual(auth.value.basic.password, "zd-secret-token-42");
        for (const list of [result.destinations, result.rules, result.targets, result.streams]) {
            assert.ok(!JSON.stringify(list).includes("zd-secret-token-42"));
        }
    });

    it("applies the partitioning and replay settings from config", () => {
        const query = result.streams[0].inputs.extendedS3Configuration.processingConfiguration.processors[1].parameters[0].parameterValue;
        assert.strictEqual(query, buildPartitionKeysQuery({ eventTypes: ["shopping", "loyaltypurchase"], maxSchemaVersion: 20 }));
        assert.deepStrictEqual(result.archives, [], "eventArchiveRetentionDays 0: no replay archive");
    });
});
