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
 */
import type {
    FirehoseTransformationEvent,
    FirehoseTransformationResult,
    FirehoseTransformationResultRecord,
} from "aws-lambda";
import { TRANSFORM_REJECTS, type TransformRejectReason } from "../pipeline/metrics";

/**
 * Why a record could not be transformed (counted in the reject metric; the record itself goes to the
 * error prefix). The list of reasons lives in pipeline/metrics.ts, where the dashboard reads it.
 */
export type RejectReason = TransformRejectReason;

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

function isSpace(c: number): boolean {
    return c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d;
}

function skipSpace(text: string, i: number): number {
    while (i < text.length && isSpace(text.charCodeAt(i))) i++;
    return i;
}

/** End (exclusive) of the JSON string starting at `i` (the opening quote). */
function stringEnd(text: string, i: number): number {
    for (let j = i + 1; j < text.length; j++) {
        const c = text[j];
        if (c === "\\") j++;
        else if (c === '"') return j + 1;
    }
    throw new Error("unterminated string");
}

/**
 * The JSON value starting at `i` of a text already known to be valid JSON, with whitespace outside
 * strings removed, and where it ends. Iterative, so nesting depth does not matter.
 */
function compactValue(text: string, i: number): { value: string; end: number } {
    const first = text[i];
    if (first === '"') {
        const end = stringEnd(text, i);
        return { value: text.slice(i, end), end };
    }
    if (first !== "{" && first !== "[") {
        let end = i;
        while (end < text.length && !isSpace(text.charCodeAt(end)) && !",]}".includes(text[end])) end++;
        return { value: text.slice(i, end), end };
    }
    let out = "";
    let depth = 0;
    let j = i;
    do {
        const c = text[j];
        if (c === '"') {
            const end = stringEnd(text, j);
            out += text.slice(j, end);
            j = end;
            continue;
        }
        if (c === "{" || c === "[") depth++;
        else if (c === "}" || c === "]") depth--;
        if (!isSpace(text.charCodeAt(j))) out += c;
        j++;
    } while (depth > 0);
    return { value: out, end: j };
}

/**
 * The members of the JSON object text (valid JSON), in order, as key -> compact value text. A duplicate
 * key keeps its first position and its last value, as JSON.parse does.
 */
function objectMembers(text: string): Map<string, string> {
    const members = new Map<string, string>();
    let i = skipSpace(text, 0) + 1; // past "{"
    for (;;) {
        i = skipSpace(text, i);
        if (text[i] === "}") return members;
        if (text[i] === ",") i = skipSpace(text, i + 1);
        const keyEnd = stringEnd(text, i);
        const key = JSON.parse(text.slice(i, keyEnd)) as string;
        i = skipSpace(text, keyEnd) + 1; // past ":"
        const { value, end } = compactValue(text, skipSpace(text, i));
        members.set(key, value);
        i = end;
    }
}

/** A JSON text (valid JSON) with the whitespace outside strings removed; numbers and strings kept exactly. */
export function compactJson(text: string): string {
    return compactValue(text, skipSpace(text, 0)).value;
}

function objectText(members: Map<string, string>): string {
    return `{${[...members].map(([key, value]) => `${JSON.stringify(key)}:${value}`).join(",")}}`;
}

/**
 * The transformed event as text: `resources` emptied, `detail.accountNumber` set to the clientId, and
 * every other value exactly as the record holds it.
 */
export function transformText(text: string): { ok: true; text: string } | { ok: false; reason: RejectReason } {
    let parsed: unknown;
    try {
        parsed = JSON.parse(text);
    } catch {
        return { ok: false, reason: "not-json" };
    }
    const outcome = transformEvent(parsed);
    if (!outcome.ok) return outcome;
    const clientId = (outcome.event.detail as Record<string, unknown>).accountNumber as string;
    const event = objectMembers(text);
    const detail = objectMembers(event.get("detail") as string);
    detail.set("accountNumber", JSON.stringify(clientId));
    event.set("resources", "[]");
    event.set("detail", objectText(detail));
    return { ok: true, text: objectText(event) };
}

/** Transforms one record's base64 data into the output record (base64 JSON, no trailing newline). */
export function transformRecord(recordId: string, data: string): FirehoseTransformationResultRecord & { reason?: RejectReason } {
    let text: string;
    try {
        // Strict UTF-8: bytes that are not UTF-8 are kept as they are (error prefix), never replaced by U+FFFD.
        text = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(Buffer.from(data, "base64"));
    } catch {
        return { recordId, result: "ProcessingFailed", data, reason: "not-json" };
    }
    let outcome: ReturnType<typeof transformText>;
    try {
        outcome = transformText(text);
    } catch {
        // Never fail the whole invocation (Firehose would retry, then fail every record of the batch).
        outcome = { ok: false, reason: "transform-error" };
    }
    if (!outcome.ok) return { recordId, result: "ProcessingFailed", data, reason: outcome.reason };
    return { recordId, result: "Ok", data: Buffer.from(outcome.text, "utf8").toString("base64") };
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

/**
 * The batch's rejects as CloudWatch Embedded Metric Format log lines: one per reason, each publishing
 * TransformRejectedRecords twice, under [DeliveryStreamName] (the total an alarm watches) and under
 * [DeliveryStreamName, Reason] (the dashboard's breakdown). The stream's name comes from its ARN
 * (`arn:aws:firehose:<region>:<account>:deliverystream/<name>`). Counts only: records are client data.
 */
export function rejectMetricLines(rejected: Partial<Record<RejectReason, number>>, deliveryStreamArn: string | undefined, timestamp: number, batchRecords: number): string[] {
    const { namespace, metricName, unit, streamDimension, reasonDimension } = TRANSFORM_REJECTS;
    const stream = /:deliverystream\/([^/]+)$/.exec(deliveryStreamArn ?? "")?.[1] ?? "unknown";
    return Object.entries(rejected).filter(([, count]) => count).map(([reason, count]) => JSON.stringify({
        message: "records sent to the processing-failed prefix",
        batchRecords,
        [streamDimension]: stream,
        [reasonDimension]: reason,
        [metricName]: count,
        _aws: {
            Timestamp: timestamp,
            CloudWatchMetrics: [{ Namespace: namespace, Dimensions: [[streamDimension], [streamDimension, reasonDimension]], Metrics: [{ Name: metricName, Unit: unit }] }],
        },
    }));
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

/** A Firehose transform handler that reports its rejects as EMF lines through `writeLine`. */
export function createTransformHandler(writeLine: (line: string) => void = defaultWriteLine): (event: FirehoseTransformationEvent) => Promise<FirehoseTransformationResult> {
    return async (event) => {
        const { records, rejected } = transformBatch(event);
        for (const line of rejectMetricLines(rejected, event.deliveryStreamArn, Date.now(), records.length)) writeLine(line);
        return { records };
    };
}

/** The Lambda handler Firehose invokes. */
export const handler = createTransformHandler();
