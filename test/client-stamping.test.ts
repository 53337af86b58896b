/**
 * The client library's session id and sequence numbers, and its schema check, against the API fixture
 * over real HTTP on 127.0.0.1 (scripted 503s, per-entry throttling and dropped connections).
 */
import * as assert from "assert";
import { CognitoAuth, ConfigurationError, EventQueue, EventsClient, type EventsClientOptions } from "../client";
import { schemaCheck } from "../client/schemas";
import { compileSchemas } from "../schemas/compile";
import { startApiFixture, type ApiFixture } from "./support/api-fixture";
import { createUser, startTestLocal, type StartedLocal } from "./support/local";

const PASSWORD = "Corr3ct-horse!";
const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const shopping = (itemSku: unknown) => ({ eventType: "shopping", schemaVersion: 1, data: { itemSku } });

/** Local mode's Cognito (alice signed up) issues the tokens; a fresh API fixture, which verifies them, per test. */
function withFixture(): { started: () => StartedLocal; fixture: () => ApiFixture } {
    let started: StartedLocal;
    let fixture: ApiFixture;
    before(async function () {
        this.timeout(30_000);
        started = await startTestLocal();
        await createUser(started, "alice", PASSWORD);
    });
    after(async () => started?.local.close());
    beforeEach(async () => {
        fixture = await startApiFixture({ ...started.local.outputs, jwks: started.local.cognito.jwks() });
    });
    afterEach(() => fixture.close());
    return { started: () => started, fixture: () => fixture };
}

async function signIn(started: StartedLocal) {
    const { userPoolClientId, cognitoEndpoint } = started.local.outputs;
    return new CognitoAuth({ clientId: userPoolClientId, endpoint: cognitoEndpoint }).signIn("alice", PASSWORD);
}

describe("client library: session id and sequence numbers", () => {
    const setup = withFixture();
    let fixture: ApiFixture;
    beforeEach(() => {
        fixture = setup.fixture();
    });

    async function client(options: Partial<EventsClientOptions> = {}): Promise<EventsClient> {
        const tokens = await signIn(setup.started());
        return new EventsClient({ apiUrl: fixture.apiUrl, tokens, sleep: async () => undefined, ...options });
    }
    const stamps = (events: Array<Record<string, unknown> | undefined>) => events.map((e) => [e?.eventId, e?.sessionId, e?.sequence]);

    it("stamps a UUID session id and 1, 2, 3, ... in hand-over order, strictly increasing across sends", async () => {
        const c = await client();
        const first = await c.send([shopping(1), shopping(2), shopping(3)]);
        const second = await c.send([shopping(4), shopping(5)]);
        assert.strictEqual(first.failed.length + second.failed.length, 0);
        const sessions = new Set(fixture.accepted.map((e) => e.sessionId));
        assert.strictEqual(sessions.size, 1, "one session per client");
        assert.match([...sessions][0] as string, UUID_V4);
        assert.deepStrictEqual(
            fixture.accepted.map((e) => e.sequence),
            [1, 2, 3, 4, 5],
        );
        assert.deepStrictEqual(
            fixture.accepted.map((e) => (e.data as { itemSku: number }).itemSku),
            [1, 2, 3, 4, 5],
        );
        assert.deepStrictEqual(
            [...first.accepted, ...second.accepted].map((a) => a.sequence),
            [1, 2, 3, 4, 5],
        );
        assert.deepStrictEqual(c.session, { id: [...sessions][0], lastSequence: 5 });
        const other = await client();
        await other.send([shopping(6)]);
        assert.notStrictEqual(fixture.accepted[5].sessionId, fixture.accepted[0].sessionId, "another client, another session");
        assert.strictEqual(fixture.accepted[5].sequence, 1);
    });

    it("keeps eventId, sessionId and sequence unchanged through whole-request retries (503, dropped connection)", async () => {
        const c = await client();
        fixture.faults.push({ status: 503, body: { message: "unavailable", retryable: true } }, { dropConnection: true });
        const result = await c.send([shopping(1), shopping(2), shopping(3)]);
        assert.strictEqual(result.accepted.length, 3);
        assert.strictEqual(fixture.requests.length, 3, "two failed attempts, then the one that went through");
        const [a, b, ok] = fixture.requests.map((r) => stamps(r.events));
        assert.deepStrictEqual(
            a.map((s) => s[2]),
            [1, 2, 3],
        );
        assert.deepStrictEqual(b, a, "the resend after a 503 carries the same stamps");
        assert.deepStrictEqual(ok, a, "the resend after a dropped connection carries the same stamps");
    });

    it("keeps the stamps of the entries resent after per-entry throttling; the next event gets the next number", async () => {
        const c = await client();
        fixture.faults.push({ failEntries: { 1: "ThrottlingException" } });
        await c.send([shopping(1), shopping(2), shopping(3)]);
        assert.deepStrictEqual(
            fixture.requests[1].events.map((e) => e?.sequence),
            [2],
            "only the throttled entry is resent, with its number",
        );
        assert.deepStrictEqual(stamps(fixture.requests[1].events), [stamps(fixture.requests[0].events)[1]]);
        await c.send([shopping(4)]);
        assert.deepStrictEqual(
            fixture.accepted.map((e) => e.sequence),
            [1, 3, 2, 4],
        );
    });

    it("assigns the number when the app hands the event over (EventQueue.track), not when it is sent", async () => {
        const c = await client();
        const queue = new EventQueue(c, { flushIntervalMs: 0 });
        queue.track(shopping("tracked-first"));
        queue.track(shopping("tracked-second"));
        await c.send([shopping("sent-directly")]); // goes out before the queue's events
        await queue.flush();
        const byOrder = fixture.accepted.map((e) => [(e.data as { itemSku: string }).itemSku, e.sequence]);
        assert.deepStrictEqual(byOrder, [
            ["sent-directly", 3],
            ["tracked-first", 1],
            ["tracked-second", 2],
        ]);
    });

    it("continues a persisted session: the app passes the id and the last number it saved", async () => {
        const saved = { id: "8E3B1F2A-6C4D-4B5E-A7F8-9D0C1B2A3E4F", lastSequence: 41 }; // an upper-case UUID, as iOS writes them
        const c = await client({ session: saved });
        await c.send([shopping(1), shopping(2)]);
        assert.deepStrictEqual(
            fixture.accepted.map((e) => [e.sessionId, e.sequence]),
            [
                [saved.id, 42],
                [saved.id, 43],
            ],
        );
        assert.deepStrictEqual(c.session, { id: saved.id, lastSequence: 43 });
        await assert.rejects(client({ session: { id: "not-a-uuid" } }), ConfigurationError);
        await assert.rejects(client({ session: { id: saved.id, lastSequence: -1 } }), ConfigurationError);
        await assert.rejects(client({ session: { id: saved.id, lastSequence: 1.5 } }), ConfigurationError);
    });

    it("replaces a sessionId or sequence the app set itself; an event this session stamped keeps its stamp when resent", async () => {
        const c = await client();
        await c.send([{ ...shopping(1), sessionId: "f00dbabe-0000-4000-8000-000000000000", sequence: 900 }]);
        assert.deepStrictEqual([fixture.accepted[0].sessionId, fixture.accepted[0].sequence], [c.session.id, 1]);
        const stamped = c.stamp(shopping(2));
        await c.send([stamped]);
        await c.send([stamped]); // the app resends the same stamped event: same number, no new one
        assert.deepStrictEqual(
            fixture.accepted.map((e) => e.sequence),
            [1, 2, 2],
        );
        assert.strictEqual(c.session.lastSequence, 2);
    });

    it("an event refused before sending (EntryTooLarge, InvalidEvent) still used its number: a gap, as a lost event leaves", async () => {
        const c = await client();
        const result = await c.send([
            shopping(1),
            { eventType: "shopping", schemaVersion: 1, data: "x".repeat(7000) },
            { schemaVersion: 1 } as never,
            shopping(4),
        ]);
        assert.deepStrictEqual(
            result.failed.map((f) => [f.errorCode, f.sequence]),
            [
                ["EntryTooLarge", 2],
                ["InvalidEvent", 3],
            ],
        );
        assert.deepStrictEqual(
            fixture.accepted.map((e) => e.sequence),
            [1, 4],
        );
    });
});

