/**
 * Hostile records at the archive stage: the Firehose transform, the partitioning query and the local
 * bus's serialization. What a careless or hostile client can put in an event (odd numbers, duplicate
 * keys, deep nesting, spoofed fields) must never lose, alter or misfile a valid event.
 */
import { strict as assert } from "node:assert";
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import * as path from "node:path";
import type { FirehoseTransformationEvent } from "aws-lambda";
import * as jqWasm from "jq-wasm";
import { handler, transformText } from "../handlers/firehose-transform";
import { compactJson } from "../pipeline/json-text";
import { LocalEventBus, serializeEvent, type BusEvent } from "../local/eventbridge";
import { createLogger } from "../local/log";
import { INVALID_PARTITION, OTHER_PARTITION, PARTITION_KEYS_JQ_QUERY } from "../pipeline/partitioning";
import { partitionKeysFor } from "./support/partitioning";
import { tempDataDir } from "./support/local";
import { requireJq16 } from "./support/tools";
import { seededRandom } from "../generator/random";

const CLIENT_ID = "3f2b8c1e-5d4a-4e6f-9b7c-2a1d0e9f8c7b";
const b64 = (text: string | Buffer) => (typeof text === "string" ? Buffer.from(text, "utf8") : text).toString("base64");
const unb64 = (data: string | undefined) => Buffer.from(data ?? "", "base64").toString("utf8");
const envelope = (detail: string, resources = `["${CLIENT_ID}"]`) =>
    `{"version":"0","id":"6a7e8feb-b491-4cf7-a9f1-bf3703467718","detail-type":"dev","source":"clientevents","account":"123456789012",` +
    `"time":"2026-11-27T19:41:07Z","region":"us-east-1","resources":${resources},"detail":${detail}}`;

function batch(records: Array<string | Buffer>, ids?: string[]): FirehoseTransformationEvent {
    return {
        invocationId: "i",
        deliveryStreamArn: "arn:aws:firehose:us-east-1:123456789012:deliverystream/archive",
        region: "us-east-1",
        records: records.map((r, i) => ({ recordId: ids?.[i] ?? `r-${i}`, approximateArrivalTimestamp: i, data: b64(r) })),
    };
}

async function transformOne(text: string | Buffer) {
    return (await handler(batch([text]))).records[0];
}

