/**
 * The simulated client's events: the seed generator's types (shopping, searching, paging, purchase, and
 * loyaltypurchase with --loyalty), each a JSON object with eventType, schemaVersion and data. Every event
 * carries the run's id in `data.runId`, so `verify` can tell this run's events from others in storage.
 */
import type { ClientEvent } from "../client";
import { LOYALTY_PURCHASE_EVENT_TYPE } from "../pipeline/event-patterns";
import { DEFAULT_PARTITIONED_EVENT_TYPES } from "../pipeline/partitioning";
import { pick, randomInt } from "./random";

/** The types the archive partitions by default, loyalty purchases apart (sent only with --loyalty). */
export const BASE_EVENT_TYPES = DEFAULT_PARTITIONED_EVENT_TYPES.filter((t) => t !== LOYALTY_PURCHASE_EVENT_TYPE);
export const LOYALTY_EVENT_TYPE = LOYALTY_PURCHASE_EVENT_TYPE;

// Search terms include an apostrophe and non-ASCII text: the seed's mapping template lost whole requests
// on the first, so the generator keeps exercising both.
const SEARCH_TERMS = ["running shoes", "men's jackets", "kids' toys", "café table", "usb-c cable", "garden hose", "crème brûlée set"];
const CATEGORIES = ["home", "garden", "toys", "sports", "electronics", "books"];

/** Options of {@link makeEvent}. */
export interface EventFactoryOptions {
    runId: string;
    loyalty: boolean;
    random: () => number;
}

/** The event types a run sends. */
export function eventTypes(loyalty: boolean): string[] {
    return loyalty ? [...BASE_EVENT_TYPES, LOYALTY_EVENT_TYPE] : [...BASE_EVENT_TYPES];
}

/** One random event (type chosen uniformly among the run's types). */
export function makeEvent(options: EventFactoryOptions): ClientEvent {
    const { random, runId } = options;
    const eventType = pick(random, eventTypes(options.loyalty));
    const sku = randomInt(random, 100000, 999999);
    switch (eventType) {
        case "shopping":
            return {
                eventType,
                schemaVersion: 1,
                data: { runId, itemSku: sku, quantity: randomInt(random, 1, 5), category: pick(random, CATEGORIES) },
            };
        case "searching":
            return { eventType, schemaVersion: 1, data: { runId, query: pick(random, SEARCH_TERMS), results: randomInt(random, 0, 200) } };
        case "paging":
            return {
                eventType,
                schemaVersion: 1,
                data: { runId, page: randomInt(random, 1, 50), pageSize: 20, category: pick(random, CATEGORIES) },
            };
        case "purchase": {
            const quantity = randomInt(random, 1, 3);
            return {
                eventType,
                schemaVersion: 1,
                data: {
                    runId,
                    orderId: `o-${randomInt(random, 1, 1e9)}`,
                    items: [{ itemSku: sku, quantity }],
                    total: cents(random, quantity),
                    currency: "USD",
                },
            };
        }
        case LOYALTY_EVENT_TYPE:
            return {
                eventType: LOYALTY_EVENT_TYPE,
                schemaVersion: 1,
                // itemSku is a number: the Zendesk rule opens a ticket only for a numeric itemSku.
                data: {
                    runId,
                    itemSku: sku,
                    orderId: `o-${randomInt(random, 1, 1e9)}`,
                    loyaltyTier: pick(random, ["silver", "gold", "platinum"]),
                    pointsEarned: randomInt(random, 10, 500),
                    total: cents(random, 1),
                    currency: "USD",
                },
            };
        default:
            throw new Error(`the generator has no sample data for eventType ${eventType}`);
    }
}

function cents(random: () => number, quantity: number): number {
    return Math.round(randomInt(random, 199, 19999) * quantity) / 100;
}
