/**
 * The generator's command line (`npm run generator -- <command>`): this file dispatches; each command lives in
 * generator/commands/ (signup.ts, run.ts, verify.ts). `runCli` takes its I/O and clock as arguments and returns
 * the exit code, so tests run it in-process; generator/main.ts wires it to the process.
 */
import { Command, CommanderError } from "commander";
import { EXIT } from "./errors";
import { CliIO, commandContext, EXIT_HELP, withCode } from "./commands/common";
import { addRunCommand } from "./commands/run";
import { addSignupCommand } from "./commands/signup";
import { addVerifyCommand } from "./commands/verify";

export type { CliIO } from "./commands/common";

/** Parses argv (without node and script) and runs the command; resolves with the exit code. */
export async function runCli(argv: string[], io: CliIO): Promise<number> {
    let exitCode: number = EXIT.OK;
    const done = (code: number) => {
        exitCode = code;
    };
    const ctx = commandContext(io);
    const program = new Command("npm run generator --")
        .description(
            "The event generator (generator/cli.ts; each command in generator/commands/): sign up users, send simulated client events, verify delivery.",
        )
        .exitOverride()
        .configureOutput({ writeOut: io.stdout, writeErr: io.stderr })
        .showHelpAfterError("(add --help for usage)")
        .addHelpText("after", EXIT_HELP);
    addSignupCommand(program, ctx, done);
    addRunCommand(program, ctx, done);
    addVerifyCommand(program, ctx, done);

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
        ctx.err(`error: ${cli.message}`);
        return cli.exitCode;
    }
}
