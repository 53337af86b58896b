/**
 * The monitoring of index.ts under Pulumi mocks: every alarm (metric, namespace, dimensions pointing at the
 * program's own resources, threshold and window, the topic it notifies), the encrypted alarm topic and its
 * policies (evaluated), the 207 metric filter, and the dashboard (every series it names is one the
 * program's resources publish, and it shows every series an alarm watches). The expected alarms are
 * written out below by hand from docs/operations.md, not derived from pipeline/alarms.ts.
 *
 * The default config runs in this process; Zendesk with an existing topic and an e-mail address, and
 * monitoring off, run in child processes (a program module loads once per process).
 */
import * as assert from "node:assert/strict";
import { runProgramChild } from "./support/program-child";
import * as pulumi from "@pulumi/pulumi";
import { ACCOUNT, REGION, registrationsDone, resources as mocked, valueOf } from "./support/pulumi-mocks";
import { evaluate } from "./support/iam";
import { createTransformHandler } from "../handlers/firehose-transform";
import { ACCESS_LOG_FORMAT } from "../components/ingest-api";

const PREFIX = "client-events-test";
const ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm";

interface R {
    type: string;
    name: string;
    inputs: Record<string, any>;
    state: Record<string, any>;
}

/** The program's resources the monitoring must point at, found by type and logical name. */
function programParts(list: R[]) {
    const one = (type: string, name: string): R => {
        const found = list.filter((r) => r.type === type && r.name === name);
        assert.equal(found.length, 1, `one ${type} named ${name}`);
        return found[0];
    };
    const fn = (name: string) => one("aws:lambda/function:Function", `${PREFIX}-${name}`).state.name as string;
    const routes = ["archive", "zendesk"].filter((route) => list.some((r) => r.name === `${PREFIX}-routing-${route}-rule`));
    return {
        apiName: one("aws:apigateway/restApi:RestApi", `${PREFIX}-ingest-api`).state.name as string,
        apiId: `${PREFIX}-ingest-api-id`,
        stage: one("aws:apigateway/stage:Stage", `${PREFIX}-ingest-stage`).inputs.stageName as string,
        accessLogGroup: one("aws:cloudwatch/logGroup:LogGroup", `${PREFIX}-ingest-access-logs`).state.name as string,
        authorizer: fn("ingest-auth"),
        postConfirmation: fn("identity-confirm"),
        transform: fn("archive-enrich"),
        bus: one("aws:cloudwatch/eventBus:EventBus", `${PREFIX}-routing-bus`).state.name as string,
        streamName: one("aws:kinesis/firehoseDeliveryStream:FirehoseDeliveryStream", `${PREFIX}-archive-stream`).state.name as string,
        streamArn: one("aws:kinesis/firehoseDeliveryStream:FirehoseDeliveryStream", `${PREFIX}-archive-stream`).state.arn as string,
        rules: Object.fromEntries(
            routes.map((route) => [
                route,
                one("aws:cloudwatch/eventRule:EventRule", `${PREFIX}-routing-${route}-rule`).state.name as string,
            ]),
        ),
        queues: Object.fromEntries(
            routes.map((route) => [route, one("aws:sqs/queue:Queue", `${PREFIX}-routing-${route}-dlq`).state.name as string]),
        ),
        routes,
    };
}
type Parts = ReturnType<typeof programParts>;

/** [namespace, metric name, statistic] of a watched series. */
type Series = [string, string, string];
interface ExpectedAlarm {
    name: string;
    metric?: Series;
    rate?: { num: Series; den: Series; min: number };
    dims: (p: Parts) => Record<string, string>;
    op: string;
    threshold: number;
    period: number;
    evaluations: number;
}

const api = (p: Parts) => ({ ApiName: p.apiName, Stage: p.stage });
const fnDims = (role: "authorizer" | "postConfirmation" | "transform") => (p: Parts) => ({ FunctionName: p[role] });
const stream = (p: Parts) => ({ DeliveryStreamName: p.streamName });
const rule = (route: string) => (p: Parts) => ({ EventBusName: p.bus, RuleName: p.rules[route] });
const GT = "GreaterThanThreshold";

