/**
 * Firehose transform: moves the clientId that the ingest API put in `resources[0]` into
 * `detail.accountNumber` and clears `resources`. Records it cannot use are returned as
 * `ProcessingFailed` (Firehose then writes them, unchanged, under the `processing-failed` error
 * prefix); no record is ever dropped, and every recordId comes back exactly once.
 */
import type {
    FirehoseTransformationEvent,
    FirehoseTransformationResult,
    FirehoseTransformationResultRecord,
} from "aws-lambda";

/** Why a record could not be transformed (logged; the record itself goes to the error prefix). */
export type RejectReason = "not-json" | "not-an-event" | "no-detail" | "no-client-id";

export type TransformOutcome =
    | { ok: true; event: Record<string, unknown> }
    | { ok: false; reason: RejectReason };

function isObject(value: unknown): value is Record<string, unknown> {
    return value !== null && typeof value === "object" && !Array.isArray(value);
}

/**
 * Transforms one EventBridge event (already parsed). The clientId set by the API always wins over an
 * `accountNumber` the client put in its own event, so a client cannot pose as another account.
 */
export function transformEvent(event: unknown): TransformOutcome {
    if (!isObject(event)) return { ok: false, reason: "not-an-event" };
    const detail = event.detail;
    if (!isObject(detail)) return { ok: false, reason: "no-detail" };
    const resources = event.resources;
    const clientId = Array.isArray(resources) ? resources[0] : undefined;
    if (typeof clientId !== "string" || clientId === "") return { ok: false, reason: "no-client-id" };
    return { ok: true, event: { ...event, resources: [], detail: { ...detail, accountNumber: clientId } } };
}

/** Transforms one record's base64 data into the output record (base64 JSON, no trailing newline). */
export function transformRecord(recordId: string, data: string): FirehoseTransformationResultRecord & { reason?: RejectReason } {
    let parsed: unknown;
    try {
        parsed = JSON.parse(Buffer.from(data, "base64").toString("utf8"));
    } catch {
        return { recordId, result: "ProcessingFailed", data, reason: "not-json" };
    }
    const outcome = transformEvent(parsed);
    if (!outcome.ok) return { recordId, result: "ProcessingFailed", data, reason: outcome.reason };
    return { recordId, result: "Ok", data: Buffer.from(JSON.stringify(outcome.event), "utf8").toString("base64") };
}

/** Transforms a Firehose batch; the returned records keep the batch's order and recordIds. */
export function transformBatch(event: FirehoseTransformationEvent): FirehoseTransformationResult & { rejected: Partial<Record<RejectReason, number>> } {
    const rejected: Partial<Record<RejectReason, number>> = {};
    const records = event.records.map((record) => {
        const { reason, ...out } = transformRecord(record.recordId, record.data);
        if (reason) rejected[reason] = (rejected[reason] ?? 0) + 1;
        return out;
    });
    return { records, rejected };
}

/** The Lambda handler Firehose invokes. */
export const handler = async (event: FirehoseTransformationEvent): Promise<FirehoseTransformationResult> => {
    const { records, rejected } = transformBatch(event);
    const failed = Object.values(rejected).reduce((sum, n) => sum + (n ?? 0), 0);
    if (failed > 0) {
        // Counts only: record contents are client data and stay out of the logs.
        console.warn(JSON.stringify({ message: "records sent to the processing-failed prefix", failed, total: records.length, rejected }));
    }
    return { records };
};
