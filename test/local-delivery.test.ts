/**
 * Local mode's API destination against a real HTTP server in the test: retries on 500 and 429 honouring
 * Retry-After, the dead-letter store for a dead endpoint and for a final 4xx, and deliveries waiting for a
 * retry surviving a restart.
 */
import { strict as assert } from "node:assert";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import * as path from "node:path";
import { archiveRecords, startTestLocal, signUpUser, postEntries, jsonLines, tempDataDir, type StartedLocal } from "./support/local";
import { ZENDESK_RULE } from "../local";

interface Received {
    authorization?: string;
    body: string;
}

/** A stand-in Zendesk whose answer to each request is chosen by the test. */
async function fakeZendesk(answer: (req: Received, attempt: number) => { status: number; headers?: Record<string, string> }) {
    const received: Received[] = [];
    const attemptsByBody = new Map<string, number>();
    /** Requests answered so far, and who waits for the nth answer. */
    let answered = 0;
    const waiters: Array<{ n: number; resolve: () => void }> = [];
    const server = http.createServer((req, res) => {
        const chunks: Buffer[] = [];
        req.on("data", (c: Buffer) => chunks.push(c));
        req.on("end", () => {
            const r: Received = { authorization: req.headers.authorization, body: Buffer.concat(chunks).toString("utf8") };
            received.push(r);
            const attempt = (attemptsByBody.get(r.body) ?? 0) + 1;
            attemptsByBody.set(r.body, attempt);
            const { status, headers } = answer(r, attempt);
            const n = received.length;
            res.on("finish", () => {
                answered++;
                for (const w of waiters.filter((x) => x.n <= answered)) w.resolve();
            });
            res.writeHead(status, { "Content-Type": "application/json", ...headers });
            res.end(status < 300 ? JSON.stringify({ ticket: { id: n } }) : JSON.stringify({ error: "nope" }));
        });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/v2/tickets`;
    /** Resolves once n requests have been answered. */
    const answeredRequests = (n: number) => new Promise<void>((resolve) => (answered >= n ? resolve() : waiters.push({ n, resolve })));
    return { url, received, attemptsByBody, answeredRequests, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

const loyalty = (sku: number) => JSON.stringify({ eventType: "loyaltypurchase", schemaVersion: 1, data: { itemSku: sku } });
const zendesk = (url: string) => ({ endpoint: url, email: "support@example.com", apiToken: "s3cret-token", ratePerSecond: 100 });
const expectedAuth = "Basic " + Buffer.from("support@example.com/token:s3cret-token").toString("base64");

describe("local mode API destination", function () {
    this.timeout(30_000);
    let started: StartedLocal | undefined;
    afterEach(async () => {
        await started?.local.close();
        started = undefined;
    });

    it("retries 500 and 429 (honouring Retry-After) and loses no ticket", async () => {
        const server = await fakeZendesk((_r, attempt) =>
            attempt === 1 ? { status: 500 } : attempt === 2 ? { status: 429, headers: { "Retry-After": "1" } } : { status: 201 },
        );
        try {
            // The bus reports each retry it schedules, with its delay: the events this test reads.
            const lines: string[] = [];
            started = await startTestLocal({ zendesk: zendesk(server.url), quiet: false, logLine: (line) => lines.push(line) });
            const user = await signUpUser(started);
            const res = await postEntries(started.local, user.accessToken, [loyalty(1), loyalty(2), loyalty(3)]);
            assert.equal(res.status, 200, res.body);
            await started.local.flush();
            assert.equal(server.attemptsByBody.size, 3, "three distinct tickets");
            for (const [body, attempts] of server.attemptsByBody) assert.equal(attempts, 3, `ticket ${body} answered 500, 429, 201`);
            const retries = lines
                .map((l) => / -> .*: (\w+) \(.*\); retry (\d+) in (\d+) ms$/.exec(l))
                .filter((m) => m !== null)
                .map((m) => ({ code: m[1], n: Number(m[2]), delay: Number(m[3]) }));
            assert.equal(retries.length, 6, lines.join("\n"));
            for (const { code, n, delay } of retries) {
                // After the 500: the test's backoff (20 to 100 ms). After the 429: exactly its Retry-After of 1 second.
                if (n === 1) assert.ok(code === "RETRYABLE_HTTP_ERROR" && delay >= 10 && delay <= 100, `${code} retry ${n} in ${delay} ms`);
                else assert.deepEqual([code, delay], ["THROTTLING", 1000]);
            }
            assert.ok(server.received.every((r) => r.authorization === expectedAuth));
            assert.deepEqual(jsonLines(path.join(started.local.details.dlqDir, `${ZENDESK_RULE}.jsonl`)), []);
        } finally {
            await server.close();
        }
    });

    it("puts the event in the dead-letter store when the endpoint stays down", async () => {
        const server = await fakeZendesk(() => ({ status: 200 }));
        await server.close(); // nothing listens on that port any more
        started = await startTestLocal({ zendesk: zendesk(server.url), zendeskRetryPolicy: { maximumRetryAttempts: 3 } });
        const user = await signUpUser(started);
        const res = await postEntries(started.local, user.accessToken, [loyalty(77)]);
        assert.equal(res.status, 200);
        const eventId = res.json.entries[0].eventId;
        await started.local.flush();
        const dead = jsonLines(path.join(started.local.details.dlqDir, `${ZENDESK_RULE}.jsonl`));
        assert.equal(dead.length, 1);
        assert.equal(dead[0].body.id, eventId);
        assert.equal(dead[0].body.detail.data.itemSku, 77);
        assert.equal(dead[0].attributes.RETRY_ATTEMPTS, "3");
        assert.equal(dead[0].attributes.EXHAUSTED_RETRY_CONDITION, "MaximumRetryAttempts");
        assert.match(dead[0].attributes.RULE_ARN, new RegExp(`:rule/.+/${ZENDESK_RULE}$`));
        assert.equal(started.local.bus.stats.deadLettered, 1);
        // The archive has it all the same: the archive rule is a separate target.
        const archived = archiveRecords(started.local).filter((r) => r.record.id === eventId);
        assert.equal(archived.length, 1);
        assert.equal(archived[0].record.detail.data.itemSku, 77);
        assert.match(archived[0].key, /^events\/eventType=loyaltypurchase\//);
    });

    it("does not retry a final 4xx answer and dead-letters it at once", async () => {
        const server = await fakeZendesk(() => ({ status: 422 }));
        try {
            started = await startTestLocal({ zendesk: zendesk(server.url) });
            const user = await signUpUser(started);
            await postEntries(started.local, user.accessToken, [loyalty(5)]);
            await started.local.flush();
            assert.equal(server.received.length, 1);
            const dead = jsonLines(path.join(started.local.details.dlqDir, `${ZENDESK_RULE}.jsonl`));
            assert.equal(dead.length, 1);
            assert.equal(dead[0].attributes.RETRY_ATTEMPTS, "0");
            assert.match(dead[0].attributes.ERROR_MESSAGE, /\[422\]/);
        } finally {
            await server.close();
        }
    });

    it("saves a delivery waiting to retry on close and delivers it at the next start", async () => {
        let up = false;
        const server = await fakeZendesk(() => (up ? { status: 201 } : { status: 503, headers: { "Retry-After": "3600" } }));
        const dataDir = tempDataDir();
        try {
            started = await startTestLocal({ dataDir, zendesk: zendesk(server.url) });
            const user = await signUpUser(started);
            const firstAnswer = server.answeredRequests(1);
            await postEntries(started.local, user.accessToken, [loyalty(9)]);
            // Once the first attempt was answered 503, the delivery sleeps for an hour.
            await firstAnswer;
            assert.equal(server.received.length, 1);
            const report = await started.local.close();
            started = undefined;
            assert.equal(report.waitingForRetry, 1, report.summary);
            assert.equal(report.notWritten, 0, report.summary);
            assert.equal(report.pendingEvents, 1, "the loyalty purchase stays in the journal");

            up = true;
            started = await startTestLocal({ dataDir, zendesk: zendesk(server.url) });
            await started.local.flush();
            assert.equal(server.received.length, 2);
            assert.equal(server.received[1].body, server.received[0].body);
            const closing = await started.local.close();
            started = undefined;
            assert.equal(closing.pendingEvents, 0, closing.summary);
            assert.deepEqual(closing.files, [], "the journal is empty");
            assert.deepEqual(jsonLines(path.join(dataDir, "dlq", `${ZENDESK_RULE}.jsonl`)), []);
        } finally {
            await server.close();
        }
    });
});
