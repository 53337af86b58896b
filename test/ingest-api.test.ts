import * as assert from "assert";
import * as pulumi from "@pulumi/pulumi";
import { ACCOUNT, REGION, oneOf, resources, resourcesOf, valueOf } from "./support/pulumi-mocks";
import {
    API_DEFINITION,
    API_GATEWAY_PUSH_TO_CLOUDWATCH_POLICY_ARN,
    IngestApi,
    apiDefinitionHash,
    type IngestApiArgs,
} from "../components/ingest-api";
import { isAllowed } from "./support/iam";
import { REQUEST_MODEL_SCHEMA } from "../pipeline/request-model";
import { PUT_EVENTS_REQUEST_TEMPLATE } from "../pipeline/mapping-template";
import { METHOD_RESPONSE_STATUS_CODES, PUT_EVENTS_INTEGRATION_RESPONSES } from "../pipeline/integration-responses";
import { GATEWAY_RESPONSES, corsHeaders } from "../pipeline/gateway-responses";
import { AUTHORIZATION_HEADER_PATTERN } from "../pipeline/authorization-header";

const BUS_ARN = `arn:aws:events:${REGION}:${ACCOUNT}:event-bus/ce-bus`;
const POOL_ARN = `arn:aws:cognito-idp:${REGION}:${ACCOUNT}:userpool/${REGION}_Pool1`;

function args(overrides: Record<string, unknown> = {}) {
    return {
        environment: "dev",
        eventBusName: "ce-bus",
        eventBusArn: BUS_ARN,
        userPoolId: `${REGION}_Pool1`,
        userPoolArn: POOL_ARN,
        userPoolClientId: "client123",
        ...overrides,
    };
}

/** Each child's resource options, by logical name (mocks do not see options; a transformation does). */
interface Captured {
    dependsOn: string[];
    retainOnDelete?: boolean;
}

/** An IngestApi whose children's options (dependsOn by logical name, retainOnDelete) are recorded. */
function capturingIngestApi(
    name: string,
    extra: Partial<IngestApiArgs>,
): { api: IngestApi; options: { get(name: string): Captured | undefined } } {
    const names = new Map<pulumi.Resource, string>();
    const raw = new Map<string, pulumi.ResourceOptions>();
    const api = new IngestApi(name, args(extra) as IngestApiArgs, {
        transformations: [
            (a) => {
                names.set(a.resource, a.name);
                raw.set(a.name, a.opts);
                return undefined;
            },
        ],
    });
    // Read lazily: a dependency has a name once its own transformation has run.
    const get = (child: string): Captured | undefined => {
        const opts = raw.get(child);
        if (!opts) return undefined;
        const deps = ([] as unknown[]).concat(opts.dependsOn ?? []) as pulumi.Resource[];
        return { dependsOn: deps.map((d) => names.get(d) ?? "?"), retainOnDelete: opts.retainOnDelete };
    };
    return { api, options: { get } };
}

async function byName(prefix: string, type: string, suffix: string) {
    const found = (await resourcesOf(prefix, type)).filter((r) => r.name === `${prefix}${suffix}`);
    assert.strictEqual(found.length, 1, `${prefix}${suffix}`);
    return found[0];
}

