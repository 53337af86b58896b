/**
 * The events client's response classifier over the answers the API really gives: the integration response
 * templates rendered by local mode's Velocity engine from PutEvents' JSON answers, and the gateway responses.
 */
import { strict as assert } from "node:assert";
import { classifyResponse, type ApiAnswer } from "../client/response";
import { renderTemplateWithOverrides } from "../local/api-gateway/vtl";
import { substituteGatewayTemplate } from "../local/api-gateway/rest-api";
import { GATEWAY_RESPONSES } from "../pipeline/gateway-responses";
import {
    PUT_EVENTS_CLIENT_ERROR_TEMPLATE,
    PUT_EVENTS_SERVER_ERROR_TEMPLATE,
    PUT_EVENTS_SUCCESS_TEMPLATE,
} from "../pipeline/integration-responses";

const NOW = Date.parse("2026-03-01T12:00:00Z");

/** The API's answer to a request of `entries` entries, when EventBridge answered `putEventsBody`. */
function integrationAnswer(template: string, status: number, putEventsBody: unknown, entries: number): ApiAnswer {
    const result = renderTemplateWithOverrides(template, { body: JSON.stringify(putEventsBody), context: { requestId: "req-1" } });
    return { status: result.responseOverride.status ?? status, statusText: "", text: result.output, retryAfter: null, entries, now: NOW };
}

function gatewayAnswer(responseType: string, status: number, entries: number, retryAfter: string | null = null): ApiAnswer {
    const spec = GATEWAY_RESPONSES.find((r) => r.responseType === responseType);
    assert.ok(spec, responseType);
    const text = substituteGatewayTemplate(spec.template, { requestId: "req-2", error: { responseType } }, {});
    return { status, statusText: "", text, retryAfter, entries, now: NOW };
}

