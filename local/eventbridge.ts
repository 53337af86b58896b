/**
 * An EventBridge event bus: PutEvents with its own validation and per-entry results, the program's rules
 * matched by the pattern engine, target input (InputPath / input transformer), each target's retry
 * policy, and a dead-letter store (`<data-dir>/dlq/<rule>.jsonl`) for events that exhaust it.
 *
 * PutEvents reports an entry as accepted only once it is in the journal (`local/journal.ts`, under
 * `<data-dir>/eventbridge/journal/`), written and fsynced; an entry that cannot be journaled fails with
 * the retryable `InternalFailure`. An event leaves the journal when every target has it, so a crash, a
 * failing disk or a stop with deliveries waiting for a retry loses nothing: the next start resumes them.
 */
import { randomUUID } from "node:crypto";
import { existsSync, readdirSync, readFileSync, unlinkSync } from "node:fs";
import * as path from "node:path";
import { compilePattern, type CompiledPattern } from "../event-pattern";
import { compactJson } from "../pipeline/json-text";
import { isJsonObject } from "../pipeline/json-value";
import { MAX_ENTRIES_PER_REQUEST, PUT_EVENTS_MAX_BYTES, putEventsEntrySize } from "../pipeline/limits";
import { appendDurable, backoffDelay, describeFsError, fixHint, ProblemLog } from "./fs-util";
import { EventJournal, type JournalCloseReport, type JournalEntry, type RecoveredEntry } from "./journal";
import type { ActivitySink } from "./activity";
import type { Logger } from "./log";
import type { RetryPolicy } from "../pipeline/routes";

// The targets' retry policy is the deployed one (pipeline/routes.ts), field for field.
export type { RetryPolicy } from "../pipeline/routes";

/** An event as EventBridge delivers it to targets. */
export interface BusEvent {
    version: "0";
    id: string;
    "detail-type": string;
    source: string;
    account: string;
    time: string;
    region: string;
    resources: string[];
    detail: unknown;
}

/**
 * What a target's delivery attempt reports. `keep`: the target could not take the event before the bus
 * closed (its storage failed); it stays in the journal for the next start and counts as not written.
 */
export type DeliveryOutcome =
    | { ok: true; detail?: string }
    | { ok: false; retryable: boolean; errorCode: string; errorMessage: string; retryAfterMs?: number }
    | { ok: false; keep: true; reason: string };

/** What a batch target reports of each event: delivered, or kept in the journal for the next start. */
export type BatchOutcome = Extract<DeliveryOutcome, { ok: true } | { keep: true }>;

export interface TargetDefinition {
    id: string;
    arn: string;
    /** Turns the event into the payload sent to the target (InputPath / input transformer); default: the event as JSON. */
    input?: (event: BusEvent) => string;
    retryPolicy: RetryPolicy;
    /** Whether the target has a dead-letter queue (events that exhaust retries go to the store). */
    deadLetter: boolean;
    deliver: (payload: string, event: BusEvent) => Promise<DeliveryOutcome>;
    /**
     * The delivery of many events at once, for a target that takes batches and keeps what it takes until it is
     * stored (local Firehose): one promise per request instead of one per event. Calls `onOutcome` once per payload
     * as soon as that one is known and resolves after the last. An event it could not store, or gave no outcome
     * for, stays in the journal and is delivered at the next start: the bus keeps no payload for a retry while the
     * target buffers (seconds, at thousands of events a second).
     */
    deliverMany?: (payloads: string[], onOutcome: (index: number, outcome: BatchOutcome) => void) => Promise<void>;
}

export interface RuleDefinition {
    name: string;
    eventPattern: object;
    targets: TargetDefinition[];
}

export interface BusSettings {
    name: string;
    region: string;
    accountId: string;
    dataDir: string;
    /** First retry delay; doubles each attempt, with jitter (EventBridge uses exponential backoff). */
    retryBaseMs: number;
    /** Longest delay between two attempts. */
    retryMaxDelayMs: number;
    /** Where accepted events, matches, deliveries and dead letters are reported (the console, /_local/metrics). */
    activity?: ActivitySink;
    /** Awaited before events are journaled, when it returns a promise: a target that falls behind slows acceptance. */
    admit?: () => Promise<void> | undefined;
}

