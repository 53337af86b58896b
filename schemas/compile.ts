/**
 * Compiles the JSON Schemas of this directory (`<eventType>/<schemaVersion>.json`, draft 2020-12) into
 * ajv's standalone validation code, ahead of time: the Pulumi program, local mode and the CLI run this
 * when they start, so the deployed validators always match the files (no build step to forget).
 *
 * The generated code is self-contained (ajv's one runtime helper it may use, `ucs2length` for string
 * lengths, is inlined), so the transform Lambda carries validators but no schema compiler, and an app can
 * bundle the same code (`npm run cli -- compile-schemas`). Schemas needing another ajv runtime helper
 * (`uniqueItems`, `const`/`enum` of objects or arrays) are refused with a message saying so.
 */
import { createHash } from "node:crypto";
import { readdirSync, readFileSync, statSync } from "node:fs";
import * as path from "node:path";
import Ajv2020 from "ajv/dist/2020";
import standaloneCode from "ajv/dist/standalone";
import ucs2length from "ajv/dist/runtime/ucs2length";
import { SCHEMA_EVENT_TYPE_PATTERN, STAMPED_FIELDS, type EventValidator, type Validators } from "../pipeline/schemas";

/** This directory: the schemas the program deploys. */
export const SCHEMA_DIR = __dirname;

/** One schema file. */
export interface SchemaFile {
    /** `<eventType>/<schemaVersion>`. */
    key: string;
    eventType: string;
    schemaVersion: number;
    file: string;
    schema: Record<string, unknown>;
}

export interface CompiledSchemas {
    /** Schema keys, sorted. */
    keys: string[];
    /** The standalone CommonJS module text (`exports["shopping/1"] = validate...`), without requires. */
    source: string;
    /** The validators, loaded from `source`. */
    validators: Validators;
}

const VERSION_FILE = /^(0|[1-9][0-9]{0,8})\.json$/;

/** Reads `<dir>/<eventType>/<schemaVersion>.json`; files directly in `dir` (this compiler) are skipped. */
export function readSchemaFiles(dir: string = SCHEMA_DIR): SchemaFile[] {
    const files: SchemaFile[] = [];
    for (const eventType of readdirSync(dir).sort()) {
        const typeDir = path.join(dir, eventType);
        if (!statSync(typeDir).isDirectory()) continue;
        if (!SCHEMA_EVENT_TYPE_PATTERN.test(eventType)) {
            throw new Error(
                `${typeDir}: an eventType directory needs 1 to 64 letters, digits, "_" or "-", starting with a letter or digit`,
            );
        }
        for (const name of readdirSync(typeDir).sort()) {
            const file = path.join(typeDir, name);
            const match = VERSION_FILE.exec(name);
            if (!match) throw new Error(`${file}: expected <schemaVersion>.json, e.g. 1.json (a whole number without leading zeros)`);
            let schema: unknown;
            try {
                schema = JSON.parse(readFileSync(file, "utf8"));
            } catch (err) {
                throw new Error(`${file}: not JSON: ${(err as Error).message}`, { cause: err });
            }
            if (schema === null || typeof schema !== "object" || Array.isArray(schema))
                throw new Error(`${file}: a schema must be a JSON object`);
            const schemaVersion = Number(match[1]);
            checkConstants(file, schema as Record<string, unknown>, eventType, schemaVersion);
            files.push({ key: `${eventType}/${schemaVersion}`, eventType, schemaVersion, file, schema: schema as Record<string, unknown> });
        }
    }
    return files;
}

/** A schema that pins eventType or schemaVersion must pin the ones its path names (a copied file not updated). */
function checkConstants(file: string, schema: Record<string, unknown>, eventType: string, schemaVersion: number): void {
    const properties = (schema.properties ?? {}) as Record<string, { const?: unknown } | undefined>;
    for (const [field, expected] of [
        ["eventType", eventType],
        ["schemaVersion", schemaVersion],
    ] as const) {
        const pinned = properties[field]?.const;
        if (pinned !== undefined && pinned !== expected) {
            throw new Error(
                `${file}: properties.${field}.const is ${JSON.stringify(pinned)} but the file's path says ${JSON.stringify(expected)}`,
            );
        }
    }
}

