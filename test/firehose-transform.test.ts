import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import type { FirehoseTransformationEvent, FirehoseTransformationEventRecord } from "aws-lambda";
import { handler, transformEvent } from "../handlers/firehose-transform";
import { compactJson } from "../pipeline/json-text";
import { TRANSFORM_INVOCATION } from "../pipeline/partitioning";

const LAMBDA_PAYLOAD_LIMIT = 6 * 1024 * 1024;

const CLIENT_ID = "3f2b8c1e-5d4a-4e6f-9b7c-2a1d0e9f8c7b";
const b64 = (text: string) => Buffer.from(text, "utf8").toString("base64");
const unb64 = (data: string | undefined) => Buffer.from(data ?? "", "base64").toString("utf8");

function firehoseEvent(payloads: string[]): FirehoseTransformationEvent {
    return {
        invocationId: "invocation-1",
        deliveryStreamArn: "arn:aws:firehose:us-east-1:123456789012:deliverystream/archive",
        region: "us-east-1",
        records: payloads.map((text, i): FirehoseTransformationEventRecord => ({
            recordId: `49546986683135544286507457936321625675700192471156785154-${i}`,
            approximateArrivalTimestamp: 1795808467000 + i,
            data: b64(text),
        })),
    };
}

const sample = fs.readFileSync(path.resolve(__dirname, "../events/event.json"), "utf8");

