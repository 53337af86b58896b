/**
 * `npm run query -- [options] [SQL]`: SQL, or a named query, over the archive. With --local it runs DuckDB
 * over local mode's archive; otherwise Athena in the deployed stack's workgroup, found from the stack
 * outputs as the generator finds its settings. `runQueryCli` takes its I/O as arguments and returns the
 * exit code, so tests run it in-process; query/main.ts wires it to the process.
 */
import type { AthenaClient } from "@aws-sdk/client-athena";
import { Command, CommanderError, InvalidArgumentError } from "commander";
import { defaultExec, readStackOutputs, type Exec } from "../generator/settings";
import { bindParameters, findNamedQuery, NAMED_QUERIES, sqlFor, type QueryEngine } from "../pipeline/named-queries";
import type { AthenaRunOptions } from "./athena-engine";
import { formatJson, formatTable, QueryFailed, QueryUsageError, type QueryResult } from "./result";

/** Where local mode keeps its data unless started with --data-dir. */
export const DEFAULT_DATA_DIR = ".local";

export const QUERY_EXIT = { OK: 0, FAILED: 1, USAGE: 2 } as const;

export interface QueryCliIO {
    stdout: (text: string) => void;
    stderr: (text: string) => void;
    env: NodeJS.ProcessEnv;
    /** Runs `pulumi` (stack outputs); default execFile. */
    exec?: Exec;
    /** The Athena client to use; default one for the resolved region. */
    athena?: (region: string) => AthenaClient;
    /** Polling clock and cancellation for Athena. */
    athenaOptions?: AthenaRunOptions;
}

interface QueryFlags {
    local?: boolean;
    dataDir?: string;
    stack?: string;
    region?: string;
    workgroup?: string;
    database?: string;
    named?: string;
    param: Record<string, string>;
    list?: boolean;
    json?: boolean;
    timeout: number;
}

const EXIT_HELP = `
Tables: events and errors (see docs/query.md). Exit codes: 0 done, 1 the query failed (the engine's message
is printed), 2 bad flags, no archive yet, or missing settings.

Examples:
  npm run query -- --local --named events-per-type-per-day
  npm run query -- --local "SELECT eventtype, count(*) AS events FROM events GROUP BY eventtype"
  npm run query -- --local --named last-events-of-client --param clientId=<uuid> --json
  npm run query -- --stack dev --named errors-last-day
  npm run query -- --list
`;

function keyValue(value: string, previous: Record<string, string>): Record<string, string> {
    const eq = value.indexOf("=");
    if (eq <= 0) throw new InvalidArgumentError(`expected key=value, got ${JSON.stringify(value)}`);
    return { ...previous, [value.slice(0, eq)]: value.slice(eq + 1) };
}

function positiveSeconds(value: string): number {
    const n = Number(value);
    if (!/^\d+$/.test(value) || n < 1) throw new InvalidArgumentError("expected a whole number of seconds, at least 1");
    return n;
}

/** The named queries: one entry each (name, parameters, description), or JSON. */
function namedQueryList(json: boolean): string {
    const entries = NAMED_QUERIES.map((q) => ({
        name: q.name,
        parameters: (q.parameters ?? []).map((p) => ({ ...p })),
        description: q.description,
    }));
    if (json) return JSON.stringify(entries, null, 2) + "\n";
    return entries
        .map((q) => {
            const usage = q.parameters.map((p) => ` --param ${p.name}=<${p.type}>`).join("");
            const details = q.parameters.map((p) => `\n    ${p.name}: ${p.description}`).join("");
            return `--named ${q.name}${usage}\n    ${q.description}${details}\n`;
        })
        .join("");
}

/** What to run: the SQL and its parameters, for the chosen engine. */
function statement(
    flags: QueryFlags,
    sqlArgument: string | undefined,
    engine: QueryEngine,
): { sql: string; parameters: Array<string | number> } {
    if (flags.named !== undefined) {
        if (sqlArgument !== undefined) throw new QueryUsageError("give either SQL or --named, not both");
        const query = findNamedQuery(flags.named);
        if (!query)
            throw new QueryUsageError(
                `no named query ${JSON.stringify(flags.named)}; --list shows them: ${NAMED_QUERIES.map((q) => q.name).join(", ")}`,
            );
        try {
            return { sql: sqlFor(query, engine), parameters: bindParameters(query, flags.param) };
        } catch (err) {
            throw new QueryUsageError((err as Error).message);
        }
    }
    if (Object.keys(flags.param).length > 0) throw new QueryUsageError("--param goes with --named");
    if (sqlArgument === undefined) throw new QueryUsageError("nothing to run: give SQL, --named NAME or --list (see --help)");
    return { sql: sqlArgument, parameters: [] };
}

