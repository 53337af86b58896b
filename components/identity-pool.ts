import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import type { PostConfirmationTriggerEvent, PreTokenGenerationTriggerEvent } from "aws-lambda";
import { HandlerFunction } from "./handler-function";
import { createHandler as createPostConfirmationHandler } from "../handlers/post-confirmation";
import { createHandler as createPreTokenGenerationHandler } from "../handlers/pre-token-generation";
import {
    ALIAS_ATTRIBUTES,
    AUTO_VERIFIED_ATTRIBUTES,
    EXPLICIT_AUTH_FLOWS,
    PASSWORD_POLICY,
    PREVENT_USER_EXISTENCE_ERRORS,
    READ_ATTRIBUTES,
    SCHEMA_ATTRIBUTES,
    USERNAME_CASE_SENSITIVE,
    WRITE_ATTRIBUTES,
} from "../pipeline/identity";

export interface IdentityPoolArgs {
    /**
     * Cognito threat protection (advanced security): "off", "audit" or "enforced". Anything but "off"
     * puts the pool on the Plus feature plan, which costs more per user. Default "off".
     */
    threatProtection?: pulumi.Input<"off" | "audit" | "enforced">;
    /** Whether the user pool refuses deletion; set false before `pulumi destroy`. Default true. */
    deletionProtection?: pulumi.Input<boolean>;
    /** Access token validity in minutes (5..1440). Default 60. */
    accessTokenValidityMinutes?: pulumi.Input<number>;
    /** ID token validity in minutes (5..1440). Default 60. */
    idTokenValidityMinutes?: pulumi.Input<number>;
    /** Refresh token validity in days (1..3650). Default 30. */
    refreshTokenValidityDays?: pulumi.Input<number>;
    /** Retention of the trigger's log group, days. Default 30. */
    logRetentionDays?: pulumi.Input<number>;
}

/**
 * A Cognito user pool whose users each get a unique clientId (the UUID in `custom:clientId`), and the
 * app client that signs them in.
 *
 * - Sign-in with the username, or the email address as an alias; email verified automatically. These settings
 *   are plain data in pipeline/identity.ts, which local mode's Cognito enforces too.
 * - `custom:clientId`: a mutable string (the trigger writes it) that the app client may read but not write.
 * - Every user who can sign in has a clientId before the first request: the post-confirmation trigger
 *   assigns it at self sign-up; the pre-token-generation trigger at any sign-in of a user who has none
 *   (users created with AdminCreateUser, which post-confirmation never sees), and puts it in that ID token.
 * - Each trigger's role may only call AdminUpdateUserAttributes on this pool. That statement is a separate
 *   RolePolicy created after the pool, because the pool needs the functions' ARNs first.
 */
export class IdentityPool extends pulumi.ComponentResource {
    public readonly userPool: aws.cognito.UserPool;
    public readonly client: aws.cognito.UserPoolClient;
    public readonly postConfirmation: HandlerFunction<PostConfirmationTriggerEvent, PostConfirmationTriggerEvent>;
    /** The pre-token-generation trigger: assigns a missing clientId at sign-in (AdminCreateUser users). */
    public readonly preTokenGeneration: HandlerFunction<PreTokenGenerationTriggerEvent, PreTokenGenerationTriggerEvent>;
    /** Each trigger's access to the pool, as a policy document (JSON), for inspection and tests. */
    public readonly triggerPolicyDocument: pulumi.Output<string>;

    constructor(name: string, args: IdentityPoolArgs = {}, opts?: pulumi.ComponentResourceOptions) {
        super("client-events:index:IdentityPool", name, {}, opts);
        ({ postConfirmation: this.postConfirmation, preTokenGeneration: this.preTokenGeneration } = this.createTriggers(name, args));
        this.userPool = this.createUserPool(name, args);
        this.triggerPolicyDocument = this.userPool.arn.apply((arn) =>
            JSON.stringify({
                Version: "2012-10-17",
                Statement: [
                    {
                        Sid: "SetClientIdOfThisPool",
                        Effect: "Allow",
                        Action: "cognito-idp:AdminUpdateUserAttributes",
                        Resource: arn,
                    },
                ],
            }),
        );
        this.grantTriggers(name);
        this.client = this.createClient(name, args);

        this.registerOutputs({
            userPool: this.userPool,
            client: this.client,
            postConfirmation: this.postConfirmation,
            preTokenGeneration: this.preTokenGeneration,
            triggerPolicyDocument: this.triggerPolicyDocument,
        });
    }