/** docs/operations.md's alarm table, transcribed (the freshness threshold at the default 300 s interval: 1.5 x 300 + 60 + 300). */
function expectedAlarms(routes: string[], freshnessThreshold = 810): ExpectedAlarm[] {
    return [
        {
            name: "api-5xx-rate",
            rate: { num: ["AWS/ApiGateway", "5XXError", "Sum"], den: ["AWS/ApiGateway", "Count", "SampleCount"], min: 20 },
            dims: api,
            op: GT,
            threshold: 1,
            period: 300,
            evaluations: 1,
        },
        {
            name: "api-4xx-rate",
            rate: { num: ["AWS/ApiGateway", "4XXError", "Sum"], den: ["AWS/ApiGateway", "Count", "SampleCount"], min: 100 },
            dims: api,
            op: GT,
            threshold: 10,
            period: 300,
            evaluations: 3,
        },
        {
            name: "api-latency-p99",
            metric: ["AWS/ApiGateway", "Latency", "p99"],
            dims: api,
            op: GT,
            threshold: 3000,
            period: 300,
            evaluations: 3,
        },
        {
            name: "authorizer-errors",
            rate: { num: ["AWS/Lambda", "Errors", "Sum"], den: ["AWS/Lambda", "Invocations", "Sum"], min: 20 },
            dims: fnDims("authorizer"),
            op: GT,
            threshold: 25,
            period: 300,
            evaluations: 3,
        },
        {
            name: "authorizer-throttles",
            metric: ["AWS/Lambda", "Throttles", "Sum"],
            dims: fnDims("authorizer"),
            op: GT,
            threshold: 0,
            period: 300,
            evaluations: 1,
        },
        {
            name: "post-confirmation-throttles",
            metric: ["AWS/Lambda", "Throttles", "Sum"],
            dims: fnDims("postConfirmation"),
            op: GT,
            threshold: 0,
            period: 300,
            evaluations: 1,
        },
        {
            name: "transform-throttles",
            metric: ["AWS/Lambda", "Throttles", "Sum"],
            dims: fnDims("transform"),
            op: GT,
            threshold: 0,
            period: 300,
            evaluations: 1,
        },
        {
            name: "post-confirmation-errors",
            metric: ["AWS/Lambda", "Errors", "Sum"],
            dims: fnDims("postConfirmation"),
            op: GT,
            threshold: 0,
            period: 300,
            evaluations: 1,
        },
        {
            name: "transform-errors",
            metric: ["AWS/Lambda", "Errors", "Sum"],
            dims: fnDims("transform"),
            op: GT,
            threshold: 0,
            period: 300,
            evaluations: 1,
        },
        {
            name: "transform-rejects",
            metric: ["ClientEvents", "TransformRejectedRecords", "Sum"],
            dims: stream,
            op: GT,
            threshold: 0,
            period: 300,
            evaluations: 1,
        },
        ...routes.flatMap((route): ExpectedAlarm[] => [
            {
                name: `${route}-failed-invocations`,
                metric: ["AWS/Events", "FailedInvocations", "Sum"],
                dims: rule(route),
                op: GT,
                threshold: 0,
                period: 300,
                evaluations: 1,
            },
            {
                name: `${route}-dlq-send-failed`,
                metric: ["AWS/Events", "InvocationsFailedToBeSentToDlq", "Sum"],
                dims: rule(route),
                op: GT,
                threshold: 0,
                period: 60,
                evaluations: 1,
            },
        ]),
        {
            name: "put-events-failed-entries",
            rate: {
                num: ["AWS/Events", "PutEventsFailedEntriesCount", "Sum"],
                den: ["AWS/Events", "PutEventsEntriesCount", "Sum"],
                min: 100,
            },
            dims: () => ({}),
            op: GT,
            threshold: 1,
            period: 300,
            evaluations: 3,
        },
        {
            name: "firehose-freshness",
            metric: ["AWS/Firehose", "DeliveryToS3.DataFreshness", "Maximum"],
            dims: stream,
            op: GT,
            threshold: freshnessThreshold,
            period: 300,
            evaluations: 1,
        },
        {
            name: "firehose-s3-success",
            metric: ["AWS/Firehose", "DeliveryToS3.Success", "Average"],
            dims: stream,
            op: "LessThanThreshold",
            threshold: 1,
            period: 300,
            evaluations: 3,
        },
        {
            name: "firehose-processing-success",
            metric: ["AWS/Firehose", "ExecuteProcessing.Success", "Average"],
            dims: stream,
            op: "LessThanThreshold",
            threshold: 1,
            period: 300,
            evaluations: 2,
        },
        {
            name: "firehose-partitions-exceeded",
            metric: ["AWS/Firehose", "PartitionCountExceeded", "Maximum"],
            dims: stream,
            op: "GreaterThanOrEqualToThreshold",
            threshold: 1,
            period: 60,
            evaluations: 1,
        },
        {
            name: "firehose-throttled",
            metric: ["AWS/Firehose", "ThrottledRecords", "Sum"],
            dims: stream,
            op: GT,
            threshold: 0,
            period: 300,
            evaluations: 1,
        },
    ];
}

