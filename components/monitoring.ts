import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import {
    alarmInstances,
    alarmSpecs,
    DEAD_LETTER_ALARM,
    rateExpression,
    type AlarmInstance,
    type FunctionRole,
    type PipelineResources,
} from "../pipeline/alarms";
import { dashboardBody } from "../pipeline/dashboard";
import { METRICS, REQUESTS_WITH_FAILED_ENTRIES, type MetricId } from "../pipeline/metrics";

export interface MonitoringArgs {
    /** The SNS topic every alarm notifies on ALARM and on OK (see AlarmTopic). */
    alarmTopicArn: pulumi.Input<string>;
    /** The ingest API: its name (the ApiName dimension), id and stage, and its JSON access log group. */
    api: {
        name: pulumi.Input<string>;
        id: pulumi.Input<string>;
        stage: pulumi.Input<string>;
        /** Unset when the API logs nothing (apiGatewayCloudWatchRole off): no 207 count then. */
        accessLogGroupName?: pulumi.Input<string>;
    };
    /** Names of the authorizer, post-confirmation trigger and Firehose transform Lambdas. */
    functions: Record<FunctionRole, pulumi.Input<string>>;
    /** Name of the client-events bus. */
    eventBusName: pulumi.Input<string>;
    /** Each route's rule name and dead-letter queue name, by route name (EventRouting.routes). */
    routes: Record<string, { ruleName: pulumi.Input<string>; deadLetterQueueName: pulumi.Input<string> }>;
    /** Name of the archive's Firehose stream. */
    deliveryStreamName: pulumi.Input<string>;
    /**
     * The stream's buffer interval, seconds: the freshness alarm's threshold follows it. Plain, not an Input: the
     * alarms are computed as plain data by pipeline/alarms.ts, which local mode evaluates too. The route names of
     * `routes` and whether `api.accessLogGroupName` is given are plain for the same reason as EventRouting's routes.
     */
    bufferIntervalSeconds: number;
    /** ARNs of alarms created elsewhere (the dead-letter-queue alarms) to list on the dashboard too. */
    otherAlarmArns?: pulumi.Input<pulumi.Input<string>[]>;
}

/**
 * The pipeline's alarms (pipeline/alarms.ts, all but the dead-letter-queue ones, which EventRouting keeps
 * next to each queue), a metric filter that counts the API's 207 answers, and a CloudWatch dashboard that
 * follows one event from the request to S3 and to Zendesk. Metrics, dimensions and statistics all come from
 * pipeline/metrics.ts.
 */
export class Monitoring extends pulumi.ComponentResource {
    /** Every alarm created here, by name (e.g. "api-5xx-rate", "archive-failed-invocations"). */
    public readonly alarms: Record<string, aws.cloudwatch.MetricAlarm>;
    public readonly dashboard: aws.cloudwatch.Dashboard;
    public readonly dashboardName: pulumi.Output<string>;
    /** Counts 207 answers from the access log (absent when the API logs nothing). */
    public readonly failedEntriesFilter?: aws.cloudwatch.LogMetricFilter;

