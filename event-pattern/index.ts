// EventBridge event-pattern engine: compile a pattern once, match many events.
// Pure and dependency-free, so handlers, local mode, tests and the CLI can all import it.

import { compileSubRules, type SubRule } from "./compile";
import { InvalidEventPatternError } from "./errors";
import { subRuleMatches } from "./match";

export { InvalidEventPatternError } from "./errors";
export { MAX_OR_COMBINATIONS } from "./compile";

export interface CompiledPattern {
    /** Field paths the pattern reads, per `$or` alternative (e.g. `["source", "detail.eventType"]`). */
    readonly paths: readonly (readonly string[])[];
    /**
     * True when the event matches. A string is parsed as JSON (a repeated key keeps its last value, as in
     * EventBridge). Throws a TypeError when the event is not a JSON object.
     */
    matches(event: object | string): boolean;
}

class Compiled implements CompiledPattern {
    readonly paths: readonly (readonly string[])[];

    constructor(private readonly rules: SubRule[]) {
        this.paths = rules.map((r) => r.map((f) => f.path));
    }

    matches(event: object | string): boolean {
        const obj = toEventObject(event);
        const rules = this.rules;
        try {
            for (let i = 0; i < rules.length; i++) {
                if (subRuleMatches(rules[i], obj)) return true;
            }
        } catch (e) {
            // Only arrays nested thousands deep can exhaust the stack; report it instead of crashing.
            if (e instanceof RangeError) throw new TypeError("Event is nested too deeply to match", { cause: e });
            throw e;
        }
        return false;
    }
}

function toEventObject(event: object | string): Record<string, unknown> {
    let value: unknown = event;
    if (typeof event === "string") {
        try {
            value = JSON.parse(event);
        } catch (e) {
            throw new TypeError(`Event is not valid JSON: ${(e as Error).message}`, { cause: e });
        }
    }
    if (typeof value !== "object" || value === null || Array.isArray(value)) {
        throw new TypeError("Event must be a JSON object");
    }
    return value as Record<string, unknown>;
}

/**
 * Validates and compiles an event pattern (JSON text or a parsed object).
 * Throws InvalidEventPatternError, with EventBridge's reason, for a pattern EventBridge would reject.
 */
export function compilePattern(pattern: string | object): CompiledPattern {
    if (typeof pattern !== "string" && (typeof pattern !== "object" || pattern === null)) {
        throw new InvalidEventPatternError("Filter is not an object");
    }
    try {
        return new Compiled(compileSubRules(pattern));
    } catch (e) {
        if (e instanceof RangeError) throw new InvalidEventPatternError("Event pattern is nested too deeply");
        throw e;
    }
}

/** One-off match; compile once with compilePattern when matching many events. */
export function matchesPattern(pattern: string | object, event: object | string): boolean {
    return compilePattern(pattern).matches(event);
}

/** True when EventBridge would accept the pattern; see compilePattern for the reason when it would not. */
export function isValidPattern(pattern: string | object): boolean {
    try {
        compilePattern(pattern);
        return true;
    } catch (e) {
        if (e instanceof InvalidEventPatternError) return false;
        throw e;
    }
}
