import { ACCOUNT, oneOf, REGION, resourcesOf, valueOf } from "./support/pulumi-mocks";
import * as assert from "assert";
import { ARCHIVE_RETRY_POLICY, DLQ_RETENTION_SECONDS, EventRouting } from "../components/event-routing";
import { ZendeskDestination } from "../components/zendesk-destination";
import { evaluate, isAllowed } from "./support/iam";
import { replayArchiveName } from "../pipeline/naming";
import { ALL_CLIENT_EVENTS_PATTERN, LOYALTY_PURCHASE_PATTERN } from "../pipeline/event-patterns";
import { TICKET_INPUT_PATHS, TICKET_INPUT_TEMPLATE, ZENDESK_RETRY_POLICY } from "../pipeline/zendesk-ticket";

const STREAM_ARN = `arn:aws:firehose:${REGION}:${ACCOUNT}:deliverystream/archive-stream`;
const EMPTY_POLICY = { Version: "2012-10-17", Statement: [] };
const RULE = "aws:cloudwatch/eventRule:EventRule";
const TARGET = "aws:cloudwatch/eventTarget:EventTarget";

describe("EventRouting component", () => {
    let routing: EventRouting;
    before(() => {
        const zendesk = new ZendeskDestination("rt-a-zd", {
            email: "support@example.com",
            apiToken: "t",
            endpoint: "https://acme.zendesk.com/api/v2/tickets",
        });
        routing = new EventRouting("rt-a", { archiveStreamArn: STREAM_ARN, zendesk: zendesk.target, replayArchive: { retentionDays: 7 } });
    });

    it("creates a custom bus with the archive and Zendesk rules on it", async () => {
        const bus = await oneOf("rt-a-bus", "aws:cloudwatch/eventBus:EventBus");
        const archiveRule = await oneOf("rt-a-archive-rule", RULE);
        const zendeskRule = await oneOf("rt-a-zendesk-rule", RULE);
        for (const rule of [archiveRule, zendeskRule]) {
            assert.strictEqual(rule.inputs.eventBusName, bus.state.name);
            assert.strictEqual(rule.inputs.state, "ENABLED");
        }
        assert.deepStrictEqual(JSON.parse(archiveRule.inputs.eventPattern), ALL_CLIENT_EVENTS_PATTERN);
        assert.deepStrictEqual(JSON.parse(zendeskRule.inputs.eventPattern), LOYALTY_PURCHASE_PATTERN);
        assert.strictEqual(await valueOf(routing.busName), bus.state.name);
        assert.deepStrictEqual(Object.keys(routing.routes).sort(), ["archive", "zendesk"]);
    });

    it("sends every client event to the Firehose stream, with retries and a DLQ", async () => {
        const target = await oneOf("rt-a-archive-target", TARGET);
        const rule = await oneOf("rt-a-archive-rule", RULE);
        const dlq = await oneOf("rt-a-archive-dlq", "aws:sqs/queue:Queue");
        const role = await oneOf("rt-a-archive-role", "aws:iam/role:Role");
        assert.strictEqual(target.inputs.rule, rule.state.name);
        assert.strictEqual(target.inputs.eventBusName, rule.inputs.eventBusName);
        assert.strictEqual(target.inputs.arn, STREAM_ARN);
        assert.strictEqual(target.inputs.roleArn, role.state.arn);
        assert.deepStrictEqual(target.inputs.retryPolicy, ARCHIVE_RETRY_POLICY);
        assert.deepStrictEqual(target.inputs.deadLetterConfig, { arn: dlq.state.arn });
        assert.strictEqual(target.inputs.inputTransformer, undefined, "the archive gets the whole event");
    });

    it("sends loyalty purchases to the Zendesk API destination with the server-side ticket", async () => {
        const target = await oneOf("rt-a-zendesk-target", TARGET);
        const destination = await oneOf("rt-a-zd-api", "aws:cloudwatch/eventApiDestination:EventApiDestination");
        const dlq = await oneOf("rt-a-zendesk-dlq", "aws:sqs/queue:Queue");
        assert.strictEqual(target.inputs.arn, destination.state.arn);
        assert.deepStrictEqual(target.inputs.inputTransformer, { inputPaths: TICKET_INPUT_PATHS, inputTemplate: TICKET_INPUT_TEMPLATE });
        assert.deepStrictEqual(target.inputs.retryPolicy, ZENDESK_RETRY_POLICY);
        assert.deepStrictEqual(target.inputs.deadLetterConfig, { arn: dlq.state.arn });
    });

    it("encrypts every DLQ and keeps messages 14 days", async () => {
        const queues = await resourcesOf("rt-a-", "aws:sqs/queue:Queue");
        assert.strictEqual(queues.length, 2);
        for (const queue of queues) {
            assert.strictEqual(queue.inputs.sqsManagedSseEnabled, true, queue.name);
            assert.strictEqual(queue.inputs.messageRetentionSeconds, DLQ_RETENTION_SECONDS);
        }
        const urls = await valueOf(routing.deadLetterQueueUrls);
        assert.deepStrictEqual(Object.keys(urls).sort(), ["archive", "zendesk"]);
        assert.ok(Object.values(urls).every((u) => u.startsWith("https://sqs.")));
    });

    it("lets only its own rule send to each DLQ, over TLS (queue policies evaluated)", async () => {
        for (const route of ["archive", "zendesk"] as const) {
            const { deadLetterQueue, rule, queuePolicyDocument } = routing.routes[route];
            const other = route === "archive" ? routing.routes.zendesk.rule : routing.routes.archive.rule;
            const queueArn = await valueOf(deadLetterQueue.arn);
            const doc = JSON.parse(await valueOf(queuePolicyDocument));
            const policy = await oneOf(`rt-a-${route}-dlq-policy`, "aws:sqs/queuePolicy:QueuePolicy");
            assert.deepStrictEqual(JSON.parse(policy.inputs.policy), doc);
            assert.strictEqual(policy.inputs.queueUrl, await valueOf(deadLetterQueue.url));
            const send = (sourceArn: string, tls = "true", principal = "events.amazonaws.com") =>
                evaluate(EMPTY_POLICY, "sqs:SendMessage", queueArn, {
                    principal,
                    resourcePolicy: doc,
                    context: { "aws:SourceArn": sourceArn, "aws:SecureTransport": tls },
                });
            assert.strictEqual(await send(await valueOf(rule.arn)), "Allowed", route);
            assert.notStrictEqual(await send(await valueOf(other.arn)), "Allowed", `${route}: another rule`);
            assert.strictEqual(await send(await valueOf(rule.arn), "false"), "ExplicitlyDenied", `${route}: without TLS`);
            assert.notStrictEqual(await send(await valueOf(rule.arn), "true", "sns.amazonaws.com"), "Allowed", `${route}: another service`);
            assert.notStrictEqual(
                await evaluate(EMPTY_POLICY, "sqs:ReceiveMessage", queueArn, {
                    principal: "events.amazonaws.com",
                    resourcePolicy: doc,
                    context: { "aws:SourceArn": await valueOf(rule.arn), "aws:SecureTransport": "true" },
                }),
                "Allowed",
            );
        }
    });

    it("gives each target a role only EventBridge, for that rule, can assume (trust evaluated)", async () => {
        for (const route of ["archive", "zendesk"] as const) {
            const role = await oneOf(`rt-a-${route}-role`, "aws:iam/role:Role");
            const trust = JSON.parse(role.inputs.assumeRolePolicy);
            const ruleArn = await valueOf(routing.routes[route].rule.arn);
            const assume = (principal: string, sourceArn: string, sourceAccount = ACCOUNT) =>
                evaluate(EMPTY_POLICY, "sts:AssumeRole", role.state.arn, {
                    principal,
                    resourcePolicy: trust,
                    context: { "aws:SourceArn": sourceArn, "aws:SourceAccount": sourceAccount },
                });
            assert.strictEqual(await assume("events.amazonaws.com", ruleArn), "Allowed", route);
            assert.notStrictEqual(await assume("events.amazonaws.com", `arn:aws:events:${REGION}:${ACCOUNT}:rule/other`), "Allowed");
            assert.notStrictEqual(await assume("events.amazonaws.com", ruleArn, "210987654321"), "Allowed");
            assert.notStrictEqual(await assume("lambda.amazonaws.com", ruleArn), "Allowed");
        }
    });

    it("allows the archive role exactly PutRecord/PutRecordBatch on this stream (evaluated)", async () => {
        const doc = await valueOf(routing.routes.archive.rolePolicyDocument!);
        assert.ok(await isAllowed(doc, "firehose:PutRecord", STREAM_ARN));
        assert.ok(await isAllowed(doc, "firehose:PutRecordBatch", STREAM_ARN));
        assert.ok(!(await isAllowed(doc, "firehose:PutRecord", STREAM_ARN.replace("archive-stream", "other"))));
        assert.ok(!(await isAllowed(doc, "firehose:DeleteDeliveryStream", STREAM_ARN)));
        const destination = await oneOf("rt-a-zd-api", "aws:cloudwatch/eventApiDestination:EventApiDestination");
        assert.ok(!(await isAllowed(doc, "events:InvokeApiDestination", destination.state.arn)));
    });

    it("allows the Zendesk role exactly InvokeApiDestination on its destination (evaluated)", async () => {
        const doc = await valueOf(routing.routes.zendesk.rolePolicyDocument!);
        const destinationArn = (await oneOf("rt-a-zd-api", "aws:cloudwatch/eventApiDestination:EventApiDestination")).state.arn;
        assert.ok(await isAllowed(doc, "events:InvokeApiDestination", destinationArn));
        assert.ok(!(await isAllowed(doc, "firehose:PutRecord", STREAM_ARN)));
        assert.ok(!(await isAllowed(doc, "events:InvokeApiDestination", `arn:aws:events:${REGION}:${ACCOUNT}:api-destination/other/1`)));
    });

    it("alarms on the first message in each DLQ", async () => {
        for (const route of ["archive", "zendesk"]) {
            const alarm = await oneOf(`rt-a-${route}-dlq-alarm`, "aws:cloudwatch/metricAlarm:MetricAlarm");
            const queue = await oneOf(`rt-a-${route}-dlq`, "aws:sqs/queue:Queue");
            assert.deepStrictEqual(alarm.inputs.dimensions, { QueueName: queue.state.name });
            assert.strictEqual(alarm.inputs.namespace, "AWS/SQS");
            assert.strictEqual(alarm.inputs.metricName, "ApproximateNumberOfMessagesVisible");
            assert.strictEqual(alarm.inputs.comparisonOperator, "GreaterThanThreshold");
            assert.strictEqual(alarm.inputs.threshold, 0);
            assert.deepStrictEqual(alarm.inputs.alarmActions, []);
        }
    });

    it("archives the bus for replay with the configured retention", async () => {
        const archive = await oneOf("rt-a-replay", "aws:cloudwatch/eventArchive:EventArchive");
        const busArn = await valueOf(routing.busArn);
        assert.strictEqual(archive.inputs.eventSourceArn, busArn);
        assert.strictEqual(archive.inputs.retentionDays, 7);
        // Named by the component (48-character limit): `<name>-replay` and 6 hex characters of the bus ARN's hash.
        assert.strictEqual(archive.inputs.name, replayArchiveName("rt-a-replay", busArn));
        assert.match(archive.inputs.name, /^rt-a-replay-[0-9a-f]{6}$/);
    });
});

