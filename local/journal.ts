/**
 * The event bus's journal: every event PutEvents accepts is written here, and fsynced, before the caller
 * hears that it was accepted; it stays until every target of the event has it (Firehose: its object is
 * in S3; an API destination: a 2xx answer or the dead-letter store).
 *
 * Layout: `<dir>/segment-<n>.jsonl`, one JSON document per line, appended through file descriptors kept
 * open:
 *   {"g":7,"id":"...","at":<ms>,"t":["archive/archive"],"x":{...}}   an accepted event (group 7); x is the caller's text
 *   {"c":7}                                                         group 7 is complete (commit)
 *   {"d":[["<id>","archive/archive"], ...]}                          those deliveries are finished
 *   {"n":[["<id>","zendesk/zendesk",3], ...]}                       attempts made so far (saved at close)
 *
 * Group commit: appends that arrive while a write is in progress are written together by the next one,
 * with one write and one fsync for the whole group, whatever the number of requests and records (marks
 * of finished deliveries are written the same way, and fsynced with the next group or at close). An
 * event counts only if its group's commit line follows it, so a group cut short by a crash or a failed
 * write is ignored at the next start (its callers were told it failed). Finished deliveries are marked in
 * the segment that holds the event; a segment whose events are all finished is deleted.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import type { Logger } from "./log";
import { backoffDelay, describeFsError, fixHint, ProblemLog } from "./fs-util";
import { Histogram } from "./histogram";

/** One event to journal. */
export interface JournalEntry {
    id: string;
    /** When it was accepted (ms): the start of its retry policy's maximum age. */
    acceptedAt: number;
    /** Deliveries it needs, e.g. `archive/archive` (rule/target). */
    targets: string[];
    /**
     * What the bus needs to deliver it again: one JSON text on one line, written as it is (the caller has it
     * serialized already). append() refuses a text with a line break.
     */
    text: string;
}

/** An event a previous run accepted and did not finish delivering. */
export interface RecoveredEntry extends JournalEntry {
    /** `text` parsed: only lines of earlier versions need it (they journaled a JSON value the bus reads as such). */
    data: unknown;
    /** Attempts already made per target (missing: none recorded). */
    attempts: Record<string, number>;
}

export interface JournalSettings {
    dir: string;
    /** A segment that grows past this many bytes is closed for new events. Default 8 MiB. */
    segmentBytes?: number;
    /** Retry timing when a recovered segment cannot be opened. */
    retryBaseMs?: number;
    retryMaxMs?: number;
}

/** What close() found. */
export interface JournalCloseReport {
    /** Accepted events with at least one delivery not finished: the next start delivers them. */
    pendingEvents: number;
    /** Finished deliveries whose mark could not be written: the next start delivers them again. */
    unrecordedDeliveries: number;
    /** Segment files left in the journal directory. */
    files: string[];
}

/** Raised to callers of append() when the group could not be made durable. */
export class JournalWriteError extends Error {
    constructor(
        readonly file: string,
        readonly cause: unknown,
    ) {
        super(`cannot write the journal ${file}: ${describeFsError(cause)}`);
    }
}

interface Segment {
    seq: number;
    file: string;
    fd?: number;
    /** Bytes known to be in the file (the offset a failed write is truncated back to). */
    size: number;
    /** Events of this segment with deliveries not finished. */
    live: number;
    /** Next group number. */
    nextGroup: number;
    /** The last write may have left a partial line: start the next one on a fresh line. */
    needsNewline: boolean;
    /** No longer receives new events (rotated, or a previous run's). */
    sealed: boolean;
    /** Marks of finished deliveries that could not be written. */
    unrecorded: number;
    /** Marks written since the last fsync (made durable by the next group's fsync, or at close). */
    unsynced: boolean;
}

interface QueuedWrite {
    segment: Segment;
    text: string;
    /** Set for appends of events (marks have no waiter). */
    waiter?: { resolve: () => void; reject: (err: Error) => void };
    /** Deliveries this write marks as finished (counted as unrecorded if it fails). */
    marks?: number;
}

/** The targets once each (a Set per live event would cost more memory than the event's other bookkeeping). */
function distinct(targets: string[]): string[] {
    return targets.filter((t, i) => targets.indexOf(t) === i);
}

const SEGMENT_NAME = /^segment-(\d+)\.jsonl$/;

