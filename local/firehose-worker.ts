/**
 * Local mode's Firehose delivery stream, run in a worker thread (local/firehose-thread.ts) so that the
 * transform, jq partitioning and object writes use the second core and never stall the thread that answers
 * requests. This side hands records over in batches (one message per turn of the event loop) and resolves each
 * put() when the worker reports its object written, exactly as LocalFirehose.put() does in one thread.
 *
 * Bounded memory: records put and not yet written are counted; above `maxInFlightRecords` admit() waits (the bus
 * awaits it before it accepts more events: backpressure, so a stream that falls behind slows acceptance instead
 * of growing without limit), and every `flushEveryRecords` records the buffer is delivered without waiting for
 * its interval.
 */
import * as path from "node:path";
import { Worker } from "node:worker_threads";
import type { ActivityFeed, ActivityRecordBody } from "./activity";
import { FirehoseNotWritten, packRecords, type FirehoseSettings } from "./firehose";
import type { Logger } from "./log";
import type { SchemaEnforcement, UnknownSchemaPolicy } from "../pipeline/schemas";

/** Records settled per turn of the event loop. */
const SETTLE_SLICE = 500;

/** What the worker thread is started with (plain data: no functions cross threads). */
export interface ThreadSettings {
    firehose: Omit<FirehoseSettings, "transform" | "jq" | "activity"> & {
        transform?: Omit<NonNullable<FirehoseSettings["transform"]>, "handler">;
    };
    quiet: boolean;
    /** What the transform enforces: the compiled validators' code (schemas/compile.ts) and the policy; none: no schema checks. */
    schemas?: { source: string; enforcement: SchemaEnforcement; unknownSchema: UnknownSchemaPolicy };
}

export type ToThread =
    /** The records packed end to end in `body` (record i ends at `ends[i]`), moved to the thread rather than copied. */
    { t: "put"; ids: number[]; body: Uint8Array; ends: Uint32Array } | { t: "flush"; call: number } | { t: "close"; call: number };

export type FromThread =
    | { t: "ready"; jq: string }
    | {
          t: "batch";
          written: number[];
          failed: Array<[number, string]>;
          activity: ActivityRecordBody[];
          logs: Array<["info" | "warn", string]>;
          received: number;
          buffered: number;
          parked: number;
      }
    | { t: "done"; call: number; result?: { notWritten: number; problems: string[] } };

export interface WorkerFirehoseOptions extends ThreadSettings {
    /** Records put and not written above which admit() waits. Default 60,000. */
    maxInFlightRecords?: number;
    /** Records after which the buffer is delivered early. Default 20,000. */
    flushEveryRecords?: number;
    /** Bytes after which the records gathered in this turn go to the thread at once (a bounded message). Default 64 MiB. */
    maxMessageBytes?: number;
}

/** Starts the thread's module with the TypeScript loader this process uses (none for compiled JavaScript). */
function startThread(settings: ThreadSettings): Worker {
    const entry = path.join(__dirname, `firehose-thread${path.extname(__filename)}`);
    const tsNode = (process as unknown as Record<symbol, unknown>)[Symbol.for("ts-node.register.instance")] !== undefined;
    const loader = entry.endsWith(".ts") ? (tsNode ? "ts-node/register/transpile-only" : "tsx/cjs") : undefined;
    const code = `${loader ? `require(${JSON.stringify(loader)});` : ""}require(${JSON.stringify(entry)});`;
    return new Worker(code, { eval: true, workerData: settings });
}

/** Records put together (putMany): each reported as it settles, the batch answered once the last one has. */
interface PutBatch {
    /** The id of its first record: record i has id `firstId + i`. */
    firstId: number;
    errors: Array<FirehoseNotWritten | undefined>;
    left: number;
    resolve: (errors: Array<FirehoseNotWritten | undefined>) => void;
    onSettled?: (index: number, error: FirehoseNotWritten | undefined) => void;
}

export class WorkerFirehose {
    private readonly worker: Worker;
    /** Records put and not written: the batch each belongs to (its place in it follows from its id). */
    private readonly waiting = new Map<number, PutBatch>();
    private readonly calls = new Map<number, (result?: { notWritten: number; problems: string[] }) => void>();
    private nextId = 1;
    private outgoing: { ids: number[]; data: Array<string | Uint8Array>; bytes: number } = { ids: [], data: [], bytes: 0 };
    private sendScheduled = false;
    private sinceFlush = 0;
    /** What the thread last reported: records received in all, buffered and parked now. */
    private remote = { received: 0, buffered: 0, parked: 0 };
    private putCount = 0;
    /** Records the thread reported written (their id), or failed (with the reason), and not settled yet. */
    private toSettle: Array<number | [number, string]> = [];
    private settleScheduled = false;
    private bufferedWaiters: Array<() => void> = [];
    private admitWaiters: Array<() => void> = [];
    private closed = false;
    private readonly maxInFlight: number;
    private readonly flushEvery: number;
    /** The JQ engine's name, once the thread is ready. */
    readonly ready: Promise<string>;

