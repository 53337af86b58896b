import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import "./support/pulumi-mocks";
import { CONFIG_KEYS, CONFIG_NAMESPACE, DEFAULTS, loadConfig, parseConfig, QUERY_FIELDS, ROUTING_FIELDS } from "../config";

/** Without the routing and query keys (tested in test/routing-config.test.ts and test/query-config.test.ts). */
const core = (o: object) => Object.fromEntries(Object.entries(o).filter(([k]) => !ROUTING_FIELDS.has(k) && !QUERY_FIELDS.has(k)));

const ROOT = path.resolve(__dirname, "..");

/** The `config:` block of Pulumi.yaml: key -> { type, default } (a two-level YAML subset is enough here). */
function projectConfigSchema(): Record<string, { type?: string; default?: string }> {
    const lines = fs.readFileSync(path.join(ROOT, "Pulumi.yaml"), "utf8").split("\n");
    const start = lines.findIndex((l) => l === "config:");
    assert.ok(start >= 0, "Pulumi.yaml has a config: block");
    const schema: Record<string, { type?: string; default?: string }> = {};
    let current: string | undefined;
    for (const line of lines.slice(start + 1)) {
        if (/^\S/.test(line)) break;
        const key = /^ {2}([A-Za-z0-9:-]+):\s*$/.exec(line);
        const field = /^ {4}(type|default):\s*(.*)$/.exec(line);
        if (key) schema[(current = key[1])] = {};
        else if (field && current) schema[current][field[1] as "type" | "default"] = field[2].replace(/^"(.*)"$/, "$1");
    }
    return schema;
}

/** `client-events:*` values of Pulumi.dev.yaml, unquoted. */
function devStackValues(): Record<string, string> {
    const values: Record<string, string> = {};
    for (const line of fs.readFileSync(path.join(ROOT, "Pulumi.dev.yaml"), "utf8").split("\n")) {
        const m = new RegExp(`^ {2}${CONFIG_NAMESPACE}:([A-Za-z0-9]+):\\s*(.*)$`).exec(line);
        if (m) values[m[1]] = m[2].replace(/^"(.*)"$/, "$1");
    }
    return values;
}

function errorOf(raw: Record<string, string>): string {
    try {
        parseConfig(raw, "dev");
    } catch (err) {
        return (err as Error).message;
    }
    assert.fail(`accepted ${JSON.stringify(raw)}`);
}

