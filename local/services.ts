/**
 * One builder per emulated AWS service of local mode. Each takes the shared `LocalContext` (options, parsed
 * config, resource names, log, activity feed) and the services it sends to; `startPipeline` (local/index.ts)
 * wires them together. Parts that need the server's address (Cognito's own endpoint, the recorder's URL, the
 * console's address) read `ctx.baseUrl` once the server listens.
 */
import * as path from "node:path";
import { CognitoIdentityProviderClient } from "@aws-sdk/client-cognito-identity-provider";
import type { AppConfig, RawConfig } from "../config";
import {
    ALIAS_ATTRIBUTES,
    AUTO_VERIFIED_ATTRIBUTES,
    CUSTOM_ATTRIBUTES,
    EXPLICIT_AUTH_FLOWS,
    PASSWORD_POLICY,
    PREVENT_USER_EXISTENCE_ERRORS,
    READ_ATTRIBUTES,
    SCHEMA_ATTRIBUTES,
    USERNAME_CASE_SENSITIVE,
    WRITE_ATTRIBUTES,
} from "../pipeline/identity";
import { ARCHIVE_ROUTE, ROUTES, ZENDESK_ROUTE, type RetryPolicy, type RouteName } from "../pipeline/routes";
import { AUTHORIZATION_HEADER_PATTERN } from "../pipeline/authorization-header";
import { createAuthorizer } from "../handlers/authorizer";
import { compileSchemas } from "../schemas/compile";
import { createPostConfirmationHandler, type PostConfirmationHandler } from "../handlers/post-confirmation";
import { createPreTokenGenerationHandler, type PreTokenGenerationHandler } from "../handlers/pre-token-generation";
import { buildPartitionKeysQuery, RECORD_DELIMITER, S3_ERROR_PREFIX, S3_PREFIX, TRANSFORM_INVOCATION } from "../pipeline/partitioning";
import { DEFAULT_ZENDESK_RATE_PER_SECOND, ZENDESK_HTTP_METHOD, zendeskUsername } from "../pipeline/zendesk-ticket";
import { renderTicket } from "./input-transformer";
import type { ActivityFeed } from "./activity";
import { ApiDestination } from "./api-destination";
import { LocalRestApi } from "./api-gateway/rest-api";
import { CognitoEmulator } from "./cognito";
import { LocalConsole } from "./console/server";
import { EventLoopMonitor } from "./event-loop";
import { LocalEventBus, type RuleDefinition, type TargetDefinition } from "./eventbridge";
import { WorkerFirehose } from "./firehose-worker";
import { asLocalLambda } from "./lambda";
import type { Logger } from "./log";
import { LocalMetrics } from "./metrics";
import { ZENDESK_RECORDER_PATH, ZendeskRecorder } from "./zendesk-recorder";

/** The account id local mode uses in ARNs and events. */
export const LOCAL_ACCOUNT_ID = "000000000000";
/** A fixed app client id (26 lowercase letters and digits, like Cognito's) so tokens survive restarts. */
export const LOCAL_USER_POOL_CLIENT_ID = "1oca1c1ient0000000000000000".slice(0, 26);
/** Credentials of the built-in Zendesk recorder. */
export const LOCAL_ZENDESK_EMAIL = "local-support@example.com";
export const LOCAL_ZENDESK_API_TOKEN = "local-zendesk-api-token";

/** Rule names: the EventRouting component's route names (its rules are `<name>-<route>-rule`). */
export const ARCHIVE_RULE = ARCHIVE_ROUTE;
export const ZENDESK_RULE = ZENDESK_ROUTE;