/** A PutEvents error for the whole request (HTTP 400, AWS JSON protocol). */
export interface PutEventsResponse {
    status: number;
    body: string;
}

/** What close() leaves for the next start. */
export interface BusCloseReport extends JournalCloseReport {
    journalDir: string;
    /** Deliveries that were waiting for a retry (a target answering errors): resumed at the next start. */
    waitingForRetry: number;
    /** Deliveries a storage failure kept from finishing (an object or dead letter not written). */
    notWritten: number;
    /** Why they were not written, as logged. */
    problems: string[];
}

/** What earlier versions of the journal kept of an event: the envelope, and the detail as the client wrote it. */
interface LegacyJournaledEvent {
    e: Omit<BusEvent, "detail">;
    d: string;
}

/** The largest distance from 1970 a JavaScript Date holds (ms): 100,000,000 days. */
const MAX_DATE_MS = 8.64e15;

/** The last second eventTime formatted (events accepted in the same second share their time text). */
let lastTime = { second: NaN, text: "" };

/** EventBridge's time format: seconds precision, UTC. */
function eventTime(ms: number): string {
    const second = Math.floor(ms / 1000);
    if (second !== lastTime.second) lastTime = { second, text: new Date(second * 1000).toISOString().replace(/\.\d{3}Z$/, "Z") };
    return lastTime.text;
}

/** The first unpaired UTF-16 surrogate in a string (index), or -1. */
export function unpairedSurrogateAt(text: string): number {
    const match = /\p{Cs}/u.exec(text);
    return match ? match.index : -1;
}

/**
 * The detail text of each event, compacted but otherwise as sent: a target that receives the whole event
 * gets the client's numbers exactly (JavaScript would turn 12345678901234567890 into 12345678901234567000).
 * The parsed `detail` serves pattern matching and input transformers.
 */
const detailTexts = new WeakMap<BusEvent, string>();

/** The event as JSON, its detail as the client wrote it. */
export function serializeEvent(event: BusEvent): string {
    const text = detailTexts.get(event);
    if (text === undefined) return JSON.stringify(event);
    const { detail: _detail, ...envelope } = event;
    return `${JSON.stringify(envelope).slice(0, -1)},"detail":${text}}`;
}

/** The inverse of serializeEvent (the detail comes last, so its text is what follows `,"detail":`). */
export function parseSerializedEvent(text: string): BusEvent | undefined {
    const at = text.indexOf(',"detail":');
    if (at < 0 || !text.endsWith("}")) return undefined;
    try {
        const envelope = JSON.parse(text.slice(0, at) + "}") as Omit<BusEvent, "detail">;
        const detailText = text.slice(at + ',"detail":'.length, -1);
        const event = { ...envelope, detail: JSON.parse(detailText) } as BusEvent;
        detailTexts.set(event, compactJson(detailText));
        return typeof event.id === "string" ? event : undefined;
    } catch {
        return undefined;
    }
}

type Delivery = { rule: RuleDefinition; target: TargetDefinition };

/** A target that could not be reached or answered nothing usable: retryable, as EventBridge treats a client-side error. */
export function clientError(errorMessage: string): DeliveryOutcome {
    return { ok: false, retryable: true, errorCode: "SDK_CLIENT_ERROR", errorMessage };
}

const targetKey = (rule: string, target: string) => `${rule}/${target}`;

export class LocalEventBus {
    private readonly rules: Array<{ rule: RuleDefinition; pattern: CompiledPattern }>;
    private readonly targets = new Map<string, Delivery>();
    private readonly inFlight = new Set<Promise<void>>();
    private readonly sleepers = new Set<() => void>();
    private closing = false;
    readonly journal: EventJournal;
    private readonly problems: ProblemLog;
    private readonly left = { retry: 0, notWritten: 0, reasons: new Set<string>() };
    /** Counters for the summary and tests. */
    readonly stats = { accepted: 0, failedEntries: 0, delivered: 0, retried: 0, deadLettered: 0 };

