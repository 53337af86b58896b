/**
 * The part of a Cognito user pool that clients use, speaking the AWS JSON 1.1 protocol
 * (`X-Amz-Target: AWSCognitoIdentityProviderService.<Op>`), so `@aws-sdk/client-cognito-identity-provider`
 * and the AWS CLI work against it with an endpoint override. Tokens are RS256 JWTs with Cognito's claims
 * and issuer; the public key is served as the pool's JWKS document.
 *
 * The IAM-authorized operations (Admin*, ListUsers) need a request signed with AWS Signature Version 4 by
 * local mode's own credentials (`credentials`, published in outputs.json), as on AWS; the others are public,
 * as Cognito's are. State (signing key, credentials, users) is kept in `<data-dir>/cognito/<pool>.json`
 * (mode 0600) so users and tokens survive a restart.
 */
import {
    createHash,
    createPrivateKey,
    createPublicKey,
    generateKeyPairSync,
    randomBytes,
    randomInt,
    randomUUID,
    scryptSync,
    sign,
    timingSafeEqual,
    verify,
    KeyObject,
} from "node:crypto";
import { mkdirSync, readFileSync, existsSync } from "node:fs";
import * as path from "node:path";
import type { PostConfirmationTriggerEvent, PreTokenGenerationTriggerEvent } from "aws-lambda";
import type { Jwks } from "aws-jwt-verify/jwk";
import { writeFileAtomic } from "./fs-util";
import type { Logger } from "./log";
import { SignatureError, verifySigV4, type LocalCredentials, type SignedRequest } from "./sigv4";

export interface PasswordPolicy {
    minimumLength: number;
    requireLowercase: boolean;
    requireUppercase: boolean;
    requireNumbers: boolean;
    requireSymbols: boolean;
    /** Days a temporary password (AdminCreateUser) works. Default 7. */
    temporaryPasswordValidityDays?: number;
}

export interface CognitoPoolSettings {
    region: string;
    userPoolId: string;
    clientId: string;
    passwordPolicy: PasswordPolicy;
    /** Verified attributes that also sign a user in (Cognito's AliasAttributes, e.g. email). */
    aliasAttributes: string[];
    /** Usernames compare case-insensitively (UsernameConfiguration.CaseSensitive = false). */
    caseInsensitiveUsernames: boolean;
    /** PreventUserExistenceErrors of the app client. */
    preventUserExistenceErrors: boolean;
    /** Attributes Cognito verifies on sign-up confirmation. */
    autoVerifiedAttributes: string[];
    /** Custom attributes of the schema, without the `custom:` prefix. */
    customAttributes: string[];
    /** Attributes every user must have (asked for at an invited user's first sign-in if missing). */
    requiredAttributes?: string[];
    /** Attributes the app client may read (GetUser, ID token claims); `sub` is always readable. */
    readAttributes: string[];
    /** Attributes the app client may write (SignUp, UpdateUserAttributes). */
    writeAttributes: string[];
    /** Auth flows the app client allows, e.g. ALLOW_USER_PASSWORD_AUTH. */
    explicitAuthFlows: string[];
    accessTokenValiditySeconds: number;
    idTokenValiditySeconds: number;
    refreshTokenValiditySeconds: number;
}

export interface CognitoHooks {
    /** Runs after a sign-up is confirmed, as the PostConfirmation trigger. */
    postConfirmation?: (event: PostConfirmationTriggerEvent) => Promise<unknown>;
    /** Runs before tokens are issued, as the PreTokenGeneration trigger (event version 1). */
    preTokenGeneration?: (event: PreTokenGenerationTriggerEvent) => Promise<PreTokenGenerationTriggerEvent>;
    /** Receives each invitation's temporary password (what Cognito would e-mail after AdminCreateUser). */
    onInvitation?: (username: string, temporaryPassword: string, destination: string) => void;
    /** Receives each confirmation code (what Cognito would e-mail). */
    onConfirmationCode?: (username: string, code: string, destination: string) => void;
}

interface StoredUser {
    username: string;
    /** scrypt hash, hex, with its salt. */
    passwordHash: string;
    salt: string;
    attributes: Record<string, string>;
    /** FORCE_CHANGE_PASSWORD: created by AdminCreateUser, signs in with its temporary password once. */
    status: "UNCONFIRMED" | "CONFIRMED" | "FORCE_CHANGE_PASSWORD";
    /** Until when the temporary password of a FORCE_CHANGE_PASSWORD user works, seconds. */
    temporaryPasswordExpires?: number;
    enabled: boolean;
    createdAt: number;
    modifiedAt: number;
    confirmationCode?: string;
    confirmationCodeExpires?: number;
}

interface StoredState {
    keyId: string;
    privateKeyPem: string;
    /** The credentials IAM-authorized operations must be signed with (generated once per data directory). */
    credentials?: LocalCredentials;
    users: Record<string, StoredUser>;
    /** By SHA-256 of the token. */
    refreshTokens: Record<string, { username: string; expires: number }>;
}

/** A Cognito error as the JSON protocol returns it (HTTP 400, `__type`). */
export class CognitoError extends Error {
    constructor(
        readonly type: string,
        message: string,
        readonly status = 400,
    ) {
        super(message);
    }
}

const STANDARD_ATTRIBUTES = new Set([
    "address",
    "birthdate",
    "email",
    "email_verified",
    "family_name",
    "gender",
    "given_name",
    "locale",
    "middle_name",
    "name",
    "nickname",
    "phone_number",
    "phone_number_verified",
    "picture",
    "preferred_username",
    "profile",
    "zoneinfo",
    "updated_at",
    "website",
]);