/** A watched series as "namespace name {dims} stat", comparable between alarms and dashboard. */
const key = (ns: string, name: string, dims: Record<string, string>, stat: string) =>
    `${ns} ${name} ${JSON.stringify(Object.fromEntries(Object.entries(dims).sort()))} ${stat}`;

/** Every series an alarm reads. */
function alarmSeries(alarm: R): string[] {
    if (alarm.inputs.metricQueries) {
        return alarm.inputs.metricQueries
            .filter((q: any) => q.metric)
            .map((q: any) => key(q.metric.namespace, q.metric.metricName, q.metric.dimensions ?? {}, q.metric.stat));
    }
    return [
        key(
            alarm.inputs.namespace,
            alarm.inputs.metricName,
            alarm.inputs.dimensions ?? {},
            alarm.inputs.statistic ?? alarm.inputs.extendedStatistic,
        ),
    ];
}

function checkAlarms(list: R[], topicArn: string, freshnessThreshold?: number): void {
    const parts = programParts(list);
    const alarms = list.filter((r) => r.type === ALARM && r.name.startsWith(`${PREFIX}-monitoring-`));
    const expected = expectedAlarms(parts.routes, freshnessThreshold);
    assert.deepEqual(alarms.map((a) => a.name.slice(`${PREFIX}-monitoring-`.length)).sort(), expected.map((e) => e.name).sort());
    for (const e of expected) {
        const alarm = alarms.find((a) => a.name === `${PREFIX}-monitoring-${e.name}`)!;
        const i = alarm.inputs;
        const dims = e.dims(parts);
        assert.equal(i.comparisonOperator, e.op, e.name);
        assert.equal(i.threshold, e.threshold, e.name);
        assert.equal(i.evaluationPeriods, e.evaluations, e.name);
        assert.equal(i.datapointsToAlarm, e.evaluations, e.name);
        assert.equal(i.treatMissingData, "notBreaching", e.name);
        assert.deepEqual(i.alarmActions, [topicArn], e.name);
        assert.deepEqual(i.okActions, [topicArn], e.name);
        assert.ok(i.alarmDescription.includes("docs/operations.md"), e.name);
        if (e.metric) {
            assert.equal(i.metricQueries, undefined);
            assert.deepEqual([i.namespace, i.metricName, i.statistic ?? i.extendedStatistic], e.metric, e.name);
            assert.equal(i.statistic === undefined, e.metric[2] === "p99", `${e.name}: percentiles are extended statistics`);
            assert.deepEqual(i.dimensions ?? {}, dims, e.name);
            assert.equal(i.period, e.period, e.name);
        } else {
            const [num, den, rate] = i.metricQueries;
            for (const [query, series, id] of [
                [num, e.rate!.num, "num"],
                [den, e.rate!.den, "den"],
            ] as const) {
                assert.equal(query.id, id);
                assert.equal(query.returnData, false);
                assert.deepEqual([query.metric.namespace, query.metric.metricName, query.metric.stat], series, e.name);
                assert.deepEqual(query.metric.dimensions ?? {}, dims, e.name);
                assert.equal(query.metric.period, e.period, e.name);
            }
            assert.equal(rate.expression, `IF(den >= ${e.rate!.min}, 100 * num / den, 0)`, e.name);
            assert.equal(rate.returnData, true);
        }
    }
    // The dead-letter-queue alarms (EventRouting's) notify the same topic.
    for (const route of parts.routes) {
        const dlq = list.find((r) => r.type === ALARM && r.name === `${PREFIX}-routing-${route}-dlq-alarm`)!;
        assert.deepEqual(dlq.inputs.alarmActions, [topicArn]);
        assert.deepEqual(dlq.inputs.dimensions, { QueueName: parts.queues[route] });
        assert.deepEqual(
            [dlq.inputs.namespace, dlq.inputs.metricName, dlq.inputs.statistic, dlq.inputs.threshold],
            ["AWS/SQS", "ApproximateNumberOfMessagesVisible", "Maximum", 0],
        );
    }
}