function writeAll(fd: number, buffer: Buffer): Promise<void> {
    return new Promise((resolve, reject) => {
        const step = (offset: number) => {
            fs.write(fd, buffer, offset, buffer.length - offset, null, (err, written) => {
                if (err) return reject(err);
                if (offset + written < buffer.length) return step(offset + written);
                resolve();
            });
        };
        step(0);
    });
}

function fsync(fd: number): Promise<void> {
    return new Promise((resolve, reject) => fs.fsync(fd, (err) => (err ? reject(err) : resolve())));
}

export class EventJournal {
    private readonly segments = new Map<number, Segment>();
    private current: Segment | undefined;
    private nextSeq = 1;
    /** Live events: their segment and the targets not finished (an array: an event has one or two targets). */
    private readonly index = new Map<string, { segment: Segment; pending: string[] }>();
    private queue: QueuedWrite[] = [];
    private writing: Promise<void> | undefined;
    private readonly doneMarks = new Map<Segment, string[][]>();
    private marksScheduled = false;
    private readonly attemptMarks = new Map<Segment, Array<[string, string, number]>>();
    private readonly problems: ProblemLog;
    private readonly blocked: string[] = [];
    private blockedTimer: NodeJS.Timeout | undefined;
    private blockedAttempts = 0;
    private closed = false;
    /** Counters for tests and the bench: groups written, fsyncs issued (one per group of appends), events journaled. */
    readonly stats = { groups: 0, fsyncs: 0, appendedEvents: 0 };
    /** How long each group's fsync took: every answer of the group waits for it, so the disk's slow moments show here. */
    readonly fsyncMs = new Histogram();

    constructor(
        readonly settings: JournalSettings,
        log: Logger,
    ) {
        this.problems = new ProblemLog(log);
    }

    get dir(): string {
        return this.settings.dir;
    }

    /** Events accepted and not finished (this run's and recovered ones). */
    get pendingEvents(): number {
        return this.index.size;
    }

    /**
     * Reads what previous runs left and hands each segment's unfinished events to `resume` once the
     * segment is open for appending (so their progress can be recorded). A segment that cannot be read or
     * opened yet is logged once and retried with backoff; its events wait, they are not delivered twice.
     */
    recover(resume: (entries: RecoveredEntry[]) => void): number {
        let names: string[] = [];
        try {
            names = fs
                .readdirSync(this.dir)
                .filter((n) => SEGMENT_NAME.test(n))
                .sort((a, b) => this.seqOf(a) - this.seqOf(b));
        } catch (err) {
            if ((err as NodeJS.ErrnoException).code !== "ENOENT") {
                this.problems.report(
                    "recover",
                    `eventbridge journal: cannot read ${this.dir}: ${describeFsError(err)}; events a previous run left there wait until it is readable (${fixHint(err, path.join(this.dir, "x"))})`,
                );
            }
        }
        for (const name of names) this.nextSeq = Math.max(this.nextSeq, this.seqOf(name) + 1);
        let resumed = 0;
        for (const name of names) {
            const count = this.recoverSegment(name, resume);
            if (count === undefined) this.blocked.push(name);
            else resumed += count;
        }
        if (this.blocked.length > 0) this.scheduleBlockedRetry(resume);
        return resumed;
    }

    private seqOf(name: string): number {
        const match = SEGMENT_NAME.exec(name);
        if (!match) throw new Error(`journal: ${name} is not a segment name`);
        return Number(match[1]);
    }

    /** Resumes one segment; undefined when it cannot be read or opened yet. */
    private recoverSegment(name: string, resume: (entries: RecoveredEntry[]) => void): number | undefined {
        const file = path.join(this.dir, name);
        let text: string;
        let fd: number;
        try {
            text = fs.readFileSync(file, "utf8");
            fd = fs.openSync(file, "a");
        } catch (err) {
            this.problems.report(
                `open ${file}`,
                `eventbridge journal: cannot open ${file}: ${describeFsError(err)}; its events wait (retried with backoff) so that they are delivered once; ${fixHint(err, file)}`,
            );
            return undefined;
        }
        this.problems.resolve(`open ${file}`, `eventbridge journal: ${file} is readable and writable again; resuming its events`);
        const { entries, maxGroup } = parseSegment(text);
        const segment: Segment = {
            seq: this.seqOf(name),
            file,
            fd,
            size: Buffer.byteLength(text),
            live: 0,
            nextGroup: maxGroup + 1,
            needsNewline: text.length > 0 && !text.endsWith("\n"),
            sealed: true,
            unrecorded: 0,
            unsynced: false,
        };
        this.segments.set(segment.seq, segment);
        for (const entry of entries) this.track(entry.id, segment, entry.targets);
        if (entries.length === 0) {
            this.retire(segment);
            return 0;
        }
        resume(entries);
        return entries.length;
    }

