/**
 * `npm run query` against a deployed stack, with Athena mocked (aws-sdk-client-mock): what is sent to
 * StartQueryExecution, polling with exponential backoff, every result page read (the header row skipped),
 * Athena's failure reason printed, a stopped query on timeout, and settings from the stack outputs.
 */
import * as assert from "node:assert/strict";
import {
    AthenaClient,
    GetQueryExecutionCommand,
    GetQueryResultsCommand,
    InvalidRequestException,
    StartQueryExecutionCommand,
    StopQueryExecutionCommand,
    type GetQueryResultsCommandOutput,
} from "@aws-sdk/client-athena";
import { mockClient } from "aws-sdk-client-mock";
import { findNamedQuery, sqlFor } from "../pipeline/named-queries";
import { runQueryCli, type QueryCliIO } from "../query/cli";

const athena = mockClient(AthenaClient);
const OUTPUTS = {
    queryWorkgroup: "client-events-prod-query-workgroup-1a2b3c4",
    queryDatabase: "client_events_prod_query_5d6e7f",
    region: "eu-west-1",
    apiUrl: "https://x",
};

interface Run {
    code: number;
    stdout: string;
    stderr: string;
    sleeps: number[];
    regions: string[];
    execs: string[][];
}

/** The CLI in-process, with a fake clock that each poll's sleep advances. */
async function run(args: string[], options: { outputs?: Record<string, unknown>; exec?: QueryCliIO["exec"] } = {}): Promise<Run> {
    const result: Run = { code: -1, stdout: "", stderr: "", sleeps: [], regions: [], execs: [] };
    let clock = 0;
    result.code = await runQueryCli(args, {
        stdout: (t) => {
            result.stdout += t;
        },
        stderr: (t) => {
            result.stderr += t;
        },
        env: {},
        exec:
            options.exec ??
            (async (file, argv) => {
                result.execs.push([file, ...argv]);
                return { stdout: JSON.stringify(options.outputs ?? OUTPUTS), stderr: "" };
            }),
        athena: (region) => {
            result.regions.push(region);
            return new AthenaClient({ region, credentials: { accessKeyId: "test", secretAccessKey: "test" } });
        },
        athenaOptions: {
            sleep: async (ms) => {
                result.sleeps.push(ms);
                clock += ms;
            },
            now: () => clock,
        },
    });
    return result;
}

const column = (Name: string, Type: string) => ({ Name, Label: Name, Type });
const row = (...values: Array<string | undefined>) => ({ Data: values.map((v) => (v === undefined ? {} : { VarCharValue: v })) });

function page(rows: ReturnType<typeof row>[], token?: string): GetQueryResultsCommandOutput {
    return {
        $metadata: {},
        UpdateCount: 0,
        NextToken: token,
        ResultSet: {
            ResultSetMetadata: {
                ColumnInfo: [
                    column("day_utc", "varchar"),
                    column("eventtype", "varchar"),
                    column("events", "bigint"),
                    column("clients", "bigint"),
                ],
            },
            Rows: rows,
        },
    };
}

