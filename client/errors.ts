/**
 * Typed errors of the client library. Every error carries a stable `code` so that callers can branch on it
 * without parsing messages.
 */

/** Base class of every error the library throws. */
export class ClientEventsError extends Error {
    constructor(
        /** Stable machine-readable code, e.g. `NotAuthorizedException` or `EntryTooLarge`. */
        readonly code: string,
        message: string,
        options?: { cause?: unknown },
    ) {
        super(message, options);
        this.name = new.target.name;
    }
}

/**
 * A Cognito call failed. `code` is Cognito's exception name (`__type`). Local mode's Cognito throws this class
 * too, and answers with its code, message and status: one definition of Cognito's error on both sides.
 */
export class CognitoError extends ClientEventsError {
    constructor(
        code: string,
        message: string,
        /** HTTP status of Cognito's answer (400 for every error of the caller's, as Cognito answers them). */
        readonly status = 400,
    ) {
        super(code, message);
    }
}

/** Wrong user name or password (Cognito `NotAuthorizedException` / `UserNotFoundException` on sign-in). */
export class InvalidCredentialsError extends CognitoError {}

/** The user exists but has not confirmed the sign-up yet (`UserNotConfirmedException`). */
export class UserNotConfirmedError extends CognitoError {}

/** The refresh token was rejected (expired or revoked): sign in again. */
export class SessionExpiredError extends CognitoError {}

/** Cognito asked for a challenge this library does not answer (MFA, NEW_PASSWORD_REQUIRED, ...). */
export class ChallengeRequiredError extends ClientEventsError {
    constructor(
        /** The challenge name, e.g. `NEW_PASSWORD_REQUIRED`. */
        readonly challengeName: string,
    ) {
        super("ChallengeRequired", `Cognito requires the ${challengeName} challenge, which this client does not support`);
    }
}

/** An event is not acceptable to the API (not an object, no eventType, too large...). Nothing was sent. */
export class EventValidationError extends ClientEventsError {}

/** The API or Cognito could not be reached (DNS, refused connection, timeout). */
export class NetworkError extends ClientEventsError {
    constructor(message: string, options?: { cause?: unknown }) {
        super("NetworkError", message, options);
    }
}

/** Invalid configuration given to the library (missing URL, bad option). */
export class ConfigurationError extends ClientEventsError {
    constructor(message: string) {
        super("ConfigurationError", message);
    }
}
