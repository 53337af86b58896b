// Command-line tools for client-events: `npm run cli -- <command> ...`, `npm run cli -- --help`.
import * as fs from "fs";
import { Command, Option } from "commander";
import { CognitoIdentityProviderClient } from "@aws-sdk/client-cognito-identity-provider";
import { InvalidEventPatternError } from "../event-pattern";
import { isLoopback } from "../client/http";
import { readLocalCredentials } from "../generator/settings";
import { assignClientIds, formatAssignReport } from "./assign-client-ids";
import { formatResult, testEventPattern } from "./test-event-pattern";
import { validateEvents } from "./validate-event";
import { compileSchemas, moduleText } from "../schemas/compile";
import { silenceSdkNodeVersionNotice } from "../generator/sdk-notice";

silenceSdkNodeVersionNotice();

interface AssignFlags {
    userPoolId: string;
    region?: string;
    endpoint?: string;
    dataDir?: string;
    dryRun?: boolean;
    json?: boolean;
}

/** A Cognito client for the pool's region; against local mode (a loopback endpoint), signed with its published credentials. */
async function cognitoFor(flags: AssignFlags): Promise<CognitoIdentityProviderClient> {
    const region = flags.region ?? process.env.AWS_REGION ?? flags.userPoolId.split("_")[0];
    const endpoint = flags.endpoint;
    const local = endpoint !== undefined && isLoopback(new URL(endpoint).hostname);
    // Local mode's own credentials first (real AWS credentials in the environment would be refused there).
    const credentials = local ? await readLocalCredentials(endpoint, flags.dataDir, { env: process.env }) : undefined;
    return new CognitoIdentityProviderClient({
        region,
        maxAttempts: 8,
        retryMode: "adaptive", // ListUsers and AdminUpdateUserAttributes have low request quotas
        ...(flags.endpoint ? { endpoint: flags.endpoint } : {}),
        ...(credentials ? { credentials } : {}),
    });
}

function testEventPatternCommand(program: Command): void {
    program
        .command("test-event-pattern")
        .description(
            "Test whether an event matches an EventBridge event pattern, offline " +
                "(same arguments and output as `aws events test-event-pattern`).",
        )
        .requiredOption("--event-pattern <json>", "the event pattern, as JSON text or file://path")
        .requiredOption("--event <json>", "the event, as JSON text or file://path")
        .addHelpText(
            "after",
            `
Prints {"Result": true} or {"Result": false} and exits 0.
An invalid pattern prints the reason (as EventBridge's InvalidEventPatternException) and exits 1.

Example:
  npm run cli -- test-event-pattern \\
    --event-pattern '{"source":["clientevents"],"detail":{"eventType":["loyaltypurchase"]}}' \\
    --event file://events/event.json`,
        )
        .action((opts: { eventPattern: string; event: string }) => {
            try {
                process.stdout.write(formatResult(testEventPattern(opts.eventPattern, opts.event)) + "\n");
            } catch (e) {
                const message = e instanceof Error ? e.message : String(e);
                if (e instanceof InvalidEventPatternError) {
                    process.stderr.write(`An error occurred (${e.code}) when calling the TestEventPattern operation: ${message}\n`);
                } else {
                    process.stderr.write(`error: ${message}\n`);
                }
                process.exitCode = 1;
            }
        });
}

function validateEventCommand(program: Command): void {
    program
        .command("validate-event")
        .description("Check an event against its JSON Schema in schemas/, with the Firehose transform's own verdict.")
        .requiredOption(
            "--event <json>",
            "the event, as JSON text or file://path: a client event, an EventBridge event, or a Firehose error record (also newline-delimited)",
        )
        .option("--schemas <dir>", "directory of the schemas (<eventType>/<schemaVersion>.json)")
        .addOption(
            new Option("--unknown-schema <policy>", "an event of a type and version without schema")
                .choices(["allow", "quarantine"])
                .default("allow"),
        )
        .addHelpText(
            "after",
            `
Prints one JSON line per event: {"valid":true,"schema":"shopping/1",...} or
{"valid":false,"reason":"schema-violation","message":"shopping version 1 breaks its schema at \\"/data/itemSku\\": must be integer (type)",...}.
For a line of errors/processing-failed/ it decodes rawData and replays the transform, so it tells why the record was rejected.

Exit codes: 0 every event passes; 1 an event breaks its schema (or has none, with --unknown-schema quarantine,
or was rejected by the transform for another reason); 2 the input or the schemas cannot be read.

Example:
  npm run cli -- validate-event --event file://events/event.json`,
        )
        .action((opts: { event: string; schemas?: string; unknownSchema: "allow" | "quarantine" }) => {
            try {
                const results = validateEvents(opts.event, { schemaDir: opts.schemas, unknownSchema: opts.unknownSchema });
                for (const r of results) process.stdout.write(JSON.stringify(r) + "\n");
                process.exitCode = results.every((r) => r.valid) ? 0 : 1;
            } catch (e) {
                process.stderr.write(`error: ${e instanceof Error ? e.message : String(e)}\n`);
                process.exitCode = 2;
            }
        });
}