/** The series the program's resources publish: AWS's metric names (from its docs) over this program's resource names. */
async function publishedSeries(list: R[]): Promise<(ns: string, name: string, dims: Record<string, string>) => string | undefined> {
    const p = programParts(list);
    const filter = list.find((r) => r.type === "aws:cloudwatch/logMetricFilter:LogMetricFilter")!;
    // The transform's EMF lines, from the real handler, for a record it rejects.
    const lines: string[] = [];
    await createTransformHandler({ writeLine: (line) => lines.push(line) })({
        invocationId: "i",
        deliveryStreamArn: p.streamArn,
        region: REGION,
        records: [{ recordId: "r", approximateArrivalTimestamp: 0, data: Buffer.from("{bad").toString("base64") }],
    });
    const emf = JSON.parse(lines[0]);
    const emfSets: string[][] = emf._aws.CloudWatchMetrics[0].Dimensions;
    const byNamespace: Record<string, { names: string[]; dims: Record<string, string[]>; sets?: string[][] }> = {
        "AWS/ApiGateway": {
            names: ["Count", "4XXError", "5XXError", "Latency", "IntegrationLatency"],
            dims: { ApiName: [p.apiName], Stage: [p.stage] },
            sets: [["ApiName", "Stage"]],
        },
        "AWS/Lambda": {
            names: ["Invocations", "Errors", "Throttles"],
            dims: { FunctionName: [p.authorizer, p.postConfirmation, p.transform] },
            sets: [["FunctionName"]],
        },
        "AWS/Events": {
            names: [
                "PutEventsEntriesCount",
                "PutEventsFailedEntriesCount",
                "MatchedEvents",
                "Invocations",
                "FailedInvocations",
                "RetryInvocationAttempts",
                "InvocationsSentToDlq",
                "InvocationsFailedToBeSentToDlq",
            ],
            dims: { EventBusName: [p.bus], RuleName: Object.values(p.rules) },
            sets: [[], ["EventBusName"], ["EventBusName", "RuleName"]],
        },
        "AWS/SQS": { names: ["ApproximateNumberOfMessagesVisible"], dims: { QueueName: Object.values(p.queues) }, sets: [["QueueName"]] },
        "AWS/Firehose": {
            names: [
                "IncomingRecords",
                "DeliveryToS3.Records",
                "DeliveryToS3.DataFreshness",
                "DeliveryToS3.Success",
                "ExecuteProcessing.Success",
                "PartitionCount",
                "ActivePartitionsLimit",
                "PartitionCountExceeded",
                "ThrottledRecords",
            ],
            dims: { DeliveryStreamName: [p.streamName] },
            sets: [["DeliveryStreamName"]],
        },
    };
    return (ns, name, dims) => {
        const keys = Object.keys(dims).sort();
        if (ns === "ClientEvents" && name === emf._aws.CloudWatchMetrics[0].Metrics[0].Name) {
            if (!emfSets.some((set) => [...set].sort().join() === keys.join())) return "not a dimension set the transform publishes";
            if (dims.DeliveryStreamName !== emf.DeliveryStreamName) return "another stream";
            return dims.Reason === undefined ||
                ["not-json", "not-an-event", "no-detail", "no-client-id", "transform-error", "schema-violation", "unknown-schema"].includes(
                    dims.Reason,
                )
                ? undefined
                : "unknown reason";
        }
        if (ns === filter.inputs.metricTransformation.namespace && name === filter.inputs.metricTransformation.name) {
            if (filter.inputs.logGroupName !== p.accessLogGroup) return "the filter is not on the API's access log";
            const fields = filter.inputs.metricTransformation.dimensions as Record<string, string>;
            const format = JSON.parse(ACCESS_LOG_FORMAT);
            const values: Record<string, string> = { "$context.apiId": p.apiId, "$context.stage": p.stage };
            const published = Object.fromEntries(
                Object.entries(fields).map(([k, field]) => [k, values[format[field.replace(/^\$\./, "")]]]),
            );
            return JSON.stringify(published) === JSON.stringify(Object.fromEntries(Object.entries(dims)))
                ? undefined
                : `the filter publishes ${JSON.stringify(published)}`;
        }
        const known = byNamespace[ns];
        if (!known || !known.names.includes(name)) return "not a metric of this namespace";
        if (!known.sets!.some((set) => [...set].sort().join() === keys.join())) return "not a dimension set of this namespace";
        for (const [k, v] of Object.entries(dims)) if (!known.dims[k]?.includes(v)) return `${k}=${v} is none of the program's resources`;
        return undefined;
    };
}

