/**
 * A Firehose delivery stream to S3 with dynamic partitioning, on the local filesystem.
 *
 * Records are buffered by size and interval; a full buffer goes through the processors in Firehose's
 * order (Lambda transform with Firehose's event shape, JQ metadata extraction, delimiter), is grouped by
 * resolved prefix and written as one object per prefix to `<data-dir>/s3/<bucket>/<key>` (a temp file,
 * fsynced, renamed into place). Records the transform marks ProcessingFailed (or a failed invocation)
 * and records whose partition keys cannot be extracted go under the error prefix, in Firehose's error
 * record format.
 *
 * The stream keeps its buffer in memory: put() resolves once the record's object is written, and the
 * caller (the event bus and its journal) keeps the record durable until then. An object that cannot be
 * written is retried with backoff, alone: the other objects of its batch are written and their records
 * finished, so a read-only partition delays only its own records and duplicates none.
 */
import { randomUUID } from "node:crypto";
import { existsSync, readdirSync, readFileSync, rmSync, unlinkSync } from "node:fs";
import * as path from "node:path";
import { gzipSync } from "node:zlib";
import type { FirehoseTransformationEvent, FirehoseTransformationResult } from "aws-lambda";
import { COMPRESSION_EXTENSIONS, partitionQueryInput } from "../pipeline/partitioning";
import { objectNameSuffix, resolvePrefix } from "./firehose-prefix";
import { backoffDelay, describeFsError, fixHint, ProblemLog, writeFileDurable } from "./fs-util";
import { defaultJqEngine, extractKeysBatch, ProjectionMemo, type JqEngine } from "./jq";
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
    transform?: {
        handler: (event: FirehoseTransformationEvent) => Promise<FirehoseTransformationResult>;
        lambdaArn: string;
        batchBytes: number;
        numberOfRetries: number;
    };
    /** MetadataExtraction processor: the JQ query whose object gives `partitionKeyFromQuery` keys. */
    metadataExtractionQuery?: string;
    /**
     * "partitionQueryInput" when the query is buildPartitionKeysQuery's: its answer depends only on that projection
     * of a record (pipeline/partitioning.ts), so answers are remembered per projection and jq runs once for each.
     */
    metadataExtractionQueryReads?: "partitionQueryInput";
    /** The engine that runs it; default jq 1.6 when installed, else jq-wasm. */
    jq?: JqEngine;
    /** AppendDelimiterToRecord processor. */
    delimiter?: string;
    /** CompressionFormat GZIP: each object gzipped, with a `.gz` name. */
    gzip?: boolean;
    /** Retry timing of objects that could not be written: first delay (default 500 ms), doubling up to the maximum (30 s). */
    retryBaseMs?: number;
    retryMaxMs?: number;
    /** Where incoming records and written objects are reported (the console, /_local/metrics). */
    activity?: ActivitySink;
}

/** put() rejects with this when the stream closed before the record's object could be written. */
export class FirehoseNotWritten extends Error {}

/** Records packed end to end in one buffer: record i is `body[ends[i - 1] ?? 0, ends[i])`. */
export interface PackedRecords {
    body: Buffer;
    ends: Uint32Array;
}

/**
 * Packs records (strings as UTF-8) of `bytes` bytes in all into one buffer of its own, not a slice of Node's pool,
 * so that it can be moved to another thread.
 */
export function packRecords(
    records: Array<string | Uint8Array>,
    bytes: number,
): { body: Buffer<ArrayBuffer>; ends: Uint32Array<ArrayBuffer> } {
    const body = Buffer.allocUnsafeSlow(bytes);
    const ends = new Uint32Array(records.length);
    let at = 0;
    for (let i = 0; i < records.length; i++) {
        const d = records[i];
        if (typeof d === "string") at += body.write(d, at, "utf8");
        else {
            body.set(d, at);
            at += d.length;
        }
        ends[i] = at;
    }
    return { body, ends };
}

