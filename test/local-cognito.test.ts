/** Local Cognito through @aws-sdk/client-cognito-identity-provider: the operations clients use, and the tokens. */
import { strict as assert } from "node:assert";
import {
    AdminConfirmSignUpCommand,
    AdminGetUserCommand,
    ConfirmSignUpCommand,
    GetUserCommand,
    InitiateAuthCommand,
    SignUpCommand,
    UpdateUserAttributesCommand,
} from "@aws-sdk/client-cognito-identity-provider";
import { CognitoJwtVerifier } from "aws-jwt-verify";
import type { Jwks } from "aws-jwt-verify/jwk";
import { startTestLocal, signUpUser, postEntries, type StartedLocal } from "./support/local";

import { holdScrypt } from "./support/hold-scrypt";

async function rejectsWith(promise: Promise<unknown>, name: string, message?: RegExp): Promise<void> {
    await assert.rejects(promise, (err: Error) => {
        assert.equal(err.name, name, `${err.name}: ${err.message}`);
        if (message) assert.match(err.message, message);
        return true;
    });
}

describe("local mode Cognito", function () {
    this.timeout(30_000);
    let started: StartedLocal;
    let ClientId: string;
    let UserPoolId: string;

    before(async () => {
        started = await startTestLocal();
        ClientId = started.local.outputs.userPoolClientId;
        UserPoolId = started.local.outputs.userPoolId;
    });
    after(() => started?.local.close());

    it("enforces the deployed password policy and the app client's write attributes on sign-up", async () => {
        const { cognito } = started;
        const attrs = [{ Name: "email", Value: "p@example.com" }];
        await rejectsWith(
            cognito.send(new SignUpCommand({ ClientId, Username: "p1", Password: "Sh0rt!", UserAttributes: attrs })),
            "InvalidPasswordException",
            /not long enough/,
        );
        await rejectsWith(
            cognito.send(new SignUpCommand({ ClientId, Username: "p1", Password: "alllowercase!", UserAttributes: attrs })),
            "InvalidPasswordException",
            /uppercase/,
        );
        await rejectsWith(
            cognito.send(new SignUpCommand({ ClientId, Username: "p1", Password: "NoSymbols123", UserAttributes: attrs })),
            "InvalidPasswordException",
            /symbol/,
        );
        await rejectsWith(
            cognito.send(
                new SignUpCommand({
                    ClientId,
                    Username: "p1",
                    Password: "Good-Passw0rd",
                    UserAttributes: [...attrs, { Name: "custom:clientId", Value: "someone-else" }],
                }),
            ),
            "NotAuthorizedException",
            /unauthorized attribute/,
        );
        await rejectsWith(
            cognito.send(new SignUpCommand({ ClientId: "wrongclient", Username: "p1", Password: "Good-Passw0rd", UserAttributes: attrs })),
            "ResourceNotFoundException",
        );
        await rejectsWith(
            cognito.send(new SignUpCommand({ ClientId, Username: "p@example.com", Password: "Good-Passw0rd", UserAttributes: attrs })),
            "InvalidParameterException",
            /email format/,
        );
    });

    it("confirms with the code, runs the post-confirmation trigger, and refuses wrong codes and duplicate names", async () => {
        const { cognito, codes } = started;
        await cognito.send(
            new SignUpCommand({
                ClientId,
                Username: "Bob",
                Password: "Good-Passw0rd",
                UserAttributes: [{ Name: "email", Value: "bob@example.com" }],
            }),
        );
        await rejectsWith(
            cognito.send(
                new SignUpCommand({
                    ClientId,
                    Username: "bob",
                    Password: "Good-Passw0rd",
                    UserAttributes: [{ Name: "email", Value: "b2@example.com" }],
                }),
            ),
            "UsernameExistsException",
        );
        await rejectsWith(
            cognito.send(
                new InitiateAuthCommand({
                    ClientId,
                    AuthFlow: "USER_PASSWORD_AUTH",
                    AuthParameters: { USERNAME: "bob", PASSWORD: "Good-Passw0rd" },
                }),
            ),
            "UserNotConfirmedException",
        );
        const code = codes.get("bob")!;
        assert.match(code, /^\d{6}$/);
        const wrong = code === "000000" ? "111111" : "000000";
        await rejectsWith(
            cognito.send(new ConfirmSignUpCommand({ ClientId, Username: "bob", ConfirmationCode: wrong })),
            "CodeMismatchException",
        );
        await cognito.send(new ConfirmSignUpCommand({ ClientId, Username: "bob", ConfirmationCode: code }));
        const user = await cognito.send(new AdminGetUserCommand({ UserPoolId, Username: "bob" }));
        assert.equal(user.UserStatus, "CONFIRMED");
        const attributes = Object.fromEntries((user.UserAttributes ?? []).map((a) => [a.Name, a.Value]));
        assert.equal(attributes.email_verified, "true");
        assert.match(attributes["custom:clientId"] ?? "", /^[0-9a-f-]{36}$/);
        assert.ok(user.UserCreateDate instanceof Date);
        // Signing in with the verified e-mail alias works; a wrong password does not.
        const byEmail = await cognito.send(
            new InitiateAuthCommand({
                ClientId,
                AuthFlow: "USER_PASSWORD_AUTH",
                AuthParameters: { USERNAME: "bob@example.com", PASSWORD: "Good-Passw0rd" },
            }),
        );
        assert.ok(byEmail.AuthenticationResult?.AccessToken);
        await rejectsWith(
            cognito.send(
                new InitiateAuthCommand({
                    ClientId,
                    AuthFlow: "USER_PASSWORD_AUTH",
                    AuthParameters: { USERNAME: "bob", PASSWORD: "Wrong-Passw0rd" },
                }),
            ),
            "NotAuthorizedException",
            /Incorrect username or password/,
        );
        await rejectsWith(
            cognito.send(
                new InitiateAuthCommand({
                    ClientId,
                    AuthFlow: "USER_PASSWORD_AUTH",
                    AuthParameters: { USERNAME: "nobody", PASSWORD: "Good-Passw0rd" },
                }),
            ),
            "NotAuthorizedException",
        );
    });

    it("AdminConfirmSignUp runs the trigger too", async () => {
        const { cognito } = started;
        await cognito.send(
            new SignUpCommand({
                ClientId,
                Username: "carol",
                Password: "Good-Passw0rd",
                UserAttributes: [{ Name: "email", Value: "carol@example.com" }],
            }),
        );
        await cognito.send(new AdminConfirmSignUpCommand({ UserPoolId, Username: "carol" }));
        const user = await cognito.send(new AdminGetUserCommand({ UserPoolId, Username: "carol" }));
        assert.ok(user.UserAttributes?.some((a) => a.Name === "custom:clientId" && a.Value));
    });

    it("issues RS256 tokens with Cognito's claims that aws-jwt-verify accepts with the served JWKS", async () => {
        const user = await signUpUser(started, "dave");
        const { outputs } = started.local;
        const jwks = (await (await fetch(`${outputs.cognitoEndpoint}/${outputs.userPoolId}/.well-known/jwks.json`)).json()) as Jwks;
        const access = CognitoJwtVerifier.create({
            userPoolId: outputs.userPoolId,
            clientId: outputs.userPoolClientId,
            tokenUse: "access",
        });
        access.cacheJwks(jwks);
        const a = await access.verify(user.accessToken);
        assert.equal(a.iss, `https://cognito-idp.${outputs.region}.amazonaws.com/${outputs.userPoolId}`);
        assert.equal(a.client_id, outputs.userPoolClientId);
        assert.equal(a.scope, "aws.cognito.signin.user.admin");
        assert.equal(a.username, "dave");
        for (const claim of ["sub", "auth_time", "exp", "iat", "jti"]) assert.ok(claim in a, claim);
        assert.equal(a.exp - a.iat, 3600);
        const id = CognitoJwtVerifier.create({ userPoolId: outputs.userPoolId, clientId: outputs.userPoolClientId, tokenUse: "id" });
        id.cacheJwks(jwks);
        const i = await id.verify(user.idToken);
        assert.equal(i.aud, outputs.userPoolClientId);
        assert.equal(i["cognito:username"], "dave");
        assert.equal(i["custom:clientId"], user.clientId);
        assert.equal(i.email, "dave@example.com");
        assert.equal(i.email_verified, true);
        assert.equal(i.sub, a.sub);
        const header = JSON.parse(Buffer.from(user.idToken.split(".")[0], "base64url").toString());
        assert.equal(header.alg, "RS256");
        assert.equal(header.kid, jwks.keys[0].kid);
    });

    it("refreshes tokens, answers GetUser, and refuses writing custom:clientId like the deployed app client", async () => {
        const { cognito } = started;
        const user = await signUpUser(started, "erin");
        const refreshed = await cognito.send(
            new InitiateAuthCommand({ ClientId, AuthFlow: "REFRESH_TOKEN_AUTH", AuthParameters: { REFRESH_TOKEN: user.refreshToken } }),
        );
        assert.ok(refreshed.AuthenticationResult?.AccessToken);
        assert.equal(refreshed.AuthenticationResult?.RefreshToken, undefined);
        await rejectsWith(
            cognito.send(
                new InitiateAuthCommand({ ClientId, AuthFlow: "REFRESH_TOKEN_AUTH", AuthParameters: { REFRESH_TOKEN: "forged" } }),
            ),
            "NotAuthorizedException",
        );

        const me = await cognito.send(new GetUserCommand({ AccessToken: refreshed.AuthenticationResult!.AccessToken }));
        assert.equal(me.Username, "erin");
        assert.ok(me.UserAttributes?.some((a) => a.Name === "custom:clientId" && a.Value === user.clientId));

        await rejectsWith(
            cognito.send(
                new UpdateUserAttributesCommand({
                    AccessToken: user.accessToken,
                    UserAttributes: [{ Name: "custom:clientId", Value: "00000000-0000-4000-8000-000000000000" }],
                }),
            ),
            "NotAuthorizedException",
            /unauthorized attribute/,
        );
        await rejectsWith(
            cognito.send(
                new UpdateUserAttributesCommand({
                    AccessToken: user.accessToken,
                    UserAttributes: [{ Name: "preferred_username", Value: "erin-p" }],
                }),
            ),
            "NotAuthorizedException",
            /unauthorized attribute/,
        );
        await cognito.send(
            new UpdateUserAttributesCommand({
                AccessToken: user.accessToken,
                UserAttributes: [{ Name: "email", Value: "erin2@example.com" }],
            }),
        );
        const after = await cognito.send(new AdminGetUserCommand({ UserPoolId, Username: "erin" }));
        const attrs = Object.fromEntries((after.UserAttributes ?? []).map((x) => [x.Name, x.Value]));
        assert.equal(attrs.email, "erin2@example.com");
        assert.equal(attrs.email_verified, "false", "a changed e-mail is unverified until confirmed");
        assert.equal(attrs["custom:clientId"], user.clientId);

        const expired = started.local.cognito.issueTokens("erin", Math.floor(Date.now() / 1000) - 7200);
        await rejectsWith(cognito.send(new GetUserCommand({ AccessToken: expired.AccessToken })), "NotAuthorizedException", /expired/);
        await rejectsWith(cognito.send(new GetUserCommand({ AccessToken: "a.b.c" })), "NotAuthorizedException");
    });

    it("keeps users and the signing key across a restart on the same data directory", async () => {
        const user = await signUpUser(started, "frank");
        const dataDir = started.local.outputs.dataDir;
        await started.local.close();
        started = await startTestLocal({ dataDir });
        const res = await postEntries(started.local, user.accessToken, [
            JSON.stringify({ eventType: "shopping", schemaVersion: 1, data: {} }),
        ]);
        assert.equal(res.status, 200, res.body);
        const auth = await started.cognito.send(
            new InitiateAuthCommand({
                ClientId,
                AuthFlow: "USER_PASSWORD_AUTH",
                AuthParameters: { USERNAME: "frank", PASSWORD: user.password },
            }),
        );
        assert.ok(auth.AuthenticationResult?.IdToken);
    });

    it("hashes a password off the thread that answers requests: PutEvents is answered while a sign-in's scrypt is held", async () => {
        const user = await signUpUser(started);
        // Hold every scrypt callback until released.
        const scrypt = holdScrypt();
        try {
            const signIn = started.cognito.send(
                new InitiateAuthCommand({
                    ClientId,
                    AuthFlow: "USER_PASSWORD_AUTH",
                    AuthParameters: { USERNAME: user.username, PASSWORD: user.password },
                }),
            );
            const settled = signIn.then(
                () => "settled",
                () => "settled",
            );
            const tick = () => new Promise<string>((resolve) => setTimeout(() => resolve("waiting"), 5));
            while (scrypt.held() === 0 && (await Promise.race([settled, tick()])) === "waiting");
            assert.ok(scrypt.held() > 0, "the sign-in finished without an asynchronous scrypt: it hashed on the request thread");
            const event = JSON.stringify({ eventType: "shopping", schemaVersion: 1, data: { itemSku: 1 } });
            const posted = await postEntries(started.local, user.idToken, [event]);
            assert.equal(posted.status, 200, posted.body);
            scrypt.releaseAll();
            const auth = await signIn;
            assert.ok(auth.AuthenticationResult?.IdToken, "the sign-in finishes once its hash is released");
        } finally {
            scrypt.restore();
        }
    });
});
