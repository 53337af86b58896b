/**
 * `npm run local`: runs the whole client-events pipeline on this machine. Prints one JSON line
 * (`{"ready":true,...}`) when it accepts requests, then a short summary; SIGINT / SIGTERM write every
 * buffer before exiting (deliveries waiting for a retry stay in the journal). It exits 1 when accepted
 * events could not be written (they remain in the journal for the next start), and refuses to start on a
 * data directory another local mode is using.
 */
import { Command, InvalidArgumentError } from "commander";
import { CONFIG_KEYS, CONFIG_NAMESPACE, SECRET_CONFIG_KEYS } from "../config";
import { DataDirLockedError } from "./data-dir-lock";
import { startLocal, type LocalOptions, type LocalPipeline } from "./index";

function integer(name: string, min: number, max: number) {
    return (value: string): number => {
        const n = Number(value);
        if (!/^\d+$/.test(value) || n < min || n > max)
            throw new InvalidArgumentError(`${name} must be a whole number from ${min} to ${max}`);
        return n;
    };
}

function seconds(value: string): number {
    const n = Number(value);
    if (!/^\d+(\.\d+)?$/.test(value) || n < 0 || n > 900) throw new InvalidArgumentError("must be a number of seconds from 0 to 900");
    return n;
}

/** Node prints the AWS SDK's notice about Node 20 on every start; local mode is fine on Node 20. */
function hideSdkNodeVersionNotice(): void {
    const printers = process.listeners("warning");
    process.removeAllListeners("warning");
    process.on("warning", (warning) => {
        if (warning.name === "NodeVersionSupportWarning" || warning.message.startsWith("NodeVersionSupportWarning")) return;
        for (const print of printers) print(warning);
    });
}

/** The options as commander parses them. */
interface CliOptions {
    port: number;
    host: string;
    dataDir: string;
    bufferSeconds: number;
    environment: string;
    region: string;
    zendeskEndpoint?: string;
    zendeskEmail?: string;
    zendeskApiToken?: string;
    zendeskRate?: number;
    quiet?: boolean;
    consoleOnAnyAddress?: boolean;
    config?: Record<string, string>;
}

function region(value: string): string {
    if (!/^[a-z]{2}(-[a-z]+)+-\d{1,2}$/.test(value)) throw new InvalidArgumentError("expected an AWS region name such as eu-west-1");
    return value;
}

/**
 * `--config key=value`, repeatable, with or without the project's `client-events:` prefix. An unknown key is
 * refused (a misspelt key would otherwise leave its default in force without a word); the secret key is refused
 * too, since a command line is visible to every process.
 */
function configPair(pair: string, all: Record<string, string> = {}): Record<string, string> {
    const i = pair.indexOf("=");
    if (i <= 0) throw new InvalidArgumentError("expected key=value");
    const key = pair.slice(0, i).replace(new RegExp(`^${CONFIG_NAMESPACE}:`), "");
    if (SECRET_CONFIG_KEYS.includes(key))
        throw new InvalidArgumentError(`${key} is a secret: pass it in the environment (ZENDESK_API_TOKEN), not on the command line`);
    if (!CONFIG_KEYS.includes(key)) throw new InvalidArgumentError(`unknown config key "${key}"; the keys are: ${CONFIG_KEYS.join(", ")}`);
    return { ...all, [key]: pair.slice(i + 1) };
}

function cliProgram(): Command {
    return new Command()
        .name("npm run local --")
        .description("Run the client-events pipeline offline: Cognito, the API, EventBridge, Firehose to files, Zendesk tickets.")
        .option("--port <port>", "TCP port (0 picks a free one)", integer("--port", 0, 65535), 4000)
        .option("--host <host>", "interface to listen on", "127.0.0.1")
        .option("--data-dir <dir>", "where S3 objects, tickets, dead letters and users are kept", ".local")
        .option("--buffer-seconds <seconds>", "Firehose buffer interval", seconds, 5)
        .option("--environment <name>", "environment: the API stage and every event's detail-type", "local")
        .option("--region <region>", "region of the emulated resources", region, "us-east-1")
        .option("--zendesk-endpoint <url>", "send tickets to this URL instead of the built-in recorder (env ZENDESK_ENDPOINT)")
        .option("--zendesk-email <email>", "e-mail of the Zendesk user whose API token authenticates (env ZENDESK_EMAIL)")
        .option("--zendesk-api-token <token>", "Zendesk API token (env ZENDESK_API_TOKEN; prefer the variable: arguments show in ps)")
        .option("--zendesk-rate <perSecond>", "API destination invocation rate limit", integer("--zendesk-rate", 1, 300))
        .option(
            "--config <key=value>",
            "a program config key, as `pulumi config set` takes it (repeatable), e.g. partitionEventTypes=shopping,paging",
            configPair,
        )
        .option("--console-on-any-address", "serve the browser console and /_local/metrics even when --host is not a loopback address")
        .option("--quiet", "print only the ready line and confirmation codes")
        .showHelpAfterError();
}

