/**
 * The program's configuration: every `client-events:*` key, typed and validated.
 *
 * Validation is a pure function of a plain object (`parseConfig`), so tests need no Pulumi runtime;
 * `loadConfig()` feeds it from the stack's config. A missing or malformed value stops the program with
 * one message that names each bad key and the `pulumi config set` command that fixes it.
 */
// Types only at the top: local mode validates its config with parseConfig and must not load the Pulumi
// SDK (about half a second); loadConfig, which runs inside a Pulumi program, loads it.
import type * as pulumi from "@pulumi/pulumi";
import { MAX_ENVIRONMENT_NAME_LENGTH } from "./pipeline/naming";
import {
    BUFFERING,
    DEFAULT_PARTITIONED_EVENT_TYPES,
    DEFAULT_MAX_SCHEMA_VERSION,
    validatePartitioningPolicy,
    type PartitioningPolicy,
} from "./pipeline/partitioning";
import {
    DEFAULT_ZENDESK_RATE_PER_SECOND,
    parseZendeskEndpoint,
    validateZendeskEmail,
    validateZendeskRate,
    zendeskEnabled,
} from "./pipeline/zendesk-ticket";
import { TRANSITION_MIN_DAYS } from "./pipeline/archive-lifecycle";
import {
    DEFAULT_SCHEMA_ENFORCEMENT,
    DEFAULT_UNKNOWN_SCHEMA,
    SCHEMA_ENFORCEMENT_VALUES,
    UNKNOWN_SCHEMA_VALUES,
    type SchemaEnforcement,
    type UnknownSchemaPolicy,
} from "./pipeline/schemas";

/** The Pulumi project name, i.e. the config namespace. */
export const CONFIG_NAMESPACE = "client-events";

/** Log retention values CloudWatch Logs accepts, in days. */
export const LOG_RETENTION_DAYS = [
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
] as const;

export type ThreatProtection = "off" | "audit" | "enforced";
export type ExecutionLogLevel = "OFF" | "ERROR" | "INFO";
/** Where the API's logging gets API Gateway's account-wide CloudWatch Logs role (docs/deploy.md). */
export type ApiGatewayCloudWatchRole = "create" | "existing" | "off" | `arn:${string}`;

export interface AppConfig {
    /** Names the API stage and is every event's DetailType. */
    environment: string;

    // --- identity (IdentityPool) ---
    /** Cognito threat protection (advanced security): needs the Plus feature plan unless "off". */
    threatProtection: ThreatProtection;
    /** Whether the user pool refuses deletion (set false before `pulumi destroy`). */
    userPoolDeletionProtection: boolean;
    /** Access token validity, minutes (5..1440). */
    accessTokenValidityMinutes: number;
    /** ID token validity, minutes (5..1440). */
    idTokenValidityMinutes: number;
    /** Refresh token validity, days (1..3650). */
    refreshTokenValidityDays: number;

    // --- ingest (IngestApi) ---
    /** How long API Gateway caches an authorizer result per token, seconds (0..3600; 0 disables). */
    authorizerCacheTtlSeconds: number;
    /** Stage-wide steady-state request rate, requests per second. */
    throttleRateLimit: number;
    /** Stage-wide burst, requests. */
    throttleBurstLimit: number;
    /** API Gateway execution logging level. */
    apiExecutionLogLevel: ExecutionLogLevel;
    /** API Gateway's account-wide CloudWatch Logs role: create it, set a given role, rely on the existing one, or log nothing. */
    apiGatewayCloudWatchRole: ApiGatewayCloudWatchRole;
    /** The `Access-Control-Allow-Origin` the API answers with. */
    corsAllowOrigin: string;

    // --- shared ---
    /** Retention of every log group this program creates, days. */
    logRetentionDays: number;

