/**
 * Size limits of the ingest path, derived from EventBridge's documented PutEvents entry-size calculation
 * (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-putevent-size.html). Plain data: the request
 * model, the Pulumi components, local mode and the client library all read these.
 */

/** PutEvents accepts at most 10 entries per request. */
export const MAX_ENTRIES_PER_REQUEST = 10;

/** PutEvents' total entry size limit: 256 KiB for the sum of every entry of one request. */
export const PUT_EVENTS_MAX_BYTES = 262144;

/** Every event published by the ingest API has this `source`. */
export const EVENT_SOURCE = "clientevents";

/**
 * An upper bound of the environment's length (= API stage name = each event's DetailType) for the entry
 * size calculation. config.ts accepts a shorter one (MAX_ENVIRONMENT_NAME_LENGTH in pipeline/naming.ts,
 * bound by AWS's resource name limits); sizing with this bound leaves that margin unused, on the safe side.
 */
export const MAX_ENVIRONMENT_LENGTH = 128;

/** Longest clientId the authorizer passes on (a UUID is 36); longer or odd values are denied. */
export const MAX_CLIENT_ID_LENGTH = 64;

/**
 * Worst-case UTF-8 bytes per character of an entry. JSON Schema's maxLength counts Unicode code points
 * (so does ajv in local mode); a code point outside the BMP takes 4 UTF-8 bytes. Counting by 4 keeps
 * the bound safe whether the validator counts code points or UTF-16 units (2 units = 4 bytes).
 */
export const WORST_CASE_BYTES_PER_CHAR = 4;

/** One PutEvents entry, as far as the size calculation is concerned. */
export interface PutEventsEntryLike {
    Time?: unknown;
    Source: string;
    DetailType: string;
    Detail?: string;
    Resources?: string[];
}

function utf8Bytes(text: string): number {
    return Buffer.byteLength(text, "utf8");
}

/**
 * The size EventBridge counts for one PutEvents entry: 14 bytes for Time if present, plus the UTF-8
 * bytes of Source, DetailType, Detail and each of Resources. (EventBusName is not counted.)
 */
export function putEventsEntrySize(entry: PutEventsEntryLike): number {
    let size = entry.Time !== undefined && entry.Time !== null ? 14 : 0;
    size += utf8Bytes(entry.Source);
    size += utf8Bytes(entry.DetailType);
    if (entry.Detail !== undefined && entry.Detail !== null) size += utf8Bytes(entry.Detail);
    for (const resource of entry.Resources ?? []) {
        if (resource !== undefined && resource !== null) size += utf8Bytes(resource);
    }
    return size;
}

/** The bytes every entry of this API adds besides its Detail, at the largest environment and clientId. */
export const MAX_ENTRY_OVERHEAD_BYTES = EVENT_SOURCE.length + MAX_ENVIRONMENT_LENGTH + MAX_CLIENT_ID_LENGTH;

/**
 * The longest `entry` (in characters) the request model accepts: ten entries of this length, every
 * character at its worst-case UTF-8 size, plus each entry's overhead, stay below PutEvents' limit.
 */
export const MAX_ENTRY_LENGTH = Math.floor(
    (Math.floor((PUT_EVENTS_MAX_BYTES - 1) / MAX_ENTRIES_PER_REQUEST) - MAX_ENTRY_OVERHEAD_BYTES) / WORST_CASE_BYTES_PER_CHAR,
);
