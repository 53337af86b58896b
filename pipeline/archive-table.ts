/**
 * The archive as two tables, `events` and `errors`: one definition that gives both the Glue tables Athena
 * queries (columns, partition keys, SerDe, partition projection, storage.location.template) and the DuckDB
 * views `npm run query -- --local` creates over local mode's archive. The partition layout itself comes from
 * pipeline/partitioning.ts (EVENT_SEGMENTS, ERROR_SEGMENTS), the same list Firehose's prefixes are built from.
 *
 * Why the OpenX JSON SerDe (`org.openx.data.jsonserde.JsonSerDe`), with `ignore.malformed.json`:
 * - a line that is not JSON becomes a row of NULLs instead of failing the query (the Hive JSON SerDe has no
 *   such option);
 * - a JSON object or array in a `string` column is read as its JSON text (the Hive SerDe fails the query:
 *   "varchar value must be a scalar json value"), so `detail.data`, whatever shape a client gives it, is one
 *   string for `json_extract`;
 * - `case.insensitive` off with `mapping.<column>` per key: keys are matched exactly, so a client that sends
 *   both `eventType` and `EVENTTYPE` cannot collide with or replace the real field.
 * Every field a client controls is a `string` column: OpenX fails a query when an object meets a numeric
 * column (`schemaVersion: {}` in an `int` column), and a string column takes any JSON value.
 */
import {
    ERROR_OUTPUT_TYPES,
    ERROR_SEGMENTS,
    ERRORS_ROOT,
    EVENT_SEGMENTS,
    EVENTS_ROOT,
    eventTypePartitions,
    layoutPath,
    schemaVersionPartitions,
    type PartitioningPolicy,
    type PartitionSegment,
} from "./partitioning";

/** Column types both engines read the same way. */
export type ScalarType = "string" | "int" | "bigint";

/** A column, or a field of a struct column. */
export interface ArchiveField {
    /** Lower case: Glue stores column names in lower case, and both engines resolve them case-insensitively. */
    name: string;
    /** The JSON key it is read from (matched exactly). */
    key: string;
    /** A scalar, or the fields of a struct. */
    type: ScalarType | readonly ArchiveField[];
    comment: string;
}

export interface ArchiveTable {
    name: string;
    comment: string;
    /** Where the table's objects start in the bucket. */
    root: string;
    /** Its partition columns, in folder order. */
    segments: readonly PartitionSegment[];
    columns: readonly ArchiveField[];
    /** Comments of the partition columns. */
    partitionComments: Readonly<Record<string, string>>;
}

const text = (name: string, key: string, comment: string): ArchiveField => ({ name, key, type: "string", comment });

const DATE_COMMENTS = {
    year: "UTC year Firehose wrote the object (yyyy)",
    month: "UTC month (MM, 01-12)",
    day: "UTC day of the month (dd, 01-31)",
};

/** Events as Firehose archives them: the EventBridge envelope, with `detail` as the client sent it (plus accountNumber). */
export const EVENTS_TABLE: ArchiveTable = {
    name: "events",
    comment: "Client events archived by Firehose (newline-delimited JSON, one EventBridge event per line)",
    root: EVENTS_ROOT,
    segments: EVENT_SEGMENTS,
    columns: [
        text("id", "id", "EventBridge event id (a new one for every PutEvents entry, resends included)"),
        text("detail_type", "detail-type", "EventBridge detail-type: the environment"),
        text("source", "source", "EventBridge source (clientevents)"),
        text("account", "account", "AWS account of the bus"),
        text("time", "time", "When EventBridge received the event (ISO-8601 UTC, seconds)"),
        text("region", "region", "AWS region of the bus"),
        {
            name: "detail",
            key: "detail",
            comment: "The event the client sent; accountNumber is set by the pipeline",
            type: [
                text("eventtype", "eventType", "eventType as sent (any JSON value, as text)"),
                text("schemaversion", "schemaVersion", "schemaVersion as sent (any JSON value, as text)"),
                text("eventid", "eventId", "The client's id of the event (resends keep it)"),
                text("accountnumber", "accountNumber", "The sender's clientId (from Cognito, never from the client)"),
                text("sessionid", "sessionId", "The client library's session id (a UUID per client lifetime or app install)"),
                text("sequence", "sequence", "The client library's number of the event in its session (1, 2, 3, ...), as text"),
                text("data", "data", "The client's data as JSON text: read it with json_extract / json_extract_scalar"),
            ],
        },
    ],
    partitionComments: {
        eventtype: "eventType partition: a listed type, _other (well-formed, not listed) or _invalid",
        schemaversion: "schemaVersion partition: 0 to the configured maximum, _other (larger) or _invalid",
        ...DATE_COMMENTS,
    },
};

