/**
 * The Lambda packages as Pulumi builds them (CallbackFunction's code archive under mocks): which files
 * each holds, how big it is, and that the packed code runs. Serialization bugs (a class field dropped, a
 * Set turned into a plain object) only show when the serialized text is executed, so it is: in this
 * process and on Node 22, the Lambda runtime's major (test/support/packed-runtimes.ts).
 */
import * as assert from "assert";
import { execFile } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { builtinModules } from "module";
import {
    AdminGetUserCommand,
    CognitoIdentityProviderClient,
    InitiateAuthCommand,
    SignUpCommand,
} from "@aws-sdk/client-cognito-identity-provider";
import { valueOf } from "./support/pulumi-mocks";
import { packageOf } from "./support/lambda-package";
import { startCognitoProxy, type CognitoProxy } from "./support/cognito-proxy";
import { signUpUser, startTestLocal, type StartedLocal, type TestUser } from "./support/local";
import { IdentityPool } from "../components/identity-pool";
import { IngestApi } from "../components/ingest-api";
import { createAuthorizer, createHandler as createAuthorizerHandler } from "../handlers/authorizer";
import { createHandler as createPostConfirmationEntry, createPostConfirmationHandler } from "../handlers/post-confirmation";
import { createHandler as createPreTokenGenerationEntry, createPreTokenGenerationHandler } from "../handlers/pre-token-generation";
import { clientIdFor } from "../pipeline/identity";
import { inProcessRuntime, node22Binary, node22Runtime, type PackedRuntime } from "./support/packed-runtimes";

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

/** Writes serialized handler text as index.js of a new directory whose node_modules are the repository's. */
function write(source: string): string {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "ce-lambda-"));
    fs.symlinkSync(path.join(ROOT, "node_modules"), path.join(dir, "node_modules"), "dir");
    const file = path.join(dir, "index.js");
    fs.writeFileSync(file, source);
    return file;
}

/** A Node 22 binary (resolved once: npx's cache after .ci/run or the first run; see packed-runtimes.ts). */
let node22: string | undefined;

