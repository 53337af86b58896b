/**
 * The `verify` command: reconciles a run manifest with what reached storage (local mode's data directory
 * or the archive bucket). Reports, by eventType, events missing (accepted by the API but not stored),
 * duplicated (stored more than once: the same eventId) and extra (stored with this run's id but not
 * accepted according to the manifest), and events found in Firehose's error output.
 */
import * as fs from "fs";
import * as path from "path";
import * as zlib from "zlib";
import { GetObjectCommand, ListObjectsV2Command, S3Client } from "@aws-sdk/client-s3";
import { tryParseJson } from "../client/http";
import { CliError, EXIT } from "./errors";
import type { Manifest } from "./manifest";

/** One stored object. */
export interface StoredObject {
    key: string;
    body: Uint8Array;
}

/** A source of stored objects modified at or after `since`. */
export type ObjectSource = (since: Date) => AsyncIterable<StoredObject>;

export interface TypeCounts {
    expected: number;
    found: number;
    missing: number;
    duplicated: number;
    extra: number;
}

export interface VerifyReport {
    runId: string;
    objectsScanned: number;
    recordsScanned: number;
    /** Lines that were not JSON events. */
    unreadable: number;
    totals: TypeCounts & { inErrorOutput: number };
    byType: Record<string, TypeCounts>;
    /** Up to 20 ids of each kind, for a closer look. */
    samples: { missing: string[]; duplicated: string[]; extra: string[]; inErrorOutput: string[] };
}

/** Objects under `<dataDir>/s3/` (optionally one bucket), as local mode writes them. */
export function localObjects(dataDir: string, bucket?: string): ObjectSource {
    const root = bucket ? path.join(dataDir, "s3", bucket) : path.join(dataDir, "s3");
    return async function* (since: Date) {
        if (!fs.existsSync(dataDir)) {
            throw new CliError(`no local mode data directory at ${dataDir} (--data-dir)`, EXIT.CONFIG);
        }
        if (!fs.existsSync(root)) return; // nothing delivered yet
        const stack = [root];
        for (let dir = stack.pop(); dir !== undefined; dir = stack.pop()) {
            for (const entry of fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
                const full = path.join(dir, entry.name);
                if (entry.isDirectory()) stack.push(full);
                else if (entry.isFile() && fs.statSync(full).mtimeMs >= since.getTime()) {
                    yield { key: path.relative(root, full).split(path.sep).join("/"), body: fs.readFileSync(full) };
                }
            }
        }
    };
}

/** Objects of an S3 bucket (ListObjectsV2 pages, then GetObject each). */
export function s3Objects(client: S3Client, bucket: string, prefix?: string): ObjectSource {
    return async function* (since: Date) {
        let token: string | undefined;
        do {
            const page = await client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }));
            for (const object of page.Contents ?? []) {
                if (!object.Key || (object.LastModified && object.LastModified < since)) continue;
                const got = await client.send(new GetObjectCommand({ Bucket: bucket, Key: object.Key }));
                if (!got.Body) continue;
                yield { key: object.Key, body: await got.Body.transformToByteArray() };
            }
            token = page.IsTruncated ? page.NextContinuationToken : undefined;
        } while (token);
    };
}

/** The object's text, gunzipped when it is gzip (by magic bytes, whatever the key says). */
export function objectText(body: Uint8Array): string {
    const bytes = Buffer.from(body.buffer, body.byteOffset, body.byteLength);
    const gzip = bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
    return (gzip ? zlib.gunzipSync(bytes) : bytes).toString("utf8");
}

interface Found {
    /** eventId -> how many times it was stored, and its eventType (for events of this run not in the manifest). */
    stored: Map<string, { times: number; eventType: string }>;
    inErrorOutput: Set<string>;
    objects: number;
    records: number;
    unreadable: number;
}

/** Scans storage once and reconciles it with the manifest. */
export async function verifyRun(manifest: Manifest, source: ObjectSource, options: { sinceSlackMs?: number } = {}): Promise<VerifyReport> {
    const runId = manifest.header.runId;
    const manifestIds = new Map(manifest.events.map((e) => [e.eventId, e]));
    const since = new Date(Date.parse(manifest.header.startedAt) - (options.sinceSlackMs ?? 10 * 60_000));
    const found: Found = { stored: new Map(), inErrorOutput: new Set(), objects: 0, records: 0, unreadable: 0 };

    for await (const object of source(since)) {
        found.objects++;
        for (const line of objectText(object.body).split("\n")) {
            if (line.trim() === "") continue;
            found.records++;
            let record: Record<string, unknown>;
            try {
                record = JSON.parse(line);
            } catch {
                found.unreadable++;
                continue;
            }
            // Firehose error output: the original record, base64, in rawData.
            if (typeof record.rawData === "string") {
                const inner = tryParseJson(Buffer.from(record.rawData, "base64").toString("utf8"));
                const id = eventOf(inner, runId, manifestIds);
                if (id) found.inErrorOutput.add(id.eventId);
                continue;
            }
            const event = eventOf(record, runId, manifestIds);
            if (!event) continue;
            const times = (found.stored.get(event.eventId)?.times ?? 0) + 1;
            found.stored.set(event.eventId, { times, eventType: event.eventType });
        }
    }
    return reconcile(manifest, found);
}

