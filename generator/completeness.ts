/**
 * `verify --completeness`: the `completeness` named query (pipeline/named-queries.ts), without a manifest,
 * over local mode's archive (DuckDB) or the deployed stack's (Athena). It prints the per-client rows and a
 * total, and fails (EXIT.LOST) when events are missing among finished sessions; events of sessions still
 * active are reported apart and never fail it.
 */
import type { AthenaClient } from "@aws-sdk/client-athena";
import { bindParameters, findNamedQuery, sqlFor, type QueryEngine } from "../pipeline/named-queries";
import { formatTable, QueryFailed, QueryUsageError, rowObjects, type QueryResult } from "../query/result";
import { CliError, EXIT } from "./errors";
import { readStackOutputs, type Exec } from "./settings";

/** The numeric columns of the query that add up to the total. */
const SUMMED = [
    "sessions",
    "expected",
    "received",
    "quarantined",
    "missing",
    "active_sessions",
    "active_expected",
    "active_received",
    "unsequenced",
] as const;

export type CompletenessTotals = Record<(typeof SUMMED)[number], number> & { loss_rate: number | null };

export interface CompletenessReport {
    /** Where the query ran: the data directory, or the Athena workgroup and database. */
    source: string;
    activeMinutes: number;
    rows: Array<Record<string, unknown>>;
    totals: CompletenessTotals;
}

/** Where to run: local mode's data directory, or Athena (settings from flags or the stack outputs). */
export type CompletenessTarget =
    | { local: true; dataDir: string }
    | { local: false; stack?: string; region?: string; exec: Exec; athena?: (region: string) => AthenaClient; timeoutMs?: number };

/** The query's SQL and bound parameters for an engine; `activeMinutes` undefined takes the query's default. */
function statement(engine: QueryEngine, activeMinutes: number | undefined): { sql: string; parameters: Array<string | number> } {
    const query = findNamedQuery("completeness");
    if (!query) throw new Error("the completeness named query is missing from pipeline/named-queries.ts");
    const given: Record<string, string> = activeMinutes === undefined ? {} : { activeMinutes: String(activeMinutes) };
    return { sql: sqlFor(query, engine), parameters: bindParameters(query, given) };
}

async function runOnAthena(
    target: Extract<CompletenessTarget, { local: false }>,
    sql: string,
    parameters: Array<string | number>,
): Promise<{ result: QueryResult; source: string }> {
    let outputs: Record<string, unknown>;
    try {
        outputs = await readStackOutputs(target.stack, target.exec);
    } catch (err) {
        throw new CliError(`${(err as Error).message} (or pass --local for local mode)`, EXIT.CONFIG);
    }
    const text = (name: string) => (typeof outputs[name] === "string" && outputs[name] !== "" ? (outputs[name] as string) : undefined);
    const workgroup = text("queryWorkgroup");
    const database = text("queryDatabase");
    const region = target.region ?? text("region");
    if (!workgroup || !database) {
        throw new CliError(
            "the stack has no queryWorkgroup / queryDatabase outputs: deploy with client-events:queryEnabled true (the default)",
            EXIT.CONFIG,
        );
    }
    if (!region) throw new CliError("no region: pass --region", EXIT.CONFIG);
    const { AthenaClient: Client } = await import("@aws-sdk/client-athena");
    const { runAthenaQuery } = await import("../query/athena-engine");
    const client = target.athena?.(region) ?? new Client({ region });
    const result = await runAthenaQuery(client, { workgroup, database }, sql, parameters, { timeoutMs: target.timeoutMs });
    return { result, source: `Athena workgroup ${workgroup}, database ${database} (${region})` };
}

/** A counting column of a result row, checked: a result that is not the query's must fail, never pass as 0 missing. */
function count(row: Record<string, unknown>, column: string, index: number): number {
    const value = row[column];
    if (typeof value !== "number" || !Number.isSafeInteger(value)) {
        throw new CliError(`completeness: column ${column} of row ${index + 1} is ${JSON.stringify(value)}, not a count`, EXIT.CONFIG);
    }
    return value;
}

/** Runs the query and adds the rows up: the report, and the query's result as the engine gave it (for the table). */
export async function checkCompleteness(
    target: CompletenessTarget,
    activeMinutes?: number,
): Promise<{ report: CompletenessReport; result: QueryResult }> {
    const { sql, parameters } = statement(target.local ? "duckdb" : "athena", activeMinutes);
    let ran: { result: QueryResult; source: string };
    try {
        if (target.local) {
            const { runLocalQuery } = await import("../query/local-engine");
            ran = { result: await runLocalQuery(target.dataDir, sql, parameters), source: target.dataDir };
        } else {
            ran = await runOnAthena(target, sql, parameters);
        }
    } catch (err) {
        if (err instanceof QueryUsageError) throw new CliError(err.message, EXIT.CONFIG);
        if (err instanceof QueryFailed) throw new CliError(`the completeness query failed: ${err.message}`, EXIT.CONFIG);
        throw err;
    }
    const rows = rowObjects(ran.result);
    const totals = Object.fromEntries(
        SUMMED.map((column) => [column, rows.reduce((n, row, i) => n + count(row, column, i), 0)]),
    ) as CompletenessTotals;
    totals.loss_rate = totals.expected > 0 ? Math.round((totals.missing / totals.expected) * 1e6) / 1e6 : null;
    return { report: { source: ran.source, activeMinutes: Number(parameters[0]), rows, totals }, result: ran.result };
}

/** The rows as the query printed them, then the total and what it means. */
export function formatCompleteness(report: CompletenessReport, result: QueryResult): string {
    const t = report.totals;
    const table = formatTable(result);
    const lossRate = t.loss_rate === null ? "n/a" : `${(t.loss_rate * 100).toFixed(4)}%`;
    return (
        `${report.source}\n${table}` +
        `total: ${t.sessions} finished session(s), ${t.expected} expected, ${t.received} received (${t.quarantined} quarantined), ` +
        `${t.missing} missing, loss rate ${lossRate}\n` +
        `still active (last event within ${report.activeMinutes} min, not counted): ${t.active_sessions} session(s), ` +
        `${t.active_received} of ${t.active_expected} received so far; ${t.unsequenced} event(s) without sessionId/sequence\n`
    );
}
