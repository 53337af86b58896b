// Command-line tools for client-events: `npm run cli -- <command> ...`, `npm run cli -- --help`.
import { Command } from "commander";
import { InvalidEventPatternError } from "../event-pattern";
import { formatResult, testEventPattern } from "./test-event-pattern";

export function buildProgram(): Command {
    const program = new Command();
    program
        .name("client-events")
        .description("Tools for the client-events pipeline.")
        .showHelpAfterError();

    program
        .command("test-event-pattern")
        .description(
            "Test whether an event matches an EventBridge event pattern, offline " +
            "(same arguments and output as `aws events test-event-pattern`).",
        )
        .requiredOption("--event-pattern <json>", "the event pattern, as JSON text or file://path")
        .requiredOption("--event <json>", "the event, as JSON text or file://path")
        .addHelpText("after", `
Prints {"Result": true} or {"Result": false} and exits 0.
An invalid pattern prints the reason (as EventBridge's InvalidEventPatternException) and exits 1.

Example:
  npm run cli -- test-event-pattern \\
    --event-pattern '{"source":["clientevents"],"detail":{"eventType":["loyaltypurchase"]}}' \\
    --event file://events/event.json`)
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

    return program;
}

if (require.main === module) {
    buildProgram().parseAsync(process.argv).catch((e: unknown) => {
        process.stderr.write(`error: ${e instanceof Error ? e.message : String(e)}\n`);
        process.exitCode = 1;
    });
}
