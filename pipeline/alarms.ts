/**
 * The pipeline's alarms as plain data: what each watches (a metric of pipeline/metrics.ts, or a rate of
 * two), when it fires, and why those numbers. The Monitoring component creates one CloudWatch alarm per
 * spec and resource (per route, or for the function named); EventRouting creates the dead-letter-queue
 * alarms from DEAD_LETTER_ALARM; docs/operations.md shows each spec's alarmTableRow (a test keeps them equal).
 */
import { BUFFERING, TRANSFORM_INVOCATION } from "./partitioning";
import { METRICS, type MetricId } from "./metrics";

export type Comparison = "GreaterThanThreshold" | "GreaterThanOrEqualToThreshold" | "LessThanThreshold";
export type MissingData = "notBreaching" | "breaching" | "ignore" | "missing";
/** The program's Lambdas, by role. */
export type FunctionRole = "authorizer" | "postConfirmation" | "transform";

/** What an alarm evaluates: one metric, or 100 x numerator / denominator (0 while the denominator is small). */
export type AlarmSignal =
    | { kind: "metric"; metric: MetricId }
    | { kind: "rate"; numerator: MetricId; denominator: MetricId; minimumDenominator: number; label: string };

export interface AlarmSpec {
    /** Stable id; part of the alarm's name. */
    id: string;
    title: string;
    /** One alarm per route (rule and dead-letter queue), or for this function; neither: one for the pipeline. */
    per?: "route";
    function?: FunctionRole;
    signal: AlarmSignal;
    comparison: Comparison;
    threshold: number;
    periodSeconds: number;
    evaluationPeriods: number;
    datapointsToAlarm: number;
    treatMissingData: MissingData;
    /** Why these numbers, in one line (docs/operations.md and the alarm's description). */
    why: string;
}

/** Seconds of margin above the delay Firehose itself may add before the freshness alarm fires. */
export const FRESHNESS_MARGIN_SECONDS = 300;

/**
 * The freshness alarm's threshold: Firehose documents that with dynamic partitioning a record may wait
 * 1.5 x the buffer interval (multi-stage buffering), plus the transform's own buffer, plus a margin.
 */
export function freshnessThresholdSeconds(bufferIntervalSeconds: number): number {
    return Math.ceil(1.5 * bufferIntervalSeconds) + TRANSFORM_INVOCATION.bufferIntervalSeconds + FRESHNESS_MARGIN_SECONDS;
}

const metric = (id: MetricId): AlarmSignal => ({ kind: "metric", metric: id });
const above = (threshold: number) => ({ comparison: "GreaterThanThreshold" as const, threshold });
const quiet = { treatMissingData: "notBreaching" as const };
const window = (periodSeconds: number, evaluationPeriods: number, datapointsToAlarm = evaluationPeriods) => ({
    periodSeconds,
    evaluationPeriods,
    datapointsToAlarm,
});

/** Alarms on each route's dead-letter queue (created by EventRouting, next to the queue). */
export const DEAD_LETTER_ALARM: AlarmSpec = {
    id: "dlq-depth",
    title: "Events wait in the dead-letter queue",
    per: "route",
    signal: metric("dlqVisible"),
    ...above(0),
    ...window(300, 1),
    ...quiet,
    why: "Each message is an event its target never got; the queue keeps it 14 days for a redrive, so one is worth a look.",
};

