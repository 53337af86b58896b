/**
 * The AWS CLI examples of docs/local-mode.md against local mode: the CLI (botocore, which signs other headers than the
 * JavaScript SDK) signs the admin calls with the credentials local mode publishes in outputs.json, and the
 * old `AWS_ACCESS_KEY_ID=local` is refused as AWS refuses an unknown key. Needs the `aws` CLI (.ci/run
 * installs Debian's awscli); without it the test says so and skips.
 */
import { strict as assert } from "node:assert";
import { execFile, spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { startTestLocal, type StartedLocal } from "./support/local";
import { requireTool } from "./support/tools";

const available = !spawnSync("aws", ["--version"], { encoding: "utf8" }).error;

describe("local mode with the AWS CLI (docs/local-mode.md's examples)", function () {
    this.timeout(120_000);
    let started: StartedLocal;
    let env: NodeJS.ProcessEnv;

    before(async function () {
        requireTool(this, "the aws CLI (Debian's awscli, which runs docs/local-mode.md's examples)", available);
        started = await startTestLocal();
        // What docs/local-mode.md does: export the published credentials from outputs.json.
        const published = JSON.parse(readFileSync(path.join(started.local.outputs.dataDir, "outputs.json"), "utf8"));
        env = {
            ...process.env,
            AWS_ACCESS_KEY_ID: published.credentials.accessKeyId,
            AWS_SECRET_ACCESS_KEY: published.credentials.secretAccessKey,
            AWS_REGION: published.region,
            AWS_DEFAULT_REGION: published.region,
            AWS_PAGER: "",
            AWS_CONFIG_FILE: "/dev/null",
            AWS_SHARED_CREDENTIALS_FILE: "/dev/null",
        };
        delete env.AWS_SESSION_TOKEN;
        delete env.AWS_PROFILE;
    });
    after(() => started?.local.close());

    function aws(args: string[], extraEnv: NodeJS.ProcessEnv = {}): Promise<{ code: number; stdout: string; stderr: string }> {
        return new Promise((resolve) => {
            execFile(
                "aws",
                ["cognito-idp", ...args, "--endpoint-url", started.local.outputs.cognitoEndpoint, "--output", "json"],
                { env: { ...env, ...extraEnv } },
                (err, stdout, stderr) => resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
            );
        });
    }

    it("signs up, confirms, signs in, reads the clientId with admin-get-user and lists users", async () => {
        const { userPoolClientId: client, userPoolId: pool } = started.local.outputs;
        assert.equal(
            (
                await aws([
                    "sign-up",
                    "--client-id",
                    client,
                    "--username",
                    "bob",
                    "--password",
                    "Corr3ct-horse!",
                    "--user-attributes",
                    "Name=email,Value=bob@example.com",
                ])
            ).code,
            0,
        );
        const code = started.codes.get("bob")!;
        const confirm = await aws(["confirm-sign-up", "--client-id", client, "--username", "bob", "--confirmation-code", code]);
        assert.equal(confirm.code, 0, confirm.stderr);
        const auth = await aws([
            "initiate-auth",
            "--client-id",
            client,
            "--auth-flow",
            "USER_PASSWORD_AUTH",
            "--auth-parameters",
            "USERNAME=bob,PASSWORD=Corr3ct-horse!",
        ]);
        assert.equal(auth.code, 0, auth.stderr);
        assert.ok(JSON.parse(auth.stdout).AuthenticationResult.IdToken);
        const user = await aws(["admin-get-user", "--user-pool-id", pool, "--username", "bob"]);
        assert.equal(user.code, 0, user.stderr);
        assert.match(
            JSON.parse(user.stdout).UserAttributes.find((a: { Name: string }) => a.Name === "custom:clientId").Value,
            /^[0-9a-f-]{36}$/,
        );
        const list = await aws(["list-users", "--user-pool-id", pool]);
        assert.equal(list.code, 0, list.stderr);
        assert.deepEqual(
            JSON.parse(list.stdout).Users.map((u: { Username: string }) => u.Username),
            ["bob"],
        );
    });

    it("the old AWS_ACCESS_KEY_ID=local is refused: UnrecognizedClientException", async () => {
        const res = await aws(["admin-get-user", "--user-pool-id", started.local.outputs.userPoolId, "--username", "bob"], {
            AWS_ACCESS_KEY_ID: "local",
            AWS_SECRET_ACCESS_KEY: "local",
        });
        assert.notEqual(res.code, 0);
        assert.match(res.stderr, /UnrecognizedClientException.*The security token included in the request is invalid/);
    });
});
