/**
 * Every physical name the program creates fits AWS's limit, at the longest environment config accepts,
 * with every optional resource on (Zendesk, the replay archive, the API Gateway logging role).
 *
 * The program runs under the shared mocks in a child process (test/support/program-names.ts). Mocks do
 * not auto-name, so the physical name is computed as Pulumi's provider makes it: the name the component
 * sets, else the logical name plus "-" and 7 random characters.
 */
import * as assert from "node:assert/strict";
import { runProgramChild } from "./support/program-child";
import { parseConfig } from "../config";
import { AUTONAME_SUFFIX_LENGTH, MAX_ENVIRONMENT_NAME_LENGTH, replayArchiveName, resourcePrefix } from "../pipeline/naming";

/**
 * AWS's length limit of each named resource type, and the input that holds its name. `autoNamed`: Pulumi
 * names it from the logical name when the input is not set.
 */
const NAME_LIMITS: Record<string, { input: string; max: number; autoNamed: boolean }> = {
    "aws:s3/bucket:Bucket": { input: "bucket", max: 63, autoNamed: true },
    "aws:kinesis/firehoseDeliveryStream:FirehoseDeliveryStream": { input: "name", max: 64, autoNamed: true },
    "aws:cloudwatch/eventArchive:EventArchive": { input: "name", max: 48, autoNamed: true },
    "aws:cloudwatch/eventBus:EventBus": { input: "name", max: 256, autoNamed: true },
    "aws:cloudwatch/eventRule:EventRule": { input: "name", max: 64, autoNamed: true },
    "aws:cloudwatch/eventConnection:EventConnection": { input: "name", max: 64, autoNamed: true },
    "aws:cloudwatch/eventApiDestination:EventApiDestination": { input: "name", max: 64, autoNamed: true },
    "aws:cloudwatch/logGroup:LogGroup": { input: "name", max: 512, autoNamed: true },
    "aws:cloudwatch/logStream:LogStream": { input: "name", max: 512, autoNamed: true },
    "aws:cloudwatch/metricAlarm:MetricAlarm": { input: "name", max: 255, autoNamed: true },
    "aws:iam/role:Role": { input: "name", max: 64, autoNamed: true },
    "aws:iam/rolePolicy:RolePolicy": { input: "name", max: 128, autoNamed: true },
    "aws:sqs/queue:Queue": { input: "name", max: 80, autoNamed: true },
    "aws:lambda/function:Function": { input: "name", max: 64, autoNamed: true },
    "aws:lambda/permission:Permission": { input: "statementId", max: 100, autoNamed: true },
    "aws:cognito/userPool:UserPool": { input: "name", max: 128, autoNamed: true },
    "aws:cognito/userPoolClient:UserPoolClient": { input: "name", max: 128, autoNamed: true },
    "aws:apigateway/stage:Stage": { input: "stageName", max: 128, autoNamed: false },
    "aws:apigateway/model:Model": { input: "name", max: 255, autoNamed: false },
    "aws:apigateway/authorizer:Authorizer": { input: "name", max: 255, autoNamed: false },
    "aws:apigateway/requestValidator:RequestValidator": { input: "name", max: 255, autoNamed: false },
    "aws:sns/topic:Topic": { input: "name", max: 256, autoNamed: true },
    "aws:cloudwatch/logMetricFilter:LogMetricFilter": { input: "name", max: 512, autoNamed: true },
    "aws:cloudwatch/dashboard:Dashboard": { input: "dashboardName", max: 255, autoNamed: false },
    "aws:iam/policy:Policy": { input: "name", max: 128, autoNamed: true },
    "aws:glue/catalogDatabase:CatalogDatabase": { input: "name", max: 255, autoNamed: true },
    "aws:glue/catalogTable:CatalogTable": { input: "name", max: 255, autoNamed: true },
    "aws:athena/workgroup:Workgroup": { input: "name", max: 128, autoNamed: true },
    "aws:athena/namedQuery:NamedQuery": { input: "name", max: 128, autoNamed: true },
};

