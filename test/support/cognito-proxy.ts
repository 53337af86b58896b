/**
 * A recording, optionally fault-injecting, HTTP proxy in front of a Cognito JSON-protocol endpoint
 * (local mode's, local/cognito.ts). Tests read which operations a client called and, where they need a
 * fault Cognito would only show under conditions a test cannot create (a revoked refresh token), script it
 * here; everything else is answered by the real emulator behind.
 */
import * as http from "node:http";
import type { AddressInfo } from "node:net";

export interface CognitoCall {
    operation: string;
    input: Record<string, unknown>;
    /** The Authorization header the call came with (a SigV4 signature for Admin* calls, or none). */
    authorization?: string;
    /** The answer's body (parsed), once it came. */
    output?: Record<string, unknown>;
}

/** A scripted answer instead of the emulator's: HTTP status and Cognito error type. */
export interface CognitoFault {
    status: number;
    type: string;
    message: string;
}

export interface CognitoProxy {
    /** The endpoint to give clients (`http://127.0.0.1:<port>/`). */
    endpoint: string;
    /** Every call, in order. */
    calls: CognitoCall[];
    /** Decides, per call, whether to answer with a fault instead of forwarding. */
    fault?: (call: CognitoCall) => CognitoFault | undefined;
    close(): Promise<void>;
}

/** The tokens Cognito issued through the proxy so far (InitiateAuth answers). */
export function issuedTokens(proxy: CognitoProxy): string[] {
    return proxy.calls.flatMap((call) => {
        const result = (call.output?.AuthenticationResult ?? {}) as Record<string, unknown>;
        return [result.IdToken, result.AccessToken].filter((t): t is string => typeof t === "string");
    });
}

interface Answer {
    status: number;
    headers: http.OutgoingHttpHeaders;
    body: Buffer;
}

/** Sends the request on to the emulator at `target`, path and headers unchanged. */
function forward(target: string, req: http.IncomingMessage, body: Buffer): Promise<Answer> {
    const url = new URL(req.url ?? "/", target);
    return new Promise((resolve, reject) => {
        const out = http.request(url, { method: req.method, headers: req.headers }, (answer) => {
            const chunks: Buffer[] = [];
            answer.on("data", (c: Buffer) => chunks.push(c));
            answer.on("end", () => {
                const headers = Object.fromEntries(
                    Object.entries(answer.headers).filter(([k]) => k !== "content-length" && k !== "transfer-encoding"),
                );
                resolve({ status: answer.statusCode ?? 502, headers, body: Buffer.concat(chunks) });
            });
            answer.on("error", reject);
        });
        out.on("error", reject);
        out.end(body);
    });
}

function parseJsonOrText(body: Buffer): Record<string, unknown> {
    try {
        return JSON.parse(body.toString("utf8"));
    } catch {
        return { text: body.toString("utf8") };
    }
}

export async function startCognitoProxy(target: string): Promise<CognitoProxy> {
    const proxy = { calls: [] as CognitoCall[] } as CognitoProxy;
    const server = http.createServer((req, res) => {
        const chunks: Buffer[] = [];
        req.on("data", (c: Buffer) => chunks.push(c));
        req.on("end", async () => {
            const body = Buffer.concat(chunks);
            const amzTarget = String(req.headers["x-amz-target"] ?? "");
            const call: CognitoCall = {
                operation: amzTarget.slice(amzTarget.lastIndexOf(".") + 1),
                input: body.length ? JSON.parse(body.toString("utf8")) : {},
                authorization: req.headers.authorization,
            };
            proxy.calls.push(call);
            const fault = proxy.fault?.(call);
            if (fault) {
                res.writeHead(fault.status, { "Content-Type": "application/x-amz-json-1.1", "x-amzn-ErrorType": fault.type });
                res.end(JSON.stringify({ __type: fault.type, message: fault.message }));
                return;
            }
            // Forwarded with every header as sent, Host included: Admin* calls carry a SigV4 signature over it.
            const answer = await forward(target, req, body);
            res.writeHead(answer.status, answer.headers);
            call.output = answer.body.length ? parseJsonOrText(answer.body) : {};
            res.end(answer.body);
        });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    proxy.endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
    proxy.close = () =>
        new Promise<void>((resolve) => {
            server.closeAllConnections();
            server.close(() => resolve());
        });
    return proxy;
}
