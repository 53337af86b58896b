import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import type { FirehoseTransformationEvent, FirehoseTransformationResult } from "aws-lambda";
import { tlsOnlyBucketPolicy } from "./tls-only-bucket-policy";
import { HandlerFunction, PolicyStatement } from "./handler-function";
import { createTransformHandler } from "../handlers/firehose-transform";
import type { SchemaPolicy } from "../pipeline/schemas";
import {
    BUFFERING,
    buildPartitionKeysQuery,
    COMPRESSION_EXTENSIONS,
    DEFAULT_PARTITIONING_POLICY,
    JSON_PARSING_ENGINE,
    PartitioningPolicy,
    RECORD_DELIMITER_PARAMETER,
    S3_ERROR_PREFIX,
    S3_PREFIX,
    TRANSFORM_INVOCATION,
} from "../pipeline/partitioning";
import { validateLifecycle } from "../pipeline/archive-lifecycle";

// Lifecycle rules S3 accepts are plain data in pipeline/archive-lifecycle.ts (config validation uses them too).
export { TRANSITION_MIN_DAYS, validateLifecycle } from "../pipeline/archive-lifecycle";

export interface ArchiveArgs {
    /** Delete the bucket even when it holds events (`pulumi destroy`). Default false; the program sets it for dev stacks only. */
    forceDestroy?: pulumi.Input<boolean>;
    /** Days after which events move to `transitionStorageClass`; 0 keeps them in S3 Standard. Default 30. */
    transitionDays?: pulumi.Input<number>;
    /** Storage class of the transition (a key of TRANSITION_MIN_DAYS). Default "STANDARD_IA". */
    transitionStorageClass?: pulumi.Input<string>;
    /** Days after which events are deleted; 0 keeps them forever. Default 365. */
    expirationDays?: pulumi.Input<number>;
    /** Days a deleted or overwritten object's previous version is kept (versioning is on). Default 30. */
    noncurrentVersionExpirationDays?: pulumi.Input<number>;
    /** Days before an unfinished multipart upload is aborted (its parts cost storage). Default 7. */
    abortIncompleteUploadDays?: pulumi.Input<number>;
    /** Firehose buffer size, MiB: 64 to 128 (Firehose rejects less than 64 with dynamic partitioning). Default 64. */
    bufferingSizeMiB?: pulumi.Input<number>;
    /** Firehose buffer interval, seconds: 60 to 900 (no zero buffering with dynamic partitioning). Default 300. */
    bufferingIntervalSeconds?: pulumi.Input<number>;
    /** "UNCOMPRESSED" (default) or "GZIP" (smaller objects; Athena reads both). */
    compression?: pulumi.Input<"UNCOMPRESSED" | "GZIP">;
    /** Which eventTypes and schemaVersions get their own partition (see pipeline/partitioning.ts). */
    partitioning?: pulumi.Input<PartitioningPolicy>;
    /** Retention of the Firehose error log group and the transform's log group, days. Default 30. */
    logRetentionDays?: pulumi.Input<number>;
    /**
     * Schema enforcement in the transform: the compiled validators (`compileSchemas()` from schemas/compile.ts)
     * and the policy. Plain values, not Inputs: they are serialized into the Lambda's code. Default: no checks.
     */
    schemas?: SchemaPolicy;
}

/** Name of the CloudWatch log stream Firehose writes S3 delivery errors to. */
export const DELIVERY_LOG_STREAM = "S3Delivery";

/**
 * The event archive: an S3 bucket (private, TLS only, encrypted, versioned, with lifecycle rules) fed by
 * a Firehose DirectPut stream that runs the transform Lambda, extracts partition keys with jq 1.6 and
 * writes newline-delimited JSON under Hive-style eventType / schemaVersion / date prefixes.
 *
 * Encryption is SSE-S3 (AES-256): Firehose, Athena and every reader work without key grants and without
 * KMS request costs. Use SSE-KMS with a customer key when you need key-level access control or audit.
 */
