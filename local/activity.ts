/**
 * Local mode's activity feed: every part of the pipeline reports what it did with one `emit` call (a
 * request answered, an event accepted, a rule matched, a delivery, a dead letter, an S3 object, a ticket),
 * and the console (`local/console/`) and `/_local/metrics` read it.
 *
 * The feed is where secrets stop: it never receives headers, and it redacts credential-looking fields and
 * JWT-shaped strings in everything it keeps, so nothing it serves can leak a token or a password.
 * It keeps the most recent records in a bounded ring; subscribers (the metrics) see every record.
 */
import { createHash } from "node:crypto";
import { gunzipSync } from "node:zlib";
import { isJsonObject } from "../pipeline/json-value";

/** What the parts of local mode report. Fields hold client data only where named so (rendered as text). */
export type ActivityInput =
    | {
          type: "request";
          requestId: string;
          method: string;
          path: string;
          status: number;
          latencyMs: number;
          /** The gateway's note (e.g. "UNAUTHORIZED: no Authorization header"), never a token. */
          note: string;
          /** The authorizer's principal (the Cognito sub) and context, when it allowed or denied. */
          authorizer?: Record<string, unknown>;
          requestBody: string;
          responseBody: string;
      }
    | { type: "event"; event: { id: string }; detailText?: string }
    | { type: "match"; eventId: string; rule: string }
    /** `payload`: the target's input when an input transformer built it (a ticket), to pair it with its answer. */
    | { type: "delivery"; eventId: string; rule: string; target: string; attempts: number; detail?: string; payload?: string }
    | {
          type: "retry";
          eventId: string;
          rule: string;
          target: string;
          attempt: number;
          errorCode: string;
          errorMessage: string;
          delayMs: number;
      }
    | { type: "dead-letter"; eventId: string; rule: string; attributes: Record<string, string>; body: string }
    /** `records`: how many records those bytes are (default 1). */
    | { type: "firehose-put"; stream: string; bytes: number; records?: number }
    | { type: "object"; stream: string; bucket: string; key: string; records: number; bytes: number; error: boolean; body: Buffer }
    | { type: "firehose-failed"; stream: string; records: number; reason: string }
    | { type: "lambda"; name: string; durationMs: number; error: boolean }
    /** An API destination's 2xx answer: for Zendesk, the ticket it created. */
    | { type: "destination-response"; destination: string; status: number; payload: string; responseBody: string }
    | { type: "ticket-refused"; status: number; reason: string };

/** One entry of a request, with what EventBridge answered for it. */
export interface RequestEntry {
    /** The entry string as the client sent it (redacted, truncated). */
    entry: string;
    eventId?: string;
    errorCode?: string;
    errorMessage?: string;
}

/** A Firehose error record, decoded. */
export interface ErrorRecordView {
    errorCode: string;
    errorMessage: string;
    /** The record's raw data decoded as UTF-8 (redacted, truncated). */
    raw: string;
    eventId?: string;
}

/** What the feed keeps and serves: redacted, bounded, numbered. */
export type Activity = { seq: number; at: number } & (
    | {
          type: "request";
          requestId: string;
          method: string;
          path: string;
          status: number;
          latencyMs: number;
          note: string;
          principalId?: string;
          clientId?: string;
          entryCount: number;
          failedEntryCount: number;
          entries: RequestEntry[];
          /** The message of an answer without entries (400, 401, 500...). */
          message?: string;
      }
    | {
          type: "event";
          eventId: string;
          eventType?: string;
          clientId?: string;
          /** The event as EventBridge delivers it (detail parsed; redacted). */
          event: unknown;
          /** The detail exactly as written (numbers keep their digits). */
          detailText?: string;
      }
    | { type: "delivery"; eventId: string; rule: string; target: string; attempts: number; detail?: string; payloadHash?: string }
    | {
          type: "object";
          stream: string;
          bucket: string;
          key: string;
          /** The key without the object's name: the partition, e.g. `events/eventType=shopping/.../day=27/`. */
          partition: string;
          records: number;
          bytes: number;
          error: boolean;
          /** `errors/<type>/...`: the Firehose error output type. */
          errorType?: string;
          eventIds: string[];
          errorRecords?: ErrorRecordView[];
      }
    | {
          type: "ticket";
          destination: string;
          status: number;
          ticketId: number | string;
          subject?: string;
          ticket: unknown;
          payloadHash: string;
      }
    // The same fields as they arrive (normalize still redacts a dead letter's attributes and body).
    | Extract<ActivityInput, { type: "match" | "retry" | "dead-letter" | "firehose-put" | "firehose-failed" | "lambda" | "ticket-refused" }>
);