    constructor(
        private readonly options: WorkerFirehoseOptions,
        private readonly log: Logger,
        private readonly activity?: ActivityFeed,
    ) {
        this.maxInFlight = options.maxInFlightRecords ?? 60_000;
        this.flushEvery = options.flushEveryRecords ?? 20_000;
        this.worker = startThread({ firehose: options.firehose, quiet: options.quiet, schemas: options.schemas });
        this.ready = new Promise((resolve, reject) => {
            this.worker.once("message", (m: FromThread) =>
                m.t === "ready" ? resolve(m.jq) : reject(new Error("firehose thread did not start")),
            );
            this.worker.once("error", reject);
        });
        this.worker.on("message", (m: FromThread) => this.receive(m));
        this.worker.on("error", (err) => this.fail(err));
        // Referenced until it is ready (the caller waits for that), then only while it owes an answer.
        void this.ready.then(
            () => this.setRef(),
            () => undefined,
        );
    }

    /** PutRecord: resolves when the record's object is written (rejects with FirehoseNotWritten if the stream closes first). */
    async put(data: string | Buffer): Promise<void> {
        const [error] = await this.putMany([data]);
        if (error) throw error;
    }

    /**
     * PutRecordBatch: resolves once every record's object is written, or the stream closed first, with each record's
     * error (undefined: written). One promise per batch rather than per record: a request's events travel together.
     * `onSettled` hears of each record as soon as it settles, so one record waiting for a retry (its object could
     * not be written yet) does not hold back the others.
     */
    putMany(
        records: Array<string | Buffer>,
        onSettled?: (index: number, error: FirehoseNotWritten | undefined) => void,
    ): Promise<Array<FirehoseNotWritten | undefined>> {
        if (this.closed) {
            const error = new FirehoseNotWritten(`firehose ${this.options.firehose.streamName} is closed`);
            records.forEach((_, index) => onSettled?.(index, error));
            return Promise.resolve(records.map(() => error));
        }
        if (records.length === 0) return Promise.resolve([]);
        return new Promise((resolve) => {
            const batch: PutBatch = {
                firstId: this.nextId,
                errors: new Array<FirehoseNotWritten | undefined>(records.length),
                left: records.length,
                resolve,
                onSettled,
            };
            const out = this.outgoing;
            for (let index = 0; index < records.length; index++) {
                const data = records[index];
                const id = this.nextId++;
                out.ids.push(id);
                out.data.push(data);
                out.bytes += typeof data === "string" ? Buffer.byteLength(data) : data.length;
                this.waiting.set(id, batch);
            }
            this.putCount += records.length;
            if (out.bytes >= (this.options.maxMessageBytes ?? 64 * 1024 * 1024)) this.sendPuts();
            else if (!this.sendScheduled) {
                this.sendScheduled = true;
                setImmediate(() => this.sendPuts());
            }
            for (const wake of this.bufferedWaiters.splice(0)) wake();
            this.setRef();
        });
    }

    private sendPuts(): void {
        this.sendScheduled = false;
        const { ids, data, bytes } = this.outgoing;
        if (ids.length === 0) return;
        this.outgoing = { ids: [], data: [], bytes: 0 };
        const { body, ends } = packRecords(data, bytes);
        this.worker.postMessage({ t: "put", ids, body, ends } satisfies ToThread, [body.buffer, ends.buffer]);
        this.activity?.emit({ type: "firehose-put", stream: this.options.firehose.streamName, bytes, records: ids.length });
        this.sinceFlush += ids.length;
        if (this.sinceFlush >= this.flushEvery) void this.flush();
    }

    private receive(m: FromThread): void {
        if (m.t === "batch") {
            // A loop, not push(...): a message can name more records than a call takes arguments.
            for (const id of m.written) this.toSettle.push(id);
            for (const failed of m.failed) this.toSettle.push(failed);
            this.settleSlice();
            for (const body of m.activity) this.activity?.record(body);
            for (const [level, line] of m.logs) this.log[level](line);
            this.remote = { received: m.received, buffered: m.buffered, parked: m.parked };
        } else if (m.t === "done") {
            const call = this.calls.get(m.call);
            this.calls.delete(m.call);
            // After the records it wrote are settled.
            void this.settled().then(() => call?.(m.result));
        }
        this.setRef();
    }