export class Archive extends pulumi.ComponentResource {
    public readonly bucket: aws.s3.Bucket;
    public readonly bucketName: pulumi.Output<string>;
    public readonly bucketArn: pulumi.Output<string>;
    public readonly deliveryStream: aws.kinesis.FirehoseDeliveryStream;
    public readonly deliveryStreamName: pulumi.Output<string>;
    public readonly deliveryStreamArn: pulumi.Output<string>;
    public readonly transform: HandlerFunction<FirehoseTransformationEvent, FirehoseTransformationResult>;
    public readonly firehoseRole: aws.iam.Role;
    /** The Firehose role's policy document (JSON), for inspection and tests. */
    public readonly firehosePolicyDocument: pulumi.Output<string>;
    /** The bucket policy (JSON). */
    public readonly bucketPolicyDocument: pulumi.Output<string>;
    /** The jq query Firehose runs. */
    public readonly partitionKeysQuery: pulumi.Output<string>;
    public readonly errorLogGroup: aws.cloudwatch.LogGroup;

    constructor(name: string, args: ArchiveArgs = {}, opts?: pulumi.ComponentResourceOptions) {
        checkKnownArgs(name, args);
        super("client-events:index:Archive", name, {}, opts);
        const logRetentionDays = args.logRetentionDays ?? 30;

        this.bucket = new aws.s3.Bucket(`${name}-bucket`, { forceDestroy: args.forceDestroy ?? false }, { parent: this });
        this.bucketName = this.bucket.bucket;
        this.bucketArn = this.bucket.arn;
        const bucketSettings = this.createBucketSettings(name);
        this.createLifecycle(name, args, bucketSettings.versioning);
        this.bucketPolicyDocument = this.bucket.arn.apply(tlsOnlyBucketPolicy);
        new aws.s3.BucketPolicy(
            `${name}-policy`,
            { bucket: this.bucket.id, policy: this.bucketPolicyDocument },
            { parent: this, dependsOn: [bucketSettings.publicAccess, bucketSettings.ownership] },
        );

        this.transform = this.createTransform(name, args.schemas, logRetentionDays);
        this.errorLogGroup = new aws.cloudwatch.LogGroup(`${name}-firehose-logs`, { retentionInDays: logRetentionDays }, { parent: this });
        const logStream = new aws.cloudwatch.LogStream(
            `${name}-firehose-delivery`,
            { logGroupName: this.errorLogGroup.name, name: DELIVERY_LOG_STREAM },
            { parent: this },
        );
        this.firehoseRole = this.createFirehoseRole(name);
        this.firehosePolicyDocument = this.firehosePolicy(logStream);
        const firehosePolicy = new aws.iam.RolePolicy(
            `${name}-firehose-policy`,
            { role: this.firehoseRole.id, policy: this.firehosePolicyDocument },
            { parent: this },
        );

        this.partitionKeysQuery = pulumi
            .output(args.partitioning ?? DEFAULT_PARTITIONING_POLICY)
            .apply((policy) => buildPartitionKeysQuery(policy as PartitioningPolicy));
        this.deliveryStream = this.createDeliveryStream(name, args, logStream, firehosePolicy);
        this.deliveryStreamName = this.deliveryStream.name;
        this.deliveryStreamArn = this.deliveryStream.arn;

        this.registerOutputs({
            bucket: this.bucket,
            bucketName: this.bucketName,
            bucketArn: this.bucketArn,
            deliveryStream: this.deliveryStream,
            deliveryStreamName: this.deliveryStreamName,
            deliveryStreamArn: this.deliveryStreamArn,
            transform: this.transform,
            firehoseRole: this.firehoseRole,
            firehosePolicyDocument: this.firehosePolicyDocument,
            bucketPolicyDocument: this.bucketPolicyDocument,
            partitionKeysQuery: this.partitionKeysQuery,
            errorLogGroup: this.errorLogGroup,
        });
    }

