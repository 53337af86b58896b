/**
 * How the program names AWS resources: every logical name starts with `client-events-<environment>`, and
 * Pulumi gives each resource a physical name of its logical name plus a random suffix ("-" and 7 hex
 * characters) unless a component sets the name. Local mode names its emulated resources the same way.
 */

/** The first part of every resource name. */
export const RESOURCE_NAME_PREFIX = "client-events";

/** `client-events-<environment>`: the name every component of the stack derives its children's from. */
export function resourcePrefix(environment: string): string {
    return `${RESOURCE_NAME_PREFIX}-${environment}`;
}

/** What Pulumi's auto-naming appends to a logical name: "-" and 7 random hex characters. */
export const AUTONAME_SUFFIX_LENGTH = 8;

/**
 * The longest environment every physical name fits with. Two names reach their AWS limit at this length
 * (test/resource-names.test.ts checks every name the program creates):
 * - the IAM role `client-events-<environment>-identity-post-confirmation-role-<7 hex>`: 64 characters at most;
 * - the EventBridge archive `client-events-<environment>-routing-replay-<7 hex>`: 48 at most (one to spare).
 */
export const MAX_ENVIRONMENT_NAME_LENGTH = 10;