describe("npm run query against Athena (mocked)", () => {
    beforeEach(() => athena.reset());

    it("starts the named query in the stack's workgroup and database, polls with backoff, reads every page", async () => {
        athena.on(StartQueryExecutionCommand).resolves({ QueryExecutionId: "q-1" });
        athena
            .on(GetQueryExecutionCommand)
            .resolvesOnce({ QueryExecution: { Status: { State: "QUEUED" } } })
            .resolvesOnce({ QueryExecution: { Status: { State: "RUNNING" } } })
            .resolvesOnce({ QueryExecution: { Status: { State: "RUNNING" } } })
            .resolves({ QueryExecution: { StatementType: "DML", Status: { State: "SUCCEEDED" } } });
        athena
            .on(GetQueryResultsCommand, { QueryExecutionId: "q-1", NextToken: undefined })
            .resolves(
                page(
                    [
                        row("day_utc", "eventtype", "events", "clients"),
                        row("2026-12-01", "_other", "2", "1"),
                        row("2026-12-01", "paging", "9007199254740993", "1"),
                    ],
                    "page-2",
                ),
            );
        athena
            .on(GetQueryResultsCommand, { QueryExecutionId: "q-1", NextToken: "page-2" })
            .resolves(page([row("2026-12-01", "shopping", "7", undefined)]));

        const result = await run(["--stack", "prod", "--named", "events-per-type-per-day", "--json"]);
        assert.equal(result.code, 0, result.stderr);
        assert.deepEqual(result.execs, [["pulumi", "stack", "output", "--json", "--stack", "prod"]]);
        assert.deepEqual(result.regions, ["eu-west-1"]);
        const start = athena.commandCalls(StartQueryExecutionCommand)[0].args[0].input;
        assert.deepEqual(start, {
            QueryString: sqlFor(findNamedQuery("events-per-type-per-day")!, "athena"),
            WorkGroup: OUTPUTS.queryWorkgroup,
            QueryExecutionContext: { Database: OUTPUTS.queryDatabase, Catalog: "AwsDataCatalog" },
            ExecutionParameters: undefined,
        });
        assert.deepEqual(result.sleeps, [250, 500, 1000], "exponential backoff between polls");
        assert.equal(athena.commandCalls(GetQueryResultsCommand).length, 2);
        assert.deepEqual(JSON.parse(result.stdout), [
            { day_utc: "2026-12-01", eventtype: "_other", events: 2, clients: 1 },
            // Beyond 2^53 a number stays text rather than lose digits.
            { day_utc: "2026-12-01", eventtype: "paging", events: "9007199254740993", clients: 1 },
            { day_utc: "2026-12-01", eventtype: "shopping", events: 7, clients: null },
        ]);
    });

    it("passes parameters as SQL literals (quotes doubled), in order", async () => {
        athena.on(StartQueryExecutionCommand).resolves({ QueryExecutionId: "q-2" });
        athena.on(GetQueryExecutionCommand).resolves({ QueryExecution: { StatementType: "DML", Status: { State: "SUCCEEDED" } } });
        athena
            .on(GetQueryResultsCommand)
            .resolves({ ResultSet: { ResultSetMetadata: { ColumnInfo: [column("time", "varchar")] }, Rows: [row("time")] } });
        const result = await run([
            "--workgroup",
            "wg",
            "--database",
            "db",
            "--region",
            "us-east-2",
            "--named",
            "last-events-of-client",
            "--param",
            "clientId=o'brien",
        ]);
        assert.equal(result.code, 0, result.stderr);
        assert.deepEqual(result.execs, [], "flags need no stack outputs");
        assert.deepEqual(result.regions, ["us-east-2"]);
        const input = athena.commandCalls(StartQueryExecutionCommand)[0].args[0].input;
        assert.deepEqual(input.ExecutionParameters, ["'o''brien'"]);
        assert.equal(input.WorkGroup, "wg");
        assert.equal(result.stdout, "time\n----\n(0 rows)\n");
    });

    it("a failed query prints Athena's state-change reason and exits 1", async () => {
        athena.on(StartQueryExecutionCommand).resolves({ QueryExecutionId: "q-3" });
        athena.on(GetQueryExecutionCommand).resolves({
            QueryExecution: {
                Status: {
                    State: "FAILED",
                    StateChangeReason: "COLUMN_NOT_FOUND: line 1:8: Column 'nope' cannot be resolved",
                    AthenaError: { ErrorCategory: 2, ErrorType: 1006, ErrorMessage: "Column 'nope' cannot be resolved" },
                },
            },
        });
        const result = await run(["SELECT nope FROM events"]);
        assert.equal(result.code, 1);
        assert.equal(result.stdout, "");
        assert.equal(result.stderr, "error: Athena query q-3 FAILED: COLUMN_NOT_FOUND: line 1:8: Column 'nope' cannot be resolved\n");
        assert.equal(athena.commandCalls(GetQueryResultsCommand).length, 0);
    });

    it("a query Athena refuses to start exits 1 with its message", async () => {
        athena
            .on(StartQueryExecutionCommand)
            .rejects(new InvalidRequestException({ message: "line 1:1: mismatched input 'SELEC'", $metadata: {} }));
        const result = await run(["SELEC 1"]);
        assert.equal(result.code, 1);
        assert.match(result.stderr, /Athena did not start the query: line 1:1: mismatched input 'SELEC'/);
    });

    it("stops a query that outlives --timeout, and caps the backoff", async () => {
        athena.on(StartQueryExecutionCommand).resolves({ QueryExecutionId: "q-4" });
        athena.on(GetQueryExecutionCommand).resolves({ QueryExecution: { Status: { State: "RUNNING" } } });
        athena.on(StopQueryExecutionCommand).resolves({});
        const result = await run(["--timeout", "60", "SELECT 1"]);
        assert.equal(result.code, 1);
        assert.match(result.stderr, /Athena query q-4 did not finish in time; it was stopped/);
        assert.deepEqual(
            athena.commandCalls(StopQueryExecutionCommand).map((c) => c.args[0].input),
            [{ QueryExecutionId: "q-4" }],
        );
        assert.ok(result.sleeps.every((ms) => ms <= 5000));
        assert.ok(result.sleeps.includes(5000));
        assert.ok(result.sleeps.reduce((a, b) => a + b, 0) >= 60_000, "waited the whole timeout");
    });

    it("a stack without the query outputs (queryEnabled false) says so and exits 2; no Athena call", async () => {
        const result = await run(["--stack", "prod", "SELECT 1"], { outputs: { region: "eu-west-1", apiUrl: "https://x" } });
        assert.equal(result.code, 2);
        assert.match(
            result.stderr,
            /the stack prod has no queryWorkgroup \/ queryDatabase outputs: deploy with client-events:queryEnabled true/,
        );
        assert.equal(athena.calls().length, 0);
    });

    it("without the Pulumi CLI: says which flags to pass instead, exits 2", async () => {
        const result = await run(["SELECT 1"], {
            exec: async () => {
                throw Object.assign(new Error("spawn pulumi ENOENT"), { code: "ENOENT" });
            },
        });
        assert.equal(result.code, 2);
        assert.match(result.stderr, /pulumi CLI is not installed .*--workgroup, --database and --region; --local queries local mode/);
    });
});
