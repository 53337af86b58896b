/**
 * Schema enforcement end to end in local mode (startLocal, real HTTP): events sent by the client library
 * through the real API, bus, transform and partitioning; a schema-breaking event ends under
 * errors/processing-failed/ in Firehose's error format, a valid one under events/, nothing is lost; the
 * reason is in the transform's log and `validate-event` recomputes it from the error record. The CLI runs
 * as a process.
 */
import * as assert from "assert";
import { readRejectLog } from "./support/transform-log";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { CognitoAuth, EventsClient, type ClientEvent } from "../client";
import { buildProgram } from "../cli/main";
import { UnusableInputError, validateEvents, validateValue } from "../cli/validate-event";
import { compileSchemas } from "../schemas/compile";
import { archiveRecords, listFiles, signUpUser, startTestLocal, type StartedLocal } from "./support/local";

const ROOT = path.resolve(__dirname, "..");

function cli(...args: string[]) {
    const r = spawnSync(process.execPath, ["--import", "tsx", "cli/main.ts", ...args], {
        cwd: ROOT,
        encoding: "utf8",
        timeout: 60_000,
    });
    return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Every line of errors/<type>/ objects, with its key. */
function errorLines(started: StartedLocal, type = "processing-failed"): Array<{ key: string; line: string; record: any }> {
    const bucketDir = path.join(started.local.details.s3Dir, started.local.outputs.bucketName);
    return listFiles(bucketDir)
        .filter((k) => k.startsWith(`errors/${type}/`))
        .flatMap((key) =>
            fs
                .readFileSync(path.join(bucketDir, key), "utf8")
                .split("\n")
                .filter((l) => l !== "")
                .map((line) => ({ key, line, record: JSON.parse(line) })),
        );
}

const decode = (rawData: string) => JSON.parse(Buffer.from(rawData, "base64").toString("utf8"));

const VALID: ClientEvent = { eventType: "shopping", schemaVersion: 1, data: { itemSku: 123, quantity: 2, category: "garden" } };
const WRONG_TYPE: ClientEvent = { eventType: "shopping", schemaVersion: 1, data: { itemSku: "123" } };
const EXTRA_FIELD: ClientEvent = { eventType: "paging", schemaVersion: 1, data: { page: 2, sort: "price" } };
const NO_SCHEMA: ClientEvent = { eventType: "checkout", schemaVersion: 1, data: { cart: "c-1" } };

async function sendAll(started: StartedLocal, events: ClientEvent[]) {
    const user = await signUpUser(started);
    const tokens = await new CognitoAuth({
        clientId: started.local.outputs.userPoolClientId,
        endpoint: started.local.outputs.cognitoEndpoint,
    }).signIn(user.username, user.password);
    const client = new EventsClient({ apiUrl: started.local.outputs.apiUrl, tokens });
    const result = await client.send(events);
    assert.deepStrictEqual(result.failed, [], "the API accepts every entry: the schema is enforced at the archive");
    await started.local.flush();
    return { result, user, client };
}

describe("schema enforcement in local mode", function () {
    this.timeout(60_000);

    it("default config: a schema-breaking event ends under errors/processing-failed/ with its reason, a valid one under events/", async () => {
        const logs: string[] = [];
        const started = await startTestLocal({ quiet: false, logLine: (line) => logs.push(line) });
        try {
            const { result, user, client } = await sendAll(started, [VALID, WRONG_TYPE, EXTRA_FIELD, NO_SCHEMA]);
            const ids = result.accepted.map((a) => a.eventId);

            const archived = archiveRecords(started.local);
            assert.deepStrictEqual(
                archived.map((r) => r.record.detail.eventId).sort(),
                [ids[0], ids[3]].sort(),
                "the valid event, and the one without schema (unknownSchema allow)",
            );
            const good = archived.find((r) => r.record.detail.eventId === ids[0])!;
            assert.ok(good.key.startsWith("events/eventType=shopping/schemaVersion=1/"), good.key);
            assert.deepStrictEqual(good.record.detail, {
                ...VALID,
                eventId: ids[0],
                sessionId: client.session.id,
                sequence: 1,
                accountNumber: user.clientId,
            });

            const errors = errorLines(started);
            assert.strictEqual(errors.length, 2, errors.map((e) => e.key).join("\n"));
            const byId = new Map(errors.map((e) => [decode(e.record.rawData).detail.eventId, e]));
            for (const [i, sent] of [
                [1, WRONG_TYPE],
                [2, EXTRA_FIELD],
            ] as const) {
                const error = byId.get(ids[i]);
                assert.ok(error, `event ${i} is in the error output`);
                assert.match(error.key, /^errors\/processing-failed\/year=\d{4}\/month=\d{2}\/day=\d{2}\//);
                // Firehose's own error record: its fixed code and message, the original bytes, never a transformed copy.
                assert.strictEqual(error.record.errorCode, "Lambda.ProcessingFailedStatus");
                assert.strictEqual(error.record.errorMessage, "ProcessingFailed status set for record");
                assert.strictEqual(error.record.attemptsMade, 1);
                assert.match(error.record.lambdaArn, /^arn:aws:lambda:/);
                const original = decode(error.record.rawData);
                assert.deepStrictEqual(original.resources, [user.clientId], "as EventBridge delivered it");
                assert.deepStrictEqual(original.detail, { ...sent, eventId: ids[i], sessionId: client.session.id, sequence: i + 1 });
            }

            // The reason: the transform logs it with EventBridge's event id, which the error record's rawData holds too.
            const logged = readRejectLog(logs.filter((l) => l.includes("lambda firehose-transform:")));
            assert.deepStrictEqual(logged.rejected, { "schema-violation": 2 });
            const reasons = new Map(logged.examples.map((e) => [e.busEventId, e.message]));
            const busId = (i: number) => decode(byId.get(ids[i])!.record.rawData).id;
            assert.strictEqual(reasons.get(busId(1)), `shopping version 1 breaks its schema at "/data/itemSku": must be integer (type)`);
            assert.strictEqual(
                reasons.get(busId(2)),
                `paging version 1 breaks its schema at "/data/sort": must NOT have additional properties (additionalProperties)`,
            );
            assert.deepStrictEqual(
                [busId(1), busId(2)].sort(),
                result.accepted
                    .slice(1, 3)
                    .map((a) => a.busEventId)
                    .sort(),
                "the id the API answered with",
            );
            // validate-event replays the transform on the error record and gives the same reason.
            const replay = { validators: compileSchemas().validators, enforcement: "quarantine" as const, unknownSchema: "allow" as const };
            assert.deepStrictEqual(validateValue(byId.get(ids[1])!.record, replay), {
                valid: false,
                input: "firehose-error-record",
                schema: "shopping/1",
                reason: "schema-violation",
                message: `shopping version 1 breaks its schema at "/data/itemSku": must be integer (type)`,
            });
            assert.ok(
                logs.some((l) =>
                    l.includes(
                        "schemas: loyaltypurchase/1, paging/1, purchase/1, searching/1, shopping/1 (schemaEnforcement quarantine, unknownSchema allow)",
                    ),
                ),
                "the start-up line names the schemas and the policy",
            );

            // And the CLI, as a process, over the whole error object as S3 holds it.
            const r = cli(
                "validate-event",
                "--event",
                `file://${path.join(started.local.details.s3Dir, started.local.outputs.bucketName, errors[0].key)}`,
            );
            assert.strictEqual(r.status, 1, r.stderr);
            const lines = r.stdout
                .trim()
                .split("\n")
                .map((l) => JSON.parse(l));
            assert.deepStrictEqual(
                lines.map((l) => [l.valid, l.reason]),
                errors.filter((e) => e.key === errors[0].key).map(() => [false, "schema-violation"]),
            );
        } finally {
            await started.local.close();
        }
    });

    it("--config unknownSchema=quarantine sends types without schema to the error output; schemaEnforcement=off archives everything", async () => {
        const strict = await startTestLocal({ config: { unknownSchema: "quarantine" } });
        try {
            const { result } = await sendAll(strict, [VALID, NO_SCHEMA]);
            assert.deepStrictEqual(
                archiveRecords(strict.local).map((r) => r.record.detail.eventId),
                [result.accepted[0].eventId],
            );
            assert.deepStrictEqual(
                errorLines(strict).map((e) => decode(e.record.rawData).detail.eventId),
                [result.accepted[1].eventId],
            );
        } finally {
            await strict.local.close();
        }
        const off = await startTestLocal({ config: { schemaEnforcement: "off" } });
        try {
            const { result } = await sendAll(off, [VALID, WRONG_TYPE, NO_SCHEMA]);
            assert.deepStrictEqual(
                archiveRecords(off.local)
                    .map((r) => r.record.detail.eventId)
                    .sort(),
                result.accepted.map((a) => a.eventId).sort(),
            );
            assert.deepStrictEqual(errorLines(off), []);
        } finally {
            await off.local.close();
        }
        await assert.rejects(
            startTestLocal({ config: { schemaEnforcement: "off", unknownSchema: "quarantine" } }),
            /schemaEnforcement is "off"/,
        );
    });
});

describe("cli: validate-event and compile-schemas (as a process)", function () {
    this.timeout(120_000);
    let dir: string;
    before(() => {
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "ce-cli-schemas-"));
    });
    after(() => fs.rmSync(dir, { recursive: true, force: true }));

    it("exit 0 for a passing event, 1 with the violation for a breaking one, 2 for input it cannot read", () => {
        const pass = cli("validate-event", "--event", "file://events/event.json");
        assert.strictEqual(pass.status, 0, pass.stderr);
        assert.deepStrictEqual(JSON.parse(pass.stdout), { valid: true, input: "eventbridge-event", schema: "shopping/1" });
        const fail = cli(
            "validate-event",
            "--event",
            JSON.stringify({
                eventType: "purchase",
                schemaVersion: 1,
                data: { orderId: "o", items: [{ itemSku: 1 }], total: 1, currency: "USD" },
            }),
        );
        assert.strictEqual(fail.status, 1);
        assert.deepStrictEqual(JSON.parse(fail.stdout), {
            valid: false,
            input: "event",
            schema: "purchase/1",
            reason: "schema-violation",
            message: `purchase version 1 breaks its schema at "/data/items/0/quantity": must have required property 'quantity' (required)`,
        });
        const unreadable = cli("validate-event", "--event", "{not json");
        assert.strictEqual(unreadable.status, 2, unreadable.stdout);
        assert.strictEqual(unreadable.stderr, "error: --event is neither JSON nor newline-delimited JSON\n");
    });

    it("in-process: unknownSchema quarantine, input that is not an event, and the documented exit codes", () => {
        assert.deepStrictEqual(
            validateEvents('{"eventType":"checkout","schemaVersion":1}', { unknownSchema: "quarantine" }).map((v) => v.reason),
            ["unknown-schema"],
        );
        assert.deepStrictEqual(
            validateEvents('{"eventType":"checkout","schemaVersion":1}').map((v) => [v.valid, v.schema]),
            [[true, null]],
        );
        assert.throws(() => validateEvents("[1,2]"), UnusableInputError);
        assert.throws(() => validateEvents("file://no/such/file.json"), /cannot read no\/such\/file\.json: ENOENT/);
        let help = "";
        const command = buildProgram().commands.find((c) => c.name() === "validate-event")!;
        command.configureOutput({ writeOut: (text) => (help += text) });
        command.outputHelp();
        assert.match(
            help,
            /Exit codes: 0 every event passes; 1 an event breaks its schema[\s\S]*2 the input or the schemas cannot be read/,
        );
    });

    it("compile-schemas --out writes the module an app bundles", () => {
        const out = path.join(dir, "validators.cjs");
        const r = cli("compile-schemas", "--out", out);
        assert.strictEqual(r.status, 0, r.stderr);
        const validators = require(out) as Record<string, (e: unknown) => boolean>;
        assert.deepStrictEqual(Object.keys(validators).sort(), [
            "loyaltypurchase/1",
            "paging/1",
            "purchase/1",
            "searching/1",
            "shopping/1",
        ]);
        assert.strictEqual(
            validators["loyaltypurchase/1"]({ eventType: "loyaltypurchase", schemaVersion: 1, data: { itemSku: 5, loyaltyTier: "gold" } }),
            true,
        );
        assert.strictEqual(
            validators["loyaltypurchase/1"]({ eventType: "loyaltypurchase", schemaVersion: 1, data: { itemSku: 5, loyaltyTier: "tin" } }),
            false,
        );
    });
});
