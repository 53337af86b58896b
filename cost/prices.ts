/**
 * The prices the cost model (cost/model.ts) uses: every one in this file, with where it comes from.
 *
 * Taken on PRICES_TAKEN_ON for US East (N. Virginia), on-demand, without free tiers or discounts. They
 * were read from stored copies of the pages named in `source` and, where those pages render their tables
 * with JavaScript (most aws.amazon.com pricing pages), from the page named in `confirmedBy`, which quotes
 * the same figure. `confirmed: false` marks a price no page available to us showed: the figure is the
 * commonly published one and must be checked before it is relied on. Prices change: re-check them, then
 * change the date.
 */

export const PRICES_TAKEN_ON = "2026-12-01";
export const PRICE_REGION = "us-east-1";

export interface Price {
    /** US dollars per `per` of the unit (1, 1,000 or a million). */
    usd: number;
    per: number;
    unit: string;
    /** The AWS page that publishes the price. */
    source: string;
    /** Another page that shows the same figure, when the source's table could not be read. */
    confirmedBy?: string;
    /** Whether a page we read shows this figure. */
    confirmed: boolean;
    note?: string;
}

/** A price in tiers: `upTo` is the cumulative monthly quantity where the tier ends (Infinity for the last). */
export interface TieredPrice extends Omit<Price, "usd" | "per"> {
    tiers: Array<{ upTo: number; usd: number }>;
}

const API_GATEWAY = "https://aws.amazon.com/api-gateway/pricing/";
const LAMBDA = "https://aws.amazon.com/lambda/pricing/";
const EVENTBRIDGE = "https://aws.amazon.com/eventbridge/pricing/";
const FIREHOSE = "https://aws.amazon.com/firehose/pricing/";
const S3 = "https://aws.amazon.com/s3/pricing/";
const ATHENA = "https://aws.amazon.com/athena/pricing/";
const CLOUDWATCH = "https://aws.amazon.com/cloudwatch/pricing/";
const KMS = "https://aws.amazon.com/kms/pricing/";
const DATA_TRANSFER = "https://aws.amazon.com/ec2/pricing/on-demand/#Data_Transfer";