/**
 * Records put together, kept as they arrived until the buffer is delivered: a record waits there for seconds,
 * and as part of one packed buffer (outside the JavaScript heap) it costs the garbage collector nothing.
 */
interface BufferedBatch {
    data: PackedRecords;
    arrival: number;
    /** The first record's number: its recordId is `<arrival>-<firstSeq>`, the next one's `<arrival>-<firstSeq + 1>`... */
    firstSeq: number;
    /** Hears how each record ended (error: not written, the stream closed first). */
    settle: (index: number, error?: Error) => void;
}

/** One record of a batch being delivered. */
interface BufferedRecord {
    data: Buffer;
    arrival: number;
    recordId: string;
    batch: BufferedBatch;
    index: number;
}

function settleRecord(record: BufferedRecord, error?: Error): void {
    record.batch.settle(record.index, error);
}

/** The records of batches, one by one, for delivery. */
function unpack(batches: BufferedBatch[]): BufferedRecord[] {
    const records: BufferedRecord[] = [];
    for (const batch of batches) {
        const { body, ends } = batch.data;
        for (let index = 0; index < ends.length; index++) {
            records.push({
                data: body.subarray(index === 0 ? 0 : ends[index - 1], ends[index]),
                arrival: batch.arrival,
                recordId: `${batch.arrival}-${batch.firstSeq + index}`,
                batch,
                index,
            });
        }
    }
    return records;
}

/** An object ready to be written, and the records it holds. */
interface PendingObject {
    key: string;
    file: string;
    body: Buffer;
    records: BufferedRecord[];
    what: string;
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

/**
 * What an earlier version of local mode spooled under `<data-dir>/firehose/<stream>/` (records accepted
 * and not yet written, as the archive target's payloads), and a function that removes those files.
 */
export function readLegacySpool(dir: string): { payloads: string[]; remove: () => void } {
    if (!existsSync(dir)) return { payloads: [], remove: () => undefined };
    const files = readdirSync(dir)
        .filter((n) => n.endsWith(".jsonl"))
        .map((n) => path.join(dir, n));
    const payloads: string[] = [];
    for (const file of files) {
        for (const line of readFileSync(file, "utf8").split("\n")) {
            try {
                payloads.push(Buffer.from((JSON.parse(line) as { data: string }).data, "base64").toString("utf8"));
            } catch {
                // empty, or cut short by a crash: that record was never acknowledged
            }
        }
    }
    return { payloads, remove: () => files.forEach((f) => unlinkSync(f)) };
}

export class LocalFirehose {
    private buffer: BufferedBatch[] = [];
    private bufferBytes = 0;
    private bufferRecords = 0;
    private timer: NodeJS.Timeout | undefined;
    private chain: Promise<void> = Promise.resolve();
    private sequence = 0;
    /** Objects that could not be written yet, and batches whose processing failed: retried with backoff. */
    private parkedObjects: PendingObject[] = [];
    private parkedBatches: BufferedRecord[][] = [];
    private retryTimer: NodeJS.Timeout | undefined;
    private retryAttempt = 0;
    private closing = false;
    private closed = false;
    private readonly bufferedWaiters: Array<() => void> = [];
    private readonly problems: ProblemLog;
    /** Objects written so far (keys), for the summary and tests. */
    readonly written: string[] = [];
    private engine: JqEngine | undefined;
    /** Partition keys per projection of a record, when the query is the partition-keys query. */
    private readonly keysMemo: ProjectionMemo | undefined;

    /** The JQ engine (chosen at first use). */
    get jq(): JqEngine {
        this.engine ??= this.settings.jq ?? defaultJqEngine();
        return this.engine;
    }