/** The options of the builders (a part of LocalOptions, which extends it). */
export interface ServiceOptions {
    /** Firehose buffer interval, seconds. Default 5 (the deployed stream uses its configured interval). */
    bufferSeconds?: number;
    /** Firehose buffer size, MiB. Default the configured one (firehoseBufferSizeMiB). */
    bufferSizeMiB?: number;
    /** No log lines. */
    quiet?: boolean;
    /** A real Zendesk (or any HTTP) endpoint instead of the built-in recorder. */
    zendesk?: { endpoint?: string; email?: string; apiToken?: string; ratePerSecond?: number };
    /** Retry timing of EventBridge targets (tests make it fast). */
    retry?: { baseMs?: number; maxDelayMs?: number };
    /** Override of the Zendesk target's retry policy (tests use a short one). */
    zendeskRetryPolicy?: Partial<RetryPolicy>;
    /** Timeout of one API destination attempt, ms. Default 5000 (EventBridge's). */
    apiDestinationTimeoutMs?: number;
    /** Directory of the JSON Schemas the transform enforces. Default: the program's schemas/. */
    schemaDir?: string;
    /** Receives each Cognito confirmation code (the CLI prints them). */
    onConfirmationCode?: (username: string, code: string, destination: string) => void;
    /**
     * Serve the browser console and /_local/metrics even when `host` is not a loopback address (they
     * show every event; by default they answer only on loopback).
     */
    consoleOnAnyAddress?: boolean;
    /** Receives each AdminCreateUser invitation's temporary password (the CLI prints them). */
    onInvitation?: (username: string, temporaryPassword: string, destination: string) => void;
}

/** The names of the emulated resources: those the deployed stack gives them, in the local account. */
export interface LocalNames {
    environment: string;
    region: string;
    prefix: string;
    userPoolId: string;
    apiId: string;
    eventBusName: string;
    bucketName: string;
    deliveryStreamName: string;
    deliveryStreamArn: string;
    dataDir: string;
    /** Where the emulated S3 keeps its buckets. */
    s3Dir: string;
}

/** What every builder reads. */
export interface LocalContext {
    options: ServiceOptions;
    /** The configuration as given (the Zendesk rate is read from it as given). */
    raw: RawConfig;
    config: AppConfig;
    names: LocalNames;
    log: Logger;
    activity: ActivityFeed;
    /** The server's base URL (`http://host:port`), "" until it listens. */
    baseUrl: string;
}

export function localNames(environment: string, prefix: string, region: string, dataDir: string): LocalNames {
    const deliveryStreamName = `${prefix}-archive`;
    return {
        environment,
        region,
        prefix,
        userPoolId: `${region}_LocalPool`,
        apiId: "localapi01",
        eventBusName: prefix,
        bucketName: `${prefix}-archive-${LOCAL_ACCOUNT_ID}`,
        deliveryStreamName,
        deliveryStreamArn: `arn:aws:firehose:${region}:${LOCAL_ACCOUNT_ID}:deliverystream/${deliveryStreamName}`,
        dataDir,
        s3Dir: path.join(dataDir, "s3"),
    };
}

export interface LocalCognito {
    cognito: CognitoEmulator;
    /** An SDK client of the emulated Cognito, signed with its admin credentials (as a Lambda role's would be). */
    client(): CognitoIdentityProviderClient;
    /** Makes the triggers callable; their SDK client needs the server's address. */
    startTriggers(): void;
}

/** The user pool with the settings the IdentityPool component deploys, and its two Lambda triggers. */
export function buildCognito(ctx: LocalContext): LocalCognito {
    const { names, config, log, activity, options } = ctx;
    const client = () =>
        new CognitoIdentityProviderClient({
            endpoint: ctx.baseUrl,
            region: names.region,
            credentials: cognito.credentials, // the triggers' AdminUpdateUserAttributes is signed, as in Lambda
        });
    let postConfirmation: PostConfirmationHandler | undefined;
    let preTokenGeneration: PreTokenGenerationHandler | undefined;
    const cognito = new CognitoEmulator(
        {
            region: names.region,
            userPoolId: names.userPoolId,
            clientId: LOCAL_USER_POOL_CLIENT_ID,
            passwordPolicy: PASSWORD_POLICY,
            // The settings the IdentityPool component deploys (alias, case, existence errors, verification...).
            aliasAttributes: ALIAS_ATTRIBUTES,
            caseInsensitiveUsernames: !USERNAME_CASE_SENSITIVE,
            preventUserExistenceErrors: PREVENT_USER_EXISTENCE_ERRORS,
            autoVerifiedAttributes: AUTO_VERIFIED_ATTRIBUTES,
            customAttributes: CUSTOM_ATTRIBUTES,
            requiredAttributes: SCHEMA_ATTRIBUTES.filter((a) => a.required).map((a) => a.name),
            readAttributes: READ_ATTRIBUTES,
            writeAttributes: WRITE_ATTRIBUTES,
            explicitAuthFlows: EXPLICIT_AUTH_FLOWS,
            accessTokenValiditySeconds: config.accessTokenValidityMinutes * 60,
            idTokenValiditySeconds: config.idTokenValidityMinutes * 60,
            refreshTokenValiditySeconds: config.refreshTokenValidityDays * 86400,
        },
        names.dataDir,
        log,
        {
            postConfirmation: async (event) => {
                if (!postConfirmation) throw new Error("local mode is still starting");
                return asLocalLambda("post-confirmation", log, postConfirmation, activity)(event);
            },
            preTokenGeneration: async (event) => {
                if (!preTokenGeneration) throw new Error("local mode is still starting");
                return asLocalLambda("pre-token-generation", log, preTokenGeneration)(event);
            },
            onConfirmationCode: options.onConfirmationCode,
            onInvitation: options.onInvitation,
        },
    );
    const startTriggers = () => {
        postConfirmation = createPostConfirmationHandler(client());
        preTokenGeneration = createPreTokenGenerationHandler(client());
    };
    return { cognito, client, startTriggers };
}

