/**
 * Client events: validation, ids and batching within the API's limits.
 *
 * Every event gets an `eventId` (a UUID unless the caller set one) before its first send, and keeps it on
 * every retry, so that storage can recognise an event delivered twice (the API cannot always tell the
 * client whether an entry got through, e.g. after a timeout). The EventsClient also stamps `sessionId` and
 * `sequence` (see pipeline/stamping.ts) when the app hands the event over.
 */
import { MAX_ENTRIES_PER_REQUEST, MAX_ENTRY_LENGTH, PUT_EVENTS_MAX_BYTES } from "../pipeline/limits";
import { EventValidationError } from "./errors";

/** An event as the app builds it. Extra top-level fields are sent as they are. */
export interface ClientEvent {
    /** What happened, e.g. `shopping`; the storage partition. */
    eventType: string;
    /** Version of this event type's data layout; the second storage partition. */
    schemaVersion: number;
    /** Unique id; assigned by the client when absent. */
    eventId?: string;
    /** The client's session (a UUID); stamped by the EventsClient. */
    sessionId?: string;
    /** 1, 2, 3, ... per session in hand-over order; stamped by the EventsClient. */
    sequence?: number;
    /** The event's payload. */
    data?: unknown;
    [key: string]: unknown;
}

/** An event ready to send: its id, type and the serialized `entry`. */
export interface PreparedEvent {
    eventId: string;
    eventType: string;
    /** The sequence number stamped on the event, if any. */
    sequence?: number;
    /** The event as a JSON string: one `entries[i].entry` of the request body. */
    entry: string;
    /** UTF-8 size of `entry`. */
    bytes: number;
}

/** The API's limits as the client applies them (defaults: the deployed API's, from pipeline/limits). */
export interface BatchLimits {
    /** Entries per request. */
    maxEntries: number;
    /** Longest entry, counted in UTF-16 code units (never fewer than the code points the validator counts). */
    maxEntryLength: number;
    /** Budget of UTF-8 bytes for the entries of one request (PutEvents' 256 KiB). */
    maxBatchBytes: number;
    /** Bytes PutEvents counts per entry besides the event itself (source, detail type, clientId). */
    entryOverheadBytes: number;
}

export const DEFAULT_LIMITS: BatchLimits = {
    maxEntries: MAX_ENTRIES_PER_REQUEST,
    maxEntryLength: MAX_ENTRY_LENGTH,
    maxBatchBytes: PUT_EVENTS_MAX_BYTES - 1,
    // "clientevents" + a 128-character environment + a 64-character clientId: the most the API adds.
    entryOverheadBytes: 12 + 128 + 64,
};

/**
 * A check of the event as it will be sent (parsed back from its JSON), e.g. against the compiled schemas
 * (`schemaCheck` from client/schemas). Returns the failure, or undefined when the event passes.
 */
export type EventCheck = (event: unknown) => { code: string; message: string } | undefined;

const MAX_EVENT_TYPE_LENGTH = 256;
const MAX_EVENT_ID_LENGTH = 128;

/** UTF-8 byte length without Buffer (browser-safe). */
export function utf8Length(text: string): number {
    let bytes = 0;
    for (let i = 0; i < text.length; i++) {
        const code = text.charCodeAt(i);
        if (code < 0x80) bytes += 1;
        else if (code < 0x800) bytes += 2;
        else if (code >= 0xd800 && code <= 0xdbff && i + 1 < text.length) {
            const next = text.charCodeAt(i + 1);
            if (next >= 0xdc00 && next <= 0xdfff) {
                bytes += 4;
                i++;
            } else bytes += 3;
        } else bytes += 3;
    }
    return bytes;
}

/** A random UUID v4 from the platform's crypto (browsers, React Native with a polyfill, Node 19+). */
export function randomEventId(): string {
    const cryptoApi = (globalThis as { crypto?: { randomUUID?: () => string } }).crypto;
    if (!cryptoApi?.randomUUID) {
        throw new EventValidationError("NoRandomUUID", "crypto.randomUUID is not available: pass newId to the client");
    }
    return cryptoApi.randomUUID();
}

/**
 * Validates an event, gives it an id and serializes it. Throws EventValidationError with codes
 * `InvalidEvent` (shape), `EntryTooLarge` (over the API's per-entry limit) or the code `check` returns
 * (e.g. `SchemaViolation`).
 */
export function prepareEvent(
    event: ClientEvent,
    newId: () => string = randomEventId,
    limits: BatchLimits = DEFAULT_LIMITS,
    check?: EventCheck,
): PreparedEvent {
    if (typeof event !== "object" || event === null || Array.isArray(event)) {
        throw new EventValidationError("InvalidEvent", "an event must be a JSON object");
    }
    const { eventType, schemaVersion } = event;
    if (typeof eventType !== "string" || eventType.length === 0 || eventType.length > MAX_EVENT_TYPE_LENGTH) {
        throw new EventValidationError(
            "InvalidEvent",
            `eventType must be a non-empty string of at most ${MAX_EVENT_TYPE_LENGTH} characters`,
        );
    }
    if (typeof schemaVersion !== "number" || !Number.isInteger(schemaVersion) || schemaVersion < 0) {
        throw new EventValidationError("InvalidEvent", `event ${eventType}: schemaVersion must be a non-negative integer`);
    }
    let eventId = event.eventId;
    if (eventId === undefined) eventId = newId();
    if (typeof eventId !== "string" || eventId.length === 0 || eventId.length > MAX_EVENT_ID_LENGTH) {
        throw new EventValidationError(
            "InvalidEvent",
            `event ${eventType}: eventId must be a non-empty string of at most ${MAX_EVENT_ID_LENGTH} characters`,
        );
    }
    let entry: string;
    try {
        entry = JSON.stringify({ ...event, eventId });
    } catch (err) {
        throw new EventValidationError("InvalidEvent", `event ${eventType} cannot be serialized as JSON: ${(err as Error).message}`);
    }
    if (entry.length > limits.maxEntryLength) {
        throw new EventValidationError(
            "EntryTooLarge",
            `event ${eventType} (${eventId}) is ${entry.length} characters as JSON; the API accepts at most ${limits.maxEntryLength}`,
        );
    }
    // Checked as the pipeline will see it: the JSON text parsed back (undefined fields gone, NaN as null...).
    const failure = check?.(JSON.parse(entry));
    if (failure) throw new EventValidationError(failure.code, `event ${eventId}: ${failure.message}`);
    const sequence = typeof event.sequence === "number" ? event.sequence : undefined;
    return { eventId, eventType, ...(sequence !== undefined ? { sequence } : {}), entry, bytes: utf8Length(entry) };
}

/**
 * Splits events into request-sized batches, keeping their order: at most `maxEntries` entries and at most
 * `maxBatchBytes` PutEvents bytes (entry plus per-entry overhead) per batch.
 */
export function planBatches(events: PreparedEvent[], limits: BatchLimits = DEFAULT_LIMITS): PreparedEvent[][] {
    const batches: PreparedEvent[][] = [];
    let current: PreparedEvent[] = [];
    let currentBytes = 0;
    for (const event of events) {
        const size = event.bytes + limits.entryOverheadBytes;
        if (current.length > 0 && (current.length >= limits.maxEntries || currentBytes + size > limits.maxBatchBytes)) {
            batches.push(current);
            current = [];
            currentBytes = 0;
        }
        current.push(event);
        currentBytes += size;
    }
    if (current.length > 0) batches.push(current);
    return batches;
}
