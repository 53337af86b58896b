/**
 * What the deployed pipeline costs a month for a number of events, service by service, from the prices
 * in cost/prices.ts and the program's defaults (config.ts, pipeline/). Every quantity is a formula of the
 * inputs and the assumptions below; `npm run cost` prints them, docs/cost.md discusses them.
 */
import { DEFAULTS } from "../config";
import { alarmInstances, alarmSpecs, signalMetrics, type PipelineResources } from "../pipeline/alarms";
import { MAX_ENTRIES_PER_REQUEST, MAX_ENTRY_LENGTH, WORST_CASE_BYTES_PER_CHAR } from "../pipeline/limits";
import { TRANSFORM_INVOCATION } from "../pipeline/partitioning";
import { costOf, PRICE_REGION, PRICES, tieredCost, type PriceId } from "./prices";

/** AWS bills hourly things on a 730-hour month. */
export const SECONDS_PER_MONTH = 730 * 3600;
export const DAYS_PER_MONTH = 730 / 24;
const GB = 1024 ** 3;
const MB = 1024 ** 2;
const KB = 1024;
const MILLION = 1e6;

/**
 * Bytes EventBridge adds around an event (version, id, detail-type, source, account, time, region,
 * resources with the clientId): the sample events/event.json without its detail.
 */
export const EVENTBRIDGE_ENVELOPE_BYTES = 242;
/** The transform empties `resources` (-38 bytes), adds `"accountNumber":"<clientId>"` (+55), and Firehose a newline. */
export const ARCHIVE_RECORD_EXTRA_BYTES = -38 + 55 + 1;
/** A PutEvents entry's payload beyond the event: Source, DetailType (the environment), Resources ([clientId]). */
export const PUT_EVENTS_ENTRY_EXTRA_BYTES = "clientevents".length + 20 + 40;

export interface CostInputs {
    eventsPerMonth: number;
    /** Events per API request (1 to 10). */
    eventsPerRequest: number;
    /** Bytes of one event's JSON as the client sends it. */
    eventBytes: number;
    region: string;
}

/** What the model assumes beyond the inputs: the program's defaults and measured or estimated figures. */
export interface CostAssumptions {
    /** How often one client sends a request, seconds (the generator's default): with the cache TTL, how often the authorizer runs. */
    requestIntervalSeconds: number;
    authorizerCacheTtlSeconds: number;
    /** Average authorizer run, ms (JWT check and, once per user per 15 minutes, Cognito GetUser). An estimate. */
    authorizerMs: number;
    lambdaMemoryMiB: number;
    /** Transform run: fixed part and per record, ms at 256 MiB (the bench's 11 us/record on one core, x7 for 256 MiB's CPU share). */
    transformMsPerInvocation: number;
    transformMsPerRecord: number;
    /** JQ time per record, seconds: the bench's jq 1.6 rate (21,505 records/s); AWS does not document the metering. */
    jqSecondsPerRecord: number;
    /** Distinct eventType/schemaVersion partitions receiving events (the generator's five types, version 1). */
    activePartitions: number;
    bufferIntervalSeconds: number;
    bufferSizeMiB: number;
    /** Share of events that are loyalty purchases (a Zendesk ticket each); 0 without Zendesk. */
    zendeskShare: number;
    zendeskRatePerSecond: number;
    transitionDays: number;
    expirationDays: number;
    eventArchiveRetentionDays: number;
    logRetentionDays: number;
    /** Access-log bytes per request (the ACCESS_LOG_FORMAT line with typical values) and platform-log bytes per Lambda run. */
    accessLogBytesPerRequest: number;
    lambdaLogBytesPerInvocation: number;
    /** Bytes of an answer: headers and CORS (about 400) plus the entries' results (about 50 each). */
    responseBytesBase: number;
    responseBytesPerEvent: number;
    /** Athena workload: the Game Analytics Pipeline's (100 queries a day of 100 MB). */
    queriesPerDay: number;
    queryScanMiB: number;
}

