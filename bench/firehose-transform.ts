// Firehose transform throughput on batches like those Firehose sends (1 MiB processor buffer, and a
// batch near Lambda's 6 MB payload limit), and the partitioning query under jq-wasm and jq 1.6.
import { spawnSync } from "child_process";
import * as jq from "jq-wasm";
import type { FirehoseTransformationEvent } from "aws-lambda";
import { transformBatch } from "../handlers/firehose-transform";
import { PARTITION_KEYS_JQ_QUERY, partitionKeysFor } from "../pipeline/partitioning";
import type { BenchRow } from "./table";
import { compileSchemas } from "../schemas/compile";
import { makeEvent } from "../generator/events";
import { seededRandom } from "../generator/random";

const AREA = "firehose-transform";

function sampleEvent(i: number): Record<string, unknown> {
    return {
        version: "0", id: `6a7e8feb-b491-4cf7-a9f1-${String(i).padStart(12, "0")}`, "detail-type": "prod", source: "clientevents",
        account: "123456789012", time: "2026-11-27T19:41:07Z", region: "us-east-1", resources: ["3f2b8c1e-5d4a-4e6f-9b7c-2a1d0e9f8c7b"],
        detail: { eventType: ["shopping", "searching", "paging", "purchase"][i % 4], schemaVersion: 1, data: { itemSku: i, quantity: 1 + (i % 3) } },
    };
}

function batchOf(bytes: number, event: (i: number) => Record<string, unknown> = sampleEvent): FirehoseTransformationEvent {
    const records: FirehoseTransformationEvent["records"] = [];
    let size = 0;
    for (let i = 0; size < bytes; i++) {
        const data = Buffer.from(JSON.stringify(event(i))).toString("base64");
        records.push({ recordId: `r-${i}`, approximateArrivalTimestamp: i, data });
        size += data.length + 80;
    }
    return { invocationId: "bench", deliveryStreamArn: "arn:aws:firehose:us-east-1:123456789012:deliverystream/bench", region: "us-east-1", records };
}

function timeMs(fn: () => unknown, repeat: number): number {
    fn();
    const start = process.hrtime.bigint();
    for (let i = 0; i < repeat; i++) fn();
    return Number(process.hrtime.bigint() - start) / 1e6 / repeat;
}

export async function run(): Promise<BenchRow[]> {
    const rows: BenchRow[] = [];
    for (const [label, bytes] of [["1 MiB batch (configured processor buffer)", 1024 * 1024 * 4 / 3], ["~6 MB batch (Lambda payload limit)", 5.9 * 1024 * 1024]] as const) {
        const batch = batchOf(bytes);
        const ms = timeMs(() => transformBatch(batch), 10);
        rows.push({ area: AREA, case: `${label}: ${batch.records.length} records`, value: Math.round(ms * 10) / 10, unit: "ms/batch" });
        rows.push({ area: AREA, case: `${label}: throughput`, value: Math.round(batch.records.length / (ms / 1000)), unit: "records/s" });
    }

    // The generator's events (all valid), checked against the compiled schemas as the deployed transform does.
    const random = seededRandom(1);
    const generated = (i: number) => ({ ...sampleEvent(i), detail: { ...makeEvent({ runId: "bench", loyalty: true, random }), sessionId: "2c5e8f1a-4b7d-4c3e-9a6f-8d1b2e3c4f5a", sequence: i + 1 } });
    const schemas = { validators: compileSchemas().validators, enforcement: "quarantine", unknownSchema: "allow" } as const;
    const checked = batchOf(1024 * 1024 * 4 / 3, generated);
    const withSchemas = timeMs(() => transformBatch(checked, schemas), 10);
    const without = timeMs(() => transformBatch(checked), 10);
    rows.push({ area: AREA, case: `1 MiB batch of generator events: ${checked.records.length} records, without schema checks`, value: Math.round(without * 10) / 10, unit: "ms/batch" });
    rows.push({ area: AREA, case: "1 MiB batch of generator events, with schema checks (schemaEnforcement quarantine)", value: Math.round(withSchemas * 10) / 10, unit: "ms/batch" });

    const events = Array.from({ length: 2000 }, (_, i) => JSON.stringify(sampleEvent(i)));
    const reference = timeMs(() => events.forEach((e) => partitionKeysFor(JSON.parse(e))), 5);
    rows.push({ area: AREA, case: "partition keys, TypeScript reference", value: Math.round(events.length / (reference / 1000)), unit: "records/s" });
    const start = Date.now();
    for (const e of events.slice(0, 200)) await jq.raw(e, PARTITION_KEYS_JQ_QUERY, ["-c"]);
    rows.push({ area: AREA, case: "partition keys, jq-wasm (one call per record)", value: Math.round(200 / ((Date.now() - start) / 1000)), unit: "records/s" });
    const native = spawnSync("/usr/bin/jq", ["-c", PARTITION_KEYS_JQ_QUERY], { input: events.join("\n"), encoding: "utf8" });
    if (native.status === 0) {
        const t0 = Date.now();
        spawnSync("/usr/bin/jq", ["-c", PARTITION_KEYS_JQ_QUERY], { input: events.join("\n"), encoding: "utf8" });
        rows.push({ area: AREA, case: "partition keys, jq 1.6 binary (one process, 2000 records)", value: Math.round(events.length / ((Date.now() - t0) / 1000)), unit: "records/s" });
    }
    return rows;
}
