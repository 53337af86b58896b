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
    /**
     * The floor this figure stands beside: the same work done the simplest way, measured in the same run and
     * in the same unit (absolute figures on a shared machine are noisy; the ratio holds).
     */
    floor?: { case: string; value: number };
    /** What the figure must be to meet its target: bounds on the ratio value / floor and on the value itself. */
    target?: Target;
}

export interface Bounds {
    atLeast?: number;
    atMost?: number;
}

export interface Target {
    ratio?: Bounds;
    value?: Bounds;
}

/** A bench module: `bench/<name>.ts` exporting `run`, and for `--help` what it measures. */
export interface BenchModule {
    run(): Promise<BenchRow[]>;
    /** One line: what the module measures and what it needs. */
    about?: string;
    /** The cases it reports, for `--help`. */
    cases?: string[];
}

/** value / floor, when the row has a floor. */
export function ratioOf(row: BenchRow): number | undefined {
    return row.floor && row.floor.value !== 0 ? row.value / row.floor.value : undefined;
}

export function targetText(target: Target | undefined): string {
    const parts: string[] = [];
    for (const what of ["ratio", "value"] as const) {
        const bounds = target?.[what];
        if (bounds?.atLeast !== undefined) parts.push(`${what} >= ${bounds.atLeast}`);
        if (bounds?.atMost !== undefined) parts.push(`${what} <= ${bounds.atMost}`);
    }
    return parts.join(", ");
}

function within(x: number | undefined, bounds: Bounds | undefined): boolean {
    if (!bounds) return true;
    if (x === undefined || !Number.isFinite(x)) return false;
    return (bounds.atMost === undefined || x <= bounds.atMost) && (bounds.atLeast === undefined || x >= bounds.atLeast);
}

/** Whether the row meets its target; undefined without one. */
export function targetMet(row: BenchRow): boolean | undefined {
    if (!row.target) return undefined;
    return within(ratioOf(row), row.target.ratio) && within(row.value, row.target.value);
}

function nowMicros(): number {
    return Number(process.hrtime.bigint()) / 1000;
}

/**
 * The cost of one call of each variant, in microseconds. The variants run in alternating short slices, so
 * load from other processes falls on all of them alike, and each figure is the 10th percentile over the
 * slices: on a shared machine a slice is only ever slowed down (preempted, its cache shared), never sped up,
 * so the low end of the distribution is the code's own cost. A variant that returns a promise is awaited.
 * Use it for figures compared with a floor.
 */
export async function compareCosts(variants: Record<string, () => unknown>, slices = 101, sliceMs = 2): Promise<Record<string, number>> {
    const names = Object.keys(variants);
    const calls: Record<string, number> = {};
    const samples: Record<string, number[]> = {};
    for (const name of names) {
        // Warm up (the JIT), and size a slice to about sliceMs.
        const fn = variants[name];
        const warmUntil = nowMicros() + 100_000;
        let n = 0;
        while (nowMicros() < warmUntil || n < 20) {
            const r = fn();
            if (r instanceof Promise) await r;
            n++;
        }
        calls[name] = Math.max(1, Math.round((n * sliceMs) / 100));
        samples[name] = [];
    }
    for (let s = 0; s < slices; s++) {
        for (const name of names) {
            const fn = variants[name];
            const n = calls[name];
            const start = nowMicros();
            for (let i = 0; i < n; i++) {
                const r = fn();
                if (r instanceof Promise) await r;
            }
            samples[name].push((nowMicros() - start) / n);
        }
    }
    const low = (xs: number[]) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 10)];
    return Object.fromEntries(names.map((name) => [name, low(samples[name])]));
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

function ratioText(row: BenchRow): string {
    const ratio = ratioOf(row);
    return ratio === undefined ? "" : `${ratio.toFixed(2)}x`;
}

function targetCell(row: BenchRow): string {
    const met = targetMet(row);
    return met === undefined ? "" : `${targetText(row.target)} ${met ? "(met)" : "(NOT met)"}`;
}

function noteCell(row: BenchRow): string {
    return [row.floor ? `floor: ${row.floor.case}` : "", row.note ?? ""].filter(Boolean).join("; ");
}

const HEADER = ["area", "case", "value", "unit", "floor", "ratio", "target", "note"];

function cellsOf(row: BenchRow): string[] {
    return [
        row.area,
        row.case,
        formatValue(row.value),
        row.unit,
        row.floor ? formatValue(row.floor.value) : "",
        ratioText(row),
        targetCell(row),
        noteCell(row),
    ];
}

/** Renders rows as an aligned plain-text table. */
export function formatTable(rows: BenchRow[]): string {
    const cells = rows.map(cellsOf);
    const widths = HEADER.map((h, c) => Math.max(h.length, ...cells.map((row) => row[c].length)));
    const numeric = new Set([2, 4, 5]);
    const line = (row: string[]) =>
        row
            .map((cell, c) => (numeric.has(c) ? cell.padStart(widths[c]) : cell.padEnd(widths[c])))
            .join("  ")
            .trimEnd();
    return [line(HEADER), line(widths.map((w) => "-".repeat(w))), ...cells.map(line)].join("\n");
}

/** Renders rows as a Markdown table. */
export function formatMarkdownTable(rows: BenchRow[]): string {
    const escape = (cell: string) => cell.replace(/\|/g, "\\|");
    const line = (row: string[]) => `| ${row.map(escape).join(" | ")} |`;
    return [line(HEADER), line(HEADER.map((_, c) => ([2, 4, 5].includes(c) ? "---:" : "---"))), ...rows.map((r) => line(cellsOf(r)))].join(
        "\n",
    );
}