    // --- routing (EventRouting, Archive, ZendeskDestination) ---
    /** Let `pulumi destroy` delete the archive bucket with its events. Default true for dev stacks only. */
    archiveForceDestroy: boolean;
    /** Days before archived events move to archiveTransitionStorageClass; 0 never. */
    archiveTransitionDays: number;
    /** S3 storage class of that transition. */
    archiveTransitionStorageClass: string;
    /** Days before archived events are deleted; 0 never. */
    archiveExpirationDays: number;
    /** Compression of archive objects. */
    archiveCompression: "UNCOMPRESSED" | "GZIP";
    /** Firehose buffer size, MiB (64..128). */
    firehoseBufferSizeMiB: number;
    /** Firehose buffer interval, seconds (0..900). */
    firehoseBufferIntervalSeconds: number;
    /** Which eventTypes / schemaVersions get their own S3 partition. */
    partitioning: PartitioningPolicy;
    /** Days the EventBridge archive keeps events for replay; 0 means no archive. */
    eventArchiveRetentionDays: number;
    /** SNS topic the alarms notify (instead of the topic Monitoring creates); undefined: Monitoring's own topic. */
    alarmTopicArn?: string;

    // --- monitoring (AlarmTopic, Monitoring) ---
    /** Alarms, an alarm topic and a dashboard. Off: only the dead-letter-queue alarms remain. */
    monitoring: boolean;
    /** An e-mail address subscribed to the alarm topic; undefined for none. */
    alarmEmail?: string;
    /** Zendesk settings; undefined when none of the three Zendesk keys is set. */
    zendesk?: ZendeskSettings;
    /** The Zendesk API token, a secret Output (set by loadConfig, never by parseConfig). */
    zendeskApiToken?: pulumi.Output<string>;

    // --- schemas (the Firehose transform, see docs/schemas.md) ---
    /** `quarantine`: events that break their schema go to errors/processing-failed/; `off`: no checks. */
    schemaEnforcement: SchemaEnforcement;
    /** Events whose eventType and schemaVersion have no schema: archived (`allow`) or quarantined. */
    unknownSchema: UnknownSchemaPolicy;
    // --- query (ArchiveQuery) ---
    /** Deploy the Glue tables, Athena workgroup, named queries and analyst policy. */
    queryEnabled: boolean;
    /** Most bytes one Athena query may scan (at least 10 MiB). */
    queryBytesScannedCutoffPerQuery: number;
    /** Days Athena query results are kept. */
    queryResultsExpirationDays: number;
}

/** The Zendesk destination's plain settings (the token is read separately, as a secret). */
export interface ZendeskSettings {
    email: string;
    endpoint: string;
    ratePerSecond: number;
    /** Notes for the deployment log (e.g. a rate above the smallest Zendesk plan). */
    warnings: string[];
}

/** Marks a secret as present in RawConfig without its value. */
export const SECRET_PRESENT = "(secret)";

/** Stacks named dev or dev-* (or environment dev): the archive bucket may be destroyed with its data. */
export function isDevStack(stackName: string, environment: string): boolean {
    return [stackName, environment].some((name) => /^dev([-_].*)?$/i.test(name));
}

/** The defaults of every optional key (also written in Pulumi.yaml's config schema). */
/**
 * Every plain config key this program reads, declared once: the group of components that reads it and its default
 * (none where the default depends on the stack, e.g. environment, or where unset means "off", e.g. zendeskEmail).
 * DEFAULTS, CONFIG_KEYS and the field sets below are derived from it; Pulumi.yaml declares the same keys for
 * `pulumi config` (test/config.test.ts holds the two together).
 */
