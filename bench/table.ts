// Shared shape and helpers for `npm run bench` modules.

/** One measured figure. */
export interface BenchRow {
    /** What part of the project (e.g. "event-pattern"). */
    area: string;
    /** What was measured. */
    case: string;
    value: number;
    /** Unit of value, e.g. "matches/s". */
    unit: string;
    note?: string;
}

/** A bench module: `bench/<name>.ts` exporting `run`. */
export interface BenchModule {
    run(): Promise<BenchRow[]>;
}

/**
 * Calls `fn(i)` in batches until at least `ms` milliseconds have passed (after a short warm-up) and returns
 * the rate in calls per second. `fn` should return something derived from its work so it cannot be skipped.
 */
export function measureRate(fn: (i: number) => unknown, ms = 1000): number {
    let sink = 0;
    const warmUntil = Date.now() + Math.min(200, ms / 4);
    let i = 0;
    while (Date.now() < warmUntil) if (fn(i++)) sink++;
    let calls = 0;
    let batch = 1000;
    const start = process.hrtime.bigint();
    const limit = BigInt(ms) * 1_000_000n;
    for (;;) {
        for (let b = 0; b < batch; b++) if (fn(calls + b)) sink++;
        calls += batch;
        const elapsed = process.hrtime.bigint() - start;
        if (elapsed >= limit) {
            if (sink < 0) console.log(sink); // keeps the work observable
            return calls / (Number(elapsed) / 1e9);
        }
        if (elapsed < limit / 10n) batch *= 2;
    }
}

function formatValue(v: number): string {
    if (!Number.isFinite(v)) return String(v);
    if (Math.abs(v) >= 100) return Math.round(v).toLocaleString("en-US");
    return v.toLocaleString("en-US", { maximumFractionDigits: 2 });
}

/** Renders rows as an aligned plain-text table. */
export function formatTable(rows: BenchRow[]): string {
    const header = ["area", "case", "value", "unit", "note"];
    const cells = rows.map((r) => [r.area, r.case, formatValue(r.value), r.unit, r.note ?? ""]);
    const widths = header.map((h, c) => Math.max(h.length, ...cells.map((row) => row[c].length)));
    const line = (row: string[]) =>
        row.map((cell, c) => (c === 2 ? cell.padStart(widths[c]) : cell.padEnd(widths[c]))).join("  ").trimEnd();
    return [line(header), line(widths.map((w) => "-".repeat(w))), ...cells.map(line)].join("\n");
}
