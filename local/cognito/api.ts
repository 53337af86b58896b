/**
 * The JSON protocol's parts the operations share: which operations are IAM-authorized, reading request
 * fields (with Cognito's validation messages), writing UserType, and the error every operation throws.
 */
import { CognitoError } from "../../client/errors";
import type { StoredUser } from "./store";

// One class for Cognito's errors: what the emulator throws is what the client library rebuilds from the answer.
export { CognitoError };

/** Operations Cognito authorizes with IAM (a SigV4-signed request); the others are public. */
export const IAM_OPERATIONS = new Set(["AdminConfirmSignUp", "AdminCreateUser", "AdminGetUser", "AdminUpdateUserAttributes", "ListUsers"]);

export const STANDARD_ATTRIBUTES = new Set([
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

export function requiredString(input: Record<string, unknown>, name: string): string {
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

export function attributeList(value: unknown, name: string): Record<string, string> {
    if (value === undefined) return {};
    if (!Array.isArray(value)) throw new CognitoError("InvalidParameterException", `${name} must be a list of {Name, Value}.`);
    const out: Record<string, string> = {};
    for (const item of value as Array<{ Name?: unknown; Value?: unknown }>) {
        if (typeof item?.Name !== "string") throw new CognitoError("InvalidParameterException", `${name} must be a list of {Name, Value}.`);
        out[item.Name] = typeof item.Value === "string" ? item.Value : "";
    }
    return out;
}

export function toAttributeList(attributes: Record<string, string>): Array<{ Name: string; Value: string }> {
    return Object.entries(attributes).map(([Name, Value]) => ({ Name, Value }));
}

/** Cognito's UserType (ListUsers, AdminCreateUser), optionally with only some attributes. */
export function userType(user: StoredUser, attributes?: Set<string>): Record<string, unknown> {
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

export function attributeNames(value: unknown): string[] {
    if (!Array.isArray(value) || value.some((v) => typeof v !== "string"))
        throw new CognitoError("InvalidParameterException", "AttributesToGet must be a list of attribute names.");
    return value as string[];
}