    constructor(
        readonly settings: BusSettings,
        rules: RuleDefinition[],
        private readonly log: Logger,
        private readonly now: () => number = Date.now,
    ) {
        this.rules = rules.map((rule) => ({ rule, pattern: compilePattern(rule.eventPattern) }));
        for (const rule of rules) for (const target of rule.targets) this.targets.set(targetKey(rule.name, target.id), { rule, target });
        this.journal = new EventJournal(
            {
                dir: path.join(settings.dataDir, "eventbridge", "journal"),
                retryBaseMs: settings.retryBaseMs,
                retryMaxMs: settings.retryMaxDelayMs,
            },
            log,
        );
        this.problems = new ProblemLog(log);
    }

    get arn(): string {
        return `arn:aws:events:${this.settings.region}:${this.settings.accountId}:event-bus/${this.settings.name}`;
    }

    /** The rules' names, in the order they were given. */
    ruleNames(): string[] {
        return this.rules.map((r) => r.rule.name);
    }

    ruleArn(rule: string): string {
        return `arn:aws:events:${this.settings.region}:${this.settings.accountId}:rule/${this.settings.name}/${rule}`;
    }

    /**
     * Resumes the deliveries previous runs left in the journal (and in the files of earlier versions of
     * local mode). Returns the number of events resumed now; a segment that cannot be opened yet is
     * resumed as soon as it can.
     */
    async recover(): Promise<number> {
        // The journal first: what is imported next is appended to it and must not be resumed twice.
        const resumed = this.journal.recover((entries) => {
            for (const entry of entries) this.resume(entry);
        });
        if (resumed > 0) this.log.info(`eventbridge resumed ${resumed} events a previous run had not finished delivering`);
        return resumed + (await this.importLegacyPending());
    }

    private resume(entry: RecoveredEntry): void {
        let event: BusEvent | undefined;
        try {
            event = parseSerializedEvent(entry.text);
            if (!event) {
                const { e, d } = entry.data as LegacyJournaledEvent;
                event = { ...e, detail: JSON.parse(d) } as BusEvent;
                detailTexts.set(event, d);
            }
        } catch (err) {
            // Not something this journal writes; kept in the file for a person to look at, never deleted.
            this.log.warn(
                `eventbridge: journal entry ${entry.id} in ${this.journal.dir} is unreadable (${(err as Error).message}); it stays there`,
            );
            return;
        }
        for (const key of entry.targets) {
            const found = this.targets.get(key);
            if (!found) {
                const [rule] = key.split("/");
                this.track(
                    this.deadLetter(
                        rule,
                        undefined,
                        key,
                        event,
                        "RULE_OR_TARGET_GONE",
                        "The rule or target no longer exists.",
                        entry.attempts[key] ?? 0,
                    ).then((stored) => this.settle(event, key, stored ? "done" : "not-written")),
                );
                continue;
            }
            this.track(this.deliverWithRetries(found.rule, found.target, event, entry.attempts[key] ?? 0, entry.acceptedAt));
        }
    }

    /**
     * Journals events serialized by serializeEvent for one target (Firehose records an earlier version of
     * local mode spooled), then dispatches them. Returns how many were taken.
     */
    async adoptSerialized(payloads: string[], rule: string, target: string): Promise<number> {
        const events = payloads.map(parseSerializedEvent).filter((e): e is BusEvent => e !== undefined);
        const entries = events.map((event) => this.journalEntry(event.id, serializeEvent(event), [targetKey(rule, target)]));
        await this.journal.append(entries);
        for (const entry of entries) this.resume({ ...entry, data: undefined, attempts: {} });
        return events.length;
    }