/** Every metric line of the dashboard as [namespace, name, dims, stat]. */
function dashboardSeries(body: any): Array<{ ns: string; name: string; dims: Record<string, string>; stat: string; title: string }> {
    const out = [];
    for (const widget of body.widgets) {
        if (widget.type !== "metric") continue;
        for (const line of widget.properties.metrics) {
            const [ns, name, ...rest] = line;
            const options = rest.pop();
            const dims: Record<string, string> = {};
            for (let i = 0; i < rest.length; i += 2) dims[rest[i]] = rest[i + 1];
            out.push({ ns, name, dims, stat: options.stat, title: widget.properties.title });
        }
    }
    return out;
}

async function checkDashboard(list: R[], dashboardName: string): Promise<void> {
    const dashboard = list.find((r) => r.type === "aws:cloudwatch/dashboard:Dashboard")!;
    assert.equal(dashboard.inputs.dashboardName, dashboardName);
    assert.match(dashboardName, /^[A-Za-z0-9_-]{1,255}$/, "a name CloudWatch accepts");
    const body = JSON.parse(dashboard.inputs.dashboardBody);
    const lines = dashboardSeries(body);
    const published = await publishedSeries(list);
    const problems = lines
        .map((l) => [l, published(l.ns, l.name, l.dims)] as const)
        .filter(([, why]) => why)
        .map(([l, why]) => `${l.title}: ${l.ns} ${l.name} ${JSON.stringify(l.dims)}: ${why}`);
    assert.deepEqual(problems, []);
    const shown = new Set(lines.map((l) => key(l.ns, l.name, l.dims, l.stat)));
    const alarms = list.filter((r) => r.type === ALARM);
    const missing = alarms.flatMap(alarmSeries).filter((s) => !shown.has(s));
    assert.deepEqual(missing, [], "the dashboard shows every series an alarm watches, with the alarm's statistic");
    // The status widget lists every alarm; widgets fit the 24-column grid without overlapping.
    const status = body.widgets.find((w: any) => w.type === "alarm");
    assert.deepEqual([...status.properties.alarms].sort(), alarms.map((a) => a.state.arn).sort());
    const cells = new Set<string>();
    for (const w of body.widgets) {
        assert.ok(w.x >= 0 && w.x + w.width <= 24, `widget ${w.properties.title ?? w.type} fits the grid`);
        for (let x = w.x; x < w.x + w.width; x++)
            for (let y = w.y; y < w.y + w.height; y++) {
                assert.ok(!cells.has(`${x},${y}`), `overlap at ${x},${y}`);
                cells.add(`${x},${y}`);
            }
    }
    for (const w of body.widgets.filter((w: any) => w.type === "metric")) assert.equal(w.properties.region, REGION);
}

function runChild(config: Record<string, string>): { outputs: Record<string, any>; resources: R[] } {
    return runProgramChild("program-monitoring.ts", config, ['{"outputs"']);
}

