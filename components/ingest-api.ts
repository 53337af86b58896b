import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { createHash } from "crypto";
import type { APIGatewayAuthorizerResult, APIGatewayTokenAuthorizerEvent } from "aws-lambda";
import { HandlerFunction } from "./handler-function";
import { createHandler as createAuthorizerHandler } from "../handlers/authorizer";
import { REQUEST_MODEL_NAME, REQUEST_MODEL_SCHEMA } from "../pipeline/request-model";
import {
    PASSTHROUGH_BEHAVIOR,
    PUT_EVENTS_INTEGRATION_HTTP_METHOD,
    PUT_EVENTS_REQUEST_PARAMETERS,
    PUT_EVENTS_REQUEST_TEMPLATES,
    REQUEST_CONTENT_TYPE,
    putEventsIntegrationUri,
} from "../pipeline/mapping-template";
import { METHOD_RESPONSE_STATUS_CODES, PUT_EVENTS_INTEGRATION_RESPONSES } from "../pipeline/integration-responses";
import {
    GATEWAY_RESPONSES,
    PREFLIGHT_EXTRA_HEADERS,
    PREFLIGHT_STATUS_CODE,
    corsHeaders,
    staticHeaderParameters,
} from "../pipeline/gateway-responses";
import { AUTHORIZATION_HEADER_PATTERN } from "../pipeline/authorization-header";

export interface IngestApiArgs {
    /** The environment: names the stage and is every event's DetailType (stage variable `Environment`). */
    environment: pulumi.Input<string>;
    /** Name of the event bus events are published to (stage variable `Bus`). */
    eventBusName: pulumi.Input<string>;
    /** ARN of that bus: the only resource the integration role may publish to. */
    eventBusArn: pulumi.Input<string>;
    /** The Cognito user pool whose tokens are accepted. */
    userPoolId: pulumi.Input<string>;
    /** ARN of that user pool. */
    userPoolArn: pulumi.Input<string>;
    /** The app client whose tokens are accepted. */
    userPoolClientId: pulumi.Input<string>;
    /** Seconds API Gateway caches an authorizer result per token (0..3600). Default 300. */
    authorizerCacheTtlSeconds?: pulumi.Input<number>;
    /** Stage-wide steady-state rate limit, requests per second. Default 100. */
    throttleRateLimit?: pulumi.Input<number>;
    /** Stage-wide burst limit, requests. Default 200. */
    throttleBurstLimit?: pulumi.Input<number>;
    /** Execution logging level: "OFF", "ERROR" or "INFO". Default "ERROR". */
    executionLogLevel?: pulumi.Input<string>;
    /**
     * Where the stage's access and execution logs get API Gateway's account-wide CloudWatch Logs role (one
     * setting per account and region; a stage with logging is refused until it is set). Default "create".
     * - "create": a role with AWS's push policy, set as the account's role; the stage waits for it.
     * - an IAM role ARN: that role is set as the account's role (e.g. the one the account already uses).
     * - "existing": the account already has a working role; the setting is left alone.
     * - "off": no access or execution logs (and no account-wide change); `executionLogLevel` must be OFF.
     * The role and the setting are kept when the stack is destroyed, since every API of the region logs
     * through them (docs/deploy.md explains the trade-off).
     * Plain, not an Input: it decides which resources exist (role, account setting, log groups), which Pulumi
     * must know when it plans.
     */
    cloudWatchRole?: CloudWatchRoleSetting;
    /** The `Access-Control-Allow-Origin` value: "*" or one origin. Default "*". */
    corsAllowOrigin?: pulumi.Input<string>;
    /** Retention of the access log group, the execution log group and the authorizer's log group, days. Default 30. */
    logRetentionDays?: pulumi.Input<number>;
}

/** How the stage's logging gets the account's CloudWatch Logs role; see IngestApiArgs.cloudWatchRole. */
export type CloudWatchRoleSetting = "create" | "existing" | "off" | `arn:${string}`;

/** AWS's managed policy that lets API Gateway create log groups and streams and put log events. */
export const API_GATEWAY_PUSH_TO_CLOUDWATCH_POLICY_ARN = "arn:aws:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs";