/** startLocal's options from the command line and the environment (ZENDESK_*). */
function localOptions(o: CliOptions, zendeskEndpoint: string | undefined): LocalOptions {
    return {
        port: o.port,
        host: o.host,
        dataDir: o.dataDir,
        bufferSeconds: o.bufferSeconds,
        region: o.region,
        quiet: o.quiet,
        consoleOnAnyAddress: o.consoleOnAnyAddress,
        config: { environment: o.environment, ...(o.config ?? {}) },
        zendesk: {
            endpoint: zendeskEndpoint || undefined,
            email: o.zendeskEmail ?? process.env.ZENDESK_EMAIL,
            apiToken: o.zendeskApiToken ?? process.env.ZENDESK_API_TOKEN,
            ratePerSecond: o.zendeskRate,
        },
        // What Cognito would e-mail: always shown, since nobody can confirm a sign-up without it.
        onConfirmationCode: (username, code) => process.stdout.write(`confirmation code for ${username}: ${code}\n`),
        onInvitation: (username, password) => process.stdout.write(`temporary password for ${username}: ${password}\n`),
    };
}

/**
 * SIGINT / SIGTERM close local mode (exit 1 when accepted events could not be written: they are in the journal);
 * a second signal exits at once.
 */
function stopOnSignals(local: LocalPipeline, quiet: boolean): void {
    let stopping = false;
    const stop = (signal: string) => {
        if (stopping) {
            // A second signal: the user insists. What is journaled is resumed at the next start.
            process.stderr.write(`${signal} again: exiting without waiting; the next start resumes what was journaled\n`);
            process.exit(130);
        }
        stopping = true;
        if (!quiet) process.stdout.write(`${signal}: writing buffers and pending deliveries...\n`);
        local.close().then(
            (report) => {
                // Accepted events that could not be written are in the journal: say so, and fail.
                if (report.notWritten > 0) {
                    process.stderr.write(`${report.summary}\n`);
                    process.exit(1);
                }
                process.exit(0);
            },
            (err) => {
                process.stderr.write(`failed to stop cleanly: ${(err as Error).stack ?? err}\n`);
                process.exit(1);
            },
        );
    };
    process.on("SIGINT", () => stop("SIGINT"));
    process.on("SIGTERM", () => stop("SIGTERM"));
}

/** The lines after the ready line: where each part is. */
function summary(local: LocalPipeline, o: CliOptions): string {
    const { outputs: out, details } = local;
    return [
        `client-events local mode (environment ${details.environment}, region ${out.region})`,
        `  events:    POST ${out.apiUrl}  (Authorization: <Cognito token>)`,
        `  cognito:   ${out.cognitoEndpoint}  pool ${out.userPoolId}, app client ${out.userPoolClientId}`,
        `  archive:   ${details.s3Dir}/${out.bucketName}/  (Firehose buffer ${o.bufferSeconds} s, partition query on ${details.jqEngine})`,
        `  tickets:   ${details.ticketsFile || details.zendeskEndpoint}`,
        `  dead letters: ${details.dlqDir}/<rule>.jsonl`,
        details.consoleUrl
            ? `  console:   ${details.consoleUrl}  (metrics: ${details.consoleUrl}metrics)`
            : `  console:   off (listening on ${o.host}, not loopback; --console-on-any-address serves it there)`,
        "  Ctrl-C writes every buffer to disk and stops.",
        "",
    ].join("\n");
}

export async function main(argv: string[]): Promise<LocalPipeline> {
    hideSdkNodeVersionNotice();
    const program = cliProgram();
    program.parse(argv);
    const o = program.opts<CliOptions>();
    const zendeskEndpoint = o.zendeskEndpoint ?? process.env.ZENDESK_ENDPOINT;
    if (zendeskEndpoint && !/^https?:\/\//.test(zendeskEndpoint)) program.error("--zendesk-endpoint must be an http(s) URL");
    if (!/^(127\.|localhost$|::1$|\[::1\]$)/.test(o.host)) {
        process.stderr.write(
            `warning: listening on ${o.host} makes local mode reachable from other machines; it has no real ` +
                "access control beyond signed admin operations (sign-up and the API are open). Prefer the default 127.0.0.1.\n",
        );
    }
    const local = await startLocal(localOptions(o, zendeskEndpoint));
    // Signals are handled before the ready line is printed: whoever reads it may stop local mode at once.
    stopOnSignals(local, o.quiet ?? false);
    process.stdout.write(JSON.stringify(local.outputs) + "\n");
    if (!o.quiet) process.stdout.write(summary(local, o));
    return local;
}

if (require.main === module) {
    main(process.argv).catch((err) => {
        const e = err as NodeJS.ErrnoException;
        if (e.code === "EADDRINUSE") process.stderr.write(`Port in use: ${e.message}. Choose another with --port.\n`);
        else if (err instanceof DataDirLockedError) process.stderr.write(`${e.message}\n`);
        else if (e.code && e.syscall && e.path)
            process.stderr.write(`Cannot use the data directory: ${e.message}. Choose another with --data-dir, or fix its permissions.\n`);
        else if (/^Invalid configuration|^A Zendesk endpoint/.test(e.message)) process.stderr.write(`${e.message}\n`);
        else process.stderr.write(`${e.stack ?? e}\n`);
        process.exit(1);
    });
}