    private scheduleBlockedRetry(resume: (entries: RecoveredEntry[]) => void): void {
        if (this.closed || this.blockedTimer) return;
        const delay = backoffDelay(++this.blockedAttempts, this.settings.retryBaseMs ?? 500, this.settings.retryMaxMs ?? 30_000);
        this.blockedTimer = setTimeout(() => {
            this.blockedTimer = undefined;
            for (const name of this.blocked.splice(0)) {
                if (this.recoverSegment(name, resume) === undefined) this.blocked.push(name);
            }
            if (this.blocked.length > 0) this.scheduleBlockedRetry(resume);
        }, delay);
        this.blockedTimer.unref();
    }

    /**
     * Journals events; resolves once they are written and fsynced, rejects (JournalWriteError) when they
     * could not be: then nothing of them counts at the next start.
     */
    append(entries: JournalEntry[]): Promise<void> {
        if (entries.length === 0) return Promise.resolve();
        if (this.closed) return Promise.reject(new JournalWriteError(this.dir, new Error("the journal is closed")));
        // Each entry must stay one line of JSON: a line recovery cannot parse would drop its event from a committed group.
        const bad = entries.find((e) => !Number.isFinite(e.acceptedAt) || /[\r\n]/.test(e.text));
        if (bad) return Promise.reject(new JournalWriteError(this.dir, new Error(`entry ${bad.id} is not one line of JSON`)));
        const segment = this.currentSegment();
        const group = segment.nextGroup++;
        let text = "";
        // Written by hand so that `x`, the entry's own JSON text, is neither parsed nor escaped; it comes last.
        for (const e of entries)
            text += `{"g":${group},"id":${JSON.stringify(e.id)},"at":${e.acceptedAt},"t":${JSON.stringify(e.targets)},"x":${e.text}}\n`;
        text += `{"c":${group}}\n`;
        return new Promise<void>((resolve, reject) => {
            this.enqueue({
                segment,
                text,
                waiter: {
                    resolve: () => {
                        for (const e of entries) this.track(e.id, segment, e.targets);
                        this.stats.appendedEvents += entries.length;
                        resolve();
                    },
                    reject,
                },
            });
        });
    }

    /**
     * An event now live in `segment` (a count per segment, not a set: the index knows each event's segment). An id
     * journaled again (a legacy import adopts an event once per target) keeps the targets it still had, and its
     * earlier segment stays counted: that segment holds those targets' record until the next start reads it.
     */
    private track(id: string, segment: Segment, targets: string[]): void {
        const previous = this.index.get(id);
        const pending = previous ? distinct([...previous.pending, ...targets]) : distinct(targets);
        if (previous?.segment === segment) segment.live--;
        this.index.set(id, { segment, pending });
        segment.live++;
    }

    /** Records that one delivery of an event is finished (written with the next group, not awaited). */
    markDone(id: string, target: string): void {
        const live = this.index.get(id);
        const at = live ? live.pending.indexOf(target) : -1;
        if (!live || at < 0) return;
        live.pending.splice(at, 1);
        const list = this.doneMarks.get(live.segment);
        if (list) list.push([id, target]);
        else this.doneMarks.set(live.segment, [[id, target]]);
        if (live.pending.length === 0) {
            this.index.delete(id);
            live.segment.live--;
        }
        if (!this.marksScheduled) {
            this.marksScheduled = true;
            setImmediate(() => this.writeMarks());
        }
    }

    /** Records the attempts a delivery has made, so the next start continues its retry policy. */
    noteAttempts(id: string, target: string, attempts: number): void {
        const live = this.index.get(id);
        if (!live) return;
        const list = this.attemptMarks.get(live.segment);
        if (list) list.push([id, target, attempts]);
        else this.attemptMarks.set(live.segment, [[id, target, attempts]]);
    }

