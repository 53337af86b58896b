/** The detail panel: an item's full JSON, an event's route, a request's entries, an object's lines. */
import { useEffect, useState } from "preact/hooks";
import type { ConsoleState } from "./model";
import { EntryResults, Routes, Text, type ConsoleSettings, type Selection } from "./views";

interface ObjectLines {
    key: string;
    lineCount: number;
    truncated: boolean;
    lines: string[];
}

function Json(props: { value: unknown; label: string }) {
    return (
        <pre class="json" data-testid="detail-json" aria-label={props.label}>
            {JSON.stringify(props.value, null, 2)}
        </pre>
    );
}

function ObjectDetail(props: { objectKey: string }) {
    const [lines, setLines] = useState<ObjectLines | { error: string } | undefined>(undefined);
    useEffect(() => {
        let live = true;
        setLines(undefined);
        fetch(`api/object?key=${encodeURIComponent(props.objectKey)}`)
            .then(async (res) => {
                const body = (await res.json()) as ObjectLines & { message?: string };
                if (live) setLines(res.ok ? body : { error: body.message ?? `HTTP ${res.status}` });
            })
            .catch((err: Error) => live && setLines({ error: err.message }));
        return () => {
            live = false;
        };
    }, [props.objectKey]);
    return (
        <div>
            <h2>Object</h2>
            <p class="mono wrap" data-testid="detail-object-key">
                <Text value={props.objectKey} />
            </p>
            {lines === undefined ? (
                <p>Loading…</p>
            ) : "error" in lines ? (
                <p class="bad">
                    <Text value={lines.error} />
                </p>
            ) : (
                <>
                    <p>{`${lines.lineCount} lines${lines.truncated ? ` (first ${lines.lines.length} shown)` : ""}`}</p>
                    <ol class="lines" data-testid="object-lines" aria-label="Lines of the object">
                        {lines.lines.map((l, i) => (
                            <li key={i} class="mono wrap" data-testid="object-line">
                                <Text value={l} />
                            </li>
                        ))}
                    </ol>
                </>
            )}
        </div>
    );
}

function EventDetail(props: { state: ConsoleState; id: string; settings: ConsoleSettings }) {
    const e = props.state.events.get(props.id);
    if (!e) return <p>The event is no longer in the console's memory.</p>;
    return (
        <div>
            <h2>Event</h2>
            <p class="mono" data-testid="detail-event-id">
                {e.eventId}
            </p>
            <h3>Where it went</h3>
            <Routes event={e} settings={props.settings} full />
            {e.deadLetters.length > 0 && <Json value={e.deadLetters} label="Dead-letter attributes" />}
            <h3>As EventBridge saw it</h3>
            <Json value={e.event} label="The event as JSON" />
            {e.detailText !== undefined && (
                <>
                    <h3>Detail as the client wrote it</h3>
                    <pre class="json" data-testid="detail-text">
                        <Text value={e.detailText} />
                    </pre>
                </>
            )}
        </div>
    );
}

export function Detail(props: { state: ConsoleState; selection: Selection | undefined; settings: ConsoleSettings; close: () => void }) {
    const { state, selection } = props;
    let body;
    if (!selection) body = <p class="muted">Click a row to see its full JSON.</p>;
    else if (selection.kind === "event") body = <EventDetail state={state} id={selection.id} settings={props.settings} />;
    else if (selection.kind === "object") body = <ObjectDetail objectKey={selection.key} />;
    else if (selection.kind === "request") {
        const r = state.requests.find((q) => q.requestId === selection.id);
        body = r ? (
            <div>
                <h2>Request</h2>
                <EntryResults request={r} />
                <Json value={r} label="The request as JSON" />
            </div>
        ) : (
            <p>Gone from memory.</p>
        );
    } else if (selection.kind === "dead-letter") {
        const d = state.deadLetters.find((x) => x.seq === selection.seq);
        body = d ? (
            <div>
                <h2>Dead letter</h2>
                <Json value={{ attributes: d.attributes, body: safeParse(d.body) }} label="The dead-letter message as JSON" />
            </div>
        ) : (
            <p>Gone from memory.</p>
        );
    } else if (selection.kind === "ticket") {
        const t = state.tickets.find((x) => x.seq === selection.seq);
        body = t ? (
            <div>
                <h2>{`Ticket #${t.ticketId}`}</h2>
                <Json value={t.ticket} label="The ticket as JSON" />
            </div>
        ) : (
            <p>Gone from memory.</p>
        );
    } else if (selection.kind === "error-record") {
        const r = state.errorRecords.find((x) => x.key === selection.key && x.index === selection.index);
        body = r ? (
            <div>
                <h2>Error record</h2>
                <Json value={r} label="The error record as JSON" />
            </div>
        ) : (
            <p>Gone from memory.</p>
        );
    } else {
        const r = state.rejectedEntries.find((x) => x.requestId === selection.requestId && x.index === selection.index);
        body = r ? (
            <div>
                <h2>Rejected entry</h2>
                <Json value={r} label="The rejected entry as JSON" />
            </div>
        ) : (
            <p>Gone from memory.</p>
        );
    }
    return (
        <aside class="detail" aria-label="Details" data-testid="detail">
            {selection && (
                <button type="button" class="close" onClick={props.close} aria-label="Close details">
                    ×
                </button>
            )}
            {body}
        </aside>
    );
}

function safeParse(text: string): unknown {
    try {
        return JSON.parse(text);
    } catch {
        return text;
    }
}