    /** The bucket's ownership (no ACLs), public access block, default encryption and versioning. */
    private createBucketSettings(name: string): {
        ownership: aws.s3.BucketOwnershipControls;
        publicAccess: aws.s3.BucketPublicAccessBlock;
        versioning: aws.s3.BucketVersioning;
    } {
        const ownership = new aws.s3.BucketOwnershipControls(
            `${name}-ownership`,
            {
                bucket: this.bucket.id,
                rule: { objectOwnership: "BucketOwnerEnforced" }, // ACLs off: the bucket policy alone decides access.
            },
            { parent: this },
        );
        const publicAccess = new aws.s3.BucketPublicAccessBlock(
            `${name}-public-access`,
            {
                bucket: this.bucket.id,
                blockPublicAcls: true,
                blockPublicPolicy: true,
                ignorePublicAcls: true,
                restrictPublicBuckets: true,
            },
            { parent: this },
        );
        new aws.s3.BucketServerSideEncryptionConfiguration(
            `${name}-encryption`,
            {
                bucket: this.bucket.id,
                rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "AES256" } }],
            },
            { parent: this },
        );
        // Versioning: Firehose never overwrites (every object name is unique), so versions only appear
        // when someone deletes or overwrites an event file; they are kept for noncurrentVersionExpirationDays.
        const versioning = new aws.s3.BucketVersioning(
            `${name}-versioning`,
            {
                bucket: this.bucket.id,
                versioningConfiguration: { status: "Enabled" },
            },
            { parent: this },
        );
        return { ownership, publicAccess, versioning };
    }

    /** The lifecycle rules: transition, expiration, previous versions, unfinished uploads. */
    private createLifecycle(name: string, args: ArchiveArgs, versioning: aws.s3.BucketVersioning): void {
        const rules = pulumi
            .all([
                args.transitionDays ?? 30,
                args.transitionStorageClass ?? "STANDARD_IA",
                args.expirationDays ?? 365,
                args.noncurrentVersionExpirationDays ?? 30,
                args.abortIncompleteUploadDays ?? 7,
            ])
            .apply(([transitionDays, storageClass, expirationDays, noncurrentDays, abortDays]) => {
                if (!lifecycleKnown(args)) validateLifecycle(transitionDays, storageClass, expirationDays);
                return lifecycleRules({ transitionDays, storageClass, expirationDays, noncurrentDays, abortDays });
            });
        new aws.s3.BucketLifecycleConfiguration(
            `${name}-lifecycle`,
            { bucket: this.bucket.id, rules },
            { parent: this, dependsOn: [versioning] },
        );
    }

    /** The transform Lambda Firehose runs on every batch. */
    private createTransform(name: string, schemas: SchemaPolicy | undefined, logRetentionDays: pulumi.Input<number>): Archive["transform"] {
        return new HandlerFunction(
            `${name}-enrich`,
            {
                // A factory, so the validators are set up once per cold start rather than on every invocation.
                callbackFactory: () => createTransformHandler({ schemas }),
                description: "Firehose transform: clientId from resources[0] into detail.accountNumber",
                // Firehose waits up to the function timeout per batch; a 1 MiB batch takes milliseconds.
                timeout: 60,
                memorySize: 256,
                logRetentionDays,
            },
            { parent: this },
        );
    }

    /** The role Firehose assumes, for this account only (the confused-deputy guard). */
    private createFirehoseRole(name: string): aws.iam.Role {
        const account = aws.getCallerIdentityOutput({}, { parent: this }).accountId;
        return new aws.iam.Role(
            `${name}-firehose-role`,
            {
                assumeRolePolicy: account.apply((accountId) =>
                    JSON.stringify({
                        Version: "2012-10-17",
                        Statement: [
                            {
                                Effect: "Allow",
                                Principal: { Service: "firehose.amazonaws.com" },
                                Action: "sts:AssumeRole",
                                Condition: { StringEquals: { "sts:ExternalId": accountId } },
                            },
                        ],
                    }),
                ),
            },
            { parent: this },
        );
    }

    /** The Firehose role's policy (JSON): write this bucket, invoke the transform, write delivery errors. */
    private firehosePolicy(logStream: aws.cloudwatch.LogStream): pulumi.Output<string> {
        return pulumi
            .all([this.bucket.arn, this.transform.function.arn, this.errorLogGroup.arn, logStream.name])
            .apply(([bucketArn, functionArn, logGroupArn, streamName]): PolicyStatement[] => [
                {
                    Sid: "WriteArchiveBucket",
                    Effect: "Allow",
                    Action: [
                        "s3:AbortMultipartUpload",
                        "s3:GetBucketLocation",
                        "s3:GetObject",
                        "s3:ListBucket",
                        "s3:ListBucketMultipartUploads",
                        "s3:PutObject",
                    ],
                    Resource: [bucketArn, `${bucketArn}/*`],
                },
                {
                    Sid: "InvokeTransform",
                    Effect: "Allow",
                    Action: ["lambda:InvokeFunction", "lambda:GetFunctionConfiguration"],
                    Resource: [functionArn, `${functionArn}:*`],
                },
                {
                    Sid: "WriteDeliveryErrors",
                    Effect: "Allow",
                    Action: ["logs:PutLogEvents"],
                    Resource: [`${logGroupArn}:log-stream:${streamName}`],
                },
            ])
            .apply((Statement) => JSON.stringify({ Version: "2012-10-17", Statement }));
    }

    /** The DirectPut stream: buffering, compression, the transform, jq partition keys, delimiters, error logs. */
    private createDeliveryStream(
        name: string,
        args: ArchiveArgs,
        logStream: aws.cloudwatch.LogStream,
        firehosePolicy: aws.iam.RolePolicy,
    ): aws.kinesis.FirehoseDeliveryStream {
        const compression = args.compression ?? "UNCOMPRESSED";
        return new aws.kinesis.FirehoseDeliveryStream(
            `${name}-stream`,
            {
                destination: "extended_s3",
                serverSideEncryption: { enabled: true, keyType: "AWS_OWNED_CMK" },
                extendedS3Configuration: {
                    roleArn: this.firehoseRole.arn,
                    bucketArn: this.bucket.arn,
                    prefix: S3_PREFIX,
                    errorOutputPrefix: S3_ERROR_PREFIX,
                    bufferingSize: pulumi
                        .output(args.bufferingSizeMiB ?? BUFFERING.defaultSizeMiB)
                        .apply((v) => (isKnown(args.bufferingSizeMiB) ? v : checkBufferingSize(name, v))),
                    bufferingInterval: pulumi
                        .output(args.bufferingIntervalSeconds ?? BUFFERING.defaultIntervalSeconds)
                        .apply((v) => (isKnown(args.bufferingIntervalSeconds) ? v : checkBufferingInterval(name, v))),
                    compressionFormat: compression,
                    // Set, not left to Firehose's default: Athena and DuckDB decompress by the object's extension.
                    fileExtension: pulumi.output(compression).apply((c) => COMPRESSION_EXTENSIONS[c] || undefined),
                    dynamicPartitioningConfiguration: { enabled: true, retryDuration: 300 },
                    cloudwatchLoggingOptions: { enabled: true, logGroupName: this.errorLogGroup.name, logStreamName: logStream.name },
                    processingConfiguration: { enabled: true, processors: this.processors() },
                },
            },
            { parent: this, dependsOn: [firehosePolicy] },
        );
    }

    /** Firehose's processors, in order: the transform Lambda, jq partition-key extraction, a newline after each record. */
    private processors(): aws.types.input.kinesis.FirehoseDeliveryStreamExtendedS3ConfigurationProcessingConfigurationProcessor[] {
        // No RecordDeAggregation: EventBridge puts one event per Firehose record.
        return [
            {
                type: "Lambda",
                parameters: [
                    { parameterName: "LambdaArn", parameterValue: pulumi.interpolate`${this.transform.function.arn}:$LATEST` },
                    { parameterName: "BufferSizeInMBs", parameterValue: String(TRANSFORM_INVOCATION.bufferSizeMiB) },
                    { parameterName: "BufferIntervalInSeconds", parameterValue: String(TRANSFORM_INVOCATION.bufferIntervalSeconds) },
                    { parameterName: "NumberOfRetries", parameterValue: String(TRANSFORM_INVOCATION.numberOfRetries) },
                ],
            },
            {
                type: "MetadataExtraction",
                parameters: [
                    { parameterName: "MetadataExtractionQuery", parameterValue: this.partitionKeysQuery },
                    { parameterName: "JsonParsingEngine", parameterValue: JSON_PARSING_ENGINE },
                ],
            },
            {
                type: "AppendDelimiterToRecord",
                parameters: [{ parameterName: "Delimiter", parameterValue: RECORD_DELIMITER_PARAMETER }],
            },
        ];
    }
}