/** Firehose's error records: what it could not deliver, with the record's bytes in base64 (`rawdata`). */
export const ERRORS_TABLE: ArchiveTable = {
    name: "errors",
    comment: "Records Firehose could not deliver (transform rejections, failed partition keys), one JSON error record per line",
    root: ERRORS_ROOT,
    segments: ERROR_SEGMENTS,
    columns: [
        { name: "attemptsmade", key: "attemptsMade", type: "int", comment: "Delivery attempts" },
        {
            name: "arrivaltimestamp",
            key: "arrivalTimestamp",
            type: "bigint",
            comment: "When Firehose received the record (ms since the epoch)",
        },
        text("errorcode", "errorCode", "e.g. Lambda.ProcessingFailedStatus, DynamicPartitioning.MetadataExtractionFailed"),
        text("errormessage", "errorMessage", "Firehose's explanation"),
        {
            name: "attemptendingtimestamp",
            key: "attemptEndingTimestamp",
            type: "bigint",
            comment: "When the last attempt ended (ms since the epoch)",
        },
        text("rawdata", "rawData", "The record as received, base64: from_utf8(from_base64(rawdata))"),
        text("lambdaarn", "lambdaArn", "The transform function, for processing-failed records"),
    ],
    partitionComments: {
        erroroutputtype: "Firehose's error output type (processing-failed, partitioning-failed, ...)",
        ...DATE_COMMENTS,
    },
};

export const ARCHIVE_TABLES: readonly ArchiveTable[] = [EVENTS_TABLE, ERRORS_TABLE];

/** The first year Firehose can have written (projected years run from it to the current year). */
export const FIRST_ARCHIVE_YEAR = 2025;

// --- Glue / Athena ---------------------------------------------------------------------------------

export const JSON_SERDE = "org.openx.data.jsonserde.JsonSerDe";
export const INPUT_FORMAT = "org.apache.hadoop.mapred.TextInputFormat";
export const OUTPUT_FORMAT = "org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat";

/** A type as Glue (Hive) writes it. */
export function hiveType(type: ArchiveField["type"]): string {
    if (typeof type === "string") return type;
    return `struct<${type.map((f) => `${f.name}:${hiveType(f.type)}`).join(",")}>`;
}

/** The table's data columns as Glue takes them. */
export function glueColumns(table: ArchiveTable): Array<{ name: string; type: string; comment: string }> {
    return table.columns.map((c) => ({ name: c.name, type: hiveType(c.type), comment: c.comment }));
}

/** The partition keys as Glue takes them (strings: the folder names, e.g. `_other` or `07`). */
export function gluePartitionKeys(table: ArchiveTable): Array<{ name: string; type: string; comment: string }> {
    return table.segments.map((s) => ({ name: s.column, type: "string", comment: table.partitionComments[s.column] ?? "" }));
}

