/**
 * Users an administrator creates (AdminCreateUser: invited or imported) get a clientId before their first
 * request, in local mode: NEW_PASSWORD_REQUIRED at the first sign-in, then the real pre-token-generation
 * handler stores the clientId and puts it in that sign-in's ID token; both tokens publish events.
 */
import { strict as assert } from "node:assert";
import { readFileSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import {
    AdminConfirmSignUpCommand,
    AdminCreateUserCommand,
    AdminGetUserCommand,
    AdminUpdateUserAttributesCommand,
    InitiateAuthCommand,
    ListUsersCommand,
    RespondToAuthChallengeCommand,
} from "@aws-sdk/client-cognito-identity-provider";
import { clientIdFor } from "../pipeline/identity";
import { holdScrypt } from "./support/hold-scrypt";
import { archiveRecords, postEntries, signUpUser, startTestLocal, type StartedLocal } from "./support/local";

const TEMPORARY = "Temp-Passw0rd!";
const PASSWORD = "Chosen-Passw0rd!";
const ev = (n: number) => JSON.stringify({ eventType: "shopping", schemaVersion: 1, data: { itemSku: n } });

const claims = (jwt: string) => JSON.parse(Buffer.from(jwt.split(".")[1], "base64url").toString("utf8"));

async function rejectsWith(promise: Promise<unknown>, name: string, message?: RegExp): Promise<void> {
    await assert.rejects(promise, (err: Error) => {
        assert.equal(err.name, name, `${err.name}: ${err.message}`);
        if (message) assert.match(err.message, message);
        return true;
    });
}

describe("local mode: users created by an administrator", function () {
    this.timeout(60_000);
    let started: StartedLocal;
    let ClientId: string;
    let UserPoolId: string;
    const invitations = new Map<string, string>();

    before(async () => {
        started = await startTestLocal({ onInvitation: (username, password) => invitations.set(username, password) });
        ClientId = started.local.outputs.userPoolClientId;
        UserPoolId = started.local.outputs.userPoolId;
    });
    after(() => started?.local.close());

    const attributesOf = async (Username: string) => {
        const user = await started.cognito.send(new AdminGetUserCommand({ UserPoolId, Username }));
        return { status: user.UserStatus, ...Object.fromEntries((user.UserAttributes ?? []).map((a) => [a.Name, a.Value])) } as Record<
            string,
            string
        >;
    };

    /** AdminCreateUser, then the invited user's first sign-in: NEW_PASSWORD_REQUIRED answered with a new password. */
    async function firstSignIn(Username: string, extra: Record<string, string> = {}) {
        const challenge = await started.cognito.send(
            new InitiateAuthCommand({
                ClientId,
                AuthFlow: "USER_PASSWORD_AUTH",
                AuthParameters: { USERNAME: Username, PASSWORD: TEMPORARY },
            }),
        );
        assert.equal(challenge.ChallengeName, "NEW_PASSWORD_REQUIRED");
        assert.equal(challenge.AuthenticationResult, undefined, "no token before the new password");
        const answer = await started.cognito.send(
            new RespondToAuthChallengeCommand({
                ClientId,
                ChallengeName: "NEW_PASSWORD_REQUIRED",
                Session: challenge.Session,
                ChallengeResponses: { USERNAME: Username, NEW_PASSWORD: PASSWORD, ...extra },
            }),
        );
        return answer.AuthenticationResult!;
    }

    it("two sessions of one invited user answered at once: one sets the password, the other is refused", async () => {
        await started.cognito.send(
            new AdminCreateUserCommand({
                UserPoolId,
                Username: "twice",
                TemporaryPassword: TEMPORARY,
                MessageAction: "SUPPRESS",
                UserAttributes: [{ Name: "email", Value: "twice@example.com" }],
            }),
        );
        const signIn = () =>
            started.cognito.send(
                new InitiateAuthCommand({
                    ClientId,
                    AuthFlow: "USER_PASSWORD_AUTH",
                    AuthParameters: { USERNAME: "twice", PASSWORD: TEMPORARY },
                }),
            );
        const sessions = [(await signIn()).Session, (await signIn()).Session];
        // Hold the answers' scrypt calls so that both are past their checks before either hash finishes.
        const scrypt = holdScrypt();
        let answers: PromiseSettledResult<unknown>[];
        try {
            const pending = Promise.allSettled(
                sessions.map((Session, i) =>
                    started.cognito.send(
                        new RespondToAuthChallengeCommand({
                            ClientId,
                            ChallengeName: "NEW_PASSWORD_REQUIRED",
                            Session,
                            ChallengeResponses: { USERNAME: "twice", NEW_PASSWORD: `${PASSWORD}${i}` },
                        }),
                    ),
                ),
            );
            while (scrypt.held() < 2) await new Promise((resolve) => setTimeout(resolve, 5));
            scrypt.releaseAll();
            answers = await pending;
        } finally {
            scrypt.restore();
        }
        assert.deepEqual(
            answers.map((a) => a.status).sort(),
            ["fulfilled", "rejected"],
            JSON.stringify(answers.map((a) => (a.status === "rejected" ? String(a.reason) : "ok"))),
        );
        const refused = answers.find((a) => a.status === "rejected") as PromiseRejectedResult;
        assert.equal((refused.reason as Error).name, "NotAuthorizedException");
    });

    it("an invited user has no clientId until the first sign-in, which gives one to the ID token and to Cognito", async () => {
        const created = await started.cognito.send(
            new AdminCreateUserCommand({
                UserPoolId,
                Username: "ivy",
                TemporaryPassword: TEMPORARY,
                MessageAction: "SUPPRESS",
                UserAttributes: [
                    { Name: "email", Value: "ivy@example.com" },
                    { Name: "email_verified", Value: "true" },
                ],
            }),
        );
        assert.equal(created.User?.UserStatus, "FORCE_CHANGE_PASSWORD");
        const before = await attributesOf("ivy");
        assert.equal(before["custom:clientId"], undefined, "post-confirmation never ran for this user");

        const tokens = await firstSignIn("ivy");
        const after = await attributesOf("ivy");
        assert.equal(after.status, "CONFIRMED");
        const expected = clientIdFor(UserPoolId, after.sub);
        assert.equal(after["custom:clientId"], expected, "stored, so GetUser (access tokens) finds it");
        assert.equal(claims(tokens.IdToken!)["custom:clientId"], expected, "in the ID token of this very sign-in");

        // The first request with either token is accepted and archived under that clientId.
        for (const [i, token] of [tokens.IdToken!, `Bearer ${tokens.AccessToken!}`].entries()) {
            const res = await postEntries(started.local, token, [ev(i)]);
            assert.equal(res.status, 200, res.body);
        }
        await started.local.flush();
        const mine = archiveRecords(started.local).filter((r) => r.record.detail.accountNumber === expected);
        assert.equal(mine.length, 2);
    });

    it("the trigger runs at every token issuance: a user whose clientId was removed gets the same one back at the next refresh", async () => {
        const user = await signUpUser(started, "rita");
        await started.cognito.send(
            new AdminUpdateUserAttributesCommand({
                UserPoolId,
                Username: "rita",
                UserAttributes: [{ Name: "custom:clientId", Value: "" }],
            }),
        );
        assert.equal((await attributesOf("rita"))["custom:clientId"], undefined);
        const refreshed = await started.cognito.send(
            new InitiateAuthCommand({ ClientId, AuthFlow: "REFRESH_TOKEN_AUTH", AuthParameters: { REFRESH_TOKEN: user.refreshToken } }),
        );
        assert.equal(claims(refreshed.AuthenticationResult!.IdToken!)["custom:clientId"], user.clientId);
        assert.equal((await attributesOf("rita"))["custom:clientId"], user.clientId, "derived from pool and sub: the same id");
    });

    it("a user who has a clientId keeps it: the trigger changes nothing", async () => {
        await started.cognito.send(
            new AdminCreateUserCommand({
                UserPoolId,
                Username: "imported",
                TemporaryPassword: TEMPORARY,
                MessageAction: "SUPPRESS",
                UserAttributes: [
                    { Name: "email", Value: "imp@example.com" },
                    { Name: "custom:clientId", Value: "0f1e2d3c-4b5a-4697-8a8b-9c0d1e2f3a4b" },
                ],
            }),
        );
        const tokens = await firstSignIn("imported");
        assert.equal(claims(tokens.IdToken!)["custom:clientId"], "0f1e2d3c-4b5a-4697-8a8b-9c0d1e2f3a4b");
        assert.equal((await attributesOf("imported"))["custom:clientId"], "0f1e2d3c-4b5a-4697-8a8b-9c0d1e2f3a4b");
    });

    it("an invitation: a generated temporary password that meets the policy, sent as Cognito would e-mail it", async () => {
        await started.cognito.send(
            new AdminCreateUserCommand({ UserPoolId, Username: "gwen", UserAttributes: [{ Name: "email", Value: "gwen@example.com" }] }),
        );
        const temporary = invitations.get("gwen");
        assert.ok(
            temporary && temporary.length >= 8 && /[a-z]/.test(temporary) && /[A-Z]/.test(temporary) && /[^A-Za-z0-9]/.test(temporary),
            temporary,
        );
        const challenge = await started.cognito.send(
            new InitiateAuthCommand({
                ClientId,
                AuthFlow: "USER_PASSWORD_AUTH",
                AuthParameters: { USERNAME: "gwen", PASSWORD: temporary },
            }),
        );
        assert.equal(challenge.ChallengeName, "NEW_PASSWORD_REQUIRED");
        assert.deepEqual(JSON.parse(challenge.ChallengeParameters!.requiredAttributes), []);
    });

    it("a required attribute the admin left out is asked for in the challenge; the clientId cannot be written there", async () => {
        await started.cognito.send(
            new AdminCreateUserCommand({ UserPoolId, Username: "noemail", TemporaryPassword: TEMPORARY, MessageAction: "SUPPRESS" }),
        );
        const challenge = await started.cognito.send(
            new InitiateAuthCommand({
                ClientId,
                AuthFlow: "USER_PASSWORD_AUTH",
                AuthParameters: { USERNAME: "noemail", PASSWORD: TEMPORARY },
            }),
        );
        assert.deepEqual(JSON.parse(challenge.ChallengeParameters!.requiredAttributes), ["userAttributes.email"]);
        const respond = (responses: Record<string, string>) =>
            started.cognito.send(
                new RespondToAuthChallengeCommand({
                    ClientId,
                    ChallengeName: "NEW_PASSWORD_REQUIRED",
                    Session: challenge.Session,
                    ChallengeResponses: { USERNAME: "noemail", NEW_PASSWORD: PASSWORD, ...responses },
                }),
            );
        await rejectsWith(respond({}), "InvalidParameterException", /Missing required attribute email/);
        await rejectsWith(
            respond({ "userAttributes.email": "n@example.com", "userAttributes.custom:clientId": "00000000-0000-4000-8000-000000000000" }),
            "NotAuthorizedException",
            /unauthorized attribute/,
        );
        await rejectsWith(respond({ "userAttributes.email": "n@example.com", NEW_PASSWORD: "short" }), "InvalidPasswordException");
        const ok = await respond({ "userAttributes.email": "n@example.com" });
        assert.ok(ok.AuthenticationResult?.IdToken);
        await rejectsWith(respond({ "userAttributes.email": "n@example.com" }), "NotAuthorizedException", /Invalid session/);
        const stored = await attributesOf("noemail");
        assert.equal(stored.email, "n@example.com");
        assert.equal(stored["custom:clientId"], clientIdFor(UserPoolId, stored.sub));
    });

    it("refuses what Cognito refuses: a taken name, an e-mail as username, a weak temporary password, confirming an invited user", async () => {
        const create = (Username: string, extra: Record<string, unknown> = {}) =>
            started.cognito.send(
                new AdminCreateUserCommand({ UserPoolId, Username, TemporaryPassword: TEMPORARY, MessageAction: "SUPPRESS", ...extra }),
            );
        await create("taken");
        await rejectsWith(create("Taken"), "UsernameExistsException");
        await rejectsWith(create("x@example.com"), "InvalidParameterException", /email format/);
        await rejectsWith(create("weak", { TemporaryPassword: "weak" }), "InvalidPasswordException");
        await rejectsWith(create("odd", { UserAttributes: [{ Name: "custom:nope", Value: "1" }] }), "InvalidParameterException", /schema/);
        await rejectsWith(
            started.cognito.send(new AdminConfirmSignUpCommand({ UserPoolId, Username: "taken" })),
            "NotAuthorizedException",
            /FORCE_CHANGE_PASSWORD/,
        );
        await rejectsWith(
            started.cognito.send(
                new InitiateAuthCommand({
                    ClientId,
                    AuthFlow: "USER_PASSWORD_AUTH",
                    AuthParameters: { USERNAME: "taken", PASSWORD: "Wrong-Passw0rd!" },
                }),
            ),
            "NotAuthorizedException",
        );
        const resent = await create("taken", { MessageAction: "RESEND" });
        assert.equal(resent.User?.UserStatus, "FORCE_CHANGE_PASSWORD");
    });

    it("a temporary password expires after the pool's validity (7 days), also across a restart", async () => {
        await started.cognito.send(
            new AdminCreateUserCommand({ UserPoolId, Username: "late", TemporaryPassword: TEMPORARY, MessageAction: "SUPPRESS" }),
        );
        const stateFile = path.join(started.local.outputs.dataDir, "cognito", `${UserPoolId}.json`);
        const state = JSON.parse(readFileSync(stateFile, "utf8"));
        const days = (state.users.late.temporaryPasswordExpires - state.users.late.createdAt) / 86400;
        assert.equal(days, 7);
        // Eight days later, as far as the stored user is concerned.
        await started.local.close();
        state.users.late.temporaryPasswordExpires = Math.floor(Date.now() / 1000) - 86400;
        writeFileSync(stateFile, JSON.stringify(state));
        started = await startTestLocal({ dataDir: started.local.outputs.dataDir, onInvitation: (u, p) => invitations.set(u, p) });
        await rejectsWith(
            started.cognito.send(
                new InitiateAuthCommand({
                    ClientId,
                    AuthFlow: "USER_PASSWORD_AUTH",
                    AuthParameters: { USERNAME: "late", PASSWORD: TEMPORARY },
                }),
            ),
            "NotAuthorizedException",
            /Temporary password has expired and must be reset by an administrator/,
        );
    });

    it("ListUsers pages through every user, 1 to 60 at a time, with the attributes asked for", async () => {
        for (let i = 0; i < 30; i++) {
            await started.cognito.send(
                new AdminCreateUserCommand({
                    UserPoolId,
                    Username: `bulk${String(i).padStart(3, "0")}`,
                    TemporaryPassword: TEMPORARY,
                    MessageAction: "SUPPRESS",
                }),
            );
        }
        const names: string[] = [];
        let PaginationToken: string | undefined;
        let pages = 0;
        do {
            const page = await started.cognito.send(
                new ListUsersCommand({ UserPoolId, Limit: 7, PaginationToken, AttributesToGet: ["sub"] }),
            );
            for (const user of page.Users ?? []) {
                names.push(user.Username!);
                assert.deepEqual(
                    user.Attributes?.map((a) => a.Name),
                    ["sub"],
                );
            }
            PaginationToken = page.PaginationToken;
            pages++;
        } while (PaginationToken);
        assert.ok(names.filter((n) => n.startsWith("bulk")).length === 30);
        assert.equal(new Set(names).size, names.length, "no user twice");
        assert.equal(pages, Math.ceil(names.length / 7));
        await rejectsWith(started.cognito.send(new ListUsersCommand({ UserPoolId, Limit: 61 })), "InvalidParameterException");
        await rejectsWith(
            started.cognito.send(new ListUsersCommand({ UserPoolId, PaginationToken: "bm9ib2R5" })),
            "InvalidParameterException",
            /pagination token/,
        );
    });
});