describe("config", () => {
    it("defaults: the environment is the stack name, the rest the documented defaults", () => {
        // Written out here on purpose: a changed default must be a deliberate change to this list too.
        assert.deepStrictEqual(core(parseConfig({}, "staging")), {
            environment: "staging",
            threatProtection: "off", // Cognito threat protection needs the Plus tier
            userPoolDeletionProtection: true,
            accessTokenValidityMinutes: 60, // Cognito's defaults: 1 hour, 1 hour, 30 days
            idTokenValidityMinutes: 60,
            refreshTokenValidityDays: 30,
            authorizerCacheTtlSeconds: 300, // API Gateway's default authorizer cache TTL
            throttleRateLimit: 100,
            throttleBurstLimit: 200,
            apiExecutionLogLevel: "ERROR",
            apiGatewayCloudWatchRole: "create", // a role made for the account, so a fresh account deploys
            corsAllowOrigin: "*",
            logRetentionDays: 30,
        });
    });

    it("defaults: what Pulumi.yaml declares is what the program uses when a key is unset", () => {
        const config = parseConfig({}, "staging") as unknown as Record<string, unknown>;
        const schema = projectConfigSchema();
        const typed = (type: string | undefined, text: string) =>
            type === "boolean" ? text === "true" : type === "integer" ? Number(text) : text;
        const declared = Object.entries(schema).filter(([, s]) => s.default !== undefined);
        const withZendesk = parseConfig(
            { zendeskEmail: "a@example.com", zendeskEndpoint: "https://a.zendesk.com/api/v2/tickets", zendeskApiToken: "t" },
            "staging",
        );
        assert.ok(declared.length >= 20, `${declared.length} declared defaults`);
        for (const [key, { type, default: text }] of declared) {
            const actual =
                key === "partitionEventTypes"
                    ? config.partitioning && (config.partitioning as { eventTypes: string[] }).eventTypes.join(",")
                    : key === "partitionMaxSchemaVersion"
                      ? (config.partitioning as { maxSchemaVersion: number }).maxSchemaVersion
                      : key === "zendeskRatePerSecond"
                        ? withZendesk.zendesk?.ratePerSecond // read only when Zendesk is configured
                        : config[key];
            assert.strictEqual(actual, typed(type, text as string), key);
        }
    });

    it("reads every key", () => {
        const config = parseConfig(
            {
                environment: "Prod-eu-1",
                threatProtection: "audit",
                userPoolDeletionProtection: "false",
                accessTokenValidityMinutes: "15",
                idTokenValidityMinutes: "20",
                refreshTokenValidityDays: "3650",
                authorizerCacheTtlSeconds: "0",
                throttleRateLimit: "12.5",
                throttleBurstLimit: "25",
                apiExecutionLogLevel: "INFO",
                apiGatewayCloudWatchRole: "existing",
                corsAllowOrigin: "https://app.example.com:8443",
                logRetentionDays: "365",
            },
            "dev",
        );
        assert.deepStrictEqual(core(config), {
            environment: "Prod-eu-1",
            threatProtection: "audit",
            userPoolDeletionProtection: false,
            accessTokenValidityMinutes: 15,
            idTokenValidityMinutes: 20,
            refreshTokenValidityDays: 3650,
            authorizerCacheTtlSeconds: 0,
            throttleRateLimit: 12.5,
            throttleBurstLimit: 25,
            apiExecutionLogLevel: "INFO",
            apiGatewayCloudWatchRole: "existing",
            corsAllowOrigin: "https://app.example.com:8443",
            logRetentionDays: 365,
        });
    });

    const invalid: Array<[string, Record<string, string>, string]> = [
        ["an environment with a space", { environment: "prod eu" }, "environment"],
        ["an environment of 21 characters (AWS's resource name limits)", { environment: "e".repeat(21) }, "environment"],
        ['an environment with "_" (no S3 bucket name takes it)', { environment: "prod_eu" }, "environment"],
        ["a stack name that is not a stage name", {}, "environment"],
        ["a TTL above 3600", { authorizerCacheTtlSeconds: "3601" }, "authorizerCacheTtlSeconds"],
        ["a negative TTL", { authorizerCacheTtlSeconds: "-1" }, "authorizerCacheTtlSeconds"],
        ["a fractional TTL", { authorizerCacheTtlSeconds: "1.5" }, "authorizerCacheTtlSeconds"],
        ["a TTL that is not a number", { authorizerCacheTtlSeconds: "five" }, "authorizerCacheTtlSeconds"],
        ["an unknown threat protection mode", { threatProtection: "ENFORCED" }, "threatProtection"],
        ["a boolean that is not true/false", { userPoolDeletionProtection: "yes" }, "userPoolDeletionProtection"],
        ["an access token validity below 5 minutes", { accessTokenValidityMinutes: "4" }, "accessTokenValidityMinutes"],
        ["a refresh token validity of 0 days", { refreshTokenValidityDays: "0" }, "refreshTokenValidityDays"],
        ["a zero rate limit", { throttleRateLimit: "0" }, "throttleRateLimit"],
        ["a burst below the rate", { throttleRateLimit: "100", throttleBurstLimit: "50" }, "throttleBurstLimit"],
        ["a log retention CloudWatch does not offer", { logRetentionDays: "15" }, "logRetentionDays"],
        ["an unknown log level", { apiExecutionLogLevel: "DEBUG" }, "apiExecutionLogLevel"],
        ["a CORS origin with a path", { corsAllowOrigin: "https://app.example.com/x" }, "corsAllowOrigin"],
        ["an unknown CloudWatch role mode", { apiGatewayCloudWatchRole: "yes" }, "apiGatewayCloudWatchRole"],
        [
            "a CloudWatch role ARN that is not a role",
            { apiGatewayCloudWatchRole: "arn:aws:iam::123456789012:user/alice" },
            "apiGatewayCloudWatchRole",
        ],
        ["execution logs with API logging off", { apiGatewayCloudWatchRole: "off", apiExecutionLogLevel: "INFO" }, "apiExecutionLogLevel"],
        ["a CORS origin that is not http(s)", { corsAllowOrigin: "javascript:alert(1)" }, "corsAllowOrigin"],
    ];
    for (const [title, raw, key] of invalid) {
        it(`rejects ${title}, naming the key and the fix`, () => {
            let message: string;
            if (title.startsWith("a stack name")) {
                assert.throws(
                    () => parseConfig(raw, "my stack"),
                    (err: Error) => (message = err.message).includes(`${CONFIG_NAMESPACE}:${key}`),
                );
            } else {
                message = errorOf(raw);
            }
            assert.ok(message!.includes(`${CONFIG_NAMESPACE}:${key}`), message!);
            assert.ok(message!.includes(`pulumi config set ${CONFIG_NAMESPACE}:${key} `), message!);
        });
    }

    it("apiGatewayCloudWatchRole: create by default (deploys in a fresh account), the other modes, a role ARN, the old booleans", () => {
        assert.strictEqual(parseConfig({}, "dev").apiGatewayCloudWatchRole, "create");
        for (const mode of ["create", "existing", "off"])
            assert.strictEqual(parseConfig({ apiGatewayCloudWatchRole: mode }, "dev").apiGatewayCloudWatchRole, mode);
        const arn = "arn:aws:iam::123456789012:role/service-role/apigw-logs";
        assert.strictEqual(parseConfig({ apiGatewayCloudWatchRole: arn }, "dev").apiGatewayCloudWatchRole, arn);
        assert.strictEqual(parseConfig({ apiGatewayCloudWatchRole: "true" }, "dev").apiGatewayCloudWatchRole, "create");
        assert.strictEqual(parseConfig({ apiGatewayCloudWatchRole: "false" }, "dev").apiGatewayCloudWatchRole, "existing");
        // off: no execution logging unless asked for, which is an error (the key and its fix named above).
        assert.strictEqual(parseConfig({ apiGatewayCloudWatchRole: "off" }, "dev").apiExecutionLogLevel, "OFF");
        assert.strictEqual(
            parseConfig({ apiGatewayCloudWatchRole: "off", apiExecutionLogLevel: "OFF" }, "dev").apiExecutionLogLevel,
            "OFF",
        );
    });

    it("lists every problem at once", () => {
        const message = errorOf({ authorizerCacheTtlSeconds: "x", threatProtection: "y", logRetentionDays: "2" });
        for (const key of ["authorizerCacheTtlSeconds", "threatProtection", "logRetentionDays"])
            assert.ok(message.includes(`pulumi config set ${CONFIG_NAMESPACE}:${key}`), key);
        assert.strictEqual(message.split("\n").length, 4);
    });

    it("empty values count as unset", () => {
        assert.strictEqual(parseConfig({ authorizerCacheTtlSeconds: "  " }, "dev").authorizerCacheTtlSeconds, 300);
    });

    it("loadConfig reads the stack's config through Pulumi", () => {
        const saved = pulumi.runtime.allConfig();
        try {
            pulumi.runtime.setAllConfig({
                ...saved,
                [`${CONFIG_NAMESPACE}:authorizerCacheTtlSeconds`]: "60",
                [`${CONFIG_NAMESPACE}:threatProtection`]: "audit",
            });
            const config = loadConfig();
            assert.strictEqual(config.authorizerCacheTtlSeconds, 60);
            assert.strictEqual(config.threatProtection, "audit");
            assert.strictEqual(config.environment, pulumi.getStack());
            pulumi.runtime.setAllConfig({ ...saved, [`${CONFIG_NAMESPACE}:authorizerCacheTtlSeconds`]: "forever" });
            assert.throws(() => loadConfig(), /pulumi config set client-events:authorizerCacheTtlSeconds/);
        } finally {
            pulumi.runtime.setAllConfig(saved);
        }
    });

    it("Pulumi.yaml declares every key this program reads, with the code's defaults", () => {
        const schema = projectConfigSchema();
        for (const key of CONFIG_KEYS) assert.ok(schema[key], `Pulumi.yaml lacks ${key}`);
        for (const [key, value] of Object.entries(DEFAULTS)) {
            assert.strictEqual(schema[key].default, String(value), `default of ${key}`);
            const type = typeof value === "boolean" ? "boolean" : typeof value === "number" ? "integer" : "string";
            assert.strictEqual(schema[key].type, type, `type of ${key}`);
        }
        assert.strictEqual(schema.environment.default, undefined, "the environment defaults to the stack name in code");
    });

    it("Pulumi.dev.yaml is a valid worked example", () => {
        const values = devStackValues();
        assert.ok(Object.keys(values).length >= 5);
        const config = parseConfig(values, "dev");
        assert.strictEqual(config.environment, "dev");
        assert.strictEqual(config.userPoolDeletionProtection, false, "the dev stack can be destroyed");
        const text = fs.readFileSync(path.join(ROOT, "Pulumi.dev.yaml"), "utf8");
        assert.ok(!/secure:/.test(text) && !/apiToken:\s*\S/.test(text), "no secret in the example");
    });
});
