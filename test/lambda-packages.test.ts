/**
 * The Lambda packages as Pulumi builds them (CallbackFunction's code archive under mocks): which files
 * each holds, how big it is, and that the packed code runs. Serialization bugs (a class field dropped, a
 * Set turned into a plain object) only show when the serialized text is executed, so it is.
 */
import * as assert from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { builtinModules } from "module";
import { AdminGetUserCommand, CognitoIdentityProviderClient, InitiateAuthCommand, SignUpCommand } from "@aws-sdk/client-cognito-identity-provider";
import { valueOf } from "./support/pulumi-mocks";
import { packageOf } from "./support/lambda-package";
import { startCognitoProxy, type CognitoProxy } from "./support/cognito-proxy";
import { signUpUser, startTestLocal, type StartedLocal } from "./support/local";
import { IdentityPool } from "../components/identity-pool";
import { IngestApi } from "../components/ingest-api";
import { createAuthorizer, createHandler as createAuthorizerHandler } from "../handlers/authorizer";
import { createHandler as createPostConfirmationEntry, createPostConfirmationHandler } from "../handlers/post-confirmation";

const ROOT = path.resolve(__dirname, "..");
const manifest = JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8")) as { devDependencies: Record<string, string> };

/** The packages a serialized handler requires (bare specifiers, without subpaths). */
function requiredPackages(source: string): string[] {
    const names = new Set<string>();
    for (const m of source.matchAll(/require\("([^"]+)"\)/g)) {
        const spec = m[1];
        if (spec.startsWith(".") || spec.startsWith("node:") || builtinModules.includes(spec)) continue;
        names.add(spec.startsWith("@") ? spec.split("/").slice(0, 2).join("/") : spec.split("/")[0]);
    }
    return [...names].sort();
}

/** Loads serialized handler text as a module (its node_modules resolve to the repository's). */
function load(source: string): { handler: (event: unknown) => Promise<any> } {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "ce-lambda-"));
    fs.symlinkSync(path.join(ROOT, "node_modules"), path.join(dir, "node_modules"), "dir");
    const file = path.join(dir, "index.js");
    fs.writeFileSync(file, source);
    return require(file);
}

