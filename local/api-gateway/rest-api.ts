/**
 * The ingest REST API as API Gateway runs it: `POST /{stage}/event` with a TOKEN Lambda authorizer (result
 * cache keyed by the token), the request model, the application/json mapping template, the PutEvents
 * service integration and the integration responses; gateway responses for errors API Gateway raises
 * itself; the CORS preflight. Every template and schema is imported from `pipeline/`.
 */
import { randomUUID } from "node:crypto";
import type { APIGatewayAuthorizerResult, APIGatewayTokenAuthorizerEvent } from "aws-lambda";
import {
    GATEWAY_RESPONSES,
    PREFLIGHT_EXTRA_HEADERS,
    PREFLIGHT_STATUS_CODE,
    corsHeaders,
    type GatewayResponseSpec,
} from "../../pipeline/gateway-responses";
import { PUT_EVENTS_INTEGRATION_RESPONSES, type IntegrationResponseSpec } from "../../pipeline/integration-responses";
import { PASSTHROUGH_BEHAVIOR, PUT_EVENTS_REQUEST_TEMPLATES, REQUEST_CONTENT_TYPE } from "../../pipeline/mapping-template";
import { REQUEST_MODEL_SCHEMA } from "../../pipeline/request-model";
import type { ActivitySink } from "../activity";
import type { Logger } from "../log";
import { RequestValidator } from "./validation";
import { renderTemplate, renderTemplateWithOverrides } from "./vtl";

export interface RestApiSettings {
    apiId: string;
    stage: string;
    region: string;
    accountId: string;
    stageVariables: Record<string, string>;
    /** Seconds an authorizer result is cached per token (0 disables the cache). */
    authorizerResultTtlSeconds: number;
    /** Identity source header of the TOKEN authorizer. */
    identityHeader: string;
    /**
     * The TOKEN authorizer's identityValidationExpression (regular expression source): a header value
     * that does not match gets 401 without invoking the authorizer. Absent: every value is passed on.
     */
    identityValidationExpression?: string;
    corsAllowOrigin: string;
    /** Where each answered request is reported (the console and /_local/metrics). */
    activity?: ActivitySink;
}

export interface RestApiBackends {
    authorizer: (event: APIGatewayTokenAuthorizerEvent) => Promise<APIGatewayAuthorizerResult>;
    /** The PutEvents service integration: request body in, HTTP status and body out. */
    putEvents: (body: string) => Promise<{ status: number; body: string }> | { status: number; body: string };
}

export interface ApiRequest {
    method: string;
    /** Path without the query string. */
    path: string;
    headers: Record<string, string | string[] | undefined>;
    body: Buffer;
    sourceIp: string;
}

export interface ApiResponse {
    status: number;
    headers: Record<string, string>;
    body: string;
    /** For the log line: what happened, without any token. */
    note: string;
    /** `$context.requestId`, also sent as x-amzn-RequestId. */
    requestId?: string;
}

/** Default status and message of the gateway response types this API can produce. */
const GATEWAY_DEFAULTS: Record<string, { status: number; message: string | null }> = {
    UNAUTHORIZED: { status: 401, message: "Unauthorized" },
    ACCESS_DENIED: { status: 403, message: "User is not authorized to access this resource with an explicit deny" },
    BAD_REQUEST_BODY: { status: 400, message: "Invalid request body" },
    MISSING_AUTHENTICATION_TOKEN: { status: 403, message: "Missing Authentication Token" },
    UNSUPPORTED_MEDIA_TYPE: { status: 415, message: "Unsupported Media Type" },
    REQUEST_TOO_LARGE: { status: 413, message: "Request Too Long" },
    AUTHORIZER_FAILURE: { status: 500, message: null },
    AUTHORIZER_CONFIGURATION_ERROR: { status: 500, message: null },
    API_CONFIGURATION_ERROR: { status: 500, message: "Internal server error" },
};

/** API Gateway's payload limit. */
export const MAX_REQUEST_BYTES = 10 * 1024 * 1024;

interface CachedAuthorization {
    result: APIGatewayAuthorizerResult;
    expires: number;
}

function header(headers: ApiRequest["headers"], name: string): string | undefined {
    const value = headers[name.toLowerCase()];
    return Array.isArray(value) ? value.join(",") : value;
}

/** Compiled resource patterns: a cached policy is evaluated again at every request, with the same few patterns. */
const arnPatterns = new Map<string, RegExp>();

