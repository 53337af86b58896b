// `validate-event`: does an event pass its JSON Schema, and if not, why (the transform's own verdict).
import { transformText } from "../handlers/firehose-transform";
import { checkEvent, type SchemaPolicy, type UnknownSchemaPolicy } from "../pipeline/schemas";
import { compileSchemas } from "../schemas/compile";
import { readJsonArgument } from "./test-event-pattern";
import { isJsonObject } from "../pipeline/json-value";

/** What `validate-event` says about one event. */
export interface Validation {
    valid: boolean;
    /** What was given: the client's event, an EventBridge event (its `detail` is checked) or a Firehose error record. */
    input: "event" | "eventbridge-event" | "firehose-error-record";
    /** The schema that applied (`shopping/1`), or null when the event has none. */
    schema: string | null;
    /** Why it does not pass: schema-violation, unknown-schema, or for an error record the transform's other reasons. */
    reason?: string;
    message?: string;
}

/** Raised for input that cannot be checked at all (exit code 2). */
export class UnusableInputError extends Error {}

function schemaOf(event: unknown): string | null {
    if (!isJsonObject(event) || typeof event.eventType !== "string" || typeof event.schemaVersion !== "number") return null;
    return `${event.eventType}/${event.schemaVersion}`;
}

/** Checks one parsed value under the policy. */
export function validateValue(value: unknown, policy: SchemaPolicy): Validation {
    if (isJsonObject(value) && typeof value.rawData === "string" && typeof value.errorCode === "string") {
        // A line of Firehose's error output: replay the transform on the original record.
        const text = Buffer.from(value.rawData, "base64").toString("utf8");
        const outcome = transformText(text, policy);
        let detail: unknown;
        try {
            detail = (JSON.parse(text) as Record<string, unknown>).detail;
        } catch {
            detail = undefined;
        }
        const schema = schemaOf(detail);
        const known = schema !== null && Object.prototype.hasOwnProperty.call(policy.validators, schema);
        if (outcome.ok) return { valid: true, input: "firehose-error-record", schema: known ? schema : null };
        return {
            valid: false,
            input: "firehose-error-record",
            schema: known ? schema : null,
            reason: outcome.reason,
            ...(outcome.message ? { message: outcome.message } : {}),
        };
    }
    const eventBridge = isJsonObject(value) && isJsonObject(value.detail) && ("detail-type" in value || "source" in value);
    const event = eventBridge ? (value as Record<string, unknown>).detail : value;
    const input = eventBridge ? "eventbridge-event" : "event";
    if (!isJsonObject(event)) throw new UnusableInputError("the event must be a JSON object");
    const verdict = checkEvent(policy, event);
    const schema = schemaOf(event);
    const known = schema !== null && Object.prototype.hasOwnProperty.call(policy.validators, schema) ? schema : null;
    if (verdict.ok) return { valid: true, input, schema: known };
    return { valid: false, input, schema: known, reason: verdict.reason, message: verdict.message };
}

/** The values of the argument: one JSON document, or newline-delimited JSON (an S3 object's lines). */
function parseValues(text: string): unknown[] {
    try {
        return [JSON.parse(text)];
    } catch {
        const lines = text.split("\n").filter((line) => line.trim() !== "");
        try {
            if (lines.length > 1) return lines.map((line) => JSON.parse(line));
        } catch {
            // falls through to the error below
        }
        throw new UnusableInputError("--event is neither JSON nor newline-delimited JSON");
    }
}

/** `validate-event`: checks every event of the argument against the schemas of `schemaDir`. */
export function validateEvents(eventArg: string, options: { schemaDir?: string; unknownSchema?: UnknownSchemaPolicy } = {}): Validation[] {
    const values = parseValues(readJsonArgument(eventArg, "--event"));
    const policy: SchemaPolicy = {
        validators: compileSchemas(options.schemaDir).validators,
        enforcement: "quarantine",
        unknownSchema: options.unknownSchema ?? "allow",
    };
    return values.map((value) => validateValue(value, policy));
}
