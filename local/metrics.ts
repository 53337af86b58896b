/**
 * `GET /_local/metrics`: counts and rates per stage since local mode started, computed from the activity
 * feed, named as CloudWatch names them (METRIC_NAMES) so that a figure here can be compared with the
 * deployed dashboard's. Figures CloudWatch has no metric for are marked `local` in the table.
 */
import { Histogram } from "./histogram";
import type { Activity, ActivityFeed } from "./activity";

/**
 * The CloudWatch metrics local mode counts, with their namespaces. One table, to keep in step with the
 * deployed alarms and dashboard (pipeline/metrics.ts); `local: true` marks figures only local mode has.
 */
export const METRIC_NAMES = {
    api: {
        namespace: "AWS/ApiGateway",
        requests: "Count",
        clientErrors: "4XXError",
        serverErrors: "5XXError",
        latency: "Latency",
    },
    bus: {
        namespace: "AWS/Events",
        entries: "PutEventsEntriesCount",
        failedEntries: "PutEventsFailedEntriesCount",
        matched: "MatchedEvents",
        invocations: "Invocations",
        attempts: "InvocationAttempts",
        successfulAttempts: "SuccessfulInvocationAttempts",
        retries: "RetryInvocationAttempts",
        failedInvocations: "FailedInvocations",
        sentToDlq: "InvocationsSentToDlq",
    },
    firehose: {
        namespace: "AWS/Firehose",
        incomingRecords: "IncomingRecords",
        incomingBytes: "IncomingBytes",
        deliveredRecords: "DeliveryToS3.Records",
        deliveredBytes: "DeliveryToS3.Bytes",
        objects: "DeliveryToS3.ObjectCount",
        deliverySuccess: "DeliveryToS3.Success",
        processedRecords: "SucceedProcessing.Records",
    },
    lambda: { namespace: "AWS/Lambda", invocations: "Invocations", errors: "Errors", duration: "Duration" },
    deadLetters: { namespace: "AWS/SQS", sent: "NumberOfMessagesSent" },
    /** Emitted by the transform in Embedded Metric Format in the deployment; the name is the dashboard's to decide. */
    transform: { namespace: "ClientEvents", rejected: "TransformRejectedRecords" },
    /** No CloudWatch metric: what the Zendesk recorder received. */
    zendesk: { local: true, tickets: "TicketsRecorded", refused: "TicketsRefused" },
} as const;

/** The bus-wide MatchedEvents counter, counted once per event. */
const BUS_MATCHED = `bus.${METRIC_NAMES.bus.matched}`;

/** Window of the `ratePerSecond` figures. */
export const RATE_WINDOW_SECONDS = 60;
/** The timeline the console charts: buckets of this many seconds... */
export const TIMELINE_BUCKET_SECONDS = 5;
/** ...over this many minutes. */
export const TIMELINE_MINUTES = 10;

/** A sum since start, and its rate over the last RATE_WINDOW_SECONDS. */
class Counter {
    sum = 0;
    private readonly bins = new Float64Array(RATE_WINDOW_SECONDS);
    private readonly binSecond = new Float64Array(RATE_WINDOW_SECONDS).fill(-1);

    add(n: number, atMs: number): void {
        this.sum += n;
        const second = Math.floor(atMs / 1000);
        const i = second % RATE_WINDOW_SECONDS;
        if (this.binSecond[i] !== second) {
            this.binSecond[i] = second;
            this.bins[i] = 0;
        }
        this.bins[i] += n;
    }

    /** Per second over the window (or since start, when that is shorter). */
    rate(nowMs: number, startedMs: number): number {
        const second = Math.floor(nowMs / 1000);
        let total = 0;
        for (let i = 0; i < RATE_WINDOW_SECONDS; i++) if (this.binSecond[i] > second - RATE_WINDOW_SECONDS) total += this.bins[i];
        const span = Math.min(RATE_WINDOW_SECONDS, Math.max(1, (nowMs - startedMs) / 1000));
        return round(total / span);
    }
}

interface TimelineBucket {
    start: number;
    requests: number;
    entries: number;
    failedEntries: number;
    errors: number;
    latencies: number[];
}

function round(n: number): number {
    return Math.round(n * 1000) / 1000;
}

function percentileOf(sorted: number[], p: number): number | null {
    if (sorted.length === 0) return null;
    return round(sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]);
}

/** Names of the resources, for the dimensions the JSON shows. */
export interface MetricsContext {
    stage: string;
    eventBusName: string;
    deliveryStreamName: string;
    /** Gauges read at each request (records waiting in the Firehose buffer, deliveries in progress). */
    gauges?: () => Record<string, number>;
    /** Figures of the local process itself (event-loop delay), shown under `process`. */
    process?: () => Record<string, unknown>;
}

