/**
 * The pre-token-generation trigger gives users created by an administrator (AdminCreateUser) their clientId
 * at their first sign-in, before any token exists; and the clientId derivation every writer shares.
 */
import * as assert from "assert";
import { mockClient } from "aws-sdk-client-mock";
import { AdminUpdateUserAttributesCommand, CognitoIdentityProviderClient } from "@aws-sdk/client-cognito-identity-provider";
import type { PreTokenGenerationTriggerEvent } from "aws-lambda";
import { createPreTokenGenerationHandler } from "../handlers/pre-token-generation";
import { CLIENT_ID_NAMESPACE, clientIdFor, uuidV5 } from "../pipeline/identity";

const POOL = "us-east-1_TestPool1";
const SUB = "5f0c7a3e-0000-4000-8000-000000000001";

/** A V1 event as Cognito sends it (`claimsOverrideDetails: null`). */
function trigger(triggerSource: string, attributes: Record<string, string> = {}): PreTokenGenerationTriggerEvent {
    return {
        version: "1",
        region: "us-east-1",
        userPoolId: POOL,
        userName: "invited",
        triggerSource,
        callerContext: { awsSdkVersion: "aws-sdk-unknown-unknown", clientId: "testclient123456" },
        request: {
            userAttributes: { sub: SUB, email: "invited@example.com", "cognito:user_status": "CONFIRMED", ...attributes },
            groupConfiguration: { groupsToOverride: [], iamRolesToOverride: [] },
        },
        response: { claimsOverrideDetails: null },
    } as unknown as PreTokenGenerationTriggerEvent;
}

describe("clientId derivation (pipeline/identity.ts)", () => {
    it("is RFC 9562 UUID version 5 (checked against published vectors)", () => {
        const dns = "6ba7b810-9dad-11d1-80b4-00c04fd430c8";
        assert.strictEqual(uuidV5(dns, "python.org"), "886313e1-3b8a-5372-9b90-0c9aee199e5d"); // Python's uuid docs
        assert.strictEqual(uuidV5(dns, "www.example.com"), "2ed6657d-e927-568b-95e1-2665a8aea6a2");
    });

    it("one clientId per pool and sub: the same every time, different for another user or pool", () => {
        assert.strictEqual(clientIdFor(POOL, SUB), uuidV5(CLIENT_ID_NAMESPACE, `${POOL}/${SUB}`));
        assert.strictEqual(clientIdFor(POOL, SUB), clientIdFor(POOL, SUB));
        assert.notStrictEqual(clientIdFor(POOL, SUB), clientIdFor(POOL, "5f0c7a3e-0000-4000-8000-000000000002"));
        assert.notStrictEqual(clientIdFor(POOL, SUB), clientIdFor("us-east-1_OtherPool", SUB));
        assert.match(clientIdFor(POOL, SUB), /^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    });
});

describe("pre-token-generation trigger", () => {
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
    const fn = () => createPreTokenGenerationHandler(new CognitoIdentityProviderClient({ region: "us-east-1" }));

    for (const source of [
        "TokenGeneration_NewPasswordChallenge",
        "TokenGeneration_Authentication",
        "TokenGeneration_HostedAuth",
        "TokenGeneration_AuthenticateDevice",
        "TokenGeneration_RefreshTokens",
    ]) {
        it(`${source}: a user without a clientId gets one stored, and in this sign-in's ID token`, async () => {
            const output = await fn()(trigger(source));
            const calls = cognito.commandCalls(AdminUpdateUserAttributesCommand);
            assert.strictEqual(calls.length, 1);
            assert.deepStrictEqual(calls[0].args[0].input, {
                UserPoolId: POOL,
                Username: "invited",
                UserAttributes: [{ Name: "custom:clientId", Value: clientIdFor(POOL, SUB) }],
            });
            assert.deepStrictEqual(output.response.claimsOverrideDetails, {
                claimsToAddOrOverride: { "custom:clientId": clientIdFor(POOL, SUB) },
            });
        });
    }

    it("a user who has a clientId: no AWS call, the event unchanged (the common case costs nothing)", async () => {
        const input = trigger("TokenGeneration_Authentication", { "custom:clientId": "7d5e8a40-1c1f-4f0e-9a53-3f1d2a6b9c01" });
        const before = JSON.stringify(input);
        const output = await fn()(input);
        assert.strictEqual(output, input);
        assert.strictEqual(JSON.stringify(output), before);
        assert.strictEqual(cognito.commandCalls(AdminUpdateUserAttributesCommand).length, 0);
    });

    it("an empty clientId counts as none", async () => {
        await fn()(trigger("TokenGeneration_Authentication", { "custom:clientId": "" }));
        assert.strictEqual(cognito.commandCalls(AdminUpdateUserAttributesCommand).length, 1);
    });

    it("keeps other claim changes already in the response", async () => {
        const input = trigger("TokenGeneration_Authentication");
        input.response = { claimsOverrideDetails: { claimsToAddOrOverride: { tier: "gold" }, claimsToSuppress: ["email"] } };
        const output = await fn()(input);
        assert.deepStrictEqual(output.response.claimsOverrideDetails, {
            claimsToAddOrOverride: { tier: "gold", "custom:clientId": clientIdFor(POOL, SUB) },
            claimsToSuppress: ["email"],
        });
    });

    it("two sign-ins at once store the same clientId (no race between writers)", async () => {
        const [a, b] = await Promise.all([fn()(trigger("TokenGeneration_Authentication")), fn()(trigger("TokenGeneration_RefreshTokens"))]);
        const values = cognito.commandCalls(AdminUpdateUserAttributesCommand).map((c) => c.args[0].input.UserAttributes?.[0].Value);
        assert.deepStrictEqual(values, [clientIdFor(POOL, SUB), clientIdFor(POOL, SUB)]);
        assert.strictEqual(
            a.response.claimsOverrideDetails.claimsToAddOrOverride?.["custom:clientId"],
            b.response.claimsOverrideDetails.claimsToAddOrOverride?.["custom:clientId"],
        );
    });

    it("fails the sign-in when Cognito refuses the update (rather than issue a token that gets 403)", async () => {
        cognito
            .on(AdminUpdateUserAttributesCommand)
            .rejects(Object.assign(new Error("Rate exceeded"), { name: "TooManyRequestsException" }));
        await assert.rejects(fn()(trigger("TokenGeneration_Authentication")), /Rate exceeded/);
    });

    it("an event without sub is an error; other trigger sources are returned untouched", async () => {
        const noSub = trigger("TokenGeneration_Authentication");
        delete (noSub.request.userAttributes as Record<string, string>).sub;
        await assert.rejects(fn()(noSub), /no sub/);
        const other = trigger("PostConfirmation_ConfirmSignUp");
        assert.strictEqual(await fn()(other), other);
        assert.strictEqual(cognito.commandCalls(AdminUpdateUserAttributesCommand).length, 0);
    });
});
