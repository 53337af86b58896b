/**
 * A Firehose delivery stream to S3 with dynamic partitioning, on the local filesystem.
 *
 * Records are buffered by size and interval; a full buffer goes through the processors in Firehose's
 * order (Lambda transform with Firehose's event shape, JQ metadata extraction, delimiter), is grouped by
 * resolved prefix and written as one object per prefix to `<data-dir>/s3/<bucket>/<key>` (atomically:
 * a temp file renamed into place). Records the transform marks ProcessingFailed (or a failed invocation)
 * and records whose partition keys cannot be extracted go under the error prefix, in Firehose's error
 * record format.
 */
import { randomUUID } from "node:crypto";
import { appendFileSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, unlinkSync } from "node:fs";
import * as path from "node:path";
import { gzipSync } from "node:zlib";
import type { FirehoseTransformationEvent, FirehoseTransformationResult } from "aws-lambda";
import { objectNameSuffix, resolvePrefix } from "../pipeline/partitioning";
import { writeFileAtomic } from "./fs-util";
import { defaultJqEngine, extractKeysBatch, type JqEngine } from "./jq";
import type { ActivitySink } from "./activity";
import type { Logger } from "./log";

export interface FirehoseSettings {
    streamName: string;
    streamArn: string;
    region: string;
    bucketName: string;
    /** Root of the local S3: objects go to `<s3Dir>/<bucket>/<key>`. */
    s3Dir: string;
    prefix: string;
    errorPrefix: string;
    bufferIntervalSeconds: number;
    bufferSizeBytes: number;
    /** Lambda transform processor (the real handler), with its ARN as Firehose's error records name it. */
    transform?: { handler: (event: FirehoseTransformationEvent) => Promise<FirehoseTransformationResult>; lambdaArn: string; batchBytes: number; numberOfRetries: number };
    /** MetadataExtraction processor: the JQ query whose object gives `partitionKeyFromQuery` keys. */
    metadataExtractionQuery?: string;
    /** The engine that runs it; default jq 1.6 when installed, else jq-wasm. */
    jq?: JqEngine;
    /** AppendDelimiterToRecord processor. */
    delimiter?: string;
    /** CompressionFormat GZIP: each object gzipped, with a `.gz` name. */
    gzip?: boolean;
    /**
     * Where accepted records are journaled until their object is written, so a crash loses nothing: the
     * next start delivers what the journal holds (at least once, as Firehose does).
     */
    spoolDir?: string;
    /** Where incoming records and written objects are reported (the console, /_local/metrics). */
    activity?: ActivitySink;
}

interface BufferedRecord {
    data: Buffer;
    arrival: number;
    recordId: string;
}

interface ErrorRecord {
    attemptsMade: number;
    arrivalTimestamp: number;
    errorCode: string;
    errorMessage: string;
    attemptEndingTimestamp: number;
    rawData: string;
    lambdaArn?: string;
}

/** Path of an S3 key under a bucket directory; refuses keys that would leave it (`..` segments). */
export function localObjectPath(bucketDir: string, key: string): string {
    const segments = key.split("/");
    if (segments.some((s) => s === ".." || s === ".") || key.startsWith("/")) {
        throw new Error(`S3 key ${JSON.stringify(key)} cannot be stored on a local filesystem`);
    }
    const full = path.resolve(bucketDir, ...segments);
    if (!full.startsWith(path.resolve(bucketDir) + path.sep)) throw new Error(`S3 key ${JSON.stringify(key)} leaves the bucket`);
    return full;
}

export class LocalFirehose {
    private buffer: BufferedRecord[] = [];
    private bufferBytes = 0;
    private timer: NodeJS.Timeout | undefined;
    private chain: Promise<void> = Promise.resolve();
    private sequence = 0;
    /** Objects written so far (keys), for the summary and tests. */
    readonly written: string[] = [];
    /** Journal files whose records are all in the current buffer. */
    private bufferedSpools: string[] = [];
    private engine: JqEngine | undefined;

    /** The JQ engine (chosen at first use). */
    get jq(): JqEngine {
        this.engine ??= this.settings.jq ?? defaultJqEngine();
        return this.engine;
    }

    constructor(readonly settings: FirehoseSettings, private readonly log: Logger, private readonly now: () => number = Date.now) {}

    private get currentSpool(): string | undefined {
        return this.settings.spoolDir ? path.join(this.settings.spoolDir, "current.jsonl") : undefined;
    }

