/**
 * The request side of the AWS service integration `POST /event` -> EventBridge PutEvents.
 *
 * API Gateway runs Velocity on Java, so:
 * - `$util.escapeJavaScript` is Apache Commons' escapeJavaScript: it turns `'` into `\'`, which is not
 *   valid JSON. `.replaceAll("\\'","'")` undoes exactly that escape. A double-quoted Velocity string
 *   literal keeps backslashes as they are, so the Java regex is `\\'`: one literal backslash, then `'`.
 *   Every `'` in the escaped text is preceded by the backslash escapeJavaScript put there, and an input
 *   backslash always comes out doubled, so the regex can only match those pairs (see test/mapping-template.test.ts).
 * - `replaceAll` is Java's (a regex), not JavaScript's (a literal string).
 *
 * The headers PutEvents needs are set with static integration request parameters rather than in the
 * template, so the template holds only the body.
 */
import { EVENT_SOURCE } from "./limits";

/** Integration type and target of the service integration (the region goes between the colons). */
export function putEventsIntegrationUri(region: string): string {
    return `arn:aws:apigateway:${region}:events:action/PutEvents`;
}

/** The HTTP method the integration uses to call EventBridge (a service integration is always POST). */
export const PUT_EVENTS_INTEGRATION_HTTP_METHOD = "POST";

/** Static integration request headers (API Gateway parameter mapping syntax: quoted literals). */
export const PUT_EVENTS_REQUEST_PARAMETERS: Record<string, string> = {
    "integration.request.header.X-Amz-Target": "'AWSEvents.PutEvents'",
    "integration.request.header.Content-Type": "'application/x-amz-json-1.1'",
};

/** The same headers, as plain values (what local mode sends). */
export const PUT_EVENTS_REQUEST_HEADERS: Record<string, string> = {
    "X-Amz-Target": "AWSEvents.PutEvents",
    "Content-Type": "application/x-amz-json-1.1",
};

/** Content type whose request template is used; others are rejected (passthroughBehavior NEVER). */
export const REQUEST_CONTENT_TYPE = "application/json";

/** API Gateway's passthrough behavior: a body of any other content type gets 415, not a raw pass-through. */
export const PASSTHROUGH_BEHAVIOR = "NEVER";

/**
 * The application/json request template: one PutEvents entry per `entries[i]`. Stage variables
 * `Environment` and `Bus` give DetailType and EventBusName; the authorizer's context gives the clientId
 * (the authorizer passes on only clientIds of [A-Za-z0-9-], so they need no escaping).
 */
export const PUT_EVENTS_REQUEST_TEMPLATE = `#set($inputRoot = $input.path('$'))
{
  "Entries": [
#foreach($elem in $inputRoot.entries)
    {
      "Source": "${EVENT_SOURCE}",
      "DetailType": "$stageVariables.Environment",
      "EventBusName": "$stageVariables.Bus",
      "Resources": ["$context.authorizer.clientId"],
      "Detail": "$util.escapeJavaScript($elem.entry).replaceAll("\\\\'","'")"
    }#if($foreach.hasNext),#end
#end
  ]
}
`;

/** The request templates of the integration, keyed by content type. */
export const PUT_EVENTS_REQUEST_TEMPLATES: Record<string, string> = {
    [REQUEST_CONTENT_TYPE]: PUT_EVENTS_REQUEST_TEMPLATE,
};
