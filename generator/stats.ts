/** Run statistics: counts, error codes and request latency percentiles, and their text rendering. */
import type { RequestInfo, SendResult } from "../client";

/** The final figures of a run (also printed as JSON with --json). */
export interface RunSummary {
    runId: string;
    users: number;
    batches: number;
    /** Time between two batches of one user. */
    intervalMs: number;
    /** Events handed to the client (valid or not). */
    sent: number;
    accepted: number;
    failed: number;
    /** Final failures by error code. */
    failedByCode: Record<string, number>;
    /** Entry resends. */
    retried: number;
    /** Codes of transient failures that were retried or not (every failed entry/request seen). */
    errorsSeen: Record<string, number>;
    requests: number;
    /** Accepted events by eventType. */
    acceptedByType: Record<string, number>;
    latencyMs: { p50: number; p95: number; p99: number; max: number };
    durationMs: number;
    /** Why the run stopped early, if it did. */
    stoppedEarly?: string;
    manifest?: string;
}

/** Nearest-rank percentile (p in (0, 100]) of unsorted values; 0 for none. */
export function percentile(values: readonly number[], p: number): number {
    if (values.length === 0) return 0;
    const sorted = [...values].sort((a, b) => a - b);
    const rank = Math.ceil((p / 100) * sorted.length);
    return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1];
}

/** Accumulates what the clients report. */
export class StatsCollector {
    sent = 0;
    accepted = 0;
    retried = 0;
    requests = 0;
    batches = 0;
    failedByCode: Record<string, number> = {};
    errorsSeen: Record<string, number> = {};
    acceptedByType: Record<string, number> = {};
    latencies: number[] = [];

    onRequest = (info: RequestInfo): void => {
        this.requests++;
        this.latencies.push(info.latencyMs);
        for (const code of info.errorCodes) increment(this.errorsSeen, code);
    };

    addBatch(events: number, result: SendResult): void {
        this.batches++;
        this.sent += events;
        this.accepted += result.accepted.length;
        this.retried += result.retried;
        for (const a of result.accepted) increment(this.acceptedByType, a.eventType);
        for (const f of result.failed) increment(this.failedByCode, f.errorCode);
    }

    get failed(): number {
        return Object.values(this.failedByCode).reduce((a, b) => a + b, 0);
    }

    summary(runId: string, users: number, intervalMs: number, durationMs: number): RunSummary {
        return {
            runId,
            users,
            batches: this.batches,
            intervalMs,
            sent: this.sent,
            accepted: this.accepted,
            failed: this.failed,
            failedByCode: { ...this.failedByCode },
            retried: this.retried,
            errorsSeen: { ...this.errorsSeen },
            requests: this.requests,
            acceptedByType: { ...this.acceptedByType },
            latencyMs: {
                p50: percentile(this.latencies, 50),
                p95: percentile(this.latencies, 95),
                p99: percentile(this.latencies, 99),
                max: this.latencies.length ? Math.max(...this.latencies) : 0,
            },
            durationMs,
        };
    }

    /** One-line progress for a terminal. */
    progressLine(elapsedMs: number): string {
        const rate = elapsedMs > 0 ? (this.accepted / elapsedMs) * 1000 : 0;
        return (
            `sent ${this.sent}  accepted ${this.accepted}  failed ${this.failed}  retried ${this.retried}  ` +
            `${rate.toFixed(1)} ev/s  p95 ${percentile(this.latencies, 95)} ms  ${Math.round(elapsedMs / 1000)} s`
        );
    }
}

function increment(map: Record<string, number>, key: string): void {
    map[key] = (map[key] ?? 0) + 1;
}

function counts(map: Record<string, number>): string {
    const entries = Object.entries(map).sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
    return entries.length ? entries.map(([k, v]) => `${k} ${v}`).join(", ") : "none";
}

/**
 * The summary as the text block the CLI prints. `verifyFlags` are the flags the closing `verify` hint must keep to
 * find the same deployment (`--local`, `--stack NAME`).
 */
export function formatSummary(s: RunSummary, verifyFlags: string[] = []): string {
    const lines = [
        `Run ${s.runId}: ${s.users} user${s.users === 1 ? "" : "s"}, ${s.batches} batches in ${(s.durationMs / 1000).toFixed(1)} s`,
        `  sent       ${s.sent}`,
        `  accepted   ${s.accepted}  (${counts(s.acceptedByType)})`,
        `  failed     ${s.failed}  (${counts(s.failedByCode)})`,
        `  retried    ${s.retried}  (errors seen: ${counts(s.errorsSeen)})`,
        `  requests   ${s.requests}`,
        `  latency    p50 ${s.latencyMs.p50} ms  p95 ${s.latencyMs.p95} ms  p99 ${s.latencyMs.p99} ms  max ${s.latencyMs.max} ms`,
    ];
    if (s.stoppedEarly) lines.push(`  stopped early: ${s.stoppedEarly}`);
    if (s.manifest) {
        const verify = ["npm run generator -- verify", ...verifyFlags, "--manifest", s.manifest].join(" ");
        lines.push(`  manifest   ${s.manifest}  (check delivery with: ${verify})`);
    }
    return lines.join("\n");
}
