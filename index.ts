/**
 * client-events: the Pulumi program. Composes the components and exports the stack outputs.
 *
 *   IdentityPool  - Cognito user pool, app client, post-confirmation trigger (clientId per user)
 *   IngestApi     - REST API POST /event -> TOKEN authorizer -> EventBridge PutEvents
 *   Archive       - S3 bucket fed by a Firehose stream (transform Lambda, jq partitioning, NDJSON)
 *   ZendeskDestination - EventBridge connection + API destination that opens Zendesk tickets (optional)
 *   EventRouting  - the client-events bus, its rules and targets (each with retries and a DLQ)
 *   AlarmTopic, Monitoring - the encrypted alarm topic; alarms wherever events can be lost, and a dashboard
 *   ArchiveQuery  - Glue tables over the archive, an Athena workgroup, named queries, an analyst policy (optional)
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { loadConfig } from "./config";
import { resourcePrefix } from "./pipeline/naming";
import { IdentityPool } from "./components/identity-pool";
import { IngestApi } from "./components/ingest-api";
import { Archive } from "./components/archive";
import { EventRouting } from "./components/event-routing";
import { ZendeskDestination } from "./components/zendesk-destination";
import { compileSchemas } from "./schemas/compile";
import { AlarmTopic } from "./components/alarm-topic";
import { Monitoring } from "./components/monitoring";
import { ArchiveQuery } from "./components/archive-query";

const config = loadConfig();
const prefix = resourcePrefix(config.environment);

// --- identity -------------------------------------------------------------------------------------
const identity = new IdentityPool(`${prefix}-identity`, {
    threatProtection: config.threatProtection,
    deletionProtection: config.userPoolDeletionProtection,
    accessTokenValidityMinutes: config.accessTokenValidityMinutes,
    idTokenValidityMinutes: config.idTokenValidityMinutes,
    refreshTokenValidityDays: config.refreshTokenValidityDays,
    logRetentionDays: config.logRetentionDays,
});

// --- routing --------------------------------------------------------------------------------------
const archive = new Archive(`${prefix}-archive`, {
    forceDestroy: config.archiveForceDestroy,
    transitionDays: config.archiveTransitionDays,
    transitionStorageClass: config.archiveTransitionStorageClass,
    expirationDays: config.archiveExpirationDays,
    compression: config.archiveCompression,
    bufferingSizeMiB: config.firehoseBufferSizeMiB,
    bufferingIntervalSeconds: config.firehoseBufferIntervalSeconds,
    partitioning: config.partitioning,
    logRetentionDays: config.logRetentionDays,
    // Compiled now from schemas/*/*.json, so the deployed validators always match the files.
    schemas: { validators: compileSchemas().validators, enforcement: config.schemaEnforcement, unknownSchema: config.unknownSchema },
});

// Zendesk is optional: config.ts has already rejected a partial Zendesk configuration.
const zendesk =
    config.zendesk && config.zendeskApiToken
        ? new ZendeskDestination(`${prefix}-zendesk`, {
              email: config.zendesk.email,
              apiToken: config.zendeskApiToken,
              endpoint: config.zendesk.endpoint,
              invocationRateLimitPerSecond: config.zendesk.ratePerSecond,
          })
        : undefined;
if (!zendesk) {
    pulumi.log.warn(
        "Zendesk is not configured: loyalty purchases are archived but open no ticket. " +
            "Set client-events:zendeskEmail, client-events:zendeskEndpoint and (with --secret) client-events:zendeskApiToken to enable it.",
    );
}

// The alarm topic comes before the routes: their dead-letter-queue alarms notify it too.
const alarmTopic = config.monitoring
    ? new AlarmTopic(`${prefix}-alarms`, { topicArn: config.alarmTopicArn, email: config.alarmEmail })
    : undefined;
const alarmTopicArnOrUnset = alarmTopic?.topicArn ?? config.alarmTopicArn;

const routing = new EventRouting(`${prefix}-routing`, {
    archiveStreamArn: archive.deliveryStreamArn,
    zendesk: zendesk?.target,
    alarmActions: alarmTopicArnOrUnset ? [alarmTopicArnOrUnset] : undefined,
    replayArchive:
        config.eventArchiveRetentionDays > 0
            ? { retentionDays: config.eventArchiveRetentionDays, namePrefix: `${prefix}-replay` }
            : undefined,
});
const busName: pulumi.Output<string> = routing.busName;
const busArn: pulumi.Output<string> = routing.busArn;

