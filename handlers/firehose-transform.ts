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

/**
 * Why a record could not be transformed (counted in the reject metric; the record itself goes to the
 * error prefix). The list of reasons lives in pipeline/metrics.ts, where the dashboard reads it.
 */
export type RejectReason = TransformRejectReason;

export type TransformOutcome = { ok: true; event: Record<string, unknown> } | { ok: false; reason: RejectReason };

function isObject(value: unknown): value is Record<string, unknown> {
    return value !== null && typeof value === "object" && !Array.isArray(value);
}

/** The clientId of one EventBridge event (already parsed): its `resources[0]`, or why it has none usable. */
export function clientIdOf(event: unknown): { ok: true; clientId: string } | { ok: false; reason: RejectReason } {
    if (!isObject(event)) return { ok: false, reason: "not-an-event" };
    if (!isObject(event.detail)) return { ok: false, reason: "no-detail" };
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

/** The text-rebuilding functions transformText uses; `textTools()` makes them. */
export interface TextTools {
    /** The transformed text in one pass, or undefined when a key repeats (transformWithDuplicateKeys handles it). */
    transformInOnePass(text: string, event: Record<string, unknown>, clientId: string): string | undefined;
    /** The members of a JSON object text, in order, as key -> compact value text (JSON.parse's view of repeats). */
    objectMembers(text: string): Map<string, string>;
    compactJson(text: string): string;
}

/**
 * Makes the text-rebuilding functions. They are closures made at run time, not module-level functions, because
 * Pulumi packs every module-level function the handler reaches into a wrapper that costs about 0.1 us a call (a
 * new scope object and closure each time), which per character of a record was 15 times the work itself;
 * functions made inside a packed function run as written. transformBatch makes them once per batch.
 */
export function textTools(): TextTools {
    function isSpace(c: number): boolean {
        return c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d;
    }

    function skipSpace(text: string, i: number): number {
        while (i < text.length && isSpace(text.charCodeAt(i))) i++;
        return i;
    }

    const QUOTE = 0x22;
    const BACKSLASH = 0x5c;

    /** End (exclusive) of the JSON string starting at `i` (the opening quote). */
    function stringEnd(text: string, i: number): number {
        // indexOf finds the next quote natively; a quote is escaped when an odd number of backslashes precede it.
        for (let j = text.indexOf('"', i + 1); j >= 0; j = text.indexOf('"', j + 1)) {
            let backslashes = 0;
            while (text.charCodeAt(j - 1 - backslashes) === BACKSLASH) backslashes++;
            if (backslashes % 2 === 0) return j + 1;
        }
        throw new Error("unterminated string");
    }

    /** The key of the member starting at `i` (its opening quote), decoded, and where its text ends. */
    function keyAt(text: string, i: number): { key: string; end: number } {
        const end = stringEnd(text, i);
        const raw = text.slice(i + 1, end - 1);
        return { key: raw.indexOf("\\") >= 0 ? (JSON.parse(text.slice(i, end)) as string) : raw, end };
    }

    /** A change to the record's text: text[start, end) becomes `text` (a whitespace run becomes ""). */
    interface Edit {
        start: number;
        end: number;
        text: string;
    }

    /** Skips whitespace from `i`, recording the run as an edit (when `edits` is given); returns the next index. */
    function cutSpace(text: string, i: number, edits: Edit[] | undefined): number {
        const next = skipSpace(text, i);
        if (next > i && edits) edits.push({ start: i, end: next, text: "" });
        return next;
    }

    /**
     * Where the JSON value starting at `i` of a text already known to be valid JSON ends; its whitespace runs
     * (outside strings) go to `edits` when given. Iterative, so nesting depth does not matter.
     */
    function valueEnd(text: string, i: number, edits: Edit[] | undefined): number {
        const first = text.charCodeAt(i);
        if (first === QUOTE) return stringEnd(text, i);
        if (first !== 0x7b && first !== 0x5b) {
            // a number, true, false or null
            let end = i;
            for (
                let c = text.charCodeAt(end);
                end < text.length && !isSpace(c) && c !== 0x2c && c !== 0x5d && c !== 0x7d;
                c = text.charCodeAt(++end)
            );
            return end;
        }
        let depth = 0;
        let j = i;
        do {
            const c = text.charCodeAt(j);
            if (c === QUOTE) {
                j = stringEnd(text, j);
                continue;
            }
            if (isSpace(c)) {
                j = cutSpace(text, j, edits);
                continue;
            }
            if (c === 0x7b || c === 0x5b) depth++;
            else if (c === 0x7d || c === 0x5d) depth--;
            j++;
        } while (depth > 0);
        return j;
    }

    /**
     * Walks the members of the JSON object text starting at `i` (its "{"), recording whitespace runs in `edits`.
     * `member` sees each key and where its value starts, and returns where that value ends (having recorded any
     * edit of it), or undefined to let the walk skip it. Returns the index of the closing "}" and the number of
     * members.
     */
    function walkObject(
        text: string,
        i: number,
        edits: Edit[],
        member: (key: string, valueStart: number) => number | undefined,
    ): { close: number; count: number } {
        let count = 0;
        i = cutSpace(text, i + 1, edits); // past "{"
        while (text.charCodeAt(i) !== 0x7d) {
            if (text.charCodeAt(i) === 0x2c) i = cutSpace(text, i + 1, edits);
            const { key, end: keyEnd } = keyAt(text, i);
            const valueStart = cutSpace(text, cutSpace(text, keyEnd, edits) + 1, edits); // past ":"
            i = cutSpace(text, member(key, valueStart) ?? valueEnd(text, valueStart, edits), edits);
            count++;
        }
        return { close: i, count };
    }

    /** The text with the edits (in order, not overlapping) applied: unchanged runs are copied as slices. */
    function applyEdits(text: string, edits: Edit[]): string {
        let out = "";
        let copied = 0;
        for (const edit of edits) {
            out += text.slice(copied, edit.start) + edit.text;
            copied = edit.end;
        }
        return copied === 0 ? text : out + text.slice(copied);
    }

    /**
     * The transformed text in one pass of the record (the usual case), or undefined when a key repeats in the
     * event or its detail (more members than JSON.parse kept), which transformWithDuplicateKeys handles.
     */
    function transformInOnePass(text: string, event: Record<string, unknown>, clientId: string): string | undefined {
        const edits: Edit[] = [];
        let detailMembers = -1;
        const top = walkObject(text, cutSpace(text, 0, edits), edits, (key, start) => {
            if (key === "resources") {
                const end = valueEnd(text, start, undefined);
                edits.push({ start, end, text: "[]" });
                return end;
            }
            if (key !== "detail" || text.charCodeAt(start) !== 0x7b) return undefined;
            let hasAccountNumber = false;
            const detail = walkObject(text, start, edits, (inner, at) => {
                if (inner !== "accountNumber") return undefined;
                hasAccountNumber = true;
                const end = valueEnd(text, at, undefined);
                edits.push({ start: at, end, text: JSON.stringify(clientId) });
                return end;
            });
            if (!hasAccountNumber) {
                edits.push({
                    start: detail.close,
                    end: detail.close,
                    text: `${detail.count > 0 ? "," : ""}"accountNumber":${JSON.stringify(clientId)}`,
                });
            }
            detailMembers = detail.count;
            return detail.close + 1;
        });
        const trailing = cutSpace(text, top.close + 1, edits);
        if (trailing !== text.length) return undefined;
        const repeats = top.count !== Object.keys(event).length || detailMembers !== Object.keys(event.detail as object).length;
        return repeats ? undefined : applyEdits(text, edits);
    }

    /**
     * The members of the JSON object text (valid JSON), in order, as key -> compact value text. A duplicate
     * key keeps its first position and its last value, as JSON.parse does.
     */
    function objectMembers(text: string): Map<string, string> {
        const members = new Map<string, string>();
        walkObject(text, skipSpace(text, 0), [], (key, start) => {
            const end = valueEnd(text, start, undefined);
            members.set(key, compactJson(text.slice(start, end)));
            return end;
        });
        return members;
    }

    /** A JSON text (valid JSON) with the whitespace outside strings removed; numbers and strings kept exactly. */
    function compactJson(text: string): string {
        const edits: Edit[] = [];
        cutSpace(text, valueEnd(text, cutSpace(text, 0, edits), edits), edits);
        return applyEdits(text, edits);
    }

    return { transformInOnePass, objectMembers, compactJson };
}

let shared: TextTools | undefined;

/**
 * One set of the text functions for compactJson's callers in a plain process (local mode), made on first use.
 * Nothing the handler calls may use it: Pulumi would pack its current value, and the packed Lambda re-creates
 * module-level state on every call (which is why transformBatch makes its own set).
 */
function sharedTextTools(): TextTools {
    return (shared ??= textTools());
}

/** A JSON text (valid JSON) with the whitespace outside strings removed; numbers and strings kept exactly. */
export function compactJson(text: string): string {
    return sharedTextTools().compactJson(text);
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
