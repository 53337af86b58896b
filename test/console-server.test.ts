/**
 * The console's HTTP side without a browser: the ready summary's URL, who it answers (loopback only by
 * default, the Host header against DNS rebinding, the flush POST against cross-site requests), its
 * security headers, the object endpoint's key check, the feed's redaction, and the failure counts of
 * /_local/metrics (retries, dead letters, transform rejects).
 */
import { strict as assert } from "node:assert";
import { spawn } from "node:child_process";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import * as path from "node:path";
import { ActivityFeed, REDACTED, redactText, redactValue } from "../local/activity";
import { LocalConsole, isLoopbackAddress } from "../local/console/server";
import { LocalMetrics } from "../local/metrics";
import { ZENDESK_RULE } from "../local";
import { runConsoleScenario } from "./support/console-scenario";
import { startTestLocal, tempDataDir, type StartedLocal } from "./support/local";

const ROOT = path.resolve(__dirname, "..");

/** A raw HTTP request (fetch cannot set the Host header). */
function request(
    url: string,
    options: { method?: string; headers?: Record<string, string>; body?: string } = {},
): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
    return new Promise((resolve, reject) => {
        const req = http.request(url, { method: options.method ?? "GET", headers: options.headers }, (res) => {
            const chunks: Buffer[] = [];
            res.on("data", (c: Buffer) => chunks.push(c));
            res.on("end", () =>
                resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString("utf8") }),
            );
        });
        req.on("error", reject);
        req.end(options.body);
    });
}