describe("monitoring (index.ts, default config)", function () {
    this.timeout(120_000);
    let program: Record<string, unknown>;
    let list: R[];
    before(async () => {
        program = require("../index");
        await valueOf(program.dashboardName as pulumi.Output<string>);
        await registrationsDone();
        list = mocked.filter((r) => r.name.startsWith(`${PREFIX}-`));
    });

    it("creates every alarm of the docs, on the program's own resources, notifying the stack's topic", async () => {
        const topic = list.find((r) => r.type === "aws:sns/topic:Topic" && r.name === `${PREFIX}-alarms-topic`)!;
        assert.equal(await valueOf(program.alarmTopicArn as pulumi.Output<string>), topic.state.arn);
        checkAlarms(list, topic.state.arn);
    });

    it("encrypts the topic with its own key that CloudWatch alarms of this account may use (not alias/aws/sns)", async () => {
        const topic = list.find((r) => r.type === "aws:sns/topic:Topic")!;
        const key = list.find((r) => r.type === "aws:kms/key:Key" && r.name === `${PREFIX}-alarms-key`)!;
        assert.equal(topic.inputs.kmsMasterKeyId, key.state.arn);
        assert.equal(key.inputs.enableKeyRotation, true);
        const keyPolicy = JSON.parse(key.inputs.policy);
        const kms = (action: string, principal: string, account: string) =>
            evaluate({ Version: "2012-10-17", Statement: [] }, action, key.state.arn, {
                principal,
                resourcePolicy: keyPolicy,
                context: { "aws:SourceAccount": account },
            });
        for (const action of ["kms:Decrypt", "kms:GenerateDataKey"]) {
            assert.equal(await kms(action, "cloudwatch.amazonaws.com", ACCOUNT), "Allowed", action);
            assert.notEqual(
                await kms(action, "cloudwatch.amazonaws.com", "210987654321"),
                "Allowed",
                `${action} for another account's alarms`,
            );
            assert.notEqual(await kms(action, "events.amazonaws.com", ACCOUNT), "Allowed", `${action} for another service`);
        }
        assert.notEqual(await kms("kms:ScheduleKeyDeletion", "cloudwatch.amazonaws.com", ACCOUNT), "Allowed");
    });

    it("lets only this account's alarms publish to the topic, over TLS (topic policy evaluated)", async () => {
        const topic = list.find((r) => r.type === "aws:sns/topic:Topic")!;
        const policy = list.find((r) => r.type === "aws:sns/topicPolicy:TopicPolicy")!;
        assert.equal(policy.inputs.arn, topic.state.arn);
        const doc = JSON.parse(policy.inputs.policy);
        const alarmArn = `arn:aws:cloudwatch:${REGION}:${ACCOUNT}:alarm:${PREFIX}-monitoring-api-5xx-rate`;
        const publish = (principal: string, sourceArn: string, account = ACCOUNT, tls = "true") =>
            evaluate({ Version: "2012-10-17", Statement: [] }, "sns:Publish", topic.state.arn, {
                principal,
                resourcePolicy: doc,
                context: { "aws:SourceArn": sourceArn, "aws:SourceAccount": account, "aws:SecureTransport": tls },
            });
        assert.equal(await publish("cloudwatch.amazonaws.com", alarmArn), "Allowed");
        assert.notEqual(await publish("cloudwatch.amazonaws.com", alarmArn, "210987654321"), "Allowed");
        assert.notEqual(
            await publish("cloudwatch.amazonaws.com", `arn:aws:cloudwatch:${REGION}:210987654321:alarm:x`, "210987654321"),
            "Allowed",
        );
        assert.notEqual(await publish("cloudwatch.amazonaws.com", alarmArn, ACCOUNT, "false"), "Allowed");
        assert.notEqual(await publish("events.amazonaws.com", `arn:aws:events:${REGION}:${ACCOUNT}:rule/x`), "Allowed");
        assert.equal(
            list.filter((r) => r.type === "aws:sns/topicSubscription:TopicSubscription").length,
            0,
            "no e-mail address configured",
        );
    });

    it("counts the API's 207 answers with a metric filter on its access log, whose fields carry the dimensions", () => {
        const parts = programParts(list);
        const filter = list.find((r) => r.type === "aws:cloudwatch/logMetricFilter:LogMetricFilter")!;
        assert.equal(filter.inputs.logGroupName, parts.accessLogGroup);
        assert.equal(filter.inputs.pattern, '{ $.status = "207" }');
        assert.deepEqual(filter.inputs.metricTransformation, {
            namespace: "ClientEvents",
            name: "RequestsWithFailedEntries",
            value: "1",
            unit: "Count",
            dimensions: { ApiId: "$.apiId", Stage: "$.stage" },
        });
        const format = JSON.parse(ACCESS_LOG_FORMAT);
        assert.equal(format.apiId, "$context.apiId");
        assert.equal(format.stage, "$context.stage");
        assert.equal(format.status, "$context.status");
    });

    it("builds a dashboard whose every series the program publishes, showing every series an alarm watches", async () => {
        await checkDashboard(list, await valueOf(program.dashboardName as pulumi.Output<string>));
    });
});

