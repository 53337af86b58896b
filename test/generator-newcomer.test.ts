/**
 * What a newcomer hits following the README's local walkthrough with the generator: the password from the
 * environment, the closing verify hint, a failed run after a good one, local mode stopped, verify's output and
 * help, and the AWS SDK's Node-version notice. Against the real local mode.
 */
import { strict as assert } from "node:assert";
import { recordingIo } from "./support/cli-io";
import { execFile } from "node:child_process";
import * as fs from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { runCli } from "../generator/cli";
import { readManifest } from "../generator/manifest";
import { startLocal, type LocalPipeline } from "../local";

const ROOT = path.resolve(__dirname, "..");
/** The README's and docs/generator-and-client.md's password, exported as CLIENT_EVENTS_PASSWORD. */
const PASSWORD = "Corr3ct-horse!";

async function deadPort(): Promise<number> {
    const server = net.createServer();
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const port = (server.address() as net.AddressInfo).port;
    await new Promise<void>((resolve) => server.close(() => resolve()));
    return port;
}

describe("generator: the README's local walkthrough", function () {
    this.timeout(120_000);
    let local: LocalPipeline | undefined;
    let tmp: string;
    let url: string;
    let env: NodeJS.ProcessEnv;

    before(async () => {
        tmp = fs.mkdtempSync(path.join(os.tmpdir(), "generator-newcomer-"));
        local = await startLocal({ port: 0, dataDir: path.join(tmp, "data"), quiet: true, bufferSeconds: 60 });
        url = local.outputs.cognitoEndpoint;
        env = { CLIENT_EVENTS_PASSWORD: PASSWORD, CLIENT_EVENTS_DATA_DIR: local.outputs.dataDir };
    });
    after(async () => {
        await local?.close();
        if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
    });

    it("signs up and runs with the password from the environment; the closing hint keeps --local; verify labels the folder", async () => {
        const signup = recordingIo(env);
        const signupArgs = ["signup", "--local", url, "--userid", "alice", "--email", "alice@example.com", "--admin-confirm"];
        assert.equal(await runCli(signupArgs, signup), 0, signup.errText);
        assert.match(signup.out, /User alice is confirmed; clientId [0-9a-f-]{36}\./);

        const manifest = path.join(tmp, "run.jsonl");
        const run = recordingIo(env);
        const runArgs = [
            "run",
            "--local",
            url,
            "--userid",
            "alice",
            "--batches",
            "3",
            "--interval",
            "1",
            "--loyalty",
            "--manifest",
            manifest,
        ];
        assert.equal(await runCli(runArgs, run), 0, run.errText);
        assert.ok(run.out.includes(`(check delivery with: npm run generator -- verify --local ${url} --manifest ${manifest})`), run.out);

        await local?.flush();
        const verify = recordingIo(env);
        assert.equal(await runCli(["verify", "--local", url, "--manifest", manifest], verify), 0, verify.out + verify.errText);
        const firstLine = verify.out.split("\n")[0];
        assert.equal(firstLine, `Storage checked: ${local?.outputs.dataDir} (local mode's data directory)`);

        // The docs' walkthrough, after the README's: the same user and password, so it goes on working.
        const again = recordingIo(env);
        assert.equal(await runCli(signupArgs, again), 2);
        assert.match(again.errText, /user alice already exists: .*or just use it/);
        const second = recordingIo(env);
        assert.equal(await runCli(runArgs, second), 0, second.errText);
    });

    it("a run that fails to sign in replaces the earlier manifest, and verify says the run failed instead of OK", async () => {
        const manifest = path.join(tmp, "failed.jsonl");
        const good = recordingIo(env);
        assert.equal(await runCli(["run", "--local", url, "--userid", "alice", "--batches", "1", "--manifest", manifest], good), 0);
        await local?.flush();
        assert.equal(await runCli(["verify", "--local", url, "--manifest", manifest], recordingIo(env)), 0);

        const bad = recordingIo({ ...env, CLIENT_EVENTS_PASSWORD: "Wr0ng-horse!" });
        assert.equal(await runCli(["run", "--local", url, "--userid", "alice", "--batches", "1", "--manifest", manifest], bad), 3);
        const header = readManifest(manifest).header;
        assert.match(header.failed ?? "", /check --userid and --password/);
        assert.equal(readManifest(manifest).events.length, 0);

        const verify = recordingIo(env);
        assert.equal(await runCli(["verify", "--local", url, "--manifest", manifest], verify), 2);
        assert.match(verify.errText, new RegExp(`run ${header.runId}, recorded in .*failed.jsonl, failed before sending any event`));
    });

    it("verify --help lists only the flags verify uses", async () => {
        const help = recordingIo(env);
        assert.equal(await runCli(["verify", "--help"], help), 0);
        for (const used of [
            "--manifest",
            "--completeness",
            "--local",
            "--data-dir",
            "--bucket",
            "--stack",
            "--region",
            "--wait",
            "--json",
        ]) {
            assert.ok(help.out.includes(used), `${used} missing from verify --help`);
        }
        for (const unused of ["--api-url", "--apiid", "--stage", "--appclientid", "--user-pool-id", "--cognito-endpoint"]) {
            assert.ok(!help.out.includes(unused), `verify --help lists ${unused}, which verify does not use`);
        }
    });

    it("with local mode stopped and its outputs.json left behind, signup and run say to start npm run local", async () => {
        await local?.close();
        local = undefined;
        const run = recordingIo(env);
        assert.equal(await runCli(["run", "--local", url, "--userid", "alice", "--batches", "1"], run), 4);
        assert.match(run.errText, /ECONNREFUSED/);
        assert.match(run.errText, /Is local mode running\? Start it with `npm run local`/);
        const signup = recordingIo(env);
        assert.equal(
            await runCli(["signup", "--local", url, "--userid", "bob", "--email", "bob@example.com", "--admin-confirm"], signup),
            4,
        );
        assert.match(signup.errText, /Start it with `npm run local`/);
    });
});

