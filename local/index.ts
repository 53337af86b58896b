/**
 * Local mode: the whole client-events pipeline in one Node process, built from the same definitions
 * (`pipeline/`) and handlers (`handlers/`) the Pulumi program deploys.
 *
 *   Cognito (JSON protocol) -> REST API (real authorizer, model, mapping template) -> EventBridge bus
 *   (rules via the pattern engine) -> Firehose (real transform, JQ partitioning) -> <data-dir>/s3/...
 *                                                                 -> API destination -> Zendesk / recorder
 *
 * `startLocal()` is in-process and port-0 capable (tests, the generator's tests); `local/main.ts` is the CLI.
 */
import { mkdirSync } from "node:fs";
import { writeFileAtomic } from "./fs-util";
import * as path from "node:path";
import { CognitoIdentityProviderClient } from "@aws-sdk/client-cognito-identity-provider";
import { parseConfig, type RawConfig } from "../config";
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
import { ARCHIVE_ROUTE, ROUTES, ZENDESK_ROUTE } from "../pipeline/routes";
import { resourcePrefix } from "../pipeline/naming";
import { AUTHORIZATION_HEADER_PATTERN } from "../pipeline/authorization-header";
import { createAuthorizer } from "../handlers/authorizer";
import { compileSchemas } from "../schemas/compile";
import { createPostConfirmationHandler, type PostConfirmationHandler } from "../handlers/post-confirmation";
import { createPreTokenGenerationHandler, type PreTokenGenerationHandler } from "../handlers/pre-token-generation";
import { buildPartitionKeysQuery, RECORD_DELIMITER, S3_ERROR_PREFIX, S3_PREFIX, TRANSFORM_INVOCATION } from "../pipeline/partitioning";
import { DEFAULT_ZENDESK_RATE_PER_SECOND, ZENDESK_HTTP_METHOD, renderTicket, zendeskUsername } from "../pipeline/zendesk-ticket";
import { ActivityFeed } from "./activity";
import { ApiDestination } from "./api-destination";
import { LocalRestApi } from "./api-gateway/rest-api";
import { CognitoEmulator } from "./cognito";
import { CONSOLE_PATH, LocalConsole } from "./console/server";
import { DataDirLock } from "./data-dir-lock";
import { EventLoopMonitor } from "./event-loop";
import { LocalEventBus, type BusCloseReport, type RetryPolicy, type RuleDefinition } from "./eventbridge";
import { readLegacySpool } from "./firehose";
import { WorkerFirehose } from "./firehose-worker";
import { asLocalLambda } from "./lambda";
import { createLogger, type Logger } from "./log";
import { LocalMetrics } from "./metrics";
import { LocalServer } from "./server";
import type { LocalCredentials } from "./sigv4";
import { ZENDESK_RECORDER_PATH, ZendeskRecorder } from "./zendesk-recorder";

/** The account id local mode uses in ARNs and events. */
export const LOCAL_ACCOUNT_ID = "000000000000";
/** A fixed app client id (26 lowercase letters and digits, like Cognito's) so tokens survive restarts. */
export const LOCAL_USER_POOL_CLIENT_ID = "1oca1c1ient0000000000000000".slice(0, 26);
/** Credentials of the built-in Zendesk recorder. */
export const LOCAL_ZENDESK_EMAIL = "local-support@example.com";
export const LOCAL_ZENDESK_API_TOKEN = "local-zendesk-api-token";

