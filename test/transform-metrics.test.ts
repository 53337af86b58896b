/**
 * The Firehose transform's reject metric: CloudWatch Embedded Metric Format lines, parsed and checked
 * against the EMF specification, and against the metric definition the alarm and the dashboard use.
 *
 * The checks are written from the specification
 * (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html):
 * the structure as a JSON Schema evaluated by ajv, the references between members in code.
 */
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import Ajv from "ajv";
import * as pulumi from "@pulumi/pulumi";
import type { FirehoseTransformationEvent } from "aws-lambda";
import { createTransformHandler, handler, rejectMetricLines } from "../handlers/firehose-transform";
import { METRICS, TRANSFORM_REJECT_REASONS } from "../pipeline/metrics";

/** CloudWatch's units (MetricDatum), the values a MetricDefinition's Unit may take. */
const UNITS = [
    "Seconds",
    "Microseconds",
    "Milliseconds",
    "Bytes",
    "Kilobytes",
    "Megabytes",
    "Gigabytes",
    "Terabytes",
    "Bits",
    "Kilobits",
    "Megabits",
    "Gigabits",
    "Terabits",
    "Percent",
    "Count",
    "Bytes/Second",
    "Kilobytes/Second",
    "Megabytes/Second",
    "Gigabytes/Second",
    "Terabytes/Second",
    "Bits/Second",
    "Kilobits/Second",
    "Megabits/Second",
    "Gigabits/Second",
    "Terabits/Second",
    "Count/Second",
    "None",
];

/**
 * The document structure: objects the specification defines take no other members; `_aws` holds
 * CloudWatchMetrics and Timestamp; a directive holds Namespace, Dimensions (at least one set of at most 30
 * keys) and Metrics (at most 100 definitions); a definition holds Name and optionally Unit and StorageResolution.
 */
const EMF_SCHEMA = {
    type: "object",
    required: ["_aws"],
    properties: {
        _aws: {
            type: "object",
            additionalProperties: false,
            required: ["Timestamp", "CloudWatchMetrics"],
            properties: {
                Timestamp: { type: "integer", minimum: 0 },
                CloudWatchMetrics: {
                    type: "array",
                    minItems: 1,
                    items: {
                        type: "object",
                        additionalProperties: false,
                        required: ["Namespace", "Dimensions", "Metrics"],
                        properties: {
                            Namespace: { type: "string", minLength: 1, maxLength: 1024 },
                            Dimensions: {
                                type: "array",
                                minItems: 1,
                                items: { type: "array", maxItems: 30, items: { type: "string", minLength: 1, maxLength: 250 } },
                            },
                            Metrics: {
                                type: "array",
                                minItems: 1,
                                maxItems: 100,
                                items: {
                                    type: "object",
                                    additionalProperties: false,
                                    required: ["Name"],
                                    properties: {
                                        Name: { type: "string", minLength: 1, maxLength: 1024 },
                                        Unit: { enum: UNITS },
                                        StorageResolution: { enum: [1, 60] },
                                    },
                                },
                            },
                        },
                    },
                },
            },
        },
    },
};
const structure = new Ajv({ allErrors: true, strict: true }).compile(EMF_SCHEMA);
const validateStructure = (doc: unknown): boolean => structure(doc);

/** Every way `line` breaks the specification (empty when it is a valid EMF log event). */
function emfProblems(line: string, now = Date.now()): string[] {
    const problems: string[] = [];
    // The LogEvent message is one JSON object, with no other data before or after it; one log line.
    if (line !== line.trim() || line.includes("\n")) problems.push("data around the object, or a line break");
    if (Buffer.byteLength(line) > 256 * 1024) problems.push("larger than a CloudWatch Logs event");
    let doc: any;
    try {
        doc = JSON.parse(line);
    } catch {
        return [...problems, "not JSON"];
    }
    if (doc === null || typeof doc !== "object" || Array.isArray(doc)) return [...problems, "not a JSON object"];
    if (!validateStructure(doc)) return [...problems, ...structure.errors!.map((e) => `${e.instancePath} ${e.message}`)];
    // Timestamp: milliseconds after the epoch (not seconds), and the present, not a default.
    const ts = doc._aws.Timestamp;
    if (ts < now - 24 * 3600 * 1000 || ts > now + 1000) problems.push(`Timestamp ${ts} is not milliseconds of the present`);
    for (const directive of doc._aws.CloudWatchMetrics) {
        // The AWS/ namespaces belong to AWS services.
        if (directive.Namespace.startsWith("AWS/")) problems.push(`namespace ${directive.Namespace} is reserved`);
        // Target members are top-level members (never nested): dimensions strings of at most 1024 characters...
        for (const key of directive.Dimensions.flat()) {
            if (!Object.prototype.hasOwnProperty.call(doc, key)) problems.push(`dimension ${key} is not a root member`);
            else if (typeof doc[key] !== "string" || doc[key].length > 1024)
                problems.push(`dimension ${key} is not a string of at most 1024 characters`);
        }
        // ...metrics a number, or an array of at most 100 numbers.
        for (const { Name } of directive.Metrics) {
            const value = doc[Name];
            const numeric = (v: unknown) => typeof v === "number" && Number.isFinite(v);
            if (!(numeric(value) || (Array.isArray(value) && value.length <= 100 && value.every(numeric))))
                problems.push(`metric ${Name} has no numeric root member`);
        }
    }
    return problems;
}

