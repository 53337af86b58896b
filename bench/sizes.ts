// Sizes, not speeds: each Lambda package as Pulumi builds it (under the test mocks, as the tests see it) and
// the longest entry the request model accepts. The tests assert the bounds; this reports the figures.
import "../test/support/pulumi-mocks";
import { IdentityPool } from "../components/identity-pool";
import { IngestApi } from "../components/ingest-api";
import { Archive } from "../components/archive";
import { MAX_ENTRY_LENGTH } from "../pipeline/limits";
import { packageOf } from "../test/support/lambda-package";
import type { BenchRow } from "./table";

export const about = "Lambda package sizes as Pulumi builds them, and MAX_ENTRY_LENGTH (sizes, not speeds)";
export const cases = [
    "lambda-packages: authorizer, post-confirmation, pre-token-generation, firehose-transform",
    "request-model: MAX_ENTRY_LENGTH",
];

export async function run(): Promise<BenchRow[]> {
    new IdentityPool("bench-idp", {});
    new IngestApi("bench-ingest", {
        environment: "bench",
        eventBusName: "bus",
        eventBusArn: "arn:aws:events:us-east-1:123456789012:event-bus/bus",
        userPoolId: "us-east-1_Bench",
        userPoolArn: "arn:aws:cognito-idp:us-east-1:123456789012:userpool/us-east-1_Bench",
        userPoolClientId: "client",
    });
    new Archive("bench-archive", {});
    const rows: BenchRow[] = [];
    for (const [title, prefix] of [
        ["authorizer", "bench-ingest-auth"],
        ["post-confirmation", "bench-idp-confirm"],
        ["pre-token-generation", "bench-idp-token"],
        ["firehose-transform", "bench-archive-enrich"],
    ]) {
        const { files, index } = await packageOf(prefix);
        const total = files.reduce((sum, f) => sum + f.bytes, 0);
        rows.push({
            area: "lambda-packages",
            case: title,
            value: Math.round(total / 102.4) / 10,
            unit: "KiB",
            note: `${files.length} files, handler ${(Buffer.byteLength(index) / 1024).toFixed(1)} KiB`,
        });
    }
    rows.push({
        area: "request-model",
        case: "MAX_ENTRY_LENGTH (ten worst-case entries fit one PutEvents request)",
        value: MAX_ENTRY_LENGTH,
        unit: "characters",
    });
    return rows;
}
