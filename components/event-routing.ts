import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import type { PolicyStatement } from "./handler-function";
import { replayArchiveName } from "../pipeline/naming";
import { DEAD_LETTER_ALARM } from "../pipeline/alarms";
import { METRICS } from "../pipeline/metrics";
import { ARCHIVE_ROUTE, DEFAULT_RETRY_POLICY, DLQ_RETENTION_SECONDS, ROUTES, ZENDESK_ROUTE, type RetryPolicy } from "../pipeline/routes";

// The routes' patterns and retry policies are plain data in pipeline/routes.ts (local mode runs them too).
export { ARCHIVE_RETRY_POLICY, DEFAULT_RETRY_POLICY, DLQ_RETENTION_SECONDS, type RetryPolicy } from "../pipeline/routes";

/** One rule target. */
export interface RouteTargetArgs {
    /** ARN of the target (Firehose stream, API destination, queue, function...). */
    arn: pulumi.Input<string>;
    /**
     * What EventBridge must be allowed to do to deliver to the target; it becomes the target's own role
     * (assumable by EventBridge for this rule only). Omit for targets that authorise EventBridge with a
     * resource policy (Lambda, SNS, SQS), and grant that policy yourself.
     */
    roleStatements?: pulumi.Input<PolicyStatement[]>;
    /** Reshapes the event for the target (EventBridge InputTransformer). */
    inputTransformer?: pulumi.Input<{
        inputPaths?: pulumi.Input<Record<string, pulumi.Input<string>>>;
        inputTemplate: pulumi.Input<string>;
    }>;
    /** Retries before the event goes to the route's dead-letter queue. Default DEFAULT_RETRY_POLICY. */
    retryPolicy?: pulumi.Input<RetryPolicy>;
}

/** A rule on the bus with one target (and its own dead-letter queue). */
export interface RouteArgs {
    /** The EventBridge event pattern (an object). */
    eventPattern: pulumi.Input<Record<string, unknown>>;
    /** Shown in the EventBridge console. */
    description?: pulumi.Input<string>;
    /** Where matching events go (an object of Inputs, not an Input: whether it has `roleStatements` decides whether a role exists). */
    target: RouteTargetArgs;
}

export interface EventRoutingArgs {
    /** ARN of the archive's Firehose stream: every client event is sent there. */
    archiveStreamArn: pulumi.Input<string>;
    /**
     * The Zendesk ticket target (see ZendeskDestination.target); omit to deploy without Zendesk. Plain objects,
     * here and in `routes` and `replayArchive` (their fields are Inputs): whether they are given, and the route
     * names, decide which rules, queues and alarms exist, which Pulumi must know when it plans.
     */
    zendesk?: RouteTargetArgs;
    /** Your own rules, by name (letters, digits and "-"; "archive" and "zendesk" are taken). */
    routes?: Record<string, RouteArgs>;
    /** Where the dead-letter-queue alarms notify (e.g. an SNS topic ARN); omit for alarms without actions. */
    alarmActions?: pulumi.Input<pulumi.Input<string>[]>;
    /** Keep every event of the bus in an EventBridge archive for replay; omit for no archive. */
    replayArchive?: {
        /** Days events are kept; 0 keeps them forever. */
        retentionDays: pulumi.Input<number>;
        /**
         * The archive's name before its suffix ("-" and 6 hex characters derived from the bus ARN: EventBridge
         * allows 48 characters); default `<name>-replay`.
         */
        namePrefix?: pulumi.Input<string>;
    };
}

/** What EventRouting creates for one route. */
export interface Route {
    rule: aws.cloudwatch.EventRule;
    target: aws.cloudwatch.EventTarget;
    deadLetterQueue: aws.sqs.Queue;
    /** The queue policy (JSON): EventBridge may send, for this rule only. */
    queuePolicyDocument: pulumi.Output<string>;
    /** The target's role, when the target needs one. */
    role?: aws.iam.Role;
    /** The role's policy (JSON). */
    rolePolicyDocument?: pulumi.Output<string>;
    /** Alarms as soon as one event is in the dead-letter queue. */
    deadLetterAlarm: aws.cloudwatch.MetricAlarm;
}

const ROUTE_NAME = /^[a-z0-9][a-z0-9-]{0,30}$/;

/**
 * The client-events bus and its routing: a rule per route, each with one target, a retry policy, an
 * encrypted dead-letter queue that only that rule may write to, and (for targets that need one) a role
 * that allows exactly the delivery. Built in: every client event to the archive's Firehose stream, and
 * loyalty purchases to Zendesk. Optionally an EventBridge archive of the bus for replay.
 */
export class EventRouting extends pulumi.ComponentResource {
    public readonly bus: aws.cloudwatch.EventBus;
    public readonly busName: pulumi.Output<string>;
    public readonly busArn: pulumi.Output<string>;
    public readonly routes: Record<string, Route>;
    /** Dead-letter queue URL by route name. */
    public readonly deadLetterQueueUrls: pulumi.Output<Record<string, string>>;
    public readonly replayArchive?: aws.cloudwatch.EventArchive;