/** Where the parts emit; optional everywhere so that each part works without a feed. */
export interface ActivitySink {
    emit(input: ActivityInput): void;
}

/** Longest string the feed keeps of any client-derived text. */
export const MAX_TEXT = 16 * 1024;
/** Records the ring keeps by default. */
export const DEFAULT_CAPACITY = 2000;
/** Error records decoded per error object. */
const MAX_ERROR_RECORDS = 100;

// ---------------------------------------------------------------------------------------------------
// Redaction: credentials never leave the feed.

const SECRET_KEY =
    /^(authorization|proxy-authorization|password|passwd|pass|secret|client_?secret|token|access_?token|id_?token|refresh_?token|api_?token|api_?key|x-api-key|session_?token|cookie|set-cookie|credentials?)$/i;
const SECRET_KEY_SOURCE =
    "authorization|proxy-authorization|password|passwd|pass|secret|client_?secret|token|access_?token|id_?token|refresh_?token|api_?token|api_?key|x-api-key|session_?token|cookie|set-cookie|credentials?";
/** A JWT: three base64url segments, the first a JSON header (`eyJ` is `{"`). */
const JWT = /eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*/g;
/** `Basic <base64>` / `Bearer <token>` credentials inside text. */
const SCHEME_CREDENTIALS = /\b(Basic|Bearer)\s+[A-Za-z0-9._~+/=-]{8,}/gi;
/** A JSON member whose key names a credential, with a string value. */
const JSON_SECRET_MEMBER = new RegExp(`("(?:${SECRET_KEY_SOURCE})"\\s*:\\s*)"(?:[^"\\\\]|\\\\.)*"`, "gi");

export const REDACTED = "[redacted]";

/**
 * Whether a text could hold anything the patterns above redact: a cheap scan first, since most events
 * hold none and the full patterns cost far more per event.
 */
const MAY_HOLD_SECRET = /eyJ|bearer|basic|pass|token|secret|auth|api.?key|cookie|credential/i;

/** Redacts credentials inside a text (JSON or not) and bounds its length. */
export function redactText(text: string, max = MAX_TEXT): string {
    const cleaned = !MAY_HOLD_SECRET.test(text)
        ? text
        : text.replace(JSON_SECRET_MEMBER, `$1"${REDACTED}"`).replace(JWT, REDACTED).replace(SCHEME_CREDENTIALS, `$1 ${REDACTED}`);
    return cleaned.length > max ? cleaned.slice(0, max) + `… [${cleaned.length - max} more characters]` : cleaned;
}

/** A deep copy with credential-named fields and credential-looking strings redacted. */
export function redactValue(value: unknown, depth = 0): unknown {
    if (typeof value === "string") return redactText(value);
    if (value === null || typeof value !== "object") return value;
    if (depth > 64) return "[nested too deep]";
    if (Array.isArray(value)) return value.map((v) => redactValue(v, depth + 1));
    const out: Record<string, unknown> = {};
    for (const [key, v] of Object.entries(value as Record<string, unknown>)) {
        // defineProperty: a client's "__proto__" key stays a plain key.
        Object.defineProperty(out, key, {
            value: SECRET_KEY.test(key) ? REDACTED : redactValue(v, depth + 1),
            enumerable: true,
            writable: true,
            configurable: true,
        });
    }
    return out;
}

export function hashText(text: string): string {
    return createHash("sha256").update(text).digest("hex").slice(0, 32);
}

function parseJson(text: string): unknown {
    try {
        return JSON.parse(text);
    } catch {
        return undefined;
    }
}

// ---------------------------------------------------------------------------------------------------
// Normalization: from what a part emits to what the feed keeps.