    /** The two Cognito triggers' Lambdas (their access to the pool comes in grantTriggers, once the pool exists). */
    private createTriggers(
        name: string,
        args: IdentityPoolArgs,
    ): { postConfirmation: IdentityPool["postConfirmation"]; preTokenGeneration: IdentityPool["preTokenGeneration"] } {
        const postConfirmation = new HandlerFunction(
            `${name}-confirm`,
            {
                callbackFactory: createPostConfirmationHandler,
                description: "Cognito post-confirmation trigger: assigns each new user a unique custom:clientId",
                logRetentionDays: args.logRetentionDays,
                timeout: 5, // Cognito waits at most 5 s for a trigger
            },
            { parent: this },
        );
        const preTokenGeneration = new HandlerFunction(
            `${name}-token`,
            {
                callbackFactory: createPreTokenGenerationHandler,
                description: "Cognito pre-token-generation trigger: gives a user without a clientId one before the tokens are issued",
                logRetentionDays: args.logRetentionDays,
                timeout: 5,
            },
            { parent: this },
        );
        return { postConfirmation, preTokenGeneration };
    }

    /** The user pool: sign-in settings, the clientId attribute, deletion protection, feature plan, triggers. */
    private createUserPool(name: string, args: IdentityPoolArgs): aws.cognito.UserPool {
        const threatProtection = pulumi.output(args.threatProtection ?? "off");
        return new aws.cognito.UserPool(
            `${name}-users`,
            {
                aliasAttributes: ALIAS_ATTRIBUTES,
                autoVerifiedAttributes: AUTO_VERIFIED_ATTRIBUTES,
                usernameConfiguration: { caseSensitive: USERNAME_CASE_SENSITIVE },
                passwordPolicy: PASSWORD_POLICY,
                accountRecoverySetting: { recoveryMechanisms: [{ name: "verified_email", priority: 1 }] },
                adminCreateUserConfig: { allowAdminCreateUserOnly: false },
                schemas: SCHEMA_ATTRIBUTES,
                deletionProtection: pulumi.output(args.deletionProtection ?? true).apply((on) => (on ? "ACTIVE" : "INACTIVE")),
                // Threat protection needs the Plus plan; Essentials (the default for new pools) otherwise,
                // set explicitly so that turning threat protection off also leaves the Plus plan.
                userPoolTier: threatProtection.apply((mode) => (mode === "off" ? "ESSENTIALS" : "PLUS")),
                userPoolAddOns: {
                    advancedSecurityMode: threatProtection.apply((mode) => mode.toUpperCase()),
                },
                lambdaConfig: {
                    postConfirmation: this.postConfirmation.function.arn,
                    // Event version 1 (ID token claims) works on every feature plan; the access token needs no
                    // claim, since the authorizer reads the clientId of access tokens with GetUser.
                    preTokenGenerationConfig: { lambdaArn: this.preTokenGeneration.function.arn, lambdaVersion: "V1_0" },
                },
            },
            { parent: this },
        );
    }

    /** Each trigger may set attributes in this pool only, and only Cognito (for this pool) may invoke it. */
    private grantTriggers(name: string): void {
        for (const [suffix, trigger] of [
            ["confirm", this.postConfirmation],
            ["token", this.preTokenGeneration],
        ] as const) {
            new aws.iam.RolePolicy(
                `${name}-${suffix}-pool`,
                {
                    role: trigger.role.id,
                    policy: this.triggerPolicyDocument,
                },
                { parent: this },
            );
            new aws.lambda.Permission(
                `${name}-${suffix}-invoke`,
                {
                    action: "lambda:InvokeFunction",
                    function: trigger.function.name,
                    principal: "cognito-idp.amazonaws.com",
                    sourceArn: this.userPool.arn,
                },
                { parent: this },
            );
        }
    }

    /** The public app client (no secret) that signs users in, with its token validities. */
    private createClient(name: string, args: IdentityPoolArgs): aws.cognito.UserPoolClient {
        return new aws.cognito.UserPoolClient(
            `${name}-client`,
            {
                userPoolId: this.userPool.id,
                generateSecret: false, // public clients (browsers, apps) cannot keep a secret
                explicitAuthFlows: EXPLICIT_AUTH_FLOWS,
                readAttributes: READ_ATTRIBUTES,
                writeAttributes: WRITE_ATTRIBUTES,
                preventUserExistenceErrors: PREVENT_USER_EXISTENCE_ERRORS ? "ENABLED" : "LEGACY",
                enableTokenRevocation: true,
                accessTokenValidity: args.accessTokenValidityMinutes ?? 60,
                idTokenValidity: args.idTokenValidityMinutes ?? 60,
                refreshTokenValidity: args.refreshTokenValidityDays ?? 30,
                tokenValidityUnits: { accessToken: "minutes", idToken: "minutes", refreshToken: "days" },
            },
            { parent: this },
        );
    }
}
