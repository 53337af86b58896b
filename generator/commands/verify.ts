/** `generator verify`: reconcile a run's manifest (or, with --completeness, every session) with storage. */
import { Command, Option } from "commander";
import { S3Client } from "@aws-sdk/client-s3";
import { DEFAULT_ACTIVE_MINUTES } from "../../pipeline/named-queries";
import { checkCompleteness, formatCompleteness } from "../completeness";
import { CliError, EXIT } from "../errors";
import { readManifest, type Manifest } from "../manifest";
import { DEFAULT_LOCAL_DATA_DIR, defaultExec, resolveSettings } from "../settings";
import { formatReport, localObjects, ObjectSource, s3Objects, verifyRun, VerifyReport } from "../verify";
import { CommandContext, CommonOptions, EXIT_HELP, int, localFlag, positive, storageOptions } from "./common";

interface VerifyFlags extends CommonOptions {
    manifest?: string;
    completeness?: boolean;
    activeMinutes?: number;
    prefix?: string;
    wait: number;
    poll: number;
}

/** Adds `verify` to the program; `done` receives its exit code. */
export function addVerifyCommand(program: Command, ctx: CommandContext, done: (code: number) => void): void {
    storageOptions(
        program
            .command("verify")
            .description(
                "Reconcile a run's manifest with storage (missing, duplicated and extra events by eventType), or, with --completeness, every session's sequence numbers with storage.",
            )
            .option("--stack <name>", "Pulumi stack whose outputs name the bucket (default: the selected stack)")
            .addOption(new Option("--manifest <path>", "manifest written by run --manifest").conflicts("completeness"))
            .option(
                "--completeness",
                "no manifest: run the completeness named query (DuckDB over local mode's archive with --local/--data-dir, else Athena in the stack) and fail when finished sessions miss events",
            )
            .option(
                "--active-minutes <n>",
                `with --completeness: sessions whose last stored event is this recent are still active, reported apart (0: every session finished; default: ${DEFAULT_ACTIVE_MINUTES}, a few minutes past Firehose's default buffer)`,
                int("--active-minutes", 0, 525_600),
            )
            .option("--data-dir <dir>", "local mode's data directory (env CLIENT_EVENTS_DATA_DIR); otherwise S3")
            .option("--bucket <name>", "archive bucket (default: stack output bucketName; env CLIENT_EVENTS_BUCKET)")
            .option("--prefix <prefix>", "only read S3 keys under this prefix")
            .option(
                "--wait <seconds>",
                "keep checking until nothing is missing or this time has passed (Firehose buffers for minutes)",
                int("--wait", 0, 86_400),
                0,
            )
            .option("--poll <seconds>", "seconds between two checks with --wait", positive("--poll"), 15)
            .addHelpText("after", EXIT_HELP),
    ).action(async (flags: VerifyFlags) => done(await verify(flags, ctx)));
}

async function verify(flags: VerifyFlags, ctx: CommandContext): Promise<number> {
    if (flags.completeness) return verifyCompleteness(flags, ctx);
    if (flags.activeMinutes !== undefined) throw new CliError("--active-minutes goes with --completeness");
    if (flags.manifest === undefined) throw new CliError("verify needs --manifest <path> (written by run --manifest), or --completeness");
    const manifest = loadManifest(flags.manifest);
    const { source, where } = await objectSource(flags, ctx);
    const { now, sleep } = ctx;
    const deadline = now() + flags.wait * 1000;
    let report: VerifyReport;
    for (;;) {
        report = await verifyRun(manifest, source);
        if (report.totals.missing === 0 || now() >= deadline) break;
        if (!flags.json) ctx.err(`${report.totals.missing} event(s) not in ${where} yet; checking again in ${flags.poll} s`);
        await sleep(Math.min(flags.poll * 1000, Math.max(0, deadline - now())));
    }
    ctx.out(flags.json ? JSON.stringify(report) : `Storage checked: ${where}\n${formatReport(report)}`);
    return report.totals.missing > 0 ? EXIT.LOST : EXIT.OK;
}

function loadManifest(manifestPath: string): Manifest {
    let manifest: Manifest;
    try {
        manifest = readManifest(manifestPath);
    } catch (e) {
        throw new CliError((e as Error).message, EXIT.CONFIG);
    }
    const { failed, runId } = manifest.header;
    if (failed !== undefined) {
        throw new CliError(
            `run ${runId}, recorded in ${manifestPath}, failed before sending any event, so there is nothing to verify: ${failed}`,
            EXIT.CONFIG,
        );
    }
    return manifest;
}

/** Where the archive is: local mode's data directory, or the stack's S3 bucket. */
async function objectSource(flags: VerifyFlags, ctx: CommandContext): Promise<{ source: ObjectSource; where: string }> {
    const dataDir = flags.dataDir ?? ctx.io.env.CLIENT_EVENTS_DATA_DIR;
    if (dataDir || localFlag(flags)) {
        const settings = await resolveSettings({ ...flags, dataDir }, ["dataDir"], ctx.deps);
        return {
            source: localObjects(settings.dataDir, flags.bucket ?? (dataDir ? undefined : settings.bucketName)),
            where: `${settings.dataDir} (local mode's data directory)`,
        };
    }
    const settings = await resolveSettings(flags, ["bucketName", "region"], ctx.deps);
    const s3 = ctx.io.s3Client ?? new S3Client({ region: settings.region });
    return { source: s3Objects(s3, settings.bucketName, flags.prefix), where: `s3://${settings.bucketName}/${flags.prefix ?? ""}` };
}

async function verifyCompleteness(flags: VerifyFlags, ctx: CommandContext): Promise<number> {
    const dataDir = flags.dataDir ?? ctx.io.env.CLIENT_EVENTS_DATA_DIR;
    const local = dataDir !== undefined || localFlag(flags);
    const target = local
        ? {
              local: true as const,
              dataDir: (await resolveSettings({ ...flags, dataDir }, ["dataDir"], ctx.deps)).dataDir ?? DEFAULT_LOCAL_DATA_DIR,
          }
        : { local: false as const, stack: flags.stack, region: flags.region, exec: ctx.io.exec ?? defaultExec };
    const { report, result } = await checkCompleteness(target, flags.activeMinutes);
    ctx.out(flags.json ? JSON.stringify(report) : formatCompleteness(report, result));
    return report.totals.missing > 0 ? EXIT.LOST : EXIT.OK;
}
