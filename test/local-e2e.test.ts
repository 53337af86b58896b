/**
 * Local mode end to end: a user signs up through the Cognito API, sends events through the API, and the
 * tests read what the archive and the Zendesk recorder wrote.
 */
import { strict as assert } from "node:assert";
import { readFileSync, statSync } from "node:fs";
import { gunzipSync } from "node:zlib";
import * as path from "node:path";
import { createSign, generateKeyPairSync } from "node:crypto";
import { AdminUpdateUserAttributesCommand } from "@aws-sdk/client-cognito-identity-provider";
import {
    startTestLocal,
    signUpUser,
    postEntries,
    postRaw,
    archiveRecords,
    jsonLines,
    listFiles,
    validationErrorOf,
    type StartedLocal,
    type TestUser,
} from "./support/local";

const ev = (eventType: string | undefined, data: unknown, schemaVersion: unknown = 1) =>
    JSON.stringify(eventType === undefined ? { schemaVersion, data } : { eventType, schemaVersion, data });

describe("local mode end to end", function () {
    this.timeout(30_000);
    let started: StartedLocal;
    let user: TestUser;

    before(async () => {
        // These tests follow arbitrary (schema-less) content from the API to the archive byte for byte;
        // schema enforcement has its own end-to-end tests (test/local-schemas.test.ts).
        started = await startTestLocal({ zendesk: { ratePerSecond: 100 }, config: { schemaEnforcement: "off" } });
        user = await signUpUser(started, "Alice");
    });
    after(async () => {
        await started?.local.close();
    });

    it("gives a confirmed user a clientId through the real post-confirmation handler", () => {
        assert.match(user.clientId, /^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    });

    it("archives every accepted event exactly once, byte-for-byte, under its eventType/schemaVersion partition", async () => {
        const { local } = started;
        const tricky = [
            ev("shopping", { note: "it's Bob's \"best\" price", path: "C:\\temp\\new", lines: "one\ntwo\r\n\tthree" }),
            ev("searching", { query: "emoji 😀 and 𝄞 and 𠜎 (4-byte)", accents: "café naïve Ωmega", nul: "\u0001\u001f" }, 2),
            ev("paging", { html: "</script><b>&amp;</b>", slash: "a/b", unicodeEscapes: "\\u0041" }),
            ev("loyaltypurchase", { itemSku: 123, note: "O'Brien" }),
            // Key order and spacing are the client's; the stored detail keeps the values exactly.
            `{ "schemaVersion" : 3 , "eventType" : "purchase", "data" : { "amount": 19.99, "nested": [1, {"x": null}] } }`,
        ];
        const res = await postEntries(local, user.accessToken, tricky);
        assert.equal(res.status, 200, res.body);
        assert.equal(res.json.failedEntryCount, 0);
        assert.equal(res.json.entries.length, tricky.length);
        const ids: string[] = res.json.entries.map((e: { eventId: string }) => e.eventId);
        ids.forEach((id) => assert.match(id, /^[0-9a-f-]{36}$/));

        await local.flush();
        const records = archiveRecords(local);
        for (let i = 0; i < tricky.length; i++) {
            const found = records.filter((r) => r.record.id === ids[i]);
            assert.equal(found.length, 1, `event ${i} stored ${found.length} times`);
            const { key, record } = found[0];
            const sent = JSON.parse(tricky[i]);
            assert.deepEqual(record.detail, { ...sent, accountNumber: user.clientId });
            assert.ok(key.startsWith(`events/eventType=${sent.eventType}/schemaVersion=${sent.schemaVersion}/year=`), key);
            assert.match(
                key,
                /\/year=\d{4}\/month=\d{2}\/day=\d{2}\/client-events-local-archive-1-\d{4}-\d{2}-\d{2}-\d{2}-\d{2}-\d{2}-[0-9a-f-]{36}$/,
            );
            assert.equal(record.source, "clientevents");
            assert.equal(record["detail-type"], local.details.environment);
            assert.equal(record.account, "000000000000");
            assert.equal(record.version, "0");
            assert.match(record.time, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/);
        }
        // Strings survive exactly: the stored line holds the same characters (not \u escapes of them).
        const searching = records.find((r) => r.record.id === ids[1])!;
        assert.ok(searching.line.includes("😀 and 𝄞 and 𠜎"));
    });

    it("reports malformed entries per entry with 207 and still archives the valid ones", async () => {
        const { local } = started;
        const entries = [
            ev("shopping", { itemSku: 1 }),
            `{"eventType":"shopping","schemaVersion":1,"data":{"itemSku":123}}}`, // the original generator's extra brace
            "not json at all",
            "[1,2,3]",
            ev(undefined, { missing: "eventType" }),
        ];
        const res = await postEntries(local, user.idToken, entries);
        assert.equal(res.status, 207, res.body);
        assert.equal(res.json.failedEntryCount, 3);
        const [ok, brace, text, array, noType] = res.json.entries;
        assert.ok(ok.eventId);
        for (const failed of [brace, text, array]) {
            assert.deepEqual(failed, { errorCode: "MalformedDetail", errorMessage: "Detail is malformed.", retryable: false });
        }
        assert.ok(noType.eventId, "an event without eventType is accepted and archived");
        await local.flush();
        const records = archiveRecords(local);
        const invalid = records.filter((r) => r.record.id === noType.eventId);
        assert.equal(invalid.length, 1);
        assert.ok(invalid[0].key.startsWith("events/eventType=_invalid/schemaVersion=1/"), invalid[0].key);
        assert.equal(records.filter((r) => r.record.id === ok.eventId).length, 1);
    });

    it("rejects 11 entries, oversized entries, bodies that break the model and non-JSON bodies with 400", async () => {
        const { local } = started;
        const eleven = await postEntries(
            local,
            user.accessToken,
            Array.from({ length: 11 }, () => ev("shopping", {})),
        );
        assert.equal(eleven.status, 400);
        assert.match(eleven.json.message, /^Invalid request body: expected \{"entries"/);
        assert.match(
            validationErrorOf(started, eleven.json),
            /array is too long: must have at most 10 elements but instance has 11 elements/,
        );

        const huge = await postEntries(local, user.accessToken, [ev("shopping", { blob: "x".repeat(7000) })]);
        assert.equal(huge.status, 400);
        assert.match(validationErrorOf(started, huge.json), /is too long \(length: \d+, maximum allowed: \d+\)/);

        const empty = await postEntries(local, user.accessToken, []);
        assert.equal(empty.status, 400);
        assert.match(validationErrorOf(started, empty.json), /array is too short/);

        const extra = await postRaw(local, JSON.stringify({ entries: [{ entry: "{}", other: 1 }] }), { Authorization: user.accessToken });
        assert.equal(extra.status, 400);
        assert.match(validationErrorOf(started, extra.json), /not allowed by the schema: \["other"\]/);

        const notJson = await postRaw(local, "entries=1", { Authorization: user.accessToken });
        assert.equal(notJson.status, 400);
        assert.match(notJson.json.message, /^Invalid request body/);

        const wrongType = await postRaw(local, "{}", { Authorization: user.accessToken, "Content-Type": "text/plain" });
        assert.equal(wrongType.status, 415);
    });

    it("answers 401 for missing, malformed, expired and forged tokens and never calls PutEvents", async () => {
        const { local } = started;
        const before = local.bus.stats.accepted;
        const body = [ev("shopping", {})];
        const missing = await postRaw(local, JSON.stringify({ entries: [{ entry: body[0] }] }));
        assert.equal(missing.status, 401);
        assert.equal(missing.json.message, "Unauthorized");

        assert.equal((await postEntries(local, "not-a-jwt", body)).status, 401);

        const expired = local.cognito.issueTokens(user.username, Math.floor(Date.now() / 1000) - 7200);
        assert.equal((await postEntries(local, expired.AccessToken, body)).status, 401);
        assert.equal((await postEntries(local, expired.IdToken, body)).status, 401);

        // Same claims and kid, signed with another key.
        const [header, payload] = user.idToken.split(".");
        const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
        const signature = createSign("RSA-SHA256").update(`${header}.${payload}`).sign(privateKey).toString("base64url");
        assert.equal((await postEntries(local, `${header}.${payload}.${signature}`, body)).status, 401);

        // A payload edited to claim another clientId, keeping the original signature.
        const claims = JSON.parse(Buffer.from(payload, "base64url").toString());
        claims["custom:clientId"] = "00000000-0000-4000-8000-000000000000";
        const edited = `${header}.${Buffer.from(JSON.stringify(claims)).toString("base64url")}.${user.idToken.split(".")[2]}`;
        assert.equal((await postEntries(local, edited, body)).status, 401);

        assert.equal(local.bus.stats.accepted, before);
        // Bearer prefix works too.
        assert.equal((await postEntries(local, `Bearer ${user.accessToken}`, body)).status, 200);
    });

    it("answers 403 for a valid user without a clientId", async () => {
        const { local, cognito } = started;
        const other = await signUpUser(started);
        await cognito.send(
            new AdminUpdateUserAttributesCommand({
                UserPoolId: local.outputs.userPoolId,
                Username: other.username,
                UserAttributes: [{ Name: "custom:clientId", Value: "" }],
            }),
        );
        const fresh = local.cognito.issueTokens(other.username);
        const res = await postEntries(local, fresh.IdToken, [ev("shopping", {})]);
        assert.equal(res.status, 403);
        assert.match(res.json.message, /no clientId/);
    });

    it("answers the CORS preflight and unknown routes as deployed", async () => {
        const { local } = started;
        const pre = await fetch(local.outputs.apiUrl, {
            method: "OPTIONS",
            headers: { Origin: "https://app.example.com", "Access-Control-Request-Method": "POST" },
        });
        assert.equal(pre.status, 204); // the deployed OPTIONS mock's status (PREFLIGHT_STATUS_CODE)
        assert.equal(pre.headers.get("access-control-allow-origin"), "*");
        assert.match(pre.headers.get("access-control-allow-methods") ?? "", /POST/);
        const get = await fetch(local.outputs.apiUrl, { method: "GET" });
        assert.equal(get.status, 404);
        assert.equal(get.headers.get("access-control-allow-origin"), "*");
    });

    it("hands out the ready line's outputs over HTTP and in <data-dir>/outputs.json", async () => {
        const { local } = started;
        const served = await (await fetch(`${local.outputs.cognitoEndpoint}/_local/outputs`)).json();
        assert.deepEqual(served, local.outputs);
        assert.ok(!JSON.stringify(served).includes(local.credentials.secretAccessKey), "no secret over HTTP");
        // The file adds the secret key, readable by its owner only.
        const file = path.join(local.outputs.dataDir, "outputs.json");
        assert.equal(local.outputs.credentials.file, file);
        assert.deepEqual(JSON.parse(readFileSync(file, "utf8")), {
            ...local.outputs,
            credentials: { ...local.outputs.credentials, ...local.credentials },
        });
        assert.equal(statSync(file).mode & 0o777, 0o600);
    });

    it("opens exactly one ticket per loyalty purchase with the connection's Basic auth", async () => {
        const { local } = started;
        const ticketsBefore = jsonLines(local.details.ticketsFile).length;
        const res = await postEntries(local, user.accessToken, [
            ev("loyaltypurchase", { itemSku: 501 }),
            ev("loyaltypurchase", { itemSku: 502 }),
            ev("loyaltypurchase", { itemSku: '503","priority":"urgent' }), // not a number: no ticket
            ev("shopping", { itemSku: 504 }),
        ]);
        assert.equal(res.status, 200, res.body);
        await local.flush();
        const tickets = jsonLines(local.details.ticketsFile).slice(ticketsBefore);
        const expectedAuth = "Basic " + Buffer.from("local-support@example.com/token:local-zendesk-api-token").toString("base64");
        const bodies = tickets.map((t) => JSON.parse(t.body));
        for (const sku of [501, 502]) {
            const matching = bodies.filter((b) => b.ticket.comment.body.includes(`item ${sku} `));
            assert.equal(matching.length, 1, `ticket for ${sku}`);
            assert.ok(matching[0].ticket.subject.includes(user.clientId));
        }
        assert.equal(tickets.length, 2);
        for (const t of tickets) {
            assert.equal(t.authorization, expectedAuth);
            assert.equal(t.userAgent, "Amazon/EventBridge/ApiDestinations");
            assert.match(t.contentType, /^application\/json/);
        }
        assert.equal(path.basename(local.details.ticketsFile), "tickets.jsonl");
    });
});

describe("local mode with program configuration", function () {
    this.timeout(30_000);
    it("applies the stack's keys: environment, partitioning policy, compression", async () => {
        const started = await startTestLocal({ config: { environment: "dev", partitionEventTypes: "paging", archiveCompression: "GZIP" } });
        try {
            const { local } = started;
            assert.match(local.outputs.apiUrl, /\/dev\/event$/);
            const user = await signUpUser(started, "cfg");
            const res = await postEntries(local, user.accessToken, [ev("shopping", { itemSku: 1 }), ev("paging", { page: 1 })]);
            assert.equal(res.status, 200, res.body);
            await local.flush();
            const bucketDir = path.join(local.details.s3Dir, local.outputs.bucketName);
            const keys = listFiles(bucketDir);
            assert.equal(keys.length, 2, keys.join("\n"));
            assert.ok(
                keys.some((k) => k.startsWith("events/eventType=_other/schemaVersion=1/") && k.endsWith(".gz")),
                keys.join("\n"),
            );
            const paging = keys.find((k) => k.startsWith("events/eventType=paging/"))!;
            const record = JSON.parse(gunzipSync(readFileSync(path.join(bucketDir, paging))).toString("utf8"));
            assert.equal(record["detail-type"], "dev");
            assert.equal(record.detail.accountNumber, user.clientId);
        } finally {
            await started.local.close();
        }
    });
});
