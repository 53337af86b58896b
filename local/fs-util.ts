/** Small file utilities: atomic writes (temp file + rename) and JSON-lines appends. */
import { appendFileSync, mkdirSync, renameSync, writeFileSync } from "node:fs";
import { randomBytes } from "node:crypto";
import * as path from "node:path";

/** Writes a file so readers see either the old or the complete new content, never a partial one. */
export function writeFileAtomic(file: string, data: string | Buffer, mode = 0o644): void {
    mkdirSync(path.dirname(file), { recursive: true });
    const tmp = path.join(path.dirname(file), `.${path.basename(file)}.${randomBytes(6).toString("hex")}.tmp`);
    writeFileSync(tmp, data, { mode });
    renameSync(tmp, file);
}

/** Appends one JSON document as one line. */
export function appendJsonLine(file: string, value: unknown): void {
    mkdirSync(path.dirname(file), { recursive: true });
    appendFileSync(file, JSON.stringify(value) + "\n");
}
