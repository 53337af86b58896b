/**
 * A buffered front for apps: `track(event)` returns at once; events go out in full batches or every
 * `flushIntervalMs`, one send at a time, in order. Typical use: call `flush()` when the page is hidden or
 * the app goes to the background.
 */
import { ClientEventsError } from "./errors";
import type { EventsClient, SendResult } from "./events-client";
import { ClientEvent, randomEventId } from "./events";

/** Options of {@link EventQueue}. */
export interface EventQueueOptions {
    /** Flush at least this often while events wait. Default 5000 ms; 0 = only full batches and flush(). */
    flushIntervalMs?: number;
    /** Events sent per flush when the queue is full enough. Default 10 (one request). */
    batchSize?: number;
    /** Most events waiting; `track` throws QueueFull beyond it. Default 1000. */
    maxQueued?: number;
    /** Called with every send's result (failed events included). */
    onResult?: (result: SendResult) => void;
    /** Id generator for tracked events (default crypto.randomUUID). */
    newId?: () => string;
}

/** Buffers events and sends them through an EventsClient. */
export class EventQueue {
    private readonly queued: ClientEvent[] = [];
    private readonly options: Required<Omit<EventQueueOptions, "onResult">> & Pick<EventQueueOptions, "onResult">;
    private timer?: ReturnType<typeof setTimeout>;
    private sending: Promise<SendResult> = Promise.resolve(emptyResult());
    private closed = false;

    constructor(
        private readonly client: EventsClient,
        options: EventQueueOptions = {},
    ) {
        this.options = {
            flushIntervalMs: options.flushIntervalMs ?? 5000,
            batchSize: options.batchSize ?? 10,
            maxQueued: options.maxQueued ?? 1000,
            newId: options.newId ?? randomEventId,
            onResult: options.onResult,
        };
    }

    /** Events waiting to be sent. */
    get size(): number {
        return this.queued.length;
    }

    /**
     * Queues an event, stamps it with the client's session and next sequence number, and returns its
     * eventId. Throws QueueFull when `maxQueued` events wait, or after close().
     */
    track(event: ClientEvent): string {
        if (this.closed) throw new ClientEventsError("QueueClosed", "the event queue is closed");
        if (this.queued.length >= this.options.maxQueued) {
            throw new ClientEventsError("QueueFull", `${this.queued.length} events are waiting to be sent; try again later`);
        }
        const eventId = event.eventId ?? this.options.newId();
        // Handed over now: the session's next sequence number is assigned here, not when the batch goes out.
        this.queued.push(this.client.stamp({ ...event, eventId }));
        if (this.queued.length >= this.options.batchSize) void this.flush();
        else if (!this.timer && this.options.flushIntervalMs > 0) {
            this.timer = setTimeout(() => void this.flush(), this.options.flushIntervalMs);
            // Do not keep a Node process alive just for the timer.
            (this.timer as { unref?: () => void }).unref?.();
        }
        return eventId;
    }

    /** Sends everything queued so far (after any send in progress); resolves with this flush's result. */
    flush(): Promise<SendResult> {
        if (this.timer) {
            clearTimeout(this.timer);
            this.timer = undefined;
        }
        const events = this.queued.splice(0, this.queued.length);
        // A failed earlier send must not block later ones (send() rejects only on programming errors).
        this.sending = this.sending.catch(emptyResult).then(async () => {
            if (events.length === 0) return emptyResult();
            const result = await this.client.send(events);
            this.options.onResult?.(result);
            return result;
        });
        return this.sending;
    }

    /** Stops accepting events and sends what is queued. */
    async close(): Promise<SendResult> {
        this.closed = true;
        return this.flush();
    }
}

function emptyResult(): SendResult {
    return { accepted: [], failed: [], retried: 0, requests: 0 };
}