const SYMBOLS = "^$*.[]{}()?\"!@#%&/\\,><':;|_~`=+-";

/** Operations Cognito authorizes with IAM (a SigV4-signed request); the others are public. */
export const IAM_OPERATIONS = new Set(["AdminConfirmSignUp", "AdminCreateUser", "AdminGetUser", "AdminUpdateUserAttributes", "ListUsers"]);

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

/** How long a challenge session (NEW_PASSWORD_REQUIRED) is valid: Cognito's default, 3 minutes. */
const SESSION_SECONDS = 180;

function b64url(data: Buffer | string): string {
    return Buffer.from(data).toString("base64url");
}

export class CognitoEmulator {
    private state: StoredState;
    /** Open NEW_PASSWORD_REQUIRED challenges by hash of their session string (in memory: they last 3 minutes). */
    private readonly sessions = new Map<string, { username: string; expires: number }>();
    private readonly privateKey: KeyObject;
    private readonly publicKey: KeyObject;
    private readonly statePath: string;

    constructor(
        readonly settings: CognitoPoolSettings,
        dataDir: string,
        private readonly log: Logger,
        private readonly hooks: CognitoHooks = {},
        private readonly now: () => number = Date.now,
    ) {
        const dir = path.join(dataDir, "cognito");
        mkdirSync(dir, { recursive: true });
        this.statePath = path.join(dir, `${settings.userPoolId}.json`);
        this.state = existsSync(this.statePath) ? (JSON.parse(readFileSync(this.statePath, "utf8")) as StoredState) : this.freshState();
        this.state.credentials ??= freshCredentials();
        this.privateKey = createPrivateKey(this.state.privateKeyPem);
        this.publicKey = createPublicKey(this.privateKey);
        this.save();
    }

    /** The state's credentials: made when the state is created or loaded, so missing ones mean a broken state. */
    private signingCredentials(): LocalCredentials {
        const credentials = this.state.credentials;
        if (!credentials) throw new Error("local Cognito: the state has no admin credentials (it is created with them on load)");
        return credentials;
    }

    /** The credentials Admin* and ListUsers requests must be signed with (SigV4, service cognito-idp). */
    get credentials(): LocalCredentials {
        return { ...this.signingCredentials() };
    }

    get issuer(): string {
        return `https://cognito-idp.${this.settings.region}.amazonaws.com/${this.settings.userPoolId}`;
    }

    /** The pool's JWKS document (what `https://cognito-idp.../<pool>/.well-known/jwks.json` serves). */
    jwks(): Jwks {
        const jwk = this.publicKey.export({ format: "jwk" }) as { n: string; e: string };
        return { keys: [{ alg: "RS256", e: jwk.e, kid: this.state.keyId, kty: "RSA", n: jwk.n, use: "sig" }] };
    }

    /** The confirmation code last issued for a user (what the e-mail would hold), for tests and tools. */
    confirmationCode(username: string): string | undefined {
        return this.findUser(username)?.confirmationCode;
    }

    /** Signs tokens for a confirmed user with a chosen issue time (tests use it for expired tokens). */
    issueTokens(username: string, issuedAtSeconds?: number): { AccessToken: string; IdToken: string } {
        const user = this.findUser(username);
        if (!user) throw new CognitoError("UserNotFoundException", "User does not exist.");
        return this.tokensFor(user, issuedAtSeconds);
    }

    /**
     * Handles one JSON-protocol call. IAM-authorized operations need `request` (the HTTP request as received)
     * signed with `credentials`; without it they are refused as an unsigned request.
     */
    async call(operation: string, input: Record<string, unknown>, request?: SignedRequest): Promise<unknown> {
        if (IAM_OPERATIONS.has(operation)) await this.checkSignature(request);
        switch (operation) {
            case "SignUp":
                return this.signUp(input);
            case "ConfirmSignUp":
                return this.confirmSignUp(input);
            case "ResendConfirmationCode":
                return this.resendConfirmationCode(input);
            case "AdminConfirmSignUp":
                return this.adminConfirmSignUp(input);
            case "AdminCreateUser":
                return this.adminCreateUser(input);
            case "InitiateAuth":
                return this.initiateAuth(input);
            case "RespondToAuthChallenge":
                return this.respondToAuthChallenge(input);
            case "GetUser":
                return this.getUser(input);
            case "AdminGetUser":
                return this.adminGetUser(input);
            case "ListUsers":
                return this.listUsers(input);
            case "UpdateUserAttributes":
                return this.updateUserAttributes(input);
            case "AdminUpdateUserAttributes":
                return this.adminUpdateUserAttributes(input);
            default:
                throw new CognitoError("UnknownOperationException", `Operation ${operation} is not supported by local mode.`);
        }
    }

    private async checkSignature(request: SignedRequest | undefined): Promise<void> {
        try {
            if (!request) throw new SignatureError("MissingAuthenticationTokenException", "Missing Authentication Token");
            await verifySigV4(request, this.signingCredentials(), {
                region: this.settings.region,
                service: "cognito-idp",
                now: this.now(),
            });
        } catch (err) {
            if (err instanceof SignatureError) throw new CognitoError(err.type, err.message, err.status);
            throw err;
        }
    }

    // ---- operations ----