/** Fields of each access log line (JSON); no Authorization header, no body. */
export const ACCESS_LOG_FORMAT = JSON.stringify({
    // apiId and stage: the dimensions of the RequestsWithFailedEntries metric filter (pipeline/metrics.ts).
    apiId: "$context.apiId",
    stage: "$context.stage",
    requestId: "$context.requestId",
    extendedRequestId: "$context.extendedRequestId",
    requestTime: "$context.requestTime",
    ip: "$context.identity.sourceIp",
    userAgent: "$context.identity.userAgent",
    httpMethod: "$context.httpMethod",
    resourcePath: "$context.resourcePath",
    status: "$context.status",
    responseLength: "$context.responseLength",
    responseLatency: "$context.responseLatency",
    principalId: "$context.authorizer.principalId",
    clientId: "$context.authorizer.clientId",
    authorizerError: "$context.authorizer.error",
    authorizerStatus: "$context.authorizer.status",
    errorMessage: "$context.error.message",
    errorType: "$context.error.responseType",
    validationError: "$context.error.validationErrorString",
    integrationStatus: "$context.integration.status",
    integrationError: "$context.integration.error",
    integrationLatency: "$context.integration.latency",
});

/** Milliseconds API Gateway waits for PutEvents (29 s, the REST API default maximum). */
export const INTEGRATION_TIMEOUT_MS = 29000;

/** The OPTIONS mock integration's request template: it selects the preflight answer's status. */
export const PREFLIGHT_REQUEST_TEMPLATE = `{"statusCode": ${PREFLIGHT_STATUS_CODE}}`;

/**
 * The constant part of the API's definition: every value below reaches the stage only through a new
 * deployment, so each one is hashed into the deployment's trigger (the values known only at deployment
 * are added by the component).
 */
export const API_DEFINITION = {
    model: REQUEST_MODEL_SCHEMA,
    requestContentType: REQUEST_CONTENT_TYPE,
    requestTemplates: PUT_EVENTS_REQUEST_TEMPLATES,
    requestParameters: PUT_EVENTS_REQUEST_PARAMETERS,
    integrationHttpMethod: PUT_EVENTS_INTEGRATION_HTTP_METHOD,
    integrationTimeoutMs: INTEGRATION_TIMEOUT_MS,
    integrationResponses: PUT_EVENTS_INTEGRATION_RESPONSES,
    methodResponses: METHOD_RESPONSE_STATUS_CODES,
    gatewayResponses: GATEWAY_RESPONSES,
    passthrough: PASSTHROUGH_BEHAVIOR,
    identityValidationExpression: AUTHORIZATION_HEADER_PATTERN,
    preflightRequestTemplate: PREFLIGHT_REQUEST_TEMPLATE,
    preflightHeaders: PREFLIGHT_EXTRA_HEADERS,
} as const;

/** The API's whole definition as data: a change to any of it must produce a new deployment. */
export function apiDefinitionHash(dynamic: unknown): string {
    return createHash("sha256")
        .update(JSON.stringify({ ...API_DEFINITION, dynamic }))
        .digest("hex");
}

/**
 * The ingest REST API: `POST /event` with a validated body and a Cognito TOKEN authorizer, integrated
 * directly with EventBridge PutEvents (no Lambda in the data path), with per-entry results, CORS on every
 * answer, a stage per environment, JSON access logs, execution logs, metrics and throttling.
 */
