/**
 * The EventBridge event patterns of the client-events bus, as plain data. The EventRouting component
 * deploys them and local mode matches events with them, so both route exactly the same events.
 */
import { EVENT_SOURCE } from "./limits";

/** The eventType that opens a Zendesk ticket. */
export const LOYALTY_PURCHASE_EVENT_TYPE = "loyaltypurchase";

/** Every event the ingest API publishes: routed to the Firehose archive. */
export const ALL_CLIENT_EVENTS_PATTERN = {
    source: [EVENT_SOURCE],
};

/**
 * Loyalty purchases: routed to the Zendesk API destination.
 *
 * `detail.data.itemSku` must be a JSON number. The ticket's text is built by an input transformer, and
 * EventBridge does not escape a string value it inserts inside a quoted JSON string: a client-chosen
 * string such as `1","priority":"urgent` would break the ticket JSON or add fields to it. A number
 * cannot. Loyalty purchases whose itemSku is not a number still reach the archive; they open no ticket.
 */
export const LOYALTY_PURCHASE_PATTERN = {
    source: [EVENT_SOURCE],
    detail: {
        eventType: [LOYALTY_PURCHASE_EVENT_TYPE],
        data: {
            itemSku: [{ numeric: [">=", 0] }],
        },
    },
};
