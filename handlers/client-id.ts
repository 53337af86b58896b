/**
 * What the two Cognito triggers share: the clientId a trigger event's user gets, and how it is stored.
 * (Imported by handlers/post-confirmation.ts and handlers/pre-token-generation.ts; no Pulumi imports.)
 */
import { AdminUpdateUserAttributesCommand, type CognitoIdentityProviderClient } from "@aws-sdk/client-cognito-identity-provider";
import { CLIENT_ID_ATTRIBUTE, clientIdFor } from "../pipeline/identity";

/** The fields of a Cognito trigger event this needs. */
interface TriggerEventUser {
    userPoolId: string;
    userName: string;
    request?: { userAttributes?: Record<string, string> };
}

/** The clientId of a trigger event's user: derived from its pool and `sub` (pipeline/identity.ts). */
export function clientIdOfEvent(event: TriggerEventUser): string {
    const sub = event.request?.userAttributes?.sub;
    if (typeof sub !== "string" || sub === "") throw new Error("the trigger event has no sub");
    return clientIdFor(event.userPoolId, sub);
}

/** Stores the user's clientId with AdminUpdateUserAttributes (the one permission each trigger has). */
export async function storeClientId(
    cognito: Pick<CognitoIdentityProviderClient, "send">,
    event: TriggerEventUser,
    clientId: string,
): Promise<void> {
    await cognito.send(
        new AdminUpdateUserAttributesCommand({
            UserPoolId: event.userPoolId,
            Username: event.userName,
            UserAttributes: [{ Name: CLIENT_ID_ATTRIBUTE, Value: clientId }],
        }),
    );
}
