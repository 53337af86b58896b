/**
 * Cognito's tokens: RS256 JWTs with Cognito's claims and issuer, signed with the pool's key, whose public half
 * is the pool's JWKS document.
 */
import { createPrivateKey, createPublicKey, randomUUID, sign, verify, type KeyObject } from "node:crypto";
import type { Jwks } from "aws-jwt-verify/jwk";
import type { CognitoPoolSettings } from "./settings";

/** Claims a pre-token-generation trigger cannot change (Cognito's documented list). */
const PROTECTED_CLAIMS = new Set([
    "acr",
    "amr",
    "aud",
    "at_hash",
    "auth_time",
    "azp",
    "cognito:username",
    "exp",
    "iat",
    "identities",
    "iss",
    "jti",
    "nbf",
    "nonce",
    "origin_jti",
    "sub",
    "token_use",
]);

export function b64url(data: Buffer | string): string {
    return Buffer.from(data).toString("base64url");
}

/** Signs and verifies the pool's JWTs. */
export class TokenSigner {
    private readonly privateKey: KeyObject;
    private readonly publicKey: KeyObject;

    constructor(
        private readonly keyId: string,
        privateKeyPem: string,
    ) {
        this.privateKey = createPrivateKey(privateKeyPem);
        this.publicKey = createPublicKey(this.privateKey);
    }

    /** The pool's JWKS document (what `https://cognito-idp.../<pool>/.well-known/jwks.json` serves). */
    jwks(): Jwks {
        const jwk = this.publicKey.export({ format: "jwk" }) as { n: string; e: string };
        return { keys: [{ alg: "RS256", e: jwk.e, kid: this.keyId, kty: "RSA", n: jwk.n, use: "sig" }] };
    }

    sign(payload: object): string {
        const header = b64url(JSON.stringify({ kid: this.keyId, alg: "RS256" }));
        const body = b64url(JSON.stringify(payload));
        const signature = sign("RSA-SHA256", Buffer.from(`${header}.${body}`), this.privateKey);
        return `${header}.${body}.${b64url(signature)}`;
    }

    /** The payload of a JWT this key signed; throws when it is not one (malformed, or another signature). */
    verify(token: string): Record<string, unknown> {
        const parts = token.split(".");
        if (parts.length !== 3) throw new Error("not a JWT");
        const ok = verify("RSA-SHA256", Buffer.from(`${parts[0]}.${parts[1]}`), this.publicKey, Buffer.from(parts[2], "base64url"));
        if (!ok) throw new Error("bad signature");
        return JSON.parse(Buffer.from(parts[1], "base64url").toString("utf8")) as Record<string, unknown>;
    }
}

/** The attributes the app client may read (`sub` always). */
export function readableAttributes(attributes: Record<string, string>, readAttributes: string[]): Record<string, string> {
    return Object.fromEntries(Object.entries(attributes).filter(([name]) => name === "sub" || readAttributes.includes(name)));
}

/** What a pre-token-generation trigger may change in the ID token. */
export interface ClaimsOverride {
    claimsToAddOrOverride?: Record<string, string>;
    claimsToSuppress?: string[];
}

/** The claims of a user's access and ID tokens issued at `iat`, with a trigger's changes to the ID token. */
export function tokenClaims(
    settings: CognitoPoolSettings,
    issuer: string,
    username: string,
    attributes: Record<string, string>,
    iat: number,
    overrides?: ClaimsOverride,
): { access: Record<string, unknown>; id: Record<string, unknown> } {
    const originJti = randomUUID();
    const eventId = randomUUID();
    const access = {
        sub: attributes.sub,
        iss: issuer,
        client_id: settings.clientId,
        origin_jti: originJti,
        event_id: eventId,
        token_use: "access",
        scope: "aws.cognito.signin.user.admin",
        auth_time: iat,
        exp: iat + settings.accessTokenValiditySeconds,
        iat,
        jti: randomUUID(),
        username: username,
    };
    const id: Record<string, unknown> = {
        sub: attributes.sub,
        ...(settings.readAttributes.includes("email_verified") && attributes.email_verified !== undefined
            ? { email_verified: attributes.email_verified === "true" }
            : {}),
        iss: issuer,
        "cognito:username": username,
        origin_jti: originJti,
        aud: settings.clientId,
        event_id: eventId,
        token_use: "id",
        auth_time: iat,
        exp: iat + settings.idTokenValiditySeconds,
        iat,
        jti: randomUUID(),
    };
    for (const [name, value] of Object.entries(readableAttributes(attributes, settings.readAttributes))) {
        if (name !== "sub" && name !== "email_verified") id[name] = value;
    }
    for (const [name, value] of Object.entries(overrides?.claimsToAddOrOverride ?? {})) if (!PROTECTED_CLAIMS.has(name)) id[name] = value;
    for (const name of overrides?.claimsToSuppress ?? []) if (!PROTECTED_CLAIMS.has(name)) delete id[name];
    return { access, id };
}
