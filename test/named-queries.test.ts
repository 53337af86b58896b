/**
 * The named queries as data (pipeline/named-queries.ts): within Athena's limits for saved queries, `?`
 * placeholders where Athena accepts them and matching the declared parameters, parameter binding, and the
 * CLI's result formatting. Each query's results are checked against a real archive in query-local.test.ts.
 */
import * as assert from "node:assert/strict";
import {
    athenaLiteral,
    bindParameters,
    DEFAULT_ACTIVE_MINUTES,
    findNamedQuery,
    NAMED_QUERIES,
    sqlFor,
    type NamedQuery,
} from "../pipeline/named-queries";
import { formatJson, formatTable, MAX_CELL_LENGTH, normalizeValue } from "../query/result";

/** Positions of `?` outside string literals and quoted identifiers. */
function placeholders(sql: string): number[] {
    const found: number[] = [];
    let quote: string | undefined;
    for (let i = 0; i < sql.length; i++) {
        const c = sql[i];
        if (quote) {
            if (c === quote) quote = undefined;
        } else if (c === "'" || c === '"') {
            quote = c;
        } else if (c === "?") {
            found.push(i);
        }
    }
    return found;
}

describe("named queries", () => {
    it("fit Athena's saved-query limits: names 1-128, descriptions up to 1024, SQL up to 256 KiB; names unique", () => {
        const names = NAMED_QUERIES.map((q) => q.name);
        assert.equal(new Set(names).size, names.length);
        for (const q of NAMED_QUERIES) {
            assert.match(q.name, /^[a-z][a-z0-9]*(-[a-z0-9]+)*$/);
            assert.ok(q.name.length <= 128 && q.description.length > 0 && q.description.length <= 1024, q.name);
            for (const engine of ["athena", "duckdb"] as const) assert.ok(Buffer.byteLength(sqlFor(q, engine)) <= 262_144);
        }
        assert.deepEqual(names.slice(0, 5), [
            "events-per-type-per-day",
            "last-events-of-client",
            "duplicate-events",
            "errors-last-day",
            "events-deduplicated",
        ]);
    });

    it("have one ? per declared parameter, only in the WHERE clause (Athena's rule)", () => {
        for (const q of NAMED_QUERIES) {
            for (const engine of ["athena", "duckdb"] as const) {
                const sql = sqlFor(q, engine);
                const marks = placeholders(sql);
                assert.equal(marks.length, (q.parameters ?? []).length, q.name);
                for (const at of marks) {
                    const before = sql.slice(0, at).toUpperCase();
                    const clause = Math.max(
                        ...["WHERE", "GROUP BY", "ORDER BY", "LIMIT", "SELECT", "HAVING"].map((k) => before.lastIndexOf(k)),
                    );
                    assert.equal(before.lastIndexOf("WHERE"), clause, `${q.name}: ? outside WHERE`);
                }
            }
        }
    });

    it("bind parameters in order, refusing missing, unknown and malformed ones with the usage", () => {
        const q: NamedQuery = {
            name: "t",
            description: "d",
            sql: "SELECT 1 WHERE a = ? AND b = ?",
            parameters: [
                { name: "a", description: "the a", type: "string" },
                { name: "b", description: "the b", type: "integer" },
            ],
        };
        assert.deepEqual(bindParameters(q, { b: "-12", a: "x'y" }), ["x'y", -12]);
        assert.throws(() => bindParameters(q, { a: "x" }), /t needs b \(the b\): it takes --param a=<string> --param b=<integer>/);
        assert.throws(() => bindParameters(q, { a: "x", b: "1", c: "2" }), /t has no parameter c/);
        assert.throws(() => bindParameters(q, { a: "x", b: "1.5" }), /b must be a whole number, got "1.5"/);
        assert.throws(() => bindParameters(q, { a: "x", b: "1; DROP TABLE events" }), /whole number/);
        assert.deepEqual(bindParameters(findNamedQuery("duplicate-events")!, {}), []);
    });

    it("a parameter's default is bound when none is given; completeness's activeMinutes defaults past Firehose's default buffer", () => {
        const completeness = findNamedQuery("completeness")!;
        // Firehose's default buffer (300 s) and the transform's (60 s) are 6 minutes; 5 more for retries.
        assert.equal(DEFAULT_ACTIVE_MINUTES, 11);
        assert.deepEqual(bindParameters(completeness, {}), [11]);
        assert.deepEqual(bindParameters(completeness, { activeMinutes: "0" }), [0]);
        assert.throws(() => bindParameters(completeness, { activeMinutes: "soon" }), /activeMinutes must be a whole number/);
        assert.throws(() => bindParameters(completeness, { minutes: "1" }), /--param activeMinutes=<integer> \(default 11\)/);
        // The one placeholder compares the session's last event with now: the parameter is minutes.
        assert.match(
            sqlFor(completeness, "athena"),
            /WHERE try\(from_iso8601_timestamp\(last_time\)\) > current_timestamp - \? \* INTERVAL '1' MINUTE/,
        );
    });

    it("Athena execution parameters are SQL literals: strings quoted with quotes doubled, numbers bare", () => {
        assert.equal(athenaLiteral("o'brien"), "'o''brien'");
        assert.equal(athenaLiteral("' OR '1'='1"), "''' OR ''1''=''1'");
        assert.equal(athenaLiteral(42), "42");
    });

    it("a query with per-engine variants gives each engine its own SQL", () => {
        const q: NamedQuery = { name: "v", description: "d", sql: { athena: "SELECT 1", duckdb: "SELECT 2" } };
        assert.equal(sqlFor(q, "athena"), "SELECT 1");
        assert.equal(sqlFor(q, "duckdb"), "SELECT 2");
    });
});

