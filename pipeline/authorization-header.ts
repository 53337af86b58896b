/**
 * The Authorization header values the ingest API accepts, as one regular expression shared by the
 * authorizer (which parses the header with it), API Gateway (the TOKEN authorizer's
 * `identityValidationExpression`: a value that does not match gets 401 without invoking the Lambda) and
 * local mode (which applies it the same way).
 *
 * Accepted: a JWT (three base64url segments), bare or after the scheme `Bearer` in any letter case, with
 * spaces or tabs around it. Nothing else: no other scheme, no second token, no comma-joined values.
 *
 * API Gateway's documentation says only "a regular expression": not the engine, not whether it matches
 * the whole value or searches, not the flags. So the expression means the same in Java's java.util.regex
 * and in JavaScript however it is applied: anchored at both ends (a full match and a search agree),
 * explicit letter classes instead of a case-insensitive flag (`[Bb]` means the same with or without one),
 * only bounded quantifiers, no lookaround, no `\s` (whose meaning differs between the two engines).
 * One residue: searching in Java, `$` also matches before a final line terminator, so such a value would
 * reach the authorizer, which refuses it. HTTP header values cannot hold CR or LF.
 */

/** Most spaces or tabs accepted around the header value and between the scheme and the token. */
export const MAX_AUTHORIZATION_WHITESPACE = 16;

/**
 * Most characters of each JWT segment. A Cognito token's header is about 100 characters, its payload
 * 1 to 2 KB, its RS256 signature 342; the bounds leave ample room and keep the header under 8.3 KB, inside
 * API Gateway's 10 KB limit on the request line and headers combined.
 */
export const MAX_JWT_SEGMENT_LENGTH = { header: 1024, payload: 6144, signature: 1024 } as const;

const WS = `[ \\t]`;
const B64URL = `[A-Za-z0-9_-]`;
const { header, payload, signature } = MAX_JWT_SEGMENT_LENGTH;
const MAX_WS = MAX_AUTHORIZATION_WHITESPACE;

/**
 * The expression (regular expression source text). Its one capturing group is the token.
 * `^[ \t]{0,16}(?:[Bb][Ee][Aa][Rr][Ee][Rr][ \t]{1,16})?(<jwt>)[ \t]{0,16}$`
 */
export const AUTHORIZATION_HEADER_PATTERN =
    `^${WS}{0,${MAX_WS}}(?:[Bb][Ee][Aa][Rr][Ee][Rr]${WS}{1,${MAX_WS}})?` +
    `(${B64URL}{1,${header}}\\.${B64URL}{1,${payload}}\\.${B64URL}{1,${signature}})` +
    `${WS}{0,${MAX_WS}}$`;

/** The longest header value the expression accepts, in characters. */
export const MAX_AUTHORIZATION_HEADER_LENGTH = 3 * MAX_WS + "Bearer".length + header + payload + signature + 2;

/**
 * The expression, compiled once: without the g or y flag, exec keeps no lastIndex state, and Pulumi's function
 * serializer writes a captured RegExp back as `new RegExp(source, flags)`.
 */
const AUTHORIZATION_HEADER_REGEX = new RegExp(AUTHORIZATION_HEADER_PATTERN);

/** The token of an Authorization header value, or undefined when the value is not one the API accepts. */
export function tokenOfAuthorizationHeader(value: string | undefined | null): string | undefined {
    if (typeof value !== "string" || value.length > MAX_AUTHORIZATION_HEADER_LENGTH) return undefined;
    return AUTHORIZATION_HEADER_REGEX.exec(value)?.[1];
}
