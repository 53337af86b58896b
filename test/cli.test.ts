// The CLI run as a real process (a few spawns), plus its argument handling in-process.
import * as assert from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { formatResult, readJsonArgument, testEventPattern } from "../cli/test-event-pattern";
import { InvalidEventPatternError } from "../event-pattern";

const ROOT = path.resolve(__dirname, "..");

function cli(...args: string[]) {
    const r = spawnSync(process.execPath, ["--import", "tsx", "cli/main.ts", ...args], {
        cwd: ROOT,
        encoding: "utf8",
        timeout: 30000,
    });
    return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe("cli", function () {
    this.timeout(60000);
    let dir: string;

    before(() => {
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "ce-cli-"));
    });
    after(() => {
        fs.rmSync(dir, { recursive: true, force: true });
    });

    describe("as a process", () => {
        it("--help lists the commands", () => {
            const r = cli("--help");
            assert.strictEqual(r.status, 0, r.stderr);
            assert.match(r.stdout, /Commands:[\s\S]*test-event-pattern/);
        });

        it("test-event-pattern prints the API's Result for file:// and inline JSON", () => {
            const patternFile = path.join(dir, "pattern.json");
            fs.writeFileSync(patternFile, JSON.stringify({ source: ["clientevents"], detail: { eventType: ["loyaltypurchase"] } }));
            const event = JSON.stringify({ source: "clientevents", detail: { eventType: "loyaltypurchase" } });
            const yes = cli("test-event-pattern", "--event-pattern", `file://${patternFile}`, "--event", event);
            assert.strictEqual(yes.status, 0, yes.stderr);
            assert.strictEqual(yes.stdout, '{"Result": true}\n');
            const no = cli("test-event-pattern", "--event-pattern", `file://${patternFile}`, "--event", '{"source":"clientevents"}');
            assert.strictEqual(no.status, 0, no.stderr);
            assert.strictEqual(no.stdout, '{"Result": false}\n');
        });

        it("an invalid pattern names the problem and exits non-zero", () => {
            const r = cli("test-event-pattern", "--event-pattern", '{"detail":{"n":[{"numeric":[">",0,"<"]}]}}', "--event", "{}");
            assert.notStrictEqual(r.status, 0);
            assert.strictEqual(r.stdout, "");
            assert.match(r.stderr, /InvalidEventPatternException.*Reason: Value of < must be numeric \(at detail\.n\[0\]\)/);
        });
    });

    describe("in-process", () => {
        it("reads file:// arguments and reports unreadable files clearly", () => {
            const f = path.join(dir, "event.json");
            fs.writeFileSync(f, '{"a":1}');
            assert.strictEqual(readJsonArgument(`file://${f}`, "--event"), '{"a":1}');
            assert.strictEqual(readJsonArgument('{"a":2}', "--event"), '{"a":2}');
            assert.throws(
                () => readJsonArgument(`file://${path.join(dir, "missing.json")}`, "--event"),
                /--event: cannot read .*missing\.json: ENOENT/,
            );
        });

        it("formats results and distinguishes bad patterns from bad events", () => {
            assert.strictEqual(formatResult(testEventPattern('{"a":["x"]}', '{"a":"x"}')), '{"Result": true}');
            assert.throws(() => testEventPattern('{"a":"x"}', "{}"), InvalidEventPatternError);
            assert.throws(() => testEventPattern('{"a":["x"]}', "nope"), /Event is not valid JSON/);
        });
    });
});
