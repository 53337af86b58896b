/**
 * End to end against local mode: the real API (request model, authorizer, mapping template), the real
 * Cognito emulator and post-confirmation trigger, EventBridge rules, Firehose transform and partitioning.
 */
import * as assert from "assert";
import { recordingIo } from "./support/cli-io";
import { connectionArgs } from "../generator/settings";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { runCli } from "../generator/cli";
import { CognitoAuth, EventsClient } from "../client";
import { MAX_ENTRY_LENGTH } from "../pipeline/limits";
import type { RunSummary } from "../generator/stats";
import type { VerifyReport } from "../generator/verify";
import { startLocal, type LocalPipeline } from "../local";

const PASSWORD = "Corr3ct-horse!";

describe("generator against local mode", function () {
    this.timeout(120_000);
    let local: LocalPipeline;
    let tmp: string;

    before(async () => {
        tmp = fs.mkdtempSync(path.join(os.tmpdir(), "generator-local-"));
        local = await startLocal({ port: 0, dataDir: path.join(tmp, "data"), quiet: true, bufferSeconds: 60 });
    });
    after(async () => {
        await local?.close();
        if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
    });

    function flags(): string[] {
        const o = local.outputs;
        return connectionArgs(o);
    }

    it("signs up with --admin-confirm, runs with --loyalty, and verify finds every event in the data directory", async () => {
        const signup = recordingIo();
        assert.strictEqual(
            await runCli(
                [
                    "signup",
                    "--userid",
                    "erin",
                    "--password",
                    PASSWORD,
                    "--email",
                    "erin@example.com",
                    "--admin-confirm",
                    ...flags(),
                    "--json",
                ],
                signup,
            ),
            0,
            signup.errText,
        );
        const { clientId } = JSON.parse(signup.out);
        assert.match(clientId, /^[0-9a-f-]{36}$/, "the post-confirmation trigger gave the user a clientId");

        const manifest = path.join(tmp, "run.jsonl");
        const run = recordingIo();
        const code = await runCli(
            [
                "run",
                "--userid",
                "erin",
                "--password",
                PASSWORD,
                ...flags(),
                "--batches",
                "4",
                "--batch",
                "10",
                "--loyalty",
                "--seed",
                "11",
                "--manifest",
                manifest,
                "--json",
            ],
            run,
        );
        assert.strictEqual(code, 0, run.errText + run.out);
        const summary = JSON.parse(run.out) as RunSummary;
        assert.deepStrictEqual([summary.sent, summary.accepted, summary.failed], [40, 40, 0]);
        assert.ok(
            summary.acceptedByType.searching > 0 && summary.acceptedByType.loyaltypurchase > 0,
            JSON.stringify(summary.acceptedByType),
        );

        // Not flushed yet: verify reports them missing.
        const early = recordingIo();
        assert.strictEqual(await runCli(["verify", "--manifest", manifest, "--data-dir", local.outputs.dataDir, "--json"], early), 1);
        assert.strictEqual((JSON.parse(early.out) as VerifyReport).totals.missing, 40);

        await local.flush();
        const verify = recordingIo();
        assert.strictEqual(
            await runCli(["verify", "--manifest", manifest, "--data-dir", local.outputs.dataDir, "--json"], verify),
            0,
            verify.out + verify.errText,
        );
        const report = JSON.parse(verify.out) as VerifyReport;
        assert.deepStrictEqual(report.totals, { expected: 40, found: 40, missing: 0, duplicated: 0, extra: 0, inErrorOutput: 0 });

        // Stored records carry the user's clientId as accountNumber, and the apostrophes survived.
        const files: string[] = [];
        const walk = (d: string) =>
            fs
                .readdirSync(d, { withFileTypes: true })
                .forEach((e) => (e.isDirectory() ? walk(path.join(d, e.name)) : files.push(path.join(d, e.name))));
        walk(path.join(local.outputs.dataDir, "s3"));
        const details = files.flatMap((f) =>
            fs
                .readFileSync(f, "utf8")
                .split("\n")
                .filter(Boolean)
                .map((l) => JSON.parse(l).detail),
        );
        assert.ok(details.every((d) => d.accountNumber === clientId));
        assert.ok(
            details.some((d) => typeof d.data?.query === "string" && d.data.query.includes("'")),
            "an event with an apostrophe was stored",
        );

        // Every loyalty purchase the generator sent opened exactly one ticket naming the client and the item.
        const loyalty = details.filter((d) => d.eventType === "loyaltypurchase");
        assert.strictEqual(loyalty.length, summary.acceptedByType.loyaltypurchase);
        const ticketsFile = path.join(local.outputs.dataDir, "zendesk", "tickets.jsonl");
        const tickets = fs
            .readFileSync(ticketsFile, "utf8")
            .split("\n")
            .filter(Boolean)
            .map((l) => JSON.parse(JSON.parse(l).body).ticket as { comment: { body: string } });
        assert.strictEqual(tickets.length, loyalty.length);
        for (const event of loyalty) {
            const matching = tickets.filter((t) => t.comment.body.includes(`item ${event.data.itemSku} `));
            assert.strictEqual(matching.length, 1, `one ticket for item ${event.data.itemSku}`);
            assert.ok(matching[0].comment.body.includes(clientId));
        }
    });

    it("--admin-confirm signs with local mode's published credentials: a wrong secret is refused as AWS refuses it", async () => {
        // Without the running local mode's answer, the generator reads <data-dir>/outputs.json: here a wrong secret.
        const wrongDir = path.join(tmp, "wrong");
        fs.mkdirSync(wrongDir);
        fs.writeFileSync(
            path.join(wrongDir, "outputs.json"),
            JSON.stringify({ credentials: { accessKeyId: local.credentials.accessKeyId, secretAccessKey: "not-the-secret" } }),
        );
        const refused = recordingIo();
        const unreachableOutputs = (url: string, init: RequestInit) =>
            url.endsWith("/_local/outputs") ? Promise.reject(new TypeError("fetch failed")) : fetch(url, init);
        const code = await runCli(
            [
                "signup",
                "--userid",
                "frank",
                "--password",
                PASSWORD,
                "--email",
                "frank@example.com",
                "--admin-confirm",
                ...flags(),
                "--data-dir",
                wrongDir,
            ],
            Object.assign(refused, { fetch: unreachableOutputs }),
        );
        assert.notStrictEqual(code, 0);
        assert.match(refused.errText, /InvalidSignatureException|signature we calculated does not match/);
        const status = (await local.cognito
            .call("AdminGetUser", { UserPoolId: local.outputs.userPoolId, Username: "frank" }, undefined)
            .catch((e: Error) => e)) as Error;
        assert.match(status.message, /Missing Authentication Token/, "unsigned admin calls are refused in-process too");

        // The running local mode names its outputs file; the generator signs with the secret in it.
        const confirmed = recordingIo();
        const admin = await runCli(
            ["signup", "--userid", "gina", "--password", PASSWORD, "--email", "gina@example.com", "--admin-confirm", ...flags(), "--json"],
            confirmed,
        );
        assert.strictEqual(admin, 0, confirmed.errText);
        assert.strictEqual(JSON.parse(confirmed.out).confirmed, true);
    });

    it("discovers local mode's settings with --local URL", async () => {
        const c = recordingIo();
        // The user from the first test; --local alone gives API URL, app client and Cognito endpoint.
        const code = await runCli(
            [
                "run",
                "--userid",
                "erin",
                "--password",
                PASSWORD,
                "--local",
                local.outputs.cognitoEndpoint,
                "--batches",
                "1",
                "--batch",
                "3",
                "--json",
            ],
            c,
        );
        assert.strictEqual(code, 0, c.errText);
        assert.strictEqual((JSON.parse(c.out) as RunSummary).accepted, 3);

        const wrong = recordingIo();
        assert.strictEqual(
            await runCli(["run", "--userid", "erin", "--password", "Wrong-passw0rd!", "--local", local.outputs.cognitoEndpoint], wrong),
            3,
        );
        assert.match(wrong.errText, /sign-in failed for erin/);
    });

    it("the library's limits match the deployed request model: ten entries of MAX_ENTRY_LENGTH are accepted", async () => {
        const auth = new CognitoAuth({ clientId: local.outputs.userPoolClientId, endpoint: local.outputs.cognitoEndpoint });
        const session = await auth.signIn("erin", PASSWORD);
        // Sessions continued at sequence 10, so every stamped sequence number has two digits.
        const resumed = () => ({ id: "5b0c8a3e-7d2f-4e1a-9c6b-2f4e8d1a3c5b", lastSequence: 9 });
        const client = new EventsClient({ apiUrl: local.outputs.apiUrl, tokens: session, session: resumed() });
        const skeleton = JSON.stringify({
            eventType: "paging",
            schemaVersion: 1,
            data: "",
            sessionId: resumed().id,
            sequence: 10,
            eventId: "x".repeat(36),
        }).length;
        const events = Array.from({ length: 10 }, () => ({
            eventType: "paging",
            schemaVersion: 1,
            data: "é".repeat(MAX_ENTRY_LENGTH - skeleton),
        }));
        const requests: number[] = [];
        const result = await new EventsClient({
            apiUrl: local.outputs.apiUrl,
            tokens: session,
            session: resumed(),
            onRequest: (i) => requests.push(i.status),
        }).send(events);
        assert.deepStrictEqual([result.accepted.length, result.failed.length], [10, 0], JSON.stringify(result.failed[0]));
        assert.deepStrictEqual(requests, [200], "one request");
        // One character more is refused locally, before any request.
        const tooLong = await client.send([{ eventType: "paging", schemaVersion: 1, data: "é".repeat(MAX_ENTRY_LENGTH - skeleton + 1) }]);
        assert.strictEqual(tooLong.failed[0].errorCode, "EntryTooLarge");
    });

    it("refreshes tokens with REFRESH_TOKEN_AUTH before expiry; the real authorizer accepts the new ones", async () => {
        let offset = 0;
        const auth = new CognitoAuth({
            clientId: local.outputs.userPoolClientId,
            endpoint: local.outputs.cognitoEndpoint,
            now: () => Date.now() + offset,
        });
        for (const use of ["id", "access"] as const) {
            const session = await auth.signIn("erin", PASSWORD, use);
            const first = await session.getToken();
            offset = session.tokens.expiresAt - Date.now() - 30_000; // 30 s before expiry: inside the margin
            const second = await session.getToken();
            offset = 0;
            assert.strictEqual(session.refreshCount, 1, use);
            assert.notStrictEqual(second, first, use);
            const result = await new EventsClient({
                apiUrl: local.outputs.apiUrl,
                tokens: session,
                authScheme: use === "id" ? "Bearer" : "none",
            }).send([{ eventType: "paging", schemaVersion: 1 }]);
            assert.strictEqual(result.accepted.length, 1, `${use}: ${JSON.stringify(result.failed)}`);
        }
    });
});
