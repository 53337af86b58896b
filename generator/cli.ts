/**
 * The generator's command line: `signup`, `run` and `verify`. `runCli` takes its I/O and clock as
 * arguments and returns the exit code, so tests run it in-process; generator/main.ts wires it to the process.
 */
import { randomUUID } from "crypto";
import { Command, CommanderError, InvalidArgumentError, Option } from "commander";
import { AdminConfirmSignUpCommand, CognitoIdentityProviderClient } from "@aws-sdk/client-cognito-identity-provider";
import { S3Client } from "@aws-sdk/client-s3";
import {
    ChallengeRequiredError,
    CognitoAuth,
    CognitoError,
    FetchLike,
    InvalidCredentialsError,
    isLoopback,
    NetworkError,
    SessionExpiredError,
    TokenUse,
    UserNotConfirmedError,
} from "../client";
import { MAX_ENTRIES_PER_REQUEST } from "../pipeline/limits";
import { DEFAULT_ACTIVE_MINUTES } from "../pipeline/named-queries";
import { CliError, EXIT } from "./errors";
import { eventTypes } from "./events";
import { readManifest } from "./manifest";
import { seededRandom } from "./random";
import { runGenerator } from "./run";
import {
    ConnectionFlags,
    DEFAULT_LOCAL_DATA_DIR,
    DEFAULT_LOCAL_URL,
    defaultExec,
    ENV,
    Exec,
    readLocalCredentials,
    resolveSettings,
    type Settings,
} from "./settings";
import { checkCompleteness, formatCompleteness } from "./completeness";
import { formatSummary } from "./stats";
import { formatReport, localObjects, ObjectSource, s3Objects, verifyRun, VerifyReport } from "./verify";
import { CLIENT_ID_ATTRIBUTE } from "../pipeline/identity";

/** What the CLI reads and writes; everything injectable for tests. */
export interface CliIO {
    stdout: (text: string) => void;
    stderr: (text: string) => void;
    env: NodeJS.ProcessEnv;
    /** Whether stderr is a terminal (the live progress line is drawn only then). */
    isTTY: boolean;
    exec?: Exec;
    fetch?: FetchLike;
    now?: () => number;
    sleep?: (ms: number) => Promise<void>;
    /** Random source for backoff jitter (and event content unless --seed). */
    random?: () => number;
    /** Set by the process on Ctrl-C: the run stops after the batches in flight. */
    stop?: { stopped: boolean };
    s3Client?: S3Client;
}

interface CommonOptions extends ConnectionFlags {
    json?: boolean;
}

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

interface SignupFlags extends CommonOptions {
    userid?: string;
    password?: string;
    email?: string;
    confirmCode?: string;
    adminConfirm?: boolean;
}

interface VerifyFlags extends CommonOptions {
    manifest?: string;
    completeness?: boolean;
    activeMinutes?: number;
    prefix?: string;
    wait: number;
    poll: number;
}

const EXIT_HELP = `
Exit codes: 0 ok; 1 events lost (run) or missing from storage (verify; with --completeness: missing among
finished sessions); 2 bad flags, missing settings, no archive or a failed query;
3 wrong credentials, unconfirmed user or token refused; 4 Cognito, the API or storage unreachable.

Settings come from flags, then environment variables:
  ${Object.values(ENV)
      .map((v) => v[0])
      .join("\n  ")}
then local mode (--local) or the Pulumi stack's outputs (pulumi stack output --json [--stack NAME]).
The password may come from CLIENT_EVENTS_PASSWORD instead of --password (which other users can see in ps).`;

function int(name: string, min: number, max: number) {
    return (value: string): number => {
        const n = Number(value);
        if (!/^\d+$/.test(value.trim()) || n < min || n > max)
            throw new InvalidArgumentError(`${name} must be a whole number from ${min} to ${max}`);
        return n;
    };
}

function positive(name: string) {
    return (value: string): number => {
        const n = Number(value);
        if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError(`${name} must be a number above 0`);
        return n;
    };
}

