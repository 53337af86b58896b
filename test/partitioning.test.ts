import * as assert from "assert";
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import * as jq from "jq-wasm";
import { requireJq16 } from "./support/tools";
import {
    buildPartitionKeysQuery,
    DEFAULT_PARTITIONING_POLICY,
    FIREHOSE_MAX_ACTIVE_PARTITIONS,
    INVALID_PARTITION,
    maxActivePartitions,
    MAX_QUERY_LENGTH,
    OTHER_PARTITION,
    PARTITION_KEYS_JQ_QUERY,
    PartitioningPolicy,
    S3_ERROR_PREFIX,
    S3_PREFIX,
    validatePartitioningPolicy,
} from "../pipeline/partitioning";
import { formatTimestamp, resolvePrefix } from "../local/firehose-prefix";
import { objectKeyFor, partitionKeysFor } from "./support/partitioning";

function event(detail: unknown, extra: Record<string, unknown> = {}): Record<string, unknown> {
    return {
        version: "0",
        id: "6a7e8feb-b491-4cf7-a9f1-bf3703467718",
        "detail-type": "dev",
        source: "clientevents",
        account: "123456789012",
        time: "2026-11-27T19:41:07Z",
        region: "us-east-1",
        resources: [],
        detail: { ...(detail as object), accountNumber: "3f2b8c1e-5d4a-4e6f-9b7c-2a1d0e9f8c7b" },
        ...extra,
    };
}

const longName = "a".repeat(64);
/** Sample records (as the transform outputs them) and the partition keys the policy gives them. */
const CASES: Array<{ name: string; json: string; keys: [string, string] }> = [
    {
        name: "valid shopping v1",
        json: JSON.stringify(event({ eventType: "shopping", schemaVersion: 1, data: { itemSku: 123 } })),
        keys: ["shopping", "1"],
    },
    {
        name: "loyaltypurchase v2",
        json: JSON.stringify(event({ eventType: "loyaltypurchase", schemaVersion: 2 })),
        keys: ["loyaltypurchase", "2"],
    },
    { name: "version 0 and the maximum", json: JSON.stringify(event({ eventType: "paging", schemaVersion: 20 })), keys: ["paging", "20"] },
    { name: "version written 1.0", json: '{"detail":{"eventType":"purchase","schemaVersion":1.0}}', keys: ["purchase", "1"] },
    { name: "version as exponent 2e1", json: '{"detail":{"eventType":"purchase","schemaVersion":2e1}}', keys: ["purchase", "20"] },
    {
        name: "missing eventType (the old analyticType sample)",
        json: JSON.stringify(event({ analyticType: "shopping", schemaVersion: 1 })),
        keys: [INVALID_PARTITION, "1"],
    },
    { name: "missing schemaVersion", json: JSON.stringify(event({ eventType: "shopping" })), keys: ["shopping", INVALID_PARTITION] },
    { name: "both missing", json: JSON.stringify(event({})), keys: [INVALID_PARTITION, INVALID_PARTITION] },
    {
        name: "null values",
        json: JSON.stringify(event({ eventType: null, schemaVersion: null })),
        keys: [INVALID_PARTITION, INVALID_PARTITION],
    },
    {
        name: "unlisted well-formed type, version too high",
        json: JSON.stringify(event({ eventType: "checkout", schemaVersion: 21 })),
        keys: [OTHER_PARTITION, OTHER_PARTITION],
    },
    {
        name: "case differs from the list",
        json: JSON.stringify(event({ eventType: "Shopping", schemaVersion: 1 })),
        keys: [OTHER_PARTITION, "1"],
    },
    {
        name: "64-character name, unlisted",
        json: JSON.stringify(event({ eventType: longName, schemaVersion: 1 })),
        keys: [OTHER_PARTITION, "1"],
    },
    {
        name: "65-character name",
        json: JSON.stringify(event({ eventType: longName + "a", schemaVersion: 1 })),
        keys: [INVALID_PARTITION, "1"],
    },
    {
        name: "path traversal in eventType",
        json: JSON.stringify(event({ eventType: "../../x", schemaVersion: 1 })),
        keys: [INVALID_PARTITION, "1"],
    },
    {
        name: "slash and equals in eventType",
        json: JSON.stringify(event({ eventType: "a/b=c", schemaVersion: 1 })),
        keys: [INVALID_PARTITION, "1"],
    },
    {
        name: "prefix expression in eventType",
        json: JSON.stringify(event({ eventType: "!{timestamp:yyyy}", schemaVersion: 1 })),
        keys: [INVALID_PARTITION, "1"],
    },
    { name: "non-ASCII eventType", json: JSON.stringify(event({ eventType: "café", schemaVersion: 1 })), keys: [INVALID_PARTITION, "1"] },
    {
        name: "leading sentinel character",
        json: JSON.stringify(event({ eventType: "_other", schemaVersion: 1 })),
        keys: [INVALID_PARTITION, "1"],
    },
    { name: "leading dash", json: JSON.stringify(event({ eventType: "-x", schemaVersion: 1 })), keys: [INVALID_PARTITION, "1"] },
    { name: "empty eventType", json: JSON.stringify(event({ eventType: "", schemaVersion: 1 })), keys: [INVALID_PARTITION, "1"] },
    {
        name: "newline in eventType",
        json: JSON.stringify(event({ eventType: "shopping\n", schemaVersion: 1 })),
        keys: [INVALID_PARTITION, "1"],
    },
    {
        name: "eventType number, array, object",
        json: JSON.stringify(event({ eventType: 7, schemaVersion: [1] })),
        keys: [INVALID_PARTITION, INVALID_PARTITION],
    },
    {
        name: "eventType array holding a listed name",
        json: JSON.stringify(event({ eventType: ["shopping"], schemaVersion: { v: 1 } })),
        keys: [INVALID_PARTITION, INVALID_PARTITION],
    },
    {
        name: "schemaVersion as string",
        json: JSON.stringify(event({ eventType: "shopping", schemaVersion: "1" })),
        keys: ["shopping", INVALID_PARTITION],
    },
    {
        name: "schemaVersion fraction",
        json: JSON.stringify(event({ eventType: "shopping", schemaVersion: 1.5 })),
        keys: ["shopping", INVALID_PARTITION],
    },
    {
        name: "schemaVersion negative",
        json: JSON.stringify(event({ eventType: "shopping", schemaVersion: -1 })),
        keys: ["shopping", INVALID_PARTITION],
    },
    {
        name: "schemaVersion boolean",
        json: JSON.stringify(event({ eventType: "shopping", schemaVersion: true })),
        keys: ["shopping", INVALID_PARTITION],
    },
    { name: "schemaVersion huge", json: '{"detail":{"eventType":"shopping","schemaVersion":1e300}}', keys: ["shopping", OTHER_PARTITION] },
    { name: "detail is a string", json: '{"detail":"shopping"}', keys: [INVALID_PARTITION, INVALID_PARTITION] },
    { name: "detail is an array", json: '{"detail":[{"eventType":"shopping"}]}', keys: [INVALID_PARTITION, INVALID_PARTITION] },
    { name: "no detail", json: '{"source":"clientevents"}', keys: [INVALID_PARTITION, INVALID_PARTITION] },
    { name: "record is an array", json: "[1,2]", keys: [INVALID_PARTITION, INVALID_PARTITION] },
    { name: "record is a string", json: '"shopping"', keys: [INVALID_PARTITION, INVALID_PARTITION] },
    { name: "record is null", json: "null", keys: [INVALID_PARTITION, INVALID_PARTITION] },
];

