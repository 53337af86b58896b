/**
 * How long the thread that answers requests was kept from running (perf_hooks' event-loop delay), per
 * second for the last minute: a request arriving in a second whose delay is 300 ms waited up to 300 ms before
 * local mode even read it. /_local/metrics shows it; the bench reads the seconds of its load.
 */
import { monitorEventLoopDelay, type IntervalHistogram } from "node:perf_hooks";

/** Seconds kept. */
const WINDOW_SECONDS = 60;

export interface EventLoopSecond {
    /** The second's start, epoch seconds. */
    at: number;
    maxMs: number;
    p99Ms: number;
}

/** Sampling interval: the histogram measures the time between samples, so a loop never kept waiting reads this. */
const RESOLUTION_MS = 10;

/** A sample's delay beyond the resolution, in milliseconds. */
const ms = (ns: number) => Math.max(0, Math.round(ns / 1e4 - RESOLUTION_MS * 100) / 100);

export class EventLoopMonitor {
    private readonly histogram: IntervalHistogram = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
    private readonly seconds: EventLoopSecond[] = [];
    private readonly timer: NodeJS.Timeout;
    private overallMaxNs = 0;

    constructor() {
        this.histogram.enable();
        this.timer = setInterval(() => this.roll(), 1000);
        this.timer.unref();
    }

    private roll(): void {
        const h = this.histogram;
        if (h.count > 0) {
            this.overallMaxNs = Math.max(this.overallMaxNs, h.max);
            this.seconds.push({ at: Math.floor(Date.now() / 1000) - 1, maxMs: ms(h.max), p99Ms: ms(h.percentile(99)) });
            if (this.seconds.length > WINDOW_SECONDS) this.seconds.shift();
        }
        h.reset();
    }

    /** The delays per second (last minute) and the largest since start. */
    snapshot(): { local: true; unit: "Milliseconds"; maxSinceStart: number; perSecond: EventLoopSecond[] } {
        return {
            local: true,
            unit: "Milliseconds",
            maxSinceStart: ms(Math.max(this.overallMaxNs, this.histogram.count > 0 ? this.histogram.max : 0)),
            perSecond: [...this.seconds],
        };
    }

    close(): void {
        clearInterval(this.timer);
        this.histogram.disable();
    }
}
