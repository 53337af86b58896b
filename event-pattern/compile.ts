// Validates an event pattern and turns it into flat sub-rules: `$or` is expanded, nested objects become
// dotted paths, and each path's match list becomes one predicate over a leaf value.
// Rules and messages follow EventBridge (InvalidEventPatternException) and its open-source matcher.

import { InvalidEventPatternError } from "./errors";
import { ipInRange, ipKey, parseCidr, parseIp } from "./ip";
import { parseWildcard, wildcardMatches, type Wildcard } from "./wildcard";

/** A JSON leaf value of an event. */
export type Leaf = string | number | boolean | null;
export type LeafTest = (value: Leaf) => boolean;

/** One field of a sub-rule: a dotted path and what its leaf values must satisfy. */
export interface FieldRule {
    /** Dotted path, as EventBridge joins nested keys (`detail.state`). */
    path: string;
    /** The path split on dots. */
    segments: string[];
    /** joined[i][k] = segments i..i+k joined with dots: event keys may themselves contain dots. */
    joined: string[][];
    /** True when some leaf value satisfies the match list. */
    test: LeafTest;
    /** The match list contains `{"exists": false}`: the field also matches when it has no leaf value. */
    existsFalse: boolean;
}

/** All fields must match (AND); the sub-rules of one pattern are alternatives (OR, from `$or`). */
export type SubRule = FieldRule[];

/** EventBridge refuses a pattern whose `$or` arrays expand to more than 1000 combinations. */
export const MAX_OR_COMBINATIONS = 1000;

const OR = "$or";
// Keywords that cannot be field names inside `$or` (they would be ambiguous with match expressions).
const RESERVED_IN_OR = new Set([
    "equals",
    "equals-ignore-case",
    "prefix",
    "suffix",
    "anything-but",
    "exists",
    "wildcard",
    "numeric",
    "cidr",
    "=",
    "<",
    "<=",
    ">",
    ">=",
]);

function fail(reason: string, location?: string): never {
    throw new InvalidEventPatternError(reason, location);
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
    return typeof v === "object" && v !== null && !Array.isArray(v);
}

function fold(s: string): string {
    return s.toLowerCase();
}

/** Parses (when given text) and compiles a pattern into its sub-rules. */
export function compileSubRules(pattern: string | object): SubRule[] {
    let parsed: unknown = pattern;
    if (typeof pattern === "string") {
        try {
            // JSON.parse keeps the last of duplicate keys, as EventBridge does.
            parsed = JSON.parse(pattern);
        } catch (e) {
            fail(`Filter is not valid JSON: ${(e as Error).message}`);
        }
    }
    if (!isPlainObject(parsed)) fail("Filter is not an object");
    const maps = compileObject(parsed, "", [new Map()], false);
    return maps.map((m) => [...m.values()]);
}

function compileObject(
    obj: Record<string, unknown>,
    prefix: string,
    rules: Map<string, FieldRule>[],
    inOr: boolean,
): Map<string, FieldRule>[] {
    const keys = Object.keys(obj);
    if (keys.length === 0) fail("Empty objects are not allowed", prefix || undefined);
    for (const key of keys) {
        const value = obj[key];
        const path = prefix ? `${prefix}.${key}` : key;
        if (key === OR) {
            rules = compileOr(value, prefix, rules, path);
            continue;
        }
        if (inOr && RESERVED_IN_OR.has(key)) {
            fail(`"${key}" is a reserved keyword and cannot be used as a field name inside $or`, path);
        }
        if (isPlainObject(value)) {
            rules = compileObject(value, path, rules, inOr);
        } else if (Array.isArray(value)) {
            const field = compileField(path, value);
            // A path given twice (e.g. nested and dotted): the later one wins, as with duplicate keys.
            for (const rule of rules) rule.set(path, field);
        } else {
            fail(`"${key}" must be an object or an array`, path);
        }
    }
    return rules;
}

function compileOr(value: unknown, prefix: string, rules: Map<string, FieldRule>[], where: string) {
    if (!Array.isArray(value)) fail("$or must be followed by an array of objects", where);
    if (value.length < 2) fail("There must be at least 2 objects in a $or array", where);
    const expanded: Map<string, FieldRule>[] = [];
    value.forEach((branch, i) => {
        if (!isPlainObject(branch)) fail("Only JSON objects are allowed in a $or array", `${where}[${i}]`);
        const copies = rules.map((r) => new Map(r));
        expanded.push(...compileObject(branch, prefix, copies, true));
        if (expanded.length > MAX_OR_COMBINATIONS) {
            fail(`The $or arrays expand to more than ${MAX_OR_COMBINATIONS} rule combinations`, where);
        }
    });
    return expanded;
}

