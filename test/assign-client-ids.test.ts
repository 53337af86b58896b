/**
 * `assign-client-ids`: the operators' command that gives existing users without a clientId the one the
 * triggers would give them. With aws-sdk-client-mock (paging, only the users without one, dry run,
 * failures) and as a process against local mode (signed with local mode's credentials, idempotent).
 */
import { strict as assert } from "node:assert";
import { spawn } from "node:child_process";
import * as path from "node:path";
import { mockClient } from "aws-sdk-client-mock";
import {
    AdminCreateUserCommand,
    AdminGetUserCommand,
    AdminUpdateUserAttributesCommand,
    CognitoIdentityProviderClient,
    InitiateAuthCommand,
    ListUsersCommand,
    RespondToAuthChallengeCommand,
    type UserType,
} from "@aws-sdk/client-cognito-identity-provider";
import { assignClientIds, formatAssignReport } from "../cli/assign-client-ids";
import { clientIdFor } from "../pipeline/identity";
import { signUpUser, startTestLocal, type StartedLocal } from "./support/local";

const POOL = "eu-west-1_Ops123";
const ROOT = path.resolve(__dirname, "..");

function user(name: string, attributes: Record<string, string | undefined>, status = "CONFIRMED"): UserType {
    return {
        Username: name,
        UserStatus: status as UserType["UserStatus"],
        Enabled: true,
        Attributes: Object.entries(attributes)
            .filter(([, v]) => v !== undefined)
            .map(([Name, Value]) => ({ Name, Value })),
    };
}

