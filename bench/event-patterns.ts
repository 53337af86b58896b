// Pattern-engine throughput: the program's own two rules and a set of 100 varied rules over realistic
// client events, beside naive baselines measured in the same run.
import { BlockList, isIP } from "net";
import { compilePattern, matchesPattern, type CompiledPattern } from "../event-pattern";
import { ALL_CLIENT_EVENTS_PATTERN, LOYALTY_PURCHASE_PATTERN } from "../pipeline/event-patterns";
import { measureRate, type BenchRow } from "./table";

const AREA = "event-pattern";

export const about = "the EventBridge pattern engine on realistic client events, beside naive baselines";
export const cases = ["own 2 rules and 100 varied rules: compiled, naive interpreter, compile per match"];
const EVENT_TYPES = ["pageview", "shopping", "search", "addtocart", "checkout", "loyaltypurchase", "login", "logout"];
const REGIONS = ["us-east-1", "us-west-2", "eu-west-1", "eu-central-1", "ap-southeast-2"];
const PLATFORMS = ["ios", "android", "web", "Web", "IOS"];

/** A small deterministic generator, so every run measures the same events. */
function rng(seed: number): () => number {
    let s = seed >>> 0;
    return () => {
        s = (s * 1664525 + 1013904223) >>> 0;
        return s / 2 ** 32;
    };
}

/** Events as the ingest API publishes them: one PutEvents entry per client event, as delivered to rules. */
export function clientEvents(count: number, seed = 42): Record<string, unknown>[] {
    const r = rng(seed);
    const pick = <T>(xs: T[]) => xs[Math.floor(r() * xs.length)];
    const hex = (n: number) => Array.from({ length: n }, () => Math.floor(r() * 16).toString(16)).join("");
    return Array.from({ length: count }, (_, i) => {
        const eventType = pick(EVENT_TYPES);
        const data: Record<string, unknown> = { itemSku: Math.floor(r() * 100000), quantity: 1 + Math.floor(r() * 5) };
        if (eventType === "loyaltypurchase" || eventType === "checkout") data.amount = Math.round(r() * 50000) / 100;
        if (r() < 0.5) data.tags = [pick(["sale", "new", "gift", "clearance"]), pick(["blue", "red", "green"])];
        if (r() < 0.3) data.coupon = `SAVE${Math.floor(r() * 50)}`;
        return {
            version: "0",
            id: `${hex(8)}-${hex(4)}-${hex(4)}-${hex(4)}-${hex(12)}`,
            "detail-type": pick(["production", "staging"]),
            source: r() < 0.95 ? "clientevents" : "other.app",
            account: "123456789012",
            time: `2026-11-${String(1 + (i % 28)).padStart(2, "0")}T${String(i % 24).padStart(2, "0")}:15:00Z`,
            region: pick(REGIONS),
            resources: [`${hex(8)}-${hex(4)}-4${hex(3)}-a${hex(3)}-${hex(12)}`],
            detail: {
                eventType,
                schemaVersion: r() < 0.8 ? 1 : 2,
                platform: pick(PLATFORMS),
                page: `/shop/${pick(["shoes", "shirts", "toys", "books"])}/${Math.floor(r() * 900)}.html`,
                sourceIp: `10.${Math.floor(r() * 4)}.${Math.floor(r() * 256)}.${Math.floor(r() * 256)}`,
                ...(r() < 0.2 ? { experiment: null } : {}),
                data,
            },
        };
    });
}