/** IAM-style wildcard match (`*` any run, `?` one character), as API Gateway evaluates policy resources. */
function arnMatches(pattern: string, arn: string): boolean {
    let regex = arnPatterns.get(pattern);
    if (!regex) {
        regex = new RegExp(
            "^" +
                pattern
                    .split("")
                    .map((c) => (c === "*" ? ".*" : c === "?" ? "." : c.replace(/[.+^${}()|[\]\\]/g, "\\$&")))
                    .join("") +
                "$",
        );
        if (arnPatterns.size >= 1000) arnPatterns.clear();
        arnPatterns.set(pattern, regex);
    }
    return regex.test(arn);
}

function actionMatches(action: string): boolean {
    return action === "*" || action === "execute-api:*" || action === "execute-api:Invoke";
}

/** Evaluates an authorizer policy for one method ARN: an explicit Deny wins, otherwise an Allow is needed. */
export function policyAllows(result: APIGatewayAuthorizerResult, methodArn: string): boolean {
    const statements = result.policyDocument?.Statement ?? [];
    let allowed = false;
    for (const raw of statements as unknown as Array<Record<string, unknown>>) {
        const actions = [raw.Action].flat().filter((a): a is string => typeof a === "string");
        const resources = [raw.Resource].flat().filter((r): r is string => typeof r === "string");
        if (!actions.some(actionMatches) || !resources.some((r) => arnMatches(r, methodArn))) continue;
        if (raw.Effect === "Deny") return false;
        if (raw.Effect === "Allow") allowed = true;
    }
    return allowed;
}

export class LocalRestApi {
    private readonly validator = new RequestValidator(REQUEST_MODEL_SCHEMA);
    private readonly authCache = new Map<string, CachedAuthorization>();
    private readonly identityValidation?: RegExp;

    constructor(
        readonly settings: RestApiSettings,
        private readonly backends: RestApiBackends,
        private readonly log: Logger,
        private readonly now: () => number = Date.now,
    ) {
        if (settings.identityValidationExpression !== undefined)
            this.identityValidation = new RegExp(settings.identityValidationExpression);
    }

    get resourcePath(): string {
        return "/event";
    }

    methodArn(method: string): string {
        const s = this.settings;
        return `arn:aws:execute-api:${s.region}:${s.accountId}:${s.apiId}/${s.stage}/${method}${this.resourcePath}`;
    }

    /** Whether a path belongs to this API's stage (the server routes other paths elsewhere). */
    owns(path: string): boolean {
        return path === `/${this.settings.stage}` || path.startsWith(`/${this.settings.stage}/`);
    }

    async handle(request: ApiRequest): Promise<ApiResponse> {
        const requestId = randomUUID();
        const started = performance.now();
        const context = this.baseContext(request, requestId);
        const response = await this.process(request, context);
        this.settings.activity?.emit({
            type: "request",
            requestId,
            method: request.method,
            path: request.path,
            status: response.status,
            latencyMs: performance.now() - started,
            note: response.note,
            authorizer: context.authorizer as Record<string, unknown> | undefined,
            requestBody: request.body.length <= MAX_REQUEST_BYTES ? request.body.toString("utf8") : "",
            responseBody: response.body,
        });
        return { ...response, requestId, headers: { ...response.headers, "x-amzn-RequestId": requestId } };
    }

    private async process(request: ApiRequest, context: Record<string, unknown>): Promise<ApiResponse> {
        const cors = corsHeaders(this.settings.corsAllowOrigin);
        const route = request.path.slice(this.settings.stage.length + 1).replace(/\/+$/, "") || "/";
        if (route !== this.resourcePath || !["POST", "OPTIONS"].includes(request.method)) {
            return this.gatewayResponse("MISSING_AUTHENTICATION_TOKEN", context, `no route ${request.method} ${route}`);
        }
        if (request.method === "OPTIONS") {
            return {
                status: PREFLIGHT_STATUS_CODE,
                headers: { ...cors, ...PREFLIGHT_EXTRA_HEADERS, "Content-Type": "application/json" },
                body: "",
                note: "CORS preflight",
            };
        }
        if (request.body.length > MAX_REQUEST_BYTES) return this.gatewayResponse("REQUEST_TOO_LARGE", context, "body over 10 MB");

        const denied = await this.authorize(request, context);
        if (denied) return denied;
        return this.integrate(request, context, cors);
    }

