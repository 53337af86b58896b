import { ACCOUNT, oneOf, REGION, resourcesOf, valueOf } from "./support/pulumi-mocks";
import { readRejectLog } from "./support/transform-log";
import * as assert from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { Archive, validateLifecycle } from "../components/archive";
import { evaluate, isAllowed } from "./support/iam";
import { PARTITION_KEYS_JQ_QUERY, S3_ERROR_PREFIX, S3_PREFIX, buildPartitionKeysQuery } from "../pipeline/partitioning";
import { handler } from "../handlers/firehose-transform";
import { compileSchemas } from "../schemas/compile";

const STREAM = "aws:kinesis/firehoseDeliveryStream:FirehoseDeliveryStream";

describe("Archive component", () => {
    let archive: Archive;
    before(() => {
        archive = new Archive("arch-a", {});
    });

    it("creates a private, TLS-only, encrypted, versioned bucket", async () => {
        const bucket = await oneOf("arch-a-bucket", "aws:s3/bucket:Bucket");
        assert.strictEqual(bucket.inputs.forceDestroy, false, "forceDestroy is off unless asked for");
        const block = await oneOf("arch-a-public-access", "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock");
        for (const key of ["blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"])
            assert.strictEqual(block.inputs[key], true, key);
        const ownership = await oneOf("arch-a-ownership", "aws:s3/bucketOwnershipControls:BucketOwnershipControls");
        assert.strictEqual(ownership.inputs.rule.objectOwnership, "BucketOwnerEnforced");
        const sse = await oneOf(
            "arch-a-encryption",
            "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
        );
        assert.strictEqual(sse.inputs.rules[0].applyServerSideEncryptionByDefault.sseAlgorithm, "AES256");
        const versioning = await oneOf("arch-a-versioning", "aws:s3/bucketVersioning:BucketVersioning");
        assert.strictEqual(versioning.inputs.versioningConfiguration.status, "Enabled");
    });

    it("denies every request without TLS (evaluated), and allows nothing itself", async () => {
        const doc = JSON.parse(await valueOf(archive.bucketPolicyDocument));
        const bucketArn = await valueOf(archive.bucketArn);
        const policy = await oneOf("arch-a-policy", "aws:s3/bucketPolicy:BucketPolicy");
        assert.deepStrictEqual(JSON.parse(policy.inputs.policy), doc);
        assert.ok(doc.Statement.every((s: { Effect: string }) => s.Effect === "Deny"));
        // An identity policy allowing everything is still denied over plain HTTP, by the bucket policy.
        const adminPolicy = { Version: "2012-10-17", Statement: [{ Effect: "Allow", Action: "s3:*", Resource: "*" }] };
        for (const [action, resource] of [
            ["s3:GetObject", `${bucketArn}/events/x`],
            ["s3:PutObject", `${bucketArn}/x`],
            ["s3:ListBucket", bucketArn],
        ]) {
            assert.strictEqual(
                await evaluate(adminPolicy, action, resource, { resourcePolicy: doc, context: { "aws:SecureTransport": "false" } }),
                "ExplicitlyDenied",
                action,
            );
            assert.strictEqual(
                await evaluate(adminPolicy, action, resource, { resourcePolicy: doc, context: { "aws:SecureTransport": "true" } }),
                "Allowed",
                action,
            );
        }
    });

    it("has lifecycle rules: abort uploads, expire old versions, transition and expire events", async () => {
        const lifecycle = await oneOf("arch-a-lifecycle", "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration");
        const rules = lifecycle.inputs.rules as any[];
        const byId = Object.fromEntries(rules.map((r) => [r.id, r]));
        assert.strictEqual(byId["abort-incomplete-uploads"].abortIncompleteMultipartUpload.daysAfterInitiation, 7);
        assert.strictEqual(byId["expire-previous-versions"].noncurrentVersionExpiration.noncurrentDays, 30);
        assert.deepStrictEqual(byId["transition-events"].transitions, [{ days: 30, storageClass: "STANDARD_IA" }]);
        assert.strictEqual(byId["expire-events"].expiration.days, 365);
        assert.ok(rules.every((r) => r.status === "Enabled"));
    });

    it("runs a DirectPut Firehose stream with dynamic partitioning and the processors in order", async () => {
        const stream = await oneOf("arch-a-stream", STREAM);
        const s3 = stream.inputs.extendedS3Configuration;
        assert.strictEqual(stream.inputs.destination, "extended_s3");
        assert.strictEqual(stream.inputs.kinesisSourceConfiguration, undefined, "DirectPut");
        assert.deepStrictEqual(stream.inputs.serverSideEncryption, { enabled: true, keyType: "AWS_OWNED_CMK" });
        assert.strictEqual(s3.dynamicPartitioningConfiguration.enabled, true);
        assert.strictEqual(s3.prefix, S3_PREFIX);
        assert.strictEqual(s3.errorOutputPrefix, S3_ERROR_PREFIX);
        assert.ok(s3.bufferingSize >= 64, "dynamic partitioning needs at least 64 MiB");
        assert.strictEqual(s3.bufferingInterval, 300);
        assert.strictEqual(s3.compressionFormat, "UNCOMPRESSED");
        assert.strictEqual(s3.fileExtension, undefined, "plain objects keep Firehose's default name (no extension)");
        assert.strictEqual(s3.bucketArn, await valueOf(archive.bucketArn));
        const processors = s3.processingConfiguration.processors as Array<{
            type: string;
            parameters: Array<{ parameterName: string; parameterValue: string }>;
        }>;
        assert.strictEqual(s3.processingConfiguration.enabled, true);
        assert.deepStrictEqual(
            processors.map((p) => p.type),
            ["Lambda", "MetadataExtraction", "AppendDelimiterToRecord"],
        );
        const params = (i: number) => Object.fromEntries(processors[i].parameters.map((p) => [p.parameterName, p.parameterValue]));
        const fnArn = await valueOf(archive.transform.function.arn);
        assert.strictEqual(params(0).LambdaArn, `${fnArn}:$LATEST`);
        assert.ok(Number(params(0).BufferSizeInMBs) >= 0.2 && Number(params(0).BufferSizeInMBs) <= 3);
        assert.deepStrictEqual(params(1), { MetadataExtractionQuery: PARTITION_KEYS_JQ_QUERY, JsonParsingEngine: "JQ-1.6" });
        assert.deepStrictEqual(params(2), { Delimiter: "\\n" });
    });

    it("logs delivery errors to its own log group and stream", async () => {
        const stream = await oneOf("arch-a-stream", STREAM);
        const logs = stream.inputs.extendedS3Configuration.cloudwatchLoggingOptions;
        const group = await oneOf("arch-a-firehose-logs", "aws:cloudwatch/logGroup:LogGroup");
        const logStream = await oneOf("arch-a-firehose-delivery", "aws:cloudwatch/logStream:LogStream");
        assert.deepStrictEqual(logs, { enabled: true, logGroupName: group.state.name, logStreamName: logStream.inputs.name });
        assert.strictEqual(group.inputs.retentionInDays, 30);
    });

    it("gives Firehose a role it alone can assume, for this account only", async () => {
        const role = await oneOf("arch-a-firehose-role", "aws:iam/role:Role");
        const trust = JSON.parse(role.inputs.assumeRolePolicy);
        assert.deepStrictEqual(trust.Statement, [
            {
                Effect: "Allow",
                Principal: { Service: "firehose.amazonaws.com" },
                Action: "sts:AssumeRole",
                Condition: { StringEquals: { "sts:ExternalId": ACCOUNT } },
            },
        ]);
        const stream = await oneOf("arch-a-stream", STREAM);
        assert.strictEqual(stream.inputs.extendedS3Configuration.roleArn, role.state.arn);
    });

    it("limits the Firehose role to this bucket, this function and this log stream (evaluated)", async () => {
        const doc = await valueOf(archive.firehosePolicyDocument);
        const bucketArn = await valueOf(archive.bucketArn);
        const fnArn = await valueOf(archive.transform.function.arn);
        const groupArn = await valueOf(archive.errorLogGroup.arn);
        const allowed: Array<[string, string]> = [
            ["s3:PutObject", `${bucketArn}/events/eventType=shopping/schemaVersion=1/year=2026/month=11/day=27/x`],
            ["s3:PutObject", `${bucketArn}/errors/processing-failed/year=2026/month=11/day=27/x`],
            ["s3:AbortMultipartUpload", `${bucketArn}/events/x`],
            ["s3:GetObject", `${bucketArn}/events/x`],
            ["s3:ListBucket", bucketArn],
            ["s3:GetBucketLocation", bucketArn],
            ["s3:ListBucketMultipartUploads", bucketArn],
            ["lambda:InvokeFunction", fnArn],
            ["lambda:InvokeFunction", `${fnArn}:$LATEST`],
            ["lambda:GetFunctionConfiguration", `${fnArn}:$LATEST`],
            ["logs:PutLogEvents", `${groupArn}:log-stream:S3Delivery`],
        ];
        for (const [action, resource] of allowed) assert.ok(await isAllowed(doc, action, resource), `${action} ${resource}`);
        const denied: Array<[string, string]> = [
            ["s3:PutObject", "arn:aws:s3:::another-bucket/x"],
            ["s3:DeleteObject", `${bucketArn}/events/x`],
            ["s3:PutBucketPolicy", bucketArn],
            ["s3:DeleteBucket", bucketArn],
            ["lambda:InvokeFunction", `arn:aws:lambda:${REGION}:${ACCOUNT}:function:other`],
            ["lambda:UpdateFunctionCode", fnArn],
            ["logs:PutLogEvents", `${groupArn}:log-stream:other`],
            ["logs:CreateLogGroup", `arn:aws:logs:${REGION}:${ACCOUNT}:log-group:x`],
            ["iam:PassRole", `arn:aws:iam::${ACCOUNT}:role/x`],
        ];
        for (const [action, resource] of denied) assert.ok(!(await isAllowed(doc, action, resource)), `${action} ${resource}`);
    });

    it("packs the transform alone (no dependency) and the packed code works", async () => {
        const fn = await oneOf("arch-a-enrich", "aws:lambda/function:Function");
        const assets = await fn.inputs.code.assets;
        assert.deepStrictEqual(Object.keys(assets), ["__index.js"], "only the serialized handler, no node_modules");
        const source: string = await assets["__index.js"].text;
        // The handler's own code as Pulumi serializes it (comments included), and nothing else.
        assert.ok(Buffer.byteLength(source) < 24_000, `package ${Buffer.byteLength(source)} bytes`);
        assert.doesNotMatch(source, /require\("(?!crypto|buffer|util)[^".][^"]*"\)/, "requires no package");
        // Run the packed text as Lambda would load it.
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "ce-transform-"));
        fs.writeFileSync(path.join(dir, "index.js"), source);
        const packed = require(path.join(dir, "index.js")) as {
            handler: (e: unknown) => Promise<{ records: Array<{ recordId: string; result: string; data: string }> }>;
        };
        const event = { resources: ["client-1"], detail: { eventType: "shopping", schemaVersion: 1 } };
        const saved = console.warn;
        const warned: string[] = [];
        console.warn = (line: string) => warned.push(line); // the reject's EMF line, kept out of the test output
        let out: Awaited<ReturnType<typeof packed.handler>>;
        try {
            out = await packed.handler({
                invocationId: "i",
                deliveryStreamArn: "arn",
                region: REGION,
                records: [
                    { recordId: "a", approximateArrivalTimestamp: 0, data: Buffer.from(JSON.stringify(event)).toString("base64") },
                    { recordId: "b", approximateArrivalTimestamp: 0, data: Buffer.from("{bad").toString("base64") },
                ],
            });
        } finally {
            console.warn = saved;
        }
        assert.deepStrictEqual(readRejectLog(warned).rejected, { "not-json": 1 });
        assert.deepStrictEqual(
            out.records.map((r) => [r.recordId, r.result]),
            [
                ["a", "Ok"],
                ["b", "ProcessingFailed"],
            ],
        );
        assert.strictEqual(JSON.parse(Buffer.from(out.records[0].data, "base64").toString()).detail.accountNumber, "client-1");
        fs.rmSync(dir, { recursive: true, force: true });
    });

    it("packs the compiled schema validators into the transform, with no package, and the packed code enforces them", async () => {
        new Archive("arch-s", {
            schemas: { validators: compileSchemas().validators, enforcement: "quarantine", unknownSchema: "quarantine" },
        });
        const fn = await oneOf("arch-s-enrich", "aws:lambda/function:Function");
        const assets = await fn.inputs.code.assets;
        assert.deepStrictEqual(Object.keys(assets), ["__index.js"], "only the serialized handler: no ajv, no node_modules");
        const source: string = await assets["__index.js"].text;
        // About 72 KB of generated validation code; carrying ajv instead would add about 1.5 MB (ajv and its dependencies).
        assert.ok(Buffer.byteLength(source) < 100_000, `package ${Buffer.byteLength(source)} bytes`);
        assert.doesNotMatch(
            source,
            /require\("(?!crypto|buffer|util)[^".][^"]*"\)/,
            "requires no package (ajv's runtime helpers are inlined)",
        );
        // Run the packed text as Lambda would load it, in a directory with no node_modules in reach.
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "ce-transform-"));
        try {
            fs.writeFileSync(path.join(dir, "index.js"), source);
            const packed = require(path.join(dir, "index.js")) as {
                handler: (e: unknown) => Promise<{ records: Array<{ recordId: string; result: string; data: string }> }>;
            };
            const record = (recordId: string, detail: unknown) => ({
                recordId,
                approximateArrivalTimestamp: 0,
                data: Buffer.from(JSON.stringify({ resources: ["client-1"], detail })).toString("base64"),
            });
            const saved = console.warn;
            const warned: string[] = [];
            console.warn = (line: string) => warned.push(line);
            let out: Awaited<ReturnType<typeof packed.handler>>;
            try {
                out = await packed.handler({
                    invocationId: "i",
                    deliveryStreamArn: "arn",
                    region: REGION,
                    records: [
                        record("ok", {
                            eventType: "purchase",
                            schemaVersion: 1,
                            data: { orderId: "o-1", items: [{ itemSku: 1, quantity: 1 }], total: 9.5, currency: "EUR" },
                        }),
                        record("bad", { eventType: "shopping", schemaVersion: 1, data: { itemSku: "123" } }),
                        record("long", { eventType: "paging", schemaVersion: 1, data: { page: 1, category: "😀".repeat(65) } }),
                        record("unknown", { eventType: "checkout", schemaVersion: 1, data: {} }),
                    ],
                });
            } finally {
                console.warn = saved;
            }
            assert.deepStrictEqual(
                out.records.map((r) => [r.recordId, r.result]),
                [
                    ["ok", "Ok"],
                    ["bad", "ProcessingFailed"],
                    ["long", "ProcessingFailed"],
                    ["unknown", "ProcessingFailed"],
                ],
            );
            const logged = readRejectLog(warned);
            assert.deepStrictEqual(logged.rejected, { "schema-violation": 2, "unknown-schema": 1 });
            assert.strictEqual(
                logged.examples[0].message,
                `shopping version 1 breaks its schema at "/data/itemSku": must be integer (type)`,
            );
            assert.strictEqual(
                logged.examples[1].message,
                `paging version 1 breaks its schema at "/data/category": must NOT have more than 64 characters (maxLength)`,
            );
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });

    it("runs the transform as a HandlerFunction with nothing beyond its own logs", async () => {
        const doc = JSON.parse(await valueOf(archive.transform.policyDocument));
        assert.deepStrictEqual(
            doc.Statement.map((s: { Sid: string }) => s.Sid),
            ["WriteOwnLogs"],
        );
        const fn = await oneOf("arch-a-enrich", "aws:lambda/function:Function");
        assert.strictEqual(fn.inputs.runtime, "nodejs22.x");
        assert.deepStrictEqual(fn.inputs.architectures, ["arm64"]);
        assert.strictEqual(fn.inputs.timeout, 60);
        const serialized = await pulumi.runtime.serializeFunction(handler);
        assert.ok(serialized.text.length < 24_000, `serialized handler ${serialized.text.length} bytes`);
    });
});

