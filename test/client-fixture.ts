/**
 * A local stand-in for the deployed API and Cognito, for the client and generator tests: a real HTTP server
 * on 127.0.0.1 that speaks Cognito's JSON protocol (SignUp, ConfirmSignUp, AdminConfirmSignUp,
 * InitiateAuth with USER_PASSWORD_AUTH / REFRESH_TOKEN_AUTH) and `POST /dev/event` with the deployed API's
 * answers: request-model validation (the real schema), 401 for unknown or expired tokens, 207 with
 * per-entry results. Tests script faults (429 with Retry-After, 503, per-entry throttling, dropped
 * connections) and read back every request and every accepted event.
 */
import * as http from "http";
import { AddressInfo } from "net";
import Ajv from "ajv-draft-04";
import { REQUEST_MODEL_SCHEMA } from "../pipeline/request-model";

/** One scripted answer for the next API request. */
export type ApiFault =
    | { status: number; retryAfter?: string; body?: object }
    | { failEntries: Record<number, string> }
    | { dropConnection: true };

export interface ApiRequestRecord {
    authorization: string | undefined;
    status: number;
    /** Parsed events of the request (entries that are not JSON appear as undefined). */
    events: Array<Record<string, unknown> | undefined>;
}

export interface FixtureUser {
    password: string;
    confirmed: boolean;
    email?: string;
}

export interface Fixture {
    baseUrl: string;
    apiUrl: string;
    cognitoEndpoint: string;
    /** The fixture's clock (ms); tokens expire against it. Tests move it. */
    clock: { now: number };
    /** Token lifetime handed out by InitiateAuth, in seconds. */
    tokenLifetimeSeconds: number;
    users: Map<string, FixtureUser>;
    /** Answers for the next API requests, consumed in order; empty = normal behaviour. */
    faults: ApiFault[];
    /** An entry containing this text makes the whole request a 400 (like an invalid body). */
    poison?: string;
    requests: ApiRequestRecord[];
    /** Each Cognito call, with the Authorization header it came with (a SigV4 signature, or none). */
    cognitoCalls: Array<{ operation: string; body: Record<string, unknown>; authorization?: string }>;
    /** Accepted events in order of acceptance. */
    accepted: Array<Record<string, unknown>>;
    /** Revoke every token issued so far (the API then answers 401). */
    revokeAccessTokens(): void;
    /** Revoke every refresh token. */
    revokeRefreshTokens(): void;
    close(): Promise<void>;
}

const validate = new Ajv({ allErrors: true }).compile(REQUEST_MODEL_SCHEMA as object);

