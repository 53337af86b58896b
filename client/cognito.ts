/**
 * Cognito user-pool sign-up and sign-in over Cognito's public JSON API with plain `fetch`.
 *
 * The unauthenticated operations (SignUp, ConfirmSignUp, InitiateAuth) need no AWS signature, so a browser or
 * mobile bundle does not need the AWS SDK for them. The app client must be a public client (no client secret),
 * as every client shipped to end-user devices should be.
 */
import {
    ChallengeRequiredError,
    CognitoError,
    ConfigurationError,
    InvalidCredentialsError,
    SessionExpiredError,
    UserNotConfirmedError,
} from "./errors";
import { FetchLike, fetchWithTimeout, readText, tryParseJson } from "./http";

/** Options of {@link CognitoAuth}. */
export interface CognitoAuthOptions {
    /** The user pool's app client id. */
    clientId: string;
    /** AWS region of the user pool; gives the endpoint `https://cognito-idp.{region}.amazonaws.com/`. */
    region?: string;
    /** Endpoint override (local mode, a proxy); wins over `region`. */
    endpoint?: string;
    /** Injected fetch (tests); default: the global fetch. */
    fetch?: FetchLike;
    /** Injected clock in epoch milliseconds (tests); default: Date.now. */
    now?: () => number;
    /** Refresh this long before the token expires. Default 60 s (capped at half the token's lifetime). */
    refreshMarginMs?: number;
    /** Per-call timeout. Default 10 s. */
    timeoutMs?: number;
}

/** The tokens of a signed-in user. */
export interface Tokens {
    idToken: string;
    accessToken: string;
    refreshToken?: string;
    /** Epoch ms when the id/access tokens expire, measured with the local clock from Cognito's `ExpiresIn`. */
    expiresAt: number;
    /** Token lifetime in ms as Cognito reported it. */
    lifetimeMs: number;
}

/** Anything that can produce a current token for the `Authorization` header. */
export interface TokenProvider {
    /**
     * A token valid for at least the refresh margin. Pass `rejectedToken` when the API answered 401 with it:
     * the provider then refreshes unless another caller already did.
     */
    getToken(options?: { rejectedToken?: string }): Promise<string>;
}

/** Which Cognito token to send to the API. Both are accepted by the authorizer. */
export type TokenUse = "id" | "access";

interface AuthenticationResult {
    IdToken?: string;
    AccessToken?: string;
    RefreshToken?: string;
    ExpiresIn?: number;
}

/** Cognito user-pool client for sign-up, confirmation, sign-in and refresh. */
export class CognitoAuth {
    readonly endpoint: string;
    readonly clientId: string;
    readonly now: () => number;
    readonly refreshMarginMs: number;
    private readonly fetchImpl: FetchLike;
    private readonly timeoutMs: number;

    constructor(options: CognitoAuthOptions) {
        if (!options.clientId) throw new ConfigurationError("CognitoAuth needs the user pool app client id (clientId)");
        if (!options.endpoint && !options.region) {
            throw new ConfigurationError("CognitoAuth needs a region or an endpoint");
        }
        this.endpoint = options.endpoint ?? `https://cognito-idp.${options.region}.amazonaws.com/`;
        this.clientId = options.clientId;
        this.fetchImpl = options.fetch ?? ((input, init) => fetch(input, init));
        this.now = options.now ?? Date.now;
        this.refreshMarginMs = options.refreshMarginMs ?? 60_000;
        this.timeoutMs = options.timeoutMs ?? 10_000;
    }

    /** Registers a user. Cognito then e-mails a confirmation code unless a trigger auto-confirms. */
    async signUp(params: {
        username: string;
        password: string;
        email?: string;
        attributes?: Record<string, string>;
    }): Promise<{ userConfirmed: boolean; userSub?: string }> {
        const attributes = { ...(params.email ? { email: params.email } : {}), ...(params.attributes ?? {}) };
        const result = (await this.call("SignUp", {
            ClientId: this.clientId,
            Username: params.username,
            Password: params.password,
            UserAttributes: Object.entries(attributes).map(([Name, Value]) => ({ Name, Value })),
        })) as { UserConfirmed?: boolean; UserSub?: string };
        return { userConfirmed: result.UserConfirmed === true, userSub: result.UserSub };
    }

    /** Confirms a sign-up with the code Cognito sent. */
    async confirmSignUp(username: string, code: string): Promise<void> {
        await this.call("ConfirmSignUp", { ClientId: this.clientId, Username: username, ConfirmationCode: code });
    }

    /**
     * Signs in with USER_PASSWORD_AUTH (the app client must allow ALLOW_USER_PASSWORD_AUTH).
     * Throws InvalidCredentialsError, UserNotConfirmedError or ChallengeRequiredError.
     */
    async signIn(username: string, password: string, tokenUse: TokenUse = "id"): Promise<CognitoSession> {
        let result: AuthenticationResult;
        try {
            result = await this.initiateAuth("USER_PASSWORD_AUTH", { USERNAME: username, PASSWORD: password });
        } catch (err) {
            if (err instanceof CognitoError && !(err instanceof InvalidCredentialsError)) {
                if (err.code === "NotAuthorizedException" || err.code === "UserNotFoundException") {
                    throw new InvalidCredentialsError(err.code, `sign-in failed for ${username}: ${err.message}`, err.status);
                }
                if (err.code === "UserNotConfirmedException") {
                    throw new UserNotConfirmedError(
                        err.code,
                        `user ${username} has not confirmed the sign-up yet: confirm it with the e-mailed code`,
                        err.status,
                    );
                }
            }
            throw err;
        }
        return new CognitoSession(this, this.toTokens(result), tokenUse);
    }

