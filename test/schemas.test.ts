/**
 * The event schemas: the files compile into standalone validators, the generator's events pass them, and
 * the Firehose transform enforces them on valid, invalid and hostile events of every schema, under every
 * policy. The records go through the real transform (base64 in, base64 out) as Firehose sends them.
 */
import * as assert from "assert";
import { readRejectLog } from "./support/transform-log";
import { randomUUID } from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { spawnSync } from "child_process";
import { createTransformHandler, LOGGED_REJECTIONS, transformBatch } from "../handlers/firehose-transform";
import { checkEvent, type SchemaPolicy } from "../pipeline/schemas";
import { compileSchemas, loadValidators, moduleText, SCHEMA_DIR } from "../schemas/compile";
import { eventTypes, makeEvent } from "../generator/events";
import { seededRandom } from "../generator/random";
import { EventsClient, prepareEvent } from "../client";
import { schemaCheck } from "../client/schemas";
import { parseConfig } from "../config";

const compiled = compileSchemas();
const policy = (overrides: Partial<SchemaPolicy> = {}): SchemaPolicy => ({
    validators: compiled.validators,
    enforcement: "quarantine",
    unknownSchema: "allow",
    ...overrides,
});
const b64 = (text: string) => Buffer.from(text, "utf8").toString("base64");
const SESSION = "2c5e8f1a-4b7d-4c3e-9a6f-8d1b2e3c4f5a";

/** The transform's answer for one EventBridge event whose detail is `detailText`, as Firehose would invoke it. */
function transform(detailText: string, p: SchemaPolicy = policy()) {
    const text =
        `{"version":"0","id":"e-1","detail-type":"dev","source":"clientevents","account":"123456789012",` +
        `"time":"2026-11-27T19:41:07Z","region":"us-east-1","resources":["client-1"],"detail":${detailText}}`;
    const data = b64(text);
    const out = transformBatch(
        {
            invocationId: "i",
            deliveryStreamArn: "arn",
            region: "us-east-1",
            records: [{ recordId: "r-1", approximateArrivalTimestamp: 1700000000000, data }],
        },
        p,
    );
    const record = out.records[0];
    const stored = record.result === "Ok" ? JSON.parse(Buffer.from(record.data ?? "", "base64").toString("utf8")) : undefined;
    return { record, data, rejected: out.rejected, message: out.examples[0]?.message, stored };
}

/** The smallest valid event of each schema: its data, and the data property used by the generic hostile cases. */
const MINIMAL: Record<string, { data: Record<string, unknown>; key: string }> = {
    shopping: { data: { itemSku: 123 }, key: "itemSku" },
    searching: { data: { query: "men's jackets" }, key: "query" },
    paging: { data: { page: 2 }, key: "page" },
    purchase: { data: { orderId: "o-1", items: [{ itemSku: 1, quantity: 2 }], total: 19.99, currency: "USD" }, key: "orderId" },
    loyaltypurchase: { data: { itemSku: 456 }, key: "itemSku" },
};
const minimal = (type: string, extra: Record<string, unknown> = {}) => ({
    eventType: type,
    schemaVersion: 1,
    data: MINIMAL[type].data,
    ...extra,
});

