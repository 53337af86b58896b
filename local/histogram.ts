/**
 * A bounded histogram of durations, for local mode's CloudWatch-like figures (/_local/metrics): API Gateway's
 * Latency, the Lambdas' Duration, and the journal's fsync.
 */

/** Durations in milliseconds: 1 ms buckets to 1 s, 10 ms to 10 s, 100 ms to 60 s. Bounded memory. */
export class Histogram {
    private readonly counts = new Uint32Array(2401);
    samples = 0;
    max = 0;

    private static bucket(ms: number): number {
        if (ms < 1000) return Math.max(0, Math.floor(ms));
        if (ms < 10_000) return 1000 + Math.floor((ms - 1000) / 10);
        if (ms < 60_000) return 1900 + Math.floor((ms - 10_000) / 100);
        return 2400;
    }

    private static lowerBound(bucket: number): number {
        if (bucket < 1000) return bucket;
        if (bucket < 1900) return 1000 + (bucket - 1000) * 10;
        return 10_000 + (bucket - 1900) * 100;
    }

    add(ms: number): void {
        this.counts[Histogram.bucket(ms)]++;
        this.samples++;
        this.max = Math.max(this.max, ms);
    }

    /** The percentile's bucket (its lower bound), never above the largest sample. */
    percentile(p: number): number | null {
        if (this.samples === 0) return null;
        const rank = Math.ceil((p / 100) * this.samples);
        let seen = 0;
        for (let b = 0; b < this.counts.length; b++) {
            seen += this.counts[b];
            if (seen >= rank) return Math.min(Histogram.lowerBound(b), roundMs(this.max));
        }
        return roundMs(this.max);
    }

    summary(): { p50: number | null; p99: number | null; max: number | null; samples: number } {
        return { p50: this.percentile(50), p99: this.percentile(99), max: this.samples ? roundMs(this.max) : null, samples: this.samples };
    }
}

/** Three decimals, as the figures print. */
function roundMs(n: number): number {
    return Math.round(n * 1000) / 1000;
}
