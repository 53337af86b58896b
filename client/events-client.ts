/**
 * Sends client events to the ingest API (`POST {apiUrl}/event`).
 *
 * Guarantees:
 * - requests respect the API's limits (entries per request, entry length, PutEvents' total size);
 * - an entry the API reported as accepted is never sent again;
 * - only entries that failed with a retryable code are resent, and whole requests only on 429, 5xx
 *   (unless the API says the error is not retryable) and network errors: exponential backoff with full
 *   jitter, waiting at least what `Retry-After` asks;
 * - a 400 for a multi-entry request is split in halves until the invalid entry is isolated, so one bad
 *   entry does not take valid ones down with it;
 * - a 401 refreshes the token once and resends;
 * - every event is stamped, when the app hands it over, with this client's `sessionId` and the next
 *   `sequence` number, kept through every retry (see pipeline/stamping.ts).
 * After a timeout or a network error the client cannot know whether the API published the entries; it
 * resends them with the same `eventId`, so storage can drop the duplicate.
 */
import { DEFAULT_BACKOFF_POLICY, fullJitterDelay, BackoffPolicy } from "./backoff";
import { TokenProvider } from "./cognito";
import { ClientEventsError, ConfigurationError, NetworkError } from "./errors";
import { MAX_SEQUENCE, SESSION_ID_PATTERN } from "../pipeline/stamping";
import { BatchLimits, ClientEvent, DEFAULT_LIMITS, EventCheck, planBatches, PreparedEvent, prepareEvent, randomEventId } from "./events";
import { FetchLike, fetchWithTimeout, isLoopback, readText } from "./http";
import { ApiAnswer, classifyResponse, EntryVerdict } from "./response";

/** Options of {@link EventsClient}. */
export interface EventsClientOptions {
    /** The API's stage URL (`.../event` is appended unless already there). */
    apiUrl: string;
    /** Source of the Cognito token, e.g. a CognitoSession. */
    tokens: TokenProvider;
    /** `Bearer` (default) sends `Authorization: Bearer <token>`; `none` sends the bare token. */
    authScheme?: "Bearer" | "none";
    /** Retry policy; fields default to DEFAULT_BACKOFF_POLICY. */
    retry?: Partial<BackoffPolicy>;
    /** Batch limits; default: the deployed API's. */
    limits?: Partial<BatchLimits>;
    /** Timeout of one request. Default 30 s (API Gateway gives up at 29 s). */
    timeoutMs?: number;
    /** Injected fetch; default: global fetch. */
    fetch?: FetchLike;
    /** Injected sleep; default: setTimeout. */
    sleep?: (ms: number) => Promise<void>;
    /** Injected random in [0, 1); default: Math.random. */
    random?: () => number;
    /** Injected clock (epoch ms); default: Date.now. */
    now?: () => number;
    /** Injected id generator; default: crypto.randomUUID. */
    newId?: () => string;
    /** Called after every HTTP request (metrics, progress). */
    onRequest?: (info: RequestInfo) => void;
    /**
     * The session to continue: a UUID the app keeps per install, and the last sequence number it stamped
     * (save `client.session` after handing events over). Default: a new UUID per client, starting at 1.
     */
    session?: { id: string; lastSequence?: number };
    /**
     * Checks each event before it is sent, e.g. `schemaCheck(validators)` from client/schemas (an optional
     * import); an event it refuses fails with its code (`SchemaViolation`) and is not sent.
     */
    check?: EventCheck;
}

/** What one HTTP request did. */
export interface RequestInfo {
    /** HTTP status, or 0 for a network error or timeout. */
    status: number;
    /** Entries in the request. */
    entries: number;
    /** Entries the API accepted. */
    accepted: number;
    /** Error codes of entries that failed in this request (retryable or not). */
    errorCodes: string[];
    /** Wall time of the request in ms (from `now`). */
    latencyMs: number;
    /** 1 for the first send of these entries. */
    attempt: number;
}

/** An entry the API accepted. */
export interface AcceptedEvent {
    eventId: string;
    eventType: string;
    /** The sequence number stamped on the event. */
    sequence?: number;
    /** EventBridge's id of the published event, when the API returned it. */
    busEventId?: string;
    /** Attempts it took. */
    attempts: number;
}