    private async signUp(input: Record<string, unknown>): Promise<unknown> {
        this.checkClient(input.ClientId);
        const username = requiredString(input, "Username");
        const password = requiredString(input, "Password");
        const attributes = attributeList(input.UserAttributes, "UserAttributes");
        this.checkWritable(Object.keys(attributes));
        this.checkSchema(Object.keys(attributes));
        this.checkPassword(password);
        if (this.settings.aliasAttributes.includes("email") && /^[^@\s]+@[^@\s]+$/.test(username)) {
            throw new CognitoError(
                "InvalidParameterException",
                "Username cannot be of email format, since user pool is configured for email alias.",
            );
        }
        if (this.findUser(username, false)) throw new CognitoError("UsernameExistsException", "User already exists");
        if (this.settings.autoVerifiedAttributes.includes("email") && !attributes.email) {
            throw new CognitoError(
                "InvalidParameterException",
                "Attributes did not conform to the schema: email: The attribute is required",
            );
        }
        const storedName = this.settings.caseInsensitiveUsernames ? username.toLowerCase() : username;
        const sub = randomUUID();
        const salt = randomBytes(16).toString("hex");
        const user: StoredUser = {
            username: storedName,
            passwordHash: scryptSync(password, salt, 32).toString("hex"),
            salt,
            attributes: { sub, ...attributes },
            status: "UNCONFIRMED",
            enabled: true,
            createdAt: this.nowSeconds(),
            modifiedAt: this.nowSeconds(),
        };
        if (user.attributes.email) user.attributes.email_verified = "false";
        this.state.users[storedName] = user;
        const destination = this.sendCode(user);
        this.save();
        this.log.info(`cognito SignUp ${storedName} (UNCONFIRMED)`);
        return {
            UserConfirmed: false,
            UserSub: sub,
            CodeDeliveryDetails: { Destination: destination, DeliveryMedium: "EMAIL", AttributeName: "email" },
        };
    }

    private async confirmSignUp(input: Record<string, unknown>): Promise<unknown> {
        this.checkClient(input.ClientId);
        const code = requiredString(input, "ConfirmationCode");
        const user = this.findUser(requiredString(input, "Username"), false);
        if (!user) {
            if (this.settings.preventUserExistenceErrors)
                throw new CognitoError("CodeMismatchException", "Invalid verification code provided, please try again.");
            throw new CognitoError("UserNotFoundException", "Username/client id combination not found.");
        }
        if (user.status === "CONFIRMED") {
            throw new CognitoError("NotAuthorizedException", "User cannot be confirmed. Current status is CONFIRMED");
        }
        if (!user.confirmationCode || user.confirmationCode !== code) {
            throw new CognitoError("CodeMismatchException", "Invalid verification code provided, please try again.");
        }
        if ((user.confirmationCodeExpires ?? 0) < this.nowSeconds()) {
            throw new CognitoError("ExpiredCodeException", "Invalid code provided, please request a code again.");
        }
        await this.confirm(user, String(input.ClientId), input.ClientMetadata as Record<string, string> | undefined);
        return {};
    }

    private async resendConfirmationCode(input: Record<string, unknown>): Promise<unknown> {
        this.checkClient(input.ClientId);
        const user = this.findUser(requiredString(input, "Username"), false);
        if (!user) {
            if (this.settings.preventUserExistenceErrors)
                return { CodeDeliveryDetails: { Destination: "x***@x***", DeliveryMedium: "EMAIL", AttributeName: "email" } };
            throw new CognitoError("UserNotFoundException", "Username/client id combination not found.");
        }
        if (user.status === "CONFIRMED") throw new CognitoError("InvalidParameterException", "User is already confirmed.");
        const destination = this.sendCode(user);
        this.save();
        return { CodeDeliveryDetails: { Destination: destination, DeliveryMedium: "EMAIL", AttributeName: "email" } };
    }

    private async adminConfirmSignUp(input: Record<string, unknown>): Promise<unknown> {
        this.checkPool(input.UserPoolId);
        const user = this.userOrNotFound(requiredString(input, "Username"), "User does not exist.");
        if (user.status !== "UNCONFIRMED") {
            throw new CognitoError("NotAuthorizedException", `User cannot be confirmed. Current status is ${user.status}`);
        }
        await this.confirm(user, "CLIENT_ID_NOT_APPLICABLE", input.ClientMetadata as Record<string, string> | undefined);
        return {};
    }

    private async initiateAuth(input: Record<string, unknown>): Promise<unknown> {
        this.checkClient(input.ClientId);
        const flow = requiredString(input, "AuthFlow");
        const params = (input.AuthParameters ?? {}) as Record<string, string>;
        const metadata = input.ClientMetadata as Record<string, string> | undefined;
        if (flow === "USER_PASSWORD_AUTH") {
            this.checkFlow("ALLOW_USER_PASSWORD_AUTH", flow);
            return this.passwordAuth(params, metadata);
        }
        if (flow === "REFRESH_TOKEN_AUTH" || flow === "REFRESH_TOKEN") {
            this.checkFlow("ALLOW_REFRESH_TOKEN_AUTH", flow);
            const stored = params.REFRESH_TOKEN ? this.state.refreshTokens[hashToken(params.REFRESH_TOKEN)] : undefined;
            if (!stored || stored.expires < this.nowSeconds()) throw new CognitoError("NotAuthorizedException", "Invalid Refresh Token");
            const user = this.findUser(stored.username, false);
            if (!user || !user.enabled) throw new CognitoError("NotAuthorizedException", "Invalid Refresh Token");
            this.log.info(`cognito InitiateAuth REFRESH_TOKEN_AUTH ${user.username}`);
            return this.authenticationResult(user, "TokenGeneration_RefreshTokens", metadata, false);
        }
        throw new CognitoError(
            "InvalidParameterException",
            `Auth flow ${flow} is not supported by local mode (use USER_PASSWORD_AUTH or REFRESH_TOKEN_AUTH).`,
        );
    }

