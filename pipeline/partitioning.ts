/**
 * How the archive lays events out in S3: the Firehose dynamic-partitioning query (jq 1.6), the S3
 * prefixes, the record delimiter and the buffering defaults. The Archive component deploys these
 * values and local mode evaluates them, so the key layout tested offline is the deployed one.
 *
 * Policy for partition keys (Firehose sends a record to the error prefix when a key cannot be
 * extracted, and has at most 500 active partitions per stream; beyond that, records of EVERY client
 * go to the error prefix):
 * - eventType is used as a partition only when it is a well-formed name (letters, digits, `_`, `-`,
 *   1 to 64 characters, starting with a letter or digit) AND appears in the configured allow-list.
 *   A well-formed name that is not listed goes to `eventType=_other`; a missing, non-string or
 *   malformed one goes to `eventType=_invalid`.
 * - schemaVersion is used when it is a whole JSON number from 0 to the configured maximum. A larger
 *   whole number goes to `schemaVersion=_other`; anything else (missing, string, fraction, negative)
 *   to `schemaVersion=_invalid`.
 * The query therefore always yields two short strings: no record fails extraction, none vanishes, and
 * the number of distinct key pairs is bounded by configuration, whatever clients send. The record
 * itself is stored unchanged, so the original eventType and schemaVersion stay queryable.
 * The sentinels start with `_`, which a well-formed eventType cannot, so they never collide.
 */
import { LOYALTY_PURCHASE_EVENT_TYPE } from "./event-patterns";
import { isJsonObject } from "./json-value";

/** Partition value for a key that is missing or unusable. */
export const INVALID_PARTITION = "_invalid";
/** Partition value for a well-formed key outside the configured set. */
export const OTHER_PARTITION = "_other";

/** Firehose's limit on active partitions per delivery stream. */
export const FIREHOSE_MAX_ACTIVE_PARTITIONS = 500;
/** Longest eventType kept as a partition value. */
export const EVENT_TYPE_MAX_LENGTH = 64;
/** A well-formed eventType (the same rule the jq query applies). */
export const EVENT_TYPE_NAME = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;

/** The event types the generator sends: the default allow-list. */
export const DEFAULT_PARTITIONED_EVENT_TYPES: readonly string[] = [
    "shopping",
    "searching",
    "paging",
    "purchase",
    LOYALTY_PURCHASE_EVENT_TYPE,
];
/** Highest schemaVersion kept as its own partition by default. */
export const DEFAULT_MAX_SCHEMA_VERSION = 20;

/** What becomes a partition; everything else goes to a sentinel partition. */
export interface PartitioningPolicy {
    /** eventType values that get their own partition. */
    eventTypes: readonly string[];
    /** Highest schemaVersion (a whole number) that gets its own partition. */
    maxSchemaVersion: number;
}

export const DEFAULT_PARTITIONING_POLICY: PartitioningPolicy = {
    eventTypes: DEFAULT_PARTITIONED_EVENT_TYPES,
    maxSchemaVersion: DEFAULT_MAX_SCHEMA_VERSION,
};

/**
 * The most partitions the prefix can have open at once under a policy: every listed type plus the two
 * sentinels, times every version plus the two sentinels, times two date partitions (a buffer that
 * spans midnight UTC).
 */
export function maxActivePartitions(policy: PartitioningPolicy): number {
    return (policy.eventTypes.length + 2) * (policy.maxSchemaVersion + 1 + 2) * 2;
}

/**
 * Reasons a policy is unusable (empty when it is fine); each names the setting to change, spelled by `keyName`
 * (config.ts adds the `client-events:` namespace).
 */
