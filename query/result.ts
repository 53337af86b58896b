/**
 * What both engines return, and how `npm run query` prints it: an aligned table, or a JSON array of row
 * objects. Values are JSON-ready: numbers for integer and floating columns (integers beyond 2^53 stay
 * strings), strings, booleans, null, and objects for DuckDB structs (Athena returns structs as text).
 */

export interface QueryColumn {
    name: string;
    /** The engine's type name, upper case (VARCHAR, BIGINT, ...). */
    type: string;
}

export interface QueryResult {
    columns: QueryColumn[];
    rows: unknown[][];
}

/** The engine refused or failed the query (a SQL error, an Athena failure): exit code 1. */
export class QueryFailed extends Error {
    constructor(message: string) {
        super(message);
        this.name = "QueryFailed";
    }
}

/** The command cannot run (bad flags, no archive, missing settings): exit code 2. */
export class QueryUsageError extends Error {
    constructor(message: string) {
        super(message);
        this.name = "QueryUsageError";
    }
}

const INTEGER_TYPES = /^(TINYINT|SMALLINT|INTEGER|INT|BIGINT|HUGEINT|UTINYINT|USMALLINT|UINTEGER|UBIGINT|UHUGEINT)$/;
const FLOAT_TYPES = /^(FLOAT|REAL|DOUBLE|DECIMAL.*)$/;

/** Whether a column holds numbers (they are right-aligned). */
export function isNumericType(type: string): boolean {
    return INTEGER_TYPES.test(type) || FLOAT_TYPES.test(type);
}

/** A value of a column typed `type`, as text or number the way it should appear in JSON. */
export function normalizeValue(type: string, value: unknown): unknown {
    if (value === null || value === undefined) return null;
    if (typeof value === "string" && INTEGER_TYPES.test(type) && /^-?\d+$/.test(value)) {
        const n = Number(value);
        return Number.isSafeInteger(n) ? n : value;
    }
    if (typeof value === "string" && FLOAT_TYPES.test(type) && value.trim() !== "" && Number.isFinite(Number(value))) return Number(value);
    if (typeof value === "bigint") return Number.isSafeInteger(Number(value)) ? Number(value) : value.toString();
    return value;
}

/** The rows as objects keyed by column name (later columns win when two share a name). */
export function rowObjects(result: QueryResult): Array<Record<string, unknown>> {
    return result.rows.map((row) => Object.fromEntries(result.columns.map((c, i) => [c.name, row[i]])));
}

/** Longest cell printed in a table; --json prints every value whole. */
export const MAX_CELL_LENGTH = 100;

function cellText(value: unknown): string {
    if (value === null || value === undefined) return "NULL";
    const text = typeof value === "string" ? value : JSON.stringify(value);
    // One line per row: control characters shown as escapes.
    return text.replace(
        /[\u0000-\u001f\u007f\u2028\u2029]/g,
        (c) => ({ "\n": "\\n", "\r": "\\r", "\t": "\\t" })[c] ?? `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`,
    );
}

/** The result as an aligned text table with a row count (numbers right-aligned). */
export function formatTable(result: QueryResult): string {
    let cut = false;
    const cells = result.rows.map((row) =>
        result.columns.map((_, i) => {
            const text = cellText(row[i]);
            const chars = [...text];
            if (chars.length <= MAX_CELL_LENGTH) return text;
            cut = true;
            return chars.slice(0, MAX_CELL_LENGTH - 1).join("") + "…";
        }),
    );
    const widths = result.columns.map((c, i) => Math.max([...c.name].length, ...cells.map((r) => [...r[i]].length)));
    const pad = (text: string, i: number) => {
        const fill = " ".repeat(widths[i] - [...text].length);
        return isNumericType(result.columns[i].type) ? fill + text : text + fill;
    };
    const lines = [
        result.columns
            .map((c, i) => pad(c.name, i))
            .join("  ")
            .trimEnd(),
        widths.map((w) => "-".repeat(w)).join("  "),
        ...cells.map((row) =>
            row
                .map((text, i) => pad(text, i))
                .join("  ")
                .trimEnd(),
        ),
    ];
    const count = `(${result.rows.length} ${result.rows.length === 1 ? "row" : "rows"})`;
    lines.push(cut ? `${count}; values longer than ${MAX_CELL_LENGTH} characters are cut, --json prints them whole` : count);
    return lines.join("\n") + "\n";
}

/** The result as a JSON array of row objects. */
export function formatJson(result: QueryResult): string {
    return JSON.stringify(rowObjects(result), null, 2) + "\n";
}