describe("monitoring (index.ts): Zendesk, an existing topic and an e-mail address", function () {
    this.timeout(120_000);
    const topicArn = "arn:aws:sns:us-east-1:123456789012:ops-alerts";
    let result: { outputs: Record<string, any>; resources: R[] };
    before(() => {
        result = runChild({
            "client-events:zendeskEmail": "support@example.com",
            "client-events:zendeskEndpoint": "https://acme.zendesk.com/api/v2/tickets",
            "client-events:zendeskApiToken": "zd-secret-token-42",
            "client-events:alarmTopicArn": topicArn,
            "client-events:alarmEmail": "ops@example.com",
            "client-events:firehoseBufferIntervalSeconds": "900",
        });
    });

    it("notifies the given topic, creates no topic or key, and subscribes the address to it", () => {
        assert.equal(result.outputs.alarmTopicArn, topicArn);
        assert.equal(result.resources.filter((r) => r.type === "aws:sns/topic:Topic" || r.type === "aws:kms/key:Key").length, 0);
        const subscriptions = result.resources.filter((r) => r.type === "aws:sns/topicSubscription:TopicSubscription");
        assert.deepEqual(
            subscriptions.map((s) => [s.inputs.topic, s.inputs.protocol, s.inputs.endpoint]),
            [[topicArn, "email", "ops@example.com"]],
        );
    });

    it("alarms on the Zendesk route too, and follows the buffer interval in the freshness threshold", async () => {
        const parts = programParts(result.resources);
        assert.deepEqual(parts.routes, ["archive", "zendesk"]);
        // As with the default config, with the Zendesk rule's alarms, and 1.5 x 900 + 60 + 300 s for freshness.
        checkAlarms(result.resources, topicArn, 1710);
        await checkDashboard(result.resources, result.outputs.dashboardName);
        const body = JSON.parse(result.resources.find((r) => r.type === "aws:cloudwatch/dashboard:Dashboard")!.inputs.dashboardBody);
        const zendesk = body.widgets.find((w: any) => w.properties?.title === "Tickets");
        assert.ok(zendesk, "a Zendesk widget");
        assert.ok(zendesk.properties.metrics.every((m: unknown[]) => m.includes(parts.rules.zendesk)));
        const freshnessWidget = body.widgets.find((w: any) => w.properties?.title === "Freshness (s)");
        assert.deepEqual(freshnessWidget.properties.annotations.horizontal, [{ label: "alarm", value: 1710 }]);
    });
});

describe("monitoring (index.ts): monitoring off", function () {
    this.timeout(120_000);
    it("creates no topic, alarm or dashboard beyond the dead-letter-queue alarms, which keep no actions", () => {
        const result = runChild({ "client-events:monitoring": "false" });
        const types = new Set(result.resources.map((r) => r.type));
        for (const type of [
            "aws:sns/topic:Topic",
            "aws:kms/key:Key",
            "aws:cloudwatch/dashboard:Dashboard",
            "aws:cloudwatch/logMetricFilter:LogMetricFilter",
        ]) {
            assert.ok(!types.has(type), type);
        }
        const alarms = result.resources.filter((r) => r.type === ALARM);
        assert.deepEqual(
            alarms.map((a) => a.name),
            [`${PREFIX}-routing-archive-dlq-alarm`],
        );
        assert.deepEqual(alarms[0].inputs.alarmActions, []);
        assert.equal(result.outputs.alarmTopicArn, null);
        assert.equal(result.outputs.dashboardName, null);
    });
});
