/** Firehose delivery in a worker thread: every record written exactly once, and backpressure on acceptance. */
import { strict as assert } from "node:assert";
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { TRANSFORM_INVOCATION } from "../pipeline/partitioning";
import { ActivityFeed } from "../local/activity";
import { LocalEventBus } from "../local/eventbridge";
import { FirehoseNotWritten } from "../local/firehose";
import { WorkerFirehose, type WorkerFirehoseOptions } from "../local/firehose-worker";
import { createLogger } from "../local/log";
import { listFiles, tempDataDir, testFirehoseSettings } from "./support/local";

const quiet = createLogger({ quiet: true });

function stream(dataDir: string, extra: Partial<WorkerFirehoseOptions> = {}, activity?: ActivityFeed): WorkerFirehose {
    return new WorkerFirehose(
        {
            quiet: true,
            firehose: {
                ...testFirehoseSettings(dataDir),
                transform: {
                    lambdaArn: "arn:aws:lambda:eu-west-1:000000000000:function:t",
                    batchBytes: TRANSFORM_INVOCATION.bufferSizeMiB * 1024 * 1024,
                    numberOfRetries: 3,
                },
            },
            ...extra,
        },
        quiet,
        activity,
    );
}

/** An event as the bus hands it to the archive target. */
const event = (i: number) =>
    JSON.stringify({
        version: "0",
        id: `event-${i}`,
        "detail-type": "dev",
        source: "clientevents",
        account: "000000000000",
        time: "2026-01-02T03:04:05Z",
        region: "eu-west-1",
        resources: ["c-9"],
        detail: { eventType: i % 2 ? "shopping" : "paging", schemaVersion: 1, n: i },
    });

/** Every event id in the bucket's objects, with how often it is there. */
function archivedIds(dataDir: string): Map<string, number> {
    const bucket = path.join(dataDir, "s3", "b");
    const ids = new Map<string, number>();
    for (const key of listFiles(bucket)) {
        for (const line of readFileSync(path.join(bucket, key), "utf8").split("\n").filter(Boolean)) {
            const id = (JSON.parse(line) as { id: string }).id;
            ids.set(id, (ids.get(id) ?? 0) + 1);
        }
    }
    return ids;
}