    private async passwordAuth(params: Record<string, string>, metadata?: Record<string, string>): Promise<unknown> {
        const user = params.USERNAME ? this.findUser(params.USERNAME) : undefined;
        if (!params.USERNAME || params.PASSWORD === undefined) {
            throw new CognitoError("InvalidParameterException", "Missing required parameter USERNAME or PASSWORD");
        }
        if (!user || !this.passwordMatches(user, params.PASSWORD)) {
            this.log.info(`cognito InitiateAuth failed: incorrect username or password`);
            throw new CognitoError("NotAuthorizedException", "Incorrect username or password.");
        }
        if (!user.enabled) throw new CognitoError("NotAuthorizedException", "User is disabled.");
        if (user.status === "FORCE_CHANGE_PASSWORD") return this.newPasswordChallenge(user);
        if (user.status !== "CONFIRMED") throw new CognitoError("UserNotConfirmedException", "User is not confirmed.");
        this.log.info(`cognito InitiateAuth USER_PASSWORD_AUTH ${user.username}`);
        return this.authenticationResult(user, "TokenGeneration_Authentication", metadata, true);
    }

    /** The first sign-in of an invited user: a new password before any token (Cognito's NEW_PASSWORD_REQUIRED). */
    private newPasswordChallenge(user: StoredUser): unknown {
        if ((user.temporaryPasswordExpires ?? 0) < this.nowSeconds()) {
            throw new CognitoError("NotAuthorizedException", "Temporary password has expired and must be reset by an administrator.");
        }
        const session = b64url(randomBytes(48));
        const now = this.nowSeconds();
        for (const [key, open] of this.sessions) if (open.expires < now) this.sessions.delete(key);
        this.sessions.set(hashToken(session), { username: user.username, expires: now + SESSION_SECONDS });
        const attributes = Object.fromEntries(Object.entries(this.readable(user.attributes)).filter(([name]) => name !== "sub"));
        this.log.info(`cognito InitiateAuth USER_PASSWORD_AUTH ${user.username}: NEW_PASSWORD_REQUIRED`);
        return {
            ChallengeName: "NEW_PASSWORD_REQUIRED",
            Session: session,
            ChallengeParameters: {
                USER_ID_FOR_SRP: user.username,
                requiredAttributes: JSON.stringify(this.missingRequiredAttributes(user).map((name) => `userAttributes.${name}`)),
                userAttributes: JSON.stringify(attributes),
            },
        };
    }

    private async respondToAuthChallenge(input: Record<string, unknown>): Promise<unknown> {
        this.checkClient(input.ClientId);
        const challenge = requiredString(input, "ChallengeName");
        if (challenge !== "NEW_PASSWORD_REQUIRED") {
            throw new CognitoError(
                "InvalidParameterException",
                `Challenge ${challenge} is not supported by local mode (only NEW_PASSWORD_REQUIRED).`,
            );
        }
        const responses = (input.ChallengeResponses ?? {}) as Record<string, string>;
        const key = hashToken(requiredString(input, "Session"));
        const open = this.sessions.get(key);
        const user = open && open.expires >= this.nowSeconds() ? this.findUser(open.username, false) : undefined;
        if (
            !user ||
            user.status !== "FORCE_CHANGE_PASSWORD" ||
            (responses.USERNAME !== undefined && this.findUser(responses.USERNAME)?.username !== user.username)
        ) {
            throw new CognitoError("NotAuthorizedException", "Invalid session for the user, session is expired.");
        }
        const password = responses.NEW_PASSWORD;
        if (typeof password !== "string" || password === "")
            throw new CognitoError("InvalidParameterException", "Missing required parameter NEW_PASSWORD");
        this.checkPassword(password);
        const attributes = Object.fromEntries(
            Object.entries(responses)
                .filter(([name]) => name.startsWith("userAttributes."))
                .map(([name, value]) => [name.slice(15), value]),
        );
        this.checkWritable(Object.keys(attributes));
        this.checkSchema(Object.keys(attributes));
        const missing = this.missingRequiredAttributes({ ...user, attributes: { ...user.attributes, ...attributes } });
        if (missing.length > 0) throw new CognitoError("InvalidParameterException", `Missing required attribute ${missing.join(", ")}`);
        this.sessions.delete(key);
        Object.assign(user.attributes, attributes);
        user.salt = randomBytes(16).toString("hex");
        user.passwordHash = scryptSync(password, user.salt, 32).toString("hex");
        user.status = "CONFIRMED";
        user.temporaryPasswordExpires = undefined;
        user.modifiedAt = this.nowSeconds();
        this.save();
        this.log.info(`cognito RespondToAuthChallenge NEW_PASSWORD_REQUIRED ${user.username} (CONFIRMED)`);
        return this.authenticationResult(
            user,
            "TokenGeneration_NewPasswordChallenge",
            input.ClientMetadata as Record<string, string> | undefined,
            true,
        );
    }