describe("hostile records: the Firehose transform", () => {
    // The handler logs rejected-record counts; keep test output readable.
    const warn = console.warn;
    beforeEach(() => {
        console.warn = () => undefined;
    });
    afterEach(() => {
        console.warn = warn;
    });

    it("keeps numbers exactly as the client wrote them (no double rounding, no null for 1e400)", async () => {
        const detail =
            `{"eventType":"shopping","schemaVersion":1,"data":{"big":12345678901234567890,"huge":1e400,"tiny":1e-400,` +
            `"precise":0.1000000000000000055511151231257827,"negZero":-0,"written":1.50,"exp":2E+3}}`;
        const record = await transformOne(envelope(detail));
        assert.equal(record.result, "Ok");
        const out = unb64(record.data);
        for (const literal of ["12345678901234567890", "1e400", "1e-400", "0.1000000000000000055511151231257827", "-0", "1.50", "2E+3"]) {
            assert.ok(out.includes(`:${literal}`), `${literal} kept in ${out}`);
        }
        assert.equal(JSON.parse(out).detail.accountNumber, CLIENT_ID);
    });

    it("outputs one compact line whatever whitespace the record holds, strings untouched", async () => {
        const detail = `{ "eventType" : "shopping",\n\t"data" : { "note" : "two  spaces\\nand \\"quotes\\" \u2028 \u2029", "list" : [ 1 ,\r\n 2 ] } }`;
        const record = await transformOne(` \n${envelope(detail).replace(/,/g, " ,\n ")}\n `);
        const out = unb64(record.data);
        assert.equal(record.result, "Ok");
        assert.ok(!/[\n\r\t]/.test(out), out);
        const parsed = JSON.parse(out);
        assert.equal(parsed.detail.data.note, 'two  spaces\nand "quotes" \u2028 \u2029');
        assert.deepEqual(parsed.detail.data.list, [1, 2]);
        assert.deepEqual(parsed.resources, []);
    });

    it("duplicate keys resolve as JSON.parse does (last value), so checks and output agree", async () => {
        // A forged first resources / accountNumber is overridden by the API's value, never the reverse.
        const text = `{"resources":["forged"],"detail":{"accountNumber":"a","eventType":"x","eventType":"shopping","accountNumber":"b"},"resources":["${CLIENT_ID}"]}`;
        const out = transformText(text);
        assert.ok(out.ok);
        assert.equal(out.text, `{"resources":[],"detail":{"accountNumber":"${CLIENT_ID}","eventType":"shopping"}}`);
        const detailTwice = transformText(`{"resources":["${CLIENT_ID}"],"detail":"not an object","detail":{"k":1}}`);
        assert.ok(detailTwice.ok);
        assert.deepEqual(JSON.parse(detailTwice.text).detail, { k: 1, accountNumber: CLIENT_ID });
        assert.deepEqual(transformText(`{"resources":["${CLIENT_ID}"],"detail":{"k":1},"detail":[1]}`), { ok: false, reason: "no-detail" });
    });

    it("keeps __proto__ and constructor keys as plain data", async () => {
        const detail = `{"__proto__":{"polluted":true},"constructor":{"prototype":{"x":1}},"eventType":"shopping"}`;
        const record = await transformOne(envelope(detail));
        assert.equal(record.result, "Ok");
        const out = unb64(record.data);
        assert.ok(out.includes(`"__proto__":{"polluted":true}`), out);
        assert.equal(({} as Record<string, unknown>).polluted, undefined);
        assert.deepEqual(Object.keys(JSON.parse(out).detail), ["__proto__", "constructor", "eventType", "accountNumber"]);
    });

    it("keeps the client's key order (JavaScript objects would move integer-like keys first)", () => {
        const out = transformText(`{"resources":["${CLIENT_ID}"],"detail":{"b":1,"10":2,"a":{"z":1,"2":0}}}`);
        assert.ok(out.ok);
        assert.ok(out.text.includes(`"detail":{"b":1,"10":2,"a":{"z":1,"2":0},"accountNumber":`), out.text);
    });

    it("handles any nesting depth per record instead of failing the whole invocation", async () => {
        const depth = 200_000; // JSON.stringify of this overflows the stack
        const deep = envelope(`{"eventType":"shopping","d":${"[".repeat(depth)}${"]".repeat(depth)}}`);
        const result = await handler(batch([deep, envelope(`{"eventType":"paging"}`)]));
        assert.deepEqual(
            result.records.map((r) => r.result),
            ["Ok", "Ok"],
        );
        assert.ok(unb64(result.records[0].data).endsWith(`${"]".repeat(depth)},"accountNumber":"${CLIENT_ID}"}}`));
    });

    it("sends bytes that are not UTF-8 to the error prefix unchanged instead of replacing them with U+FFFD", async () => {
        const bytes = Buffer.concat([
            Buffer.from(envelope(`{"eventType":"shopping","note":"`)),
            Buffer.from([0xc3, 0x28, 0xff]),
            Buffer.from(`"}}`),
        ]);
        const record = await transformOne(bytes);
        assert.equal(record.result, "ProcessingFailed");
        assert.equal(record.data, b64(bytes));
        // A BOM is not part of JSON: the record is kept as it is, not silently stripped.
        assert.equal((await transformOne(`\uFEFF${envelope("{}")}`)).result, "ProcessingFailed");
    });

    it("reads base64 without padding as Firehose's decoder would and never drops a record", async () => {
        const text = envelope(`{"eventType":"shopping","n":1}`);
        const unpadded = b64(text).replace(/=+$/, "");
        const result = await handler({
            ...batch([]),
            records: [
                { recordId: "x", approximateArrivalTimestamp: 0, data: unpadded },
                { recordId: "y", approximateArrivalTimestamp: 0, data: "%%%not base64%%%" },
            ],
        });
        assert.equal(result.records[0].result, "Ok");
        assert.equal(JSON.parse(unb64(result.records[0].data)).detail.n, 1);
        assert.equal(result.records[1].result, "ProcessingFailed");
        assert.equal(result.records[1].data, "%%%not base64%%%");
    });

    it("answers a duplicate recordId once per record, in order", async () => {
        const result = await handler(batch([envelope("{}"), "{bad", envelope("{}")], ["same", "same", "other"]));
        assert.deepEqual(
            result.records.map((r) => [r.recordId, r.result]),
            [
                ["same", "Ok"],
                ["same", "ProcessingFailed"],
                ["other", "Ok"],
            ],
        );
    });

    it("several or odd resources: only a non-empty string resources[0] is a clientId", () => {
        const several = transformText(envelope(`{"k":1}`, `["${CLIENT_ID}","second"]`));
        assert.ok(several.ok);
        assert.equal(JSON.parse(several.text).detail.accountNumber, CLIENT_ID);
        for (const resources of ['[["x"]]', '[{"id":"x"}]', "[null]", '"x"', "{}", "null", "[true]"]) {
            assert.deepEqual(transformText(envelope(`{"k":1}`, resources)), { ok: false, reason: "no-client-id" }, resources);
        }
    });

    it("answers under Lambda's 6 MB for 3 MiB (Firehose's largest processor buffer) of the smallest events the bus can deliver", async () => {
        // Small records are the worst case: the fixed per-record cost (recordId, result, base64 growth) dominates.
        const smallest = envelope("{}").replace('"detail-type":"dev"', '"detail-type":"a"');
        const records: string[] = [];
        for (let raw = 0; raw + smallest.length <= 3 * 1024 * 1024; raw += smallest.length) records.push(smallest);
        const input = batch(
            records,
            records.map((_, i) => `49546986683135544286507457936321625675700192471156785154${String(i).padStart(6, "0")}`),
        );
        const result = await handler(input);
        assert.ok(result.records.every((r) => r.result === "Ok"));
        const size = Buffer.byteLength(JSON.stringify(result));
        assert.ok(size < 6 * 1024 * 1024, `${records.length} records: response ${size} bytes`);
    });

    it("any layout of an event gives the compact text of the event with resources emptied and accountNumber set", () => {
        const random = seededRandom(20261201); // deterministic, so failures reproduce
        const pick = <T>(xs: T[]): T => xs[Math.floor(random() * xs.length)];
        const keys = ["eventType", "data", "note", 'a"b', "back\\slash", "tab\t", "é", "__proto__", "x y", "\u0001", "accountNumber"];
        const values = (depth: number): unknown => {
            const kind = Math.floor(random() * (depth > 2 ? 4 : 6));
            if (kind === 0) return pick(["", "it's", "two  spaces", 'q"uote', "nl\n", "😀 日本", "\u2028"]);
            if (kind === 1) return pick([0, -1.5, 1e21, 42]);
            if (kind === 2) return pick([true, false, null]);
            if (kind === 3) return [];
            if (kind === 4) return Array.from({ length: 1 + Math.floor(random() * 3) }, () => values(depth + 1));
            return Object.fromEntries(Array.from({ length: Math.floor(random() * 4) }, () => [pick(keys), values(depth + 1)]));
        };
        for (let i = 0; i < 300; i++) {
            const detail = Object.fromEntries(Array.from({ length: Math.floor(random() * 5) }, () => [pick(keys), values(1)]));
            const event =
                random() < 0.5
                    ? { version: "0", id: `e-${i}`, resources: [CLIENT_ID, "x"], detail }
                    : { version: "0", id: `e-${i}`, detail, resources: [CLIENT_ID] };
            const text = JSON.stringify(event, null, pick([0, 1, 2, "\t", " \r\n "]));
            const out = transformText(text);
            assert.ok(out.ok, text);
            // What JavaScript makes of the same event (these keys and numbers survive JSON.parse and JSON.stringify).
            const parsed = JSON.parse(text);
            assert.equal(
                out.text,
                JSON.stringify({ ...parsed, resources: [], detail: { ...parsed.detail, accountNumber: CLIENT_ID } }),
                text,
            );
        }
    });

    it("compactJson removes only whitespace outside strings", () => {
        assert.equal(compactJson(` { "a" : [ 1 , "x y" , { } ] , "b\\" c" : null } `), `{"a":[1,"x y",{}],"b\\" c":null}`);
        assert.equal(compactJson(` 12345678901234567890 `), "12345678901234567890");
    });
});

