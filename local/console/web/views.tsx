/**
 * The console's tables. Everything a client sent is rendered as text (Preact text nodes inside <bdi>, so
 * right-to-left text stays in its cell); nothing here sets HTML or builds a URL from data.
 */
import type { ComponentChildren } from "preact";
import {
    entryEventType,
    eventMatches,
    eventsInBuffer,
    objectsByPartition,
    requestMatches,
    statusMatches,
    type ConsoleState,
    type EventView,
    type Filters,
    type ObjectView,
} from "./model";

export type Selection =
    | { kind: "event"; id: string }
    | { kind: "request"; id: string }
    | { kind: "object"; key: string }
    | { kind: "dead-letter"; seq: number }
    | { kind: "ticket"; seq: number }
    | { kind: "error-record"; key: string; index: number }
    | { kind: "rejected-entry"; requestId: string; index: number };

export interface ConsoleSettings {
    environment?: string;
    bucketName?: string;
    deliveryStreamName?: string;
    archiveRule?: string;
    bufferSeconds?: number;
    rules?: string[];
}

export interface ViewProps {
    state: ConsoleState;
    filters: Filters;
    settings: ConsoleSettings;
    gauges: Record<string, number>;
    select: (s: Selection) => void;
}

/** Client-derived text: a text node, isolated for bidirectional text. */
export function Text(props: { value: string | number | undefined | null }) {
    return <bdi dir="auto">{props.value === undefined || props.value === null ? "" : String(props.value)}</bdi>;
}

/** A long id shown by its first characters; the whole value is in the tooltip and the detail panel. */
export function Short(props: { value: string | undefined; length?: number }) {
    const value = props.value ?? "";
    const n = props.length ?? 8;
    return (
        <span class="mono" title={value}>
            {value.length > n + 1 ? `${value.slice(0, n)}…` : value}
        </span>
    );
}

export function clock(ms: number): string {
    return new Date(ms).toISOString().slice(11, 23);
}

/** A table row that opens a detail on click or Enter. */
function Row(props: { onOpen: () => void; testid: string; label: string; data?: Record<string, string>; children: ComponentChildren }) {
    const attrs: Record<string, string> = {};
    for (const [k, v] of Object.entries(props.data ?? {})) attrs[`data-${k}`] = v;
    return (
        <tr
            tabIndex={0}
            class="clickable"
            data-testid={props.testid}
            aria-label={props.label}
            {...attrs}
            onClick={props.onOpen}
            onKeyDown={(e) => {
                if (e.key === "Enter") props.onOpen();
            }}
        >
            {props.children}
        </tr>
    );
}

function Empty(props: { columns: number; text: string }) {
    return (
        <tr>
            <td colSpan={props.columns} class="empty">
                {props.text}
            </td>
        </tr>
    );
}

// ---------------------------------------------------------------------------------------------------
// Where an event went

/**
 * One line per matched rule: the object key (as an s3:// URL when `full`), the buffer, the error output,
 * the ticket, the dead letter.
 */
export function routeText(e: EventView, rule: string, settings: ConsoleSettings, full = false): string {
    const d = e.deliveries[rule];
    if (rule === (settings.archiveRule ?? "archive")) {
        if (e.objectKey) return full ? `s3://${settings.bucketName ?? ""}/${e.objectKey}` : e.objectKey;
        if (e.errorOutput) return `error output ${e.errorOutput.key} (${e.errorOutput.errorCode})`;
    }
    // Local Firehose takes a record at once; its delivery ends when the record's object is written.
    const archiveWaits = rule === (settings.archiveRule ?? "archive") && (!d || d.state === "pending" || d.state === "delivered");
    if (archiveWaits) return "in the Firehose buffer";
    if (!d) return "pending";
    switch (d.state) {
        case "delivered":
            return e.ticketId !== undefined ? `ticket #${e.ticketId}` : `delivered${d.detail ? ` (${d.detail})` : ""}`;
        case "retrying":
            return `retrying after attempt ${d.attempts}: ${d.lastError ?? ""}`;
        case "dead-letter":
            return `dead letter: ${d.lastError ?? ""}`;
        default:
            return "pending";
    }
}