/** Types whose name AWS does not limit in length (RestApi) or that have no name of their own. */
const UNNAMED_OR_UNLIMITED = new Set([
    "aws:apigateway/restApi:RestApi",
    "aws:apigateway/account:Account",
    "aws:apigateway/response:Response",
    "aws:apigateway/resource:Resource",
    "aws:apigateway/method:Method",
    "aws:apigateway/methodResponse:MethodResponse",
    "aws:apigateway/integration:Integration",
    "aws:apigateway/integrationResponse:IntegrationResponse",
    "aws:apigateway/deployment:Deployment",
    "aws:apigateway/methodSettings:MethodSettings",
    "aws:s3/bucketOwnershipControls:BucketOwnershipControls",
    "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
    "aws:s3/bucketVersioning:BucketVersioning",
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
    "aws:s3/bucketPolicy:BucketPolicy",
    "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
    "aws:sqs/queuePolicy:QueuePolicy",
    "aws:cloudwatch/eventTarget:EventTarget",
    "aws:kms/key:Key",
    "aws:sns/topicPolicy:TopicPolicy",
    "aws:sns/topicSubscription:TopicSubscription",
    "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
]);

interface ProgramResource {
    type: string;
    name: string;
    inputs: Record<string, string>;
}

/** Every optional resource on: Zendesk, the replay archive (default 7 days), the API Gateway logging role. */
function fullConfig(environment: string): Record<string, string> {
    return {
        "client-events:environment": environment,
        "client-events:zendeskEmail": "support@example.com",
        "client-events:zendeskEndpoint": "https://acme.zendesk.com/api/v2/tickets",
        "client-events:zendeskApiToken": "zd-secret-token-42",
        "client-events:apiGatewayCloudWatchRole": "create",
        "client-events:eventArchiveRetentionDays": "7",
    };
}

function runProgram(config: Record<string, string>): { resources?: ProgramResource[]; error?: string } {
    return runProgramChild("program-names.ts", config, ['{"resources"', '{"error"']);
}

/** The physical name AWS sees, or undefined for types without one. */
function physicalName(resource: ProgramResource): string | undefined {
    const limit = NAME_LIMITS[resource.type];
    if (!limit) return undefined;
    const explicit = resource.inputs[limit.input];
    if (explicit !== undefined) return explicit;
    return limit.autoNamed ? `${resource.name}-${"x".repeat(AUTONAME_SUFFIX_LENGTH - 1)}` : undefined;
}

