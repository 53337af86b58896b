/** Local mode's parts on their own: PutEvents validation and routing, Firehose errors and buffering, the REST API's authorizer cache. */
import { strict as assert } from "node:assert";
import { readFileSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import { mock } from "node:test";
import type { APIGatewayAuthorizerResult, FirehoseTransformationEvent } from "aws-lambda";
import { MAX_ENTRY_LENGTH, PUT_EVENTS_MAX_BYTES } from "../pipeline/limits";
import { PARTITION_KEYS_JQ_QUERY } from "../pipeline/partitioning";
import { partitionKeysFor } from "./support/partitioning";
import { handler as rawTransform } from "../handlers/firehose-transform";
import { parseRetryAfter } from "../local/api-destination";
import { LocalRestApi, policyAllows, substituteGatewayTemplate } from "../local/api-gateway/rest-api";
import { LocalEventBus, serializeEvent, type BusEvent, type DeliveryOutcome, type TargetDefinition } from "../local/eventbridge";
import { LocalFirehose, extractKeys, localObjectPath } from "../local/firehose";
import { BinaryJq, WasmJq, extractKeysBatch, type JqEngine } from "../local/jq";
import { requireJq16 } from "./support/tools";
import { createLogger } from "../local/log";
import { asLocalLambda } from "../local/lambda";
import { jsonLines, listFiles, tempDataDir, testFirehoseSettings, testRestApiSettings } from "./support/local";

const quiet = createLogger({ quiet: true });
const transform = asLocalLambda("firehose-transform", quiet, rawTransform);
const entry = (detail: string, extra: Record<string, unknown> = {}) => ({
    Source: "clientevents",
    DetailType: "dev",
    EventBusName: "bus",
    Resources: ["c-1"],
    Detail: detail,
    ...extra,
});

function bus(dataDir: string, deliver: (payload: string, event: BusEvent) => Promise<DeliveryOutcome>, deadLetter = true) {
    return new LocalEventBus(
        { name: "bus", region: "eu-west-1", accountId: "000000000000", dataDir, retryBaseMs: 5, retryMaxDelayMs: 10 },
        [
            {
                name: "r1",
                eventPattern: { source: ["clientevents"], detail: { eventType: ["a"] } },
                targets: [
                    {
                        id: "t1",
                        arn: "arn:aws:events:eu-west-1:000000000000:api-destination/x",
                        input: (e) => JSON.stringify({ only: (e.detail as { n: number }).n }),
                        retryPolicy: { maximumRetryAttempts: 2, maximumEventAgeInSeconds: 60 },
                        deadLetter,
                        deliver,
                    },
                ],
            },
        ],
        quiet,
    );
}

describe("local mode parts", function () {
    this.timeout(20_000);

    describe("EventBridge PutEvents", () => {
        const b = bus(tempDataDir(), async () => ({ ok: true }));
        it("rejects more than 10 entries, a body that is not JSON, and a request over 256 KiB as a whole", async () => {
            const eleven = await b.putEvents(JSON.stringify({ Entries: Array.from({ length: 11 }, () => entry("{}")) }));
            assert.equal(eleven.status, 400);
            assert.equal(JSON.parse(eleven.body).__type, "ValidationException");
            assert.equal((await b.putEvents("{")).status, 400);
            assert.equal(JSON.parse((await b.putEvents("{")).body).__type, "SerializationException");
            const big = JSON.stringify({ a: "x".repeat(Math.ceil(PUT_EVENTS_MAX_BYTES / 2)) });
            const over = await b.putEvents(JSON.stringify({ Entries: [entry(big), entry(big)] }));
            assert.equal(over.status, 400);
            assert.match(JSON.parse(over.body).message, /Total size of the entries in the request is over the limit/);
        });

        it("reports per-entry errors in order and accepts the rest", async () => {
            const res = await b.putEvents(
                JSON.stringify({
                    Entries: [
                        entry('{"eventType":"a","n":1}'),
                        entry("[1]"),
                        entry("{bad"),
                        entry("{}", { Source: undefined }),
                        entry("{}", { EventBusName: "other" }),
                    ],
                }),
            );
            assert.equal(res.status, 200);
            const body = JSON.parse(res.body);
            assert.equal(body.FailedEntryCount, 4);
            assert.match(body.Entries[0].EventId, /^[0-9a-f-]{36}$/);
            assert.deepEqual(body.Entries[1], { ErrorCode: "MalformedDetail", ErrorMessage: "Detail is malformed." });
            assert.equal(body.Entries[2].ErrorCode, "MalformedDetail");
            assert.equal(body.Entries[3].ErrorCode, "InvalidArgument");
            assert.equal(body.Entries[4].ErrorCode, "NotFoundException");
        });

        it("a Time beyond what a date can hold is ignored like an unreadable one: the entry is accepted at the current time", async () => {
            const before = Date.now();
            const got: BusEvent[] = [];
            const timed = bus(tempDataDir(), async (_payload, event) => {
                got.push(event);
                return { ok: true };
            });
            const answer = await timed.putEvents(JSON.stringify({ Entries: [entry('{"eventType":"a","n":1}', { Time: 1e13 })] }));
            assert.equal(JSON.parse(answer.body).FailedEntryCount, 0, answer.body);
            await timed.drain();
            assert.ok(Date.parse(got[0].time) >= Math.floor(before / 1000) * 1000, got[0].time);
        });

        it("the request model's longest entry always fits PutEvents' size limit", async () => {
            const worst = "😀".repeat(MAX_ENTRY_LENGTH / 2); // 4 UTF-8 bytes per 2 UTF-16 units
            const detail = JSON.stringify({ w: worst }).slice(0, MAX_ENTRY_LENGTH);
            const res = await b.putEvents(
                JSON.stringify({
                    Entries: Array.from({ length: 10 }, () => entry(detail, { DetailType: "d".repeat(128), Resources: ["r".repeat(64)] })),
                }),
            );
            assert.equal(res.status, 200, res.body);
        });
    });

    describe("EventBridge routing", () => {
        it("delivers matching events through the target's input, with the event's fields", async () => {
            const got: Array<{ payload: string; event: BusEvent }> = [];
            const b = bus(tempDataDir(), async (payload, event) => {
                got.push({ payload, event });
                return { ok: true };
            });
            await b.putEvents(JSON.stringify({ Entries: [entry('{"eventType":"a","n":7}'), entry('{"eventType":"b","n":8}')] }));
            await b.drain();
            assert.equal(got.length, 1);
            assert.equal(got[0].payload, '{"only":7}');
            const e = got[0].event;
            assert.deepEqual(Object.keys(e), [
                "version",
                "id",
                "detail-type",
                "source",
                "account",
                "time",
                "region",
                "resources",
                "detail",
            ]);
            assert.equal(e.region, "eu-west-1");
            assert.deepEqual(e.resources, ["c-1"]);
        });

        it("retries retryable failures up to the policy, then dead-letters with the reason", async () => {
            const dataDir = tempDataDir();
            let calls = 0;
            const b = bus(dataDir, async () => {
                calls++;
                return { ok: false, retryable: true, errorCode: "THROTTLING", errorMessage: "429" };
            });
            await b.putEvents(JSON.stringify({ Entries: [entry('{"eventType":"a","n":1}')] }));
            await b.drain();
            assert.equal(calls, 3, "one attempt and two retries");
            const dead = jsonLines(path.join(dataDir, "dlq", "r1.jsonl"));
            assert.equal(dead.length, 1);
            assert.equal(dead[0].attributes.ERROR_CODE, "THROTTLING");
            assert.equal(dead[0].attributes.RETRY_ATTEMPTS, "2");
        });

        /** A bus whose one rule sends every event to a batch target (deliverMany first, deliver for retries). */
        function batchBus(dataDir: string, deliverMany: TargetDefinition["deliverMany"], deliver: TargetDefinition["deliver"]) {
            return new LocalEventBus(
                { name: "bus", region: "eu-west-1", accountId: "000000000000", dataDir, retryBaseMs: 5, retryMaxDelayMs: 10 },
                [
                    {
                        name: "r1",
                        eventPattern: { source: ["clientevents"] },
                        targets: [
                            {
                                id: "stream",
                                arn: "arn:aws:firehose:eu-west-1:000000000000:deliverystream/s",
                                retryPolicy: { maximumRetryAttempts: 2, maximumEventAgeInSeconds: 60 },
                                deadLetter: true,
                                deliverMany,
                                deliver,
                            },
                        ],
                    },
                ],
                quiet,
            );
        }
        const threeEntries = () => JSON.stringify({ Entries: [1, 2, 3].map((n) => entry(`{"eventType":"a","n":${n}}`)) });
        const idsOf = (answer: { body: string }) =>
            (JSON.parse(answer.body) as { Entries: Array<{ EventId: string }> }).Entries.map((e) => e.EventId);

        it("a batch target gets a request's events in one deliverMany call; one it cannot store stays in the journal for the next start", async () => {
            const dataDir = tempDataDir();
            const batches: string[][] = [];
            const b = batchBus(
                dataDir,
                async (payloads, onOutcome) => {
                    batches.push(payloads);
                    // The second event's storage fails, the others are written.
                    payloads.forEach((_, i) => onOutcome(i, i === 1 ? { ok: false, keep: true, reason: "disk full" } : { ok: true }));
                },
                async () => assert.fail("a batch target's events are not retried one by one"),
            );
            const ids = idsOf(await b.putEvents(threeEntries()));
            await b.drain();
            assert.equal(batches.length, 1, "one call for the request's three events");
            assert.deepEqual(
                batches[0].map((p) => JSON.parse(p).id),
                ids,
            );
            assert.equal(b.stats.delivered, 2);
            const report = await b.close();
            assert.equal(report.pendingEvents, 1, "the event not stored is still in the journal");
            assert.equal(report.notWritten, 1);
            assert.deepEqual(report.problems, ["disk full"]);
            // The next start delivers it, with the detail as the client wrote it.
            const stored: string[] = [];
            const next = batchBus(
                dataDir,
                async (payloads, onOutcome) => {
                    stored.push(...payloads);
                    payloads.forEach((_, i) => onOutcome(i, { ok: true }));
                },
                async (payload) => {
                    stored.push(payload);
                    return { ok: true };
                },
            );
            assert.equal(await next.recover(), 1);
            await next.drain();
            assert.deepEqual(
                stored.map((p) => JSON.parse(p).id),
                [ids[1]],
            );
            assert.deepEqual(JSON.parse(stored[0]).detail, { eventType: "a", n: 2 });
            assert.equal((await next.close()).pendingEvents, 0);
        });

        it("an event of a batch is marked done as soon as its outcome is known, not when the batch's last one is", async () => {
            let release = () => undefined as void;
            const gate = new Promise<void>((resolve) => (release = resolve));
            const b = batchBus(
                tempDataDir(),
                async (_payloads, onOutcome) => {
                    onOutcome(0, { ok: true });
                    onOutcome(2, { ok: true });
                    await gate; // the second record's object waits (a write to retry)
                    onOutcome(1, { ok: true });
                },
                async () => ({ ok: true }),
            );
            await b.putEvents(threeEntries());
            while (b.stats.delivered < 2) await new Promise((resolve) => setImmediate(resolve));
            assert.equal(b.stats.delivered, 2, "the first and third are delivered while the second waits");
            release();
            await b.drain();
            assert.equal(b.stats.delivered, 3);
            assert.equal((await b.close()).pendingEvents, 0);
        });

        it("a batch target that fails or gives no outcome: each event it left stays in the journal", async () => {
            const cases: Array<{ deliverMany: TargetDefinition["deliverMany"]; kept: number; reason: RegExp }> = [
                { deliverMany: async () => Promise.reject(new Error("socket closed")), kept: 3, reason: /stream failed: socket closed/ },
                { deliverMany: async (_payloads, onOutcome) => onOutcome(0, { ok: true }), kept: 2, reason: /gave no outcome/ },
            ];
            for (const { deliverMany, kept, reason } of cases) {
                const b = batchBus(tempDataDir(), deliverMany, async () => assert.fail("not retried one by one"));
                await b.putEvents(threeEntries());
                await b.drain();
                assert.equal(b.stats.delivered, 3 - kept);
                const report = await b.close();
                assert.equal(report.pendingEvents, kept);
                assert.equal(report.notWritten, kept);
                assert.match(report.problems.join(), reason);
            }
        });

        it("an event left in the journal resumes at the next start with the detail as the client wrote it, from this journal's lines and from the earlier format", async () => {
            const dataDir = tempDataDir();
            const detail = '{"eventType":"a","n":12345678901234567890,"s":"it\'s \\"q\\""}';
            const first = bus(dataDir, async () => ({ ok: false, keep: true, reason: "storage failed" }));
            await first.putEvents(JSON.stringify({ Entries: [entry(detail)] }));
            await first.drain();
            assert.equal((await first.close()).pendingEvents, 1);
            // A line as earlier versions wrote it: the envelope, and the detail as a string.
            const envelope = {
                version: "0",
                id: "legacy-1",
                "detail-type": "dev",
                source: "clientevents",
                account: "0",
                time: "t",
                region: "r",
                resources: [],
            };
            const legacy = JSON.stringify({
                g: 1,
                id: "legacy-1",
                at: Date.now(),
                t: ["r1/t1"],
                x: { e: envelope, d: '{"eventType":"a","n":1.50}' },
            });
            writeFileSync(path.join(dataDir, "eventbridge", "journal", "segment-000099.jsonl"), `${legacy}\n{"c":1}\n`);
            const got: BusEvent[] = [];
            const second = bus(dataDir, async (_payload, event) => {
                got.push(event);
                return { ok: true };
            });
            assert.equal(await second.recover(), 2);
            await second.drain();
            const texts = got.map((e) => serializeEvent(e)).sort();
            assert.equal(texts.length, 2);
            assert.ok(
                texts.some((t) => t.endsWith(`"detail":${detail}}`)),
                texts.join("\n"),
            );
            assert.ok(
                texts.some((t) => t.startsWith('{"version":"0","id":"legacy-1"') && t.endsWith('"detail":{"eventType":"a","n":1.50}}')),
                texts.join("\n"),
            );
            assert.equal((await second.close()).pendingEvents, 0);
        });

        it("without a dead-letter queue an exhausted event is dropped, as in EventBridge", async () => {
            const dataDir = tempDataDir();
            const b = bus(
                dataDir,
                async () => ({ ok: false, retryable: false, errorCode: "HTTP_CLIENT_ERROR", errorMessage: "400" }),
                false,
            );
            await b.putEvents(JSON.stringify({ Entries: [entry('{"eventType":"a","n":1}')] }));
            await b.drain();
            assert.deepEqual(listFiles(path.join(dataDir, "dlq")), []);
        });
    });

    describe("Firehose", () => {
        function stream(dataDir: string, options: Partial<ConstructorParameters<typeof LocalFirehose>[0]> = {}) {
            return new LocalFirehose(
                {
                    ...testFirehoseSettings(dataDir),
                    transform: {
                        handler: transform,
                        lambdaArn: "arn:aws:lambda:eu-west-1:000000000000:function:t",
                        batchBytes: 1024 * 1024,
                        numberOfRetries: 3,
                    },
                    jq: new WasmJq(), // the end-to-end tests use the default engine (jq 1.6 when installed)
                    ...options,
                },
                quiet,
            );
        }
        const event = (detail: unknown, resources = ["c-9"]) =>
            Buffer.from(
                JSON.stringify({
                    version: "0",
                    id: "i",
                    "detail-type": "dev",
                    source: "clientevents",
                    account: "0",
                    time: "2026-01-02T03:04:05Z",
                    region: "eu-west-1",
                    resources,
                    detail,
                }),
            );

        it("writes records the transform rejects under processing-failed in Firehose's error format", async () => {
            const dataDir = tempDataDir();
            const f = stream(dataDir);
            const bad = event({ eventType: "shopping", schemaVersion: 1 }, []); // no clientId
            f.put(event({ eventType: "shopping", schemaVersion: 1 }));
            f.put(bad);
            f.put(Buffer.from("not json"));
            await f.flush();
            const files = listFiles(path.join(dataDir, "s3", "b"));
            const errors = files.filter((k) => k.startsWith("errors/processing-failed/year="));
            assert.equal(errors.length, 1, files.join("\n"));
            assert.equal(files.filter((k) => k.startsWith("events/eventType=shopping/schemaVersion=1/")).length, 1);
            const records = readFileSync(path.join(dataDir, "s3", "b", errors[0]), "utf8")
                .trim()
                .split("\n")
                .map((l) => JSON.parse(l));
            assert.equal(records.length, 2);
            assert.equal(Buffer.from(records[0].rawData, "base64").toString(), bad.toString());
            assert.equal(Buffer.from(records[1].rawData, "base64").toString(), "not json");
            for (const r of records) {
                assert.equal(r.errorCode, "Lambda.ProcessingFailedStatus");
                assert.equal(typeof r.arrivalTimestamp, "number");
                assert.equal(typeof r.attemptEndingTimestamp, "number");
                assert.equal(r.lambdaArn, "arn:aws:lambda:eu-west-1:000000000000:function:t");
            }
        });

        it("retries a failing transform invocation, then fails its records; non-JSON output fails partitioning", async () => {
            const dataDir = tempDataDir();
            let calls = 0;
            const failing = stream(dataDir, {
                transform: {
                    handler: async () => {
                        calls++;
                        throw new Error("boom");
                    },
                    lambdaArn: "arn:l",
                    batchBytes: 1 << 20,
                    numberOfRetries: 3,
                },
            });
            failing.put(event({ eventType: "shopping", schemaVersion: 1 }));
            await failing.flush();
            assert.equal(calls, 4);
            const notJson = stream(dataDir, {
                transform: {
                    handler: async (e: FirehoseTransformationEvent) => ({
                        records: e.records.map((r) => ({
                            recordId: r.recordId,
                            result: "Ok" as const,
                            data: Buffer.from("plain text").toString("base64"),
                        })),
                    }),
                    lambdaArn: "arn:l",
                    batchBytes: 1 << 20,
                    numberOfRetries: 0,
                },
            });
            notJson.put(event({ eventType: "shopping", schemaVersion: 1 }));
            await notJson.flush();
            const files = listFiles(path.join(dataDir, "s3", "b"));
            const failed = files.filter((k) => k.startsWith("errors/processing-failed/"));
            const partitioning = files.filter((k) => k.startsWith("errors/partitioning-failed/"));
            assert.equal(failed.length, 1);
            assert.equal(partitioning.length, 1);
            assert.equal(JSON.parse(readFileSync(path.join(dataDir, "s3", "b", failed[0]), "utf8")).errorCode, "Lambda.FunctionError");
            assert.equal(
                JSON.parse(readFileSync(path.join(dataDir, "s3", "b", partitioning[0]), "utf8")).errorCode,
                "DynamicPartitioning.MetadataExtractionFailed",
            );
        });

        it("flushes when the buffer size is reached, and on its interval", async () => {
            const dataDir = tempDataDir();
            const bySize = stream(dataDir, { bufferSizeBytes: 200 });
            bySize.put(event({ eventType: "shopping", schemaVersion: 1, pad: "x".repeat(300) }));
            assert.equal(bySize.pendingRecords, 0, "a full buffer is delivered at once");
            await bySize.flush();
            assert.equal(bySize.written.length, 1);
            // The interval runs on a mocked clock: 300 s pass in no time, to the millisecond.
            mock.timers.enable({ apis: ["setTimeout"] });
            let byTime: LocalFirehose;
            try {
                byTime = stream(dataDir, { bufferIntervalSeconds: 300 });
                byTime.put(event({ eventType: "paging", schemaVersion: 2 }));
                mock.timers.tick(299_999);
                assert.equal(byTime.pendingRecords, 1, "still buffered 1 ms before the interval");
                mock.timers.tick(1);
                assert.equal(byTime.pendingRecords, 0, "delivered when the interval elapsed");
            } finally {
                mock.timers.reset();
            }
            await byTime.flush(); // nothing left to deliver: waits for the delivery the interval started
            assert.equal(byTime.written.length, 1);
            assert.ok(byTime.written[0].startsWith("events/eventType=paging/schemaVersion=2/"));
        });

        const engines: Array<[string, (context: Mocha.Context) => JqEngine]> = [
            ["jq-wasm", () => new WasmJq()],
            ["the jq 1.6 binary", (context) => new BinaryJq(requireJq16(context))],
        ];
        for (const [name, engineFor] of engines) {
            it(`${name} gives the partition keys of the policy the partitioning tests check against jq 1.6`, async function () {
                const engine = engineFor(this);
                const details: unknown[] = [
                    { eventType: "shopping", schemaVersion: 1 },
                    { eventType: "shopping", schemaVersion: 1.0 },
                    { eventType: "paging", schemaVersion: 1.5 },
                    { eventType: "unknown-type", schemaVersion: 25 },
                    { eventType: "bad type", schemaVersion: -1 },
                    { eventType: 7, schemaVersion: "1" },
                    { schemaVersion: 3 },
                    { eventType: "ünïcode", schemaVersion: 1e3 },
                    { eventType: "x".repeat(65), schemaVersion: 0 },
                    {},
                    "text",
                    [1],
                    null,
                ];
                const records = details.map((detail) => ({ source: "clientevents", detail }));
                const results = await extractKeysBatch(
                    engine,
                    [...records.map((r) => Buffer.from(JSON.stringify(r))), Buffer.from("not json")],
                    PARTITION_KEYS_JQ_QUERY,
                );
                records.forEach((record, i) =>
                    assert.deepEqual(results[i], { keys: partitionKeysFor(record) }, JSON.stringify(record.detail)),
                );
                assert.deepEqual(results[records.length], { error: "Non JSON record provided" });
            });
        }

        it("jq-wasm keeps working past the few hundred runs after which one instance breaks", async () => {
            const engine = new WasmJq();
            const record = Buffer.from(JSON.stringify({ detail: { eventType: "paging", schemaVersion: 2 } }));
            for (let i = 0; i < 400; i++) {
                assert.deepEqual(
                    await extractKeys(record, PARTITION_KEYS_JQ_QUERY, engine),
                    { eventType: "paging", schemaVersion: "2" },
                    `run ${i}`,
                );
            }
        });

        it("refuses object keys that would leave the bucket directory", () => {
            assert.throws(() => localObjectPath("/tmp/b", "events/../../etc/passwd"));
            assert.throws(() => localObjectPath("/tmp/b", "/abs"));
            assert.equal(localObjectPath("/tmp/b", "a/b.json"), path.resolve("/tmp/b/a/b.json"));
        });
    });

    describe("API Gateway", () => {
        const settings = testRestApiSettings();
        const allow: APIGatewayAuthorizerResult = {
            principalId: "p",
            context: { clientId: "c-1" },
            policyDocument: {
                Version: "2012-10-17",
                Statement: [
                    { Action: "execute-api:Invoke", Effect: "Allow", Resource: "arn:aws:execute-api:eu-west-1:000000000000:api/dev/*/*" },
                ],
            },
        };
        const request = (token: string) => ({
            method: "POST",
            path: "/dev/event",
            headers: { authorization: token, "content-type": "application/json" },
            body: Buffer.from(JSON.stringify({ entries: [{ entry: '{"eventType":"a"}' }] })),
            sourceIp: "127.0.0.1",
        });

        it("caches the authorizer's result per token for the configured TTL", async () => {
            for (const [ttl, expected] of [
                [300, 1],
                [0, 2],
            ] as const) {
                let calls = 0;
                const sent: string[] = [];
                const api = new LocalRestApi(
                    { ...settings, authorizerResultTtlSeconds: ttl },
                    {
                        authorizer: async () => {
                            calls++;
                            return allow;
                        },
                        putEvents: (body) => {
                            sent.push(body);
                            return { status: 200, body: JSON.stringify({ Entries: [{ EventId: "e1" }], FailedEntryCount: 0 }) };
                        },
                    },
                    quiet,
                );
                assert.equal((await api.handle(request("tok"))).status, 200);
                assert.equal((await api.handle(request("tok"))).status, 200);
                assert.equal(calls, expected, `ttl ${ttl}`);
                const putEvents = JSON.parse(sent[0]);
                assert.deepEqual(putEvents.Entries[0], {
                    Source: "clientevents",
                    DetailType: "dev",
                    EventBusName: "bus",
                    Resources: ["c-1"],
                    Detail: '{"eventType":"a"}',
                });
            }
        });

        it("maps an authorizer error that is not Unauthorized to 500, and EventBridge errors through the integration responses", async () => {
            const broken = new LocalRestApi(
                settings,
                {
                    authorizer: async () => {
                        throw new Error("timeout");
                    },
                    putEvents: () => ({ status: 200, body: "{}" }),
                },
                quiet,
            );
            assert.equal((await broken.handle(request("t"))).status, 500);
            const throttled = new LocalRestApi(
                settings,
                {
                    authorizer: async () => allow,
                    putEvents: () => ({ status: 400, body: JSON.stringify({ __type: "ThrottlingException", message: "Rate exceeded" }) }),
                },
                quiet,
            );
            const res = await throttled.handle(request("t"));
            assert.equal(res.status, 429);
            assert.equal(JSON.parse(res.body).retryable, true);
            const down = new LocalRestApi(
                settings,
                { authorizer: async () => allow, putEvents: () => ({ status: 503, body: "{}" }) },
                quiet,
            );
            assert.equal((await down.handle(request("t"))).status, 503);
        });

        it("evaluates policies: an explicit Deny wins, and the resource must cover the method", () => {
            const deny: APIGatewayAuthorizerResult = {
                ...allow,
                policyDocument: {
                    Version: "2012-10-17",
                    Statement: [
                        ...allow.policyDocument.Statement,
                        {
                            Action: "execute-api:Invoke",
                            Effect: "Deny",
                            Resource: "arn:aws:execute-api:eu-west-1:000000000000:api/dev/POST/event",
                        },
                    ],
                },
            };
            const arn = "arn:aws:execute-api:eu-west-1:000000000000:api/dev/POST/event";
            assert.equal(policyAllows(allow, arn), true);
            assert.equal(policyAllows(deny, arn), false);
            assert.equal(policyAllows(allow, "arn:aws:execute-api:eu-west-1:000000000000:api/prod/POST/event"), false);
        });

        it("answers a body the model refuses with the fixed 400 body, and logs the complaint with the request id", async () => {
            const lines: string[] = [];
            const logged = new LocalRestApi(
                settings,
                { authorizer: async () => allow, putEvents: () => ({ status: 200, body: "{}" }) },
                { info: (l) => lines.push(l), warn: (l) => lines.push(l) },
            );
            const res = await logged.handle({ ...request("t"), body: Buffer.from('{"entries":[{"entry":"{}"}],"a\\"b":1}') });
            assert.equal(res.status, 400);
            const body = JSON.parse(res.body);
            assert.equal(body.type, "BAD_REQUEST_BODY");
            assert.equal(body.requestId, res.requestId);
            assert.match(res.note, new RegExp(`\\(request ${res.requestId}\\): .*not allowed by the schema: \\["a"b"\\]`));
            const generic = substituteGatewayTemplate('{"message":$context.error.messageString}', { error: { message: null } }, {});
            assert.deepEqual(JSON.parse(generic), { message: null });
        });

        it("reads Retry-After as seconds or an HTTP date", () => {
            assert.equal(parseRetryAfter("3"), 3000);
            assert.equal(parseRetryAfter(new Date(10_000).toUTCString(), 4_000), 6000);
            assert.equal(parseRetryAfter(null), undefined);
            assert.equal(parseRetryAfter("soon"), undefined);
        });
    });
});