    /** Re-buffers what a previous run accepted but did not write (after a crash). Returns the record count. */
    recover(): number {
        const dir = this.settings.spoolDir;
        if (!dir || !existsSync(dir)) return 0;
        let count = 0;
        for (const name of readdirSync(dir).filter((n) => n.endsWith(".jsonl")).sort()) {
            // Claim the file under a new name so the journal of this run starts empty.
            const claimed = path.join(dir, `recovered-${Date.now()}-${randomUUID()}.jsonl`);
            renameSync(path.join(dir, name), claimed);
            for (const line of readFileSync(claimed, "utf8").split("\n")) {
                if (line.trim() === "") continue;
                let saved: { arrival: number; data: string };
                try {
                    saved = JSON.parse(line);
                } catch {
                    continue; // a line cut short by the crash: its record was never acknowledged
                }
                this.buffer.push({ data: Buffer.from(saved.data, "base64"), arrival: saved.arrival, recordId: `${saved.arrival}-${++this.sequence}` });
                this.bufferBytes += this.buffer[this.buffer.length - 1].data.length;
                count++;
            }
            this.bufferedSpools.push(claimed);
        }
        if (count === 0) {
            for (const file of this.bufferedSpools.splice(0)) unlinkSync(file);
        } else {
            this.log.info(`firehose ${this.settings.streamName}: recovered ${count} records a previous run had not written`);
            this.flush();
        }
        return count;
    }

    /** PutRecord: buffers one record. */
    put(data: Buffer): void {
        const arrival = this.now();
        const spool = this.currentSpool;
        if (spool) {
            mkdirSync(path.dirname(spool), { recursive: true });
            appendFileSync(spool, JSON.stringify({ arrival, data: data.toString("base64") }) + "\n");
        }
        this.buffer.push({ data, arrival, recordId: `${arrival}-${++this.sequence}` });
        this.bufferBytes += data.length;
        this.settings.activity?.emit({ type: "firehose-put", stream: this.settings.streamName, bytes: data.length });
        if (this.bufferBytes >= this.settings.bufferSizeBytes) {
            this.flush();
        } else if (!this.timer) {
            this.timer = setTimeout(() => this.flush(), this.settings.bufferIntervalSeconds * 1000);
        }
    }

    /** Records accepted but not yet written. */
    get pendingRecords(): number {
        return this.buffer.length;
    }

    /** Delivers what is buffered now; resolves when it (and every earlier delivery) is on disk. */
    flush(): Promise<void> {
        if (this.timer) clearTimeout(this.timer);
        this.timer = undefined;
        const batch = this.buffer;
        this.buffer = [];
        this.bufferBytes = 0;
        const spools = this.bufferedSpools;
        this.bufferedSpools = [];
        const current = this.currentSpool;
        if (current && existsSync(current)) {
            const segment = path.join(path.dirname(current), `segment-${Date.now()}-${randomUUID()}.jsonl`);
            renameSync(current, segment);
            spools.push(segment);
        }
        if (batch.length > 0) {
            this.chain = this.chain.then(async () => {
                await this.deliver(batch);
                // Written: the journal of these records is no longer needed.
                for (const file of spools) unlinkSync(file);
            }).catch((err) => {
                this.settings.activity?.emit({ type: "firehose-failed", stream: this.settings.streamName, records: batch.length, reason: (err as Error).message });
                this.log.warn(`firehose ${this.settings.streamName}: delivery failed, records kept in the journal for the next start: ${(err as Error).stack ?? err}`);
            });
        }
        return this.chain;
    }

    private async deliver(batch: BufferedRecord[]): Promise<void> {
        const oldest = new Date(Math.min(...batch.map((r) => r.arrival)));
        const objects = new Map<string, Buffer[]>();
        const errors = new Map<string, ErrorRecord[]>();
        const addError = (type: string, record: ErrorRecord) => {
            const prefix = resolvePrefix(this.settings.errorPrefix, { timestamp: oldest, errorOutputType: type });
            const list = errors.get(prefix);
            if (list) list.push(record);
            else errors.set(prefix, [record]);
        };

        // 1. Lambda transform, in invocations of at most batchBytes.
        const transformed = await this.transform(batch, addError);

        // 2. Metadata extraction (the whole batch in one run of the query), 3. delimiter, then grouping by prefix.
        const query = this.settings.metadataExtractionQuery;
        const extracted = query ? await extractKeysBatch(this.jq, transformed.map((t) => t.data), query) : [];
        for (let i = 0; i < transformed.length; i++) {
            const { record, data, lambdaKeys } = transformed[i];
            let keys: Record<string, string> = { ...lambdaKeys };
            if (query) {
                const result = extracted[i];
                if ("error" in result) {
                    addError("partitioning-failed", this.errorRecord(record, data, "DynamicPartitioning.MetadataExtractionFailed", result.error));
                    continue;
                }
                keys = { ...keys, ...result.keys };
            }
            let prefix: string;
            try {
                prefix = resolvePrefix(this.settings.prefix, { partitionKeys: keys, timestamp: oldest });
            } catch (err) {
                addError("partitioning-failed", this.errorRecord(record, data, "DynamicPartitioning.PartitionKeyEvaluationFailed", (err as Error).message));
                continue;
            }
            const chunk = this.settings.delimiter ? Buffer.concat([data, Buffer.from(this.settings.delimiter, "utf8")]) : data;
            const list = objects.get(prefix);
            if (list) list.push(chunk);
            else objects.set(prefix, [chunk]);
        }

        for (const [prefix, chunks] of objects) this.writeObject(prefix, oldest, Buffer.concat(chunks), chunks.length);
        for (const [prefix, records] of errors) {
            this.writeObject(prefix, oldest, Buffer.from(records.map((r) => JSON.stringify(r) + "\n").join(""), "utf8"), records.length, true);
        }
    }