function bool(value: string): boolean {
    if (/^(true|yes|1)$/i.test(value)) return true;
    if (/^(false|no|0)$/i.test(value)) return false;
    throw new InvalidArgumentError("must be true or false");
}

function connectionOptions(cmd: Command): Command {
    return cmd
        .option("--stack <name>", "Pulumi stack to read outputs from (default: the selected stack)")
        .option("--local [url]", `use local mode's settings (url default: ${DEFAULT_LOCAL_URL})`)
        .option(
            "--api-url <url>",
            "URL to POST events to, .../<stage>/event (the stage URL works too; default: stack output apiUrl; env CLIENT_EVENTS_API_URL)",
        )
        .option("--apiid <id>", "API Gateway id; with --region and --stage gives the API URL (the seed's flag)")
        .option("--stage <name>", "API stage (= environment) used with --apiid (default: dev)")
        .option("--region <region>", "AWS region (default: stack output region; env CLIENT_EVENTS_REGION, AWS_REGION)")
        .option("--appclientid <id>", "Cognito app client id (default: stack output userPoolClientId; env CLIENT_EVENTS_APP_CLIENT_ID)")
        .option("--user-pool-id <id>", "Cognito user pool id, for --admin-confirm (default: stack output userPoolId)")
        .option("--cognito-endpoint <url>", "Cognito endpoint (default: https://cognito-idp.<region>.amazonaws.com/)")
        .option("--json", "print the result as JSON");
}

function withCode(err: unknown): CliError {
    if (err instanceof CliError) return err;
    if (err instanceof InvalidCredentialsError) return new CliError(`${err.message}: check --userid and --password`, EXIT.AUTH);
    if (err instanceof UserNotConfirmedError) {
        return new CliError(
            `${err.message} (signup --userid U --confirm-code CODE, or --admin-confirm where you have AWS credentials)`,
            EXIT.AUTH,
        );
    }
    if (err instanceof SessionExpiredError || err instanceof ChallengeRequiredError) return new CliError(err.message, EXIT.AUTH);
    if (err instanceof NetworkError) return new CliError(err.message, EXIT.NETWORK);
    if (err instanceof CognitoError) {
        const hint =
            err.code === "ResourceNotFoundException"
                ? " (is --appclientid right for this region?)"
                : err.code === "InvalidParameterException" && /USER_PASSWORD_AUTH/.test(err.message)
                  ? " (the app client must allow ALLOW_USER_PASSWORD_AUTH)"
                  : "";
        return new CliError(`Cognito: ${err.message}${hint}`, EXIT.CONFIG);
    }
    const name = (err as { name?: string })?.name ?? "";
    if (name === "CredentialsProviderError") return new CliError(`no AWS credentials: ${(err as Error).message}`, EXIT.CONFIG);
    if (name === "AccessDenied" || name === "AccessDeniedException" || name === "NotAuthorizedException") {
        return new CliError(`AWS refused the call: ${(err as Error).message}`, EXIT.AUTH);
    }
    if (name === "NoSuchBucket") return new CliError(`the bucket does not exist: ${(err as Error).message}`, EXIT.CONFIG);
    const code = (err as { code?: string })?.code ?? "";
    if (["ECONNREFUSED", "ENOTFOUND", "ETIMEDOUT", "EAI_AGAIN", "ECONNRESET"].includes(code) || name === "TimeoutError") {
        return new CliError(`cannot reach AWS: ${code || (err as Error).message}`, EXIT.NETWORK);
    }
    if ((err as { $metadata?: unknown })?.$metadata !== undefined) {
        // Any other AWS service error (ResourceNotFoundException for a wrong pool id, ...): name and message.
        return new CliError(`${name}: ${(err as Error).message}`, EXIT.CONFIG);
    }
    return new CliError(`unexpected error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`, EXIT.LOST);
}

function isLoopbackUrl(url: string): boolean {
    try {
        return isLoopback(new URL(url).hostname);
    } catch {
        return false;
    }
}

