/**
 * The named queries: saved in the Athena workgroup by the ArchiveQuery component, and run offline by
 * `npm run query -- --local --named <name>`. Each is written once, in SQL that Athena (Trino) and DuckDB
 * both run over the tables of pipeline/archive-table.ts (DuckDB gets Trino's missing functions as macros,
 * DUCKDB_COMPATIBILITY_MACROS). A query that cannot be written once gives `{ athena, duckdb }` instead.
 *
 * Adding a query is one entry in NAMED_QUERIES. Parameters are `?` placeholders, bound in the order of
 * `parameters`; Athena accepts them only in the WHERE clause, never inside quotes.
 */
import { BUFFERING, TRANSFORM_INVOCATION } from "./partitioning";

export interface QueryParameter {
    name: string;
    description: string;
    type: "string" | "integer";
    /** The value when none is given (the CLI's default; Athena's console asks for every value). */
    default?: string;
}

export interface NamedQuery {
    /** Lower-case words joined by "-": the name `--named` takes and the saved query's name in Athena. */
    name: string;
    /** One line (Athena shows it next to the saved query). */
    description: string;
    /** The SQL, or one SQL per engine. */
    sql: string | { athena: string; duckdb: string };
    parameters?: readonly QueryParameter[];
}

export type QueryEngine = "athena" | "duckdb";

/**
 * How recent (minutes) a session's last stored event must be for `completeness` to count the session as still
 * active. An event the client sent after its session's last stored one can still be on its way: in the client's
 * retries (8 attempts, at most 20 s apart: under 3 minutes), in the transform's buffer and in Firehose's buffer
 * (firehoseBufferIntervalSeconds, default BUFFERING.defaultIntervalSeconds). So: both buffers, rounded up to
 * minutes, plus 5 minutes for the retries and Firehose's own delivery retries. A stack configured with a
 * longer buffer should pass a larger value.
 */
export const DEFAULT_ACTIVE_MINUTES = Math.ceil((BUFFERING.defaultIntervalSeconds + TRANSFORM_INVOCATION.bufferIntervalSeconds) / 60) + 5;

/** A sequence number the client library can have stamped: a whole number from 1 (the schemas allow up to 2^53 - 1, 16 digits). */
const SEQUENCE_PATTERN = "^[1-9][0-9]{0,15}$";

/**
 * `completeness`: per UTC day and client, the events the client library numbered against those that reached
 * storage. Sessions are (accountNumber, sessionId) pairs, so one client cannot touch another's counts; a
 * session's day is the day of its first stored event (EventBridge `time`), so a session crossing midnight is
 * counted once. Every distinct sequence number found counts once (duplicates, any arrival order); one found
 * only under errors/ (quarantined: a schema violation, or another record Firehose could not deliver, whose
 * rawData is the event) reached storage, so it is received, and shown apart as `quarantined`. A record the
 * transform rejected is the event before the transform: its client is the API's `resources[0]` (an
 * accountNumber in it is the client's own claim); other error records were transformed (`detail.accountNumber`).
 * Events without a usable sessionId/sequence are counted apart (`unsequenced`); rows without an accountNumber
 * (malformed lines, undecodable error records) are left out.
 */
