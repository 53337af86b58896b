/**
 * TOKEN Lambda authorizer of the ingest API.
 *
 * - Accepts a bare Cognito JWT or `Bearer <jwt>` in the Authorization header.
 * - Verifies signature (RS256 against the pool's JWKS), exp, nbf, iss, token_use (access or id) and the
 *   app client (`client_id` of access tokens, `aud` of ID tokens) with aws-jwt-verify.
 * - clientId: the `custom:clientId` claim of an ID token; for an access token, Cognito `GetUser` called
 *   with that access token. GetUser needs no IAM permission (the token is the credential) and rejects
 *   revoked tokens; a clientId it returns is cached per user (`sub`) across invocations, since a clientId
 *   never changes once set (the app client cannot write it); "no clientId" is not cached.
 * - Any invalid token: `throw new Error("Unauthorized")`, which API Gateway answers with 401.
 *   A valid user without a usable clientId: a Deny policy (403).
 * - The policy covers every method and path of the stage, because API Gateway caches the result per token.
 * - Never logs a token.
 * - Cold start: the Cognito SDK (about 100 ms to load) is required only when the first access token needs
 *   GetUser; ID tokens never load it. Warm path: the signature is checked synchronously once the pool's key
 *   is cached (no fetch, no await).
 */
import type { APIGatewayAuthorizerResult, APIGatewayTokenAuthorizerEvent } from "aws-lambda";
import type { CognitoIdentityProviderClient } from "@aws-sdk/client-cognito-identity-provider";
import { CognitoJwtVerifier, JwtVerifier } from "aws-jwt-verify";
import { JwksNotAvailableInCacheError, KidNotFoundInJwksError } from "aws-jwt-verify/error";
import { SimpleJwksCache, type Jwks } from "aws-jwt-verify/jwk";
import { tokenOfAuthorizationHeader } from "../pipeline/authorization-header";
import { CLIENT_ID_ATTRIBUTE } from "../pipeline/identity";
import { MAX_CLIENT_ID_LENGTH } from "../pipeline/limits";

/** A clientId the API passes on: letters, digits and hyphens (a UUID), so it needs no escaping downstream. */
export const CLIENT_ID_PATTERN = new RegExp(`^[A-Za-z0-9-]{1,${MAX_CLIENT_ID_LENGTH}}$`);

export interface AuthorizerOptions {
    /** Cognito user pool id, e.g. `us-east-1_AbCdEf123`. */
    userPoolId: string;
    /** The app client whose tokens are accepted. */
    clientId: string;
    /**
     * Expected `iss`; default the pool's Cognito issuer. Only for local runtimes that cannot use Cognito's
     * issuer URL; `jwksUri` then defaults to `${issuer}/.well-known/jwks.json`.
     */
    issuer?: string;
    /** Where the JWKS is fetched from when `issuer` is overridden. */
    jwksUri?: string;
    /** A pre-loaded JWKS. When given, keys are never fetched over the network (offline use, tests). */
    jwks?: Jwks;
    /** Cognito client for GetUser, or an endpoint (local Cognito) to build one for. Default: the Lambda's region. */
    cognito?: CognitoIdentityProviderClient | { endpoint: string; region?: string };
    /** How long a resolved clientId is kept in memory, in milliseconds; default 15 minutes. */
    clientIdCacheTtlMs?: number;
    /** Most users whose clientId is kept in memory; default 10,000 (oldest evicted first). */
    clientIdCacheMaxEntries?: number;
    /** Clock, for tests. */
    now?: () => number;
}

export type TokenAuthorizer = (event: APIGatewayTokenAuthorizerEvent) => Promise<APIGatewayAuthorizerResult>;

/** Cognito JWT claims this authorizer reads. */
interface Claims {
    sub?: unknown;
    token_use?: unknown;
    client_id?: unknown;
    aud?: unknown;
    [CLIENT_ID_ATTRIBUTE]?: unknown;
}

/**
 * The token from an Authorization header value: a JWT, bare or `Bearer <token>` (case-insensitive
 * scheme), as pipeline/authorization-header.ts defines (API Gateway applies the same expression before
 * invoking this function). Anything else is not worth verifying.
 */
export function extractToken(header: string | undefined | null): string | undefined {
    return tokenOfAuthorizationHeader(header);
}

/**
 * The resource of the policy: every method and path of the stage the request went to. From
 * `arn:aws:execute-api:{region}:{account}:{apiId}/{stage}/{method}/{path}` it builds
 * `arn:aws:execute-api:{region}:{account}:{apiId}/{stage}/*` + `/*`.
 */
export function stageWideResource(methodArn: string): string {
    const [apiArn, stage] = methodArn.split("/");
    if (!/^arn:[^:]+:execute-api:[^:]+:[^:]+:[^:/]+$/.test(apiArn ?? "") || !stage) throw new Error("Unexpected methodArn");
    return `${apiArn}/${stage}/*/*`;
}

function policy(principalId: string, effect: "Allow" | "Deny", resource: string, clientId?: string): APIGatewayAuthorizerResult {
    const result: APIGatewayAuthorizerResult = {
        principalId,
        policyDocument: {
            Version: "2012-10-17",
            Statement: [{ Action: "execute-api:Invoke", Effect: effect, Resource: resource }],
        },
    };
    if (clientId !== undefined) result.context = { clientId };
    return result;
}

