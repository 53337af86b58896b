/**
 * `GET /_local/metrics` after a generator run against local mode: every count equals what the generator
 * says it sent and what is on disk (objects, records, tickets), counted independently of the metrics.
 */
import { strict as assert } from "node:assert";
import { recordingIo } from "./support/cli-io";
import { connectionArgs } from "../generator/settings";
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { runCli } from "../generator/cli";
import type { RunSummary } from "../generator/stats";
import { ARCHIVE_RULE, ZENDESK_RULE } from "../local";
import { METRIC_NAMES } from "../local/metrics";
import { jsonLines, listFiles, postEntries, postRaw, signUpUser, startTestLocal, type StartedLocal } from "./support/local";

describe("local mode /_local/metrics", function () {
    this.timeout(60_000);
    let started: StartedLocal;
    let summary: RunSummary;
    let metrics: any;

    before(async () => {
        started = await startTestLocal();
        const { local } = started;
        const user = await signUpUser(started, "metrics-user");
        const o = local.outputs;
        const run = recordingIo();
        const code = await runCli(
            [
                "run",
                "--userid",
                user.username,
                "--password",
                user.password,
                ...connectionArgs(o),
                "--batches",
                "5",
                "--batch",
                "10",
                "--loyalty",
                "--seed",
                "7",
                "--json",
            ],
            run,
        );
        assert.equal(code, 0, run.errText);
        summary = JSON.parse(run.out) as RunSummary;
        // Beside the generator: one request with a rejected entry, one without a token.
        const mixed = await postEntries(local, user.accessToken, [
            JSON.stringify({ eventType: "paging", schemaVersion: 1, data: { page: 1 } }),
            "not json",
        ]);
        assert.equal(mixed.status, 207);
        assert.equal((await postRaw(local, JSON.stringify({ entries: [{ entry: "{}" }] }))).status, 401);
        await local.flush();
        const res = await fetch(new URL("metrics", local.details.consoleUrl));
        assert.equal(res.status, 200);
        metrics = await res.json();
    });
    after(() => started?.local.close());

    it("counts the requests, their statuses and latency as API Gateway names them", () => {
        const requests = summary.requests + 2;
        assert.equal(metrics.api.namespace, "AWS/ApiGateway");
        assert.equal(metrics.api.Count.sum, requests);
        assert.equal(metrics.api["4XXError"].sum, 1);
        assert.equal(metrics.api["5XXError"].sum, 0);
        assert.deepEqual(metrics.api.requestsByStatus, { 200: summary.requests, 207: 1, 401: 1 });
        assert.equal(metrics.api.Latency.samples, requests);
        assert.ok(metrics.api.Latency.p50 <= metrics.api.Latency.p99 && metrics.api.Latency.p99 <= metrics.api.Latency.max);
        assert.ok(metrics.api.Count.ratePerSecond > 0);
    });

    it("counts the entries put and failed on the bus and the matches and invocations per rule", () => {
        const accepted = summary.accepted + 1;
        const loyalty = summary.acceptedByType.loyaltypurchase;
        assert.ok(loyalty > 0, JSON.stringify(summary.acceptedByType));
        const bus = metrics.eventBridge;
        assert.equal(bus.namespace, "AWS/Events");
        assert.equal(bus.PutEventsEntriesCount.sum, summary.sent + 2);
        assert.equal(bus.PutEventsFailedEntriesCount.sum, 1);
        assert.deepEqual(bus.failedEntriesByErrorCode, { MalformedDetail: 1 });
        assert.equal(bus.MatchedEvents.sum, accepted, "events that matched any rule (every event matches the archive rule)");
        const archive = bus.rules[ARCHIVE_RULE];
        const zendesk = bus.rules[ZENDESK_RULE];
        assert.deepEqual(archive.dimensions, { EventBusName: started.local.outputs.eventBusName, RuleName: ARCHIVE_RULE });
        for (const [rule, n] of [
            [archive, accepted],
            [zendesk, loyalty],
        ] as const) {
            assert.equal(rule.MatchedEvents.sum, n);
            assert.equal(rule.Invocations.sum, n);
            assert.equal(rule.SuccessfulInvocationAttempts.sum, n);
            assert.equal(rule.FailedInvocations.sum, 0);
            assert.equal(rule.InvocationsSentToDlq.sum, 0);
        }
    });

    it("counts Firehose's incoming and delivered records, objects and partitions as on disk", () => {
        const bucketDir = path.join(started.local.details.s3Dir, started.local.outputs.bucketName);
        const keys = listFiles(bucketDir).filter((k) => k.startsWith("events/"));
        const lines = keys.reduce((n, k) => n + readFileSync(path.join(bucketDir, k), "utf8").split("\n").filter(Boolean).length, 0);
        const fh = metrics.firehose;
        assert.equal(fh.namespace, "AWS/Firehose");
        assert.equal(fh.IncomingRecords.sum, summary.accepted + 1);
        assert.equal(fh["DeliveryToS3.Records"].sum, lines);
        assert.equal(lines, summary.accepted + 1);
        assert.equal(fh["DeliveryToS3.ObjectCount"].sum, keys.length);
        assert.equal(fh["DeliveryToS3.Success"], 1);
        assert.equal(fh.BufferedRecords, 0);
        assert.deepEqual(Object.keys(fh.partitions).sort(), [...new Set(keys.map((k) => k.slice(0, k.lastIndexOf("/") + 1)))].sort());
        assert.equal(metrics.transform[METRIC_NAMES.transform.rejected].sum, 0);
    });

    it("counts the tickets recorded, the Lambda invocations, and no dead letter", () => {
        const tickets = jsonLines(started.local.details.ticketsFile).length;
        assert.equal(tickets, summary.acceptedByType.loyaltypurchase);
        assert.equal(metrics.zendesk.TicketsRecorded.sum, tickets);
        assert.equal(metrics.lambda.authorizer.Errors.sum, 0);
        assert.ok(metrics.lambda.authorizer.Invocations.sum >= 1);
        assert.ok(metrics.lambda["firehose-transform"].Invocations.sum >= 1);
        assert.equal(metrics.lambda["post-confirmation"].Invocations.sum, 1);
        for (const rule of [ARCHIVE_RULE, ZENDESK_RULE]) assert.equal(metrics.deadLetters[rule].NumberOfMessagesSent.sum, 0);
    });

    it("keeps a timeline of the last minutes for the console's chart", () => {
        const points = metrics.timeline.points as Array<{ requestsPerSecond: number; eventsPerSecond: number }>;
        const seconds = metrics.timeline.bucketSeconds;
        assert.equal(Math.round(points.reduce((n, p) => n + p.requestsPerSecond * seconds, 0)), summary.requests + 2);
        assert.equal(Math.round(points.reduce((n, p) => n + p.eventsPerSecond * seconds, 0)), summary.accepted + 1);
    });
});