describe("Lambda packages", function () {
    this.timeout(120_000);
    const savedEnv = { ...process.env };
    const savedConsole = { log: console.log, warn: console.warn };

    before(async () => {
        const pool = new IdentityPool("pkg-idp", {});
        const api = new IngestApi("pkg-ingest", {
            environment: "pkg", eventBusName: "bus", eventBusArn: "arn:aws:events:us-east-1:123456789012:event-bus/bus",
            userPoolId: "us-east-1_Pkg", userPoolArn: "arn:aws:cognito-idp:us-east-1:123456789012:userpool/us-east-1_Pkg", userPoolClientId: "client",
        });
        await valueOf(pool.postConfirmation.function.arn);
        await valueOf(api.authorizer.function.arn);
        // The SDK signs requests to the loopback Cognito: give it throwaway credentials.
        process.env.AWS_ACCESS_KEY_ID = "AKIDTEST";
        process.env.AWS_SECRET_ACCESS_KEY = "secret";
        process.env.AWS_REGION = "us-east-1";
        // The packed handlers log JSON lines; keep the test output readable.
        console.log = () => undefined;
        console.warn = () => undefined;
    });
    after(() => {
        Object.assign(console, savedConsole);
        for (const key of ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_REGION", "USER_POOL_ID", "USER_POOL_CLIENT_ID"]) {
            if (savedEnv[key] === undefined) delete process.env[key]; else process.env[key] = savedEnv[key];
        }
    });

    const lambdas: Array<{ title: string; prefix: string; packages: string[] }> = [
        { title: "authorizer", prefix: "pkg-ingest-auth", packages: ["aws-jwt-verify"] },
        { title: "post-confirmation", prefix: "pkg-idp-confirm", packages: [] },
    ];
    for (const { title, prefix, packages } of lambdas) {
        it(`${title}: only its own code and the packages it needs; no @pulumi, no AWS SDK, no devDependencies`, async () => {
            const { files, index } = await packageOf(prefix);
            assert.match(index, /\nexports\.handler = __\w+\(\);$/, "the handler comes from a factory run once per cold start");
            const bundled = new Set(files.filter((f) => f.path.startsWith("node_modules/")).map((f) => {
                const parts = f.path.split("/");
                return parts[1].startsWith("@") ? `${parts[1]}/${parts[2]}` : parts[1];
            }));
            assert.deepStrictEqual([...bundled].sort(), packages);
            for (const f of files) {
                assert.ok(!f.path.includes("node_modules/@pulumi/"), f.path);
                assert.ok(!f.path.includes("node_modules/@aws-sdk/"), f.path);
                for (const dev of Object.keys(manifest.devDependencies)) assert.ok(!f.path.startsWith(`node_modules/${dev}/`), f.path);
            }
            // Everything the code requires is bundled or provided by the nodejs22.x runtime (AWS SDK v3).
            for (const name of requiredPackages(index)) {
                assert.ok(packages.includes(name) || name.startsWith("@aws-sdk/"), `${title} requires ${name}, which is not in its package`);
            }
            assert.ok(!/@pulumi\//.test(index), "no Pulumi code in the handler");
            const total = files.reduce((sum, f) => sum + f.bytes, 0);
            assert.ok(total < 2 * 1024 * 1024, `${total} bytes`);
        });
    }

    it("every deployed entry point (the handler factories) passes pulumi.runtime.serializeFunction", async () => {
        for (const factory of [createAuthorizerHandler, createPostConfirmationEntry]) {
            const serialized = await pulumi.runtime.serializeFunction(factory as any, { isFactoryFunction: true });
            assert.match(serialized.text, /\nexports\.handler = __\w+\(\);$/);
        }
    });

    it("why factories: a serialized plain callback re-creates its module-level state on every invocation", async () => {
        let calls = 0;
        const plain = async () => ++calls;
        const packed = load((await pulumi.runtime.serializeFunction(plain)).text);
        assert.strictEqual(await packed.handler({}), 1);
        assert.strictEqual(await packed.handler({}), 1, "the captured counter starts over");
        const factory = () => { let n = 0; return async () => ++n; };
        const packedFactory = load((await pulumi.runtime.serializeFunction(factory, { isFactoryFunction: true })).text);
        assert.strictEqual(await packedFactory.handler({}), 1);
        assert.strictEqual(await packedFactory.handler({}), 2, "state made by the factory persists");
    });

    it("the packed authorizer runs: garbage gets 401, missing configuration an error", async () => {
        const { index } = await packageOf("pkg-ingest-auth");
        const packed = load(index);
        const event = { type: "TOKEN", authorizationToken: "garbage", methodArn: "arn:aws:execute-api:us-east-1:1:a/s/POST/event" };
        delete process.env.USER_POOL_ID;
        delete process.env.USER_POOL_CLIENT_ID;
        await assert.rejects(packed.handler(event), /USER_POOL_ID and USER_POOL_CLIENT_ID must be set/);
        process.env.USER_POOL_ID = "us-east-1_Pkg";
        process.env.USER_POOL_CLIENT_ID = "client";
        await assert.rejects(packed.handler(event), /^Error: Unauthorized$/);
    });

    it("the packed post-confirmation trigger runs: a forgot-password confirmation is returned untouched", async () => {
        const { index } = await packageOf("pkg-idp-confirm");
        const packed = load(index);
        const event = { triggerSource: "PostConfirmation_ConfirmForgotPassword", userPoolId: "us-east-1_Pkg", userName: "alice", request: { userAttributes: {} }, response: {} };
        assert.strictEqual(await packed.handler(event), event);
    });

    describe("against local mode's Cognito", () => {
        let started: StartedLocal;
        let proxy: CognitoProxy;
        before(async () => {
            started = await startTestLocal();
            proxy = await startCognitoProxy(started.local.outputs.cognitoEndpoint);
        });
        after(async () => {
            await proxy?.close();
            await started?.local.close();
        });

        it("the serialized authorizer factory verifies tokens, calls Cognito over HTTP once per user, and caches", async () => {
            const user = await signUpUser(started);
            const { userPoolId, userPoolClientId, region } = started.local.outputs;
            const jwks = started.local.cognito.jwks();
            const endpoint = proxy.endpoint;
            const factory = () => createAuthorizer({ userPoolId, clientId: userPoolClientId, jwks, cognito: { endpoint, region } });
            const packed = load((await pulumi.runtime.serializeFunction(factory, { isFactoryFunction: true })).text);
            const methodArn = `arn:aws:execute-api:${region}:123456789012:api/pkg/POST/event`;
            proxy.calls.length = 0;
            for (let i = 0; i < 3; i++) {
                // A new access token each time, from Cognito itself.
                const auth = await started.cognito.send(new InitiateAuthCommand({
                    ClientId: userPoolClientId, AuthFlow: "USER_PASSWORD_AUTH", AuthParameters: { USERNAME: user.username, PASSWORD: user.password },
                }));
                const result = await packed.handler({ type: "TOKEN", authorizationToken: `Bearer ${auth.AuthenticationResult?.AccessToken}`, methodArn });
                assert.strictEqual(result.policyDocument.Statement[0].Effect, "Allow");
                assert.deepStrictEqual(result.context, { clientId: user.clientId });
            }
            assert.deepStrictEqual(proxy.calls.map((c) => c.operation), ["GetUser"], "one Cognito call for three requests of one user");
            await assert.rejects(packed.handler({ type: "TOKEN", authorizationToken: "a.b.c", methodArn }), /Unauthorized/);
        });

        it("the serialized post-confirmation factory writes a UUID clientId through Cognito's API", async () => {
            const { userPoolId, userPoolClientId, region } = started.local.outputs;
            await started.cognito.send(new SignUpCommand({
                ClientId: userPoolClientId, Username: "packed-user", Password: "Correct-Horse1", UserAttributes: [{ Name: "email", Value: "packed@example.com" }],
            }));
            const endpoint = proxy.endpoint;
            const factory = () => createPostConfirmationHandler(new CognitoIdentityProviderClient({ endpoint, region }));
            const packed = load((await pulumi.runtime.serializeFunction(factory, { isFactoryFunction: true })).text);
            proxy.calls.length = 0;
            await packed.handler({ triggerSource: "PostConfirmation_ConfirmSignUp", userPoolId, userName: "packed-user", request: { userAttributes: {} }, response: {} });
            assert.deepStrictEqual(proxy.calls.map((c) => c.operation), ["AdminUpdateUserAttributes"]);
            const stored = await started.cognito.send(new AdminGetUserCommand({ UserPoolId: userPoolId, Username: "packed-user" }));
            assert.match(stored.UserAttributes?.find((a) => a.Name === "custom:clientId")?.Value ?? "", /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
        });
    });
});