const COMPLETENESS_SQL = `WITH stored AS (
  SELECT detail.accountnumber AS client_id, detail.sessionid AS session_id, detail.sequence AS sequence_text, "time" AS event_time, 0 AS in_errors
  FROM events
  UNION ALL
  SELECT CASE WHEN erroroutputtype = 'processing-failed' THEN json_extract_scalar(record, '$.resources[0]') ELSE json_extract_scalar(record, '$.detail.accountNumber') END,
    json_extract_scalar(record, '$.detail.sessionId'), json_extract_scalar(record, '$.detail.sequence'), json_extract_scalar(record, '$.time'), 1
  FROM (SELECT erroroutputtype, from_utf8(try(from_base64(rawdata))) AS record FROM errors) quarantine
),
classified AS (
  SELECT client_id, session_id, sequence_text, event_time, in_errors,
    coalesce(session_id <> '' AND regexp_like(sequence_text, '${SEQUENCE_PATTERN}'), false) AS stamped
  FROM stored
  WHERE client_id IS NOT NULL
),
sequences AS (
  SELECT client_id, session_id, TRY_CAST(sequence_text AS BIGINT) AS seq, min(event_time) AS first_time, max(event_time) AS last_time, min(in_errors) AS only_in_errors
  FROM classified
  WHERE stamped
  GROUP BY client_id, session_id, sequence_text
),
sessions AS (
  SELECT client_id, session_id, substr(min(first_time), 1, 10) AS day_utc, max(seq) AS expected, count(*) AS received,
    sum(only_in_errors) AS quarantined, max(last_time) AS last_time
  FROM sequences
  GROUP BY client_id, session_id
),
active AS (
  SELECT client_id, session_id
  FROM sessions
  WHERE try(from_iso8601_timestamp(last_time)) > current_timestamp - ? * INTERVAL '1' MINUTE
),
per_session AS (
  SELECT s.day_utc, s.client_id, CASE WHEN a.session_id IS NULL THEN 1 ELSE 0 END AS finished, s.expected, s.received, s.quarantined
  FROM sessions s
  LEFT JOIN active a ON a.client_id = s.client_id AND a.session_id = s.session_id
),
tallies AS (
  SELECT day_utc, client_id, finished AS sessions, finished * expected AS expected, finished * received AS received,
    finished * quarantined AS quarantined, 1 - finished AS active_sessions, (1 - finished) * expected AS active_expected,
    (1 - finished) * received AS active_received, 0 AS unsequenced
  FROM per_session
  UNION ALL
  SELECT substr(event_time, 1, 10), client_id, 0, 0, 0, 0, 0, 0, 0, count(*)
  FROM classified
  WHERE NOT stamped
  GROUP BY substr(event_time, 1, 10), client_id
)
SELECT day_utc, client_id, sum(sessions) AS sessions, sum(expected) AS expected, sum(received) AS received,
  sum(quarantined) AS quarantined, sum(expected) - sum(received) AS missing,
  CASE WHEN sum(expected) > 0 THEN round(CAST(sum(expected) - sum(received) AS DOUBLE) / sum(expected), 6) END AS loss_rate,
  sum(active_sessions) AS active_sessions, sum(active_expected) AS active_expected, sum(active_received) AS active_received,
  sum(unsequenced) AS unsequenced
FROM tallies
GROUP BY day_utc, client_id
ORDER BY day_utc, client_id`;

