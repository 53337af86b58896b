import { createHash } from "node:crypto";
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import type { PolicyStatement } from "./handler-function";
import { tlsOnlyBucketPolicy } from "./tls-only-bucket-policy";
import {
    ARCHIVE_TABLES,
    glueColumns,
    gluePartitionKeys,
    INPUT_FORMAT,
    JSON_SERDE,
    OUTPUT_FORMAT,
    serdeParameters,
    tableLocation,
    tableParameters,
    type ArchiveTable,
} from "../pipeline/archive-table";
import { NAMED_QUERIES, sqlFor } from "../pipeline/named-queries";
import { DEFAULT_PARTITIONING_POLICY, ERRORS_ROOT, EVENTS_ROOT, type PartitioningPolicy } from "../pipeline/partitioning";

/** Athena refuses a per-query scan limit below 10 MiB. */
export const MIN_BYTES_SCANNED_CUTOFF = 10 * 1024 * 1024;
/** Default scan limit per query: 10 GiB (about 5 cents at Athena's price per TB scanned). */
export const DEFAULT_BYTES_SCANNED_CUTOFF = 10 * 1024 * 1024 * 1024;
/** Default days query results are kept. */
export const DEFAULT_RESULTS_EXPIRATION_DAYS = 7;
/** Where the workgroup writes results in its bucket. */
export const RESULTS_PREFIX = "results/";
/** The engine the named queries are written for (Trino-based). */
export const ATHENA_ENGINE_VERSION = "Athena engine version 3";

export interface ArchiveQueryArgs {
    /** Name of the archive bucket Firehose writes to (the Archive component's `bucketName`). */
    bucketName: pulumi.Input<string>;
    /** Its ARN. */
    bucketArn: pulumi.Input<string>;
    /** The Archive's partitioning policy: the projection lists exactly the partitions it can write. Default the default policy. */
    partitioning?: pulumi.Input<PartitioningPolicy>;
    /**
     * Glue database name: lower-case letters, digits and "_" (what Athena accepts unquoted). Default: the component
     * name with "_" for "-", plus 6 hex characters of the bucket ARN so that two stacks never share a database.
     */
    databaseName?: pulumi.Input<string>;
    /** Most bytes one query may scan; Athena cancels it beyond. At least 10 MiB (10485760). Default 10 GiB. */
    bytesScannedCutoffPerQuery?: pulumi.Input<number>;
    /** Days query results are kept before S3 deletes them (1 or more). Default 7. */
    resultsExpirationDays?: pulumi.Input<number>;
}

/** The analyst policy's resources, as ARNs. */
export interface AnalystAccess {
    partition: string;
    region: string;
    accountId: string;
    archiveBucketArn: string;
    resultsBucketArn: string;
    workgroupArn: string;
    databaseName: string;
    tableNames: string[];
}

/**
 * A least-privilege policy for people who query the archive: run queries in this workgroup only; read its
 * named queries; read this database's two tables in the Glue catalog; read `events/` and `errors/` of the
 * archive (nothing else there, and no writes); write and read results under the workgroup's result prefix.
 */
export function analystPolicyStatements(a: AnalystAccess): PolicyStatement[] {
    return [...athenaStatements(a), ...glueStatements(a), ...archiveReadStatements(a), ...resultsStatements(a)];
}

/** Run queries and read named queries in this workgroup; list workgroups and engines. */
function athenaStatements(a: AnalystAccess): PolicyStatement[] {
    return [
        {
            Sid: "QueryInTheWorkgroup",
            Effect: "Allow",
            Action: [
                "athena:GetWorkGroup",
                "athena:StartQueryExecution",
                "athena:StopQueryExecution",
                "athena:GetQueryExecution",
                "athena:BatchGetQueryExecution",
                "athena:ListQueryExecutions",
                "athena:GetQueryResults",
                "athena:GetQueryResultsStream",
                "athena:GetQueryRuntimeStatistics",
                "athena:GetNamedQuery",
                "athena:BatchGetNamedQuery",
                "athena:ListNamedQueries",
            ],
            Resource: a.workgroupArn,
        },
        {
            // Athena's console and CLIs list these to offer choices; they carry no data.
            Sid: "ListWorkgroupsAndEngines",
            Effect: "Allow",
            Action: ["athena:ListWorkGroups", "athena:ListEngineVersions"],
            Resource: "*",
        },
    ];
}

