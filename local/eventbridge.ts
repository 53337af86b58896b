/**
 * An EventBridge event bus: PutEvents with its own validation and per-entry results, the program's rules
 * matched by the pattern engine, target input (InputPath / input transformer), each target's retry
 * policy, and a dead-letter store (`<data-dir>/dlq/<rule>.jsonl`) for events that exhaust it.
 *
 * Deliveries waiting for a retry when the bus closes are written to `<data-dir>/eventbridge/pending.jsonl`
 * and resumed at the next start, so stopping local mode loses nothing.
 */
import { randomUUID } from "node:crypto";
import { appendFileSync, existsSync, mkdirSync, readFileSync, renameSync, unlinkSync } from "node:fs";
import * as path from "node:path";
import { compilePattern, type CompiledPattern } from "../event-pattern";
import { compactJson } from "../handlers/firehose-transform";
import { MAX_ENTRIES_PER_REQUEST, PUT_EVENTS_MAX_BYTES, putEventsEntrySize } from "../pipeline/limits";
import { appendJsonLine } from "./fs-util";
import type { ActivitySink } from "./activity";
import type { Logger } from "./log";

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

/** What a target's delivery attempt reports. */
export type DeliveryOutcome =
    | { ok: true; detail?: string }
    | { ok: false; retryable: boolean; errorCode: string; errorMessage: string; retryAfterMs?: number };

export interface RetryPolicy {
    maximumRetryAttempts: number;
    maximumEventAgeSeconds: number;
}

export interface TargetDefinition {
    id: string;
    arn: string;
    /** Turns the event into the payload sent to the target (InputPath / input transformer); default: the event as JSON. */
    input?: (event: BusEvent) => string;
    retryPolicy: RetryPolicy;
    /** Whether the target has a dead-letter queue (events that exhaust retries go to the store). */
    deadLetter: boolean;
    deliver: (payload: string, event: BusEvent) => Promise<DeliveryOutcome>;
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
}

interface PendingDelivery {
    rule: string;
    target: string;
    event: BusEvent;
    /** The detail as the client wrote it (see detailTexts). */
    detailText?: string;
    attempts: number;
    firstAttemptAt: number;
}

/** A PutEvents error for the whole request (HTTP 400, AWS JSON protocol). */
export interface PutEventsResponse {
    status: number;
    body: string;
}