export const NAMED_QUERIES: readonly NamedQuery[] = [
    {
        name: "events-per-type-per-day",
        description: "Events archived per UTC day and eventType partition, with the number of distinct clients that sent them.",
        sql: `SELECT year || '-' || month || '-' || day AS day_utc, eventtype, count(*) AS events, count(DISTINCT detail.accountnumber) AS clients
FROM events
GROUP BY year, month, day, eventtype
ORDER BY day_utc, eventtype`,
    },
    {
        name: "last-events-of-client",
        description: "The 100 most recent events of one clientId (the accountNumber the pipeline stamps), newest first.",
        sql: `SELECT "time", eventtype, detail.eventtype AS sent_eventtype, detail.schemaversion AS sent_schemaversion, detail.eventid AS event_id, detail.data AS data
FROM events
WHERE detail.accountnumber = ?
ORDER BY "time" DESC, id DESC
LIMIT 100`,
        parameters: [
            {
                name: "clientId",
                description: "the client's id (custom:clientId in Cognito, detail.accountNumber in the archive)",
                type: "string",
            },
        ],
    },
    {
        name: "duplicate-events",
        description:
            "Events archived more than once (same client, same eventId: the client library resends after a timeout), most copies first.",
        sql: `SELECT detail.accountnumber AS client_id, detail.eventid AS event_id, count(*) AS copies, min("time") AS first_time, max("time") AS last_time
FROM events
WHERE detail.eventid IS NOT NULL
GROUP BY detail.accountnumber, detail.eventid
HAVING count(*) > 1
ORDER BY copies DESC, client_id, event_id
LIMIT 1000`,
    },
    {
        name: "errors-last-day",
        description: "Records Firehose could not deliver since the start of yesterday (UTC), by error output type, code and message.",
        sql: `SELECT erroroutputtype, errorcode, errormessage, count(*) AS records
FROM errors
WHERE year || '-' || month || '-' || day >= CAST(CAST(current_date - INTERVAL '1' DAY AS DATE) AS VARCHAR)
GROUP BY erroroutputtype, errorcode, errormessage
ORDER BY records DESC, erroroutputtype, errorcode, errormessage`,
    },
    {
        name: "events-deduplicated",
        description:
            "Every event once: the first archived copy of each (client, eventId); events without an eventId are kept as they are. Use it as a subquery.",
        sql: `SELECT id, "time", eventtype, schemaversion, year, month, day, detail
FROM (
  SELECT e.*, row_number() OVER (PARTITION BY detail.accountnumber, coalesce(detail.eventid, id) ORDER BY "time", id) AS copy
  FROM events e
) numbered
WHERE copy = 1`,
    },
    {
        name: "completeness",
        description:
            "Per UTC day and client: events the client library numbered (highest sequence per session) against those stored (distinct, quarantined ones included), missing and loss rate; sessions still active reported apart.",
        sql: COMPLETENESS_SQL,
        parameters: [
            {
                name: "activeMinutes",
                description: `a session whose last stored event is more recent than this many minutes is still active (its events may be in flight) and reported apart; 0 treats every session as finished (default ${DEFAULT_ACTIVE_MINUTES})`,
                type: "integer",
                default: String(DEFAULT_ACTIVE_MINUTES),
            },
        ],
    },
];

/** The named query called `name`, or undefined. */
export function findNamedQuery(name: string): NamedQuery | undefined {
    return NAMED_QUERIES.find((q) => q.name === name);
}

/** The query's SQL for an engine. */
export function sqlFor(query: NamedQuery, engine: QueryEngine): string {
    return typeof query.sql === "string" ? query.sql : query.sql[engine];
}

/**
 * The parameter values in placeholder order, checked: every parameter given, no unknown ones, integers whole.
 * Throws an Error whose message names the query's parameters.
 */
export function bindParameters(query: NamedQuery, given: Readonly<Record<string, string>>): Array<string | number> {
    const parameters = query.parameters ?? [];
    const known = new Set(parameters.map((p) => p.name));
    const usage =
        parameters.length === 0
            ? "it takes no parameters"
            : `it takes ${parameters.map((p) => `--param ${p.name}=<${p.type}>${p.default !== undefined ? ` (default ${p.default})` : ""}`).join(" ")}`;
    const unknown = Object.keys(given).filter((k) => !known.has(k));
    if (unknown.length > 0) throw new Error(`${query.name} has no parameter ${unknown.join(", ")}: ${usage}`);
    return parameters.map((p) => {
        const value = given[p.name] ?? p.default;
        if (value === undefined) throw new Error(`${query.name} needs ${p.name} (${p.description}): ${usage}`);
        if (p.type === "integer") {
            if (!/^-?\d{1,15}$/.test(value))
                throw new Error(`${query.name}: ${p.name} must be a whole number, got ${JSON.stringify(value)}`);
            return Number(value);
        }
        return value;
    });
}

/** A value as an Athena execution parameter: a SQL literal (strings quoted, quotes doubled). */
export function athenaLiteral(value: string | number): string {
    return typeof value === "number" ? String(value) : `'${value.replace(/'/g, "''")}'`;
}
