/**
 * The CloudWatch dashboard that follows one event from the request to S3 and to Zendesk, built from typed
 * widget definitions over the metrics of pipeline/metrics.ts (so it names exactly the series the alarms
 * watch). dashboardBody() turns them into the JSON CloudWatch takes:
 * https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/CloudWatch-Dashboard-Body-Structure.html
 */
import { dimensionsOf, freshnessThresholdSeconds, type FunctionRole, type PipelineResources } from "./alarms";
import { METRICS, TRANSFORM_REJECT_REASONS, type MetricId } from "./metrics";
import { ARCHIVE_ROUTE, ZENDESK_ROUTE } from "./routes";

/** One series on a graph. */
export interface GraphLine {
    metric: MetricId;
    /** The function or route whose resource the series is about. */
    target?: string;
    /** Extra dimension values (the transform's Reason). */
    extra?: Record<string, string>;
    label?: string;
    /** Plot on the right axis. */
    right?: boolean;
}

export interface GraphWidget {
    kind: "graph";
    title: string;
    lines: GraphLine[];
    /** A horizontal line, e.g. an alarm threshold. */
    annotation?: { label: string; value: number };
    width: number;
    height?: number;
    view?: "timeSeries" | "singleValue";
}

export interface TextWidget {
    kind: "text";
    markdown: string;
    width: number;
    height?: number;
}

export interface AlarmsWidget {
    kind: "alarms";
    title: string;
    width: number;
    height?: number;
}

export type Widget = GraphWidget | TextWidget | AlarmsWidget;

const stage = (markdown: string): TextWidget => ({ kind: "text", markdown, width: 24, height: 1 });
const graph = (title: string, lines: GraphLine[], width = 8, extra: Partial<GraphWidget> = {}): GraphWidget => ({
    kind: "graph",
    title,
    lines,
    width,
    ...extra,
});
const lambda = (role: FunctionRole): GraphLine[] => [
    { metric: "lambdaInvocations", target: role },
    { metric: "lambdaErrors", target: role },
    { metric: "lambdaThrottles", target: role },
];
const ruleLines = (route: string): GraphLine[] => [
    { metric: "ruleMatchedEvents", target: route },
    { metric: "ruleInvocations", target: route },
    { metric: "ruleFailedInvocations", target: route },
    { metric: "ruleSentToDlq", target: route },
    { metric: "ruleDlqFailed", target: route },
];

/** The widgets, in the order an event meets the stages. */
export function pipelineWidgets(routes: string[], bufferIntervalSeconds: number): Widget[] {
    const widgets: Widget[] = [
        { kind: "alarms", title: "Alarms", width: 24, height: 3 },
        stage("### 1. Request: API Gateway (`POST /event`)"),
        graph("Requests and errors", [
            { metric: "apiRequests" },
            { metric: "api4xx" },
            { metric: "api5xx" },
            { metric: "apiRequestsWithFailedEntries" },
        ]),
        graph("Latency (ms)", [{ metric: "apiLatencyP50" }, { metric: "apiLatencyP99" }, { metric: "apiIntegrationLatencyP99" }]),
        graph("Authorizer", lambda("authorizer")),
        graph("Sign-up trigger (post-confirmation: gives each user a clientId)", lambda("postConfirmation"), 24, { height: 4 }),
        stage("### 2. Bus: EventBridge PutEvents and the rules"),
        graph("Events on the bus", [
            { metric: "busMatchedEvents" },
            { metric: "putEventsEntries", right: true },
            { metric: "putEventsFailedEntries", right: true },
        ]),
        ...routes.map((route) => graph(`Route "${route}"`, ruleLines(route))),
        stage("### 3. Archive: Firehose, transform, S3"),
        graph("Records in and delivered", [
            { metric: "firehoseIncomingRecords" },
            { metric: "firehoseDeliveredRecords" },
            { metric: "firehoseThrottled" },
        ]),
        graph("Freshness (s)", [{ metric: "firehoseFreshness" }], 8, {
            annotation: { label: "alarm", value: freshnessThresholdSeconds(bufferIntervalSeconds) },
        }),
        graph("Partitions", [
            { metric: "firehosePartitionCount" },
            { metric: "firehosePartitionLimit" },
            { metric: "firehosePartitionExceeded", right: true },
        ]),
        graph("Transform", [
            ...lambda("transform"),
            { metric: "firehoseProcessingSuccess", right: true },
            { metric: "firehoseS3Success", right: true },
        ]),
        graph("Transform rejects by reason", [
            { metric: "transformRejects", label: "all reasons" },
            ...TRANSFORM_REJECT_REASONS.map((reason): GraphLine => ({
                metric: "transformRejectsByReason",
                extra: { Reason: reason },
                label: reason,
            })),
        ]),
        graph(
            "Dead-letter queues",
            routes.map((route) => ({ metric: "dlqVisible" as const, target: route, label: route })),
        ),
    ];
    if (routes.includes(ZENDESK_ROUTE)) {
        widgets.push(
            stage("### 4. Zendesk: the API destination"),
            graph(
                "Tickets",
                [
                    { metric: "ruleInvocations", target: ZENDESK_ROUTE, label: "tickets sent" },
                    { metric: "ruleRetries", target: ZENDESK_ROUTE, label: "retries (429, 5xx)" },
                    { metric: "ruleFailedInvocations", target: ZENDESK_ROUTE, label: "failed" },
                ],
                12,
            ),
        );
    }
    return widgets;
}

