import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import type { PolicyStatement } from "./handler-function";
import type { RouteTargetArgs } from "./event-routing";
import {
    DEFAULT_ZENDESK_RATE_PER_SECOND,
    parseZendeskEndpoint,
    TICKET_INPUT_PATHS,
    TICKET_INPUT_TEMPLATE,
    validateZendeskEmail,
    validateZendeskRate,
    ZENDESK_HTTP_METHOD,
    zendeskUsername,
} from "../pipeline/zendesk-ticket";
import { ROUTES } from "../pipeline/routes";

export interface ZendeskDestinationArgs {
    /** Email of the Zendesk user whose API token is used (basic-auth username `{email}/token`). */
    email: pulumi.Input<string>;
    /** The user's Zendesk API token. Kept a Pulumi secret; EventBridge stores it in Secrets Manager. */
    apiToken: pulumi.Input<string>;
    /** The tickets endpoint: `https://<subdomain>.zendesk.com/api/v2/tickets`. */
    endpoint: pulumi.Input<string>;
    /**
     * Most ticket requests a second (1 to 300). Default 2 (120 a minute), within every Zendesk plan's
     * 200 to 700 requests a minute; EventBridge queues and retries what exceeds it.
     */
    invocationRateLimitPerSecond?: pulumi.Input<number>;
}

/**
 * A Zendesk "create ticket" API destination: an EventBridge connection (basic auth with an API token)
 * and an API destination with a rate limit. `target` describes the rule target for EventRouting: the
 * ticket is built by an input transformer from server-set fields, never taken from the client.
 */
export class ZendeskDestination extends pulumi.ComponentResource {
    public readonly connection: aws.cloudwatch.EventConnection;
    public readonly apiDestination: aws.cloudwatch.EventApiDestination;
    public readonly apiDestinationArn: pulumi.Output<string>;
    /** The rule target for EventRouting: API destination, role permissions, ticket template, retries. */
    public readonly target: RouteTargetArgs;

    constructor(name: string, args: ZendeskDestinationArgs, opts?: pulumi.ComponentResourceOptions) {
        // Each value is checked once: a plain one before anything is created, an Output when it resolves.
        if (typeof args.endpoint === "string") parseZendeskEndpoint(args.endpoint);
        if (typeof args.email === "string") validateZendeskEmail(args.email);
        // validateZendeskRate also returns the warnings to log once the component exists.
        const rateWarnings =
            typeof args.invocationRateLimitPerSecond === "number" ? validateZendeskRate(args.invocationRateLimitPerSecond) : undefined;
        super("client-events:index:ZendeskDestination", name, {}, opts);
        const parent = { parent: this };

        const endpoint = pulumi
            .output(args.endpoint)
            .apply((url) => (typeof args.endpoint === "string" ? url : parseZendeskEndpoint(url).url));
        const username = pulumi
            .output(args.email)
            .apply((email) => zendeskUsername(typeof args.email === "string" ? email : validateZendeskEmail(email)));
        const rate = pulumi.output(args.invocationRateLimitPerSecond ?? DEFAULT_ZENDESK_RATE_PER_SECOND).apply((value) => {
            for (const warning of rateWarnings ?? validateZendeskRate(value)) pulumi.log.warn(warning, this);
            return value;
        });

        this.connection = new aws.cloudwatch.EventConnection(
            `${name}-connection`,
            {
                description: "Zendesk API token (basic auth)",
                authorizationType: "BASIC",
                authParameters: {
                    basic: {
                        username,
                        // Secret in Pulumi state even if the caller passed a plain string.
                        password: pulumi.secret(args.apiToken),
                    },
                },
            },
            { parent: this, additionalSecretOutputs: ["authParameters"] },
        );

        this.apiDestination = new aws.cloudwatch.EventApiDestination(
            `${name}-api`,
            {
                description: "Zendesk: create ticket",
                connectionArn: this.connection.arn,
                invocationEndpoint: endpoint,
                httpMethod: ZENDESK_HTTP_METHOD,
                invocationRateLimitPerSecond: rate,
            },
            parent,
        );
        this.apiDestinationArn = this.apiDestination.arn;

        const statements: pulumi.Output<PolicyStatement[]> = this.apiDestination.arn.apply((arn): PolicyStatement[] => [
            {
                Sid: "InvokeZendeskDestination",
                Effect: "Allow",
                Action: ["events:InvokeApiDestination"],
                Resource: [arn],
            },
        ]);
        this.target = {
            arn: this.apiDestination.arn,
            roleStatements: statements,
            inputTransformer: { inputPaths: TICKET_INPUT_PATHS, inputTemplate: TICKET_INPUT_TEMPLATE },
            retryPolicy: { ...ROUTES.zendesk.retryPolicy },
        };

        this.registerOutputs({
            connection: this.connection,
            apiDestination: this.apiDestination,
            apiDestinationArn: this.apiDestinationArn,
            target: this.target,
        });
    }
}