const CONFIG_TABLE = {
    environment: { group: "core" },
    threatProtection: { group: "core", default: "off" },
    userPoolDeletionProtection: { group: "core", default: true },
    accessTokenValidityMinutes: { group: "core", default: 60 },
    idTokenValidityMinutes: { group: "core", default: 60 },
    refreshTokenValidityDays: { group: "core", default: 30 },
    authorizerCacheTtlSeconds: { group: "core", default: 300 },
    throttleRateLimit: { group: "core", default: 100 },
    throttleBurstLimit: { group: "core", default: 200 },
    apiExecutionLogLevel: { group: "core", default: "ERROR" },
    apiGatewayCloudWatchRole: { group: "core", default: "create" },
    corsAllowOrigin: { group: "core", default: "*" },
    logRetentionDays: { group: "core", default: 30 },
    archiveForceDestroy: { group: "routing" },
    archiveTransitionDays: { group: "routing", default: 30 },
    archiveTransitionStorageClass: { group: "routing", default: "STANDARD_IA" },
    archiveExpirationDays: { group: "routing", default: 365 },
    archiveCompression: { group: "routing", default: "UNCOMPRESSED" },
    firehoseBufferSizeMiB: { group: "routing", default: 64 },
    firehoseBufferIntervalSeconds: { group: "routing", default: 300 },
    partitionEventTypes: { group: "routing", default: DEFAULT_PARTITIONED_EVENT_TYPES.join(",") },
    partitionMaxSchemaVersion: { group: "routing", default: DEFAULT_MAX_SCHEMA_VERSION },
    eventArchiveRetentionDays: { group: "routing", default: 7 },
    zendeskEmail: { group: "routing" },
    zendeskEndpoint: { group: "routing" },
    zendeskRatePerSecond: { group: "routing", default: DEFAULT_ZENDESK_RATE_PER_SECOND },
    alarmTopicArn: { group: "routing" },
    schemaEnforcement: { group: "routing", default: DEFAULT_SCHEMA_ENFORCEMENT },
    unknownSchema: { group: "routing", default: DEFAULT_UNKNOWN_SCHEMA },
    monitoring: { group: "routing", default: true },
    alarmEmail: { group: "routing" },
    queryEnabled: { group: "query", default: true },
    queryBytesScannedCutoffPerQuery: { group: "query", default: 10 * 1024 * 1024 * 1024 },
    queryResultsExpirationDays: { group: "query", default: 7 },
} as const satisfies Record<string, { group: "core" | "routing" | "query"; default?: string | number | boolean }>;

type ConfigTable = typeof CONFIG_TABLE;
type KeysWithDefault = { [K in keyof ConfigTable]: ConfigTable[K] extends { default: unknown } ? K : never }[keyof ConfigTable];

/** The default of every key that has one (what an unset key means). */
export const DEFAULTS = Object.fromEntries(
    Object.entries(CONFIG_TABLE).flatMap(([key, spec]) => ("default" in spec ? [[key, spec.default]] : [])),
) as { readonly [K in KeysWithDefault]: ConfigTable[K] extends { default: infer D } ? D : never };

/** Raw config values as strings (what `pulumi config get` shows); undefined when unset. */
export type RawConfig = Record<string, string | undefined>;

/** Collects readable errors while reading keys. */
export class ConfigReader {
    readonly errors: string[] = [];
    constructor(private readonly raw: RawConfig) {}

    private fail(key: string, value: string | undefined, expected: string, example: string, fallback?: string): void {
        const shown =
            value !== undefined
                ? `is ${JSON.stringify(value)}`
                : fallback !== undefined
                  ? `is not set and its default ${JSON.stringify(fallback)} does not fit`
                  : "is not set";
        this.errors.push(
            `${CONFIG_NAMESPACE}:${key} ${shown}; expected ${expected}. Fix: pulumi config set ${CONFIG_NAMESPACE}:${key} ${example}`,
        );
    }

    /** The raw value, trimmed; undefined when unset or empty. */
    value(key: string): string | undefined {
        const value = this.raw[key];
        if (value === undefined || value === null) return undefined;
        const trimmed = String(value).trim();
        return trimmed === "" ? undefined : trimmed;
    }

    string(key: string, fallback: string | undefined, pattern: RegExp, expected: string, example: string): string {
        const value = this.value(key) ?? fallback;
        if (value === undefined || !pattern.test(value)) {
            this.fail(key, this.value(key), expected, example, fallback);
            return fallback ?? "";
        }
        return value;
    }

    /** A required string (e.g. secrets); the error shows the command with `--secret` when asked. */
    required(key: string, pattern: RegExp, expected: string, example: string): string {
        return this.string(key, undefined, pattern, expected, example);
    }

    integer(key: string, fallback: number, min: number, max: number): number {
        const raw = this.value(key);
        if (raw === undefined) return fallback;
        const value = /^-?\d+$/.test(raw) ? Number(raw) : NaN;
        if (!Number.isSafeInteger(value) || value < min || value > max) {
            this.fail(key, raw, `an integer from ${min} to ${max}`, String(fallback));
            return fallback;
        }
        return value;
    }

    number(key: string, fallback: number, min: number, max: number): number {
        const raw = this.value(key);
        if (raw === undefined) return fallback;
        const value = /^\d+(\.\d+)?$/.test(raw) ? Number(raw) : NaN;
        if (!Number.isFinite(value) || value < min || value > max) {
            this.fail(key, raw, `a number from ${min} to ${max}`, String(fallback));
            return fallback;
        }
        return value;
    }

