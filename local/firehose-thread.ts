/**
 * The worker thread that runs local mode's Firehose delivery stream (buffering, the transform Lambda, jq
 * partitioning, object writes: LocalFirehose) off the thread that answers requests. It receives records from
 * local/firehose-worker.ts and sends back, in batches, which records are written, what the activity feed should
 * show (already normalized, so the request thread does not decode objects) and log lines.
 */
import { parentPort, workerData } from "node:worker_threads";
import { createTransformHandler } from "../handlers/firehose-transform";
import { loadValidators } from "../schemas/compile";
import { normalize, type ActivityInput } from "./activity";
import { LocalFirehose } from "./firehose";
import { asLocalLambda } from "./lambda";
import type { Logger } from "./log";
import type { FromThread, ThreadSettings, ToThread } from "./firehose-worker";

if (!parentPort) throw new Error("local/firehose-thread.ts runs only as a worker thread (local/firehose-worker.ts starts it)");
const port = parentPort;
const settings = workerData as ThreadSettings;

/** What goes to the request thread, gathered over one turn of the event loop and sent as one message. */
const outbox: Extract<FromThread, { t: "batch" }> = {
    t: "batch",
    written: [],
    failed: [],
    activity: [],
    logs: [],
    received: 0,
    buffered: 0,
    parked: 0,
};
let scheduled = false;

function send(): void {
    scheduled = false;
    outbox.buffered = firehose.pendingRecords;
    outbox.parked = firehose.parkedRecords;
    port.postMessage(outbox);
    outbox.written = [];
    outbox.failed = [];
    outbox.activity = [];
    outbox.logs = [];
}

function schedule(): void {
    if (scheduled) return;
    scheduled = true;
    setImmediate(send);
}

const log: Logger = settings.quiet
    ? { info: () => undefined, warn: () => undefined, quiet: true }
    : {
          info: (m) => {
              outbox.logs.push(["info", m]);
              schedule();
          },
          warn: (m) => {
              outbox.logs.push(["warn", m]);
              schedule();
          },
      };

const activity = {
    emit(input: ActivityInput): void {
        // Incoming records are counted on the request thread, one report per batch sent here.
        if (input.type === "firehose-put") return;
        try {
            outbox.activity.push(normalize(input));
            schedule();
        } catch {
            // the feed never fails a delivery
        }
    },
};

const policy = settings.schemas && { ...settings.schemas, validators: loadValidators(settings.schemas.source) };
const firehoseTransform = createTransformHandler({ schemas: policy });

const { transform, ...rest } = settings.firehose;
const firehose = new LocalFirehose(
    {
        ...rest,
        transform: transform && { ...transform, handler: asLocalLambda("firehose-transform", log, firehoseTransform, activity) },
        activity,
    },
    log,
);

function reply(message: FromThread): void {
    if (scheduled) send(); // settlements first: a flush's answer comes after the records it wrote
    port.postMessage(message);
}

port.on("message", (message: ToThread) => {
    switch (message.t) {
        case "put": {
            outbox.received += message.ids.length;
            schedule(); // the request thread's gauge of buffered records
            const { ids } = message;
            const records = {
                body: Buffer.from(message.body.buffer, message.body.byteOffset, message.body.byteLength),
                ends: message.ends,
            };
            firehose.putMany(records, (index, error) => {
                if (error) outbox.failed.push([ids[index], error.message]);
                else outbox.written.push(ids[index]);
                schedule();
            });
            return;
        }
        case "flush":
            void firehose.flush().then(() => setImmediate(() => reply({ t: "done", call: message.call })));
            return;
        case "close":
            void firehose.close().then((result) => setImmediate(() => reply({ t: "done", call: message.call, result })));
            return;
    }
});

port.postMessage({ t: "ready", jq: firehose.jq.name } satisfies FromThread);
