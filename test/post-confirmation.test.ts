import * as assert from "assert";
import { mockClient } from "aws-sdk-client-mock";
import {
    AdminGetUserCommand,
    AdminUpdateUserAttributesCommand,
    CognitoIdentityProviderClient,
    SignUpCommand,
} from "@aws-sdk/client-cognito-identity-provider";
import type { PostConfirmationTriggerEvent } from "aws-lambda";
import { createPostConfirmationHandler, handler } from "../handlers/post-confirmation";
import { startTestLocal, type StartedLocal } from "./support/local";
import { clientIdFor } from "../pipeline/identity";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

function trigger(
    triggerSource: string,
    attributes: Record<string, string> = {},
    sub = "5f0c7a3e-0000-4000-8000-000000000001",
): PostConfirmationTriggerEvent {
    return {
        version: "1",
        region: "us-east-1",
        userPoolId: "us-east-1_TestPool1",
        userName: "alice",
        triggerSource,
        callerContext: { awsSdkVersion: "aws-sdk-unknown-unknown", clientId: "testclient123456" },
        request: { userAttributes: { sub, email: "alice@example.com", ...attributes } },
        response: {},
    } as PostConfirmationTriggerEvent;
}

describe("post-confirmation trigger", () => {
    // Created in before() and restored in after(), so the class-wide mock does not leak into other files.
    const mockCognito = () => mockClient(CognitoIdentityProviderClient);
    let cognito: ReturnType<typeof mockCognito>;
    before(() => {
        cognito = mockCognito();
    });
    after(() => cognito.restore());
    const quiet = console.log;
    before(() => {
        console.log = () => undefined;
    });
    after(() => {
        console.log = quiet;
    });
    beforeEach(() => {
        cognito.reset();
        cognito.on(AdminUpdateUserAttributesCommand).resolves({});
    });

    it("gives a newly confirmed user its UUID clientId (derived from pool and sub), on this pool and user, and returns the event", async () => {
        const fn = createPostConfirmationHandler(new CognitoIdentityProviderClient({ region: "us-east-1" }));
        const input = trigger("PostConfirmation_ConfirmSignUp");
        const output = await fn(input);
        assert.strictEqual(output, input, "Cognito needs the event back");
        const calls = cognito.commandCalls(AdminUpdateUserAttributesCommand);
        assert.strictEqual(calls.length, 1);
        const request = calls[0].args[0].input;
        assert.strictEqual(request.UserPoolId, "us-east-1_TestPool1");
        assert.strictEqual(request.Username, "alice");
        assert.strictEqual(request.UserAttributes?.length, 1);
        assert.strictEqual(request.UserAttributes?.[0].Name, "custom:clientId");
        assert.match(request.UserAttributes?.[0].Value ?? "", UUID);
        assert.strictEqual(request.UserAttributes?.[0].Value, clientIdFor("us-east-1_TestPool1", "5f0c7a3e-0000-4000-8000-000000000001"));
    });

    it("gives different users different clientIds", async () => {
        const fn = createPostConfirmationHandler(new CognitoIdentityProviderClient({ region: "us-east-1" }));
        for (let i = 0; i < 20; i++)
            await fn(trigger("PostConfirmation_ConfirmSignUp", {}, `5f0c7a3e-0000-4000-8000-${String(i).padStart(12, "0")}`));
        const ids = cognito.commandCalls(AdminUpdateUserAttributesCommand).map((c) => c.args[0].input.UserAttributes?.[0].Value);
        assert.strictEqual(new Set(ids).size, 20);
    });

    it("does nothing for a forgot-password confirmation (the clientId must never change)", async () => {
        const fn = createPostConfirmationHandler(new CognitoIdentityProviderClient({ region: "us-east-1" }));
        await fn(trigger("PostConfirmation_ConfirmForgotPassword"));
        await fn(trigger("PostConfirmation_ConfirmForgotPassword", { "custom:clientId": "existing" }));
        assert.strictEqual(cognito.commandCalls(AdminUpdateUserAttributesCommand).length, 0);
    });

    it("does nothing for unknown trigger sources", async () => {
        const fn = createPostConfirmationHandler(new CognitoIdentityProviderClient({ region: "us-east-1" }));
        await fn(trigger("PreSignUp_SignUp"));
        await fn(trigger(""));
        assert.strictEqual(cognito.commandCalls(AdminUpdateUserAttributesCommand).length, 0);
    });

    it("is idempotent: a retry for a user who already has a clientId keeps it", async () => {
        const fn = createPostConfirmationHandler(new CognitoIdentityProviderClient({ region: "us-east-1" }));
        await fn(trigger("PostConfirmation_ConfirmSignUp", { "custom:clientId": "7d5e8a40-1c1f-4f0e-9a53-3f1d2a6b9c01" }));
        assert.strictEqual(cognito.commandCalls(AdminUpdateUserAttributesCommand).length, 0);
    });

    it("treats an empty clientId as none", async () => {
        const fn = createPostConfirmationHandler(new CognitoIdentityProviderClient({ region: "us-east-1" }), () => "fixed-id");
        await fn(trigger("PostConfirmation_ConfirmSignUp", { "custom:clientId": "" }));
        assert.strictEqual(cognito.commandCalls(AdminUpdateUserAttributesCommand)[0].args[0].input.UserAttributes?.[0].Value, "fixed-id");
    });
});