    /** Tokens after the pre-token-generation trigger (and, for a sign-in, a new refresh token). */
    private async authenticationResult(
        user: StoredUser,
        source: string,
        metadata: Record<string, string> | undefined,
        withRefresh: boolean,
    ): Promise<unknown> {
        const tokens = await this.tokensAfterTrigger(user, source, metadata);
        let refreshToken: string | undefined;
        if (withRefresh) {
            const now = this.nowSeconds();
            for (const [token, stored] of Object.entries(this.state.refreshTokens))
                if (stored.expires < now) delete this.state.refreshTokens[token];
            refreshToken = b64url(randomBytes(48));
            this.state.refreshTokens[hashToken(refreshToken)] = {
                username: user.username,
                expires: now + this.settings.refreshTokenValiditySeconds,
            };
            this.save();
        }
        return {
            ChallengeParameters: {},
            AuthenticationResult: {
                ...tokens,
                ExpiresIn: this.settings.accessTokenValiditySeconds,
                TokenType: "Bearer",
                ...(refreshToken ? { RefreshToken: refreshToken } : {}),
            },
        };
    }

    private async getUser(input: Record<string, unknown>): Promise<unknown> {
        const user = this.userFromAccessToken(input.AccessToken);
        return { Username: user.username, UserAttributes: toAttributeList(this.readable(user.attributes)) };
    }

    private async adminGetUser(input: Record<string, unknown>): Promise<unknown> {
        this.checkPool(input.UserPoolId);
        const user = this.userOrNotFound(requiredString(input, "Username"), "User does not exist.");
        const { Attributes, ...rest } = userType(user);
        return { ...rest, UserAttributes: Attributes };
    }

    /** An administrator creates a user (invited, imported): FORCE_CHANGE_PASSWORD with a temporary password. */
    private async adminCreateUser(input: Record<string, unknown>): Promise<unknown> {
        this.checkPool(input.UserPoolId);
        const username = requiredString(input, "Username");
        const attributes = attributeList(input.UserAttributes, "UserAttributes");
        this.checkSchema(Object.keys(attributes));
        if ("sub" in attributes) throw new CognitoError("InvalidParameterException", "Cannot modify the non-mutable attribute sub");
        const action = input.MessageAction;
        if (action !== undefined && action !== "SUPPRESS" && action !== "RESEND") {
            throw new CognitoError(
                "InvalidParameterException",
                `1 validation error detected: Value '${String(action)}' at 'messageAction' failed to satisfy constraint: Member must satisfy enum value set: [SUPPRESS, RESEND]`,
            );
        }
        const temporary =
            typeof input.TemporaryPassword === "string" && input.TemporaryPassword !== ""
                ? input.TemporaryPassword
                : generatePassword(this.settings.passwordPolicy);
        this.checkPassword(temporary);
        const now = this.nowSeconds();
        let user = this.findUser(username, false);
        if (action === "RESEND") {
            if (!user) throw new CognitoError("UserNotFoundException", "User does not exist.");
            if (user.status !== "FORCE_CHANGE_PASSWORD")
                throw new CognitoError(
                    "UnsupportedUserStateException",
                    `Resend not possible. ${user.username} status is not FORCE_CHANGE_PASSWORD.`,
                );
        } else {
            if (user) throw new CognitoError("UsernameExistsException", "User account already exists");
            if (this.settings.aliasAttributes.includes("email") && /^[^@\s]+@[^@\s]+$/.test(username)) {
                throw new CognitoError(
                    "InvalidParameterException",
                    "Username cannot be of email format, since user pool is configured for email alias.",
                );
            }
            const storedName = this.settings.caseInsensitiveUsernames ? username.toLowerCase() : username;
            user = {
                username: storedName,
                passwordHash: "",
                salt: "",
                attributes: { sub: randomUUID(), ...attributes },
                status: "FORCE_CHANGE_PASSWORD",
                enabled: true,
                createdAt: now,
                modifiedAt: now,
            };
            if (user.attributes.email && user.attributes.email_verified === undefined) user.attributes.email_verified = "false";
            this.state.users[storedName] = user;
        }
        user.salt = randomBytes(16).toString("hex");
        user.passwordHash = scryptSync(temporary, user.salt, 32).toString("hex");
        user.temporaryPasswordExpires = now + (this.settings.passwordPolicy.temporaryPasswordValidityDays ?? 7) * 86400;
        this.save();
        this.log.info(`cognito AdminCreateUser ${user.username} (FORCE_CHANGE_PASSWORD)`);
        if (action !== "SUPPRESS") this.hooks.onInvitation?.(user.username, temporary, user.attributes.email ?? "");
        return { User: userType(user) };
    }

    /** Users in username order, `Limit` (1 to 60) a page, with an opaque PaginationToken. No Filter. */
    private async listUsers(input: Record<string, unknown>): Promise<unknown> {
        this.checkPool(input.UserPoolId);
        if (input.Filter !== undefined && input.Filter !== "") {
            throw new CognitoError(
                "InvalidParameterException",
                "local mode's ListUsers does not support Filter: list every user and filter on the client.",
            );
        }
        const limit = input.Limit ?? 60;
        if (typeof limit !== "number" || !Number.isInteger(limit) || limit < 1 || limit > 60) {
            throw new CognitoError(
                "InvalidParameterException",
                `1 validation error detected: Value '${String(limit)}' at 'limit' failed to satisfy constraint: Member must have value between 1 and 60`,
            );
        }
        const names = Object.keys(this.state.users).sort();
        let start = 0;
        if (input.PaginationToken !== undefined) {
            const after = typeof input.PaginationToken === "string" ? Buffer.from(input.PaginationToken, "base64url").toString("utf8") : "";
            if (!(after in this.state.users)) throw new CognitoError("InvalidParameterException", "Invalid pagination token");
            start = names.indexOf(after) + 1;
        }
        const wanted = input.AttributesToGet === undefined ? undefined : new Set(attributeNames(input.AttributesToGet));
        const page = names.slice(start, start + limit);
        return {
            Users: page.map((name) => userType(this.state.users[name], wanted)),
            ...(start + limit < names.length ? { PaginationToken: Buffer.from(page[page.length - 1], "utf8").toString("base64url") } : {}),
        };
    }

