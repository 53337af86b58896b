/**
 * `npm run query -- --local` for real: local mode writes the archive (users signed up through its Cognito,
 * events sent through its HTTP API: every partition kind, duplicates, GZIP objects with
 * archiveCompression=GZIP and plain ones after a restart without it, and error records from Firehose's jq),
 * then each named query runs through the CLI with DuckDB, and its result is compared with what the test
 * computes from what it sent.
 */
import * as assert from "node:assert/strict";
import { copyFileSync, existsSync, mkdirSync, readdirSync, statSync } from "node:fs";
import * as path from "node:path";
import { ERROR_OUTPUT_TYPES } from "../pipeline/partitioning";
import { NAMED_QUERIES } from "../pipeline/named-queries";
import { runQueryCli } from "../query/cli";
import { listFiles, postEntries, signUpUser, startTestLocal, tempDataDir, type StartedLocal, type TestUser } from "./support/local";
import { requireTool } from "./support/tools";

/** One event the test sends, and the partition it must land in (written out, not computed by the pipeline's code). */
interface Sent {
    client: "alice" | "bob";
    event: Record<string, unknown>;
    partition: [eventType: string, schemaVersion: string];
}

const utcDay = (d: Date) => d.toISOString().slice(0, 10);

/** The CLI in-process: exit code and what it printed. */
async function query(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
    let stdout = "";
    let stderr = "";
    const code = await runQueryCli(args, {
        stdout: (t) => {
            stdout += t;
        },
        stderr: (t) => {
            stderr += t;
        },
        env: {},
    });
    return { code, stdout, stderr };
}

async function json(dataDir: string, args: string[]): Promise<Array<Record<string, unknown>>> {
    const run = await query(["--local", "--data-dir", dataDir, "--json", ...args]);
    assert.equal(run.code, 0, run.stderr);
    return JSON.parse(run.stdout);
}

/** Every file under a directory with its size and modification time (to prove nothing was written). */
function snapshot(dir: string): string[] {
    return listFiles(dir).map((f) => {
        const s = statSync(path.join(dir, f));
        return `${f} ${s.size} ${s.mtimeMs}`;
    });
}