function requestActivity(input: Extract<ActivityInput, { type: "request" }>): Omit<Extract<Activity, { type: "request" }>, "seq" | "at"> {
    const sent = parseJson(input.requestBody);
    const answer = parseJson(input.responseBody);
    const sentEntries = isJsonObject(sent) && Array.isArray(sent.entries) ? sent.entries : [];
    const results = isJsonObject(answer) && Array.isArray(answer.entries) ? answer.entries : [];
    const entries: RequestEntry[] = sentEntries.slice(0, 10).map((e, i) => {
        const text = isJsonObject(e) && typeof e.entry === "string" ? e.entry : (JSON.stringify(e) ?? "");
        const result = isJsonObject(results[i]) ? (results[i] as Record<string, unknown>) : {};
        return {
            entry: redactText(text),
            ...(typeof result.eventId === "string" ? { eventId: result.eventId } : {}),
            ...(typeof result.errorCode === "string" ? { errorCode: redactText(result.errorCode, 200) } : {}),
            ...(typeof result.errorMessage === "string" ? { errorMessage: redactText(result.errorMessage, 1000) } : {}),
        };
    });
    const principalId = input.authorizer?.principalId;
    const clientId = input.authorizer?.clientId;
    return {
        type: "request",
        requestId: input.requestId,
        method: input.method,
        path: redactText(input.path, 300),
        status: input.status,
        latencyMs: input.latencyMs,
        note: redactText(input.note, 2000),
        ...(typeof principalId === "string" ? { principalId } : {}),
        ...(typeof clientId === "string" ? { clientId } : {}),
        entryCount: sentEntries.length,
        failedEntryCount: entries.filter((e) => e.errorCode !== undefined).length,
        entries,
        ...(isJsonObject(answer) && typeof answer.message === "string" ? { message: redactText(answer.message, 2000) } : {}),
    };
}

/** How every archived record starts (the envelope as the bus serializes it, kept by the transform). */
const ENVELOPE_START = /^\{"version":"0","id":"([^"\\]{1,64})"/;

/** The event id inside an archived line. */
function eventIdOf(line: string): string | undefined {
    const fast = ENVELOPE_START.exec(line);
    if (fast) return fast[1];
    const parsed = parseJson(line);
    return isJsonObject(parsed) && typeof parsed.id === "string" ? parsed.id : undefined;
}

function objectActivity(input: Extract<ActivityInput, { type: "object" }>): Omit<Extract<Activity, { type: "object" }>, "seq" | "at"> {
    let text: string;
    try {
        text = (input.key.endsWith(".gz") ? gunzipSync(input.body) : input.body).toString("utf8");
    } catch {
        text = "";
    }
    const lines = text.split("\n").filter((l) => l !== "");
    const partition = input.key.slice(0, input.key.lastIndexOf("/") + 1);
    const base = {
        type: "object" as const,
        stream: input.stream,
        bucket: input.bucket,
        key: input.key,
        partition,
        records: input.records,
        bytes: input.bytes,
        error: input.error,
    };
    if (!input.error) {
        return { ...base, eventIds: lines.map(eventIdOf).filter((id): id is string => id !== undefined) };
    }
    const errorRecords: ErrorRecordView[] = [];
    const eventIds: string[] = [];
    for (const line of lines) {
        const record = parseJson(line);
        if (!isJsonObject(record)) continue;
        const raw = typeof record.rawData === "string" ? Buffer.from(record.rawData, "base64").toString("utf8") : "";
        const eventId = eventIdOf(raw);
        if (eventId) eventIds.push(eventId);
        if (errorRecords.length < MAX_ERROR_RECORDS) {
            errorRecords.push({
                errorCode: String(record.errorCode ?? ""),
                errorMessage: redactText(String(record.errorMessage ?? ""), 2000),
                raw: redactText(raw),
                ...(eventId ? { eventId } : {}),
            });
        }
    }
    const errorType = /^errors\/([^/]+)\//.exec(input.key)?.[1];
    return { ...base, eventIds, errorRecords, ...(errorType ? { errorType } : {}) };
}

/** The ticket an API destination opened: the id from the answer, the ticket as sent. */
function ticketActivity(
    input: Extract<ActivityInput, { type: "destination-response" }>,
): Omit<Extract<Activity, { type: "ticket" }>, "seq" | "at"> {
    const answer = parseJson(input.responseBody);
    const created = isJsonObject(answer) && isJsonObject(answer.ticket) ? answer.ticket : {};
    const sent = parseJson(input.payload);
    const ticket = redactValue(isJsonObject(sent) && isJsonObject(sent.ticket) ? sent.ticket : created);
    const id = typeof created.id === "number" || typeof created.id === "string" ? created.id : "?";
    const subject = isJsonObject(ticket) && typeof ticket.subject === "string" ? ticket.subject : undefined;
    return {
        type: "ticket",
        destination: input.destination,
        status: input.status,
        ticketId: id,
        ticket,
        ...(subject ? { subject } : {}),
        payloadHash: hashText(input.payload),
    };
}