    private async updateUserAttributes(input: Record<string, unknown>): Promise<unknown> {
        const user = this.userFromAccessToken(input.AccessToken);
        const attributes = attributeList(input.UserAttributes, "UserAttributes");
        this.checkWritable(Object.keys(attributes));
        this.checkSchema(Object.keys(attributes));
        this.applyAttributes(user, attributes);
        this.log.info(`cognito UpdateUserAttributes ${user.username} (${Object.keys(attributes).join(", ")})`);
        return { CodeDeliveryDetailsList: [] };
    }

    private async adminUpdateUserAttributes(input: Record<string, unknown>): Promise<unknown> {
        this.checkPool(input.UserPoolId);
        const user = this.userOrNotFound(requiredString(input, "Username"), "User does not exist.");
        const attributes = attributeList(input.UserAttributes, "UserAttributes");
        this.checkSchema(Object.keys(attributes));
        this.applyAttributes(user, attributes);
        this.log.info(`cognito AdminUpdateUserAttributes ${user.username} (${Object.keys(attributes).join(", ")})`);
        return {};
    }

    // ---- internals ----

    private freshState(): StoredState {
        const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
        return {
            keyId: b64url(randomBytes(24)),
            privateKeyPem: privateKey.export({ format: "pem", type: "pkcs8" }).toString(),
            users: {},
            refreshTokens: {},
        };
    }

    private save(): void {
        writeFileAtomic(this.statePath, JSON.stringify(this.state, null, 1), 0o600);
    }

    private nowSeconds(): number {
        return Math.floor(this.now() / 1000);
    }

    private async confirm(user: StoredUser, clientId: string, clientMetadata?: Record<string, string>): Promise<void> {
        user.status = "CONFIRMED";
        user.confirmationCode = undefined;
        user.confirmationCodeExpires = undefined;
        if (this.settings.autoVerifiedAttributes.includes("email") && user.attributes.email) user.attributes.email_verified = "true";
        user.modifiedAt = this.nowSeconds();
        this.save();
        this.log.info(`cognito confirmed ${user.username}`);
        if (!this.hooks.postConfirmation) return;
        const userAttributes: Record<string, string> = { ...user.attributes, "cognito:user_status": "CONFIRMED" };
        if (this.settings.aliasAttributes.includes("email") && user.attributes.email_verified === "true")
            userAttributes["cognito:email_alias"] = user.attributes.email;
        const event: PostConfirmationTriggerEvent = {
            version: "1",
            region: this.settings.region,
            userPoolId: this.settings.userPoolId,
            userName: user.username,
            callerContext: { awsSdkVersion: "aws-sdk-unknown-unknown", clientId },
            triggerSource: "PostConfirmation_ConfirmSignUp",
            request: { userAttributes, ...(clientMetadata ? { clientMetadata } : {}) },
            response: {},
        };
        try {
            await this.hooks.postConfirmation(event);
        } catch (err) {
            // Cognito keeps the user confirmed and reports the trigger's failure to the caller.
            this.log.warn(`cognito PostConfirmation trigger failed for ${user.username}: ${(err as Error).message}`);
            throw new CognitoError("UserLambdaValidationException", `PostConfirmation failed with error ${(err as Error).message}.`);
        }
    }

    private sendCode(user: StoredUser): string {
        const code = String(randomInt(0, 1_000_000)).padStart(6, "0");
        user.confirmationCode = code;
        user.confirmationCodeExpires = this.nowSeconds() + 24 * 3600;
        const email = user.attributes.email ?? "";
        const destination = email.replace(/^(.)[^@]*@(.).*$/, "$1***@$2***");
        this.hooks.onConfirmationCode?.(user.username, code, email);
        return destination;
    }

    /**
     * Runs the pre-token-generation trigger, then signs the tokens. As Cognito does, the ID token is built
     * from the attributes the trigger was sent (not re-read after it), with the trigger's claim changes.
     */
    private async tokensAfterTrigger(
        user: StoredUser,
        source: string,
        metadata?: Record<string, string>,
    ): Promise<{ AccessToken: string; IdToken: string }> {
        const attributes = { ...user.attributes };
        if (!this.hooks.preTokenGeneration) return this.tokensFor(user, undefined, attributes);
        const event = {
            version: "1",
            triggerSource: source,
            region: this.settings.region,
            userPoolId: this.settings.userPoolId,
            userName: user.username,
            callerContext: { awsSdkVersion: "aws-sdk-unknown-unknown", clientId: this.settings.clientId },
            request: {
                userAttributes: { ...attributes, "cognito:user_status": user.status },
                groupConfiguration: { groupsToOverride: [], iamRolesToOverride: [], preferredRole: null },
                ...(metadata ? { clientMetadata: metadata } : {}),
            },
            response: { claimsOverrideDetails: null },
        } as unknown as PreTokenGenerationTriggerEvent;
        let result: PreTokenGenerationTriggerEvent;
        try {
            result = await this.hooks.preTokenGeneration(event);
        } catch (err) {
            this.log.warn(`cognito PreTokenGeneration trigger failed for ${user.username}: ${(err as Error).message}`);
            throw new CognitoError("UserLambdaValidationException", `PreTokenGeneration failed with error ${(err as Error).message}.`);
        }
        return this.tokensFor(user, undefined, attributes, result?.response?.claimsOverrideDetails ?? undefined);
    }

