/**
 * Hostile and careless clients against local mode end to end: odd bodies, odd headers, spoofed
 * server-side fields. Each case proves a clear answer and that every valid event is archived exactly
 * once, unchanged (and nothing invalid is published).
 */
import { strict as assert } from "node:assert";
import { createHmac, createPublicKey, createSign, generateKeyPairSync, type JsonWebKey } from "node:crypto";
import * as path from "node:path";
import { gzipSync } from "node:zlib";
import { MAX_REQUEST_BYTES } from "../local/api-gateway/rest-api";
import { MAX_ENTRY_LENGTH } from "../pipeline/limits";
import { ticketShapeErrors } from "../local/zendesk-recorder";
import {
    archiveRecords,
    jsonLines,
    listFiles,
    postEntries,
    signUpUser,
    startTestLocal,
    validationErrorOf,
    type StartedLocal,
    type TestUser,
} from "./support/local";

const ev = (eventType: string, data: unknown = {}, schemaVersion: unknown = 1) => JSON.stringify({ eventType, schemaVersion, data });

describe("hostile clients against local mode", function () {
    this.timeout(30_000);
    let started: StartedLocal;
    let user: TestUser;

    before(async () => {
        // Hostile content must survive the API and the archive intact; schema enforcement (which would
        // quarantine most of it) has its own tests in test/local-schemas.test.ts.
        started = await startTestLocal({ zendesk: { ratePerSecond: 100 }, config: { schemaEnforcement: "off" } });
        user = await signUpUser(started, "Mallory");
    });
    after(async () => {
        await started?.local.close();
    });

    const post = (body: string | Buffer, headers: Record<string, string> = {}) =>
        fetch(started.local.outputs.apiUrl, {
            method: "POST",
            headers: { "Content-Type": "application/json", Authorization: user.accessToken, ...headers },
            body,
        })
            .then(async (res) => ({ status: res.status, text: await res.text() }))
            .then((r) => ({
                ...r,
                json: (() => {
                    try {
                        return JSON.parse(r.text);
                    } catch {
                        return undefined;
                    }
                })(),
            }));

    /** Runs a request and returns how many events the bus accepted during it. */
    async function published<T>(run: () => Promise<T>): Promise<{ result: T; accepted: number }> {
        const before = started.local.bus.stats.accepted;
        const result = await run();
        return { result, accepted: started.local.bus.stats.accepted - before };
    }

    /** Flushes and returns the archived records (and error records) of the given event ids. */
    async function stored(ids: string[]) {
        await started.local.flush();
        const records = archiveRecords(started.local);
        return ids.map((id) => records.filter((r) => r.record.id === id));
    }

    /** Firehose error records (already flushed) whose raw data holds the event id. */
    function errorRecords(id: string): Array<{ key: string; raw: string }> {
        const bucket = path.join(started.local.details.s3Dir, started.local.outputs.bucketName);
        return listFiles(bucket)
            .filter((k) => k.startsWith("errors/"))
            .flatMap((k) =>
                jsonLines(path.join(bucket, k)).map((r) => ({ key: k, raw: Buffer.from(r.rawData, "base64").toString("utf8") })),
            )
            .filter((r) => r.raw.includes(id));
    }

    /** The model's complaint about a 400 answer (logged, not answered: pipeline/gateway-responses.ts). */
    const complaint = (res: { json: { requestId?: string } }) => validationErrorOf(started, res.json);

    it("rejects bodies of the wrong shape with 400 (the problem in the log), and publishes nothing", async () => {
        const cases: Array<[string, RegExp]> = [
            ['{"entries":{"entry":"{}"}}', /instance type \(object\) does not match any allowed primitive type \(allowed: \["array"\]\)/],
            ['{"entries":null}', /instance type \(null\) does not match/],
            ['{"entries":"[{\\"entry\\":\\"{}\\"}]"}', /instance type \(string\) does not match/],
            ['{"entries":[{"entry":"{}"}],"source":"aws.evil"}', /not allowed by the schema: \["source"\]/],
            ['{"entries":[{"entry":"{}"}],"__proto__":{"entries":[]}}', /not allowed by the schema: \["__proto__"\]/],
            ['{"entries":[{"entry":"{}","constructor":1}]}', /not allowed by the schema: \["constructor"\]/],
            ['{"entries":[{"entry":42}]}', /instance type \(integer\) does not match any allowed primitive type \(allowed: \["string"\]\)/],
            ['{"entries":[{"entry":{"eventType":"shopping"}}]}', /instance type \(object\) does not match/],
            ['{"entries":[{"entry":["{}"]}]}', /instance type \(array\) does not match/],
            ['{"entries":[{"entry":null}]}', /instance type \(null\) does not match/],
            ['{"entries":[{"entry":""}]}', /is too short/],
            ['{"entries":[{}]}', /missing required properties \(\["entry"\]\)/],
            ['{"entries":[null]}', /instance type \(null\) does not match/],
            ["[]", /instance type \(array\) does not match/],
            ["null", /instance type \(null\) does not match/],
            ['"entries"', /instance type \(string\) does not match/],
            ["", /Invalid JSON/],
            ['{"entries":[{"entry":"{}"}]', /Invalid JSON/],
            ['{"entries":[{"entry":"{}"}]} {"entries":[]}', /Invalid JSON/],
            ['\uFEFF{"entries":[{"entry":"{}"}]}', /Invalid JSON/],
        ];
        const { result, accepted } = await published(() => Promise.all(cases.map(([body]) => post(body))));
        result.forEach((res, i) => {
            assert.equal(res.status, 400, `${cases[i][0]} -> ${res.text}`);
            assert.match(res.json.message, /^Invalid request body/);
            assert.match(complaint(res), cases[i][1], `${cases[i][0]} -> ${complaint(res)}`);
        });
        assert.equal(accepted, 0);
    });

    it("a deeply nested body (a million levels) gets a quick 400, not a crash", async () => {
        const depth = 1_000_000;
        const { result, accepted } = await published(() =>
            Promise.all([
                post(`{"entries":${"[".repeat(depth)}${"]".repeat(depth)}}`),
                post(`{"entries":[{"entry":"{}"}],"x":${'{"a":'.repeat(depth)}1${"}".repeat(depth)}}`),
            ]),
        );
        assert.deepEqual(
            result.map((r) => r.status),
            [400, 400],
        );
        assert.match(complaint(result[0]), /instance type \(array\) does not match any allowed primitive type \(allowed: \["object"\]\)/);
        assert.match(complaint(result[1]), /not allowed by the schema: \["x"\]/);
        assert.equal(accepted, 0);
    });

    it("duplicate keys: the model and the template both read the last value, so nothing unvalidated is published", async () => {
        // Eleven entries hidden behind a valid first `entries` would bypass the model if the two disagreed.
        const eleven = JSON.stringify(Array.from({ length: 11 }, () => ({ entry: ev("shopping") })));
        const hidden = await published(() => post(`{"entries":[{"entry":${JSON.stringify(ev("shopping"))}}],"entries":${eleven}}`));
        assert.equal(hidden.result.status, 400);
        assert.match(complaint(hidden.result), /at most 10 elements but instance has 11/);
        assert.equal(hidden.accepted, 0);

        const last = await published(() =>
            post(`{"entries":${eleven},"entries":[{"entry":${JSON.stringify(ev("paging", { n: "last" }))}}]}`),
        );
        assert.equal(last.result.status, 200, last.result.text);
        assert.equal(last.accepted, 1);
        const [[record]] = await stored([last.result.json.entries[0].eventId]);
        assert.deepEqual(record.record.detail.data, { n: "last" });

        const entryTwice = await post(`{"entries":[{"entry":"{}","entry":42}]}`);
        assert.equal(entryTwice.status, 400);
    });

    it("duplicate keys inside an event: routing, partitioning and the archive all take the last value", async () => {
        const ticketsBefore = jsonLines(started.local.details.ticketsFile).length;
        const entries = [
            `{"eventType":"loyaltypurchase","eventType":"shopping","schemaVersion":1,"data":{"itemSku":5}}`,
            `{"eventType":"shopping","schemaVersion":"x","eventType":"loyaltypurchase","schemaVersion":2,"data":{"itemSku":"1"},"data":{"itemSku":6}}`,
        ];
        const res = await postEntries(started.local, user.accessToken, entries);
        assert.equal(res.status, 200, res.body);
        const [[first], [second]] = await stored(res.json.entries.map((e: { eventId: string }) => e.eventId));
        assert.ok(first.key.startsWith("events/eventType=shopping/schemaVersion=1/"), first.key);
        assert.ok(second.key.startsWith("events/eventType=loyaltypurchase/schemaVersion=2/"), second.key);
        assert.deepEqual(second.record.detail, {
            eventType: "loyaltypurchase",
            schemaVersion: 2,
            data: { itemSku: 6 },
            accountNumber: user.clientId,
        });
        const tickets = jsonLines(started.local.details.ticketsFile)
            .slice(ticketsBefore)
            .map((t) => JSON.parse(t.body));
        assert.equal(tickets.length, 1);
        assert.match(tickets[0].ticket.comment.body, /item 6 /);
    });

    it("entries that are JSON but not an object fail per entry (MalformedDetail), the valid ones are archived", async () => {
        const entries = ["null", '"str"', "1", "true", "[1]", "{}", ev("shopping", { ok: 1 })];
        const res = await postEntries(started.local, user.accessToken, entries);
        assert.equal(res.status, 207, res.body);
        assert.equal(res.json.failedEntryCount, 5);
        res.json.entries
            .slice(0, 5)
            .forEach((e: Record<string, unknown>) =>
                assert.deepEqual(e, { errorCode: "MalformedDetail", errorMessage: "Detail is malformed.", retryable: false }),
            );
        const [empty, ok] = await stored(res.json.entries.slice(5).map((e: { eventId: string }) => e.eventId));
        assert.equal(empty.length, 1);
        assert.ok(empty[0].key.startsWith("events/eventType=_invalid/schemaVersion=_invalid/"), empty[0].key);
        assert.equal(ok.length, 1);
    });

    it("archives huge and precise numbers exactly as sent", async () => {
        const entry = `{"eventType":"purchase","schemaVersion":1,"data":{"orderId":12345678901234567890,"amount":0.30000000000000004441,"big":1e400,"neg":-0,"price":19.90}}`;
        const res = await postEntries(started.local, user.accessToken, [entry]);
        assert.equal(res.status, 200, res.body);
        const [[record]] = await stored([res.json.entries[0].eventId]);
        assert.ok(
            record.line.includes(
                `"data":{"orderId":12345678901234567890,"amount":0.30000000000000004441,"big":1e400,"neg":-0,"price":19.90}`,
            ),
            record.line,
        );
        assert.ok(record.key.startsWith("events/eventType=purchase/schemaVersion=1/"), record.key);
    });

    it("control characters, NUL, U+2028/2029, escaped surrogate pairs and __proto__ keys survive as data", async () => {
        const entries = [
            JSON.stringify({
                eventType: "shopping",
                schemaVersion: 1,
                data: { nul: "a\u0000b", del: "\u007f", seps: "\u2028\u2029", bell: "\u0007" },
            }),
            `{"eventType":"shopping","schemaVersion":1,"data":{"pair":"\\ud83d\\ude00"}}`,
            `{"eventType":"shopping","schemaVersion":1,"__proto__":{"admin":true},"constructor":{"prototype":{"x":1}}}`,
        ];
        const res = await postEntries(started.local, user.accessToken, entries);
        assert.equal(res.status, 200, res.body);
        const [[a], [b], [c]] = await stored(res.json.entries.map((e: { eventId: string }) => e.eventId));
        assert.deepEqual(a.record.detail.data, JSON.parse(entries[0]).data);
        assert.equal(b.record.detail.data.pair, "😀");
        assert.ok(c.line.includes(`"__proto__":{"admin":true}`), c.line);
        assert.equal(({} as Record<string, unknown>).admin, undefined);
    });

    it("an escaped lone surrogate in an entry is kept: jq 1.6 cannot parse it, so the record goes to errors/partitioning-failed/ intact", async () => {
        const entry = `{"eventType":"shopping","schemaVersion":1,"data":{"lone":"\\ud800"}}`;
        const res = await postEntries(started.local, user.accessToken, [entry]);
        assert.equal(res.status, 200, res.body);
        const id = res.json.entries[0].eventId;
        const [archived] = await stored([id]);
        const errors = errorRecords(id);
        assert.equal(archived.length + errors.length, 1);
        const text = archived.length === 1 ? archived[0].line : errors[0].raw;
        assert.ok(text.includes(`"lone":"\\ud800"`), text);
        if (errors.length === 1) assert.match(errors[0].key, /^errors\/partitioning-failed\//);
    });

    it("a lone surrogate escaped in the request body itself is refused in its entry with a clear error, never stored changed; the other entries are stored", async () => {
        // The body's own escape puts an unpaired UTF-16 unit into the entry string: it cannot be stored as
        // UTF-8 without changing it (it used to be archived as U+FFFD).
        const good = ev("shopping", { n: 1 });
        const body = `{"entries":[{"entry":"{\\"eventType\\":\\"shopping\\",\\"schemaVersion\\":1,\\"x\\":\\"\\ud800\\"}"},{"entry":${JSON.stringify(good)}}]}`;
        const { result: res, accepted } = await published(() => post(body));
        assert.equal(res.status, 207, res.text);
        assert.equal(accepted, 1);
        assert.equal(res.json.entries[0].errorCode, "MalformedDetail");
        assert.equal(res.json.entries[0].retryable, false);
        assert.match(res.json.entries[0].errorMessage, /character 47 is an unpaired UTF-16 surrogate \(U\+D800\)/);
        const [[record]] = await stored([res.json.entries[1].eventId]);
        assert.deepEqual(record.record.detail.data, { n: 1 });
        assert.ok(!archiveRecords(started.local).some((r) => r.line.includes("\ufffd")), "nothing was stored with U+FFFD");
    });

    it("deep nesting inside an entry is archived once, or kept under the error prefix; never lost", async () => {
        const depth = Math.floor((MAX_ENTRY_LENGTH - 60) / 2);
        const entry = `{"eventType":"shopping","schemaVersion":1,"d":${"[".repeat(depth)}${"]".repeat(depth)}}`;
        assert.ok(entry.length <= MAX_ENTRY_LENGTH);
        const res = await postEntries(started.local, user.accessToken, [entry]);
        assert.equal(res.status, 200, res.body);
        const id = res.json.entries[0].eventId;
        const [archived] = await stored([id]);
        // jq 1.6 refuses documents nested deeper than 256 levels: Firehose then files the record under
        // errors/partitioning-failed/ (its raw data intact) instead of the partitioned prefix.
        const errors = errorRecords(id);
        assert.equal(archived.length + errors.length, 1, `archived ${archived.length}, error records ${errors.length}`);
        const text = archived.length === 1 ? archived[0].line : errors[0].raw;
        assert.ok(text.includes(`"d":${"[".repeat(depth)}${"]".repeat(depth)}`));
        if (errors.length === 1) assert.match(errors[0].key, /^errors\/partitioning-failed\//);
    });

    it("a client cannot spoof the source, detail-type, account, resources or accountNumber of its events", async () => {
        const spoof = {
            eventType: "loyaltypurchase",
            schemaVersion: 1,
            data: { itemSku: 777 },
            source: "aws.evil",
            "detail-type": "prod",
            account: "999999999999",
            resources: ["victim-client"],
            accountNumber: "victim-client",
            id: "forged-id",
            time: "1999-01-01T00:00:00Z",
            detail: { accountNumber: "victim-client", data: { itemSku: '1","priority":"urgent' } },
        };
        const ticketsBefore = jsonLines(started.local.details.ticketsFile).length;
        const res = await postEntries(started.local, user.accessToken, [JSON.stringify(spoof)]);
        assert.equal(res.status, 200, res.body);
        const [[record]] = await stored([res.json.entries[0].eventId]);
        assert.equal(record.record.source, "clientevents");
        assert.equal(record.record["detail-type"], started.local.details.environment);
        assert.equal(record.record.account, "000000000000");
        assert.deepEqual(record.record.resources, []);
        assert.notEqual(record.record.id, "forged-id");
        assert.equal(record.record.detail.accountNumber, user.clientId);
        assert.deepEqual(record.record.detail.detail, spoof.detail, "the client's own fields stay inside detail, as data");
        const tickets = jsonLines(started.local.details.ticketsFile)
            .slice(ticketsBefore)
            .map((t) => JSON.parse(t.body));
        assert.equal(tickets.length, 1);
        assert.deepEqual(Object.keys(tickets[0].ticket).sort(), ["comment", "subject", "tags"]);
        assert.ok(tickets[0].ticket.subject.includes(user.clientId));
        assert.ok(!JSON.stringify(tickets[0]).includes("victim") && !JSON.stringify(tickets[0]).includes("urgent"));
        assert.match(tickets[0].ticket.comment.body, /item 777 /);
    });

    it("loyalty purchases whose itemSku is not a non-negative number are archived but open no ticket", async () => {
        const skus: unknown[] = ["123", { n: 1 }, [], null, true, -1, '1","priority":"urgent'];
        const ticketsBefore = jsonLines(started.local.details.ticketsFile).length;
        const res = await postEntries(
            started.local,
            user.accessToken,
            skus.map((itemSku) => ev("loyaltypurchase", { itemSku })),
        );
        assert.equal(res.status, 200, res.body);
        const found = await stored(res.json.entries.map((e: { eventId: string }) => e.eventId));
        found.forEach((f, i) => assert.equal(f.length, 1, `itemSku ${JSON.stringify(skus[i])} archived once`));
        assert.equal(jsonLines(started.local.details.ticketsFile).length, ticketsBefore);
    });

    it("a loyalty purchase whose data is an array (the rule matches through arrays) opens a well-formed ticket with nothing injected", async () => {
        const data = [{ itemSku: 5 }, { itemSku: '1","priority":"urgent' }, { itemSku: { priority: "urgent" } }];
        const ticketsBefore = jsonLines(started.local.details.ticketsFile).length;
        const res = await postEntries(started.local, user.accessToken, [ev("loyaltypurchase", data)]);
        assert.equal(res.status, 200, res.body);
        const [[record]] = await stored([res.json.entries[0].eventId]);
        assert.deepEqual(record.record.detail.data, data);
        const tickets = jsonLines(started.local.details.ticketsFile).slice(ticketsBefore);
        assert.equal(tickets.length, 1);
        assert.deepEqual(ticketShapeErrors(tickets[0].body), []);
        assert.ok(!tickets[0].body.includes("urgent"), tickets[0].body);
        assert.ok(JSON.parse(tickets[0].body).ticket.subject.includes(user.clientId));
    });

    it("a body of exactly 10 MiB is processed; one byte more is refused with 413 before the authorizer runs", async () => {
        const core = JSON.stringify({ entries: [{ entry: ev("shopping", { size: "limit" }) }] });
        const exact = core + " ".repeat(MAX_REQUEST_BYTES - core.length); // JSON allows trailing whitespace
        assert.equal(Buffer.byteLength(exact), MAX_REQUEST_BYTES);
        const ok = await post(exact);
        assert.equal(ok.status, 200, ok.text);
        const over = await published(() => post(exact + " ", { Authorization: "not-a-token" }));
        assert.equal(over.result.status, 413);
        assert.equal(over.result.json.message, "Request Too Long");
        assert.equal(over.accepted, 0);
    });

    it("content types: charset parameters and no header are accepted, other types get 415, a gzip body is not JSON", async () => {
        const body = JSON.stringify({ entries: [{ entry: ev("shopping") }] });
        for (const type of ["application/json; charset=utf-8", "application/json;charset=UTF-8"]) {
            assert.equal((await post(body, { "Content-Type": type })).status, 200, type);
        }
        for (const type of ["application/x-www-form-urlencoded", "text/json", "application/jsonx", "multipart/form-data; boundary=x"]) {
            const res = await post(body, { "Content-Type": type });
            assert.equal(res.status, 415, type);
            assert.equal(res.json.message, "Unsupported Media Type");
        }
        // No Content-Type at all: API Gateway uses application/json (a fetch with a string body would send text/plain).
        const bare = await fetch(started.local.outputs.apiUrl, {
            method: "POST",
            headers: { Authorization: user.accessToken },
            body: Buffer.from(body),
        });
        assert.equal(bare.status, 200, await bare.text());
        // The API enables no request compression, so API Gateway hands the gzip bytes to the validator.
        const gz = await published(() => post(gzipSync(Buffer.from(body)), { "Content-Encoding": "gzip" }));
        assert.equal(gz.result.status, 400);
        assert.match(gz.result.json.message, /^Invalid request body/);
        assert.equal(gz.accepted, 0);
    });

    it("bytes that are not UTF-8 in the raw body (an encoded lone surrogate ED A0 80, a stray FF) refuse their entry with a clear error; the other entries are stored", async () => {
        const before = Buffer.from(`{"entries":[{"entry":"{\\"eventType\\":\\"shopping\\",\\"schemaVersion\\":1,\\"x\\":\\"`);
        const after = Buffer.from(`\\"}"},{"entry":${JSON.stringify(ev("paging", { n: 2 }))}}]}`);
        for (const [bytes, unit] of [
            [[0xed, 0xa0, 0x80], "DCED"],
            [[0xff], "DCFF"],
            [[0xc3, 0x28], "DCC3"],
        ] as const) {
            // Over real HTTP, byte for byte: what reaches the parser is decided by local mode, not the client.
            const { result: res, accepted } = await published(() => post(Buffer.concat([before, Buffer.from(bytes), after])));
            assert.equal(res.status, 207, res.text);
            assert.equal(accepted, 1, "only the valid entry is accepted");
            assert.equal(res.json.entries[0].errorCode, "MalformedDetail");
            assert.equal(res.json.entries[0].retryable, false);
            assert.ok(
                res.json.entries[0].errorMessage.includes(`character 47 is an unpaired UTF-16 surrogate (U+${unit})`),
                res.json.entries[0].errorMessage,
            );
            const [[record]] = await stored([res.json.entries[1].eventId]);
            assert.deepEqual(record.record.detail.data, { n: 2 });
        }
        assert.ok(!archiveRecords(started.local).some((r) => r.line.includes("\ufffd")), "nothing was stored with U+FFFD");
    });

    it("Authorization variants: scheme case and spacing are accepted; two tokens, junk and huge values get 401", async () => {
        const body = [ev("shopping")];
        for (const header of [
            `bearer ${user.accessToken}`,
            `BEARER    ${user.accessToken}`,
            `  ${user.idToken}  `,
            `Bearer\t${user.idToken}`,
        ]) {
            const res = await postEntries(started.local, header, body);
            assert.equal(res.status, 200, `${JSON.stringify(header.slice(0, 12))}: ${res.body}`);
        }
        const { result, accepted } = await published(() =>
            Promise.all(
                [
                    `Bearer ${user.accessToken} ${user.idToken}`,
                    `${user.accessToken},${user.idToken}`,
                    `Basic ${Buffer.from("a:b").toString("base64")}`,
                    `Bearer`,
                    `Bearer ${user.accessToken}x`,
                    `${user.accessToken.split(".").slice(0, 2).join(".")}.`,
                    `${"A".repeat(4000)}.${"B".repeat(4000)}.${"C".repeat(2000)}`,
                    `${user.accessToken}\u00e9`,
                ].map((header) => postEntries(started.local, header, body).catch((err: Error) => ({ status: -1, body: err.message }))),
            ),
        );
        result.forEach((res, i) => {
            // fetch itself refuses a header value outside Latin-1 / with control characters.
            assert.ok(res.status === 401 || res.status === -1, `case ${i}: ${res.status} ${res.body}`);
        });
        assert.equal(accepted, 0);
    });

    it("an ID token claiming another clientId gets 401 whether signed by another key, unsigned (alg none) or HS256 with the public key", async () => {
        const [header, payload] = user.idToken.split(".");
        const claims = JSON.parse(Buffer.from(payload, "base64url").toString());
        claims["custom:clientId"] = "00000000-0000-4000-8000-000000000000";
        const forgedPayload = Buffer.from(JSON.stringify(claims)).toString("base64url");
        const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
        const sig = createSign("RSA-SHA256").update(`${header}.${forgedPayload}`).sign(privateKey).toString("base64url");
        const withAlg = (alg: string) =>
            Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(header, "base64url").toString()), alg })).toString("base64url");
        // Algorithm confusion: HS256 keyed with the pool's public key, as served in the JWKS.
        const jwks = (await (
            await fetch(`${started.local.outputs.cognitoEndpoint}/${started.local.outputs.userPoolId}/.well-known/jwks.json`)
        ).json()) as { keys: JsonWebKey[] };
        const jwk = jwks.keys[0];
        const publicPem = createPublicKey({ key: jwk, format: "jwk" }).export({ type: "spki", format: "pem" });
        const hs = `${withAlg("HS256")}.${forgedPayload}`;
        const hsToken = `${hs}.${createHmac("sha256", publicPem).update(hs).digest("base64url")}`;
        const { result, accepted } = await published(() =>
            Promise.all([
                postEntries(started.local, `${header}.${forgedPayload}.${sig}`, [ev("shopping")]),
                postEntries(started.local, `${withAlg("none")}.${forgedPayload}.`, [ev("shopping")]),
                postEntries(started.local, hsToken, [ev("shopping")]),
            ]),
        );
        assert.deepEqual(
            result.map((r) => r.status),
            [401, 401, 401],
        );
        assert.equal(accepted, 0);
    });

    it("the 400 answer stays valid JSON when the offending field name holds quotes, backslashes and markup", async () => {
        const field = `<script>"\\</script>\u2028`;
        const res = await post(`{"entries":[{"entry":"{}"}],${JSON.stringify(field)}:1}`);
        assert.equal(res.status, 400);
        assert.ok(res.json, `the answer is JSON: ${res.text}`);
        assert.equal(res.json.type, "BAD_REQUEST_BODY");
        assert.ok(!res.text.includes("script"), "no request text is echoed");
        assert.ok(complaint(res).includes(`["${field}"]`), complaint(res));
    });
});