describe("Archive component: options", () => {
    it("honours force-destroy, compression, buffering, lifecycle and a custom partitioning policy", async () => {
        const policy = { eventTypes: ["checkout"], maxSchemaVersion: 3 };
        new Archive("arch-b", {
            forceDestroy: true,
            compression: "GZIP",
            bufferingSizeMiB: 128,
            bufferingIntervalSeconds: 60,
            transitionDays: 0,
            expirationDays: 0,
            logRetentionDays: 7,
            partitioning: policy,
        });
        const bucket = await oneOf("arch-b-bucket", "aws:s3/bucket:Bucket");
        assert.strictEqual(bucket.inputs.forceDestroy, true);
        const s3 = (await oneOf("arch-b-stream", STREAM)).inputs.extendedS3Configuration;
        assert.strictEqual(s3.compressionFormat, "GZIP");
        // Athena and DuckDB decompress JSON by the object's extension.
        assert.strictEqual(s3.fileExtension, ".gz");
        assert.strictEqual(s3.bufferingSize, 128);
        assert.strictEqual(s3.bufferingInterval, 60);
        const query = s3.processingConfiguration.processors[1].parameters[0].parameterValue;
        assert.strictEqual(query, buildPartitionKeysQuery(policy));
        const rules = (await oneOf("arch-b-lifecycle", "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration")).inputs
            .rules as any[];
        assert.deepStrictEqual(rules.map((r) => r.id).sort(), ["abort-incomplete-uploads", "expire-previous-versions"]);
        assert.strictEqual((await oneOf("arch-b-firehose-logs", "aws:cloudwatch/logGroup:LogGroup")).inputs.retentionInDays, 7);
    });

    it("rejects settings AWS would reject, naming them", () => {
        assert.throws(() => validateLifecycle(10, "STANDARD_IA", 365), /STANDARD_IA after 30 days/);
        assert.throws(() => validateLifecycle(90, "GLACIER", 60), /expirationDays \(60\) must be after transitionDays \(90\)/);
        assert.throws(() => validateLifecycle(30, "TAPE", 365), /transitionStorageClass/);
        assert.doesNotThrow(() => validateLifecycle(0, "STANDARD_IA", 0));
        assert.doesNotThrow(() => validateLifecycle(1, "GLACIER_IR", 2));
    });

    it("refuses a buffer below 64 MiB or bad lifecycle days before creating anything", async () => {
        assert.throws(() => new Archive("arch-c", { bufferingSizeMiB: 32 }), /bufferingSizeMiB must be a whole number from 64 to 128/);
        assert.throws(() => new Archive("arch-c", { bufferingIntervalSeconds: 901 }), /bufferingIntervalSeconds/);
        // No zero buffering with dynamic partitioning: Firehose needs 60 s at least.
        assert.throws(
            () => new Archive("arch-c", { bufferingIntervalSeconds: 0 }),
            /bufferingIntervalSeconds must be a whole number from 60 to 900/,
        );
        assert.throws(() => new Archive("arch-c", { transitionDays: 10 }), /STANDARD_IA after 30 days/);
        assert.deepStrictEqual(await resourcesOf("arch-c"), []);
    });
});
