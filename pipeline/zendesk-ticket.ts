/**
 * The Zendesk ticket that a loyalty purchase opens, built on the EventBridge side by an input
 * transformer, plus the settings of the Zendesk API destination. The ZendeskDestination component
 * deploys these values and local mode renders tickets with them (local/input-transformer.ts substitutes
 * placeholders the way EventBridge does), so the ticket tested offline is the deployed one.
 *
 * Safety of the template: EventBridge does not escape a string value it inserts inside a quoted JSON
 * string. Every value inserted here is either set by AWS or by this program (`$.id`, `$.time`, and the
 * clientId that the ingest API writes into `resources[0]`), or is guaranteed by the rule's event
 * pattern to be a JSON number (`detail.data.itemSku`, see LOYALTY_PURCHASE_PATTERN). No value the
 * client chooses freely reaches the ticket.
 */

/** Values taken from the event (EventBridge InputPathsMap). */
export const TICKET_INPUT_PATHS: Record<string, string> = {
    clientId: "$.resources[0]",
    itemSku: "$.detail.data.itemSku",
    time: "$.time",
    eventId: "$.id",
};

/** The ticket body sent to `POST /api/v2/tickets` (EventBridge InputTemplate). */
export const TICKET_INPUT_TEMPLATE =
    '{"ticket":{' +
    '"subject":"Loyalty purchase by client <clientId>",' +
    '"comment":{"body":"Client <clientId> made a loyalty purchase of item <itemSku> at <time> (EventBridge event <eventId>)."},' +
    '"tags":["clientevents","loyaltypurchase"]}}';

/** Ticket fields this template produces; anything else in a rendered ticket means injection. */
export const TICKET_FIELDS: readonly string[] = ["subject", "comment", "tags"];

/** Retry policy of the Zendesk target: EventBridge retries 429 and 5xx answers, then uses the DLQ. */
export const ZENDESK_RETRY_POLICY = {
    /** Six hours: a ticket older than that is better handled from the dead-letter queue. */
    maximumEventAgeInSeconds: 6 * 3600,
    maximumRetryAttempts: 50,
} as const;

/** Zendesk plans allow 200 to 700 API requests a minute for the whole account. */
export const ZENDESK_PLAN_REQUESTS_PER_MINUTE = { lowest: 200, highest: 700 } as const;
/** EventBridge API destination limits on invocationRateLimitPerSecond. */
export const API_DESTINATION_RATE_LIMITS = { min: 1, max: 300 } as const;
/**
 * Default rate: 2 requests a second = 120 a minute, within the lowest plan's 200 and leaving room for
 * the account's staff and other integrations. The API destination cannot go below 1 a second.
 */
export const DEFAULT_ZENDESK_RATE_PER_SECOND = 2;

/** The HTTP method of the API destination. */
export const ZENDESK_HTTP_METHOD = "POST";

/** A Zendesk configuration error; the message names the config key. */
export class ZendeskConfigError extends Error {
    constructor(message: string) {
        super(message);
        this.name = "ZendeskConfigError";
    }
}

/**
 * The messages below name the config keys; `keyName` spells them as the caller's user writes them (config.ts
 * adds the `client-events:` namespace).
 */
const asIs = (key: string): string => key;

const ENDPOINT = /^https:\/\/([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)\.zendesk\.com\/api\/v2\/tickets(\.json)?$/;

/**
 * Validates a Zendesk tickets endpoint: `https://<subdomain>.zendesk.com/api/v2/tickets` (or
 * `tickets.json`); no port, credentials, query or fragment. Returns the subdomain.
 */
export function parseZendeskEndpoint(endpoint: string, keyName = asIs): { url: string; subdomain: string } {
    const match = ENDPOINT.exec(endpoint);
    if (!match) {
        const key = keyName("zendeskEndpoint");
        throw new ZendeskConfigError(
            `${key} ${JSON.stringify(endpoint)} is not a Zendesk tickets URL; expected https://<subdomain>.zendesk.com/api/v2/tickets ` +
                `(fix: pulumi config set ${key} https://<subdomain>.zendesk.com/api/v2/tickets)`,
        );
    }
    return { url: endpoint, subdomain: match[1] };
}

/** Validates the email whose API token authenticates (Zendesk username `{email}/token`). */
export function validateZendeskEmail(email: string, keyName = asIs): string {
    if (!/^[^\s@/]+@[^\s@/]+\.[^\s@/]+$/.test(email)) {
        const key = keyName("zendeskEmail");
        throw new ZendeskConfigError(
            `${key} ${JSON.stringify(email)} is not an email address (fix: pulumi config set ${key} support@example.com)`,
        );
    }
    return email;
}

/** The basic-auth username for Zendesk API-token authentication. */
export function zendeskUsername(email: string): string {
    return `${email}/token`;
}

/** Validates the invocation rate; returns warnings (rates a small Zendesk plan would reject with 429). */
export function validateZendeskRate(rate: number, keyName = asIs): string[] {
    const key = keyName("zendeskRatePerSecond");
    if (!Number.isInteger(rate) || rate < API_DESTINATION_RATE_LIMITS.min || rate > API_DESTINATION_RATE_LIMITS.max) {
        throw new ZendeskConfigError(
            `${key} must be a whole number from ${API_DESTINATION_RATE_LIMITS.min} to ${API_DESTINATION_RATE_LIMITS.max}, got ${rate}`,
        );
    }
    const perMinute = rate * 60;
    return perMinute > ZENDESK_PLAN_REQUESTS_PER_MINUTE.lowest
        ? [
              `${key} ${rate} is ${perMinute} requests a minute, above the ${ZENDESK_PLAN_REQUESTS_PER_MINUTE.lowest} a minute of Zendesk's smallest plans; make sure your plan allows it`,
          ]
        : [];
}

/** Which of the three Zendesk settings are present (the token is a secret, so only its presence is passed). */
export interface ZendeskSettingsPresence {
    zendeskEmail?: string;
    zendeskApiToken: boolean;
    zendeskEndpoint?: string;
}

/**
 * Zendesk is optional: all three keys unset means no Zendesk destination (the caller warns); some set
 * means a configuration error naming the missing keys. Returns whether Zendesk is enabled.
 */
export function zendeskEnabled(
    settings: ZendeskSettingsPresence,
    keyName = asIs,
): settings is ZendeskSettingsPresence & { zendeskEmail: string; zendeskEndpoint: string } {
    const present = {
        zendeskEmail: settings.zendeskEmail !== undefined && settings.zendeskEmail !== "",
        zendeskApiToken: settings.zendeskApiToken,
        zendeskEndpoint: settings.zendeskEndpoint !== undefined && settings.zendeskEndpoint !== "",
    };
    const missing = Object.entries(present)
        .filter(([, set]) => !set)
        .map(([key]) => keyName(key));
    if (missing.length === 0) return true;
    if (missing.length === 3) return false;
    const fix = missing.map((key) =>
        key === keyName("zendeskApiToken") ? `pulumi config set --secret ${key} <token>` : `pulumi config set ${key} <value>`,
    );
    throw new ZendeskConfigError(
        `Zendesk is partly configured: ${missing.join(", ")} ${missing.length === 1 ? "is" : "are"} missing (fix: ${fix.join("; ")}), or unset all three to deploy without Zendesk`,
    );
}