    /**
     * 1. The TOKEN authorizer, its identity validation expression and its result cache. Sets
     * `context.authorizer`; returns the gateway response when the request is refused.
     */
    private async authorize(request: ApiRequest, context: Record<string, unknown>): Promise<ApiResponse | undefined> {
        // API Gateway answers 401 itself when the identity source is empty.
        const token = header(request.headers, this.settings.identityHeader);
        if (!token || token.trim() === "") return this.gatewayResponse("UNAUTHORIZED", context, "no Authorization header");
        // The validation expression: a mismatch is answered 401 before the authorizer (and its cache) is consulted.
        if (this.identityValidation && !this.identityValidation.test(token)) {
            return this.gatewayResponse("UNAUTHORIZED", context, "Authorization header fails the identity validation expression");
        }
        const methodArn = this.methodArn(request.method);
        const result = await this.authorizerResult(token, methodArn, context);
        if ("status" in result) return result;
        const { authorization, cached } = result;
        const authorizerContext: Record<string, unknown> = { ...(authorization.context ?? {}), principalId: authorization.principalId };
        context.authorizer = authorizerContext;
        if (!policyAllows(authorization, methodArn)) {
            return this.gatewayResponse("ACCESS_DENIED", context, `authorizer: Deny${cached ? " (cached)" : ""}`);
        }
        return undefined;
    }

    /** The authorizer's policy for a token: from the cache while its TTL lasts, else from the authorizer. */
    private async authorizerResult(
        token: string,
        methodArn: string,
        context: Record<string, unknown>,
    ): Promise<{ authorization: APIGatewayAuthorizerResult; cached: boolean } | ApiResponse> {
        const hit = this.authCache.get(token);
        if (hit && hit.expires > this.now()) return { authorization: hit.result, cached: true };
        let authorization: APIGatewayAuthorizerResult;
        try {
            authorization = await this.backends.authorizer({ type: "TOKEN", authorizationToken: token, methodArn });
        } catch (err) {
            if ((err as Error).message === "Unauthorized") return this.gatewayResponse("UNAUTHORIZED", context, "authorizer: Unauthorized");
            this.log.warn(`api authorizer failed: ${(err as Error).message}`);
            return this.gatewayResponse("AUTHORIZER_FAILURE", context, "authorizer error");
        }
        if (!authorization || typeof authorization.principalId !== "string" || !authorization.policyDocument) {
            return this.gatewayResponse("AUTHORIZER_CONFIGURATION_ERROR", context, "authorizer returned no policy");
        }
        if (this.settings.authorizerResultTtlSeconds > 0) {
            this.authCache.set(token, { result: authorization, expires: this.now() + this.settings.authorizerResultTtlSeconds * 1000 });
        }
        return { authorization, cached: false };
    }

    /** 2. to 5.: content type, request model, mapping template, then the PutEvents integration. */
    private async integrate(request: ApiRequest, context: Record<string, unknown>, cors: Record<string, string>): Promise<ApiResponse> {
        // 2. Content type: only application/json has a template, and passthrough is NEVER.
        const contentType = (header(request.headers, "content-type") ?? REQUEST_CONTENT_TYPE).split(";")[0].trim().toLowerCase();
        const template = PUT_EVENTS_REQUEST_TEMPLATES[contentType];
        if (!template && PASSTHROUGH_BEHAVIOR === "NEVER")
            return this.gatewayResponse("UNSUPPORTED_MEDIA_TYPE", context, `content type ${contentType}`);

        // 3. The request model. Bytes that are not UTF-8 reach it as unpaired surrogates, never as U+FFFD,
        // so PutEvents refuses the entry that holds them instead of storing changed data.
        const body = decodeUtf8KeepingInvalidBytes(request.body);
        const validation = this.validator.check(body);
        if (!validation.valid) {
            context.error = { validationErrorString: validation.validationErrorString };
            // Not in the answer (see pipeline/gateway-responses.ts): in the log, as in the deployed access log.
            return this.gatewayResponse(
                "BAD_REQUEST_BODY",
                context,
                `invalid body (request ${String(context.requestId)}): ${validation.validationErrorString}`,
            );
        }

        // 4. The mapping template, 5. the PutEvents integration.
        let integrationRequest: string;
        try {
            integrationRequest = renderTemplate(template, {
                body,
                parsedBody: validation.parsed,
                context,
                stageVariables: this.settings.stageVariables,
                headers: flatHeaders(request.headers),
            });
        } catch (err) {
            this.log.warn(`api request template failed: ${(err as Error).message}`);
            return this.gatewayResponse("API_CONFIGURATION_ERROR", context, "request template error");
        }
        const backend = await this.backends.putEvents(integrationRequest);
        return this.integrationResponse(backend, context, cors);
    }

