import * as assert from "assert";
import { mockClient } from "aws-sdk-client-mock";
import { AdminUpdateUserAttributesCommand, CognitoIdentityProviderClient } from "@aws-sdk/client-cognito-identity-provider";
import type { PostConfirmationTriggerEvent } from "aws-lambda";
import { createPostConfirmationHandler, handler } from "../handlers/post-confirmation";
import { clientIdFor } from "../pipeline/identity";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

function trigger(triggerSource: string, attributes: Record<string, string> = {}, sub = "5f0c7a3e-0000-4000-8000-000000000001"): PostConfirmationTriggerEvent {
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
    before(() => { cognito = mockCognito(); });
    after(() => cognito.restore());
    const quiet = console.log;
    before(() => { console.log = () => undefined; });
    after(() => { console.log = quiet; });
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
        for (let i = 0; i < 20; i++) await fn(trigger("PostConfirmation_ConfirmSignUp", {}, `5f0c7a3e-0000-4000-8000-${String(i).padStart(12, "0")}`));
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

    it("fails when Cognito refuses, so Cognito retries the trigger", async () => {
        cognito.on(AdminUpdateUserAttributesCommand).rejects(Object.assign(new Error("Rate exceeded"), { name: "TooManyRequestsException" }));
        const fn = createPostConfirmationHandler(new CognitoIdentityProviderClient({ region: "us-east-1" }));
        await assert.rejects(fn(trigger("PostConfirmation_ConfirmSignUp")), /Rate exceeded/);
    });

    it("the deployed handler uses a default client", async () => {
        const saved = process.env.AWS_REGION;
        process.env.AWS_REGION = "us-east-1";
        try {
            await handler(trigger("PostConfirmation_ConfirmSignUp"));
            assert.strictEqual(cognito.commandCalls(AdminUpdateUserAttributesCommand).length, 1);
        } finally {
            if (saved === undefined) delete process.env.AWS_REGION; else process.env.AWS_REGION = saved;
        }
    });
});