    boolean(key: string, fallback: boolean): boolean {
        const raw = this.value(key);
        if (raw === undefined) return fallback;
        if (raw === "true") return true;
        if (raw === "false") return false;
        this.fail(key, raw, "true or false", String(fallback));
        return fallback;
    }

    oneOf<T extends string>(key: string, fallback: T, allowed: readonly T[]): T {
        const raw = this.value(key);
        if (raw === undefined) return fallback;
        if ((allowed as readonly string[]).includes(raw)) return raw as T;
        this.fail(key, raw, `one of ${allowed.join(", ")}`, fallback);
        return fallback;
    }

    integerIn(key: string, fallback: number, allowed: readonly number[]): number {
        const raw = this.value(key);
        if (raw === undefined) return fallback;
        const value = /^\d+$/.test(raw) ? Number(raw) : NaN;
        if (!allowed.includes(value)) {
            this.fail(key, raw, `one of ${allowed.join(", ")}`, String(fallback));
            return fallback;
        }
        return value;
    }
}

/**
 * An environment every resource name can carry: letters, digits and hyphens (an S3 bucket name takes no
 * "_"; Pulumi lower-cases the bucket's name), at most MAX_ENVIRONMENT_NAME_LENGTH characters (AWS's name
 * limits, see pipeline/naming.ts). It is also a valid API Gateway stage name and EventBridge DetailType.
 */
export const ENVIRONMENT_PATTERN = new RegExp(`^[A-Za-z0-9-]{1,${MAX_ENVIRONMENT_NAME_LENGTH}}$`);

/**
 * Validates raw config values. `stackName` is the default environment. Throws one Error listing every
 * problem; each line names the key and the command that fixes it.
 */
export function parseConfig(raw: RawConfig, stackName: string): AppConfig {
    const r = new ConfigReader(raw);
    const environment = r.string(
        "environment",
        stackName,
        ENVIRONMENT_PATTERN,
        `1 to ${MAX_ENVIRONMENT_NAME_LENGTH} letters, digits or "-" (it is part of every resource name, and AWS limits ` +
            `their length, e.g. IAM role names to 64 characters; default: the stack name)`,
        "dev",
    );
    const config: AppConfig = {
        environment,
        ...identityKeys(r),
        ...ingestKeys(r),
        logRetentionDays: r.integerIn("logRetentionDays", DEFAULTS.logRetentionDays, LOG_RETENTION_DAYS),
        ...routingKeys(r, isDevStack(stackName, environment)),
        monitoring: r.boolean("monitoring", DEFAULTS.monitoring),
        zendesk: undefined,
        schemaEnforcement: r.oneOf("schemaEnforcement", DEFAULTS.schemaEnforcement as SchemaEnforcement, SCHEMA_ENFORCEMENT_VALUES),
        unknownSchema: r.oneOf("unknownSchema", DEFAULTS.unknownSchema as UnknownSchemaPolicy, UNKNOWN_SCHEMA_VALUES),
        ...queryKeys(r),
    };
    routingChecks(r, config);
    monitoringChecks(r, config);
    loggingChecks(r, config);
    crossKeyChecks(r, config);
    if (r.errors.length > 0) {
        throw new Error(`Invalid configuration of stack "${stackName}":\n  - ${r.errors.join("\n  - ")}`);
    }
    return config;
}

type IdentityKeys = Pick<
    AppConfig,
    "threatProtection" | "userPoolDeletionProtection" | "accessTokenValidityMinutes" | "idTokenValidityMinutes" | "refreshTokenValidityDays"
>;

/** The identity keys (IdentityPool). */
function identityKeys(r: ConfigReader): IdentityKeys {
    return {
        threatProtection: r.oneOf<ThreatProtection>("threatProtection", DEFAULTS.threatProtection, ["off", "audit", "enforced"]),
        userPoolDeletionProtection: r.boolean("userPoolDeletionProtection", DEFAULTS.userPoolDeletionProtection),
        accessTokenValidityMinutes: r.integer("accessTokenValidityMinutes", DEFAULTS.accessTokenValidityMinutes, 5, 1440),
        idTokenValidityMinutes: r.integer("idTokenValidityMinutes", DEFAULTS.idTokenValidityMinutes, 5, 1440),
        refreshTokenValidityDays: r.integer("refreshTokenValidityDays", DEFAULTS.refreshTokenValidityDays, 1, 3650),
    };
}

