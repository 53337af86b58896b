/**
 * `local/main.ts` as a process: the ready line, then SIGTERM while events sit in the Firehose buffer and a
 * ticket is still to be delivered: nothing accepted may be lost.
 */
import { strict as assert } from "node:assert";
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import * as path from "node:path";
import {
    CognitoIdentityProviderClient,
    ConfirmSignUpCommand,
    InitiateAuthCommand,
    SignUpCommand,
} from "@aws-sdk/client-cognito-identity-provider";
import { archiveRecords, jsonLines, postEntries, startTestLocal, tempDataDir } from "./support/local";
import type { LocalPipeline } from "../local";

const ROOT = path.resolve(__dirname, "..");

/** Collects a child's stdout lines and lets a test wait for one that matches. */
function lines(child: ChildProcess) {
    const seen: string[] = [];
    let buffer = "";
    const waiters: Array<() => void> = [];
    child.stdout!.on("data", (chunk: Buffer) => {
        buffer += chunk.toString("utf8");
        let i: number;
        while ((i = buffer.indexOf("\n")) >= 0) {
            seen.push(buffer.slice(0, i));
            buffer = buffer.slice(i + 1);
        }
        waiters.splice(0).forEach((w) => w());
    });
    return {
        seen,
        async waitFor(test: (line: string) => boolean, what: string): Promise<string> {
            for (;;) {
                const found = seen.find(test);
                if (found !== undefined) return found;
                if (child.exitCode !== null)
                    throw new Error(`process exited (${child.exitCode}) before ${what}; output:\n${seen.join("\n")}`);
                await new Promise<void>((resolve) => {
                    waiters.push(resolve);
                    child.once("exit", () => resolve());
                });
            }
        },
    };
}

/** Starts `local/main.ts`, waits for its ready line, signs a user up through the printed code. */
async function startProcess(dataDir: string) {
    const child = spawn(
        process.execPath,
        ["--import", "tsx", "local/main.ts", "--port", "0", "--data-dir", dataDir, "--buffer-seconds", "600", "--quiet"],
        {
            cwd: ROOT,
            stdio: ["ignore", "pipe", "pipe"],
        },
    );
    let stderr = "";
    child.stderr!.on("data", (c: Buffer) => {
        stderr += c.toString();
    });
    const out = lines(child);
    const ready = JSON.parse(await out.waitFor((l) => l.startsWith("{"), "the ready line"));
    const cognito = new CognitoIdentityProviderClient({
        endpoint: ready.cognitoEndpoint,
        region: ready.region,
        credentials: { accessKeyId: "x", secretAccessKey: "x" },
    });
    const ClientId = ready.userPoolClientId;
    await cognito.send(
        new SignUpCommand({
            ClientId,
            Username: "zoe",
            Password: "Good-Passw0rd",
            UserAttributes: [{ Name: "email", Value: "zoe@example.com" }],
        }),
    );
    const codeLine = await out.waitFor((l) => l.startsWith("confirmation code for zoe:"), "the confirmation code");
    await cognito.send(new ConfirmSignUpCommand({ ClientId, Username: "zoe", ConfirmationCode: codeLine.split(": ")[1] }));
    const auth = await cognito.send(
        new InitiateAuthCommand({
            ClientId,
            AuthFlow: "USER_PASSWORD_AUTH",
            AuthParameters: { USERNAME: "zoe", PASSWORD: "Good-Passw0rd" },
        }),
    );
    // Only what the test utilities read from a pipeline: its outputs and where the files are.
    const local = { outputs: ready, details: { s3Dir: path.join(dataDir, "s3") } } as unknown as LocalPipeline;
    return { child, out, ready, local, token: auth.AuthenticationResult!.IdToken!, stderr: () => stderr };
}

const events = (n: number) =>
    Array.from({ length: n }, (_, i) =>
        JSON.stringify({
            eventType: i === n - 1 ? "loyaltypurchase" : "shopping",
            schemaVersion: 1,
            data: { itemSku: i, runId: 'it\'s "quoted" 😀' },
        }),
    );

describe("local mode as a process", function () {
    this.timeout(60_000);
    let child: ChildProcess | undefined;
    afterEach(() => {
        if (child && child.exitCode === null) child.kill("SIGKILL");
    });

    it("refuses an unknown --config key (naming it and the known keys) and the secret key, before starting anything", () => {
        const run = (pair: string) =>
            spawnSync(
                process.execPath,
                ["--import", "tsx", "local/main.ts", "--port", "0", "--data-dir", tempDataDir(), "--config", pair],
                {
                    cwd: ROOT,
                    encoding: "utf8",
                    timeout: 30_000,
                },
            );
        const misspelt = run("partitionEventType=shopping");
        assert.notEqual(misspelt.status, 0);
        assert.match(misspelt.stderr, /unknown config key "partitionEventType"; the keys are: .*\bpartitionEventTypes\b/);
        assert.doesNotMatch(misspelt.stdout, /ready/i, "nothing started");
        const secret = run("client-events:zendeskApiToken=t0ken");
        assert.notEqual(secret.status, 0);
        assert.match(secret.stderr, /zendeskApiToken is a secret: pass it in the environment/);
    });

    it("prints the ready line first, and SIGTERM mid-buffer writes every accepted event and ticket before exiting", async () => {
        const dataDir = tempDataDir();
        const started = await startProcess(dataDir);
        child = started.child;
        const { out, ready, local } = started;
        assert.equal(out.seen[0], JSON.stringify(ready), "the ready line is the first line");
        assert.equal(ready.ready, true);
        for (const key of [
            "apiUrl",
            "userPoolId",
            "userPoolClientId",
            "bucketName",
            "eventBusName",
            "region",
            "cognitoEndpoint",
            "dataDir",
        ]) {
            assert.equal(typeof ready[key], "string", key);
        }
        assert.match(ready.apiUrl, /^http:\/\/127\.0\.0\.1:\d+\/local\/event$/);

        const res = await postEntries(local, started.token, events(7));
        assert.equal(res.status, 200, res.body);
        assert.deepEqual(archiveRecords(local), [], "the 600 s buffer still holds the events");

        child.kill("SIGTERM");
        const code = await new Promise<number | null>((resolve) => child!.once("exit", (c) => resolve(c)));
        assert.equal(code, 0, started.stderr());
        const records = archiveRecords(local);
        const ids: string[] = res.json.entries.map((e: { eventId: string }) => e.eventId);
        assert.deepEqual(records.map((r) => r.record.id).sort(), [...ids].sort());
        records.forEach((r, i) => assert.ok(r.record.detail.accountNumber, `record ${i} has its accountNumber`));
        const tickets = jsonLines(path.join(dataDir, "zendesk", "tickets.jsonl"));
        assert.equal(tickets.length, 1);
    });

    it("a crash (SIGKILL) mid-buffer loses no accepted event: the next start writes them", async () => {
        const dataDir = tempDataDir();
        const started = await startProcess(dataDir);
        child = started.child;
        const res = await postEntries(started.local, started.token, events(5));
        assert.equal(res.status, 200, res.body);
        child.kill("SIGKILL");
        await new Promise((resolve) => child!.once("exit", resolve));
        assert.deepEqual(archiveRecords(started.local), []);

        const again = await startTestLocal({ dataDir });
        try {
            await again.local.flush();
            const ids: string[] = res.json.entries.map((e: { eventId: string }) => e.eventId);
            assert.deepEqual(
                archiveRecords(again.local)
                    .map((r) => r.record.id)
                    .sort(),
                [...ids].sort(),
            );
        } finally {
            await again.local.close();
        }
    });
});
