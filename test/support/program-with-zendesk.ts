/**
 * Loads index.ts under the shared mocks with Zendesk configured (a separate process, because a program
 * module loads once per process) and prints what the routing tests assert on, as one JSON line.
 */
import { registrationsDone, resources, valueOf } from "./pulumi-mocks";
import * as pulumi from "@pulumi/pulumi";

export const ZENDESK_TEST_CONFIG = {
    "client-events:zendeskEmail": "support@example.com",
    "client-events:zendeskEndpoint": "https://acme.zendesk.com/api/v2/tickets",
    "client-events:zendeskApiToken": "zd-secret-token-42",
    "client-events:zendeskRatePerSecond": "3",
    "client-events:partitionEventTypes": "shopping,loyaltypurchase",
    "client-events:eventArchiveRetentionDays": "0",
};

async function main(): Promise<void> {
    pulumi.runtime.setAllConfig({ ...pulumi.runtime.allConfig(), ...ZENDESK_TEST_CONFIG }, ["client-events:zendeskApiToken"]);
    const program = require("../../index");
    await registrationsDone();
    const outputs: Record<string, unknown> = {};
    for (const name of ["zendeskEnabled", "deadLetterQueueUrls", "eventBusName", "deliveryStreamName", "bucketName", "apiUrl"]) {
        outputs[name] = await valueOf(program[name]);
    }
    const pick = (type: string) =>
        resources.filter((r) => r.type === type).map((r) => ({ name: r.name, inputs: r.inputs, state: r.state }));
    process.stdout.write(
        JSON.stringify({
            outputs,
            connections: pick("aws:cloudwatch/eventConnection:EventConnection"),
            destinations: pick("aws:cloudwatch/eventApiDestination:EventApiDestination"),
            rules: pick("aws:cloudwatch/eventRule:EventRule"),
            targets: pick("aws:cloudwatch/eventTarget:EventTarget"),
            archives: pick("aws:cloudwatch/eventArchive:EventArchive"),
            streams: pick("aws:kinesis/firehoseDeliveryStream:FirehoseDeliveryStream"),
        }) + "\n",
    );
    process.exit(0);
}

main().catch((err) => {
    console.error(err);
    process.exit(1);
});
