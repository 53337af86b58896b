// `wildcard` patterns: `*` matches any run of characters (also none); `\*` is a literal asterisk and `\\` a
// literal backslash. Matching splits the pattern on `*` and places the literal pieces greedily, which is
// linear-time per piece and immune to the catastrophic backtracking a regular expression could hit.

/** EventBridge rejects wildcard patterns above a complexity limit; more than five `*` is what it refuses. */
export const MAX_WILDCARDS = 5;

export interface Wildcard {
    /** Literal pieces between the `*` characters (length = number of `*` + 1). */
    pieces: string[];
}

/** Parses a wildcard pattern; returns an error reason (string) when it is invalid. */
export function parseWildcard(pattern: string): Wildcard | string {
    const pieces: string[] = [];
    let current = "";
    for (let i = 0; i < pattern.length; i++) {
        const ch = pattern[i];
        if (ch === "*") {
            if (pattern[i + 1] === "*") return `Consecutive wildcard characters at pos ${i}`;
            pieces.push(current);
            current = "";
        } else if (ch === "\\") {
            const next = pattern[i + 1];
            if (next !== "*" && next !== "\\") return `Invalid escape character at pos ${i}`;
            current += next;
            i++;
        } else {
            current += ch;
        }
    }
    pieces.push(current);
    if (pieces.length - 1 > MAX_WILDCARDS) {
        return "Rule is too complex - try using fewer wildcard characters or fewer repeating character sequences after a wildcard character";
    }
    return { pieces };
}

export function wildcardMatches(w: Wildcard, value: string): boolean {
    const pieces = w.pieces;
    const last = pieces.length - 1;
    if (last === 0) return value === pieces[0];
    const first = pieces[0];
    const end = pieces[last];
    if (value.length < first.length + end.length) return false;
    if (!value.startsWith(first) || !value.endsWith(end)) return false;
    let pos = first.length;
    const limit = value.length - end.length;
    for (let i = 1; i < last; i++) {
        const at = value.indexOf(pieces[i], pos);
        if (at < 0 || at + pieces[i].length > limit) return false;
        pos = at + pieces[i].length;
    }
    return true;
}
