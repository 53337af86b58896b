/**
 * Runs one of the program scripts of test/support (program-names.ts, program-monitoring.ts,
 * program-with-zendesk.ts) in a separate Node process, since a program module loads once per process, and
 * returns its JSON result line. The child runs under tsx, about a second faster per start than ts-node: these
 * scripts drop the Lambdas' code from what they print, and the packaging tests (run under ts-node, as
 * `pulumi up` runs) are the ones that read it.
 */
import * as assert from "node:assert";
import { spawnSync } from "node:child_process";
import * as path from "node:path";

const ROOT = path.resolve(__dirname, "..", "..");

/** The child's first stdout line that starts with one of `prefixes`, parsed. */
export function runProgramChild<T>(script: string, config: Record<string, string> | undefined, prefixes: string[]): T {
    const run = spawnSync(
        process.execPath,
        ["--import", "tsx", path.join(__dirname, script), ...(config ? [JSON.stringify(config)] : [])],
        { cwd: ROOT, encoding: "utf8", maxBuffer: 256 * 1024 * 1024 },
    );
    // The exit code is not checked: Pulumi's leaked-promise check at exit may set it under mocks.
    const line = run.stdout.split("\n").find((l) => prefixes.some((p) => l.startsWith(p)));
    assert.ok(line, `the child printed its result; stderr:\n${run.stderr}`);
    return JSON.parse(line) as T;
}
