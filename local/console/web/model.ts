/**
 * The console's state, folded from the activity feed's records: each request with its entries, each
 * event with where it went (rules matched, the archive object or error output, the ticket, dead letters),
 * objects by partition, dead letters, tickets. Pure data (no DOM): the page renders it.
 */
import type { Activity, ErrorRecordView, RequestEntry } from "../../activity";

type Of<T extends Activity["type"]> = Extract<Activity, { type: T }>;

export type DeliveryState = "pending" | "delivered" | "retrying" | "dead-letter";

export interface EventView {
    eventId: string;
    at: number;
    eventType?: string;
    clientId?: string;
    event: unknown;
    detailText?: string;
    requestId?: string;
    /** HTTP status of the request that carried it. */
    status?: number;
    rules: string[];
    deliveries: Record<string, { state: DeliveryState; attempts: number; detail?: string; lastError?: string }>;
    objectKey?: string;
    partition?: string;
    /** Firehose's error output holds the event (rejected by the transform, or partitioning failed). */
    errorOutput?: { key: string; errorType?: string; errorCode: string; errorMessage: string };
    ticketId?: number | string;
    deadLetters: Array<{ rule: string; attributes: Record<string, string>; at: number }>;
}

export type RequestView = Of<"request">;
export type ObjectView = Of<"object">;
export type DeadLetterView = Of<"dead-letter">;
export type TicketView = Of<"ticket"> & { eventId?: string };

export interface RejectedEntry extends RequestEntry {
    requestId: string;
    /** Position of the entry in its request. */
    index: number;
    at: number;
    clientId?: string;
    status: number;
}

export interface ErrorRecordRow extends ErrorRecordView {
    key: string;
    /** Position of the record in its object. */
    index: number;
    errorType?: string;
    at: number;
}

/** How many of each kind the page keeps (the feed itself is bounded too). */
export const KEEP = 2000;

export interface ConsoleState {
    lastSeq: number;
    /** Set when the feed had dropped records older than the ones the page received. */
    missedRecords: boolean;
    requests: RequestView[];
    events: Map<string, EventView>;
    objects: ObjectView[];
    deadLetters: DeadLetterView[];
    tickets: TicketView[];
    ticketRefusals: Array<Of<"ticket-refused">>;
    rejectedEntries: RejectedEntry[];
    errorRecords: ErrorRecordRow[];
    firehoseFailures: Array<Of<"firehose-failed">>;
    /** Ticket payload hash -> event id, and -> the ticket's record, to pair a delivery with the ticket it opened. */
    payloadEvents: Map<string, string>;
    payloadTickets: Map<string, TicketView>;
}

export function emptyState(): ConsoleState {
    return {
        lastSeq: 0,
        missedRecords: false,
        requests: [],
        events: new Map(),
        objects: [],
        deadLetters: [],
        tickets: [],
        ticketRefusals: [],
        rejectedEntries: [],
        errorRecords: [],
        firehoseFailures: [],
        payloadEvents: new Map(),
        payloadTickets: new Map(),
    };
}

function keep<T>(list: T[], item: T): void {
    list.push(item);
    if (list.length > KEEP) list.splice(0, list.length - KEEP);
}

function eventView(state: ConsoleState, id: string): EventView | undefined {
    return state.events.get(id);
}

function applyRequest(state: ConsoleState, r: RequestView): void {
    keep(state.requests, r);
    r.entries.forEach((entry, index) => {
        if (entry.eventId) {
            const view = eventView(state, entry.eventId);
            if (view) Object.assign(view, { requestId: r.requestId, status: r.status });
        } else if (entry.errorCode) {
            keep(state.rejectedEntries, { ...entry, requestId: r.requestId, index, at: r.at, clientId: r.clientId, status: r.status });
        }
    });
}

function applyObject(state: ConsoleState, r: ObjectView): void {
    keep(state.objects, r);
    if (!r.error) {
        for (const id of r.eventIds) {
            const view = eventView(state, id);
            if (view) Object.assign(view, { objectKey: r.key, partition: r.partition });
        }
        return;
    }
    for (const [index, e] of (r.errorRecords ?? []).entries()) {
        keep(state.errorRecords, { ...e, key: r.key, index, errorType: r.errorType, at: r.at });
        const view = e.eventId ? eventView(state, e.eventId) : undefined;
        if (view) view.errorOutput = { key: r.key, errorType: r.errorType, errorCode: e.errorCode, errorMessage: e.errorMessage };
    }
}

/** Bounds a pairing map (insertion order: the oldest goes first). */
function trim<K, V>(map: Map<K, V>): void {
    while (map.size > KEEP) map.delete(map.keys().next().value as K);
}

function linkTicket(state: ConsoleState, hash: string): void {
    trim(state.payloadEvents);
    trim(state.payloadTickets);
    const eventId = state.payloadEvents.get(hash);
    const ticket = state.payloadTickets.get(hash);
    if (eventId === undefined || ticket === undefined) return;
    const view = eventView(state, eventId);
    if (view) view.ticketId = ticket.ticketId;
    ticket.eventId = eventId;
}