/** A line as the dashboard body spells it: [namespace, name, dim, value, ..., options]. */
function metricArray(line: GraphLine, resources: PipelineResources<string>): unknown[] {
    const def = METRICS[line.metric];
    const dimensions = dimensionsOf(line.metric, resources, line.target, line.extra);
    const options: Record<string, unknown> = { stat: def.stat, label: line.label ?? def.label };
    if (line.right) options.yAxis = "right";
    return [def.namespace, def.metricName, ...Object.entries(dimensions).flat(), options];
}

export interface DashboardOptions {
    region: string;
    bufferIntervalSeconds: number;
    /** ARNs of the alarms the status widget lists. */
    alarmArns: string[];
    /** Graph period, seconds. */
    periodSeconds?: number;
}

/** The dashboard body (JSON text) for the pipeline's resources. Widgets flow left to right, 24 units a row. */
export function dashboardBody(resources: PipelineResources<string>, options: DashboardOptions): string {
    const routes = [ARCHIVE_ROUTE, ...Object.keys(resources.routes).filter((r) => r !== ARCHIVE_ROUTE)].filter(
        (r) => r in resources.routes,
    );
    let x = 0;
    let y = 0;
    let rowHeight = 0;
    const body = pipelineWidgets(routes, options.bufferIntervalSeconds).map((widget) => {
        const height = widget.height ?? 6;
        if (x + widget.width > 24) {
            x = 0;
            y += rowHeight;
            rowHeight = 0;
        }
        const placed = { x, y, width: widget.width, height, ...widgetBody(widget, resources, options) };
        x += widget.width;
        rowHeight = Math.max(rowHeight, height);
        return placed;
    });
    return JSON.stringify({ widgets: body });
}

function widgetBody(widget: Widget, resources: PipelineResources<string>, options: DashboardOptions): Record<string, unknown> {
    switch (widget.kind) {
        case "text":
            return { type: "text", properties: { markdown: widget.markdown } };
        case "alarms":
            return { type: "alarm", properties: { title: widget.title, alarms: options.alarmArns } };
        case "graph":
            return {
                type: "metric",
                properties: {
                    title: widget.title,
                    region: options.region,
                    view: widget.view ?? "timeSeries",
                    period: options.periodSeconds ?? 300,
                    metrics: widget.lines.map((line) => metricArray(line, resources)),
                    ...(widget.annotation ? { annotations: { horizontal: [widget.annotation] } } : {}),
                },
            };
    }
}