/** 100 rules mixing every operator, in the shapes a team writes for client events. */
export function variedRules(): object[] {
    const rules: object[] = [];
    for (let i = 0; i < 100; i++) {
        const t = EVENT_TYPES[i % EVENT_TYPES.length];
        switch (i % 10) {
            case 0:
                rules.push({ source: ["clientevents"], detail: { eventType: [t] } });
                break;
            case 1:
                rules.push({ source: ["clientevents"], detail: { eventType: [t], schemaVersion: [1 + (i % 2)] } });
                break;
            case 2:
                rules.push({
                    detail: {
                        page: [{ prefix: `/shop/${["shoes", "toys"][i % 2]}/` }],
                        data: { quantity: [{ numeric: [">=", 1 + (i % 4)] }] },
                    },
                });
                break;
            case 3:
                rules.push({
                    detail: { eventType: [{ "anything-but": [t, "login", "logout"] }], platform: [{ "equals-ignore-case": "ios" }] },
                });
                break;
            case 4:
                rules.push({ detail: { data: { amount: [{ numeric: [">", i, "<=", 100 + i * 4] }] } } });
                break;
            case 5:
                rules.push({ region: [{ prefix: "eu-" }], detail: { data: { tags: ["sale", "gift"] } } });
                break;
            case 6:
                rules.push({ detail: { sourceIp: [{ cidr: `10.${i % 4}.0.0/16` }], experiment: [{ exists: false }] } });
                break;
            case 7:
                rules.push({ detail: { page: [{ wildcard: `/shop/*/${i}*.html` }] } });
                break;
            case 8:
                rules.push({
                    "detail-type": ["production"],
                    $or: [{ detail: { eventType: [t] } }, { detail: { data: { coupon: [{ exists: true }] } } }],
                });
                break;
            default:
                rules.push({
                    source: ["clientevents"],
                    detail: {
                        page: [{ suffix: `${i % 10}.html` }],
                        data: { itemSku: [{ "anything-but": { prefix: "x" } }, { numeric: ["<", i * 1000] }] },
                    },
                });
                break;
        }
    }
    return rules;
}

// ---- naive baseline: interprets the raw pattern object on every match (no compilation) ----

function naiveLeafMatches(expr: unknown, v: unknown): boolean {
    if (typeof expr !== "object" || expr === null) return expr === v;
    const [op, arg] = Object.entries(expr as Record<string, unknown>)[0];
    switch (op) {
        case "prefix":
            return typeof v === "string" && v.startsWith(arg as string);
        case "suffix":
            return typeof v === "string" && v.endsWith(arg as string);
        case "equals-ignore-case":
            return typeof v === "string" && v.toLowerCase() === (arg as string).toLowerCase();
        case "exists":
            return arg === true; // only reached with a value present
        case "numeric": {
            if (typeof v !== "number") return false;
            const a = arg as (string | number)[];
            for (let i = 0; i < a.length; i += 2) {
                const n = a[i + 1] as number;
                const ok = a[i] === "=" ? v === n : a[i] === "<" ? v < n : a[i] === "<=" ? v <= n : a[i] === ">" ? v > n : v >= n;
                if (!ok) return false;
            }
            return true;
        }
        case "cidr": {
            if (typeof v !== "string" || !isIP(v)) return false;
            const [net, bits] = (arg as string).split("/");
            const list = new BlockList();
            list.addSubnet(net, Number(bits), isIP(net) === 6 ? "ipv6" : "ipv4");
            return list.check(v, isIP(v) === 6 ? "ipv6" : "ipv4");
        }
        case "wildcard": {
            const re = new RegExp(
                `^${(arg as string)
                    .split("*")
                    .map((s) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"))
                    .join(".*")}$`,
                "s",
            );
            return typeof v === "string" && re.test(v);
        }
        case "anything-but": {
            if (Array.isArray(arg)) return !arg.includes(v);
            if (typeof arg === "object" && arg !== null) {
                const p = (arg as { prefix: string }).prefix;
                return typeof v !== "string" || !v.startsWith(p);
            }
            return v !== arg;
        }
        default:
            return false;
    }
}

function naiveValues(v: unknown): unknown[] {
    return Array.isArray(v) ? v.flatMap(naiveValues) : typeof v === "object" && v !== null ? [] : [v];
}