/** A bounded in-memory map with a time to live per entry; the oldest entry goes first when full. */
export interface TtlCache<V> {
    get(key: string): V | undefined;
    set(key: string, value: V): void;
    size(): number;
}

/**
 * Builds a TtlCache. (Closures rather than a class: Pulumi's function serializer drops class field
 * initializers, and module-level Maps or Sets lose their contents when serialized.)
 */
export function createTtlCache<V>(ttlMs: number, maxEntries: number, now: () => number): TtlCache<V> {
    const entries = new Map<string, { value: V; expires: number }>();
    return {
        get(key) {
            const hit = entries.get(key);
            if (!hit) return undefined;
            if (hit.expires <= now()) {
                entries.delete(key);
                return undefined;
            }
            return hit.value;
        },
        set(key, value) {
            entries.delete(key);
            while (entries.size >= maxEntries) {
                const oldest = entries.keys().next().value as string;
                entries.delete(oldest);
            }
            entries.set(key, { value, expires: now() + ttlMs });
        },
        size: () => entries.size,
    };
}

/** A JWKS fetcher that refuses: used when the JWKS is pre-loaded, so an unknown kid fails without network. */
const offlineFetcher = {
    fetch: async (): Promise<ArrayBuffer> => {
        throw new Error("JWKS fetching is disabled: the JWKS was pre-loaded");
    },
};

/**
 * Verifies a JWT's signature, exp, nbf, iss and Cognito fields and gives its claims: synchronously when the
 * signing key is cached (the warm path), else as a promise that fetches the JWKS first.
 */
type Verify = (token: string) => Claims | Promise<Claims>;

/** A verifier's synchronous check, falling back to the asynchronous one when the key must be fetched. */
function syncFirst(verifier: { verifySync(token: string): unknown; verify(token: string): Promise<unknown> }): Verify {
    return (token) => {
        try {
            return verifier.verifySync(token) as Claims;
        } catch (err) {
            if (err instanceof JwksNotAvailableInCacheError || err instanceof KidNotFoundInJwksError) {
                return verifier.verify(token) as Promise<Claims>;
            }
            throw err;
        }
    };
}

function createVerifier(options: AuthorizerOptions): Verify {
    const extra = options.jwks ? { jwksCache: new SimpleJwksCache({ fetcher: offlineFetcher }) } : undefined;
    if (options.issuer) {
        const verifier = JwtVerifier.create(
            {
                issuer: options.issuer,
                audience: null, // checked below per token_use
                jwksUri: options.jwksUri ?? `${options.issuer.replace(/\/$/, "")}/.well-known/jwks.json`,
            },
            extra,
        );
        if (options.jwks) verifier.cacheJwks(options.jwks);
        return syncFirst(verifier);
    }
    const verifier = CognitoJwtVerifier.create(
        {
            userPoolId: options.userPoolId,
            clientId: options.clientId,
            tokenUse: null, // access or id: both are accepted, and checked below
        },
        extra,
    );
    if (options.jwks) verifier.cacheJwks(options.jwks);
    return syncFirst(verifier);
}

/** Throws unless the token is an access or ID token of the expected app client. */
function assertCognitoClaims(claims: Claims, clientId: string): "access" | "id" {
    if (claims.token_use === "access") {
        if (claims.client_id !== clientId) throw new Error("wrong client");
        return "access";
    }
    if (claims.token_use === "id") {
        const aud = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
        if (!aud.includes(clientId)) throw new Error("wrong client");
        return "id";
    }
    throw new Error("wrong token_use");
}

/**
 * The Cognito client for GetUser. The SDK is required here, on first use, not when this module loads: only
 * access tokens need it. (A plain `require` inside the function: Pulumi's serializer leaves it as it is, where
 * a module value from a dynamic `import()` captured by the closure stalled serialization.)
 */
function cognitoClient(option: AuthorizerOptions["cognito"]): CognitoIdentityProviderClient {
    if (option && typeof (option as CognitoIdentityProviderClient).send === "function") return option as CognitoIdentityProviderClient;
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded on first use (see above)
    const sdk = require("@aws-sdk/client-cognito-identity-provider") as typeof import("@aws-sdk/client-cognito-identity-provider");
    if (option && typeof option === "object" && "endpoint" in option) {
        return new sdk.CognitoIdentityProviderClient({ endpoint: option.endpoint, region: option.region ?? process.env.AWS_REGION });
    }
    return new sdk.CognitoIdentityProviderClient({});
}

/** GetUser with an access token, through the SDK loaded on first use. */
async function getUserAttributes(cognito: CognitoIdentityProviderClient, accessToken: string) {
    type CognitoSdk = typeof import("@aws-sdk/client-cognito-identity-provider");
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded on first use (see cognitoClient)
    const { GetUserCommand } = require("@aws-sdk/client-cognito-identity-provider") as CognitoSdk;
    return (await cognito.send(new GetUserCommand({ AccessToken: accessToken }))).UserAttributes;
}