    private async transform(
        batch: BufferedRecord[],
        addError: (type: string, record: ErrorRecord) => void,
    ): Promise<Array<{ record: BufferedRecord; data: Buffer; lambdaKeys: Record<string, string> }>> {
        const transform = this.settings.transform;
        if (!transform) return batch.map((record) => ({ record, data: record.data, lambdaKeys: {} }));
        const out: Array<{ record: BufferedRecord; data: Buffer; lambdaKeys: Record<string, string> }> = [];
        for (const invocation of chunkBySize(batch, transform.batchBytes)) {
            const event: FirehoseTransformationEvent = {
                invocationId: randomUUID(),
                deliveryStreamArn: this.settings.streamArn,
                region: this.settings.region,
                records: invocation.map((r) => ({ recordId: r.recordId, approximateArrivalTimestamp: r.arrival, data: r.data.toString("base64") })),
            };
            let result: FirehoseTransformationResult | undefined;
            let lastError = "";
            let attempts = 0;
            // Firehose retries a failed invocation numberOfRetries times, then fails the whole batch.
            while (result === undefined && attempts <= transform.numberOfRetries) {
                attempts++;
                try {
                    result = await transform.handler(event);
                } catch (err) {
                    lastError = (err as Error).message;
                }
            }
            const byId = new Map((result?.records ?? []).map((r) => [r.recordId, r]));
            for (const record of invocation) {
                if (!result) {
                    addError("processing-failed", this.errorRecord(record, record.data, "Lambda.FunctionError", `The Lambda function was invoked and returned an error: ${lastError}`, attempts, transform.lambdaArn));
                    continue;
                }
                const answer = byId.get(record.recordId);
                if (!answer) {
                    addError("processing-failed", this.errorRecord(record, record.data, "Lambda.MissingRecordId", "The Lambda function did not return this recordId.", attempts, transform.lambdaArn));
                } else if (answer.result === "Dropped") {
                    continue;
                } else if (answer.result !== "Ok") {
                    addError("processing-failed", this.errorRecord(record, record.data, "Lambda.ProcessingFailed", "The Lambda function returned result ProcessingFailed for this record.", attempts, transform.lambdaArn));
                } else {
                    const keys = (answer as { metadata?: { partitionKeys?: Record<string, string> } }).metadata?.partitionKeys ?? {};
                    out.push({ record, data: Buffer.from(String(answer.data ?? ""), "base64"), lambdaKeys: keys });
                }
            }
        }
        return out;
    }

    private errorRecord(record: BufferedRecord, data: Buffer, errorCode: string, errorMessage: string, attempts = 1, lambdaArn?: string): ErrorRecord {
        return {
            attemptsMade: attempts,
            arrivalTimestamp: record.arrival,
            errorCode,
            errorMessage,
            attemptEndingTimestamp: this.now(),
            rawData: data.toString("base64"),
            ...(lambdaArn ? { lambdaArn } : {}),
        };
    }

    private writeObject(prefix: string, timestamp: Date, body: Buffer, count: number, isError = false): void {
        // Firehose compresses delivered objects, not its error output.
        const gzip = this.settings.gzip && !isError;
        const key = prefix + objectNameSuffix(this.settings.streamName, timestamp, randomUUID(), gzip ? ".gz" : "");
        if (gzip) body = gzipSync(body);
        const file = localObjectPath(path.join(this.settings.s3Dir, this.settings.bucketName), key);
        writeFileAtomic(file, body);
        this.written.push(key);
        this.settings.activity?.emit({ type: "object", stream: this.settings.streamName, bucket: this.settings.bucketName, key, records: count, bytes: body.length, error: isError, body });
        const what = isError ? "error records" : "records";
        this.log.info(`firehose ${this.settings.streamName} -> s3://${this.settings.bucketName}/${key} (${count} ${what}, ${body.length} bytes)`);
    }
}

function chunkBySize(records: BufferedRecord[], maxBytes: number): BufferedRecord[][] {
    const chunks: BufferedRecord[][] = [];
    let current: BufferedRecord[] = [];
    let size = 0;
    for (const r of records) {
        if (current.length > 0 && size + r.data.length > maxBytes) {
            chunks.push(current);
            current = [];
            size = 0;
        }
        current.push(r);
        size += r.data.length;
    }
    if (current.length > 0) chunks.push(current);
    return chunks;
}

/** Runs the MetadataExtraction query on one record (throws what Firehose would report for it). */
export async function extractKeys(data: Buffer, query: string, engine: JqEngine = defaultJqEngine()): Promise<Record<string, string>> {
    const [result] = await extractKeysBatch(engine, [data], query);
    if ("error" in result) throw new Error(result.error);
    return result.keys;
}
