/**
 * Firehose transform: moves the clientId that the ingest API put in `resources[0]` into
 * `detail.accountNumber` and clears `resources`. Records it cannot use are returned as
 * `ProcessingFailed` (Firehose then writes them, unchanged, under the `processing-failed` error
 * prefix); no record is ever dropped, and every recordId comes back exactly once.
 *
 * The output is built from the record's own text, not from JSON.stringify of a parsed copy: JavaScript
 * numbers would turn 12345678901234567890 into 12345678901234567000 and 1e400 into null, and
 * JSON.stringify overflows the stack on deeply nested values (which would fail the whole invocation).
 * Only the top level of the event and of `detail` are rebuilt; every other value is copied as sent,
 * with whitespace outside strings removed so a record stays on one line.
 *
 * With a schema policy (`createTransformHandler({ schemas })`), an event whose eventType and schemaVersion
 * have a schema is checked against it (compiled ahead of time, see schemas/compile.ts) before accountNumber
 * is added; one that breaks it is ProcessingFailed too. Firehose's error record cannot carry our reason (it
 * writes its own errorCode `Lambda.ProcessingFailedStatus`), so the handler logs the reason of the first few
 * rejected records with EventBridge's event id (also in the error record's rawData);
 * `npm run cli -- validate-event` recomputes it from an error record.
 */
import { isUtf8 } from "buffer";
import type { FirehoseTransformationEvent, FirehoseTransformationResult, FirehoseTransformationResultRecord } from "aws-lambda";
import { TRANSFORM_REJECTS, type TransformRejectReason } from "../pipeline/metrics";
import { checkEvent, type SchemaPolicy } from "../pipeline/schemas";
import { textTools, type TextTools } from "../pipeline/json-text";
import { isJsonObject } from "../pipeline/json-value";

/**
 * Why a record could not be transformed (counted in the reject metric; the record itself goes to the
 * error prefix). The list of reasons lives in pipeline/metrics.ts, where the dashboard reads it.
 */
export type RejectReason = TransformRejectReason;

export type TransformOutcome = { ok: true; event: Record<string, unknown> } | { ok: false; reason: RejectReason };

/** The clientId of one EventBridge event (already parsed): its `resources[0]`, or why it has none usable. */
export function clientIdOf(event: unknown): { ok: true; clientId: string } | { ok: false; reason: RejectReason } {
    if (!isJsonObject(event)) return { ok: false, reason: "not-an-event" };
    if (!isJsonObject(event.detail)) return { ok: false, reason: "no-detail" };
    const resources = event.resources;
    const clientId = Array.isArray(resources) ? resources[0] : undefined;
    if (typeof clientId !== "string" || clientId === "") return { ok: false, reason: "no-client-id" };
    return { ok: true, clientId };
}

/**
 * Transforms one EventBridge event (already parsed). The clientId set by the API always wins over an
 * `accountNumber` the client put in its own event, so a client cannot pose as another account.
 */
export function transformEvent(event: unknown): TransformOutcome {
    const found = clientIdOf(event);
    if (!found.ok) return found;
    const parsed = event as Record<string, unknown>;
    return {
        ok: true,
        event: { ...parsed, resources: [], detail: { ...(parsed.detail as Record<string, unknown>), accountNumber: found.clientId } },
    };
}

function objectText(members: Map<string, string>): string {
    return `{${[...members].map(([key, value]) => `${JSON.stringify(key)}:${value}`).join(",")}}`;
}

/** transformText's output for an event whose text repeats a key (rare): through a map of the members. */
function transformWithDuplicateKeys(text: string, clientId: string, tools: TextTools): string {
    const event = tools.objectMembers(text);
    const detail = tools.objectMembers(event.get("detail") as string);
    detail.set("accountNumber", JSON.stringify(clientId));
    event.set("resources", "[]");
    event.set("detail", objectText(detail));
    return objectText(event);
}