export const DEFAULT_ASSUMPTIONS: CostAssumptions = {
    requestIntervalSeconds: 10,
    authorizerCacheTtlSeconds: DEFAULTS.authorizerCacheTtlSeconds,
    authorizerMs: 50,
    lambdaMemoryMiB: 256,
    transformMsPerInvocation: 5,
    transformMsPerRecord: 0.08,
    jqSecondsPerRecord: 1 / 21505,
    activePartitions: 5,
    bufferIntervalSeconds: DEFAULTS.firehoseBufferIntervalSeconds,
    bufferSizeMiB: DEFAULTS.firehoseBufferSizeMiB,
    zendeskShare: 0.01,
    zendeskRatePerSecond: DEFAULTS.zendeskRatePerSecond,
    transitionDays: DEFAULTS.archiveTransitionDays,
    expirationDays: DEFAULTS.archiveExpirationDays,
    eventArchiveRetentionDays: DEFAULTS.eventArchiveRetentionDays,
    logRetentionDays: DEFAULTS.logRetentionDays,
    accessLogBytesPerRequest: 700,
    lambdaLogBytesPerInvocation: 600,
    responseBytesBase: 400,
    responseBytesPerEvent: 50,
    queriesPerDay: 100,
    queryScanMiB: 100,
};

export interface CostLine {
    service: string;
    item: string;
    quantity: number;
    unit: string;
    /** Dollars a month. */
    monthly: number;
    price: PriceId;
}

export interface CostEstimate {
    inputs: CostInputs;
    assumptions: CostAssumptions;
    lines: CostLine[];
    total: number;
    perMillionEvents: number;
    warnings: string[];
}

/** The largest event the API accepts, in bytes (MAX_ENTRY_LENGTH characters of at most 4 bytes). */
export const MAX_EVENT_BYTES = MAX_ENTRY_LENGTH * WORST_CASE_BYTES_PER_CHAR;

/** Checks the inputs; the message names the option and what it accepts. */
export function validateInputs(inputs: CostInputs): void {
    const whole = (v: number) => Number.isSafeInteger(v);
    if (!whole(inputs.eventsPerMonth) || inputs.eventsPerMonth < 1)
        throw new Error(`--events-per-month must be a whole number of at least 1, got ${inputs.eventsPerMonth}`);
    if (!whole(inputs.eventsPerRequest) || inputs.eventsPerRequest < 1 || inputs.eventsPerRequest > MAX_ENTRIES_PER_REQUEST) {
        throw new Error(
            `--events-per-request must be a whole number from 1 to ${MAX_ENTRIES_PER_REQUEST} (the API's limit), got ${inputs.eventsPerRequest}`,
        );
    }
    if (!whole(inputs.eventBytes) || inputs.eventBytes < 2 || inputs.eventBytes > MAX_EVENT_BYTES) {
        throw new Error(
            `--event-bytes must be a whole number from 2 to ${MAX_EVENT_BYTES} (the API refuses longer entries), got ${inputs.eventBytes}`,
        );
    }
    if (inputs.region !== PRICE_REGION) {
        throw new Error(
            `--region ${inputs.region}: cost/prices.ts holds ${PRICE_REGION}'s prices only; other regions differ. Add that region's prices there first.`,
        );
    }
}

/** Byte sizes of one event at each stage. */
export function eventSizes(eventBytes: number) {
    const firehoseRecordBytes = eventBytes + EVENTBRIDGE_ENVELOPE_BYTES;
    return {
        putEventsEntryBytes: eventBytes + PUT_EVENTS_ENTRY_EXTRA_BYTES,
        firehoseRecordBytes,
        /** Firehose bills each record rounded up to a multiple of 5 KB. */
        firehoseBilledBytes: Math.ceil(firehoseRecordBytes / (5 * KB)) * 5 * KB,
        archivedBytes: firehoseRecordBytes + ARCHIVE_RECORD_EXTRA_BYTES,
    };
}

