/**
 * The CloudWatch metrics the pipeline is watched by, as plain data: namespace, name, dimension keys, the
 * statistic that makes sense for it, and a stable short id. The Monitoring component builds its alarms and
 * its dashboard from these definitions (and the Firehose transform names its own metric from here), so an
 * alarm and a dashboard widget about the same thing can never disagree on a name or a dimension.
 *
 * Names, namespaces and dimensions are those AWS documents on the page in `doc` (read 2026-12-01). The two
 * custom metrics (namespace CUSTOM_NAMESPACE) are published by this program: the transform's rejects as
 * CloudWatch Embedded Metric Format log lines, the requests with failed entries by a metric filter on the
 * API's access log.
 */

/** Namespace of the metrics this program publishes itself. */
export const CUSTOM_NAMESPACE = "ClientEvents";

/** Dimension keys, spelled as AWS spells them. */
export const DIMENSION = {
    apiName: "ApiName",
    apiId: "ApiId",
    stage: "Stage",
    functionName: "FunctionName",
    eventBusName: "EventBusName",
    ruleName: "RuleName",
    queueName: "QueueName",
    deliveryStreamName: "DeliveryStreamName",
    reason: "Reason",
} as const;

/** The transform's reject metric: what the handler writes in its EMF lines. */
export const TRANSFORM_REJECTS = {
    namespace: CUSTOM_NAMESPACE,
    metricName: "TransformRejectedRecords",
    unit: "Count",
    streamDimension: DIMENSION.deliveryStreamName,
    reasonDimension: DIMENSION.reason,
} as const;

/** The access-log metric filter's metric: one per API answer 207 (some entries were not put on the bus). */
export const REQUESTS_WITH_FAILED_ENTRIES = {
    namespace: CUSTOM_NAMESPACE,
    metricName: "RequestsWithFailedEntries",
    /** CloudWatch Logs filter pattern over the JSON access log (the `status` field is a string there). */
    filterPattern: '{ $.status = "207" }',
    /** The access-log fields the metric's dimensions are read from. */
    dimensionFields: { ApiId: "$.apiId", Stage: "$.stage" },
} as const;

export type Statistic = "Sum" | "Average" | "Minimum" | "Maximum" | "SampleCount" | "p50" | "p99";

export interface MetricDefinition {
    /** Stable short id (a valid metric-math id: lower-case letter first). */
    readonly id: string;
    readonly namespace: string;
    readonly metricName: string;
    /** The dimension keys of the series watched, in this order. Empty: an account- and region-wide metric. */
    readonly dimensionKeys: readonly string[];
    /** The statistic the alarms and the dashboard use. */
    readonly stat: Statistic;
    readonly unit: string;
    /** Short label for graphs. */
    readonly label: string;
    /** Where AWS documents the metric (or, for custom metrics, this repository's docs). */
    readonly doc: string;
}

const DOCS = {
    apiGateway: "https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-metrics-and-dimensions.html",
    lambda: "https://docs.aws.amazon.com/lambda/latest/dg/monitoring-metrics-types.html",
    eventBridge: "https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-monitoring.html",
    sqs: "https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-available-cloudwatch-metrics.html",
    firehose: "https://docs.aws.amazon.com/firehose/latest/dev/monitoring-with-cloudwatch-metrics.html",
    custom: "docs/operations.md#custom-metrics",
} as const;

const api = [DIMENSION.apiName, DIMENSION.stage] as const;
const fn = [DIMENSION.functionName] as const;
const rule = [DIMENSION.eventBusName, DIMENSION.ruleName] as const;
const stream = [DIMENSION.deliveryStreamName] as const;

function metric(
    id: string,
    namespace: string,
    metricName: string,
    dimensionKeys: readonly string[],
    stat: Statistic,
    unit: string,
    label: string,
    doc: string,
): MetricDefinition {
    return { id, namespace, metricName, dimensionKeys, stat, unit, label, doc };
}