/**
 * Each value is checked once: a plain value before anything is created, a value known only at deployment
 * when it resolves (in createLifecycle and createDeliveryStream).
 */
function checkKnownArgs(name: string, args: ArchiveArgs): void {
    if (isKnown(args.bufferingSizeMiB)) checkBufferingSize(name, (args.bufferingSizeMiB ?? BUFFERING.defaultSizeMiB) as number);
    if (isKnown(args.bufferingIntervalSeconds)) {
        checkBufferingInterval(name, (args.bufferingIntervalSeconds ?? BUFFERING.defaultIntervalSeconds) as number);
    }
    if (lifecycleKnown(args)) {
        validateLifecycle(
            (args.transitionDays ?? 30) as number,
            (args.transitionStorageClass ?? "STANDARD_IA") as string,
            (args.expirationDays ?? 365) as number,
        );
    }
}

/** The bucket's lifecycle rules for resolved settings (0 days: no transition, or no expiration). */
function lifecycleRules(days: {
    transitionDays: number;
    storageClass: string;
    expirationDays: number;
    noncurrentDays: number;
    abortDays: number;
}): aws.types.input.s3.BucketLifecycleConfigurationRule[] {
    const rules: aws.types.input.s3.BucketLifecycleConfigurationRule[] = [
        {
            id: "abort-incomplete-uploads",
            status: "Enabled",
            filter: {},
            abortIncompleteMultipartUpload: { daysAfterInitiation: days.abortDays },
        },
        {
            id: "expire-previous-versions",
            status: "Enabled",
            filter: {},
            noncurrentVersionExpiration: { noncurrentDays: days.noncurrentDays },
            expiration: days.expirationDays > 0 ? undefined : { expiredObjectDeleteMarker: true },
        },
    ];
    if (days.transitionDays > 0) {
        rules.push({
            id: "transition-events",
            status: "Enabled",
            filter: {},
            transitions: [{ days: days.transitionDays, storageClass: days.storageClass }],
        });
    }
    if (days.expirationDays > 0) {
        rules.push({ id: "expire-events", status: "Enabled", filter: {}, expiration: { days: days.expirationDays } });
    }
    return rules;
}

