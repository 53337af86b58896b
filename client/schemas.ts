/**
 * Optional: check events against the pipeline's compiled JSON Schemas before sending them, so an app
 * learns of a contract break at once (`SchemaViolation`) instead of finding the event in the archive's
 * error output. Import it only where wanted; the rest of the client library does not load it.
 *
 * The validators are the code `npm run cli -- compile-schemas --out validators.js` writes (self-contained,
 * no packages), or `compileSchemas().validators` from schemas/compile.ts in Node.
 *
 * Pass the generated module's default export:
 *   `new EventsClient({ apiUrl, tokens, check: schemaCheck(validators) })`.
 */
import { checkEvent, type Validators } from "../pipeline/schemas";
import type { EventCheck } from "./events";

export type { Validators } from "../pipeline/schemas";

/** Options of {@link schemaCheck}. */
export interface SchemaCheckOptions {
    /** An event whose eventType and schemaVersion have no schema: sent (`allow`, default) or failed with `UnknownSchema`. */
    unknownSchema?: "allow" | "fail";
}

/** An EventsClient `check` that applies the pipeline's schemas, with the transform's own decision. */
export function schemaCheck(validators: Validators, options: SchemaCheckOptions = {}): EventCheck {
    const policy = {
        validators,
        enforcement: "quarantine",
        unknownSchema: options.unknownSchema === "fail" ? "quarantine" : "allow",
    } as const;
    return (event) => {
        const verdict = checkEvent(policy, event);
        if (verdict.ok) return undefined;
        return { code: verdict.reason === "unknown-schema" ? "UnknownSchema" : "SchemaViolation", message: verdict.message };
    };
}