    /** `<data-dir>/eventbridge/pending.jsonl` (and `.resuming` copies) of earlier versions: moved into the journal. */
    private async importLegacyPending(): Promise<number> {
        const dir = path.join(this.settings.dataDir, "eventbridge");
        if (!existsSync(dir)) return 0;
        let count = 0;
        for (const name of readdirSync(dir).filter((n) => /^pending\.jsonl(\..+\.resuming)?$/.test(n))) {
            const file = path.join(dir, name);
            const byTarget = new Map<string, string[]>();
            for (const line of readFileSync(file, "utf8").split("\n")) {
                let saved: { rule: string; target: string; event: BusEvent; detailText?: string };
                try {
                    saved = JSON.parse(line);
                } catch {
                    continue;
                }
                const { detail, ...envelope } = saved.event;
                const text = `${JSON.stringify(envelope).slice(0, -1)},"detail":${saved.detailText ?? JSON.stringify(detail)}}`;
                byTarget.set(targetKey(saved.rule, saved.target), [...(byTarget.get(targetKey(saved.rule, saved.target)) ?? []), text]);
            }
            try {
                for (const [key, texts] of byTarget) {
                    const [rule, target] = key.split("/");
                    count += await this.adoptSerialized(texts, rule, target);
                }
                unlinkSync(file);
            } catch (err) {
                this.log.warn(
                    `eventbridge: cannot move ${file} into the journal (${(err as Error).message}); it stays there for the next start`,
                );
            }
        }
        return count;
    }

    /**
     * PutEvents over the AWS JSON protocol: `body` is the request as sent (a string, which may not even be
     * JSON when a mapping template produced something broken). Resolves once every entry reported as
     * accepted is journaled.
     */
    async putEvents(body: string): Promise<PutEventsResponse> {
        const entries = this.validateRequest(body);
        if (!Array.isArray(entries)) return entries;
        const results: Array<Record<string, string>> = [];
        const accepted: Array<{ index: number; event: BusEvent; serialized: string; deliveries: Delivery[] }> = [];
        entries.forEach((raw, index) => {
            const outcome = this.acceptEntry(raw);
            if ("ErrorCode" in outcome) {
                results[index] = outcome;
                return;
            }
            results[index] = { EventId: outcome.id };
            // An event no rule matches is accepted and goes nowhere, as on EventBridge: nothing to journal.
            const deliveries = this.matchingTargets(outcome);
            if (deliveries.length > 0) accepted.push({ index, event: outcome, serialized: serializeEvent(outcome), deliveries });
            else this.report(outcome, []);
        });
        if (accepted.length > 0) await this.settings.admit?.();
        try {
            await this.journal.append(
                accepted.map(({ event, serialized, deliveries }) =>
                    this.journalEntry(
                        event.id,
                        serialized,
                        deliveries.map((d) => targetKey(d.rule.name, d.target.id)),
                    ),
                ),
            );
        } catch (err) {
            for (const { index } of accepted) {
                results[index] = {
                    ErrorCode: "InternalFailure",
                    ErrorMessage: `The event was not stored: local mode cannot write its journal (${describeFsError((err as { cause?: unknown }).cause ?? err)}). Nothing of it was kept; send it again.`,
                };
            }
            accepted.length = 0;
        }
        const byTarget = new Map<string, { delivery: Delivery; events: BusEvent[]; serialized: string[] }>();
        for (const { event, serialized, deliveries } of accepted) {
            this.report(event, deliveries);
            for (const delivery of deliveries) {
                const key = targetKey(delivery.rule.name, delivery.target.id);
                const group = byTarget.get(key);
                if (group) {
                    group.events.push(event);
                    group.serialized.push(serialized);
                } else byTarget.set(key, { delivery, events: [event], serialized: [serialized] });
            }
        }
        for (const { delivery, events, serialized } of byTarget.values()) this.deliverAll(delivery, events, serialized);
        const failed = results.filter((r) => "ErrorCode" in r).length;
        this.stats.accepted += entries.length - failed;
        this.stats.failedEntries += failed;
        return { status: 200, body: JSON.stringify({ Entries: results, FailedEntryCount: failed }) };
    }