export class IngestApi extends pulumi.ComponentResource {
    public readonly api: aws.apigateway.RestApi;
    public readonly stage: aws.apigateway.Stage;
    public readonly authorizer: HandlerFunction<APIGatewayTokenAuthorizerEvent, APIGatewayAuthorizerResult>;
    public readonly integrationRole: aws.iam.Role;
    /** The integration role's policy document (JSON), for inspection and tests. */
    public readonly integrationPolicyDocument: pulumi.Output<string>;
    /** The access log group; absent when `cloudWatchRole` is "off". */
    public readonly accessLogGroup?: aws.cloudwatch.LogGroup;
    /** The group API Gateway writes execution logs to (`API-Gateway-Execution-Logs_<api id>/<stage>`), with retention. */
    public readonly executionLogGroup?: aws.cloudwatch.LogGroup;
    /** The account-wide CloudWatch Logs role setting this stack manages ("create" or a role ARN). */
    public readonly accountSetting?: aws.apigateway.Account;
    /** The role set as the account's CloudWatch Logs role (only with "create"). */
    public readonly cloudWatchLogsRole?: aws.iam.Role;
    public readonly deployment: aws.apigateway.Deployment;
    /** The stage's base URL, e.g. https://abc123.execute-api.us-east-1.amazonaws.com/dev */
    public readonly url: pulumi.Output<string>;
    /** The URL events are posted to: `${url}/event`. */
    public readonly eventUrl: pulumi.Output<string>;

    constructor(name: string, args: IngestApiArgs, opts?: pulumi.ComponentResourceOptions) {
        super("client-events:index:IngestApi", name, {}, opts);
        const region = aws.getRegionOutput({}, { parent: this }).region;
        const cors = pulumi.output(args.corsAllowOrigin ?? "*").apply(corsHeaders);
        const ttl = args.authorizerCacheTtlSeconds ?? 300;

        this.api = this.createRestApi(name);
        const request = this.createRequestValidation(name);
        this.authorizer = this.createAuthorizerFunction(name, args);
        const tokenAuthorizer = this.createTokenAuthorizer(name, ttl);
        const integration = this.createIntegrationRole(name, args.eventBusArn);
        this.integrationRole = integration.role;
        this.integrationPolicyDocument = integration.policyDocument;
        const post = this.createPostEvent(name, { ...request, tokenAuthorizer, integrationPolicy: integration.policy, cors, region });
        const preflight = this.createPreflight(name, request.eventResource, cors);
        const gatewayResponses = this.createGatewayResponses(name, cors);

        // A new deployment whenever anything that defines the API changes.
        const redeployment = pulumi
            .all([
                tokenAuthorizer.id,
                this.integrationRole.arn,
                ttl,
                args.userPoolId,
                args.userPoolClientId,
                cors.apply((headers) => JSON.stringify(headers)),
                this.authorizer.function.arn,
                request.model.id,
                request.validator.id,
                region.apply(putEventsIntegrationUri),
            ])
            .apply((dynamic) => apiDefinitionHash(dynamic));
        this.deployment = this.createDeployment(name, redeployment, [...post, ...preflight, ...gatewayResponses]);

        const cloudWatchRole = args.cloudWatchRole ?? "create";
        const logging = cloudWatchRole !== "off";
        const checkLevel = (level: string): string => {
            if (!logging && level !== "OFF")
                throw new Error(`IngestApi ${name}: executionLogLevel ${level} needs logging, but cloudWatchRole is "off"`);
            return level;
        };
        // A plain level is checked now; one known only at deployment when it resolves.
        if (typeof args.executionLogLevel === "string") checkLevel(args.executionLogLevel);
        const executionLogLevel = pulumi.output(args.executionLogLevel ?? (logging ? "ERROR" : "OFF")).apply(checkLevel);
        if (logging) {
            ({ accessLogGroup: this.accessLogGroup, executionLogGroup: this.executionLogGroup } = this.createLogGroups(name, args));
            ({ account: this.accountSetting, role: this.cloudWatchLogsRole } = this.createAccountSetting(name, cloudWatchRole));
        }
        this.stage = this.createStage(name, args);
        this.createMethodSettings(name, args, executionLogLevel);

        this.url = pulumi.interpolate`https://${this.api.id}.execute-api.${region}.amazonaws.com/${this.stage.stageName}`;
        this.eventUrl = pulumi.interpolate`${this.url}/event`;

        this.registerOutputs({
            api: this.api,
            stage: this.stage,
            authorizer: this.authorizer,
            integrationRole: this.integrationRole,
            integrationPolicyDocument: this.integrationPolicyDocument,
            accessLogGroup: this.accessLogGroup,
            executionLogGroup: this.executionLogGroup,
            accountSetting: this.accountSetting,
            cloudWatchLogsRole: this.cloudWatchLogsRole,
            deployment: this.deployment,
            url: this.url,
            eventUrl: this.eventUrl,
        });
    }