export async function startFixture(options: { clock?: { now: number } } = {}): Promise<Fixture> {
    const tokens = new Map<string, number>(); // token -> expiresAt
    const refreshTokens = new Map<string, string>(); // refresh token -> user
    let counter = 0;

    const fixture = {
        clock: options.clock ?? { now: Date.now() },
        tokenLifetimeSeconds: 3600,
        users: new Map<string, FixtureUser>(),
        faults: [] as ApiFault[],
        requests: [] as ApiRequestRecord[],
        cognitoCalls: [] as Array<{ operation: string; body: Record<string, unknown>; authorization?: string }>,
        accepted: [] as Array<Record<string, unknown>>,
        revokeAccessTokens: () => tokens.clear(),
        revokeRefreshTokens: () => refreshTokens.clear(),
    } as unknown as Fixture;

    function issue(username: string, withRefresh: boolean): object {
        const id = ++counter;
        const idToken = `id-${id}-${username}`;
        const accessToken = `access-${id}-${username}`;
        const expiresAt = fixture.clock.now + fixture.tokenLifetimeSeconds * 1000;
        tokens.set(idToken, expiresAt);
        tokens.set(accessToken, expiresAt);
        const result: Record<string, unknown> = {
            IdToken: idToken,
            AccessToken: accessToken,
            ExpiresIn: fixture.tokenLifetimeSeconds,
            TokenType: "Bearer",
        };
        if (withRefresh) {
            const refreshToken = `refresh-${id}-${username}`;
            refreshTokens.set(refreshToken, username);
            result.RefreshToken = refreshToken;
        }
        return result;
    }

    function cognito(operation: string, body: Record<string, unknown>, authorization?: string): [number, object] {
        fixture.cognitoCalls.push({ operation, body, authorization });
        const error = (type: string, message: string): [number, object] => [400, { __type: type, message }];
        const username = String(body.Username ?? "");
        switch (operation) {
            case "SignUp": {
                if (fixture.users.has(username)) return error("UsernameExistsException", "User already exists");
                const password = String(body.Password ?? "");
                if (password.length < 8) return error("InvalidPasswordException", "Password did not conform with policy");
                const attributes = (body.UserAttributes as Array<{ Name: string; Value: string }>) ?? [];
                fixture.users.set(username, { password, confirmed: false, email: attributes.find((a) => a.Name === "email")?.Value });
                return [200, { UserConfirmed: false, UserSub: `sub-${username}` }];
            }
            case "ConfirmSignUp": {
                const user = fixture.users.get(username);
                if (!user) return error("UserNotFoundException", "Username/client id combination not found.");
                if (body.ConfirmationCode !== "123456") return error("CodeMismatchException", "Invalid verification code provided, please try again.");
                user.confirmed = true;
                return [200, {}];
            }
            case "AdminConfirmSignUp": {
                const user = fixture.users.get(username);
                if (!user) return error("UserNotFoundException", "User does not exist.");
                user.confirmed = true;
                return [200, {}];
            }
            case "InitiateAuth": {
                const params = (body.AuthParameters ?? {}) as Record<string, string>;
                if (body.AuthFlow === "USER_PASSWORD_AUTH") {
                    const user = fixture.users.get(params.USERNAME);
                    if (!user || user.password !== params.PASSWORD) return error("NotAuthorizedException", "Incorrect username or password.");
                    if (!user.confirmed) return error("UserNotConfirmedException", "User is not confirmed.");
                    return [200, { AuthenticationResult: issue(params.USERNAME, true), ChallengeParameters: {} }];
                }
                if (body.AuthFlow === "REFRESH_TOKEN_AUTH") {
                    const user = refreshTokens.get(params.REFRESH_TOKEN);
                    if (!user) return error("NotAuthorizedException", "Invalid Refresh Token");
                    return [200, { AuthenticationResult: issue(user, false), ChallengeParameters: {} }];
                }
                return error("InvalidParameterException", `unsupported flow ${String(body.AuthFlow)}`);
            }
            default:
                return error("UnknownOperationException", operation);
        }
    }

    function api(req: http.IncomingMessage, text: string, res: http.ServerResponse): void {
        const record: ApiRequestRecord = { authorization: req.headers.authorization, status: 0, events: [] };
        const send = (status: number, body: object, headers: Record<string, string> = {}) => {
            record.status = status;
            res.writeHead(status, { "Content-Type": "application/json", ...headers });
            res.end(JSON.stringify(body));
        };
        let parsed: { entries?: Array<{ entry: string }> } | undefined;
        try {
            parsed = JSON.parse(text);
        } catch {
            parsed = undefined;
        }
        record.events = (parsed?.entries ?? []).map((e) => {
            try {
                return JSON.parse(e.entry);
            } catch {
                return undefined;
            }
        });
        fixture.requests.push(record);

        const token = (req.headers.authorization ?? "").replace(/^Bearer /, "");
        const expiresAt = tokens.get(token);
        if (expiresAt === undefined || expiresAt <= fixture.clock.now) return send(401, { message: "Unauthorized" });
        if (!validate(parsed)) return send(400, { message: "Invalid request body" });
        if (fixture.poison && parsed!.entries!.some((e) => e.entry.includes(fixture.poison!))) {
            return send(400, { message: "EventBridge rejected the request: poison", retryable: false });
        }
        const fault = fixture.faults.shift();
        if (fault && "dropConnection" in fault) {
            record.status = 0;
            req.socket.destroy();
            return;
        }
        if (fault && "status" in fault) {
            return send(fault.status, fault.body ?? { message: `scripted ${fault.status}` }, fault.retryAfter ? { "Retry-After": fault.retryAfter } : {});
        }
        const failEntries = fault && "failEntries" in fault ? fault.failEntries : {};
        const results = record.events.map((event, i) => {
            if (failEntries[i]) {
                const code = failEntries[i];
                return { errorCode: code, errorMessage: `scripted ${code}`, retryable: code === "ThrottlingException" || code === "InternalFailure" };
            }
            if (!event || typeof event !== "object" || Array.isArray(event)) {
                return { errorCode: "MalformedDetail", errorMessage: "Detail is malformed.", retryable: false };
            }
            fixture.accepted.push(event);
            return { eventId: `bus-${++counter}` };
        });
        const failedEntryCount = results.filter((r) => "errorCode" in r).length;
        send(failedEntryCount > 0 ? 207 : 200, { failedEntryCount, entries: results });
    }

    const server = http.createServer((req, res) => {
        const chunks: Buffer[] = [];
        req.on("data", (c: Buffer) => chunks.push(c));
        req.on("end", () => {
            const text = Buffer.concat(chunks).toString("utf8");
            const target = req.headers["x-amz-target"];
            if (req.method === "POST" && req.url === "/cognito/" && typeof target === "string") {
                const [status, body] = cognito(target.split(".").pop()!, JSON.parse(text || "{}"), req.headers.authorization);
                res.writeHead(status, { "Content-Type": "application/x-amz-json-1.1" });
                res.end(JSON.stringify(body));
                return;
            }
            if (req.method === "POST" && req.url === "/dev/event") return api(req, text, res);
            res.writeHead(404, { "Content-Type": "application/json" });
            res.end(JSON.stringify({ message: "Missing Authentication Token" }));
        });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const port = (server.address() as AddressInfo).port;
    fixture.baseUrl = `http://127.0.0.1:${port}`;
    fixture.apiUrl = `${fixture.baseUrl}/dev`;
    fixture.cognitoEndpoint = `${fixture.baseUrl}/cognito/`;
    fixture.close = () =>
        new Promise<void>((resolve) => {
            server.closeAllConnections();
            server.close(() => resolve());
        });
    return fixture;
}