describe("hostile records: partition keys", () => {
    const cases: Array<[string, string]> = [
        ["-0", "0"],
        ["-1e-400", "0"],
        ["0.0", "0"],
        ["1e400", OTHER_PARTITION],
        ["12345678901234567890", OTHER_PARTITION],
        ["1e3", OTHER_PARTITION],
        ['"1"', INVALID_PARTITION],
        ["-1", INVALID_PARTITION],
        ["true", INVALID_PARTITION],
    ];
    const records = cases.map(([v]) => `{"detail":{"eventType":"Shopping","schemaVersion":${v}}}`);

    it("jq 1.6 gives -0 the partition of 0 and never a partition that is not a listed version or a sentinel", function () {
        const jq16 = requireJq16(this);
        const run = spawnSync(jq16, ["-c", PARTITION_KEYS_JQ_QUERY], { input: records.join("\n"), encoding: "utf8" });
        assert.equal(run.status, 0, run.stderr);
        const lines = run.stdout
            .trim()
            .split("\n")
            .map((l) => JSON.parse(l));
        cases.forEach(([v, expected], i) => assert.deepEqual(lines[i], { eventType: OTHER_PARTITION, schemaVersion: expected }, v));
    });

    it("jq-wasm and the TypeScript reference agree", async () => {
        for (let i = 0; i < cases.length; i++) {
            // jq 1.7 (jq-wasm) keeps number literals in decimal: -1e-400 stays below 0 there, while jq 1.6
            // (Firehose's engine) and JavaScript read it as -0. Local mode prefers the jq 1.6 binary.
            if (cases[i][0] !== "-1e-400") {
                const out = JSON.parse(await jqWasm.raw(records[i], PARTITION_KEYS_JQ_QUERY, ["-c"]));
                assert.equal(out.schemaVersion, cases[i][1], `jq-wasm ${cases[i][0]}`);
            }
            assert.equal(partitionKeysFor(JSON.parse(records[i])).schemaVersion, cases[i][1], `TypeScript ${cases[i][0]}`);
        }
    });
});