    /** REFRESH_TOKEN_AUTH: new id and access tokens (and a new refresh token when rotation is on). */
    async refresh(refreshToken: string): Promise<Tokens> {
        try {
            const result = await this.initiateAuth("REFRESH_TOKEN_AUTH", { REFRESH_TOKEN: refreshToken });
            return this.toTokens({ RefreshToken: refreshToken, ...result });
        } catch (err) {
            if (err instanceof CognitoError && err.code === "NotAuthorizedException") {
                throw new SessionExpiredError(err.code, `the session ended (${err.message}): sign in again`, err.status);
            }
            throw err;
        }
    }

    private async initiateAuth(flow: string, parameters: Record<string, string>): Promise<AuthenticationResult> {
        const response = (await this.call("InitiateAuth", {
            AuthFlow: flow,
            ClientId: this.clientId,
            AuthParameters: parameters,
        })) as { AuthenticationResult?: AuthenticationResult; ChallengeName?: string };
        if (!response.AuthenticationResult) {
            throw new ChallengeRequiredError(response.ChallengeName ?? "unknown");
        }
        return response.AuthenticationResult;
    }

    private toTokens(result: AuthenticationResult): Tokens {
        if (!result.IdToken || !result.AccessToken) {
            throw new CognitoError("InvalidResponse", "Cognito answered without IdToken/AccessToken", 200);
        }
        // ExpiresIn is relative, so a device whose clock is wrong still refreshes on time.
        const lifetimeMs = (result.ExpiresIn ?? 3600) * 1000;
        return {
            idToken: result.IdToken,
            accessToken: result.AccessToken,
            refreshToken: result.RefreshToken,
            expiresAt: this.now() + lifetimeMs,
            lifetimeMs,
        };
    }

    /** One call of the Cognito JSON protocol; Cognito errors become CognitoError with Cognito's code. */
    async call(operation: string, body: object): Promise<unknown> {
        const response = await fetchWithTimeout(
            this.fetchImpl,
            this.endpoint,
            {
                method: "POST",
                headers: {
                    "Content-Type": "application/x-amz-json-1.1",
                    "X-Amz-Target": `AWSCognitoIdentityProviderService.${operation}`,
                },
                body: JSON.stringify(body),
            },
            this.timeoutMs,
        );
        const text = await readText(response);
        const parsed = tryParseJson(text) as Record<string, unknown> | undefined;
        if (response.ok) {
            if (parsed === undefined && text !== "") {
                throw new CognitoError("InvalidResponse", `Cognito ${operation} answered with a body that is not JSON`, response.status);
            }
            return parsed ?? {};
        }
        const rawType = String(parsed?.__type ?? response.headers.get("x-amzn-errortype") ?? `HTTP${response.status}`);
        // `__type` may be namespaced (`com.amazon...#NotAuthorizedException`) or carry `:` suffixes in the header.
        const code = rawType.slice(rawType.lastIndexOf("#") + 1).split(":")[0];
        const message = String(parsed?.message ?? parsed?.Message ?? (text || response.statusText));
        throw new CognitoError(code, `${operation}: ${code}: ${message}`, response.status);
    }
}

/** A signed-in user: hands out a fresh token, refreshing it shortly before expiry (one refresh at a time). */
export class CognitoSession implements TokenProvider {
    private current: Tokens;
    private refreshing?: Promise<Tokens>;

    constructor(
        private readonly auth: CognitoAuth,
        tokens: Tokens,
        /** Which token `getToken` returns. */
        readonly tokenUse: TokenUse = "id",
    ) {
        this.current = tokens;
    }

    /** The current tokens (read-only snapshot). */
    get tokens(): Readonly<Tokens> {
        return this.current;
    }

    /** Number of REFRESH_TOKEN_AUTH calls made so far. */
    refreshCount = 0;

    async getToken(options?: { rejectedToken?: string }): Promise<string> {
        const margin = Math.min(this.auth.refreshMarginMs, this.current.lifetimeMs / 2);
        const rejected = options?.rejectedToken !== undefined && options.rejectedToken === this.pick(this.current);
        if (rejected || this.auth.now() >= this.current.expiresAt - margin) {
            await this.refresh();
        }
        return this.pick(this.current);
    }

    private pick(tokens: Tokens): string {
        return this.tokenUse === "id" ? tokens.idToken : tokens.accessToken;
    }

    /** Refreshes now; concurrent callers share one Cognito call. */
    async refresh(): Promise<void> {
        if (!this.refreshing) {
            const refreshToken = this.current.refreshToken;
            if (!refreshToken) {
                throw new SessionExpiredError("NoRefreshToken", "the session has no refresh token: sign in again", 0);
            }
            this.refreshCount++;
            this.refreshing = this.auth.refresh(refreshToken).finally(() => {
                this.refreshing = undefined;
            });
        }
        this.current = await this.refreshing;
    }
}