export class LocalMetrics {
    private readonly counters = new Map<string, Counter>();
    private readonly histograms = new Map<string, Histogram>();
    private readonly byStatus = new Map<number, number>();
    private readonly failedByCode = new Map<string, number>();
    private readonly errorRecordsByType = new Map<string, number>();
    private readonly partitions = new Map<string, { objects: number; records: number }>();
    /** Each rule seen (the metrics' rule list) and its counters by metric name. */
    private readonly ruleCounters = new Map<string, Map<string, Counter>>();
    private readonly functions = new Set<string>();
    private readonly timeline: TimelineBucket[] = [];
    private lastMatchedEvent = "";

    constructor(
        private readonly feed: ActivityFeed,
        private readonly context: MetricsContext,
        private readonly now: () => number = Date.now,
    ) {
        feed.subscribe((record) => this.count(record));
    }

    private counter(name: string): Counter {
        let c = this.counters.get(name);
        if (!c) this.counters.set(name, (c = new Counter()));
        return c;
    }

    private histogram(name: string): Histogram {
        let h = this.histograms.get(name);
        if (!h) this.histograms.set(name, (h = new Histogram()));
        return h;
    }

    private add(name: string, n: number, at: number): void {
        this.counter(name).add(n, at);
    }

    private bucket(at: number): TimelineBucket {
        const start = Math.floor(at / 1000 / TIMELINE_BUCKET_SECONDS) * TIMELINE_BUCKET_SECONDS;
        let last = this.timeline[this.timeline.length - 1];
        if (!last || last.start !== start) {
            last = { start, requests: 0, entries: 0, failedEntries: 0, errors: 0, latencies: [] };
            this.timeline.push(last);
            const keep = (TIMELINE_MINUTES * 60) / TIMELINE_BUCKET_SECONDS;
            if (this.timeline.length > keep) this.timeline.splice(0, this.timeline.length - keep);
        }
        return last;
    }

    private count(r: Activity): void {
        switch (r.type) {
            case "request":
                return this.countRequest(r);
            case "match":
            case "delivery":
            case "retry":
            case "dead-letter":
                return this.countRouting(r);
            case "firehose-put":
            case "object":
            case "firehose-failed":
                return this.countFirehose(r);
            case "lambda": {
                const { lambda } = METRIC_NAMES;
                this.functions.add(r.name);
                this.add(`lambda.${r.name}.${lambda.invocations}`, 1, r.at);
                if (r.error) this.add(`lambda.${r.name}.${lambda.errors}`, 1, r.at);
                this.histogram(`lambda.${r.name}.${lambda.duration}`).add(r.durationMs);
                return;
            }
            case "ticket":
                return this.add(`zendesk.${METRIC_NAMES.zendesk.tickets}`, 1, r.at);
            case "ticket-refused":
                return this.add(`zendesk.${METRIC_NAMES.zendesk.refused}`, 1, r.at);
            default:
                return;
        }
    }

    private countRequest(r: Extract<Activity, { type: "request" }>): void {
        const { api, bus } = METRIC_NAMES;
        this.add(`api.${api.requests}`, 1, r.at);
        if (r.status >= 400 && r.status < 500) this.add(`api.${api.clientErrors}`, 1, r.at);
        if (r.status >= 500) this.add(`api.${api.serverErrors}`, 1, r.at);
        this.histogram(`api.${api.latency}`).add(r.latencyMs);
        this.byStatus.set(r.status, (this.byStatus.get(r.status) ?? 0) + 1);
        const b = this.bucket(r.at);
        b.requests++;
        b.entries += r.entries.filter((e) => e.eventId !== undefined).length;
        b.failedEntries += r.failedEntryCount;
        if (r.status >= 400) b.errors++;
        if (b.latencies.length < 1000) b.latencies.push(r.latencyMs);
        // PutEvents saw the entries only when the request got past the gateway (200 or 207).
        if (r.status === 200 || r.status === 207) {
            this.add(`bus.${bus.entries}`, r.entryCount, r.at);
            this.add(`bus.${bus.failedEntries}`, r.failedEntryCount, r.at);
            for (const e of r.entries) if (e.errorCode) this.failedByCode.set(e.errorCode, (this.failedByCode.get(e.errorCode) ?? 0) + 1);
        }
    }

