/**
 * One source of truth for the identity settings: the IdentityPool component deploys exactly
 * pipeline/identity.ts, and local mode's Cognito behaves as those values say (checked through its API).
 */
import * as assert from "node:assert/strict";
import { oneOf, valueOf } from "./support/pulumi-mocks";
import { IdentityPool } from "../components/identity-pool";
import * as identity from "../pipeline/identity";
import { startTestLocal } from "./support/local";
import {
    ConfirmSignUpCommand,
    GetUserCommand,
    InitiateAuthCommand,
    SignUpCommand,
    UpdateUserAttributesCommand,
} from "@aws-sdk/client-cognito-identity-provider";

describe("identity settings: deployed and local from pipeline/identity.ts", () => {
    const prefix = "identity-settings";

    it("the component deploys them", async () => {
        const pool = new IdentityPool(prefix, {});
        await valueOf(pool.client.id);
        const up = await oneOf(prefix, "aws:cognito/userPool:UserPool");
        assert.deepEqual(up.inputs.aliasAttributes, identity.ALIAS_ATTRIBUTES);
        assert.deepEqual(up.inputs.autoVerifiedAttributes, identity.AUTO_VERIFIED_ATTRIBUTES);
        assert.deepEqual(up.inputs.usernameConfiguration, { caseSensitive: identity.USERNAME_CASE_SENSITIVE });
        assert.deepEqual(up.inputs.passwordPolicy, identity.PASSWORD_POLICY);
        assert.deepEqual(up.inputs.schemas, identity.SCHEMA_ATTRIBUTES);
        const client = await oneOf(prefix, "aws:cognito/userPoolClient:UserPoolClient");
        assert.deepEqual(client.inputs.explicitAuthFlows, identity.EXPLICIT_AUTH_FLOWS);
        assert.deepEqual(client.inputs.readAttributes, identity.READ_ATTRIBUTES);
        assert.deepEqual(client.inputs.writeAttributes, identity.WRITE_ATTRIBUTES);
        assert.equal(client.inputs.preventUserExistenceErrors, identity.PREVENT_USER_EXISTENCE_ERRORS ? "ENABLED" : "LEGACY");
    });

    it("local mode's Cognito behaves as they say, through its Cognito API", async () => {
        const { local, cognito, codes } = await startTestLocal();
        const ClientId = local.outputs.userPoolClientId;
        const rejects = (promise: Promise<unknown>, name: string) =>
            assert.rejects(promise, (err: Error) => err.name === name || assert.fail(`${err.name}: ${err.message}`));
        const signUp = (Username: string, Password: string, extra: Array<{ Name: string; Value: string }> = []) =>
            cognito.send(
                new SignUpCommand({
                    ClientId,
                    Username,
                    Password,
                    UserAttributes: [{ Name: "email", Value: `${Username.toLowerCase()}@example.com` }, ...extra],
                }),
            );
        const signIn = (USERNAME: string, PASSWORD: string) =>
            cognito.send(new InitiateAuthCommand({ ClientId, AuthFlow: "USER_PASSWORD_AUTH", AuthParameters: { USERNAME, PASSWORD } }));
        try {
            // The password policy: a password meeting every rule passes; breaking one rule at a time fails.
            const policy = identity.PASSWORD_POLICY;
            const good = "Aa!" + "b".repeat(policy.minimumLength - 3);
            const broken: string[] = [good.slice(0, policy.minimumLength - 1)];
            if (policy.requireUppercase) broken.push(good.toLowerCase());
            if (policy.requireLowercase) broken.push(good.toUpperCase());
            if (policy.requireSymbols) broken.push(good.replace("!", "c"));
            if (policy.requireNumbers) broken.push(good);
            for (const password of broken) await rejects(signUp("PolicyUser", password), "InvalidPasswordException");
            // Custom attributes outside the write attributes cannot be set at sign-up.
            for (const name of identity.READ_ATTRIBUTES.filter((a) => a.startsWith("custom:") && !identity.WRITE_ATTRIBUTES.includes(a))) {
                await rejects(signUp("PolicyUser", good, [{ Name: name, Value: "x" }]), "NotAuthorizedException");
            }
            await signUp("Carol", good);
            // Case-insensitive usernames: "CAROL" is the same user.
            if (!identity.USERNAME_CASE_SENSITIVE) await rejects(signUp("CAROL", good), "UsernameExistsException");
            const code = codes.get("carol");
            assert.ok(code, "a confirmation code was sent");
            await cognito.send(new ConfirmSignUpCommand({ ClientId, Username: "carol", ConfirmationCode: code }));
            // The auto-verified e-mail address is verified on confirmation, and signs the user in as an alias.
            const tokens = (await signIn("carol@example.com", good)).AuthenticationResult;
            assert.ok(tokens?.AccessToken, "signed in with the e-mail alias");
            assert.ok((await signIn("Carol", good)).AuthenticationResult, "signed in with another letter case");
            // The app client reads exactly the read attributes (and sub); it writes only the write attributes.
            const user = await cognito.send(new GetUserCommand({ AccessToken: tokens.AccessToken }));
            const names = (user.UserAttributes ?? []).map((a) => a.Name ?? "").filter((n) => n !== "sub");
            assert.deepEqual(names.sort(), [...identity.READ_ATTRIBUTES].sort());
            assert.equal(user.UserAttributes?.find((a) => a.Name === "email_verified")?.Value, "true");
            await rejects(
                cognito.send(
                    new UpdateUserAttributesCommand({
                        AccessToken: tokens.AccessToken,
                        UserAttributes: [{ Name: identity.CLIENT_ID_ATTRIBUTE, Value: "someone-else" }],
                    }),
                ),
                "NotAuthorizedException",
            );
            // No account enumeration: an unknown user and a wrong password get the same answer.
            if (identity.PREVENT_USER_EXISTENCE_ERRORS) {
                await rejects(signIn("nobody", good), "NotAuthorizedException");
                await rejects(signIn("carol", good + "x"), "NotAuthorizedException");
            }
            // Only the allowed auth flows: the refresh flow works, a flow the client does not allow does not.
            assert.ok(identity.EXPLICIT_AUTH_FLOWS.includes("ALLOW_REFRESH_TOKEN_AUTH"));
            const refreshed = await cognito.send(
                new InitiateAuthCommand({
                    ClientId,
                    AuthFlow: "REFRESH_TOKEN_AUTH",
                    AuthParameters: { REFRESH_TOKEN: tokens.RefreshToken ?? "" },
                }),
            );
            assert.ok(refreshed.AuthenticationResult?.AccessToken);
            assert.ok(!identity.EXPLICIT_AUTH_FLOWS.includes("ALLOW_CUSTOM_AUTH"));
            await assert.rejects(
                cognito.send(new InitiateAuthCommand({ ClientId, AuthFlow: "CUSTOM_AUTH", AuthParameters: { USERNAME: "carol" } })),
            );
        } finally {
            await local.close();
        }
    });
});
