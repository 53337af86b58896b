/**
 * Cognito post-confirmation trigger: gives a newly signed-up user a clientId (a UUID in `custom:clientId`,
 * derived from the pool and the user's `sub`: pipeline/identity.ts `clientIdFor`).
 *
 * - Acts only on `PostConfirmation_ConfirmSignUp`; a forgot-password confirmation
 *   (`PostConfirmation_ConfirmForgotPassword`) must not change the user's clientId.
 * - Writes only when the user has none, so Cognito's retries (it retries a trigger that fails or times out)
 *   and admin re-runs never replace an id events were already published under.
 * - Users created by an administrator (AdminCreateUser) never pass through here: the pre-token-generation
 *   trigger (handlers/pre-token-generation.ts) gives them theirs at their first sign-in.
 * - Needs exactly `cognito-idp:AdminUpdateUserAttributes` on its pool.
 */
import type { PostConfirmationTriggerEvent } from "aws-lambda";
import { CognitoIdentityProviderClient } from "@aws-sdk/client-cognito-identity-provider";
import { CLIENT_ID_ATTRIBUTE, hasClientId } from "../pipeline/identity";
import { clientIdOfEvent, storeClientId } from "./client-id";

/** The only trigger source the function acts on. */
export const CONFIRM_SIGN_UP = "PostConfirmation_ConfirmSignUp";

export type PostConfirmationHandler = (event: PostConfirmationTriggerEvent) => Promise<PostConfirmationTriggerEvent>;

/** Builds the trigger around a Cognito client (local mode passes one pointed at its own endpoint). */
export function createPostConfirmationHandler(
    cognito: Pick<CognitoIdentityProviderClient, "send">,
    newClientId: (event: PostConfirmationTriggerEvent) => string = clientIdOfEvent,
): PostConfirmationHandler {
    return async (event) => {
        if (event.triggerSource !== CONFIRM_SIGN_UP) return event;
        if (hasClientId(event.request?.userAttributes?.[CLIENT_ID_ATTRIBUTE])) return event;
        const clientId = newClientId(event);
        await storeClientId(cognito, event, clientId);
        console.log(
            JSON.stringify({ message: "clientId assigned", userPoolId: event.userPoolId, sub: event.request?.userAttributes?.sub }),
        );
        return event;
    };
}

/**
 * The deployed entry point: Pulumi runs this factory once per cold start (`callbackFactory`), so one
 * Cognito client serves every invocation.
 */
export function createHandler(): PostConfirmationHandler {
    return createPostConfirmationHandler(new CognitoIdentityProviderClient({}));
}

let defaultHandler: PostConfirmationHandler | undefined;

/** The handler for plain Node.js use (local mode, tests): a Cognito client for the current region. */
export async function handler(event: PostConfirmationTriggerEvent): Promise<PostConfirmationTriggerEvent> {
    defaultHandler ??= createPostConfirmationHandler(new CognitoIdentityProviderClient({}));
    return defaultHandler(event);
}
