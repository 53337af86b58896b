import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import {
    CognitoAuth,
    CognitoSession,
    ConfigurationError,
    EventsClient,
    EventsClientOptions,
    InvalidCredentialsError,
    RequestInfo,
    UserNotConfirmedError,
    CognitoError,
    planBatches,
    prepareEvent,
    parseRetryAfter,
    fullJitterDelay,
    DEFAULT_BACKOFF_POLICY,
    DEFAULT_LIMITS,
    utf8Length,
    EventValidationError,
    EventQueue,
} from "../client";
import { MAX_ENTRY_LENGTH, PUT_EVENTS_MAX_BYTES } from "../pipeline/limits";
import { AdminGetUserCommand } from "@aws-sdk/client-cognito-identity-provider";
import { startApiFixture, type ApiFixture } from "./support/api-fixture";
import { issuedTokens, startCognitoProxy, type CognitoProxy } from "./support/cognito-proxy";
import { claimsOf, createUser, startTestLocal, type StartedLocal } from "./support/local";

const PASSWORD = "Corr3ct-horse!";

function ev(i: number, extra: Record<string, unknown> = {}) {
    return { eventType: i % 2 ? "shopping" : "paging", schemaVersion: 1, data: { i }, ...extra };
}

describe("client library", function () {
    this.timeout(30_000);
    let started: StartedLocal;
    let cognito: CognitoProxy;
    let fixture: ApiFixture;
    let auth: CognitoAuth;
    let sleeps: number[];
    /** The clients' clock (token expiry, Retry-After dates); whole seconds, as HTTP dates are. */
    const clock = { now: 0 };
    const startFixture = () => startApiFixture({ ...started.local.outputs, jwks: started.local.cognito.jwks() });

    before(async () => {
        // Local mode's Cognito, with 5-minute tokens (the shortest Cognito allows), behind a recording proxy.
        started = await startTestLocal({ config: { accessTokenValidityMinutes: "5", idTokenValidityMinutes: "5" } });
        cognito = await startCognitoProxy(started.local.outputs.cognitoEndpoint);
        await createUser(started, "alice", PASSWORD);
    });
    after(async () => {
        await cognito?.close();
        await started?.local.close();
    });
    beforeEach(async () => {
        clock.now = Math.floor(Date.now() / 1000) * 1000;
        cognito.calls.length = 0;
        cognito.fault = undefined;
        fixture = await startFixture();
        auth = new CognitoAuth({ clientId: started.local.outputs.userPoolClientId, endpoint: cognito.endpoint, now: () => clock.now });
        sleeps = [];
    });
    afterEach(() => fixture.close());

    async function client(
        options: Partial<EventsClientOptions> = {},
    ): Promise<{ client: EventsClient; session: CognitoSession; infos: RequestInfo[] }> {
        const session = await auth.signIn("alice", PASSWORD);
        const infos: RequestInfo[] = [];
        let id = 0;
        const c = new EventsClient({
            apiUrl: fixture.apiUrl,
            tokens: session,
            sleep: async (ms) => {
                sleeps.push(ms);
            },
            random: () => 0.5,
            now: () => clock.now,
            newId: () => `evt-${++id}`,
            onRequest: (info) => infos.push(info),
            ...options,
        });
        return { client: c, session, infos };
    }

    describe("events and batches", () => {
        it("gives every event an id, keeps an id the app set, and serializes it into the entry", () => {
            const a = prepareEvent({ eventType: "shopping", schemaVersion: 1, data: { itemSku: 1 } }, () => "fixed-id");
            assert.strictEqual(a.eventId, "fixed-id");
            assert.deepStrictEqual(JSON.parse(a.entry), {
                eventType: "shopping",
                schemaVersion: 1,
                data: { itemSku: 1 },
                eventId: "fixed-id",
            });
            const b = prepareEvent({ eventType: "paging", schemaVersion: 2, eventId: "mine" });
            assert.strictEqual(b.eventId, "mine");
            const c = prepareEvent({ eventType: "paging", schemaVersion: 2 });
            assert.match(c.eventId, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
        });

        it("rejects events the API would refuse, with typed errors", () => {
            const bad: Array<[unknown, string]> = [
                [{ schemaVersion: 1 }, "InvalidEvent"],
                [{ eventType: "", schemaVersion: 1 }, "InvalidEvent"],
                [{ eventType: "x", schemaVersion: "1" }, "InvalidEvent"],
                [{ eventType: "x", schemaVersion: 1.5 }, "InvalidEvent"],
                [{ eventType: "x", schemaVersion: 1, data: { n: BigInt(1) } }, "InvalidEvent"],
                [["x"], "InvalidEvent"],
            ];
            for (const [event, code] of bad) {
                assert.throws(
                    () => prepareEvent(event as never),
                    (err: unknown) => err instanceof EventValidationError && err.code === code,
                    JSON.stringify(String(event)),
                );
            }
        });

        it("accepts an entry of exactly MAX_ENTRY_LENGTH and refuses one character more", () => {
            const skeleton = JSON.stringify({ eventType: "x", schemaVersion: 1, data: "", eventId: "id" }).length;
            const fits = prepareEvent({ eventType: "x", schemaVersion: 1, data: "a".repeat(MAX_ENTRY_LENGTH - skeleton) }, () => "id");
            assert.strictEqual(fits.entry.length, MAX_ENTRY_LENGTH);
            assert.throws(
                () => prepareEvent({ eventType: "x", schemaVersion: 1, data: "a".repeat(MAX_ENTRY_LENGTH - skeleton + 1) }, () => "id"),
                (err: unknown) => err instanceof EventValidationError && err.code === "EntryTooLarge",
            );
        });

        it("counts UTF-8 bytes like Buffer does, surrogate pairs included", () => {
            for (const s of ["", "abc", "é", "€", "😀", "a😀b€é", "\ud800x"]) {
                assert.strictEqual(utf8Length(s), Buffer.byteLength(s, "utf8"), s);
            }
        });

        it("plans batches of at most 10 entries and within PutEvents' byte budget, in order", () => {
            const events = Array.from({ length: 25 }, (_, i) => prepareEvent(ev(i), () => `e${i}`));
            const batches = planBatches(events);
            assert.deepStrictEqual(
                batches.map((b) => b.length),
                [10, 10, 5],
            );
            assert.deepStrictEqual(
                batches.flat().map((e) => e.eventId),
                events.map((e) => e.eventId),
            );

            // Worst case: ten maximal entries of 4-byte characters still fit one request.
            const emoji = "😀".repeat(Math.floor((MAX_ENTRY_LENGTH - 60) / 2));
            const big = Array.from({ length: 10 }, (_, i) =>
                prepareEvent({ eventType: "x", schemaVersion: 1, data: emoji }, () => `b${i}`),
            );
            const total = big.reduce((sum, e) => sum + e.bytes + DEFAULT_LIMITS.entryOverheadBytes, 0);
            assert.ok(total < PUT_EVENTS_MAX_BYTES, `${total}`);
            assert.deepStrictEqual(
                planBatches(big).map((b) => b.length),
                [10],
            );

            // A tighter byte budget splits earlier.
            const limits = { ...DEFAULT_LIMITS, maxBatchBytes: 3 * (events[0].bytes + DEFAULT_LIMITS.entryOverheadBytes) + 1 };
            assert.ok(planBatches(events, limits).every((b) => b.length <= 3));
        });
    });

    describe("sending", () => {
        it("sends 25 events in three valid requests, each accepted once", async () => {
            const { client: c, infos, session } = await client();
            const result = await c.send(Array.from({ length: 25 }, (_, i) => ev(i)));
            assert.strictEqual(result.accepted.length, 25);
            assert.strictEqual(result.failed.length, 0);
            assert.strictEqual(result.requests, 3);
            assert.strictEqual(result.retried, 0);
            assert.deepStrictEqual(
                fixture.requests.map((r) => [r.status, r.events.length]),
                [
                    [200, 10],
                    [200, 10],
                    [200, 5],
                ],
            );
            assert.deepStrictEqual(
                fixture.accepted.map((e) => e.eventId),
                Array.from({ length: 25 }, (_, i) => `evt-${i + 1}`),
            );
            assert.ok(result.accepted.every((a) => a.busEventId?.startsWith("bus-")));
            assert.ok(fixture.requests.every((r) => r.authorization === `Bearer ${session.tokens.idToken}`));
            assert.strictEqual(claimsOf(session.tokens.idToken).token_use, "id");
            assert.deepStrictEqual(
                infos.map((i) => i.accepted),
                [10, 10, 5],
            );
        });

        it("sends the bare token when authScheme is none", async () => {
            const { client: c, session } = await client({ authScheme: "none" });
            await c.send([ev(1)]);
            assert.strictEqual(fixture.requests[0].authorization, session.tokens.idToken);
        });

        it("resends only the entries that failed with retryable codes, never an accepted one", async () => {
            fixture.faults.push({ failEntries: { 1: "ThrottlingException", 3: "InternalFailure", 4: "MalformedDetail" } });
            const { client: c, infos } = await client();
            const result = await c.send(Array.from({ length: 6 }, (_, i) => ev(i)));
            assert.deepStrictEqual(
                fixture.requests.map((r) => r.events.map((e) => e!.eventId)),
                [
                    ["evt-1", "evt-2", "evt-3", "evt-4", "evt-5", "evt-6"],
                    ["evt-2", "evt-4"],
                ],
            );
            assert.deepStrictEqual(
                fixture.requests.map((r) => r.status),
                [207, 200],
            );
            assert.strictEqual(result.accepted.length, 5);
            assert.deepStrictEqual(
                result.failed.map((f) => [f.eventId, f.errorCode]),
                [["evt-5", "MalformedDetail"]],
            );
            assert.strictEqual(result.retried, 2);
            const ids = fixture.accepted.map((e) => e.eventId);
            assert.strictEqual(new Set(ids).size, ids.length, "an accepted entry was sent again");
            assert.deepStrictEqual(infos[0].errorCodes, ["ThrottlingException", "InternalFailure", "MalformedDetail"]);
            // One backoff wait: full jitter of the first retry, random 0.5 of a 200 ms ceiling.
            assert.deepStrictEqual(sleeps, [100]);
        });

        it("backs off on 429 honouring Retry-After (seconds and HTTP-date), on 503 with full jitter", async () => {
            const date = new Date(clock.now + 7000).toUTCString();
            fixture.faults.push({ status: 429, retryAfter: "3" }, { status: 503 }, { status: 429, retryAfter: date }, { status: 429 });
            const { client: c, infos } = await client();
            const result = await c.send([ev(1), ev(2)]);
            assert.strictEqual(result.accepted.length, 2);
            assert.strictEqual(result.retried, 8);
            // Retry-After 3 s; jitter 0.5*400; Retry-After date 7 s; jitter 0.5*1600.
            assert.deepStrictEqual(sleeps, [3000, 200, 7000, 800]);
            assert.deepStrictEqual(
                infos.map((i) => i.status),
                [429, 503, 429, 429, 200],
            );
            assert.deepStrictEqual(
                fixture.accepted.map((e) => e.eventId),
                ["evt-1", "evt-2"],
            );
        });

        it("gives up after maxAttempts with the last error code, and on a Retry-After longer than allowed", async () => {
            for (let i = 0; i < 10; i++) fixture.faults.push({ failEntries: { 0: "ThrottlingException", 1: "InternalFailure" } });
            const { client: c } = await client({ retry: { maxAttempts: 4, baseDelayMs: 1000, maxDelayMs: 3000 } });
            const result = await c.send([ev(1), ev(2), ev(3)]);
            assert.deepStrictEqual(
                result.failed.map((f) => [f.eventId, f.errorCode, f.attempts]),
                [
                    ["evt-1", "ThrottlingException", 4],
                    ["evt-2", "InternalFailure", 4],
                ],
            );
            assert.match(result.failed[0].errorMessage, /gave up after 4 attempts/);
            assert.deepStrictEqual(
                result.accepted.map((a) => a.eventId),
                ["evt-3"],
            );
            assert.deepStrictEqual(sleeps, [500, 1000, 1500]); // ceilings 1000, 2000, min(4000, 3000)
            assert.strictEqual(fixture.requests.length, 4);

            sleeps.length = 0;
            fixture.faults.length = 0;
            fixture.faults.push({ status: 429, retryAfter: "3600" });
            const second = await c.send([ev(3)]);
            assert.strictEqual(second.failed[0].errorCode, "HTTP429");
            assert.match(second.failed[0].errorMessage, /3600 s/);
            assert.deepStrictEqual(sleeps, []);
        });

        it("does not retry a 500 the API marks as not retryable, nor a 403", async () => {
            fixture.faults.push(
                { status: 500, body: { message: "Internal server error", retryable: false } },
                { status: 403, body: { message: "User is not authorized" } },
            );
            const { client: c } = await client();
            const a = await c.send([ev(1)]);
            const b = await c.send([ev(2)]);
            assert.deepStrictEqual([a.failed[0].errorCode, b.failed[0].errorCode], ["HTTP500", "HTTP403"]);
            assert.match(b.failed[0].errorMessage, /not authorized/);
            assert.strictEqual(fixture.requests.length, 2);
            assert.deepStrictEqual(sleeps, []);
        });

        it("isolates the entry behind a 400 by splitting the request; the valid entries get through once", async () => {
            fixture.poison = "POISON";
            const { client: c } = await client();
            const events = Array.from({ length: 5 }, (_, i) => ev(i, i === 3 ? { data: "POISON" } : {}));
            const result = await c.send(events);
            assert.deepStrictEqual(
                result.failed.map((f) => [f.eventId, f.errorCode]),
                [["evt-4", "HTTP400"]],
            );
            assert.deepStrictEqual(fixture.accepted.map((e) => e.eventId).sort(), ["evt-1", "evt-2", "evt-3", "evt-5"]);
            assert.deepStrictEqual(
                fixture.requests.map((r) => r.events.length),
                [5, 3, 2, 1, 1],
            );
            assert.strictEqual(result.retried, 7);
        });

        it("reports invalid events as failed without sending them, and sends the valid ones", async () => {
            const { client: c } = await client();
            const result = await c.send([ev(1), { eventType: "x" } as never, ev(2)]);
            assert.deepStrictEqual(
                result.failed.map((f) => f.errorCode),
                ["InvalidEvent"],
            );
            assert.strictEqual(result.accepted.length, 2);
            assert.strictEqual(fixture.requests.length, 1);
        });

        it("resends after a dropped connection with the same event ids", async () => {
            fixture.faults.push({ dropConnection: true });
            const { client: c, infos } = await client();
            const result = await c.send([ev(1), ev(2)]);
            assert.strictEqual(result.accepted.length, 2);
            assert.deepStrictEqual(
                infos.map((i) => i.status),
                [0, 200],
            );
            assert.deepStrictEqual(
                fixture.requests.map((r) => r.events.map((e) => e!.eventId)),
                [
                    ["evt-1", "evt-2"],
                    ["evt-1", "evt-2"],
                ],
            );
        });

        it("fails with NetworkError when the API is unreachable", async () => {
            const session = await auth.signIn("alice", PASSWORD);
            const port = new URL(fixture.baseUrl).port;
            await fixture.close();
            const c = new EventsClient({
                apiUrl: `http://127.0.0.1:${port}/dev`,
                tokens: session,
                sleep: async (ms) => void sleeps.push(ms),
                random: () => 0,
                retry: { maxAttempts: 3 },
            });
            const result = await c.send([ev(1)]);
            assert.strictEqual(result.failed[0].errorCode, "NetworkError");
            assert.match(result.failed[0].errorMessage, /ECONNREFUSED/);
            assert.strictEqual(sleeps.length, 2);
            fixture = await startFixture(); // for afterEach
        });

        it("refuses a plain-http API URL that is not loopback", () => {
            assert.throws(
                () => new EventsClient({ apiUrl: "http://example.com/dev", tokens: { getToken: async () => "t" } }),
                ConfigurationError,
            );
            assert.throws(() => new EventsClient({ apiUrl: "not a url", tokens: { getToken: async () => "t" } }), ConfigurationError);
            assert.strictEqual(
                new EventsClient({ apiUrl: "https://x.example/dev/", tokens: { getToken: async () => "t" } }).endpoint,
                "https://x.example/dev/event",
            );
        });
    });

    describe("authentication", () => {
        it("maps wrong credentials and unconfirmed users to typed errors", async () => {
            await assert.rejects(
                auth.signIn("alice", "wrong-password"),
                (err: unknown) => err instanceof InvalidCredentialsError && err.code === "NotAuthorizedException",
            );
            await createUser(started, "bob", PASSWORD, false);
            await assert.rejects(
                auth.signIn("bob", PASSWORD),
                (err: unknown) => err instanceof UserNotConfirmedError && /not confirmed/.test(err.message),
            );
        });

        it("signs up and confirms with the code; Cognito's error codes come through", async () => {
            const up = await auth.signUp({ username: "carol", password: PASSWORD, email: "carol@example.com" });
            assert.strictEqual(up.userConfirmed, false);
            const stored = await started.cognito.send(
                new AdminGetUserCommand({ UserPoolId: started.local.outputs.userPoolId, Username: "carol" }),
            );
            assert.strictEqual(up.userSub, stored.UserAttributes?.find((a) => a.Name === "sub")?.Value);
            assert.strictEqual(stored.UserStatus, "UNCONFIRMED");
            assert.strictEqual(stored.UserAttributes?.find((a) => a.Name === "email")?.Value, "carol@example.com");
            const code = started.codes.get("carol") ?? assert.fail("no confirmation code");
            await assert.rejects(
                auth.confirmSignUp("carol", code === "000000" ? "111111" : "000000"),
                (err: unknown) => err instanceof CognitoError && err.code === "CodeMismatchException",
            );
            await auth.confirmSignUp("carol", code);
            const session = await auth.signIn("carol", PASSWORD, "access");
            assert.strictEqual(claimsOf(await session.getToken()).token_use, "access");
            await assert.rejects(
                auth.signUp({ username: "carol", password: PASSWORD }),
                (err: unknown) => err instanceof CognitoError && err.code === "UsernameExistsException",
            );
        });

        it("refreshes the token shortly before it expires (injected clock), once for concurrent callers", async () => {
            const { client: c, session } = await client(); // 5-minute tokens
            await c.send([ev(1)]);
            const first = fixture.requests[0].authorization;
            clock.now += 200_000; // 100 s left: more than the 60 s margin
            await c.send([ev(2)]);
            assert.strictEqual(fixture.requests[1].authorization, first);
            clock.now += 50_000; // 50 s left: refresh
            await Promise.all([c.send([ev(3)]), c.send([ev(4)]), session.getToken()]);
            const refreshes = cognito.calls.filter((call) => call.input.AuthFlow === "REFRESH_TOKEN_AUTH");
            assert.strictEqual(refreshes.length, 1);
            assert.strictEqual(session.refreshCount, 1);
            assert.notStrictEqual(fixture.requests[2].authorization, first);
            assert.strictEqual(fixture.requests[2].authorization, fixture.requests[3].authorization);
            assert.ok(session.tokens.refreshToken, "keeps the refresh token when Cognito does not rotate it");
            assert.deepStrictEqual(
                fixture.requests.map((r) => r.status),
                [200, 200, 200, 200],
            );
        });

        it("refreshes once and resends after a 401; a revoked refresh token fails the events asking to sign in again", async () => {
            const { client: c } = await client();
            fixture.revoke(issuedTokens(cognito));
            const result = await c.send([ev(1)]);
            assert.deepStrictEqual(
                fixture.requests.map((r) => r.status),
                [401, 200],
            );
            assert.strictEqual(result.accepted.length, 1);
            assert.deepStrictEqual(sleeps, []);

            fixture.revoke(issuedTokens(cognito));
            // What Cognito answers for a revoked refresh token (a fault: local mode has no RevokeToken).
            cognito.fault = (call) =>
                call.input.AuthFlow === "REFRESH_TOKEN_AUTH"
                    ? { status: 400, type: "NotAuthorizedException", message: "Refresh Token has been revoked" }
                    : undefined;
            const lost = await c.send([ev(2)]);
            assert.strictEqual(lost.failed[0].errorCode, "NotAuthorizedException");
            assert.match(lost.failed[0].errorMessage, /sign in again/);
        });
    });

    describe("queue", () => {
        it("sends full batches as they fill, the rest on flush or close, in order", async () => {
            const { client: c } = await client();
            const results: number[] = [];
            const queue = new EventQueue(c, { flushIntervalMs: 0, onResult: (r) => results.push(r.accepted.length) });
            const ids = Array.from({ length: 23 }, (_, i) => queue.track(ev(i)));
            assert.strictEqual(new Set(ids).size, 23);
            const last = await queue.close();
            assert.strictEqual(last.accepted.length, 3);
            assert.deepStrictEqual(results, [10, 10, 3]);
            assert.deepStrictEqual(
                fixture.accepted.map((e) => e.eventId),
                ids,
            );
            assert.throws(
                () => queue.track(ev(1)),
                (err: unknown) => (err as { code?: string }).code === "QueueClosed",
            );
        });

        it("flushes on its timer, and refuses events beyond maxQueued", async () => {
            const { client: c } = await client();
            let resolveFlushed: (n: number) => void;
            const flushed = new Promise<number>((resolve) => (resolveFlushed = resolve));
            const queue = new EventQueue(c, { flushIntervalMs: 5, maxQueued: 3, onResult: (r) => resolveFlushed(r.accepted.length) });
            queue.track(ev(1));
            queue.track(ev(2));
            queue.track(ev(3));
            assert.throws(
                () => queue.track(ev(4)),
                (err: unknown) => (err as { code?: string }).code === "QueueFull",
            );
            assert.strictEqual(await flushed, 3);
            assert.strictEqual(queue.size, 0);
        });
    });

    describe("embeddability", () => {
        it("imports nothing Node-specific: only its own modules and pure pipeline data", () => {
            const dir = path.resolve(__dirname, "../client");
            const seen = new Set<string>();
            const visit = (file: string) => {
                if (seen.has(file)) return;
                seen.add(file);
                const text = fs.readFileSync(file, "utf8");
                for (const [, spec] of text.matchAll(/(?:import|export)[^"']*?from\s+["']([^"']+)["']/g)) {
                    assert.ok(spec.startsWith("."), `${path.relative(dir, file)} imports the package ${spec}`);
                    visit(path.resolve(path.dirname(file), spec) + ".ts");
                }
                const code = text.replace(/\/\*[\s\S]*?\*\/|\/\/.*$/gm, "");
                const nodeOnly = /\b(Buffer|process|require|__dirname)\b/.exec(code);
                // pipeline/limits.ts uses Buffer only inside putEventsEntrySize, which the client never calls.
                if (!file.endsWith(path.join("pipeline", "limits.ts"))) assert.strictEqual(nodeOnly, null, `${file} uses ${nodeOnly?.[1]}`);
            };
            for (const f of fs.readdirSync(dir).filter((f) => f.endsWith(".ts"))) visit(path.join(dir, f));
            const outside = [...seen]
                .filter((f) => !f.startsWith(dir))
                .map((f) => path.relative(path.resolve(dir, ".."), f))
                .sort();
            assert.deepStrictEqual(outside, [
                path.join("pipeline", "integration-responses.ts"),
                path.join("pipeline", "json-value.ts"),
                path.join("pipeline", "limits.ts"),
                path.join("pipeline", "schemas.ts"),
                path.join("pipeline", "stamping.ts"),
            ]);
        });
    });

    describe("retry timing", () => {
        it("parses Retry-After as seconds or HTTP-date", () => {
            const now = Date.parse("2026-01-01T00:00:00Z");
            assert.strictEqual(parseRetryAfter("5", now), 5000);
            assert.strictEqual(parseRetryAfter("Thu, 01 Jan 2026 00:00:09 GMT", now), 9000);
            assert.strictEqual(parseRetryAfter("Wed, 31 Dec 2025 00:00:00 GMT", now), 0);
            assert.strictEqual(parseRetryAfter("soon", now), undefined);
            assert.strictEqual(parseRetryAfter(null, now), undefined);
        });

        it("draws full-jitter delays below a doubling, capped ceiling", () => {
            const policy = { ...DEFAULT_BACKOFF_POLICY, baseDelayMs: 100, maxDelayMs: 1000 };
            assert.deepStrictEqual(
                [1, 2, 3, 4, 5, 9].map((r) => fullJitterDelay(r, policy, () => 0.999999)),
                [99, 199, 399, 799, 999, 999],
            );
            assert.strictEqual(
                fullJitterDelay(3, policy, () => 0),
                0,
            );
        });
    });
});