    /** Adds one to `rule.<rule>.<name>` without building that key: this runs several times for every event. */
    private addToRule(rule: string, name: string, at: number): void {
        let byName = this.ruleCounters.get(rule);
        if (!byName) this.ruleCounters.set(rule, (byName = new Map()));
        let c = byName.get(name);
        if (!c) byName.set(name, (c = this.counter(`rule.${rule}.${name}`)));
        c.add(1, at);
    }

    private countRouting(r: Extract<Activity, { type: "match" | "delivery" | "retry" | "dead-letter" }>): void {
        const { bus, deadLetters } = METRIC_NAMES;
        if (r.type === "match") {
            // On the bus, MatchedEvents counts events that matched any rule (the bus matches an event against
            // all its rules at once, so its match records are consecutive); per rule, its matches.
            if (r.eventId !== this.lastMatchedEvent) this.add(BUS_MATCHED, 1, r.at);
            this.lastMatchedEvent = r.eventId;
            this.addToRule(r.rule, bus.matched, r.at);
        } else if (r.type === "delivery") {
            this.addToRule(r.rule, bus.invocations, r.at);
            this.addToRule(r.rule, bus.successfulAttempts, r.at);
            this.addToRule(r.rule, bus.attempts, r.at);
        } else if (r.type === "retry") {
            this.addToRule(r.rule, bus.retries, r.at);
            this.addToRule(r.rule, bus.attempts, r.at);
        } else {
            this.addToRule(r.rule, bus.invocations, r.at);
            this.addToRule(r.rule, bus.failedInvocations, r.at);
            this.addToRule(r.rule, bus.sentToDlq, r.at);
            // The final failed attempt (an input that could not be transformed was never attempted).
            if (r.attributes.ERROR_CODE !== "INPUT_TRANSFORMATION_FAILED") this.addToRule(r.rule, bus.attempts, r.at);
            this.add(`dlq.${r.rule}.${deadLetters.sent}`, 1, r.at);
        }
    }

    private countFirehose(r: Extract<Activity, { type: "firehose-put" | "object" | "firehose-failed" }>): void {
        const { firehose, transform } = METRIC_NAMES;
        if (r.type === "firehose-put") {
            this.add(`firehose.${firehose.incomingRecords}`, r.records ?? 1, r.at);
            this.add(`firehose.${firehose.incomingBytes}`, r.bytes, r.at);
            return;
        }
        if (r.type === "firehose-failed") return this.add("firehose.failedDeliveries", 1, r.at);
        this.add("firehose.objectsWritten", 1, r.at);
        if (r.error) {
            const type = r.errorType ?? "unknown";
            this.errorRecordsByType.set(type, (this.errorRecordsByType.get(type) ?? 0) + r.records);
            const rejected = (r.errorRecords ?? []).filter((e) => e.errorCode === "Lambda.ProcessingFailedStatus").length;
            if (rejected > 0) this.add(`transform.${transform.rejected}`, rejected, r.at);
            // The transform accepted these; partitioning failed after it.
            if (type === "partitioning-failed") this.add(`firehose.${firehose.processedRecords}`, r.records, r.at);
            return;
        }
        this.add(`firehose.${firehose.deliveredRecords}`, r.records, r.at);
        this.add(`firehose.${firehose.deliveredBytes}`, r.bytes, r.at);
        this.add(`firehose.${firehose.objects}`, 1, r.at);
        this.add(`firehose.${firehose.processedRecords}`, r.records, r.at);
        const p = this.partitions.get(r.partition) ?? { objects: 0, records: 0 };
        p.objects++;
        p.records += r.records;
        this.partitions.set(r.partition, p);
    }

    private figure(name: string): { sum: number; ratePerSecond: number } {
        const c = this.counters.get(name);
        const now = this.now();
        return { sum: c?.sum ?? 0, ratePerSecond: c ? c.rate(now, this.feed.startedAt) : 0 };
    }

    private figures(prefix: string, names: string[]): Record<string, { sum: number; ratePerSecond: number }> {
        return Object.fromEntries(names.map((n) => [n, this.figure(`${prefix}.${n}`)]));
    }