/** Invalid events per schema: [title, data, JSON pointer, keyword], written from the schema files. */
const INVALID: Record<string, Array<[string, Record<string, unknown>, string, string]>> = {
    shopping: [
        ["itemSku as a string", { itemSku: "123" }, "/data/itemSku", "type"],
        ["a fractional itemSku", { itemSku: 1.5 }, "/data/itemSku", "type"],
        ["a negative itemSku", { itemSku: -1 }, "/data/itemSku", "minimum"],
        ["no itemSku", { quantity: 1 }, "/data/itemSku", "required"],
        ["quantity 0", { itemSku: 1, quantity: 0 }, "/data/quantity", "minimum"],
        ["a 65-character category", { itemSku: 1, category: "c".repeat(65) }, "/data/category", "maxLength"],
    ],
    searching: [
        ["an empty query", { query: "" }, "/data/query", "minLength"],
        ["results as a string", { query: "q", results: "many" }, "/data/results", "type"],
        ["no query", { results: 3 }, "/data/query", "required"],
    ],
    paging: [
        ["page 0", { page: 0 }, "/data/page", "minimum"],
        ["a page size above 1000", { page: 1, pageSize: 1001 }, "/data/pageSize", "maximum"],
        ["page as a string", { page: "2" }, "/data/page", "type"],
    ],
    purchase: [
        ["no items", { ...MINIMAL.purchase.data, items: [] }, "/data/items", "minItems"],
        [
            "an item without quantity",
            { ...MINIMAL.purchase.data, items: [{ itemSku: 1, quantity: 1 }, { itemSku: 2 }] },
            "/data/items/1/quantity",
            "required",
        ],
        ["a lower-case currency", { ...MINIMAL.purchase.data, currency: "usd" }, "/data/currency", "pattern"],
        ["a negative total", { ...MINIMAL.purchase.data, total: -0.01 }, "/data/total", "minimum"],
        [
            "101 items",
            { ...MINIMAL.purchase.data, items: Array.from({ length: 101 }, () => ({ itemSku: 1, quantity: 1 })) },
            "/data/items",
            "maxItems",
        ],
    ],
    loyaltypurchase: [
        ["an unknown loyalty tier", { itemSku: 1, loyaltyTier: "bronze" }, "/data/loyaltyTier", "enum"],
        ["itemSku as a string", { itemSku: "456" }, "/data/itemSku", "type"],
        ["fractional points", { itemSku: 1, pointsEarned: 1.5 }, "/data/pointsEarned", "type"],
    ],
};

function assertQuarantined(result: ReturnType<typeof transform>, type: string, pointer: string, keyword: string): void {
    assert.strictEqual(result.record.result, "ProcessingFailed");
    assert.strictEqual(result.record.data, result.data, "the original bytes go to the error output");
    assert.deepStrictEqual(result.rejected, { "schema-violation": 1 });
    const prefix = `${type} version 1 breaks its schema at ${JSON.stringify(pointer)}: `;
    assert.ok(result.message?.startsWith(prefix), `${result.message} should start with ${prefix}`);
    assert.ok(result.message?.endsWith(` (${keyword})`), `${result.message} should name the keyword ${keyword}`);
}

