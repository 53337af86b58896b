/**
 * Local mode's one HTTP server: the Cognito JSON-protocol endpoint (`POST /` with X-Amz-Target), the
 * pool's JWKS document, the REST API stage, and the built-in Zendesk recorder.
 */
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import { CognitoEmulator, CognitoError } from "./cognito";
import type { LocalRestApi } from "./api-gateway/rest-api";
import { MAX_REQUEST_BYTES } from "./api-gateway/rest-api";
import type { LocalConsole } from "./console/server";
import type { Logger } from "./log";
import { ZENDESK_RECORDER_PATH, type ZendeskRecorder } from "./zendesk-recorder";

const COGNITO_TARGET_PREFIX = "AWSCognitoIdentityProviderService.";

/** Where local mode hands out its ready line's JSON to tools (the generator's `--local`). */
export const OUTPUTS_PATH = "/_local/outputs";

export interface ServerParts {
    /** The ready line's JSON, once known. */
    outputs?: () => unknown;
    cognito: CognitoEmulator;
    api: LocalRestApi;
    recorder?: ZendeskRecorder;
    /** The browser console and /_local/metrics. */
    console?: LocalConsole;
    log: Logger;
}

/** Reads a body up to a limit; resolves undefined when it is larger. */
function readBody(req: http.IncomingMessage, limit: number): Promise<Buffer | undefined> {
    return new Promise((resolve, reject) => {
        const chunks: Buffer[] = [];
        let size = 0;
        let tooLarge = false;
        req.on("data", (chunk: Buffer) => {
            size += chunk.length;
            if (size > limit) tooLarge = true;
            else chunks.push(chunk);
        });
        req.on("end", () => resolve(tooLarge ? undefined : Buffer.concat(chunks)));
        req.on("error", reject);
    });
}

export class LocalServer {
    readonly server: http.Server;
    private readonly inFlight = new Set<Promise<void>>();
    /** While draining, the API and Cognito refuse new work; the recorder still answers pending deliveries. */
    private draining = false;

    constructor(private readonly parts: ServerParts) {
        this.server = http.createServer((req, res) => {
            const work = this.route(req, res).catch((err) => {
                parts.log.warn(`server error: ${(err as Error).stack ?? err}`);
                if (!res.headersSent) res.writeHead(500, { "Content-Type": "application/json" });
                res.end(JSON.stringify({ message: "Internal server error" }));
            });
            const tracked = work.finally(() => this.inFlight.delete(tracked));
            this.inFlight.add(tracked);
        });
        this.server.keepAliveTimeout = 5000;
    }

    listen(port: number, host: string): Promise<AddressInfo> {
        return new Promise((resolve, reject) => {
            this.server.once("error", reject);
            this.server.listen(port, host, () => {
                this.server.off("error", reject);
                resolve(this.server.address() as AddressInfo);
            });
        });
    }

    /** Refuses new API and Cognito requests and waits for those in progress. */
    async drain(): Promise<void> {
        this.draining = true;
        while (this.inFlight.size > 0) await Promise.all([...this.inFlight]);
    }

    async close(): Promise<void> {
        await this.drain();
        await new Promise<void>((resolve) => {
            this.server.close(() => resolve());
            this.server.closeAllConnections();
        });
    }