    constructor(name: string, args: EventRoutingArgs, opts?: pulumi.ComponentResourceOptions) {
        const extra = Object.keys(args.routes ?? {});
        for (const route of extra) {
            if (!ROUTE_NAME.test(route) || route === "archive" || route === "zendesk") {
                throw new Error(
                    `EventRouting ${name}: route name ${JSON.stringify(route)} must be 1 to 31 lowercase letters, digits or "-", and not "archive" or "zendesk"`,
                );
            }
        }
        super("client-events:index:EventRouting", name, {}, opts);

        this.bus = new aws.cloudwatch.EventBus(`${name}-bus`, {}, { parent: this });
        this.busName = this.bus.name;
        this.busArn = this.bus.arn;

        const routes: Record<string, RouteArgs> = {
            [ARCHIVE_ROUTE]: {
                eventPattern: ROUTES.archive.eventPattern,
                description: ROUTES.archive.description,
                target: {
                    arn: args.archiveStreamArn,
                    roleStatements: pulumi.output(args.archiveStreamArn).apply((arn): PolicyStatement[] => [
                        {
                            Sid: "PutToArchiveStream",
                            Effect: "Allow",
                            Action: ["firehose:PutRecord", "firehose:PutRecordBatch"],
                            Resource: [arn],
                        },
                    ]),
                    retryPolicy: ROUTES.archive.retryPolicy,
                },
            },
        };
        if (args.zendesk) {
            routes[ZENDESK_ROUTE] = {
                eventPattern: ROUTES.zendesk.eventPattern,
                description: ROUTES.zendesk.description,
                target: args.zendesk,
            };
        }
        Object.assign(routes, args.routes ?? {});

        this.routes = {};
        for (const [route, spec] of Object.entries(routes))
            this.routes[route] = this.createRoute(`${name}-${route}`, route, spec, args.alarmActions);

        this.deadLetterQueueUrls = pulumi.all(
            Object.fromEntries(Object.entries(this.routes).map(([route, r]) => [route, r.deadLetterQueue.url])),
        );

        if (args.replayArchive) {
            this.replayArchive = new aws.cloudwatch.EventArchive(
                `${name}-replay`,
                {
                    name: pulumi
                        .all([args.replayArchive.namePrefix ?? `${name}-replay`, this.bus.arn])
                        .apply(([prefix, busArn]) => replayArchiveName(prefix, busArn)),
                    eventSourceArn: this.bus.arn,
                    retentionDays: args.replayArchive.retentionDays,
                    description: "Every event of the client-events bus, for replay",
                },
                { parent: this },
            );
        }

        this.registerOutputs({
            bus: this.bus,
            busName: this.busName,
            busArn: this.busArn,
            routes: this.routes,
            deadLetterQueueUrls: this.deadLetterQueueUrls,
            replayArchive: this.replayArchive,
        });
    }

    private createRoute(prefix: string, route: string, spec: RouteArgs, alarmActions?: pulumi.Input<pulumi.Input<string>[]>): Route {
        const rule = new aws.cloudwatch.EventRule(
            `${prefix}-rule`,
            {
                eventBusName: this.bus.name,
                description: spec.description,
                eventPattern: pulumi.output(spec.eventPattern).apply((pattern) => JSON.stringify(pattern)),
                state: "ENABLED",
            },
            { parent: this },
        );
        const { deadLetterQueue, queuePolicyDocument, queuePolicy } = this.createDeadLetterQueue(prefix, rule);
        const dependsOn: pulumi.Resource[] = [queuePolicy];
        const targetRole =
            spec.target.roleStatements !== undefined ? this.createTargetRole(prefix, rule, spec.target.roleStatements) : undefined;
        if (targetRole) dependsOn.push(targetRole.policy);

        const target = new aws.cloudwatch.EventTarget(
            `${prefix}-target`,
            {
                rule: rule.name,
                eventBusName: this.bus.name,
                arn: spec.target.arn,
                roleArn: targetRole?.role.arn,
                inputTransformer: spec.target.inputTransformer,
                retryPolicy: spec.target.retryPolicy ?? DEFAULT_RETRY_POLICY,
                deadLetterConfig: { arn: deadLetterQueue.arn },
            },
            { parent: this, dependsOn },
        );
        const deadLetterAlarm = this.createDeadLetterAlarm(prefix, route, deadLetterQueue, alarmActions);
        return {
            rule,
            target,
            deadLetterQueue,
            queuePolicyDocument,
            role: targetRole?.role,
            rolePolicyDocument: targetRole?.policyDocument,
            deadLetterAlarm,
        };
    }