export function validatePartitioningPolicy(policy: PartitioningPolicy, keyName = (key: string): string => key): string[] {
    const errors: string[] = [];
    const types = keyName("partitionEventTypes");
    const maxVersion = keyName("partitionMaxSchemaVersion");
    if (policy.eventTypes.length === 0) errors.push(`${types} must list at least one eventType`);
    const seen = new Set<string>();
    for (const type of policy.eventTypes) {
        if (typeof type !== "string" || !EVENT_TYPE_NAME.test(type)) {
            errors.push(
                `${types}: ${JSON.stringify(type)} is not a well-formed eventType (letters, digits, "_" and "-", 1 to ${EVENT_TYPE_MAX_LENGTH} characters, starting with a letter or digit)`,
            );
        } else if (seen.has(type)) {
            errors.push(`${types}: ${JSON.stringify(type)} is listed twice`);
        }
        seen.add(type);
    }
    if (!Number.isInteger(policy.maxSchemaVersion) || policy.maxSchemaVersion < 0) {
        errors.push(`${maxVersion} must be a whole number >= 0, got ${policy.maxSchemaVersion}`);
    }
    if (errors.length === 0 && maxActivePartitions(policy) > FIREHOSE_MAX_ACTIVE_PARTITIONS) {
        errors.push(
            `${types} (${policy.eventTypes.length} types) and ${maxVersion} (${policy.maxSchemaVersion}) allow up to ` +
                `${maxActivePartitions(policy)} active partitions, above Firehose's ${FIREHOSE_MAX_ACTIVE_PARTITIONS}: list fewer types or lower the maximum version ` +
                `((types + 2) x (maxSchemaVersion + 3) x 2 must be <= ${FIREHOSE_MAX_ACTIVE_PARTITIONS})`,
        );
    }
    if (errors.length === 0 && renderQuery(policy).length > MAX_QUERY_LENGTH) {
        errors.push(
            `${types} makes the partitioning query ${renderQuery(policy).length} characters long, above Firehose's ${MAX_QUERY_LENGTH}: list fewer or shorter types`,
        );
    }
    return errors;
}

/** Firehose's limit on a processor parameter value, the query included. */
export const MAX_QUERY_LENGTH = 5120;

/**
 * The Firehose MetadataExtractionQuery for a policy: one jq 1.6 expression using only core builtins
 * (no `def`, no `try`, no regular expressions: whether Firehose's jq has a regex library is not
 * documented). Names are checked code point by code point; a record or `detail` that is not an
 * object yields null keys instead of failing the query.
 */
export function buildPartitionKeysQuery(policy: PartitioningPolicy): string {
    const errors = validatePartitioningPolicy(policy);
    if (errors.length > 0) throw new Error(errors.join("; "));
    return renderQuery(policy);
}

/** The fields of `detail` the query reads: nothing else of a record changes its answer (see partitionQueryInput). */
const QUERY_FIELDS = ["eventType", "schemaVersion"] as const;

function renderQuery(policy: PartitioningPolicy): string {
    const allowed = JSON.stringify([...policy.eventTypes]);
    const max = policy.maxSchemaVersion;
    const alnum = "((. >= 48 and . <= 57) or (. >= 65 and . <= 90) or (. >= 97 and . <= 122))";
    const [eventType, schemaVersion] = QUERY_FIELDS;
    // A field of detail, or null when the record or its detail is not an object (never an error). The query reads
    // the record only through this.
    const field = (name: string) => `(if type == "object" and (.detail | type) == "object" then .detail.${name} else null end)`;
    // The listed types are checked first: each is well-formed (validatePartitioningPolicy), so the result is the
    // same, and jq 1.6 skips the character-by-character check for them (3 times faster per record).
    return [
        `{eventType: (${field(eventType)} as $t`,
        ` | if any(${allowed}[]; . == $t) then $t`,
        ` elif ($t | type == "string" and length >= 1 and length <= ${EVENT_TYPE_MAX_LENGTH}`,
        ` and (explode | (.[0] | ${alnum}) and all(.[]; ${alnum} or . == 95 or . == 45)))`,
        ` then "${OTHER_PARTITION}" else "${INVALID_PARTITION}" end),`,
        // `+ 0` turns -0 (a whole number >= 0) into 0: jq 1.6 prints -0 as "-0", a partition of its own.
        ` schemaVersion: (${field(schemaVersion)} as $v`,
        ` | if ($v | type) == "number" and $v >= 0 and $v == ($v | floor)`,
        ` then (if $v <= ${max} then (($v | floor) + 0 | tostring) else "${OTHER_PARTITION}" end) else "${INVALID_PARTITION}" end)}`,
    ].join("");
}

/**
 * Containers (`{` or `[`) a record may have for partitionQueryInput to vouch for it. jq 1.6 refuses to open a
 * container once its parser stack holds 256 entries, and an object takes two (itself and its pending key): 128
 * containers always parse, whatever their arrangement.
 */
export const JQ16_SAFE_CONTAINERS = 128;

/** A `\u` escape of a UTF-16 surrogate: jq 1.6 fails on an unpaired high one and reads a lone low one as U+FFFD. */
const SURROGATE_ESCAPE = /\\u[dD][89a-fA-F]/;