    constructor(name: string, args: MonitoringArgs, opts?: pulumi.ComponentResourceOptions) {
        super("client-events:index:Monitoring", name, {}, opts);
        const parent = { parent: this };
        const resources: PipelineResources<pulumi.Input<string>> = {
            api: { name: args.api.name, id: args.api.id, stage: args.api.stage },
            functions: args.functions,
            eventBusName: args.eventBusName,
            routes: args.routes,
            deliveryStreamName: args.deliveryStreamName,
        };

        // One metric per 207 answer (PutEvents failed some entries), with the API's id and stage as dimensions.
        this.failedEntriesFilter =
            args.api.accessLogGroupName === undefined
                ? undefined
                : new aws.cloudwatch.LogMetricFilter(
                      `${name}-failed-entries`,
                      {
                          logGroupName: args.api.accessLogGroupName,
                          pattern: REQUESTS_WITH_FAILED_ENTRIES.filterPattern,
                          metricTransformation: {
                              namespace: REQUESTS_WITH_FAILED_ENTRIES.namespace,
                              name: REQUESTS_WITH_FAILED_ENTRIES.metricName,
                              value: "1",
                              unit: "Count",
                              dimensions: { ...REQUESTS_WITH_FAILED_ENTRIES.dimensionFields },
                          },
                      },
                      parent,
                  );

        const specs = alarmSpecs({ bufferIntervalSeconds: args.bufferIntervalSeconds }).filter((s) => s.id !== DEAD_LETTER_ALARM.id);
        this.alarms = {};
        for (const instance of alarmInstances(specs, resources)) {
            this.alarms[instance.name] = this.createAlarm(`${name}-${instance.name}`, instance, args.alarmTopicArn);
        }

        const alarmArns = pulumi
            .all([pulumi.output(args.otherAlarmArns ?? []), pulumi.all(Object.values(this.alarms).map((a) => a.arn))])
            .apply(([others, own]) => [...own, ...others]);
        const region = aws.getRegionOutput({}, parent).region;
        this.dashboardName = pulumi.interpolate`${name}-${region}`;
        this.dashboard = new aws.cloudwatch.Dashboard(
            `${name}-dashboard`,
            {
                dashboardName: this.dashboardName,
                dashboardBody: pulumi
                    .all([pulumi.output(resources as PipelineResources<pulumi.Input<string>>), region, alarmArns])
                    .apply(([plain, reg, arns]) =>
                        dashboardBody(plain as PipelineResources<string>, {
                            region: reg,
                            bufferIntervalSeconds: args.bufferIntervalSeconds,
                            alarmArns: arns,
                        }),
                    ),
            },
            parent,
        );

        this.registerOutputs({
            alarms: this.alarms,
            dashboard: this.dashboard,
            dashboardName: this.dashboardName,
            failedEntriesFilter: this.failedEntriesFilter,
        });
    }

    private createAlarm(
        name: string,
        instance: AlarmInstance<pulumi.Input<string>>,
        topicArn: pulumi.Input<string>,
    ): aws.cloudwatch.MetricAlarm {
        const { spec } = instance;
        const actions = [topicArn];
        const common = {
            alarmDescription: `${spec.title}: ${spec.why} Runbook: docs/operations.md (alarm ${spec.id}).`,
            comparisonOperator: spec.comparison,
            threshold: spec.threshold,
            evaluationPeriods: spec.evaluationPeriods,
            datapointsToAlarm: spec.datapointsToAlarm,
            treatMissingData: spec.treatMissingData,
            alarmActions: actions,
            okActions: actions,
        };
        const signal = spec.signal;
        if (signal.kind === "metric") {
            const def = METRICS[signal.metric];
            const percentile = def.stat.startsWith("p");
            return new aws.cloudwatch.MetricAlarm(
                name,
                {
                    ...common,
                    namespace: def.namespace,
                    metricName: def.metricName,
                    dimensions: instance.dimensions[signal.metric],
                    period: spec.periodSeconds,
                    statistic: percentile ? undefined : def.stat,
                    extendedStatistic: percentile ? def.stat : undefined,
                },
                { parent: this },
            );
        }
        const query = (id: string, metric: MetricId) => ({
            id,
            returnData: false,
            metric: {
                namespace: METRICS[metric].namespace,
                metricName: METRICS[metric].metricName,
                dimensions: instance.dimensions[metric],
                stat: METRICS[metric].stat,
                period: spec.periodSeconds,
            },
        });
        return new aws.cloudwatch.MetricAlarm(
            name,
            {
                ...common,
                metricQueries: [
                    query("num", signal.numerator),
                    query("den", signal.denominator),
                    { id: "rate", expression: rateExpression(signal), label: signal.label, returnData: true },
                ],
            },
            { parent: this },
        );
    }
}