/** What every engine must return for a case. */
function expected(c: { keys: [string, string] }): { eventType: string; schemaVersion: string } {
    return { eventType: c.keys[0], schemaVersion: c.keys[1] };
}

describe("partitioning: the JQ query", () => {
    it("runs under the real jq 1.6 binary with the expected keys for every sample", function () {
        const JQ = requireJq16(this); // Firehose runs jq 1.6
        // One jq process for all samples: jq reads a stream of JSON texts and answers one line each.
        const out = execFileSync(JQ, ["-c", PARTITION_KEYS_JQ_QUERY], { input: CASES.map((c) => c.json).join("\n"), encoding: "utf8" });
        const lines = out
            .trim()
            .split("\n")
            .map((l) => JSON.parse(l));
        assert.strictEqual(lines.length, CASES.length, "exactly one output per record: no record fails the query");
        CASES.forEach((c, i) => assert.deepStrictEqual(lines[i], expected(c), c.name));
    });

    it("runs in-process under jq-wasm with the same keys", async () => {
        for (const c of CASES) {
            const out = await jq.raw(c.json, PARTITION_KEYS_JQ_QUERY, ["-c"]);
            assert.deepStrictEqual(JSON.parse(out), expected(c), c.name);
        }
    });

    it("agrees with the TypeScript reference implementation", () => {
        for (const c of CASES) assert.deepStrictEqual(partitionKeysFor(JSON.parse(c.json)), expected(c), c.name);
    });

    it("always yields short strings that are safe in an S3 key", () => {
        for (const c of CASES) {
            const keys = partitionKeysFor(JSON.parse(c.json));
            for (const v of Object.values(keys)) assert.match(v, /^[A-Za-z0-9_-]{1,64}$/, c.name);
        }
    });

    it("builds the query from a custom policy (allow-list and maximum version)", async function () {
        const JQ = requireJq16(this);
        const policy: PartitioningPolicy = { eventTypes: ["checkout", "Search-v2"], maxSchemaVersion: 3 };
        const query = buildPartitionKeysQuery(policy);
        const samples = [
            ['{"detail":{"eventType":"checkout","schemaVersion":3}}', { eventType: "checkout", schemaVersion: "3" }],
            ['{"detail":{"eventType":"Search-v2","schemaVersion":0}}', { eventType: "Search-v2", schemaVersion: "0" }],
            ['{"detail":{"eventType":"shopping","schemaVersion":4}}', { eventType: OTHER_PARTITION, schemaVersion: OTHER_PARTITION }],
        ] as const;
        for (const [json, keys] of samples) {
            assert.deepStrictEqual(JSON.parse(await jq.raw(json, query, ["-c"])), keys, json);
            assert.deepStrictEqual(partitionKeysFor(JSON.parse(json), policy), keys, json);
            assert.deepStrictEqual(JSON.parse(execFileSync(JQ, ["-c", query], { input: json, encoding: "utf8" })), keys, json);
        }
    });

    it("uses only core jq: no regular expressions, no def, no try (Firehose documents none of them)", () => {
        assert.doesNotMatch(PARTITION_KEYS_JQ_QUERY, /\b(test|match|capture|scan|splits|sub|gsub)\s*\(/);
        assert.doesNotMatch(PARTITION_KEYS_JQ_QUERY, /\b(def|try|catch|import|include|input|inputs|env|\$ENV)\b/);
    });
});

describe("partitioning: the partition budget", () => {
    it("keeps the default policy under Firehose's 500 active partitions", () => {
        assert.deepStrictEqual(validatePartitioningPolicy(DEFAULT_PARTITIONING_POLICY), []);
        assert.strictEqual(maxActivePartitions(DEFAULT_PARTITIONING_POLICY), (5 + 2) * (20 + 3) * 2);
        assert.ok(maxActivePartitions(DEFAULT_PARTITIONING_POLICY) <= FIREHOSE_MAX_ACTIVE_PARTITIONS);
    });

    it("bounds the partitions one client can open with many distinct eventTypes", () => {
        const seen = new Set<string>();
        for (let i = 0; i < 5000; i++) {
            const keys = partitionKeysFor({ detail: { eventType: `type${i}`, schemaVersion: i % 1000 } });
            seen.add(`${keys.eventType}/${keys.schemaVersion}`);
        }
        assert.ok(seen.size <= maxActivePartitions(DEFAULT_PARTITIONING_POLICY) / 2, `${seen.size} key pairs`);
        assert.ok([...seen].every((k) => k.startsWith(`${OTHER_PARTITION}/`)));
    });

    it("rejects policies that could exceed the limit, with the setting to change", () => {
        const errors = validatePartitioningPolicy({ eventTypes: Array.from({ length: 30 }, (_, i) => `t${i}`), maxSchemaVersion: 20 });
        assert.strictEqual(errors.length, 1);
        assert.match(errors[0], /partitionEventTypes.*partitionMaxSchemaVersion.*500/);
        assert.throws(() => buildPartitionKeysQuery({ eventTypes: ["a"], maxSchemaVersion: 500 }), /500/);
    });

    it("keeps the query within Firehose's 5120-character parameter limit", () => {
        assert.ok(PARTITION_KEYS_JQ_QUERY.length < MAX_QUERY_LENGTH);
        // 80 types fit the partition budget with maxSchemaVersion 0, but not the query length when long.
        const long = { eventTypes: Array.from({ length: 80 }, (_, i) => `t${i}`.padEnd(60, "x")), maxSchemaVersion: 0 };
        assert.ok(maxActivePartitions(long) <= FIREHOSE_MAX_ACTIVE_PARTITIONS);
        assert.match(validatePartitioningPolicy(long)[0], /above Firehose's 5120/);
        const short = { eventTypes: Array.from({ length: 80 }, (_, i) => `t${i}`), maxSchemaVersion: 0 };
        assert.deepStrictEqual(validatePartitioningPolicy(short), []);
        assert.ok(buildPartitionKeysQuery(short).length <= MAX_QUERY_LENGTH);
    });

    it("rejects malformed, duplicate and sentinel-like allow-list entries", () => {
        const errors = validatePartitioningPolicy({ eventTypes: ["ok", "ok", "_other", "a b", ""], maxSchemaVersion: 1.5 });
        assert.ok(errors.some((e) => /listed twice/.test(e)));
        assert.ok(errors.some((e) => /"_other" is not a well-formed/.test(e)));
        assert.ok(errors.some((e) => /"a b" is not a well-formed/.test(e)));
        assert.ok(errors.some((e) => /partitionMaxSchemaVersion must be a whole number/.test(e)));
        assert.deepStrictEqual(validatePartitioningPolicy({ eventTypes: [], maxSchemaVersion: 1 }), [
            "partitionEventTypes must list at least one eventType",
        ]);
    });
});

describe("partitioning: S3 prefixes", () => {
    const at = new Date("2026-11-27T19:41:07Z");

    it("resolves the data prefix to Hive-style eventType / schemaVersion / date folders", () => {
        assert.strictEqual(
            resolvePrefix(S3_PREFIX, { partitionKeys: { eventType: "shopping", schemaVersion: "1" }, timestamp: at }),
            "events/eventType=shopping/schemaVersion=1/year=2026/month=11/day=27/",
        );
        assert.strictEqual(
            objectKeyFor(
                { eventType: "loyaltypurchase", schemaVersion: "1" },
                "client-events-dev-archive",
                at,
                "a9fa96af-e4e4-409f-bac3-1f804714faaa",
                ".gz",
            ),
            "events/eventType=loyaltypurchase/schemaVersion=1/year=2026/month=11/day=27/client-events-dev-archive-1-2026-11-27-19-41-07-a9fa96af-e4e4-409f-bac3-1f804714faaa.gz",
        );
    });

    it("resolves the error prefix with the error output type", () => {
        assert.strictEqual(
            resolvePrefix(S3_ERROR_PREFIX, { timestamp: at, errorOutputType: "processing-failed" }),
            "errors/processing-failed/year=2026/month=11/day=27/",
        );
    });

    it("follows Firehose's prefix rules", () => {
        // The data prefix may not use error-output-type; the error prefix must; both need a timestamp
        // (otherwise Firehose appends one) and both end with a slash (a folder).
        assert.ok(!S3_PREFIX.includes("!{firehose:error-output-type}"));
        assert.ok(S3_ERROR_PREFIX.includes("!{firehose:error-output-type}"));
        assert.ok(!S3_ERROR_PREFIX.includes("partitionKeyFromQuery"), "the error prefix must not depend on keys that may have failed");
        for (const p of [S3_PREFIX, S3_ERROR_PREFIX]) {
            assert.ok(p.includes("!{timestamp:"));
            assert.ok(p.endsWith("/"));
            assert.strictEqual(p.replace(/!\{[^}]+\}/g, "").includes("!{"), false);
        }
        // Evaluated length limit: 512 characters with the longest key values.
        const longest = resolvePrefix(S3_PREFIX, {
            partitionKeys: { eventType: "a".repeat(64), schemaVersion: "_invalid" },
            timestamp: at,
        });
        assert.ok(longest.length <= 512);
    });

    it("formats Java DateTimeFormatter patterns in UTC, quoted literals included", () => {
        const late = new Date("2026-01-02T23:59:58Z");
        assert.strictEqual(formatTimestamp("yyyy/MM/dd/HH", late), "2026/01/02/23");
        assert.strictEqual(formatTimestamp("'year='yyyy'/month='MM", late), "year=2026/month=01");
        assert.strictEqual(formatTimestamp("yyyy-MM-dd-HH-mm-ss", late), "2026-01-02-23-59-58");
        assert.throws(() => formatTimestamp("EEE", late), /not supported/);
    });

    it("refuses to resolve a prefix whose partition key is missing", () => {
        assert.throws(() => resolvePrefix(S3_PREFIX, { partitionKeys: { eventType: "shopping" }, timestamp: at }), /schemaVersion/);
    });
});

describe("partitioning: sample events", () => {
    it("the sample events in events/ partition as documented", () => {
        const dir = path.resolve(__dirname, "../events");
        const keys = (file: string) => partitionKeysFor(JSON.parse(fs.readFileSync(path.join(dir, file), "utf8")));
        assert.deepStrictEqual(keys("event.json"), { eventType: "shopping", schemaVersion: "1" });
        assert.deepStrictEqual(keys("loyalty-purchase.json"), { eventType: "loyaltypurchase", schemaVersion: "1" });
        assert.deepStrictEqual(keys("unusable-keys.json"), { eventType: INVALID_PARTITION, schemaVersion: INVALID_PARTITION });
    });
});