/** Whether an argument is known now: unset (its default applies) or a plain value, not an Output or a promise. */
function isKnown(value: unknown): boolean {
    return value === undefined || (!pulumi.Output.isInstance(value) && !(value instanceof Promise));
}

/** The lifecycle rules depend on each other, so they are checked together once all three are known. */
function lifecycleKnown(args: ArchiveArgs): boolean {
    return [args.transitionDays, args.transitionStorageClass, args.expirationDays].every(isKnown);
}

function checkBufferingSize(name: string, size: number): number {
    if (!Number.isInteger(size) || size < BUFFERING.minSizeMiB || size > BUFFERING.maxSizeMiB) {
        throw new Error(
            `Archive ${name}: bufferingSizeMiB must be a whole number from ${BUFFERING.minSizeMiB} to ${BUFFERING.maxSizeMiB} (Firehose rejects less than 64 with dynamic partitioning), got ${size}`,
        );
    }
    return size;
}

function checkBufferingInterval(name: string, seconds: number): number {
    if (!Number.isInteger(seconds) || seconds < BUFFERING.minIntervalSeconds || seconds > BUFFERING.maxIntervalSeconds) {
        throw new Error(
            `Archive ${name}: bufferingIntervalSeconds must be a whole number from ${BUFFERING.minIntervalSeconds} to ${BUFFERING.maxIntervalSeconds}, got ${seconds}`,
        );
    }
    return seconds;
}