describe("Lambda packages", function () {
    this.timeout(120_000);
    const savedEnv = { ...process.env };
    const savedConsole = { log: console.log, warn: console.warn };
    let started: StartedLocal;
    let proxy: CognitoProxy;
    /** A confirmed user of local mode's pool, with its clientId and tokens. */
    let user: TestUser;
    let newUsers = 0;
    /** A user signed up but not confirmed: no clientId yet (local mode runs the triggers on confirmation). */
    async function unconfirmedUser(): Promise<{ username: string; sub: string }> {
        const username = `pkg-user-${++newUsers}`;
        const { userPoolId, userPoolClientId } = started.local.outputs;
        await started.cognito.send(
            new SignUpCommand({
                ClientId: userPoolClientId,
                Username: username,
                Password: "Correct-Horse1",
                UserAttributes: [{ Name: "email", Value: `${username}@example.com` }],
            }),
        );
        const stored = await started.cognito.send(new AdminGetUserCommand({ UserPoolId: userPoolId, Username: username }));
        const sub = stored.UserAttributes?.find((a) => a.Name === "sub")?.Value;
        if (!sub) throw new Error(`${username} has no sub`);
        return { username, sub };
    }
    /** Fresh tokens for a user, from Cognito itself (directly, not through the recording proxy). */
    async function signIn(who: TestUser): Promise<{ idToken: string; accessToken: string }> {
        const auth = await started.cognito.send(
            new InitiateAuthCommand({
                ClientId: started.local.outputs.userPoolClientId,
                AuthFlow: "USER_PASSWORD_AUTH",
                AuthParameters: { USERNAME: who.username, PASSWORD: who.password },
            }),
        );
        const { IdToken, AccessToken } = auth.AuthenticationResult ?? {};
        if (!IdToken || !AccessToken) throw new Error(`Cognito gave ${who.username} no tokens`);
        return { idToken: IdToken, accessToken: AccessToken };
    }
    const storedClientId = async (username: string) =>
        (
            await started.cognito.send(new AdminGetUserCommand({ UserPoolId: started.local.outputs.userPoolId, Username: username }))
        ).UserAttributes?.find((a) => a.Name === "custom:clientId")?.Value;

    before(async () => {
        const pool = new IdentityPool("pkg-idp", {});
        const api = new IngestApi("pkg-ingest", {
            environment: "pkg",
            eventBusName: "bus",
            eventBusArn: "arn:aws:events:us-east-1:123456789012:event-bus/bus",
            userPoolId: "us-east-1_Pkg",
            userPoolArn: "arn:aws:cognito-idp:us-east-1:123456789012:userpool/us-east-1_Pkg",
            userPoolClientId: "client",
        });
        await valueOf(pool.postConfirmation.function.arn);
        await valueOf(pool.preTokenGeneration.function.arn);
        await valueOf(api.authorizer.function.arn);
        // Local mode's Cognito answers the packed code, behind a proxy that records the calls. It checks the
        // SigV4 signature of Admin* calls against its own credentials: the SDK reads them from the environment
        // (the Node 22 child inherits it).
        started = await startTestLocal();
        proxy = await startCognitoProxy(started.local.outputs.cognitoEndpoint);
        user = await signUpUser(started);
        process.env.AWS_ACCESS_KEY_ID = started.local.credentials.accessKeyId;
        process.env.AWS_SECRET_ACCESS_KEY = started.local.credentials.secretAccessKey;
        process.env.AWS_REGION = started.local.outputs.region;
        // The packed handlers log JSON lines; keep the test output readable.
        console.log = () => undefined;
        console.warn = () => undefined;
    });
    after(async () => {
        await proxy?.close();
        await started?.local.close();
        Object.assign(console, savedConsole);
        for (const key of ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_REGION", "USER_POOL_ID", "USER_POOL_CLIENT_ID"]) {
            if (savedEnv[key] === undefined) delete process.env[key];
            else process.env[key] = savedEnv[key];
        }
    });

    const lambdas: Array<{ title: string; prefix: string; packages: string[] }> = [
        { title: "authorizer", prefix: "pkg-ingest-auth", packages: ["aws-jwt-verify"] },
        { title: "post-confirmation", prefix: "pkg-idp-confirm", packages: [] },
        { title: "pre-token-generation", prefix: "pkg-idp-token", packages: [] },
    ];
    for (const { title, prefix, packages } of lambdas) {
        it(`${title}: only its own code and the packages it needs; no @pulumi, no AWS SDK, no devDependencies`, async () => {
            const { files, index } = await packageOf(prefix);
            assert.match(index, /\nexports\.handler = __\w+\(\);$/, "the handler comes from a factory run once per cold start");
            const bundled = new Set(
                files
                    .filter((f) => f.path.startsWith("node_modules/"))
                    .map((f) => {
                        const parts = f.path.split("/");
                        return parts[1].startsWith("@") ? `${parts[1]}/${parts[2]}` : parts[1];
                    }),
            );
            assert.deepStrictEqual([...bundled].sort(), packages);
            for (const f of files) {
                assert.ok(!f.path.includes("node_modules/@pulumi/"), f.path);
                assert.ok(!f.path.includes("node_modules/@aws-sdk/"), f.path);
                for (const dev of Object.keys(manifest.devDependencies)) assert.ok(!f.path.startsWith(`node_modules/${dev}/`), f.path);
            }
            // Everything the code requires is bundled or provided by the nodejs22.x runtime (AWS SDK v3).
            for (const name of requiredPackages(index)) {
                assert.ok(
                    packages.includes(name) || name.startsWith("@aws-sdk/"),
                    `${title} requires ${name}, which is not in its package`,
                );
            }
            assert.ok(!/@pulumi\//.test(index), "no Pulumi code in the handler");
            const total = files.reduce((sum, f) => sum + f.bytes, 0);
            assert.ok(total < 2 * 1024 * 1024, `${total} bytes`);
        });
    }

    it("every deployed entry point (the handler factories) passes pulumi.runtime.serializeFunction", async () => {
        for (const factory of [createAuthorizerHandler, createPostConfirmationEntry, createPreTokenGenerationEntry]) {
            const serialized = await pulumi.runtime.serializeFunction(factory as any, { isFactoryFunction: true });
            assert.match(serialized.text, /\nexports\.handler = __\w+\(\);$/);
        }
    });

    const runtimes: Array<{ name: string; make: () => PackedRuntime }> = [
        { name: "in this process", make: inProcessRuntime },
        { name: "on Node 22 (the Lambda runtime's major)", make: () => node22Runtime((node22 ??= node22Binary())) },
    ];
    for (const { name, make } of runtimes) {
        describe(`packed code runs ${name}`, function () {
            this.timeout(600_000); // the first Node 22 run outside CI may download it (CI fetches it beforehand)
            let runtime: PackedRuntime;
            before(() => {
                runtime = make();
            });
            after(() => runtime?.close());
            const packed = async (source: string) => runtime.load(source);

            it("on the Node major it names", async () => {
                const probe = await packed((await pulumi.runtime.serializeFunction(async () => process.versions.node)).text);
                const version = await probe.handler({});
                assert.strictEqual(Number(version.split(".")[0]), runtime.major, runtime.label);
                if (name.includes("Node 22")) assert.strictEqual(runtime.major, 22);
            });

            it("why factories: a serialized plain callback re-creates its module-level state on every invocation", async () => {
                let calls = 0;
                const plain = async () => ++calls;
                const once = await packed((await pulumi.runtime.serializeFunction(plain)).text);
                assert.strictEqual(await once.handler({}), 1);
                assert.strictEqual(await once.handler({}), 1, "the captured counter starts over");
                const factory = () => {
                    let n = 0;
                    return async () => ++n;
                };
                const fromFactory = await packed((await pulumi.runtime.serializeFunction(factory, { isFactoryFunction: true })).text);
                assert.strictEqual(await fromFactory.handler({}), 1);
                assert.strictEqual(await fromFactory.handler({}), 2, "state made by the factory persists");
            });

            it("the packed authorizer: garbage gets 401, missing configuration an error", async () => {
                const auth = await packed((await packageOf("pkg-ingest-auth")).index);
                const event = { type: "TOKEN", authorizationToken: "garbage", methodArn: "arn:aws:execute-api:us-east-1:1:a/s/POST/event" };
                await assert.rejects(
                    auth.handler(event, { USER_POOL_ID: null, USER_POOL_CLIENT_ID: null }),
                    /USER_POOL_ID and USER_POOL_CLIENT_ID must be set/,
                );
                await assert.rejects(
                    auth.handler(event, { USER_POOL_ID: "us-east-1_Pkg", USER_POOL_CLIENT_ID: "client" }),
                    /^Error: Unauthorized$/,
                );
            });

            it("the packed post-confirmation trigger: a forgot-password confirmation is returned untouched", async () => {
                const confirm = await packed((await packageOf("pkg-idp-confirm")).index);
                const event = {
                    triggerSource: "PostConfirmation_ConfirmForgotPassword",
                    userPoolId: "us-east-1_Pkg",
                    userName: "alice",
                    request: { userAttributes: {} },
                    response: {},
                };
                assert.deepStrictEqual(await confirm.handler(event), event);
            });

            it("the packed pre-token-generation trigger: a user who has a clientId is returned untouched, without a call", async () => {
                const token = await packed((await packageOf("pkg-idp-token")).index);
                const event = {
                    version: "1",
                    triggerSource: "TokenGeneration_Authentication",
                    userPoolId: "us-east-1_Pkg",
                    userName: "alice",
                    request: { userAttributes: { sub: "s-1", "custom:clientId": "7d5e8a40-1c1f-4f0e-9a53-3f1d2a6b9c01" } },
                    response: { claimsOverrideDetails: null },
                };
                assert.deepStrictEqual(await token.handler(event), event);
            });

            it("the serialized authorizer factory verifies tokens, calls Cognito over HTTP once per user, and caches", async () => {
                const { userPoolId, userPoolClientId, region } = started.local.outputs;
                const jwks = started.local.cognito.jwks();
                const endpoint = proxy.endpoint;
                const factory = () => createAuthorizer({ userPoolId, clientId: userPoolClientId, jwks, cognito: { endpoint, region } });
                const auth = await packed((await pulumi.runtime.serializeFunction(factory, { isFactoryFunction: true })).text);
                const methodArn = `arn:aws:execute-api:${region}:123456789012:api/pkg/POST/event`;
                proxy.calls.length = 0;
                for (let i = 0; i < 3; i++) {
                    // A new access token each time, from Cognito itself.
                    const { accessToken } = await signIn(user);
                    const result = await auth.handler({ type: "TOKEN", authorizationToken: `Bearer ${accessToken}`, methodArn });
                    assert.strictEqual(result.policyDocument.Statement[0].Effect, "Allow");
                    assert.deepStrictEqual(result.context, { clientId: user.clientId });
                }
                assert.deepStrictEqual(
                    proxy.calls.map((c) => c.operation),
                    ["GetUser"],
                    "one Cognito call for three requests of one user",
                );
                await assert.rejects(auth.handler({ type: "TOKEN", authorizationToken: "a.b.c", methodArn }), /Unauthorized/);
            });

            it("the serialized post-confirmation factory writes the user's clientId through Cognito's API", async () => {
                const { userPoolId, region } = started.local.outputs;
                const { username, sub } = await unconfirmedUser();
                const endpoint = proxy.endpoint;
                const factory = () => createPostConfirmationHandler(new CognitoIdentityProviderClient({ endpoint, region }));
                const confirm = await packed((await pulumi.runtime.serializeFunction(factory, { isFactoryFunction: true })).text);
                proxy.calls.length = 0;
                await confirm.handler({
                    triggerSource: "PostConfirmation_ConfirmSignUp",
                    userPoolId,
                    userName: username,
                    request: { userAttributes: { sub } },
                    response: {},
                });
                assert.deepStrictEqual(
                    proxy.calls.map((c) => c.operation),
                    ["AdminUpdateUserAttributes"],
                );
                assert.strictEqual(await storedClientId(username), clientIdFor(userPoolId, sub));
            });

            it("the serialized pre-token-generation factory stores a missing clientId and puts it in the ID token", async () => {
                const { userPoolId, region } = started.local.outputs;
                const { username, sub } = await unconfirmedUser();
                const endpoint = proxy.endpoint;
                const factory = () => createPreTokenGenerationHandler(new CognitoIdentityProviderClient({ endpoint, region }));
                const token = await packed((await pulumi.runtime.serializeFunction(factory, { isFactoryFunction: true })).text);
                proxy.calls.length = 0;
                const result = await token.handler({
                    version: "1",
                    triggerSource: "TokenGeneration_NewPasswordChallenge",
                    userPoolId,
                    userName: username,
                    request: { userAttributes: { sub } },
                    response: { claimsOverrideDetails: null },
                });
                const expected = clientIdFor(userPoolId, sub);
                assert.deepStrictEqual(
                    proxy.calls.map((c) => c.operation),
                    ["AdminUpdateUserAttributes"],
                );
                assert.strictEqual(await storedClientId(username), expected);
                assert.deepStrictEqual(result.response.claimsOverrideDetails, { claimsToAddOrOverride: { "custom:clientId": expected } });
            });
        });
    }

    it("the packed authorizer loads the Cognito SDK only when an access token needs GetUser (cold start)", async () => {
        const { userPoolId, userPoolClientId, region } = started.local.outputs;
        const jwks = started.local.cognito.jwks();
        const endpoint = proxy.endpoint;
        const factory = () => createAuthorizer({ userPoolId, clientId: userPoolClientId, jwks, cognito: { endpoint, region } });
        const file = write((await pulumi.runtime.serializeFunction(factory, { isFactoryFunction: true })).text);
        const methodArn = `arn:aws:execute-api:${region}:123456789012:api/pkg/POST/event`;
        const { idToken, accessToken } = await signIn(user);
        const tokens = [idToken, accessToken];
        proxy.calls.length = 0;
        // A fresh process, as a Lambda cold start: which modules are loaded after each kind of token.
        const script = `
            const sdkLoaded = () => Object.keys(require.cache).some((p) => p.includes("client-cognito-identity-provider"));
            const { handler } = require(${JSON.stringify(file)});
            (async () => {
                const seen = [sdkLoaded()];
                for (const token of ${JSON.stringify(tokens)}) {
                    const result = await handler({ type: "TOKEN", authorizationToken: token, methodArn: ${JSON.stringify(methodArn)} });
                    seen.push([result.policyDocument.Statement[0].Effect, sdkLoaded()]);
                }
                process.stdout.write(JSON.stringify(seen));
            })();`;
        const stdout = await new Promise<string>((resolve, reject) =>
            execFile(process.execPath, ["-e", script], { env: process.env }, (err, out, stderr) =>
                err ? reject(new Error(stderr)) : resolve(out),
            ),
        );
        assert.deepStrictEqual(JSON.parse(stdout), [false, ["Allow", false], ["Allow", true]]);
        assert.deepStrictEqual(
            proxy.calls.map((c) => c.operation),
            ["GetUser"],
        );
    });
});
