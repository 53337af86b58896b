/** Utilities for the local-mode tests: a temp data dir, a signed-up user, events, and reading the outputs. */
import { mkdtempSync, readdirSync, readFileSync, existsSync, rmSync, statSync } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import {
    AdminGetUserCommand,
    CognitoIdentityProviderClient,
    ConfirmSignUpCommand,
    InitiateAuthCommand,
    SignUpCommand,
} from "@aws-sdk/client-cognito-identity-provider";
import { startLocal, type LocalOptions, type LocalPipeline } from "../../local";
import type { FirehoseSettings } from "../../local/firehose";
import type { RestApiSettings } from "../../local/api-gateway/rest-api";
import { PARTITION_KEYS_JQ_QUERY, RECORD_DELIMITER, S3_ERROR_PREFIX, S3_PREFIX } from "../../pipeline/partitioning";

const created: string[] = [];
process.on("exit", () => {
    for (const dir of created) rmSync(dir, { recursive: true, force: true });
});

/** A fresh data directory, removed when the test process exits. */
export function tempDataDir(): string {
    const dir = mkdtempSync(path.join(os.tmpdir(), "client-events-local-"));
    created.push(dir);
    return dir;
}

export interface StartedLocal {
    local: LocalPipeline;
    codes: Map<string, string>;
    cognito: CognitoIdentityProviderClient;
    /** Local mode's log lines (kept in memory, not printed). */
    logs: string[];
}

/** Starts local mode on a free port in a fresh temp directory, its log kept in `logs`, with fast retries. */
export async function startTestLocal(options: LocalOptions = {}): Promise<StartedLocal> {
    const codes = new Map<string, string>();
    const logs: string[] = [];
    const local = await startLocal({
        port: 0,
        dataDir: tempDataDir(),
        logLine: (line) => logs.push(line),
        bufferSeconds: 60, // tests call flush(); the interval must not split what they send
        retry: { baseMs: 20, maxDelayMs: 100 },
        ...options,
        onConfirmationCode: (username, code) => codes.set(username, code),
    });
    const cognito = new CognitoIdentityProviderClient({
        endpoint: local.outputs.cognitoEndpoint,
        region: local.outputs.region,
        credentials: { ...local.credentials }, // Admin* and ListUsers are signed with local mode's own credentials (the SDK marks the object)
    });
    return { local, codes, cognito, logs };
}

/**
 * The request model's complaint about a refused body, from local mode's log: the 400 answer holds a fixed
 * message and the request id only (pipeline/gateway-responses.ts), as the deployed access log does.
 */
export function validationErrorOf(started: StartedLocal, answer: { requestId?: string }): string {
    const marker = `(request ${answer.requestId}): `;
    const line = started.logs.find((l) => l.includes(marker));
    if (!answer.requestId || !line) throw new Error(`no validation error logged for request ${answer.requestId}`);
    return line.slice(line.indexOf(marker) + marker.length);
}

export interface TestUser {
    username: string;
    password: string;
    clientId: string;
    accessToken: string;
    idToken: string;
    refreshToken: string;
}

let userCounter = 0;

/** Signs a user up through Cognito's API and, unless `confirm` is false, confirms it with the "e-mailed" code. */
export async function createUser(started: StartedLocal, username: string, password: string, confirm = true): Promise<void> {
    const ClientId = started.local.outputs.userPoolClientId;
    await started.cognito.send(
        new SignUpCommand({
            ClientId,
            Username: username,
            Password: password,
            UserAttributes: [{ Name: "email", Value: `${username}@example.com` }],
        }),
    );
    if (!confirm) return;
    const code = started.codes.get(username.toLowerCase());
    if (!code) throw new Error(`no confirmation code for ${username}`);
    await started.cognito.send(new ConfirmSignUpCommand({ ClientId, Username: username, ConfirmationCode: code }));
}

/** The claims of a JWT (not verified: for reading what a test was given). */
export function claimsOf(token: string): Record<string, unknown> {
    return JSON.parse(Buffer.from(token.split(".")[1] ?? "", "base64url").toString("utf8"));
}

