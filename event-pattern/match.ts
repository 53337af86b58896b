// Matches flat sub-rules against an event object.
//
// Semantics (EventBridge):
// - a path reaches leaf values only (string, number, boolean, null); objects are not leaves;
// - an array in the event contributes each element; a field matches if any of its leaf values matches;
// - dots in keys are interchangeable with nesting: `{"a.b": 1}` and `{"a": {"b": 1}}` are the same path;
// - array consistency: when two fields of one rule both sit inside objects of the same event array, they
//   must come from the same element (EventBridge will not match `firstName` of one employee with
//   `lastName` of another).

import type { FieldRule, Leaf, SubRule } from "./compile";

/** Array membership of a leaf value: which element of which event array, innermost first. */
interface Trail {
    array: unknown[];
    index: number;
    up: Trail | null;
}

const hasOwn = Object.prototype.hasOwnProperty;

/** Walks one field's path through an event and records what matched. Reused: matching is synchronous. */
class Probe {
    field!: FieldRule;
    anyLeaf = false;
    plainMatch = false;
    arrayMatches: Trail[] | null = null;

    run(field: FieldRule, event: Record<string, unknown>): void {
        this.field = field;
        this.anyLeaf = false;
        this.plainMatch = false;
        this.arrayMatches = null;
        this.walkObject(event, 0, null);
    }

    private walkObject(node: Record<string, unknown>, i: number, trail: Trail | null): void {
        const row = this.field.joined[i];
        const last = this.field.segments.length - 1;
        for (let k = 0; k < row.length; k++) {
            const key = row[k];
            const child = node[key];
            if (child === undefined || !hasOwn.call(node, key)) continue;
            if (i + k === last) this.leaf(child, trail);
            else this.descend(child, i + k + 1, trail);
            if (this.plainMatch) return;
        }
    }

    private descend(child: unknown, i: number, trail: Trail | null): void {
        if (typeof child !== "object" || child === null) return;
        if (Array.isArray(child)) {
            for (let index = 0; index < child.length; index++) {
                this.descend(child[index], i, { array: child, index, up: trail });
                if (this.plainMatch) return;
            }
        } else {
            this.walkObject(child as Record<string, unknown>, i, trail);
        }
    }

    private leaf(value: unknown, trail: Trail | null): void {
        if (Array.isArray(value)) {
            for (let index = 0; index < value.length; index++) {
                this.leaf(value[index], { array: value, index, up: trail });
                if (this.plainMatch) return;
            }
            return;
        }
        const t = typeof value;
        if (value !== null && t !== "string" && t !== "number" && t !== "boolean") return;
        this.anyLeaf = true;
        if (this.field.test(value as Leaf)) {
            if (trail === null) this.plainMatch = true;
            else (this.arrayMatches ??= []).push(trail);
        }
    }
}

const probe = new Probe();

/** Two leaf values are consistent unless they sit in different elements of the same array. */
function consistent(a: Trail, b: Trail): boolean {
    for (let x: Trail | null = a; x; x = x.up) {
        for (let y: Trail | null = b; y; y = y.up) {
            if (x.array === y.array && x.index !== y.index) return false;
        }
    }
    return true;
}

function chooseConsistent(pending: Trail[][], i: number, chosen: Trail[]): boolean {
    if (i === pending.length) return true;
    for (const candidate of pending[i]) {
        let ok = true;
        for (const c of chosen) {
            if (!consistent(candidate, c)) {
                ok = false;
                break;
            }
        }
        if (!ok) continue;
        chosen.push(candidate);
        if (chooseConsistent(pending, i + 1, chosen)) return true;
        chosen.pop();
    }
    return false;
}

export function subRuleMatches(rule: SubRule, event: Record<string, unknown>): boolean {
    let pending: Trail[][] | null = null;
    for (let f = 0; f < rule.length; f++) {
        const field = rule[f];
        probe.run(field, event);
        if (probe.plainMatch) continue;
        if (probe.arrayMatches) {
            (pending ??= []).push(probe.arrayMatches);
            continue;
        }
        if (field.existsFalse && !probe.anyLeaf) continue;
        return false;
    }
    if (pending === null || pending.length === 1) return true;
    // Fewest candidates first keeps the search small.
    pending.sort((a, b) => a.length - b.length);
    return chooseConsistent(pending, 0, []);
}
