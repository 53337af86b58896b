/**
 * An EventBridge API destination with a Basic-auth connection: HTTP POST of the target input, the
 * destination's invocation rate limit, and the outcome EventBridge derives from the HTTP answer
 * (retry 401, 407, 409, 429 and 5xx, honouring `Retry-After`; other answers are final).
 */
import { parseRetryAfter } from "../client/backoff";
import type { ActivitySink } from "./activity";
import { clientError, type DeliveryOutcome } from "./eventbridge";

export interface ApiDestinationSettings {
    name: string;
    endpoint: string;
    httpMethod: string;
    /** Connection credentials (Basic). */
    username: string;
    password: string;
    invocationRateLimitPerSecond: number;
    /** How long one HTTP attempt may take (EventBridge allows 5 seconds). */
    timeoutMs: number;
    /** Where each accepted request (the ticket sent and the answer) is reported. */
    activity?: ActivitySink;
}

/** Statuses EventBridge retries for API destinations. */
export const RETRIED_STATUSES = new Set([401, 407, 409, 429]);

// The client library's parser: one reading of RFC 9110's Retry-After for the whole project.
export { parseRetryAfter };

export class ApiDestination {
    private nextSlot = 0;
    private readonly authorization: string;

    constructor(
        readonly settings: ApiDestinationSettings,
        private readonly now: () => number = Date.now,
    ) {
        this.authorization = "Basic " + Buffer.from(`${settings.username}:${settings.password}`, "utf8").toString("base64");
    }

    /** Waits for a slot under the invocation rate limit (events beyond it queue, as in EventBridge). */
    private async takeSlot(): Promise<void> {
        const interval = 1000 / this.settings.invocationRateLimitPerSecond;
        const now = this.now();
        const slot = Math.max(now, this.nextSlot);
        this.nextSlot = slot + interval;
        if (slot > now) await new Promise((resolve) => setTimeout(resolve, slot - now));
    }

    /** One delivery attempt. */
    async deliver(payload: string): Promise<DeliveryOutcome> {
        await this.takeSlot();
        let response: Response;
        let responseBody: string;
        try {
            response = await fetch(this.settings.endpoint, {
                method: this.settings.httpMethod,
                headers: {
                    "Content-Type": "application/json; charset=utf-8",
                    "User-Agent": "Amazon/EventBridge/ApiDestinations",
                    Authorization: this.authorization,
                },
                body: payload,
                signal: AbortSignal.timeout(this.settings.timeoutMs),
            });
            // Read the body (the ticket Zendesk created), which also lets the connection be reused.
            responseBody = await response.text().catch(() => "");
        } catch (err) {
            const error = err as Error & { cause?: { code?: string } };
            const reason =
                error.name === "TimeoutError" ? `timed out after ${this.settings.timeoutMs} ms` : (error.cause?.code ?? error.message);
            return clientError(`Unable to invoke ${this.settings.name}: ${reason}`);
        }
        const status = response.status;
        if (status >= 200 && status < 300) {
            this.settings.activity?.emit({ type: "destination-response", destination: this.settings.name, status, payload, responseBody });
            return { ok: true, detail: `HTTP ${status}` };
        }
        const retryable = status >= 500 || RETRIED_STATUSES.has(status);
        return {
            ok: false,
            retryable,
            errorCode: status === 429 ? "THROTTLING" : retryable ? "RETRYABLE_HTTP_ERROR" : "HTTP_CLIENT_ERROR",
            errorMessage: `Received response status [${status}] from the API destination ${this.settings.name}`,
            retryAfterMs: retryable ? parseRetryAfter(response.headers.get("retry-after"), this.now()) : undefined,
        };
    }
}