describe("local console over HTTP", function () {
    this.timeout(60_000);

    describe("on loopback", () => {
        let started: StartedLocal;
        before(async () => {
            started = await startTestLocal();
        });
        after(() => started?.local.close());
        const url = (p: string) => new URL(p, started.local.details.consoleUrl).toString();

        it("serves the page with a strict Content-Security-Policy and the other security headers", async () => {
            const res = await request(url("/_local/"));
            assert.equal(res.status, 200);
            assert.match(res.headers["content-type"] ?? "", /^text\/html/);
            const csp = String(res.headers["content-security-policy"]);
            assert.match(csp, /default-src 'none'/);
            assert.match(csp, /script-src 'self';/);
            assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval|\*/);
            assert.equal(res.headers["x-content-type-options"], "nosniff");
            assert.equal(res.headers["x-frame-options"], "DENY");
            assert.match(res.body, /<script defer src="console\.js"><\/script>/);
            assert.doesNotMatch(res.body, /<script>|<style|https?:\/\//, "no inline script or style, nothing from the network");
            assert.equal((await request(url("/_local/console.js"))).status, 200);
            assert.equal((await request(url("/_local"))).status, 308);
        });

        it("answers only to a Host header naming the loopback address and port it listens on", async () => {
            const port = new URL(started.local.details.consoleUrl).port;
            for (const host of [`127.0.0.1:${port}`, `localhost:${port}`]) {
                assert.equal((await request(url("/_local/metrics"), { headers: { Host: host } })).status, 200, host);
            }
            for (const host of [`rebound.example:${port}`, `127.0.0.1:${Number(port) + 1}`, "127.0.0.1", `10.0.0.1:${port}`]) {
                assert.equal((await request(url("/_local/metrics"), { headers: { Host: host } })).status, 421, host);
                assert.equal((await request(url("/_local/api/activity"), { headers: { Host: host } })).status, 421, host);
            }
        });

        it("flushes only on a same-origin JSON POST", async () => {
            const flush = url("/_local/api/flush");
            assert.equal((await request(flush)).status, 405);
            // What a cross-site HTML form can send:
            assert.equal(
                (await request(flush, { method: "POST", headers: { "Content-Type": "application/x-www-form-urlencoded" }, body: "a=1" }))
                    .status,
                415,
            );
            assert.equal(
                (
                    await request(flush, {
                        method: "POST",
                        headers: { "Content-Type": "application/json", Origin: "http://evil.example" },
                        body: "{}",
                    })
                ).status,
                403,
            );
            const ok = await request(flush, { method: "POST", headers: { "Content-Type": "application/json" }, body: "{}" });
            assert.equal(ok.status, 200, ok.body);
            assert.deepEqual(JSON.parse(ok.body), { flushedRecords: 0, objects: [] });
        });

        it("shows objects of the bucket only", async () => {
            const object = (key: string) => request(url(`/_local/api/object?key=${encodeURIComponent(key)}`));
            assert.equal((await object("../../outputs.json")).status, 400);
            assert.equal((await object("/etc/passwd")).status, 400);
            assert.equal((await object("events/none")).status, 404);
        });
    });

    it("is off when local mode listens on a non-loopback address, unless the flag says otherwise", async () => {
        for (const onAny of [false, true]) {
            const started = await startTestLocal({ host: "0.0.0.0", consoleOnAnyAddress: onAny });
            try {
                const port = new URL(started.local.outputs.apiUrl).port;
                const metrics = await request(`http://127.0.0.1:${port}/_local/metrics`);
                const page = await request(`http://127.0.0.1:${port}/_local/`);
                if (onAny) {
                    assert.equal(started.local.details.consoleUrl, `http://0.0.0.0:${port}/_local/`);
                    assert.equal(metrics.status, 200);
                    assert.equal(page.status, 200);
                } else {
                    assert.equal(started.local.details.consoleUrl, "");
                    assert.equal(metrics.status, 403);
                    assert.equal(page.status, 403);
                    assert.match(JSON.parse(metrics.body).message, /--console-on-any-address/);
                }
                // The generator's discovery endpoint is not part of the console.
                assert.equal((await request(`http://127.0.0.1:${port}/_local/outputs`)).status, 200);
            } finally {
                await started.local.close();
            }
        }
    });

    it("says so when the page is not built", async () => {
        const feed = new ActivityFeed();
        let address: AddressInfo | undefined;
        const console = new LocalConsole({
            feed,
            metrics: new LocalMetrics(feed, { stage: "t", eventBusName: "b", deliveryStreamName: "s" }),
            address: () => address,
            bucketDir: tempDataDir(),
            flushFirehose: async () => undefined,
            gauges: () => ({}),
            settings: {},
            distDir: path.join(tempDataDir(), "missing"),
        });
        const server = http.createServer(
            (req, res) => void console.handle(req, res, new URL(req.url!, "http://x").pathname, new URLSearchParams()),
        );
        await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
        address = server.address() as AddressInfo;
        try {
            const res = await request(`http://127.0.0.1:${address.port}/_local/`);
            assert.equal(res.status, 503);
            assert.match(res.body, /npm run build:console/);
        } finally {
            server.close();
        }
    });

    it("prints the console's URL in the ready summary of npm run local", async () => {
        const child = spawn(process.execPath, ["--import", "tsx", "local/main.ts", "--port", "0", "--data-dir", tempDataDir()], {
            cwd: ROOT,
            stdio: ["ignore", "pipe", "pipe"],
        });
        try {
            let out = "";
            const line = await new Promise<string>((resolve, reject) => {
                child.stdout!.on("data", (c: Buffer) => {
                    out += c.toString("utf8");
                    const found = /^ {2}console: +(\S+)/m.exec(out);
                    if (found) resolve(found[1]);
                });
                child.once("exit", (code) => reject(new Error(`exited ${code}: ${out}`)));
            });
            assert.match(line, /^http:\/\/127\.0\.0\.1:\d+\/_local\/$/);
            assert.equal((await request(line)).status, 200);
        } finally {
            child.kill("SIGTERM");
            await new Promise((resolve) => child.once("exit", resolve));
        }
    });
});

