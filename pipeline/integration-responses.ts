/**
 * The response side of the `POST /event` -> PutEvents integration, as data: the Pulumi component creates
 * these integration responses and local mode renders the same templates.
 *
 * Status codes the API answers (clients must read `entries[i]` whenever the status is not 200):
 * - 200: every entry was accepted; `entries[i].eventId` is the EventBridge id of `entries[i]` of the request.
 * - 207 Multi-Status: PutEvents answered 200 but `FailedEntryCount` > 0 (per-entry failures, such as
 *   `MalformedDetail` for an entry that is not a JSON object, or `ThrottlingException`). Entries are in
 *   request order, each either `{eventId}` or `{errorCode, errorMessage, retryable}`; resend only the
 *   failed ones, and only those marked retryable unchanged.
 * - 400: EventBridge rejected the request as invalid (ValidationException / InvalidArgument).
 * - 429: EventBridge throttled the whole request; retry with backoff.
 * - 500: EventBridge refused the request for a reason that is the deployment's fault (AccessDenied,
 *   a missing bus, ...). The AWS message is not echoed (it may name roles or accounts); the execution
 *   logs have it.
 * - 503: EventBridge answered 5xx; retry with backoff.
 * Errors raised by API Gateway itself (400 invalid body, 401, 403, 413, 415, 429 throttled by the stage)
 * are gateway responses, see gateway-responses.ts.
 */

/** One integration response: which backend statuses it handles and how it renders the client's answer. */
export interface IntegrationResponseSpec {
    /** The method response status it produces (a template may override it with `$context.responseOverride.status`). */
    statusCode: string;
    /** Java regex matched against the whole backend HTTP status; absent for the default response. */
    selectionPattern?: string;
    /** Response templates by content type. */
    responseTemplates: Record<string, string>;
}

/** Error codes PutEvents documents as retryable (PutEventsResultEntry.ErrorCode). */
export const RETRYABLE_ENTRY_ERROR_CODES = ["InternalFailure", "ThrottlingException"] as const;

/** PutEvents answered 200: per-entry results, in request order, and 207 when any entry failed. */
export const PUT_EVENTS_SUCCESS_TEMPLATE = `#set($inputRoot = $input.path('$'))
#set($failed = $inputRoot.FailedEntryCount)
#if($failed > 0)
#set($context.responseOverride.status = 207)
#end
{
  "failedEntryCount": #if($failed > 0)$failed#{else}0#end,
  "entries": [
#foreach($e in $inputRoot.Entries)
#if($e.EventId && "$e.EventId" != "")
    {"eventId": "$util.escapeJavaScript($e.EventId).replaceAll("\\\\'","'")"}#else
    {"errorCode": "$util.escapeJavaScript("$!e.ErrorCode").replaceAll("\\\\'","'")", "errorMessage": "$util.escapeJavaScript("$!e.ErrorMessage").replaceAll("\\\\'","'")", "retryable": #if($e.ErrorCode == "${RETRYABLE_ENTRY_ERROR_CODES[0]}" || $e.ErrorCode == "${RETRYABLE_ENTRY_ERROR_CODES[1]}")true#{else}false#end}#end#if($foreach.hasNext),#end

#end
  ]
}
`;

/**
 * EventBridge answered 4xx for the whole request. The AWS JSON protocol names the error in `__type`
 * (sometimes prefixed with a namespace, hence `contains`).
 */
export const PUT_EVENTS_CLIENT_ERROR_TEMPLATE = `#set($type = "$!input.path('$.__type')")
#if($type.contains("Throttling") || $type.contains("LimitExceeded"))
#set($context.responseOverride.status = 429)
{"message": "EventBridge is throttling requests; retry with backoff.", "retryable": true, "requestId": "$context.requestId"}
#elseif($type.contains("ValidationException") || $type.contains("InvalidArgument"))
#set($context.responseOverride.status = 400)
#set($message = "$!input.path('$.message')")
#if($message == "")#set($message = "$!input.path('$.Message')")#end
{"message": "EventBridge rejected the request: $util.escapeJavaScript($message).replaceAll("\\\\'","'")", "retryable": false, "requestId": "$context.requestId"}
#else
{"message": "Internal server error: the API could not publish the events.", "retryable": false, "requestId": "$context.requestId"}
#end
`;

/** EventBridge answered 5xx: transient from the client's point of view. */
export const PUT_EVENTS_SERVER_ERROR_TEMPLATE = `{"message": "EventBridge is temporarily unavailable; retry with backoff.", "retryable": true, "requestId": "$context.requestId"}
`;

/** The integration responses, default first. */
export const PUT_EVENTS_INTEGRATION_RESPONSES: IntegrationResponseSpec[] = [
    { statusCode: "200", responseTemplates: { "application/json": PUT_EVENTS_SUCCESS_TEMPLATE } },
    { statusCode: "500", selectionPattern: "4\\d{2}", responseTemplates: { "application/json": PUT_EVENTS_CLIENT_ERROR_TEMPLATE } },
    { statusCode: "503", selectionPattern: "5\\d{2}", responseTemplates: { "application/json": PUT_EVENTS_SERVER_ERROR_TEMPLATE } },
];

/** Every status the method can answer, declared as method responses (API Gateway needs each declared). */
export const METHOD_RESPONSE_STATUS_CODES = ["200", "207", "400", "429", "500", "503"] as const;