export function Routes(props: { event: EventView; settings: ConsoleSettings; full?: boolean }) {
    const { event } = props;
    if (event.rules.length === 0) return <span class="muted">no rule matched</span>;
    return (
        <ul class="routes">
            {event.rules.map((rule) => (
                <li key={rule} data-testid={`route-${rule}`} data-state={event.deliveries[rule]?.state ?? "pending"}>
                    <span class="rule">{rule}</span> <Text value={routeText(event, rule, props.settings, props.full)} />
                </li>
            ))}
        </ul>
    );
}

// ---------------------------------------------------------------------------------------------------

export function EventsTable(props: ViewProps) {
    const rows = [...props.state.events.values()]
        .filter((e) => eventMatches(props.filters, e))
        .reverse()
        .slice(0, 500);
    return (
        <table aria-label="Events" data-testid="events-table">
            <thead>
                <tr>
                    <th>Time (UTC)</th>
                    <th>eventType</th>
                    <th>clientId</th>
                    <th>Status</th>
                    <th>Rules and where it went</th>
                    <th>Event id</th>
                </tr>
            </thead>
            <tbody>
                {rows.length === 0 ? (
                    <Empty columns={6} text="No event yet." />
                ) : (
                    rows.map((e) => (
                        <Row
                            key={e.eventId}
                            testid="event-row"
                            label={`Event ${e.eventId}`}
                            data={{ "event-id": e.eventId }}
                            onOpen={() => props.select({ kind: "event", id: e.eventId })}
                        >
                            <td>{clock(e.at)}</td>
                            <td data-testid="event-type">
                                <Text value={e.eventType ?? "(none)"} />
                            </td>
                            <td>
                                <Short value={e.clientId} />
                            </td>
                            <td>{e.status ?? ""}</td>
                            <td>
                                <Routes event={e} settings={props.settings} />
                            </td>
                            <td>
                                <Short value={e.eventId} />
                            </td>
                        </Row>
                    ))
                )}
            </tbody>
        </table>
    );
}

export function RequestsTable(props: ViewProps) {
    const rows = props.state.requests
        .filter((r) => requestMatches(props.filters, r))
        .slice()
        .reverse()
        .slice(0, 500);
    return (
        <table aria-label="Requests" data-testid="requests-table">
            <thead>
                <tr>
                    <th>Time (UTC)</th>
                    <th>Status</th>
                    <th>User</th>
                    <th>clientId</th>
                    <th>Entries</th>
                    <th>Failed</th>
                    <th>Latency</th>
                    <th>Outcome</th>
                </tr>
            </thead>
            <tbody>
                {rows.length === 0 ? (
                    <Empty columns={8} text="No request yet." />
                ) : (
                    rows.map((r) => (
                        <Row
                            key={r.requestId}
                            testid="request-row"
                            label={`Request ${r.requestId}`}
                            data={{ "request-id": r.requestId, status: String(r.status) }}
                            onOpen={() => props.select({ kind: "request", id: r.requestId })}
                        >
                            <td>{clock(r.at)}</td>
                            <td data-testid="request-status" class={r.status >= 400 ? "bad" : r.status === 207 ? "warn" : "good"}>
                                {r.status}
                            </td>
                            <td>
                                <Short value={r.principalId} />
                            </td>
                            <td>
                                <Short value={r.clientId} />
                            </td>
                            <td>{r.entryCount}</td>
                            <td>{r.failedEntryCount}</td>
                            <td>{r.latencyMs.toFixed(1)} ms</td>
                            <td>
                                <Text value={r.message ?? r.note} />
                            </td>
                        </Row>
                    ))
                )}
            </tbody>
        </table>
    );
}