describe("activity feed redaction", () => {
    const jwt = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiIxMjMifQ.c2lnbmF0dXJl";

    it("redacts credential-named fields, JWTs and Basic/Bearer credentials, and keeps the rest", () => {
        assert.deepEqual(
            redactValue({
                password: "hunter2",
                Authorization: "x",
                nested: [{ apiToken: 1, refresh_token: "r" }],
                query: `see ${jwt} now`,
                ok: "Bearer",
            }),
            {
                password: REDACTED,
                Authorization: REDACTED,
                nested: [{ apiToken: REDACTED, refresh_token: REDACTED }],
                query: `see ${REDACTED} now`,
                ok: "Bearer",
            },
        );
        assert.equal(
            redactText(`{"a":1,"password":"p\\"w","Token":"t","b":"Basic dXNlcjpwYXNzd29yZA=="}`),
            `{"a":1,"password":"${REDACTED}","Token":"${REDACTED}","b":"Basic ${REDACTED}"}`,
        );
        assert.equal(redactText(`Authorization: Bearer ${jwt}`), `Authorization: Bearer ${REDACTED}`);
        assert.equal(redactText("<script>alert(1)</script> שלום"), "<script>alert(1)</script> שלום", "markup is data, not a secret");
    });

    it("keeps a client's __proto__ key as a plain field", () => {
        const out = redactValue(JSON.parse(`{"__proto__":{"admin":true}}`)) as Record<string, unknown>;
        assert.deepEqual(Object.keys(out), ["__proto__"]);
        assert.equal(({} as Record<string, unknown>).admin, undefined);
    });

    it("never reports a request's headers, only what the request carried", () => {
        const feed = new ActivityFeed();
        feed.emit({
            type: "request",
            requestId: "r",
            method: "POST",
            path: "/local/event",
            status: 200,
            latencyMs: 1,
            note: "",
            authorizer: { principalId: "sub", clientId: "c" },
            requestBody: `{"entries":[{"entry":"{\\"token\\":\\"${jwt}\\"}"}]}`,
            responseBody: `{"entries":[{"eventId":"e"}]}`,
        });
        const [record] = feed.since(0);
        assert.equal(JSON.stringify(record).includes(jwt), false);
        assert.deepEqual((record as { entries: unknown }).entries, [{ entry: `{"token":"${REDACTED}"}`, eventId: "e" }]);
    });

    it("keeps the most recent records and numbers them", () => {
        const feed = new ActivityFeed(3);
        for (let i = 0; i < 5; i++) feed.emit({ type: "firehose-put", stream: "s", bytes: i });
        assert.deepEqual(
            feed.since(0).map((r) => r.seq),
            [3, 4, 5],
        );
        assert.equal(feed.oldestSeq, 3);
        assert.deepEqual(
            feed.since(4).map((r) => r.seq),
            [5],
        );
    });
});

describe("/_local/metrics when things fail", function () {
    this.timeout(60_000);

    it("counts retries, failed invocations, dead letters and transform rejects", async () => {
        const scenario = await runConsoleScenario();
        try {
            await scenario.started.local.flush();
            const m = (await (await fetch(new URL("metrics", scenario.started.local.details.consoleUrl))).json()) as any;
            const zendesk = m.eventBridge.rules[ZENDESK_RULE];
            // Two loyalty purchases: one ticket at the first attempt; one answered 500 three times (two retries), then dead-lettered.
            assert.equal(zendesk.MatchedEvents.sum, 2);
            assert.equal(zendesk.Invocations.sum, 2);
            assert.equal(zendesk.SuccessfulInvocationAttempts.sum, 1);
            assert.equal(zendesk.RetryInvocationAttempts.sum, 2);
            assert.equal(zendesk.InvocationAttempts.sum, 4);
            assert.equal(zendesk.FailedInvocations.sum, 1);
            assert.equal(zendesk.InvocationsSentToDlq.sum, 1);
            assert.equal(m.deadLetters[ZENDESK_RULE].NumberOfMessagesSent.sum, 1);
            assert.equal(scenario.zendesk.received.length, 4);
            assert.equal(m.zendesk.TicketsRecorded.sum, 1);
            assert.equal(m.transform.TransformRejectedRecords.sum, 1);
            assert.deepEqual(m.firehose.errorRecordsByType, { "processing-failed": 1 });
            assert.equal(m.firehose.IncomingRecords.sum, 7);
            assert.equal(m.firehose["DeliveryToS3.Records"].sum, 6);
        } finally {
            await scenario.close();
        }
    });

    it("knows a loopback address", () => {
        for (const a of ["127.0.0.1", "127.8.9.10", "::1", "::ffff:127.0.0.1"]) assert.ok(isLoopbackAddress(a), a);
        for (const a of ["0.0.0.0", "::", "10.0.0.1", "::ffff:10.0.0.1", "128.0.0.1"]) assert.ok(!isLoopbackAddress(a), a);
    });
});
