/**
 * A Lambda package as Pulumi builds it: the code archive of a CallbackFunction registered under the shared
 * mocks, file by file with sizes, and the handler's source. Used by test/lambda-packages.test.ts and by
 * `npm run bench` (bench/sizes.ts), which reports the sizes.
 */
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { oneOf } from "./pulumi-mocks";

const ROOT = path.resolve(__dirname, "..", "..");

export interface PackedFile {
    path: string;
    bytes: number;
}

function walk(dir: string, prefix: string): PackedFile[] {
    const out: PackedFile[] = [];
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
        const full = path.join(dir, entry.name);
        const rel = `${prefix}/${entry.name}`;
        if (entry.isDirectory()) out.push(...walk(full, rel));
        else out.push({ path: rel, bytes: fs.statSync(full).size });
    }
    return out;
}

/** Every file of the code archive of the one Lambda function registered under `prefix`, and the handler's source. */
export async function packageOf(prefix: string): Promise<{ files: PackedFile[]; index: string }> {
    const fn = await oneOf(prefix, "aws:lambda/function:Function");
    const assets = await fn.inputs.code.assets;
    const files: PackedFile[] = [];
    let index = "";
    for (const [name, asset] of Object.entries<{ text?: Promise<string>; path?: Promise<string> }>(assets)) {
        if (asset.text !== undefined) {
            const text = await asset.text;
            if (name === "__index.js") index = text;
            files.push({ path: name, bytes: Buffer.byteLength(text) });
        } else if (asset.path !== undefined) {
            const full = path.resolve(ROOT, await asset.path);
            if (fs.statSync(full).isDirectory()) files.push(...walk(full, name));
            else files.push({ path: name, bytes: fs.statSync(full).size });
        } else {
            assert.fail(`unexpected asset ${name}`);
        }
    }
    return { files, index };
}