/** One entry of a request with what EventBridge answered (the request detail shows these). */
export function EntryResults(props: { request: ConsoleState["requests"][number] }) {
    return (
        <table aria-label="Entries of the request" data-testid="request-entries">
            <thead>
                <tr>
                    <th>#</th>
                    <th>Entry as sent</th>
                    <th>Result</th>
                </tr>
            </thead>
            <tbody>
                {props.request.entries.map((e, i) => (
                    <tr key={i} data-testid="request-entry" data-result={e.eventId ? "accepted" : "failed"}>
                        <td>{i + 1}</td>
                        <td class="mono wrap">
                            <Text value={e.entry} />
                        </td>
                        <td>
                            {e.eventId ? (
                                <span class="good">{`accepted ${e.eventId}`}</span>
                            ) : (
                                <span class="bad">
                                    <Text value={`${e.errorCode ?? ""}: ${e.errorMessage ?? ""}`} />
                                </span>
                            )}
                        </td>
                    </tr>
                ))}
            </tbody>
        </table>
    );
}

// ---------------------------------------------------------------------------------------------------

function RejectedEntries(props: ViewProps) {
    const rows = props.state.rejectedEntries
        .filter(
            (r) =>
                (props.filters.eventType === "" || entryEventType(r.entry) === props.filters.eventType) &&
                (props.filters.clientId === "" || (r.clientId ?? "").includes(props.filters.clientId)) &&
                statusMatches(props.filters.status, r.status),
        )
        .slice()
        .reverse();
    return (
        <table aria-label="Rejected entries" data-testid="rejected-entries">
            <thead>
                <tr>
                    <th>Time (UTC)</th>
                    <th>clientId</th>
                    <th>Error code</th>
                    <th>Reason</th>
                    <th>Entry as sent</th>
                </tr>
            </thead>
            <tbody>
                {rows.length === 0 ? (
                    <Empty columns={5} text="No entry rejected." />
                ) : (
                    rows.map((r) => (
                        <Row
                            key={`${r.requestId}-${r.index}`}
                            testid="rejected-entry"
                            label={`Rejected entry ${r.index + 1} of request ${r.requestId}`}
                            data={{ "error-code": r.errorCode ?? "" }}
                            onOpen={() => props.select({ kind: "rejected-entry", requestId: r.requestId, index: r.index })}
                        >
                            <td>{clock(r.at)}</td>
                            <td>
                                <Text value={r.clientId} />
                            </td>
                            <td data-testid="error-code">
                                <Text value={r.errorCode} />
                            </td>
                            <td>
                                <Text value={r.errorMessage} />
                            </td>
                            <td class="mono wrap" data-testid="entry-text">
                                <Text value={r.entry} />
                            </td>
                        </Row>
                    ))
                )}
            </tbody>
        </table>
    );
}

function ErrorRecords(props: ViewProps) {
    const byType = new Map<string, typeof props.state.errorRecords>();
    for (const r of props.state.errorRecords) {
        const type = r.errorType ?? "unknown";
        const list = byType.get(type) ?? [];
        list.push(r);
        byType.set(type, list);
    }
    if (byType.size === 0)
        return (
            <p class="muted" data-testid="error-records-empty">
                No record in Firehose's error output.
            </p>
        );
    return (
        <div data-testid="error-records">
            {[...byType.entries()].map(([type, rows]) => (
                <table key={type} aria-label={`Error output ${type}`} data-testid="error-type" data-error-type={type}>
                    <caption>
                        <Text value={`errors/${type}/ (${rows.length})`} />
                    </caption>
                    <thead>
                        <tr>
                            <th>Time (UTC)</th>
                            <th>Error code</th>
                            <th>Reason</th>
                            <th>Raw data (decoded)</th>
                        </tr>
                    </thead>
                    <tbody>
                        {rows
                            .slice()
                            .reverse()
                            .map((r) => (
                                <Row
                                    key={`${r.key}-${r.index}`}
                                    testid="error-record"
                                    label={`Error record ${r.index + 1} of ${r.key}`}
                                    data={{ "error-code": r.errorCode }}
                                    onOpen={() => props.select({ kind: "error-record", key: r.key, index: r.index })}
                                >
                                    <td>{clock(r.at)}</td>
                                    <td>
                                        <Text value={r.errorCode} />
                                    </td>
                                    <td>
                                        <Text value={r.errorMessage} />
                                    </td>
                                    <td class="mono wrap" data-testid="raw-data">
                                        <Text value={r.raw} />
                                    </td>
                                </Row>
                            ))}
                    </tbody>
                </table>
            ))}
        </div>
    );
}

