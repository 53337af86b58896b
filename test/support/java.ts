/**
 * Running small Java programs from tests, to check what the code emulates against the Java original
 * (API Gateway runs Velocity on Java): java.util.regex, Apache Commons Lang's StringEscapeUtils.
 *
 * Outside CI a missing `java` or Commons Lang jar skips the test that needs it; in CI (CI=true) it fails,
 * since .ci/run installs both.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { requireTool } from "./tools";

/** Commons Lang 2 (Debian's libcommons-lang-java), or COMMONS_LANG_JAR. */
export const COMMONS_LANG_JAR = process.env.COMMONS_LANG_JAR ?? "/usr/share/java/commons-lang.jar";
/** Commons Lang 3 (Debian's libcommons-lang3-java), or COMMONS_LANG3_JAR. */
export const COMMONS_LANG3_JAR = process.env.COMMONS_LANG3_JAR ?? "/usr/share/java/commons-lang3.jar";

function javaRuns(): boolean {
    const java = spawnSync("java", ["-version"], { encoding: "utf8" });
    return !java.error && java.status === 0;
}

/** Requires a Java runtime (and, when asked, the Commons Lang jar) for the running test. */
export function requireJava(context: Mocha.Context, options: { commonsLang?: boolean } = {}): void {
    requireTool(context, "java (a JRE)", javaRuns());
    if (options.commonsLang) {
        requireTool(context, `Apache Commons Lang 2 (${COMMONS_LANG_JAR})`, existsSync(COMMONS_LANG_JAR));
        requireTool(context, `Apache Commons Lang 3 (${COMMONS_LANG3_JAR})`, existsSync(COMMONS_LANG3_JAR));
    }
}

/**
 * Compiles and runs one Java source file (class `className`) with `input` on stdin; returns stdout.
 * Throws with stderr when it does not exit 0.
 */
export function runJava(className: string, source: string, input: string, classpath: string[] = []): string {
    const dir = mkdtempSync(path.join(os.tmpdir(), "ce-java-"));
    try {
        const file = path.join(dir, `${className}.java`);
        writeFileSync(file, source);
        const args = [...(classpath.length ? ["-cp", classpath.join(path.delimiter)] : []), file];
        const run = spawnSync("java", args, { input, encoding: "utf8", maxBuffer: 64 * 1024 * 1024 });
        if (run.status !== 0) throw new Error(`java ${className} failed (${run.status ?? run.signal}): ${run.stderr || run.error}`);
        return run.stdout;
    } finally {
        rmSync(dir, { recursive: true, force: true });
    }
}

/** A string as comma-separated hex UTF-16 code units: survives the trip to Java and back, lone surrogates included. */
export function toCodeUnits(text: string): string {
    return Array.from({ length: text.length }, (_, i) => text.charCodeAt(i).toString(16)).join(",");
}

export function fromCodeUnits(line: string): string {
    if (line === "") return "";
    let text = "";
    for (const unit of line.split(",")) text += String.fromCharCode(parseInt(unit, 16));
    return text;
}