export function naiveMatches(pattern: Record<string, unknown>, event: unknown): boolean {
    const obj = (typeof event === "object" && event !== null ? event : {}) as Record<string, unknown>;
    for (const [key, p] of Object.entries(pattern)) {
        if (key === "$or") {
            if (!(p as Record<string, unknown>[]).some((branch) => naiveMatches(branch, obj))) return false;
            continue;
        }
        const value = Object.prototype.hasOwnProperty.call(obj, key) ? obj[key] : undefined;
        if (Array.isArray(p)) {
            const values = value === undefined ? [] : naiveValues(value);
            const ok = p.some((expr) =>
                typeof expr === "object" && expr !== null && (expr as { exists?: boolean }).exists === false
                    ? values.length === 0
                    : values.some((v) => naiveLeafMatches(expr, v)),
            );
            if (!ok) return false;
        } else {
            const children = Array.isArray(value) ? value : [value];
            if (!children.some((c) => naiveMatches(p as Record<string, unknown>, c))) return false;
        }
    }
    return true;
}

export async function run(): Promise<BenchRow[]> {
    const events = clientEvents(1000);
    const texts = events.map((e) => JSON.stringify(e));
    const own = [ALL_CLIENT_EVENTS_PATTERN, LOYALTY_PURCHASE_PATTERN];
    const ownCompiled = own.map((p) => compilePattern(p));
    const varied = variedRules() as Record<string, unknown>[];
    const variedCompiled: CompiledPattern[] = varied.map((p) => compilePattern(p));

    // The baseline must agree with the engine on this data, or the comparison means nothing.
    let engineHits = 0;
    let naiveHits = 0;
    for (const e of events) {
        for (let r = 0; r < varied.length; r++) {
            if (variedCompiled[r].matches(e)) engineHits++;
            if (naiveMatches(varied[r], e)) naiveHits++;
        }
        for (let r = 0; r < own.length; r++) {
            if (ownCompiled[r].matches(e)) engineHits++;
            if (naiveMatches(own[r] as Record<string, unknown>, e)) naiveHits++;
        }
    }
    if (engineHits !== naiveHits) throw new Error(`baseline disagrees with the engine: ${naiveHits} vs ${engineHits} matches`);

    const n = events.length;
    const ownRate = measureRate((i) => ownCompiled[i & 1].matches(events[(i >> 1) % n]));
    const ownTextRate = measureRate((i) => ownCompiled[i & 1].matches(texts[(i >> 1) % n]));
    const ownNaive = measureRate((i) => naiveMatches(own[i & 1] as Record<string, unknown>, events[(i >> 1) % n]));
    const ownRecompile = measureRate((i) => matchesPattern(own[i & 1], events[(i >> 1) % n]));
    const variedRate = measureRate((i) => variedCompiled[i % 100].matches(events[Math.floor(i / 100) % n]));
    const variedNaive = measureRate((i) => naiveMatches(varied[i % 100], events[Math.floor(i / 100) % n]));
    const variedRecompile = measureRate((i) => matchesPattern(varied[i % 100], events[Math.floor(i / 100) % n]), 500);

    const share = ((engineHits / (n * (varied.length + own.length))) * 100).toFixed(0);
    return [
        { area: AREA, case: "own 2 rules, compiled", value: ownRate, unit: "matches/s", note: "target >= 1,000,000; events as objects" },
        {
            area: AREA,
            case: "own 2 rules, compiled, event JSON text",
            value: ownTextRate,
            unit: "matches/s",
            note: "includes JSON.parse of each event",
        },
        {
            area: AREA,
            case: "own 2 rules, naive interpreter",
            value: ownNaive,
            unit: "matches/s",
            note: "baseline: walks the raw pattern each time",
        },
        {
            area: AREA,
            case: "own 2 rules, compile per match",
            value: ownRecompile,
            unit: "matches/s",
            note: "baseline: matchesPattern() each time",
        },
        {
            area: AREA,
            case: "100 varied rules, compiled",
            value: variedRate,
            unit: "matches/s",
            note: `${(variedRate / 100).toFixed(0)} events/s through all 100; ${share}% of pairs match`,
        },
        { area: AREA, case: "100 varied rules, naive interpreter", value: variedNaive, unit: "matches/s", note: "baseline" },
        { area: AREA, case: "100 varied rules, compile per match", value: variedRecompile, unit: "matches/s", note: "baseline" },
    ];
}