describe("Firehose delivery in a worker thread", () => {
    it("writes every record put exactly once, resolves each put() after its object is written, and reports it to the feed", async () => {
        const dataDir = tempDataDir();
        const feed = new ActivityFeed(100_000);
        const firehose = stream(dataDir, { flushEveryRecords: 1500 }, feed);
        assert.match(await firehose.ready, /jq/);
        const written: number[] = [];
        const puts = Array.from({ length: 4000 }, (_, i) =>
            firehose.put(i % 3 ? event(i) : Buffer.from(event(i))).then(() => written.push(i)),
        );
        await Promise.all(puts);
        assert.equal(written.length, 4000);
        const ids = archivedIds(dataDir);
        assert.equal(ids.size, 4000);
        assert.deepEqual([...new Set(ids.values())], [1], "no record twice");
        assert.ok(listFiles(path.join(dataDir, "s3", "b")).every((k) => /^events\/eventType=(shopping|paging)\/schemaVersion=1\//.test(k)));
        const objects = feed.since(0).filter((r) => r.type === "object");
        assert.equal(
            objects.reduce((n, r) => n + (r.type === "object" ? r.eventIds.length : 0), 0),
            4000,
        );
        const incoming = feed.since(0).filter((r) => r.type === "firehose-put");
        assert.equal(
            incoming.reduce((n, r) => n + (r.type === "firehose-put" ? (r.records ?? 1) : 0), 0),
            4000,
        );
        assert.ok(feed.since(0).some((r) => r.type === "lambda" && r.name === "firehose-transform"));
        assert.deepEqual(await firehose.close(), { notWritten: 0, problems: [] });
        await assert.rejects(firehose.put(event(1)), FirehoseNotWritten);
    });

    it("moves records of any UTF-8 length to the thread intact, strings and buffers in one batch", async () => {
        const dataDir = tempDataDir();
        const firehose = stream(dataDir);
        await firehose.ready;
        // One turn of the event loop: the 60 records travel in one packed message.
        await putAndCheck(dataDir, firehose, ["a", "é ü ß", "✓ — €", "😀 𝄞", "\u2028\u2029", "x".repeat(70_000)]);
    });

    it("splits a turn's records into several messages past maxMessageBytes, and still writes each once", async () => {
        const dataDir = tempDataDir();
        const firehose = stream(dataDir, { maxMessageBytes: 1024 });
        await firehose.ready;
        await putAndCheck(dataDir, firehose, ["é".repeat(300), "b", "😀".repeat(100)]);
    });

    /** Puts 60 records in one turn (record i's detail holds texts[i % texts.length]), then checks each is archived once with its text. */
    async function putAndCheck(dataDir: string, firehose: WorkerFirehose, texts: string[]) {
        const record = (i: number) => {
            const e = JSON.parse(event(i)) as { detail: Record<string, unknown> };
            e.detail.text = texts[i % texts.length];
            return JSON.stringify(e);
        };
        const puts = Array.from({ length: 60 }, (_, i) => firehose.put(i % 2 ? record(i) : Buffer.from(record(i), "utf8")));
        await firehose.flush();
        await Promise.all(puts);
        const bucket = path.join(dataDir, "s3", "b");
        const archived = new Map<string, string>();
        for (const key of listFiles(bucket)) {
            for (const line of readFileSync(path.join(bucket, key), "utf8").split("\n").filter(Boolean)) {
                const e = JSON.parse(line) as { id: string; detail: { text: string } };
                archived.set(e.id, e.detail.text);
            }
        }
        assert.equal(archived.size, 60);
        for (let i = 0; i < 60; i++) assert.equal(archived.get(`event-${i}`), texts[i % texts.length], `record ${i}`);
        await firehose.close();
    }

    it("keeps records buffered until a flush, and close() writes them", async () => {
        const dataDir = tempDataDir();
        const firehose = stream(dataDir);
        await firehose.ready;
        const put = firehose.put(event(1));
        assert.equal(firehose.pendingRecords, 1);
        await new Promise((resolve) => setTimeout(resolve, 100));
        assert.equal(archivedIds(dataDir).size, 0, "the buffer waits for its interval");
        assert.deepEqual(await firehose.close(), { notWritten: 0, problems: [] });
        await put;
        assert.deepEqual([...archivedIds(dataDir).keys()], ["event-1"]);
    });

    it("makes admit() wait while too many records wait for their object, and delivers them to make room", async () => {
        const dataDir = tempDataDir();
        const firehose = stream(dataDir, { maxInFlightRecords: 50, flushEveryRecords: 1_000_000 });
        await firehose.ready;
        const puts = Array.from({ length: 50 }, (_, i) => firehose.put(event(i)));
        assert.equal(firehose.admit() instanceof Promise, true, "50 records in flight: admission waits");
        await firehose.admit(); // resolves once the early flush wrote them
        await Promise.all(puts);
        assert.equal(firehose.inFlightRecords, 0);
        assert.equal(firehose.admit(), undefined);
        assert.equal(archivedIds(dataDir).size, 50);
        await firehose.close();
    });

    it("the bus journals and answers nothing while its admit() waits", async () => {
        const dataDir = tempDataDir();
        let open: () => void = () => undefined;
        const gate = new Promise<void>((resolve) => (open = resolve));
        const bus = new LocalEventBus(
            {
                name: "bus",
                region: "eu-west-1",
                accountId: "000000000000",
                dataDir,
                retryBaseMs: 5,
                retryMaxDelayMs: 10,
                admit: () => gate,
            },
            [
                {
                    name: "r",
                    eventPattern: { source: ["clientevents"] },
                    targets: [
                        {
                            id: "t",
                            arn: "arn:t",
                            retryPolicy: { maximumRetryAttempts: 0, maximumEventAgeInSeconds: 60 },
                            deadLetter: false,
                            deliver: async () => ({ ok: true }),
                        },
                    ],
                },
            ],
            quiet,
        );
        let answered = false;
        const answer = bus
            .putEvents(JSON.stringify({ Entries: [{ Source: "clientevents", DetailType: "d", Detail: "{}", EventBusName: "bus" }] }))
            .then((a) => {
                answered = true;
                return a;
            });
        await new Promise((resolve) => setTimeout(resolve, 50));
        assert.equal(answered, false);
        assert.equal(bus.journal.stats.appendedEvents, 0);
        open();
        assert.equal(JSON.parse((await answer).body).FailedEntryCount, 0);
        assert.equal(bus.journal.stats.appendedEvents, 1);
        await bus.close();
    });
});
