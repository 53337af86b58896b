/**
 * How the program names AWS resources: every logical name starts with `client-events-<environment>`, and
 * Pulumi gives each resource a physical name of its logical name plus a random suffix ("-" and 7 hex
 * characters) unless a component sets the name. Local mode names its emulated resources the same way.
 */
import { createHash } from "node:crypto";

/** The first part of every resource name. */
export const RESOURCE_NAME_PREFIX = "client-events";

/** `client-events-<environment>`: the name every component of the stack derives its children's from. */
export function resourcePrefix(environment: string): string {
    return `${RESOURCE_NAME_PREFIX}-${environment}`;
}

/** What Pulumi's auto-naming appends to a logical name: "-" and 7 random hex characters. */
export const AUTONAME_SUFFIX_LENGTH = 8;

/**
 * The longest environment every physical name fits with (test/resource-names.test.ts checks every name
 * the program creates). Names that reach their AWS limit at this length:
 * - the IAM role `client-events-<environment>-identity-confirm-role-<7 hex>` (the post-confirmation
 *   trigger's) and `client-events-<environment>-ingest-putevents-role-<7 hex>`: 64 characters at most;
 * - the Firehose role `client-events-<environment>-archive-firehose-role-<7 hex>`: 64 at most;
 * - the EventBridge archive `client-events-<environment>-replay-<6 hex>` (see replayArchiveName): 48 at most.
 */
export const MAX_ENVIRONMENT_NAME_LENGTH = 20;

/** Characters of the replay archive's name suffix (after "-"). */
export const REPLAY_ARCHIVE_SUFFIX_LENGTH = 6;

/**
 * The replay archive's physical name: `<prefix>-<6 hex of the bus ARN's SHA-256>`. EventBridge allows 48
 * characters, and Pulumi's auto-name (7 random hex) of `client-events-<environment>-replay` would not fit at
 * the longest environment. Derived from the bus ARN, the name is unique per bus (archive names are unique
 * per account and region) and changes only when the bus is replaced, which replaces the archive anyway.
 */
export function replayArchiveName(prefix: string, busArn: string): string {
    return `${prefix}-${createHash("sha256").update(busArn).digest("hex").slice(0, REPLAY_ARCHIVE_SUFFIX_LENGTH)}`;
}