describe("query results as the CLI prints them", () => {
    const result = {
        columns: [
            { name: "name", type: "VARCHAR" },
            { name: "n", type: "BIGINT" },
            { name: "obj", type: "STRUCT" },
        ],
        rows: [
            ["alpha", 5, { a: 1 }],
            ["line\nbreak\u2028", 12345, null],
            ["x".repeat(MAX_CELL_LENGTH + 5), null, "s"],
        ],
    };

    it("an aligned table: numbers right-aligned, NULL shown, control characters escaped, long values cut with a note", () => {
        const lines = formatTable(result).split("\n");
        assert.equal(lines[0], `name${" ".repeat(MAX_CELL_LENGTH - 4)}      n  obj`);
        assert.equal(lines[2], `alpha${" ".repeat(MAX_CELL_LENGTH - 5)}      5  {"a":1}`);
        assert.equal(lines[3], `line\\nbreak\\u2028${" ".repeat(MAX_CELL_LENGTH - 17)}  12345  NULL`);
        assert.equal(lines[4], `${"x".repeat(MAX_CELL_LENGTH - 1)}…   NULL  s`);
        assert.equal(lines[5], `(3 rows); values longer than ${MAX_CELL_LENGTH} characters are cut, --json prints them whole`);
    });

    it("JSON: row objects with every value whole", () => {
        assert.deepEqual(JSON.parse(formatJson(result)), [
            { name: "alpha", n: 5, obj: { a: 1 } },
            { name: "line\nbreak\u2028", n: 12345, obj: null },
            { name: "x".repeat(MAX_CELL_LENGTH + 5), n: null, obj: "s" },
        ]);
    });

    it("numbers from text: integers within 2^53 become numbers, larger stay text, doubles parsed", () => {
        assert.equal(normalizeValue("BIGINT", "42"), 42);
        assert.equal(normalizeValue("BIGINT", "9007199254740993"), "9007199254740993");
        assert.equal(normalizeValue("DOUBLE", "1.5"), 1.5);
        assert.equal(normalizeValue("VARCHAR", "42"), "42");
        assert.equal(normalizeValue("BIGINT", undefined), null);
    });
});
