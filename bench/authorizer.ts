// The TOKEN authorizer: its warm path beside raw crypto.verify (the floor) and aws-jwt-verify alone, and its
// cold start (a new Node process loading the packed handler and answering one token) beside an empty Node
// process, on the Lambda runtime's Node major when `npx -p node@22 node` gives it.
import { execFile, execFileSync } from "child_process";
import { createPublicKey, verify, type JsonWebKey } from "crypto";
import * as fs from "fs";
import * as http from "http";
import * as os from "os";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { CognitoJwtVerifier } from "aws-jwt-verify";
import { createAuthorizer } from "../handlers/authorizer";
import { accessToken, createSigningKey, idToken, jwksOf } from "../test/support/jwt";
import { compareCosts, type BenchRow } from "./table";

const AREA = "authorizer";
const POOL = "us-east-1_Bench1";
const CLIENT = "benchclient";
const CLIENT_ID = "7d5e8a40-1c1f-4f0e-9a53-3f1d2a6b9c01";
const METHOD_ARN = "arn:aws:execute-api:us-east-1:123456789012:abc123/bench/POST/event";

export const about = "the Lambda authorizer: warm path per token, and cold start in a new process (packed as Pulumi packs it)";
export const cases = [
    "warm, ID token: aws-jwt-verify alone and the authorizer; floor: crypto.verify of the RS256 signature + payload parse",
    "warm, ID token: the authorizer beside aws-jwt-verify alone",
    "warm, ID token: the authorizer as Pulumi packs it (what the Lambda runs); same floor",
    "cold start, ID token: spawn to answer; floor: an empty Node process (node -e 0)",
    "cold start, access token (loads the Cognito SDK, GetUser on a loopback stub): spawn to answer",
];

/** Node 22 (the Lambda runtime's major) when npx provides it, else this Node. */
export function lambdaNode(): { path: string; version: string } {
    try {
        const out = execFileSync(
            "npx",
            ["-y", "-p", "node@22", "node", "-e", "process.stdout.write(process.execPath + ' ' + process.version)"],
            { encoding: "utf8", timeout: 120_000, stdio: ["ignore", "pipe", "ignore"] },
        );
        const [execPath, version] = out.trim().split(" ");
        if (execPath && fs.existsSync(execPath)) return { path: execPath, version };
    } catch {
        // fall through
    }
    return { path: process.execPath, version: process.version };
}

async function warmRows(): Promise<BenchRow[]> {
    const key = createSigningKey("bench-key");
    const token = idToken({ userPoolId: POOL, clientId: CLIENT, key, clientIdAttribute: CLIENT_ID });
    const publicKey = createPublicKey({ key: key.jwk as JsonWebKey, format: "jwk" });
    const dot = token.lastIndexOf(".");
    const floor = () => {
        const ok = verify("RSA-SHA256", Buffer.from(token.slice(0, dot)), publicKey, Buffer.from(token.slice(dot + 1), "base64url"));
        if (!ok) throw new Error("floor: bad signature");
        return JSON.parse(Buffer.from(token.slice(token.indexOf(".") + 1, dot), "base64url").toString("utf8"));
    };
    const verifier = CognitoJwtVerifier.create({ userPoolId: POOL, clientId: CLIENT, tokenUse: null });
    verifier.cacheJwks(jwksOf(key));
    const authorize = createAuthorizer({ userPoolId: POOL, clientId: CLIENT, jwks: jwksOf(key) });
    const event = { type: "TOKEN" as const, authorizationToken: `Bearer ${token}`, methodArn: METHOD_ARN };
    const result = await authorize(event);
    if (result.context?.clientId !== CLIENT_ID) throw new Error("the authorizer did not allow the bench token");

    const packed = await packedAuthorizer(jwksOf(key));
    if ((await packed(event)).context?.clientId !== CLIENT_ID) throw new Error("the packed authorizer did not allow the bench token");

    const us = await compareCosts({
        floor,
        library: () => verifier.verify(token),
        authorizer: () => authorize(event),
        packed: () => packed(event),
    });
    const floorRow = { case: "crypto.verify (RS256) + payload parse", value: us.floor };
    return [
        {
            area: AREA,
            case: "warm, ID token: the authorizer as Pulumi packs it",
            value: us.packed,
            unit: "us/token",
            floor: floorRow,
            note: "what the Lambda runs (serializeFunction of the factory, JWKS captured)",
        },
        { area: AREA, case: "warm, ID token: aws-jwt-verify alone", value: us.library, unit: "us/token", floor: floorRow },
        {
            area: AREA,
            case: "warm, ID token: authorizer",
            value: us.authorizer,
            unit: "us/token",
            floor: floorRow,
            target: { ratio: { atMost: 1.4 } },
        },
        {
            area: AREA,
            case: "warm, ID token: authorizer vs aws-jwt-verify",
            value: us.authorizer,
            unit: "us/token",
            floor: { case: "aws-jwt-verify alone", value: us.library },
        },
    ];
}

