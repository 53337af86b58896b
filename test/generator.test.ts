import * as assert from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as net from "net";
import * as zlib from "zlib";
import { spawn } from "child_process";
import { mockClient } from "aws-sdk-client-mock";
import { GetObjectCommand, ListObjectsV2Command, S3Client } from "@aws-sdk/client-s3";
import { AdminGetUserCommand } from "@aws-sdk/client-cognito-identity-provider";
import { startApiFixture, type ApiFixture } from "./support/api-fixture";
import { startCognitoProxy, type CognitoProxy } from "./support/cognito-proxy";
import { createUser, startTestLocal, type StartedLocal } from "./support/local";
import { runCli, CliIO } from "../generator/cli";
import { clientIdFor } from "../pipeline/identity";
import { makeEvent, eventTypes } from "../generator/events";
import { seededRandom } from "../generator/random";
import { percentile, formatSummary, RunSummary } from "../generator/stats";
import { runGenerator } from "../generator/run";
import { readManifest } from "../generator/manifest";
import { verifyRun, localObjects, VerifyReport } from "../generator/verify";

const PASSWORD = "Corr3ct-horse!";

/** A loopback port nothing listens on. */
async function deadPort(): Promise<number> {
    const server = net.createServer();
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const port = (server.address() as net.AddressInfo).port;
    await new Promise((resolve) => server.close(resolve));
    return port;
}
const ROOT = path.resolve(__dirname, "..");

interface Captured extends CliIO {
    out: string;
    errText: string;
}