    /** 6. The integration response chosen by the backend status, rendered with the PutEvents answer. */
    private integrationResponse(
        backend: { status: number; body: string },
        context: Record<string, unknown>,
        cors: Record<string, string>,
    ): ApiResponse {
        const spec = selectIntegrationResponse(backend.status, PUT_EVENTS_INTEGRATION_RESPONSES);
        const responseTemplate = spec.responseTemplates["application/json"];
        let responseBody = backend.body;
        let status = Number(spec.statusCode);
        let overrideHeaders: Record<string, string> = {};
        if (responseTemplate !== undefined) {
            try {
                const rendered = renderTemplateWithOverrides(responseTemplate, {
                    body: backend.body,
                    context: { ...context },
                    stageVariables: this.settings.stageVariables,
                });
                responseBody = rendered.output;
                if (rendered.responseOverride.status !== undefined) status = rendered.responseOverride.status;
                overrideHeaders = rendered.responseOverride.header;
            } catch (err) {
                this.log.warn(`api response template failed: ${(err as Error).message}`);
                return this.gatewayResponse("API_CONFIGURATION_ERROR", context, "response template error");
            }
        }
        return {
            status,
            headers: { ...cors, "Content-Type": "application/json", ...overrideHeaders },
            body: responseBody,
            note: `PutEvents ${backend.status}${summarizePutEvents(backend.body)}`,
        };
    }

    private baseContext(request: ApiRequest, requestId: string): Record<string, unknown> {
        const nowMs = this.now();
        return {
            accountId: this.settings.accountId,
            apiId: this.settings.apiId,
            domainName: header(request.headers, "host") ?? "localhost",
            extendedRequestId: requestId,
            httpMethod: request.method,
            identity: { sourceIp: request.sourceIp, userAgent: header(request.headers, "user-agent") ?? "" },
            path: request.path,
            protocol: "HTTP/1.1",
            requestId,
            requestTime: formatRequestTime(nowMs),
            requestTimeEpoch: nowMs,
            resourceId: "local",
            resourcePath: this.resourcePath,
            stage: this.settings.stage,
        };
    }

    /** A response API Gateway raises itself, rendered from the program's gateway responses. */
    gatewayResponse(type: string, context: Record<string, unknown>, note: string): ApiResponse {
        const defaults = GATEWAY_DEFAULTS[type] ?? { status: 500, message: "Internal server error" };
        const family = defaults.status >= 500 ? "DEFAULT_5XX" : "DEFAULT_4XX";
        const spec: GatewayResponseSpec | undefined =
            GATEWAY_RESPONSES.find((r) => r.responseType === type) ?? GATEWAY_RESPONSES.find((r) => r.responseType === family);
        const status = spec?.statusCode ? Number(spec.statusCode) : defaults.status;
        const error = { ...((context.error as object | undefined) ?? {}), message: defaults.message, responseType: type };
        const template = spec?.template ?? `{"message":$context.error.messageString}`; // API Gateway's default
        const body = substituteGatewayTemplate(template, { ...context, error }, this.settings.stageVariables);
        return {
            status,
            headers: { ...corsHeaders(this.settings.corsAllowOrigin), "Content-Type": "application/json" },
            body,
            note: `${type}: ${note}`,
        };
    }
}

/**
 * Gateway response templates are not Velocity: API Gateway substitutes `$context.*` and `$stageVariables.*`
 * only, and documents no escaping, so values are inserted as they are (a quote in a value would break the
 * JSON there too: pipeline/gateway-responses.ts uses only values that hold none). `messageString` is the
 * message between double quotes, as API Gateway defines it.
 */
export function substituteGatewayTemplate(
    template: string,
    context: Record<string, unknown>,
    stageVariables: Record<string, string>,
): string {
    return template.replace(/\$(context|stageVariables)((?:\.[A-Za-z0-9_]+)+)/g, (_whole, root: string, dotted: string) => {
        const names = dotted.slice(1).split(".");
        if (root === "stageVariables") return stageVariables[names[0]] ?? "";
        if (names[0] === "error" && names[1] === "messageString") {
            const message = (context.error as { message?: string | null } | undefined)?.message;
            return message === null || message === undefined ? "null" : `"${message}"`;
        }
        let value: unknown = context;
        for (const name of names)
            value = value !== null && typeof value === "object" ? (value as Record<string, unknown>)[name] : undefined;
        if (value === undefined || value === null) return "";
        return typeof value === "string" ? value : JSON.stringify(value);
    });
}