/** Every metric an alarm watches or the dashboard shows, by id. */
export const METRICS = {
    // API Gateway (REST): Count's SampleCount is the number of requests; the error metrics' Sum their count.
    apiRequests: metric("apiRequests", "AWS/ApiGateway", "Count", api, "SampleCount", "Count", "requests", DOCS.apiGateway),
    api4xx: metric("api4xx", "AWS/ApiGateway", "4XXError", api, "Sum", "Count", "4xx", DOCS.apiGateway),
    api5xx: metric("api5xx", "AWS/ApiGateway", "5XXError", api, "Sum", "Count", "5xx", DOCS.apiGateway),
    apiLatencyP99: metric("apiLatencyP99", "AWS/ApiGateway", "Latency", api, "p99", "Milliseconds", "latency p99", DOCS.apiGateway),
    apiLatencyP50: metric("apiLatencyP50", "AWS/ApiGateway", "Latency", api, "p50", "Milliseconds", "latency p50", DOCS.apiGateway),
    apiIntegrationLatencyP99: metric(
        "apiIntegrationLatencyP99",
        "AWS/ApiGateway",
        "IntegrationLatency",
        api,
        "p99",
        "Milliseconds",
        "PutEvents latency p99",
        DOCS.apiGateway,
    ),
    apiRequestsWithFailedEntries: metric(
        "apiRequestsWithFailedEntries",
        CUSTOM_NAMESPACE,
        REQUESTS_WITH_FAILED_ENTRIES.metricName,
        Object.keys(REQUESTS_WITH_FAILED_ENTRIES.dimensionFields),
        "Sum",
        "Count",
        "207 answers (some entries failed)",
        DOCS.custom,
    ),

    // Lambda, per function.
    lambdaInvocations: metric("lambdaInvocations", "AWS/Lambda", "Invocations", fn, "Sum", "Count", "invocations", DOCS.lambda),
    lambdaErrors: metric("lambdaErrors", "AWS/Lambda", "Errors", fn, "Sum", "Count", "errors", DOCS.lambda),
    lambdaThrottles: metric("lambdaThrottles", "AWS/Lambda", "Throttles", fn, "Sum", "Count", "throttles", DOCS.lambda),

    // EventBridge. PutEvents metrics have no dimension at all: they count every PutEvents call of the
    // account in the region, this stack's and any other's.
    putEventsEntries: metric(
        "putEventsEntries",
        "AWS/Events",
        "PutEventsEntriesCount",
        [],
        "Sum",
        "Count",
        "entries put (account, region)",
        DOCS.eventBridge,
    ),
    putEventsFailedEntries: metric(
        "putEventsFailedEntries",
        "AWS/Events",
        "PutEventsFailedEntriesCount",
        [],
        "Sum",
        "Count",
        "entries failed (account, region)",
        DOCS.eventBridge,
    ),
    busMatchedEvents: metric(
        "busMatchedEvents",
        "AWS/Events",
        "MatchedEvents",
        [DIMENSION.eventBusName],
        "Sum",
        "Count",
        "events matched on the bus",
        DOCS.eventBridge,
    ),
    ruleMatchedEvents: metric("ruleMatchedEvents", "AWS/Events", "MatchedEvents", rule, "Sum", "Count", "matched", DOCS.eventBridge),
    ruleInvocations: metric("ruleInvocations", "AWS/Events", "Invocations", rule, "Sum", "Count", "delivered", DOCS.eventBridge),
    ruleFailedInvocations: metric(
        "ruleFailedInvocations",
        "AWS/Events",
        "FailedInvocations",
        rule,
        "Sum",
        "Count",
        "failed",
        DOCS.eventBridge,
    ),
    ruleRetries: metric("ruleRetries", "AWS/Events", "RetryInvocationAttempts", rule, "Sum", "Count", "retries", DOCS.eventBridge),
    ruleSentToDlq: metric("ruleSentToDlq", "AWS/Events", "InvocationsSentToDlq", rule, "Sum", "Count", "to DLQ", DOCS.eventBridge),
    ruleDlqFailed: metric(
        "ruleDlqFailed",
        "AWS/Events",
        "InvocationsFailedToBeSentToDlq",
        rule,
        "Sum",
        "Count",
        "lost (DLQ failed)",
        DOCS.eventBridge,
    ),

    // The routes' dead-letter queues.
    dlqVisible: metric(
        "dlqVisible",
        "AWS/SQS",
        "ApproximateNumberOfMessagesVisible",
        [DIMENSION.queueName],
        "Maximum",
        "Count",
        "events in DLQ",
        DOCS.sqs,
    ),

    // Firehose (with a Lambda transform and dynamic partitioning).
    firehoseIncomingRecords: metric(
        "firehoseIncomingRecords",
        "AWS/Firehose",
        "IncomingRecords",
        stream,
        "Sum",
        "Count",
        "records in",
        DOCS.firehose,
    ),
    firehoseDeliveredRecords: metric(
        "firehoseDeliveredRecords",
        "AWS/Firehose",
        "DeliveryToS3.Records",
        stream,
        "Sum",
        "Count",
        "records to S3",
        DOCS.firehose,
    ),
    firehoseFreshness: metric(
        "firehoseFreshness",
        "AWS/Firehose",
        "DeliveryToS3.DataFreshness",
        stream,
        "Maximum",
        "Seconds",
        "oldest record, seconds",
        DOCS.firehose,
    ),
    firehoseS3Success: metric(
        "firehoseS3Success",
        "AWS/Firehose",
        "DeliveryToS3.Success",
        stream,
        "Average",
        "None",
        "S3 put success ratio",
        DOCS.firehose,
    ),
    firehoseProcessingSuccess: metric(
        "firehoseProcessingSuccess",
        "AWS/Firehose",
        "ExecuteProcessing.Success",
        stream,
        "Average",
        "None",
        "transform success ratio",
        DOCS.firehose,
    ),
    firehosePartitionCount: metric(
        "firehosePartitionCount",
        "AWS/Firehose",
        "PartitionCount",
        stream,
        "Maximum",
        "Count",
        "active partitions",
        DOCS.firehose,
    ),
    firehosePartitionLimit: metric(
        "firehosePartitionLimit",
        "AWS/Firehose",
        "ActivePartitionsLimit",
        stream,
        "Maximum",
        "Count",
        "partition limit",
        DOCS.firehose,
    ),
    firehosePartitionExceeded: metric(
        "firehosePartitionExceeded",
        "AWS/Firehose",
        "PartitionCountExceeded",
        stream,
        "Maximum",
        "None",
        "partition limit exceeded (1/0)",
        DOCS.firehose,
    ),
    firehoseThrottled: metric(
        "firehoseThrottled",
        "AWS/Firehose",
        "ThrottledRecords",
        stream,
        "Sum",
        "Count",
        "throttled records",
        DOCS.firehose,
    ),

    // The transform's rejects (EMF, see handlers/firehose-transform.ts): in total, and by reason.
    transformRejects: metric(
        "transformRejects",
        CUSTOM_NAMESPACE,
        TRANSFORM_REJECTS.metricName,
        [TRANSFORM_REJECTS.streamDimension],
        "Sum",
        "Count",
        "rejected records",
        DOCS.custom,
    ),
    transformRejectsByReason: metric(
        "transformRejectsByReason",
        CUSTOM_NAMESPACE,
        TRANSFORM_REJECTS.metricName,
        [TRANSFORM_REJECTS.streamDimension, TRANSFORM_REJECTS.reasonDimension],
        "Sum",
        "Count",
        "rejected",
        DOCS.custom,
    ),
} as const satisfies Record<string, MetricDefinition>;

