/**
 * The cost model's arithmetic against cases worked out by hand (each expected figure below is written
 * out with its arithmetic, from the prices in cost/prices.ts and the assumptions listed here), the price
 * table's bookkeeping, and the CLI.
 */
import * as assert from "node:assert/strict";
import { DEFAULT_ASSUMPTIONS, estimateCost, type CostAssumptions, type CostEstimate } from "../cost/model";
import { runCostCli } from "../cost/main";
import { PRICES, PRICES_TAKEN_ON } from "../cost/prices";

/** The assumptions the hand calculations use (the shipped defaults, spelled out). */
const A: CostAssumptions = {
    requestIntervalSeconds: 10,
    authorizerCacheTtlSeconds: 300,
    authorizerMs: 50,
    lambdaMemoryMiB: 256,
    transformMsPerInvocation: 5,
    transformMsPerRecord: 0.08,
    jqSecondsPerRecord: 1 / 21505,
    activePartitions: 5,
    bufferIntervalSeconds: 300,
    bufferSizeMiB: 64,
    zendeskShare: 0.01,
    zendeskRatePerSecond: 2,
    transitionDays: 30,
    expirationDays: 365,
    eventArchiveRetentionDays: 7,
    logRetentionDays: 30,
    accessLogBytesPerRequest: 700,
    lambdaLogBytesPerInvocation: 600,
    responseBytesBase: 400,
    responseBytesPerEvent: 50,
    queriesPerDay: 100,
    queryScanMiB: 100,
};
const GB = 1073741824; // 1024^3
const MONTH_DAYS = 730 / 24; // 30.4167

function cost(e: CostEstimate, service: string, itemStart: string): number {
    const found = e.lines.filter((l) => l.service === service && l.item.startsWith(itemStart));
    assert.equal(found.length, 1, `one line ${service} / ${itemStart}`);
    return found[0].monthly;
}

function close(actual: number, expected: number, what: string): void {
    assert.ok(Math.abs(actual - expected) <= 1e-9 + Math.abs(expected) * 1e-6, `${what}: ${actual} != ${expected}`);
}