    /**
     * Settles written records a slice at a time: each put() resumes its delivery (journal mark, activity), and
     * a whole object's worth at once (20,000 records) would hold the request thread for half a second.
     */
    private settleSlice(): void {
        if (this.settleScheduled) return;
        const slice = this.toSettle.splice(0, SETTLE_SLICE);
        for (const item of slice) {
            if (typeof item === "number") this.settle(item);
            else this.settle(item[0], new FirehoseNotWritten(item[1]));
        }
        if (this.waiting.size < this.maxInFlight) for (const wake of this.admitWaiters.splice(0)) wake();
        if (this.toSettle.length > 0) {
            this.settleScheduled = true;
            setImmediate(() => {
                this.settleScheduled = false;
                this.settleSlice();
            });
        }
        this.setRef();
    }

    private settle(id: number, error?: FirehoseNotWritten): void {
        const batch = this.waiting.get(id);
        if (!batch) return;
        this.waiting.delete(id);
        const index = id - batch.firstId;
        batch.errors[index] = error;
        try {
            batch.onSettled?.(index, error);
        } catch (err) {
            // The caller's bug must not stop the settling of the other records.
            this.log.warn(
                `firehose ${this.options.firehose.streamName}: a record's settle callback failed: ${(err as Error).stack ?? err}`,
            );
        }
        if (--batch.left === 0) batch.resolve(batch.errors);
    }

    /** The thread died (a defect): its records were never confirmed, so they stay in the bus's journal. */
    private fail(err: Error): void {
        this.log.warn(
            `firehose ${this.options.firehose.streamName}: the delivery thread failed (${err.stack ?? err}); ` +
                "its records stay in the journal and are written at the next start",
        );
        this.closed = true;
        const error = new FirehoseNotWritten(`the delivery thread failed: ${err.message}`);
        for (const id of [...this.waiting.keys()]) this.settle(id, error);
        for (const call of this.calls.values()) call({ notWritten: 0, problems: [error.message] });
        this.calls.clear();
        for (const wake of this.admitWaiters.splice(0)) wake();
    }

    /** Keeps the process alive only while the thread owes an answer. */
    private setRef(): void {
        if (this.waiting.size > 0 || this.calls.size > 0) this.worker.ref();
        else this.worker.unref();
    }

    private call(t: "flush" | "close"): Promise<{ notWritten: number; problems: string[] } | undefined> {
        if (this.closed && t === "flush") return Promise.resolve(undefined);
        this.sendPuts();
        const call = this.nextId++;
        return new Promise((resolve) => {
            this.calls.set(call, resolve);
            this.setRef();
            this.worker.postMessage({ t, call } satisfies ToThread);
        });
    }

    private async settled(): Promise<void> {
        while (this.toSettle.length > 0 || this.settleScheduled) await new Promise((resolve) => setImmediate(resolve));
    }

    /** Resolves when fewer than maxInFlightRecords records wait for their object (PutEvents waits on it). */
    admit(): Promise<void> | undefined {
        if (this.waiting.size < this.maxInFlight || this.closed) return undefined;
        void this.flush();
        return new Promise((resolve) => this.admitWaiters.push(resolve));
    }

    /** Records put and not yet written. */
    get inFlightRecords(): number {
        return this.waiting.size;
    }

    /** Records buffered and not yet handed to a delivery (as the thread last reported, plus those it has not received yet). */
    get pendingRecords(): number {
        return this.remote.buffered + this.putCount - this.remote.received;
    }

    /** Records whose object could not be written yet (waiting for a retry). */
    get parkedRecords(): number {
        return this.remote.parked;
    }

    /** Resolves as soon as a record is put. */
    whenBuffered(): Promise<void> {
        if (this.pendingRecords > 0) return Promise.resolve();
        return new Promise((resolve) => this.bufferedWaiters.push(resolve));
    }

    /** Delivers what is buffered now (and retries what waits for a retry); resolves when that is done. */
    async flush(): Promise<void> {
        this.sinceFlush = 0;
        await this.call("flush");
    }

    /** Writes the buffer, tries what waits once more, stops the thread; records not written are rejected. */
    async close(): Promise<{ notWritten: number; problems: string[] }> {
        const result = this.closed ? undefined : await this.call("close");
        this.closed = true;
        const error = new FirehoseNotWritten(
            result?.problems[0] ?? `firehose ${this.options.firehose.streamName} closed before writing it`,
        );
        for (const id of [...this.waiting.keys()]) this.settle(id, error);
        await this.worker.terminate();
        return result ?? { notWritten: 0, problems: [] };
    }
}