describe("npm run query --local over an archive local mode wrote", function () {
    this.timeout(180_000);
    const dataDir = tempDataDir();
    const sent: Sent[] = [];
    const days = new Set<string>();
    let users: Record<"alice" | "bob", TestUser>;
    let withJq16 = false;

    async function send(started: StartedLocal, client: "alice" | "bob", batch: Sent[]): Promise<void> {
        for (let i = 0; i < batch.length; i += 10) {
            const chunk = batch.slice(i, i + 10);
            const res = await postEntries(
                started.local,
                users[client].accessToken,
                chunk.map((s) => JSON.stringify(s.event)),
            );
            assert.equal(res.status, 200, res.body);
            sent.push(...chunk);
        }
    }

    const ev = (
        client: "alice" | "bob",
        eventType: unknown,
        schemaVersion: unknown,
        partition: [string, string],
        extra: Record<string, unknown> = {},
    ): Sent => ({
        client,
        partition,
        event: {
            eventType,
            schemaVersion,
            eventId: `${client}-${sent.length}-${Math.random().toString(36).slice(2)}`,
            data: { n: 1 },
            ...extra,
        },
    });

    before(async () => {
        // Phase 1: GZIP objects.
        days.add(utcDay(new Date()));
        // Schema checks off: the archive holds types and fields no schema of schemas/ allows (what the queries must cope with).
        const gzip = await startTestLocal({ dataDir, config: { archiveCompression: "GZIP", schemaEnforcement: "off" } });
        withJq16 = /jq 1\.6/.test(gzip.local.details.jqEngine);
        try {
            users = { alice: await signUpUser(gzip, "alice"), bob: await signUpUser(gzip, "bob") };
            const alice: Sent[] = [];
            for (let i = 0; i < 3; i++) alice.push(ev("alice", "shopping", 1, ["shopping", "1"], { data: { itemSku: 100 + i } }));
            for (let i = 0; i < 2; i++) alice.push(ev("alice", "paging", 2, ["paging", "2"], { data: "plain text data" }));
            alice.push(ev("alice", "loyaltypurchase", 1, ["loyaltypurchase", "1"], { data: { itemSku: 4711, points: [1, 2] } }));
            for (let i = 0; i < 2; i++) alice.push(ev("alice", "newthing", 1, ["_other", "1"], { data: [1, "two", { three: 3 }] }));
            alice.push(ev("alice", "shopping", 21, ["shopping", "_other"]));
            alice.push(ev("alice", undefined, 1, ["_invalid", "1"], { analyticType: "shopping" }));
            alice.push(ev("alice", "shopping", "1", ["shopping", "_invalid"]));
            alice.push(ev("alice", { odd: true }, { odd: 1 }, ["_invalid", "_invalid"], { data: 12345678901234567890n.toString() }));
            // Resends keep the eventId: dup-1 twice, dup-2 three times; one event has no eventId at all.
            for (let i = 0; i < 2; i++) alice.push(ev("alice", "shopping", 1, ["shopping", "1"], { eventId: "dup-1" }));
            for (let i = 0; i < 3; i++) alice.push(ev("alice", "searching", 1, ["searching", "1"], { eventId: "dup-2" }));
            const noId = ev("alice", "searching", 1, ["searching", "1"]);
            delete noId.event.eventId;
            alice.push(noId);
            // Enough of alice's events that "the last 100" leaves some out.
            while (alice.length < 105) alice.push(ev("alice", "paging", 0, ["paging", "0"]));
            await send(gzip, "alice", alice);
            // bob reuses an eventId of alice's: not a duplicate (another client).
            await send(gzip, "bob", [
                ev("bob", "shopping", 1, ["shopping", "1"], { eventId: "dup-1" }),
                ev("bob", "shopping", 1, ["shopping", "1"]),
            ]);
            // Records Firehose's jq 1.6 cannot parse: they go to errors/partitioning-failed/ (see README).
            const depth = 300;
            const res = await postEntries(gzip.local, users.alice.accessToken, [
                '{"eventType":"shopping","schemaVersion":1,"data":{"marker":"lone-surrogate","lone":"\\ud800"}}',
                `{"eventType":"shopping","schemaVersion":1,"data":{"marker":"too-deep","d":${"[".repeat(depth)}${"]".repeat(depth)}}}`,
            ]);
            assert.equal(res.status, 200, res.body);
            if (!withJq16) {
                // jq-wasm parses both: they are archived as shopping v1 events instead.
                sent.push(ev("alice", "shopping", 1, ["shopping", "1"]), ev("alice", "shopping", 1, ["shopping", "1"]));
                for (const s of sent.slice(-2)) delete s.event.eventId;
            }
            await gzip.local.flush();
        } finally {
            await gzip.local.close();
        }
        // Phase 2: the same data directory without compression.
        const plain = await startTestLocal({ dataDir, config: { schemaEnforcement: "off" } });
        try {
            await send(plain, "alice", [
                ev("alice", "searching", 0, ["searching", "0"]),
                ev("alice", "searching", 0, ["searching", "0"]),
                ev("alice", "purchase", 20, ["purchase", "20"]),
            ]);
            await plain.local.flush();
        } finally {
            await plain.local.close();
        }
        days.add(utcDay(new Date()));
    });

    it("the archive holds GZIP objects, plain objects and error records", () => {
        const keys = listFiles(path.join(dataDir, "s3"));
        assert.ok(
            keys.some((k) => /\/events\/.*\.gz$/.test(k)),
            "GZIP objects from phase 1",
        );
        assert.ok(
            keys.some((k) => /\/events\/eventType=searching\/schemaVersion=0\/.*[0-9a-f]$/.test(k)),
            "plain objects from phase 2",
        );
        if (withJq16)
            assert.ok(
                keys.some((k) => /\/errors\/partitioning-failed\//.test(k)),
                "error records",
            );
    });

    it("events-per-type-per-day: one row per day and partition with its events and distinct clients", async () => {
        const rows = await json(dataDir, ["--named", "events-per-type-per-day"]);
        const expected = new Map<string, { events: number; clients: Set<string> }>();
        for (const s of sent) {
            const entry = expected.get(s.partition[0]) ?? { events: 0, clients: new Set<string>() };
            entry.events++;
            entry.clients.add(users[s.client].clientId);
            expected.set(s.partition[0], entry);
        }
        assert.ok(
            rows.every((r) => days.has(r.day_utc as string)),
            JSON.stringify(rows),
        );
        if (days.size === 1) {
            const [day] = [...days];
            assert.deepEqual(
                rows,
                [...expected.keys()]
                    .sort()
                    .map((t) => ({ day_utc: day, eventtype: t, events: expected.get(t)!.events, clients: expected.get(t)!.clients.size })),
            );
        } else {
            // The run crossed midnight UTC: compare the totals per type.
            for (const [t, e] of expected)
                assert.equal(
                    rows.filter((r) => r.eventtype === t).reduce((n, r) => n + (r.events as number), 0),
                    e.events,
                    t,
                );
        }
        // Every partition kind is there.
        for (const kind of ["shopping", "_other", "_invalid"])
            assert.ok(
                rows.some((r) => r.eventtype === kind),
                kind,
            );
    });

    it("prints the same as an aligned table", async () => {
        const run = await query(["--local", "--data-dir", dataDir, "--named", "events-per-type-per-day"]);
        assert.equal(run.code, 0, run.stderr);
        const lines = run.stdout.trimEnd().split("\n");
        assert.match(lines[0], /^day_utc +eventtype +events +clients$/);
        assert.match(lines[1], /^-+ +-+ +-+ +-+$/);
        assert.match(
            lines.find((l) => l.includes("_other"))!,
            /^\d{4}-\d{2}-\d{2} +_other +2 +1$/,
        );
        assert.match(lines.at(-1)!, /^\(\d+ rows\)$/);
    });

    it("last-events-of-client: alice's 100 most recent events, newest first, none of bob's", async () => {
        const rows = await json(dataDir, ["--named", "last-events-of-client", "--param", `clientId=${users.alice.clientId}`]);
        assert.equal(rows.length, 100);
        const aliceIds = new Set(sent.filter((s) => s.client === "alice").map((s) => s.event.eventId as string | undefined));
        for (const r of rows) assert.ok(aliceIds.has((r.event_id ?? undefined) as string | undefined), JSON.stringify(r));
        const times = rows.map((r) => r.time as string);
        assert.deepEqual(times, [...times].sort().reverse(), "newest first");
        // The five left out are not newer than the oldest shown.
        const all = await json(dataDir, [
            `SELECT "time" FROM events WHERE detail.accountnumber = '${users.alice.clientId}' ORDER BY "time" DESC`,
        ]);
        assert.equal(all.length, sent.filter((s) => s.client === "alice").length);
        assert.ok(all.slice(100).every((r) => (r.time as string) <= times.at(-1)!));
        // Shapes as sent: a sent eventType and schemaVersion kept as JSON text even when they were objects.
        const odd = await json(dataDir, [
            `SELECT detail.eventtype AS t, detail.schemaversion AS v, eventtype, schemaversion FROM events WHERE detail.eventtype LIKE '{%'`,
        ]);
        assert.deepEqual(odd, [{ t: '{"odd":true}', v: '{"odd":1}', eventtype: "_invalid", schemaversion: "_invalid" }]);
        const bob = await json(dataDir, ["--named", "last-events-of-client", "--param", `clientId=${users.bob.clientId}`]);
        assert.deepEqual(
            bob.map((r) => r.event_id).sort(),
            sent
                .filter((s) => s.client === "bob")
                .map((s) => s.event.eventId)
                .sort(),
        );
    });

    it("duplicate-events: alice's dup-2 (3 copies) and dup-1 (2); bob's dup-1 is another client's event", async () => {
        const rows = await json(dataDir, ["--named", "duplicate-events"]);
        const copies = new Map<string, number>();
        for (const s of sent) {
            if (s.event.eventId === undefined) continue;
            const key = `${users[s.client].clientId} ${s.event.eventId}`;
            copies.set(key, (copies.get(key) ?? 0) + 1);
        }
        const expected = [...copies]
            .filter(([, n]) => n > 1)
            .map(([key, n]) => ({ client_id: key.split(" ")[0], event_id: key.split(" ")[1], copies: n }))
            .sort((a, b) => b.copies - a.copies || a.client_id.localeCompare(b.client_id) || a.event_id.localeCompare(b.event_id));
        assert.deepEqual(
            rows.map(({ client_id, event_id, copies: n }) => ({ client_id, event_id, copies: n })),
            expected,
        );
        assert.deepEqual(
            expected.map((e) => [e.event_id, e.copies]),
            [
                ["dup-2", 3],
                ["dup-1", 2],
            ],
        );
        for (const r of rows) assert.ok((r.first_time as string) <= (r.last_time as string));
    });

    it("events-deduplicated: every (client, eventId) once, events without an eventId kept", async () => {
        const rows = await json(dataDir, ["--named", "events-deduplicated"]);
        const unique = new Set(
            sent.map((s, i) => (s.event.eventId === undefined ? `no-id-${i}` : `${users[s.client].clientId} ${s.event.eventId}`)),
        );
        assert.equal(rows.length, unique.size);
        const seen = new Set(
            rows
                .filter((r) => (r.detail as { eventid: string | null }).eventid !== null)
                .map((r) => `${(r.detail as { accountnumber: string }).accountnumber} ${(r.detail as { eventid: string }).eventid}`),
        );
        assert.equal(
            seen.size,
            rows.filter((r) => (r.detail as { eventid: string | null }).eventid !== null).length,
            "no (client, eventId) twice",
        );
        assert.equal(
            rows.filter((r) => (r.detail as { eventid: string | null }).eventid === null).length,
            sent.filter((s) => s.event.eventId === undefined).length,
        );
    });

    it("errors-last-day: the two records jq could not parse, by type and code; their raw data decodes to what was sent", async function () {
        // jq-wasm parses what Firehose's jq 1.6 sends to the error prefix, so this needs the real jq 1.6.
        requireTool(this, "jq 1.6 (Debian's jq package, Firehose's JQ engine version)", withJq16);
        const rows = await json(dataDir, ["--named", "errors-last-day"]);
        assert.deepEqual(
            rows.map((r) => [r.erroroutputtype, r.errorcode]),
            rows.map(() => ["partitioning-failed", "DynamicPartitioning.MetadataExtractionFailed"]),
        );
        assert.equal(
            rows.reduce((n, r) => n + (r.records as number), 0),
            2,
        );
        for (const r of rows) assert.ok(typeof r.errormessage === "string" && r.errormessage.length > 0);
        const raw = await json(dataDir, ["SELECT erroroutputtype, from_utf8(from_base64(rawdata)) AS record FROM errors"]);
        assert.deepEqual(raw.map((r) => /"marker":"([a-z-]+)"/.exec(r.record as string)?.[1]).sort(), ["lone-surrogate", "too-deep"]);
        assert.ok(
            raw.some((r) => (r.record as string).includes('"lone":"\\ud800"')),
            "the record's bytes as sent",
        );
        // Athena's projection lists this error output type, so the deployed table shows the same rows.
        for (const r of raw) assert.ok(ERROR_OUTPUT_TYPES.includes(r.erroroutputtype as string));

        // "Last day" means since the start of yesterday (UTC): an object two days old is left out, one from yesterday counted.
        const bucketDir = path.join(dataDir, "s3", readdirSync(path.join(dataDir, "s3")).filter((n) => !n.startsWith("."))[0]);
        const object = listFiles(path.join(bucketDir, "errors"))[0];
        const moved = (daysAgo: number) => {
            const d = new Date(Date.now() - daysAgo * 86_400_000).toISOString();
            return path.join(
                bucketDir,
                "errors",
                object.replace(/year=\d{4}\/month=\d{2}\/day=\d{2}/, `year=${d.slice(0, 4)}/month=${d.slice(5, 7)}/day=${d.slice(8, 10)}`),
            );
        };
        for (const daysAgo of [1, 2]) {
            mkdirSync(path.dirname(moved(daysAgo)), { recursive: true });
            copyFileSync(path.join(bucketDir, "errors", object), moved(daysAgo));
        }
        const copied = await json(dataDir, ["--named", "errors-last-day"]);
        const perObject = (
            await json(dataDir, [`SELECT count(*) AS n FROM errors WHERE year || '-' || month || '-' || day = '${utcDay(new Date())}'`])
        )[0].n as number;
        assert.ok(perObject >= 1);
        const copiedCount = (
            await json(dataDir, [
                `SELECT count(*) AS n FROM errors WHERE year || '-' || month || '-' || day = '${utcDay(new Date(Date.now() - 2 * 86_400_000))}'`,
            ])
        )[0].n as number;
        assert.ok(copiedCount >= 1, "the two-day-old copy is in the table");
        assert.equal(
            copied.reduce((n, r) => n + (r.records as number), 0),
            2 + copiedCount,
            "yesterday's copy counted, the older one not",
        );
    });

    it("every named query runs on DuckDB (each is written once for both engines)", async () => {
        for (const q of NAMED_QUERIES) {
            const params = (q.parameters ?? []).flatMap((p) => ["--param", `${p.name}=${p.type === "integer" ? "1" : "x"}`]);
            const run = await query(["--local", "--data-dir", dataDir, "--named", q.name, ...params, "--json"]);
            assert.equal(run.code, 0, `${q.name}: ${run.stderr}`);
            assert.ok(Array.isArray(JSON.parse(run.stdout)));
        }
    });

    it("an SQL error prints DuckDB's message and exits 1; nothing but one SELECT runs; nothing is written", async () => {
        const before = snapshot(dataDir);
        const cwdBefore = readdirSync(process.cwd());
        const bad = await query(["--local", "--data-dir", dataDir, "SELECT no_such_column FROM events"]);
        assert.equal(bad.code, 1);
        assert.match(bad.stderr, /Referenced column "no_such_column" not found/);
        assert.equal(bad.stdout, "");
        const syntax = await query(["--local", "--data-dir", dataDir, "SELEC 1"]);
        assert.equal(syntax.code, 1);
        assert.match(syntax.stderr, /syntax error at or near "SELEC"/);
        const bucketDir = path.join(dataDir, "s3", readdirSync(path.join(dataDir, "s3")).filter((n) => !n.startsWith("."))[0]);
        for (const sql of [
            `COPY (SELECT * FROM events) TO '${bucketDir}/events/copy.csv'`,
            "CREATE TABLE t AS SELECT 1",
            "SELECT 1; SELECT 2",
            `ATTACH '${dataDir}/x.db'`,
        ]) {
            const run = await query(["--local", "--data-dir", dataDir, sql]);
            assert.notEqual(run.code, 0, sql);
        }
        const outside = await query(["--local", "--data-dir", dataDir, "SELECT * FROM read_text('/etc/hostname')"]);
        assert.equal(outside.code, 1);
        assert.match(outside.stderr, /disabled by configuration/);
        assert.deepEqual(snapshot(dataDir), before);
        assert.deepEqual(readdirSync(process.cwd()), cwdBefore);
        assert.ok(!existsSync(path.join(bucketDir, "events", "copy.csv")));
    });

    it("no archive yet: says how to make one, exits 2", async () => {
        const empty = tempDataDir();
        const run = await query(["--local", "--data-dir", empty, "--named", "events-per-type-per-day"]);
        assert.equal(run.code, 2);
        assert.match(
            run.stderr,
            /No archive in .* yet.*Start local mode \(npm run local\), send events \(npm run generator -- signup --local/,
        );
        // Local mode started but nothing written yet: the same advice.
        const started = await startTestLocal({ dataDir: empty });
        await started.local.close();
        const again = await query(["--local", "--data-dir", empty, "SELECT count(*) FROM events"]);
        assert.equal(again.code, 2);
        assert.match(again.stderr, /No archive .* yet.*Start local mode \(npm run local\)/);
    });

    it("bad named-query use is refused with the usage: unknown name, missing or unknown parameter", async () => {
        const unknown = await query(["--local", "--data-dir", dataDir, "--named", "nope"]);
        assert.equal(unknown.code, 2);
        assert.match(unknown.stderr, /no named query "nope"; --list shows them: events-per-type-per-day, /);
        const missing = await query(["--local", "--data-dir", dataDir, "--named", "last-events-of-client"]);
        assert.equal(missing.code, 2);
        assert.match(missing.stderr, /last-events-of-client needs clientId .*--param clientId=<string>/);
        const extra = await query(["--local", "--data-dir", dataDir, "--named", "duplicate-events", "--param", "x=1"]);
        assert.equal(extra.code, 2);
        assert.match(extra.stderr, /duplicate-events has no parameter x: it takes no parameters/);
        const both = await query(["--local", "--data-dir", dataDir, "--named", "duplicate-events", "SELECT 1"]);
        assert.equal(both.code, 2);
        const none = await query(["--local", "--data-dir", dataDir]);
        assert.equal(none.code, 2);
        assert.match(none.stderr, /nothing to run/);
    });

    it("--list shows every named query with its parameters", async () => {
        const run = await query(["--list"]);
        assert.equal(run.code, 0);
        for (const q of NAMED_QUERIES) assert.ok(run.stdout.includes(`--named ${q.name}`), q.name);
        assert.match(run.stdout, /--named last-events-of-client --param clientId=<string>/);
        const listed = JSON.parse((await query(["--list", "--json"])).stdout);
        assert.deepEqual(
            listed.map((q: { name: string }) => q.name),
            NAMED_QUERIES.map((q) => q.name),
        );
    });
});
