/**
 * Embeddable client of the client-events API: Cognito sign-in with token refresh, and an events client
 * that batches, retries and never resends an accepted event. Uses only global `fetch`, `AbortController`
 * and `crypto.randomUUID`, so it runs in browsers, React Native (with a randomUUID polyfill) and Node 20+.
 */
export * from "./errors";
export { CognitoAuth, CognitoSession } from "./cognito";
export type { CognitoAuthOptions, Tokens, TokenProvider, TokenUse } from "./cognito";
export { EventsClient } from "./events-client";
export type { EventsClientOptions, RequestInfo, SendResult, AcceptedEvent, FailedEvent } from "./events-client";
export { prepareEvent, planBatches, randomEventId, utf8Length, DEFAULT_LIMITS } from "./events";
export type { ClientEvent, PreparedEvent, BatchLimits, EventCheck } from "./events";
export { DEFAULT_BACKOFF_POLICY, fullJitterDelay, parseRetryAfter } from "./backoff";
export { isLoopback } from "./http";
export type { BackoffPolicy } from "./backoff";
export type { FetchLike } from "./http";
export { EventQueue } from "./queue";
export type { EventQueueOptions } from "./queue";