describe("hostile records: the local bus hands targets the detail as written", () => {
    it("a target without an input transformer receives the client's numbers exactly", async () => {
        const payloads: string[] = [];
        const local = new LocalEventBus(
            { name: "bus", region: "eu-west-1", accountId: "000000000000", dataDir: tempDataDir(), retryBaseMs: 5, retryMaxDelayMs: 10 },
            [
                {
                    name: "all",
                    eventPattern: { source: ["clientevents"] },
                    targets: [
                        {
                            id: "t",
                            arn: "arn:aws:firehose:eu-west-1:000000000000:deliverystream/s",
                            retryPolicy: { maximumRetryAttempts: 0, maximumEventAgeInSeconds: 60 },
                            deadLetter: false,
                            deliver: async (p) => {
                                payloads.push(p);
                                return { ok: true };
                            },
                        },
                    ],
                },
            ],
            createLogger({ quiet: true }),
        );
        const detail = `{ "eventType": "shopping", "big": 12345678901234567890, "huge": 1e400, "z": 1, "1": 2 }`;
        const res = await local.putEvents(
            JSON.stringify({
                Entries: [{ Source: "clientevents", DetailType: "dev", EventBusName: "bus", Resources: ["c"], Detail: detail }],
            }),
        );
        assert.equal(JSON.parse(res.body).FailedEntryCount, 0);
        await local.drain();
        assert.equal(payloads.length, 1);
        assert.ok(
            payloads[0].endsWith(
                `,"resources":["c"],"detail":{"eventType":"shopping","big":12345678901234567890,"huge":1e400,"z":1,"1":2}}`,
            ),
            payloads[0],
        );
        assert.equal(JSON.parse(payloads[0]).source, "clientevents");
    });

    it("a delivery saved for the next run keeps the detail as written", async () => {
        const dataDir = tempDataDir();
        const payloads: string[] = [];
        let up = false;
        const make = () =>
            new LocalEventBus(
                { name: "bus", region: "eu-west-1", accountId: "000000000000", dataDir, retryBaseMs: 60_000, retryMaxDelayMs: 60_000 },
                [
                    {
                        name: "all",
                        eventPattern: { source: ["clientevents"] },
                        targets: [
                            {
                                id: "t",
                                arn: "arn:aws:firehose:eu-west-1:000000000000:deliverystream/s",
                                retryPolicy: { maximumRetryAttempts: 5, maximumEventAgeInSeconds: 3600 },
                                deadLetter: true,
                                deliver: async (p) => {
                                    if (!up) return { ok: false, retryable: true, errorCode: "ServiceUnavailable", errorMessage: "down" };
                                    payloads.push(p);
                                    return { ok: true };
                                },
                            },
                        ],
                    },
                ],
                createLogger({ quiet: true }),
            );
        const first = make();
        await first.putEvents(
            JSON.stringify({
                Entries: [
                    {
                        Source: "clientevents",
                        DetailType: "dev",
                        EventBusName: "bus",
                        Resources: ["c"],
                        Detail: `{"n":12345678901234567890}`,
                    },
                ],
            }),
        );
        await first.close(); // the first attempt fails; the retry is saved instead of waited for
        up = true;
        const second = make();
        assert.equal(await second.recover(), 1);
        await second.drain();
        assert.equal(payloads.length, 1);
        assert.ok(payloads[0].endsWith(`"detail":{"n":12345678901234567890}}`), payloads[0]);
    });

    it("the dead-letter store keeps the detail as written", async () => {
        const dataDir = tempDataDir();
        const local = new LocalEventBus(
            { name: "bus", region: "eu-west-1", accountId: "000000000000", dataDir, retryBaseMs: 1, retryMaxDelayMs: 1 },
            [
                {
                    name: "all",
                    eventPattern: { source: ["clientevents"] },
                    targets: [
                        {
                            id: "t",
                            arn: "arn:aws:events:eu-west-1:000000000000:api-destination/x",
                            retryPolicy: { maximumRetryAttempts: 0, maximumEventAgeInSeconds: 60 },
                            deadLetter: true,
                            deliver: async () => ({ ok: false, retryable: false, errorCode: "400", errorMessage: "bad" }),
                        },
                    ],
                },
            ],
            createLogger({ quiet: true }),
        );
        await local.putEvents(
            JSON.stringify({
                Entries: [
                    {
                        Source: "clientevents",
                        DetailType: "dev",
                        EventBusName: "bus",
                        Resources: ["c"],
                        Detail: `{"n":12345678901234567890}`,
                    },
                ],
            }),
        );
        await local.drain();
        const lines = readFileSync(path.join(dataDir, "dlq", "all.jsonl"), "utf8")
            .trim()
            .split("\n");
        assert.equal(lines.length, 1);
        assert.ok(lines[0].includes(`"detail":{"n":12345678901234567890}},"attributes":{"ERROR_CODE":"400"`), lines[0]);
        assert.equal(JSON.parse(lines[0]).body.source, "clientevents");
    });

    it("serializeEvent falls back to JSON for events it did not accept itself", () => {
        const event: BusEvent = {
            version: "0",
            id: "i",
            "detail-type": "d",
            source: "s",
            account: "a",
            time: "t",
            region: "r",
            resources: [],
            detail: { a: 1 },
        };
        assert.equal(serializeEvent(event), JSON.stringify(event));
    });
});