/** Every alarm of the pipeline, for a Firehose buffer interval (the freshness threshold depends on it). */
export function alarmSpecs(
    settings: { bufferIntervalSeconds: number } = { bufferIntervalSeconds: BUFFERING.defaultIntervalSeconds },
): AlarmSpec[] {
    return [
        {
            id: "api-5xx-rate",
            title: "API answers 5xx",
            ...above(1),
            ...window(300, 1),
            ...quiet,
            signal: { kind: "rate", numerator: "api5xx", denominator: "apiRequests", minimumDenominator: 20, label: "5xx % of requests" },
            why: "A 5xx is the deployment's fault (PutEvents refused or failing) and the batch is lost unless the client retries; more than 1% of at least 20 requests in 5 minutes is not noise.",
        },
        {
            id: "api-4xx-rate",
            title: "API answers 4xx",
            ...above(10),
            ...window(300, 3),
            ...quiet,
            signal: { kind: "rate", numerator: "api4xx", denominator: "apiRequests", minimumDenominator: 100, label: "4xx % of requests" },
            why: "Some 4xx are normal (expired tokens, throttling); more than 10% of at least 100 requests for 15 minutes means a client release or the stage's throttle is rejecting real traffic.",
        },
        {
            id: "api-latency-p99",
            title: "API latency p99",
            signal: metric("apiLatencyP99"),
            ...above(3000),
            ...window(300, 3),
            ...quiet,
            why: "p99 is tens to hundreds of ms (about 1 s on an authorizer cold start); above 3 s for 15 minutes clients time out and resend.",
        },
        {
            id: "authorizer-errors",
            title: "Authorizer errors",
            function: "authorizer",
            ...above(25),
            ...window(300, 3),
            ...quiet,
            signal: {
                kind: "rate",
                numerator: "lambdaErrors",
                denominator: "lambdaInvocations",
                minimumDenominator: 20,
                label: "errors % of invocations",
            },
            why: 'Every refused token is a Lambda error (the TOKEN authorizer throws "Unauthorized"), so a rate: over 25% of at least 20 calls for 15 minutes means Cognito lookups fail or valid tokens are refused.',
        },
        ...(["authorizer", "postConfirmation", "transform"] as const).map((role): AlarmSpec => ({
            id: `${kebab(role)}-throttles`,
            title: `${kebab(role)} throttled`,
            function: role,
            signal: metric("lambdaThrottles"),
            ...above(0),
            ...window(300, 1),
            ...quiet,
            why: "A throttled call is a refused request (authorizer), a failed confirmation (post-confirmation) or a retried batch (transform): the account's concurrency is exhausted.",
        })),
        {
            id: "post-confirmation-errors",
            title: "Post-confirmation trigger errors",
            function: "postConfirmation",
            signal: metric("lambdaErrors"),
            ...above(0),
            ...window(300, 1),
            ...quiet,
            why: "A failed trigger leaves a confirmed user without a clientId, who then gets 403 on every request.",
        },
        {
            id: "transform-errors",
            title: "Transform errors",
            function: "transform",
            signal: metric("lambdaErrors"),
            ...above(0),
            ...window(300, 1),
            ...quiet,
            why: "The transform never throws by design; an error fails a whole batch, which Firehose retries and then writes to the processing-failed prefix.",
        },
        {
            id: "transform-rejects",
            title: "Transform rejects records",
            signal: metric("transformRejects"),
            ...above(0),
            ...window(300, 1),
            ...quiet,
            why: "Records from the API always carry a clientId, so any reject is a record kept out of the archive (under errors/processing-failed/) that needs a look.",
        },
        {
            id: "failed-invocations",
            title: "Rule target failed",
            per: "route",
            signal: metric("ruleFailedInvocations"),
            ...above(0),
            ...window(300, 1),
            ...quiet,
            why: "EventBridge gave up on the target after its retries (for Zendesk: the API destination); the event is in the dead-letter queue. Published only when non-zero.",
        },
        {
            id: "dlq-send-failed",
            title: "Event lost: dead-letter queue refused it",
            per: "route",
            signal: metric("ruleDlqFailed"),
            ...above(0),
            ...window(60, 1),
            ...quiet,
            why: "The event is gone (the target failed and the DLQ refused it: permissions, size); the fastest alarm, every one matters.",
        },
        {
            id: "put-events-failed-entries",
            title: "PutEvents entries failed",
            ...above(1),
            ...window(300, 3),
            ...quiet,
            signal: {
                kind: "rate",
                numerator: "putEventsFailedEntries",
                denominator: "putEventsEntries",
                minimumDenominator: 100,
                label: "failed % of entries",
            },
            why: "Account- and region-wide (AWS publishes no per-bus figure) and it includes clients' malformed entries, so over 1% of at least 100 for 15 minutes; this stack's share is the dashboard's 207 count.",
        },
        {
            id: "firehose-freshness",
            title: "Archive falling behind",
            signal: metric("firehoseFreshness"),
            ...above(freshnessThresholdSeconds(settings.bufferIntervalSeconds)),
            ...window(300, 1),
            ...quiet,
            why: "The oldest record waited longer than Firehose's own worst case (1.5 x buffer interval + the transform's 60 s buffer) plus 5 minutes: delivery to S3 is stuck or slow.",
        },
        {
            id: "firehose-s3-success",
            title: "S3 delivery failing",
            signal: metric("firehoseS3Success"),
            comparison: "LessThanThreshold",
            threshold: 1,
            ...window(300, 3),
            ...quiet,
            why: "Below 1, some S3 puts fail (bucket policy, KMS, throttling); Firehose retries, so 15 minutes in a row before it is an incident.",
        },
        {
            id: "firehose-processing-success",
            title: "Transform invocations failing",
            signal: metric("firehoseProcessingSuccess"),
            comparison: "LessThanThreshold",
            threshold: 1,
            ...window(300, 2),
            ...quiet,
            why: "Below 1, Firehose could not invoke the transform (permissions, timeouts); after 3 retries the batch goes to processing-failed, so 10 minutes.",
        },
        {
            id: "firehose-partitions-exceeded",
            title: "Partition limit exceeded",
            signal: metric("firehosePartitionExceeded"),
            comparison: "GreaterThanOrEqualToThreshold",
            threshold: 1,
            ...window(60, 1),
            ...quiet,
            why: "Firehose emits 1 when the stream has more active partitions than its limit (500); records then go to the error prefix at once.",
        },
        {
            id: "firehose-throttled",
            title: "Firehose throttling",
            signal: metric("firehoseThrottled"),
            ...above(0),
            ...window(300, 1),
            ...quiet,
            why: "EventBridge retries throttled puts, but throttling means the stream's quota is reached and a longer burst ends in the dead-letter queue.",
        },
        DEAD_LETTER_ALARM,
    ];
}

