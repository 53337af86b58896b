/**
 * The named queries: saved in the Athena workgroup by the ArchiveQuery component, and run offline by
 * `npm run query -- --local --named <name>`. Each is written once, in SQL that Athena (Trino) and DuckDB
 * both run over the tables of pipeline/archive-table.ts (DuckDB gets Trino's missing functions as macros,
 * DUCKDB_COMPATIBILITY_MACROS). A query that cannot be written once gives `{ athena, duckdb }` instead.
 *
 * Adding a query is one entry in NAMED_QUERIES. Parameters are `?` placeholders, bound in the order of
 * `parameters`; Athena accepts them only in the WHERE clause, never inside quotes.
 */

export interface QueryParameter {
    name: string;
    description: string;
    type: "string" | "integer";
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
        parameters: [{ name: "clientId", description: "the client's id (custom:clientId in Cognito, detail.accountNumber in the archive)", type: "string" }],
    },
    {
        name: "duplicate-events",
        description: "Events archived more than once (same client, same eventId: the client library resends after a timeout), most copies first.",
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
        description: "Every event once: the first archived copy of each (client, eventId); events without an eventId are kept as they are. Use it as a subquery.",
        sql: `SELECT id, "time", eventtype, schemaversion, year, month, day, detail
FROM (
  SELECT e.*, row_number() OVER (PARTITION BY detail.accountnumber, coalesce(detail.eventid, id) ORDER BY "time", id) AS copy
  FROM events e
) numbered
WHERE copy = 1`,
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
    const usage = parameters.length === 0 ? "it takes no parameters"
        : `it takes ${parameters.map((p) => `--param ${p.name}=<${p.type}>`).join(" ")}`;
    const unknown = Object.keys(given).filter((k) => !known.has(k));
    if (unknown.length > 0) throw new Error(`${query.name} has no parameter ${unknown.join(", ")}: ${usage}`);
    return parameters.map((p) => {
        const value = given[p.name];
        if (value === undefined) throw new Error(`${query.name} needs ${p.name} (${p.description}): ${usage}`);
        if (p.type === "integer") {
            if (!/^-?\d{1,15}$/.test(value)) throw new Error(`${query.name}: ${p.name} must be a whole number, got ${JSON.stringify(value)}`);
            return Number(value);
        }
        return value;
    });
}

/** A value as an Athena execution parameter: a SQL literal (strings quoted, quotes doubled). */
export function athenaLiteral(value: string | number): string {
    return typeof value === "number" ? String(value) : `'${value.replace(/'/g, "''")}'`;
}