function eventActivity(input: Extract<ActivityInput, { type: "event" }>): Omit<Extract<Activity, { type: "event" }>, "seq" | "at"> {
    // Only the detail comes from the client: when its text holds nothing to redact, the event is kept as is.
    const clean = input.detailText !== undefined && !MAY_HOLD_SECRET.test(input.detailText) && input.detailText.length <= MAX_TEXT;
    const event = (clean ? input.event : redactValue(input.event)) as Record<string, unknown>;
    const detail = isJsonObject(event.detail) ? event.detail : {};
    const resources = Array.isArray(event.resources) ? event.resources : [];
    return {
        type: "event",
        eventId: input.event.id,
        ...(typeof detail.eventType === "string" ? { eventType: detail.eventType } : {}),
        ...(typeof resources[0] === "string" ? { clientId: resources[0] } : {}),
        event,
        // Clean already says it holds nothing to redact and fits.
        ...(input.detailText !== undefined ? { detailText: clean ? input.detailText : redactText(input.detailText) } : {}),
    };
}

type ActivityBody = Activity extends infer A ? (A extends unknown ? Omit<A, "seq" | "at"> : never) : never;
/** A record as normalize() makes it, before the feed numbers it (the Firehose thread sends these). */
export type ActivityRecordBody = ActivityBody;

/** Turns an emitted input into the record the feed keeps. */
export function normalize(input: ActivityInput): ActivityBody {
    switch (input.type) {
        case "request":
            return requestActivity(input);
        case "event":
            return eventActivity(input);
        case "object":
            return objectActivity(input);
        case "delivery": {
            const { payload, ...rest } = input;
            return {
                ...rest,
                detail: input.detail === undefined ? undefined : redactText(input.detail, 500),
                ...(payload !== undefined ? { payloadHash: hashText(payload) } : {}),
            };
        }
        case "retry":
            return { ...input, errorMessage: redactText(input.errorMessage, 1000) };
        case "dead-letter":
            return { ...input, attributes: redactValue(input.attributes) as Record<string, string>, body: redactText(input.body) };
        case "destination-response":
            return ticketActivity(input);
        case "ticket-refused":
            return { ...input, reason: redactText(input.reason, 1000) };
        case "firehose-failed":
            return { ...input, reason: redactText(input.reason, 2000) };
        default:
            return input;
    }
}

// ---------------------------------------------------------------------------------------------------

export class ActivityFeed implements ActivitySink {
    /** A circular buffer: record `seq` lives at `(seq - 1) % capacity`. */
    private readonly ring: Array<Activity | undefined>;
    private nextSeq = 1;
    private readonly listeners = new Set<(record: Activity) => void>();
    readonly startedAt: number;

    constructor(
        private readonly capacity = DEFAULT_CAPACITY,
        private readonly now: () => number = Date.now,
    ) {
        this.startedAt = now();
        this.ring = new Array<Activity | undefined>(capacity);
    }

    /** Never throws: a problem in the feed must not fail a request or a delivery. */
    emit(input: ActivityInput): void {
        let body: ActivityBody;
        try {
            body = normalize(input);
        } catch {
            return;
        }
        this.record(body);
    }

    /** Keeps a record another thread normalized (the Firehose delivery thread). */
    record(body: ActivityRecordBody): void {
        const record = { seq: this.nextSeq++, at: this.now(), ...body } as Activity;
        this.ring[(record.seq - 1) % this.capacity] = record;
        for (const listener of this.listeners) {
            try {
                listener(record);
            } catch {
                // a listener's bug must not reach the pipeline
            }
        }
    }

    /** Every record from now on (metrics count them all, the ring keeps only the latest). */
    subscribe(listener: (record: Activity) => void): () => void {
        this.listeners.add(listener);
        return () => this.listeners.delete(listener);
    }

    /** Records with a sequence number above `after`, oldest first, at most `limit`. */
    since(after: number, limit = this.capacity): Activity[] {
        const out: Activity[] = [];
        const last = Math.min(this.lastSeq, Math.max(after + 1, this.oldestSeq) + limit - 1);
        for (let seq = Math.max(after + 1, this.oldestSeq); seq <= last; seq++) {
            const activity = this.ring[(seq - 1) % this.capacity];
            if (activity) out.push(activity);
        }
        return out;
    }

    /** Sequence number of the last record (0 before any). */
    get lastSeq(): number {
        return this.nextSeq - 1;
    }

    /** Sequence number of the oldest record still kept. */
    get oldestSeq(): number {
        return Math.max(1, this.nextSeq - this.capacity);
    }
}
