/**
 * `npm run cost -- --events-per-month N [--events-per-request 10] [--event-bytes 1000] [--region us-east-1]`:
 * the pipeline's monthly cost per service and per million events (cost/model.ts, prices in cost/prices.ts).
 */
import { Command, CommanderError, InvalidArgumentError } from "commander";
import { byService, DEFAULT_ASSUMPTIONS, estimateCost, type CostEstimate } from "./model";
import { PRICE_REGION, PRICES, PRICES_TAKEN_ON } from "./prices";

function wholeNumber(value: string): number {
    if (!/^\d+(_\d{3})*$/.test(value.trim())) throw new InvalidArgumentError("expected a whole number, e.g. 100000000 or 100_000_000");
    return Number(value.replace(/_/g, ""));
}

function share(value: string): number {
    const n = Number(value);
    if (!/^\d*\.?\d+$/.test(value.trim()) || n > 1) throw new InvalidArgumentError("expected a share from 0 to 1, e.g. 0.01");
    return n;
}

const usd = (v: number) => (v >= 100 ? v.toFixed(0) : v >= 1 ? v.toFixed(2) : v.toFixed(4));
const qty = (v: number) => (v >= 1000 ? Math.round(v).toLocaleString("en-US") : Number(v.toPrecision(4)).toString());

/** The estimate as text: lines by service, totals, the assumptions and where the prices come from. */
export function formatEstimate(e: CostEstimate): string {
    const perMillion = (monthly: number) => monthly / (e.inputs.eventsPerMonth / 1e6);
    const rows = e.lines.map((l) => [
        l.service,
        l.item + (PRICES[l.price].confirmed ? "" : " *"),
        `${qty(l.quantity)} ${l.unit}`,
        usd(l.monthly),
        usd(perMillion(l.monthly)),
    ]);
    const services = byService(e).map((s) => [s.service, "", "", usd(s.monthly), usd(perMillion(s.monthly))]);
    const table = (header: string[], body: string[][]) => {
        const widths = header.map((h, i) => Math.max(h.length, ...body.map((r) => r[i].length)));
        const fmt = (r: string[]) =>
            r
                .map((c, i) => (i >= 3 ? c.padStart(widths[i]) : c.padEnd(widths[i])))
                .join("  ")
                .trimEnd();
        return [fmt(header), ...body.map(fmt)].join("\n");
    };
    const a = e.assumptions;
    return (
        [
            `client-events: monthly cost for ${e.inputs.eventsPerMonth.toLocaleString("en-US")} events (${e.inputs.eventsPerRequest} a request, ${e.inputs.eventBytes} bytes each), ${e.inputs.region}, prices of ${PRICES_TAKEN_ON}`,
            "",
            table(["service", "item", "quantity", "$/month", "$/M events"], rows),
            "",
            table(["by service", "", "", "$/month", "$/M events"], [...services, ["total", "", "", usd(e.total), usd(e.perMillionEvents)]]),
            "",
            `Assumptions: authorizer cache ${a.authorizerCacheTtlSeconds} s with a request every ${a.requestIntervalSeconds} s per client; ${a.activePartitions} active partitions; ` +
                `buffers ${a.bufferIntervalSeconds} s / ${a.bufferSizeMiB} MiB; ${a.zendeskShare * 100}% of events open a Zendesk ticket; S3 Standard ${a.transitionDays} days then Standard-IA ` +
                `until day ${a.expirationDays} (steady state); replay archive ${a.eventArchiveRetentionDays} days; Athena ${a.queriesPerDay} queries a day of ${a.queryScanMiB} MiB; no free tier.`,
            "* a price no page we could read confirmed (see cost/prices.ts). Cognito (billed per monthly active user) is not included.",
            ...e.warnings.map((w) => `warning: ${w}`),
        ].join("\n") + "\n"
    );
}

/** docs/cost.md's table: $/month and $/M events by service, for each volume (10 events a request, 1,000 bytes). */
export function comparisonTable(volumes: number[]): string {
    const estimates = volumes.map((n) => estimateCost({ eventsPerMonth: n, eventsPerRequest: 10, eventBytes: 1000, region: PRICE_REGION }));
    const label = (n: number) => (n >= 1e9 ? `${n / 1e9} B` : `${n / 1e6} M`);
    const header = `| Service | ${volumes.map((n) => `${label(n)} events: $/month | $/M`).join(" | ")} |`;
    const rule = `| --- | ${volumes.map(() => "---: | ---:").join(" | ")} |`;
    const services = byService(estimates[0]).map((s) => s.service);
    const row = (name: string, pick: (e: CostEstimate) => number) =>
        `| ${name} | ${estimates.map((e) => `${usd(pick(e))} | ${usd(pick(e) / (e.inputs.eventsPerMonth / 1e6))}`).join(" | ")} |`;
    const body = services.map((service) => row(service, (e) => byService(e).find((s) => s.service === service)?.monthly ?? 0));
    return [header, rule, ...body, row("**Total**", (e) => e.total)].join("\n");
}

/** Runs the CLI; returns the exit code (0, or 2 for a usage error). */
export function runCostCli(argv: string[], out: (text: string) => void, err: (text: string) => void): number {
    const program = new Command("npm run cost --")
        .description("Monthly AWS cost of the client-events pipeline, per service and per million events (cost/main.ts)")
        .requiredOption("--events-per-month <n>", "events a month", wholeNumber)
        .option("--events-per-request <n>", "events in each API request (1 to 10)", wholeNumber, 10)
        .option("--event-bytes <n>", "bytes of one event's JSON", wholeNumber, 1000)
        .option("--region <region>", "AWS region of the prices", PRICE_REGION)
        .option(
            "--zendesk-share <share>",
            "share of events that open a Zendesk ticket (0 without Zendesk)",
            share,
            DEFAULT_ASSUMPTIONS.zendeskShare,
        )
        .option("--json", "print the estimate as JSON")
        .exitOverride()
        .configureOutput({ writeOut: out, writeErr: err });
    try {
        program.parse(argv, { from: "user" });
    } catch (e) {
        return e instanceof CommanderError && e.exitCode === 0 ? 0 : 2;
    }
    const o = program.opts<{
        eventsPerMonth: number;
        eventsPerRequest: number;
        eventBytes: number;
        region: string;
        zendeskShare: number;
        json?: boolean;
    }>();
    try {
        const estimate = estimateCost(
            { eventsPerMonth: o.eventsPerMonth, eventsPerRequest: o.eventsPerRequest, eventBytes: o.eventBytes, region: o.region },
            { ...DEFAULT_ASSUMPTIONS, zendeskShare: o.zendeskShare },
        );
        out(o.json ? `${JSON.stringify(estimate, null, 2)}\n` : formatEstimate(estimate));
        return 0;
    } catch (e) {
        err(`error: ${(e as Error).message}\n`);
        return 2;
    }
}

if (require.main === module) {
    process.exitCode = runCostCli(
        process.argv.slice(2),
        (t) => process.stdout.write(t),
        (t) => process.stderr.write(t),
    );
}