    /** The request's entries, or the error PutEvents answers for the whole request. */
    private validateRequest(body: string): Array<Record<string, unknown>> | PutEventsResponse {
        const error = (type: string, message: string, status = 400): PutEventsResponse => ({
            status,
            body: JSON.stringify({ __type: type, message }),
        });
        let request: unknown;
        try {
            request = JSON.parse(body);
        } catch {
            return error("SerializationException", "Could not parse the request body as JSON.");
        }
        if (!isJsonObject(request) || !Array.isArray(request.Entries)) {
            return error(
                "ValidationException",
                "1 validation error detected: Value null at 'entries' failed to satisfy constraint: Member must not be null",
            );
        }
        const entries = request.Entries as unknown[];
        if (entries.length < 1) {
            return error(
                "ValidationException",
                "1 validation error detected: Value '[]' at 'entries' failed to satisfy constraint: Member must have length greater than or equal to 1",
            );
        }
        if (entries.length > MAX_ENTRIES_PER_REQUEST) {
            return error(
                "ValidationException",
                `1 validation error detected: Value at 'entries' failed to satisfy constraint: Member must have length less than or equal to ${MAX_ENTRIES_PER_REQUEST}`,
            );
        }
        let total = 0;
        for (const entry of entries) {
            if (!isJsonObject(entry)) return error("SerializationException", "Each entry must be an object.");
            for (const field of ["Source", "DetailType", "Detail", "EventBusName"]) {
                if (entry[field] !== undefined && typeof entry[field] !== "string") {
                    return error("SerializationException", `${field} must be a string.`);
                }
            }
            if (entry.Resources !== undefined && (!Array.isArray(entry.Resources) || entry.Resources.some((r) => typeof r !== "string"))) {
                return error("SerializationException", "Resources must be a list of strings.");
            }
            total += putEventsEntrySize({
                Time: entry.Time,
                Source: (entry.Source as string | undefined) ?? "",
                DetailType: (entry.DetailType as string | undefined) ?? "",
                Detail: entry.Detail as string | undefined,
                Resources: entry.Resources as string[] | undefined,
            });
        }
        if (total > PUT_EVENTS_MAX_BYTES) {
            return error("ValidationException", "Total size of the entries in the request is over the limit.");
        }
        return entries as Array<Record<string, unknown>>;
    }

    /** The event an entry makes, or the entry's error. */
    private acceptEntry(entry: Record<string, unknown>): BusEvent | { ErrorCode: string; ErrorMessage: string } {
        const source = entry.Source as string | undefined;
        const detailType = entry.DetailType as string | undefined;
        const detailText = entry.Detail as string | undefined;
        if (!source)
            return { ErrorCode: "InvalidArgument", ErrorMessage: "Parameter Source is not valid. Reason: Source is a required argument." };
        if (!detailType)
            return {
                ErrorCode: "InvalidArgument",
                ErrorMessage: "Parameter DetailType is not valid. Reason: DetailType is a required argument.",
            };
        if (detailText === undefined)
            return { ErrorCode: "InvalidArgument", ErrorMessage: "Parameter Detail is not valid. Reason: Detail is a required argument." };
        const bus = (entry.EventBusName as string | undefined) || "default";
        if (bus !== this.settings.name && bus !== this.arn) {
            return { ErrorCode: "NotFoundException", ErrorMessage: `Event bus ${bus} does not exist.` };
        }
        // Text that is not Unicode cannot be stored as UTF-8 without changing it: refuse it rather than
        // replace it with U+FFFD (JSON must be UTF-8: RFC 8259 section 8.1; I-JSON forbids surrogates).
        const lone = unpairedSurrogateAt(detailText);
        if (lone >= 0) {
            const unit = detailText.charCodeAt(lone).toString(16).toUpperCase();
            return {
                ErrorCode: "MalformedDetail",
                ErrorMessage:
                    `Detail is malformed: character ${lone} is an unpaired UTF-16 surrogate (U+${unit}), which is not Unicode text ` +
                    "(bytes that are not UTF-8 in the request arrive as such). Send the event as valid UTF-8.",
            };
        }
        let detail: unknown;
        try {
            detail = JSON.parse(detailText);
        } catch {
            return { ErrorCode: "MalformedDetail", ErrorMessage: "Detail is malformed." };
        }
        if (!isJsonObject(detail)) return { ErrorCode: "MalformedDetail", ErrorMessage: "Detail is malformed." };
        let time = this.now();
        if (entry.Time !== undefined && entry.Time !== null) {
            const t = typeof entry.Time === "number" ? entry.Time * 1000 : Date.parse(String(entry.Time));
            if (Number.isFinite(t) && Math.abs(t) <= MAX_DATE_MS) time = t; // beyond it, Date cannot format the time
        }
        const event: BusEvent = {
            version: "0",
            id: randomUUID(),
            "detail-type": detailType,
            source,
            account: this.settings.accountId,
            time: eventTime(time),
            region: this.settings.region,
            resources: (entry.Resources as string[] | undefined) ?? [],
            detail,
        };
        detailTexts.set(event, compactJson(detailText));
        return event;
    }