// --- ingest ---------------------------------------------------------------------------------------
const ingest = new IngestApi(`${prefix}-ingest`, {
    environment: config.environment,
    eventBusName: busName,
    eventBusArn: busArn,
    userPoolId: identity.userPool.id,
    userPoolArn: identity.userPool.arn,
    userPoolClientId: identity.client.id,
    authorizerCacheTtlSeconds: config.authorizerCacheTtlSeconds,
    throttleRateLimit: config.throttleRateLimit,
    throttleBurstLimit: config.throttleBurstLimit,
    executionLogLevel: config.apiExecutionLogLevel,
    cloudWatchRole: config.apiGatewayCloudWatchRole,
    corsAllowOrigin: config.corsAllowOrigin,
    logRetentionDays: config.logRetentionDays,
});

// --- monitoring -----------------------------------------------------------------------------------
const monitoring = alarmTopic
    ? new Monitoring(`${prefix}-monitoring`, {
          alarmTopicArn: alarmTopic.topicArn,
          api: { name: ingest.api.name, id: ingest.api.id, stage: ingest.stage.stageName, accessLogGroupName: ingest.accessLogGroup?.name },
          functions: {
              authorizer: ingest.authorizer.function.name,
              postConfirmation: identity.postConfirmation.function.name,
              transform: archive.transform.function.name,
          },
          eventBusName: busName,
          routes: Object.fromEntries(
              Object.entries(routing.routes).map(([route, r]) => [
                  route,
                  { ruleName: r.rule.name, deadLetterQueueName: r.deadLetterQueue.name },
              ]),
          ),
          deliveryStreamName: archive.deliveryStreamName,
          bufferIntervalSeconds: config.firehoseBufferIntervalSeconds,
          otherAlarmArns: Object.values(routing.routes).map((r) => r.deadLetterAlarm.arn),
      })
    : undefined;

// --- query (on unless client-events:queryEnabled is false) ----------------------------------------
const query = config.queryEnabled
    ? new ArchiveQuery(`${prefix}-query`, {
          bucketName: archive.bucketName,
          bucketArn: archive.bucketArn,
          partitioning: config.partitioning,
          bytesScannedCutoffPerQuery: config.queryBytesScannedCutoffPerQuery,
          resultsExpirationDays: config.queryResultsExpirationDays,
      })
    : undefined;

// --- outputs --------------------------------------------------------------------------------------
export const environment = config.environment;
export const region = aws.getRegionOutput().region;
export const userPoolId = identity.userPool.id;
export const userPoolClientId = identity.client.id;
export const apiId = ingest.api.id;
/** The full URL to POST events to (`.../<stage>/event`), as local mode's ready line names it. */
export const apiUrl = ingest.eventUrl;
/** The stage's base URL (`.../<stage>`). */
export const stageUrl = ingest.url;
export const eventBusName = busName;
export const bucketName = archive.bucketName;
export const deliveryStreamName = archive.deliveryStreamName;
/** Dead-letter queue URL by route ("archive", and "zendesk" when configured). */
export const deadLetterQueueUrls = routing.deadLetterQueueUrls;
export const zendeskEnabled = zendesk !== undefined;
/** The SNS topic the alarms notify (unset with monitoring off and no alarmTopicArn). */
export const alarmTopicArn = alarmTopicArnOrUnset;
/** The CloudWatch dashboard that follows one event from request to S3 and Zendesk (with monitoring on). */
export const dashboardName = monitoring?.dashboardName;
/** Query outputs (absent when queryEnabled is false): `npm run query` reads them. */
export const queryDatabase = query?.databaseName;
/** Table name by table: `{ events, errors }`. */
export const queryTables = query?.tableNames;
export const queryWorkgroup = query?.workgroupName;
export const queryResultsBucket = query?.resultsBucketName;
/** Attach this managed policy to the people or roles who query the archive. */
export const queryAnalystPolicyArn = query?.analystPolicyArn;
