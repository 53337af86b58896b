/**
 * SQL in the deployed stack's Athena workgroup: StartQueryExecution, GetQueryExecution polled with
 * exponential backoff until the query ends, then every page of GetQueryResults. The workgroup enforces its
 * own result location, encryption and scan limit, so none is sent here.
 */
import {
    AthenaClient,
    GetQueryExecutionCommand,
    GetQueryResultsCommand,
    StartQueryExecutionCommand,
    StopQueryExecutionCommand,
    type ColumnInfo,
    type QueryExecution,
} from "@aws-sdk/client-athena";
import { athenaLiteral } from "../pipeline/named-queries";
import { normalizeValue, QueryFailed, type QueryResult } from "./result";

export interface AthenaTarget {
    workgroup: string;
    database: string;
    /** Glue is Athena's catalog here. */
    catalog?: string;
}

export interface AthenaRunOptions {
    /** Give up (and stop the query) after this long. Default 5 minutes. */
    timeoutMs?: number;
    /** First wait between polls; doubles up to maxPollMs. */
    firstPollMs?: number;
    maxPollMs?: number;
    sleep?: (ms: number) => Promise<void>;
    now?: () => number;
    /** Checked between polls: true stops the query (Ctrl-C). */
    cancelled?: () => boolean;
}

const TERMINAL = new Set(["SUCCEEDED", "FAILED", "CANCELLED"]);

/** Athena's type names (varchar, bigint, ...) in the upper-case words the formatter knows. */
function columnType(info: ColumnInfo): string {
    const type = (info.Type ?? "varchar").toUpperCase();
    return type === "INTEGER" || type === "INT" ? "INTEGER" : type.replace(/\(.*$/s, "");
}

/** Why a query ended without results, in Athena's words. */
function failureMessage(execution: QueryExecution | undefined, id: string): string {
    const status = execution?.Status;
    const reason = status?.StateChangeReason ?? status?.AthenaError?.ErrorMessage ?? "no reason given";
    return `Athena query ${id} ${status?.State ?? "ended"}: ${reason}`;
}

async function waitForEnd(client: AthenaClient, id: string, options: AthenaRunOptions): Promise<QueryExecution> {
    const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
    const now = options.now ?? Date.now;
    const deadline = now() + (options.timeoutMs ?? 300_000);
    let delay = options.firstPollMs ?? 250;
    for (;;) {
        const { QueryExecution: execution } = await client.send(new GetQueryExecutionCommand({ QueryExecutionId: id }));
        if (execution && TERMINAL.has(execution.Status?.State ?? "")) return execution;
        if (options.cancelled?.() || now() >= deadline) {
            await client.send(new StopQueryExecutionCommand({ QueryExecutionId: id })).catch(() => undefined);
            throw new QueryFailed(
                options.cancelled?.() ? `Athena query ${id} stopped` : `Athena query ${id} did not finish in time; it was stopped`,
            );
        }
        await sleep(delay);
        delay = Math.min(delay * 2, options.maxPollMs ?? 5000);
    }
}

/** Runs one query and reads every page of its result. Throws QueryFailed with Athena's reason when it fails. */
export async function runAthenaQuery(
    client: AthenaClient,
    target: AthenaTarget,
    sql: string,
    parameters: ReadonlyArray<string | number> = [],
    options: AthenaRunOptions = {},
): Promise<QueryResult> {
    let id: string | undefined;
    try {
        ({ QueryExecutionId: id } = await client.send(
            new StartQueryExecutionCommand({
                QueryString: sql,
                WorkGroup: target.workgroup,
                QueryExecutionContext: { Database: target.database, Catalog: target.catalog ?? "AwsDataCatalog" },
                ExecutionParameters: parameters.length > 0 ? parameters.map(athenaLiteral) : undefined,
            }),
        ));
    } catch (err) {
        // An invalid query (e.g. a syntax error) can be refused here, with Athena's message.
        throw new QueryFailed(`Athena did not start the query: ${(err as Error).message}`);
    }
    if (!id) throw new QueryFailed("Athena returned no query execution id");
    const execution = await waitForEnd(client, id, options);
    if (execution.Status?.State !== "SUCCEEDED") throw new QueryFailed(failureMessage(execution, id));

    let columns: ColumnInfo[] | undefined;
    const rows: unknown[][] = [];
    let token: string | undefined;
    let first = true;
    do {
        const page = await client.send(new GetQueryResultsCommand({ QueryExecutionId: id, NextToken: token }));
        columns ??= page.ResultSet?.ResultSetMetadata?.ColumnInfo ?? [];
        const types = columns.map(columnType);
        const pageRows = page.ResultSet?.Rows ?? [];
        // The first row of a SELECT's (DML's) first page holds the column names.
        const skip = first && execution.StatementType === "DML" ? 1 : 0;
        for (const row of pageRows.slice(skip)) {
            rows.push(types.map((type, i) => normalizeValue(type, row.Data?.[i]?.VarCharValue)));
        }
        token = page.NextToken;
        first = false;
    } while (token);
    return { columns: (columns ?? []).map((c) => ({ name: c.Label ?? c.Name ?? "", type: columnType(c) })), rows };
}
