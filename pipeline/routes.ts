/**
 * The routes of the client-events bus as plain data: which events each rule matches and how hard
 * EventBridge tries to deliver them before they go to the route's dead-letter queue. The EventRouting
 * component deploys them and local mode's bus runs them.
 */
import { ALL_CLIENT_EVENTS_PATTERN, LOYALTY_PURCHASE_PATTERN } from "./event-patterns";
import { ZENDESK_RETRY_POLICY } from "./zendesk-ticket";

/**
 * How long and how often EventBridge retries a target before the event goes to the DLQ (the target's
 * RetryPolicy, with AWS's field names). The one definition: the EventRouting component deploys it and local
 * mode's bus enforces it. (The client library's retry schedule is another thing: client/backoff.ts.)
 */
export interface RetryPolicy {
    /** 60 to 86400 seconds. */
    maximumEventAgeInSeconds: number;
    /** 0 to 185. */
    maximumRetryAttempts: number;
}

/** Archive target: EventBridge's maximum, so a Firehose outage of up to a day loses nothing. */
export const ARCHIVE_RETRY_POLICY: RetryPolicy = { maximumEventAgeInSeconds: 86400, maximumRetryAttempts: 185 };
/** EventBridge's own default (24 hours, 185 attempts): the policy of a route whose target sets none. */
export const DEFAULT_RETRY_POLICY: RetryPolicy = { maximumEventAgeInSeconds: 86400, maximumRetryAttempts: 185 };
/** SQS's maximum retention: 14 days to notice and redrive a failed event. */
export const DLQ_RETENTION_SECONDS = 14 * 24 * 3600;

/** Route names; the EventRouting component names its rules `<name>-<route>-rule`. */
export const ARCHIVE_ROUTE = "archive";
export const ZENDESK_ROUTE = "zendesk";

export type RouteName = typeof ARCHIVE_ROUTE | typeof ZENDESK_ROUTE;

/** One built-in route. */
export interface RouteDefinition {
    eventPattern: Record<string, unknown>;
    description: string;
    retryPolicy: RetryPolicy;
}

/** Every client event to the Firehose archive; loyalty purchases to a Zendesk ticket (when configured). */
export const ROUTES: Record<RouteName, RouteDefinition> = {
    [ARCHIVE_ROUTE]: {
        eventPattern: ALL_CLIENT_EVENTS_PATTERN,
        description: "Every client event to the Firehose archive",
        retryPolicy: ARCHIVE_RETRY_POLICY,
    },
    [ZENDESK_ROUTE]: {
        eventPattern: LOYALTY_PURCHASE_PATTERN,
        description: "Loyalty purchases to a Zendesk ticket",
        retryPolicy: { ...ZENDESK_RETRY_POLICY },
    },
};
