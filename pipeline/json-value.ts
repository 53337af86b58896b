/** Type guards over parsed JSON. No imports: the transform's packed Lambda carries this code. */

/** A JSON object (not null, not an array). */
export function isJsonObject(value: unknown): value is Record<string, unknown> {
    return value !== null && typeof value === "object" && !Array.isArray(value);
}