type IngestKeys = Pick<
    AppConfig,
    | "authorizerCacheTtlSeconds"
    | "throttleRateLimit"
    | "throttleBurstLimit"
    | "apiExecutionLogLevel"
    | "apiGatewayCloudWatchRole"
    | "corsAllowOrigin"
>;

/** The ingest keys (IngestApi). */
function ingestKeys(r: ConfigReader): IngestKeys {
    return {
        authorizerCacheTtlSeconds: r.integer("authorizerCacheTtlSeconds", DEFAULTS.authorizerCacheTtlSeconds, 0, 3600),
        throttleRateLimit: r.number("throttleRateLimit", DEFAULTS.throttleRateLimit, 1, 1_000_000),
        throttleBurstLimit: r.integer("throttleBurstLimit", DEFAULTS.throttleBurstLimit, 1, 1_000_000),
        apiExecutionLogLevel: r.oneOf<ExecutionLogLevel>("apiExecutionLogLevel", DEFAULTS.apiExecutionLogLevel, ["OFF", "ERROR", "INFO"]),
        apiGatewayCloudWatchRole: cloudWatchRole(r),
        corsAllowOrigin: r.string(
            "corsAllowOrigin",
            DEFAULTS.corsAllowOrigin,
            /^(\*|https?:\/\/[A-Za-z0-9.-]+(:\d{1,5})?)$/,
            `"*" or one origin such as https://app.example.com`,
            "'*'",
        ),
    };
}

type RoutingKeys = Pick<
    AppConfig,
    | "archiveForceDestroy"
    | "archiveTransitionDays"
    | "archiveTransitionStorageClass"
    | "archiveExpirationDays"
    | "archiveCompression"
    | "firehoseBufferSizeMiB"
    | "firehoseBufferIntervalSeconds"
    | "partitioning"
    | "eventArchiveRetentionDays"
>;

/**
 * The archive and routing keys (Archive, EventRouting). How the lifecycle values fit together (a transition S3
 * accepts, expiry after it) is checked once, by the Archive component, before it creates anything.
 */
function routingKeys(r: ConfigReader, devStack: boolean): RoutingKeys {
    return {
        archiveForceDestroy: r.boolean("archiveForceDestroy", devStack),
        archiveTransitionDays: r.integer("archiveTransitionDays", DEFAULTS.archiveTransitionDays, 0, 36500),
        archiveTransitionStorageClass: r.oneOf(
            "archiveTransitionStorageClass",
            DEFAULTS.archiveTransitionStorageClass as string,
            Object.keys(TRANSITION_MIN_DAYS),
        ),
        archiveExpirationDays: r.integer("archiveExpirationDays", DEFAULTS.archiveExpirationDays, 0, 36500),
        archiveCompression: r.oneOf<"UNCOMPRESSED" | "GZIP">("archiveCompression", DEFAULTS.archiveCompression, ["UNCOMPRESSED", "GZIP"]),
        // Local mode buffers by these too (without the Archive component), so they are checked here.
        firehoseBufferSizeMiB: r.integer(
            "firehoseBufferSizeMiB",
            DEFAULTS.firehoseBufferSizeMiB,
            BUFFERING.minSizeMiB,
            BUFFERING.maxSizeMiB,
        ),
        firehoseBufferIntervalSeconds: r.integer(
            "firehoseBufferIntervalSeconds",
            DEFAULTS.firehoseBufferIntervalSeconds,
            BUFFERING.minIntervalSeconds,
            BUFFERING.maxIntervalSeconds,
        ),
        partitioning: {
            eventTypes: (r.value("partitionEventTypes") ?? DEFAULTS.partitionEventTypes)
                .split(",")
                .map((t) => t.trim())
                .filter((t) => t !== ""),
            maxSchemaVersion: r.integer("partitionMaxSchemaVersion", DEFAULTS.partitionMaxSchemaVersion, 0, 1000),
        },
        eventArchiveRetentionDays: r.integer("eventArchiveRetentionDays", DEFAULTS.eventArchiveRetentionDays, 0, 36500),
    };
}