/** `lint`: every error reported, for schemas the first instance has already checked against the meta-schema. */
function newAjv(lint: boolean): Ajv2020 {
    // strict: unknown keywords and formats, and `required` names missing from `properties`, are errors.
    return new Ajv2020({
        code: { source: !lint },
        strict: true,
        allowUnionTypes: true,
        allErrors: lint,
        validateSchema: !lint,
        logger: false,
    });
}

const compiled = new Map<string, CompiledSchemas>();

/**
 * Compiles every schema of `dir` into standalone code and loads it. Throws with the file at fault.
 * Compiling takes about a second; the result is kept for this process while the files stay the same.
 */
export function compileSchemas(dir: string = SCHEMA_DIR): CompiledSchemas {
    const files = readSchemaFiles(dir);
    const digest = createHash("sha256")
        .update(JSON.stringify(files.map((f) => [f.key, f.schema])))
        .digest("hex");
    const cached = compiled.get(digest);
    if (cached) return cached;
    const result = compileFiles(dir, files);
    compiled.set(digest, result);
    return result;
}

function compileFiles(dir: string, files: SchemaFile[]): CompiledSchemas {
    const ajv = newAjv(false);
    for (const f of files) {
        try {
            ajv.addSchema(f.schema, f.key);
            ajv.getSchema(f.key); // compiles now, so an error names this file
        } catch (err) {
            throw new Error(`${f.file}: ${(err as Error).message}`, { cause: err });
        }
    }
    checkStampedFields(files);
    const keys = files.map((f) => f.key);
    const generated = standaloneCode(ajv, Object.fromEntries(keys.map((k) => [k, k])));
    const source = generated.split(ucs2length.code).join(`(${ucs2length.toString()})`);
    const leftover = /require\("([^"]+)"\)/.exec(source);
    if (leftover) {
        throw new Error(
            `a schema in ${dir} compiles to code that needs ${leftover[1]}, which the transform Lambda does not carry ` +
                `(uniqueItems, or const/enum with an object or array value); express the rule without it`,
        );
    }
    return { keys, source, validators: loadValidators(source) };
}

/** Loads standalone code (as compileSchemas makes it) into validator functions. */
export function loadValidators(source: string): Validators {
    const module = { exports: {} as Record<string, EventValidator> };
    // The code is ours, generated a moment ago from the schema files; it needs no require.
    new Function("module", "exports", source)(module, module.exports);
    return module.exports;
}

/**
 * Every schema must accept the fields the client library stamps on each event, or every event it sends of
 * that type would be quarantined. Checked by validating a stamped probe with all errors reported.
 */
function checkStampedFields(files: SchemaFile[]): void {
    const ajv = newAjv(true);
    const probe = { eventId: "6f1c2a4e-8b3d-4f5a-9c7e-1d2b3a4c5e6f", sessionId: "0b7e5c1a-2d4f-4e8a-9b6c-3f1a2e4d5c7b", sequence: 1 };
    for (const f of files) {
        const validate = ajv.compile(f.schema);
        validate({ eventType: f.eventType, schemaVersion: f.schemaVersion, ...probe });
        const refused = STAMPED_FIELDS.filter((field) =>
            (validate.errors ?? []).some(
                (e) =>
                    e.instancePath === `/${field}` ||
                    (e.instancePath === "" && (e.params as Record<string, unknown>).additionalProperty === field) ||
                    (e.instancePath === "" && (e.params as Record<string, unknown>).unevaluatedProperty === field),
            ),
        );
        if (refused.length > 0) {
            throw new Error(
                `${f.file}: must accept the fields the client library stamps on every event; it refuses ${refused.join(", ")} ` +
                    `(copy their definitions from schemas/shopping/1.json)`,
            );
        }
    }
}

/** The standalone code as a module an app can bundle: CommonJS, or an ES module with a default export. */
export function moduleText(source: string, format: "cjs" | "esm"): string {
    const header = "// Generated by `npm run cli -- compile-schemas` from the JSON Schemas in schemas/. Do not edit.\n";
    if (format === "cjs") return `${header}${source}\n`;
    return `${header}const module = { exports: {} };\n(function (module, exports) {\n${source}\n})(module, module.exports);\nexport default module.exports;\n`;
}