    private tokensFor(
        user: StoredUser,
        issuedAtSeconds?: number,
        attributes: Record<string, string> = user.attributes,
        overrides?: { claimsToAddOrOverride?: Record<string, string>; claimsToSuppress?: string[] },
    ): { AccessToken: string; IdToken: string } {
        const iat = issuedAtSeconds ?? this.nowSeconds();
        const originJti = randomUUID();
        const eventId = randomUUID();
        const access = {
            sub: attributes.sub,
            iss: this.issuer,
            client_id: this.settings.clientId,
            origin_jti: originJti,
            event_id: eventId,
            token_use: "access",
            scope: "aws.cognito.signin.user.admin",
            auth_time: iat,
            exp: iat + this.settings.accessTokenValiditySeconds,
            iat,
            jti: randomUUID(),
            username: user.username,
        };
        const id: Record<string, unknown> = {
            sub: attributes.sub,
            ...(this.settings.readAttributes.includes("email_verified") && attributes.email_verified !== undefined
                ? { email_verified: attributes.email_verified === "true" }
                : {}),
            iss: this.issuer,
            "cognito:username": user.username,
            origin_jti: originJti,
            aud: this.settings.clientId,
            event_id: eventId,
            token_use: "id",
            auth_time: iat,
            exp: iat + this.settings.idTokenValiditySeconds,
            iat,
            jti: randomUUID(),
        };
        for (const [name, value] of Object.entries(this.readable(attributes))) {
            if (name !== "sub" && name !== "email_verified") id[name] = value;
        }
        for (const [name, value] of Object.entries(overrides?.claimsToAddOrOverride ?? {}))
            if (!PROTECTED_CLAIMS.has(name)) id[name] = value;
        for (const name of overrides?.claimsToSuppress ?? []) if (!PROTECTED_CLAIMS.has(name)) delete id[name];
        return { AccessToken: this.signJwt(access), IdToken: this.signJwt(id) };
    }

    /** The attributes the app client may read. */
    private readable(attributes: Record<string, string>): Record<string, string> {
        return Object.fromEntries(
            Object.entries(attributes).filter(([name]) => name === "sub" || this.settings.readAttributes.includes(name)),
        );
    }

    private signJwt(payload: object): string {
        const header = b64url(JSON.stringify({ kid: this.state.keyId, alg: "RS256" }));
        const body = b64url(JSON.stringify(payload));
        const signature = sign("RSA-SHA256", Buffer.from(`${header}.${body}`), this.privateKey);
        return `${header}.${body}.${b64url(signature)}`;
    }

    private userFromAccessToken(token: unknown): StoredUser {
        if (typeof token !== "string" || token.length === 0) {
            throw new CognitoError(
                "InvalidParameterException",
                "1 validation error detected: Value null at 'accessToken' failed to satisfy constraint: Member must not be null",
            );
        }
        const parts = token.split(".");
        let payload: Record<string, unknown>;
        try {
            if (parts.length !== 3) throw new Error("not a JWT");
            const ok = verify("RSA-SHA256", Buffer.from(`${parts[0]}.${parts[1]}`), this.publicKey, Buffer.from(parts[2], "base64url"));
            if (!ok) throw new Error("bad signature");
            payload = JSON.parse(Buffer.from(parts[1], "base64url").toString("utf8"));
        } catch {
            throw new CognitoError("NotAuthorizedException", "Invalid Access Token");
        }
        if (payload.token_use !== "access" || payload.iss !== this.issuer)
            throw new CognitoError("NotAuthorizedException", "Invalid Access Token");
        if (typeof payload.exp !== "number" || payload.exp <= this.nowSeconds())
            throw new CognitoError("NotAuthorizedException", "Access Token has expired");
        const user = this.findUser(String(payload.username), false);
        if (!user) throw new CognitoError("UserNotFoundException", "User does not exist.");
        if (!user.enabled) throw new CognitoError("NotAuthorizedException", "User is disabled.");
        return user;
    }

    private applyAttributes(user: StoredUser, attributes: Record<string, string>): void {
        if ("sub" in attributes) throw new CognitoError("InvalidParameterException", "Cannot modify the non-mutable attribute sub");
        for (const [name, value] of Object.entries(attributes)) {
            if (value === "") delete user.attributes[name];
            else user.attributes[name] = value;
        }
        // Changing the e-mail makes it unverified (Cognito would send a verification code).
        if ("email" in attributes && !("email_verified" in attributes)) user.attributes.email_verified = "false";
        user.modifiedAt = this.nowSeconds();
        this.save();
    }

    /** A user by username, or (when `aliases`) by a verified alias attribute such as the e-mail address. */
    private findUser(name: string, aliases = true): StoredUser | undefined {
        const key = this.settings.caseInsensitiveUsernames ? name.toLowerCase() : name;
        if (this.state.users[key]) return this.state.users[key];
        if (!aliases) return undefined;
        const lower = name.toLowerCase();
        return Object.values(this.state.users).find((u) =>
            this.settings.aliasAttributes.some((alias) => {
                const value = u.attributes[alias];
                const verified = alias !== "email" || u.attributes.email_verified === "true";
                return verified && value !== undefined && (alias === "email" ? value.toLowerCase() === lower : value === name);
            }),
        );
    }

    private userOrNotFound(name: string, message: string): StoredUser {
        const user = this.findUser(name);
        if (!user) throw new CognitoError("UserNotFoundException", message);
        return user;
    }