/** Cognito errors of GetUser that mean "this token does not belong to a usable user". */
const UNAUTHORIZED_GET_USER_ERRORS = [
    "NotAuthorizedException",
    "UserNotFoundException",
    "PasswordResetRequiredException",
    "UserNotConfirmedException",
];

/** Builds a TOKEN authorizer for one user pool and app client. */
export function createAuthorizer(options: AuthorizerOptions): TokenAuthorizer {
    if (!options.userPoolId || !options.clientId) throw new Error("createAuthorizer needs userPoolId and clientId");
    const verify = createVerifier(options);
    const now = options.now ?? Date.now;
    const cache = createTtlCache<string>(options.clientIdCacheTtlMs ?? 15 * 60 * 1000, options.clientIdCacheMaxEntries ?? 10_000, now);
    let cognito: CognitoIdentityProviderClient | undefined;
    // One stage calls this function, so the methodArn rarely changes: its stage-wide resource is kept.
    let lastMethodArn: string | undefined;
    let lastResource = "";
    const resourceOf = (methodArn: string): string => {
        if (methodArn !== lastMethodArn) {
            lastResource = stageWideResource(methodArn);
            lastMethodArn = methodArn;
        }
        return lastResource;
    };

    async function clientIdOfAccessToken(sub: string, accessToken: string): Promise<string | null> {
        const cached = cache.get(sub);
        if (cached !== undefined) return cached;
        cognito ??= cognitoClient(options.cognito);
        let attributes;
        try {
            attributes = await getUserAttributes(cognito, accessToken);
        } catch (err) {
            const name = (err as { name?: string }).name ?? "";
            // eslint-disable-next-line preserve-caught-error -- API Gateway needs exactly "Unauthorized"; the reason stays out of it
            if (UNAUTHORIZED_GET_USER_ERRORS.includes(name)) throw new Error("Unauthorized");
            // Throttling or an outage: not the caller's fault; API Gateway answers 500 and does not cache it.
            console.error(JSON.stringify({ message: "Cognito GetUser failed", error: name }));
            throw new Error("Cognito lookup failed", { cause: err });
        }
        const value = attributes?.find((a) => a.Name === CLIENT_ID_ATTRIBUTE)?.Value ?? null;
        // Only a clientId is cached: a user without one may get it any moment (pre-token-generation
        // trigger, assign-client-ids), and must not stay refused for the cache's lifetime.
        if (value !== null && value !== "") cache.set(sub, value);
        return value;
    }

    return async (event) => {
        const token = extractToken(event.authorizationToken);
        if (!token) throw new Error("Unauthorized");
        let claims: Claims;
        let use: "access" | "id";
        try {
            const verified = verify(token);
            claims = verified instanceof Promise ? await verified : verified;
            use = assertCognitoClaims(claims, options.clientId);
        } catch (err) {
            // The reason only: never the token.
            const reason = (err as Error)?.constructor?.name || (err as Error)?.name || "Error";
            console.warn(JSON.stringify({ message: "token rejected", reason }));
            // eslint-disable-next-line preserve-caught-error -- API Gateway needs exactly "Unauthorized"; the verifier's error may quote claims
            throw new Error("Unauthorized");
        }
        if (typeof claims.sub !== "string" || claims.sub === "") throw new Error("Unauthorized");
        const sub = claims.sub;
        const raw = use === "id" ? claims[CLIENT_ID_ATTRIBUTE] : await clientIdOfAccessToken(sub, token);
        if (typeof raw !== "string" || !CLIENT_ID_PATTERN.test(raw)) {
            console.warn(JSON.stringify({ message: "user has no usable clientId", sub }));
            return policy(sub, "Deny", resourceOf(event.methodArn));
        }
        return policy(sub, "Allow", resourceOf(event.methodArn), raw);
    };
}

/** An authorizer configured by the USER_POOL_ID and USER_POOL_CLIENT_ID environment variables. */
export function authorizerFromEnvironment(): TokenAuthorizer {
    const userPoolId = process.env.USER_POOL_ID;
    const clientId = process.env.USER_POOL_CLIENT_ID;
    if (!userPoolId || !clientId) throw new Error("USER_POOL_ID and USER_POOL_CLIENT_ID must be set");
    return createAuthorizer({ userPoolId, clientId });
}

/**
 * The deployed entry point: Pulumi runs this factory once per cold start (`callbackFactory`), so the
 * verifier's JWKS and the clientId cache live across invocations. (In a serialized plain callback,
 * module-level state would be re-created on every invocation.)
 */
export function createHandler(): TokenAuthorizer {
    let authorizer: TokenAuthorizer | undefined;
    return async (event) => {
        authorizer ??= authorizerFromEnvironment();
        return authorizer(event);
    };
}

let defaultAuthorizer: TokenAuthorizer | undefined;

/** The handler for plain Node.js use (local mode, tests): configured from the environment on first call. */
export async function handler(event: APIGatewayTokenAuthorizerEvent): Promise<APIGatewayAuthorizerResult> {
    defaultAuthorizer ??= authorizerFromEnvironment();
    return defaultAuthorizer(event);
}