function kebab(text: string): string {
    return text.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}

/** The program's resources the alarms and the dashboard point at (plain names, or Pulumi outputs). */
export interface PipelineResources<T> {
    api: { name: T; id: T; stage: T };
    functions: Record<FunctionRole, T>;
    eventBusName: T;
    /** By route name. */
    routes: Record<string, { ruleName: T; deadLetterQueueName: T }>;
    deliveryStreamName: T;
}

/** The dimension values of `metric` for the pipeline's resources (`target`: the function or route). */
export function dimensionsOf<T>(
    metric: MetricId,
    resources: PipelineResources<T>,
    target?: string,
    extra: Record<string, T> = {},
): Record<string, T> {
    const route = target !== undefined ? resources.routes[target] : undefined;
    const fn = target !== undefined ? resources.functions[target as FunctionRole] : undefined;
    const values: Record<string, T | undefined> = {
        ApiName: resources.api.name,
        ApiId: resources.api.id,
        Stage: resources.api.stage,
        FunctionName: fn,
        EventBusName: resources.eventBusName,
        RuleName: route?.ruleName,
        QueueName: route?.deadLetterQueueName,
        DeliveryStreamName: resources.deliveryStreamName,
        ...extra,
    };
    const dimensions: Record<string, T> = {};
    for (const key of METRICS[metric].dimensionKeys) {
        const value = values[key];
        if (value === undefined) throw new Error(`metric ${metric} needs dimension ${key}${target ? ` (target ${target})` : ""}`);
        dimensions[key] = value;
    }
    return dimensions;
}

/** One alarm to create: its spec, its name suffix, and the dimensions of each metric it reads. */
export interface AlarmInstance<T> {
    name: string;
    spec: AlarmSpec;
    target?: string;
    dimensions: Partial<Record<MetricId, Record<string, T>>>;
}

/** The metrics a signal reads. */
export function signalMetrics(signal: AlarmSignal): MetricId[] {
    return signal.kind === "metric" ? [signal.metric] : [signal.numerator, signal.denominator];
}

/** Every alarm of `specs` for the pipeline's resources: per route, per function, or one. */
export function alarmInstances<T>(specs: AlarmSpec[], resources: PipelineResources<T>): AlarmInstance<T>[] {
    const instances: AlarmInstance<T>[] = [];
    for (const spec of specs) {
        const targets: Array<{ name: string; target?: string }> =
            spec.per === "route"
                ? Object.keys(resources.routes).map((route) => ({ name: `${route}-${spec.id}`, target: route }))
                : [{ name: spec.id, target: spec.function }];
        for (const { name, target } of targets) {
            const dimensions: AlarmInstance<T>["dimensions"] = {};
            for (const id of signalMetrics(spec.signal)) dimensions[id] = dimensionsOf(id, resources, target);
            instances.push({ name, spec, target, dimensions });
        }
    }
    return instances;
}

/** The metric-math expression of a rate signal over the ids `num` and `den`. */
export function rateExpression(signal: Extract<AlarmSignal, { kind: "rate" }>): string {
    return `IF(den >= ${signal.minimumDenominator}, 100 * num / den, 0)`;
}

/** The spec's row in docs/operations.md's alarm table. */
export function alarmTableRow(spec: AlarmSpec): string {
    const watches =
        spec.signal.kind === "metric"
            ? `${METRICS[spec.signal.metric].namespace} ${METRICS[spec.signal.metric].metricName} (${METRICS[spec.signal.metric].stat})`
            : `100 x ${METRICS[spec.signal.numerator].metricName} / ${METRICS[spec.signal.denominator].metricName} (${METRICS[spec.signal.numerator].namespace}), 0 below ${spec.signal.minimumDenominator}`;
    const op = { GreaterThanThreshold: ">", GreaterThanOrEqualToThreshold: ">=", LessThanThreshold: "<" }[spec.comparison];
    const scope = spec.per === "route" ? "each route" : spec.function ? kebab(spec.function) : "pipeline";
    const window = `${spec.datapointsToAlarm} of ${spec.evaluationPeriods} x ${spec.periodSeconds} s`;
    return `| \`${spec.id}\` | ${scope} | ${watches} | ${op} ${spec.threshold} | ${window} | ${spec.treatMissingData} | ${spec.why} |`;
}
