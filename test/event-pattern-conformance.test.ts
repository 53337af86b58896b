// Runs every EventBridge pattern case of conformance/eventbridge-patterns (validated against AWS; see its
// NOTICE.md): plain name = match, `_NEG` = no match, `_EXC` = InvalidEventPatternException.
import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import JSON5 from "json5";
import { compilePattern, InvalidEventPatternError } from "../event-pattern";

const CASES_DIR = path.resolve(__dirname, "..", "conformance", "eventbridge-patterns");
const files = fs
    .readdirSync(CASES_DIR)
    .filter((f) => f.endsWith(".json5"))
    .sort();

describe("event pattern conformance (AWS-validated cases)", function () {
    it("has cases to run", () => {
        assert.ok(files.length > 50, `expected many cases, found ${files.length}`);
    });

    for (const file of files) {
        const name = file.replace(/\.json5$/, "");
        const expectation = name.endsWith("_EXC") ? "invalid" : name.endsWith("_NEG") ? "no match" : "match";
        it(`${name} -> ${expectation}`, () => {
            const doc = JSON5.parse(fs.readFileSync(path.join(CASES_DIR, file), "utf8"));
            assert.ok(doc.Event && doc.EventPattern, "case must hold Event and EventPattern");
            // Give the engine JSON text, as the TestEventPattern API receives it.
            const patternText = JSON.stringify(doc.EventPattern);
            const eventText = JSON.stringify(doc.Event);
            if (expectation === "invalid") {
                assert.throws(
                    () => compilePattern(patternText),
                    (e: unknown) => {
                        assert.ok(e instanceof InvalidEventPatternError, `wrong error type: ${e}`);
                        assert.match(e.message, /^Event pattern is not valid\. Reason: /);
                        return true;
                    },
                );
                return;
            }
            assert.strictEqual(compilePattern(patternText).matches(eventText), expectation === "match");
        });
    }

    it("complex_multi_key_event pair: a repeated pattern key keeps its last value", () => {
        const patternText = fs.readFileSync(path.join(CASES_DIR, "complex_multi_key_event_pattern.json"), "utf8");
        const eventText = fs.readFileSync(path.join(CASES_DIR, "complex_multi_key_event.json"), "utf8");
        assert.strictEqual(compilePattern(patternText).matches(eventText), true);
    });
});
