/**
 * The console page: polls the activity feed (every 500 ms) and /_local/metrics (every second), folds the
 * records into the state (model.ts) and renders counts, the chart, filters, tabs and the detail panel.
 */
import { useEffect, useMemo, useRef, useState } from "preact/hooks";
import { fillTimeline, RateChart, type TimelinePoint } from "./chart";
import { Detail } from "./detail";
import { applyRecord, emptyState, type ConsoleState, type Filters } from "./model";
import {
    DeadLettersTable,
    ErrorsView,
    EventsTable,
    FirehoseView,
    RequestsTable,
    TicketsTable,
    type ConsoleSettings,
    type Selection,
    type ViewProps,
} from "./views";
import type { Activity } from "../../activity";

const ACTIVITY_POLL_MS = 500;
const METRICS_POLL_MS = 1000;

const TABS = [
    { id: "events", name: "Events", View: EventsTable },
    { id: "requests", name: "Requests", View: RequestsTable },
    { id: "errors", name: "Errors", View: ErrorsView },
    { id: "firehose", name: "Firehose", View: FirehoseView },
    { id: "dead-letters", name: "Dead letters", View: DeadLettersTable },
    { id: "tickets", name: "Tickets", View: TicketsTable },
] as const;

type Metrics = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

interface ActivityAnswer {
    lastSeq: number;
    oldestSeq: number;
    startedAt: number;
    records: Activity[];
    gauges: Record<string, number>;
    settings: ConsoleSettings;
}

/** Runs `tick` now and then every `ms` (a slow answer delays the next tick instead of piling up). */
function usePoll(tick: () => Promise<void>, ms: number): void {
    useEffect(() => {
        let stopped = false;
        let timer: number | undefined;
        const loop = async () => {
            await tick().catch(() => undefined);
            if (!stopped) timer = window.setTimeout(loop, ms);
        };
        void loop();
        return () => {
            stopped = true;
            window.clearTimeout(timer);
        };
    }, []);
}

function useActivity() {
    const state = useRef<ConsoleState>(emptyState());
    const [version, setVersion] = useState(0);
    const [live, setLive] = useState<"connecting" | "live" | "disconnected">("connecting");
    const [extra, setExtra] = useState<{ gauges: Record<string, number>; settings: ConsoleSettings; startedAt: number }>({
        gauges: {},
        settings: {},
        startedAt: Date.now(),
    });
    const poll = async () => {
        try {
            const res = await fetch(`api/activity?after=${state.current.lastSeq}`, { cache: "no-store" });
            if (!res.ok) throw new Error(`HTTP ${res.status}`);
            const answer = (await res.json()) as ActivityAnswer;
            if (answer.lastSeq < state.current.lastSeq) state.current = emptyState(); // local mode restarted
            if (state.current.lastSeq > 0 && answer.oldestSeq > state.current.lastSeq + 1) state.current.missedRecords = true;
            for (const record of answer.records) applyRecord(state.current, record);
            setExtra({ gauges: answer.gauges, settings: answer.settings, startedAt: answer.startedAt });
            setLive("live");
            if (answer.records.length > 0) setVersion((v) => v + 1);
        } catch {
            setLive("disconnected");
        }
    };
    usePoll(poll, ACTIVITY_POLL_MS);
    return { state: state.current, version, live, ...extra, refresh: poll };
}

function useMetrics(): Metrics | undefined {
    const [metrics, setMetrics] = useState<Metrics | undefined>(undefined);
    usePoll(async () => {
        const res = await fetch("metrics", { cache: "no-store" });
        if (res.ok) setMetrics((await res.json()) as Metrics);
    }, METRICS_POLL_MS);
    return metrics;
}

function Tile(props: { id: string; label: string; value: string | number }) {
    return (
        <div class="tile" role="group" aria-label={props.label} data-testid={`count-${props.id}`}>
            <span class="tile-label">{props.label}</span>
            <span class="tile-value" data-testid={`count-${props.id}-value`}>
                {props.value}
            </span>
        </div>
    );
}

function Counts(props: { metrics: Metrics | undefined }) {
    const m = props.metrics;
    if (!m)
        return (
            <section class="counts" aria-label="Counts" data-testid="counts">
                <p>Loading figures…</p>
            </section>
        );
    const sum = (o: Record<string, { NumberOfMessagesSent?: { sum: number } }>) =>
        Object.values(o ?? {}).reduce((n, q) => n + (q.NumberOfMessagesSent?.sum ?? 0), 0);
    const entries = m.eventBridge.PutEventsEntriesCount.sum - m.eventBridge.PutEventsFailedEntriesCount.sum;
    const ms = (v: number | null) => (v === null ? "–" : `${v} ms`);
    return (
        <section class="counts" aria-label="Counts since start" data-testid="counts">
            <Tile id="requests" label="Requests" value={m.api.Count.sum} />
            <Tile id="4xx" label="4XX errors" value={m.api["4XXError"].sum} />
            <Tile id="5xx" label="5XX errors" value={m.api["5XXError"].sum} />
            <Tile id="latency" label="Latency p50 / p99" value={`${ms(m.api.Latency.p50)} / ${ms(m.api.Latency.p99)}`} />
            <Tile id="events" label="Events accepted" value={entries} />
            <Tile id="rejected" label="Entries rejected" value={m.eventBridge.PutEventsFailedEntriesCount.sum} />
            <Tile id="buffered" label="Records buffered" value={m.firehose.BufferedRecords ?? 0} />
            <Tile id="objects" label="Objects written" value={m.firehose["DeliveryToS3.ObjectCount"].sum} />
            <Tile
                id="error-records"
                label="Error records"
                value={Object.values(m.firehose.errorRecordsByType as Record<string, number>).reduce((a, b) => a + b, 0)}
            />
            <Tile id="tickets" label="Tickets" value={m.zendesk.TicketsRecorded.sum} />
            <Tile id="dead-letters" label="Dead letters" value={sum(m.deadLetters)} />
        </section>
    );
}