/** Read this database's tables in the Glue catalog, and what Athena needs of the `default` database. */
function glueStatements(a: AnalystAccess): PolicyStatement[] {
    const glue = (resource: string) => `arn:${a.partition}:glue:${a.region}:${a.accountId}:${resource}`;
    return [
        {
            Sid: "ReadTheCatalogTables",
            Effect: "Allow",
            Action: [
                "glue:GetDatabase",
                "glue:GetTable",
                "glue:GetTables",
                "glue:GetPartition",
                "glue:GetPartitions",
                "glue:BatchGetPartition",
            ],
            Resource: [
                glue("catalog"),
                glue(`database/${a.databaseName}`),
                ...a.tableNames.map((t) => glue(`table/${a.databaseName}/${t}`)),
            ],
        },
        {
            // Athena requires these on the catalog and the `default` database in every Region it is used in.
            Sid: "AthenaDefaultDatabase",
            Effect: "Allow",
            Action: ["glue:GetDatabase", "glue:GetDatabases", "glue:CreateDatabase"],
            Resource: [glue("catalog"), glue("database/default")],
        },
    ];
}

/** Read and list `events/` and `errors/` of the archive (nothing else there, and no writes). */
function archiveReadStatements(a: AnalystAccess): PolicyStatement[] {
    return [
        {
            Sid: "ReadArchivedEventsAndErrors",
            Effect: "Allow",
            Action: ["s3:GetObject"],
            Resource: [`${a.archiveBucketArn}/${EVENTS_ROOT}*`, `${a.archiveBucketArn}/${ERRORS_ROOT}*`],
        },
        {
            Sid: "ListArchivedEventsAndErrors",
            Effect: "Allow",
            Action: ["s3:ListBucket"],
            Resource: a.archiveBucketArn,
            Condition: { StringLike: { "s3:prefix": [`${EVENTS_ROOT}*`, `${ERRORS_ROOT}*`] } },
        },
    ];
}

/** Locate both buckets; write, read and list results under the workgroup's result prefix. */
function resultsStatements(a: AnalystAccess): PolicyStatement[] {
    return [
        {
            Sid: "LocateBuckets",
            Effect: "Allow",
            Action: ["s3:GetBucketLocation"],
            Resource: [a.archiveBucketArn, a.resultsBucketArn],
        },
        {
            Sid: "WriteAndReadQueryResults",
            Effect: "Allow",
            Action: ["s3:GetObject", "s3:PutObject", "s3:AbortMultipartUpload", "s3:ListMultipartUploadParts"],
            Resource: `${a.resultsBucketArn}/${RESULTS_PREFIX}*`,
        },
        {
            Sid: "ListQueryResults",
            Effect: "Allow",
            Action: ["s3:ListBucket", "s3:ListBucketMultipartUploads"],
            Resource: a.resultsBucketArn,
            Condition: { StringLike: { "s3:prefix": [`${RESULTS_PREFIX}*`] } },
        },
    ];
}

function checkCutoff(value: number): number {
    if (!Number.isSafeInteger(value) || value < MIN_BYTES_SCANNED_CUTOFF) {
        throw new Error(
            `ArchiveQuery: bytesScannedCutoffPerQuery must be a whole number of bytes, at least ${MIN_BYTES_SCANNED_CUTOFF} (10 MiB), got ${value}`,
        );
    }
    return value;
}

function checkExpiration(days: number): number {
    if (!Number.isInteger(days) || days < 1)
        throw new Error(`ArchiveQuery: resultsExpirationDays must be a whole number of days, at least 1, got ${days}`);
    return days;
}

/**
 * Query what the Archive captured: a Glue database with the tables `events` and `errors` over the archive
 * bucket (OpenX JSON SerDe, partition projection: no crawler, new partitions visible at once), an Athena
 * workgroup (engine version 3, enforced settings, results encrypted in a bucket of their own that expires
 * them, a scan limit per query), the named queries of pipeline/named-queries.ts saved in the workgroup,
 * and a managed policy for analysts.
 */
export class ArchiveQuery extends pulumi.ComponentResource {
    public readonly database: aws.glue.CatalogDatabase;
    public readonly databaseName: pulumi.Output<string>;
    /** Table name by table (`events`, `errors`). */
    public readonly tables: Record<string, aws.glue.CatalogTable>;
    public readonly tableNames: pulumi.Output<Record<string, string>>;
    public readonly resultsBucket: aws.s3.Bucket;
    public readonly resultsBucketName: pulumi.Output<string>;
    public readonly workgroup: aws.athena.Workgroup;
    public readonly workgroupName: pulumi.Output<string>;
    /** Saved query id by named query name. */
    public readonly namedQueryIds: pulumi.Output<Record<string, string>>;
    public readonly analystPolicy: aws.iam.Policy;
    public readonly analystPolicyArn: pulumi.Output<string>;
    /** The analyst policy (JSON), for inspection and tests. */
    public readonly analystPolicyDocument: pulumi.Output<string>;