describe("IngestApi", () => {
    const prefix = "ingest-default";
    let api: IngestApi;
    before(() => {
        api = new IngestApi(prefix, args());
    });

    it("a regional REST API with POST /event", async () => {
        const rest = await oneOf(prefix, "aws:apigateway/restApi:RestApi");
        assert.deepStrictEqual(rest.inputs.endpointConfiguration.types, "REGIONAL");
        const resource = await oneOf(prefix, "aws:apigateway/resource:Resource");
        assert.strictEqual(resource.inputs.pathPart, "event");
        assert.strictEqual(resource.inputs.parentId, rest.state.rootResourceId);
    });

    it("the request model is the pipeline's schema, and a body validator", async () => {
        const model = await oneOf(prefix, "aws:apigateway/model:Model");
        assert.strictEqual(model.inputs.contentType, "application/json");
        assert.deepStrictEqual(JSON.parse(model.inputs.schema), REQUEST_MODEL_SCHEMA);
        const validator = await oneOf(prefix, "aws:apigateway/requestValidator:RequestValidator");
        assert.strictEqual(validator.inputs.validateRequestBody, true);
        assert.strictEqual(validator.inputs.validateRequestParameters, false);
    });

    it("POST uses the TOKEN authorizer, the validator and the model", async () => {
        const post = await byName(prefix, "aws:apigateway/method:Method", "-post");
        const authorizer = await oneOf(prefix, "aws:apigateway/authorizer:Authorizer");
        const validator = await oneOf(prefix, "aws:apigateway/requestValidator:RequestValidator");
        const model = await oneOf(prefix, "aws:apigateway/model:Model");
        assert.strictEqual(post.inputs.httpMethod, "POST");
        assert.strictEqual(post.inputs.authorization, "CUSTOM");
        assert.strictEqual(post.inputs.authorizerId, `${authorizer.name}-id`);
        assert.strictEqual(post.inputs.requestValidatorId, `${validator.name}-id`);
        assert.deepStrictEqual(post.inputs.requestModels, { "application/json": model.state.name });
    });

    it("the authorizer: TOKEN on the Authorization header, results cached 300 s, the HandlerFunction's Lambda", async () => {
        const authorizer = await oneOf(prefix, "aws:apigateway/authorizer:Authorizer");
        const fn = await oneOf(`${prefix}-auth`, "aws:lambda/function:Function");
        assert.strictEqual(authorizer.inputs.type, "TOKEN");
        assert.strictEqual(authorizer.inputs.identitySource, "method.request.header.Authorization");
        assert.strictEqual(authorizer.inputs.authorizerResultTtlInSeconds, 300);
        assert.strictEqual(authorizer.inputs.authorizerUri, fn.state.invokeArn);
        assert.deepStrictEqual(fn.inputs.environment.variables, { USER_POOL_ID: `${REGION}_Pool1`, USER_POOL_CLIENT_ID: "client123" });
        assert.strictEqual(fn.inputs.runtime, "nodejs22.x");
        assert.deepStrictEqual(fn.inputs.architectures, ["arm64"]);
    });

    it("the authorizer's identity validation expression is the pipeline's: junk headers get 401 without invoking it", async () => {
        const authorizer = await oneOf(prefix, "aws:apigateway/authorizer:Authorizer");
        assert.strictEqual(authorizer.inputs.identityValidationExpression, AUTHORIZATION_HEADER_PATTERN);
        const expression = new RegExp(authorizer.inputs.identityValidationExpression);
        assert.ok(expression.test("Bearer aaa.bbb.ccc"));
        assert.ok(!expression.test("Basic dXNlcjpwYXNz"));
    });

    it("API Gateway may invoke the authorizer, through this authorizer only", async () => {
        const permission = await oneOf(prefix, "aws:lambda/permission:Permission");
        const authorizer = await oneOf(prefix, "aws:apigateway/authorizer:Authorizer");
        const rest = await oneOf(prefix, "aws:apigateway/restApi:RestApi");
        assert.strictEqual(permission.inputs.principal, "apigateway.amazonaws.com");
        assert.strictEqual(permission.inputs.sourceArn, `${rest.state.executionArn}/authorizers/${authorizer.name}-id`);
    });

    it("the authorizer's role may only write its logs (GetUser is authorized by the user's token)", async () => {
        const doc = JSON.parse(await valueOf(api.authorizer.policyDocument));
        assert.deepStrictEqual(
            doc.Statement.map((s: any) => s.Sid),
            ["WriteOwnLogs"],
        );
        assert.ok(!(await isAllowed(doc, "cognito-idp:AdminGetUser", POOL_ARN)));
        assert.ok(!(await isAllowed(doc, "events:PutEvents", BUS_ARN)));
    });

    it("the integration: AWS service integration to PutEvents with the role and the pipeline's template", async () => {
        const integration = await byName(prefix, "aws:apigateway/integration:Integration", "-put-events");
        const role = await byName(prefix, "aws:iam/role:Role", "-putevents-role");
        assert.strictEqual(integration.inputs.type, "AWS");
        assert.strictEqual(integration.inputs.integrationHttpMethod, "POST");
        assert.strictEqual(integration.inputs.uri, `arn:aws:apigateway:${REGION}:events:action/PutEvents`);
        assert.strictEqual(integration.inputs.credentials, role.state.arn);
        assert.deepStrictEqual(integration.inputs.requestParameters, {
            "integration.request.header.X-Amz-Target": "'AWSEvents.PutEvents'",
            "integration.request.header.Content-Type": "'application/x-amz-json-1.1'",
        });
        assert.deepStrictEqual(integration.inputs.requestTemplates, { "application/json": PUT_EVENTS_REQUEST_TEMPLATE });
        assert.strictEqual(integration.inputs.passthroughBehavior, "NEVER");
    });

    it("integration responses are the pipeline's, with CORS headers", async () => {
        const responses = await resourcesOf(`${prefix}-put-events-`, "aws:apigateway/integrationResponse:IntegrationResponse");
        assert.strictEqual(responses.length, PUT_EVENTS_INTEGRATION_RESPONSES.length);
        for (const spec of PUT_EVENTS_INTEGRATION_RESPONSES) {
            const r = responses.find((x) => x.inputs.statusCode === spec.statusCode);
            assert.ok(r, spec.statusCode);
            assert.strictEqual(r.inputs.selectionPattern, spec.selectionPattern);
            assert.deepStrictEqual(r.inputs.responseTemplates, spec.responseTemplates);
            assert.strictEqual(r.inputs.responseParameters["method.response.header.Access-Control-Allow-Origin"], "'*'");
        }
    });

    it("every status the method answers is declared, with the CORS headers", async () => {
        const methodResponses = await resourcesOf(`${prefix}-post-`, "aws:apigateway/methodResponse:MethodResponse");
        assert.deepStrictEqual(methodResponses.map((m) => m.inputs.statusCode).sort(), [...METHOD_RESPONSE_STATUS_CODES].sort());
        for (const m of methodResponses)
            assert.strictEqual(m.inputs.responseParameters["method.response.header.Access-Control-Allow-Origin"], true);
    });

    it("OPTIONS /event: an unauthenticated MOCK preflight with CORS headers", async () => {
        const options = await byName(prefix, "aws:apigateway/method:Method", "-options");
        assert.strictEqual(options.inputs.httpMethod, "OPTIONS");
        assert.strictEqual(options.inputs.authorization, "NONE");
        const mock = await byName(prefix, "aws:apigateway/integration:Integration", "-options-mock");
        assert.strictEqual(mock.inputs.type, "MOCK");
        assert.deepStrictEqual(JSON.parse(mock.inputs.requestTemplates["application/json"]), { statusCode: 204 });
        const response = await byName(prefix, "aws:apigateway/integrationResponse:IntegrationResponse", "-options-mock-204");
        assert.deepStrictEqual(response.inputs.responseParameters, {
            "method.response.header.Access-Control-Allow-Origin": "'*'",
            "method.response.header.Access-Control-Allow-Headers": "'Authorization,Content-Type'",
            "method.response.header.Access-Control-Allow-Methods": "'OPTIONS,POST'",
            "method.response.header.Access-Control-Max-Age": "'600'",
        });
    });

    it("gateway responses: the pipeline's fixed-message 400, 401, 403, defaults, all with CORS headers", async () => {
        const responses = await resourcesOf(prefix, "aws:apigateway/response:Response");
        assert.deepStrictEqual(responses.map((r) => r.inputs.responseType).sort(), GATEWAY_RESPONSES.map((g) => g.responseType).sort());
        for (const r of responses)
            assert.strictEqual(r.inputs.responseParameters["gatewayresponse.header.Access-Control-Allow-Origin"], "'*'");
        const bad = responses.find((r) => r.inputs.responseType === "BAD_REQUEST_BODY")!;
        assert.strictEqual(bad.inputs.statusCode, "400");
        assert.strictEqual(
            bad.inputs.responseTemplates["application/json"],
            GATEWAY_RESPONSES.find((g) => g.responseType === "BAD_REQUEST_BODY")!.template,
        );
        for (const r of responses)
            assert.ok(!/validationErrorString|messageString/.test(r.inputs.responseTemplates["application/json"]), r.inputs.responseType);
        assert.strictEqual(responses.find((r) => r.inputs.responseType === "UNAUTHORIZED")!.inputs.statusCode, "401");
        assert.strictEqual(responses.find((r) => r.inputs.responseType === "ACCESS_DENIED")!.inputs.statusCode, "403");
    });

    it("the integration role may PutEvents on this bus only (IAM simulation)", async () => {
        const role = await byName(prefix, "aws:iam/role:Role", "-putevents-role");
        assert.deepStrictEqual(JSON.parse(role.inputs.assumeRolePolicy).Statement[0].Principal, { Service: "apigateway.amazonaws.com" });
        const doc = JSON.parse(await valueOf(api.integrationPolicyDocument));
        const attached = await byName(prefix, "aws:iam/rolePolicy:RolePolicy", "-putevents-policy");
        assert.strictEqual(attached.inputs.role, `${role.name}-id`);
        assert.deepStrictEqual(JSON.parse(attached.inputs.policy), doc);
        assert.ok(await isAllowed(doc, "events:PutEvents", BUS_ARN));
        assert.ok(!(await isAllowed(doc, "events:PutEvents", `arn:aws:events:${REGION}:${ACCOUNT}:event-bus/default`)));
        assert.ok(!(await isAllowed(doc, "events:PutEvents", `arn:aws:events:${REGION}:${ACCOUNT}:event-bus/ce-bus-2`)));
        assert.ok(!(await isAllowed(doc, "events:PutEvents", `arn:aws:events:eu-west-1:${ACCOUNT}:event-bus/ce-bus`)));
        for (const action of ["events:PutRule", "events:PutTargets", "events:DeleteEventBus", "events:DescribeEventBus"]) {
            const resource =
                action === "events:PutTargets" || action === "events:PutRule"
                    ? `arn:aws:events:${REGION}:${ACCOUNT}:rule/ce-bus/any`
                    : BUS_ARN;
            assert.ok(!(await isAllowed(doc, action, resource)), action);
        }
    });

    it("the stage: named by the environment, stage variables Environment and Bus, JSON access logs", async () => {
        const stage = await oneOf(prefix, "aws:apigateway/stage:Stage");
        const deployment = await oneOf(prefix, "aws:apigateway/deployment:Deployment");
        const logs = await byName(prefix, "aws:cloudwatch/logGroup:LogGroup", "-access-logs");
        assert.strictEqual(stage.inputs.stageName, "dev");
        assert.strictEqual(stage.inputs.deployment, `${deployment.name}-id`);
        assert.deepStrictEqual(stage.inputs.variables, { Environment: "dev", Bus: "ce-bus" });
        assert.strictEqual(stage.inputs.accessLogSettings.destinationArn, logs.state.arn);
        const format = JSON.parse(stage.inputs.accessLogSettings.format);
        assert.strictEqual(format.requestId, "$context.requestId");
        assert.strictEqual(format.clientId, "$context.authorizer.clientId");
        assert.ok(!JSON.stringify(format).toLowerCase().includes("authorization"), "no token in access logs");
        assert.strictEqual(logs.inputs.retentionInDays, 30);
    });

    it("the execution log group exists before the stage, named as API Gateway names it, with retention", async () => {
        // Otherwise API Gateway creates API-Gateway-Execution-Logs_<api id>/<stage> itself, kept forever.
        const rest = await oneOf(prefix, "aws:apigateway/restApi:RestApi");
        const logs = await byName(prefix, "aws:cloudwatch/logGroup:LogGroup", "-execution-logs");
        assert.strictEqual(logs.inputs.name, `API-Gateway-Execution-Logs_${rest.name}-id/dev`);
        assert.strictEqual(logs.inputs.retentionInDays, 30);
        assert.ok(
            resources.indexOf(logs) < resources.indexOf(await oneOf(prefix, "aws:apigateway/stage:Stage")),
            "log group registered before the stage",
        );
    });

    it("method settings: metrics, ERROR execution logs without data trace, stage throttling", async () => {
        const settings = await oneOf(prefix, "aws:apigateway/methodSettings:MethodSettings");
        assert.strictEqual(settings.inputs.methodPath, "*/*");
        assert.strictEqual(settings.inputs.stageName, "dev");
        assert.deepStrictEqual(settings.inputs.settings, {
            metricsEnabled: true,
            loggingLevel: "ERROR",
            dataTraceEnabled: false,
            throttlingRateLimit: 100,
            throttlingBurstLimit: 200,
        });
    });

    describe("logging in a fresh account: the default manages the account's CloudWatch Logs role", () => {
        const fresh = "ingest-fresh";
        let options: { get(name: string): Captured | undefined };
        before(async () => {
            const built = capturingIngestApi(fresh, {});
            options = built.options;
            await valueOf(built.api.eventUrl);
            await valueOf(built.api.deployment.id);
        });

        it("creates a role API Gateway can assume, with AWS's push policy attached as its own resource", async () => {
            const role = await byName(fresh, "aws:iam/role:Role", "-logging-role");
            assert.deepStrictEqual(JSON.parse(role.inputs.assumeRolePolicy).Statement, [
                { Effect: "Allow", Principal: { Service: "apigateway.amazonaws.com" }, Action: "sts:AssumeRole" },
            ]);
            assert.strictEqual(role.inputs.managedPolicyArns, undefined, "managedPolicyArns is deprecated");
            const attachment = await oneOf(fresh, "aws:iam/rolePolicyAttachment:RolePolicyAttachment");
            assert.strictEqual(attachment.inputs.role, role.state.name);
            assert.strictEqual(attachment.inputs.policyArn, API_GATEWAY_PUSH_TO_CLOUDWATCH_POLICY_ARN);
            assert.strictEqual(
                API_GATEWAY_PUSH_TO_CLOUDWATCH_POLICY_ARN,
                "arn:aws:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs",
            );
        });

        it("sets that role as the account's CloudWatch Logs role", async () => {
            const account = await oneOf(fresh, "aws:apigateway/account:Account");
            const role = await byName(fresh, "aws:iam/role:Role", "-logging-role");
            assert.strictEqual(account.inputs.cloudwatchRoleArn, role.state.arn);
        });

        it("orders the deployment: policy attached, then the account setting, then the stage and its method settings", async () => {
            assert.deepStrictEqual(options.get(`${fresh}-account`)?.dependsOn, [`${fresh}-logging-push`]);
            assert.ok(options.get(`${fresh}-stage`)?.dependsOn.includes(`${fresh}-account`), JSON.stringify(options.get(`${fresh}-stage`)));
            assert.ok(options.get(`${fresh}-method-settings`)?.dependsOn.includes(`${fresh}-account`));
            // The mock engine registers a resource only once its dependencies are registered.
            const at = (suffix: string, type: string) => resources.findIndex((r) => r.name === `${fresh}${suffix}` && r.type === type);
            const push = at("-logging-push", "aws:iam/rolePolicyAttachment:RolePolicyAttachment");
            const account = at("-account", "aws:apigateway/account:Account");
            const stage = at("-stage", "aws:apigateway/stage:Stage");
            assert.ok(push >= 0 && push < account && account < stage, `${push} < ${account} < ${stage}`);
        });

        it("keeps the role, its attachment and the setting when the stack is destroyed; nothing else", async () => {
            for (const suffix of ["-logging-role", "-logging-push", "-account"]) {
                assert.strictEqual(options.get(`${fresh}${suffix}`)?.retainOnDelete, true, suffix);
            }
            for (const suffix of ["-api", "-stage", "-access-logs", "-execution-logs"]) {
                assert.notStrictEqual(options.get(`${fresh}${suffix}`)?.retainOnDelete, true, suffix);
            }
        });

        it("logs: JSON access logs and ERROR execution logs", async () => {
            const stage = await oneOf(fresh, "aws:apigateway/stage:Stage");
            assert.ok(stage.inputs.accessLogSettings.destinationArn);
            assert.strictEqual((await oneOf(fresh, "aws:apigateway/methodSettings:MethodSettings")).inputs.settings.loggingLevel, "ERROR");
        });
    });

    describe("in an account that already has the role", () => {
        it("existing: logs on, the account setting left alone, no role created", async () => {
            const name = "ingest-existing";
            const built = capturingIngestApi(name, { cloudWatchRole: "existing" });
            await valueOf(built.api.eventUrl);
            assert.strictEqual((await resourcesOf(name, "aws:apigateway/account:Account")).length, 0);
            assert.strictEqual((await resourcesOf(name, "aws:iam/role:Role")).filter((r) => r.name.endsWith("-logging-role")).length, 0);
            assert.ok((await oneOf(name, "aws:apigateway/stage:Stage")).inputs.accessLogSettings.destinationArn);
            assert.strictEqual((await oneOf(name, "aws:apigateway/methodSettings:MethodSettings")).inputs.settings.loggingLevel, "ERROR");
            assert.deepStrictEqual(built.options.get(`${name}-stage`)?.dependsOn, [`${name}-execution-logs`]);
        });

        it("a role ARN: that role becomes the account's role, kept on destroy, and the stage waits for it", async () => {
            const name = "ingest-arn";
            const arn = `arn:aws:iam::${ACCOUNT}:role/service-role/apigw-cloudwatch`;
            const built = capturingIngestApi(name, { cloudWatchRole: arn });
            await valueOf(built.api.eventUrl);
            assert.strictEqual((await oneOf(name, "aws:apigateway/account:Account")).inputs.cloudwatchRoleArn, arn);
            assert.strictEqual((await resourcesOf(name, "aws:iam/role:Role")).filter((r) => r.name.endsWith("-logging-role")).length, 0);
            assert.strictEqual(built.options.get(`${name}-account`)?.retainOnDelete, true);
            assert.ok(built.options.get(`${name}-stage`)?.dependsOn.includes(`${name}-account`));
        });
    });

    describe("logging off", () => {
        it("no access logs, execution logging OFF, no log groups, no account-wide change; metrics still on", async () => {
            const name = "ingest-nolog";
            const api = new IngestApi(name, args({ cloudWatchRole: "off" }) as IngestApiArgs);
            await valueOf(api.eventUrl);
            const stage = await oneOf(name, "aws:apigateway/stage:Stage");
            assert.strictEqual(stage.inputs.accessLogSettings, undefined);
            const settings = (await oneOf(name, "aws:apigateway/methodSettings:MethodSettings")).inputs.settings;
            assert.strictEqual(settings.loggingLevel, "OFF");
            assert.strictEqual(settings.metricsEnabled, true);
            assert.strictEqual((await resourcesOf(name, "aws:apigateway/account:Account")).length, 0);
            assert.strictEqual(
                (await resourcesOf(name, "aws:cloudwatch/logGroup:LogGroup")).filter((g) => !g.name.startsWith(`${name}-auth`)).length,
                0,
            );
        });

        it("refuses an execution log level it cannot honour", () => {
            assert.throws(
                () => new IngestApi("ingest-nolog-bad", args({ cloudWatchRole: "off", executionLogLevel: "INFO" }) as IngestApiArgs),
                /executionLogLevel INFO needs logging/,
            );
        });
    });

    it("the deployment's trigger is a SHA-256 over the API definition; the hash depends on what it is given", async () => {
        const deployment = await oneOf(prefix, "aws:apigateway/deployment:Deployment");
        assert.match(deployment.inputs.triggers.redeployment, /^[0-9a-f]{64}$/);
        assert.notStrictEqual(apiDefinitionHash(["a"]), apiDefinitionHash(["b"]));
    });

    it("every constant part of the definition the stage serves is in the hashed definition, as registered", async () => {
        // Read from the registered resources, so a value deployed but left out of API_DEFINITION fails here.
        const integrations = await resourcesOf(prefix, "aws:apigateway/integration:Integration");
        const mock = integrations.find((i) => i.inputs.type === "MOCK")!;
        const putEvents = integrations.find((i) => i.inputs.type === "AWS")!;
        assert.deepStrictEqual(mock.inputs.requestTemplates, {
            [API_DEFINITION.requestContentType]: API_DEFINITION.preflightRequestTemplate,
        });
        assert.deepStrictEqual(putEvents.inputs.requestTemplates, API_DEFINITION.requestTemplates);
        assert.deepStrictEqual(putEvents.inputs.requestParameters, API_DEFINITION.requestParameters);
        assert.strictEqual(putEvents.inputs.timeoutMilliseconds, API_DEFINITION.integrationTimeoutMs);
        assert.strictEqual(putEvents.inputs.integrationHttpMethod, API_DEFINITION.integrationHttpMethod);
        assert.strictEqual(putEvents.inputs.passthroughBehavior, API_DEFINITION.passthrough);
        const model = await oneOf(prefix, "aws:apigateway/model:Model");
        assert.deepStrictEqual(JSON.parse(model.inputs.schema), API_DEFINITION.model);
        const authorizer = await oneOf(prefix, "aws:apigateway/authorizer:Authorizer");
        assert.strictEqual(authorizer.inputs.identityValidationExpression, API_DEFINITION.identityValidationExpression);
        const integrationResponses = await resourcesOf(`${prefix}-put-events-`, "aws:apigateway/integrationResponse:IntegrationResponse");
        assert.deepStrictEqual(
            integrationResponses.map((r) => ({
                statusCode: r.inputs.statusCode,
                selectionPattern: r.inputs.selectionPattern,
                responseTemplates: r.inputs.responseTemplates,
            })),
            API_DEFINITION.integrationResponses.map((r) => ({
                statusCode: r.statusCode,
                selectionPattern: r.selectionPattern,
                responseTemplates: r.responseTemplates,
            })),
        );
        const methodResponses = await resourcesOf(`${prefix}-post-`, "aws:apigateway/methodResponse:MethodResponse");
        assert.deepStrictEqual(
            methodResponses.map((m) => m.inputs.statusCode),
            [...API_DEFINITION.methodResponses],
        );
        const gateway = await resourcesOf(prefix, "aws:apigateway/response:Response");
        const byType = (a: { responseType: string }, b: { responseType: string }) => a.responseType.localeCompare(b.responseType);
        assert.deepStrictEqual(
            gateway
                .map((g) => ({
                    responseType: g.inputs.responseType,
                    statusCode: g.inputs.statusCode,
                    template: g.inputs.responseTemplates["application/json"],
                }))
                .sort(byType),
            API_DEFINITION.gatewayResponses
                .map((g) => ({ responseType: g.responseType, statusCode: g.statusCode, template: g.template }))
                .sort(byType),
        );
        // The preflight answer's headers: the CORS ones (hashed with the arguments, see below) and the hashed constant ones.
        const preflight = await byName(prefix, "aws:apigateway/integrationResponse:IntegrationResponse", "-options-mock-204");
        const preflightHeaders = Object.fromEntries(
            Object.entries(preflight.inputs.responseParameters as Record<string, string>)
                .map(([k, v]) => [k.replace(/^method\.response\.header\./, ""), v.replace(/^'(.*)'$/, "$1")])
                .filter(([k]) => !(k in corsHeaders("*"))),
        );
        assert.deepStrictEqual(preflightHeaders, API_DEFINITION.preflightHeaders);
    });

    it("outputs the stage URL and the event URL", async () => {
        const rest = await oneOf(prefix, "aws:apigateway/restApi:RestApi");
        assert.strictEqual(await valueOf(api.url), `https://${rest.name}-id.execute-api.${REGION}.amazonaws.com/dev`);
        assert.strictEqual(await valueOf(api.eventUrl), `https://${rest.name}-id.execute-api.${REGION}.amazonaws.com/dev/event`);
    });

    describe("with options", () => {
        const custom = "ingest-custom";
        before(async () => {
            const customApi = new IngestApi(
                custom,
                args({
                    environment: "prod",
                    authorizerCacheTtlSeconds: 0,
                    throttleRateLimit: 10,
                    throttleBurstLimit: 20,
                    executionLogLevel: "INFO",
                    corsAllowOrigin: "https://app.example.com",
                    logRetentionDays: 365,
                }),
            );
            await valueOf(customApi.eventUrl);
        });

        it("TTL 0 when configured, throttling, log level and retention follow the arguments", async () => {
            assert.strictEqual((await oneOf(custom, "aws:apigateway/authorizer:Authorizer")).inputs.authorizerResultTtlInSeconds, 0);
            const settings = await oneOf(custom, "aws:apigateway/methodSettings:MethodSettings");
            assert.strictEqual(settings.inputs.settings.throttlingRateLimit, 10);
            assert.strictEqual(settings.inputs.settings.throttlingBurstLimit, 20);
            assert.strictEqual(settings.inputs.settings.loggingLevel, "INFO");
            assert.strictEqual((await byName(custom, "aws:cloudwatch/logGroup:LogGroup", "-access-logs")).inputs.retentionInDays, 365);
            assert.strictEqual((await byName(custom, "aws:cloudwatch/logGroup:LogGroup", "-execution-logs")).inputs.retentionInDays, 365);
            assert.strictEqual((await oneOf(custom, "aws:apigateway/stage:Stage")).inputs.stageName, "prod");
        });

        it("a named CORS origin everywhere, with Vary: Origin", async () => {
            for (const r of await resourcesOf(custom, "aws:apigateway/response:Response")) {
                assert.strictEqual(
                    r.inputs.responseParameters["gatewayresponse.header.Access-Control-Allow-Origin"],
                    "'https://app.example.com'",
                );
                assert.strictEqual(r.inputs.responseParameters["gatewayresponse.header.Vary"], "'Origin'");
            }
            for (const r of await resourcesOf(`${custom}-put-events-`, "aws:apigateway/integrationResponse:IntegrationResponse")) {
                assert.strictEqual(
                    r.inputs.responseParameters["method.response.header.Access-Control-Allow-Origin"],
                    "'https://app.example.com'",
                );
            }
        });

        it("the deployment trigger follows each argument the stage serves, and nothing else", async () => {
            // Mocked ids come from logical names; the same names under parents of different types get distinct
            // URNs but equal ids, so these APIs differ in the arguments below only.
            const trigger = async (wrapper: string, overrides: Record<string, unknown>) => {
                const parent = new pulumi.ComponentResource(`test:index:${wrapper}`, "trigger-wrapper", {});
                const built = new IngestApi("trigger", args(overrides), { parent });
                return (await valueOf(built.deployment.triggers))!.redeployment;
            };
            const base = await trigger("Base", {});
            assert.strictEqual(await trigger("Same", {}), base, "an identical definition keeps the deployment");
            assert.strictEqual(
                await trigger("Throttle", { throttleRateLimit: 7, logRetentionDays: 365 }),
                base,
                "stage settings need no redeployment",
            );
            const changed: Array<[string, Record<string, unknown>]> = [
                ["Ttl", { authorizerCacheTtlSeconds: 0 }],
                ["Pool", { userPoolId: `${REGION}_Pool2` }],
                ["Client", { userPoolClientId: "client456" }],
                ["Cors", { corsAllowOrigin: "https://app.example.com" }],
            ];
            for (const [wrapper, overrides] of changed) {
                assert.notStrictEqual(await trigger(wrapper, overrides), base, `${Object.keys(overrides).join(", ")} must redeploy`);
            }
        });
    });
});
