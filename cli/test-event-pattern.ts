// `test-event-pattern`: the offline twin of `aws events test-event-pattern`.
import * as fs from "fs";
import { compilePattern } from "../event-pattern";

/** Reads an argument given as inline JSON or as `file://path` (relative to the working directory). */
export function readJsonArgument(value: string, what: string): string {
    if (!value.startsWith("file://")) return value;
    const file = value.slice("file://".length);
    if (file === "") throw new Error(`${what}: file:// needs a path`);
    try {
        return fs.readFileSync(file, "utf8");
    } catch (e) {
        throw new Error(`${what}: cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, { cause: e });
    }
}

/**
 * Returns the API's answer, `{"Result": true|false}`. Throws InvalidEventPatternError for an invalid
 * pattern and a TypeError for an event that is not a JSON object.
 */
export function testEventPattern(patternArg: string, eventArg: string): { Result: boolean } {
    const pattern = compilePattern(readJsonArgument(patternArg, "--event-pattern"));
    return { Result: pattern.matches(readJsonArgument(eventArg, "--event")) };
}

/** The API's output format: `{"Result": true}`. */
export function formatResult(result: { Result: boolean }): string {
    return `{"Result": ${result.Result}}`;
}