function RefusedRequests(props: ViewProps) {
    const rows = props.state.requests
        .filter((r) => r.status >= 400 && requestMatches(props.filters, r))
        .slice()
        .reverse();
    return (
        <table aria-label="Refused requests" data-testid="refused-requests">
            <thead>
                <tr>
                    <th>Time (UTC)</th>
                    <th>Status</th>
                    <th>clientId</th>
                    <th>Reason</th>
                </tr>
            </thead>
            <tbody>
                {rows.length === 0 ? (
                    <Empty columns={4} text="No request refused." />
                ) : (
                    rows.map((r) => (
                        <Row
                            key={r.requestId}
                            testid="refused-request"
                            label={`Refused request ${r.requestId}`}
                            data={{ status: String(r.status) }}
                            onOpen={() => props.select({ kind: "request", id: r.requestId })}
                        >
                            <td>{clock(r.at)}</td>
                            <td class="bad">{r.status}</td>
                            <td>
                                <Short value={r.clientId} />
                            </td>
                            <td>
                                <Text value={r.message ?? r.note} />
                            </td>
                        </Row>
                    ))
                )}
            </tbody>
        </table>
    );
}

export function ErrorsView(props: ViewProps) {
    const { ticketRefusals, firehoseFailures } = props.state;
    return (
        <div>
            <h3>Entries EventBridge rejected</h3>
            <RejectedEntries {...props} />
            <h3>Firehose error output, by type</h3>
            <ErrorRecords {...props} />
            <h3>Requests refused</h3>
            <RefusedRequests {...props} />
            {ticketRefusals.length > 0 && (
                <>
                    <h3>Tickets the Zendesk recorder refused</h3>
                    <ul data-testid="ticket-refusals">
                        {ticketRefusals.map((t) => (
                            <li key={t.seq}>
                                {`${clock(t.at)} HTTP ${t.status}: `}
                                <Text value={t.reason} />
                            </li>
                        ))}
                    </ul>
                </>
            )}
            {firehoseFailures.length > 0 && (
                <>
                    <h3>Firehose deliveries that failed (kept in the journal)</h3>
                    <ul data-testid="firehose-failures">
                        {firehoseFailures.map((f) => (
                            <li key={f.seq}>
                                {`${clock(f.at)} ${f.records} records: `}
                                <Text value={f.reason} />
                            </li>
                        ))}
                    </ul>
                </>
            )}
        </div>
    );
}

// ---------------------------------------------------------------------------------------------------

function ObjectRow(props: { object: ObjectView; select: ViewProps["select"] }) {
    const o = props.object;
    const name = o.key.slice(o.partition.length);
    return (
        <Row
            testid="object-row"
            label={`Object ${o.key}`}
            data={{ key: o.key }}
            onOpen={() => props.select({ kind: "object", key: o.key })}
        >
            <td>{clock(o.at)}</td>
            <td class="mono wrap">
                <Text value={name} />
            </td>
            <td>{o.records}</td>
            <td>{o.bytes}</td>
            <td>
                <button
                    type="button"
                    aria-label={`View lines of ${o.key}`}
                    onClick={(e) => {
                        e.stopPropagation();
                        props.select({ kind: "object", key: o.key });
                    }}
                >
                    View lines
                </button>
            </td>
        </Row>
    );
}