/**
 * The part of a record the partition-keys query reads (any policy's: buildPartitionKeysQuery), as the JSON text
 * of a minimal document jq 1.6 gives the same answer for: `{"detail":{"eventType":…,"schemaVersion":…}}` with
 * the fields present in the record, or `null` when the record or its detail is not an object (the query then
 * reads nothing). `value` is JSON.parse(text). Undefined when it cannot vouch that jq 1.6 reads those values as
 * JSON.parse did: text that may be nested too deep for jq 1.6 or has a surrogate escape (jq fails or substitutes),
 * a field that is an object or array, or a number JSON.parse cannot keep (1e400: jq 1.6 reads the largest double).
 */
export function partitionQueryInput(text: string, value: unknown = JSON.parse(text)): string | undefined {
    if (text.length > JQ16_SAFE_CONTAINERS && containersExceed(text, JQ16_SAFE_CONTAINERS)) return undefined;
    if (text.includes("\\u") && SURROGATE_ESCAPE.test(text)) return undefined;
    if (!isJsonObject(value) || !Object.hasOwn(value, "detail") || !isJsonObject(value.detail)) return "null";
    const detail = value.detail;
    const fields: string[] = [];
    for (const name of QUERY_FIELDS) {
        if (!Object.hasOwn(detail, name)) continue;
        const literal = scalarLiteral(detail[name]);
        if (literal === undefined) return undefined;
        fields.push(`${JSON.stringify(name)}:${literal}`);
    }
    return `{"detail":{${fields.join(",")}}}`;
}

/** Whether `text` has more than `limit` of `{` and `[` (inside strings too: a cheap upper bound on nesting). */
function containersExceed(text: string, limit: number): boolean {
    let count = 0;
    for (let i = 0; i < text.length; i++) {
        const c = text.charCodeAt(i);
        if ((c === 123 || c === 91) && ++count > limit) return true;
    }
    return false;
}

/**
 * A JSON literal jq 1.6 reads as the same value: strings (no surrogate escapes reach here), booleans, null, and
 * finite numbers, which JSON.stringify writes as the shortest text of the same double (-0 kept as -0); both sides
 * round decimal text to the nearest double. Undefined for anything else.
 */
function scalarLiteral(value: unknown): string | undefined {
    if (typeof value === "number") return !Number.isFinite(value) ? undefined : Object.is(value, -0) ? "-0" : JSON.stringify(value);
    if (typeof value === "string" || typeof value === "boolean" || value === null) return JSON.stringify(value);
    return undefined;
}

/** The query for the default policy. */
export const PARTITION_KEYS_JQ_QUERY = buildPartitionKeysQuery(DEFAULT_PARTITIONING_POLICY);

/** Firehose's name for the JQ engine of the MetadataExtraction processor. */
export const JSON_PARSING_ENGINE = "JQ-1.6";

/** The partition keys the query extracts. */
export interface PartitionKeys {
    eventType: string;
    schemaVersion: string;
}

/**
 * Where one partition value comes from when Firehose writes an object: a key of the metadata-extraction
 * query, a field of the arrival timestamp (UTC), or the error output type.
 */
export type PartitionSource = { partitionKey: keyof PartitionKeys } | { timestamp: "yyyy" | "MM" | "dd" } | { errorOutputType: true };

/**
 * One folder level of the S3 layout. The Firehose prefix and the Athena/DuckDB tables (see
 * pipeline/archive-table.ts) are both generated from this list, so they cannot drift apart.
 */
export interface PartitionSegment {
    /** The table's partition column (lower case: Glue lower-cases column names). */
    column: string;
    /** The folder's `label=` (Hive style); undefined for a bare value (`errors/processing-failed/`). */
    label?: string;
    source: PartitionSource;
}

/** Where delivered events and where records Firehose could not deliver are kept in the bucket. */
export const EVENTS_ROOT = "events/";
export const ERRORS_ROOT = "errors/";

const DATE_SEGMENTS: readonly PartitionSegment[] = [
    { column: "year", label: "year", source: { timestamp: "yyyy" } },
    { column: "month", label: "month", source: { timestamp: "MM" } },
    { column: "day", label: "day", source: { timestamp: "dd" } },
];