describe("EventRouting component: options", () => {
    it("without Zendesk and without replay, creates only the archive route", async () => {
        const topic = `arn:aws:sns:${REGION}:${ACCOUNT}:ops`;
        const routing = new EventRouting("rt-b", { archiveStreamArn: STREAM_ARN, alarmActions: [topic] });
        const alarm = await oneOf("rt-b-archive-dlq-alarm", "aws:cloudwatch/metricAlarm:MetricAlarm");
        assert.deepStrictEqual(alarm.inputs.alarmActions, [topic]);
        assert.deepStrictEqual(alarm.inputs.okActions, [topic]);
        assert.deepStrictEqual(Object.keys(routing.routes), ["archive"]);
        assert.deepStrictEqual(await resourcesOf("rt-b-zendesk"), []);
        assert.deepStrictEqual(await resourcesOf("rt-b-replay"), []);
        assert.strictEqual((await resourcesOf("rt-b-", RULE)).length, 1);
    });

    it("adds your own routes, each with its DLQ, and a role only when the target needs one", async () => {
        const queueArn = `arn:aws:sqs:${REGION}:${ACCOUNT}:audit`;
        const routing = new EventRouting("rt-c", {
            archiveStreamArn: STREAM_ARN,
            routes: {
                audit: {
                    eventPattern: { source: ["clientevents"], detail: { eventType: ["purchase"] } },
                    target: { arn: queueArn, retryPolicy: { maximumEventAgeInSeconds: 3600, maximumRetryAttempts: 10 } },
                },
            },
        });
        assert.deepStrictEqual(Object.keys(routing.routes).sort(), ["archive", "audit"]);
        const target = await oneOf("rt-c-audit-target", TARGET);
        assert.strictEqual(target.inputs.arn, queueArn);
        assert.strictEqual(target.inputs.roleArn, undefined, "an SQS target is authorised by its queue policy");
        assert.deepStrictEqual(target.inputs.retryPolicy, { maximumEventAgeInSeconds: 3600, maximumRetryAttempts: 10 });
        assert.ok(target.inputs.deadLetterConfig.arn.endsWith("rt-c-audit-dlq"));
        assert.deepStrictEqual(await resourcesOf("rt-c-audit-role"), []);
        assert.deepStrictEqual(JSON.parse((await oneOf("rt-c-audit-rule", RULE)).inputs.eventPattern), {
            source: ["clientevents"],
            detail: { eventType: ["purchase"] },
        });
    });

    it("rejects route names that clash or would make invalid resource names", () => {
        for (const bad of ["archive", "zendesk", "Bad Name", "", "x".repeat(40)]) {
            assert.throws(
                () =>
                    new EventRouting("rt-d", {
                        archiveStreamArn: STREAM_ARN,
                        routes: { [bad]: { eventPattern: { source: ["x"] }, target: { arn: "arn:aws:sqs:us-east-1:1:q" } } },
                    }),
                /route name/,
                bad,
            );
        }
    });
});