    constructor(
        readonly settings: FirehoseSettings,
        private readonly log: Logger,
        private readonly now: () => number = Date.now,
    ) {
        this.problems = new ProblemLog(log);
        const query = settings.metadataExtractionQuery;
        if (query && settings.metadataExtractionQueryReads === "partitionQueryInput")
            this.keysMemo = new ProjectionMemo(query, partitionQueryInput);
        // Objects are written there first; what a crash left is not an object, and never will be one.
        try {
            rmSync(this.incomingDir, { recursive: true, force: true });
        } catch {
            // not removable now (read-only): harmless leftovers, removed at a later start
        }
    }

    /** Temporary files of objects being written (outside every bucket: no bucket name starts with a dot). */
    private get incomingDir(): string {
        return path.join(this.settings.s3Dir, `.incoming-${this.settings.streamName}`);
    }

    /** PutRecord: buffers one record; resolves when its object is written (rejects with FirehoseNotWritten if the stream closes first). */
    put(data: Buffer): Promise<void> {
        const records = { body: data, ends: Uint32Array.of(data.length) };
        return new Promise<void>((resolve, reject) => this.putMany(records, (_, error) => (error ? reject(error) : resolve())));
    }

    /**
     * PutRecordBatch: buffers the records; `settle` hears of each one (by its index) once its object is written, or
     * with a FirehoseNotWritten when the stream closes first.
     */
    putMany(data: PackedRecords, settle: (index: number, error?: Error) => void): void {
        const count = data.ends.length;
        if (this.closed) {
            const error = new FirehoseNotWritten(`firehose ${this.settings.streamName} is closed`);
            for (let i = 0; i < count; i++) settle(i, error);
            return;
        }
        if (count === 0) return;
        const size = data.ends[count - 1];
        this.buffer.push({ data, arrival: this.now(), firstSeq: this.sequence + 1, settle });
        this.sequence += count;
        this.bufferBytes += size;
        this.bufferRecords += count;
        this.settings.activity?.emit({ type: "firehose-put", stream: this.settings.streamName, bytes: size, records: count });
        for (const wake of this.bufferedWaiters.splice(0)) wake();
        if (this.bufferBytes >= this.settings.bufferSizeBytes) {
            void this.flush();
        } else if (!this.timer) {
            this.timer = setTimeout(() => void this.flush(), this.settings.bufferIntervalSeconds * 1000);
        }
    }

    /** Records buffered and not yet handed to a delivery. */
    get pendingRecords(): number {
        return this.bufferRecords;
    }

    /** Records whose object could not be written yet (waiting for a retry). */
    get parkedRecords(): number {
        return this.parkedObjects.reduce((n, o) => n + o.records.length, 0) + this.parkedBatches.reduce((n, b) => n + b.length, 0);
    }

    /** Resolves as soon as the buffer holds a record. */
    whenBuffered(): Promise<void> {
        if (this.bufferRecords > 0) return Promise.resolve();
        return new Promise((resolve) => this.bufferedWaiters.push(resolve));
    }

    /** Delivers what is buffered now and retries what waits for a retry; resolves when that is done (written or parked). */
    flush(): Promise<void> {
        if (this.timer) clearTimeout(this.timer);
        this.timer = undefined;
        const batches = this.buffer;
        this.buffer = [];
        this.bufferBytes = 0;
        this.bufferRecords = 0;
        this.chain = this.chain
            .then(async () => {
                if (batches.length > 0) await this.deliver(unpack(batches));
                await this.retryParked();
            })
            .catch((err) => {
                // Not a disk error (those are handled where they happen): a defect, logged rather than thrown from a timer.
                this.log.warn(`firehose ${this.settings.streamName}: delivery failed unexpectedly: ${(err as Error).stack ?? err}`);
            });
        return this.chain;
    }