/**
 * The delivery stream, in a worker thread (the transform, jq and object writes never stall the thread that
 * answers requests), enforcing the schemas compiled as the Pulumi program compiles them. Resolves with the
 * name of the engine that runs the partition query once the thread is ready.
 */
export async function buildFirehose(ctx: LocalContext): Promise<{ firehose: WorkerFirehose; jqEngine: string }> {
    const { names, config, log, options } = ctx;
    // Functions cannot cross threads: the thread loads the validators' compiled code.
    const schemas = compileSchemas(options.schemaDir);
    log.info(
        `schemas: ${schemas.keys.join(", ") || "none"} (schemaEnforcement ${config.schemaEnforcement}, unknownSchema ${config.unknownSchema})`,
    );
    const firehose = new WorkerFirehose(
        {
            quiet: options.quiet ?? false,
            schemas: { source: schemas.source, enforcement: config.schemaEnforcement, unknownSchema: config.unknownSchema },
            firehose: {
                streamName: names.deliveryStreamName,
                streamArn: names.deliveryStreamArn,
                region: names.region,
                bucketName: names.bucketName,
                s3Dir: names.s3Dir,
                prefix: S3_PREFIX,
                errorPrefix: S3_ERROR_PREFIX,
                bufferIntervalSeconds: options.bufferSeconds ?? 5,
                bufferSizeBytes: (options.bufferSizeMiB ?? config.firehoseBufferSizeMiB) * 1024 * 1024,
                transform: {
                    lambdaArn: `arn:aws:lambda:${names.region}:${LOCAL_ACCOUNT_ID}:function:${names.prefix}-firehose-transform:$LATEST`,
                    batchBytes: TRANSFORM_INVOCATION.bufferSizeMiB * 1024 * 1024,
                    numberOfRetries: TRANSFORM_INVOCATION.numberOfRetries,
                },
                // The query the Archive component deploys for the configured partitioning policy.
                metadataExtractionQuery: buildPartitionKeysQuery(config.partitioning),
                metadataExtractionQueryReads: "partitionQueryInput",
                delimiter: RECORD_DELIMITER,
                gzip: config.archiveCompression === "GZIP",
                retryBaseMs: options.retry?.baseMs,
                retryMaxMs: options.retry?.maxDelayMs,
            },
        },
        log,
        ctx.activity,
    );
    return { firehose, jqEngine: await firehose.ready };
}

export interface LocalZendesk {
    destination: ApiDestination;
    /** The built-in recorder, unless a real endpoint was given. */
    recorder?: ZendeskRecorder;
    /** Where tickets go (the recorder's URL once the server listens), without credentials in the URL. */
    endpoint(): string;
}