/** OpenX SerDe properties: malformed lines become NULL rows, keys match exactly through `mapping.*`. */
export function serdeParameters(table: ArchiveTable): Record<string, string> {
    const parameters: Record<string, string> = { "ignore.malformed.json": "true", "case.insensitive": "false" };
    const visit = (fields: readonly ArchiveField[]) => {
        for (const field of fields) {
            // The mapping applies to every level of nesting, so one name must mean one key everywhere.
            const previous = parameters[`mapping.${field.name}`];
            if (previous !== undefined && previous !== field.key) {
                throw new Error(`table ${table.name}: field ${field.name} maps to both ${previous} and ${field.key}`);
            }
            if (field.key !== field.name) parameters[`mapping.${field.name}`] = field.key;
            if (typeof field.type !== "string") visit(field.type);
        }
    };
    visit(table.columns);
    return parameters;
}

/** `s3://<bucket>/<root>`: the table's LOCATION. */
export function tableLocation(table: ArchiveTable, bucketName: string): string {
    return `s3://${bucketName}/${table.root}`;
}

/** Athena's storage.location.template: the Firehose layout with `${column}` for every partition value. */
export function locationTemplate(table: ArchiveTable, bucketName: string): string {
    return `s3://${bucketName}/` + layoutPath(table.root, table.segments, (s) => `\${${s.column}}`);
}

/** Partition projection of one column: every value Firehose can write there, and nothing else. */
export function projectionOf(segment: PartitionSegment, policy: PartitioningPolicy): Record<string, string> {
    const source = segment.source;
    if ("partitionKey" in source) {
        const values = source.partitionKey === "eventType" ? eventTypePartitions(policy) : schemaVersionPartitions(policy);
        return { type: "enum", values: values.join(",") };
    }
    if ("errorOutputType" in source) return { type: "enum", values: ERROR_OUTPUT_TYPES.join(",") };
    switch (source.timestamp) {
        case "yyyy":
            return { type: "date", format: "yyyy", range: `${FIRST_ARCHIVE_YEAR},NOW`, interval: "1", "interval.unit": "YEARS" };
        case "MM":
            return { type: "integer", range: "1,12", digits: "2" };
        case "dd":
            return { type: "integer", range: "1,31", digits: "2" };
    }
}

/** The Glue table's parameters: JSON, external, and partition projection (no crawler, no MSCK REPAIR). */
export function tableParameters(table: ArchiveTable, policy: PartitioningPolicy, bucketName: string): Record<string, string> {
    const parameters: Record<string, string> = {
        EXTERNAL: "TRUE",
        classification: "json",
        "projection.enabled": "true",
        "storage.location.template": locationTemplate(table, bucketName),
    };
    for (const segment of table.segments) {
        for (const [property, value] of Object.entries(projectionOf(segment, policy))) {
            parameters[`projection.${segment.column}.${property}`] = value;
        }
    }
    return parameters;
}

// --- DuckDB ---------------------------------------------------------------------------------------

const sqlString = (value: string) => `'${value.replace(/'/g, "''")}'`;
const sqlIdentifier = (name: string) => `"${name.replace(/"/g, '""')}"`;
const escapeRegex = (value: string) => value.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/** A type as DuckDB writes it (struct fields under their JSON keys, as read_json matches them). */
export function duckdbType(type: ArchiveField["type"]): string {
    if (type === "string") return "VARCHAR";
    if (type === "int") return "INTEGER";
    if (type === "bigint") return "BIGINT";
    return `STRUCT(${type.map((f) => `${sqlIdentifier(f.key)} ${duckdbType(f.type)}`).join(", ")})`;
}

/** A column renamed from its JSON key to its table name (structs field by field). */
function duckdbProjection(field: ArchiveField, from: string): string {
    if (typeof field.type === "string") return from;
    const fields = field.type.map((f) => `${sqlIdentifier(f.name)} := ${duckdbProjection(f, `${from}.${sqlIdentifier(f.key)}`)}`);
    return `CASE WHEN ${from} IS NULL THEN NULL ELSE struct_pack(${fields.join(", ")}) END`;
}

