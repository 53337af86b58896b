// Local mode: start-up time, and the Firehose stage's rate (the real transform, the partition query, object
// writes) with each JQ engine; it bounds how fast local mode archives events.
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import type { BenchRow } from "./table";

const AREA = "local";

export const about = "local mode in this process: startLocal to ready, and the Firehose stage's flush rate with each JQ engine";
export const cases = [
    "startLocal to ready (modules already loaded)",
    "Firehose flush of 5000 records with jq-wasm, and with jq 1.6 when installed",
];

export async function run(): Promise<BenchRow[]> {
    const { startLocal } = await import("../local/index");
    const { LocalFirehose } = await import("../local/firehose");
    const { BinaryJq, WasmJq, findJq16 } = await import("../local/jq");
    const { createLogger } = await import("../local/log");
    const { benchStreamSettings } = await import("./support/bench-stream");
    const { DEFAULT_PARTITIONED_EVENT_TYPES } = await import("../pipeline/partitioning");
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "bench-local-"));
    try {
        const started = Date.now();
        const local = await startLocal({ port: 0, dataDir: path.join(dir, "start"), quiet: true });
        const rows: BenchRow[] = [
            {
                area: AREA,
                case: "startLocal to ready (modules already loaded)",
                value: Date.now() - started,
                unit: "ms",
                note: "first start creates the RSA signing key",
            },
        ];
        await local.close();

        const records = 5000;
        const types = DEFAULT_PARTITIONED_EVENT_TYPES;
        const engines = [new WasmJq(), ...(findJq16() ? [new BinaryJq("jq")] : [])];
        for (const engine of engines) {
            const firehose = new LocalFirehose(
                { ...benchStreamSettings(path.join(dir, engine.name.replace(/\W+/g, "-"))), jq: engine },
                createLogger({ quiet: true }),
            );
            for (let i = 0; i < records; i++) {
                firehose.put(
                    Buffer.from(
                        JSON.stringify({
                            version: "0",
                            id: `id-${i}`,
                            "detail-type": "local",
                            source: "clientevents",
                            account: "000000000000",
                            time: "2026-01-01T00:00:00Z",
                            region: "us-east-1",
                            resources: ["c0ffee00-0000-4000-8000-000000000000"],
                            detail: {
                                eventType: types[i % types.length],
                                schemaVersion: 1 + (i % 3),
                                data: { itemSku: i, note: "it's a bench 😀" },
                            },
                        }),
                    ),
                );
            }
            const t0 = process.hrtime.bigint();
            await firehose.flush();
            const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
            const errors = firehose.written.filter((k) => k.startsWith("errors/")).length;
            rows.push({
                area: AREA,
                case: `Firehose flush of ${records} records with ${engine.name}`,
                value: Math.round(records / seconds),
                unit: "records/s",
                note: `${firehose.written.length} objects${errors ? `, ${errors} error objects` : ""}`,
            });
        }
        return rows;
    } finally {
        fs.rmSync(dir, { recursive: true, force: true });
    }
}