    private async route(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
        const url = new URL(req.url ?? "/", "http://localhost");
        const path = url.pathname;
        const { cognito, api, recorder, log } = this.parts;

        if (recorder && path === ZENDESK_RECORDER_PATH) {
            const body = (await readBody(req, 1024 * 1024)) ?? Buffer.alloc(0);
            recorder.handle(req, res, body);
            return;
        }
        if (this.draining) {
            res.writeHead(503, { "Content-Type": "application/json", Connection: "close" });
            res.end(JSON.stringify({ message: "Local mode is shutting down" }));
            return;
        }
        const target = req.headers["x-amz-target"];
        if (path === "/" && (req.method === "OPTIONS" || typeof target === "string")) {
            await this.cognito(req, res, typeof target === "string" ? target : "");
            return;
        }
        if (this.parts.console?.owns(path)) {
            await this.parts.console.handle(req, res, path, url.searchParams);
            return;
        }
        if (req.method === "GET" && path === OUTPUTS_PATH && this.parts.outputs) {
            res.writeHead(200, { "Content-Type": "application/json" });
            res.end(JSON.stringify(this.parts.outputs()));
            return;
        }
        if (req.method === "GET" && path === `/${cognito.settings.userPoolId}/.well-known/jwks.json`) {
            res.writeHead(200, { "Content-Type": "application/json", "Access-Control-Allow-Origin": "*" });
            res.end(JSON.stringify(cognito.jwks()));
            return;
        }
        if (api.owns(path)) {
            const started = Date.now();
            const body = await readBody(req, MAX_REQUEST_BYTES);
            const response = await api.handle({
                method: req.method ?? "GET",
                path,
                headers: req.headers,
                body: body ?? Buffer.alloc(MAX_REQUEST_BYTES + 1),
                sourceIp: req.socket.remoteAddress ?? "127.0.0.1",
            });
            res.writeHead(response.status, { ...response.headers, "Content-Length": Buffer.byteLength(response.body) });
            res.end(response.body);
            if (!log.quiet) log.info(`api ${req.method} ${path} -> ${response.status} ${response.note} (${Date.now() - started} ms)`);
            return;
        }
        res.writeHead(404, { "Content-Type": "application/json" });
        res.end(JSON.stringify({ message: `Not found. The API is at /${api.settings.stage}/event; Cognito at / (X-Amz-Target)` }));
    }

    private async cognito(req: http.IncomingMessage, res: http.ServerResponse, target: string): Promise<void> {
        const headers = {
            "Content-Type": "application/x-amz-json-1.1",
            "Access-Control-Allow-Origin": "*",
            "Access-Control-Allow-Headers":
                "content-type,x-amz-target,x-amz-user-agent,authorization,x-amz-date,x-amz-security-token,amz-sdk-invocation-id,amz-sdk-request",
            "Access-Control-Allow-Methods": "POST,OPTIONS",
            "Access-Control-Expose-Headers": "x-amzn-requestid,x-amzn-errortype,x-amzn-errormessage",
        };
        if (req.method === "OPTIONS") {
            res.writeHead(204, headers);
            res.end();
            return;
        }
        const raw = (await readBody(req, 1024 * 1024)) ?? Buffer.alloc(0);
        const operation = target.startsWith(COGNITO_TARGET_PREFIX) ? target.slice(COGNITO_TARGET_PREFIX.length) : target;
        const send = (status: number, value: unknown, errorType?: string) => {
            const body = JSON.stringify(value);
            res.writeHead(status, {
                ...headers,
                "x-amzn-RequestId": "local",
                ...(errorType ? { "x-amzn-ErrorType": errorType } : {}),
                "Content-Length": Buffer.byteLength(body),
            });
            res.end(body);
        };
        let input: Record<string, unknown>;
        try {
            input = raw.length === 0 ? {} : (JSON.parse(raw.toString("utf8")) as Record<string, unknown>);
        } catch {
            send(400, { __type: "SerializationException", message: "Request body is not JSON." }, "SerializationException");
            return;
        }
        try {
            // The request as received: IAM-authorized operations verify its SigV4 signature.
            const output = await this.parts.cognito.call(operation, input, {
                method: req.method ?? "POST",
                url: req.url ?? "/",
                headers: req.headers,
                body: raw,
            });
            send(200, output);
        } catch (err) {
            if (err instanceof CognitoError) {
                this.parts.log.info(`cognito ${operation} -> ${err.code}`);
                send(err.status, { __type: err.code, message: err.message }, err.code);
                return;
            }
            this.parts.log.warn(`cognito ${operation} failed: ${(err as Error).stack ?? err}`);
            send(500, { __type: "InternalErrorException", message: "Internal error in local Cognito." }, "InternalErrorException");
        }
    }
}
