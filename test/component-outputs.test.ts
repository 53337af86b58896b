// Every component registers every public output (pulumi-awsx style): the outputs each one registered, read back
// from the mock monitor, are exactly the public properties the instance holds.
import { ACCOUNT, REGION } from "./support/pulumi-mocks";
import * as assert from "assert";
import * as pulumi from "@pulumi/pulumi";
import { AlarmTopic } from "../components/alarm-topic";
import { Archive } from "../components/archive";
import { ArchiveQuery } from "../components/archive-query";
import { EventRouting } from "../components/event-routing";
import { HandlerFunction } from "../components/handler-function";
import { IdentityPool } from "../components/identity-pool";
import { IngestApi } from "../components/ingest-api";
import { Monitoring } from "../components/monitoring";
import { ZendeskDestination } from "../components/zendesk-destination";
import { publicOutputNames, registeredOutputNames } from "./support/registered-outputs";

const BUS_ARN = `arn:aws:events:${REGION}:${ACCOUNT}:event-bus/co-bus`;
const STREAM_ARN = `arn:aws:firehose:${REGION}:${ACCOUNT}:deliverystream/co-stream`;

async function assertRegistersEveryOutput(component: pulumi.ComponentResource, atLeast: string[]): Promise<void> {
    const registered = await registeredOutputNames(component);
    const properties = publicOutputNames(component);
    // Guards the reading of the instance itself: it must see the outputs the component is known to have.
    for (const name of atLeast) assert.ok(properties.includes(name), `${name} missing from the public properties ${properties.join(", ")}`);
    assert.deepStrictEqual(registered, properties);
}

describe("registerOutputs registers every public output", () => {
    it("IngestApi (logging on, so every optional output exists)", async () => {
        const api = new IngestApi("co-ingest", {
            environment: "dev",
            eventBusName: "co-bus",
            eventBusArn: BUS_ARN,
            userPoolId: "pool",
            userPoolArn: `arn:aws:cognito-idp:${REGION}:${ACCOUNT}:userpool/pool`,
            userPoolClientId: "client",
        });
        await assertRegistersEveryOutput(api, ["api", "stage", "accessLogGroup", "accountSetting", "cloudWatchLogsRole", "eventUrl"]);
    });

    it("IngestApi (logging off, so the log outputs are absent on both sides)", async () => {
        const api = new IngestApi("co-ingest-nolog", {
            environment: "dev",
            eventBusName: "co-bus",
            eventBusArn: BUS_ARN,
            userPoolId: "pool",
            userPoolArn: `arn:aws:cognito-idp:${REGION}:${ACCOUNT}:userpool/pool`,
            userPoolClientId: "client",
            cloudWatchRole: "off",
        });
        await assertRegistersEveryOutput(api, ["api", "url"]);
        assert.ok(!(await registeredOutputNames(api)).includes("accessLogGroup"));
    });

    it("Archive", async () => {
        await assertRegistersEveryOutput(new Archive("co-archive"), ["bucket", "deliveryStream", "transform", "partitionKeysQuery"]);
    });

    it("IdentityPool", async () => {
        await assertRegistersEveryOutput(new IdentityPool("co-identity"), ["userPool", "client", "triggerPolicyDocument"]);
    });

    it("AlarmTopic, created with an e-mail subscription, and given", async () => {
        await assertRegistersEveryOutput(new AlarmTopic("co-alarms", { email: "ops@example.com" }), ["topic", "key", "emailSubscription"]);
        await assertRegistersEveryOutput(new AlarmTopic("co-alarms-given", { topicArn: `arn:aws:sns:${REGION}:${ACCOUNT}:ops` }), [
            "topicArn",
        ]);
    });

    it("ArchiveQuery", async () => {
        const query = new ArchiveQuery("co-query", { bucketName: "co-archive-bucket", bucketArn: "arn:aws:s3:::co-archive-bucket" });
        await assertRegistersEveryOutput(query, ["database", "tables", "workgroup", "analystPolicyDocument"]);
    });

    it("ZendeskDestination and EventRouting", async () => {
        const zendesk = new ZendeskDestination("co-zd", {
            email: "support@example.com",
            apiToken: pulumi.secret("token"),
            endpoint: "https://example.zendesk.com/api/v2/tickets.json",
        });
        await assertRegistersEveryOutput(zendesk, ["connection", "apiDestination", "target"]);
        const routing = new EventRouting("co-routing", {
            archiveStreamArn: STREAM_ARN,
            zendesk: zendesk.target,
            replayArchive: { retentionDays: 7 },
        });
        await assertRegistersEveryOutput(routing, ["bus", "routes", "replayArchive"]);
    });

    it("Monitoring", async () => {
        const monitoring = new Monitoring("co-monitoring", {
            alarmTopicArn: `arn:aws:sns:${REGION}:${ACCOUNT}:ops`,
            api: { name: "api", id: "api-id", stage: "dev", accessLogGroupName: "access-logs" },
            functions: { authorizer: "auth", postConfirmation: "confirm", transform: "enrich" },
            eventBusName: "co-bus",
            routes: { archive: { ruleName: "archive-rule", deadLetterQueueName: "archive-dlq" } },
            deliveryStreamName: "co-stream",
            bufferIntervalSeconds: 300,
        });
        await assertRegistersEveryOutput(monitoring, ["alarms", "dashboard", "failedEntriesFilter"]);
    });

    it("HandlerFunction", async () => {
        const fn = new HandlerFunction<unknown, string>("co-fn", { callbackFactory: () => async () => "ok", description: "test" });
        await assertRegistersEveryOutput(fn, ["function", "role", "logGroup", "policyDocument"]);
    });
});
