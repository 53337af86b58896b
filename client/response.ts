/**
 * What one answer of `POST /event` means for the entries sent: a pure function of the status, headers and body
 * (the API's statuses are documented in pipeline/integration-responses.ts and pipeline/gateway-responses.ts).
 * EventsClient acts on the verdict: records, retries with backoff, refreshes the token or splits the request.
 */
import { RETRYABLE_ENTRY_ERROR_CODES } from "../pipeline/integration-responses";
import { parseRetryAfter } from "./backoff";
import { tryParseJson } from "./http";

/** The parts of an HTTP answer the verdict depends on. */
export interface ApiAnswer {
    status: number;
    statusText: string;
    /** The raw body. */
    text: string;
    /** The `Retry-After` header, if any. */
    retryAfter: string | null;
    /** How many entries the request held. */
    entries: number;
    /** Clock (epoch ms), to read a `Retry-After` date. */
    now: number;
}

/** One entry of a per-entry answer (200 or 207). */
export type EntryVerdict =
    { accepted: true; busEventId?: string } | { accepted: false; errorCode: string; errorMessage: string; retryable: boolean };

/** What to do with the request's entries. `code` is what the request reports (`HTTP<status>` or `InvalidResponse`). */
export type ResponseVerdict =
    /** Every entry was published; ids of EventBridge's events when the API gave them (by entry). */
    | { kind: "accepted"; busEventIds: Array<string | undefined> }
    /** Per-entry results, in request order. */
    | { kind: "entries"; entries: EntryVerdict[] }
    /** 401: the token may have expired on the way; refresh it once and resend. */
    | { kind: "refresh"; code: string; message: string }
    /** 400/413 for several entries: nothing was published; split to isolate the entry refused. */
    | { kind: "split"; code: string }
    /** Transient for the whole request: resend after backoff (at least `retryAfterMs`). */
    | { kind: "retry"; code: string; message: string; retryAfterMs?: number }
    /** Final for every entry. */
    | { kind: "failed"; code: string; message: string };

interface ApiEntryResult {
    eventId?: string;
    errorCode?: string;
    errorMessage?: string;
    retryable?: boolean;
}

interface ApiBody {
    entries?: ApiEntryResult[];
    failedEntryCount?: number;
    message?: string;
    retryable?: boolean;
}

const RETRYABLE_CODES = new Set<string>([...RETRYABLE_ENTRY_ERROR_CODES]);

/** Classifies one answer of the API; never throws. */
export function classifyResponse(answer: ApiAnswer): ResponseVerdict {
    const { status, entries: sent } = answer;
    const parsed = tryParseJson(answer.text);
    const body = typeof parsed === "object" && parsed !== null ? (parsed as ApiBody) : undefined;
    const results = Array.isArray(body?.entries) ? body.entries : undefined;
    const perEntry = results && results.length === sent ? results : undefined;
    if (status === 200 && !(perEntry && (body?.failedEntryCount ?? 0) > 0)) {
        return { kind: "accepted", busEventIds: Array.from({ length: sent }, (_, i) => entryEventId(perEntry?.[i])) };
    }
    if ((status === 200 || status === 207) && results) {
        // Without one result per entry the client cannot tell which got through; resending could duplicate.
        if (!perEntry) {
            return { kind: "failed", code: "InvalidResponse", message: `the API answered ${results.length} results for ${sent} entries` };
        }
        return { kind: "entries", entries: perEntry.map(entryVerdict) };
    }
    const code = `HTTP${status}`;
    const message = typeof body?.message === "string" ? body.message : answer.text.slice(0, 300) || answer.statusText;
    if (status === 401) return { kind: "refresh", code, message };
    if ((status === 400 || status === 413) && sent > 1) return { kind: "split", code };
    const retryable = status === 429 || status === 502 || status === 503 || status === 504 || (status === 500 && body?.retryable !== false);
    if (retryable) return { kind: "retry", code, message, retryAfterMs: parseRetryAfter(answer.retryAfter, answer.now) };
    return { kind: "failed", code, message };
}

function entryEventId(result: ApiEntryResult | undefined): string | undefined {
    return typeof result?.eventId === "string" && result.eventId !== "" ? result.eventId : undefined;
}

function entryVerdict(result: ApiEntryResult | null): EntryVerdict {
    if (typeof result !== "object" || result === null || Array.isArray(result)) {
        return {
            accepted: false,
            errorCode: "InvalidResponse",
            errorMessage: "the API answered an entry result that is not an object",
            retryable: false,
        };
    }
    if (!result.errorCode) return { accepted: true, busEventId: entryEventId(result) };
    return {
        accepted: false,
        errorCode: result.errorCode,
        errorMessage: result.errorMessage ?? "",
        retryable: result.retryable === true || RETRYABLE_CODES.has(result.errorCode),
    };
}