    constructor(name: string, args: ArchiveQueryArgs, opts?: pulumi.ComponentResourceOptions) {
        if (typeof args.bytesScannedCutoffPerQuery === "number") checkCutoff(args.bytesScannedCutoffPerQuery);
        if (typeof args.resultsExpirationDays === "number") checkExpiration(args.resultsExpirationDays);
        super("client-events:index:ArchiveQuery", name, {}, opts);
        const policy = pulumi.output(args.partitioning ?? DEFAULT_PARTITIONING_POLICY) as pulumi.Output<PartitioningPolicy>;

        this.database = this.createDatabase(name, args);
        this.databaseName = this.database.name;
        this.tables = Object.fromEntries(ARCHIVE_TABLES.map((table) => [table.name, this.table(name, table, args.bucketName, policy)]));
        this.tableNames = pulumi.all(Object.fromEntries(Object.entries(this.tables).map(([key, t]) => [key, t.name])));

        this.resultsBucket = this.resultsStore(name, args.resultsExpirationDays ?? DEFAULT_RESULTS_EXPIRATION_DAYS);
        this.resultsBucketName = this.resultsBucket.bucket;
        const account = aws.getCallerIdentityOutput({}, { parent: this }).accountId;
        this.workgroup = this.createWorkgroup(name, args, account);
        this.workgroupName = this.workgroup.name;
        this.namedQueryIds = this.createNamedQueries(name);

        this.analystPolicyDocument = this.analystPolicyJson(args.bucketArn, account);
        this.analystPolicy = new aws.iam.Policy(
            `${name}-analyst-policy`,
            {
                description: "Query the client-events archive with Athena (read-only on the archive)",
                policy: this.analystPolicyDocument,
            },
            { parent: this },
        );
        this.analystPolicyArn = this.analystPolicy.arn;

        this.registerOutputs({
            database: this.database,
            databaseName: this.databaseName,
            tables: this.tables,
            tableNames: this.tableNames,
            resultsBucket: this.resultsBucket,
            resultsBucketName: this.resultsBucketName,
            workgroup: this.workgroup,
            workgroupName: this.workgroupName,
            namedQueryIds: this.namedQueryIds,
            analystPolicy: this.analystPolicy,
            analystPolicyArn: this.analystPolicyArn,
            analystPolicyDocument: this.analystPolicyDocument,
        });
    }

    /** The Glue database of the archive's tables. */
    private createDatabase(name: string, args: ArchiveQueryArgs): aws.glue.CatalogDatabase {
        const databaseName = args.databaseName ?? pulumi.output(args.bucketArn).apply((arn) => defaultDatabaseName(name, arn));
        return new aws.glue.CatalogDatabase(
            `${name}-database`,
            {
                name: databaseName,
                description: "client-events archive: tables events and errors (partition projection, no crawler)",
            },
            { parent: this },
        );
    }

    /** The Athena workgroup: engine version 3, enforced settings, encrypted results in the results bucket, a scan limit. */
    private createWorkgroup(name: string, args: ArchiveQueryArgs, account: pulumi.Output<string>): aws.athena.Workgroup {
        return new aws.athena.Workgroup(
            `${name}-workgroup`,
            {
                description: "Queries over the client-events archive",
                // Pulumi owns every saved query; destroying the stack removes the workgroup with its history.
                forceDestroy: true,
                configuration: {
                    enforceWorkgroupConfiguration: true,
                    publishCloudwatchMetricsEnabled: true,
                    bytesScannedCutoffPerQuery: pulumi
                        .output(args.bytesScannedCutoffPerQuery ?? DEFAULT_BYTES_SCANNED_CUTOFF)
                        .apply(checkCutoff),
                    engineVersion: { selectedEngineVersion: ATHENA_ENGINE_VERSION },
                    resultConfiguration: {
                        outputLocation: pulumi.interpolate`s3://${this.resultsBucket.bucket}/${RESULTS_PREFIX}`,
                        encryptionConfiguration: { encryptionOption: "SSE_S3" },
                        expectedBucketOwner: account,
                    },
                },
            },
            { parent: this },
        );
    }

    /** The named queries of pipeline/named-queries.ts, saved in the workgroup; their ids by name. */
    private createNamedQueries(name: string): pulumi.Output<Record<string, string>> {
        const saved = NAMED_QUERIES.map(
            (query) =>
                new aws.athena.NamedQuery(
                    `${name}-${query.name}`,
                    {
                        name: query.name,
                        description: query.description,
                        database: this.databaseName,
                        workgroup: this.workgroup.name,
                        query: sqlFor(query, "athena"),
                    },
                    { parent: this, dependsOn: Object.values(this.tables) },
                ),
        );
        return pulumi.all(Object.fromEntries(saved.map((q, i) => [NAMED_QUERIES[i].name, q.id])));
    }

