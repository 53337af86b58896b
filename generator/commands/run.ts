/** `generator run`: sign in and send batches of simulated client events. */
import { randomUUID } from "crypto";
import * as fs from "fs";
import { Command, Option } from "commander";
import { TokenUse } from "../../client";
import { MAX_ENTRIES_PER_REQUEST } from "../../pipeline/limits";
import { CliError, EXIT } from "../errors";
import { readManifest, writeFailedManifest } from "../manifest";
import { eventTypes } from "../events";
import { seededRandom } from "../random";
import { runGenerator } from "../run";
import { resolveSettings } from "../settings";
import { formatSummary, RunSummary } from "../stats";
import {
    bool,
    CommandContext,
    CommonOptions,
    connectionOptions,
    EXIT_HELP,
    int,
    LOCAL_NOT_RUNNING,
    localFlag,
    positive,
    withCode,
} from "./common";

interface RunFlags extends CommonOptions {
    userid?: string;
    password?: string;
    minutes?: number;
    batches?: number;
    batch: number;
    interval: number;
    loyalty: boolean;
    users: number;
    rate?: number;
    manifest?: string;
    seed?: number;
    token: TokenUse;
    maxAttempts: number;
    progress: boolean;
}

/** Adds `run` to the program; `done` receives its exit code. */
export function addRunCommand(program: Command, ctx: CommandContext, done: (code: number) => void): void {
    connectionOptions(
        program
            .command("run")
            .description("Sign in and send batches of simulated client events (load mode with --users/--rate).")
            .option("--userid <name>", "user name (env CLIENT_EVENTS_USERID)")
            .option("--password <password>", "password (env CLIENT_EVENTS_PASSWORD)")
            .addOption(
                new Option("--minutes <m>", "run for this many minutes (default: 1 when --batches is not given)")
                    .argParser(positive("--minutes"))
                    .conflicts("batches"),
            )
            .option("--batches <n>", "send this many batches per user, then stop", int("--batches", 1, 1_000_000))
            .option("--batch <size>", `events per batch, 1-${MAX_ENTRIES_PER_REQUEST}`, int("--batch", 1, MAX_ENTRIES_PER_REQUEST), 10)
            .option("--interval <seconds>", "seconds between two batches of one user", positive("--interval"), 10)
            .option("--loyalty [bool]", "also send loyaltypurchase events (they open Zendesk tickets)", bool, false)
            .option("--users <n>", "concurrent simulated clients (each signs in)", int("--users", 1, 1000), 1)
            .option("--rate <events/s>", "overall events per second; sets the interval to batch*users/rate", positive("--rate"))
            .option("--manifest <path>", "write the run's event ids and outcomes here (input of verify)")
            .option("--seed <n>", "seed of the event content, for a reproducible run", int("--seed", 0, 2 ** 32 - 1))
            .addOption(new Option("--token <use>", "Cognito token sent as Authorization").choices(["id", "access"]).default("id"))
            .option("--max-attempts <n>", "attempts per event before it counts as lost", int("--max-attempts", 1, 100), 8)
            .option("--no-progress", "no live progress line (it is drawn only on a terminal anyway)")
            .addHelpText("after", EXIT_HELP),
    ).action(async (flags: RunFlags) => done(await run(flags, ctx)));
}

async function run(flags: RunFlags, ctx: CommandContext): Promise<number> {
    const runId = randomUUID();
    let apiUrl = "";
    try {
        const userid = flags.userid ?? ctx.io.env.CLIENT_EVENTS_USERID;
        const password = flags.password ?? ctx.io.env.CLIENT_EVENTS_PASSWORD;
        if (!userid || !password)
            throw new CliError("run needs --userid and --password (or CLIENT_EVENTS_USERID / CLIENT_EVENTS_PASSWORD)");
        const settings = await resolveSettings(flags, ["apiUrl", "userPoolClientId", "cognitoEndpoint"], ctx.deps);
        apiUrl = settings.apiUrl;
        return await send(flags, ctx, { runId, userid, password, settings });
    } catch (e) {
        const failure = withLocalHint(withCode(e), flags);
        if (flags.manifest) recordFailure(flags.manifest, { runId, apiUrl, startedAt: new Date(ctx.now()).toISOString() }, failure, ctx);
        throw failure;
    }
}

interface RunTarget {
    runId: string;
    userid: string;
    password: string;
    settings: { apiUrl: string; userPoolClientId: string; cognitoEndpoint: string };
}

