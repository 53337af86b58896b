/**
 * A stand-in for the deployed ingest API where the client and generator tests need faults the real one
 * (local mode's) cannot be made to produce on cue: a real HTTP server on 127.0.0.1 with the deployed API's
 * answers (the real request model, 401 for a token that does not verify, 207 with per-entry results) and
 * scripted faults (429 with Retry-After, 503, per-entry errors, dropped connections). Tokens are verified
 * with aws-jwt-verify against the JWKS of local mode's Cognito, which issues them (test/support/local.ts).
 */
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import Ajv from "ajv-draft-04";
import { CognitoJwtVerifier } from "aws-jwt-verify";
import type { Jwks } from "aws-jwt-verify/jwk";
import { REQUEST_MODEL_SCHEMA } from "../../pipeline/request-model";
import { tokenOfAuthorizationHeader } from "../../pipeline/authorization-header";

/** One scripted answer for the next API request. */
export type ApiFault =
    { status: number; retryAfter?: string; body?: object } | { failEntries: Record<number, string> } | { dropConnection: true };

export interface ApiRequestRecord {
    authorization: string | undefined;
    status: number;
    /** Parsed events of the request (entries that are not JSON appear as undefined). */
    events: Array<Record<string, unknown> | undefined>;
}

export interface ApiFixture {
    baseUrl: string;
    /** The stage URL (`<base>/dev`): clients post to `${apiUrl}/event`. */
    apiUrl: string;
    /** Answers for the next requests, consumed in order; empty = normal behaviour. */
    faults: ApiFault[];
    /** An entry containing this text makes the whole request a 400 (as EventBridge's ValidationException). */
    poison?: string;
    requests: ApiRequestRecord[];
    /** Accepted events, in order of acceptance. */
    accepted: Array<Record<string, unknown>>;
    /** Refuses these tokens from now on (as after a global sign-out). */
    revoke(tokens: string[]): void;
    close(): Promise<void>;
}

export interface ApiFixtureCognito {
    userPoolId: string;
    userPoolClientId: string;
    jwks: Jwks;
}

const validate = new Ajv({ allErrors: true }).compile(REQUEST_MODEL_SCHEMA as object);

function parseEvents(body: { entries?: Array<{ entry: string }> } | undefined): ApiRequestRecord["events"] {
    return (body?.entries ?? []).map((e) => {
        try {
            return JSON.parse(e.entry);
        } catch {
            return undefined;
        }
    });
}

export async function startApiFixture(cognito: ApiFixtureCognito): Promise<ApiFixture> {
    const verifier = CognitoJwtVerifier.create({ userPoolId: cognito.userPoolId, clientId: cognito.userPoolClientId, tokenUse: null });
    verifier.cacheJwks(cognito.jwks);
    const revoked = new Set<string>();
    let eventIds = 0;
    const fixture = {
        faults: [],
        requests: [],
        accepted: [],
        revoke: (tokens: string[]) => tokens.forEach((t) => revoked.add(t)),
    } as unknown as ApiFixture;

    async function authorized(header: string | undefined): Promise<boolean> {
        const token = tokenOfAuthorizationHeader(header);
        if (!token || revoked.has(token)) return false;
        return verifier.verify(token).then(
            () => true,
            () => false,
        );
    }

    function answer(
        record: ApiRequestRecord,
        res: http.ServerResponse,
        status: number,
        body: object,
        headers: Record<string, string> = {},
    ): void {
        record.status = status;
        res.writeHead(status, { "Content-Type": "application/json", ...headers });
        res.end(JSON.stringify(body));
    }

    async function api(req: http.IncomingMessage, text: string, res: http.ServerResponse): Promise<void> {
        let parsed: { entries?: Array<{ entry: string }> } | undefined;
        try {
            parsed = JSON.parse(text);
        } catch {
            parsed = undefined;
        }
        const record: ApiRequestRecord = { authorization: req.headers.authorization, status: 0, events: parseEvents(parsed) };
        fixture.requests.push(record);
        if (!(await authorized(req.headers.authorization))) return answer(record, res, 401, { message: "Unauthorized" });
        if (!validate(parsed) || !parsed?.entries) return answer(record, res, 400, { message: "Invalid request body" });
        const poison = fixture.poison;
        if (poison !== undefined && parsed.entries.some((e) => e.entry.includes(poison))) {
            return answer(record, res, 400, { message: "EventBridge rejected the request: poison", retryable: false });
        }
        const fault = fixture.faults.shift();
        if (fault && "dropConnection" in fault) {
            req.socket.destroy();
            return;
        }
        if (fault && "status" in fault) {
            return answer(
                record,
                res,
                fault.status,
                fault.body ?? { message: `scripted ${fault.status}` },
                fault.retryAfter ? { "Retry-After": fault.retryAfter } : {},
            );
        }
        const failEntries = fault && "failEntries" in fault ? fault.failEntries : {};
        const results = record.events.map((event, i) => {
            const code = failEntries[i];
            if (code)
                return {
                    errorCode: code,
                    errorMessage: `scripted ${code}`,
                    retryable: code === "ThrottlingException" || code === "InternalFailure",
                };
            if (!event || typeof event !== "object" || Array.isArray(event))
                return { errorCode: "MalformedDetail", errorMessage: "Detail is malformed.", retryable: false };
            fixture.accepted.push(event);
            return { eventId: `bus-${++eventIds}` };
        });
        const failedEntryCount = results.filter((r) => "errorCode" in r).length;
        answer(record, res, failedEntryCount > 0 ? 207 : 200, { failedEntryCount, entries: results });
    }

    const server = http.createServer((req, res) => {
        const chunks: Buffer[] = [];
        req.on("data", (c: Buffer) => chunks.push(c));
        req.on("end", () => {
            if (req.method === "POST" && req.url === "/dev/event") {
                void api(req, Buffer.concat(chunks).toString("utf8"), res);
                return;
            }
            res.writeHead(404, { "Content-Type": "application/json" });
            res.end(JSON.stringify({ message: "Missing Authentication Token" }));
        });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    fixture.baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    fixture.apiUrl = `${fixture.baseUrl}/dev`;
    fixture.close = () =>
        new Promise<void>((resolve) => {
            server.closeAllConnections();
            server.close(() => resolve());
        });
    return fixture;
}