describe("generator", function () {
    this.timeout(60_000);
    let started: StartedLocal;
    let cognito: CognitoProxy;
    let fixture: ApiFixture;
    let tmp: string;
    const clock = { now: 1_700_000_000_000 };
    let appClientId: string;

    before(async () => {
        // Local mode's Cognito, behind a recording proxy; the API is the fault-injecting fixture.
        started = await startTestLocal();
        cognito = await startCognitoProxy(started.local.outputs.cognitoEndpoint);
        appClientId = started.local.outputs.userPoolClientId;
        await createUser(started, "alice", PASSWORD);
    });
    after(async () => {
        await cognito?.close();
        await started?.local.close();
    });
    beforeEach(async () => {
        fixture = await startApiFixture({ ...started.local.outputs, jwks: started.local.cognito.jwks() });
        cognito.calls.length = 0;
        tmp = fs.mkdtempSync(path.join(os.tmpdir(), "generator-test-"));
    });
    const userStatus = async (name: string) =>
        (await started.cognito.send(new AdminGetUserCommand({ UserPoolId: started.local.outputs.userPoolId, Username: name }))).UserStatus;
    afterEach(async () => {
        await fixture.close();
        fs.rmSync(tmp, { recursive: true, force: true });
    });

    /** In-process CLI I/O: fake clock and sleep, real HTTP to the fixture. */
    function io(overrides: Partial<CliIO> = {}): Captured {
        const captured: Captured = {
            out: "",
            errText: "",
            stdout: (t) => void (captured.out += t),
            stderr: (t) => void (captured.errText += t),
            env: {},
            isTTY: false,
            now: () => clock.now,
            sleep: async (ms) => {
                clock.now += ms;
            },
            random: () => 0.5,
            exec: async () => {
                throw Object.assign(new Error("spawn pulumi ENOENT"), { code: "ENOENT" });
            },
            ...overrides,
        };
        return captured;
    }

    const conn = () => ["--api-url", fixture.apiUrl, "--appclientid", appClientId, "--cognito-endpoint", cognito.endpoint];

    describe("events", () => {
        it("makes valid JSON events of the seed's types, loyaltypurchase only with --loyalty, reproducibly", () => {
            const random = seededRandom(7);
            const seen = new Set<string>();
            for (let i = 0; i < 400; i++) {
                const event = makeEvent({ runId: "r", loyalty: false, random });
                const parsed = JSON.parse(JSON.stringify(event));
                assert.strictEqual(parsed.schemaVersion, 1);
                assert.strictEqual(parsed.data.runId, "r");
                seen.add(parsed.eventType);
            }
            assert.deepStrictEqual([...seen].sort(), ["paging", "purchase", "searching", "shopping"]);
            const withLoyalty = new Set(Array.from({ length: 400 }, () => makeEvent({ runId: "r", loyalty: true, random }).eventType));
            assert.deepStrictEqual([...withLoyalty].sort(), [...eventTypes(true)].sort());
            const series = (seed: number) => {
                const r = seededRandom(seed);
                return Array.from({ length: 5 }, () => makeEvent({ runId: "r", loyalty: true, random: r }));
            };
            assert.deepStrictEqual(series(42), series(42));
            assert.notDeepStrictEqual(series(42), series(43));
        });
    });

    describe("summary figures", () => {
        it("computes nearest-rank percentiles", () => {
            const values = Array.from({ length: 100 }, (_, i) => 100 - i); // 1..100 shuffled order
            assert.deepStrictEqual(
                [50, 95, 99, 100].map((p) => percentile(values, p)),
                [50, 95, 99, 100],
            );
            assert.strictEqual(percentile([7], 99), 7);
            assert.strictEqual(percentile([], 50), 0);
        });

        it("counts sent, accepted, failed by code, retried and request latencies of a run", async () => {
            // 1 user (exact latencies on the fake clock) x 6 batches x 5 events. First request: one entry throttled (then accepted);
            // second: one MalformedDetail (final) and one InternalFailure (then accepted).
            // Requests: batch 1 (entry 0 throttled), its retry, batch 2 (entry 1 malformed, entry 2 failed), its retry, batches 3-6.
            fixture.faults.push(
                { failEntries: { 0: "ThrottlingException" } },
                { failEntries: {} },
                { failEntries: { 1: "MalformedDetail", 2: "InternalFailure" } },
            );
            const latencies = [30, 10, 20, 40, 50, 60, 70, 80];
            const manifestPath = path.join(tmp, "run.jsonl");
            const outcome = await runGenerator({
                apiUrl: fixture.apiUrl,
                cognito: { clientId: appClientId, endpoint: cognito.endpoint },
                userid: "alice",
                password: PASSWORD,
                users: 1,
                batch: 5,
                intervalMs: 10_000,
                batchesPerUser: 6,
                loyalty: true,
                tokenUse: "id",
                runId: "run-1",
                manifestPath,
                fetch: async (url, init) => {
                    const response = await fetch(url, init);
                    if (url.endsWith("/event")) clock.now += latencies.shift()!;
                    return response;
                },
                now: () => clock.now,
                sleep: async (ms) => {
                    clock.now += ms;
                },
                random: seededRandom(1),
            });
            const s = outcome.summary;
            assert.strictEqual(outcome.fatal, undefined);
            assert.deepStrictEqual([s.users, s.batches, s.sent, s.accepted, s.failed, s.retried, s.requests], [1, 6, 30, 29, 1, 2, 8]);
            assert.deepStrictEqual(s.failedByCode, { MalformedDetail: 1 });
            assert.deepStrictEqual(s.errorsSeen, { ThrottlingException: 1, MalformedDetail: 1, InternalFailure: 1 });
            assert.deepStrictEqual(s.latencyMs, { p50: 40, p95: 80, p99: 80, max: 80 });
            assert.strictEqual(
                Object.values(s.acceptedByType).reduce((a, b) => a + b, 0),
                29,
            );
            assert.strictEqual(fixture.accepted.length, 29);

            const manifest = readManifest(manifestPath);
            assert.strictEqual(manifest.header.runId, "run-1");
            assert.strictEqual(manifest.events.length, 30);
            assert.deepStrictEqual(
                manifest.events.filter((e) => e.status === "failed").map((e) => e.errorCode),
                ["MalformedDetail"],
            );
            assert.deepStrictEqual(
                new Set(manifest.events.filter((e) => e.status === "accepted").map((e) => e.eventId)),
                new Set(fixture.accepted.map((e) => e.eventId)),
            );
            const text = formatSummary(s);
            assert.match(text, /failed {5}1 {2}\(MalformedDetail 1\)/);
            assert.match(text, /latency {4}p50 40 ms {2}p95 80 ms {2}p99 80 ms/);
        });
    });

    describe("CLI run", () => {
        it("runs the seed's behaviour with flags and prints a JSON summary; exit 0", async () => {
            const c = io();
            const code = await runCli(
                [
                    "run",
                    "--userid",
                    "alice",
                    "--password",
                    PASSWORD,
                    ...conn(),
                    "--batches",
                    "3",
                    "--batch",
                    "4",
                    "--loyalty",
                    "True",
                    "--json",
                    "--manifest",
                    path.join(tmp, "m.jsonl"),
                ],
                c,
            );
            assert.strictEqual(code, 0, c.errText);
            const summary = JSON.parse(c.out) as RunSummary;
            assert.deepStrictEqual(
                [summary.sent, summary.accepted, summary.failed, summary.batches, summary.intervalMs],
                [12, 12, 0, 3, 10_000],
            );
            assert.deepStrictEqual(
                fixture.requests.map((r) => r.events.length),
                [4, 4, 4],
            );
            assert.strictEqual(readManifest(path.join(tmp, "m.jsonl")).events.length, 12);
        });

        it("runs load mode: N users at an overall rate, with a progress line on a terminal only", async () => {
            const tty = io({ isTTY: true });
            const code = await runCli(
                [
                    "run",
                    "--userid",
                    "alice",
                    "--password",
                    PASSWORD,
                    ...conn(),
                    "--users",
                    "3",
                    "--rate",
                    "6",
                    "--batch",
                    "2",
                    "--minutes",
                    "0.25",
                ],
                tty,
            );
            assert.strictEqual(code, 0, tty.errText);
            // interval = batch * users / rate = 1 s; 15 s -> 15 batches per user.
            assert.match(tty.out, /3 users, 45 batches/);
            assert.match(tty.out, /sent {7}90\n/);
            assert.strictEqual(fixture.accepted.length, 90);
            assert.strictEqual(cognito.calls.filter((call) => call.operation === "InitiateAuth").length, 3);
            assert.match(tty.errText, /\r\x1b\[2Ksent \d+ {2}accepted \d+/);

            const plain = io();
            assert.strictEqual(await runCli(["run", "--userid", "alice", "--password", PASSWORD, ...conn(), "--batches", "1"], plain), 0);
            assert.doesNotMatch(plain.errText, /\r/);
        });

        it("reads settings from the Pulumi stack outputs; environment variables override them", async () => {
            const calls: string[][] = [];
            const exec = async (file: string, args: string[]) => {
                calls.push([file, ...args]);
                return {
                    stdout: JSON.stringify({
                        apiUrl: "https://wrong.example/dev",
                        userPoolClientId: appClientId,
                        region: "eu-west-1",
                        cognitoEndpoint: cognito.endpoint,
                    }),
                    stderr: "",
                };
            };
            const c = io({ exec, env: { CLIENT_EVENTS_API_URL: fixture.apiUrl, CLIENT_EVENTS_PASSWORD: PASSWORD } });
            const code = await runCli(["run", "--userid", "alice", "--stack", "org/prod", "--batches", "1", "--json"], c);
            assert.strictEqual(code, 0, c.errText);
            assert.deepStrictEqual(calls, [["pulumi", "stack", "output", "--json", "--stack", "org/prod"]]);
            assert.strictEqual(fixture.accepted.length, 10);
        });

        it("exits 2 with a clear message when settings are missing or pulumi is absent or fails", async () => {
            const absent = io();
            assert.strictEqual(await runCli(["run", "--userid", "alice", "--password", PASSWORD], absent), 2);
            assert.match(absent.errText, /pulumi CLI is not installed/);

            const failing = io({
                exec: async () => {
                    throw Object.assign(new Error("exit 255"), { code: 255, stderr: "error: no stack named 'nope' found\n" });
                },
            });
            assert.strictEqual(await runCli(["run", "--userid", "alice", "--password", PASSWORD, "--stack", "nope"], failing), 2);
            assert.match(failing.errText, /pulumi stack output --stack nope failed: error: no stack named 'nope' found/);

            const partial = io({ exec: async () => ({ stdout: JSON.stringify({ region: "eu-west-1" }), stderr: "" }) });
            assert.strictEqual(await runCli(["run", "--userid", "alice", "--password", PASSWORD], partial), 2);
            assert.match(partial.errText, /apiUrl: --api-url \(or --apiid\) or \$CLIENT_EVENTS_API_URL/);
            assert.match(partial.errText, /userPoolClientId: --appclientid/);

            const noUser = io();
            assert.strictEqual(await runCli(["run", ...conn()], noUser), 2);
            assert.match(noUser.errText, /run needs --userid and --password/);
        });

        it("exits 3 for wrong credentials and unconfirmed users, 4 for unreachable endpoints, 1 for lost events", async () => {
            const wrong = io();
            assert.strictEqual(await runCli(["run", "--userid", "alice", "--password", "nope-nope", ...conn()], wrong), 3);
            assert.match(wrong.errText, /sign-in failed for alice: .*Incorrect username or password/);

            await createUser(started, "bob", PASSWORD, false);
            const unconfirmed = io();
            assert.strictEqual(await runCli(["run", "--userid", "bob", "--password", PASSWORD, ...conn()], unconfirmed), 3);
            assert.match(unconfirmed.errText, /has not confirmed the sign-up/);

            const dead = await deadPort();
            const deadApi = io();
            const code = await runCli(
                [
                    "run",
                    "--userid",
                    "alice",
                    "--password",
                    PASSWORD,
                    "--api-url",
                    `http://127.0.0.1:${dead}/dev`,
                    "--appclientid",
                    appClientId,
                    "--cognito-endpoint",
                    cognito.endpoint,
                    "--batches",
                    "5",
                    "--max-attempts",
                    "2",
                ],
                deadApi,
            );
            assert.strictEqual(code, 4);
            assert.ok(deadApi.errText.includes(`cannot reach the API at http://127.0.0.1:${dead}/dev`), deadApi.errText);
            assert.match(deadApi.out, /stopped early/);
            assert.match(deadApi.out, /sent {7}10\n/, "stops after the first batch");

            const deadCognito = io();
            assert.strictEqual(
                await runCli(
                    [
                        "run",
                        "--userid",
                        "alice",
                        "--password",
                        PASSWORD,
                        "--api-url",
                        fixture.apiUrl,
                        "--appclientid",
                        appClientId,
                        "--cognito-endpoint",
                        `http://127.0.0.1:${dead}/`,
                    ],
                    deadCognito,
                ),
                4,
            );
            assert.ok(deadCognito.errText.includes(`cannot reach http://127.0.0.1:${dead}/: ECONNREFUSED`), deadCognito.errText);

            for (let i = 0; i < 3; i++) fixture.faults.push({ failEntries: { 0: "MalformedDetail" } });
            const lost = io();
            assert.strictEqual(await runCli(["run", "--userid", "alice", "--password", PASSWORD, ...conn(), "--batches", "2"], lost), 1);
            assert.match(lost.errText, /2 event\(s\) were lost \(MalformedDetail 2\)/);
        });

        it("--help lists every flag with its default", async () => {
            const c = io();
            assert.strictEqual(await runCli(["run", "--help"], c), 0);
            for (const flag of [
                "--userid",
                "--password",
                "--minutes",
                "--batches",
                "--batch",
                "--interval",
                "--loyalty",
                "--users",
                "--rate",
                "--manifest",
                "--seed",
                "--token",
                "--max-attempts",
                "--stack",
                "--local",
                "--api-url",
                "--apiid",
                "--region",
                "--appclientid",
                "--json",
            ]) {
                assert.ok(c.out.includes(flag + " ") || c.out.includes(flag + "\n"), flag);
            }
            assert.match(c.out, /--batch <size> +events per batch, 1-10 \(default: 10\)/);
            assert.match(c.out, /--interval <seconds>[\s\S]*?\(default:\s+10\)/);
            assert.match(c.out, /Exit codes:/);
            const top = io();
            assert.strictEqual(await runCli(["--help"], top), 0);
            assert.match(top.out, /signup[\s\S]*run[\s\S]*verify/);
        });
    });

    describe("CLI signup", () => {
        it("signs up, confirms with the code, or confirms with AdminConfirmSignUp", async () => {
            const up = io();
            assert.strictEqual(
                await runCli(["signup", "--userid", "carol", "--password", PASSWORD, "--email", "carol@example.com", ...conn()], up),
                0,
                up.errText,
            );
            assert.match(up.out, /confirmation code to carol@example.com[\s\S]*signup --userid carol --confirm-code CODE/);
            assert.strictEqual(await userStatus("carol"), "UNCONFIRMED");

            const confirm = io();
            const code = started.codes.get("carol") ?? assert.fail("Cognito sent no code");
            assert.strictEqual(
                await runCli(["signup", "--userid", "carol", "--password", PASSWORD, "--confirm-code", code, ...conn()], confirm),
                0,
                confirm.errText,
            );
            assert.match(confirm.out, /User carol is confirmed/);
            assert.strictEqual(await userStatus("carol"), "CONFIRMED");

            const again = io();
            assert.strictEqual(
                await runCli(["signup", "--userid", "carol", "--password", PASSWORD, "--email", "c@example.com", ...conn()], again),
                2,
            );
            assert.match(again.errText, /already exists/);

            const admin = io();
            const poolId = started.local.outputs.userPoolId;
            // A loopback Cognito: the generator signs with the credentials local mode publishes in <data-dir>/outputs.json.
            const dataDir = started.local.outputs.dataDir;
            const adminCode = await runCli(
                [
                    "signup",
                    "--userid",
                    "dave",
                    "--password",
                    PASSWORD,
                    "--email",
                    "dave@example.com",
                    "--admin-confirm",
                    "--user-pool-id",
                    poolId,
                    "--data-dir",
                    dataDir,
                    ...conn(),
                    "--json",
                ],
                admin,
            );
            assert.strictEqual(adminCode, 0, admin.errText);
            // Local mode's Cognito runs the post-confirmation trigger: the CLI shows the clientId it gave dave.
            const stored = await started.cognito.send(new AdminGetUserCommand({ UserPoolId: poolId, Username: "dave" }));
            const clientId = stored.UserAttributes?.find((a) => a.Name === "custom:clientId")?.Value;
            const sub = stored.UserAttributes?.find((a) => a.Name === "sub")?.Value ?? "";
            assert.strictEqual(clientId, clientIdFor(poolId, sub), "the clientId derived from the pool and the user's sub");
            assert.deepStrictEqual(JSON.parse(admin.out), { userid: "dave", confirmed: true, clientId });
            const adminCall = cognito.calls.find((c) => c.operation === "AdminConfirmSignUp");
            assert.deepStrictEqual(adminCall?.input, { UserPoolId: poolId, Username: "dave" });
            const keyId = started.local.outputs.credentials.accessKeyId;
            assert.match(
                adminCall?.authorization ?? "",
                new RegExp(
                    `^AWS4-HMAC-SHA256 Credential=${keyId}/\\d{8}/us-east-1/cognito-idp/aws4_request, SignedHeaders=[^,]*host[^,]*, Signature=[0-9a-f]{64}$`,
                ),
            );
            assert.strictEqual(await userStatus("dave"), "CONFIRMED");
        });
    });

    describe("verify", () => {
        /** Writes objects the way local mode does: EventBridge events, one per line, detail = event + accountNumber. */
        function store(dataDir: string, key: string, events: Array<Record<string, unknown>>, gzip = false): void {
            const file = path.join(dataDir, "s3", "archive", key);
            fs.mkdirSync(path.dirname(file), { recursive: true });
            const text =
                events
                    .map((detail, i) =>
                        JSON.stringify({
                            version: "0",
                            id: `eb-${i}`,
                            "detail-type": "dev",
                            source: "clientevents",
                            resources: [],
                            detail: { ...detail, accountNumber: "c-1" },
                        }),
                    )
                    .join("\n") + "\n";
            fs.writeFileSync(file, gzip ? zlib.gzipSync(text) : text);
        }

        async function sendRun(manifest: string): Promise<void> {
            const c = io();
            const code = await runCli(
                [
                    "run",
                    "--userid",
                    "alice",
                    "--password",
                    PASSWORD,
                    ...conn(),
                    "--batches",
                    "2",
                    "--batch",
                    "10",
                    "--seed",
                    "3",
                    "--manifest",
                    manifest,
                    "--json",
                ],
                c,
            );
            assert.strictEqual(code, 0, c.errText);
        }

        it("finds a planted missing, a planted duplicated and an extra event, by eventType; exit 1", async () => {
            const manifest = path.join(tmp, "run.jsonl");
            await sendRun(manifest);
            const runId = readManifest(manifest).header.runId;
            const events = [...fixture.accepted];
            const missing = events[3];
            const duplicated = events[7];
            const kept = events.filter((e) => e !== missing);
            const dataDir = path.join(tmp, "data");
            store(dataDir, "events/a.json", kept.slice(0, 10));
            store(dataDir, "events/b.json.gz", [...kept.slice(10), duplicated], true);
            const extra = { eventId: "not-in-manifest", eventType: "paging", schemaVersion: 1, data: { runId } };
            const otherRun = { eventId: "other", eventType: "paging", schemaVersion: 1, data: { runId: "another-run" } };
            store(dataDir, "events/c.json", [extra, otherRun]);
            fs.appendFileSync(path.join(dataDir, "s3", "archive", "events/c.json"), "this is not json\n");

            const c = io();
            assert.strictEqual(await runCli(["verify", "--manifest", manifest, "--data-dir", dataDir, "--json"], c), 1, c.errText);
            const report = JSON.parse(c.out) as VerifyReport;
            assert.deepStrictEqual(report.totals, { expected: 20, found: 19, missing: 1, duplicated: 1, extra: 1, inErrorOutput: 0 });
            assert.deepStrictEqual(report.samples.missing, [missing.eventId]);
            assert.deepStrictEqual(report.samples.duplicated, [duplicated.eventId]);
            assert.deepStrictEqual(report.samples.extra, ["not-in-manifest"]);
            assert.strictEqual(report.byType[missing.eventType as string].missing, 1);
            assert.strictEqual(report.byType[duplicated.eventType as string].duplicated, 1);
            assert.strictEqual(report.byType.paging.extra, 1);
            assert.strictEqual(report.unreadable, 1);
            assert.strictEqual(report.objectsScanned, 3);

            const text = io();
            assert.strictEqual(await runCli(["verify", "--manifest", manifest, "--data-dir", dataDir], text), 1);
            assert.match(text.out, /MISSING: 1 accepted events are not in storage/);

            // Once the missing event lands, verify passes (duplicates are reported, not fatal).
            store(dataDir, "events/d.json", [missing]);
            const ok = io();
            assert.strictEqual(await runCli(["verify", "--manifest", manifest, "--data-dir", dataDir], ok), 0, ok.out);
            assert.match(ok.out, /OK: every accepted event is in storage/);
        });

        it("waits for late objects with --wait, polling", async () => {
            const manifest = path.join(tmp, "run.jsonl");
            await sendRun(manifest);
            const dataDir = path.join(tmp, "data");
            store(dataDir, "events/a.json", fixture.accepted.slice(0, 15));
            let polls = 0;
            const c = io({
                sleep: async (ms) => {
                    polls++;
                    clock.now += ms;
                    if (polls === 2) store(dataDir, "events/b.json", fixture.accepted.slice(15));
                },
            });
            assert.strictEqual(
                await runCli(["verify", "--manifest", manifest, "--data-dir", dataDir, "--wait", "120", "--poll", "10"], c),
                0,
                c.errText,
            );
            assert.strictEqual(polls, 2);
            assert.match(c.errText, /5 event\(s\) not in .* yet; checking again in 10 s/);
        });

        it("reads the S3 bucket page by page and gunzips objects; finds events in Firehose's error output", async () => {
            const manifest = path.join(tmp, "run.jsonl");
            await sendRun(manifest);
            const runId = readManifest(manifest).header.runId;
            const line = (e: Record<string, unknown>) => JSON.stringify({ source: "clientevents", detail: { ...e, accountNumber: "c" } });
            const events = fixture.accepted;
            const bodies: Record<string, Buffer> = {
                "events/1": Buffer.from(events.slice(0, 12).map(line).join("\n")),
                "events/2.gz": zlib.gzipSync(events.slice(12, 19).map(line).join("\n") + "\n"),
                "errors/x": Buffer.from(
                    JSON.stringify({ errorCode: "Lambda.FunctionError", rawData: Buffer.from(line(events[19])).toString("base64") }) + "\n",
                ),
                "events/old": Buffer.from(line({ eventId: "ancient", eventType: "paging", data: { runId } })),
            };
            const s3 = mockClient(S3Client);
            const recent = new Date(clock.now);
            s3.on(ListObjectsV2Command, { Bucket: "archive", ContinuationToken: undefined }).resolves({
                IsTruncated: true,
                NextContinuationToken: "page2",
                Contents: [
                    { Key: "events/1", LastModified: recent },
                    { Key: "events/2.gz", LastModified: recent },
                ],
            });
            s3.on(ListObjectsV2Command, { Bucket: "archive", ContinuationToken: "page2" }).resolves({
                IsTruncated: false,
                Contents: [
                    { Key: "errors/x", LastModified: recent },
                    { Key: "events/old", LastModified: new Date(Date.parse(readManifest(manifest).header.startedAt) - 86_400_000) },
                ],
            });
            s3.on(GetObjectCommand).callsFake((input: { Key: string }) => ({
                Body: { transformToByteArray: async () => new Uint8Array(bodies[input.Key]) },
            }));
            try {
                const c = io({ s3Client: new S3Client({ region: "eu-west-1" }) });
                assert.strictEqual(
                    await runCli(["verify", "--manifest", manifest, "--bucket", "archive", "--region", "eu-west-1", "--json"], c),
                    1,
                    c.errText,
                );
                const report = JSON.parse(c.out) as VerifyReport;
                assert.deepStrictEqual(report.totals, { expected: 20, found: 19, missing: 1, duplicated: 0, extra: 0, inErrorOutput: 1 });
                assert.deepStrictEqual(report.samples.inErrorOutput, [events[19].eventId]);
                assert.strictEqual(report.objectsScanned, 3, "skips objects older than the run");
                assert.deepStrictEqual(
                    s3.commandCalls(GetObjectCommand).map((call) => call.args[0].input.Key),
                    ["events/1", "events/2.gz", "errors/x"],
                );

                // Storage errors: a clear line and the exit code of their kind.
                const cases: Array<[string, number, RegExp]> = [
                    ["NoSuchBucket", 2, /the bucket does not exist/],
                    ["AccessDenied", 3, /AWS refused the call/],
                    ["CredentialsProviderError", 2, /no AWS credentials/],
                ];
                for (const [name, exit, message] of cases) {
                    s3.reset();
                    s3.on(ListObjectsV2Command).rejects(Object.assign(new Error(`${name} happened`), { name, $metadata: {} }));
                    const e = io({ s3Client: new S3Client({ region: "eu-west-1" }) });
                    assert.strictEqual(
                        await runCli(["verify", "--manifest", manifest, "--bucket", "archive", "--region", "eu-west-1"], e),
                        exit,
                        name,
                    );
                    assert.match(e.errText, message);
                }
            } finally {
                s3.restore();
            }
        });

        it("rejects a file that is not a manifest, and a missing data directory, with exit 2", async () => {
            const bogus = path.join(tmp, "bogus.json");
            fs.writeFileSync(bogus, "{}\n");
            const c = io();
            assert.strictEqual(await runCli(["verify", "--manifest", bogus, "--data-dir", tmp], c), 2);
            assert.match(c.errText, /is not a run manifest/);
            const manifest = path.join(tmp, "run.jsonl");
            await sendRun(manifest);
            const d = io();
            await assert.rejects(
                verifyRun(readManifest(manifest), localObjects(path.join(tmp, "nowhere"))),
                /no local mode data directory at/,
            );
            assert.strictEqual(await runCli(["verify", "--manifest", manifest, "--data-dir", path.join(tmp, "nowhere")], d), 2);
            assert.match(d.errText, /^error: no local mode data directory at .*nowhere/m);
        });
    });

    describe("as a process", () => {
        function spawnCli(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number | null; stdout: string; stderr: string }> {
            return new Promise((resolve) => {
                const child = spawn(process.execPath, ["--import", "tsx", "generator/main.ts", ...args], {
                    cwd: ROOT,
                    env,
                });
                let stdout = "";
                let stderr = "";
                child.stdout.on("data", (d) => (stdout += d));
                child.stderr.on("data", (d) => (stderr += d));
                child.on("close", (code) => resolve({ code, stdout, stderr }));
            });
        }

        it("exits non-zero with one clear line for wrong credentials and for missing stack outputs", async () => {
            const env = { PATH: "/nonexistent", HOME: tmp, CLIENT_EVENTS_PASSWORD: "wrong-password" };
            const [wrong, noPulumi] = await Promise.all([
                spawnCli(["run", "--userid", "alice", ...conn()], env),
                spawnCli(["run", "--userid", "alice"], env),
            ]);
            assert.strictEqual(wrong.code, 3, wrong.stderr);
            assert.match(wrong.stderr, /^error: sign-in failed for alice: .*check --userid and --password\n$/m);
            assert.strictEqual(noPulumi.code, 2, noPulumi.stderr);
            assert.match(noPulumi.stderr, /error: cannot read the stack outputs: the pulumi CLI is not installed/);
        });
    });
});
