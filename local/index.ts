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
import { parseConfig, type RawConfig } from "../config";
import { resourcePrefix } from "../pipeline/naming";
import { ActivityFeed } from "./activity";
import type { CognitoEmulator } from "./cognito";
import { CONSOLE_PATH } from "./console/server";
import { DataDirLock } from "./data-dir-lock";
import type { LocalEventBus, BusCloseReport } from "./eventbridge";
import { readLegacySpool } from "./firehose";
import type { WorkerFirehose } from "./firehose-worker";
import { createLogger, type Logger } from "./log";
import type { LocalMetrics } from "./metrics";
import { LocalServer } from "./server";
import type { LocalCredentials } from "./sigv4";
import {
    ARCHIVE_RULE,
    buildCognito,
    buildConsole,
    buildEventBus,
    buildFirehose,
    buildRestApi,
    buildZendesk,
    LOCAL_USER_POOL_CLIENT_ID,
    localNames,
    type LocalContext,
    type LocalNames,
    type LocalZendesk,
    type ServiceOptions,
} from "./services";

export {
    ARCHIVE_RULE,
    LOCAL_ACCOUNT_ID,
    LOCAL_USER_POOL_CLIENT_ID,
    LOCAL_ZENDESK_API_TOKEN,
    LOCAL_ZENDESK_EMAIL,
    ZENDESK_RULE,
} from "./services";

export interface LocalOptions extends ServiceOptions {
    /** TCP port; 0 picks a free one. Default 4000. */
    port?: number;
    /** Interface to listen on. Default 127.0.0.1. */
    host?: string;
    /** Where S3 objects, tickets, dead letters and Cognito state are kept. Default `.local`. */
    dataDir?: string;
    /** Where log lines go (default stdout). */
    logLine?: (line: string) => void;
    /** AWS region the emulated resources live in. Default us-east-1. */
    region?: string;
    /**
     * Program configuration keys (as `pulumi config` would hold them, validated by the same parser), e.g.
     * `{ environment: "dev", partitionEventTypes: "shopping,paging" }`. Zendesk keys are ignored: use `zendesk`.
     */
    config?: RawConfig;
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

/** Builds each emulated service, starts the server they share, then resumes what the journal holds. */
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
    const names = localNames(config.environment, resourcePrefix(config.environment), region, dataDir);
    const ctx: LocalContext = { options, raw, config, names, log, activity: new ActivityFeed(), baseUrl: "" };

    const cognito = buildCognito(ctx);
    const { firehose, jqEngine } = await buildFirehose(ctx);
    const zendesk = buildZendesk(ctx);
    const bus = buildEventBus(ctx, firehose, zendesk.destination);
    const api = buildRestApi(ctx, cognito, bus);
    // The console asks for the server's address only once the server listens.
    const address = () => server.server.address() as { address: string; port: number } | undefined;
    const observability = buildConsole(ctx, firehose, bus, address);

    let outputs: LocalOutputs | undefined;
    const server: LocalServer = new LocalServer({
        cognito: cognito.cognito,
        api,
        recorder: zendesk.recorder,
        console: observability.console,
        log,
        outputs: () => outputs,
    });
    const listening = await server.listen(options.port ?? 4000, host);
    ctx.baseUrl = `http://${host.includes(":") ? `[${host}]` : host}:${listening.port}`;
    cognito.startTriggers();
    lock.listening(listening.port, ctx.baseUrl);
    await bus.recover();
    await importLegacySpool(bus, path.join(dataDir, "firehose", names.deliveryStreamName), log);
    outputs = publishOutputs(names, ctx.baseUrl, cognito.cognito);

    const stop = async () => {
        await server.drain();
        bus.stopRetrying();
        await firehose.close();
        const report = await bus.close();
        await server.close();
        observability.eventLoop.close();
        lock.release();
        return report;
    };
    let closed: Promise<LocalCloseReport> | undefined;
    return {
        outputs,
        details: pipelineDetails(names, ctx.baseUrl, zendesk, bus.ruleNames(), jqEngine, observability.console.enabled),
        activity: ctx.activity,
        metrics: observability.metrics,
        cognito: cognito.cognito,
        credentials: cognito.cognito.credentials,
        bus,
        firehose,
        flush: () => flushAll(bus, firehose),
        close() {
            closed ??= stop().then((report) => {
                const summary = closeSummary(report);
                if (report.notWritten > 0) log.warn(summary);
                else log.info(summary);
                return { ...report, summary };
            });
            return closed;
        },
    };
}

/** The details tools and tests read besides the outputs. */
function pipelineDetails(
    names: LocalNames,
    base: string,
    zendesk: LocalZendesk,
    rules: string[],
    jqEngine: string,
    consoleEnabled: boolean,
): LocalPipeline["details"] {
    return {
        environment: names.environment,
        stage: names.environment,
        s3Dir: names.s3Dir,
        ticketsFile: zendesk.recorder?.file ?? "",
        dlqDir: path.join(names.dataDir, "dlq"),
        zendeskEndpoint: zendesk.endpoint(),
        deliveryStreamName: names.deliveryStreamName,
        rules,
        jqEngine,
        consoleUrl: consoleEnabled ? base + CONSOLE_PATH : "",
    };
}

/**
 * The ready line's outputs; also written to `<dataDir>/outputs.json` (mode 0600, with the secret key) for
 * tools that find local mode by its data directory (the generator's --local).
 */
function publishOutputs(names: LocalNames, base: string, cognito: CognitoEmulator): LocalOutputs {
    const outputs: LocalOutputs = {
        ready: true,
        apiUrl: `${base}/${names.environment}/event`,
        userPoolId: names.userPoolId,
        userPoolClientId: LOCAL_USER_POOL_CLIENT_ID,
        bucketName: names.bucketName,
        eventBusName: names.eventBusName,
        region: names.region,
        cognitoEndpoint: base,
        dataDir: names.dataDir,
        credentials: { accessKeyId: cognito.credentials.accessKeyId, file: path.join(names.dataDir, "outputs.json") },
    };
    const published = { ...outputs, credentials: { ...outputs.credentials, ...cognito.credentials } };
    writeFileAtomic(path.join(names.dataDir, "outputs.json"), JSON.stringify(published, null, 2) + "\n", 0o600);
    return outputs;
}

/** Waits for every delivery; archive deliveries finish when their object is written, so flush while one waits. */
async function flushAll(bus: LocalEventBus, firehose: WorkerFirehose): Promise<void> {
    let idle = false;
    const drained = bus.drain().then(() => {
        idle = true;
    });
    while (!idle) {
        await firehose.flush();
        await Promise.race([drained, firehose.whenBuffered()]);
    }
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