    /** The journal keeps the event as serializeEvent writes it (the detail as the client wrote it, last). */
    private journalEntry(id: string, serialized: string, targets: string[]): JournalEntry {
        return { id, acceptedAt: this.now(), targets, text: serialized };
    }

    /** Tells the activity feed (console, /_local/metrics) of an accepted event and the rules it matched. */
    private report(event: BusEvent, deliveries: Delivery[]): void {
        const activity = this.settings.activity;
        if (!activity) return;
        activity.emit({ type: "event", event, detailText: detailTexts.get(event) });
        for (const rule of new Set(deliveries.map((d) => d.rule.name))) activity.emit({ type: "match", eventId: event.id, rule });
    }

    /** The targets of every rule the event matches. */
    private matchingTargets(event: BusEvent): Delivery[] {
        const out: Delivery[] = [];
        for (const { rule, pattern } of this.rules) {
            if (pattern.matches(event)) for (const target of rule.targets) out.push({ rule, target });
        }
        return out;
    }

    private track(promise: Promise<void>): void {
        const tracked = promise
            .catch((err) => this.log.warn(`eventbridge delivery crashed: ${(err as Error).stack ?? err}`))
            .finally(() => this.inFlight.delete(tracked));
        this.inFlight.add(tracked);
    }

    /** Records how a delivery ended: finished (journal mark), or left in the journal for the next start. */
    private settle(event: BusEvent, key: string, how: "done" | "retry" | "not-written", attempts = 0, reason?: string): void {
        if (how === "done") {
            this.journal.markDone(event.id, key);
            return;
        }
        this.journal.noteAttempts(event.id, key, attempts);
        if (how === "retry") this.left.retry++;
        else this.keep(reason);
    }

    /** A delivery the target could not store: it stays in the journal, counted as not written. */
    private keep(reason?: string): void {
        this.left.notWritten++;
        if (reason) this.left.reasons.add(reason);
    }

    /** Starts the deliveries of a request's events to one target: together when the target takes batches. */
    private deliverAll({ rule, target }: Delivery, events: BusEvent[], serialized: string[]): void {
        const firstAttemptAt = this.now();
        if (!target.deliverMany || target.input) {
            for (const event of events) this.track(this.deliverWithRetries(rule, target, event, 0, firstAttemptAt));
            return;
        }
        // While the target buffers (seconds) the batch keeps only the events' ids.
        const ids = events.map((e) => e.id);
        const reported = new Array<boolean>(ids.length).fill(false);
        const onOutcome = (i: number, outcome: BatchOutcome) => {
            if (reported[i]) return;
            reported[i] = true;
            try {
                if (outcome.ok) this.delivered(rule, target, ids[i], 1, outcome);
                else this.keep(outcome.reason);
            } catch (err) {
                // One event's bookkeeping failing must not leave the others of the request unsettled.
                this.log.warn(`eventbridge rule ${rule.name} -> ${target.id}: event ${ids[i]} crashed: ${(err as Error).stack ?? err}`);
            }
        };
        const rest = (reason: string) => reported.forEach((done, i) => done || onOutcome(i, { ok: false, keep: true, reason }));
        this.track(
            target.deliverMany(serialized, onOutcome).then(
                () => rest(`${target.id} gave no outcome for this event`),
                (err: Error) => rest(`${target.id} failed: ${err.message}`),
            ),
        );
    }