describe("cost model", () => {
    it("uses the program's defaults as its assumptions", () => {
        assert.deepEqual(DEFAULT_ASSUMPTIONS, A);
    });

    it("1 million events, 10 a request, 1,000 bytes: every line by hand", () => {
        const e = estimateCost({ eventsPerMonth: 1_000_000, eventsPerRequest: 10, eventBytes: 1000, region: "us-east-1" }, A);
        // 100,000 requests, first tier: 0.1 M x $3.50.
        close(cost(e, "API Gateway", "REST requests"), 0.35, "API requests");
        // Answers: 100,000 x (400 + 10 x 50) B = 90,000,000 B = 0.083819 GB x $0.09.
        close(cost(e, "API Gateway", "answers"), (90_000_000 / GB) * 0.09, "data out");
        // Authorizer: one run per client per 300 s TTL at a request every 10 s: 100,000 / 30 = 3,333.3 runs.
        close(cost(e, "Lambda: authorizer", "invocations"), (3333.3333333 / 1e6) * 0.2, "authorizer requests");
        // 3,333.3 x 0.05 s x 0.25 GB = 41.667 GB-s x $0.0000133334.
        close(cost(e, "Lambda: authorizer", "duration"), 41.6666667 * 0.0000133334, "authorizer duration");
        // An entry of 1,000 + 72 bytes is one 64 KB chunk: 1 M events x $1 per million.
        close(cost(e, "EventBridge", "PutEvents"), 1.0, "PutEvents");
        // Archive: 1 M x (1,000 + 242 envelope) B = 1.2420e9 B = 1.15670 GB x $0.10; 7 of 30.42 days stored x $0.023.
        close(cost(e, "EventBridge", "replay archive: events"), (1.242e9 / GB) * 0.1, "archive processing");
        close(cost(e, "EventBridge", "replay archive: storage"), (1.242e9 / GB) * (7 / MONTH_DAYS) * 0.023, "archive storage");
        // 1% of 1 M = 10,000 tickets x $0.20 per million.
        close(cost(e, "EventBridge", "Zendesk"), 0.002, "Zendesk");
        // Firehose bills the 1,242 B record as 5 KB: 1 M x 5,120 B = 4.76837 GB x $0.029.
        close(cost(e, "Firehose", "ingestion"), (5.12e9 / GB) * 0.029, "Firehose ingestion");
        // Delivered: 1,242 - 38 (resources emptied) + 55 (accountNumber) + 1 (newline) = 1,260 B: 1.17347 GB x $0.02.
        close(cost(e, "Firehose", "dynamic partitioning: data"), (1.26e9 / GB) * 0.02, "DP data");
        // 730 h / 300 s = 8,760 flushes x 5 partitions = 43,800 objects (28.8 KB each, far below 64 MiB) x $0.005 per 1,000.
        close(cost(e, "Firehose", "dynamic partitioning: objects"), 43.8 * 0.005, "DP objects");
        // JQ: 1 M records / 21,505 a second = 46.5 s = 0.012917 h x $0.07.
        close(cost(e, "Firehose", "dynamic partitioning: JQ"), (1e6 / 21505 / 3600) * 0.07, "JQ hours");
        // Transform: 730 h / 60 s = 43,800 batches (1.242 GB is only 1,185 MiB): 43,800 x $0.20 per million.
        close(cost(e, "Lambda: transform", "invocations"), (43_800 / 1e6) * 0.2, "transform requests");
        // 22.83 records a batch: 5 + 0.08 x 22.83 = 6.8265 ms; 43,800 x 0.0068265 s x 0.25 GB = 74.750 GB-s.
        close(
            cost(e, "Lambda: transform", "duration"),
            43_800 * (0.005 + 0.00008 * (1e6 / 43_800)) * 0.25 * 0.0000133334,
            "transform duration",
        );
        // S3: one PUT per object; Standard keeps 30 days of 1.17347 GB.
        close(cost(e, "S3", "PUT"), 43.8 * 0.005, "S3 PUT");
        close(cost(e, "S3", "Standard storage"), (1.26e9 / GB) * (30 / MONTH_DAYS) * 0.023, "S3 Standard");
        // Standard-IA: 335 days of 43,800 objects a month, each 28.8 KB, so billed as 128 KB: 5.3467 GB x 11.014 months x $0.0125.
        close(cost(e, "S3", "Standard-IA storage"), ((43_800 * 131072) / GB) * (335 / MONTH_DAYS) * 0.0125, "S3 IA");
        close(cost(e, "S3", "lifecycle"), 43.8 * 0.01, "transitions");
        // Athena: 100 queries x 30.42 days x 100 MiB = 0.29008 TiB x $5.
        close(cost(e, "Athena", "queries"), ((100 * MONTH_DAYS * 100) / 1024 / 1024) * 5, "Athena");
        // Logs: 100,000 x 700 B + (3,333.3 + 43,800) runs x 600 B = 98,280,000 B = 0.091532 GB x $0.50; 30 of 30.42 days x $0.03.
        close(cost(e, "CloudWatch", "logs ingested"), (98_280_000 / GB) * 0.5, "logs ingestion");
        close(cost(e, "CloudWatch", "logs stored"), (98_280_000 / GB) * (30 / MONTH_DAYS) * 0.03, "logs storage");
        // 18 single-metric alarms + 4 rate alarms of 2 metrics = 26 alarm metrics; one dashboard; one key.
        close(cost(e, "CloudWatch", "alarm metrics"), 2.6, "alarms");
        close(cost(e, "CloudWatch", "dashboard"), 3, "dashboard");
        close(cost(e, "KMS", "alarm topic key"), 1, "KMS");
        // The sum of the lines above, by hand: $11.3925 a month, $11.39 per million events.
        close(e.total, 11.392528929, "total");
        close(e.perMillionEvents, 11.392528929, "per million");
        assert.deepEqual(e.warnings, []);
    });

    it("500 million events one a request, 5,000 bytes, no authorizer cache: API tiers, 10 KB Firehose records", () => {
        const e = estimateCost(
            { eventsPerMonth: 500_000_000, eventsPerRequest: 1, eventBytes: 5000, region: "us-east-1" },
            { ...A, authorizerCacheTtlSeconds: 0 },
        );
        // 333 M x $3.50 + 167 M x $2.80 = $1,165.50 + $467.60.
        close(cost(e, "API Gateway", "REST requests"), 1633.1, "API tiers");
        // TTL 0: the authorizer runs for every one of the 500 M requests: 500 x $0.20; 500 M x 0.05 s x 0.25 GB = 6.25 M GB-s.
        close(cost(e, "Lambda: authorizer", "invocations"), 100, "authorizer requests");
        close(cost(e, "Lambda: authorizer", "duration"), 6.25e6 * 0.0000133334, "authorizer duration");
        // 5,000 + 242 = 5,242 B is over 5 KB: billed as 10 KB. 500 M x 10,240 B = 4,768.37 GB x $0.029.
        close(cost(e, "Firehose", "ingestion"), (5.12e12 / GB) * 0.029, "Firehose 10 KB records");
        // 2.63 TB a month over 43,800 flushes is 60 MB each, still under 64 MiB: 43,800 objects.
        close(cost(e, "Firehose", "dynamic partitioning: objects"), 43.8 * 0.005, "DP objects");
        // Transform batches by size: 500 M x 5,242 B / 1 MiB = 2,499,580.4, so 2,499,581 invocations.
        close(cost(e, "Lambda: transform", "invocations"), (2_499_581 / 1e6) * 0.2, "transform requests by size");
        // 1% = 5 M tickets, within 2/s x 2,628,000 s = 5,256,000: no warning.
        assert.deepEqual(e.warnings, []);
    });

    it("10,000 events: fewer records than partition flushes, so about one object and one transform run per record", () => {
        const e = estimateCost({ eventsPerMonth: 10_000, eventsPerRequest: 10, eventBytes: 1000, region: "us-east-1" }, A);
        close(cost(e, "Firehose", "dynamic partitioning: objects"), 10 * 0.005, "10,000 objects");
        close(cost(e, "Lambda: transform", "invocations"), (10_000 / 1e6) * 0.2, "10,000 runs");
        // Each 1,260 B object is billed in Standard-IA as 128 KB.
        close(cost(e, "S3", "Standard-IA storage"), ((10_000 * 131072) / GB) * (335 / MONTH_DAYS) * 0.0125, "IA minimum size");
        // Fixed costs dominate: $6.60 of $8.44.
        close(e.total, 8.440637505, "total");
    });

    it("warns when the tickets exceed what the Zendesk rate delivers", () => {
        const e = estimateCost({ eventsPerMonth: 1_000_000_000, eventsPerRequest: 10, eventBytes: 1000, region: "us-east-1" }, A);
        // 1% of 1 B = 10 M tickets > 2/s x 2,628,000 s = 5,256,000.
        assert.equal(e.warnings.length, 1);
        assert.match(e.warnings[0], /10,000,000 tickets a month exceed .*5,256,000/);
        // Without Zendesk there is no ticket line cost and no Zendesk alarm metrics (26 - 2 route alarms - 1 DLQ alarm = 23).
        const none = estimateCost(
            { eventsPerMonth: 1_000_000, eventsPerRequest: 10, eventBytes: 1000, region: "us-east-1" },
            { ...A, zendeskShare: 0 },
        );
        close(cost(none, "EventBridge", "Zendesk"), 0, "no tickets");
        close(cost(none, "CloudWatch", "alarm metrics"), 2.3, "23 alarm metrics");
    });

    it("refuses inputs the API or the price table cannot take, naming the option", () => {
        const base = { eventsPerMonth: 1000, eventsPerRequest: 10, eventBytes: 1000, region: "us-east-1" };
        assert.throws(() => estimateCost({ ...base, eventsPerRequest: 11 }), /--events-per-request must be a whole number from 1 to 10/);
        assert.throws(
            () => estimateCost({ ...base, eventBytes: 30_000 }),
            /--event-bytes must be .* to 26008 \(the API refuses longer entries\)/,
        );
        assert.throws(() => estimateCost({ ...base, eventsPerMonth: 0 }), /--events-per-month/);
        assert.throws(
            () => estimateCost({ ...base, region: "eu-west-1" }),
            /--region eu-west-1: cost\/prices\.ts holds us-east-1's prices only/,
        );
    });
});