/** Folds one record into the state; a record already folded (two polls overlapping) is ignored. */
export function applyRecord(state: ConsoleState, r: Activity): void {
    if (r.seq <= state.lastSeq) return;
    state.lastSeq = r.seq;
    switch (r.type) {
        case "request":
            applyRequest(state, r);
            break;
        case "event":
            state.events.set(r.eventId, {
                eventId: r.eventId,
                at: r.at,
                eventType: r.eventType,
                clientId: r.clientId,
                event: r.event,
                detailText: r.detailText,
                rules: [],
                deliveries: {},
                deadLetters: [],
            });
            if (state.events.size > KEEP) state.events.delete(state.events.keys().next().value as string);
            break;
        case "match": {
            const view = eventView(state, r.eventId);
            if (view && !view.rules.includes(r.rule)) {
                view.rules.push(r.rule);
                view.deliveries[r.rule] = { state: "pending", attempts: 0 };
            }
            break;
        }
        case "delivery": {
            const view = eventView(state, r.eventId);
            if (view) view.deliveries[r.rule] = { state: "delivered", attempts: r.attempts, detail: r.detail };
            if (r.payloadHash !== undefined) {
                state.payloadEvents.set(r.payloadHash, r.eventId);
                linkTicket(state, r.payloadHash);
            }
            break;
        }
        case "retry": {
            const view = eventView(state, r.eventId);
            if (view) view.deliveries[r.rule] = { state: "retrying", attempts: r.attempt, lastError: `${r.errorCode}: ${r.errorMessage}` };
            break;
        }
        case "dead-letter": {
            keep(state.deadLetters, r);
            const view = eventView(state, r.eventId);
            if (view) {
                view.deliveries[r.rule] = {
                    state: "dead-letter",
                    attempts: Number(r.attributes.RETRY_ATTEMPTS ?? 0) + 1,
                    lastError: `${r.attributes.ERROR_CODE}: ${r.attributes.ERROR_MESSAGE}`,
                };
                view.deadLetters.push({ rule: r.rule, attributes: r.attributes, at: r.at });
            }
            break;
        }
        case "object":
            applyObject(state, r);
            break;
        case "ticket": {
            const ticket: TicketView = { ...r };
            keep(state.tickets, ticket);
            state.payloadTickets.set(r.payloadHash, ticket);
            linkTicket(state, r.payloadHash);
            break;
        }
        case "ticket-refused":
            keep(state.ticketRefusals, r);
            break;
        case "firehose-failed":
            keep(state.firehoseFailures, r);
            break;
        default:
            break;
    }
}

// ---------------------------------------------------------------------------------------------------
// Filters

export interface Filters {
    eventType: string;
    clientId: string;
    /** "" (any), an exact status ("207") or a class ("4xx"). */
    status: string;
}

export function statusMatches(filter: string, status: number | undefined): boolean {
    if (filter === "") return true;
    if (status === undefined) return false;
    if (/^[1-5]xx$/.test(filter)) return Math.floor(status / 100) === Number(filter[0]);
    return String(status) === filter;
}

function contains(value: string | undefined, filter: string): boolean {
    return filter === "" || (value ?? "").toLowerCase().includes(filter.toLowerCase());
}

export function eventMatches(f: Filters, e: EventView): boolean {
    return (f.eventType === "" || e.eventType === f.eventType) && contains(e.clientId, f.clientId) && statusMatches(f.status, e.status);
}

/** The eventType an entry string names, when it parses. */
export function entryEventType(entry: string): string | undefined {
    try {
        const parsed = JSON.parse(entry) as unknown;
        const type = parsed !== null && typeof parsed === "object" ? (parsed as Record<string, unknown>).eventType : undefined;
        return typeof type === "string" ? type : undefined;
    } catch {
        return undefined;
    }
}

export function requestMatches(f: Filters, r: RequestView): boolean {
    const typeOk = f.eventType === "" || r.entries.some((e) => entryEventType(e.entry) === f.eventType);
    return typeOk && contains(r.clientId, f.clientId) && statusMatches(f.status, r.status);
}

/** Events handed to Firehose and not yet seen in an object: what the buffer holds (their delivery ends at the write). */
export function eventsInBuffer(state: ConsoleState, archiveRule: string): EventView[] {
    const waiting = (e: EventView) => ["pending", "delivered"].includes(e.deliveries[archiveRule]?.state ?? "");
    return [...state.events.values()].filter((e) => waiting(e) && !e.objectKey && !e.errorOutput);
}

/** Objects grouped by partition (newest partition activity first). */
export function objectsByPartition(objects: ObjectView[]): Array<{ partition: string; objects: ObjectView[] }> {
    const groups = new Map<string, ObjectView[]>();
    for (const o of objects) {
        const list = groups.get(o.partition) ?? [];
        list.push(o);
        groups.set(o.partition, list);
    }
    return [...groups.entries()]
        .map(([partition, list]) => ({ partition, objects: list.slice().reverse() }))
        .sort((a, b) => b.objects[0].at - a.objects[0].at);
}
