/**
 * Cognito pre-token-generation trigger (event version 1): makes sure every user who signs in has a clientId
 * before any token is issued, and that the ID token of this very sign-in carries it.
 *
 * The post-confirmation trigger runs only for self sign-up; users an administrator creates
 * (AdminCreateUser: invited or imported users) are never "confirmed" that way. Cognito runs this trigger
 * before issuing tokens in every sign-in flow (`TokenGeneration_Authentication`, `_NewPasswordChallenge`
 * for an invited user's first sign-in, `_HostedAuth`, `_AuthenticateDevice`, `_RefreshTokens`), so:
 * - a user with a clientId: the event is returned unchanged (no AWS call);
 * - a user without one: the clientId derived from the pool and `sub` is stored with
 *   AdminUpdateUserAttributes (so GetUser, which the authorizer calls for access tokens, returns it) and
 *   added to this ID token with `claimsToAddOrOverride` (Cognito builds the token from the attributes it
 *   sent the trigger, before the update). A failure fails the sign-in rather than issue a token that would
 *   get 403.
 * Needs exactly `cognito-idp:AdminUpdateUserAttributes` on its pool.
 */
import type { PreTokenGenerationTriggerEvent } from "aws-lambda";
import { CognitoIdentityProviderClient } from "@aws-sdk/client-cognito-identity-provider";
import { CLIENT_ID_ATTRIBUTE, hasClientId } from "../pipeline/identity";
import { clientIdOfEvent, storeClientId } from "./client-id";

/** Trigger sources of this trigger: each issues tokens. */
export const TOKEN_GENERATION_SOURCE_PREFIX = "TokenGeneration_";

export type PreTokenGenerationHandler = (event: PreTokenGenerationTriggerEvent) => Promise<PreTokenGenerationTriggerEvent>;

/** Builds the trigger around a Cognito client (local mode passes one pointed at its own endpoint). */
export function createPreTokenGenerationHandler(cognito: Pick<CognitoIdentityProviderClient, "send">): PreTokenGenerationHandler {
    return async (event) => {
        if (typeof event.triggerSource !== "string" || !event.triggerSource.startsWith(TOKEN_GENERATION_SOURCE_PREFIX)) return event;
        if (hasClientId(event.request?.userAttributes?.[CLIENT_ID_ATTRIBUTE])) return event;
        const clientId = clientIdOfEvent(event);
        await storeClientId(cognito, event, clientId);
        // Cognito sends `claimsOverrideDetails: null`; keep whatever another part of the response set.
        const details = event.response?.claimsOverrideDetails ?? {};
        event.response = {
            ...event.response,
            claimsOverrideDetails: {
                ...details,
                claimsToAddOrOverride: { ...details.claimsToAddOrOverride, [CLIENT_ID_ATTRIBUTE]: clientId },
            },
        };
        console.log(
            JSON.stringify({
                message: "clientId assigned at sign-in",
                triggerSource: event.triggerSource,
                userPoolId: event.userPoolId,
                sub: event.request?.userAttributes?.sub,
            }),
        );
        return event;
    };
}

/** The deployed entry point, run once per cold start (`callbackFactory`): one Cognito client for every invocation. */
export function createHandler(): PreTokenGenerationHandler {
    return createPreTokenGenerationHandler(new CognitoIdentityProviderClient({}));
}