describe("resource names at the longest environment", function () {
    this.timeout(120_000);
    const environment = "e".repeat(MAX_ENVIRONMENT_NAME_LENGTH);
    let resources: ProgramResource[];

    before(() => {
        const result = runProgram(fullConfig(environment));
        assert.equal(result.error, undefined);
        resources = result.resources!;
    });

    it("creates every optional resource (Zendesk, replay archive, logging role)", () => {
        const types = new Set(resources.map((r) => r.type));
        for (const type of [
            "aws:cloudwatch/eventConnection:EventConnection",
            "aws:cloudwatch/eventArchive:EventArchive",
            "aws:apigateway/account:Account",
        ]) {
            assert.ok(types.has(type), type);
        }
    });

    it("knows every resource type the program creates (a new type needs its AWS name limit here)", () => {
        const unknown = [...new Set(resources.map((r) => r.type))].filter(
            (t) => !t.startsWith("client-events:") && !t.startsWith("pulumi:") && !(t in NAME_LIMITS) && !UNNAMED_OR_UNLIMITED.has(t),
        );
        assert.deepEqual(unknown, []);
    });

    it("every physical name fits its AWS limit", () => {
        const named = resources.map((r) => ({ r, name: physicalName(r) })).filter((x) => x.name !== undefined);
        assert.ok(named.length >= 30, `found ${named.length} named resources`);
        const tooLong = named
            .filter(({ r, name }) => name!.length > NAME_LIMITS[r.type].max)
            .map(({ r, name }) => `${r.type} ${name} (${name!.length} > ${NAME_LIMITS[r.type].max})`);
        assert.deepEqual(tooLong, []);
    });

    it("the bound is tight: with one more character in the environment, some name would overflow its AWS limit", () => {
        // Each name that holds the environment grows by one character with it; the bound is the largest that fits.
        const slack = resources
            .map((r) => ({ r, name: physicalName(r) }))
            .filter((x): x is { r: ProgramResource; name: string } => x.name !== undefined && x.name.includes(environment))
            .map(({ r, name }) => ({ what: `${r.type} ${name}`, slack: NAME_LIMITS[r.type].max - name.length }));
        assert.ok(slack.length >= 30, `${slack.length} names hold the environment`);
        const tightest = Math.min(...slack.map((s) => s.slack));
        assert.equal(tightest, 0, `the tightest name has ${tightest} characters to spare: MAX_ENVIRONMENT_NAME_LENGTH could grow`);
    });

    it("config rejects a longer environment, naming the key and the fix (local mode's --config too)", () => {
        const tooLong = "e".repeat(MAX_ENVIRONMENT_NAME_LENGTH + 1);
        assert.throws(
            () => parseConfig({ environment: tooLong }, "stack"),
            (err: Error) =>
                new RegExp(`client-events:environment is "e+"; expected 1 to ${MAX_ENVIRONMENT_NAME_LENGTH} letters, digits or "-"`).test(
                    err.message,
                ) && /Fix: pulumi config set client-events:environment dev/.test(err.message),
        );
        assert.throws(
            () => parseConfig({}, "staging-ap-southeast-1"),
            new RegExp(
                `client-events:environment is not set and its default "staging-ap-southeast-1" does not fit; expected 1 to ${MAX_ENVIRONMENT_NAME_LENGTH} `,
            ),
        );
        assert.equal(parseConfig({}, "staging-us-east-1").environment, "staging-us-east-1");
        assert.throws(() => parseConfig({ environment: "prod_eu" }, "stack"), /client-events:environment is "prod_eu"/);
        assert.equal(parseConfig({ environment }, "stack").environment, environment);
        assert.equal(resourcePrefix(environment), `client-events-${environment}`);
    });

    it("local mode applies the same bound to --config environment=...", async () => {
        const { startLocal } = await import("../local");
        const { tempDataDir } = await import("./support/local");
        await assert.rejects(
            startLocal({
                port: 0,
                quiet: true,
                dataDir: tempDataDir(),
                config: { environment: "e".repeat(MAX_ENVIRONMENT_NAME_LENGTH + 1) },
            }),
            new RegExp(`client-events:environment is "e+"; expected 1 to ${MAX_ENVIRONMENT_NAME_LENGTH} `),
        );
    });

    it("the replay archive's name suffix comes from the bus ARN: the same bus, the same name; another bus, another", () => {
        const bus = "arn:aws:events:eu-west-1:123456789012:event-bus/client-events-prod-routing-bus-1a2b3c4";
        const name = replayArchiveName("client-events-prod-replay", bus);
        assert.match(name, /^client-events-prod-replay-[0-9a-f]{6}$/);
        assert.equal(replayArchiveName("client-events-prod-replay", bus), name);
        assert.notEqual(replayArchiveName("client-events-prod-replay", bus.replace("1a2b3c4", "5d6e7f8")), name);
        assert.notEqual(replayArchiveName("client-events-prod-replay", bus.replace("eu-west-1", "us-east-1")), name);
    });

    it("the program itself stops with that message", () => {
        const result = runProgram(fullConfig("e".repeat(MAX_ENVIRONMENT_NAME_LENGTH + 1)));
        assert.match(result.error ?? "", /client-events:environment .*Fix: pulumi config set client-events:environment/);
    });
});