describe("post-confirmation trigger against local mode's Cognito (real SDK, real HTTP)", function () {
    this.timeout(30_000);
    let started: StartedLocal;
    let UserPoolId: string;
    const quiet = console.log;
    before(async () => {
        started = await startTestLocal();
        UserPoolId = started.local.outputs.userPoolId;
        console.log = () => undefined;
    });
    after(async () => {
        console.log = quiet;
        await started?.local.close();
    });

    /** A signed-up user without a clientId yet (local mode runs the trigger only on confirmation). */
    async function unconfirmedUser(name: string): Promise<void> {
        await started.cognito.send(
            new SignUpCommand({
                ClientId: started.local.outputs.userPoolClientId,
                Username: name,
                Password: "Correct-Horse1",
                UserAttributes: [{ Name: "email", Value: `${name}@example.com` }],
            }),
        );
    }
    const clientIdOf = async (name: string) =>
        (await started.cognito.send(new AdminGetUserCommand({ UserPoolId, Username: name }))).UserAttributes?.find(
            (a) => a.Name === "custom:clientId",
        )?.Value;
    const event = (userName: string, poolId = UserPoolId) => ({
        ...trigger("PostConfirmation_ConfirmSignUp"),
        userPoolId: poolId,
        userName,
    });

    it("writes the clientId through Cognito's API", async () => {
        await unconfirmedUser("dora");
        assert.strictEqual(await clientIdOf("dora"), undefined);
        await createPostConfirmationHandler(started.cognito)(event("dora"));
        assert.match((await clientIdOf("dora")) ?? "", UUID);
    });

    it("fails when Cognito refuses, so Cognito retries the trigger", async () => {
        const fn = createPostConfirmationHandler(started.cognito);
        await assert.rejects(fn(event("nobody")), (err: Error) => err.name === "UserNotFoundException");
        await assert.rejects(
            fn(event("dora", `${started.local.outputs.region}_OtherPool`)),
            (err: Error) => err.name === "ResourceNotFoundException",
        );
    });

    it("the deployed handler's default client takes its region, credentials and endpoint from the environment", async () => {
        await unconfirmedUser("erin");
        const keys = ["AWS_REGION", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER"];
        const saved = Object.fromEntries(keys.map((k) => [k, process.env[k]]));
        Object.assign(process.env, {
            // Local mode checks the SigV4 signature of Admin* calls against its own credentials, as AWS checks IAM.
            AWS_REGION: started.local.outputs.region,
            AWS_ACCESS_KEY_ID: started.local.credentials.accessKeyId,
            AWS_SECRET_ACCESS_KEY: started.local.credentials.secretAccessKey,
            AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER: started.local.outputs.cognitoEndpoint,
        });
        try {
            await handler(event("erin"));
        } finally {
            for (const k of keys)
                if (saved[k] === undefined) delete process.env[k];
                else process.env[k] = saved[k];
        }
        assert.match((await clientIdOf("erin")) ?? "", UUID);
    });
});
