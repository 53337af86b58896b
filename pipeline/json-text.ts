/**
 * JSON text rebuilt without parsing it into JavaScript values: members of an object read off the text, whitespace
 * outside strings removed, every number and string kept exactly as written. The Firehose transform builds its
 * output with these (see handlers/firehose-transform.ts for why), and local mode's bus keeps each event's detail
 * text compact the same way. No imports: the transform's packed Lambda carries this code.
 */

/** The text-rebuilding functions transformText uses; `textTools()` makes them. */
export interface TextTools {
    /** The transformed text in one pass, or undefined when a key repeats (transformWithDuplicateKeys handles it). */
    transformInOnePass(text: string, event: Record<string, unknown>, clientId: string): string | undefined;
    /** The members of a JSON object text, in order, as key -> compact value text (JSON.parse's view of repeats). */
    objectMembers(text: string): Map<string, string>;
    compactJson(text: string): string;
}

/**
 * Makes the text-rebuilding functions. They are closures made at run time, not module-level functions, because
 * Pulumi packs every module-level function the handler reaches into a wrapper that costs about 0.1 us a call (a
 * new scope object and closure each time), which per character of a record was 15 times the work itself;
 * functions made inside a packed function run as written. transformBatch makes them once per batch.
 */
export function textTools(): TextTools {
    function isSpace(c: number): boolean {
        return c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d;
    }

    function skipSpace(text: string, i: number): number {
        while (i < text.length && isSpace(text.charCodeAt(i))) i++;
        return i;
    }

    const QUOTE = 0x22;
    const BACKSLASH = 0x5c;

    /** End (exclusive) of the JSON string starting at `i` (the opening quote). */
    function stringEnd(text: string, i: number): number {
        // indexOf finds the next quote natively; a quote is escaped when an odd number of backslashes precede it.
        for (let j = text.indexOf('"', i + 1); j >= 0; j = text.indexOf('"', j + 1)) {
            let backslashes = 0;
            while (text.charCodeAt(j - 1 - backslashes) === BACKSLASH) backslashes++;
            if (backslashes % 2 === 0) return j + 1;
        }
        throw new Error("unterminated string");
    }

    /** The key of the member starting at `i` (its opening quote), decoded, and where its text ends. */
    function keyAt(text: string, i: number): { key: string; end: number } {
        const end = stringEnd(text, i);
        const raw = text.slice(i + 1, end - 1);
        return { key: raw.indexOf("\\") >= 0 ? (JSON.parse(text.slice(i, end)) as string) : raw, end };
    }

    /** A change to the record's text: text[start, end) becomes `text` (a whitespace run becomes ""). */
    interface Edit {
        start: number;
        end: number;
        text: string;
    }

    /** Skips whitespace from `i`, recording the run as an edit (when `edits` is given); returns the next index. */
    function cutSpace(text: string, i: number, edits: Edit[] | undefined): number {
        const next = skipSpace(text, i);
        if (next > i && edits) edits.push({ start: i, end: next, text: "" });
        return next;
    }

    /**
     * Where the JSON value starting at `i` of a text already known to be valid JSON ends; its whitespace runs
     * (outside strings) go to `edits` when given. Iterative, so nesting depth does not matter.
     */
    function valueEnd(text: string, i: number, edits: Edit[] | undefined): number {
        const first = text.charCodeAt(i);
        if (first === QUOTE) return stringEnd(text, i);
        if (first !== 0x7b && first !== 0x5b) {
            // a number, true, false or null
            let end = i;
            for (
                let c = text.charCodeAt(end);
                end < text.length && !isSpace(c) && c !== 0x2c && c !== 0x5d && c !== 0x7d;
                c = text.charCodeAt(++end)
            );
            return end;
        }
        let depth = 0;
        let j = i;
        do {
            const c = text.charCodeAt(j);
            if (c === QUOTE) {
                j = stringEnd(text, j);
                continue;
            }
            if (isSpace(c)) {
                j = cutSpace(text, j, edits);
                continue;
            }
            if (c === 0x7b || c === 0x5b) depth++;
            else if (c === 0x7d || c === 0x5d) depth--;
            j++;
        } while (depth > 0);
        return j;
    }

    /**
     * Walks the members of the JSON object text starting at `i` (its "{"), recording whitespace runs in `edits`.
     * `member` sees each key and where its value starts, and returns where that value ends (having recorded any
     * edit of it), or undefined to let the walk skip it. Returns the index of the closing "}" and the number of
     * members.
     */
    function walkObject(
        text: string,
        i: number,
        edits: Edit[],
        member: (key: string, valueStart: number) => number | undefined,
    ): { close: number; count: number } {
        let count = 0;
        i = cutSpace(text, i + 1, edits); // past "{"
        while (text.charCodeAt(i) !== 0x7d) {
            if (text.charCodeAt(i) === 0x2c) i = cutSpace(text, i + 1, edits);
            const { key, end: keyEnd } = keyAt(text, i);
            const valueStart = cutSpace(text, cutSpace(text, keyEnd, edits) + 1, edits); // past ":"
            i = cutSpace(text, member(key, valueStart) ?? valueEnd(text, valueStart, edits), edits);
            count++;
        }
        return { close: i, count };
    }

    /** The text with the edits (in order, not overlapping) applied: unchanged runs are copied as slices. */
    function applyEdits(text: string, edits: Edit[]): string {
        let out = "";
        let copied = 0;
        for (const edit of edits) {
            out += text.slice(copied, edit.start) + edit.text;
            copied = edit.end;
        }
        return copied === 0 ? text : out + text.slice(copied);
    }

    /**
     * The transformed text in one pass of the record (the usual case), or undefined when a key repeats in the
     * event or its detail (more members than JSON.parse kept), which transformWithDuplicateKeys handles.
     */
    function transformInOnePass(text: string, event: Record<string, unknown>, clientId: string): string | undefined {
        const edits: Edit[] = [];
        let detailMembers = -1;
        const top = walkObject(text, cutSpace(text, 0, edits), edits, (key, start) => {
            if (key === "resources") {
                const end = valueEnd(text, start, undefined);
                edits.push({ start, end, text: "[]" });
                return end;
            }
            if (key !== "detail" || text.charCodeAt(start) !== 0x7b) return undefined;
            let hasAccountNumber = false;
            const detail = walkObject(text, start, edits, (inner, at) => {
                if (inner !== "accountNumber") return undefined;
                hasAccountNumber = true;
                const end = valueEnd(text, at, undefined);
                edits.push({ start: at, end, text: JSON.stringify(clientId) });
                return end;
            });
            if (!hasAccountNumber) {
                edits.push({
                    start: detail.close,
                    end: detail.close,
                    text: `${detail.count > 0 ? "," : ""}"accountNumber":${JSON.stringify(clientId)}`,
                });
            }
            detailMembers = detail.count;
            return detail.close + 1;
        });
        const trailing = cutSpace(text, top.close + 1, edits);
        if (trailing !== text.length) return undefined;
        const repeats = top.count !== Object.keys(event).length || detailMembers !== Object.keys(event.detail as object).length;
        return repeats ? undefined : applyEdits(text, edits);
    }

    /**
     * The members of the JSON object text (valid JSON), in order, as key -> compact value text. A duplicate
     * key keeps its first position and its last value, as JSON.parse does.
     */
    function objectMembers(text: string): Map<string, string> {
        const members = new Map<string, string>();
        walkObject(text, skipSpace(text, 0), [], (key, start) => {
            const end = valueEnd(text, start, undefined);
            members.set(key, compactJson(text.slice(start, end)));
            return end;
        });
        return members;
    }

    /** A JSON text (valid JSON) with the whitespace outside strings removed; numbers and strings kept exactly. */
    function compactJson(text: string): string {
        const edits: Edit[] = [];
        cutSpace(text, valueEnd(text, cutSpace(text, 0, edits), edits), edits);
        return applyEdits(text, edits);
    }

    return { transformInOnePass, objectMembers, compactJson };
}

let shared: TextTools | undefined;

/**
 * One set of the text functions for compactJson's callers in a plain process (local mode), made on first use.
 * Nothing the handler calls may use it: Pulumi would pack its current value, and the packed Lambda re-creates
 * module-level state on every call (which is why transformBatch makes its own set).
 */
function sharedTextTools(): TextTools {
    return (shared ??= textTools());
}

/** A JSON text (valid JSON) with the whitespace outside strings removed; numbers and strings kept exactly. */
export function compactJson(text: string): string {
    // No whitespace at all: nothing to remove (most clients send compact JSON), so no walk through the text.
    if (!/[ \t\n\r]/.test(text)) return text;
    return sharedTextTools().compactJson(text);
}
