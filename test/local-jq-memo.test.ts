/**
 * Local mode's memo of partition keys per projection of a record (pipeline/partitioning.ts partitionQueryInput,
 * local/jq.ts ProjectionMemo): the keys and errors it gives are the ones jq 1.6 gives on each whole record, it
 * spares jq repeated projections, and it stays bounded.
 */
import { strict as assert } from "node:assert";
import * as path from "node:path";
import {
    buildPartitionKeysQuery,
    JQ16_SAFE_CONTAINERS,
    PARTITION_KEYS_JQ_QUERY,
    partitionQueryInput,
    type PartitioningPolicy,
} from "../pipeline/partitioning";
import { extractKeysBatch, ProjectionMemo, type JqEngine, type JqResult, type KeysOrError } from "../local/jq";
import { StreamingJq } from "../local/jq-stream";
import { LocalFirehose } from "../local/firehose";
import { createLogger } from "../local/log";
import { listFiles, tempDataDir, testFirehoseSettings } from "./support/local";
import { requireJq16 } from "./support/tools";

/** The real StreamingJq, counting the inputs that reach it. */
class CountingJq implements JqEngine {
    readonly name = "counting jq 1.6";
    inputs: string[] = [];
    /** Answers to turn into an error before jq sees them (an engine failure, not the record's). */
    failNext = 0;
    constructor(private readonly inner: StreamingJq) {}
    async runEach(inputs: string[], query: string): Promise<JqResult[]> {
        this.inputs.push(...inputs);
        const results = await this.inner.runEach(inputs, query);
        return results.map((r) => (this.failNext-- > 0 ? { error: "engine failed" } : r));
    }
    run(): Promise<string[]> {
        throw new Error("not used: runEach is");
    }
    close(): void {
        this.inner.close();
    }
}