    /**
     * Writes the buffer and tries what waits for a retry once more, then refuses new records. Records still
     * not written are given up on here (their put() rejects): the caller's journal keeps them.
     */
    async close(): Promise<{ notWritten: number; problems: string[] }> {
        this.closing = true;
        if (this.retryTimer) clearTimeout(this.retryTimer);
        await this.flush();
        this.closed = true;
        const problems = this.problems.current;
        // Parked records, and any put while the last flush ran.
        const left = [...this.parkedBatches.flat(), ...this.parkedObjects.flatMap((o) => o.records), ...unpack(this.buffer)];
        this.parkedBatches = [];
        this.parkedObjects = [];
        this.buffer = [];
        this.bufferBytes = 0;
        this.bufferRecords = 0;
        if (this.timer) clearTimeout(this.timer);
        if (!this.settings.jq) this.engine?.close?.(); // the engine this stream started
        const error = new FirehoseNotWritten(problems[0] ?? `firehose ${this.settings.streamName} closed before writing it`);
        for (const record of left) settleRecord(record, error);
        return { notWritten: left.length, problems };
    }

    private async deliver(batch: BufferedRecord[]): Promise<void> {
        let objects: PendingObject[];
        try {
            objects = await this.prepare(batch);
        } catch (err) {
            this.problems.report(
                "prepare",
                `firehose ${this.settings.streamName}: processing a batch of ${batch.length} records failed (${(err as Error).message}); ` +
                    "they stay in the journal and are processed again with backoff",
            );
            this.settings.activity?.emit({
                type: "firehose-failed",
                stream: this.settings.streamName,
                records: batch.length,
                reason: (err as Error).message,
            });
            this.parkedBatches.push(batch);
            this.scheduleRetry();
            return;
        }
        for (const object of objects) await this.writeOrPark(object);
    }

    private async writeOrPark(object: PendingObject): Promise<void> {
        try {
            await writeFileDurable(object.file, object.body, { tmpDir: this.incomingDir });
        } catch (err) {
            const code = (err as NodeJS.ErrnoException).code ?? "error";
            this.problems.report(
                `write ${code}`,
                `firehose ${this.settings.streamName}: cannot write s3://${this.settings.bucketName}/${object.key} to ${object.file}: ` +
                    `${describeFsError(err)}; its ${object.records.length} ${object.what} stay in the journal and the write is retried with backoff: ${fixHint(err, object.file)}`,
            );
            this.settings.activity?.emit({
                type: "firehose-failed",
                stream: this.settings.streamName,
                records: object.records.length,
                reason: describeFsError(err),
            });
            this.parkedObjects.push(object);
            this.scheduleRetry();
            return;
        }
        this.written.push(object.key);
        this.settings.activity?.emit({
            type: "object",
            stream: this.settings.streamName,
            bucket: this.settings.bucketName,
            key: object.key,
            records: object.records.length,
            bytes: object.body.length,
            error: object.what !== "records",
            body: object.body,
        });
        this.log.info(
            `firehose ${this.settings.streamName} -> s3://${this.settings.bucketName}/${object.key} (${object.records.length} ${object.what}, ${object.body.length} bytes)`,
        );
        for (const record of object.records) settleRecord(record);
    }

    /** One more attempt at everything parked. */
    private async retryParked(): Promise<void> {
        if (this.parkedBatches.length === 0 && this.parkedObjects.length === 0) return;
        const batches = this.parkedBatches.splice(0);
        const objects = this.parkedObjects.splice(0);
        for (const batch of batches) await this.deliver(batch);
        for (const object of objects) await this.writeOrPark(object);
        if (this.parkedBatches.length === 0 && this.parkedObjects.length === 0) {
            this.problems.resolveAll(
                `firehose ${this.settings.streamName}: every object waiting for a retry is written (after ${this.retryAttempt + 1} attempts)`,
            );
            this.retryAttempt = 0;
        }
    }

    private scheduleRetry(): void {
        if (this.closing || this.retryTimer) return;
        const delay = backoffDelay(++this.retryAttempt, this.settings.retryBaseMs ?? 500, this.settings.retryMaxMs ?? 30_000);
        this.retryTimer = setTimeout(() => {
            this.retryTimer = undefined;
            void this.flush();
        }, delay);
        this.retryTimer.unref();
    }