    /** A delivery that succeeded: its journal mark, the counters, the activity feed and the log. */
    private delivered(
        rule: RuleDefinition,
        target: TargetDefinition,
        eventId: string,
        attempts: number,
        outcome: { detail?: string },
        payload?: string,
    ): void {
        this.stats.delivered++;
        this.journal.markDone(eventId, targetKey(rule.name, target.id));
        this.settings.activity?.emit({
            type: "delivery",
            eventId,
            rule: rule.name,
            target: target.id,
            attempts,
            detail: outcome.detail,
            payload: target.input ? payload : undefined,
        });
        if (this.log.quiet) return;
        this.log.info(
            `eventbridge rule ${rule.name} -> ${target.id}: delivered event ${eventId}${outcome.detail ? ` (${outcome.detail})` : ""}${attempts > 1 ? ` after ${attempts} attempts` : ""}`,
        );
    }

    /**
     * Attempts a delivery until it succeeds, is given up (dead letter) or the bus stops.
     */
    private async deliverWithRetries(
        rule: RuleDefinition,
        target: TargetDefinition,
        event: BusEvent,
        attemptsSoFar: number,
        firstAttemptAt: number,
    ): Promise<void> {
        const key = targetKey(rule.name, target.id);
        const giveUp = async (errorCode: string, errorMessage: string, retries: number, exhausted?: string) => {
            const stored = await this.deadLetter(rule.name, target, target.arn, event, errorCode, errorMessage, retries, exhausted);
            this.settle(event, key, stored ? "done" : "not-written", retries + 1, stored ? undefined : `dead-letter store of ${rule.name}`);
        };
        let payload: string;
        try {
            payload = target.input ? target.input(event) : serializeEvent(event);
        } catch (err) {
            return giveUp("INPUT_TRANSFORMATION_FAILED", (err as Error).message, attemptsSoFar);
        }
        let attempts = attemptsSoFar;
        for (;;) {
            attempts++;
            const outcome = await this.attempt(target, payload, event);
            if (outcome.ok) return this.delivered(rule, target, event.id, attempts, outcome, payload);
            if ("keep" in outcome) return this.settle(event, key, "not-written", attempts - 1, outcome.reason);
            const retriesUsed = attempts - 1;
            if (!outcome.retryable) return giveUp(outcome.errorCode, outcome.errorMessage, retriesUsed);
            if (retriesUsed >= target.retryPolicy.maximumRetryAttempts)
                return giveUp(outcome.errorCode, outcome.errorMessage, retriesUsed, "MaximumRetryAttempts");
            const backoff = Math.min(this.settings.retryMaxDelayMs, this.settings.retryBaseMs * 2 ** retriesUsed);
            const delay = outcome.retryAfterMs ?? Math.round(backoff / 2 + Math.random() * (backoff / 2));
            if (this.now() - firstAttemptAt + delay > target.retryPolicy.maximumEventAgeInSeconds * 1000) {
                return giveUp(outcome.errorCode, outcome.errorMessage, retriesUsed, "MaximumEventAgeInSeconds");
            }
            this.stats.retried++;
            this.settings.activity?.emit({
                type: "retry",
                eventId: event.id,
                rule: rule.name,
                target: target.id,
                attempt: attempts,
                errorCode: outcome.errorCode,
                errorMessage: outcome.errorMessage,
                delayMs: delay,
            });
            this.log.info(
                `eventbridge rule ${rule.name} -> ${target.id}: ${outcome.errorCode} (${outcome.errorMessage}); retry ${retriesUsed + 1} in ${delay} ms`,
            );
            const woken = await this.sleep(delay);
            if (woken || this.closing) {
                // Stopping: the delivery stays in the journal, with its attempts, for the next run.
                this.settle(event, key, "retry", attempts);
                this.log.info(
                    `eventbridge rule ${rule.name} -> ${target.id}: event ${event.id} kept in the journal for the next run (retry pending)`,
                );
                return;
            }
        }
    }

    private async attempt(target: TargetDefinition, payload: string, event: BusEvent): Promise<DeliveryOutcome> {
        try {
            return await target.deliver(payload, event);
        } catch (err) {
            return clientError((err as Error).message);
        }
    }

