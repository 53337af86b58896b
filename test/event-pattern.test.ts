// Pattern-engine cases from the AWS EventBridge documentation that the shared conformance folder does not
// cover. Each block names the documented behaviour it checks.
import * as assert from "assert";
import { compilePattern, InvalidEventPatternError, isValidPattern, matchesPattern } from "../event-pattern";
import { ALL_CLIENT_EVENTS_PATTERN, LOYALTY_PURCHASE_PATTERN } from "../pipeline/event-patterns";

const base = {
    version: "0",
    id: "6a7e8feb-b491-4cf7-a9f1-bf3703467718",
    "detail-type": "production",
    source: "clientevents",
    account: "123456789012",
    time: "2026-11-27T18:43:48Z",
    region: "us-east-1",
    resources: ["0f0e3a4c-7a0e-4bd4-9d53-1f6b2d0f6a11"],
};
const ev = (detail: unknown, extra: object = {}) => ({ ...base, ...extra, detail });

function match(pattern: object | string, event: object | string): boolean {
    return compilePattern(pattern).matches(event);
}

function rejects(pattern: object | string, reason: RegExp): void {
    assert.throws(
        () => compilePattern(pattern),
        (e: unknown) => {
            assert.ok(e instanceof InvalidEventPatternError, `expected InvalidEventPatternError, got ${e}`);
            assert.strictEqual(e.code, "InvalidEventPatternException");
            assert.match(e.message, /^Event pattern is not valid\. Reason: /);
            assert.match(e.reason, reason);
            return true;
        },
    );
}

