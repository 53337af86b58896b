/** Retry timing: exponential backoff with full jitter, and `Retry-After` parsing. */

/**
 * The events client's own retry schedule (attempts and backoff of its sends), not EventBridge's target
 * RetryPolicy (pipeline/routes.ts).
 */
export interface BackoffPolicy {
    /** Attempts per entry, the first send included. Default 8. */
    maxAttempts: number;
    /** First backoff ceiling in ms; doubles every attempt. Default 200. */
    baseDelayMs: number;
    /** Largest backoff ceiling in ms. Default 20 000. */
    maxDelayMs: number;
    /** Longest `Retry-After` the client waits; a longer one ends the retries for those entries. Default 60 000. */
    maxRetryAfterMs: number;
}

export const DEFAULT_BACKOFF_POLICY: BackoffPolicy = {
    maxAttempts: 8,
    baseDelayMs: 200,
    maxDelayMs: 20_000,
    maxRetryAfterMs: 60_000,
};

/**
 * Full jitter (AWS Architecture Blog, "Exponential Backoff And Jitter"): a uniform random wait between 0 and
 * min(maxDelay, base * 2^(retry-1)). `retry` is 1 for the first retry. `random` returns [0, 1).
 */
export function fullJitterDelay(retry: number, policy: BackoffPolicy, random: () => number): number {
    const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.max(0, retry - 1));
    return Math.floor(random() * ceiling);
}

/**
 * `Retry-After` in ms: delta-seconds or an HTTP-date (RFC 9110 section 10.2.3). Undefined when absent or
 * unreadable; never negative.
 */
export function parseRetryAfter(value: string | null | undefined, now: number = Date.now()): number | undefined {
    if (value === null || value === undefined) return undefined;
    const text = value.trim();
    if (/^\d+$/.test(text)) return Number(text) * 1000;
    const date = Date.parse(text);
    if (Number.isNaN(date)) return undefined;
    return Math.max(0, date - now);
}