describe("local mode /_local/metrics: the journal's fsync", function () {
    this.timeout(60_000);
    let started: StartedLocal | undefined;
    // The journal reads fs.fsync when it calls it, so holding it here is a slow disk as the journal sees one.
    const nodeFs = require("node:fs") as { fsync: (fd: number, done: (err: Error | null) => void) => void };
    const fsync = nodeFs.fsync;
    afterEach(async () => {
        nodeFs.fsync = fsync;
        await started?.local.close();
    });

    it("times each group's fsync, and a slow one shows there and in the latency of the answer that waited for it", async () => {
        started = await startTestLocal();
        const user = await signUpUser(started, "fsync-user");
        nodeFs.fsync = (fd, done) => setTimeout(() => fsync(fd, done), 150);
        const sentAt = performance.now();
        const answer = await postEntries(started.local, user.idToken, [
            JSON.stringify({ eventType: "paging", schemaVersion: 1, data: { page: 1 } }),
        ]);
        const waitedMs = performance.now() - sentAt;
        nodeFs.fsync = fsync;
        assert.equal(answer.status, 200);
        assert.ok(waitedMs >= 150, `the answer came after ${waitedMs} ms, before the fsync ended`);
        const metrics = (await (await fetch(new URL("metrics", started.local.details.consoleUrl))).json()) as any;
        const timed = metrics.process.journalFsyncMs;
        assert.equal(timed.samples, started.local.bus.journal.stats.fsyncs);
        assert.ok(timed.max >= 150 && timed.max <= waitedMs, `fsync max ${timed.max} ms, answer after ${waitedMs} ms`);
        assert.ok(timed.p50 <= timed.p99 && timed.p99 <= timed.max);
        assert.ok(metrics.api.Latency.max >= 150, `API Latency max ${metrics.api.Latency.max} ms`);
    });
});