type QueryKeys = Pick<AppConfig, "queryEnabled" | "queryBytesScannedCutoffPerQuery" | "queryResultsExpirationDays">;

/** The query keys (ArchiveQuery). */
function queryKeys(r: ConfigReader): QueryKeys {
    return {
        queryEnabled: r.boolean("queryEnabled", DEFAULTS.queryEnabled),
        // Athena refuses a limit below 10 MiB.
        queryBytesScannedCutoffPerQuery: r.integer(
            "queryBytesScannedCutoffPerQuery",
            DEFAULTS.queryBytesScannedCutoffPerQuery,
            10 * 1024 * 1024,
            Number.MAX_SAFE_INTEGER,
        ),
        queryResultsExpirationDays: r.integer("queryResultsExpirationDays", DEFAULTS.queryResultsExpirationDays, 1, 3650),
    };
}

/** Values that are fine alone but contradict each other. */
function crossKeyChecks(r: ConfigReader, config: AppConfig): void {
    if (config.schemaEnforcement === "off" && config.unknownSchema === "quarantine") {
        r.errors.push(
            `${CONFIG_NAMESPACE}:unknownSchema is "quarantine" but ${CONFIG_NAMESPACE}:schemaEnforcement is "off", which checks nothing. ` +
                `Fix: pulumi config set ${CONFIG_NAMESPACE}:schemaEnforcement quarantine`,
        );
    }
    if (config.throttleBurstLimit < config.throttleRateLimit) {
        r.errors.push(
            `${CONFIG_NAMESPACE}:throttleBurstLimit (${config.throttleBurstLimit}) is below throttleRateLimit (${config.throttleRateLimit}); ` +
                `a burst smaller than the rate throttles steady traffic. Fix: pulumi config set ${CONFIG_NAMESPACE}:throttleBurstLimit ${Math.ceil(config.throttleRateLimit * 2)}`,
        );
    }
}

/** An IAM role ARN (with an optional path), as the account's CloudWatch Logs role setting takes it. */
const ROLE_ARN_PATTERN = /^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]{1,512}$/;

/**
 * apiGatewayCloudWatchRole: "create" (default), "existing", "off" or a role ARN. The boolean values of
 * earlier versions still work: true meant "create the role", false "the account already has one".
 */
function cloudWatchRole(r: ConfigReader): ApiGatewayCloudWatchRole {
    const raw = r.value("apiGatewayCloudWatchRole");
    if (raw === undefined) return DEFAULTS.apiGatewayCloudWatchRole;
    if (raw === "create" || raw === "existing" || raw === "off") return raw;
    if (raw === "true") return "create";
    if (raw === "false") return "existing";
    if (ROLE_ARN_PATTERN.test(raw)) return raw as `arn:${string}`;
    const key = `${CONFIG_NAMESPACE}:apiGatewayCloudWatchRole`;
    r.errors.push(
        `${key} is ${JSON.stringify(raw)}; expected create, existing, off or an IAM role ARN (arn:aws:iam::123456789012:role/NAME). ` +
            `Fix: pulumi config set ${key} create`,
    );
    return DEFAULTS.apiGatewayCloudWatchRole;
}

/** With apiGatewayCloudWatchRole "off" there is no execution logging: an explicit log level contradicts it. */
function loggingChecks(r: ConfigReader, config: AppConfig): void {
    if (config.apiGatewayCloudWatchRole !== "off") return;
    const level = r.value("apiExecutionLogLevel");
    if (level !== undefined && level !== "OFF") {
        r.errors.push(
            `${CONFIG_NAMESPACE}:apiExecutionLogLevel is ${level}, but ${CONFIG_NAMESPACE}:apiGatewayCloudWatchRole is off (no API logging). ` +
                `Fix: pulumi config set ${CONFIG_NAMESPACE}:apiExecutionLogLevel OFF, or pulumi config set ${CONFIG_NAMESPACE}:apiGatewayCloudWatchRole create`,
        );
    }
    config.apiExecutionLogLevel = "OFF";
}