/** An event the client gave up on. */
export interface FailedEvent {
    eventId: string;
    eventType: string;
    /** The sequence number stamped on the event (absent for a value that is not an object). */
    sequence?: number;
    /** Final error code: a PutEvents entry code, `HTTP<status>`, `NetworkError`, `InvalidEvent`, `EntryTooLarge`, `SchemaViolation`... */
    errorCode: string;
    errorMessage: string;
    attempts: number;
}

/** Outcome of {@link EventsClient.send}: every event given is either accepted or failed. */
export interface SendResult {
    accepted: AcceptedEvent[];
    failed: FailedEvent[];
    /** Entry resends (an entry sent three times counts 2). */
    retried: number;
    /** HTTP requests made. */
    requests: number;
}

interface WorkItem {
    events: PreparedEvent[];
    /** Attempt number of the next send of these events. */
    attempt: number;
    /** Whether a 401 already triggered a token refresh for these events. */
    refreshed: boolean;
    /** These events were sent before (a half of a split request), whatever the attempt number. */
    resent?: boolean;
}

/** The events client; one per signed-in user. Safe to call `send` concurrently. */
export class EventsClient {
    readonly endpoint: string;
    private readonly options: EventsClientOptions;
    private readonly policy: BackoffPolicy;
    private readonly limits: BatchLimits;
    private readonly fetchImpl: FetchLike;
    private readonly sleep: (ms: number) => Promise<void>;
    private readonly random: () => number;
    private readonly now: () => number;
    private readonly newId: () => string;
    private sessionId?: string;
    private lastSequence: number;

    constructor(options: EventsClientOptions) {
        if (!options.apiUrl) throw new ConfigurationError("EventsClient needs apiUrl");
        let url: URL;
        try {
            url = new URL(options.apiUrl);
        } catch {
            throw new ConfigurationError(`apiUrl is not a URL: ${options.apiUrl}`);
        }
        if (url.protocol !== "https:" && !isLoopback(url.hostname)) {
            // Tokens must not travel in clear text, except to a local-mode API on this machine.
            throw new ConfigurationError(`apiUrl must use https (got ${options.apiUrl})`);
        }
        const base = options.apiUrl.replace(/\/+$/, "");
        this.endpoint = base.endsWith("/event") ? base : `${base}/event`;
        this.options = options;
        this.policy = { ...DEFAULT_BACKOFF_POLICY, ...options.retry };
        this.limits = { ...DEFAULT_LIMITS, ...options.limits };
        this.fetchImpl = options.fetch ?? ((input, init) => fetch(input, init));
        this.sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
        this.random = options.random ?? Math.random;
        this.now = options.now ?? Date.now;
        this.newId = options.newId ?? randomEventId;
        const session = options.session;
        if (session !== undefined && (typeof session.id !== "string" || !SESSION_ID_PATTERN.test(session.id))) {
            throw new ConfigurationError(`session.id must be a UUID (got ${JSON.stringify(session.id)})`);
        }
        const last = session?.lastSequence ?? 0;
        if (!Number.isSafeInteger(last) || last < 0 || last >= MAX_SEQUENCE) {
            throw new ConfigurationError(
                `session.lastSequence must be a whole number from 0 (got ${JSON.stringify(session?.lastSequence)})`,
            );
        }
        this.sessionId = session?.id;
        this.lastSequence = last;
    }

    /** This client's session and the last sequence number it stamped: what an app persists to continue it. */
    get session(): { id: string; lastSequence: number } {
        // Made on first use, so a client whose platform lacks crypto.randomUUID fails only when it stamps.
        this.sessionId ??= randomEventId();
        return { id: this.sessionId, lastSequence: this.lastSequence };
    }

    /**
     * Stamps an event handed over now with this session's id and the next sequence number, on a copy. An
     * event already stamped by this session (a resend, or one stamped by EventQueue.track) keeps its stamp.
     */
    stamp(event: ClientEvent): ClientEvent {
        const { id } = this.session;
        const seq = event.sequence;
        if (event.sessionId === id && typeof seq === "number" && Number.isSafeInteger(seq) && seq >= 1 && seq <= this.lastSequence)
            return event;
        return { ...event, sessionId: id, sequence: ++this.lastSequence };
    }