    private writeMarks(): void {
        this.marksScheduled = false;
        for (const [segment, marks] of this.doneMarks) {
            this.enqueue({ segment, text: JSON.stringify({ d: marks }) + "\n", marks: marks.length });
        }
        this.doneMarks.clear();
        for (const [segment, marks] of this.attemptMarks) this.enqueue({ segment, text: JSON.stringify({ n: marks }) + "\n" });
        this.attemptMarks.clear();
    }

    private currentSegment(): Segment {
        if (!this.current || this.current.sealed) {
            const seq = this.nextSeq++;
            this.current = {
                seq,
                file: path.join(this.dir, `segment-${String(seq).padStart(6, "0")}.jsonl`),
                size: 0,
                live: 0,
                nextGroup: 1,
                needsNewline: false,
                sealed: false,
                unrecorded: 0,
                unsynced: false,
            };
            this.segments.set(seq, this.current);
        }
        return this.current;
    }

    private enqueue(write: QueuedWrite): void {
        this.queue.push(write);
        this.writing ??= this.writeLoop().catch((err) => {
            // writeGroup handles disk errors itself; anything else is a defect, reported rather than thrown.
            this.writing = undefined;
            this.problems.report("loop", `eventbridge journal: writing failed unexpectedly: ${(err as Error).stack ?? err}`);
        });
    }

    /** Writes what is queued, group after group, until the queue is empty. */
    private async writeLoop(): Promise<void> {
        while (this.queue.length > 0) {
            const batch = this.queue;
            this.queue = [];
            const bySegment = new Map<Segment, QueuedWrite[]>();
            for (const write of batch) {
                const list = bySegment.get(write.segment);
                if (list) list.push(write);
                else bySegment.set(write.segment, [write]);
            }
            for (const [segment, writes] of bySegment) await this.writeGroup(segment, writes);
            for (const segment of bySegment.keys()) if (segment.sealed && segment.live === 0) this.retire(segment);
        }
        this.writing = undefined;
    }

    private async writeGroup(segment: Segment, writes: QueuedWrite[]): Promise<void> {
        const text = (segment.needsNewline ? "\n" : "") + writes.map((w) => w.text).join("");
        const buffer = Buffer.from(text, "utf8");
        try {
            if (segment.fd === undefined) {
                fs.mkdirSync(this.dir, { recursive: true });
                segment.fd = fs.openSync(segment.file, "a", 0o600);
            }
            this.stats.groups++;
            await writeAll(segment.fd, buffer);
            // Appends are answered only after the fsync. Marks alone are not: losing one to a power cut
            // only delivers its event again, so they ride on the next group's fsync (or the one at close).
            if (writes.some((w) => w.waiter)) {
                this.stats.fsyncs++;
                const started = performance.now();
                await fsync(segment.fd);
                this.fsyncMs.add(performance.now() - started);
                segment.unsynced = false;
            } else {
                segment.unsynced = true;
            }
        } catch (err) {
            this.writeFailed(segment, writes, err);
            return;
        }
        segment.size += buffer.length;
        segment.needsNewline = false;
        this.problems.resolve(`write ${segment.file}`, `eventbridge journal: ${segment.file} is writable again; PutEvents accepts events`);
        for (const w of writes) w.waiter?.resolve();
        if (!segment.sealed && segment.size >= (this.settings.segmentBytes ?? 8 * 1024 * 1024)) segment.sealed = true;
    }

    private writeFailed(segment: Segment, writes: QueuedWrite[], err: unknown): void {
        // Cut the partial group off; if even that fails, the missing commit line makes it void anyway.
        if (segment.fd !== undefined) {
            try {
                fs.ftruncateSync(segment.fd, segment.size);
            } catch {
                segment.needsNewline = true;
            }
        }
        this.problems.report(
            `write ${segment.file}`,
            `eventbridge journal: cannot write ${segment.file}: ${describeFsError(err)}; ` +
                `PutEvents answers InternalFailure (retryable) for the events it cannot store until this is fixed: ${fixHint(err, segment.file)}`,
        );
        const error = new JournalWriteError(segment.file, err);
        for (const w of writes) {
            if (w.marks) segment.unrecorded += w.marks;
            w.waiter?.reject(error);
        }
    }