describe("event pattern engine", () => {
    describe("the program's own rules", () => {
        // The deployed patterns themselves, so a change to them is tested here.
        const all = ALL_CLIENT_EVENTS_PATTERN;
        const loyalty = LOYALTY_PURCHASE_PATTERN;
        const purchaseOf = (data: unknown, eventType: unknown = "loyaltypurchase") => ev({ eventType, schemaVersion: 1, data });

        it("route every clientevents event, and only loyalty purchases with a numeric itemSku to the ticket rule", () => {
            const shopping = ev({ eventType: "shopping", schemaVersion: 1, data: { itemSku: 123 } });
            const purchase = purchaseOf({ itemSku: 456, points: 40 });
            assert.strictEqual(match(all, shopping), true);
            assert.strictEqual(match(all, purchase), true);
            assert.strictEqual(match(loyalty, shopping), false);
            assert.strictEqual(match(loyalty, purchase), true);
            assert.strictEqual(match(all, { ...shopping, source: "other" }), false);
            assert.strictEqual(match(loyalty, { ...purchase, source: "other" }), false);
            // The ticket template inserts itemSku unescaped: only a number (0 or more) opens a ticket.
            assert.strictEqual(match(loyalty, purchaseOf({ points: 40 })), false, "no itemSku");
            assert.strictEqual(match(loyalty, purchaseOf({ itemSku: '1","priority":"urgent' })), false, "a string itemSku");
            assert.strictEqual(match(loyalty, purchaseOf({ itemSku: "123" })), false, "a number in a string");
            assert.strictEqual(match(loyalty, purchaseOf({ itemSku: -1 })), false, "a negative itemSku");
            assert.strictEqual(match(loyalty, purchaseOf({ itemSku: 0 })), true);
            assert.strictEqual(match(all, purchaseOf({ itemSku: "abc" })), true, "the archive still gets it");
            // Exact, case-sensitive string matching: no case folding or normalisation.
            assert.strictEqual(match(loyalty, purchaseOf({ itemSku: 1 }, "LoyaltyPurchase")), false);
            assert.strictEqual(match(loyalty, purchaseOf({ itemSku: 1 }, ["shopping", "loyaltypurchase"])), true);
            assert.strictEqual(match(loyalty, ev({ eventtype: "loyaltypurchase", data: { itemSku: 1 } })), false);
        });

        it("the deployed patterns (pipeline/event-patterns.ts) are valid and route a loyalty purchase", () => {
            const purchase = ev({ eventType: "loyaltypurchase", schemaVersion: 1, data: { itemSku: 123 } });
            assert.strictEqual(compilePattern(ALL_CLIENT_EVENTS_PATTERN).matches(purchase), true);
            assert.strictEqual(compilePattern(LOYALTY_PURCHASE_PATTERN).matches(purchase), true);
            assert.strictEqual(
                compilePattern(LOYALTY_PURCHASE_PATTERN).matches(ev({ eventType: "shopping", data: { itemSku: 1 } })),
                false,
            );
        });

        it("compiles once and matches many events, text or object", () => {
            const compiled = compilePattern(JSON.stringify(loyalty));
            assert.deepStrictEqual(compiled.paths, [["source", "detail.eventType", "detail.data.itemSku"]]);
            for (let i = 0; i < 3; i++) {
                assert.strictEqual(compiled.matches(JSON.stringify(purchaseOf({ itemSku: i }))), true);
                assert.strictEqual(compiled.matches(purchaseOf({ itemSku: i }, "shopping")), false);
            }
        });
    });

    describe("values (docs: event patterns, null values and empty strings)", () => {
        it("compares numbers as numbers and never as strings", () => {
            assert.strictEqual(match({ detail: { n: [300] } }, '{"detail":{"n":3.0e2}}'), true);
            assert.strictEqual(match({ detail: { n: [300] } }, ev({ n: "300" })), false);
            assert.strictEqual(match({ detail: { n: ["300"] } }, ev({ n: 300 })), false);
        });

        it("matches booleans and null only by type", () => {
            assert.strictEqual(match({ detail: { b: [true] } }, ev({ b: true })), true);
            assert.strictEqual(match({ detail: { b: [true] } }, ev({ b: "true" })), false);
            assert.strictEqual(match({ detail: { r: [null] } }, ev({ r: null })), true);
        });

        it("does not treat null and the empty string as interchangeable", () => {
            assert.strictEqual(match({ detail: { v: [""] } }, ev({ v: null })), false);
            assert.strictEqual(match({ detail: { v: [null] } }, ev({ v: "" })), false);
        });

        it("matches leaves only: a pattern value never matches an object", () => {
            assert.strictEqual(match({ detail: ["x"] }, ev({ a: "x" })), false);
            assert.strictEqual(match({ detail: { a: { b: ["x"] } } }, ev({ a: "x" })), false);
        });

        it("keeps the last of repeated keys in an event given as text", () => {
            const text = '{"source":"other","source":"clientevents","detail":{}}';
            assert.strictEqual(match({ source: ["clientevents"] }, text), true);
        });

        it("matches other spellings of an IP address given as an exact value", () => {
            assert.strictEqual(match({ detail: { ip: ["2001:db8::1"] } }, ev({ ip: "2001:0db8:0:0:0:0:0:0001" })), true);
            assert.strictEqual(match({ detail: { ip: ["10.0.0.1"] } }, ev({ ip: "10.0.0.2" })), false);
        });
    });

    describe("arrays (docs: arrays in event patterns; array-consistent matching)", () => {
        it("matches when any element of an event array matches", () => {
            assert.strictEqual(match({ detail: { tags: ["b"] } }, ev({ tags: ["a", "b"] })), true);
            assert.strictEqual(match({ detail: { tags: [{ prefix: "c" }] } }, ev({ tags: ["a", "b"] })), false);
            assert.strictEqual(match({ detail: { tags: ["a"] } }, ev({ tags: [["x"], ["a"]] })), true);
        });

        it("takes fields of objects inside an array from the same element", () => {
            const event = ev({
                employees: [
                    { firstName: "John", lastName: "Doe" },
                    { firstName: "Anna", lastName: "Smith" },
                    { firstName: "Peter", lastName: "Jones" },
                ],
            });
            assert.strictEqual(match({ detail: { employees: { firstName: ["Anna"] } } }, event), true);
            assert.strictEqual(match({ detail: { employees: { firstName: ["Anna"], lastName: ["Smith"] } } }, event), true);
            assert.strictEqual(match({ detail: { employees: { firstName: ["Anna"], lastName: ["Jones"] } } }, event), false);
        });
    });

    describe("comparison operators (docs: content filtering)", () => {
        it("prefix and suffix with equals-ignore-case", () => {
            assert.strictEqual(
                match({ detail: { service: [{ prefix: { "equals-ignore-case": "EventB" } }] } }, ev({ service: "eventbridge" })),
                true,
            );
            assert.strictEqual(
                match({ detail: { service: [{ suffix: { "equals-ignore-case": "tBridge" } }] } }, ev({ service: "EVENTBRIDGE" })),
                true,
            );
            assert.strictEqual(match({ detail: { service: [{ prefix: "Event" }] } }, ev({ service: "eventbridge" })), false);
            assert.strictEqual(match({ detail: { n: [{ prefix: "1" }] } }, ev({ n: 12 })), false); // strings only
        });

        it("anything-but with prefix lists, suffix, equals-ignore-case lists and wildcards", () => {
            const notUs = { detail: { region: [{ "anything-but": { prefix: ["us-", "ca-"] } }] } };
            assert.strictEqual(match(notUs, ev({ region: "eu-west-1" })), true);
            assert.strictEqual(match(notUs, ev({ region: "ca-central-1" })), false);
            const notPng = { detail: { file: [{ "anything-but": { suffix: ".png" } }] } };
            assert.strictEqual(match(notPng, ev({ file: "a.jpg" })), true);
            assert.strictEqual(match(notPng, ev({ file: "a.png" })), false);
            const notState = { detail: { state: [{ "anything-but": { "equals-ignore-case": ["Stopped", "OverLoaded"] } }] } };
            assert.strictEqual(match(notState, ev({ state: "RUNNING" })), true);
            assert.strictEqual(match(notState, ev({ state: "overloaded" })), false);
            const notLib = { detail: { path: [{ "anything-but": { wildcard: ["*/lib/*", "*.tmp"] } }] } };
            assert.strictEqual(match(notLib, ev({ path: "/usr/bin/x" })), true);
            assert.strictEqual(match(notLib, ev({ path: "/usr/lib/x" })), false);
            assert.strictEqual(match(notLib, ev({ path: "x.tmp" })), false);
        });

        it("anything-but on an array matches when some element is not excluded", () => {
            const p = { detail: { price: [{ "anything-but": [100, 500] }] } };
            assert.strictEqual(match(p, ev({ price: [100, 50] })), true);
            assert.strictEqual(match(p, ev({ price: [100, 500] })), false);
            assert.strictEqual(match(p, ev({ price: 100.0 })), false);
            assert.strictEqual(match(p, ev({ price: "100" })), true); // a string is not the number 100
        });

        it("numeric ranges honour open and closed bounds and match numbers only", () => {
            const p = { detail: { c: [{ numeric: [">", 0, "<=", 5] }] } };
            assert.deepStrictEqual(
                [-1, 0, 0.000001, 5, 5.000001].map((c) => match(p, ev({ c }))),
                [false, false, true, true, false],
            );
            const eq = { detail: { x: [{ numeric: ["=", 3.018e2] }] } };
            assert.strictEqual(match(eq, ev({ x: 301.8 })), true);
            assert.strictEqual(match(eq, ev({ x: "301.8" })), false);
            const ge = { detail: { x: [{ numeric: [">=", -5e9, "<", 5e9] }] } };
            assert.strictEqual(match(ge, ev({ x: -5e9 })), true);
            assert.strictEqual(match(ge, ev({ x: 5e9 })), false);
            assert.strictEqual(match({ detail: { x: [{ numeric: ["<", 10] }] } }, ev({ x: [20, 3] })), true);
        });

        it("cidr matches IPv4 and IPv6 addresses, strings only", () => {
            const v6 = { detail: { ip: [{ cidr: "2001:db8::/32" }] } };
            assert.strictEqual(match(v6, ev({ ip: "2001:0db8:ffff::1" })), true);
            assert.strictEqual(match(v6, ev({ ip: "2001:db9::1" })), false);
            assert.strictEqual(match(v6, ev({ ip: "10.0.0.1" })), false);
            const v4 = { detail: { ip: [{ cidr: "10.0.0.0/8" }] } };
            assert.strictEqual(match(v4, ev({ ip: "10.255.255.255" })), true);
            assert.strictEqual(match(v4, ev({ ip: "11.0.0.0" })), false);
            assert.strictEqual(match(v4, ev({ ip: "10.0.0.1x" })), false);
        });

        it("exists: true needs a leaf value (null counts), false matches a missing or non-leaf field", () => {
            const has = { detail: { c: [{ exists: true }] } };
            const hasNot = { detail: { c: [{ exists: false }] } };
            assert.strictEqual(match(has, ev({ c: null })), true);
            assert.strictEqual(match(has, ev({ c: { c1: 100 } })), false);
            assert.strictEqual(match(hasNot, ev({ state: "x" })), true);
            assert.strictEqual(match(hasNot, ev({ c: { c1: 100 } })), true); // docs: c-count is not a leaf
            assert.strictEqual(match(hasNot, ev({ c: [] })), true);
            assert.strictEqual(match(hasNot, ev({ c: 0 })), false);
        });

        it("wildcard: * matches any run of characters, \\* is a literal asterisk", () => {
            const p = (w: string) => ({ detail: { f: [{ wildcard: w }] } });
            assert.strictEqual(match(p("dir/*.png"), ev({ f: "dir/.png" })), true);
            assert.strictEqual(match(p("*Title*"), ev({ f: "A Title here" })), true);
            assert.strictEqual(match(p("a\\*b"), ev({ f: "a*b" })), true);
            assert.strictEqual(match(p("a\\*b"), ev({ f: "axb" })), false);
            assert.strictEqual(match(p("a\\\\b"), ev({ f: "a\\b" })), true);
            assert.strictEqual(match(p("*a*a*a*a*b"), ev({ f: "a".repeat(100000) })), false);
            assert.strictEqual(match(p("ab*ba"), ev({ f: "aba" })), false); // pieces may not overlap
        });

        it("$or: any alternative, with AND inside and nested $or", () => {
            const p = {
                source: ["clientevents"],
                $or: [
                    { detail: { eventType: ["loyaltypurchase"] } },
                    { detail: { amount: [{ numeric: [">", 100] }] }, $or: [{ detail: { vip: [true] } }, { region: ["eu-west-1"] }] },
                ],
            };
            assert.strictEqual(match(p, ev({ eventType: "loyaltypurchase" })), true);
            assert.strictEqual(match(p, ev({ amount: 200 }, { region: "eu-west-1" })), true);
            assert.strictEqual(match(p, ev({ amount: 200 })), false);
            assert.strictEqual(match(p, ev({ amount: 50 }, { region: "eu-west-1" })), false);
            assert.strictEqual(compilePattern(p).paths.length, 3);
        });
    });

    describe("objects' own keys only", () => {
        it("ignores inherited properties such as constructor and toString", () => {
            assert.strictEqual(match({ constructor: [{ exists: true }] }, {}), false);
            assert.strictEqual(match({ toString: [{ exists: false }] }, {}), true);
            assert.strictEqual(match('{"__proto__": [{"exists": true}]}', '{"__proto__": "x"}'), true);
            assert.strictEqual(match('{"__proto__": [{"exists": true}]}', {}), false);
        });
    });

    describe("validation (InvalidEventPatternException)", () => {
        it("rejects text that is not a JSON object", () => {
            rejects("{source: [x]}", /Filter is not valid JSON/);
            rejects("[]", /Filter is not an object/);
            rejects("null", /Filter is not an object/);
        });

        it("rejects empty objects and arrays, and leaves outside arrays", () => {
            rejects({}, /Empty objects are not allowed/);
            rejects({ detail: {} }, /Empty objects are not allowed/);
            rejects({ source: [] }, /Empty arrays are not allowed/);
            rejects({ source: true }, /"source" must be an object or an array/);
            rejects({ source: [["x"]] }, /Match value must be String, number, true, false, or null/);
        });

        it("rejects malformed match expressions", () => {
            rejects({ a: [{}] }, /Match expression name not found/);
            rejects({ a: [{ prefix: "x", suffix: "y" }] }, /Only one key allowed/);
            rejects({ a: [{ Prefix: "x" }] }, /Unrecognized match type Prefix/);
            rejects({ a: [{ exists: "true" }] }, /exists match pattern must be either true or false/);
            rejects({ a: [{ "equals-ignore-case": 1 }] }, /equals-ignore-case match pattern must be a string/);
            rejects({ a: [{ prefix: { "equals-ignore-case": 1 } }] }, /equals-ignore-case match pattern must be a string/);
            rejects({ a: [{ suffix: { other: "x" } }] }, /Unsupported suffix pattern: other/);
        });

        it("rejects malformed anything-but", () => {
            rejects({ a: [{ "anything-but": null }] }, /must be an array or single string\/number value/);
            rejects({ a: [{ "anything-but": ["x", 1] }] }, /mixed type is not supported/);
            rejects({ a: [{ "anything-but": [true] }] }, /null\|boolean is not supported/);
            rejects({ a: [{ "anything-but": { exists: true } }] }, /Unsupported anything-but pattern: exists/);
            rejects({ a: [{ "anything-but": { prefix: "" } }] }, /Null prefix\/suffix not allowed/);
            rejects({ a: [{ "anything-but": { wildcard: 5 } }] }, /wildcard match pattern must be a string/);
        });

        it("rejects malformed numeric expressions", () => {
            rejects({ a: [{ numeric: 5 }] }, /Value of numeric must be an array/);
            rejects({ a: [{ numeric: [] }] }, /Invalid member in numeric match/);
            rejects({ a: [{ numeric: ["!=", 5] }] }, /Unrecognized numeric range operator: !=/);
            rejects({ a: [{ numeric: ["=", "5"] }] }, /Value of equals must be numeric/);
            rejects({ a: [{ numeric: ["<", 5, ">", 1] }] }, /Too many elements in numeric expression/);
            rejects({ a: [{ numeric: [">", 5, ">", 9] }] }, /Bad numeric range operator: >/);
            rejects({ a: [{ numeric: [">", 5, "<", 1] }] }, /Bottom must be less than top/);
            rejects({ a: [{ numeric: [">", 1, "<", 5, "<", 9] }] }, /Too many terms/);
        });

        it("rejects malformed cidr and wildcard values", () => {
            rejects({ a: [{ cidr: "10.0.0.0" }] }, /one '\/' required/);
            rejects({ a: [{ cidr: "10.0.0.0/x" }] }, /mask bits must be an integer/);
            rejects({ a: [{ cidr: "10.0.0.0/32" }] }, /IPv4 mask bits must be < 32/);
            rejects({ a: [{ cidr: "2001:db8::/128" }] }, /IPv6 mask bits must be < 128/);
            rejects({ a: [{ cidr: "10.0.0.999/8" }] }, /Nonstandard IP address/);
            rejects({ a: [{ wildcard: "a\\b" }] }, /Invalid escape character at pos 1/);
            rejects({ a: [{ wildcard: "a**" }] }, /Consecutive wildcard characters at pos 1/);
            assert.ok(isValidPattern({ a: [{ wildcard: "*a*b*c*d*e" }] }));
        });

        it("rejects malformed $or and more than 1000 combinations", () => {
            rejects({ $or: [{ a: ["x"] }] }, /at least 2 objects/);
            rejects({ $or: { a: ["x"] } }, /must be followed by an array/);
            rejects({ $or: [{ a: ["x"] }, "b"] }, /Only JSON objects are allowed/);
            rejects({ $or: [{ a: ["x"] }, { prefix: ["y"] }] }, /"prefix" is a reserved keyword/);
            const ten = (k: string) => ({ $or: Array.from({ length: 10 }, (_, i) => ({ [`${k}${i}`]: ["v"] })) });
            assert.strictEqual(compilePattern({ a: ten("a"), b: ten("b"), c: ten("c") }).paths.length, 1000);
            rejects({ a: ten("a"), b: ten("b"), c: ten("c"), d: { $or: [{ x: ["1"] }, { y: ["2"] }] } }, /more than 1000/);
        });

        it("refuses a pattern nested too deeply to compile, without crashing", () => {
            rejects('{"a":'.repeat(20000) + "[1]" + "}".repeat(20000), /nested too deeply/);
        });

        it("names where the problem is", () => {
            assert.throws(
                () => compilePattern({ detail: { state: ["ok", { prefix: 1 }] } }),
                /Reason: prefix match pattern must be a string \(at detail\.state\[1\]\)/,
            );
        });
    });

    describe("events", () => {
        it("rejects events that are not JSON objects", () => {
            assert.throws(() => matchesPattern({ a: ["x"] }, "{not json"), TypeError);
            assert.throws(() => matchesPattern({ a: ["x"] }, "[1]"), /Event must be a JSON object/);
            const deep = '{"a":' + "[".repeat(200000) + "1" + "]".repeat(200000) + "}";
            assert.throws(() => matchesPattern({ a: [1] }, deep), /nested too deeply/);
        });
    });
});