/**
 * The glob of every object of the table under a local bucket directory: the template with `*` for each value,
 * and object names not starting with "." (local mode's files being written; Athena skips such names too).
 */
export function duckdbGlob(table: ArchiveTable, bucketDir: string): string {
    return `${bucketDir}/` + layoutPath(table.root, table.segments, () => "*") + "[!.]*";
}

/**
 * `CREATE VIEW <table>` over local mode's bucket directory: the same columns and partition columns as the
 * Glue table. Partition values come from each object's path, matched against the same layout. Malformed
 * lines become rows of NULLs, as with `ignore.malformed.json`; `.gz` objects are read by their extension, as
 * Athena does. `hasObjects` false gives an empty view of the same shape (read_json refuses an empty glob).
 */
export function duckdbViewSql(table: ArchiveTable, bucketDir: string, hasObjects: boolean): string {
    const pathPattern =
        "^" + escapeRegex(`${bucketDir}/`) + layoutPath(escapeRegex(table.root), table.segments, () => "([^/]*)") + "[^/]*$";
    const columns = table.columns.map((c) => `${duckdbProjection(c, sqlIdentifier(c.key))} AS ${sqlIdentifier(c.name)}`);
    const partitions = table.segments.map(
        (s, i) => `regexp_extract(filename, ${sqlString(pathPattern)}, ${i + 1}) AS ${sqlIdentifier(s.column)}`,
    );
    const source = hasObjects
        ? `read_json(${sqlString(duckdbGlob(table, bucketDir))}, format = 'newline_delimited', ignore_errors = true, ` +
          `filename = true, hive_partitioning = false, columns = {${table.columns.map((c) => `${sqlString(c.key)}: ${sqlString(duckdbType(c.type))}`).join(", ")}})`
        : `(SELECT ${table.columns.map((c) => `CAST(NULL AS ${duckdbType(c.type)}) AS ${sqlIdentifier(c.key)}`).join(", ")}, CAST(NULL AS VARCHAR) AS filename WHERE false)`;
    return `CREATE OR REPLACE TEMP VIEW ${sqlIdentifier(table.name)} AS SELECT ${[...columns, ...partitions].join(", ")} FROM ${source}`;
}

/**
 * Trino functions the named queries and docs use, as DuckDB macros where DuckDB lacks them or differs, so
 * one SQL text runs on both engines. Trino's JSON functions return NULL for text that is not JSON (a `data`
 * that was a JSON string is stored as its bare text); DuckDB's fail the query, so the macros check first.
 */
export const DUCKDB_COMPATIBILITY_MACROS: readonly string[] = [
    // Trino: varbinary -> varchar. Invalid UTF-8: Trino substitutes U+FFFD, this gives NULL.
    "CREATE OR REPLACE TEMP MACRO from_utf8(b) AS try(decode(b))",
    "CREATE OR REPLACE TEMP MACRO json_extract(j, p) AS CASE WHEN json_valid(j) THEN system.main.json_extract(j, p) END",
    // Trino returns NULL for objects and arrays; DuckDB's json_extract_string would return their text.
    "CREATE OR REPLACE TEMP MACRO json_extract_scalar(j, p) AS CASE WHEN json_valid(j) " +
        "AND json_type(system.main.json_extract(j, p)) NOT IN ('OBJECT', 'ARRAY') THEN system.main.json_extract_string(j, p) END",
    // Trino's regexp_like is a partial match, as regexp_matches is (anchor the pattern for a whole match).
    "CREATE OR REPLACE TEMP MACRO regexp_like(s, p) AS regexp_matches(s, p)",
    // Trino: ISO-8601 text -> timestamp with time zone (it fails on other text; wrap it in try() there).
    "CREATE OR REPLACE TEMP MACRO from_iso8601_timestamp(s) AS TRY_CAST(s AS TIMESTAMPTZ)",
];
