// Firehose transform throughput on batches like those Firehose sends (1 MiB processor buffer, and a
// batch near Lambda's 6 MB payload limit), and the partitioning query under jq-wasm and jq 1.6.
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import * as jq from "jq-wasm";
import type { FirehoseTransformationEvent } from "aws-lambda";
import { handler, transformBatch, transformRecord } from "../handlers/firehose-transform";
import { textTools } from "../pipeline/json-text";
import { PARTITION_KEYS_JQ_QUERY, partitionQueryInput } from "../pipeline/partitioning";
import { extractKeysBatch, findJq16, ProjectionMemo } from "../local/jq";
import { StreamingJq } from "../local/jq-stream";
import { partitionKeysFor } from "../test/support/partitioning";
import { compileSchemas } from "../schemas/compile";
import { makeEvent } from "../generator/events";
import { seededRandom } from "../generator/random";
import { compareCosts, type BenchRow } from "./table";

const AREA = "firehose-transform";

export const about = "the Firehose transform Lambda's code on batches like Firehose sends, and the partitioning query's engines";
export const cases = [
    "per record: transformRecord; floor: a bare loop that base64-decodes, parses, changes the field and re-encodes",
    "per record, the handler as Pulumi packs it (serializeFunction), batches of 100; same floor",
    "1 MiB batch and ~6 MB batch: ms per batch and records/s",
    "partition keys: TypeScript reference, jq-wasm (one call per record), jq 1.6 binary (one process for 2000 records)",
    "partition keys as local mode extracts them: the projection memo; floor: every whole record through the long-lived jq 1.6",
];

/**
 * The floor: what any transform must do for a record, the simplest way (JSON.stringify of the parsed copy,
 * which the real transform cannot use: it would round big numbers and overflow on deep nesting).
 */
function bareTransform(data: string): string {
    const event = JSON.parse(Buffer.from(data, "base64").toString("utf8"));
    event.detail.accountNumber = event.resources[0];
    event.resources = [];
    return Buffer.from(JSON.stringify(event), "utf8").toString("base64");
}

async function perRecordRows(): Promise<BenchRow[]> {
    const datas = Array.from({ length: 1000 }, (_, i) => Buffer.from(JSON.stringify(sampleEvent(i))).toString("base64"));
    for (const data of datas.slice(0, 20)) {
        // Same output as the floor on these records, or the comparison means nothing.
        if (transformRecord("r", data).data !== bareTransform(data))
            throw new Error("the transform and the floor disagree on a sample record");
    }
    // The handler as the Lambda runs it: Pulumi's serialized text, loaded as a module.
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "bench-transform-"));
    const file = path.join(dir, "index.js");
    fs.writeFileSync(file, (await pulumi.runtime.serializeFunction(handler)).text);
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- the serialized Lambda module, written at run time
    const packed = require(file).handler as typeof handler;
    fs.rmSync(dir, { recursive: true, force: true });
    const batch = {
        invocationId: "bench",
        deliveryStreamArn: "arn",
        region: "us-east-1",
        records: datas.slice(0, 100).map((data, i) => ({ recordId: `r-${i}`, approximateArrivalTimestamp: i, data })),
    };
    if ((await packed(batch)).records[0].data !== bareTransform(datas[0]))
        throw new Error("the packed handler and the floor disagree on a sample record");
    let a = 0;
    let b = 0;
    const tools = textTools(); // as transformBatch does, once per batch
    const us = await compareCosts({
        floor: () => bareTransform(datas[a++ % datas.length]),
        transform: () => transformRecord("r", datas[b++ % datas.length], undefined, tools),
        floorBatch: () => batch.records.map((r) => bareTransform(r.data)),
        packed: () => packed(batch),
    });
    const floor = { case: "bare loop: base64-decode, JSON.parse, set the field, JSON.stringify, base64-encode", value: us.floor };
    return [
        {
            area: AREA,
            case: "per record: transformRecord",
            value: us.transform,
            unit: "us/record",
            floor,
            target: { ratio: { atMost: 1.5 } },
            note: "the module, in this process",
        },
        {
            area: AREA,
            case: "per record: the handler as Pulumi packs it, batches of 100",
            value: us.packed / 100,
            unit: "us/record",
            floor: { ...floor, value: us.floorBatch / 100 },
            note: "what the Lambda runs: every module-level function it calls goes through a wrapper of Pulumi's serializer",
        },
    ];
}