/** The authorizer as the Lambda runs it: Pulumi's serialized factory, loaded as a module and run once. */
async function packedAuthorizer(jwks: ReturnType<typeof jwksOf>): Promise<ReturnType<typeof createAuthorizer>> {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "bench-authorizer-warm-"));
    try {
        const factory = () => createAuthorizer({ userPoolId: POOL, clientId: CLIENT, jwks });
        fs.symlinkSync(path.resolve(__dirname, "..", "node_modules"), path.join(dir, "node_modules"), "dir");
        fs.writeFileSync(path.join(dir, "index.js"), (await pulumi.runtime.serializeFunction(factory, { isFactoryFunction: true })).text);
        // eslint-disable-next-line @typescript-eslint/no-require-imports -- the serialized Lambda module, written at run time
        return require(path.join(dir, "index.js")).handler;
    } finally {
        fs.rmSync(dir, { recursive: true, force: true });
    }
}

/** A loopback stand-in for Cognito's GetUser. */
async function fakeCognito(): Promise<{ endpoint: string; close(): Promise<void> }> {
    const server = http.createServer((req, res) => {
        req.resume();
        req.on("end", () => {
            res.setHeader("Content-Type", "application/x-amz-json-1.1");
            res.end(JSON.stringify({ Username: "bench", UserAttributes: [{ Name: "custom:clientId", Value: CLIENT_ID }] }));
        });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as { port: number };
    return { endpoint: `http://127.0.0.1:${port}`, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

/** Milliseconds from spawning `node args` to its exit, checking that it printed `expect`. */
function spawnMs(node: string, args: string[], env: NodeJS.ProcessEnv, expect = ""): Promise<number> {
    const start = process.hrtime.bigint();
    return new Promise((resolve, reject) =>
        execFile(node, args, { env }, (err, stdout, stderr) => {
            if (err) reject(new Error(`${err.message}: ${stderr.slice(0, 300)}`));
            else if (stdout !== expect) reject(new Error(`unexpected answer ${JSON.stringify(stdout.slice(0, 200))}`));
            else resolve(Number(process.hrtime.bigint() - start) / 1e6);
        }),
    );
}

async function coldRows(): Promise<BenchRow[]> {
    const node = lambdaNode();
    const cognito = await fakeCognito();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "bench-authorizer-"));
    try {
        const key = createSigningKey("bench-key");
        const jwks = jwksOf(key);
        const endpoint = cognito.endpoint;
        // As deployed (a factory run once per cold start), with the pool's JWKS captured instead of fetched.
        const factory = () => createAuthorizer({ userPoolId: POOL, clientId: CLIENT, jwks, cognito: { endpoint, region: "us-east-1" } });
        fs.symlinkSync(path.resolve(__dirname, "..", "node_modules"), path.join(dir, "node_modules"), "dir");
        const file = path.join(dir, "index.js");
        fs.writeFileSync(file, (await pulumi.runtime.serializeFunction(factory, { isFactoryFunction: true })).text);
        const answer = (token: string) => [
            "-e",
            `require(${JSON.stringify(file)}).handler({ type: "TOKEN", authorizationToken: ${JSON.stringify(token)}, methodArn: ${JSON.stringify(METHOD_ARN)} })` +
                ".then((r) => process.stdout.write(r.policyDocument.Statement[0].Effect))",
        ];
        const env = {
            ...process.env,
            AWS_ACCESS_KEY_ID: "AKIDBENCH",
            AWS_SECRET_ACCESS_KEY: "bench",
            AWS_REGION: "us-east-1",
            NODE_NO_WARNINGS: "1",
        };
        const id = idToken({ userPoolId: POOL, clientId: CLIENT, key, clientIdAttribute: CLIENT_ID });
        const access = accessToken({ userPoolId: POOL, clientId: CLIENT, key });
        const samples = { empty: [] as number[], id: [] as number[], access: [] as number[] };
        await spawnMs(node.path, answer(access), env, "Allow"); // fills the file cache
        for (let i = 0; i < 7; i++) {
            samples.empty.push(await spawnMs(node.path, ["-e", "0"], env));
            samples.id.push(await spawnMs(node.path, answer(id), env, "Allow"));
            samples.access.push(await spawnMs(node.path, answer(access), env, "Allow"));
        }
        const median = (xs: number[]) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)];
        const floor = { case: `empty Node process (node -e 0), Node ${node.version}`, value: median(samples.empty) };
        return [
            {
                area: AREA,
                case: "cold start, ID token: spawn to answer",
                value: median(samples.id),
                unit: "ms",
                floor,
                note: "median of 7; the Cognito SDK is not loaded",
            },
            {
                area: AREA,
                case: "cold start, access token: spawn to answer",
                value: median(samples.access),
                unit: "ms",
                floor,
                note: "loads the Cognito SDK and calls GetUser on a loopback stub",
            },
        ];
    } finally {
        await cognito.close();
        fs.rmSync(dir, { recursive: true, force: true });
    }
}

export async function run(): Promise<BenchRow[]> {
    return [...(await warmRows()), ...(await coldRows())];
}