    /** The regional REST API. */
    private createRestApi(name: string): aws.apigateway.RestApi {
        return new aws.apigateway.RestApi(
            `${name}-api`,
            {
                description: "client-events ingest: POST /event -> EventBridge PutEvents",
                endpointConfiguration: { types: "REGIONAL" },
            },
            { parent: this },
        );
    }

    /** The `/event` resource, the request body's model and the validator that enforces it. */
    private createRequestValidation(name: string): {
        eventResource: aws.apigateway.Resource;
        model: aws.apigateway.Model;
        validator: aws.apigateway.RequestValidator;
    } {
        const eventResource = new aws.apigateway.Resource(
            `${name}-event`,
            {
                restApi: this.api.id,
                parentId: this.api.rootResourceId,
                pathPart: "event",
            },
            { parent: this },
        );
        const model = new aws.apigateway.Model(
            `${name}-model`,
            {
                restApi: this.api.id,
                name: REQUEST_MODEL_NAME,
                contentType: REQUEST_CONTENT_TYPE,
                schema: JSON.stringify(REQUEST_MODEL_SCHEMA),
            },
            { parent: this },
        );
        const validator = new aws.apigateway.RequestValidator(
            `${name}-validator`,
            {
                restApi: this.api.id,
                name: "body",
                validateRequestBody: true,
                validateRequestParameters: false,
            },
            { parent: this },
        );
        return { eventResource, model, validator };
    }

    /** The Lambda that verifies Cognito tokens. */
    private createAuthorizerFunction(name: string, args: IngestApiArgs): IngestApi["authorizer"] {
        return new HandlerFunction(
            `${name}-auth`,
            {
                callbackFactory: createAuthorizerHandler,
                description: "TOKEN authorizer: verifies Cognito JWTs and resolves the user's clientId",
                environment: { USER_POOL_ID: args.userPoolId, USER_POOL_CLIENT_ID: args.userPoolClientId },
                packages: ["aws-jwt-verify"],
                logRetentionDays: args.logRetentionDays,
                // No statements: GetUser is authorized by the user's access token, not by IAM.
            },
            { parent: this },
        );
    }

    /** API Gateway's TOKEN authorizer on that Lambda, and the permission to invoke it. */
    private createTokenAuthorizer(name: string, ttl: pulumi.Input<number>): aws.apigateway.Authorizer {
        const authorizer = new aws.apigateway.Authorizer(
            `${name}-token-authorizer`,
            {
                restApi: this.api.id,
                name: "cognito-token",
                type: "TOKEN",
                authorizerUri: this.authorizer.function.invokeArn,
                identitySource: "method.request.header.Authorization",
                // A header the authorizer would refuse anyway gets 401 from API Gateway without invoking it.
                identityValidationExpression: AUTHORIZATION_HEADER_PATTERN,
                authorizerResultTtlInSeconds: ttl,
            },
            { parent: this },
        );
        new aws.lambda.Permission(
            `${name}-auth-invoke`,
            {
                action: "lambda:InvokeFunction",
                function: this.authorizer.function.name,
                principal: "apigateway.amazonaws.com",
                sourceArn: pulumi.interpolate`${this.api.executionArn}/authorizers/${authorizer.id}`,
            },
            { parent: this },
        );
        return authorizer;
    }

    /** The role the integration calls PutEvents with: on this bus only. */
    private createIntegrationRole(
        name: string,
        eventBusArn: pulumi.Input<string>,
    ): { role: aws.iam.Role; policyDocument: pulumi.Output<string>; policy: aws.iam.RolePolicy } {
        const role = new aws.iam.Role(
            `${name}-putevents-role`,
            {
                description: "API Gateway -> EventBridge PutEvents on the client-events bus",
                assumeRolePolicy: JSON.stringify({
                    Version: "2012-10-17",
                    Statement: [{ Effect: "Allow", Principal: { Service: "apigateway.amazonaws.com" }, Action: "sts:AssumeRole" }],
                }),
            },
            { parent: this },
        );
        const policyDocument = pulumi.output(eventBusArn).apply((busArn) =>
            JSON.stringify({
                Version: "2012-10-17",
                Statement: [{ Sid: "PutEventsOnTheBus", Effect: "Allow", Action: "events:PutEvents", Resource: busArn }],
            }),
        );
        const policy = new aws.iam.RolePolicy(`${name}-putevents-policy`, { role: role.id, policy: policyDocument }, { parent: this });
        return { role, policyDocument, policy };
    }