/** The event of a stored EventBridge record, when it belongs to this run. */
function eventOf(record: unknown, runId: string, manifestIds: Map<string, unknown>): { eventId: string; eventType: string } | undefined {
    const detail = (record as { detail?: unknown } | undefined)?.detail as
        { eventId?: unknown; eventType?: unknown; data?: { runId?: unknown } } | undefined;
    if (!detail || typeof detail !== "object" || typeof detail.eventId !== "string") return undefined;
    if (detail.data?.runId !== runId && !manifestIds.has(detail.eventId)) return undefined;
    return { eventId: detail.eventId, eventType: typeof detail.eventType === "string" ? detail.eventType : "(none)" };
}

function reconcile(manifest: Manifest, found: Found): VerifyReport {
    const byType: Record<string, TypeCounts> = {};
    const counts = (type: string) => (byType[type] ??= { expected: 0, found: 0, missing: 0, duplicated: 0, extra: 0 });
    const samples: VerifyReport["samples"] = {
        missing: [],
        duplicated: [],
        extra: [],
        inErrorOutput: [...found.inErrorOutput].slice(0, 20),
    };
    const sample = (list: string[], id: string) => list.length < 20 && list.push(id);
    const accepted = new Set<string>();

    for (const event of manifest.events) {
        if (event.status !== "accepted" || accepted.has(event.eventId)) continue;
        accepted.add(event.eventId);
        const c = counts(event.eventType);
        c.expected++;
        const times = found.stored.get(event.eventId)?.times ?? 0;
        if (times === 0) {
            c.missing++;
            sample(samples.missing, event.eventId);
        } else {
            c.found++;
        }
    }
    for (const [eventId, { times, eventType }] of found.stored) {
        const c = counts(eventType);
        if (times > 1) {
            c.duplicated += times - 1;
            sample(samples.duplicated, eventId);
        }
        if (!accepted.has(eventId)) {
            c.extra++;
            sample(samples.extra, eventId);
        }
    }
    const totals = { expected: 0, found: 0, missing: 0, duplicated: 0, extra: 0, inErrorOutput: found.inErrorOutput.size };
    for (const c of Object.values(byType)) {
        totals.expected += c.expected;
        totals.found += c.found;
        totals.missing += c.missing;
        totals.duplicated += c.duplicated;
        totals.extra += c.extra;
    }
    return {
        runId: manifest.header.runId,
        objectsScanned: found.objects,
        recordsScanned: found.records,
        unreadable: found.unreadable,
        totals,
        byType,
        samples,
    };
}

/** The report as text. */
export function formatReport(r: VerifyReport): string {
    const rows = Object.entries(r.byType).sort((a, b) => a[0].localeCompare(b[0]));
    const pad = (s: string | number, n: number) => String(s).padStart(n);
    const lines = [
        `Run ${r.runId}: scanned ${r.objectsScanned} objects, ${r.recordsScanned} records${r.unreadable ? ` (${r.unreadable} unreadable lines)` : ""}`,
        `  ${"eventType".padEnd(18)}${pad("expected", 9)}${pad("found", 7)}${pad("missing", 9)}${pad("duplicated", 12)}${pad("extra", 7)}`,
        ...rows.map(
            ([type, c]) =>
                `  ${type.padEnd(18)}${pad(c.expected, 9)}${pad(c.found, 7)}${pad(c.missing, 9)}${pad(c.duplicated, 12)}${pad(c.extra, 7)}`,
        ),
        `  ${"total".padEnd(18)}${pad(r.totals.expected, 9)}${pad(r.totals.found, 7)}${pad(r.totals.missing, 9)}${pad(r.totals.duplicated, 12)}${pad(r.totals.extra, 7)}`,
    ];
    if (r.totals.inErrorOutput)
        lines.push(`  in Firehose error output: ${r.totals.inErrorOutput} (e.g. ${r.samples.inErrorOutput.slice(0, 3).join(", ")})`);
    if (r.samples.missing.length) lines.push(`  missing, e.g.: ${r.samples.missing.slice(0, 5).join(", ")}`);
    if (r.samples.duplicated.length) lines.push(`  duplicated, e.g.: ${r.samples.duplicated.slice(0, 5).join(", ")}`);
    if (r.samples.extra.length) lines.push(`  extra, e.g.: ${r.samples.extra.slice(0, 5).join(", ")}`);
    lines.push(
        r.totals.missing === 0
            ? "  OK: every accepted event is in storage"
            : `  MISSING: ${r.totals.missing} accepted events are not in storage`,
    );
    return lines.join("\n");
}