/**
 * Objects Firehose writes a month: each active partition flushes at every buffer interval (or each time its
 * buffer fills); when there are fewer records than partition-intervals, about one object per record.
 */
export function objectsPerMonth(records: number, bytes: number, a: CostAssumptions): number {
    const partitionIntervals = a.activePartitions * (SECONDS_PER_MONTH / a.bufferIntervalSeconds);
    if (records <= partitionIntervals) return records;
    const bytesPerFlush = bytes / partitionIntervals;
    return partitionIntervals * Math.max(1, Math.ceil(bytesPerFlush / (a.bufferSizeMiB * MB)));
}

/** Transform invocations a month: one per processor buffer (1 MiB or 60 s), never more than one per record. */
export function transformInvocations(records: number, bytes: number): number {
    const windows = SECONDS_PER_MONTH / TRANSFORM_INVOCATION.bufferIntervalSeconds;
    return Math.min(records, Math.max(windows, Math.ceil(bytes / (TRANSFORM_INVOCATION.bufferSizeMiB * MB))));
}

/** Alarm metrics billed: one per single-metric alarm, two per rate alarm (pipeline/alarms.ts), for these routes. */
export function alarmMetricCount(routes: string[]): number {
    const resources: PipelineResources<string> = {
        api: { name: "a", id: "a", stage: "a" },
        functions: { authorizer: "a", postConfirmation: "a", transform: "a" },
        eventBusName: "a",
        routes: Object.fromEntries(routes.map((r) => [r, { ruleName: "a", deadLetterQueueName: "a" }])),
        deliveryStreamName: "a",
    };
    return alarmInstances(alarmSpecs(), resources).reduce((n, i) => n + signalMetrics(i.spec.signal).length, 0);
}

type FlatPriceId = Exclude<PriceId, "apiGatewayRestRequests">;

/** A line at a flat price. */
function line(service: string, item: string, quantity: number, unit: string, price: FlatPriceId): CostLine {
    return { service, item, quantity, unit, price, monthly: costOf(PRICES[price], quantity) };
}

/** The monthly cost, line by line. */
export function estimateCost(inputs: CostInputs, assumptions: CostAssumptions = DEFAULT_ASSUMPTIONS): CostEstimate {
    validateInputs(inputs);
    const a = assumptions;
    const n = inputs.eventsPerMonth;
    const sizes = eventSizes(inputs.eventBytes);
    const requests = Math.ceil(n / inputs.eventsPerRequest);
    const authorizerRuns =
        a.authorizerCacheTtlSeconds > 0 ? requests * Math.min(1, a.requestIntervalSeconds / a.authorizerCacheTtlSeconds) : requests;
    const tickets = n * a.zendeskShare;
    const lines: CostLine[] = [
        {
            service: "API Gateway",
            item: "REST requests",
            quantity: requests,
            unit: "requests",
            price: "apiGatewayRestRequests",
            monthly: tieredCost(PRICES.apiGatewayRestRequests, requests, MILLION),
        },
        line(
            "API Gateway",
            "answers to clients (data transfer out)",
            (requests * (a.responseBytesBase + a.responseBytesPerEvent * inputs.eventsPerRequest)) / GB,
            "GB",
            "dataTransferOut",
        ),
        line(
            "Lambda: authorizer",
            `invocations (cache TTL ${a.authorizerCacheTtlSeconds} s, a request every ${a.requestIntervalSeconds} s per client)`,
            authorizerRuns,
            "requests",
            "lambdaRequests",
        ),
        line(
            "Lambda: authorizer",
            `duration (${a.authorizerMs} ms at ${a.lambdaMemoryMiB} MiB, Arm)`,
            gbSeconds(authorizerRuns, a.authorizerMs, a),
            "GB-s",
            "lambdaArmGbSecond",
        ),
        line(
            "EventBridge",
            "PutEvents (one event per 64 KB chunk of each entry)",
            n * Math.ceil(sizes.putEventsEntryBytes / (64 * KB)),
            "events",
            "eventBridgeCustomEvents",
        ),
        ...archiveLines(n, sizes, a),
        line("EventBridge", "Zendesk API destination invocations", tickets, "invocations", "eventBridgeApiDestinations"),
        ...firehoseLines(n, sizes, a),
        ...s3Lines(n, sizes, a),
        ...observabilityLines(requests, authorizerRuns, n, sizes, a),
    ];
    return summarize(inputs, a, lines, tickets);
}

