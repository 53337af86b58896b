/** The rate and latency chart (uPlot) over the timeline of /_local/metrics. */
import { useEffect, useRef } from "preact/hooks";
import uPlot from "uplot";

export interface TimelinePoint {
    time: number;
    requestsPerSecond: number;
    eventsPerSecond: number;
    latencyP50: number | null;
    latencyP99: number | null;
}

/** Every bucket from the first shown to now: a bucket without requests is a rate of 0, latency unknown. */
export function fillTimeline(
    points: TimelinePoint[],
    bucketSeconds: number,
    nowSeconds: number,
    startedSeconds: number,
    minutes: number,
): uPlot.AlignedData {
    const last = Math.floor(nowSeconds / bucketSeconds) * bucketSeconds;
    const first = Math.max(Math.floor(startedSeconds / bucketSeconds) * bucketSeconds, last - minutes * 60 + bucketSeconds);
    const byTime = new Map(points.map((p) => [p.time, p]));
    const columns: [number[], number[], number[], (number | null)[], (number | null)[]] = [[], [], [], [], []];
    for (let t = first; t <= last; t += bucketSeconds) {
        const p = byTime.get(t);
        columns[0].push(t);
        columns[1].push(p?.requestsPerSecond ?? 0);
        columns[2].push(p?.eventsPerSecond ?? 0);
        columns[3].push(p?.latencyP50 ?? null);
        columns[4].push(p?.latencyP99 ?? null);
    }
    return columns as uPlot.AlignedData;
}

function options(width: number): uPlot.Options {
    return {
        width,
        height: 170,
        // UTC, like the table's times and the S3 keys.
        tzDate: (ts) => uPlot.tzDate(new Date(ts * 1000), "Etc/UTC"),
        scales: {
            x: { time: true },
            rate: { range: (_u, _min, max) => [0, Math.max(1, max)] },
            ms: { range: (_u, _min, max) => [0, Math.max(5, max ?? 5)] },
        },
        series: [
            {},
            { label: "requests/s", scale: "rate", stroke: "#2563eb", width: 2 },
            { label: "events/s", scale: "rate", stroke: "#16a34a", width: 2 },
            { label: "latency p50 (ms)", scale: "ms", stroke: "#d97706", width: 1.5, spanGaps: false },
            { label: "latency p99 (ms)", scale: "ms", stroke: "#dc2626", width: 1.5, dash: [4, 4], spanGaps: false },
        ],
        axes: [
            {},
            { scale: "rate", label: "per second", size: 50 },
            { scale: "ms", side: 1, label: "ms", grid: { show: false }, size: 50 },
        ],
    };
}

export function RateChart(props: { data: uPlot.AlignedData }) {
    const box = useRef<HTMLDivElement>(null);
    const plot = useRef<uPlot | null>(null);
    useEffect(() => {
        const el = box.current;
        if (!el) return undefined;
        plot.current = new uPlot(options(Math.max(300, el.clientWidth)), props.data, el);
        const resize = () => plot.current?.setSize({ width: Math.max(300, el.clientWidth), height: 170 });
        window.addEventListener("resize", resize);
        return () => {
            window.removeEventListener("resize", resize);
            plot.current?.destroy();
            plot.current = null;
        };
    }, []);
    useEffect(() => {
        plot.current?.setData(props.data);
    }, [props.data]);
    return (
        <div
            ref={box}
            class="chart"
            role="figure"
            aria-label="Requests and events per second, and request latency p50 and p99, over the last minutes"
            data-testid="rate-chart"
        />
    );
}