const strictUtf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/**
 * Decodes UTF-8. Each byte of an ill-formed sequence (an encoded surrogate such as ED A0 80, an overlong
 * form, a stray continuation byte, a truncated sequence) becomes the unpaired surrogate U+DC00 + byte,
 * as Python's "surrogateescape" does: the text stays distinguishable from a real U+FFFD, and whoever
 * stores it can refuse it with a clear error instead of changing it.
 */
export function decodeUtf8KeepingInvalidBytes(bytes: Buffer): string {
    try {
        return strictUtf8.decode(bytes);
    } catch {
        // ill-formed somewhere: decode sequence by sequence below
    }
    let out = "";
    let i = 0;
    while (i < bytes.length) {
        const length = wellFormedSequenceLength(bytes, i);
        if (length === 0) {
            out += String.fromCharCode(0xdc00 + bytes[i]);
            i++;
        } else {
            out += bytes.toString("utf8", i, i + length);
            i += length;
        }
    }
    return out;
}

/** Length of the well-formed UTF-8 sequence at `i` (Unicode table 3-7), or 0 when there is none. */
function wellFormedSequenceLength(b: Buffer, i: number): number {
    const lead = b[i];
    const inRange = (k: number, lo = 0x80, hi = 0xbf) => i + k < b.length && b[i + k] >= lo && b[i + k] <= hi;
    if (lead <= 0x7f) return 1;
    if (lead >= 0xc2 && lead <= 0xdf) return inRange(1) ? 2 : 0;
    if (lead >= 0xe0 && lead <= 0xef) {
        const [lo, hi] = lead === 0xe0 ? [0xa0, 0xbf] : lead === 0xed ? [0x80, 0x9f] : [0x80, 0xbf];
        return inRange(1, lo, hi) && inRange(2) ? 3 : 0;
    }
    if (lead >= 0xf0 && lead <= 0xf4) {
        const [lo, hi] = lead === 0xf0 ? [0x90, 0xbf] : lead === 0xf4 ? [0x80, 0x8f] : [0x80, 0xbf];
        return inRange(1, lo, hi) && inRange(2) && inRange(3) ? 4 : 0;
    }
    return 0;
}

function flatHeaders(headers: ApiRequest["headers"]): Record<string, string> {
    const out: Record<string, string> = {};
    for (const [name, value] of Object.entries(headers))
        if (value !== undefined) out[name] = Array.isArray(value) ? value.join(",") : value;
    return out;
}

/** `$context.requestTime`: CLF format, e.g. `27/Nov/2026:19:28:49 +0000`. */
function formatRequestTime(ms: number): string {
    const d = new Date(ms);
    const months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
    const p = (n: number) => String(n).padStart(2, "0");
    return `${p(d.getUTCDate())}/${months[d.getUTCMonth()]}/${d.getUTCFullYear()}:${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())} +0000`;
}

function summarizePutEvents(body: string): string {
    try {
        const parsed = JSON.parse(body) as { Entries?: unknown[]; FailedEntryCount?: number; __type?: string };
        if (parsed.__type) return ` ${parsed.__type}`;
        if (Array.isArray(parsed.Entries)) return ` (${parsed.Entries.length} entries, ${parsed.FailedEntryCount ?? 0} failed)`;
    } catch {
        // not JSON: nothing to add
    }
    return "";
}

/**
 * The integration response API Gateway picks for a backend HTTP status: the one whose selection pattern
 * matches the whole status (Java `String.matches`), otherwise the default one.
 */
export function selectIntegrationResponse(
    backendStatus: number | string,
    responses: IntegrationResponseSpec[] = PUT_EVENTS_INTEGRATION_RESPONSES,
): IntegrationResponseSpec {
    const status = String(backendStatus);
    const matched = responses.find((r) => r.selectionPattern !== undefined && new RegExp(`^(?:${r.selectionPattern})$`).test(status));
    const fallback = responses.find((r) => r.selectionPattern === undefined);
    const chosen = matched ?? fallback;
    if (!chosen) throw new Error(`no integration response for status ${status}`);
    return chosen;
}