export function FirehoseView(props: ViewProps) {
    const waiting = eventsInBuffer(props.state, props.settings.archiveRule ?? "archive");
    const groups = objectsByPartition(props.state.objects);
    return (
        <div>
            <h3>Buffer</h3>
            <p data-testid="buffer-waiting">
                {`${props.gauges.BufferedRecords ?? 0} records waiting in the buffer of ${props.settings.deliveryStreamName ?? "the stream"} (written every ${props.settings.bufferSeconds ?? "?"} s, or now with the button above)`}
            </p>
            {waiting.length > 0 && (
                <ul data-testid="buffer-events" aria-label="Events waiting in the Firehose buffer">
                    {waiting.slice(-50).map((e) => (
                        <li key={e.eventId} class="mono">
                            <Text value={`${e.eventType ?? "(none)"} ${e.eventId}`} />
                        </li>
                    ))}
                </ul>
            )}
            <h3>Objects written, by partition</h3>
            {groups.length === 0 ? (
                <p class="muted">No object written yet.</p>
            ) : (
                groups.map((g) => (
                    <table key={g.partition} aria-label={`Partition ${g.partition}`} data-testid="partition" data-partition={g.partition}>
                        <caption class="mono">
                            <Text
                                value={`${g.partition} (${g.objects.length} objects, ${g.objects.reduce((n, o) => n + o.records, 0)} records)`}
                            />
                        </caption>
                        <thead>
                            <tr>
                                <th>Time (UTC)</th>
                                <th>Object</th>
                                <th>Records</th>
                                <th>Bytes</th>
                                <th>Lines</th>
                            </tr>
                        </thead>
                        <tbody>
                            {g.objects.map((o) => (
                                <ObjectRow key={o.key} object={o} select={props.select} />
                            ))}
                        </tbody>
                    </table>
                ))
            )}
        </div>
    );
}

export function DeadLettersTable(props: ViewProps) {
    const rows = props.state.deadLetters.slice().reverse();
    return (
        <table aria-label="Dead letters" data-testid="dead-letters">
            <thead>
                <tr>
                    <th>Time (UTC)</th>
                    <th>Rule</th>
                    <th>Event id</th>
                    <th>ERROR_CODE</th>
                    <th>ERROR_MESSAGE</th>
                    <th>RETRY_ATTEMPTS</th>
                    <th>EXHAUSTED_RETRY_CONDITION</th>
                </tr>
            </thead>
            <tbody>
                {rows.length === 0 ? (
                    <Empty columns={7} text="No dead letter." />
                ) : (
                    rows.map((d) => (
                        <Row
                            key={d.seq}
                            testid="dead-letter-row"
                            label={`Dead letter of event ${d.eventId}`}
                            data={{ "event-id": d.eventId, rule: d.rule }}
                            onOpen={() => props.select({ kind: "dead-letter", seq: d.seq })}
                        >
                            <td>{clock(d.at)}</td>
                            <td>{d.rule}</td>
                            <td>
                                <Short value={d.eventId} />
                            </td>
                            <td data-testid="dlq-error-code">
                                <Text value={d.attributes.ERROR_CODE} />
                            </td>
                            <td>
                                <Text value={d.attributes.ERROR_MESSAGE} />
                            </td>
                            <td>{d.attributes.RETRY_ATTEMPTS}</td>
                            <td>
                                <Text value={d.attributes.EXHAUSTED_RETRY_CONDITION} />
                            </td>
                        </Row>
                    ))
                )}
            </tbody>
        </table>
    );
}

export function TicketsTable(props: ViewProps) {
    const rows = props.state.tickets.slice().reverse();
    return (
        <table aria-label="Tickets" data-testid="tickets">
            <thead>
                <tr>
                    <th>Time (UTC)</th>
                    <th>Ticket</th>
                    <th>Subject</th>
                    <th>Event id</th>
                </tr>
            </thead>
            <tbody>
                {rows.length === 0 ? (
                    <Empty columns={4} text="No ticket opened yet." />
                ) : (
                    rows.map((t) => (
                        <Row
                            key={t.seq}
                            testid="ticket-row"
                            label={`Ticket ${t.ticketId}`}
                            data={{ "ticket-id": String(t.ticketId), "event-id": t.eventId ?? "" }}
                            onOpen={() => props.select({ kind: "ticket", seq: t.seq })}
                        >
                            <td>{clock(t.at)}</td>
                            <td>{`#${t.ticketId}`}</td>
                            <td>
                                <Text value={t.subject} />
                            </td>
                            <td>
                                <Short value={t.eventId} />
                            </td>
                        </Row>
                    ))
                )}
            </tbody>
        </table>
    );
}