/** The event layout: Hive-style names so Athena (or Glue) can prune by type, version and day. */
export const EVENT_SEGMENTS: readonly PartitionSegment[] = [
    { column: "eventtype", label: "eventType", source: { partitionKey: "eventType" } },
    { column: "schemaversion", label: "schemaVersion", source: { partitionKey: "schemaVersion" } },
    ...DATE_SEGMENTS,
];

/**
 * The error layout: one folder per error type (processing-failed for records the transform rejected,
 * partitioning-failed for keys jq could not extract), so each kind can be inspected and replayed. It never
 * depends on partition keys, which may be what failed.
 */
export const ERROR_SEGMENTS: readonly PartitionSegment[] = [
    { column: "erroroutputtype", source: { errorOutputType: true } },
    ...DATE_SEGMENTS,
];

/** The Firehose expression that yields a segment's value. */
export function firehoseExpression(source: PartitionSource): string {
    if ("partitionKey" in source) return `!{partitionKeyFromQuery:${source.partitionKey}}`;
    if ("timestamp" in source) return `!{timestamp:${source.timestamp}}`;
    return "!{firehose:error-output-type}";
}

/** A layout as a path, each segment's value written by `value` (`label=value/` or `value/`). */
export function layoutPath(root: string, segments: readonly PartitionSegment[], value: (segment: PartitionSegment) => string): string {
    return root + segments.map((s) => `${s.label !== undefined ? `${s.label}=` : ""}${value(s)}/`).join("");
}

/** Where delivered events go (Firehose's Prefix). */
export const S3_PREFIX = layoutPath(EVENTS_ROOT, EVENT_SEGMENTS, (s) => firehoseExpression(s.source));

/** Where records Firehose could not deliver go (Firehose's ErrorOutputPrefix). */
export const S3_ERROR_PREFIX = layoutPath(ERRORS_ROOT, ERROR_SEGMENTS, (s) => firehoseExpression(s.source));

/**
 * The values of `!{firehose:error-output-type}` this pipeline can produce with an S3 destination: the
 * transform's rejections and failed partition-key extraction (format conversion is not used, but listed so
 * that turning it on does not hide its errors from the errors table).
 */
export const ERROR_OUTPUT_TYPES: readonly string[] = ["processing-failed", "partitioning-failed", "format-conversion-failed"];

/** Every eventType partition a policy can produce: the listed types, then `_other` and `_invalid`. */
export function eventTypePartitions(policy: PartitioningPolicy): string[] {
    return [...policy.eventTypes, OTHER_PARTITION, INVALID_PARTITION];
}

/** Every schemaVersion partition a policy can produce: 0 to the maximum, then `_other` and `_invalid`. */
export function schemaVersionPartitions(policy: PartitioningPolicy): string[] {
    return [...Array.from({ length: policy.maxSchemaVersion + 1 }, (_, v) => String(v)), OTHER_PARTITION, INVALID_PARTITION];
}

/**
 * The extension Firehose gives an object of each compression format. The Archive sets it explicitly
 * (FileExtension) so that readers which decide by name (Athena, DuckDB) see `.gz` on every gzip object.
 */
export const COMPRESSION_EXTENSIONS = { UNCOMPRESSED: "", GZIP: ".gz" } as const;
export type ArchiveCompression = keyof typeof COMPRESSION_EXTENSIONS;

/** The delimiter written after every record: newline-delimited JSON, one row per event for Athena. */
export const RECORD_DELIMITER = "\n";
/** The same delimiter as Firehose's AppendDelimiterToRecord processor takes it (an escaped string). */
export const RECORD_DELIMITER_PARAMETER = "\\n";

/**
 * Buffering limits and defaults. With dynamic partitioning on, Firehose rejects a buffer below 64 MiB and
 * offers no zero buffering (intervals below 60 s), so the interval is 60 to 900 s.
 */
export const BUFFERING = {
    minSizeMiB: 64,
    maxSizeMiB: 128,
    defaultSizeMiB: 64,
    minIntervalSeconds: 60,
    maxIntervalSeconds: 900,
    defaultIntervalSeconds: 300,
} as const;

/** Firehose's settings for invoking the transform Lambda (its payload stays well under Lambda's 6 MB). */
export const TRANSFORM_INVOCATION = {
    /** MiB of records per invocation (Firehose allows 0.2 to 3). */
    bufferSizeMiB: 1,
    /** Seconds Firehose waits to fill that buffer. */
    bufferIntervalSeconds: 60,
    /** Retries before a batch goes to the processing-failed error prefix. */
    numberOfRetries: 3,
} as const;