    private missingRequiredAttributes(user: StoredUser): string[] {
        return (this.settings.requiredAttributes ?? []).filter((name) => !user.attributes[name]);
    }

    private passwordMatches(user: StoredUser, password: string): boolean {
        const actual = scryptSync(password, user.salt, 32);
        return timingSafeEqual(actual, Buffer.from(user.passwordHash, "hex"));
    }

    private checkClient(clientId: unknown): void {
        if (clientId !== this.settings.clientId) {
            throw new CognitoError("ResourceNotFoundException", `User pool client ${String(clientId)} does not exist.`);
        }
    }

    private checkPool(poolId: unknown): void {
        if (poolId !== this.settings.userPoolId) {
            throw new CognitoError("ResourceNotFoundException", `User pool ${String(poolId)} does not exist.`);
        }
    }

    private checkFlow(allowed: string, flow: string): void {
        if (!this.settings.explicitAuthFlows.includes(allowed)) {
            throw new CognitoError("InvalidParameterException", `${flow} flow not enabled for this client`);
        }
    }

    private checkWritable(names: string[]): void {
        for (const name of names) {
            if (!this.settings.writeAttributes.includes(name)) {
                throw new CognitoError("NotAuthorizedException", "A client attempted to write unauthorized attribute");
            }
        }
    }

    private checkSchema(names: string[]): void {
        for (const name of names) {
            const known =
                STANDARD_ATTRIBUTES.has(name) || (name.startsWith("custom:") && this.settings.customAttributes.includes(name.slice(7)));
            if (!known) throw new CognitoError("InvalidParameterException", `Attribute does not exist in the schema: ${name}`);
        }
    }

    private checkPassword(password: string): void {
        const policy = this.settings.passwordPolicy;
        const fail = (why: string) => {
            throw new CognitoError("InvalidPasswordException", `Password did not conform with policy: ${why}`);
        };
        if ([...password].length < policy.minimumLength) fail("Password not long enough");
        if (policy.requireLowercase && !/[a-z]/.test(password)) fail("Password must have lowercase characters");
        if (policy.requireUppercase && !/[A-Z]/.test(password)) fail("Password must have uppercase characters");
        if (policy.requireNumbers && !/[0-9]/.test(password)) fail("Password must have numeric characters");
        if (policy.requireSymbols && ![...password].some((c) => SYMBOLS.includes(c) || c === " "))
            fail("Password must have symbol characters");
    }
}

/** Refresh tokens are kept by hash only, so the state file holds no usable token. */
function hashToken(token: string): string {
    return createHash("sha256").update(token).digest("base64url");
}

function requiredString(input: Record<string, unknown>, name: string): string {
    const value = input[name];
    if (typeof value !== "string" || value.length === 0) {
        const field = name.charAt(0).toLowerCase() + name.slice(1);
        throw new CognitoError(
            "InvalidParameterException",
            `1 validation error detected: Value at '${field}' failed to satisfy constraint: Member must not be null`,
        );
    }
    return value;
}

function attributeList(value: unknown, name: string): Record<string, string> {
    if (value === undefined) return {};
    if (!Array.isArray(value)) throw new CognitoError("InvalidParameterException", `${name} must be a list of {Name, Value}.`);
    const out: Record<string, string> = {};
    for (const item of value as Array<{ Name?: unknown; Value?: unknown }>) {
        if (typeof item?.Name !== "string") throw new CognitoError("InvalidParameterException", `${name} must be a list of {Name, Value}.`);
        out[item.Name] = typeof item.Value === "string" ? item.Value : "";
    }
    return out;
}

function toAttributeList(attributes: Record<string, string>): Array<{ Name: string; Value: string }> {
    return Object.entries(attributes).map(([Name, Value]) => ({ Name, Value }));
}

/** Local mode's credentials: an access key id shaped like AWS's and a 40-character secret. */
function freshCredentials(): LocalCredentials {
    const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    const id = Array.from(randomBytes(15), (b) => alphabet[b % 32]).join("");
    return { accessKeyId: `LOCAL${id}`, secretAccessKey: randomBytes(30).toString("base64") };
}

/** A temporary password that meets the policy (what Cognito generates when the admin gives none). */
function generatePassword(policy: PasswordPolicy): string {
    const pick = (chars: string) => chars[randomInt(chars.length)];
    const letters = "abcdefghijkmnopqrstuvwxyz";
    const required = [pick(letters), pick(letters.toUpperCase()), pick("23456789"), pick("!#%+-=?@^_")];
    const rest = Array.from({ length: Math.max(policy.minimumLength, 12) - required.length }, () =>
        pick(letters + letters.toUpperCase() + "23456789"),
    );
    return [...required, ...rest].join("");
}

/** Cognito's UserType (ListUsers, AdminCreateUser), optionally with only some attributes. */
function userType(user: StoredUser, attributes?: Set<string>): Record<string, unknown> {
    return {
        Username: user.username,
        Attributes: toAttributeList(
            attributes ? Object.fromEntries(Object.entries(user.attributes).filter(([name]) => attributes.has(name))) : user.attributes,
        ),
        UserCreateDate: user.createdAt,
        UserLastModifiedDate: user.modifiedAt,
        Enabled: user.enabled,
        UserStatus: user.status,
    };
}

function attributeNames(value: unknown): string[] {
    if (!Array.isArray(value) || value.some((v) => typeof v !== "string"))
        throw new CognitoError("InvalidParameterException", "AttributesToGet must be a list of attribute names.");
    return value as string[];
}