    /** The route's dead-letter queue (SSE-SQS) and its policy: only this rule may send, over TLS only. */
    private createDeadLetterQueue(
        prefix: string,
        rule: aws.cloudwatch.EventRule,
    ): { deadLetterQueue: aws.sqs.Queue; queuePolicyDocument: pulumi.Output<string>; queuePolicy: aws.sqs.QueuePolicy } {
        // SSE-SQS: encrypted at rest with no key policy for EventBridge to need.
        const deadLetterQueue = new aws.sqs.Queue(
            `${prefix}-dlq`,
            {
                sqsManagedSseEnabled: true,
                messageRetentionSeconds: DLQ_RETENTION_SECONDS,
            },
            { parent: this },
        );
        const queuePolicyDocument = pulumi.all([deadLetterQueue.arn, rule.arn]).apply(([queueArn, ruleArn]) =>
            JSON.stringify({
                Version: "2012-10-17",
                Statement: [
                    {
                        Sid: "EventBridgeDeadLetters",
                        Effect: "Allow",
                        Principal: { Service: "events.amazonaws.com" },
                        Action: "sqs:SendMessage",
                        Resource: queueArn,
                        Condition: { ArnEquals: { "aws:SourceArn": ruleArn } },
                    },
                    {
                        Sid: "DenyInsecureTransport",
                        Effect: "Deny",
                        Principal: "*",
                        Action: "sqs:*",
                        Resource: queueArn,
                        Condition: { Bool: { "aws:SecureTransport": "false" } },
                    },
                ],
            }),
        );
        const queuePolicy = new aws.sqs.QueuePolicy(
            `${prefix}-dlq-policy`,
            { queueUrl: deadLetterQueue.url, policy: queuePolicyDocument },
            { parent: this },
        );
        return { deadLetterQueue, queuePolicyDocument, queuePolicy };
    }

    /** The target's role: assumable by EventBridge for this rule of this account only, allowed exactly `statements`. */
    private createTargetRole(
        prefix: string,
        rule: aws.cloudwatch.EventRule,
        statements: pulumi.Input<PolicyStatement[]>,
    ): { role: aws.iam.Role; policyDocument: pulumi.Output<string>; policy: aws.iam.RolePolicy } {
        const account = aws.getCallerIdentityOutput({}, { parent: this }).accountId;
        const role = new aws.iam.Role(
            `${prefix}-role`,
            {
                assumeRolePolicy: pulumi.all([account, rule.arn]).apply(([accountId, ruleArn]) =>
                    JSON.stringify({
                        Version: "2012-10-17",
                        Statement: [
                            {
                                Effect: "Allow",
                                Principal: { Service: "events.amazonaws.com" },
                                Action: "sts:AssumeRole",
                                // Only this rule of this account can use the role (confused-deputy protection).
                                Condition: {
                                    StringEquals: { "aws:SourceAccount": accountId },
                                    ArnEquals: { "aws:SourceArn": ruleArn },
                                },
                            },
                        ],
                    }),
                ),
            },
            { parent: this },
        );
        const policyDocument = pulumi
            .output(statements)
            .apply((Statement) => pulumi.output({ Version: "2012-10-17", Statement }))
            .apply((doc) => JSON.stringify(doc));
        const policy = new aws.iam.RolePolicy(`${prefix}-policy`, { role: role.id, policy: policyDocument }, { parent: this });
        return { role, policyDocument, policy };
    }

    /** A dead letter is an event a target never got: worth a look every time (pipeline/alarms.ts). */
    private createDeadLetterAlarm(
        prefix: string,
        route: string,
        deadLetterQueue: aws.sqs.Queue,
        alarmActions?: pulumi.Input<pulumi.Input<string>[]>,
    ): aws.cloudwatch.MetricAlarm {
        const dlqMetric = METRICS.dlqVisible;
        return new aws.cloudwatch.MetricAlarm(
            `${prefix}-dlq-alarm`,
            {
                alarmDescription: pulumi.interpolate`Events of route "${route}" could not be delivered and wait in ${deadLetterQueue.name} (see the README: dead-letter queues and redrive)`,
                namespace: dlqMetric.namespace,
                metricName: dlqMetric.metricName,
                dimensions: { [dlqMetric.dimensionKeys[0]]: deadLetterQueue.name },
                statistic: dlqMetric.stat,
                period: DEAD_LETTER_ALARM.periodSeconds,
                evaluationPeriods: DEAD_LETTER_ALARM.evaluationPeriods,
                datapointsToAlarm: DEAD_LETTER_ALARM.datapointsToAlarm,
                threshold: DEAD_LETTER_ALARM.threshold,
                comparisonOperator: DEAD_LETTER_ALARM.comparison,
                treatMissingData: DEAD_LETTER_ALARM.treatMissingData,
                alarmActions: alarmActions ?? [],
                okActions: alarmActions ?? [],
            },
            { parent: this },
        );
    }
}