function compileField(path: string, list: unknown[]): FieldRule {
    if (list.length === 0) fail("Empty arrays are not allowed", path);
    const strings = new Set<string>();
    const ipStrings = new Set<string>();
    const numbers = new Set<number>();
    let matchTrue = false;
    let matchFalse = false;
    let matchNull = false;
    let existsFalse = false;
    const tests: LeafTest[] = [];
    list.forEach((item, i) => {
        const where = `${path}[${i}]`;
        if (typeof item === "string") {
            strings.add(item);
            // An IP literal also matches other spellings of the same address, as in EventBridge.
            const ip = parseIp(item);
            if (ip) ipStrings.add(ipKey(ip));
        } else if (typeof item === "number") {
            numbers.add(item);
        } else if (item === true) {
            matchTrue = true;
        } else if (item === false) {
            matchFalse = true;
        } else if (item === null) {
            matchNull = true;
        } else if (isPlainObject(item)) {
            const expr = compileExpression(item, where);
            if (expr === "exists:false") existsFalse = true;
            else tests.push(expr);
        } else {
            fail("Match value must be String, number, true, false, or null", where);
        }
    });
    if (strings.size === 1 && ipStrings.size === 0 && numbers.size === 0 && tests.length === 0 && !matchTrue && !matchFalse && !matchNull) {
        const only = strings.values().next().value as string;
        return field(path, (v) => v === only, existsFalse);
    }
    if (strings.size > 0) {
        if (ipStrings.size > 0) {
            tests.push((v) => {
                if (typeof v !== "string") return false;
                if (strings.has(v)) return true;
                const ip = parseIp(v);
                return ip !== undefined && ipStrings.has(ipKey(ip));
            });
        } else {
            tests.push((v) => typeof v === "string" && strings.has(v));
        }
    }
    // Numbers compare as numbers: 300, 300.0 and 3.0e2 are the same value.
    if (numbers.size > 0) tests.push((v) => typeof v === "number" && numbers.has(v));
    if (matchTrue) tests.push((v) => v === true);
    if (matchFalse) tests.push((v) => v === false);
    if (matchNull) tests.push((v) => v === null);
    return field(path, anyOf(tests), existsFalse);
}

function anyOf(tests: LeafTest[]): LeafTest {
    switch (tests.length) {
        case 0:
            return () => false;
        case 1:
            return tests[0];
        case 2: {
            const [a, b] = tests;
            return (v) => a(v) || b(v);
        }
        default:
            return (v) => {
                for (const t of tests) if (t(v)) return true;
                return false;
            };
    }
}

function field(path: string, test: LeafTest, existsFalse: boolean): FieldRule {
    const segments = path.split(".");
    const joined = segments.map((_, i) => segments.slice(i).map((__, k) => segments.slice(i, i + k + 1).join(".")));
    return { path, segments, joined, test, existsFalse };
}

const ANY_LEAF: LeafTest = () => true;

function singleKey(expr: Record<string, unknown>, where: string, missing: string): [string, unknown] {
    const keys = Object.keys(expr);
    if (keys.length === 0) fail(missing, where);
    if (keys.length > 1) fail("Only one key allowed in match expression", where);
    return [keys[0], expr[keys[0]]];
}

function compileExpression(expr: Record<string, unknown>, where: string): LeafTest | "exists:false" {
    const [op, arg] = singleKey(expr, where, "Match expression name not found");
    switch (op) {
        case "prefix":
        case "suffix": {
            const starts = op === "prefix";
            if (isPlainObject(arg)) {
                const [inner, text] = singleKey(arg, where, `${starts ? "Prefix" : "Suffix"} expression name not found`);
                if (inner !== "equals-ignore-case") fail(`Unsupported ${op} pattern: ${inner}`, where);
                if (typeof text !== "string") fail("equals-ignore-case match pattern must be a string", where);
                const f = fold(text);
                return starts ? (v) => typeof v === "string" && fold(v).startsWith(f) : (v) => typeof v === "string" && fold(v).endsWith(f);
            }
            if (typeof arg !== "string") fail(`${op} match pattern must be a string`, where);
            return starts ? (v) => typeof v === "string" && v.startsWith(arg) : (v) => typeof v === "string" && v.endsWith(arg);
        }
        case "equals-ignore-case": {
            if (typeof arg !== "string") fail("equals-ignore-case match pattern must be a string", where);
            const f = fold(arg);
            return (v) => typeof v === "string" && fold(v) === f;
        }
        case "wildcard": {
            if (typeof arg !== "string") fail("wildcard match pattern must be a string", where);
            const w = wildcard(arg, where);
            return (v) => typeof v === "string" && wildcardMatches(w, v);
        }
        case "exists":
            if (typeof arg !== "boolean") fail("exists match pattern must be either true or false.", where);
            return arg ? ANY_LEAF : "exists:false";
        case "cidr": {
            if (typeof arg !== "string") fail("cidr match pattern must be a string", where);
            const range = parseCidr(arg);
            if (typeof range === "string") fail(range, where);
            return (v) => {
                if (typeof v !== "string") return false;
                const ip = parseIp(v);
                return ip !== undefined && ipInRange(ip, range);
            };
        }
        case "numeric":
            return compileNumeric(arg, where);
        case "anything-but":
            return compileAnythingBut(arg, where);
        default:
            return fail(`Unrecognized match type ${op}`, where);
    }
}