/** The Zendesk connection and API destination, sending to a real endpoint or to the built-in recorder. */
export function buildZendesk(ctx: LocalContext): LocalZendesk {
    const { options, raw, log, activity } = ctx;
    const given = options.zendesk?.endpoint;
    const email = options.zendesk?.email ?? LOCAL_ZENDESK_EMAIL;
    const token = options.zendesk?.apiToken ?? LOCAL_ZENDESK_API_TOKEN;
    if (given && (!options.zendesk?.email || !options.zendesk?.apiToken)) {
        throw new Error(
            "A Zendesk endpoint needs an email and an API token too (--zendesk-email, --zendesk-api-token or ZENDESK_EMAIL, ZENDESK_API_TOKEN)",
        );
    }
    const endpoint = () => given ?? ctx.baseUrl + ZENDESK_RECORDER_PATH;
    const destination = new ApiDestination({
        name: `${ctx.names.prefix}-zendesk`,
        get endpoint() {
            return endpoint();
        },
        httpMethod: ZENDESK_HTTP_METHOD,
        username: zendeskUsername(email),
        password: token,
        invocationRateLimitPerSecond: options.zendesk?.ratePerSecond ?? Number(raw.zendeskRatePerSecond ?? DEFAULT_ZENDESK_RATE_PER_SECOND),
        timeoutMs: options.apiDestinationTimeoutMs ?? 5000,
        activity,
    });
    // The recorder keeps the Authorization header it receives only when it carries local mode's own credentials.
    const fakeCredentials = email === LOCAL_ZENDESK_EMAIL && token === LOCAL_ZENDESK_API_TOKEN;
    const authorization = "Basic " + Buffer.from(`${zendeskUsername(email)}:${token}`).toString("base64");
    const recorder = given
        ? undefined
        : new ZendeskRecorder(ctx.names.dataDir, authorization, log, { keepAuthorization: fakeCredentials, activity });
    return { destination, recorder, endpoint: () => (given ? given.replace(/\/\/[^/@]*@/, "//") : endpoint()) };
}

/**
 * The bus with one rule per route of pipeline/routes.ts (the table the EventRouting component deploys): its
 * pattern and retry policy, and a dead letter for every target. Only the targets are local mode's.
 */
export function buildEventBus(ctx: LocalContext, firehose: WorkerFirehose, zendesk: ApiDestination): LocalEventBus {
    const { names, options } = ctx;
    const ruleArn = (rule: string) => `arn:aws:events:${names.region}:${LOCAL_ACCOUNT_ID}:rule/${names.eventBusName}/${rule}`;
    const written = { ok: true as const, detail: `firehose ${names.deliveryStreamName}` };
    const targets: Record<RouteName, Omit<TargetDefinition, "retryPolicy" | "deadLetter">> = {
        [ARCHIVE_ROUTE]: {
            id: "archive",
            arn: names.deliveryStreamArn,
            // Delivered once its object is in S3; until then the event stays in the bus's journal.
            deliver: (payload) =>
                firehose.put(payload).then(
                    () => written,
                    (err: Error) => ({ ok: false as const, keep: true as const, reason: err.message }),
                ),
            // Not an async function: its suspended frame would hold `payloads`, the events' text, until their object is
            // written seconds later, and every scavenge in between would copy them.
            deliverMany: (payloads, onOutcome) =>
                firehose
                    .putMany(payloads, (i, err) => onOutcome(i, err ? { ok: false, keep: true, reason: err.message } : written))
                    .then(() => undefined),
        },
        [ZENDESK_ROUTE]: {
            id: "zendesk",
            arn: `arn:aws:events:${names.region}:${LOCAL_ACCOUNT_ID}:api-destination/${names.prefix}-zendesk/local`,
            input: (event) =>
                renderTicket(event, {
                    "aws.events.rule-arn": ruleArn(ZENDESK_ROUTE),
                    "aws.events.rule-name": ZENDESK_ROUTE,
                    "aws.events.event.ingestion-time": event.time,
                }),
            deliver: (payload) => zendesk.deliver(payload),
        },
    };
    // Tests shorten the Zendesk target's policy.
    const overrides: Partial<Record<RouteName, Partial<RetryPolicy>>> = { [ZENDESK_ROUTE]: options.zendeskRetryPolicy };
    const rules: RuleDefinition[] = (Object.keys(ROUTES) as RouteName[]).map((route) => ({
        name: route,
        eventPattern: ROUTES[route].eventPattern,
        targets: [{ ...targets[route], retryPolicy: withOverrides(ROUTES[route].retryPolicy, overrides[route]), deadLetter: true }],
    }));
    const settings = {
        name: names.eventBusName,
        region: names.region,
        accountId: LOCAL_ACCOUNT_ID,
        dataDir: names.dataDir,
        retryBaseMs: options.retry?.baseMs ?? 1000,
        retryMaxDelayMs: options.retry?.maxDelayMs ?? 60_000,
        activity: ctx.activity,
        // Backpressure: while too many records wait for their object, new events wait before they are accepted.
        admit: () => firehose.admit(),
    };
    return new LocalEventBus(settings, rules, ctx.log);
}