export interface LocalOptions {
    /** TCP port; 0 picks a free one. Default 4000. */
    port?: number;
    /** Interface to listen on. Default 127.0.0.1. */
    host?: string;
    /** Where S3 objects, tickets, dead letters and Cognito state are kept. Default `.local`. */
    dataDir?: string;
    /** Firehose buffer interval, seconds. Default 5 (the deployed stream uses its configured interval). */
    bufferSeconds?: number;
    /** Firehose buffer size, MiB. Default the configured one (firehoseBufferSizeMiB). */
    bufferSizeMiB?: number;
    /** No log lines. */
    quiet?: boolean;
    /** Where log lines go (default stdout). */
    logLine?: (line: string) => void;
    /** AWS region the emulated resources live in. Default us-east-1. */
    region?: string;
    /**
     * Program configuration keys (as `pulumi config` would hold them, validated by the same parser), e.g.
     * `{ environment: "dev", partitionEventTypes: "shopping,paging" }`. Zendesk keys are ignored: use `zendesk`.
     */
    config?: RawConfig;
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

/** The names the deployed stack exports, plus where local mode keeps things. */
export interface LocalOutputs {
    ready: true;
    /** The full URL to POST events to. */
    apiUrl: string;
    userPoolId: string;
    userPoolClientId: string;
    bucketName: string;
    eventBusName: string;
    region: string;
    cognitoEndpoint: string;
    dataDir: string;
    /**
     * The credentials Cognito's Admin* and ListUsers requests must be signed with: the access key id here,
     * the secret only in `file` (`<dataDir>/outputs.json`, mode 0600), never on the ready line or over HTTP.
     */
    credentials: { accessKeyId: string; file: string };
}

export interface LocalPipeline {
    outputs: LocalOutputs;
    /** Extra details for tools and tests. */
    details: {
        environment: string;
        stage: string;
        s3Dir: string;
        ticketsFile: string;
        dlqDir: string;
        zendeskEndpoint: string;
        deliveryStreamName: string;
        rules: string[];
        /** The engine that runs the partition query. */
        jqEngine: string;
        /** The browser console's URL, or "" when it is off (a non-loopback host without consoleOnAnyAddress). */
        consoleUrl: string;
    };
    /** What every part reported (the console reads it). */
    activity: ActivityFeed;
    /** The figures of /_local/metrics. */
    metrics: LocalMetrics;
    cognito: CognitoEmulator;
    /** The credentials Admin* and ListUsers requests must be signed with (SigV4, service cognito-idp). */
    credentials: LocalCredentials;
    bus: LocalEventBus;
    firehose: WorkerFirehose;
    /** Writes every Firehose buffer now and waits for every delivery in progress (retries included). */
    flush(): Promise<void>;
    /**
     * Stops accepting requests, finishes deliveries (keeping those waiting to retry in the journal),
     * writes the buffers, closes; says what is left in the journal for the next start.
     */
    close(): Promise<LocalCloseReport>;
}

/** What close() leaves for the next start (all of it in the journal). */
export interface LocalCloseReport extends BusCloseReport {
    /** A line for the log and the CLI: what was written, and what is left where. */
    summary: string;
}

/** Rule names: the EventRouting component's route names (its rules are `<name>-<route>-rule`). */
export const ARCHIVE_RULE = ARCHIVE_ROUTE;
export const ZENDESK_RULE = ZENDESK_ROUTE;

export async function startLocal(options: LocalOptions = {}): Promise<LocalPipeline> {
    const log: Logger = createLogger({ quiet: options.quiet, write: options.logLine });
    const region = options.region ?? "us-east-1";
    if (!/^[a-z]{2}(-[a-z]+)+-\d{1,2}$/.test(region))
        throw new Error(`region ${JSON.stringify(region)} is not an AWS region name such as eu-west-1`);
    const host = options.host ?? "127.0.0.1";
    const dataDir = path.resolve(options.dataDir ?? ".local");
    mkdirSync(dataDir, { recursive: true });
    // Before anything reads or writes the directory: a second local mode on it stops here.
    const lock = DataDirLock.acquire(dataDir);
    try {
        return await startPipeline(options, log, host, region, dataDir, lock);
    } catch (err) {
        lock.release();
        throw err;
    }
}

async function startPipeline(
    options: LocalOptions,
    log: Logger,
    host: string,
    region: string,
    dataDir: string,
    lock: DataDirLock,
): Promise<LocalPipeline> {
    const raw = { ...(options.config ?? {}) };
    // Zendesk comes from the zendesk option here (local mode may send to plain http and to its recorder).
    for (const key of ["zendeskEmail", "zendeskEndpoint", "zendeskApiToken"]) delete raw[key];
    const config = parseConfig(raw, "local");
    const environment = config.environment;
    const userPoolId = `${region}_LocalPool`;
    const apiId = "localapi01";
    const prefix = resourcePrefix(environment);
    const eventBusName = prefix;
    const bucketName = `${prefix}-archive-${LOCAL_ACCOUNT_ID}`;
    const deliveryStreamName = `${prefix}-archive`;
    const s3Dir = path.join(dataDir, "s3");
    const activity = new ActivityFeed();

    // Cognito ---------------------------------------------------------------------------------------
    let cognitoEndpoint = "";
    const cognitoClient = () =>
        new CognitoIdentityProviderClient({
            endpoint: cognitoEndpoint,
            region,
            credentials: cognito.credentials, // the triggers' AdminUpdateUserAttributes is signed, as in Lambda
        });
    let postConfirmation: PostConfirmationHandler | undefined;
    let preTokenGeneration: PreTokenGenerationHandler | undefined;
    const cognito = new CognitoEmulator(
        {
            region,
            userPoolId,
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
        dataDir,
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

    // Firehose --------------------------------------------------------------------------------------
    // The schemas compiled as the Pulumi program compiles them, enforced by the same transform (in the thread,
    // from the compiled code: functions cannot cross threads).
    const schemas = compileSchemas(options.schemaDir);
    log.info(
        `schemas: ${schemas.keys.join(", ") || "none"} (schemaEnforcement ${config.schemaEnforcement}, unknownSchema ${config.unknownSchema})`,
    );
    // In a worker thread: the transform, jq and object writes never stall the thread that answers requests.
    const firehose = new WorkerFirehose(
        {
            quiet: options.quiet ?? false,
            schemas: { source: schemas.source, enforcement: config.schemaEnforcement, unknownSchema: config.unknownSchema },
            firehose: {
                streamName: deliveryStreamName,
                streamArn: `arn:aws:firehose:${region}:${LOCAL_ACCOUNT_ID}:deliverystream/${deliveryStreamName}`,
                region,
                bucketName,
                s3Dir,
                prefix: S3_PREFIX,
                errorPrefix: S3_ERROR_PREFIX,
                bufferIntervalSeconds: options.bufferSeconds ?? 5,
                bufferSizeBytes: (options.bufferSizeMiB ?? config.firehoseBufferSizeMiB) * 1024 * 1024,
                transform: {
                    lambdaArn: `arn:aws:lambda:${region}:${LOCAL_ACCOUNT_ID}:function:${prefix}-firehose-transform:$LATEST`,
                    batchBytes: TRANSFORM_INVOCATION.bufferSizeMiB * 1024 * 1024,
                    numberOfRetries: TRANSFORM_INVOCATION.numberOfRetries,
                },
                // The query the Archive component deploys for the configured partitioning policy.
                metadataExtractionQuery: buildPartitionKeysQuery(config.partitioning),
                delimiter: RECORD_DELIMITER,
                gzip: config.archiveCompression === "GZIP",
                retryBaseMs: options.retry?.baseMs,
                retryMaxMs: options.retry?.maxDelayMs,
            },
        },
        log,
        activity,
    );
    const jqEngine = await firehose.ready;

    // API destination ---------------------------------------------------------------------------------
    const useRecorder = !options.zendesk?.endpoint;
    const zendeskEmail = options.zendesk?.email ?? LOCAL_ZENDESK_EMAIL;
    const zendeskToken = options.zendesk?.apiToken ?? LOCAL_ZENDESK_API_TOKEN;
    if (!useRecorder && (!options.zendesk?.email || !options.zendesk?.apiToken)) {
        throw new Error(
            "A Zendesk endpoint needs an email and an API token too (--zendesk-email, --zendesk-api-token or ZENDESK_EMAIL, ZENDESK_API_TOKEN)",
        );
    }
    let zendeskEndpoint = options.zendesk?.endpoint ?? "";
    const destination = new ApiDestination({
        name: `${prefix}-zendesk`,
        get endpoint() {
            return zendeskEndpoint;
        },
        httpMethod: ZENDESK_HTTP_METHOD,
        username: zendeskUsername(zendeskEmail),
        password: zendeskToken,
        invocationRateLimitPerSecond: options.zendesk?.ratePerSecond ?? Number(raw.zendeskRatePerSecond ?? DEFAULT_ZENDESK_RATE_PER_SECOND),
        timeoutMs: options.apiDestinationTimeoutMs ?? 5000,
        activity,
    });
    // The recorder keeps the Authorization header it receives only when it carries local mode's own credentials.
    const fakeCredentials = zendeskEmail === LOCAL_ZENDESK_EMAIL && zendeskToken === LOCAL_ZENDESK_API_TOKEN;
    const recorder = useRecorder
        ? new ZendeskRecorder(dataDir, "Basic " + Buffer.from(`${zendeskUsername(zendeskEmail)}:${zendeskToken}`).toString("base64"), log, {
              keepAuthorization: fakeCredentials,
              activity,
          })
        : undefined;

    // EventBridge -------------------------------------------------------------------------------------
    const busSettings = {
        name: eventBusName,
        region,
        accountId: LOCAL_ACCOUNT_ID,
        dataDir,
        retryBaseMs: options.retry?.baseMs ?? 1000,
        retryMaxDelayMs: options.retry?.maxDelayMs ?? 60_000,
        activity,
        // Backpressure: while too many records wait for their object, new events wait before they are accepted.
        admit: () => firehose.admit(),
    };
    const ruleArn = (rule: string) => `arn:aws:events:${region}:${LOCAL_ACCOUNT_ID}:rule/${eventBusName}/${rule}`;
    const rules: RuleDefinition[] = [
        {
            name: ARCHIVE_RULE,
            eventPattern: ROUTES.archive.eventPattern,
            targets: [
                {
                    id: "archive",
                    arn: `arn:aws:firehose:${region}:${LOCAL_ACCOUNT_ID}:deliverystream/${deliveryStreamName}`,
                    retryPolicy: {
                        maximumRetryAttempts: ROUTES.archive.retryPolicy.maximumRetryAttempts,
                        maximumEventAgeSeconds: ROUTES.archive.retryPolicy.maximumEventAgeInSeconds,
                    },
                    deadLetter: true,
                    // Delivered once its object is in S3; until then the event stays in the bus's journal.
                    deliver: (payload) =>
                        firehose.put(payload).then(
                            () => ({ ok: true as const, detail: `firehose ${deliveryStreamName}` }),
                            (err: Error) => ({ ok: false as const, keep: true as const, reason: err.message }),
                        ),
                },
            ],
        },
        {
            name: ZENDESK_RULE,
            eventPattern: ROUTES.zendesk.eventPattern,
            targets: [
                {
                    id: "zendesk",
                    arn: `arn:aws:events:${region}:${LOCAL_ACCOUNT_ID}:api-destination/${prefix}-zendesk/local`,
                    input: (event) =>
                        renderTicket(event, {
                            "aws.events.rule-arn": ruleArn(ZENDESK_RULE),
                            "aws.events.rule-name": ZENDESK_RULE,
                            "aws.events.event.ingestion-time": event.time,
                        }),
                    retryPolicy: {
                        maximumRetryAttempts:
                            options.zendeskRetryPolicy?.maximumRetryAttempts ?? ROUTES.zendesk.retryPolicy.maximumRetryAttempts,
                        maximumEventAgeSeconds:
                            options.zendeskRetryPolicy?.maximumEventAgeSeconds ?? ROUTES.zendesk.retryPolicy.maximumEventAgeInSeconds,
                    },
                    deadLetter: true,
                    deliver: (payload) => destination.deliver(payload),
                },
            ],
        },
    ];
    const bus = new LocalEventBus(busSettings, rules, log);

    // API Gateway ---------------------------------------------------------------------------------------
    const authorizer = (() => {
        let built: ReturnType<typeof createAuthorizer> | undefined;
        return (event: Parameters<ReturnType<typeof createAuthorizer>>[0]) => {
            built ??= createAuthorizer({ userPoolId, clientId: LOCAL_USER_POOL_CLIENT_ID, jwks: cognito.jwks(), cognito: cognitoClient() });
            return asLocalLambda("authorizer", log, built, activity)(event);
        };
    })();
    const api = new LocalRestApi(
        {
            apiId,
            stage: environment,
            region,
            accountId: LOCAL_ACCOUNT_ID,
            stageVariables: { Environment: environment, Bus: eventBusName },
            authorizerResultTtlSeconds: config.authorizerCacheTtlSeconds,
            identityHeader: "Authorization",
            identityValidationExpression: AUTHORIZATION_HEADER_PATTERN,
            corsAllowOrigin: config.corsAllowOrigin,
            activity,
        },
        { authorizer, putEvents: (body) => bus.putEvents(body) },
        log,
    );

    // Console and metrics ------------------------------------------------------------------------------
    const gauges = () => ({ BufferedRecords: firehose.pendingRecords, DeliveriesInProgress: bus.pendingDeliveries });
    const eventLoop = new EventLoopMonitor();
    const processFigures = () => ({ eventLoopDelay: eventLoop.snapshot(), firehoseRecordsInFlight: firehose.inFlightRecords });
    const metrics = new LocalMetrics(activity, { stage: environment, eventBusName, deliveryStreamName, gauges, process: processFigures });
    const localConsole: LocalConsole = new LocalConsole({
        feed: activity,
        metrics,
        // Called only once the server below listens.
        address: (): { address: string; port: number } | undefined =>
            server.server.address() as { address: string; port: number } | undefined,
        onAnyAddress: options.consoleOnAnyAddress,
        bucketDir: path.join(s3Dir, bucketName),
        flushFirehose: () => firehose.flush(),
        gauges,
        settings: {
            environment,
            region,
            eventBusName,
            deliveryStreamName,
            bucketName,
            rules: rules.map((r) => r.name),
            bufferSeconds: options.bufferSeconds ?? 5,
        },
    });

    let outputs: LocalOutputs | undefined;
    const server: LocalServer = new LocalServer({ cognito, api, recorder, console: localConsole, log, outputs: () => outputs });
    const address = await server.listen(options.port ?? 4000, host);
    const base = `http://${host.includes(":") ? `[${host}]` : host}:${address.port}`;
    cognitoEndpoint = base;
    if (useRecorder) zendeskEndpoint = base + ZENDESK_RECORDER_PATH;
    postConfirmation = createPostConfirmationHandler(cognitoClient());
    preTokenGeneration = createPreTokenGenerationHandler(cognitoClient());
    lock.listening(address.port, base);
    await bus.recover();
    await importLegacySpool(bus, path.join(dataDir, "firehose", deliveryStreamName), log);

    outputs = {
        ready: true,
        apiUrl: `${base}/${environment}/event`,
        userPoolId,
        userPoolClientId: LOCAL_USER_POOL_CLIENT_ID,
        bucketName,
        eventBusName,
        region,
        cognitoEndpoint,
        dataDir,
        credentials: { accessKeyId: cognito.credentials.accessKeyId, file: path.join(dataDir, "outputs.json") },
    };
    // For tools that find local mode by its data directory (the generator's --local); it holds the secret key.
    const published = { ...outputs, credentials: { ...outputs.credentials, ...cognito.credentials } };
    writeFileAtomic(path.join(dataDir, "outputs.json"), JSON.stringify(published, null, 2) + "\n", 0o600);
    let closed: Promise<LocalCloseReport> | undefined;
    return {
        outputs,
        details: {
            environment,
            stage: environment,
            s3Dir,
            ticketsFile: recorder?.file ?? "",
            dlqDir: path.join(dataDir, "dlq"),
            zendeskEndpoint: useRecorder ? zendeskEndpoint : zendeskEndpoint.replace(/\/\/[^/@]*@/, "//"),
            deliveryStreamName,
            rules: rules.map((r) => r.name),
            jqEngine,
            consoleUrl: localConsole.enabled ? base + CONSOLE_PATH : "",
        },
        activity,
        metrics,
        cognito,
        credentials: cognito.credentials,
        bus: bus,
        firehose,
        async flush() {
            // Archive deliveries finish when their object is written: flush whenever one waits in the buffer.
            let idle = false;
            const drained = bus.drain().then(() => {
                idle = true;
            });
            while (!idle) {
                await firehose.flush();
                await Promise.race([drained, firehose.whenBuffered()]);
            }
        },
        close() {
            closed ??= (async () => {
                await server.drain();
                bus.stopRetrying();
                await firehose.close();
                const report = await bus.close();
                await server.close();
                eventLoop.close();
                lock.release();
                const summary = closeSummary(report);
                if (report.notWritten > 0) log.warn(summary);
                else log.info(summary);
                return { ...report, summary };
            })();
            return closed;
        },
    };
}

/** Records an earlier version of local mode spooled for Firehose: into the journal, then delivered. */
async function importLegacySpool(bus: LocalEventBus, dir: string, log: Logger): Promise<void> {
    try {
        const legacy = readLegacySpool(dir);
        if (legacy.payloads.length > 0) await bus.adoptSerialized(legacy.payloads, ARCHIVE_RULE, "archive");
        legacy.remove();
    } catch (err) {
        log.warn(
            `cannot import the records an earlier version left in ${dir} (${(err as Error).message}); they stay there for the next start`,
        );
    }
}

/** The closing line: everything written, or how many events remain in the journal, where and why. */
function closeSummary(report: BusCloseReport): string {
    if (report.notWritten > 0) {
        const n = report.pendingEvents;
        return (
            `local mode stopped, but ${n} accepted ${n === 1 ? "event is" : "events are"} not fully written: ${n === 1 ? "it remains" : "they remain"} in the journal ${report.journalDir} ` +
            `and the next start (same --data-dir) writes them once the cause is fixed. Cause: ${report.problems.join(" | ") || "a storage failure"}`
        );
    }
    const notes: string[] = [];
    if (report.waitingForRetry > 0)
        notes.push(
            `${report.waitingForRetry} deliveries waiting for a retry stay in the journal ${report.journalDir} and resume at the next start`,
        );
    if (report.unrecordedDeliveries > 0)
        notes.push(
            `${report.unrecordedDeliveries} finished deliveries could not be marked in the journal and will be delivered again at the next start`,
        );
    return `local mode stopped: every buffer is written${notes.length > 0 ? `; ${notes.join("; ")}` : ""}`;
}
