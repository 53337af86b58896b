/**
 * The whole program (index.ts) under Pulumi mocks, with the stack's default config: the components are
 * wired to each other and the stack outputs are the ones the README and local mode rely on.
 */
import * as assert from "assert";
import { REGION, oneOf, resourcesOf, registrationsDone, valueOf, type MockedResource } from "./support/pulumi-mocks";
import * as pulumi from "@pulumi/pulumi";

/** index.ts names everything `client-events-<environment>-...`; the mocked stack is "test". */
const PREFIX = "client-events-test";

describe("program (index.ts)", function () {
    this.timeout(120_000);
    let program: Record<string, pulumi.Output<unknown> | unknown>;
    let all: MockedResource[];

    before(async () => {
        program = require("../index");
        await registrationsDone();
        all = await resourcesOf(PREFIX);
    });

    async function output<T>(name: string): Promise<T> {
        assert.ok(name in program, `stack output ${name}`);
        return valueOf(program[name] as pulumi.Output<T>);
    }

    it("creates the identity pool and the ingest API under the environment's prefix", () => {
        const types = new Set(all.map((r) => r.type));
        for (const type of [
            "aws:cognito/userPool:UserPool",
            "aws:cognito/userPoolClient:UserPoolClient",
            "aws:apigateway/restApi:RestApi",
            "aws:apigateway/stage:Stage",
        ]) {
            assert.ok(types.has(type), type);
        }
    });

    it("exports the outputs clients and the README use", async () => {
        const pool = await oneOf(PREFIX, "aws:cognito/userPool:UserPool");
        const client = await oneOf(PREFIX, "aws:cognito/userPoolClient:UserPoolClient");
        const rest = await oneOf(PREFIX, "aws:apigateway/restApi:RestApi");
        assert.strictEqual(await output("environment"), "test");
        assert.strictEqual(await output("region"), REGION);
        assert.strictEqual(await output("userPoolId"), `${pool.name}-id`);
        assert.strictEqual(await output("userPoolClientId"), `${client.name}-id`);
        assert.strictEqual(await output("apiId"), `${rest.name}-id`);
        // apiUrl is the full URL to POST events to, as in local mode's ready line; stageUrl the stage's base.
        assert.strictEqual(await output("apiUrl"), `https://${rest.name}-id.execute-api.${REGION}.amazonaws.com/test/event`);
        assert.strictEqual(await output("stageUrl"), `https://${rest.name}-id.execute-api.${REGION}.amazonaws.com/test`);
    });

    it("local mode's ready line uses the stack's output names, with the same meanings", async () => {
        const { startTestLocal } = await import("./support/local");
        const { local } = await startTestLocal({ config: { environment: "test" } });
        try {
            // Local-only fields: where its Cognito listens, where it keeps data, its admin credentials.
            const shared = Object.keys(local.outputs).filter((k) => !["ready", "cognitoEndpoint", "dataDir", "credentials"].includes(k));
            assert.deepStrictEqual(
                shared.filter((k) => !(k in program)),
                [],
                "every shared ready-line name is a stack output",
            );
            assert.match(local.outputs.apiUrl, /\/test\/event$/);
            assert.match(await output<string>("apiUrl"), /\/test\/event$/);
        } finally {
            await local.close();
        }
    });

    it("the authorizer trusts this pool and this app client", async () => {
        const pool = await oneOf(PREFIX, "aws:cognito/userPool:UserPool");
        const client = await oneOf(PREFIX, "aws:cognito/userPoolClient:UserPoolClient");
        const authorizer = all.find((r) => r.type === "aws:lambda/function:Function" && r.name.endsWith("-auth"));
        assert.ok(authorizer);
        assert.deepStrictEqual(authorizer.inputs.environment.variables, {
            USER_POOL_ID: `${pool.name}-id`,
            USER_POOL_CLIENT_ID: `${client.name}-id`,
        });
    });

    it("the API publishes to the program's bus: stage variable, integration policy and output agree", async () => {
        const buses = all.filter((r) => r.type === "aws:cloudwatch/eventBus:EventBus");
        assert.strictEqual(buses.length, 1, "one client-events bus");
        const bus = buses[0];
        const stage = await oneOf(PREFIX, "aws:apigateway/stage:Stage");
        assert.deepStrictEqual(stage.inputs.variables, { Environment: "test", Bus: bus.state.name });
        assert.strictEqual(await output("eventBusName"), bus.state.name);
        const policy = all.find((r) => r.type === "aws:iam/rolePolicy:RolePolicy" && r.name.endsWith("-putevents-policy"));
        assert.ok(policy);
        assert.deepStrictEqual(JSON.parse(policy.inputs.policy).Statement, [
            { Sid: "PutEventsOnTheBus", Effect: "Allow", Action: "events:PutEvents", Resource: bus.state.arn },
        ]);
    });

    it("uses the config defaults: authorizer TTL 300, stage throttling, threat protection off", async () => {
        assert.strictEqual((await oneOf(PREFIX, "aws:apigateway/authorizer:Authorizer")).inputs.authorizerResultTtlInSeconds, 300);
        const settings = (await resourcesOf(PREFIX, "aws:apigateway/methodSettings:MethodSettings"))[0];
        assert.strictEqual(settings.inputs.settings.throttlingRateLimit, 100);
        assert.strictEqual((await oneOf(PREFIX, "aws:cognito/userPool:UserPool")).inputs.userPoolAddOns.advancedSecurityMode, "OFF");
    });

    it("deploys in an account that never set API Gateway's CloudWatch Logs role: it sets one before the logging stage", async () => {
        const account = await oneOf(PREFIX, "aws:apigateway/account:Account");
        const role = all.find((r) => r.type === "aws:iam/role:Role" && r.name.endsWith("-ingest-logging-role"));
        assert.ok(role, "the logging role");
        assert.strictEqual(account.inputs.cloudwatchRoleArn, role.state.arn);
        const stage = await oneOf(PREFIX, "aws:apigateway/stage:Stage");
        assert.ok(stage.inputs.accessLogSettings.destinationArn, "access logs on by default");
        assert.ok(all.indexOf(account) < all.indexOf(stage), "the account setting is registered before the stage");
    });

    it("no IAM role uses the deprecated managedPolicyArns; managed policies are RolePolicyAttachments", async () => {
        const roles = all.filter((r) => r.type === "aws:iam/role:Role");
        assert.ok(roles.length >= 5);
        for (const role of roles) assert.strictEqual(role.inputs.managedPolicyArns, undefined, role.name);
        const attachments = all.filter((r) => r.type === "aws:iam/rolePolicyAttachment:RolePolicyAttachment");
        assert.deepStrictEqual(
            attachments.map((a) => a.inputs.policyArn),
            ["arn:aws:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs"],
        );
    });

    it("every Lambda: nodejs22.x, arm64, its own role, JSON logs to its own log group", async () => {
        const functions = all.filter((r) => r.type === "aws:lambda/function:Function");
        assert.ok(functions.length >= 2);
        const roles = new Map(all.filter((r) => r.type === "aws:iam/role:Role").map((r) => [r.state.arn, r]));
        const logGroups = new Set(all.filter((r) => r.type === "aws:cloudwatch/logGroup:LogGroup").map((r) => r.state.name));
        const usedRoles = new Set<string>();
        for (const fn of functions) {
            assert.strictEqual(fn.inputs.runtime, "nodejs22.x", fn.name);
            assert.deepStrictEqual(fn.inputs.architectures, ["arm64"], fn.name);
            const role = roles.get(fn.inputs.role);
            assert.ok(role, `${fn.name} has one of the program's roles`);
            assert.strictEqual(role.inputs.managedPolicyArns, undefined, `${fn.name}'s role carries no managed policy`);
            assert.ok(!usedRoles.has(fn.inputs.role), `${fn.name} shares its role`);
            usedRoles.add(fn.inputs.role);
            assert.strictEqual(fn.inputs.loggingConfig.logFormat, "JSON");
            assert.ok(logGroups.has(fn.inputs.loggingConfig.logGroup), `${fn.name} logs to a log group with retention`);
        }
    });

    it("the transform Lambda carries the compiled schemas of schemas/ and enforces them (default: quarantine)", async () => {
        const fn = await oneOf(`${PREFIX}-archive-enrich`, "aws:lambda/function:Function");
        const assets = await fn.inputs.code.assets;
        const source: string = await assets["__index.js"].text;
        for (const key of ["shopping/1", "searching/1", "paging/1", "purchase/1", "loyaltypurchase/1"])
            assert.ok(source.includes(`["${key}"]`), key);
        assert.match(source, /enforcement = "quarantine"/);
        assert.match(source, /unknownSchema = "allow"/);
    });

    it("every log group has a retention", () => {
        for (const group of all.filter((r) => r.type === "aws:cloudwatch/logGroup:LogGroup")) {
            assert.ok(typeof group.inputs.retentionInDays === "number" && group.inputs.retentionInDays > 0, group.name);
        }
    });
});