    /**
     * Validates and sends events, in order, in as few requests as the limits allow. Resolves with every event
     * either accepted or failed (invalid events fail with `InvalidEvent`/`EntryTooLarge` and are not sent);
     * rejects only for programming errors.
     */
    async send(events: ClientEvent[]): Promise<SendResult> {
        const result: SendResult = { accepted: [], failed: [], retried: 0, requests: 0 };
        const prepared: PreparedEvent[] = [];
        for (const handed of events) {
            // Stamped at hand-over, before any check: a refused event leaves a gap in the sequence, as a lost one does.
            const event = isObject(handed) ? this.stamp(handed) : handed;
            try {
                prepared.push(prepareEvent(event, this.newId, this.limits, this.options.check));
            } catch (err) {
                if (!(err instanceof ClientEventsError)) throw err;
                result.failed.push({
                    eventId: typeof event?.eventId === "string" ? event.eventId : "",
                    eventType: typeof event?.eventType === "string" ? event.eventType : "",
                    ...(isObject(event) && typeof event.sequence === "number" ? { sequence: event.sequence } : {}),
                    errorCode: err.code,
                    errorMessage: err.message,
                    attempts: 0,
                });
            }
        }
        const queue: WorkItem[] = planBatches(prepared, this.limits).map((batch) => ({
            events: batch,
            attempt: 1,
            refreshed: false,
        }));
        for (let item = queue.shift(); item !== undefined; item = queue.shift()) {
            const follow = await this.sendOnce(item, result);
            queue.unshift(...follow);
        }
        return result;
    }

    /** One request; returns the work left (retries or halves), already delayed by backoff when needed. */
    private async sendOnce(item: WorkItem, result: SendResult): Promise<WorkItem[]> {
        const { events, attempt } = item;
        let token: string;
        try {
            token = await this.options.tokens.getToken();
        } catch (err) {
            // No token, no request: the events fail with the auth error (the caller sees its code).
            this.fail(result, events, authErrorCode(err), (err as Error).message, attempt - 1);
            return [];
        }
        if (attempt > 1 || item.resent) result.retried += events.length;
        result.requests++;
        const started = this.now(); // once the token is in hand: latency covers the HTTP request only
        const report = (status: number, accepted: number, errorCodes: string[]) =>
            this.options.onRequest?.({ status, entries: events.length, accepted, errorCodes, latencyMs: this.now() - started, attempt });

        let answer: ApiAnswer;
        try {
            answer = await this.post(events, token);
        } catch (err) {
            if (!(err instanceof NetworkError)) throw err;
            report(0, 0, ["NetworkError"]);
            return this.retryAll(item, result, "NetworkError", err.message, undefined);
        }
        const verdict = classifyResponse(answer);
        switch (verdict.kind) {
            case "accepted":
                events.forEach((e, i) => result.accepted.push(accepted(e, attempt, verdict.busEventIds[i])));
                report(answer.status, events.length, []);
                return [];
            case "entries":
                return this.settleEntries(item, verdict.entries, result, (accepted, codes) => report(answer.status, accepted, codes));
        }
        report(answer.status, 0, [verdict.code]);
        if (verdict.kind === "refresh" && !item.refreshed) {
            // The token may have expired between the check and the request: refresh once and resend now.
            try {
                await this.options.tokens.getToken({ rejectedToken: token });
            } catch (err) {
                this.fail(result, events, authErrorCode(err), (err as Error).message, attempt);
                return [];
            }
            return [{ events, attempt: attempt + 1, refreshed: true }];
        }
        if (verdict.kind === "split") {
            // Isolate the entry the API refuses; nothing of a 400 request was published, so resending is safe.
            const half = Math.ceil(events.length / 2);
            return [
                { events: events.slice(0, half), attempt, refreshed: item.refreshed, resent: true },
                { events: events.slice(half), attempt, refreshed: item.refreshed, resent: true },
            ];
        }
        if (verdict.kind === "retry") return this.retryAll(item, result, verdict.code, verdict.message, verdict.retryAfterMs);
        this.fail(result, events, verdict.code, verdict.message, attempt);
        return [];
    }