const STREAM_ARN = "arn:aws:firehose:us-east-1:123456789012:deliverystream/client-events-prod-archive-stream-1a2b3c4";
const b64 = (text: string) => Buffer.from(text, "utf8").toString("base64");

function batch(payloads: string[], deliveryStreamArn = STREAM_ARN): FirehoseTransformationEvent {
    return {
        invocationId: "invocation",
        deliveryStreamArn,
        region: "us-east-1",
        records: payloads.map((data, i) => ({ recordId: `r${i}`, approximateArrivalTimestamp: 0, data: b64(data) })),
    };
}

const GOOD = JSON.stringify({ resources: ["client-1"], detail: { eventType: "shopping" } });
const BAD = [
    "{not json with secret-payload", // not-json
    '["secret-payload"]', // not-an-event
    JSON.stringify({ resources: ["client-1"], detail: "secret-payload" }), // no-detail
    JSON.stringify({ resources: [], detail: { note: "secret-payload" } }), // no-client-id
    JSON.stringify({ resources: [""], detail: { note: "secret-payload" } }), // no-client-id
];

describe("transform reject metric (CloudWatch Embedded Metric Format)", () => {
    it("the checks refuse what the specification forbids", () => {
        const valid = {
            _aws: {
                Timestamp: Date.now(),
                CloudWatchMetrics: [{ Namespace: "N", Dimensions: [["D"]], Metrics: [{ Name: "M", Unit: "Count" }] }],
            },
            D: "d",
            M: 1,
        };
        assert.deepEqual(emfProblems(JSON.stringify(valid)), []);
        const broken: Array<[string, unknown]> = [
            ["seconds, not milliseconds", { ...valid, _aws: { ...valid._aws, Timestamp: Math.floor(Date.now() / 1000) } }],
            ["a dimension missing at the root", { ...valid, D: undefined }],
            ["a nested metric target", { ...valid, M: undefined, nested: { M: 1 } }],
            ["a string metric", { ...valid, M: "1" }],
            ["a numeric dimension", { ...valid, D: 7 }],
            [
                "an unknown unit",
                {
                    ...valid,
                    _aws: {
                        ...valid._aws,
                        CloudWatchMetrics: [{ ...valid._aws.CloudWatchMetrics[0], Metrics: [{ Name: "M", Unit: "Records" }] }],
                    },
                },
            ],
            [
                "101 metrics",
                {
                    ...valid,
                    _aws: {
                        ...valid._aws,
                        CloudWatchMetrics: [
                            { ...valid._aws.CloudWatchMetrics[0], Metrics: Array.from({ length: 101 }, () => ({ Name: "M" })) },
                        ],
                    },
                },
            ],
            [
                "31 dimension keys",
                {
                    ...valid,
                    _aws: {
                        ...valid._aws,
                        CloudWatchMetrics: [{ ...valid._aws.CloudWatchMetrics[0], Dimensions: [Array.from({ length: 31 }, () => "D")] }],
                    },
                },
            ],
            [
                "an extra member in a directive",
                { ...valid, _aws: { ...valid._aws, CloudWatchMetrics: [{ ...valid._aws.CloudWatchMetrics[0], Extra: 1 }] } },
            ],
            [
                "an AWS namespace",
                {
                    ...valid,
                    _aws: { ...valid._aws, CloudWatchMetrics: [{ ...valid._aws.CloudWatchMetrics[0], Namespace: "AWS/Firehose" }] },
                },
            ],
        ];
        for (const [why, doc] of broken) assert.notDeepEqual(emfProblems(JSON.stringify(doc)), [], why);
        assert.notDeepEqual(emfProblems(`${JSON.stringify(valid)}\n`), [], "a trailing line break");
        assert.notDeepEqual(emfProblems(`INFO ${JSON.stringify(valid)}`), [], "a prefix");
    });

    it("writes one valid EMF line per reason, counting that reason's records, and nothing for the good ones", async () => {
        const lines: string[] = [];
        const before = Date.now();
        const result = await createTransformHandler({ writeLine: (line) => lines.push(line) })(batch([GOOD, ...BAD, GOOD]));
        assert.equal(result.records.filter((r) => r.result === "Ok").length, 2);
        assert.equal(lines.length, 4, "four distinct reasons");
        for (const line of lines) assert.deepEqual(emfProblems(line), [], line);
        const docs = lines.map((line) => JSON.parse(line));
        const counts = Object.fromEntries(docs.map((d) => [d.Reason, d.TransformRejectedRecords]));
        assert.deepEqual(counts, { "not-json": 1, "not-an-event": 1, "no-detail": 1, "no-client-id": 2 });
        for (const doc of docs) {
            assert.equal(doc.DeliveryStreamName, "client-events-prod-archive-stream-1a2b3c4");
            assert.equal(doc.batchRecords, 7);
            assert.ok(doc._aws.Timestamp >= before && doc._aws.Timestamp <= Date.now());
        }
        assert.ok(!lines.some((line) => line.includes("secret-payload")), "counts only, never the records");
        assert.deepEqual(
            lines.filter((l) => l.includes("client-1")),
            [],
        );
    });

    it("publishes exactly the series the alarm and the dashboard read (pipeline/metrics.ts)", async () => {
        const [line] = rejectMetricLines({ "no-detail": 3 }, STREAM_ARN, Date.now(), 3);
        const directive = JSON.parse(line)._aws.CloudWatchMetrics[0];
        for (const id of ["transformRejects", "transformRejectsByReason"] as const) {
            const def = METRICS[id];
            assert.equal(directive.Namespace, def.namespace, id);
            assert.deepEqual(
                directive.Metrics.map((m: { Name: string; Unit: string }) => [m.Name, m.Unit]),
                [[def.metricName, def.unit]],
                id,
            );
            assert.ok(
                directive.Dimensions.some((set: string[]) => JSON.stringify(set) === JSON.stringify(def.dimensionKeys)),
                `${id}: dimension set ${def.dimensionKeys}`,
            );
        }
        assert.equal(directive.Dimensions.length, 2, "no other dimension set (each one is a billed custom metric)");
        // Every reason the handler can name is one the dashboard lists.
        const lines = await (async () => {
            const out: string[] = [];
            await createTransformHandler({ writeLine: (l) => out.push(l) })(batch(BAD));
            return out;
        })();
        for (const doc of lines.map((l) => JSON.parse(l)))
            assert.ok((TRANSFORM_REJECT_REASONS as readonly string[]).includes(doc.Reason), doc.Reason);
    });

    it('names the stream from the batch\'s ARN, or "unknown" (still a valid line) when the ARN has none', () => {
        for (const arn of ["", "arn:aws:firehose:us-east-1:123456789012:something-else", undefined]) {
            const [line] = rejectMetricLines({ "not-json": 1 }, arn, Date.now(), 1);
            assert.deepEqual(emfProblems(line), []);
            assert.equal(JSON.parse(line).DeliveryStreamName, "unknown");
        }
        assert.deepEqual(rejectMetricLines({}, STREAM_ARN, Date.now(), 10), []);
        assert.deepEqual(rejectMetricLines({ "not-json": 0 }, STREAM_ARN, Date.now(), 10), []);
    });

    it("the packed Lambda writes each line straight to stdout in Lambda (no console wrapping), to console.warn elsewhere", async () => {
        // As Lambda loads it: the text Pulumi serializes into the package.
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "ce-emf-"));
        const file = path.join(dir, "index.js");
        fs.writeFileSync(file, (await pulumi.runtime.serializeFunction(handler as any)).text);
        const packed = require(file) as { handler: typeof handler };
        const written: string[] = [];
        const warned: unknown[][] = [];
        const saved = { write: process.stdout.write, warn: console.warn, log: console.log, env: process.env.AWS_LAMBDA_FUNCTION_NAME };
        try {
            process.stdout.write = ((chunk: string) => {
                written.push(String(chunk));
                return true;
            }) as typeof process.stdout.write;
            console.warn = (...args: unknown[]) => {
                warned.push(args);
            };
            console.log = (...args: unknown[]) => {
                warned.push(args);
            };
            process.env.AWS_LAMBDA_FUNCTION_NAME = "client-events-prod-archive-enrich";
            await packed.handler(batch(["{bad"]));
            delete process.env.AWS_LAMBDA_FUNCTION_NAME;
            await packed.handler(batch(["{bad"]));
        } finally {
            process.stdout.write = saved.write;
            console.warn = saved.warn;
            console.log = saved.log;
            if (saved.env === undefined) delete process.env.AWS_LAMBDA_FUNCTION_NAME;
            else process.env.AWS_LAMBDA_FUNCTION_NAME = saved.env;
            fs.rmSync(dir, { recursive: true, force: true });
        }
        assert.equal(written.length, 1);
        assert.ok(written[0].endsWith("\n"));
        assert.deepEqual(emfProblems(written[0].slice(0, -1)), [], "the stdout line is the EMF object itself");
        assert.equal(warned.length, 1, "outside Lambda, one console.warn line (local mode's log)");
        assert.deepEqual(emfProblems(String(warned[0][0])), []);
    });
});
