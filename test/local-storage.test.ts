/**
 * What local mode keeps on disk, in-process: files that hold credentials are mode 0600, the recorder
 * never keeps a real API token, one local mode per data directory, and what an earlier version of local
 * mode left in its journals is delivered once.
 */
import { strict as assert } from "node:assert";
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import { DataDirLockedError, LOCK_FILE } from "../local/data-dir-lock";
import type { BusEvent } from "../local/eventbridge";
import { ZENDESK_RULE } from "../local";
import { archiveRecords, jsonLines, postEntries, signUpUser, startTestLocal, tempDataDir } from "./support/local";

const mode = (file: string) => (statSync(file).mode & 0o777).toString(8);
const loyalty = (sku: number) => JSON.stringify({ eventType: "loyaltypurchase", schemaVersion: 1, data: { itemSku: sku } });

describe("local mode's files", function () {
    this.timeout(30_000);

    it("keeps outputs.json, the Cognito state, tickets.jsonl and the journal readable by their owner only (0600)", async () => {
        const started = await startTestLocal();
        try {
            const user = await signUpUser(started);
            const res = await postEntries(started.local, user.idToken, [loyalty(1)]);
            assert.equal(res.status, 200);
            await started.local.flush();
            const dataDir = started.local.outputs.dataDir;
            const journal = path.join(dataDir, "eventbridge", "journal");
            const files = [
                path.join(dataDir, "outputs.json"),
                ...readdirSync(path.join(dataDir, "cognito")).map((n) => path.join(dataDir, "cognito", n)),
                started.local.details.ticketsFile,
                ...readdirSync(journal).map((n) => path.join(journal, n)),
            ];
            assert.ok(files.length >= 4, files.join("\n"));
            for (const file of files) assert.equal(mode(file), "600", file);
        } finally {
            await started.local.close();
        }
    });

    it("records a real Zendesk API token masked in tickets.jsonl; local mode's own fake credentials are kept as sent", async () => {
        const token = "Zx9-real-api-token-0123456789";
        const started = await startTestLocal({ zendesk: { email: "ops@example.com", apiToken: token, ratePerSecond: 100 } });
        try {
            const user = await signUpUser(started);
            await postEntries(started.local, user.idToken, [loyalty(7)]);
            await started.local.flush();
            const text = readFileSync(started.local.details.ticketsFile, "utf8");
            const [ticket] = jsonLines(started.local.details.ticketsFile);
            assert.equal(ticket.authorization, "Basic [masked: user ops@example.com/token]");
            assert.ok(!text.includes(token), "no token in the file");
            assert.ok(!text.includes(Buffer.from(`ops@example.com/token:${token}`).toString("base64")), "not even base64-encoded");
        } finally {
            await started.local.close();
        }
    });

    it("refuses a second local mode on the same data directory, and starts again once the first has stopped", async () => {
        const first = await startTestLocal();
        const dataDir = first.local.outputs.dataDir;
        try {
            await assert.rejects(
                startTestLocal({ dataDir }),
                (err: unknown) =>
                    err instanceof DataDirLockedError &&
                    err.message.includes(`pid ${process.pid}`) &&
                    err.message.includes(`port ${new URL(first.local.outputs.apiUrl).port}`) &&
                    err.message.includes("--data-dir"),
            );
        } finally {
            await first.local.close();
        }
        assert.ok(!existsSync(path.join(dataDir, LOCK_FILE)));
        const again = await startTestLocal({ dataDir });
        await again.local.close();
    });

    it("takes over a lock whose process is gone", async () => {
        const dataDir = tempDataDir();
        const gone = spawnSync(process.execPath, ["-e", ""]).pid;
        writeFileSync(path.join(dataDir, LOCK_FILE), JSON.stringify({ pid: gone, port: 4000, startedAt: "2026-01-01T00:00:00Z" }));
        const started = await startTestLocal({ dataDir });
        try {
            assert.equal(JSON.parse(readFileSync(path.join(dataDir, LOCK_FILE), "utf8")).pid, process.pid);
        } finally {
            await started.local.close();
        }
    });

    it("delivers once what an earlier version left in firehose/<stream>/ and eventbridge/pending.jsonl, and removes those files", async () => {
        const dataDir = tempDataDir();
        const event = (id: string, detail: string): BusEvent => ({
            version: "0",
            id,
            "detail-type": "local",
            source: "clientevents",
            account: "000000000000",
            time: "2026-01-02T03:04:05Z",
            region: "us-east-1",
            resources: ["c0ffee00-0000-4000-8000-000000000001"],
            detail: JSON.parse(detail),
        });
        const spool = path.join(dataDir, "firehose", "client-events-local-archive");
        mkdirSync(spool, { recursive: true });
        // The archive target's payload as the earlier version spooled it: the envelope, then the detail as written.
        const { detail: _detail, ...envelope } = event("legacy-archive-1", "{}");
        const payload = `${JSON.stringify(envelope).slice(0, -1)},"detail":{"eventType":"shopping","schemaVersion":1,"big":12345678901234567890}}`;
        writeFileSync(
            path.join(spool, "current.jsonl"),
            JSON.stringify({ arrival: 1, data: Buffer.from(payload).toString("base64") }) + '\n{"arriv',
        );
        mkdirSync(path.join(dataDir, "eventbridge"), { recursive: true });
        const ticketEvent = event("legacy-ticket-1", `{"eventType":"loyaltypurchase","schemaVersion":1,"data":{"itemSku":5}}`);
        writeFileSync(
            path.join(dataDir, "eventbridge", "pending.jsonl"),
            JSON.stringify({ rule: ZENDESK_RULE, target: "zendesk", event: ticketEvent, attempts: 2, firstAttemptAt: Date.now() }) + "\n",
        );

        // Schema checks off: the legacy event carries a field outside shopping's schema (what this test is about is the number kept as written).
        const started = await startTestLocal({ dataDir, config: { schemaEnforcement: "off" } });
        try {
            await started.local.flush();
            const records = archiveRecords(started.local);
            assert.deepEqual(
                records.map((r) => r.record.id),
                ["legacy-archive-1"],
            );
            assert.ok(records[0].line.includes('"big":12345678901234567890'), "the detail as written");
            assert.equal(jsonLines(started.local.details.ticketsFile).length, 1);
            assert.deepEqual(readdirSync(spool), []);
            assert.ok(!existsSync(path.join(dataDir, "eventbridge", "pending.jsonl")));
        } finally {
            await started.local.close();
        }
    });
});