/** A retry policy with the fields an override sets (those it leaves undefined keep the route's). */
function withOverrides(policy: RetryPolicy, override: Partial<RetryPolicy> = {}): RetryPolicy {
    return {
        maximumRetryAttempts: override.maximumRetryAttempts ?? policy.maximumRetryAttempts,
        maximumEventAgeInSeconds: override.maximumEventAgeInSeconds ?? policy.maximumEventAgeInSeconds,
    };
}

/** The REST API stage with the real authorizer (built at its first call: it needs Cognito's JWKS and endpoint). */
export function buildRestApi(ctx: LocalContext, cognito: LocalCognito, bus: LocalEventBus): LocalRestApi {
    const { names, config, log, activity } = ctx;
    type Authorizer = ReturnType<typeof createAuthorizer>;
    let built: Authorizer | undefined;
    const authorizer = (event: Parameters<Authorizer>[0]) => {
        built ??= createAuthorizer({
            userPoolId: names.userPoolId,
            clientId: LOCAL_USER_POOL_CLIENT_ID,
            jwks: cognito.cognito.jwks(),
            cognito: cognito.client(),
        });
        return asLocalLambda("authorizer", log, built, activity)(event);
    };
    return new LocalRestApi(
        {
            apiId: names.apiId,
            stage: names.environment,
            region: names.region,
            accountId: LOCAL_ACCOUNT_ID,
            stageVariables: { Environment: names.environment, Bus: names.eventBusName },
            authorizerResultTtlSeconds: config.authorizerCacheTtlSeconds,
            identityHeader: "Authorization",
            identityValidationExpression: AUTHORIZATION_HEADER_PATTERN,
            corsAllowOrigin: config.corsAllowOrigin,
            activity,
        },
        { authorizer, putEvents: (body) => bus.putEvents(body) },
        log,
    );
}

export interface LocalObservability {
    metrics: LocalMetrics;
    console: LocalConsole;
    eventLoop: EventLoopMonitor;
}

/**
 * CloudWatch's figures (/_local/metrics) and the browser console. `address` is the server's, called only once
 * it listens.
 */
export function buildConsole(
    ctx: LocalContext,
    firehose: WorkerFirehose,
    bus: LocalEventBus,
    address: () => { address: string; port: number } | undefined,
): LocalObservability {
    const { names, activity, options } = ctx;
    const gauges = () => ({ BufferedRecords: firehose.pendingRecords, DeliveriesInProgress: bus.pendingDeliveries });
    const eventLoop = new EventLoopMonitor();
    const processFigures = () => ({
        eventLoopDelay: eventLoop.snapshot(),
        firehoseRecordsInFlight: firehose.inFlightRecords,
        journalFsyncMs: bus.journal.fsyncMs.summary(),
    });
    const { environment, eventBusName, deliveryStreamName, bucketName, region } = names;
    const metrics = new LocalMetrics(activity, { stage: environment, eventBusName, deliveryStreamName, gauges, process: processFigures });
    const console = new LocalConsole({
        feed: activity,
        metrics,
        address,
        onAnyAddress: options.consoleOnAnyAddress,
        bucketDir: path.join(names.s3Dir, bucketName),
        flushFirehose: () => firehose.flush(),
        gauges,
        settings: {
            environment,
            region,
            eventBusName,
            deliveryStreamName,
            bucketName,
            rules: bus.ruleNames(),
            bufferSeconds: options.bufferSeconds ?? 5,
        },
    });
    return { metrics, console, eventLoop };
}