    /**
     * `POST /event`: the method, its PutEvents integration, and the method and integration responses (with
     * CORS headers). Returns what the deployment must wait for.
     */
    private createPostEvent(
        name: string,
        on: {
            eventResource: aws.apigateway.Resource;
            model: aws.apigateway.Model;
            validator: aws.apigateway.RequestValidator;
            tokenAuthorizer: aws.apigateway.Authorizer;
            integrationPolicy: aws.iam.RolePolicy;
            cors: pulumi.Output<Record<string, string>>;
            region: pulumi.Output<string>;
        },
    ): pulumi.Resource[] {
        const post = new aws.apigateway.Method(
            `${name}-post`,
            {
                restApi: this.api.id,
                resourceId: on.eventResource.id,
                httpMethod: "POST",
                authorization: "CUSTOM",
                authorizerId: on.tokenAuthorizer.id,
                requestValidatorId: on.validator.id,
                requestModels: { [REQUEST_CONTENT_TYPE]: on.model.name },
            },
            { parent: this },
        );
        const integration = new aws.apigateway.Integration(
            `${name}-put-events`,
            {
                restApi: this.api.id,
                resourceId: on.eventResource.id,
                httpMethod: post.httpMethod,
                type: "AWS",
                integrationHttpMethod: PUT_EVENTS_INTEGRATION_HTTP_METHOD,
                uri: on.region.apply(putEventsIntegrationUri),
                credentials: this.integrationRole.arn,
                requestParameters: PUT_EVENTS_REQUEST_PARAMETERS,
                requestTemplates: PUT_EVENTS_REQUEST_TEMPLATES,
                passthroughBehavior: PASSTHROUGH_BEHAVIOR,
                timeoutMilliseconds: INTEGRATION_TIMEOUT_MS,
            },
            { parent: this, dependsOn: [on.integrationPolicy] },
        );
        const integrationResponses = this.createPostResponses(name, on.eventResource, post, integration, on.cors);
        return [post, integration, ...integrationResponses];
    }

    /** The method responses of `POST /event` and the integration responses that map PutEvents' answers onto them. */
    private createPostResponses(
        name: string,
        eventResource: aws.apigateway.Resource,
        post: aws.apigateway.Method,
        integration: aws.apigateway.Integration,
        cors: pulumi.Output<Record<string, string>>,
    ): aws.apigateway.IntegrationResponse[] {
        const corsMethodParameters = cors.apply((headers) =>
            Object.fromEntries(Object.keys(headers).map((h) => [`method.response.header.${h}`, true])),
        );
        const corsIntegrationParameters = cors.apply((headers) => staticHeaderParameters("method.response", headers));
        const methodResponses = METHOD_RESPONSE_STATUS_CODES.map(
            (statusCode) =>
                new aws.apigateway.MethodResponse(
                    `${name}-post-${statusCode}`,
                    {
                        restApi: this.api.id,
                        resourceId: eventResource.id,
                        httpMethod: post.httpMethod,
                        statusCode,
                        responseModels: { "application/json": "Empty" },
                        responseParameters: corsMethodParameters,
                    },
                    { parent: this },
                ),
        );
        return PUT_EVENTS_INTEGRATION_RESPONSES.map(
            (spec) =>
                new aws.apigateway.IntegrationResponse(
                    `${name}-put-events-${spec.statusCode}`,
                    {
                        restApi: this.api.id,
                        resourceId: eventResource.id,
                        httpMethod: post.httpMethod,
                        statusCode: spec.statusCode,
                        selectionPattern: spec.selectionPattern,
                        responseTemplates: spec.responseTemplates,
                        responseParameters: corsIntegrationParameters,
                    },
                    { parent: this, dependsOn: [integration, ...methodResponses] },
                ),
        );
    }

