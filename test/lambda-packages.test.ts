/**
 * The Lambda packages as Pulumi builds them (CallbackFunction's code archive under mocks): which files
 * each holds, how big it is, and that the packed code runs. Serialization bugs (a class field dropped, a
 * Set turned into a plain object) only show when the serialized text is executed, so it is: in this
 * process and on Node 22, the Lambda runtime's major (test/support/packed-runtimes.ts).
 */
import * as assert from "assert";
import { execFile } from "child_process";
import * as fs from "fs";
import * as http from "http";
import * as os from "os";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { builtinModules } from "module";
import { CognitoIdentityProviderClient } from "@aws-sdk/client-cognito-identity-provider";
import { oneOf, valueOf } from "./support/pulumi-mocks";
import { IdentityPool } from "../components/identity-pool";
import { IngestApi } from "../components/ingest-api";
import { createAuthorizer, createHandler as createAuthorizerHandler } from "../handlers/authorizer";
import { createHandler as createPostConfirmationEntry, createPostConfirmationHandler } from "../handlers/post-confirmation";
import { createHandler as createPreTokenGenerationEntry, createPreTokenGenerationHandler } from "../handlers/pre-token-generation";
import { clientIdFor } from "../pipeline/identity";
import { accessToken, createSigningKey, idToken, jwksOf } from "./support/jwt";
import { inProcessRuntime, node22Binary, node22Runtime, type PackedRuntime } from "./support/packed-runtimes";

const ROOT = path.resolve(__dirname, "..");
const manifest = JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8")) as { devDependencies: Record<string, string> };

interface PackedFile { path: string; bytes: number }

function walk(dir: string, prefix: string): PackedFile[] {
    const out: PackedFile[] = [];
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
        const full = path.join(dir, entry.name);
        const rel = `${prefix}/${entry.name}`;
        if (entry.isDirectory()) out.push(...walk(full, rel));
        else out.push({ path: rel, bytes: fs.statSync(full).size });
    }
    return out;
}

/** Every file of a mocked CallbackFunction's code archive, with its size, and the handler's source. */
async function packageOf(prefix: string): Promise<{ files: PackedFile[]; index: string }> {
    const fn = await oneOf(prefix, "aws:lambda/function:Function");
    const assets = await fn.inputs.code.assets;
    const files: PackedFile[] = [];
    let index = "";
    for (const [name, asset] of Object.entries<any>(assets)) {
        if (asset.text !== undefined) {
            const text = await asset.text;
            if (name === "__index.js") index = text;
            files.push({ path: name, bytes: Buffer.byteLength(text) });
        } else if (asset.path !== undefined) {
            const rel = await asset.path;
            const full = path.resolve(ROOT, rel);
            if (fs.statSync(full).isDirectory()) files.push(...walk(full, name));
            else files.push({ path: name, bytes: fs.statSync(full).size });
        } else {
            assert.fail(`unexpected asset ${name}`);
        }
    }
    return { files, index };
}

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