/** Signs in and sends; resolves with the exit code (sign-in errors propagate). */
async function send(flags: RunFlags, ctx: CommandContext, { runId, userid, password, settings }: RunTarget): Promise<number> {
    const { io, now, err } = ctx;
    const intervalMs = flags.rate ? ((flags.batch * flags.users) / flags.rate) * 1000 : flags.interval * 1000;
    const batchesPerUser = flags.batches ?? Math.max(1, Math.round(((flags.minutes ?? 1) * 60_000) / intervalMs));
    const showProgress = io.isTTY && flags.progress;
    const started = now();
    let lastDrawn = -Infinity;
    if (!flags.json) {
        err(
            `Run ${runId}: ${flags.users} user(s) x ${batchesPerUser} batches of ${flags.batch} events, one every ${(intervalMs / 1000).toFixed(2)} s ` +
                `(${eventTypes(flags.loyalty).join(", ")}) to ${settings.apiUrl}`,
        );
    }
    const outcome = await runGenerator({
        apiUrl: settings.apiUrl,
        cognito: { clientId: settings.userPoolClientId, endpoint: settings.cognitoEndpoint },
        userid,
        password,
        users: flags.users,
        batch: flags.batch,
        intervalMs,
        batchesPerUser,
        loyalty: flags.loyalty,
        tokenUse: flags.token,
        runId,
        manifestPath: flags.manifest,
        retry: { maxAttempts: flags.maxAttempts },
        fetch: io.fetch,
        now,
        sleep: ctx.sleep,
        random: flags.seed !== undefined ? seededRandom(flags.seed) : io.random,
        stop: io.stop ?? { stopped: false },
        onBatch: (stats) => {
            if (!showProgress || now() - lastDrawn < 250) return;
            lastDrawn = now();
            io.stderr(`\r\x1b[2K${stats.progressLine(now() - started)}`);
        },
    });
    if (showProgress) io.stderr("\r\x1b[2K");
    ctx.out(flags.json ? JSON.stringify(outcome.summary) : formatSummary(outcome.summary, verifyFlags(flags)));
    return exitCodeOf(outcome.summary, outcome.fatal, settings.apiUrl, flags, ctx);
}

/** The flags `verify` needs to look where this run sent its events. */
function verifyFlags(flags: RunFlags): string[] {
    if (localFlag(flags)) return typeof flags.local === "string" ? ["--local", flags.local] : ["--local"];
    return flags.stack ? ["--stack", flags.stack] : [];
}

/** A network error against local mode most likely means it is not running: say how to start it. */
function withLocalHint(error: CliError, flags: RunFlags): CliError {
    if (error.exitCode !== EXIT.NETWORK || !localFlag(flags)) return error;
    return new CliError(`${error.message}\n${LOCAL_NOT_RUNNING}`, error.exitCode);
}

/** The run sent nothing: the manifest says so, so that verify does not report an earlier run kept in the same file. */
function recordFailure(
    manifest: string,
    run: { runId: string; apiUrl: string; startedAt: string },
    failure: CliError,
    ctx: CommandContext,
) {
    try {
        if (fs.existsSync(manifest) && readManifest(manifest).header.runId === run.runId) return; // this run's own events are in it
    } catch {
        // not a manifest of this run: replace it
    }
    try {
        writeFailedManifest(manifest, { kind: "client-events-run", version: 1, ...run }, failure.message);
    } catch (e) {
        ctx.err(`note: could not record the failed run in ${manifest}: ${(e as Error).message}`);
    }
}

/** The run's exit code, with the reason on stderr when it is not 0. */
function exitCodeOf(summary: RunSummary, fatal: string | undefined, apiUrl: string, flags: RunFlags, { err }: CommandContext): number {
    if (fatal === "auth") {
        err(
            `error: the API refused the token (${summary.stoppedEarly}); check that the user has a clientId and the app client id is right`,
        );
        return EXIT.AUTH;
    }
    if (fatal === "network") {
        err(`error: cannot reach the API at ${apiUrl}: ${summary.stoppedEarly}${localFlag(flags) ? `\n${LOCAL_NOT_RUNNING}` : ""}`);
        return EXIT.NETWORK;
    }
    if (fatal === "config") {
        err(`error: the API URL looks wrong (${summary.stoppedEarly}): ${apiUrl}`);
        return EXIT.CONFIG;
    }
    if (summary.failed > 0) {
        err(
            `error: ${summary.failed} event(s) were lost (${Object.entries(summary.failedByCode)
                .map(([k, v]) => `${k} ${v}`)
                .join(", ")})`,
        );
        return EXIT.LOST;
    }
    return EXIT.OK;
}
