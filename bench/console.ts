// The console's activity feed: what every accepted event costs local mode (the records the bus and Firehose
// report, normalized and counted for /_local/metrics), and reading the event ids of a written object.
import type { BenchRow } from "./table";

const AREA = "console";

export async function run(): Promise<BenchRow[]> {
    const { ActivityFeed } = await import("../local/activity");
    const { LocalMetrics } = await import("../local/metrics");
    const feed = new ActivityFeed();
    new LocalMetrics(feed, { stage: "bench", eventBusName: "bench", deliveryStreamName: "bench" });
    const detail = {
        eventType: "searching",
        schemaVersion: 1,
        eventId: "5f0c1a9e-2b1c-4c1e-9f0a-1b2c3d4e5f60",
        data: { query: "it's a bench", itemSku: 1234 },
    };
    const detailText = JSON.stringify(detail);
    const envelope = {
        "detail-type": "local",
        source: "clientevents",
        account: "000000000000",
        time: "2026-01-01T00:00:00Z",
        region: "us-east-1",
        resources: ["c0ffee00-0000-4000-8000-000000000000"],
    };
    const events = 200_000;
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < events; i++) {
        const id = `5f0c1a9e-2b1c-4c1e-9f0a-${String(i).padStart(12, "0")}`;
        feed.emit({ type: "event", event: { version: "0", id, ...envelope, detail } as { id: string }, detailText });
        feed.emit({ type: "match", eventId: id, rule: "archive" });
        feed.emit({ type: "delivery", eventId: id, rule: "archive", target: "archive", attempts: 1, detail: "firehose bench" });
        feed.emit({ type: "firehose-put", stream: "bench", bytes: 300 });
    }
    const perEvent = Number(process.hrtime.bigint() - t0) / 1e3 / events;

    const lines = 5000;
    const body = Buffer.from(
        Array.from({ length: lines }, (_, i) => JSON.stringify({ version: "0", id: `id-${i}`, ...envelope, detail })).join("\n") + "\n",
    );
    const t1 = process.hrtime.bigint();
    feed.emit({
        type: "object",
        stream: "bench",
        bucket: "bench",
        key: "events/eventType=searching/x",
        records: lines,
        bytes: body.length,
        error: false,
        body,
    });
    const objectMs = Number(process.hrtime.bigint() - t1) / 1e6;
    return [
        {
            area: AREA,
            case: "activity feed, per accepted event (4 records)",
            value: Math.round(perEvent * 100) / 100,
            unit: "µs",
            note: "event, match, delivery, Firehose put; with the metrics",
        },
        {
            area: AREA,
            case: `activity feed, object of ${lines} records`,
            value: Math.round(objectMs * 10) / 10,
            unit: "ms",
            note: "reads each record's event id",
        },
    ];
}