/** Cross-key checks of the routing keys; each error names its key and fix (the validators spell the keys with `key`). */
function routingChecks(r: ConfigReader, config: AppConfig): void {
    const key = (k: string) => `${CONFIG_NAMESPACE}:${k}`;
    const topic = r.value("alarmTopicArn");
    if (topic !== undefined && !/^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256}$/.test(topic)) {
        r.errors.push(
            `${key("alarmTopicArn")} is ${JSON.stringify(topic)}; expected an SNS topic ARN. Fix: pulumi config set ${key("alarmTopicArn")} arn:aws:sns:us-east-1:123456789012:ops-alerts`,
        );
    } else {
        config.alarmTopicArn = topic;
    }
    for (const problem of validatePartitioningPolicy(config.partitioning, key)) {
        r.errors.push(`${problem}. Fix: pulumi config set ${key("partitionEventTypes")} ${DEFAULTS.partitionEventTypes}`);
    }
    const settings = {
        zendeskEmail: r.value("zendeskEmail"),
        zendeskApiToken: r.value("zendeskApiToken") !== undefined,
        zendeskEndpoint: r.value("zendeskEndpoint"),
    };
    // Only read as a whole number here: its range is validateZendeskRate's.
    const rate = r.integer("zendeskRatePerSecond", DEFAULTS.zendeskRatePerSecond, Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER);
    try {
        if (!zendeskEnabled(settings, key)) return;
        const email = validateZendeskEmail(settings.zendeskEmail, key);
        const endpoint = parseZendeskEndpoint(settings.zendeskEndpoint, key).url;
        config.zendesk = { email, endpoint, ratePerSecond: rate, warnings: validateZendeskRate(rate, key) };
    } catch (err) {
        r.errors.push((err as Error).message);
    }
}

/** An e-mail address SNS can subscribe (a plain address; SNS checks it by mailing a confirmation link). */
const EMAIL_PATTERN = /^[^\s@"<>,;]{1,64}@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$/;

/** The monitoring keys: the alarm e-mail address, which needs the monitoring's topic. */
function monitoringChecks(r: ConfigReader, config: AppConfig): void {
    const key = (k: string) => `${CONFIG_NAMESPACE}:${k}`;
    const email = r.value("alarmEmail");
    if (email === undefined) return;
    if (!EMAIL_PATTERN.test(email) || email.length > 254) {
        r.errors.push(
            `${key("alarmEmail")} is ${JSON.stringify(email)}; expected an e-mail address. Fix: pulumi config set ${key("alarmEmail")} ops@example.com`,
        );
    } else if (!config.monitoring) {
        r.errors.push(
            `${key("alarmEmail")} is set but ${key("monitoring")} is false, so there is no alarm topic to subscribe it to. Fix: pulumi config set ${key("monitoring")} true`,
        );
    } else {
        config.alarmEmail = email;
    }
}

/** Every plain key this program reads, for loadConfig (the secret one is SECRET_CONFIG_KEYS). */
export const CONFIG_KEYS: readonly string[] = Object.keys(CONFIG_TABLE);

const keysOf = (group: ConfigTable[keyof ConfigTable]["group"]) =>
    Object.entries(CONFIG_TABLE).flatMap(([key, spec]) => (spec.group === group ? [key] : []));

/** AppConfig fields and DEFAULTS keys of the routing components (tested in test/routing-config.test.ts). */
export const ROUTING_FIELDS: ReadonlySet<string> = new Set([...keysOf("routing"), "partitioning", "zendesk", "zendeskApiToken"]);

/** AppConfig fields and DEFAULTS keys of the ArchiveQuery component (tested in test/query-config.test.ts). */
export const QUERY_FIELDS: ReadonlySet<string> = new Set(keysOf("query"));

/** Secret keys: read with getSecret, so the value stays an encrypted Output; only presence is validated. */
export const SECRET_CONFIG_KEYS = ["zendeskApiToken"];

/** Reads and validates the current stack's config. */
export function loadConfig(): AppConfig {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded on use: local mode imports this module without the Pulumi SDK
    const sdk = require("@pulumi/pulumi") as typeof import("@pulumi/pulumi");
    const config = new sdk.Config(CONFIG_NAMESPACE);
    const raw: RawConfig = {};
    for (const key of CONFIG_KEYS) raw[key] = config.get(key);
    const zendeskApiToken = config.getSecret("zendeskApiToken");
    raw.zendeskApiToken = zendeskApiToken === undefined ? undefined : SECRET_PRESENT;
    return { ...parseConfig(raw, sdk.getStack()), zendeskApiToken };
}