/** Why transformText refused a record: the reason, and for a schema violation its description and the event's bus id. */
export type TextRejection = { ok: false; reason: RejectReason; message?: string; busEventId?: string };

/** The schema verdict on a parsed event (checked as the client sent it, before accountNumber is added). */
function schemaRejection(schemas: SchemaPolicy | undefined, event: Record<string, unknown>): TextRejection | undefined {
    const verdict = schemas ? checkEvent(schemas, event.detail) : undefined;
    if (!verdict || verdict.ok) return undefined;
    return { ...verdict, ...(typeof event.id === "string" ? { busEventId: event.id.slice(0, 64) } : {}) };
}

/**
 * The transformed event as text: `resources` emptied, `detail.accountNumber` set to the clientId, and
 * every other value exactly as the record holds it.
 */
export function transformText(
    text: string,
    schemas?: SchemaPolicy,
    tools: TextTools = textTools(),
): { ok: true; text: string } | TextRejection {
    let parsed: unknown;
    try {
        parsed = JSON.parse(text);
    } catch {
        return { ok: false, reason: "not-json" };
    }
    // The rules on the parsed event; the output is then built from the text (see the top of this file).
    const found = clientIdOf(parsed);
    if (!found.ok) return found;
    const clientId = found.clientId;
    const event = parsed as Record<string, unknown>;
    const rejection = schemaRejection(schemas, event);
    if (rejection) return rejection;
    return { ok: true, text: tools.transformInOnePass(text, event, clientId) ?? transformWithDuplicateKeys(text, clientId, tools) };
}

/** A transformed record, with why it was rejected (kept out of the answer to Firehose). */
export type TransformedRecord = FirehoseTransformationResultRecord & { reason?: RejectReason; message?: string; busEventId?: string };

/** Transforms one record's base64 data into the output record (base64 JSON, no trailing newline). */
export function transformRecord(recordId: string, data: string, schemas?: SchemaPolicy, tools: TextTools = textTools()): TransformedRecord {
    // Strict UTF-8: bytes that are not UTF-8 are kept as they are (error prefix), never replaced by U+FFFD.
    const bytes = Buffer.from(data, "base64");
    if (!isUtf8(bytes)) return { recordId, result: "ProcessingFailed", data, reason: "not-json" };
    const text = bytes.toString("utf8");
    let outcome: ReturnType<typeof transformText>;
    try {
        outcome = transformText(text, schemas, tools);
    } catch {
        // Never fail the whole invocation (Firehose would retry, then fail every record of the batch).
        outcome = { ok: false, reason: "transform-error" };
    }
    if (!outcome.ok) {
        const { reason, message, busEventId } = outcome;
        return {
            recordId,
            result: "ProcessingFailed",
            data,
            reason,
            ...(message ? { message } : {}),
            ...(busEventId ? { busEventId } : {}),
        };
    }
    return { recordId, result: "Ok", data: Buffer.from(outcome.text, "utf8").toString("base64") };
}

/** A rejected record's reason, as logged. The error record's rawData holds the same EventBridge `id`. */
export interface RejectionExample {
    recordId: string;
    arrivalTimestamp: number;
    /** EventBridge's id of the event (set by AWS, not by the client): finds the record in the error output. */
    busEventId?: string;
    reason: RejectReason;
    /** Why, for schema rejections: type, version, JSON pointer and keyword (no values). */
    message?: string;
}

/** How many rejected records per invocation the log names one by one (the counts cover them all). */
export const LOGGED_REJECTIONS = 5;