    /** `OPTIONS /event`: the CORS preflight, answered by API Gateway itself. Returns what the deployment must wait for. */
    private createPreflight(
        name: string,
        eventResource: aws.apigateway.Resource,
        cors: pulumi.Output<Record<string, string>>,
    ): pulumi.Resource[] {
        const preflightHeaders = cors.apply((headers) => ({ ...headers, ...PREFLIGHT_EXTRA_HEADERS }));
        const options = new aws.apigateway.Method(
            `${name}-options`,
            { restApi: this.api.id, resourceId: eventResource.id, httpMethod: "OPTIONS", authorization: "NONE" },
            { parent: this },
        );
        const optionsIntegration = new aws.apigateway.Integration(
            `${name}-options-mock`,
            {
                restApi: this.api.id,
                resourceId: eventResource.id,
                httpMethod: options.httpMethod,
                type: "MOCK",
                requestTemplates: { "application/json": PREFLIGHT_REQUEST_TEMPLATE },
                passthroughBehavior: "WHEN_NO_MATCH",
            },
            { parent: this },
        );
        const optionsResponse = new aws.apigateway.MethodResponse(
            `${name}-options-${PREFLIGHT_STATUS_CODE}`,
            {
                restApi: this.api.id,
                resourceId: eventResource.id,
                httpMethod: options.httpMethod,
                statusCode: String(PREFLIGHT_STATUS_CODE),
                responseParameters: preflightHeaders.apply((headers) =>
                    Object.fromEntries(Object.keys(headers).map((h) => [`method.response.header.${h}`, true])),
                ),
            },
            { parent: this },
        );
        const optionsIntegrationResponse = new aws.apigateway.IntegrationResponse(
            `${name}-options-mock-${PREFLIGHT_STATUS_CODE}`,
            {
                restApi: this.api.id,
                resourceId: eventResource.id,
                httpMethod: options.httpMethod,
                statusCode: String(PREFLIGHT_STATUS_CODE),
                responseParameters: preflightHeaders.apply((headers) => staticHeaderParameters("method.response", headers)),
                responseTemplates: { "application/json": "" },
            },
            { parent: this, dependsOn: [optionsIntegration, optionsResponse] },
        );
        return [options, optionsIntegration, optionsIntegrationResponse];
    }

    /** The errors API Gateway raises itself (authorizer refusals, invalid bodies, throttling...), with CORS headers. */
    private createGatewayResponses(name: string, cors: pulumi.Output<Record<string, string>>): aws.apigateway.Response[] {
        return GATEWAY_RESPONSES.map(
            (spec) =>
                new aws.apigateway.Response(
                    `${name}-${spec.responseType.toLowerCase().replace(/_/g, "-")}`,
                    {
                        restApiId: this.api.id,
                        responseType: spec.responseType,
                        statusCode: spec.statusCode,
                        responseTemplates: { "application/json": spec.template },
                        responseParameters: cors.apply((headers) => staticHeaderParameters("gatewayresponse", headers)),
                    },
                    { parent: this },
                ),
        );
    }

    /** The deployment: replaced when `redeployment` (the hash of the API's definition) changes. */
    private createDeployment(name: string, redeployment: pulumi.Output<string>, definition: pulumi.Resource[]): aws.apigateway.Deployment {
        return new aws.apigateway.Deployment(
            `${name}-deployment`,
            { restApi: this.api.id, description: "client-events ingest API", triggers: { redeployment } },
            { parent: this, dependsOn: definition },
        );
    }

    /** The access log group and the execution log group, with retention. */
    private createLogGroups(
        name: string,
        args: IngestApiArgs,
    ): { accessLogGroup: aws.cloudwatch.LogGroup; executionLogGroup: aws.cloudwatch.LogGroup } {
        const accessLogGroup = new aws.cloudwatch.LogGroup(
            `${name}-access-logs`,
            { retentionInDays: args.logRetentionDays ?? 30 },
            { parent: this },
        );
        // API Gateway writes execution logs to this group, creating it without retention if it does not
        // exist; created here first, it gets the same retention as the other groups and goes on destroy.
        const executionLogGroup = new aws.cloudwatch.LogGroup(
            `${name}-execution-logs`,
            {
                name: pulumi.interpolate`API-Gateway-Execution-Logs_${this.api.id}/${args.environment}`,
                retentionInDays: args.logRetentionDays ?? 30,
            },
            { parent: this },
        );
        return { accessLogGroup, executionLogGroup };
    }