/** A loopback stand-in for Cognito's JSON API: answers GetUser and AdminUpdateUserAttributes, records calls. */
async function fakeCognito(clientId: string): Promise<{ endpoint: string; calls: Array<{ target: string; body: any }>; close: () => Promise<void> }> {
    const calls: Array<{ target: string; body: any }> = [];
    const server = http.createServer((req, res) => {
        let data = "";
        req.on("data", (c) => (data += c));
        req.on("end", () => {
            const target = String(req.headers["x-amz-target"] ?? "").split(".").pop() ?? "";
            calls.push({ target, body: JSON.parse(data || "{}") });
            res.setHeader("Content-Type", "application/x-amz-json-1.1");
            if (target === "GetUser") res.end(JSON.stringify({ Username: "alice", UserAttributes: [{ Name: "custom:clientId", Value: clientId }] }));
            else res.end("{}");
        });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const port = (server.address() as { port: number }).port;
    return { endpoint: `http://127.0.0.1:${port}`, calls, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

/** A Node 22 binary (resolved once: npx's cache after .ci/run or the first run; see packed-runtimes.ts). */
let node22: string | undefined;

describe("Lambda packages", function () {
    this.timeout(120_000);
    const sizes: string[] = [];
    const savedEnv = { ...process.env };
    const savedConsole = { log: console.log, warn: console.warn };

    before(async () => {
        const pool = new IdentityPool("pkg-idp", {});
        const api = new IngestApi("pkg-ingest", {
            environment: "pkg", eventBusName: "bus", eventBusArn: "arn:aws:events:us-east-1:123456789012:event-bus/bus",
            userPoolId: "us-east-1_Pkg", userPoolArn: "arn:aws:cognito-idp:us-east-1:123456789012:userpool/us-east-1_Pkg", userPoolClientId: "client",
        });
        await valueOf(pool.postConfirmation.function.arn);
        await valueOf(pool.preTokenGeneration.function.arn);
        await valueOf(api.authorizer.function.arn);
        // The SDK signs requests to the loopback Cognito: give it throwaway credentials (the Node 22 child inherits them).
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
        process.stderr.write(`\n      Lambda package sizes:\n${sizes.map((s) => `        ${s}`).join("\n")}\n`);
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
            sizes.push(`${title}: ${files.length} files, ${(total / 1024).toFixed(1)} KiB (handler ${(Buffer.byteLength(index) / 1024).toFixed(1)} KiB)`);
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
        { name: "on Node 22 (the Lambda runtime's major)", make: () => node22Runtime(node22 ??= node22Binary()) },
    ];
    for (const { name, make } of runtimes) {
        describe(`packed code runs ${name}`, function () {
            this.timeout(600_000); // the first Node 22 run outside CI may download it (CI fetches it beforehand)
            let runtime: PackedRuntime;
            before(() => { runtime = make(); });
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
                const factory = () => { let n = 0; return async () => ++n; };
                const fromFactory = await packed((await pulumi.runtime.serializeFunction(factory, { isFactoryFunction: true })).text);
                assert.strictEqual(await fromFactory.handler({}), 1);
                assert.strictEqual(await fromFactory.handler({}), 2, "state made by the factory persists");
            });

            it("the packed authorizer: garbage gets 401, missing configuration an error", async () => {
                const auth = await packed((await packageOf("pkg-ingest-auth")).index);
                const event = { type: "TOKEN", authorizationToken: "garbage", methodArn: "arn:aws:execute-api:us-east-1:1:a/s/POST/event" };
                await assert.rejects(auth.handler(event, { USER_POOL_ID: null, USER_POOL_CLIENT_ID: null }), /USER_POOL_ID and USER_POOL_CLIENT_ID must be set/);
                await assert.rejects(auth.handler(event, { USER_POOL_ID: "us-east-1_Pkg", USER_POOL_CLIENT_ID: "client" }), /^Error: Unauthorized$/);
            });

            it("the packed post-confirmation trigger: a forgot-password confirmation is returned untouched", async () => {
                const confirm = await packed((await packageOf("pkg-idp-confirm")).index);
                const event = { triggerSource: "PostConfirmation_ConfirmForgotPassword", userPoolId: "us-east-1_Pkg", userName: "alice", request: { userAttributes: {} }, response: {} };
                assert.deepStrictEqual(await confirm.handler(event), event);
            });

            it("the packed pre-token-generation trigger: a user who has a clientId is returned untouched, without a call", async () => {
                const token = await packed((await packageOf("pkg-idp-token")).index);
                const event = {
                    version: "1", triggerSource: "TokenGeneration_Authentication", userPoolId: "us-east-1_Pkg", userName: "alice",
                    request: { userAttributes: { sub: "s-1", "custom:clientId": "7d5e8a40-1c1f-4f0e-9a53-3f1d2a6b9c01" } }, response: { claimsOverrideDetails: null },
                };
                assert.deepStrictEqual(await token.handler(event), event);
            });

            it("the serialized authorizer factory verifies tokens, calls Cognito over HTTP once per user, and caches", async () => {
                const cognito = await fakeCognito("7d5e8a40-1c1f-4f0e-9a53-3f1d2a6b9c01");
                try {
                    const key = createSigningKey();
                    const jwks = jwksOf(key);
                    const endpoint = cognito.endpoint;
                    const factory = () => createAuthorizer({ userPoolId: "us-east-1_Pkg", clientId: "client", jwks, cognito: { endpoint, region: "us-east-1" } });
                    const auth = await packed((await pulumi.runtime.serializeFunction(factory, { isFactoryFunction: true })).text);
                    const methodArn = "arn:aws:execute-api:us-east-1:123456789012:api/pkg/POST/event";
                    for (let i = 0; i < 3; i++) {
                        const token = accessToken({ userPoolId: "us-east-1_Pkg", clientId: "client", key, sub: "sub-pkg" });
                        const result = await auth.handler({ type: "TOKEN", authorizationToken: `Bearer ${token}`, methodArn });
                        assert.strictEqual(result.policyDocument.Statement[0].Effect, "Allow");
                        assert.deepStrictEqual(result.context, { clientId: "7d5e8a40-1c1f-4f0e-9a53-3f1d2a6b9c01" });
                    }
                    assert.deepStrictEqual(cognito.calls.map((c) => c.target), ["GetUser"], "one Cognito call for three requests of one user");
                    await assert.rejects(auth.handler({ type: "TOKEN", authorizationToken: "a.b.c", methodArn }), /Unauthorized/);
                } finally {
                    await cognito.close();
                }
            });

            it("the serialized post-confirmation factory writes the user's clientId through Cognito's API", async () => {
                const cognito = await fakeCognito("unused");
                try {
                    const endpoint = cognito.endpoint;
                    const factory = () => createPostConfirmationHandler(new CognitoIdentityProviderClient({ endpoint, region: "us-east-1" }));
                    const confirm = await packed((await pulumi.runtime.serializeFunction(factory, { isFactoryFunction: true })).text);
                    await confirm.handler({ triggerSource: "PostConfirmation_ConfirmSignUp", userPoolId: "us-east-1_Pkg", userName: "alice", request: { userAttributes: { sub: "s-alice" } }, response: {} });
                    assert.strictEqual(cognito.calls.length, 1);
                    assert.strictEqual(cognito.calls[0].target, "AdminUpdateUserAttributes");
                    assert.strictEqual(cognito.calls[0].body.UserPoolId, "us-east-1_Pkg");
                    assert.strictEqual(cognito.calls[0].body.Username, "alice");
                    assert.strictEqual(cognito.calls[0].body.UserAttributes[0].Value, clientIdFor("us-east-1_Pkg", "s-alice"));
                } finally {
                    await cognito.close();
                }
            });

            it("the serialized pre-token-generation factory stores a missing clientId and puts it in the ID token", async () => {
                const cognito = await fakeCognito("unused");
                try {
                    const endpoint = cognito.endpoint;
                    const factory = () => createPreTokenGenerationHandler(new CognitoIdentityProviderClient({ endpoint, region: "us-east-1" }));
                    const token = await packed((await pulumi.runtime.serializeFunction(factory, { isFactoryFunction: true })).text);
                    const result = await token.handler({
                        version: "1", triggerSource: "TokenGeneration_NewPasswordChallenge", userPoolId: "us-east-1_Pkg", userName: "invited",
                        request: { userAttributes: { sub: "s-invited" } }, response: { claimsOverrideDetails: null },
                    });
                    const expected = clientIdFor("us-east-1_Pkg", "s-invited");
                    assert.deepStrictEqual(cognito.calls.map((c) => [c.target, c.body.Username, c.body.UserAttributes[0].Value]), [["AdminUpdateUserAttributes", "invited", expected]]);
                    assert.deepStrictEqual(result.response.claimsOverrideDetails, { claimsToAddOrOverride: { "custom:clientId": expected } });
                } finally {
                    await cognito.close();
                }
            });
        });
    }

    it("the packed authorizer loads the Cognito SDK only when an access token needs GetUser (cold start)", async () => {
        const cognito = await fakeCognito("7d5e8a40-1c1f-4f0e-9a53-3f1d2a6b9c01");
        try {
            const key = createSigningKey();
            const jwks = jwksOf(key);
            const endpoint = cognito.endpoint;
            const factory = () => createAuthorizer({ userPoolId: "us-east-1_Pkg", clientId: "client", jwks, cognito: { endpoint, region: "us-east-1" } });
            const file = write((await pulumi.runtime.serializeFunction(factory, { isFactoryFunction: true })).text);
            const methodArn = "arn:aws:execute-api:us-east-1:123456789012:api/pkg/POST/event";
            const tokens = [
                idToken({ userPoolId: "us-east-1_Pkg", clientId: "client", key, clientIdAttribute: "7d5e8a40-1c1f-4f0e-9a53-3f1d2a6b9c01" }),
                accessToken({ userPoolId: "us-east-1_Pkg", clientId: "client", key }),
            ];
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
            const env = { ...process.env, AWS_ACCESS_KEY_ID: "AKIDTEST", AWS_SECRET_ACCESS_KEY: "secret", AWS_REGION: "us-east-1" };
            const stdout = await new Promise<string>((resolve, reject) => execFile(process.execPath, ["-e", script], { env }, (err, out, stderr) => (err ? reject(new Error(stderr)) : resolve(out))));
            assert.deepStrictEqual(JSON.parse(stdout), [false, ["Allow", false], ["Allow", true]]);
            assert.deepStrictEqual(cognito.calls.map((c) => c.target), ["GetUser"]);
        } finally {
            await cognito.close();
        }
    });

});
