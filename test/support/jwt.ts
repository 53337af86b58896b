/**
 * Real RS256 JWTs for tests: a locally generated key pair, its JWKS, and Cognito-shaped access and ID
 * tokens signed with node:crypto. Shared by the authorizer tests, local mode and the client tests.
 */
import { createSign, generateKeyPairSync, randomUUID, type KeyObject } from "crypto";
import type { Jwks } from "aws-jwt-verify/jwk";

export interface SigningKey {
    kid: string;
    privateKey: KeyObject;
    /** The public key as a JWK (kty, n, e, kid, alg, use). */
    jwk: Record<string, string>;
}

/** A new RSA-2048 signing key with its kid. */
export function createSigningKey(kid = `test-${randomUUID()}`): SigningKey {
    const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
    const exported = publicKey.export({ format: "jwk" }) as Record<string, string>;
    return { kid, privateKey, jwk: { ...exported, kid, alg: "RS256", use: "sig" } };
}

/** The JWKS document for keys (what Cognito serves at `<issuer>/.well-known/jwks.json`). */
export function jwksOf(...keys: SigningKey[]): Jwks {
    return { keys: keys.map((k) => k.jwk) } as unknown as Jwks;
}

export function base64url(input: Buffer | string): string {
    return Buffer.from(input).toString("base64url");
}

/** Signs header + payload with RS256. */
export function signJwt(header: Record<string, unknown>, payload: Record<string, unknown>, key: SigningKey): string {
    const signingInput = `${base64url(JSON.stringify(header))}.${base64url(JSON.stringify(payload))}`;
    const signature = createSign("RSA-SHA256").update(signingInput).sign(key.privateKey);
    return `${signingInput}.${base64url(signature)}`;
}

/** Cognito's issuer for a pool: `https://cognito-idp.<region>.amazonaws.com/<poolId>`. */
export function cognitoIssuer(userPoolId: string): string {
    return `https://cognito-idp.${userPoolId.split("_")[0]}.amazonaws.com/${userPoolId}`;
}

export interface TokenOptions {
    userPoolId: string;
    clientId: string;
    key: SigningKey;
    sub?: string;
    username?: string;
    /** Seconds since the epoch; default now. */
    now?: number;
    /** Lifetime in seconds; default 3600. */
    lifetime?: number;
    /** Claims to add or override (e.g. `iss`, `token_use`, `nbf`). */
    claims?: Record<string, unknown>;
    /** Header fields to add or override (e.g. `kid`, `alg`). */
    header?: Record<string, unknown>;
}

function common(options: TokenOptions): { header: Record<string, unknown>; base: Record<string, unknown> } {
    const now = options.now ?? Math.floor(Date.now() / 1000);
    return {
        header: { kid: options.key.kid, alg: "RS256", ...(options.header ?? {}) },
        base: {
            sub: options.sub ?? randomUUID(),
            iss: cognitoIssuer(options.userPoolId),
            auth_time: now,
            iat: now,
            exp: now + (options.lifetime ?? 3600),
            jti: randomUUID(),
            origin_jti: randomUUID(),
            event_id: randomUUID(),
        },
    };
}

/** A Cognito-shaped access token (`token_use: access`, `client_id`, `username`, `scope`). */
export function accessToken(options: TokenOptions): string {
    const { header, base } = common(options);
    const payload = {
        ...base,
        token_use: "access",
        client_id: options.clientId,
        scope: "aws.cognito.signin.user.admin",
        username: options.username ?? "alice",
        ...(options.claims ?? {}),
    };
    return signJwt(header, payload, options.key);
}

/** A Cognito-shaped ID token (`token_use: id`, `aud`, `cognito:username`, optional `custom:clientId`). */
export function idToken(options: TokenOptions & { clientIdAttribute?: string }): string {
    const { header, base } = common(options);
    const payload: Record<string, unknown> = {
        ...base,
        token_use: "id",
        aud: options.clientId,
        "cognito:username": options.username ?? "alice",
        email: "alice@example.com",
        email_verified: true,
    };
    if (options.clientIdAttribute !== undefined) payload["custom:clientId"] = options.clientIdAttribute;
    Object.assign(payload, options.claims ?? {});
    return signJwt(header, payload, options.key);
}