describe("firehose transform: the Firehose contract", () => {
    // The handler logs rejected-record counts; keep test output readable.
    const warn = console.warn;
    const warnings: string[] = [];
    beforeEach(() => {
        warnings.length = 0;
        console.warn = (line: string) => {
            warnings.push(line);
        };
    });
    afterEach(() => {
        console.warn = warn;
    });

    it("moves resources[0] into detail.accountNumber and clears resources", async () => {
        const result = await handler(firehoseEvent([sample]));
        assert.ok(result);
        const [record] = result.records;
        assert.strictEqual(record.result, "Ok");
        const out = JSON.parse(unb64(record.data));
        const original = JSON.parse(sample);
        assert.deepStrictEqual(out.resources, []);
        assert.strictEqual(out.detail.accountNumber, CLIENT_ID);
        assert.deepStrictEqual({ ...out.detail, accountNumber: undefined }, { ...original.detail, accountNumber: undefined });
        for (const key of ["version", "id", "detail-type", "source", "account", "time", "region"])
            assert.deepStrictEqual(out[key], original[key], key);
    });

    it("outputs base64 of one JSON document with no trailing newline (the delimiter processor adds it)", async () => {
        const result = await handler(firehoseEvent([sample]));
        const text = unb64(result!.records[0].data);
        assert.ok(!text.endsWith("\n"));
        assert.strictEqual(b64(text), result!.records[0].data, "canonical base64");
        assert.doesNotThrow(() => JSON.parse(text));
    });

    it("keeps unicode, apostrophes and escapes intact through the base64 round trip", async () => {
        const event = JSON.parse(sample);
        event.detail.data = { note: 'O\'Brien "quoted" \\ back, emoji 🎉, 日本語, \u2028 sep', nested: [1, { a: null }] };
        const result = await handler(firehoseEvent([JSON.stringify(event)]));
        assert.deepStrictEqual(JSON.parse(unb64(result!.records[0].data)).detail.data, event.detail.data);
    });

    it("overrides an accountNumber the client sent itself", () => {
        const outcome = transformEvent({ resources: [CLIENT_ID], detail: { eventType: "shopping", accountNumber: "someone-else" } });
        assert.ok(outcome.ok);
        assert.strictEqual((outcome.event.detail as Record<string, unknown>).accountNumber, CLIENT_ID);
    });

    it("returns ProcessingFailed, with the original data, for records it cannot use", async () => {
        const bad = [
            "{not json",
            "",
            "[1,2,3]",
            '"a string"',
            "null",
            JSON.stringify({ resources: [CLIENT_ID], detail: "not an object" }),
            JSON.stringify({ resources: [CLIENT_ID] }),
            JSON.stringify({ resources: [], detail: { eventType: "shopping" } }),
            JSON.stringify({ resources: [""], detail: { eventType: "shopping" } }),
            JSON.stringify({ resources: [42], detail: { eventType: "shopping" } }),
            JSON.stringify({ detail: { eventType: "shopping" } }),
        ];
        const input = firehoseEvent(bad);
        const result = await handler(input);
        assert.strictEqual(result!.records.length, bad.length);
        result!.records.forEach((record, i) => {
            assert.strictEqual(record.result, "ProcessingFailed", bad[i]);
            assert.strictEqual(record.data, input.records[i].data, "the original bytes go to the error prefix");
            assert.strictEqual(record.recordId, input.records[i].recordId);
        });
        // Counts only (one EMF line per reason, see test/transform-metrics.test.ts): client data stays out of the logs.
        const counts = Object.fromEntries(
            warnings.map((line) => JSON.parse(line)).map((doc) => [doc.Reason, doc.TransformRejectedRecords]),
        );
        assert.deepStrictEqual(counts, { "not-json": 2, "not-an-event": 3, "no-detail": 2, "no-client-id": 4 });
        assert.ok(!warnings.some((line) => line.includes("shopping")));
    });

    it("treats invalid UTF-8 / binary data as unparseable, never as a crash", async () => {
        const input = firehoseEvent([]);
        input.records.push({
            recordId: "bin",
            approximateArrivalTimestamp: 0,
            data: Buffer.from([0xff, 0xfe, 0x00, 0x7b]).toString("base64"),
        });
        const result = await handler(input);
        assert.deepStrictEqual(
            result!.records.map((r) => [r.recordId, r.result]),
            [["bin", "ProcessingFailed"]],
        );
    });

    it("keeps every recordId, once, in order, in a mixed batch", async () => {
        const payloads = Array.from({ length: 500 }, (_, i) => (i % 7 === 3 ? "{broken" : sample));
        const input = firehoseEvent(payloads);
        const result = await handler(input);
        assert.deepStrictEqual(
            result!.records.map((r) => r.recordId),
            input.records.map((r) => r.recordId),
        );
        assert.strictEqual(
            result!.records.filter((r) => r.result === "ProcessingFailed").length,
            payloads.filter((p) => p === "{broken").length,
        );
        assert.ok(
            result!.records.every((r) => r.result === "Ok" || r.result === "ProcessingFailed"),
            "never Dropped",
        );
    });

    it("handles a batch near Lambda's 6 MB invocation payload limit", async () => {
        // Firehose's invocation request is JSON with base64 record data; build one just under 6 MB.
        const event = JSON.parse(sample);
        event.detail.data.note = "x".repeat(3000);
        const text = JSON.stringify(event);
        const input = firehoseEvent([]);
        let size = JSON.stringify(input).length;
        for (let i = 0; size + text.length * 1.4 + 200 < LAMBDA_PAYLOAD_LIMIT; i++) {
            const record = { recordId: `r-${i}`, approximateArrivalTimestamp: i, data: b64(i % 101 === 0 ? "{broken" : text) };
            input.records.push(record);
            size += JSON.stringify(record).length + 1;
        }
        const requestSize = Buffer.byteLength(JSON.stringify(input));
        assert.ok(requestSize > 5.9 * 1024 * 1024 && requestSize < LAMBDA_PAYLOAD_LIMIT, `request ${requestSize} bytes`);
        const result = await handler(input);
        assert.strictEqual(result!.records.length, input.records.length);
        assert.deepStrictEqual(
            result!.records.map((r) => r.recordId),
            input.records.map((r) => r.recordId),
        );
        const ok = result!.records.filter((r) => r.result === "Ok");
        assert.strictEqual(ok.length, input.records.length - Math.ceil(input.records.length / 101));
        assert.strictEqual(JSON.parse(unb64(ok[ok.length - 1].data)).detail.accountNumber, CLIENT_ID);
    });

    it("answers within 6 MB for the largest batch Firehose sends with the configured processor buffer", async () => {
        // Firehose caps the records of one invocation at the Lambda processor's BufferSizeInMBs (at most 3).
        // Small events are the worst case: the added accountNumber is a larger share of each record.
        for (const bufferMiB of [TRANSFORM_INVOCATION.bufferSizeMiB, 3]) {
            const input = firehoseEvent([]);
            let raw = 0;
            for (let i = 0; raw + sample.length <= bufferMiB * 1024 * 1024; i++) {
                input.records.push({ recordId: `r-${i}`, approximateArrivalTimestamp: i, data: b64(sample) });
                raw += sample.length;
            }
            const result = await handler(input);
            const size = Buffer.byteLength(JSON.stringify(result));
            assert.ok(size < LAMBDA_PAYLOAD_LIMIT, `${bufferMiB} MiB buffer: response ${size} bytes`);
            assert.ok(result!.records.every((r) => r.result === "Ok"));
        }
    });
});

describe("firehose transform: packaging", () => {
    it("serializes with pulumi.runtime.serializeFunction", async () => {
        const serialized = await pulumi.runtime.serializeFunction(handler);
        assert.match(serialized.text, /accountNumber/);
        assert.doesNotMatch(serialized.text, /@pulumi\//, "no Pulumi SDK inside the handler");
    });

    it("packs no state of this process: the same text after local mode's compactJson has run", async () => {
        const before = (await pulumi.runtime.serializeFunction(handler)).text;
        assert.strictEqual(compactJson(` { "a" : 1 } `), `{"a":1}`);
        assert.strictEqual((await pulumi.runtime.serializeFunction(handler)).text, before);
    });
});