    /** The objects a batch makes: the processors, then one object per resolved prefix (and per error prefix). */
    private async prepare(batch: BufferedRecord[]): Promise<PendingObject[]> {
        // A loop rather than Math.min(...): a batch can hold more records than a call takes arguments.
        const oldest = new Date(batch.reduce((min, r) => Math.min(min, r.arrival), Infinity));
        const bucketDir = path.join(this.settings.s3Dir, this.settings.bucketName);
        const objects = new Map<string, { chunks: Buffer[]; records: BufferedRecord[] }>();
        const errors = new Map<string, { lines: ErrorRecord[]; records: BufferedRecord[] }>();
        const addError = (type: string, record: BufferedRecord, error: ErrorRecord) => {
            const prefix = resolvePrefix(this.settings.errorPrefix, { timestamp: oldest, errorOutputType: type });
            const group = errors.get(prefix) ?? { lines: [], records: [] };
            group.lines.push(error);
            group.records.push(record);
            errors.set(prefix, group);
        };

        // 1. Lambda transform, in invocations of at most batchBytes.
        const transformed = await this.transform(batch, addError);

        // 2. Metadata extraction (the whole batch in one run of the query), 3. delimiter, then grouping by prefix.
        const query = this.settings.metadataExtractionQuery;
        const extracted = query
            ? await extractKeysBatch(
                  this.jq,
                  transformed.map((t) => t.data),
                  query,
                  this.keysMemo,
              )
            : [];
        const delimiter = this.settings.delimiter ? Buffer.from(this.settings.delimiter, "utf8") : undefined;
        const prefixOf = this.prefixResolver(bucketDir, oldest);
        for (let i = 0; i < transformed.length; i++) {
            const { record, data, lambdaKeys } = transformed[i];
            let keys: Record<string, string> = lambdaKeys;
            if (query) {
                const result = extracted[i];
                if ("error" in result) {
                    addError(
                        "partitioning-failed",
                        record,
                        this.errorRecord(record, data, "DynamicPartitioning.MetadataExtractionFailed", result.error),
                    );
                    continue;
                }
                keys = { ...keys, ...result.keys };
            }
            const resolved = prefixOf(keys);
            if ("error" in resolved) {
                addError(
                    "partitioning-failed",
                    record,
                    this.errorRecord(record, data, "DynamicPartitioning.PartitionKeyEvaluationFailed", resolved.error),
                );
                continue;
            }
            const group = objects.get(resolved.prefix) ?? { chunks: [], records: [] };
            group.chunks.push(data);
            if (delimiter) group.chunks.push(delimiter);
            group.records.push(record);
            objects.set(resolved.prefix, group);
        }

        const out: PendingObject[] = [];
        for (const [prefix, { chunks, records }] of objects) out.push(this.object(prefix, oldest, Buffer.concat(chunks), records, false));
        for (const [prefix, { lines, records }] of errors) {
            out.push(this.object(prefix, oldest, Buffer.from(lines.map((r) => JSON.stringify(r) + "\n").join(""), "utf8"), records, true));
        }
        return out;
    }

    /**
     * The prefix of each set of partition keys in one batch (every record of a batch shares its timestamp, so a
     * prefix is resolved and checked once per distinct set of keys, not once per record).
     */
    private prefixResolver(bucketDir: string, timestamp: Date): (keys: Record<string, string>) => { prefix: string } | { error: string } {
        const resolved = new Map<string, { prefix: string } | { error: string }>();
        return (keys) => {
            const id = JSON.stringify(keys);
            let result = resolved.get(id);
            if (!result) {
                try {
                    const prefix = resolvePrefix(this.settings.prefix, { partitionKeys: keys, timestamp });
                    localObjectPath(bucketDir, prefix + "object"); // a key the local filesystem cannot hold fails here, not at every retry
                    result = { prefix };
                } catch (err) {
                    result = { error: (err as Error).message };
                }
                resolved.set(id, result);
            }
            return result;
        };
    }

