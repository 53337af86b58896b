/**
 * The ArchiveQuery component under Pulumi mocks: the Glue database and tables, the results bucket, the
 * Athena workgroup and its named queries with their exact inputs; the analyst policy evaluated with the
 * IAM simulator; and index.ts composing it (on by default, off with queryEnabled=false).
 */
import * as assert from "node:assert/strict";
import { runProgramChild } from "./support/program-child";
import { ACCOUNT, oneOf, REGION, resourcesOf, valueOf, type MockedResource } from "./support/pulumi-mocks";
import { evaluate, isAllowed } from "./support/iam";
import { ArchiveQuery } from "../components/archive-query";
import { EVENTS_TABLE, ERRORS_TABLE, glueColumns, gluePartitionKeys, serdeParameters, tableParameters } from "../pipeline/archive-table";
import { NAMED_QUERIES, sqlFor } from "../pipeline/named-queries";
import type { PartitioningPolicy } from "../pipeline/partitioning";

const BUCKET = "client-events-aq-archive-bucket-1a2b3c4";
const BUCKET_ARN = `arn:aws:s3:::${BUCKET}`;
const POLICY: PartitioningPolicy = { eventTypes: ["shopping", "paging"], maxSchemaVersion: 2 };

describe("ArchiveQuery component", function () {
    this.timeout(60_000);
    let query: ArchiveQuery;
    let mine: MockedResource[];
    let databaseName: string;
    let workgroupName: string;
    let resultsBucket: string;
    let policy: string;

    before(async () => {
        query = new ArchiveQuery("aq-query", {
            bucketName: BUCKET,
            bucketArn: BUCKET_ARN,
            partitioning: POLICY,
            bytesScannedCutoffPerQuery: 1024 * 1024 * 1024,
            resultsExpirationDays: 3,
        });
        mine = await resourcesOf("aq-query");
        databaseName = await valueOf(query.databaseName);
        workgroupName = await valueOf(query.workgroupName);
        resultsBucket = await valueOf(query.resultsBucketName);
        policy = await valueOf(query.analystPolicyDocument);
    });

    it("a Glue database whose name Athena takes unquoted, unique per archive bucket", async () => {
        assert.match(databaseName, /^aq_query_[0-9a-f]{6}$/);
        const db = await oneOf("aq-query", "aws:glue/catalogDatabase:CatalogDatabase");
        assert.equal(db.inputs.name, databaseName);
        const other = new ArchiveQuery("aq-other", { bucketName: "other", bucketArn: "arn:aws:s3:::other" });
        const same = new ArchiveQuery("aq-same", { bucketName: BUCKET, bucketArn: BUCKET_ARN });
        assert.notEqual((await valueOf(other.databaseName)).slice(-6), databaseName.slice(-6));
        assert.equal((await valueOf(same.databaseName)).slice(-6), databaseName.slice(-6));
        assert.equal(
            await valueOf(
                new ArchiveQuery("aq-named", { bucketName: BUCKET, bucketArn: BUCKET_ARN, databaseName: "my_events" }).databaseName,
            ),
            "my_events",
        );
    });

    it("the events and errors tables: external JSON tables over the archive with the OpenX SerDe and partition projection", async () => {
        const tables = mine.filter((r) => r.type === "aws:glue/catalogTable:CatalogTable");
        assert.deepEqual(tables.map((t) => t.inputs.name).sort(), ["errors", "events"]);
        for (const [table, root] of [
            [EVENTS_TABLE, "events/"],
            [ERRORS_TABLE, "errors/"],
        ] as const) {
            const t = tables.find((r) => r.inputs.name === table.name)!;
            assert.equal(t.inputs.databaseName, databaseName);
            assert.equal(t.inputs.tableType, "EXTERNAL_TABLE");
            assert.deepEqual(t.inputs.parameters, tableParameters(table, POLICY, BUCKET));
            assert.equal(t.inputs.parameters["projection.enabled"], "true");
            assert.deepEqual(t.inputs.partitionKeys, gluePartitionKeys(table));
            assert.deepEqual(t.inputs.storageDescriptor, {
                location: `s3://${BUCKET}/${root}`,
                inputFormat: "org.apache.hadoop.mapred.TextInputFormat",
                outputFormat: "org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat",
                serDeInfo: { serializationLibrary: "org.openx.data.jsonserde.JsonSerDe", parameters: serdeParameters(table) },
                columns: glueColumns(table),
            });
        }
        assert.equal(
            tables.find((t) => t.inputs.name === "events")!.inputs.parameters["projection.eventtype.values"],
            "shopping,paging,_other,_invalid",
        );
        assert.deepEqual(await valueOf(query.tableNames), { events: "events", errors: "errors" });
    });

    it("results: a private, encrypted, TLS-only bucket of their own whose objects expire", async () => {
        const bucket = await oneOf("aq-query-results", "aws:s3/bucket:Bucket");
        assert.equal(bucket.inputs.forceDestroy, true, "results are disposable");
        assert.deepEqual((await oneOf("aq-query-results-public-access", "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock")).inputs, {
            bucket: `${bucket.name}-id`,
            blockPublicAcls: true,
            blockPublicPolicy: true,
            ignorePublicAcls: true,
            restrictPublicBuckets: true,
        });
        assert.deepEqual(
            (await oneOf("aq-query-results-ownership", "aws:s3/bucketOwnershipControls:BucketOwnershipControls")).inputs.rule,
            { objectOwnership: "BucketOwnerEnforced" },
        );
        assert.deepEqual(
            (
                await oneOf(
                    "aq-query-results-encryption",
                    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
                )
            ).inputs.rules,
            [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "AES256" } }],
        );
        assert.deepEqual(
            (await oneOf("aq-query-results-lifecycle", "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration")).inputs.rules,
            [
                {
                    id: "expire-results",
                    status: "Enabled",
                    filter: {},
                    expiration: { days: 3 },
                    abortIncompleteMultipartUpload: { daysAfterInitiation: 1 },
                },
            ],
        );
        const bucketPolicy = JSON.parse((await oneOf("aq-query-results-policy", "aws:s3/bucketPolicy:BucketPolicy")).inputs.policy);
        assert.equal(
            await evaluate(
                { Version: "2012-10-17", Statement: [{ Effect: "Allow", Action: "s3:GetObject", Resource: "*" }] },
                "s3:GetObject",
                `arn:aws:s3:::${resultsBucket}/results/x.csv`,
                { resourcePolicy: bucketPolicy, context: { "aws:SecureTransport": "false" } },
            ),
            "ExplicitlyDenied",
        );
        assert.equal(
            await evaluate(
                { Version: "2012-10-17", Statement: [{ Effect: "Allow", Action: "s3:GetObject", Resource: "*" }] },
                "s3:GetObject",
                `arn:aws:s3:::${resultsBucket}/results/x.csv`,
                { resourcePolicy: bucketPolicy, context: { "aws:SecureTransport": "true" } },
            ),
            "Allowed",
        );
    });

    it("the workgroup: engine version 3, enforced settings, encrypted results in that bucket, the scan limit", async () => {
        const workgroup = await oneOf("aq-query-workgroup", "aws:athena/workgroup:Workgroup");
        assert.equal(workgroup.inputs.forceDestroy, true);
        assert.deepEqual(workgroup.inputs.configuration, {
            enforceWorkgroupConfiguration: true,
            publishCloudwatchMetricsEnabled: true,
            bytesScannedCutoffPerQuery: 1024 * 1024 * 1024,
            engineVersion: { selectedEngineVersion: "Athena engine version 3" },
            resultConfiguration: {
                outputLocation: `s3://${resultsBucket}/results/`,
                encryptionConfiguration: { encryptionOption: "SSE_S3" },
                expectedBucketOwner: ACCOUNT,
            },
        });
        const defaults = new ArchiveQuery("aq-defaults", { bucketName: BUCKET, bucketArn: BUCKET_ARN });
        await valueOf(defaults.workgroupName);
        const defaultWorkgroup = await oneOf("aq-defaults-workgroup", "aws:athena/workgroup:Workgroup");
        assert.equal(defaultWorkgroup.inputs.configuration.bytesScannedCutoffPerQuery, 10 * 1024 ** 3, "10 GiB by default");
        assert.deepEqual(
            (await oneOf("aq-defaults-results-lifecycle", "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration")).inputs
                .rules[0].expiration,
            { days: 7 },
        );
    });

    it("saves every named query in the workgroup, against the database", async () => {
        const saved = mine.filter((r) => r.type === "aws:athena/namedQuery:NamedQuery");
        assert.deepEqual(
            saved.map((q) => q.inputs.name),
            NAMED_QUERIES.map((q) => q.name),
        );
        for (const named of NAMED_QUERIES) {
            const q = saved.find((s) => s.inputs.name === named.name)!;
            assert.deepEqual(q.inputs, {
                name: named.name,
                description: named.description,
                database: databaseName,
                workgroup: workgroupName,
                query: sqlFor(named, "athena"),
            });
        }
        const ids = await valueOf(query.namedQueryIds);
        assert.deepEqual(
            Object.keys(ids),
            NAMED_QUERIES.map((q) => q.name),
        );
    });

    it("refuses a scan limit below Athena's 10 MiB and results kept less than a day", () => {
        assert.throws(
            () => new ArchiveQuery("aq-bad1", { bucketName: BUCKET, bucketArn: BUCKET_ARN, bytesScannedCutoffPerQuery: 10485759 }),
            /at least 10485760 \(10 MiB\)/,
        );
        assert.throws(
            () => new ArchiveQuery("aq-bad2", { bucketName: BUCKET, bucketArn: BUCKET_ARN, resultsExpirationDays: 0 }),
            /resultsExpirationDays must be a whole number of days, at least 1/,
        );
    });

    describe("the analyst policy (IAM simulator)", () => {
        const wg = () => `arn:aws:athena:${REGION}:${ACCOUNT}:workgroup/${workgroupName}`;
        const glue = (r: string) => `arn:aws:glue:${REGION}:${ACCOUNT}:${r}`;
        const results = () => `arn:aws:s3:::${resultsBucket}`;

        it("is a managed policy, exported, with that document", async () => {
            const managed = await oneOf("aq-query-analyst-policy", "aws:iam/policy:Policy");
            assert.equal(managed.inputs.policy, policy);
            assert.equal(await valueOf(query.analystPolicyArn), `arn:aws:iam::${ACCOUNT}:policy/aq-query-analyst-policy`);
        });

        it("allows running and reading queries in this workgroup, the two tables, events/ and errors/, and the results", async () => {
            const allowed: Array<[string, string, Record<string, string>?]> = [
                ["athena:StartQueryExecution", wg()],
                ["athena:GetQueryExecution", wg()],
                ["athena:GetQueryResults", wg()],
                ["athena:StopQueryExecution", wg()],
                ["athena:ListNamedQueries", wg()],
                ["athena:GetNamedQuery", wg()],
                ["athena:GetWorkGroup", wg()],
                ["glue:GetDatabase", glue(`database/${databaseName}`)],
                ["glue:GetTable", glue(`table/${databaseName}/events`)],
                ["glue:GetPartitions", glue(`table/${databaseName}/errors`)],
                ["glue:GetTable", glue("catalog")],
                ["glue:GetDatabase", glue("database/default")],
                ["s3:GetObject", `${BUCKET_ARN}/events/eventType=shopping/schemaVersion=1/year=2026/month=12/day=01/x.gz`],
                ["s3:GetObject", `${BUCKET_ARN}/errors/partitioning-failed/year=2026/month=12/day=01/x`],
                ["s3:ListBucket", BUCKET_ARN, { "s3:prefix": "events/eventType=shopping/" }],
                ["s3:ListBucket", BUCKET_ARN, { "s3:prefix": "errors/" }],
                ["s3:GetBucketLocation", BUCKET_ARN],
                ["s3:PutObject", `${results()}/results/abc.csv`],
                ["s3:GetObject", `${results()}/results/abc.csv`],
                ["s3:ListBucket", results(), { "s3:prefix": "results/" }],
                ["s3:GetBucketLocation", results()],
            ];
            for (const [action, resource, context] of allowed) {
                assert.equal(
                    await evaluate(policy, action, resource, { context }),
                    "Allowed",
                    `${action} ${resource} ${JSON.stringify(context ?? {})}`,
                );
            }
        });

        it("denies everything else: other workgroups, managing this one, other tables, catalog changes, writing the archive, other prefixes", async () => {
            const denied: Array<[string, string, Record<string, string>?]> = [
                ["athena:StartQueryExecution", `arn:aws:athena:${REGION}:${ACCOUNT}:workgroup/primary`],
                ["athena:UpdateWorkGroup", wg()],
                ["athena:DeleteWorkGroup", wg()],
                ["athena:CreateNamedQuery", wg()],
                ["athena:DeleteNamedQuery", wg()],
                ["glue:GetTable", glue("table/other_db/events")],
                ["glue:GetTable", glue(`table/${databaseName}/secrets`)],
                ["glue:DeleteTable", glue(`table/${databaseName}/events`)],
                ["glue:UpdateTable", glue(`table/${databaseName}/events`)],
                ["glue:CreateTable", glue(`database/${databaseName}`)],
                ["glue:CreateDatabase", glue("database/other_db")],
                ["glue:DeleteDatabase", glue(`database/${databaseName}`)],
                ["s3:PutObject", `${BUCKET_ARN}/events/eventType=shopping/x`],
                ["s3:DeleteObject", `${BUCKET_ARN}/events/eventType=shopping/x`],
                ["s3:GetObject", `${BUCKET_ARN}/firehose/x`],
                ["s3:GetObject", `${BUCKET_ARN}/eventsx/y`],
                ["s3:ListBucket", BUCKET_ARN, { "s3:prefix": "" }],
                ["s3:ListBucket", BUCKET_ARN, { "s3:prefix": "other/" }],
                ["s3:GetObject", `${results()}/other/abc.csv`],
                ["s3:DeleteObject", `${results()}/results/abc.csv`],
                ["s3:PutBucketPolicy", results()],
                ["s3:GetObject", "arn:aws:s3:::some-other-bucket/events/x"],
            ];
            for (const [action, resource, context] of denied) {
                assert.equal(
                    await isAllowed(policy, action, resource, { context }),
                    false,
                    `${action} ${resource} ${JSON.stringify(context ?? {})}`,
                );
            }
        });
    });
});

