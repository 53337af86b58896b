/**
 * The identity settings of the user pool and its app client, as plain data: the IdentityPool component
 * deploys them and local mode's Cognito emulator enforces them, so offline runs sign users in exactly as
 * the deployed pool does (alias sign-in, case-insensitive usernames, password policy, write attributes...).
 */
import { createHash } from "crypto";
import { MAX_CLIENT_ID_LENGTH } from "./limits";

/** The user attribute that holds the clientId. */
export const CLIENT_ID_ATTRIBUTE = "custom:clientId";

/** The namespace of client-events' name-based clientIds (a fixed random UUID). */
export const CLIENT_ID_NAMESPACE = "3b1e6c52-8f0a-4d7e-9a61-2c5f0e9b7d14";

/** An RFC 9562 version 5 (name-based, SHA-1) UUID of `name` in `namespace`. */
export function uuidV5(namespace: string, name: string): string {
    const hash = createHash("sha1")
        .update(Buffer.from(namespace.replace(/-/g, ""), "hex"))
        .update(name, "utf8")
        .digest();
    hash[6] = (hash[6] & 0x0f) | 0x50; // version 5
    hash[8] = (hash[8] & 0x3f) | 0x80; // RFC variant
    const hex = hash.subarray(0, 16).toString("hex");
    return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/**
 * The clientId of a user: a UUID derived from the pool and the user's `sub` (unique and never reused in a
 * pool). Every writer (the post-confirmation and pre-token-generation triggers, `assign-client-ids`)
 * computes the same value, so concurrent writers agree and a retry never changes it. A clientId already
 * stored (e.g. a random one of an earlier version) is never replaced.
 */
export function clientIdFor(userPoolId: string, sub: string): string {
    return uuidV5(CLIENT_ID_NAMESPACE, `${userPoolId}/${sub}`);
}

/** Whether a stored clientId value counts as set (Cognito has no empty attribute; an empty value is none). */
export function hasClientId(value: unknown): value is string {
    return typeof value === "string" && value !== "";
}

/** The password policy of the original sample: 8+ characters with upper case, lower case and a symbol. */
export const PASSWORD_POLICY = {
    minimumLength: 8,
    requireUppercase: true,
    requireLowercase: true,
    requireSymbols: true,
    requireNumbers: false,
    temporaryPasswordValidityDays: 7,
};

/** Verified attributes that also sign a user in (Cognito's AliasAttributes): the e-mail address. */
export const ALIAS_ATTRIBUTES = ["email"];

/** Attributes Cognito verifies when a sign-up is confirmed. */
export const AUTO_VERIFIED_ATTRIBUTES = ["email"];

/** Usernames (and aliases) compare case-insensitively: "Alice" and "alice" are one user. */
export const USERNAME_CASE_SENSITIVE = false;

/** The app client answers the same way whether a user exists or not (no account enumeration). */
export const PREVENT_USER_EXISTENCE_ERRORS = true;

/** Auth flows of the app client: password (what the generator uses), SRP, and refresh. */
export const EXPLICIT_AUTH_FLOWS = ["ALLOW_USER_PASSWORD_AUTH", "ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"];

/** Attributes the app client may read: the clientId among them. */
export const READ_ATTRIBUTES = ["email", "email_verified", CLIENT_ID_ATTRIBUTE];

/** Attributes users may write through the app client: never the clientId (that would allow impersonation). */
export const WRITE_ATTRIBUTES = ["email"];

/** Custom attributes of the schema, without the `custom:` prefix (Cognito's schema names them so). */
export const CUSTOM_ATTRIBUTES = [CLIENT_ID_ATTRIBUTE.replace(/^custom:/, "")];

/** One attribute of the pool's schema (the fields Cognito's SchemaAttribute takes, camelCased). */
export interface SchemaAttribute {
    name: string;
    attributeDataType: "String";
    required: boolean;
    mutable: boolean;
    stringAttributeConstraints: { minLength: string; maxLength: string };
}

/** The pool's attribute schema: a required e-mail address and the custom clientId. */
export const SCHEMA_ATTRIBUTES: SchemaAttribute[] = [
    {
        name: "email",
        attributeDataType: "String",
        required: true,
        mutable: true,
        stringAttributeConstraints: { minLength: "3", maxLength: "254" },
    },
    {
        name: CUSTOM_ATTRIBUTES[0],
        attributeDataType: "String",
        required: false, // custom attributes cannot be required
        mutable: true, // the trigger sets it after sign-up
        stringAttributeConstraints: { minLength: "1", maxLength: String(MAX_CLIENT_ID_LENGTH) },
    },
];
