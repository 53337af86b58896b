/**
 * API Gateway's request validator for a JSON model, with ajv in JSON Schema draft-04 mode (the draft
 * API Gateway models use). Failures are reported the way API Gateway's validator words them in
 * `$context.error.validationErrorString`: a bracketed, comma-separated list of messages.
 */
import Ajv, { type ErrorObject, type ValidateFunction } from "ajv-draft-04";

export interface ValidationResult {
    valid: boolean;
    /** API Gateway's `validationErrorString`, e.g. `[object has missing required properties (["entries"])]`. */
    validationErrorString?: string;
    /** The body parsed, when it is valid (the mapping template reads it without parsing it again). */
    parsed?: { value: unknown };
}

function typeName(value: unknown): string {
    if (value === null) return "null";
    if (Array.isArray(value)) return "array";
    if (typeof value === "number") return Number.isInteger(value) ? "integer" : "number";
    return typeof value;
}

function describe(error: ErrorObject, data: unknown): string {
    const value = instanceAt(data, error.instancePath);
    const p = error.params as Record<string, unknown>;
    switch (error.keyword) {
        case "required":
            return `object has missing required properties (["${String(p.missingProperty)}"])`;
        case "type":
            return `instance type (${typeName(value)}) does not match any allowed primitive type (allowed: ${JSON.stringify([p.type].flat())})`;
        case "additionalProperties":
            return `object instance has properties which are not allowed by the schema: ["${String(p.additionalProperty)}"]`;
        case "maxItems":
            return `array is too long: must have at most ${String(p.limit)} elements but instance has ${(value as unknown[]).length} elements`;
        case "minItems":
            return `array is too short: must have at least ${String(p.limit)} elements but instance has ${(value as unknown[]).length} elements`;
        case "maxLength":
            return `string "${truncate(String(value))}" is too long (length: ${[...String(value)].length}, maximum allowed: ${String(p.limit)})`;
        case "minLength":
            return `string "${truncate(String(value))}" is too short (length: ${[...String(value)].length}, minimum allowed: ${String(p.limit)})`;
        default:
            return `${error.instancePath || "instance"} ${error.message ?? "is invalid"}`;
    }
}

function truncate(text: string): string {
    return text.length > 40 ? `${text.slice(0, 40)}...` : text;
}

function instanceAt(data: unknown, pointer: string): unknown {
    if (!pointer) return data;
    let value: unknown = data;
    for (const raw of pointer.split("/").slice(1)) {
        const key = raw.replace(/~1/g, "/").replace(/~0/g, "~");
        value = value !== null && typeof value === "object" ? (value as Record<string, unknown>)[key] : undefined;
    }
    return value;
}

export class RequestValidator {
    private readonly validate: ValidateFunction;

    constructor(schema: object) {
        // allErrors so the client learns every problem at once, as API Gateway lists them.
        const ajv = new Ajv({ allErrors: true, strict: false });
        // ajv counts maxLength in code points, like API Gateway's validator.
        this.validate = ajv.compile(schema);
    }

    /** Validates a raw request body. */
    check(body: string): ValidationResult {
        let data: unknown;
        try {
            data = JSON.parse(body);
        } catch (err) {
            return { valid: false, validationErrorString: `[Invalid JSON in request body: ${(err as Error).message}]` };
        }
        if (this.validate(data)) return { valid: true, parsed: { value: data } };
        const messages = (this.validate.errors ?? []).map((e) => describe(e, data));
        return { valid: false, validationErrorString: `[${[...new Set(messages)].join(", ")}]` };
    }
}
