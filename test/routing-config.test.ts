import * as assert from "assert";
import * as pulumi from "@pulumi/pulumi";
import "./support/pulumi-mocks";
import { DEFAULTS, isDevStack, loadConfig, parseConfig, SECRET_PRESENT } from "../config";
import { DEFAULT_PARTITIONING_POLICY } from "../pipeline/partitioning";
import { Archive } from "../components/archive";

const ZENDESK = {
    zendeskEmail: "support@example.com",
    zendeskApiToken: SECRET_PRESENT,
    zendeskEndpoint: "https://acme.zendesk.com/api/v2/tickets",
};

function errorOf(raw: Record<string, string>, stack = "prod"): string {
    try {
        parseConfig(raw, stack);
    } catch (err) {
        return (err as Error).message;
    }
    return assert.fail(`accepted ${JSON.stringify(raw)}`);
}

describe("config: routing keys", () => {
    it("defaults: archive settings, default partitioning, a 7-day replay archive, no Zendesk", () => {
        const config = parseConfig({}, "prod");
        assert.strictEqual(config.archiveForceDestroy, false);
        assert.strictEqual(config.archiveTransitionDays, 30);
        assert.strictEqual(config.archiveTransitionStorageClass, "STANDARD_IA");
        assert.strictEqual(config.archiveExpirationDays, 365);
        assert.strictEqual(config.archiveCompression, "UNCOMPRESSED");
        assert.strictEqual(config.firehoseBufferSizeMiB, 64);
        assert.strictEqual(config.firehoseBufferIntervalSeconds, 300);
        assert.deepStrictEqual(config.partitioning, { eventTypes: [...DEFAULT_PARTITIONING_POLICY.eventTypes], maxSchemaVersion: 20 });
        assert.strictEqual(config.eventArchiveRetentionDays, 7);
        assert.strictEqual(config.zendesk, undefined);
        assert.strictEqual(DEFAULTS.zendeskRatePerSecond, 2);
    });

    it("force-destroys the archive bucket by default on dev stacks only", () => {
        assert.strictEqual(parseConfig({}, "dev").archiveForceDestroy, true);
        assert.strictEqual(parseConfig({}, "dev-alice").archiveForceDestroy, true);
        assert.strictEqual(parseConfig({ environment: "dev" }, "sandbox").archiveForceDestroy, true);
        assert.strictEqual(parseConfig({}, "devel").archiveForceDestroy, false);
        assert.strictEqual(isDevStack("development", "prod"), false);
        assert.strictEqual(parseConfig({}, "prod").archiveForceDestroy, false);
        assert.strictEqual(parseConfig({ archiveForceDestroy: "false" }, "dev").archiveForceDestroy, false);
        assert.strictEqual(parseConfig({ archiveForceDestroy: "true" }, "prod").archiveForceDestroy, true);
        assert.strictEqual(isDevStack("devops", "devops"), false);
    });

    it("reads every routing key", () => {
        const config = parseConfig(
            {
                archiveTransitionDays: "0",
                archiveTransitionStorageClass: "GLACIER_IR",
                archiveExpirationDays: "0",
                archiveCompression: "GZIP",
                firehoseBufferSizeMiB: "128",
                firehoseBufferIntervalSeconds: "60",
                partitionEventTypes: " checkout , search-v2 ",
                partitionMaxSchemaVersion: "5",
                eventArchiveRetentionDays: "0",
                ...ZENDESK,
                zendeskRatePerSecond: "1",
            },
            "prod",
        );
        assert.strictEqual(config.archiveTransitionDays, 0);
        assert.strictEqual(config.archiveTransitionStorageClass, "GLACIER_IR");
        assert.strictEqual(config.archiveExpirationDays, 0);
        assert.strictEqual(config.archiveCompression, "GZIP");
        assert.strictEqual(config.firehoseBufferSizeMiB, 128);
        assert.strictEqual(config.firehoseBufferIntervalSeconds, 60);
        assert.deepStrictEqual(config.partitioning, { eventTypes: ["checkout", "search-v2"], maxSchemaVersion: 5 });
        assert.strictEqual(config.eventArchiveRetentionDays, 0);
        assert.deepStrictEqual(config.zendesk, {
            email: "support@example.com",
            endpoint: "https://acme.zendesk.com/api/v2/tickets",
            ratePerSecond: 1,
            warnings: [],
        });
    });

    const invalid: Array<[string, Record<string, string>, RegExp]> = [
        ["a buffer below 64 MiB", { firehoseBufferSizeMiB: "32" }, /client-events:firehoseBufferSizeMiB.*64 to 128/],
        ["a buffer interval above 900 s", { firehoseBufferIntervalSeconds: "901" }, /client-events:firehoseBufferIntervalSeconds/],
        // Firehose: "Zero buffering feature is not available for dynamic partitioning" (intervals below 60 s).
        [
            "a buffer interval below 60 s (no zero buffering with dynamic partitioning)",
            { firehoseBufferIntervalSeconds: "59" },
            /client-events:firehoseBufferIntervalSeconds/,
        ],
        ["an unknown compression", { archiveCompression: "ZIP" }, /client-events:archiveCompression/],
        ["an unknown storage class", { archiveTransitionStorageClass: "TAPE" }, /client-events:archiveTransitionStorageClass/],
        ["a malformed partition type", { partitionEventTypes: "shopping,bad type" }, /client-events:partitionEventTypes: "bad type"/],
        ["an empty partition list", { partitionEventTypes: " , " }, /client-events:partitionEventTypes must list/],
        ["a partition budget above 500", { partitionMaxSchemaVersion: "100" }, /above Firehose's 500/],
        [
            "a partial Zendesk setup",
            { zendeskEmail: "support@example.com" },
            /client-events:zendeskApiToken, client-events:zendeskEndpoint are missing.*--secret client-events:zendeskApiToken/,
        ],
        [
            "a token without email and endpoint",
            { zendeskApiToken: SECRET_PRESENT },
            /client-events:zendeskEmail, client-events:zendeskEndpoint are missing/,
        ],
        [
            "a non-Zendesk endpoint",
            { ...ZENDESK, zendeskEndpoint: "https://example.com/api/v2/tickets" },
            /client-events:zendeskEndpoint .* is not a Zendesk tickets URL/,
        ],
        ["a malformed email", { ...ZENDESK, zendeskEmail: "support" }, /client-events:zendeskEmail/],
        ["a zero rate", { ...ZENDESK, zendeskRatePerSecond: "0" }, /client-events:zendeskRatePerSecond/],
        ["an alarm topic that is not an SNS ARN", { alarmTopicArn: "ops-alerts" }, /client-events:alarmTopicArn .*SNS topic ARN/],
    ];
    for (const [title, raw, pattern] of invalid) {
        it(`rejects ${title}, naming the key`, () => assert.match(errorOf(raw), pattern));
    }

    // How the lifecycle values fit together is checked once, by the Archive the program builds from them.
    const lifecycles: Array<[string, Record<string, string>, RegExp]> = [
        ["STANDARD_IA before 30 days", { archiveTransitionDays: "7" }, /STANDARD_IA after 30 days.*transitionDays is 7/],
        ["expiry before transition", { archiveTransitionDays: "90", archiveExpirationDays: "60" }, /must be after transitionDays/],
    ];
    for (const [title, raw, pattern] of lifecycles) {
        it(`the Archive built from the config rejects ${title} before creating anything`, () => {
            const config = parseConfig(raw, "prod");
            const archiveArgs = {
                transitionDays: config.archiveTransitionDays,
                transitionStorageClass: config.archiveTransitionStorageClass,
                expirationDays: config.archiveExpirationDays,
            };
            assert.throws(() => new Archive(`rc-lifecycle-${title.replace(/\W+/g, "-")}`, archiveArgs), pattern);
        });
    }

    it("reads the alarm topic", () => {
        assert.strictEqual(parseConfig({}, "prod").alarmTopicArn, undefined);
        assert.strictEqual(
            parseConfig({ alarmTopicArn: "arn:aws:sns:eu-west-1:123456789012:ops-alerts" }, "prod").alarmTopicArn,
            "arn:aws:sns:eu-west-1:123456789012:ops-alerts",
        );
    });

    it("warns about a rate above the smallest Zendesk plan", () => {
        assert.match(parseConfig({ ...ZENDESK, zendeskRatePerSecond: "10" }, "prod").zendesk!.warnings[0], /600 requests a minute/);
    });

    it("loadConfig reads the token with getSecret: an Output marked secret", async () => {
        const saved = pulumi.runtime.allConfig();
        try {
            pulumi.runtime.setAllConfig(
                {
                    ...saved,
                    "client-events:zendeskEmail": ZENDESK.zendeskEmail,
                    "client-events:zendeskEndpoint": ZENDESK.zendeskEndpoint,
                    "client-events:zendeskApiToken": "tok-123",
                },
                ["client-events:zendeskApiToken"],
            );
            const config = loadConfig();
            assert.ok(config.zendesk);
            assert.ok(config.zendeskApiToken);
            assert.strictEqual(await pulumi.isSecret(config.zendeskApiToken), true);
            assert.ok(!JSON.stringify(config.zendesk).includes("tok-123"));
        } finally {
            pulumi.runtime.setAllConfig(saved);
        }
    });
});
