/**
 * External tools some tests run (Debian's jq 1.6, a JRE). Outside CI a missing tool skips the test that
 * needs it; in CI (CI=true) it fails, since .ci/run installs every one of them.
 */
import { findJq16 } from "../../local/jq";

/** Skips the running test when `present` is false, except in CI, where the test fails naming the tool. */
export function requireTool(context: Mocha.Context, what: string, present: boolean): void {
    if (present) return;
    if (process.env.CI === "true") throw new Error(`${what} is missing: CI must install it (.ci/run)`);
    context.skip();
}

/** `jq` on the PATH when it is jq 1.6, Firehose's JQ engine version. */
export const JQ_16 = findJq16("jq");

/** Requires jq 1.6 for the running test; returns the command to run it with. */
export function requireJq16(context: Mocha.Context): string {
    requireTool(context, "jq 1.6 (Debian's jq package, Firehose's JQ engine version)", JQ_16 !== undefined);
    return JQ_16 as string;
}