/** Parses argv (without node and script) and runs the command; resolves with the exit code. */
export async function runCli(argv: string[], io: CliIO): Promise<number> {
    let exitCode: number = EXIT.OK;
    const now = io.now ?? Date.now;
    const sleep = io.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
    const deps = { env: io.env, exec: io.exec, fetch: io.fetch };
    const out = (text: string) => io.stdout(text.endsWith("\n") ? text : text + "\n");
    const err = (text: string) => io.stderr(text.endsWith("\n") ? text : text + "\n");

    const program = new Command("generator")
        .description("Client-events generator: sign up users, send simulated client events, verify delivery.")
        .exitOverride()
        .configureOutput({ writeOut: io.stdout, writeErr: io.stderr })
        .showHelpAfterError("(add --help for usage)")
        .addHelpText("after", EXIT_HELP);

    connectionOptions(
        program
            .command("signup")
            .description("Sign a user up (SignUp), then confirm it with the e-mailed code or AdminConfirmSignUp.")
            .option("--userid <name>", "user name (env CLIENT_EVENTS_USERID)")
            .option("--password <password>", "password (env CLIENT_EVENTS_PASSWORD)")
            .option("--email <address>", "e-mail address that receives the confirmation code")
            .addOption(
                new Option("--confirm-code <code>", "confirm an earlier sign-up with the code Cognito e-mailed (skips SignUp)").conflicts(
                    "adminConfirm",
                ),
            )
            .option(
                "--admin-confirm",
                "confirm at once with AdminConfirmSignUp (needs AWS credentials with cognito-idp:AdminConfirmSignUp; against local mode, the credentials it published in outputs.json)",
            )
            .option(
                "--data-dir <dir>",
                "local mode's data directory, whose outputs.json holds the credentials --admin-confirm signs with when local mode does not answer (env CLIENT_EVENTS_DATA_DIR; default .local)",
            )
            .addHelpText("after", EXIT_HELP),
    ).action(async (flags: SignupFlags) => {
        exitCode = await signup(flags);
    });

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
    ).action(async (flags: RunFlags) => {
        exitCode = await run(flags);
    });

    connectionOptions(
        program
            .command("verify")
            .description(
                "Reconcile a run's manifest with storage (missing, duplicated and extra events by eventType), or, with --completeness, every session's sequence numbers with storage.",
            )
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
    ).action(async (flags: VerifyFlags) => {
        exitCode = await verify(flags);
    });

    async function signup(flags: SignupFlags): Promise<number> {
        const userid = flags.userid ?? io.env.CLIENT_EVENTS_USERID;
        const password = flags.password ?? io.env.CLIENT_EVENTS_PASSWORD;
        if (!userid) throw new CliError("signup needs --userid (or CLIENT_EVENTS_USERID)");
        // userPoolId is read only with --admin-confirm, which adds it to what must be resolved.
        const needs: Array<"userPoolClientId" | "cognitoEndpoint" | "userPoolId"> = ["userPoolClientId", "cognitoEndpoint"];
        if (flags.adminConfirm) needs.push("userPoolId");
        const settings = await resolveSettings(flags, needs, deps);
        const auth = new CognitoAuth({ clientId: settings.userPoolClientId, endpoint: settings.cognitoEndpoint, fetch: io.fetch });
        let confirmed: boolean;
        if (flags.confirmCode) {
            await auth.confirmSignUp(userid, flags.confirmCode);
            confirmed = true;
        } else {
            if (!password) throw new CliError("signup needs --password (or CLIENT_EVENTS_PASSWORD)");
            if (!flags.email) throw new CliError("signup needs --email (Cognito sends the confirmation code there)");
            try {
                const result = await auth.signUp({ username: userid, password, email: flags.email });
                confirmed = result.userConfirmed;
            } catch (e) {
                if (e instanceof CognitoError && e.code === "UsernameExistsException") {
                    throw new CliError(
                        `user ${userid} already exists: run with --confirm-code CODE to confirm it, or just use it`,
                        EXIT.CONFIG,
                    );
                }
                if (e instanceof CognitoError && e.code === "InvalidPasswordException") throw new CliError(e.message, EXIT.CONFIG);
                throw e;
            }
            if (flags.adminConfirm && !confirmed) {
                await adminConfirm(settings.userPoolId, settings.cognitoEndpoint, settings, userid);
                confirmed = true;
            }
        }
        if (!confirmed) {
            const msg =
                `Signed up ${userid}. Cognito sent a confirmation code to ${flags.email}; confirm with:\n` +
                `  npm run generator -- signup --userid ${userid} --confirm-code CODE`;
            out(flags.json ? JSON.stringify({ userid, confirmed: false }) : msg);
            return EXIT.OK;
        }
        // Sign in once, to prove the user works and show the clientId the confirmation trigger gave it.
        let clientId: string | undefined;
        if (password) {
            const session = await auth.signIn(userid, password, "id");
            clientId = jwtClaim(session.tokens.idToken, CLIENT_ID_ATTRIBUTE);
        }
        out(
            flags.json
                ? JSON.stringify({ userid, confirmed: true, clientId: clientId ?? null })
                : `User ${userid} is confirmed${clientId ? `; clientId ${clientId}` : ""}.`,
        );
        return EXIT.OK;
    }

    async function adminConfirm(userPoolId: string, endpoint: string, settings: Settings, userid: string): Promise<void> {
        const local = isLoopbackUrl(endpoint);
        // Local mode verifies the signature like AWS: sign with the credentials it published in outputs.json.
        const credentials = local ? await readLocalCredentials(endpoint, settings.dataDir, deps) : undefined;
        const client = new CognitoIdentityProviderClient({
            region: settings.region ?? "us-east-1",
            ...(local ? { endpoint, ...(credentials ? { credentials } : {}) } : {}),
            ...(!local && !/\.amazonaws\.com/.test(endpoint) ? { endpoint } : {}),
        });
        try {
            await client.send(new AdminConfirmSignUpCommand({ UserPoolId: userPoolId, Username: userid }));
        } finally {
            client.destroy();
        }
    }

    async function run(flags: RunFlags): Promise<number> {
        const userid = flags.userid ?? io.env.CLIENT_EVENTS_USERID;
        const password = flags.password ?? io.env.CLIENT_EVENTS_PASSWORD;
        if (!userid || !password)
            throw new CliError("run needs --userid and --password (or CLIENT_EVENTS_USERID / CLIENT_EVENTS_PASSWORD)");
        const settings = await resolveSettings(flags, ["apiUrl", "userPoolClientId", "cognitoEndpoint"], deps);
        const intervalMs = flags.rate ? ((flags.batch * flags.users) / flags.rate) * 1000 : flags.interval * 1000;
        const batchesPerUser = flags.batches ?? Math.max(1, Math.round(((flags.minutes ?? 1) * 60_000) / intervalMs));
        const runId = randomUUID();
        const stop = io.stop ?? { stopped: false };
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
            sleep,
            random: flags.seed !== undefined ? seededRandom(flags.seed) : io.random,
            stop,
            onBatch: (stats) => {
                if (!showProgress || now() - lastDrawn < 250) return;
                lastDrawn = now();
                io.stderr(`\r\x1b[2K${stats.progressLine(now() - started)}`);
            },
        });
        if (showProgress) io.stderr("\r\x1b[2K");
        const { summary, fatal } = outcome;
        out(flags.json ? JSON.stringify(summary) : formatSummary(summary));
        if (fatal === "auth") {
            err(
                `error: the API refused the token (${summary.stoppedEarly}); check that the user has a clientId and the app client id is right`,
            );
            return EXIT.AUTH;
        }
        if (fatal === "network") {
            err(`error: cannot reach the API at ${settings.apiUrl}: ${summary.stoppedEarly}`);
            return EXIT.NETWORK;
        }
        if (fatal === "config") {
            err(`error: the API URL looks wrong (${summary.stoppedEarly}): ${settings.apiUrl}`);
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

    async function verifyCompleteness(flags: VerifyFlags): Promise<number> {
        const dataDir = flags.dataDir ?? io.env.CLIENT_EVENTS_DATA_DIR;
        const local = dataDir !== undefined || (flags.local !== undefined && flags.local !== false);
        const target = local
            ? {
                  local: true as const,
                  dataDir: (await resolveSettings({ ...flags, dataDir }, ["dataDir"], deps)).dataDir ?? DEFAULT_LOCAL_DATA_DIR,
              }
            : { local: false as const, stack: flags.stack, region: flags.region, exec: io.exec ?? defaultExec };
        const { report, result } = await checkCompleteness(target, flags.activeMinutes);
        out(flags.json ? JSON.stringify(report) : formatCompleteness(report, result));
        return report.totals.missing > 0 ? EXIT.LOST : EXIT.OK;
    }

    async function verify(flags: VerifyFlags): Promise<number> {
        if (flags.completeness) return verifyCompleteness(flags);
        if (flags.activeMinutes !== undefined) throw new CliError("--active-minutes goes with --completeness");
        if (flags.manifest === undefined)
            throw new CliError("verify needs --manifest <path> (written by run --manifest), or --completeness");
        const manifestPath = flags.manifest;
        const manifest = (() => {
            try {
                return readManifest(manifestPath);
            } catch (e) {
                throw new CliError((e as Error).message, EXIT.CONFIG);
            }
        })();
        let source: ObjectSource;
        let where: string;
        const dataDir = flags.dataDir ?? io.env.CLIENT_EVENTS_DATA_DIR;
        if (dataDir || (flags.local !== undefined && flags.local !== false)) {
            const settings = await resolveSettings({ ...flags, dataDir }, ["dataDir"], deps);
            source = localObjects(settings.dataDir, flags.bucket ?? (dataDir ? undefined : settings.bucketName));
            where = `${settings.dataDir}`;
        } else {
            const settings = await resolveSettings(flags, ["bucketName", "region"], deps);
            const s3 = io.s3Client ?? new S3Client({ region: settings.region });
            source = s3Objects(s3, settings.bucketName, flags.prefix);
            where = `s3://${settings.bucketName}/${flags.prefix ?? ""}`;
        }
        const deadline = now() + flags.wait * 1000;
        let report: VerifyReport;
        for (;;) {
            report = await verifyRun(manifest, source);
            if (report.totals.missing === 0 || now() >= deadline) break;
            if (!flags.json) err(`${report.totals.missing} event(s) not in ${where} yet; checking again in ${flags.poll} s`);
            await sleep(Math.min(flags.poll * 1000, Math.max(0, deadline - now())));
        }
        out(flags.json ? JSON.stringify(report) : `${where}\n${formatReport(report)}`);
        return report.totals.missing > 0 ? EXIT.LOST : EXIT.OK;
    }

    try {
        if (argv.length === 0) {
            program.outputHelp();
            return EXIT.CONFIG;
        }
        await program.parseAsync(argv, { from: "user" });
        return exitCode;
    } catch (e) {
        if (e instanceof CommanderError) {
            // --help and --version exit 0; usage errors (already printed) exit 2.
            return e.exitCode === 0 ? EXIT.OK : EXIT.CONFIG;
        }
        const cli = withCode(e);
        err(`error: ${cli.message}`);
        return cli.exitCode;
    }
}

/** A claim of a JWT's payload, without verifying it (display only). */
function jwtClaim(token: string, claim: string): string | undefined {
    const payload = token.split(".")[1];
    if (!payload) return undefined;
    try {
        const value = JSON.parse(Buffer.from(payload, "base64url").toString("utf8"))[claim];
        return typeof value === "string" ? value : undefined;
    } catch {
        return undefined;
    }
}