function wildcard(text: string, where: string): Wildcard {
    const w = parseWildcard(text);
    if (typeof w === "string") fail(w, where);
    return w;
}

function compileNumeric(arg: unknown, where: string): LeafTest {
    if (!Array.isArray(arg)) fail("Value of numeric must be an array.", where);
    if (arg.length === 0) fail("Invalid member in numeric match: ]", where);
    const op = arg[0];
    if (typeof op !== "string") fail(`Invalid member in numeric match: ${JSON.stringify(op)}`, where);
    const operand = (i: number, name: string): number => {
        const n = arg[i];
        if (typeof n !== "number" || !Number.isFinite(n)) fail(`Value of ${name} must be numeric`, where);
        return n;
    };
    let low = -Infinity;
    let lowOpen = true;
    let high = Infinity;
    let highOpen = true;
    let used = 2;
    switch (op) {
        case "=":
            low = high = operand(1, "equals");
            lowOpen = highOpen = false;
            break;
        case "<":
        case "<=":
            high = operand(1, op);
            highOpen = op === "<";
            break;
        case ">":
        case ">=": {
            low = operand(1, op);
            lowOpen = op === ">";
            if (arg.length > 2) {
                const topOp = arg[2];
                if (typeof topOp !== "string") fail(`Bad value in numeric range: ${JSON.stringify(topOp)}`, where);
                if (topOp !== "<" && topOp !== "<=") fail(`Bad numeric range operator: ${topOp}`, where);
                high = operand(3, topOp);
                highOpen = topOp === "<";
                if (high <= low) fail("Bottom must be less than top", where);
                used = 4;
                if (arg.length > used) fail("Too many terms in numeric range expression", where);
            }
            break;
        }
        default:
            fail(`Unrecognized numeric range operator: ${op}`, where);
    }
    if (arg.length > used) fail("Too many elements in numeric expression", where);
    return (v) => typeof v === "number" && (lowOpen ? v > low : v >= low) && (highOpen ? v < high : v <= high);
}

function compileAnythingBut(arg: unknown, where: string): LeafTest {
    if (isPlainObject(arg)) {
        const [op, inner] = singleKey(arg, where, "Anything-But expression name not found");
        if (op !== "equals-ignore-case" && op !== "prefix" && op !== "suffix" && op !== "wildcard") {
            fail(`Unsupported anything-but pattern: ${op}`, where);
        }
        if (!(typeof inner === "string" || Array.isArray(inner))) {
            if (isPlainObject(inner) || inner === null || typeof inner === "boolean") {
                fail("Value of anything-but must be an array or single string/number value.", where);
            }
        }
        const values = Array.isArray(inner) ? inner : [inner];
        if (values.length === 0) fail("Empty arrays are not allowed", where);
        for (const v of values) {
            if (typeof v === "string") {
                if ((op === "prefix" || op === "suffix") && v === "") fail("Null prefix/suffix not allowed", where);
                continue;
            }
            if (op === "equals-ignore-case") {
                fail("Inside anything-but/equals-ignore-case list, number|start|null|boolean is not supported.", where);
            }
            if (op === "wildcard") fail("wildcard match pattern must be a string", where);
            fail("prefix/suffix match pattern must be a string", where);
        }
        const texts = values as string[];
        // Non-string values are never excluded by a string-only exclusion: they match.
        switch (op) {
            case "equals-ignore-case": {
                const set = new Set(texts.map(fold));
                return (v) => typeof v !== "string" || !set.has(fold(v));
            }
            case "prefix":
                return (v) => typeof v !== "string" || !texts.some((p) => v.startsWith(p));
            case "suffix":
                return (v) => typeof v !== "string" || !texts.some((s) => v.endsWith(s));
            default: {
                const ws = texts.map((t) => wildcard(t, where));
                return (v) => typeof v !== "string" || !ws.some((w) => wildcardMatches(w, v));
            }
        }
    }
    if (typeof arg === "string") return (v) => v !== arg;
    if (typeof arg === "number") return (v) => v !== arg;
    if (Array.isArray(arg)) {
        let hasString = false;
        let hasNumber = false;
        for (const v of arg) {
            if (typeof v === "string") hasString = true;
            else if (typeof v === "number") hasNumber = true;
            else fail("Inside anything but list, start|null|boolean is not supported.", where);
        }
        if (hasString === hasNumber) {
            fail("Inside anything but list, either all values are number or string, mixed type is not supported", where);
        }
        const set = new Set<Leaf>(arg as Leaf[]);
        return (v) => !set.has(v);
    }
    return fail("Value of anything-but must be an array or single string/number value.", where);
}