function gbSeconds(invocations: number, ms: number, a: CostAssumptions): number {
    return invocations * (ms / 1000) * (a.lambdaMemoryMiB / 1024);
}

/** The bus's replay archive (eventArchiveRetentionDays): every event archived, and the days kept stored. */
function archiveLines(n: number, sizes: ReturnType<typeof eventSizes>, a: CostAssumptions): CostLine[] {
    if (a.eventArchiveRetentionDays <= 0) return [];
    const archivedGb = (n * sizes.firehoseRecordBytes) / GB;
    return [
        line("EventBridge", "replay archive: events archived", archivedGb, "GB", "eventBridgeArchiveProcessing"),
        line(
            "EventBridge",
            `replay archive: storage (${a.eventArchiveRetentionDays} days kept)`,
            archivedGb * Math.min(1, a.eventArchiveRetentionDays / DAYS_PER_MONTH),
            "GB-month",
            "eventBridgeArchiveStorage",
        ),
    ];
}

function firehoseLines(n: number, sizes: ReturnType<typeof eventSizes>, a: CostAssumptions): CostLine[] {
    const invocations = transformInvocations(n, n * sizes.firehoseRecordBytes);
    const transformMs = a.transformMsPerInvocation + a.transformMsPerRecord * (n / invocations);
    return [
        line(
            "Firehose",
            `ingestion (${sizes.firehoseRecordBytes} B records billed as ${sizes.firehoseBilledBytes / KB} KB)`,
            (n * sizes.firehoseBilledBytes) / GB,
            "GB",
            "firehoseIngestion",
        ),
        line("Firehose", "dynamic partitioning: data", (n * sizes.archivedBytes) / GB, "GB", "firehoseDynamicPartitioningGb"),
        line(
            "Firehose",
            `dynamic partitioning: objects (${a.activePartitions} partitions, ${a.bufferIntervalSeconds} s / ${a.bufferSizeMiB} MiB buffers)`,
            objectsPerMonth(n, n * sizes.archivedBytes, a),
            "objects",
            "firehoseDynamicPartitioningObjects",
        ),
        line("Firehose", "dynamic partitioning: JQ processing", (n * a.jqSecondsPerRecord) / 3600, "hours", "firehoseJqHours"),
        line("Lambda: transform", "invocations (1 MiB or 60 s batches)", invocations, "requests", "lambdaRequests"),
        line(
            "Lambda: transform",
            `duration (${transformMs.toFixed(1)} ms a batch at ${a.lambdaMemoryMiB} MiB, Arm)`,
            gbSeconds(invocations, transformMs, a),
            "GB-s",
            "lambdaArmGbSecond",
        ),
    ];
}