    /** Deletes a segment whose events are all finished (best effort: a leftover is retired at the next start). */
    private retire(segment: Segment): void {
        if (this.queue.some((w) => w.segment === segment) || this.doneMarks.has(segment) || this.attemptMarks.has(segment)) return;
        if (segment.fd !== undefined) {
            try {
                fs.closeSync(segment.fd);
            } catch {
                // already closed
            }
            segment.fd = undefined;
        }
        try {
            fs.unlinkSync(segment.file);
        } catch (err) {
            if ((err as NodeJS.ErrnoException).code !== "ENOENT" && segment.unrecorded === 0) {
                // Harmless: every delivery is marked in it, so the next start only deletes it.
                this.problems.report(
                    `unlink ${this.dir}`,
                    `eventbridge journal: cannot delete ${segment.file}: ${describeFsError(err)}; it holds only finished deliveries, so the next start removes it (${fixHint(err, segment.file)})`,
                );
            }
        }
        this.segments.delete(segment.seq);
        if (this.current === segment) this.current = undefined;
    }

    /** Waits until everything queued is written. */
    async settle(): Promise<void> {
        if (this.doneMarks.size > 0 || this.attemptMarks.size > 0) this.writeMarks();
        while (this.writing) await this.writing;
    }

    /** Writes the remaining marks, deletes finished segments, closes the files. */
    async close(): Promise<JournalCloseReport> {
        await this.settle();
        this.closed = true;
        if (this.blockedTimer) clearTimeout(this.blockedTimer);
        this.blockedTimer = undefined;
        let unrecorded = 0;
        const files: string[] = [...this.blocked.map((n) => path.join(this.dir, n))];
        for (const segment of [...this.segments.values()]) {
            unrecorded += segment.unrecorded;
            if (segment.live === 0) {
                segment.sealed = true;
                this.retire(segment);
                if (!fs.existsSync(segment.file)) continue;
            }
            if (segment.fd !== undefined) {
                if (segment.unsynced) {
                    try {
                        fs.fsyncSync(segment.fd);
                    } catch {
                        // the marks are written; only a power cut could still lose them (then: delivered again)
                    }
                }
                fs.closeSync(segment.fd);
            }
            segment.fd = undefined;
            if (fs.existsSync(segment.file)) files.push(segment.file);
        }
        return { pendingEvents: this.index.size, unrecordedDeliveries: unrecorded, files };
    }
}

/** The unfinished events of a segment's text, and its highest group number. */
export function parseSegment(text: string): { entries: RecoveredEntry[]; maxGroup: number } {
    const groups = new Map<number, RecoveredEntry[]>();
    const committed = new Map<string, RecoveredEntry>();
    let maxGroup = 0;
    for (const line of text.split("\n")) {
        if (line === "") continue;
        let doc: {
            g?: number;
            id?: string;
            at?: number;
            t?: string[];
            x?: unknown;
            c?: number;
            d?: string[][];
            n?: Array<[string, string, number]>;
        };
        try {
            doc = JSON.parse(line);
        } catch {
            continue; // a line cut short by a crash or a failed write: its group has no commit line
        }
        if (typeof doc.c === "number") {
            for (const entry of groups.get(doc.c) ?? []) committed.set(entry.id, entry);
            groups.delete(doc.c);
            maxGroup = Math.max(maxGroup, doc.c);
        } else if (typeof doc.g === "number" && typeof doc.id === "string" && Array.isArray(doc.t)) {
            // `x` comes last: its text is what follows the first `,"x":` (any inside a string would have its quotes escaped).
            const text = line.trimEnd().slice(line.indexOf(',"x":') + 5, -1);
            const entry: RecoveredEntry = { id: doc.id, acceptedAt: doc.at ?? 0, targets: doc.t, text, data: doc.x, attempts: {} };
            const list = groups.get(doc.g);
            if (list) list.push(entry);
            else groups.set(doc.g, [entry]);
            maxGroup = Math.max(maxGroup, doc.g);
        } else if (Array.isArray(doc.d)) {
            for (const [id, target] of doc.d) {
                const entry = committed.get(id);
                if (entry) entry.targets = entry.targets.filter((t) => t !== target);
            }
        } else if (Array.isArray(doc.n)) {
            for (const [id, target, attempts] of doc.n) {
                const entry = committed.get(id);
                if (entry) entry.attempts[target] = attempts;
            }
        }
    }
    return { entries: [...committed.values()].filter((e) => e.targets.length > 0), maxGroup };
}