describe("generator: the AWS SDK's Node-version notice", function () {
    this.timeout(60_000);

    /** `npm run generator -- verify` against a bucket at a dead local endpoint: the command makes an S3 client. */
    async function verifyS3(extraEnv: NodeJS.ProcessEnv): Promise<string> {
        const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "generator-notice-"));
        try {
            const manifest = path.join(tmp, "run.jsonl");
            const header = { kind: "client-events-run", version: 1, runId: "r", startedAt: new Date().toISOString(), apiUrl: "" };
            fs.writeFileSync(manifest, JSON.stringify(header) + "\n");
            const env: NodeJS.ProcessEnv = {
                ...process.env,
                AWS_ACCESS_KEY_ID: "AKIDEXAMPLE",
                AWS_SECRET_ACCESS_KEY: "secret",
                AWS_ENDPOINT_URL_S3: `http://127.0.0.1:${await deadPort()}`,
                AWS_MAX_ATTEMPTS: "1",
            };
            delete env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED;
            Object.assign(env, extraEnv);
            const args = [
                "--import",
                "tsx",
                "generator/main.ts",
                "verify",
                "--manifest",
                manifest,
                "--bucket",
                "b",
                "--region",
                "us-east-1",
            ];
            return await new Promise((resolve) =>
                execFile(process.execPath, args, { cwd: ROOT, env }, (_err, _stdout, stderr) => resolve(stderr)),
            );
        } finally {
            fs.rmSync(tmp, { recursive: true, force: true });
        }
    }

    it("is not printed by the generator; the SDK's own switch set to false brings it back", async function () {
        const major = Number(process.versions.node.split(".")[0]);
        if (major >= 22) this.skip(); // the SDK prints it only below Node 22; the suite runs on Node 20
        const quiet = await verifyS3({});
        assert.match(quiet, /cannot reach|ECONNREFUSED/, quiet);
        assert.doesNotMatch(quiet, /NodeVersionSupportWarning/);
        const loud = await verifyS3({ AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "false" });
        assert.match(loud, /NodeVersionSupportWarning/, "the check must be able to fail: the notice is printed when enabled");
    });
});