/** EventBridge's time format: seconds precision, UTC. */
function eventTime(ms: number): string {
    return new Date(ms).toISOString().replace(/\.\d{3}Z$/, "Z");
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
    return value !== null && typeof value === "object" && !Array.isArray(value);
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

export class LocalEventBus {
    private readonly rules: Array<{ rule: RuleDefinition; pattern: CompiledPattern }>;
    private readonly inFlight = new Set<Promise<void>>();
    private readonly sleepers = new Set<() => void>();
    private closing = false;
    private readonly pendingFile: string;
    /** Counters for the summary and tests. */
    readonly stats = { accepted: 0, failedEntries: 0, delivered: 0, retried: 0, deadLettered: 0 };

    constructor(readonly settings: BusSettings, rules: RuleDefinition[], private readonly log: Logger, private readonly now: () => number = Date.now) {
        this.rules = rules.map((rule) => ({ rule, pattern: compilePattern(rule.eventPattern) }));
        this.pendingFile = path.join(settings.dataDir, "eventbridge", "pending.jsonl");
    }

    get arn(): string {
        return `arn:aws:events:${this.settings.region}:${this.settings.accountId}:event-bus/${this.settings.name}`;
    }

    ruleArn(rule: string): string {
        return `arn:aws:events:${this.settings.region}:${this.settings.accountId}:rule/${this.settings.name}/${rule}`;
    }

    /** Re-dispatches deliveries a previous run left pending. */
    resumePending(): number {
        if (!existsSync(this.pendingFile)) return 0;
        const claimed = `${this.pendingFile}.${process.pid}.resuming`;
        renameSync(this.pendingFile, claimed);
        const lines = readFileSync(claimed, "utf8").split("\n").filter((l) => l.trim() !== "");
        for (const line of lines) {
            const pending = JSON.parse(line) as PendingDelivery;
            if (typeof pending.detailText === "string") detailTexts.set(pending.event, pending.detailText);
            const found = this.rules.find((r) => r.rule.name === pending.rule);
            const target = found?.rule.targets.find((t) => t.id === pending.target);
            if (!found || !target) {
                this.deadLetter(pending.rule, target?.arn ?? pending.target, pending.event, "RULE_OR_TARGET_GONE", "The rule or target no longer exists.", pending.attempts);
                continue;
            }
            this.track(this.deliverWithRetries(found.rule, target, pending.event, pending.attempts, pending.firstAttemptAt));
        }
        unlinkSync(claimed);
        if (lines.length > 0) this.log.info(`eventbridge resumed ${lines.length} pending deliveries from the last run`);
        return lines.length;
    }

    /**
     * PutEvents over the AWS JSON protocol: `body` is the request as sent (a string, which may not even be
     * JSON when a mapping template produced something broken).
     */
    putEvents(body: string): PutEventsResponse {
        const error = (type: string, message: string, status = 400): PutEventsResponse =>
            ({ status, body: JSON.stringify({ __type: type, message }) });
        let request: unknown;
        try {
            request = JSON.parse(body);
        } catch {
            return error("SerializationException", "Could not parse the request body as JSON.");
        }
        if (!isPlainObject(request) || !Array.isArray(request.Entries)) {
            return error("ValidationException", "1 validation error detected: Value null at 'entries' failed to satisfy constraint: Member must not be null");
        }
        const entries = request.Entries as unknown[];
        if (entries.length < 1) {
            return error("ValidationException", "1 validation error detected: Value '[]' at 'entries' failed to satisfy constraint: Member must have length greater than or equal to 1");
        }
        if (entries.length > MAX_ENTRIES_PER_REQUEST) {
            return error("ValidationException", `1 validation error detected: Value at 'entries' failed to satisfy constraint: Member must have length less than or equal to ${MAX_ENTRIES_PER_REQUEST}`);
        }
        let total = 0;
        for (const entry of entries) {
            if (!isPlainObject(entry)) return error("SerializationException", "Each entry must be an object.");
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

        const results: Array<Record<string, string>> = [];
        let failed = 0;
        for (const raw of entries as Array<Record<string, unknown>>) {
            const outcome = this.acceptEntry(raw);
            if ("ErrorCode" in outcome) failed++;
            results.push(outcome);
        }
        this.stats.accepted += entries.length - failed;
        this.stats.failedEntries += failed;
        return { status: 200, body: JSON.stringify({ Entries: results, FailedEntryCount: failed }) };
    }

    private acceptEntry(entry: Record<string, unknown>): Record<string, string> {
        const source = entry.Source as string | undefined;
        const detailType = entry.DetailType as string | undefined;
        const detailText = entry.Detail as string | undefined;
        if (!source) return { ErrorCode: "InvalidArgument", ErrorMessage: "Parameter Source is not valid. Reason: Source is a required argument." };
        if (!detailType) return { ErrorCode: "InvalidArgument", ErrorMessage: "Parameter DetailType is not valid. Reason: DetailType is a required argument." };
        if (detailText === undefined) return { ErrorCode: "InvalidArgument", ErrorMessage: "Parameter Detail is not valid. Reason: Detail is a required argument." };
        const bus = (entry.EventBusName as string | undefined) || "default";
        if (bus !== this.settings.name && bus !== this.arn) {
            return { ErrorCode: "NotFoundException", ErrorMessage: `Event bus ${bus} does not exist.` };
        }
        let detail: unknown;
        try {
            detail = JSON.parse(detailText);
        } catch {
            return { ErrorCode: "MalformedDetail", ErrorMessage: "Detail is malformed." };
        }
        if (!isPlainObject(detail)) return { ErrorCode: "MalformedDetail", ErrorMessage: "Detail is malformed." };
        let time = this.now();
        if (entry.Time !== undefined && entry.Time !== null) {
            const t = typeof entry.Time === "number" ? entry.Time * 1000 : Date.parse(String(entry.Time));
            if (Number.isFinite(t)) time = t;
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
        this.settings.activity?.emit({ type: "event", event, detailText: detailTexts.get(event) });
        this.dispatch(event);
        return { EventId: event.id };
    }

    /** Routes an accepted event to the targets of every matching rule (asynchronously, as EventBridge does). */
    private dispatch(event: BusEvent): void {
        for (const { rule, pattern } of this.rules) {
            if (!pattern.matches(event)) continue;
            this.settings.activity?.emit({ type: "match", eventId: event.id, rule: rule.name });
            for (const target of rule.targets) this.track(this.deliverWithRetries(rule, target, event, 0, this.now()));
        }
    }

    private track(promise: Promise<void>): void {
        const tracked = promise.catch((err) => this.log.warn(`eventbridge delivery crashed: ${(err as Error).stack ?? err}`)).finally(() => this.inFlight.delete(tracked));
        this.inFlight.add(tracked);
    }

    private async deliverWithRetries(rule: RuleDefinition, target: TargetDefinition, event: BusEvent, attemptsSoFar: number, firstAttemptAt: number): Promise<void> {
        let payload: string;
        try {
            payload = target.input ? target.input(event) : serializeEvent(event);
        } catch (err) {
            this.deadLetter(rule.name, target.arn, event, "INPUT_TRANSFORMATION_FAILED", (err as Error).message, attemptsSoFar);
            return;
        }
        let attempts = attemptsSoFar;
        for (;;) {
            attempts++;
            let outcome: DeliveryOutcome;
            try {
                outcome = await target.deliver(payload, event);
            } catch (err) {
                outcome = { ok: false, retryable: true, errorCode: "SDK_CLIENT_ERROR", errorMessage: (err as Error).message };
            }
            if (outcome.ok) {
                this.stats.delivered++;
                this.settings.activity?.emit({ type: "delivery", eventId: event.id, rule: rule.name, target: target.id, attempts, detail: outcome.detail, payload: target.input ? payload : undefined });
                this.log.info(`eventbridge rule ${rule.name} -> ${target.id}: delivered event ${event.id}${outcome.detail ? ` (${outcome.detail})` : ""}${attempts > 1 ? ` after ${attempts} attempts` : ""}`);
                return;
            }
            const retriesUsed = attempts - 1;
            const ageMs = this.now() - firstAttemptAt;
            const maxAgeMs = target.retryPolicy.maximumEventAgeSeconds * 1000;
            if (!outcome.retryable) {
                this.deadLetter(rule.name, target.arn, event, outcome.errorCode, outcome.errorMessage, retriesUsed);
                return;
            }
            if (retriesUsed >= target.retryPolicy.maximumRetryAttempts) {
                this.deadLetter(rule.name, target.arn, event, outcome.errorCode, outcome.errorMessage, retriesUsed, "MaximumRetryAttempts");
                return;
            }
            const backoff = Math.min(this.settings.retryMaxDelayMs, this.settings.retryBaseMs * 2 ** retriesUsed);
            const delay = outcome.retryAfterMs ?? Math.round(backoff / 2 + Math.random() * (backoff / 2));
            if (ageMs + delay > maxAgeMs) {
                this.deadLetter(rule.name, target.arn, event, outcome.errorCode, outcome.errorMessage, retriesUsed, "MaximumEventAgeInSeconds");
                return;
            }
            this.stats.retried++;
            this.settings.activity?.emit({ type: "retry", eventId: event.id, rule: rule.name, target: target.id, attempt: attempts, errorCode: outcome.errorCode, errorMessage: outcome.errorMessage, delayMs: delay });
            this.log.info(`eventbridge rule ${rule.name} -> ${target.id}: ${outcome.errorCode} (${outcome.errorMessage}); retry ${retriesUsed + 1} in ${delay} ms`);
            const woken = await this.sleep(delay);
            if (woken || this.closing) {
                // Stopping: keep the delivery on disk for the next run instead of waiting.
                appendJsonLine(this.pendingFile, { rule: rule.name, target: target.id, event, detailText: detailTexts.get(event), attempts, firstAttemptAt } satisfies PendingDelivery);
                this.log.info(`eventbridge rule ${rule.name} -> ${target.id}: event ${event.id} saved for the next run (retry pending)`);
                return;
            }
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

    private deadLetter(rule: string, targetArn: string, event: BusEvent, errorCode: string, errorMessage: string, retryAttempts: number, exhausted?: string): void {
        const target = this.rules.find((r) => r.rule.name === rule)?.rule.targets.find((t) => t.arn === targetArn);
        if (target && !target.deadLetter) {
            this.log.warn(`eventbridge ${rule}: event ${event.id} dropped (${errorCode}: ${errorMessage}); the target has no dead-letter queue`);
            return;
        }
        this.stats.deadLettered++;
        // The SQS message EventBridge sends: the event as body (its detail as written), the reason as message attributes.
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
        mkdirSync(path.dirname(file), { recursive: true });
        appendFileSync(file, `{"body":${serializeEvent(event)},${rest.slice(1)}\n`);
        this.settings.activity?.emit({ type: "dead-letter", eventId: event.id, rule, attributes: (JSON.parse(rest) as { attributes: Record<string, string> }).attributes, body: serializeEvent(event) });
        this.log.warn(`eventbridge ${rule}: event ${event.id} -> dead-letter store (${errorCode}: ${errorMessage}, ${retryAttempts} retries)`);
    }

    /** Deliveries that have not finished yet (including those waiting to retry). */
    get pendingDeliveries(): number {
        return this.inFlight.size;
    }

    /** Resolves when every delivery started so far has finished (delivered, dead-lettered or saved). */
    async drain(): Promise<void> {
        while (this.inFlight.size > 0) await Promise.all([...this.inFlight]);
    }

    /** Stops retrying: attempts in progress finish, deliveries waiting for a retry are saved to disk. */
    async close(): Promise<void> {
        this.closing = true;
        for (const wake of [...this.sleepers]) wake();
        await this.drain();
    }
}