describe("client library: schema check (client/schemas)", () => {
    const { validators } = compileSchemas();
    const setup = withFixture();
    let fixture: ApiFixture;
    beforeEach(() => {
        fixture = setup.fixture();
    });

    async function client(check: EventsClientOptions["check"]): Promise<EventsClient> {
        const tokens = await signIn(setup.started());
        return new EventsClient({ apiUrl: fixture.apiUrl, tokens, sleep: async () => undefined, check });
    }

    it("fails events that break their schema with SchemaViolation before sending, and still sends the valid ones", async () => {
        const c = await client(schemaCheck(validators));
        const result = await c.send([
            shopping(1),
            shopping("2"),
            { eventType: "paging", schemaVersion: 1, data: { page: 3, extra: true } },
            shopping(4),
            { eventType: "checkout", schemaVersion: 7, data: {} },
        ]);
        assert.deepStrictEqual(
            result.accepted.map((a) => a.sequence),
            [1, 4, 5],
            "valid and schema-less events are sent",
        );
        assert.deepStrictEqual(
            result.failed.map((f) => [f.errorCode, f.sequence, f.attempts]),
            [
                ["SchemaViolation", 2, 0],
                ["SchemaViolation", 3, 0],
            ],
        );
        assert.match(result.failed[0].errorMessage, /shopping version 1 breaks its schema at "\/data\/itemSku": must be integer \(type\)$/);
        assert.match(
            result.failed[1].errorMessage,
            /paging version 1 breaks its schema at "\/data\/extra": must NOT have additional properties \(additionalProperties\)$/,
        );
        assert.strictEqual(fixture.requests.length, 1);
        assert.deepStrictEqual(
            fixture.requests[0].events.map((e) => e?.sequence),
            [1, 4, 5],
            "nothing invalid reached the API",
        );
    });

    it("checks the event as JSON will carry it (NaN becomes null, undefined fields vanish)", async () => {
        const c = await client(schemaCheck(validators));
        const result = await c.send([
            shopping(NaN),
            { eventType: "shopping", schemaVersion: 1, data: { itemSku: 5, quantity: undefined } },
        ]);
        assert.deepStrictEqual(
            result.failed.map((f) => f.errorCode),
            ["SchemaViolation"],
        );
        assert.match(result.failed[0].errorMessage, /must be integer/);
        assert.strictEqual(result.accepted.length, 1);
    });

    it("unknownSchema fail: an event of a type and version without schema fails with UnknownSchema", async () => {
        const c = await client(schemaCheck(validators, { unknownSchema: "fail" }));
        const result = await c.send([{ eventType: "checkout", schemaVersion: 7, data: {} }, shopping(1)]);
        assert.deepStrictEqual(
            result.failed.map((f) => [f.errorCode, f.errorMessage.replace(/^event [^:]+: /, "")]),
            [["UnknownSchema", "no schema for checkout version 7"]],
        );
        assert.strictEqual(result.accepted.length, 1);
    });
});
