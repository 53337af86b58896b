/**
 * What the generator's commands share: the injectable I/O, the flag parsers, the connection flags and the
 * mapping of errors to one message and an exit code.
 */
import { Command, InvalidArgumentError } from "commander";
import { S3Client } from "@aws-sdk/client-s3";
import {
    ChallengeRequiredError,
    CognitoError,
    FetchLike,
    InvalidCredentialsError,
    isLoopback,
    NetworkError,
    SessionExpiredError,
    UserNotConfirmedError,
} from "../../client";
import { CliError, EXIT } from "../errors";
import { ConnectionFlags, DEFAULT_LOCAL_URL, ENV, Exec, ResolveDeps } from "../settings";

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

/** The I/O with its defaults filled in, as every command uses it. */
export interface CommandContext {
    io: CliIO;
    now: () => number;
    sleep: (ms: number) => Promise<void>;
    /** What resolveSettings reads. */
    deps: ResolveDeps;
    /** Writes a line to stdout (the result). */
    out: (text: string) => void;
    /** Writes a line to stderr (progress, errors). */
    err: (text: string) => void;
}

export function commandContext(io: CliIO): CommandContext {
    return {
        io,
        now: io.now ?? Date.now,
        sleep: io.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))),
        deps: { env: io.env, exec: io.exec, fetch: io.fetch },
        out: (text) => io.stdout(text.endsWith("\n") ? text : text + "\n"),
        err: (text) => io.stderr(text.endsWith("\n") ? text : text + "\n"),
    };
}

/** Flags every command takes. */
export interface CommonOptions extends ConnectionFlags {
    json?: boolean;
}

export const EXIT_HELP = `
Exit codes: 0 ok; 1 events lost (run) or missing from storage (verify; with --completeness: missing among
finished sessions); 2 bad flags, missing settings, no archive, a failed query or (verify) a run that failed to start;
3 wrong credentials, unconfirmed user or token refused; 4 Cognito, the API or storage unreachable.

Settings come from flags, then environment variables:
  ${Object.values(ENV)
      .map((v) => v[0])
      .join("\n  ")}
then local mode (--local) or the Pulumi stack's outputs (pulumi stack output --json [--stack NAME]).
Prefer CLIENT_EVENTS_PASSWORD to --password: npm prints the command line it runs, and ps shows it to other users.`;

export function int(name: string, min: number, max: number) {
    return (value: string): number => {
        const n = Number(value);
        if (!/^\d+$/.test(value.trim()) || n < min || n > max)
            throw new InvalidArgumentError(`${name} must be a whole number from ${min} to ${max}`);
        return n;
    };
}

export function positive(name: string) {
    return (value: string): number => {
        const n = Number(value);
        if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError(`${name} must be a number above 0`);
        return n;
    };
}

export function bool(value: string): boolean {
    if (/^(true|yes|1)$/i.test(value)) return true;
    if (/^(false|no|0)$/i.test(value)) return false;
    throw new InvalidArgumentError("must be true or false");
}

/** The flags that say where the deployment is (or local mode), shared by signup and run. */
export function connectionOptions(cmd: Command): Command {
    return storageOptions(cmd.option("--stack <name>", "Pulumi stack to read outputs from (default: the selected stack)"), false)
        .option(
            "--api-url <url>",
            "URL to POST events to, .../<stage>/event (the stage URL works too; default: stack output apiUrl; env CLIENT_EVENTS_API_URL)",
        )
        .option("--apiid <id>", "API Gateway id; with --region and --stage gives the API URL (the seed's flag)")
        .option("--stage <name>", "API stage (= environment) used with --apiid (default: dev)")
        .option("--appclientid <id>", "Cognito app client id (default: stack output userPoolClientId; env CLIENT_EVENTS_APP_CLIENT_ID)")
        .option("--user-pool-id <id>", "Cognito user pool id, for --admin-confirm (default: stack output userPoolId)")
        .option("--cognito-endpoint <url>", "Cognito endpoint (default: https://cognito-idp.<region>.amazonaws.com/)")
        .option("--json", "print the result as JSON");
}

/** What verify needs to find the archive: local mode, or the stack and its region. */
export function storageOptions(cmd: Command, json = true): Command {
    const withLocation = cmd
        .option("--local [url]", `use local mode's settings (url default: ${DEFAULT_LOCAL_URL})`)
        .option("--region <region>", "AWS region (default: stack output region; env CLIENT_EVENTS_REGION, AWS_REGION)");
    return json ? withLocation.option("--json", "print the result as JSON") : withLocation;
}

/** The hint after a network error against local mode. */
export const LOCAL_NOT_RUNNING =
    "Is local mode running? Start it with `npm run local` in another terminal (an outputs.json left by an earlier run " +
    "still names its address), or pass --local <url> if it listens elsewhere.";

/** Whether --local was given (with or without a URL). */
export function localFlag(flags: ConnectionFlags): boolean {
    return flags.local !== undefined && flags.local !== false;
}

/** Maps any error a command throws to one message and the exit code of its kind. */
export function withCode(err: unknown): CliError {
    if (err instanceof CliError) return err;
    const client = clientError(err);
    if (client) return client;
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

/** The client library's errors (client/errors.ts), with a hint at the flag to check. */
function clientError(err: unknown): CliError | undefined {
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
    return undefined;
}

export function isLoopbackUrl(url: string): boolean {
    try {
        return isLoopback(new URL(url).hostname);
    } catch {
        return false;
    }
}
