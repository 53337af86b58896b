/** The settings of local mode's user pool and app client, and the hooks it calls (its Lambda triggers). */
import type { PostConfirmationTriggerEvent, PreTokenGenerationTriggerEvent } from "aws-lambda";

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