    /** The stage: one per environment, with the stage variables the mapping template reads and JSON access logs. */
    private createStage(name: string, args: IngestApiArgs): aws.apigateway.Stage {
        const dependencies: pulumi.Resource[] = [];
        if (this.executionLogGroup) dependencies.push(this.executionLogGroup);
        if (this.accountSetting) dependencies.push(this.accountSetting);
        return new aws.apigateway.Stage(
            `${name}-stage`,
            {
                restApi: this.api.id,
                deployment: this.deployment.id,
                stageName: args.environment,
                description: pulumi.interpolate`client-events ${args.environment}`,
                variables: {
                    Environment: args.environment,
                    Bus: args.eventBusName,
                },
                accessLogSettings: this.accessLogGroup ? { destinationArn: this.accessLogGroup.arn, format: ACCESS_LOG_FORMAT } : undefined,
            },
            { parent: this, dependsOn: dependencies },
        );
    }

    /** Every method's settings: metrics, execution logging and the stage-wide throttling. */
    private createMethodSettings(name: string, args: IngestApiArgs, executionLogLevel: pulumi.Input<string>): void {
        new aws.apigateway.MethodSettings(
            `${name}-method-settings`,
            {
                restApi: this.api.id,
                stageName: this.stage.stageName,
                methodPath: "*/*",
                settings: {
                    metricsEnabled: true, // CloudWatch metrics need no logging role
                    loggingLevel: executionLogLevel,
                    dataTraceEnabled: false, // full request logging would write tokens' effects and bodies to logs
                    throttlingRateLimit: args.throttleRateLimit ?? 100,
                    throttlingBurstLimit: args.throttleBurstLimit ?? 200,
                },
            },
            { parent: this, dependsOn: this.accountSetting ? [this.accountSetting] : [] },
        );
    }

    /**
     * The account's CloudWatch Logs role setting, for "create" (with a new role) or a role ARN; undefined for
     * "existing". Account-wide: every API of the region logs through it, so `pulumi destroy` leaves the
     * role, its policy attachment and the setting in place (deleting them would stop those APIs' logs, and
     * the provider's delete would reset the setting).
     */
    private createAccountSetting(name: string, setting: CloudWatchRoleSetting): { account?: aws.apigateway.Account; role?: aws.iam.Role } {
        if (setting === "existing" || setting === "off") return {};
        if (setting !== "create") {
            return {
                account: new aws.apigateway.Account(
                    `${name}-account`,
                    { cloudwatchRoleArn: setting },
                    { parent: this, retainOnDelete: true },
                ),
            };
        }
        const role = new aws.iam.Role(
            `${name}-logging-role`,
            {
                description: "API Gateway (account-wide): push access and execution logs to CloudWatch Logs",
                assumeRolePolicy: JSON.stringify({
                    Version: "2012-10-17",
                    Statement: [{ Effect: "Allow", Principal: { Service: "apigateway.amazonaws.com" }, Action: "sts:AssumeRole" }],
                }),
            },
            { parent: this, retainOnDelete: true },
        );
        const push = new aws.iam.RolePolicyAttachment(
            `${name}-logging-push`,
            {
                role: role.name,
                policyArn: API_GATEWAY_PUSH_TO_CLOUDWATCH_POLICY_ARN,
            },
            { parent: this, retainOnDelete: true },
        );
        // After the attachment: API Gateway checks the role's permissions when the setting is made.
        const account = new aws.apigateway.Account(
            `${name}-account`,
            { cloudwatchRoleArn: role.arn },
            { parent: this, retainOnDelete: true, dependsOn: [push] },
        );
        return { account, role };
    }
}