/** S3 at steady state: the months of retention all stored (Standard until the transition, then Standard-IA). */
function s3Lines(n: number, sizes: ReturnType<typeof eventSizes>, a: CostAssumptions): CostLine[] {
    const monthBytes = n * sizes.archivedBytes;
    const objects = objectsPerMonth(n, monthBytes, a);
    const keptDays = a.expirationDays > 0 ? a.expirationDays : 365;
    const standardDays = a.transitionDays > 0 ? Math.min(a.transitionDays, keptDays) : keptDays;
    const iaDays = keptDays - standardDays;
    // Standard-IA bills an object of less than 128 KB as 128 KB.
    const iaObjectBytes = Math.max(monthBytes / objects, 128 * KB);
    const lines = [
        line("S3", "PUT requests (one per object)", objects, "requests", "s3PutRequests"),
        line(
            "S3",
            `Standard storage (${standardDays} days of events)`,
            (monthBytes / GB) * (standardDays / DAYS_PER_MONTH),
            "GB-month",
            "s3StandardStorage",
        ),
    ];
    if (iaDays > 0) {
        lines.push(
            line(
                "S3",
                `Standard-IA storage (${iaDays} more days; objects under 128 KB billed as 128 KB)`,
                ((objects * iaObjectBytes) / GB) * (iaDays / DAYS_PER_MONTH),
                "GB-month",
                "s3StandardIaStorage",
            ),
            line("S3", "lifecycle transitions to Standard-IA", objects, "requests", "s3LifecycleTransitionsToIa"),
        );
    }
    const scannedTb = (a.queriesPerDay * DAYS_PER_MONTH * Math.max(10, a.queryScanMiB) * MB) / 1024 ** 4;
    lines.push(line("Athena", `queries (${a.queriesPerDay} a day, ${a.queryScanMiB} MiB each)`, scannedTb, "TB", "athenaScanned"));
    return lines;
}

function observabilityLines(
    requests: number,
    authorizerRuns: number,
    n: number,
    sizes: ReturnType<typeof eventSizes>,
    a: CostAssumptions,
): CostLine[] {
    const invocations = authorizerRuns + transformInvocations(n, n * sizes.firehoseRecordBytes);
    const logGb = (requests * a.accessLogBytesPerRequest + invocations * a.lambdaLogBytesPerInvocation) / GB;
    const alarmMetrics = alarmMetricCount(a.zendeskShare > 0 ? ["archive", "zendesk"] : ["archive"]);
    return [
        line("CloudWatch", "logs ingested (API access logs, Lambda platform logs)", logGb, "GB", "cloudWatchLogsIngestion"),
        line(
            "CloudWatch",
            `logs stored (${a.logRetentionDays} days)`,
            logGb * (a.logRetentionDays / DAYS_PER_MONTH),
            "GB-month",
            "cloudWatchLogsStorage",
        ),
        line("CloudWatch", "alarm metrics (fixed)", alarmMetrics, "alarm metrics", "cloudWatchAlarmMetric"),
        line("CloudWatch", "dashboard (fixed)", 1, "dashboards", "cloudWatchDashboard"),
        line("KMS", "alarm topic key (fixed)", 1, "keys", "kmsKey"),
    ];
}

function summarize(inputs: CostInputs, assumptions: CostAssumptions, lines: CostLine[], tickets: number): CostEstimate {
    const total = lines.reduce((sum, l) => sum + l.monthly, 0);
    const warnings: string[] = [];
    const ticketCapacity = assumptions.zendeskRatePerSecond * SECONDS_PER_MONTH;
    if (tickets > ticketCapacity) {
        warnings.push(
            `${Math.round(tickets).toLocaleString("en-US")} tickets a month exceed what zendeskRatePerSecond ${assumptions.zendeskRatePerSecond} delivers ` +
                `(${ticketCapacity.toLocaleString("en-US")}); the rest waits, then goes to the Zendesk dead-letter queue`,
        );
    }
    return { inputs, assumptions, lines, total, perMillionEvents: total / (inputs.eventsPerMonth / MILLION), warnings };
}

/** Monthly cost by service, in the order the lines first name them. */
export function byService(estimate: CostEstimate): Array<{ service: string; monthly: number }> {
    const totals = new Map<string, number>();
    for (const line of estimate.lines) totals.set(line.service, (totals.get(line.service) ?? 0) + line.monthly);
    return [...totals].map(([service, monthly]) => ({ service, monthly }));
}
