/**
 * Errors API Gateway raises itself (before or instead of the integration), as data: the component creates
 * these gateway responses and local mode answers with the same statuses and bodies. Gateway response
 * templates are NOT Velocity: API Gateway only substitutes `$context.*` / `$stageVariables.*` in them.
 * Every one carries the CORS headers, so a browser app can read the error.
 */
import { MAX_ENTRIES_PER_REQUEST, MAX_ENTRY_LENGTH } from "./limits";

/** Headers a browser may send on `POST /event`. */
export const CORS_ALLOW_HEADERS = "Authorization,Content-Type";
/** Methods of the API. */
export const CORS_ALLOW_METHODS = "OPTIONS,POST";
/** How long a browser may cache a preflight answer, seconds. */
export const CORS_MAX_AGE_SECONDS = "600";

/** The CORS headers (name -> value) of every answer, preflight or not, for an allowed origin. */
export function corsHeaders(allowOrigin: string): Record<string, string> {
    const headers: Record<string, string> = {
        "Access-Control-Allow-Origin": allowOrigin,
        "Access-Control-Allow-Headers": CORS_ALLOW_HEADERS,
        "Access-Control-Allow-Methods": CORS_ALLOW_METHODS,
    };
    // A single named origin: caches must keep answers for different origins apart.
    if (allowOrigin !== "*") headers.Vary = "Origin";
    return headers;
}

/** Status of a preflight answer (no body). The deployed OPTIONS mock and local mode both answer it. */
export const PREFLIGHT_STATUS_CODE = 204;

/** Extra headers of a preflight answer. */
export const PREFLIGHT_EXTRA_HEADERS: Record<string, string> = { "Access-Control-Max-Age": CORS_MAX_AGE_SECONDS };

/** Headers in API Gateway parameter-mapping syntax (`<prefix>.header.Name` -> `'value'`). */
export function staticHeaderParameters(prefix: string, headers: Record<string, string>): Record<string, string> {
    return Object.fromEntries(Object.entries(headers).map(([name, value]) => [`${prefix}.header.${name}`, `'${value}'`]));
}

/**
 * Context variables a template may put inside a JSON string, with the characters their values can hold.
 * API Gateway substitutes `$context.*` into gateway responses without escaping (it documents none), so a
 * value holding `"` or `\` would break the JSON: `$context.error.validationErrorString` holds quotes
 * (`[object has missing required properties (["entries"])]`), and `$context.error.message` (and its
 * "quoted" form `messageString`) can echo request text. Only API Gateway's own ids and enums are safe.
 */
export const JSON_SAFE_CONTEXT_VARIABLES: Record<string, RegExp> = {
    /** A UUID that API Gateway generates. */
    "$context.requestId": /^[0-9a-f-]+$/,
    /** The gateway response type, e.g. BAD_REQUEST_BODY. */
    "$context.error.responseType": /^[A-Z0-9_]+$/,
};

/** A JSON body with a fixed message, the response type and the request id (which finds the access log line). */
function body(message: string): string {
    return `{"message": ${JSON.stringify(message)}, "type": "$context.error.responseType", "requestId": "$context.requestId"}`;
}

export interface GatewayResponseSpec {
    /** API Gateway response type. */
    responseType: string;
    /** Status code; absent keeps API Gateway's default for the type. */
    statusCode?: string;
    /** application/json body template (simple substitution only, no escaping: see JSON_SAFE_CONTEXT_VARIABLES). */
    template: string;
}

/**
 * The gateway responses this API customizes: each has a fixed message, so every body is JSON whatever the
 * request held. The validation error of a 400 is in the access log line (`validationError`) of its
 * `requestId`, and in local mode's log. DEFAULT_4XX / DEFAULT_5XX cover every other type with CORS headers
 * too; their `type` names the case.
 */
export const GATEWAY_RESPONSES: GatewayResponseSpec[] = [
    { responseType: "DEFAULT_4XX", template: body("The request was refused") },
    { responseType: "DEFAULT_5XX", template: body("Internal server error") },
    // Missing, malformed or invalid token: the authorizer threw "Unauthorized".
    { responseType: "UNAUTHORIZED", statusCode: "401", template: body("Unauthorized") },
    // Valid token, but the user has no clientId (the authorizer's Deny policy).
    { responseType: "ACCESS_DENIED", statusCode: "403", template: body("Forbidden: this user has no clientId") },
    // The body failed the request model.
    {
        responseType: "BAD_REQUEST_BODY",
        statusCode: "400",
        template: body(
            `Invalid request body: expected {"entries": [{"entry": "<one event as a JSON string>"}, ...]} ` +
                `with 1 to ${MAX_ENTRIES_PER_REQUEST} entries of at most ${MAX_ENTRY_LENGTH} characters and no other fields`,
        ),
    },
    // Unknown path or method (API Gateway says "Missing Authentication Token" there by default).
    { responseType: "MISSING_AUTHENTICATION_TOKEN", statusCode: "404", template: body("Not found: use POST /event") },
    // API Gateway's own messages of these types, made fixed.
    { responseType: "UNSUPPORTED_MEDIA_TYPE", template: body("Unsupported Media Type") },
    { responseType: "REQUEST_TOO_LARGE", template: body("Request Too Long") },
    { responseType: "THROTTLED", template: body("Too Many Requests") },
];