describe("index.ts composes ArchiveQuery", function () {
    this.timeout(120_000);

    it("on by default: the stack exports the database, tables, workgroup, results bucket and analyst policy", async () => {
        const program = require("../index");
        const db = await valueOf<string>(program.queryDatabase);
        assert.match(db, /^client_events_test_query_[0-9a-f]{6}$/);
        assert.deepEqual(await valueOf(program.queryTables), { events: "events", errors: "errors" });
        const workgroup = await oneOf("client-events-test-query-workgroup", "aws:athena/workgroup:Workgroup");
        assert.equal(await valueOf(program.queryWorkgroup), workgroup.state.name);
        assert.match(
            await valueOf<string>(program.queryAnalystPolicyArn),
            /^arn:aws:iam::123456789012:policy\/client-events-test-query-analyst-policy/,
        );
        assert.match(await valueOf<string>(program.queryResultsBucket), /client-events-test-query-results/);
        // The tables read the stack's own archive bucket.
        const bucket = await oneOf("client-events-test-archive-bucket", "aws:s3/bucket:Bucket");
        const events = (await resourcesOf("client-events-test-query-events-table", "aws:glue/catalogTable:CatalogTable"))[0];
        assert.equal(events.inputs.storageDescriptor.location, `s3://${bucket.state.bucket}/events/`);
    });

    it("off with client-events:queryEnabled false: no Glue or Athena resource, no analyst policy", () => {
        const { resources } = runProgramChild<{ resources: Array<{ type: string }> }>(
            "program-names.ts",
            { "client-events:queryEnabled": "false" },
            ['{"resources"'],
        );
        const types = resources.map((r) => r.type);
        assert.ok(types.includes("aws:kinesis/firehoseDeliveryStream:FirehoseDeliveryStream"), "the rest of the stack is there");
        assert.deepEqual(
            types.filter((t) => /^aws:(glue|athena)\//.test(t) || t === "aws:iam/policy:Policy"),
            [],
        );
    });
});
