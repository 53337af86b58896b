/** Small functions shared by the Cognito and API clients. Browser-safe: global fetch, AbortSignal, no Node APIs. */
import { NetworkError } from "./errors";

/** The subset of `fetch` the library uses, so tests and apps can inject their own. */
export type FetchLike = (input: string, init: RequestInit) => Promise<Response>;

/** `fetch` with a timeout; network failures and timeouts become a `NetworkError` naming the URL. */
export async function fetchWithTimeout(fetchImpl: FetchLike, url: string, init: RequestInit, timeoutMs: number): Promise<Response> {
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), timeoutMs);
    try {
        return await fetchImpl(url, { ...init, signal: controller.signal });
    } catch (err) {
        if (controller.signal.aborted) {
            throw new NetworkError(`no answer from ${url} within ${timeoutMs} ms`, { cause: err });
        }
        throw new NetworkError(`cannot reach ${url}: ${describeNetworkFailure(err)}`, { cause: err });
    } finally {
        clearTimeout(timer);
    }
}

/** Node's fetch hides the useful part (ECONNREFUSED, ENOTFOUND) in `cause`. */
export function describeNetworkFailure(err: unknown): string {
    const cause = (err as { cause?: { code?: string; message?: string } } | undefined)?.cause;
    if (cause?.code) return cause.message ? `${cause.code} (${cause.message})` : cause.code;
    if (cause?.message) return cause.message;
    return err instanceof Error ? err.message : String(err);
}

/** Reads a body as text without throwing (a connection reset mid-body yields ""). */
export async function readText(response: Response): Promise<string> {
    try {
        return await response.text();
    } catch {
        return "";
    }
}

/** Parses JSON or returns undefined. */
export function tryParseJson(text: string): unknown {
    try {
        return JSON.parse(text);
    } catch {
        return undefined;
    }
}

/** True for a loopback host name (localhost, 127.0.0.0/8, ::1): the only hosts plain HTTP may carry tokens to. */
export function isLoopback(hostname: string): boolean {
    return hostname === "localhost" || hostname === "[::1]" || hostname === "::1" || /^127\./.test(hostname);
}
