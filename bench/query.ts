// `npm run query -- --local` with DuckDB: a named query over an archive local mode's Firehose wrote (plain
// and GZIP objects), and the fixed cost of opening the archive's views.
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import type { BenchRow } from "./table";

const AREA = "query";
const RECORDS = 50_000;

export async function run(): Promise<BenchRow[]> {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "bench-query-"));
    const rows: BenchRow[] = [];
    try {
        for (const gzip of [false, true]) {
            const dataDir = path.join(dir, gzip ? "gzip" : "plain");
            const objects = await writeArchive(dataDir, gzip);
            rows.push(await timeNamedQuery(dataDir, gzip, objects));
            if (!gzip) rows.push(await timeOpening(dataDir));
        }
        return rows;
    } finally {
        fs.rmSync(dir, { recursive: true, force: true });
    }
}

/** Writes RECORDS events through local mode's Firehose (the real transform and partitioning); returns the objects written. */
async function writeArchive(dataDir: string, gzip: boolean): Promise<number> {
    const { LocalFirehose } = await import("../local/firehose");
    const { createLogger } = await import("../local/log");
    const { benchStreamSettings } = await import("./support/bench-stream");
    fs.mkdirSync(dataDir, { recursive: true });
    fs.writeFileSync(path.join(dataDir, "outputs.json"), JSON.stringify({ bucketName: "bench" }));
    const firehose = new LocalFirehose({ ...benchStreamSettings(path.join(dataDir, "s3")), gzip }, createLogger({ quiet: true }));
    for (let i = 0; i < RECORDS; i++) firehose.put(Buffer.from(JSON.stringify(busEvent(i))));
    await firehose.flush();
    return firehose.written.length;
}

const TYPES = ["shopping", "searching", "paging", "purchase", "loyaltypurchase"];

/** The i-th EventBridge event, as the bus hands it to Firehose. */
function busEvent(i: number): object {
    return {
        version: "0",
        id: `id-${i}`,
        "detail-type": "local",
        source: "clientevents",
        account: "000000000000",
        time: "2026-01-01T00:00:00Z",
        region: "us-east-1",
        resources: [`client-${i % 50}`],
        detail: { eventType: TYPES[i % TYPES.length], schemaVersion: 1 + (i % 3), eventId: `e-${i}`, data: { itemSku: i } },
    };
}

async function timeNamedQuery(dataDir: string, gzip: boolean, objects: number): Promise<BenchRow> {
    const { findNamedQuery, sqlFor } = await import("../pipeline/named-queries");
    const { runLocalQuery } = await import("../query/local-engine");
    const named = findNamedQuery("events-per-type-per-day");
    if (!named) throw new Error("no named query events-per-type-per-day");
    const sql = sqlFor(named, "duckdb");
    const t0 = process.hrtime.bigint();
    const result = await runLocalQuery(dataDir, sql);
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    const counted = result.rows.reduce((n, r) => n + Number(r[2]), 0);
    if (counted !== RECORDS) throw new Error(`counted ${counted} events, wrote ${RECORDS}`);
    return {
        area: AREA,
        case: `events-per-type-per-day over ${RECORDS} events (${gzip ? "GZIP" : "plain"} objects)`,
        value: Math.round(ms),
        unit: "ms",
        note: `${objects} objects, DuckDB in memory`,
    };
}

async function timeOpening(dataDir: string): Promise<BenchRow> {
    const { runLocalQuery } = await import("../query/local-engine");
    const t1 = process.hrtime.bigint();
    await runLocalQuery(dataDir, "SELECT 1");
    return {
        area: AREA,
        case: "open the archive's views and run SELECT 1",
        value: Math.round(Number(process.hrtime.bigint() - t1) / 1e6),
        unit: "ms",
        note: "the fixed cost of every --local run",
    };
}