describe("price table", () => {
    it("is dated, and every price names its AWS page; unconfirmed ones say so", () => {
        assert.match(PRICES_TAKEN_ON, /^\d{4}-\d{2}-\d{2}$/);
        for (const [id, price] of Object.entries(PRICES)) {
            assert.match(price.source, /^https:\/\/aws\.amazon\.com\//, id);
            assert.equal(typeof price.confirmed, "boolean", id);
            if (price.confirmed)
                assert.ok("confirmedBy" in price && price.confirmedBy, `${id}: a confirmed price names the page that shows it`);
            else assert.ok("note" in price && price.note, `${id}: an unconfirmed price says why`);
        }
    });
});

describe("cost CLI", () => {
    const run = (...args: string[]) => {
        let out = "";
        let err = "";
        const code = runCostCli(
            args,
            (t) => {
                out += t;
            },
            (t) => {
                err += t;
            },
        );
        return { code, out, err };
    };

    it("prints the lines, the totals by service and per million events", () => {
        const { code, out, err } = run(
            "--events-per-month",
            "100_000_000",
            "--events-per-request",
            "10",
            "--event-bytes",
            "1000",
            "--region",
            "us-east-1",
        );
        assert.equal(code, 0, err);
        assert.match(out, /monthly cost for 100,000,000 events \(10 a request, 1000 bytes each\), us-east-1, prices of \d{4}-\d{2}-\d{2}/);
        assert.match(out, /^EventBridge\s+PutEvents .*100,000,000 events\s+100\s+1\.00$/m);
        assert.match(out, /^total\s+\S+\s+\S+$/m);
        assert.match(out, /\* a price no page we could read confirmed/);
        const json = run("--events-per-month", "1000000", "--json");
        assert.equal(JSON.parse(json.out).inputs.eventsPerMonth, 1_000_000);
    });

    it("answers bad options with a usage error", () => {
        for (const args of [
            [],
            ["--events-per-month", "lots"],
            ["--events-per-month", "1000", "--events-per-request", "20"],
            ["--events-per-month", "1000", "--zendesk-share", "2"],
        ]) {
            const { code, err } = run(...args);
            assert.equal(code, 2, args.join(" "));
            assert.match(err, /error/);
        }
    });
});