function sampleEvent(i: number): Record<string, unknown> {
    return {
        version: "0",
        id: `6a7e8feb-b491-4cf7-a9f1-${String(i).padStart(12, "0")}`,
        "detail-type": "prod",
        source: "clientevents",
        account: "123456789012",
        time: "2026-11-27T19:41:07Z",
        region: "us-east-1",
        resources: ["3f2b8c1e-5d4a-4e6f-9b7c-2a1d0e9f8c7b"],
        detail: {
            eventType: ["shopping", "searching", "paging", "purchase"][i % 4],
            schemaVersion: 1,
            data: { itemSku: i, quantity: 1 + (i % 3) },
        },
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
    return {
        invocationId: "bench",
        deliveryStreamArn: "arn:aws:firehose:us-east-1:123456789012:deliverystream/bench",
        region: "us-east-1",
        records,
    };
}

function timeMs(fn: () => unknown, repeat: number): number {
    fn();
    const start = process.hrtime.bigint();
    for (let i = 0; i < repeat; i++) fn();
    return Number(process.hrtime.bigint() - start) / 1e6 / repeat;
}

export async function run(): Promise<BenchRow[]> {
    const rows: BenchRow[] = await perRecordRows();
    for (const [label, bytes] of [
        ["1 MiB batch (configured processor buffer)", (1024 * 1024 * 4) / 3],
        ["~6 MB batch (Lambda payload limit)", 5.9 * 1024 * 1024],
    ] as const) {
        const batch = batchOf(bytes);
        const ms = timeMs(() => transformBatch(batch), 10);
        rows.push({ area: AREA, case: `${label}: ${batch.records.length} records`, value: Math.round(ms * 10) / 10, unit: "ms/batch" });
        rows.push({ area: AREA, case: `${label}: throughput`, value: Math.round(batch.records.length / (ms / 1000)), unit: "records/s" });
    }

    // The generator's events (all valid), checked against the compiled schemas as the deployed transform does.
    const random = seededRandom(1);
    const generated = (i: number) => ({
        ...sampleEvent(i),
        detail: {
            ...makeEvent({ runId: "bench", loyalty: true, random }),
            sessionId: "2c5e8f1a-4b7d-4c3e-9a6f-8d1b2e3c4f5a",
            sequence: i + 1,
        },
    });
    const schemas = { validators: compileSchemas().validators, enforcement: "quarantine", unknownSchema: "allow" } as const;
    const checked = batchOf((1024 * 1024 * 4) / 3, generated);
    const withSchemas = timeMs(() => transformBatch(checked, schemas), 10);
    const without = timeMs(() => transformBatch(checked), 10);
    rows.push({
        area: AREA,
        case: `1 MiB batch of generator events (${checked.records.length} records), with schema checks (schemaEnforcement quarantine)`,
        value: Math.round(withSchemas * 10) / 10,
        unit: "ms/batch",
        floor: { case: "the same batch without schema checks", value: Math.round(without * 10) / 10 },
    });

    const events = Array.from({ length: 2000 }, (_, i) => JSON.stringify(sampleEvent(i)));
    const reference = timeMs(() => events.forEach((e) => partitionKeysFor(JSON.parse(e))), 5);
    rows.push({
        area: AREA,
        case: "partition keys, TypeScript reference",
        value: Math.round(events.length / (reference / 1000)),
        unit: "records/s",
    });
    const start = Date.now();
    for (const e of events.slice(0, 200)) await jq.raw(e, PARTITION_KEYS_JQ_QUERY, ["-c"]);
    rows.push({
        area: AREA,
        case: "partition keys, jq-wasm (one call per record)",
        value: Math.round(200 / ((Date.now() - start) / 1000)),
        unit: "records/s",
    });
    const native = spawnSync("/usr/bin/jq", ["-c", PARTITION_KEYS_JQ_QUERY], { input: events.join("\n"), encoding: "utf8" });
    if (native.status === 0) {
        const t0 = Date.now();
        spawnSync("/usr/bin/jq", ["-c", PARTITION_KEYS_JQ_QUERY], { input: events.join("\n"), encoding: "utf8" });
        rows.push({
            area: AREA,
            case: "partition keys, jq 1.6 binary (one process, 2000 records)",
            value: Math.round(events.length / ((Date.now() - t0) / 1000)),
            unit: "records/s",
        });
    }
    const memoRow = await memoizedKeysRow(events);
    if (memoRow) rows.push(memoRow);
    return rows;
}

/** extractKeysBatch as local mode's Firehose runs it (memo warm), beside the same batches sent whole to the same jq. */
async function memoizedKeysRow(events: string[]): Promise<BenchRow | undefined> {
    const command = findJq16();
    if (!command) return undefined;
    const engine = new StreamingJq(command);
    const records = events.map((e) => Buffer.from(e));
    const memo = new ProjectionMemo(PARTITION_KEYS_JQ_QUERY, partitionQueryInput);
    const rate = async (useMemo: boolean): Promise<number> => {
        await extractKeysBatch(engine, records, PARTITION_KEYS_JQ_QUERY, useMemo ? memo : undefined); // warm-up (and the memo's first answers)
        const start = process.hrtime.bigint();
        for (let i = 0; i < 5; i++) await extractKeysBatch(engine, records, PARTITION_KEYS_JQ_QUERY, useMemo ? memo : undefined);
        return Math.round((5 * records.length) / (Number(process.hrtime.bigint() - start) / 1e9));
    };
    try {
        const whole = await rate(false);
        const memoized = await rate(true);
        return {
            area: AREA,
            case: `partition keys as local mode extracts them: jq 1.6 once per projection (${memo.size} for 2000 records, memo warm)`,
            value: memoized,
            unit: "records/s",
            floor: { case: "every whole record through the same long-lived jq 1.6", value: whole },
        };
    } finally {
        engine.close();
    }
}