describe("assign-client-ids", () => {
    describe("against Cognito (aws-sdk-client-mock)", () => {
        const mockCognito = () => mockClient(CognitoIdentityProviderClient);
        let cognito: ReturnType<typeof mockCognito>;
        before(() => {
            cognito = mockCognito();
        });
        after(() => cognito.restore());
        const client = () =>
            new CognitoIdentityProviderClient({ region: "eu-west-1", credentials: { accessKeyId: "x", secretAccessKey: "y" } });

        /** 61 users with a clientId on page one, then the cases on page two. */
        function givenPool(): void {
            const page1 = Array.from({ length: 60 }, (_, i) =>
                user(`has${i}`, { sub: `s-has-${i}`, "custom:clientId": `7d5e8a40-1c1f-4f0e-9a53-${String(i).padStart(12, "0")}` }),
            );
            const page2 = [
                user("invited", { sub: "s-invited" }, "FORCE_CHANGE_PASSWORD"),
                user("imported", { sub: "s-imported", "custom:clientId": "" }, "RESET_REQUIRED"),
                user("odd", { sub: "s-odd", "custom:clientId": 'abc","x' }),
                user("nosub", {}),
            ];
            cognito
                .on(ListUsersCommand)
                .callsFake((input: { PaginationToken?: string }) =>
                    input.PaginationToken === undefined ? { Users: page1, PaginationToken: "page-2" } : { Users: page2 },
                );
            cognito.on(AdminUpdateUserAttributesCommand).resolves({});
        }

        beforeEach(() => cognito.reset());

        it("pages through ListUsers and updates only the users without a clientId, with the derived one", async () => {
            givenPool();
            const report = await assignClientIds(client(), { userPoolId: POOL });
            const lists = cognito.commandCalls(ListUsersCommand).map((c) => c.args[0].input);
            assert.deepEqual(lists, [
                { UserPoolId: POOL, Limit: 60, PaginationToken: undefined, AttributesToGet: ["sub", "custom:clientId"] },
                { UserPoolId: POOL, Limit: 60, PaginationToken: "page-2", AttributesToGet: ["sub", "custom:clientId"] },
            ]);
            const updates = cognito.commandCalls(AdminUpdateUserAttributesCommand).map((c) => c.args[0].input);
            assert.deepEqual(updates, [
                {
                    UserPoolId: POOL,
                    Username: "invited",
                    UserAttributes: [{ Name: "custom:clientId", Value: clientIdFor(POOL, "s-invited") }],
                },
                {
                    UserPoolId: POOL,
                    Username: "imported",
                    UserAttributes: [{ Name: "custom:clientId", Value: clientIdFor(POOL, "s-imported") }],
                },
            ]);
            assert.equal(report.users, 64);
            assert.equal(report.alreadySet, 60);
            assert.deepEqual(report.unusable, ["odd"], "an unusable clientId is reported, never overwritten");
            assert.deepEqual(report.failed, [{ username: "nosub", error: "ListUsers returned no sub" }]);
            const text = formatAssignReport(report);
            assert.match(text, /^user pool eu-west-1_Ops123: 64 users, 60 already have a clientId, 2 assigned, 1 failed$/m);
            assert.match(text, new RegExp(`assigned ${clientIdFor(POOL, "s-invited")} to invited \\(FORCE_CHANGE_PASSWORD\\)`));
        });

        it("--dry-run lists the same users and changes nothing", async () => {
            givenPool();
            const report = await assignClientIds(client(), { userPoolId: POOL, dryRun: true });
            assert.equal(cognito.commandCalls(AdminUpdateUserAttributesCommand).length, 0);
            assert.deepEqual(
                report.assigned.map((a) => a.username),
                ["invited", "imported"],
            );
            assert.match(formatAssignReport(report), /2 would assign, 1 failed \(dry run: nothing changed\)/);
        });

        it("a failed update is reported and the others still get theirs", async () => {
            givenPool();
            cognito
                .on(AdminUpdateUserAttributesCommand, { Username: "invited" })
                .rejects(Object.assign(new Error("Rate exceeded"), { name: "TooManyRequestsException" }));
            const report = await assignClientIds(client(), { userPoolId: POOL });
            assert.deepEqual(
                report.assigned.map((a) => a.username),
                ["imported"],
            );
            assert.deepEqual(
                report.failed.map((f) => f.error),
                ["TooManyRequestsException: Rate exceeded", "ListUsers returned no sub"],
            );
        });
    });

    describe("as a process against local mode", function () {
        this.timeout(120_000);
        let started: StartedLocal;
        let UserPoolId: string;
        before(async () => {
            started = await startTestLocal();
            UserPoolId = started.local.outputs.userPoolId;
        });
        after(() => started?.local.close());

        /** `npm run cli -- assign-client-ids ...` (async: local mode answers in this process). */
        function cli(...args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
            return new Promise((resolve) => {
                const env = { ...process.env };
                for (const key of ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"]) delete env[key];
                const child = spawn(process.execPath, ["--import", "tsx", "cli/main.ts", "assign-client-ids", ...args], { cwd: ROOT, env });
                let stdout = "";
                let stderr = "";
                child.stdout.on("data", (c) => (stdout += c));
                child.stderr.on("data", (c) => (stderr += c));
                child.on("close", (status) => resolve({ status, stdout, stderr }));
            });
        }
        const clientIdOf = async (Username: string) =>
            (await started.cognito.send(new AdminGetUserCommand({ UserPoolId, Username }))).UserAttributes?.find(
                (a) => a.Name === "custom:clientId",
            )?.Value;
        const subOf = async (Username: string) =>
            (await started.cognito.send(new AdminGetUserCommand({ UserPoolId, Username }))).UserAttributes?.find((a) => a.Name === "sub")
                ?.Value as string;

        it("assigns the missing clientIds (signed with local mode's credentials), then has nothing left to do", async () => {
            const selfSignedUp = await signUpUser(started, "selfie");
            for (const name of ["inv1", "inv2"]) {
                await started.cognito.send(
                    new AdminCreateUserCommand({
                        UserPoolId,
                        Username: name,
                        TemporaryPassword: "Temp-Passw0rd!",
                        MessageAction: "SUPPRESS",
                        UserAttributes: [{ Name: "email", Value: `${name}@example.com` }],
                    }),
                );
            }
            const flags = ["--user-pool-id", UserPoolId, "--endpoint", started.local.outputs.cognitoEndpoint, "--json"];

            const dry = await cli(...flags, "--dry-run");
            assert.equal(dry.status, 0, dry.stderr);
            assert.deepEqual(
                JSON.parse(dry.stdout).assigned.map((a: { username: string }) => a.username),
                ["inv1", "inv2"],
            );
            assert.equal(await clientIdOf("inv1"), undefined, "a dry run changes nothing");

            const run = await cli(...flags);
            assert.equal(run.status, 0, run.stderr);
            const report = JSON.parse(run.stdout);
            assert.deepEqual(
                { users: report.users, alreadySet: report.alreadySet, assigned: report.assigned.length },
                { users: 3, alreadySet: 1, assigned: 2 },
            );
            for (const name of ["inv1", "inv2"]) assert.equal(await clientIdOf(name), clientIdFor(UserPoolId, await subOf(name)));
            assert.equal(await clientIdOf("selfie"), selfSignedUp.clientId, "an existing clientId is kept");

            const again = await cli("--user-pool-id", UserPoolId, "--endpoint", started.local.outputs.cognitoEndpoint);
            assert.equal(again.status, 0, again.stderr);
            assert.match(again.stdout, /3 users, 3 already have a clientId, 0 assigned/);

            // The invited user's first sign-in keeps the assigned clientId (the trigger finds one).
            const ClientId = started.local.outputs.userPoolClientId;
            const challenge = await started.cognito.send(
                new InitiateAuthCommand({
                    ClientId,
                    AuthFlow: "USER_PASSWORD_AUTH",
                    AuthParameters: { USERNAME: "inv1", PASSWORD: "Temp-Passw0rd!" },
                }),
            );
            const tokens = await started.cognito.send(
                new RespondToAuthChallengeCommand({
                    ClientId,
                    ChallengeName: "NEW_PASSWORD_REQUIRED",
                    Session: challenge.Session,
                    ChallengeResponses: { USERNAME: "inv1", NEW_PASSWORD: "Chosen-Passw0rd!" },
                }),
            );
            const idClaims = JSON.parse(Buffer.from(tokens.AuthenticationResult!.IdToken!.split(".")[1], "base64url").toString());
            assert.equal(idClaims["custom:clientId"], await clientIdOf("inv1"));
        });

        it("names the problem and exits non-zero for a pool that does not exist", async () => {
            const res = await cli("--user-pool-id", "us-east-1_Nope", "--endpoint", started.local.outputs.cognitoEndpoint);
            assert.notEqual(res.status, 0);
            assert.match(res.stderr, /ResourceNotFoundException: User pool us-east-1_Nope does not exist/);
            assert.equal(res.stdout, "");
        });
    });
});