export type MetricId = keyof typeof METRICS;

/** One series: a metric definition with a value for each of its dimension keys. */
export interface MetricSeries {
    metric: MetricId;
    dimensions: Readonly<Record<string, string>>;
}

/** A series of `id`, checking that `dimensions` gives exactly the definition's keys. */
export function series(id: MetricId, dimensions: Readonly<Record<string, string>> = {}): MetricSeries {
    const expected = [...METRICS[id].dimensionKeys].sort();
    const given = Object.keys(dimensions).sort();
    if (expected.join(",") !== given.join(",")) {
        throw new Error(`metric ${id} takes dimensions [${expected.join(", ")}], got [${given.join(", ")}]`);
    }
    for (const [key, value] of Object.entries(dimensions)) {
        if (typeof value !== "string" || value === "") throw new Error(`metric ${id}: dimension ${key} needs a value`);
    }
    return { metric: id, dimensions };
}

/** The reasons the transform rejects a record (handlers/firehose-transform.ts), each a Reason dimension value. */
export const TRANSFORM_REJECT_REASONS = [
    "not-json",
    "not-an-event",
    "no-detail",
    "no-client-id",
    "transform-error",
    "schema-violation",
    "unknown-schema",
] as const;
export type TransformRejectReason = (typeof TRANSFORM_REJECT_REASONS)[number];

/** The definition's row in docs/operations.md's metric table. */
export function metricTableRow(def: MetricDefinition): string {
    const dims = def.dimensionKeys.length > 0 ? def.dimensionKeys.join(", ") : "none (account and region)";
    const doc = def.doc.startsWith("https://") ? `[${new URL(def.doc).pathname.split("/").pop()}](${def.doc})` : "this page";
    return `| \`${def.id}\` | ${def.namespace} | ${def.metricName} | ${dims} | ${def.stat} | ${doc} |`;
}