function compileSchemasCommand(program: Command): void {
    program
        .command("compile-schemas")
        .description("Write the schemas' compiled validators as one self-contained module, for apps that use client/schemas.")
        .option("--out <file>", "where to write the module (default: standard output)")
        .addOption(new Option("--format <format>", "module format").choices(["cjs", "esm"]).default("cjs"))
        .option("--schemas <dir>", "directory of the schemas (<eventType>/<schemaVersion>.json)")
        .action((opts: { out?: string; format: "cjs" | "esm"; schemas?: string }) => {
            try {
                const text = moduleText(compileSchemas(opts.schemas).source, opts.format);
                if (opts.out) fs.writeFileSync(opts.out, text);
                else process.stdout.write(text);
            } catch (e) {
                process.stderr.write(`error: ${e instanceof Error ? e.message : String(e)}\n`);
                process.exitCode = 2;
            }
        });
}

function assignClientIdsCommand(program: Command): void {
    program
        .command("assign-client-ids")
        .description(
            "Give every user of the pool who has no clientId the one the Cognito triggers would give it " +
                "(for users created before the pre-token-generation trigger, e.g. with AdminCreateUser). Idempotent.",
        )
        .requiredOption("--user-pool-id <id>", "the user pool (stack output userPoolId)")
        .option("--region <region>", "AWS region (default: AWS_REGION, else the pool id's prefix)")
        .option("--endpoint <url>", "Cognito endpoint, e.g. local mode's http://127.0.0.1:4000")
        .option("--data-dir <dir>", "local mode's data directory, whose outputs.json holds its credentials (default .local)")
        .option("--dry-run", "list who would get a clientId; change nothing")
        .option("--json", "print the report as JSON")
        .addHelpText(
            "after",
            `
Needs cognito-idp:ListUsers and cognito-idp:AdminUpdateUserAttributes on the pool (AWS credentials as for the
AWS CLI). Against local mode, the credentials it published in <data-dir>/outputs.json are used.
Exits 0 when every user has a clientId (or would, with --dry-run), 1 when an update failed.

Example:
  npm run cli -- assign-client-ids --user-pool-id "$(pulumi stack output userPoolId)" --dry-run`,
        )
        .action(async (flags: AssignFlags) => {
            const cognito = await cognitoFor(flags);
            try {
                const report = await assignClientIds(cognito, { userPoolId: flags.userPoolId, dryRun: flags.dryRun });
                process.stdout.write((flags.json ? JSON.stringify(report) : formatAssignReport(report)) + "\n");
                if (report.failed.length > 0) process.exitCode = 1;
            } finally {
                cognito.destroy();
            }
        });
}

export function buildProgram(): Command {
    const program = new Command();
    program
        .name("npm run cli --")
        .description("Tools for the client-events pipeline (cli/main.ts): event patterns, event schemas, clientIds.")
        .showHelpAfterError();
    testEventPatternCommand(program);
    validateEventCommand(program);
    compileSchemasCommand(program);
    assignClientIdsCommand(program);
    return program;
}

if (require.main === module) {
    buildProgram()
        .parseAsync(process.argv)
        .catch((e: unknown) => {
            const name = e instanceof Error && e.name !== "Error" ? `${e.name}: ` : "";
            process.stderr.write(`error: ${name}${e instanceof Error ? e.message : String(e)}\n`);
            process.exitCode = 1;
        });
}