    /** The analyst policy (JSON) for this archive, results bucket, workgroup and tables. */
    private analystPolicyJson(archiveBucketArn: pulumi.Input<string>, account: pulumi.Output<string>): pulumi.Output<string> {
        const partition = aws.getPartitionOutput({}, { parent: this }).partition;
        const region = aws.getRegionOutput({}, { parent: this }).region;
        return pulumi
            .all([
                partition,
                region,
                account,
                archiveBucketArn,
                this.resultsBucket.arn,
                this.workgroup.arn,
                this.databaseName,
                this.tableNames,
            ])
            .apply(([p, r, accountId, archiveArn, resultsBucketArn, workgroupArn, db, tables]) =>
                JSON.stringify({
                    Version: "2012-10-17",
                    Statement: analystPolicyStatements({
                        partition: p,
                        region: r,
                        accountId,
                        archiveBucketArn: archiveArn,
                        resultsBucketArn,
                        workgroupArn,
                        databaseName: db,
                        tableNames: Object.values(tables),
                    }),
                }),
            );
    }

    private table(
        name: string,
        table: ArchiveTable,
        bucketName: pulumi.Input<string>,
        policy: pulumi.Output<PartitioningPolicy>,
    ): aws.glue.CatalogTable {
        return new aws.glue.CatalogTable(
            `${name}-${table.name}-table`,
            {
                name: table.name,
                databaseName: this.database.name,
                description: table.comment,
                tableType: "EXTERNAL_TABLE",
                parameters: pulumi.all([policy, bucketName]).apply(([p, bucket]) => tableParameters(table, p, bucket)),
                partitionKeys: gluePartitionKeys(table),
                storageDescriptor: {
                    location: pulumi.output(bucketName).apply((bucket) => tableLocation(table, bucket)),
                    inputFormat: INPUT_FORMAT,
                    outputFormat: OUTPUT_FORMAT,
                    serDeInfo: { serializationLibrary: JSON_SERDE, parameters: serdeParameters(table) },
                    columns: glueColumns(table),
                },
            },
            { parent: this },
        );
    }

    /** A private, encrypted, TLS-only bucket whose results expire. */
    private resultsStore(name: string, expirationDays: pulumi.Input<number>): aws.s3.Bucket {
        const parent = { parent: this };
        // Results are derived and disposable: the bucket goes with the stack.
        const bucket = new aws.s3.Bucket(`${name}-results`, { forceDestroy: true }, parent);
        const ownership = new aws.s3.BucketOwnershipControls(
            `${name}-results-ownership`,
            {
                bucket: bucket.id,
                rule: { objectOwnership: "BucketOwnerEnforced" },
            },
            parent,
        );
        const publicAccess = new aws.s3.BucketPublicAccessBlock(
            `${name}-results-public-access`,
            {
                bucket: bucket.id,
                blockPublicAcls: true,
                blockPublicPolicy: true,
                ignorePublicAcls: true,
                restrictPublicBuckets: true,
            },
            parent,
        );
        new aws.s3.BucketServerSideEncryptionConfiguration(
            `${name}-results-encryption`,
            {
                bucket: bucket.id,
                rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "AES256" } }],
            },
            parent,
        );
        new aws.s3.BucketLifecycleConfiguration(
            `${name}-results-lifecycle`,
            {
                bucket: bucket.id,
                rules: [
                    {
                        id: "expire-results",
                        status: "Enabled",
                        filter: {},
                        expiration: { days: pulumi.output(expirationDays).apply(checkExpiration) },
                        abortIncompleteMultipartUpload: { daysAfterInitiation: 1 },
                    },
                ],
            },
            parent,
        );
        new aws.s3.BucketPolicy(
            `${name}-results-policy`,
            {
                bucket: bucket.id,
                policy: bucket.arn.apply(tlsOnlyBucketPolicy),
            },
            { parent: this, dependsOn: [publicAccess, ownership] },
        );
        return bucket;
    }
}

/** `<name with "_">_<6 hex of the bucket ARN>`, lower case: unique per archive, and a name Athena takes unquoted. */
export function defaultDatabaseName(name: string, bucketArn: string): string {
    return `${name.toLowerCase().replace(/[^a-z0-9]/g, "_")}_${createHash("sha256").update(bucketArn).digest("hex").slice(0, 6)}`;
}