/** A small deterministic generator (mulberry32), so a failure can be replayed. */
function random(seed: number): () => number {
    return () => {
        seed = (seed + 0x6d2b79f5) | 0;
        let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
        t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
        return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
}

const NUMBER_TEXTS = [
    "0",
    "-0",
    "0.0",
    "-0.0",
    "1",
    "1.0",
    "1.00000",
    "2e1",
    "2E+1",
    "200e-1",
    "20",
    "20.0",
    "21",
    "-1",
    "0.5",
    "3.000000000000001",
    "20.000000000000001",
    "20.00000000000001",
    "1e400",
    "-1e400",
    "1e-400",
    "-1e-400",
    "5e-324",
    "2.4703282292062328e-324",
    "2.4703282292062327e-324",
    "1.7976931348623157e308",
    "1.7976931348623158e308",
    "1.7976931348623159e308",
    "9007199254740993",
    "12345678901234567890",
    "123456789012345678901234567890",
    "1" + "0".repeat(400),
    "0." + "0".repeat(400) + "1",
    "4.0e0",
    "0e10",
];
const STRING_TEXTS = [
    '"shopping"',
    '"paging"',
    '"purchase"',
    '"unknown-type"',
    '"bad type"',
    '""',
    '"-lead"',
    '"_other"',
    '"_invalid"',
    '"Shopping"',
    `"${"a".repeat(64)}"`,
    `"${"a".repeat(65)}"`,
    `"${"b".repeat(5000)}"`,
    '"ünïcode"',
    '"购物"',
    '"😀"',
    '"\\ud83d\\ude00"',
    '"\\udc00"',
    '"\\\\ud800"',
    '"\\u0000"',
    '"sh\\u006fpping"',
    '"\\ufffd"',
    '"\u2028"',
    '"tab\\there"',
    '"\\/"',
];
/** Strings jq 1.6 cannot parse (an unpaired high surrogate): each ends a jq process, so they are few. */
const FAILING_TEXTS = ['"\\ud800"', '"a\\ud800b"', '"\\ud800\\u0041"'];
const OTHER_TEXTS = ["null", "true", "false", "[]", '["shopping"]', "{}", '{"eventType":"shopping"}', "[1e400]"];

/** A field value as JSON text: any number shape, string, or other value, sometimes made up at random. */
function fieldText(next: () => number): string {
    const r = next();
    if (r < 0.3) return NUMBER_TEXTS[Math.floor(next() * NUMBER_TEXTS.length)];
    if (r < 0.6) return STRING_TEXTS[Math.floor(next() * STRING_TEXTS.length)];
    if (r < 0.7) return OTHER_TEXTS[Math.floor(next() * OTHER_TEXTS.length)];
    if (r < 0.85) {
        const sign = next() < 0.2 ? "-" : "";
        const digits = String(Math.floor(next() * 10 ** Math.floor(next() * 20)));
        const fraction = next() < 0.3 ? "." + String(Math.floor(next() * 1000)) : "";
        const exponent = next() < 0.3 ? `e${Math.floor(next() * 800) - 400}` : "";
        return sign + digits + fraction + exponent;
    }
    const alphabet = ["a", "Z", "9", "_", "-", " ", "é", "ß", "中", "😀", "\\n", '\\"', "\\u0041", "\uFFFD", "$"];
    const length = Math.floor(next() * 70);
    return `"${Array.from({ length }, () => alphabet[Math.floor(next() * alphabet.length)]).join("")}"`;
}

/** A record's text around two field values, in one of several shapes (the query must read them the same in all). */
function recordText(eventType: string | undefined, version: string | undefined, shape: number): string {
    const parts = [eventType !== undefined ? `"eventType":${eventType}` : "", version !== undefined ? `"schemaVersion":${version}` : ""];
    const fields = parts.filter((p) => p !== "").join(",");
    switch (shape % 8) {
        case 0:
            return `{"detail":{${fields}}}`;
        case 1:
            return `{"version":"0","id":"x","detail":{"clientId":"c-1",${fields}${fields ? "," : ""}"n":[1,{"a":null}]},"resources":["c-1"]}`;
        case 2:
            return ` {\n "detail" : { ${fields.replace(/,/g, " ,\n ")} } }\n`;
        case 3:
            return `{"detail":{"eventType":"shopping","schemaVersion":1},"detail":{${fields}}}`; // the last duplicate wins
        case 4:
            return `{"det\\u0061il":{${fields.replace(/"eventType"/, '"\\u0065ventType"')}}}`;
        case 5:
            return `[{"detail":{${fields}}}]`;
        case 6:
            return `{"detail":[{${fields}}]}`;
        default:
            return `{"detail":{${fields}},"other":1e400,"deep":${"[".repeat(40)}${"]".repeat(40)}}`;
    }
}

/** Records where JSON.parse and jq 1.6 could part ways, and where the projection must step aside. */
function edgeCases(): string[] {
    const nested = (opens: string, closes: string, n: number, inner: string) => opens.repeat(n) + inner + closes.repeat(n);
    const keys = '{"detail":{"eventType":"shopping","schemaVersion":2}';
    return [
        // nesting: 128 containers always parse in jq 1.6; beyond, objects fail first (two stack entries each)
        `${keys},"x":${nested('{"a":', "}", JQ16_SAFE_CONTAINERS - 2, "1")}}`,
        `${keys},"x":${nested('{"a":', "}", JQ16_SAFE_CONTAINERS - 1, "1")}}`,
        `${keys},"x":${nested('{"a":', "}", JQ16_SAFE_CONTAINERS, "1")}}`,
        nested('{"a":', "}", 128, "1"), // the deepest objects jq 1.6 parses: 128 containers in all
        nested('{"a":', "}", 129, "1"),
        `${keys},"x":${nested("[", "]", 254, "1")}}`,
        `${keys},"x":${nested("[", "]", 255, "1")}}`,
        `${keys},"x":${nested("[", "]", 300, "1")}}`,
        `${keys},"x":${nested('{"a":[', "]}", 85, "1")}}`,
        `{"detail":${nested('{"a":', "}", 200, '{"eventType":"shopping"}')}}`,
        `${keys},"s":"${"[{".repeat(150)}"}`, // brackets in a string: not nesting, but counted
        // surrogate escapes outside the fields read: jq 1.6 fails on a lone high one
        `${keys},"s":"\\ud800"}`,
        `${keys},"s":"\\udc00"}`,
        `${keys},"s":"\\ud83d\\ude00"}`,
        `${keys},"\\ud800":1}`,
        // duplicate keys, inside detail and at the root
        '{"detail":{"eventType":"bad type","eventType":"shopping","schemaVersion":"1","schemaVersion":3}}',
        '{"detail":{"eventType":"shopping"},"detail":5}',
        '{"detail":5,"detail":{"eventType":"paging","schemaVersion":0}}',
        '{"detail":{"__proto__":{"eventType":"shopping"},"schemaVersion":1}}',
        '{"__proto__":{"detail":{"eventType":"shopping"}}}',
        // non-object roots and details
        "null",
        "1e400",
        '"\\ud800"',
        '"text"',
        "[]",
        '{"detail":null}',
        '{"detail":"shopping"}',
        '{"detail":[]}',
        "{}",
        '{"detail":{}}',
        // not JSON (JSON.parse refuses; jq 1.6 is never asked)
        "not json",
        "",
        "{",
        '{"detail":{}}x',
        "nan",
        "[1,]",
        '{"a":"\t"}',
    ];
}

/** Errors carry jq's position in its input stream, which depends on what else was sent: compare without it. */
function comparable(results: KeysOrError[]): Array<Record<string, string> | string> {
    return results.map((r) => ("keys" in r ? r.keys : r.error.replace(/at line \d+, column/, "at line N, column")));
}

const nonDefaultPolicy: PartitioningPolicy = { eventTypes: ["shopping", "Z9", "a-b_c", "x".repeat(64)], maxSchemaVersion: 3 };

describe("partition keys memoized per projection of a record (partitionQueryInput)", () => {
    let jq: string;
    const engines: JqEngine[] = [];
    function counting(): CountingJq {
        const engine = new CountingJq(new StreamingJq(jq));
        engines.push(engine);
        return engine;
    }
    before(function () {
        jq = requireJq16(this);
    });
    afterEach(() => engines.splice(0).forEach((e) => e.close?.()));

    for (const [name, policy] of [
        ["the default policy", undefined],
        ["a non-default policy", nonDefaultPolicy],
    ] as const) {
        it(`gives every record the keys or error jq 1.6 gives the whole record, under ${name}`, async function () {
            this.timeout(120_000);
            const query = policy ? buildPartitionKeysQuery(policy) : PARTITION_KEYS_JQ_QUERY;
            const next = random(policy ? 2 : 1);
            const texts = [...edgeCases()];
            for (const e of [...STRING_TEXTS, ...OTHER_TEXTS, undefined])
                for (const v of [...NUMBER_TEXTS, '"1"', "null", undefined]) texts.push(recordText(e, v, texts.length));
            for (const f of FAILING_TEXTS)
                texts.push(recordText(f, "1", 0), recordText("1", f, 1), recordText(`"shopping"`, "2", 7).replace("1e400", f));
            while (texts.length < 4000) {
                texts.push(
                    recordText(next() < 0.9 ? fieldText(next) : undefined, next() < 0.9 ? fieldText(next) : undefined, texts.length),
                );
            }
            const records = [...texts, ...texts.slice(0, 500)].map((t) => Buffer.from(t));
            records.push(Buffer.from('{"detail":{"eventType":"sh\xffopping"}}', "latin1"), Buffer.from([0x7b, 0xed, 0xa0, 0x80, 0x7d]));

            const whole = await extractKeysBatch(counting(), records, query);
            const memoEngine = counting();
            const memo = new ProjectionMemo(query, partitionQueryInput);
            const memoized: KeysOrError[] = [];
            for (let i = 0; i < records.length; i += 300)
                memoized.push(...(await extractKeysBatch(memoEngine, records.slice(i, i + 300), query, memo)));

            const [expected, actual] = [comparable(whole), comparable(memoized)];
            records.forEach((r, i) => assert.deepEqual(actual[i], expected[i], `record ${i}: ${r.toString("utf8").slice(0, 300)}`));
            assert.ok(memoEngine.inputs.length < records.length * 0.9, `jq saw ${memoEngine.inputs.length} of ${records.length} records`);
            assert.ok(
                expected.some((e) => typeof e === "string" && /depth limit/.test(e)),
                "some records are too deep for jq 1.6",
            );
            assert.ok(
                expected.some((e) => typeof e === "string" && /surrogate/.test(e)),
                "some records have a lone high surrogate",
            );
        });
    }

    it("vouches only where jq 1.6 reads the fields as JSON.parse does", () => {
        const p = (text: string) => partitionQueryInput(text);
        assert.equal(
            p('{"id":"x","detail":{"schemaVersion":1.0,"n":[{}],"eventType":"shopping"}}'),
            '{"detail":{"eventType":"shopping","schemaVersion":1}}',
        );
        assert.equal(p('{"detail":{"schemaVersion":-0}}'), '{"detail":{"schemaVersion":-0}}');
        assert.equal(p('{"detail":{"eventType":null,"schemaVersion":true}}'), '{"detail":{"eventType":null,"schemaVersion":true}}');
        assert.equal(p('{"detail":{"x":1}}'), '{"detail":{}}');
        for (const t of ["[1]", '"s"', "3", "null", "{}", '{"detail":[{"eventType":"shopping"}]}', '{"detail":"shopping"}'])
            assert.equal(p(t), "null", t);
        const refused = [
            '{"detail":{"schemaVersion":1e400}}',
            '{"detail":{"schemaVersion":-1e400}}',
            '{"detail":{"eventType":{"a":1}}}',
            '{"detail":{"eventType":["shopping"]}}',
            '{"detail":{"eventType":"\\ud83d\\ude00"}}',
            '{"x":"\\uDC00","detail":{}}',
            `{"detail":{},"x":${"[".repeat(JQ16_SAFE_CONTAINERS)}${"]".repeat(JQ16_SAFE_CONTAINERS)}}`,
        ];
        for (const t of refused) assert.equal(p(t), undefined, t);
        assert.notEqual(p(`{"detail":{},"x":${"[".repeat(JQ16_SAFE_CONTAINERS - 2)}${"]".repeat(JQ16_SAFE_CONTAINERS - 2)}}`), undefined);
    });

    it("sends each projection to jq once, across batches, and records it cannot vouch for every time", async () => {
        const engine = counting();
        const memo = new ProjectionMemo(PARTITION_KEYS_JQ_QUERY, partitionQueryInput);
        const types = ["shopping", "paging", "purchase", "unknown-type", "bad type"];
        const record = (i: number) =>
            Buffer.from(JSON.stringify({ id: `e-${i}`, detail: { eventType: types[i % 5], schemaVersion: i % 3, n: i } }));
        const huge = Buffer.from('{"detail":{"eventType":"shopping","schemaVersion":1e400}}');
        for (let batch = 0; batch < 4; batch++) {
            const records = [...Array.from({ length: 500 }, (_, i) => record(batch * 500 + i)), huge];
            const results = await extractKeysBatch(engine, records, PARTITION_KEYS_JQ_QUERY, memo);
            assert.deepEqual(results[0], { keys: { eventType: "shopping", schemaVersion: String((batch * 500) % 3) } });
            assert.deepEqual(results[4], { keys: { eventType: "_invalid", schemaVersion: String((batch * 500 + 4) % 3) } });
            assert.deepEqual(results[500], { keys: { eventType: "shopping", schemaVersion: "_other" } });
        }
        // 5 types x 3 versions = 15 projections, once each; the 1e400 record, whole, in each of the 4 batches
        assert.equal(engine.inputs.filter((i) => i === huge.toString()).length, 4);
        assert.equal(engine.inputs.length, 15 + 4);
        assert.equal(memo.size, 15);
    });

    it("stays bounded under unique eventTypes, keeps what is in use, and remembers no error", async () => {
        const engine = counting();
        const memo = new ProjectionMemo(PARTITION_KEYS_JQ_QUERY, partitionQueryInput, 100);
        const hot = Buffer.from('{"detail":{"eventType":"shopping","schemaVersion":1}}');
        const unique = (i: number) =>
            Buffer.from(JSON.stringify({ detail: { eventType: `t-${i}-${"é".repeat(i % 7)}`, schemaVersion: 1 } }));
        for (let batch = 0; batch < 100; batch++) {
            const results = await extractKeysBatch(
                engine,
                [hot, ...Array.from({ length: 50 }, (_, i) => unique(batch * 50 + i))],
                PARTITION_KEYS_JQ_QUERY,
                memo,
            );
            assert.equal(results.length, 51);
            assert.ok(memo.size <= 100, `memo holds ${memo.size}`);
        }
        assert.equal(engine.inputs.length, 1 + 5000, "each unique type once, the type in use once");
        const sent = engine.inputs.length;
        await extractKeysBatch(engine, [unique(0), unique(4999)], PARTITION_KEYS_JQ_QUERY, memo);
        assert.equal(engine.inputs.length, sent + 1, "the oldest was dropped; the newest is kept");

        const long = Buffer.from(JSON.stringify({ detail: { eventType: "x".repeat(1000), schemaVersion: 1 } }));
        await extractKeysBatch(engine, [long], PARTITION_KEYS_JQ_QUERY, memo);
        await extractKeysBatch(engine, [long], PARTITION_KEYS_JQ_QUERY, memo);
        assert.equal(engine.inputs.length, sent + 3, "a projection longer than the limit is not kept");

        const fresh = Buffer.from('{"detail":{"eventType":"paging","schemaVersion":2}}');
        engine.failNext = 1;
        assert.deepEqual(await extractKeysBatch(engine, [fresh, fresh], PARTITION_KEYS_JQ_QUERY, memo), [
            { error: "engine failed" },
            { error: "engine failed" },
        ]);
        assert.deepEqual(await extractKeysBatch(engine, [fresh], PARTITION_KEYS_JQ_QUERY, memo), [
            { keys: { eventType: "paging", schemaVersion: "2" } },
        ]);
        assert.equal(engine.inputs.length, sent + 5, "the failed projection went to jq again");
        await assert.rejects(extractKeysBatch(engine, [fresh], buildPartitionKeysQuery(nonDefaultPolicy), memo), /another query/);
    });

    it("local mode's Firehose memoizes only when told its query is the partition-keys query", async () => {
        for (const reads of ["partitionQueryInput", undefined] as const) {
            const dataDir = tempDataDir();
            const engine = counting();
            const firehose = new LocalFirehose(
                {
                    ...testFirehoseSettings(dataDir),
                    metadataExtractionQueryReads: reads,
                    jq: engine,
                },
                createLogger({ quiet: true }),
            );
            const puts = Array.from({ length: 200 }, (_, i) =>
                firehose.put(Buffer.from(JSON.stringify({ id: i, detail: { eventType: i % 2 ? "paging" : "nope", schemaVersion: 4 } }))),
            );
            await firehose.flush();
            await Promise.all(puts);
            await firehose.close();
            const prefixes = new Set(listFiles(path.join(dataDir, "s3", "b")).map((k) => k.split("/").slice(0, 3).join("/")));
            assert.deepEqual([...prefixes].sort(), ["events/eventType=_other/schemaVersion=4", "events/eventType=paging/schemaVersion=4"]);
            assert.equal(engine.inputs.length, reads ? 2 : 200);
        }
    });
});