/** Signs up, confirms with the "e-mailed" code and signs in, all through the Cognito API. */
export async function signUpUser(started: StartedLocal, name = `user${++userCounter}`): Promise<TestUser> {
    const { local, codes, cognito } = started;
    const password = "Correct-Horse1";
    const ClientId = local.outputs.userPoolClientId;
    await cognito.send(
        new SignUpCommand({
            ClientId,
            Username: name,
            Password: password,
            UserAttributes: [{ Name: "email", Value: `${name}@example.com` }],
        }),
    );
    const code = codes.get(name.toLowerCase());
    if (!code) throw new Error(`no confirmation code for ${name}`);
    await cognito.send(new ConfirmSignUpCommand({ ClientId, Username: name, ConfirmationCode: code }));
    const user = await cognito.send(new AdminGetUserCommand({ UserPoolId: local.outputs.userPoolId, Username: name }));
    const clientId = user.UserAttributes?.find((a) => a.Name === "custom:clientId")?.Value;
    if (!clientId) throw new Error("post-confirmation gave the user no clientId");
    const auth = await cognito.send(
        new InitiateAuthCommand({ ClientId, AuthFlow: "USER_PASSWORD_AUTH", AuthParameters: { USERNAME: name, PASSWORD: password } }),
    );
    const result = auth.AuthenticationResult!;
    return {
        username: name,
        password,
        clientId,
        accessToken: result.AccessToken!,
        idToken: result.IdToken!,
        refreshToken: result.RefreshToken!,
    };
}

export interface PostResult {
    status: number;
    body: string;
    json: any;
    headers: Headers;
}

/** POSTs a raw body to the event API. */
export async function postRaw(local: LocalPipeline, body: string, headers: Record<string, string> = {}): Promise<PostResult> {
    const res = await fetch(local.outputs.apiUrl, { method: "POST", headers: { "Content-Type": "application/json", ...headers }, body });
    const text = await res.text();
    let json: unknown;
    try {
        json = JSON.parse(text);
    } catch {
        json = undefined;
    }
    return { status: res.status, body: text, json, headers: res.headers };
}

/** POSTs events (each given as the exact entry string) with a token. */
export function postEntries(local: LocalPipeline, token: string, entries: string[]): Promise<PostResult> {
    return postRaw(local, JSON.stringify({ entries: entries.map((entry) => ({ entry })) }), { Authorization: token });
}

/** Every file under a directory, recursively, as paths relative to it. */
export function listFiles(dir: string): string[] {
    if (!existsSync(dir)) return [];
    const out: string[] = [];
    const walk = (d: string) => {
        for (const name of readdirSync(d)) {
            const full = path.join(d, name);
            if (statSync(full).isDirectory()) walk(full);
            else out.push(path.relative(dir, full).split(path.sep).join("/"));
        }
    };
    walk(dir);
    return out.sort();
}

export interface StoredRecord {
    key: string;
    line: string;
    record: any;
}

/** Every record of every archive object (newline-delimited), with the object key it is in. */
export function archiveRecords(local: LocalPipeline): StoredRecord[] {
    const bucketDir = path.join(local.details.s3Dir, local.outputs.bucketName);
    const out: StoredRecord[] = [];
    for (const key of listFiles(bucketDir).filter((k) => k.startsWith("events/"))) {
        const text = readFileSync(path.join(bucketDir, key), "utf8");
        if (!text.endsWith("\n")) throw new Error(`object ${key} does not end with the record delimiter`);
        for (const line of text.slice(0, -1).split("\n")) out.push({ key, line, record: JSON.parse(line) });
    }
    return out;
}

/** Lines of a JSON-lines file (empty when absent). */
export function jsonLines(file: string): any[] {
    if (!existsSync(file)) return [];
    return readFileSync(file, "utf8")
        .split("\n")
        .filter((l) => l !== "")
        .map((l) => JSON.parse(l));
}

/** A test delivery stream's settings, writing under `<dataDir>/s3`: the deployed prefixes, query and delimiter, a long buffer. */
export function testFirehoseSettings(dataDir: string): Omit<FirehoseSettings, "transform" | "jq" | "activity"> {
    return {
        streamName: "s",
        streamArn: "arn:aws:firehose:eu-west-1:000000000000:deliverystream/s",
        region: "eu-west-1",
        bucketName: "b",
        s3Dir: path.join(dataDir, "s3"),
        prefix: S3_PREFIX,
        errorPrefix: S3_ERROR_PREFIX,
        bufferIntervalSeconds: 300,
        bufferSizeBytes: 64 * 1024 * 1024,
        metadataExtractionQuery: PARTITION_KEYS_JQ_QUERY,
        delimiter: RECORD_DELIMITER,
    };
}

/** A test REST API's settings: stage `dev` of API `api`, its stage variables, a 300 s authorizer cache, CORS `*`. */
export function testRestApiSettings(): RestApiSettings {
    return {
        apiId: "api",
        stage: "dev",
        region: "eu-west-1",
        accountId: "000000000000",
        stageVariables: { Environment: "dev", Bus: "bus" },
        authorizerResultTtlSeconds: 300,
        identityHeader: "Authorization",
        corsAllowOrigin: "*",
    };
}