    /** POSTs the entries; rejects with a NetworkError when no answer came. */
    private async post(events: PreparedEvent[], token: string): Promise<ApiAnswer> {
        const response = await fetchWithTimeout(
            this.fetchImpl,
            this.endpoint,
            {
                method: "POST",
                headers: {
                    "Content-Type": "application/json",
                    Authorization: this.options.authScheme === "none" ? token : `Bearer ${token}`,
                },
                body: JSON.stringify({ entries: events.map((e) => ({ entry: e.entry })) }),
            },
            this.options.timeoutMs ?? 30_000,
        );
        const text = await readText(response);
        return {
            status: response.status,
            statusText: response.statusText,
            text,
            retryAfter: response.headers.get("retry-after"),
            entries: events.length,
            now: this.now(),
        };
    }

    /** Records the entries accepted and failed for good; resends the retryable ones after backoff. */
    private async settleEntries(
        item: WorkItem,
        verdicts: EntryVerdict[],
        result: SendResult,
        report: (accepted: number, codes: string[]) => void,
    ): Promise<WorkItem[]> {
        const { events, attempt } = item;
        const retry: PreparedEvent[] = [];
        const codes: string[] = [];
        let acceptedCount = 0;
        const lastAttempt = attempt >= this.policy.maxAttempts;
        verdicts.forEach((v, i) => {
            const event = events[i];
            if (v.accepted) {
                acceptedCount++;
                result.accepted.push(accepted(event, attempt, v.busEventId));
                return;
            }
            codes.push(v.errorCode);
            if (v.retryable && !lastAttempt) retry.push(event);
            else
                this.fail(
                    result,
                    [event],
                    v.errorCode,
                    `${v.errorMessage}${v.retryable ? ` (gave up after ${attempt} attempts)` : ""}`,
                    attempt,
                );
        });
        report(acceptedCount, codes);
        if (retry.length === 0) return [];
        return this.retryAll({ ...item, events: retry }, result, codes[0], "entries failed", undefined);
    }

    /** Schedules a resend of `item.events` after backoff, or fails them when the attempts are used up. */
    private async retryAll(
        item: WorkItem,
        result: SendResult,
        code: string,
        message: string,
        retryAfterMs: number | undefined,
    ): Promise<WorkItem[]> {
        if (item.attempt >= this.policy.maxAttempts) {
            this.fail(result, item.events, code, `${message} (gave up after ${item.attempt} attempts)`, item.attempt);
            return [];
        }
        if (retryAfterMs !== undefined && retryAfterMs > this.policy.maxRetryAfterMs) {
            this.fail(
                result,
                item.events,
                code,
                `${message} (the API asked to retry after ${Math.ceil(retryAfterMs / 1000)} s, more than the ${this.policy.maxRetryAfterMs / 1000} s allowed)`,
                item.attempt,
            );
            return [];
        }
        const jitter = fullJitterDelay(item.attempt, this.policy, this.random);
        await this.sleep(Math.max(jitter, retryAfterMs ?? 0));
        return [{ events: item.events, attempt: item.attempt + 1, refreshed: item.refreshed }];
    }

    private fail(result: SendResult, events: PreparedEvent[], errorCode: string, errorMessage: string, attempts: number): void {
        for (const e of events) {
            result.failed.push({ eventId: e.eventId, eventType: e.eventType, ...sequenceOf(e), errorCode, errorMessage, attempts });
        }
    }
}

function authErrorCode(err: unknown): string {
    return err instanceof ClientEventsError ? err.code : "AuthError";
}

function isObject(value: unknown): value is ClientEvent {
    return typeof value === "object" && value !== null && !Array.isArray(value);
}

function sequenceOf(event: PreparedEvent): { sequence?: number } {
    return event.sequence !== undefined ? { sequence: event.sequence } : {};
}

function accepted(event: PreparedEvent, attempts: number, busEventId: string | undefined): AcceptedEvent {
    return { eventId: event.eventId, eventType: event.eventType, ...sequenceOf(event), attempts, ...(busEventId ? { busEventId } : {}) };
}