/** Transforms a Firehose batch; the returned records keep the batch's order and recordIds. */
export function transformBatch(
    event: FirehoseTransformationEvent,
    schemas?: SchemaPolicy,
): FirehoseTransformationResult & {
    rejected: Partial<Record<RejectReason, number>>;
    examples: RejectionExample[];
} {
    const rejected: Partial<Record<RejectReason, number>> = {};
    const examples: RejectionExample[] = [];
    const tools = textTools();
    const records = event.records.map((record) => {
        const { reason, message, busEventId, ...out } = transformRecord(record.recordId, record.data, schemas, tools);
        if (reason) {
            rejected[reason] = (rejected[reason] ?? 0) + 1;
            if (message && examples.length < LOGGED_REJECTIONS) {
                examples.push({
                    recordId: record.recordId,
                    arrivalTimestamp: record.approximateArrivalTimestamp,
                    ...(busEventId ? { busEventId } : {}),
                    reason,
                    message,
                });
            }
        }
        return out;
    });
    return { records, rejected, examples };
}

/**
 * The batch's rejects as CloudWatch Embedded Metric Format log lines: one per reason, each publishing
 * TransformRejectedRecords twice, under [DeliveryStreamName] (the total an alarm watches) and under
 * [DeliveryStreamName, Reason] (the dashboard's breakdown). The stream's name comes from its ARN
 * (`arn:aws:firehose:<region>:<account>:deliverystream/<name>`). Counts only: records are client data.
 */
export function rejectMetricLines(
    rejected: Partial<Record<RejectReason, number>>,
    deliveryStreamArn: string | undefined,
    timestamp: number,
    batchRecords: number,
): string[] {
    const { namespace, metricName, unit, streamDimension, reasonDimension } = TRANSFORM_REJECTS;
    const stream = /:deliverystream\/([^/]+)$/.exec(deliveryStreamArn ?? "")?.[1] ?? "unknown";
    return Object.entries(rejected)
        .filter(([, count]) => count)
        .map(([reason, count]) =>
            JSON.stringify({
                message: "records sent to the processing-failed prefix",
                batchRecords,
                [streamDimension]: stream,
                [reasonDimension]: reason,
                [metricName]: count,
                _aws: {
                    Timestamp: timestamp,
                    CloudWatchMetrics: [
                        {
                            Namespace: namespace,
                            Dimensions: [[streamDimension], [streamDimension, reasonDimension]],
                            Metrics: [{ Name: metricName, Unit: unit }],
                        },
                    ],
                },
            }),
        );
}

/**
 * Where the EMF lines go by default. In Lambda: straight to stdout, not console.log: with the Lambda JSON
 * log format the runtime wraps console output in a JSON object of its own ({"timestamp", "level",
 * "requestId", "message"}), and CloudWatch extracts EMF only from a log event that is itself the EMF
 * object; direct stdout writes reach the log unchanged. Elsewhere (local mode, tests): console.warn,
 * which local mode shows as the function's log.
 */
export function defaultWriteLine(line: string): void {
    if (process.env.AWS_LAMBDA_FUNCTION_NAME) process.stdout.write(`${line}\n`);
    else console.warn(line);
}

export interface TransformHandlerOptions {
    /** Compiled validators and the policy applying them (the Archive component passes the configured ones); none: no schema checks. */
    schemas?: SchemaPolicy;
    /** Where the EMF and rejection lines go (default `defaultWriteLine`). */
    writeLine?: (line: string) => void;
}

/**
 * A Firehose transform handler. It reports its rejects as EMF lines and, for schema rejections, names the first
 * few (type, version, pointer and keyword: record contents are client data and stay out of the logs).
 */
export function createTransformHandler(
    options: TransformHandlerOptions = {},
): (event: FirehoseTransformationEvent) => Promise<FirehoseTransformationResult> {
    const { schemas, writeLine = defaultWriteLine } = options;
    return async (event) => {
        const { records, rejected, examples } = transformBatch(event, schemas);
        for (const line of rejectMetricLines(rejected, event.deliveryStreamArn, Date.now(), records.length)) writeLine(line);
        if (examples.length > 0) writeLine(JSON.stringify({ message: "schema rejections (the first of the batch)", examples }));
        return { records };
    };
}

/** The Lambda handler Firehose invokes, without schema checks. */
export const handler = createTransformHandler();