export const PRICES = {
    apiGatewayRestRequests: {
        tiers: [
            { upTo: 333e6, usd: 3.5 },
            { upTo: 1e9, usd: 2.8 },
            { upTo: 20e9, usd: 2.38 },
            { upTo: Infinity, usd: 1.51 },
        ],
        unit: "per million REST API requests (monthly tiers: first 333 M, next 667 M, next 19 B, over 20 B)",
        source: API_GATEWAY,
        confirmedBy:
            "https://docs.aws.amazon.com/whitepapers/latest/best-practices-api-gateway-private-apis-integration/cost-optimization.html (Table 4)",
        confirmed: true,
    } satisfies TieredPrice,
    lambdaRequests: {
        usd: 0.2,
        per: 1e6,
        unit: "per million requests",
        source: LAMBDA,
        confirmed: true,
        confirmedBy: "https://cloudchipr.com/blog/aws-lambda-pricing",
        note: "the same for x86 and Arm",
    } satisfies Price,
    lambdaArmGbSecond: {
        usd: 0.0000133334,
        per: 1,
        unit: "per GB-second, Arm (first 7.5 billion GB-s a month)",
        source: LAMBDA,
        confirmed: true,
        confirmedBy: "https://cloudchipr.com/blog/aws-lambda-pricing",
    } satisfies Price,
    eventBridgeCustomEvents: {
        usd: 1.0,
        per: 1e6,
        unit: "per million custom events; each 64 KB chunk of an entry's payload is one event",
        source: EVENTBRIDGE,
        confirmed: true,
        confirmedBy:
            "https://cloudburn.io/blog/amazon-eventbridge-pricing and the usage type Event(-64K-Chunks) in https://aws.amazon.com/premiumsupport/knowledge-center/eventbridge-reduce-charges/",
    } satisfies Price,
    eventBridgeApiDestinations: {
        usd: 0.2,
        per: 1e6,
        unit: "per million API destination invocations",
        source: EVENTBRIDGE,
        confirmed: true,
        confirmedBy: "https://cloudburn.io/blog/amazon-eventbridge-pricing",
    } satisfies Price,
    eventBridgeArchiveProcessing: {
        usd: 0.1,
        per: 1,
        unit: "per GB of events archived (the replay archive)",
        source: EVENTBRIDGE,
        confirmed: true,
        confirmedBy: "https://cloudburn.io/blog/amazon-eventbridge-pricing",
    } satisfies Price,
    eventBridgeArchiveStorage: {
        usd: 0.023,
        per: 1,
        unit: "per GB-month of archive storage",
        source: EVENTBRIDGE,
        confirmed: true,
        confirmedBy: "https://cloudburn.io/blog/amazon-eventbridge-pricing",
    } satisfies Price,
    firehoseIngestion: {
        usd: 0.029,
        per: 1,
        unit: "per GB ingested, Direct PUT (first 500 TB a month); each record rounded up to a multiple of 5 KB",
        source: FIREHOSE,
        confirmed: false,
        note: "the 5 KB rounding is on the stored pricing page; $0.029 is not (its table did not render). The Game Analytics Pipeline's table (259.2 M records x 5 KB, about $58.90 with format conversion) is consistent with it.",
    } satisfies Price,
    firehoseDynamicPartitioningGb: {
        usd: 0.02,
        per: 1,
        unit: "per GB delivered through dynamic partitioning",
        source: FIREHOSE,
        confirmed: true,
        confirmedBy: "a cost reference quoting the Firehose price list (usage type DPBytesDelivered)",
    } satisfies Price,
    firehoseDynamicPartitioningObjects: {
        usd: 0.005,
        per: 1000,
        unit: "per 1,000 S3 objects delivered by dynamic partitioning",
        source: FIREHOSE,
        confirmed: true,
        confirmedBy: "a cost reference quoting the Firehose price list (usage type S3DeliveryObjectCount)",
    } satisfies Price,
    firehoseJqHours: {
        usd: 0.07,
        per: 1,
        unit: "per JQ processing hour",
        source: FIREHOSE,
        confirmed: true,
        confirmedBy: "a cost reference quoting the Firehose price list (usage type MetadataProcessingDuration)",
        note: "AWS does not document how JQ time is metered; the model assumes CPU time per record (see cost/model.ts)",
    } satisfies Price,
    s3PutRequests: {
        usd: 0.005,
        per: 1000,
        unit: "per 1,000 PUT requests (S3 Standard)",
        source: S3,
        confirmed: true,
        confirmedBy: "https://cloudburn.io/blog/amazon-s3-pricing",
    } satisfies Price,
    s3StandardStorage: {
        usd: 0.023,
        per: 1,
        unit: "per GB-month, S3 Standard (first 50 TB)",
        source: S3,
        confirmed: true,
        confirmedBy: "https://cloudburn.io/blog/amazon-s3-pricing",
    } satisfies Price,
    s3StandardIaStorage: {
        usd: 0.0125,
        per: 1,
        unit: "per GB-month, S3 Standard-IA (objects under 128 KB billed as 128 KB)",
        source: S3,
        confirmed: false,
        note: "commonly published figure; not on a page we could read",
    } satisfies Price,
    s3LifecycleTransitionsToIa: {
        usd: 0.01,
        per: 1000,
        unit: "per 1,000 lifecycle transition requests into S3 Standard-IA",
        source: S3,
        confirmed: false,
        note: "commonly published figure; not on a page we could read",
    } satisfies Price,
    athenaScanned: {
        usd: 5.0,
        per: 1,
        unit: "per TB scanned (at least 10 MB per query)",
        source: ATHENA,
        confirmed: true,
        confirmedBy: "the Game Analytics Pipeline's cost table: 100 queries a day of 100 MB for $1.45 a month",
    } satisfies Price,
    cloudWatchLogsIngestion: {
        usd: 0.5,
        per: 1,
        unit: "per GB of logs ingested (standard class)",
        source: CLOUDWATCH,
        confirmed: true,
        confirmedBy: "https://www.factualminds.com/blog/amazon-cloudwatch-pricing-metrics-logs-alarms-dashboards/",
    } satisfies Price,
    cloudWatchLogsStorage: {
        usd: 0.03,
        per: 1,
        unit: "per GB-month of logs stored",
        source: CLOUDWATCH,
        confirmed: false,
        note: "commonly published figure; not on a page we could read",
    } satisfies Price,
    cloudWatchAlarmMetric: {
        usd: 0.1,
        per: 1,
        unit: "per standard-resolution alarm metric a month (a metric-math alarm counts each metric)",
        source: CLOUDWATCH,
        confirmed: false,
        note: "commonly published figure; the stored page shows the free tier (10 alarm metrics) but not the rate",
    } satisfies Price,
    cloudWatchDashboard: {
        usd: 3.0,
        per: 1,
        unit: "per dashboard a month (3 are free per account)",
        source: CLOUDWATCH,
        confirmed: true,
        confirmedBy: "https://www.factualminds.com/blog/amazon-cloudwatch-pricing-metrics-logs-alarms-dashboards/",
    } satisfies Price,
    cloudWatchCustomMetric: {
        usd: 0.3,
        per: 1,
        unit: "per custom metric a month (first 10,000), prorated by the hour it is published",
        source: CLOUDWATCH,
        confirmed: true,
        confirmedBy: "https://signoz.io/guides/cloudwatch-pricing",
    } satisfies Price,
    kmsKey: {
        usd: 1.0,
        per: 1,
        unit: "per customer managed key a month",
        source: KMS,
        confirmed: false,
        note: "commonly published figure; not on a page we could read",
    } satisfies Price,
    dataTransferOut: {
        usd: 0.09,
        per: 1,
        unit: "per GB to the internet (first 10 TB a month)",
        source: DATA_TRANSFER,
        confirmed: false,
        note: "commonly published figure; not on a page we could read",
    } satisfies Price,
} as const;

export type PriceId = keyof typeof PRICES;

/** The cost of `quantity` (counted in the price's unit) under a flat price. */
export function costOf(price: Price, quantity: number): number {
    return (quantity / price.per) * price.usd;
}

/** The cost of `quantity` (in the tiers' unit) under a tiered price. */
export function tieredCost(price: TieredPrice, quantity: number, unitSize = 1): number {
    let cost = 0;
    let from = 0;
    for (const tier of price.tiers) {
        if (quantity <= from) break;
        const inTier = Math.min(quantity, tier.upTo) - from;
        cost += (inTier / unitSize) * tier.usd;
        from = tier.upTo;
    }
    return cost;
}
