/**
 * Errors API Gateway raises itself (before or instead of the integration), as data: the component creates
 * these gateway responses and local mode answers with the same statuses and bodies. Gateway response
 * templates are NOT Velocity: API Gateway only substitutes `$context.*` / `$stageVariables.*` in them.
 * Every one carries the CORS headers, so a browser app can read the error.
 */

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

/** The generic body: API Gateway's own message (already a quoted JSON string) and the request id. */
const GENERIC_BODY = `{"message": $context.error.messageString, "requestId": "$context.requestId"}`;

export interface GatewayResponseSpec {
    /** API Gateway response type. */
    responseType: string;
    /** Status code; absent keeps API Gateway's default for the type. */
    statusCode?: string;
    /** application/json body template (simple substitution only). */
    template: string;
}

/**
 * The gateway responses this API customizes. DEFAULT_4XX / DEFAULT_5XX cover every other type
 * (THROTTLED 429, REQUEST_TOO_LARGE 413, UNSUPPORTED_MEDIA_TYPE 415, ...) with CORS headers too.
 */
export const GATEWAY_RESPONSES: GatewayResponseSpec[] = [
    { responseType: "DEFAULT_4XX", template: GENERIC_BODY },
    { responseType: "DEFAULT_5XX", template: GENERIC_BODY },
    // Missing, malformed or invalid token: the authorizer threw "Unauthorized".
    { responseType: "UNAUTHORIZED", statusCode: "401", template: GENERIC_BODY },
    // Valid token, but the user has no clientId (the authorizer's Deny policy).
    { responseType: "ACCESS_DENIED", statusCode: "403", template: `{"message": "Forbidden: this user has no clientId", "requestId": "$context.requestId"}` },
    // The body failed the request model.
    {
        responseType: "BAD_REQUEST_BODY",
        statusCode: "400",
        template: `{"message": "Invalid request body: $context.error.validationErrorString", "requestId": "$context.requestId"}`,
    },
    // Unknown path or method (API Gateway says "Missing Authentication Token" there by default).
    { responseType: "MISSING_AUTHENTICATION_TOKEN", statusCode: "404", template: `{"message": "Not found: use POST /event", "requestId": "$context.requestId"}` },
];