describe("events client: response classifier", () => {
    it("PutEvents accepted every entry: accepted, with EventBridge's ids in entry order", () => {
        const answer = integrationAnswer(
            PUT_EVENTS_SUCCESS_TEMPLATE,
            200,
            { FailedEntryCount: 0, Entries: [{ EventId: "e-1" }, { EventId: "e-2" }] },
            2,
        );
        assert.equal(answer.status, 200);
        assert.deepEqual(classifyResponse(answer), { kind: "accepted", busEventIds: ["e-1", "e-2"] });
    });

    it("a 207 gives each entry its verdict: ThrottlingException retryable, MalformedDetail final", () => {
        const answer = integrationAnswer(
            PUT_EVENTS_SUCCESS_TEMPLATE,
            200,
            {
                FailedEntryCount: 2,
                Entries: [
                    { EventId: "e-1" },
                    { ErrorCode: "ThrottlingException", ErrorMessage: "Rate exceeded" },
                    { ErrorCode: "MalformedDetail", ErrorMessage: "Detail is malformed." },
                ],
            },
            3,
        );
        assert.equal(answer.status, 207, "the template overrides the status");
        assert.deepEqual(classifyResponse(answer), {
            kind: "entries",
            entries: [
                { accepted: true, busEventId: "e-1" },
                { accepted: false, errorCode: "ThrottlingException", errorMessage: "Rate exceeded", retryable: true },
                { accepted: false, errorCode: "MalformedDetail", errorMessage: "Detail is malformed.", retryable: false },
            ],
        });
    });

    it("an InternalFailure entry is retryable even when the answer omits the retryable flag", () => {
        const text = JSON.stringify({ failedEntryCount: 1, entries: [{ errorCode: "InternalFailure", errorMessage: "x" }] });
        const verdict = classifyResponse({ status: 207, statusText: "", text, retryAfter: null, entries: 1, now: NOW });
        assert.deepEqual(verdict, {
            kind: "entries",
            entries: [{ accepted: false, errorCode: "InternalFailure", errorMessage: "x", retryable: true }],
        });
    });

    it("a 207 whose results do not match the entries one to one fails them all (a resend could duplicate)", () => {
        const answer = integrationAnswer(
            PUT_EVENTS_SUCCESS_TEMPLATE,
            200,
            { FailedEntryCount: 1, Entries: [{ ErrorCode: "InternalFailure", ErrorMessage: "x" }] },
            2,
        );
        assert.deepEqual(classifyResponse(answer), {
            kind: "failed",
            code: "InvalidResponse",
            message: "the API answered 1 results for 2 entries",
        });
    });

    it("an entry result that is not an object is a final failure, never an acceptance", () => {
        const text = JSON.stringify({ failedEntryCount: 1, entries: [null, { eventId: "e-2" }] });
        const verdict = classifyResponse({ status: 207, statusText: "", text, retryAfter: null, entries: 2, now: NOW });
        assert.equal(verdict.kind, "entries");
        assert.deepEqual(verdict.kind === "entries" && verdict.entries.map((e) => e.accepted), [false, true]);
    });

    it("EventBridge throttling (429) and 5xx (503) are retried; its ValidationException (400) splits several entries", () => {
        const throttled = integrationAnswer(
            PUT_EVENTS_CLIENT_ERROR_TEMPLATE,
            500,
            { __type: "ThrottlingException", message: "Rate exceeded" },
            4,
        );
        assert.equal(throttled.status, 429);
        assert.deepEqual(classifyResponse(throttled), {
            kind: "retry",
            code: "HTTP429",
            message: "EventBridge is throttling requests; retry with backoff.",
            retryAfterMs: undefined,
        });
        const unavailable = integrationAnswer(PUT_EVENTS_SERVER_ERROR_TEMPLATE, 503, { message: "Service Unavailable" }, 4);
        assert.equal(classifyResponse(unavailable).kind, "retry");
        const invalid = integrationAnswer(PUT_EVENTS_CLIENT_ERROR_TEMPLATE, 500, { __type: "ValidationException", message: "bad" }, 4);
        assert.equal(invalid.status, 400);
        assert.deepEqual(classifyResponse(invalid), { kind: "split", code: "HTTP400" });
        assert.deepEqual(classifyResponse({ ...invalid, entries: 1 }), {
            kind: "failed",
            code: "HTTP400",
            message: "EventBridge rejected the request: bad",
        });
    });

    it("a 500 the API marks as not retryable (AccessDenied on the bus) fails; one without the mark is retried", () => {
        const denied = integrationAnswer(
            PUT_EVENTS_CLIENT_ERROR_TEMPLATE,
            500,
            { __type: "AccessDeniedException", message: "not authorized" },
            1,
        );
        assert.equal(denied.status, 500);
        assert.deepEqual(classifyResponse(denied), {
            kind: "failed",
            code: "HTTP500",
            message: "Internal server error: the API could not publish the events.",
        });
        assert.equal(classifyResponse(gatewayAnswer("DEFAULT_5XX", 500, 1)).kind, "retry");
    });

    it("gateway responses: 401 asks for a token refresh, 403 fails, 413 splits, 429 waits what Retry-After asks", () => {
        assert.deepEqual(classifyResponse(gatewayAnswer("UNAUTHORIZED", 401, 3)), {
            kind: "refresh",
            code: "HTTP401",
            message: "Unauthorized",
        });
        assert.deepEqual(classifyResponse(gatewayAnswer("ACCESS_DENIED", 403, 3)), {
            kind: "failed",
            code: "HTTP403",
            message: "Forbidden: this user has no clientId",
        });
        assert.deepEqual(classifyResponse(gatewayAnswer("REQUEST_TOO_LARGE", 413, 3)), { kind: "split", code: "HTTP413" });
        assert.equal(classifyResponse(gatewayAnswer("REQUEST_TOO_LARGE", 413, 1)).kind, "failed");
        assert.deepEqual(classifyResponse(gatewayAnswer("THROTTLED", 429, 3, "7")), {
            kind: "retry",
            code: "HTTP429",
            message: "Too Many Requests",
            retryAfterMs: 7000,
        });
        const date = new Date(NOW + 90_000).toUTCString();
        const byDate = classifyResponse(gatewayAnswer("THROTTLED", 429, 3, date));
        assert.equal(byDate.kind === "retry" && byDate.retryAfterMs, 90_000);
    });

    it("a body that is not JSON (a proxy's HTML page) fails with its first characters, or the status text", () => {
        const html = "<html><body>Bad Gateway</body></html>";
        assert.deepEqual(classifyResponse({ status: 502, statusText: "Bad Gateway", text: html, retryAfter: null, entries: 2, now: NOW }), {
            kind: "retry",
            code: "HTTP502",
            message: html,
            retryAfterMs: undefined,
        });
        assert.deepEqual(classifyResponse({ status: 404, statusText: "Not Found", text: "", retryAfter: null, entries: 2, now: NOW }), {
            kind: "failed",
            code: "HTTP404",
            message: "Not Found",
        });
    });
});
