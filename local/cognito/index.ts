/**
 * The part of a Cognito user pool that clients use, speaking the AWS JSON 1.1 protocol
 * (`X-Amz-Target: AWSCognitoIdentityProviderService.<Op>`), so `@aws-sdk/client-cognito-identity-provider`
 * and the AWS CLI work against it with an endpoint override: the operations, over the pool's state (store.ts),
 * tokens (tokens.ts), passwords (passwords.ts) and the protocol's shared parts and errors (api.ts).
 *
 * The IAM-authorized operations (Admin*, ListUsers) need a request signed with AWS Signature Version 4 by
 * local mode's own credentials (`credentials`, published in outputs.json), as on AWS; the others are public,
 * as Cognito's are.
 */
import { randomBytes, randomInt, randomUUID } from "node:crypto";
import type { PostConfirmationTriggerEvent, PreTokenGenerationTriggerEvent } from "aws-lambda";
import type { Jwks } from "aws-jwt-verify/jwk";
import type { Logger } from "../log";
import { SignatureError, verifySigV4, type LocalCredentials, type SignedRequest } from "../sigv4";
import {
    attributeList,
    attributeNames,
    CognitoError,
    IAM_OPERATIONS,
    requiredString,
    STANDARD_ATTRIBUTES,
    toAttributeList,
    userType,
} from "./api";
import { checkPassword, generatePassword, hashPassword, passwordMatches } from "./passwords";
import type { CognitoHooks, CognitoPoolSettings } from "./settings";
import { CognitoStore, hashToken, type StoredState, type StoredUser } from "./store";
import { readableAttributes, tokenClaims, TokenSigner, type ClaimsOverride } from "./tokens";

export { CognitoError, IAM_OPERATIONS } from "./api";
export type { CognitoHooks, CognitoPoolSettings, PasswordPolicy } from "./settings";

/** How long a challenge session (NEW_PASSWORD_REQUIRED) is valid: Cognito's default, 3 minutes. */
const SESSION_SECONDS = 180;

export class CognitoEmulator {
    private readonly store: CognitoStore;
    private readonly tokens: TokenSigner;
    /** Open NEW_PASSWORD_REQUIRED challenges by hash of their session string (in memory: they last 3 minutes). */
    private readonly sessions = new Map<string, { username: string; expires: number }>();

    constructor(
        readonly settings: CognitoPoolSettings,
        dataDir: string,
        private readonly log: Logger,
        private readonly hooks: CognitoHooks = {},
        private readonly now: () => number = Date.now,
    ) {
        this.store = new CognitoStore(dataDir, settings.userPoolId);
        this.tokens = new TokenSigner(this.state.keyId, this.state.privateKeyPem);
    }

    private get state(): StoredState {
        return this.store.state;
    }

    private save(): void {
        this.store.save();
    }

    /** The credentials Admin* and ListUsers requests must be signed with (SigV4, service cognito-idp). */
    get credentials(): LocalCredentials {
        return { ...this.store.credentials };
    }

    get issuer(): string {
        return `https://cognito-idp.${this.settings.region}.amazonaws.com/${this.settings.userPoolId}`;
    }

    /** The pool's JWKS document (what `https://cognito-idp.../<pool>/.well-known/jwks.json` serves). */
    jwks(): Jwks {
        return this.tokens.jwks();
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
            await verifySigV4(request, this.store.credentials, {
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
        checkPassword(this.settings.passwordPolicy, password);
        // Hashed before the checks of the pool's state, so that those and the insert run without an await between them.
        const hashed = await hashPassword(password);
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
        const user: StoredUser = {
            username: storedName,
            ...hashed,
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
        if (!user || !(await passwordMatches(user, params.PASSWORD))) {
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
        const session = randomBytes(48).toString("base64url");
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
        checkPassword(this.settings.passwordPolicy, password);
        const hashed = await hashPassword(password);
        // While the password was hashed, this session or another of the same user may have answered: only one does.
        if (this.sessions.get(key) !== open || user.status !== "FORCE_CHANGE_PASSWORD") {
            throw new CognitoError("NotAuthorizedException", "Invalid session for the user, session is expired.");
        }
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
        Object.assign(user, hashed);
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
            refreshToken = randomBytes(48).toString("base64url");
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
        checkPassword(this.settings.passwordPolicy, temporary);
        // Hashed before the checks of the pool's state, so that those and the insert run without an await between them.
        const hashed = await hashPassword(temporary);
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
        Object.assign(user, hashed);
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
        overrides?: ClaimsOverride,
    ): { AccessToken: string; IdToken: string } {
        const iat = issuedAtSeconds ?? this.nowSeconds();
        const { access, id } = tokenClaims(this.settings, this.issuer, user.username, attributes, iat, overrides);
        return { AccessToken: this.tokens.sign(access), IdToken: this.tokens.sign(id) };
    }

    /** The attributes the app client may read. */
    private readable(attributes: Record<string, string>): Record<string, string> {
        return readableAttributes(attributes, this.settings.readAttributes);
    }

    private userFromAccessToken(token: unknown): StoredUser {
        if (typeof token !== "string" || token.length === 0) {
            throw new CognitoError(
                "InvalidParameterException",
                "1 validation error detected: Value null at 'accessToken' failed to satisfy constraint: Member must not be null",
            );
        }
        let payload: Record<string, unknown>;
        try {
            payload = this.tokens.verify(token);
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
}
