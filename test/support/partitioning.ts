/**
 * Test references for the partitioning policy of pipeline/partitioning.ts: the policy read in TypeScript,
 * which the tests prove agrees with the query run by jq 1.6 on every sample, and the full object key of a
 * record. Nothing deployed or emulated uses them (local mode runs the query itself).
 */
import {
    DEFAULT_PARTITIONING_POLICY,
    EVENT_TYPE_MAX_LENGTH,
    EVENT_TYPE_NAME,
    INVALID_PARTITION,
    OTHER_PARTITION,
    S3_PREFIX,
    type PartitionKeys,
    type PartitioningPolicy,
} from "../../pipeline/partitioning";
import { objectNameSuffix, resolvePrefix } from "../../local/firehose-prefix";

/** The partition keys the policy gives a record, read in TypeScript (the jq query's reference). */
export function partitionKeysFor(record: unknown, policy: PartitioningPolicy = DEFAULT_PARTITIONING_POLICY): PartitionKeys {
    const detail =
        record !== null && typeof record === "object" && !Array.isArray(record) ? (record as Record<string, unknown>).detail : undefined;
    const fields = detail !== null && typeof detail === "object" && !Array.isArray(detail) ? (detail as Record<string, unknown>) : {};
    const type = fields.eventType;
    const version = fields.schemaVersion;
    let eventType = INVALID_PARTITION;
    if (typeof type === "string" && [...type].length <= EVENT_TYPE_MAX_LENGTH && EVENT_TYPE_NAME.test(type)) {
        eventType = policy.eventTypes.includes(type) ? type : OTHER_PARTITION;
    }
    let schemaVersion = INVALID_PARTITION;
    if (typeof version === "number" && Number.isFinite(version) && version >= 0 && Number.isInteger(version)) {
        schemaVersion = version <= policy.maxSchemaVersion ? String(version) : OTHER_PARTITION;
    } else if (version === Infinity) {
        // A number too large for a double (1e400): jq 1.6 reads it as the largest double, a whole number.
        schemaVersion = OTHER_PARTITION;
    }
    return { eventType, schemaVersion };
}

/** A full object key for a record: the resolved prefix plus Firehose's object name. */
export function objectKeyFor(keys: PartitionKeys, streamName: string, timestamp: Date, uuid: string, extension = ""): string {
    return resolvePrefix(S3_PREFIX, { partitionKeys: { ...keys }, timestamp }) + objectNameSuffix(streamName, timestamp, uuid, extension);
}