    /** The JSON of `GET /_local/metrics`. */
    snapshot(): Record<string, unknown> {
        const { api, transform, zendesk } = METRIC_NAMES;
        const ctx = this.context;
        return {
            startedAt: new Date(this.feed.startedAt).toISOString(),
            uptimeSeconds: round((this.now() - this.feed.startedAt) / 1000),
            rateWindowSeconds: RATE_WINDOW_SECONDS,
            api: {
                namespace: api.namespace,
                dimensions: { Stage: ctx.stage },
                ...this.figures("api", [api.requests, api.clientErrors, api.serverErrors]),
                [api.latency]: { unit: "Milliseconds", ...this.histogram(`api.${api.latency}`).summary() },
                requestsByStatus: sortedByKey(this.byStatus),
            },
            eventBridge: this.eventBridgeSnapshot(),
            firehose: this.firehoseSnapshot(),
            transform: { namespace: transform.namespace, ...this.figures("transform", [transform.rejected]) },
            lambda: this.lambdaSnapshot(),
            deadLetters: this.deadLettersSnapshot(),
            zendesk: { local: true, ...this.figures("zendesk", [zendesk.tickets, zendesk.refused]) },
            timeline: this.timelineSnapshot(),
            ...(ctx.process ? { process: { local: true, ...ctx.process() } } : {}),
        };
    }

    private eventBridgeSnapshot(): Record<string, unknown> {
        const { bus } = METRIC_NAMES;
        const ruleFigures = [
            bus.matched,
            bus.invocations,
            bus.attempts,
            bus.successfulAttempts,
            bus.retries,
            bus.failedInvocations,
            bus.sentToDlq,
        ];
        const eventBusName = this.context.eventBusName;
        return {
            namespace: bus.namespace,
            dimensions: { EventBusName: eventBusName },
            ...this.figures("bus", [bus.entries, bus.failedEntries, bus.matched]),
            failedEntriesByErrorCode: sortedByKey(this.failedByCode),
            rules: Object.fromEntries(
                [...this.ruleCounters.keys()]
                    .sort()
                    .map((rule) => [
                        rule,
                        { dimensions: { EventBusName: eventBusName, RuleName: rule }, ...this.figures(`rule.${rule}`, ruleFigures) },
                    ]),
            ),
        };
    }

    private firehoseSnapshot(): Record<string, unknown> {
        const { firehose } = METRIC_NAMES;
        const objects = this.figure("firehose.objectsWritten").sum;
        const failed = this.figure("firehose.failedDeliveries").sum;
        return {
            namespace: firehose.namespace,
            dimensions: { DeliveryStreamName: this.context.deliveryStreamName },
            ...this.figures("firehose", [
                firehose.incomingRecords,
                firehose.incomingBytes,
                firehose.processedRecords,
                firehose.deliveredRecords,
                firehose.deliveredBytes,
                firehose.objects,
            ]),
            [firehose.deliverySuccess]: objects + failed === 0 ? null : round(objects / (objects + failed)),
            errorObjects: objects - this.figure(`firehose.${firehose.objects}`).sum,
            errorRecordsByType: sortedByKey(this.errorRecordsByType),
            partitions: Object.fromEntries([...this.partitions.entries()].sort(([a], [b]) => a.localeCompare(b))),
            ...(this.context.gauges?.() ?? {}),
        };
    }

    private lambdaSnapshot(): Record<string, unknown> {
        const { lambda } = METRIC_NAMES;
        return Object.fromEntries(
            [...this.functions].sort().map((fn) => [
                fn,
                {
                    namespace: lambda.namespace,
                    dimensions: { FunctionName: fn },
                    ...this.figures(`lambda.${fn}`, [lambda.invocations, lambda.errors]),
                    [lambda.duration]: { unit: "Milliseconds", ...this.histogram(`lambda.${fn}.${lambda.duration}`).summary() },
                },
            ]),
        );
    }

    private deadLettersSnapshot(): Record<string, unknown> {
        const { deadLetters } = METRIC_NAMES;
        return Object.fromEntries(
            [...this.ruleCounters.keys()]
                .sort()
                .map((rule) => [rule, { namespace: deadLetters.namespace, ...this.figures(`dlq.${rule}`, [deadLetters.sent]) }]),
        );
    }

    private timelineSnapshot(): Record<string, unknown> {
        return {
            bucketSeconds: TIMELINE_BUCKET_SECONDS,
            points: this.timeline.map((b) => {
                const sorted = [...b.latencies].sort((x, y) => x - y);
                return {
                    time: b.start,
                    requestsPerSecond: round(b.requests / TIMELINE_BUCKET_SECONDS),
                    eventsPerSecond: round(b.entries / TIMELINE_BUCKET_SECONDS),
                    failedEntries: b.failedEntries,
                    errors: b.errors,
                    latencyP50: percentileOf(sorted, 50),
                    latencyP99: percentileOf(sorted, 99),
                };
            }),
        };
    }
}

/** A map as an object with its keys in order. */
function sortedByKey(m: Map<string | number, number>): Record<string, number> {
    return Object.fromEntries([...m.entries()].sort(([a], [b]) => String(a).localeCompare(String(b))));
}