function FilterBar(props: { filters: Filters; setFilters: (f: Filters) => void; state: ConsoleState }) {
    const { filters, setFilters } = props;
    const types = [...new Set([...props.state.events.values()].map((e) => e.eventType).filter((t): t is string => !!t))].sort();
    const statuses = [...new Set(props.state.requests.map((r) => r.status))].sort();
    return (
        <section class="filters" aria-label="Filters" data-testid="filters">
            <label>
                eventType{" "}
                <select
                    data-testid="filter-event-type"
                    value={filters.eventType}
                    onChange={(e) => setFilters({ ...filters, eventType: e.currentTarget.value })}
                >
                    <option value="">any</option>
                    {types.map((t) => (
                        <option key={t} value={t}>
                            {t}
                        </option>
                    ))}
                </select>
            </label>
            <label>
                clientId{" "}
                <input
                    data-testid="filter-client-id"
                    type="search"
                    value={filters.clientId}
                    placeholder="part of a clientId"
                    onInput={(e) => setFilters({ ...filters, clientId: e.currentTarget.value.trim() })}
                />
            </label>
            <label>
                Status{" "}
                <select
                    data-testid="filter-status"
                    value={filters.status}
                    onChange={(e) => setFilters({ ...filters, status: e.currentTarget.value })}
                >
                    <option value="">any</option>
                    {["2xx", "4xx", "5xx"].map((c) => (
                        <option key={c} value={c}>
                            {c}
                        </option>
                    ))}
                    {statuses.map((s) => (
                        <option key={s} value={String(s)}>
                            {s}
                        </option>
                    ))}
                </select>
            </label>
            <button type="button" onClick={() => setFilters({ eventType: "", clientId: "", status: "" })}>
                Clear filters
            </button>
        </section>
    );
}

function FlushButton(props: { after: () => void }) {
    const [result, setResult] = useState("");
    const flush = async () => {
        setResult("Writing the Firehose buffer…");
        try {
            const res = await fetch("api/flush", { method: "POST", headers: { "Content-Type": "application/json" }, body: "{}" });
            const body = (await res.json()) as { objects?: string[]; flushedRecords?: number; message?: string };
            setResult(
                res.ok
                    ? `Wrote ${body.flushedRecords ?? 0} records into ${body.objects?.length ?? 0} objects.`
                    : `Flush refused: ${body.message ?? res.status}`,
            );
        } catch (err) {
            setResult(`Flush failed: ${(err as Error).message}`);
        }
        props.after();
    };
    return (
        <span class="flush">
            <button type="button" data-testid="flush-button" onClick={flush}>
                Flush Firehose buffers now
            </button>
            <span role="status" aria-live="polite" data-testid="flush-result">
                {result}
            </span>
        </span>
    );
}

export function App() {
    const activity = useActivity();
    const metrics = useMetrics();
    const [filters, setFilters] = useState<Filters>({ eventType: "", clientId: "", status: "" });
    const [tab, setTab] = useState<(typeof TABS)[number]["id"]>("events");
    const [selection, setSelection] = useState<Selection | undefined>(undefined);
    const timeline = useMemo(() => {
        const t = metrics?.timeline as { bucketSeconds: number; points: TimelinePoint[] } | undefined;
        return fillTimeline(t?.points ?? [], t?.bucketSeconds ?? 5, Date.now() / 1000, activity.startedAt / 1000, 10);
    }, [metrics]);
    const props: ViewProps = { state: activity.state, filters, settings: activity.settings, gauges: activity.gauges, select: setSelection };
    const Current = TABS.find((t) => t.id === tab)!.View;
    return (
        <div class="layout">
            <header>
                <h1>client-events local console</h1>
                <span class="muted" data-testid="environment">{`environment ${activity.settings.environment ?? "?"}`}</span>
                <span class={`connection ${activity.live}`} role="status" aria-label="Connection" data-testid="connection">
                    {activity.live}
                </span>
                <FlushButton after={() => void activity.refresh()} />
            </header>
            {activity.state.missedRecords && (
                <p class="warn" role="alert" data-testid="missed">
                    Some older activity was dropped from local mode's memory before this page read it; the counts are complete.
                </p>
            )}
            <Counts metrics={metrics} />
            <section class="chart-box" aria-label="Rate and latency, last 10 minutes" data-testid="chart">
                <RateChart data={timeline} />
            </section>
            <FilterBar filters={filters} setFilters={setFilters} state={activity.state} />
            <div class="main">
                <div class="panel">
                    <div role="tablist" aria-label="Views">
                        {TABS.map((t) => (
                            <button
                                key={t.id}
                                type="button"
                                role="tab"
                                id={`tab-${t.id}`}
                                aria-selected={tab === t.id}
                                aria-controls={`panel-${t.id}`}
                                data-testid={`tab-${t.id}`}
                                onClick={() => setTab(t.id)}
                            >
                                {t.name}
                            </button>
                        ))}
                    </div>
                    <div role="tabpanel" id={`panel-${tab}`} aria-labelledby={`tab-${tab}`} data-testid={`panel-${tab}`}>
                        <Current {...props} />
                    </div>
                </div>
                <Detail state={activity.state} selection={selection} settings={activity.settings} close={() => setSelection(undefined)} />
            </div>
        </div>
    );
}