/** The workgroup, database and region: flags, then the environment, then the stack outputs. */
async function athenaSettings(flags: QueryFlags, io: QueryCliIO): Promise<{ region: string; workgroup: string; database: string }> {
    const settings = {
        region: flags.region ?? io.env.AWS_REGION ?? io.env.AWS_DEFAULT_REGION,
        workgroup: flags.workgroup,
        database: flags.database,
    };
    if (!settings.workgroup || !settings.database || !settings.region) {
        let outputs: Record<string, unknown>;
        try {
            outputs = await readStackOutputs(flags.stack, io.exec ?? defaultExec);
        } catch (err) {
            throw new QueryUsageError(
                `${(err as Error).message} (or pass --workgroup, --database and --region; --local queries local mode)`,
            );
        }
        const text = (name: string) => (typeof outputs[name] === "string" && outputs[name] !== "" ? (outputs[name] as string) : undefined);
        settings.workgroup ??= text("queryWorkgroup");
        settings.database ??= text("queryDatabase");
        settings.region ??= text("region");
        if (!settings.workgroup || !settings.database) {
            throw new QueryUsageError(
                `the stack${flags.stack ? ` ${flags.stack}` : ""} has no queryWorkgroup / queryDatabase outputs: ` +
                    "deploy with client-events:queryEnabled true (the default), or pass --workgroup and --database",
            );
        }
        if (!settings.region) throw new QueryUsageError("no region: pass --region or set AWS_REGION");
    }
    return settings as { region: string; workgroup: string; database: string };
}

async function run(flags: QueryFlags, sqlArgument: string | undefined, io: QueryCliIO): Promise<void> {
    let result: QueryResult;
    if (flags.list) {
        if (sqlArgument !== undefined || flags.named !== undefined) throw new QueryUsageError("--list takes no SQL and no --named");
        io.stdout(namedQueryList(flags.json === true));
        return;
    }
    if (flags.local || flags.dataDir !== undefined) {
        const { sql, parameters } = statement(flags, sqlArgument, "duckdb");
        // Each engine loads only when used (the AWS SDK and DuckDB take a second or two to load).
        const { runLocalQuery } = await import("./local-engine");
        result = await runLocalQuery(flags.dataDir ?? DEFAULT_DATA_DIR, sql, parameters);
    } else {
        const { sql, parameters } = statement(flags, sqlArgument, "athena");
        const settings = await athenaSettings(flags, io);
        const { AthenaClient } = await import("@aws-sdk/client-athena");
        const { runAthenaQuery } = await import("./athena-engine");
        const client = io.athena?.(settings.region) ?? new AthenaClient({ region: settings.region });
        result = await runAthenaQuery(client, settings, sql, parameters, { timeoutMs: flags.timeout * 1000, ...io.athenaOptions });
    }
    io.stdout(flags.json ? formatJson(result) : formatTable(result));
}

export async function runQueryCli(argv: string[], io: QueryCliIO): Promise<number> {
    let pending: Promise<void> | undefined;
    const program = new Command("npm run query --")
        .description(
            "Run SQL or a named query over the archive (query/cli.ts): local mode's with --local (DuckDB), else the deployed stack's (Athena).",
        )
        .argument("[sql]", "one SELECT over the tables events and errors")
        .option("--local", "query local mode's archive with DuckDB (nothing is written)")
        .option("--data-dir <dir>", `local mode's data directory (implies --local; default ${DEFAULT_DATA_DIR})`)
        .option("--stack <name>", "Pulumi stack whose outputs name the workgroup, database and region (default: the current stack)")
        .option("--region <region>", "AWS region (default: $AWS_REGION, else the stack output region)")
        .option("--workgroup <name>", "Athena workgroup (default: the stack output queryWorkgroup)")
        .option("--database <name>", "Glue database (default: the stack output queryDatabase)")
        .option("--named <name>", "run a named query (see --list)")
        .option("--param <key=value>", "a named query's parameter (repeat for several)", keyValue, {})
        .option("--list", "list the named queries")
        .option("--json", "print a JSON array of row objects instead of a table")
        .option("--timeout <seconds>", "longest wait for Athena before the query is stopped", positiveSeconds, 300)
        .exitOverride()
        .configureOutput({ writeOut: io.stdout, writeErr: io.stderr })
        .showHelpAfterError("(add --help for usage)")
        .addHelpText("after", EXIT_HELP)
        .action((sql: string | undefined, flags: QueryFlags) => {
            pending = run(flags, sql, io);
        });
    try {
        await program.parseAsync(argv, { from: "user" });
        await pending;
        return QUERY_EXIT.OK;
    } catch (err) {
        if (err instanceof CommanderError) return err.exitCode === 0 ? QUERY_EXIT.OK : QUERY_EXIT.USAGE;
        if (err instanceof QueryUsageError) {
            io.stderr(`error: ${err.message}\n`);
            return QUERY_EXIT.USAGE;
        }
        io.stderr(`error: ${err instanceof QueryFailed ? err.message : ((err as Error).stack ?? String(err))}\n`);
        return QUERY_EXIT.FAILED;
    }
}