describe("event schemas", () => {
    it("has one schema per event type the generator sends, version 1", () => {
        assert.deepStrictEqual(
            compiled.keys,
            eventTypes(true)
                .map((t) => `${t}/1`)
                .sort(),
        );
        for (const key of compiled.keys) {
            const schema = JSON.parse(fs.readFileSync(path.join(SCHEMA_DIR, `${key}.json`), "utf8"));
            assert.strictEqual(schema.$schema, "https://json-schema.org/draft/2020-12/schema", key);
        }
    });

    it("compiles to standalone code that needs no package, so the Lambda carries no schema compiler", () => {
        assert.doesNotMatch(compiled.source, /require\(/);
        // Loaded from its text alone, it validates like the compiled set.
        const fresh = loadValidators(compiled.source);
        assert.strictEqual(fresh["shopping/1"]({ eventType: "shopping", schemaVersion: 1, data: { itemSku: 1 } }), true);
        assert.strictEqual(fresh["shopping/1"]({ eventType: "shopping", schemaVersion: 1, data: { itemSku: "1" } }), false);
        // String lengths count code points (ajv's ucs2length, inlined): 64 emoji fit a 64-character category.
        assert.strictEqual(
            fresh["paging/1"]({ eventType: "paging", schemaVersion: 1, data: { page: 1, category: "😀".repeat(64) } }),
            true,
        );
        assert.strictEqual(
            fresh["paging/1"]({ eventType: "paging", schemaVersion: 1, data: { page: 1, category: "😀".repeat(65) } }),
            false,
        );
    });

    it("the generator's events, stamped by the client library, pass their schemas (3,000 events)", () => {
        const random = seededRandom(20261201);
        const client = new EventsClient({ apiUrl: "https://api.example.com/dev", tokens: { getToken: async () => "unused" } });
        const check = schemaCheck(compiled.validators, { unknownSchema: "fail" });
        const seen = new Set<string>();
        for (let i = 0; i < 3000; i++) {
            const event = client.stamp(makeEvent({ runId: randomUUID(), loyalty: true, random }));
            const prepared = prepareEvent(event, randomUUID, undefined, check);
            const verdict = checkEvent(policy({ unknownSchema: "quarantine" }), JSON.parse(prepared.entry));
            assert.ok(verdict.ok, `${prepared.entry}: ${JSON.stringify(verdict)}`);
            seen.add(prepared.eventType);
        }
        assert.deepStrictEqual([...seen].sort(), eventTypes(true).sort());
    });

    for (const type of Object.keys(MINIMAL)) {
        describe(`${type}/1 through the transform`, () => {
            it("archives the minimal and the fully stamped event, with accountNumber added", () => {
                for (const event of [
                    minimal(type),
                    minimal(type, { eventId: randomUUID(), sessionId: SESSION, sequence: 9007199254740991 }),
                ]) {
                    const { record, stored } = transform(JSON.stringify(event));
                    assert.strictEqual(record.result, "Ok", JSON.stringify(event));
                    assert.deepStrictEqual(stored.detail, { ...event, accountNumber: "client-1" });
                }
                // 1.0 is the number 1 in JSON: the same schema, as for the partition key.
                assert.strictEqual(
                    transform(`{"eventType":"${type}","schemaVersion":1.0,"data":${JSON.stringify(MINIMAL[type].data)}}`).record.result,
                    "Ok",
                );
            });

            for (const [title, data, pointer, keyword] of INVALID[type]) {
                it(`quarantines ${title}, naming ${pointer} and ${keyword}`, () => {
                    assertQuarantined(transform(JSON.stringify({ eventType: type, schemaVersion: 1, data })), type, pointer, keyword);
                });
            }

            const key = MINIMAL[type].key;
            const dataText = JSON.stringify(MINIMAL[type].data);
            const withData = (text: string) => `{"eventType":"${type}","schemaVersion":1,"data":${text}}`;
            const deep = `${"[".repeat(100_000)}${"]".repeat(100_000)}`;
            const hostile: Array<[string, string, string, string]> = [
                ["100,000 levels of nesting as data", withData(deep), "/data", "type"],
                [
                    "100,000 levels of nesting in a declared field",
                    withData(JSON.stringify({ ...MINIMAL[type].data, [key]: "DEEP" }).replace('"DEEP"', deep)),
                    `/data/${key}`,
                    "type",
                ],
                [
                    "100,000 levels of nesting in an extra field",
                    withData(`{${dataText.slice(1, -1)},"deep":${deep}}`),
                    "/data/deep",
                    "additionalProperties",
                ],
                [
                    "a __proto__ member",
                    `{"eventType":"${type}","schemaVersion":1,"__proto__":{"admin":true},"data":${dataText}}`,
                    "/__proto__",
                    "additionalProperties",
                ],
                [
                    "a __proto__ member in data",
                    withData(`{${dataText.slice(1, -1)},"__proto__":{"${key}":1}}`),
                    "/data/__proto__",
                    "additionalProperties",
                ],
                [
                    "a constructor member",
                    `{"eventType":"${type}","schemaVersion":1,"constructor":{"prototype":{"x":1}},"data":${dataText}}`,
                    "/constructor",
                    "additionalProperties",
                ],
                ["data as null", withData("null"), "/data", "type"],
                ["data as a string", withData(`"${"x".repeat(100)}"`), "/data", "type"],
                ["no data", `{"eventType":"${type}","schemaVersion":1}`, "/data", "required"],
                [
                    "an extra top-level field",
                    `{"eventType":"${type}","schemaVersion":1,"note":"hi","data":${dataText}}`,
                    "/note",
                    "additionalProperties",
                ],
                [
                    "an accountNumber sent by the client (the transform sets it)",
                    `{"eventType":"${type}","schemaVersion":1,"accountNumber":"someone-else","data":${dataText}}`,
                    "/accountNumber",
                    "additionalProperties",
                ],
                [
                    "a session id that is not a UUID",
                    `{"eventType":"${type}","schemaVersion":1,"sessionId":"session-1","data":${dataText}}`,
                    "/sessionId",
                    "pattern",
                ],
                ["sequence 0", `{"eventType":"${type}","schemaVersion":1,"sequence":0,"data":${dataText}}`, "/sequence", "minimum"],
                [
                    "sequence 1e400 (Infinity once parsed)",
                    `{"eventType":"${type}","schemaVersion":1,"sequence":1e400,"data":${dataText}}`,
                    "/sequence",
                    "type",
                ],
                [
                    "a sequence beyond 2^53",
                    `{"eventType":"${type}","schemaVersion":1,"sequence":9007199254740993,"data":${dataText}}`,
                    "/sequence",
                    "maximum",
                ],
                ["an empty eventId", `{"eventType":"${type}","schemaVersion":1,"eventId":"","data":${dataText}}`, "/eventId", "minLength"],
            ];
            for (const [title, text, pointer, keyword] of hostile) {
                it(`quarantines ${title} (${pointer}, ${keyword})`, () => assertQuarantined(transform(text), type, pointer, keyword));
            }
        });
    }

    it("huge numbers: 1e400 and digits beyond 2^53 fail the integer fields instead of being rounded into range", () => {
        assertQuarantined(
            transform(`{"eventType":"shopping","schemaVersion":1,"data":{"itemSku":12345678901234567890}}`),
            "shopping",
            "/data/itemSku",
            "maximum",
        );
        assertQuarantined(
            transform(`{"eventType":"shopping","schemaVersion":1,"data":{"itemSku":1e400}}`),
            "shopping",
            "/data/itemSku",
            "type",
        );
        assertQuarantined(
            transform(
                `{"eventType":"purchase","schemaVersion":1,"data":{"orderId":"o","items":[{"itemSku":1,"quantity":1}],"total":1e400,"currency":"USD"}}`,
            ),
            "purchase",
            "/data/total",
            "type",
        );
        assertQuarantined(
            transform(`{"eventType":"searching","schemaVersion":1,"data":{"query":"q","results":-1e400}}`),
            "searching",
            "/data/results",
            "type",
        );
    });

    it("duplicate keys: the check and the archive both take the last value", () => {
        const ok = transform(`{"eventType":"shopping","schemaVersion":1,"data":{"itemSku":"x","itemSku":7}}`);
        assert.strictEqual(ok.record.result, "Ok");
        assert.deepStrictEqual(ok.stored.detail.data, { itemSku: 7 });
        assertQuarantined(
            transform(`{"eventType":"shopping","schemaVersion":1,"data":{"itemSku":7,"itemSku":"x"}}`),
            "shopping",
            "/data/itemSku",
            "type",
        );
    });

    it("messages name the schema, pointer and keyword, never a value the client sent", () => {
        const { message } = transform(`{"eventType":"shopping","schemaVersion":1,"data":{"itemSku":"SECRET-4711"}}`);
        assert.ok(message && !message.includes("SECRET"), message);
        const long = transform(`{"eventType":"shopping","schemaVersion":1,"data":{"itemSku":1,"${"k".repeat(500)}":1}}`);
        assert.ok(long.message!.length < 200, `pointer segments are cut: ${long.message}`);
        const slash = transform(`{"eventType":"shopping","schemaVersion":1,"data":{"itemSku":1,"a/b~c":1}}`);
        assert.match(slash.message!, /at "\/data\/a~1b~0c"/, "JSON pointer escaping (RFC 6901)");
    });

    describe("policies", () => {
        const unknown = `{"eventType":"checkout","schemaVersion":1,"data":{"anything":true}}`;
        const broken = `{"eventType":"shopping","schemaVersion":1,"data":{"itemSku":"1"}}`;

        it("unknownSchema allow (default) archives types and versions without a schema; quarantine sends them to the error output", () => {
            for (const text of [
                unknown,
                `{"eventType":"shopping","schemaVersion":2,"data":{}}`,
                `{"eventType":"shopping","schemaVersion":"1","data":{}}`,
                `{"schemaVersion":1}`,
            ]) {
                assert.strictEqual(transform(text).record.result, "Ok", text);
                const quarantined = transform(text, policy({ unknownSchema: "quarantine" }));
                assert.strictEqual(quarantined.record.result, "ProcessingFailed", text);
                assert.deepStrictEqual(quarantined.rejected, { "unknown-schema": 1 });
                assert.match(quarantined.message!, /^no schema/);
            }
        });

        it("unknown-schema messages name a well-formed type and version, and no free client text", () => {
            assert.strictEqual(transform(unknown, policy({ unknownSchema: "quarantine" })).message, "no schema for checkout version 1");
            const odd = transform(
                `{"eventType":"SECRET <b>","schemaVersion":"x","data":{}}`,
                policy({ unknownSchema: "quarantine" }),
            ).message!;
            assert.match(odd, /^no schema: eventType must be/);
            assert.ok(!odd.includes("SECRET"), odd);
        });

        it("eventTypes that are names of Object.prototype find no schema", () => {
            for (const type of ["__proto__", "constructor", "hasOwnProperty", "toString"]) {
                const text = `{"eventType":"${type}","schemaVersion":1,"data":{}}`;
                assert.strictEqual(transform(text).record.result, "Ok", type);
                assert.deepStrictEqual(transform(text, policy({ unknownSchema: "quarantine" })).rejected, { "unknown-schema": 1 }, type);
            }
        });

        it("schemaEnforcement off archives everything the transform can use, as before", () => {
            for (const text of [unknown, broken])
                assert.strictEqual(transform(text, policy({ enforcement: "off" })).record.result, "Ok", text);
            assert.strictEqual(transform(broken, policy({ enforcement: "off" })).stored.detail.data.itemSku, "1");
        });

        it("the transform's own rejections come first (an event without clientId is no-client-id whatever its schema)", () => {
            const data = b64(`{"resources":[],"detail":${broken}}`);
            const out = transformBatch(
                {
                    invocationId: "i",
                    deliveryStreamArn: "arn",
                    region: "us-east-1",
                    records: [{ recordId: "r", approximateArrivalTimestamp: 0, data }],
                },
                policy(),
            );
            assert.deepStrictEqual(out.rejected, { "no-client-id": 1 });
        });

        it("the handler logs counts by reason and the first few reasons with recordId and arrival time, nothing else", async () => {
            const lines: string[] = [];
            const saved = console.warn;
            console.warn = (line: string) => lines.push(line);
            try {
                const records = Array.from({ length: 8 }, (_, i) => ({
                    recordId: `r-${i}`,
                    approximateArrivalTimestamp: 1000 + i,
                    data: b64(
                        `{"id":"bus-${i}","resources":["c"],"detail":{"eventType":"shopping","schemaVersion":1,"data":{"itemSku":"secret-${i}"}}}`,
                    ),
                }));
                records.push({
                    recordId: "ok",
                    approximateArrivalTimestamp: 2000,
                    data: b64(`{"resources":["c"],"detail":${JSON.stringify(minimal("paging"))}}`),
                });
                const out = await createTransformHandler({ schemas: policy() })({
                    invocationId: "i",
                    deliveryStreamArn: "arn",
                    region: "us-east-1",
                    records,
                });
                assert.deepStrictEqual(
                    out.records.map((r) => r.result),
                    [...Array(8).fill("ProcessingFailed"), "Ok"],
                );
                assert.deepStrictEqual(
                    Object.keys(out.records[0]).sort(),
                    ["data", "recordId", "result"],
                    "only the fields Firehose documents",
                );
            } finally {
                console.warn = saved;
            }
            assert.strictEqual(lines.length, 2, "one EMF line for the one reason, one naming the first rejections");
            const logged = readRejectLog(lines);
            assert.deepStrictEqual(logged.rejected, { "schema-violation": 8 });
            assert.strictEqual(logged.examples.length, LOGGED_REJECTIONS);
            assert.deepStrictEqual(logged.examples[0], {
                recordId: "r-0",
                arrivalTimestamp: 1000,
                busEventId: "bus-0",
                reason: "schema-violation",
                message: `shopping version 1 breaks its schema at "/data/itemSku": must be integer (type)`,
            });
            assert.ok(!lines.join("\n").includes("secret"), "no client value in the log");
        });
    });

    describe("config", () => {
        it("schemaEnforcement defaults to quarantine and unknownSchema to allow; both are validated", () => {
            const config = parseConfig({}, "prod");
            assert.strictEqual(config.schemaEnforcement, "quarantine");
            assert.strictEqual(config.unknownSchema, "allow");
            const set = parseConfig({ schemaEnforcement: "off", unknownSchema: "allow" }, "prod");
            assert.deepStrictEqual([set.schemaEnforcement, set.unknownSchema], ["off", "allow"]);
            assert.strictEqual(parseConfig({ unknownSchema: "quarantine" }, "prod").unknownSchema, "quarantine");
            assert.throws(
                () => parseConfig({ schemaEnforcement: "strict" }, "prod"),
                /client-events:schemaEnforcement is "strict"; expected one of off, quarantine/,
            );
            assert.throws(
                () => parseConfig({ unknownSchema: "drop" }, "prod"),
                /client-events:unknownSchema is "drop"; expected one of allow, quarantine/,
            );
            assert.throws(
                () => parseConfig({ schemaEnforcement: "off", unknownSchema: "quarantine" }, "prod"),
                /unknownSchema is "quarantine" but client-events:schemaEnforcement is "off".*pulumi config set client-events:schemaEnforcement quarantine/,
            );
        });
    });
});

describe("schema compiler", () => {
    let dir: string;
    beforeEach(() => {
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "ce-schemas-"));
    });
    afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

    const good = JSON.parse(fs.readFileSync(path.join(SCHEMA_DIR, "shopping", "1.json"), "utf8"));
    function write(rel: string, content: unknown): void {
        fs.mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
        fs.writeFileSync(path.join(dir, rel), typeof content === "string" ? content : JSON.stringify(content));
    }

    it("a team adds a schema by adding a file: checkout/2.json is enforced", () => {
        write("checkout/2.json", {
            $schema: "https://json-schema.org/draft/2020-12/schema",
            type: "object",
            required: ["eventType", "schemaVersion", "data"],
            additionalProperties: false,
            properties: {
                ...good.properties,
                eventType: { const: "checkout" },
                schemaVersion: { const: 2 },
                data: { type: "object", required: ["cart"], properties: { cart: { type: "string" } } },
            },
        });
        const mine = compileSchemas(dir);
        assert.deepStrictEqual(mine.keys, ["checkout/2"]);
        const p = policy({ validators: mine.validators });
        assert.strictEqual(
            checkEvent(p, { eventType: "checkout", schemaVersion: 2, sessionId: SESSION, sequence: 1, data: { cart: "c" } }).ok,
            true,
        );
        assert.deepStrictEqual(checkEvent(p, { eventType: "checkout", schemaVersion: 2, data: {} }), {
            ok: false,
            reason: "schema-violation",
            message: `checkout version 2 breaks its schema at "/data/cart": must have required property 'cart' (required)`,
        });
    });

    const refusals: Array<[string, string, unknown, RegExp]> = [
        ["a directory name that is not an eventType", "bad type/1.json", good, /bad type: an eventType directory needs/],
        ["a file name that is not a version", "shopping/v1.json", good, /v1\.json: expected <schemaVersion>\.json/],
        ["a version with a leading zero", "shopping/01.json", good, /01\.json: expected <schemaVersion>\.json/],
        ["a file that is not JSON", "shopping/1.json", "{", /1\.json: not JSON/],
        [
            "a copied file whose const was not updated",
            "paging/1.json",
            good,
            /paging[/\\]1\.json: properties\.eventType\.const is "shopping" but the file's path says "paging"/,
        ],
        [
            "a schema that refuses the stamped fields",
            "shopping/1.json",
            {
                ...good,
                properties: {
                    eventType: good.properties.eventType,
                    schemaVersion: good.properties.schemaVersion,
                    data: good.properties.data,
                },
            },
            /must accept the fields the client library stamps on every event; it refuses eventId, sessionId, sequence/,
        ],
        [
            "an unknown keyword (strict mode)",
            "shopping/1.json",
            { ...good, properties: { ...good.properties, data: { ...good.properties.data, maxProperites: 3 } } },
            /shopping[/\\]1\.json: strict mode: unknown keyword: "maxProperites"/,
        ],
        [
            "a format (no format code is carried by the Lambda)",
            "shopping/1.json",
            { ...good, properties: { ...good.properties, eventId: { type: "string", format: "uuid" } } },
            /unknown format "uuid"/,
        ],
        [
            "uniqueItems (needs a runtime helper the Lambda does not carry)",
            "shopping/1.json",
            { ...good, properties: { ...good.properties, tags: { type: "array", uniqueItems: true } } },
            /needs ajv\/dist\/runtime\/equal, which the transform Lambda does not carry/,
        ],
    ];
    for (const [title, rel, content, pattern] of refusals) {
        it(`refuses ${title}, naming the file`, () => {
            write(rel, content);
            assert.throws(() => compileSchemas(dir), pattern);
        });
    }

    it("writes a self-contained module for apps, as CommonJS and as an ES module", () => {
        const cjs = path.join(dir, "validators.cjs");
        fs.writeFileSync(cjs, moduleText(compiled.source, "cjs"));
        const esm = path.join(dir, "validators.mjs");
        fs.writeFileSync(esm, moduleText(compiled.source, "esm"));
        // Each runs in a plain Node process with no node_modules in reach.
        const probe = (load: string) =>
            spawnSync(
                process.execPath,
                [
                    "--input-type=module",
                    "-e",
                    `${load}
const bad = v["shopping/1"]({ eventType: "shopping", schemaVersion: 1, data: { itemSku: "1" } });
const good = v["purchase/1"]({ eventType: "purchase", schemaVersion: 1, data: { orderId: "o", items: [{ itemSku: 1, quantity: 1 }], total: 1, currency: "EUR" } });
process.stdout.write(JSON.stringify([Object.keys(v).length, bad, good, v["shopping/1"].errors[0].instancePath]));`,
                ],
                { cwd: dir, encoding: "utf8" },
            );
        for (const load of [
            `import { createRequire } from "node:module"; const v = createRequire(import.meta.url)("./validators.cjs");`,
            `import v from "./validators.mjs";`,
        ]) {
            const r = probe(load);
            assert.strictEqual(r.status, 0, r.stderr);
            assert.deepStrictEqual(JSON.parse(r.stdout), [5, false, true, "/data/itemSku"]);
        }
    });
});