    /** Sleeps; resolves true if woken early by close(). */
    private sleep(ms: number): Promise<boolean> {
        if (this.closing) return Promise.resolve(true);
        return new Promise((resolve) => {
            const wake = () => {
                clearTimeout(timer);
                this.sleepers.delete(wake);
                resolve(true);
            };
            const timer = setTimeout(() => {
                this.sleepers.delete(wake);
                resolve(false);
            }, ms);
            this.sleepers.add(wake);
        });
    }

    /**
     * Writes the SQS message EventBridge would send to the dead-letter queue. Resolves true once it is
     * stored (or dropped: a target without a dead-letter queue), false when the bus closed before the store
     * could be written (the event then stays in the journal). Write failures are retried with backoff.
     */
    private async deadLetter(
        rule: string,
        target: TargetDefinition | undefined,
        targetArn: string,
        event: BusEvent,
        errorCode: string,
        errorMessage: string,
        retryAttempts: number,
        exhausted?: string,
    ): Promise<boolean> {
        if (target && !target.deadLetter) {
            this.log.warn(
                `eventbridge ${rule}: event ${event.id} dropped (${errorCode}: ${errorMessage}); the target has no dead-letter queue`,
            );
            return true;
        }
        // The event as body (its detail as written), the reason as message attributes.
        const rest = JSON.stringify({
            attributes: {
                ERROR_CODE: errorCode,
                ERROR_MESSAGE: errorMessage,
                ...(exhausted ? { EXHAUSTED_RETRY_CONDITION: exhausted } : {}),
                RETRY_ATTEMPTS: String(retryAttempts),
                RULE_ARN: this.ruleArn(rule),
                TARGET_ARN: targetArn,
            },
            sentAt: new Date(this.now()).toISOString(),
        });
        const file = path.join(this.settings.dataDir, "dlq", `${rule}.jsonl`);
        for (let attempt = 1; ; attempt++) {
            try {
                await appendDurable(file, `{"body":${serializeEvent(event)},${rest.slice(1)}\n`);
                this.problems.resolve(file, `eventbridge ${rule}: the dead-letter store ${file} is writable again`);
                break;
            } catch (err) {
                this.problems.report(
                    file,
                    `eventbridge ${rule}: cannot write the dead-letter store ${file}: ${describeFsError(err)}; ` +
                        `its events stay in the journal and the write is retried: ${fixHint(err, file)}`,
                );
                if (this.closing) return false;
                await this.sleep(backoffDelay(attempt, this.settings.retryBaseMs, this.settings.retryMaxDelayMs));
            }
        }
        this.stats.deadLettered++;
        this.settings.activity?.emit({
            type: "dead-letter",
            eventId: event.id,
            rule,
            attributes: (JSON.parse(rest) as { attributes: Record<string, string> }).attributes,
            body: serializeEvent(event),
        });
        this.log.warn(
            `eventbridge ${rule}: event ${event.id} -> dead-letter store (${errorCode}: ${errorMessage}, ${retryAttempts} retries)`,
        );
        return true;
    }

    /** Deliveries that have not finished yet (including those waiting to retry). */
    get pendingDeliveries(): number {
        return this.inFlight.size;
    }

    /** Resolves when every delivery started so far has finished (delivered, dead-lettered or kept). */
    async drain(): Promise<void> {
        while (this.inFlight.size > 0) await Promise.all([...this.inFlight]);
        await this.journal.settle();
    }

    /** Stops retrying: deliveries waiting for a retry stay in the journal; attempts in progress finish. */
    stopRetrying(): void {
        this.closing = true;
        for (const wake of [...this.sleepers]) wake();
    }

    /** Stops retrying, waits for the deliveries in progress, closes the journal; says what is left in it. */
    async close(): Promise<BusCloseReport> {
        this.stopRetrying();
        await this.drain();
        const journal = await this.journal.close();
        return {
            ...journal,
            journalDir: this.journal.dir,
            waitingForRetry: this.left.retry,
            notWritten: this.left.notWritten,
            problems: [...this.left.reasons, ...this.problems.current],
        };
    }
}
