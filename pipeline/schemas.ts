/**
 * What schema enforcement means, as pure functions: which schema an event is checked against, what the
 * verdict is under the configured policy, and how a violation is described. The compiled validators
 * themselves come from `schemas/compile.ts` (ajv's standalone code, compiled ahead of time); the Firehose
 * transform, local mode, the client library and the CLI all decide with `checkEvent` below.
 *
 * A schema covers the event as the client sends it (the API passes it unchanged as EventBridge's
 * `detail`): eventType, schemaVersion, data, and the fields the client library stamps (eventId,
 * sessionId, sequence). The transform checks it before it adds `accountNumber`.
 */
import { isJsonObject } from "./json-value";

/** One violation as ajv's generated code reports it (the fields used here). */
export interface SchemaError {
    /** JSON pointer of the offending value, e.g. `/data/itemSku` ("" is the event itself). */
    instancePath: string;
    /** The schema keyword that failed, e.g. `type`, `required`, `additionalProperties`. */
    keyword: string;
    params: Record<string, unknown>;
    message?: string;
}

/** A compiled validator: ajv's standalone function (returns true or sets `errors`). */
export type EventValidator = ((data: unknown) => boolean) & { errors?: SchemaError[] | null };

/** Compiled validators by schema key (`<eventType>/<schemaVersion>`, e.g. `shopping/1`). */
export type Validators = Readonly<Record<string, EventValidator>>;

/** `off`: no schema checks at all. `quarantine`: events that break their schema go to the error output. */
export type SchemaEnforcement = "off" | "quarantine";
/** What happens to an event whose eventType and schemaVersion have no schema. */
export type UnknownSchemaPolicy = "allow" | "quarantine";

export const SCHEMA_ENFORCEMENT_VALUES: readonly SchemaEnforcement[] = ["off", "quarantine"];
export const UNKNOWN_SCHEMA_VALUES: readonly UnknownSchemaPolicy[] = ["allow", "quarantine"];
export const DEFAULT_SCHEMA_ENFORCEMENT: SchemaEnforcement = "quarantine";
export const DEFAULT_UNKNOWN_SCHEMA: UnknownSchemaPolicy = "allow";

/** The compiled validators and the policy that applies them. */
export interface SchemaPolicy {
    validators: Validators;
    enforcement: SchemaEnforcement;
    unknownSchema: UnknownSchemaPolicy;
}

export type SchemaVerdict = { ok: true; key?: string } | { ok: false; reason: "schema-violation" | "unknown-schema"; message: string };

export { MAX_SEQUENCE, SESSION_ID_PATTERN, STAMPED_FIELDS } from "./stamping";

/** eventType values a schema directory may have (the well-formed partition values of pipeline/partitioning). */
export const SCHEMA_EVENT_TYPE_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;

/** The schema key of an event's type and version, or undefined when they cannot name a schema. */
export function schemaKey(eventType: unknown, schemaVersion: unknown): string | undefined {
    if (typeof eventType !== "string" || !SCHEMA_EVENT_TYPE_PATTERN.test(eventType)) return undefined;
    if (typeof schemaVersion !== "number" || !Number.isSafeInteger(schemaVersion) || schemaVersion < 0) return undefined;
    return `${eventType}/${schemaVersion}`;
}

const MAX_SEGMENT = 64;

/** RFC 6901 escaping of one JSON pointer segment. */
function pointerSegment(name: string): string {
    const escaped = name.replace(/~/g, "~0").replace(/\//g, "~1");
    return escaped.length > MAX_SEGMENT ? `${escaped.slice(0, MAX_SEGMENT)}...` : escaped;
}

/**
 * The violation as one line: the schema (type and version), the JSON pointer of the offending value and
 * the keyword, e.g. `shopping version 1 breaks its schema at "/data/itemSku": must be integer (type)`.
 * A missing or unexpected property is pointed at itself rather than at its parent object.
 */
export function describeViolation(key: string, error: SchemaError): string {
    const [eventType, version] = key.split("/");
    let pointer = error.instancePath;
    const property =
        error.keyword === "required"
            ? error.params.missingProperty
            : error.keyword === "additionalProperties"
              ? error.params.additionalProperty
              : undefined;
    if (typeof property === "string") pointer += `/${pointerSegment(property)}`;
    const message = error.message ?? "is not valid";
    return `${eventType} version ${version} breaks its schema at ${JSON.stringify(pointer)}: ${message} (${error.keyword})`;
}

/** Checks one event (the client's event, i.e. EventBridge's `detail`) under the policy. */
export function checkEvent(policy: SchemaPolicy, event: unknown): SchemaVerdict {
    if (policy.enforcement === "off") return { ok: true };
    const eventType = isJsonObject(event) ? event.eventType : undefined;
    const schemaVersion = isJsonObject(event) ? event.schemaVersion : undefined;
    const key = schemaKey(eventType, schemaVersion);
    // Own keys only: a client-chosen eventType such as "__proto__" or "constructor" names no schema.
    const validate = key !== undefined && Object.prototype.hasOwnProperty.call(policy.validators, key) ? policy.validators[key] : undefined;
    if (key === undefined || !validate) {
        if (policy.unknownSchema === "allow") return { ok: true };
        // Well-formed names are letters, digits, "_" and "-" only, so the message carries no free client text.
        const message =
            key !== undefined
                ? `no schema for ${key.replace("/", " version ")}`
                : 'no schema: eventType must be 1 to 64 letters, digits, "_" or "-" and schemaVersion a whole number to name one';
        return { ok: false, reason: "unknown-schema", message };
    }
    if (validate(event)) return { ok: true, key };
    const first = validate.errors?.[0] ?? { instancePath: "", keyword: "unknown", params: {} };
    return { ok: false, reason: "schema-violation", message: describeViolation(key, first) };
}
