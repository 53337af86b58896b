/**
 * The `completeness` named query and `verify --completeness`, for real: local mode (its Cognito, HTTP API,
 * EventBridge, Firehose transform with schema checks) stores what the generator sent (two clients, three
 * sessions) and what a third client posts over HTTP with its own session stamps (out of order, a resend, a
 * gap, a schema violation, an event without stamps). Then DuckDB runs the query over those files, and over
 * copies of them with stored lines removed, duplicated or re-timed. Expected counts come from what was sent.
 * The Athena path is checked with a mocked Athena client (the SQL and parameters it is sent).
 */
import * as assert from "node:assert/strict";
import { recordingIo } from "./support/cli-io";
import { connectionArgs } from "../generator/settings";
import { randomUUID } from "node:crypto";
import { appendFileSync, copyFileSync, cpSync, readFileSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import { AthenaClient, GetQueryExecutionCommand, GetQueryResultsCommand, StartQueryExecutionCommand } from "@aws-sdk/client-athena";
import { mockClient } from "aws-sdk-client-mock";
import { runCli } from "../generator/cli";
import type { CompletenessReport } from "../generator/completeness";
import type { RunSummary } from "../generator/stats";
import { DEFAULT_ACTIVE_MINUTES, findNamedQuery, sqlFor } from "../pipeline/named-queries";
import { runQueryCli } from "../query/cli";
import { listFiles, postEntries, signUpUser, startTestLocal, tempDataDir, type StartedLocal } from "./support/local";

const PASSWORD = "Corr3ct-horse!";
const utcDay = (d: Date) => d.toISOString().slice(0, 10);

type Row = Record<string, unknown>;

/** `npm run query` in-process: the completeness rows of a data directory, keyed by client id. */
async function completeness(dataDir: string, activeMinutes?: number): Promise<Map<string, Row>> {
    let stdout = "";
    let stderr = "";
    const params = activeMinutes === undefined ? [] : ["--param", `activeMinutes=${activeMinutes}`];
    const code = await runQueryCli(["--local", "--data-dir", dataDir, "--named", "completeness", ...params, "--json"], {
        stdout: (t) => {
            stdout += t;
        },
        stderr: (t) => {
            stderr += t;
        },
        env: {},
    });
    assert.equal(code, 0, stderr);
    const rows = JSON.parse(stdout) as Row[];
    const byClient = new Map<string, Row>();
    for (const row of rows) {
        assert.ok(!byClient.has(row.client_id as string), `one row per client and day: ${JSON.stringify(rows)}`);
        byClient.set(row.client_id as string, row);
    }
    return byClient;
}

/** The counting columns of a row (day and loss rate checked apart). */
function counts(row: Row | undefined): Row {
    assert.ok(row, "a row for the client");
    const { day_utc: _day, client_id: _client, loss_rate: _rate, ...rest } = row;
    return rest;
}

const finished = (sessions: number, expected: number, received: number, extra: Partial<Record<string, number>> = {}) => ({
    sessions,
    expected,
    received,
    quarantined: 0,
    missing: expected - received,
    active_sessions: 0,
    active_expected: 0,
    active_received: 0,
    unsequenced: 0,
    ...extra,
});

/** One stored event line of an archive object. */
interface StoredLine {
    file: string;
    index: number;
    record: { time: string; detail: { accountNumber: string; sessionId?: string; sequence?: number } };
}

describe("completeness: expected, received and missing events per day and client", function () {
    this.timeout(240_000);
    let started: StartedLocal;
    let dataDir: string;
    let bucketDir: string;
    const days = new Set<string>();
    const clients = { alice: "", bob: "", carol: "" };
    const sent = { alice: 0, bob: 0 };

    function connection(): string[] {
        const o = started.local.outputs;
        return connectionArgs(o);
    }

    async function generator(user: "alice" | "bob", args: string[]): Promise<void> {
        const signup = recordingIo();
        assert.equal(
            await runCli(
                [
                    "signup",
                    "--userid",
                    user,
                    "--password",
                    PASSWORD,
                    "--email",
                    `${user}@example.com`,
                    "--admin-confirm",
                    ...connection(),
                    "--json",
                ],
                signup,
            ),
            0,
            signup.errText,
        );
        clients[user] = JSON.parse(signup.out).clientId;
        const run = recordingIo();
        assert.equal(
            await runCli(["run", "--userid", user, "--password", PASSWORD, ...connection(), ...args, "--json"], run),
            0,
            run.errText + run.out,
        );
        const summary = JSON.parse(run.out) as RunSummary;
        assert.equal(summary.failed, 0);
        sent[user] = summary.accepted;
    }

    const shopping = (sessionId: string | undefined, sequence: number | undefined, itemSku: unknown = 7) =>
        JSON.stringify({
            eventType: "shopping",
            schemaVersion: 1,
            eventId: randomUUID(),
            ...(sessionId ? { sessionId } : {}),
            ...(sequence ? { sequence } : {}),
            data: { itemSku },
        });

    before(async () => {
        days.add(utcDay(new Date()));
        started = await startTestLocal(); // schema checks on (quarantine), as deployed by default
        dataDir = started.local.outputs.dataDir;
        bucketDir = path.join(started.local.details.s3Dir, started.local.outputs.bucketName);
        try {
            // alice: two simulated clients (two sessions) of 3 batches of 10; bob: one session of 2 batches of 5.
            await generator("alice", ["--users", "2", "--batches", "3", "--batch", "10", "--seed", "3"]);
            await generator("bob", ["--batches", "2", "--batch", "5", "--seed", "4"]);
            assert.deepEqual(sent, { alice: 60, bob: 10 });
            // carol stamps her own events and posts them over HTTP.
            const carol = await signUpUser(started, "carol");
            clients.carol = carol.clientId;
            const [c1, c2, c3] = [randomUUID(), randomUUID(), randomUUID()];
            const post = async (entries: string[]) => {
                const res = await postEntries(started.local, carol.accessToken, entries);
                assert.equal(res.status, 200, res.body);
                assert.equal(res.json.failedEntryCount, 0, res.body);
            };
            // c1: 5 and 3 arrive first, then 1, 2, 4 and a resend of 3: complete.
            await post([shopping(c1, 5), shopping(c1, 3)]);
            await post([shopping(c1, 1), shopping(c1, 2), shopping(c1, 4), shopping(c1, 3)]);
            // c2: 1 and 3 never arrive.
            await post([shopping(c2, 2), shopping(c2, 4)]);
            // c3: 2 breaks the shopping schema (itemSku must be an integer): quarantined under errors/.
            await post([shopping(c3, 1), shopping(c3, 2, "not-a-number"), shopping(c3, 3)]);
            // Not sent by the client library: no session, no sequence.
            await post([shopping(undefined, undefined)]);
            await started.local.flush();
        } finally {
            await started.local.close();
        }
        days.add(utcDay(new Date()));
    });

    /** A copy of the archive (and outputs.json) to plant changes in. */
    function copyArchive(): { dir: string; bucket: string } {
        const dir = tempDataDir();
        cpSync(path.join(dataDir, "s3"), path.join(dir, "s3"), { recursive: true });
        copyFileSync(path.join(dataDir, "outputs.json"), path.join(dir, "outputs.json"));
        return { dir, bucket: path.join(dir, "s3", started.local.outputs.bucketName) };
    }

    /** Every stored event line of a bucket directory. */
    function storedLines(bucket: string): StoredLine[] {
        return listFiles(bucket)
            .filter((f) => f.startsWith("events/"))
            .flatMap((file) =>
                readFileSync(path.join(bucket, file), "utf8")
                    .split("\n")
                    .filter((l) => l !== "")
                    .map((line, index) => ({ file, index, record: JSON.parse(line) })),
            );
    }

    /** Rewrites objects: `edit` gets each line and returns its replacement lines (none removes it). */
    function rewrite(bucket: string, edit: (line: StoredLine) => string[]): void {
        for (const file of listFiles(bucket).filter((f) => f.startsWith("events/"))) {
            const lines = readFileSync(path.join(bucket, file), "utf8")
                .split("\n")
                .filter((l) => l !== "");
            const kept = lines.flatMap((line, index) => edit({ file, index, record: JSON.parse(line) }));
            writeFileSync(path.join(bucket, file), kept.map((l) => l + "\n").join(""));
        }
    }

    /** The sessions of a client in the stored lines: session id -> its sequence numbers. */
    function sessionsOf(lines: StoredLine[], clientId: string): Map<string, number[]> {
        const sessions = new Map<string, number[]>();
        for (const { record } of lines.filter((l) => l.record.detail.accountNumber === clientId)) {
            const list = sessions.get(record.detail.sessionId!) ?? [];
            list.push(record.detail.sequence!);
            sessions.set(record.detail.sessionId!, list);
        }
        return sessions;
    }

    it("after a clean generator run: every event of every finished session received, 0 missing", async () => {
        const rows = await completeness(dataDir, 0);
        assert.deepEqual(counts(rows.get(clients.alice)), finished(2, 60, 60));
        assert.deepEqual(counts(rows.get(clients.bob)), finished(1, 10, 10));
        assert.equal(rows.get(clients.alice)!.loss_rate, 0);
        assert.ok(days.has(rows.get(clients.alice)!.day_utc as string));
        // The generator's sessions are the client library's: one UUID per simulated client, numbered from 1.
        const alice = sessionsOf(storedLines(bucketDir), clients.alice);
        assert.equal(alice.size, 2);
        for (const seqs of alice.values())
            assert.deepEqual(
                [...seqs].sort((a, b) => a - b),
                Array.from({ length: 30 }, (_, i) => i + 1),
            );
    });

    it("planted gaps: stored lines removed give the exact missing count and loss rate", async () => {
        const { dir, bucket } = copyArchive();
        const sessions = sessionsOf(storedLines(bucket), clients.alice);
        const [first, second] = [...sessions.keys()];
        // Three of one session and one of the other, none a session's highest number (that one sets "expected").
        const remove = new Set([`${first} 2`, `${first} 17`, `${first} 29`, `${second} 1`]);
        rewrite(bucket, (l) => (remove.has(`${l.record.detail.sessionId} ${l.record.detail.sequence}`) ? [] : [JSON.stringify(l.record)]));
        assert.equal(storedLines(bucket).length, storedLines(bucketDir).length - 4);
        const rows = await completeness(dir, 0);
        assert.deepEqual(counts(rows.get(clients.alice)), finished(2, 60, 56));
        assert.equal(rows.get(clients.alice)!.loss_rate, 0.066667, "4 of 60, rounded to 6 places");
        assert.deepEqual(counts(rows.get(clients.bob)), finished(1, 10, 10));

        // verify --completeness: the rows, a total, and exit code 1 (events missing among finished sessions).
        const verify = recordingIo();
        assert.equal(await runCli(["verify", "--completeness", "--data-dir", dir, "--active-minutes", "0"], verify), 1, verify.errText);
        assert.match(verify.out, /day_utc +client_id +sessions +expected +received +quarantined +missing +loss_rate/);
        assert.match(
            verify.out,
            /total: 6 finished session\(s\), 82 expected, 76 received \(1 quarantined\), 6 missing, loss rate 7\.3171%/,
        );
        const json = recordingIo();
        assert.equal(await runCli(["verify", "--completeness", "--data-dir", dir, "--active-minutes", "0", "--json"], json), 1);
        const report = JSON.parse(json.out) as CompletenessReport;
        assert.equal(report.totals.missing, 4 + 2, "alice's 4 removed lines and carol's 2 never sent");
        assert.equal(report.activeMinutes, 0);
    });

    it("duplicates: the same event stored twice (in its object and in another) counts once", async () => {
        const { dir, bucket } = copyArchive();
        const lines = storedLines(bucket).filter((l) => l.record.detail.accountNumber === clients.bob);
        // Every one of bob's lines stored a second time in its own object, three also in a new object.
        rewrite(bucket, (l) =>
            l.record.detail.accountNumber === clients.bob
                ? [JSON.stringify(l.record), JSON.stringify(l.record)]
                : [JSON.stringify(l.record)],
        );
        const extraObject = path.join(bucket, path.dirname(lines[0].file), "copies-of-bob");
        appendFileSync(
            extraObject,
            lines
                .slice(0, 3)
                .map((l) => JSON.stringify(l.record) + "\n")
                .join(""),
        );
        assert.equal(storedLines(bucket).filter((l) => l.record.detail.accountNumber === clients.bob).length, 23);
        const rows = await completeness(dir, 0);
        assert.deepEqual(counts(rows.get(clients.bob)), finished(1, 10, 10));
    });

    it("out-of-order arrival, a resend, a gap, a quarantined event and one without stamps (carol, over HTTP)", async () => {
        const rows = await completeness(dataDir, 0);
        // c1: 5 received of 5 (3 twice, 5 before 1); c2: 2 of 4; c3: 3 of 3, one of them under errors/.
        assert.deepEqual(counts(rows.get(clients.carol)), finished(3, 12, 10, { quarantined: 1, unsequenced: 1 }));
        assert.equal(rows.get(clients.carol)!.loss_rate, Math.round((2 / 12) * 1e6) / 1e6);
        // The quarantined event is under errors/processing-failed/, and not under events/.
        const errors = listFiles(bucketDir).filter((f) => f.startsWith("errors/processing-failed/"));
        assert.equal(errors.length, 1);
        const raw = readFileSync(path.join(bucketDir, errors[0]), "utf8")
            .trim()
            .split("\n")
            .map((l) => JSON.parse(Buffer.from(JSON.parse(l).rawData, "base64").toString("utf8")));
        assert.deepEqual(
            raw.map((r) => [r.detail.sequence, r.detail.data.itemSku]),
            [[2, "not-a-number"]],
        );
        const carolStored = storedLines(bucketDir).filter((l) => l.record.detail.accountNumber === clients.carol);
        assert.equal(carolStored.length, 6 + 2 + 2 + 1, "c1 6 lines (one resend), c2 2, c3 2 (+1 quarantined), 1 unstamped");
    });

    it("sessions still active are reported apart with the default activeMinutes; 0 counts them", async () => {
        const { dir, bucket } = copyArchive();
        // bob's session ended two hours ago (its lines re-timed); alice's and carol's are recent. One of alice's lines is missing.
        const twoHoursAgo = new Date(Date.now() - 2 * 3600_000);
        const aliceSession = [...sessionsOf(storedLines(bucket), clients.alice).keys()][0];
        rewrite(bucket, (l) => {
            const { detail } = l.record;
            if (detail.sessionId === aliceSession && detail.sequence === 5) return [];
            if (detail.accountNumber === clients.bob)
                return [JSON.stringify({ ...l.record, time: twoHoursAgo.toISOString().replace(/\.\d{3}Z$/, "Z") })];
            return [JSON.stringify(l.record)];
        });
        const recent = await completeness(dir);
        assert.deepEqual(
            counts(recent.get(clients.alice)),
            finished(0, 0, 0, { active_sessions: 2, active_expected: 60, active_received: 59 }),
        );
        assert.equal(recent.get(clients.alice)!.loss_rate, null, "nothing finished, no rate");
        assert.deepEqual(counts(recent.get(clients.bob)), finished(1, 10, 10));
        assert.equal(recent.get(clients.bob)!.day_utc, utcDay(twoHoursAgo));
        // The default is the query's: a few minutes past Firehose's buffer.
        const verify = recordingIo();
        assert.equal(await runCli(["verify", "--completeness", "--data-dir", dir], verify), 0, verify.out + verify.errText);
        assert.match(
            verify.out,
            new RegExp(
                `still active \\(last event within ${DEFAULT_ACTIVE_MINUTES} min, not counted\\): 5 session\\(s\\), 69 of 72 received so far`,
            ),
        );
        // A final reconciliation counts every session.
        const final = await completeness(dir, 0);
        assert.deepEqual(counts(final.get(clients.alice)), finished(2, 60, 59));
        const final2 = recordingIo();
        assert.equal(await runCli(["verify", "--completeness", "--data-dir", dir, "--active-minutes", "0"], final2), 1);
    });

    it("a session crossing midnight is counted once, on the day of its first event", async () => {
        const { dir, bucket } = copyArchive();
        const today = [...days][0];
        const yesterday = utcDay(new Date(Date.parse(`${today}T00:00:00Z`) - 1000));
        // bob's first event was stored at 23:59:59 the day before; the rest today.
        rewrite(bucket, (l) =>
            l.record.detail.accountNumber === clients.bob && l.record.detail.sequence === 1
                ? [JSON.stringify({ ...l.record, time: `${yesterday}T23:59:59Z` })]
                : [JSON.stringify(l.record)],
        );
        let stdout = "";
        const code = await runQueryCli(["--local", "--data-dir", dir, "--named", "completeness", "--param", "activeMinutes=0", "--json"], {
            stdout: (t) => {
                stdout += t;
            },
            stderr: () => undefined,
            env: {},
        });
        assert.equal(code, 0);
        const bobRows = (JSON.parse(stdout) as Row[]).filter((r) => r.client_id === clients.bob);
        assert.deepEqual(
            bobRows.map((r) => [r.day_utc, r.expected, r.received]),
            [[yesterday, 10, 10]],
        );
    });

    it("prints an aligned table through npm run query (the acceptance command)", async () => {
        let stdout = "";
        const code = await runQueryCli(["--local", "--data-dir", dataDir, "--named", "completeness", "--param", "activeMinutes=0"], {
            stdout: (t) => {
                stdout += t;
            },
            stderr: () => undefined,
            env: {},
        });
        assert.equal(code, 0);
        const lines = stdout.trimEnd().split("\n");
        assert.match(
            lines[0],
            /^day_utc +client_id +sessions +expected +received +quarantined +missing +loss_rate +active_sessions +active_expected +active_received +unsequenced$/,
        );
        assert.equal(lines.at(-1), "(3 rows)");
        assert.ok(
            lines.some((l) => l.includes(clients.alice) && /\s2\s+60\s+60\s+0\s+0\s+0\s/.test(l)),
            stdout,
        );
    });

    it("bad flags: --active-minutes without --completeness, --manifest with it, neither", async () => {
        const a = recordingIo();
        assert.equal(await runCli(["verify", "--data-dir", dataDir, "--active-minutes", "3"], a), 2);
        assert.match(a.errText, /--active-minutes goes with --completeness/);
        const b = recordingIo();
        assert.equal(await runCli(["verify", "--completeness", "--manifest", "x.jsonl", "--data-dir", dataDir], b), 2);
        assert.match(b.errText, /cannot be used with option '--completeness'/);
        const c = recordingIo();
        assert.equal(await runCli(["verify", "--data-dir", dataDir], c), 2);
        assert.match(c.errText, /verify needs --manifest <path> .*, or --completeness/);
        const d = recordingIo();
        assert.equal(await runCli(["verify", "--completeness", "--data-dir", tempDataDir()], d), 2);
        assert.match(d.errText, /No archive in .* yet/);
    });
});

describe("verify --completeness against Athena (mocked client)", () => {
    const athena = mockClient(AthenaClient);
    after(() => athena.restore());
    const outputs = { queryWorkgroup: "wg-1", queryDatabase: "db_1", region: "eu-west-1" };
    const column = (Name: string, Type: string) => ({ Name, Label: Name, Type });
    const names: Array<[string, string]> = [
        ["day_utc", "varchar"],
        ["client_id", "varchar"],
        ["sessions", "bigint"],
        ["expected", "bigint"],
        ["received", "bigint"],
        ["quarantined", "bigint"],
        ["missing", "bigint"],
        ["loss_rate", "double"],
        ["active_sessions", "bigint"],
        ["active_expected", "bigint"],
        ["active_received", "bigint"],
        ["unsequenced", "bigint"],
    ];
    const row = (...values: string[]) => ({ Data: values.map((v) => ({ VarCharValue: v })) });

    function answer(rows: ReturnType<typeof row>[]): void {
        athena.reset();
        athena.on(StartQueryExecutionCommand).resolves({ QueryExecutionId: "q-1" });
        athena.on(GetQueryExecutionCommand).resolves({ QueryExecution: { StatementType: "DML", Status: { State: "SUCCEEDED" } } });
        athena.on(GetQueryResultsCommand).resolves({
            ResultSet: {
                ResultSetMetadata: { ColumnInfo: names.map(([n, t]) => column(n, t)) },
                Rows: [row(...names.map(([n]) => n)), ...rows],
            },
        });
    }

    async function verify(args: string[]): Promise<{ code: number; out: string; err: string; execs: string[][] }> {
        const r = { code: -1, out: "", err: "", execs: [] as string[][] };
        r.code = await runCli(["verify", "--completeness", ...args], {
            stdout: (t) => {
                r.out += t;
            },
            stderr: (t) => {
                r.err += t;
            },
            env: {},
            isTTY: false,
            exec: async (file, argv) => {
                r.execs.push([file, ...argv]);
                return { stdout: JSON.stringify(outputs), stderr: "" };
            },
        });
        return r;
    }

    it("sends the completeness SQL for Athena with activeMinutes as an execution parameter, in the stack's workgroup", async () => {
        answer([row("2026-12-01", "c-1", "2", "60", "57", "1", "3", "0.05", "1", "4", "4", "0")]);
        const run = await verify(["--stack", "prod", "--active-minutes", "0"]);
        assert.equal(run.code, 1, run.err + run.out);
        assert.deepEqual(run.execs, [["pulumi", "stack", "output", "--json", "--stack", "prod"]]);
        const start = athena.commandCalls(StartQueryExecutionCommand)[0].args[0].input;
        assert.equal(start.QueryString, sqlFor(findNamedQuery("completeness")!, "athena"));
        assert.deepEqual(start.ExecutionParameters, ["0"]);
        assert.deepEqual(start.WorkGroup, "wg-1");
        assert.equal(start.QueryExecutionContext?.Database, "db_1");
        assert.match(run.out, /Athena workgroup wg-1, database db_1 \(eu-west-1\)/);
        assert.match(run.out, /total: 2 finished session\(s\), 60 expected, 57 received \(1 quarantined\), 3 missing, loss rate 5\.0000%/);
    });

    it("a result that is not the query's (a count that is not a number) is an error, not a pass", async () => {
        answer([row("2026-12-01", "c-1", "1", "10", "ten", "0", "0", "0.0", "0", "0", "0", "0")]);
        const run = await verify([]);
        assert.equal(run.code, 2);
        assert.match(run.err, /completeness: column received of row 1 is "ten", not a count/);
    });

    it("the default activeMinutes is sent when none is given; nothing missing exits 0", async () => {
        answer([row("2026-12-01", "c-1", "1", "10", "10", "0", "0", "0.0", "0", "0", "0", "2")]);
        const run = await verify([]);
        assert.equal(run.code, 0, run.err);
        assert.deepEqual(athena.commandCalls(StartQueryExecutionCommand)[0].args[0].input.ExecutionParameters, [
            String(DEFAULT_ACTIVE_MINUTES),
        ]);
    });
});
