// The local Firehose stream the benches write with: the archive's prefixes, query and delimiter, a buffer that
// never delivers on its own (the bench flushes), and the real transform with no retries.
import { handler } from "../../handlers/firehose-transform";
import type { FirehoseSettings } from "../../local/firehose";
import { PARTITION_KEYS_JQ_QUERY, RECORD_DELIMITER, S3_ERROR_PREFIX, S3_PREFIX } from "../../pipeline/partitioning";

export function benchStreamSettings(s3Dir: string): FirehoseSettings {
    return {
        streamName: "bench",
        streamArn: "arn:aws:firehose:us-east-1:000000000000:deliverystream/bench",
        region: "us-east-1",
        bucketName: "bench",
        s3Dir,
        prefix: S3_PREFIX,
        errorPrefix: S3_ERROR_PREFIX,
        bufferIntervalSeconds: 600,
        bufferSizeBytes: 128 * 1024 * 1024,
        transform: {
            handler,
            lambdaArn: "arn:aws:lambda:us-east-1:000000000000:function:bench",
            batchBytes: 1024 * 1024,
            numberOfRetries: 0,
        },
        metadataExtractionQuery: PARTITION_KEYS_JQ_QUERY,
        delimiter: RECORD_DELIMITER,
    };
}