    private object(prefix: string, timestamp: Date, body: Buffer, records: BufferedRecord[], isError: boolean): PendingObject {
        // Firehose compresses delivered objects, not its error output.
        const gzip = this.settings.gzip && !isError;
        const key =
            prefix +
            objectNameSuffix(this.settings.streamName, timestamp, randomUUID(), COMPRESSION_EXTENSIONS[gzip ? "GZIP" : "UNCOMPRESSED"]);
        const file = localObjectPath(path.join(this.settings.s3Dir, this.settings.bucketName), key);
        return { key, file, body: gzip ? gzipSync(body) : body, records, what: isError ? "error records" : "records" };
    }

    private async transform(
        batch: BufferedRecord[],
        addError: (type: string, record: BufferedRecord, error: ErrorRecord) => void,
    ): Promise<Array<{ record: BufferedRecord; data: Buffer; lambdaKeys: Record<string, string> }>> {
        const transform = this.settings.transform;
        if (!transform) return batch.map((record) => ({ record, data: record.data, lambdaKeys: {} }));
        const out: Array<{ record: BufferedRecord; data: Buffer; lambdaKeys: Record<string, string> }> = [];
        for (const invocation of chunkBySize(batch, transform.batchBytes)) {
            const { result, lastError, attempts } = await this.invokeTransform(invocation, transform.handler, transform.numberOfRetries);
            const byId = new Map((result?.records ?? []).map((r) => [r.recordId, r]));
            const fail = (record: BufferedRecord, errorCode: string, errorMessage: string) =>
                addError(
                    "processing-failed",
                    record,
                    this.errorRecord(record, record.data, errorCode, errorMessage, attempts, transform.lambdaArn),
                );
            for (const record of invocation) {
                const answer = byId.get(record.recordId);
                if (!result) fail(record, "Lambda.FunctionError", `The Lambda function was invoked and returned an error: ${lastError}`);
                else if (!answer) fail(record, "Lambda.MissingRecordId", "The Lambda function did not return this recordId.");
                else if (answer.result === "Dropped")
                    settleRecord(record); // nothing to write: the record is done
                // The code and the fixed message Firehose writes: the function cannot supply its own.
                else if (answer.result !== "Ok") fail(record, "Lambda.ProcessingFailedStatus", "ProcessingFailed status set for record");
                else {
                    const keys = (answer as { metadata?: { partitionKeys?: Record<string, string> } }).metadata?.partitionKeys ?? {};
                    out.push({ record, data: Buffer.from(String(answer.data ?? ""), "base64"), lambdaKeys: keys });
                }
            }
        }
        return out;
    }

    /** One invocation of the transform; Firehose retries a failed one numberOfRetries times, then fails the whole batch. */
    private async invokeTransform(
        invocation: BufferedRecord[],
        handler: (event: FirehoseTransformationEvent) => Promise<FirehoseTransformationResult>,
        numberOfRetries: number,
    ): Promise<{ result?: FirehoseTransformationResult; lastError: string; attempts: number }> {
        const event: FirehoseTransformationEvent = {
            invocationId: randomUUID(),
            deliveryStreamArn: this.settings.streamArn,
            region: this.settings.region,
            records: invocation.map((r) => ({
                recordId: r.recordId,
                approximateArrivalTimestamp: r.arrival,
                data: r.data.toString("base64"),
            })),
        };
        let lastError = "";
        for (let attempts = 1; attempts <= numberOfRetries + 1; attempts++) {
            try {
                const result = await handler(event);
                if (result !== undefined) return { result, lastError, attempts };
            } catch (err) {
                lastError = (err as Error).message;
            }
        }
        return { lastError, attempts: numberOfRetries + 1 };
    }

    private errorRecord(
        record: BufferedRecord,
        data: Buffer,
        errorCode: string,
        errorMessage: string,
        attempts = 1,
        lambdaArn?: string,
    ): ErrorRecord {
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
