/**
 * `npm run generator -- <command> [flags]`: see generator/cli.ts, or run with --help.
 */
import { runCli } from "./cli";
import { silenceSdkNodeVersionNotice } from "./sdk-notice";

silenceSdkNodeVersionNotice();

const stop = { stopped: false };
process.on("SIGINT", () => {
    if (stop.stopped) process.exit(130);
    stop.stopped = true;
    process.stderr.write("\nstopping after the batches in flight (Ctrl-C again to quit now)\n");
});

runCli(process.argv.slice(2), {
    stdout: (text) => process.stdout.write(text),
    stderr: (text) => process.stderr.write(text),
    env: process.env,
    isTTY: process.stderr.isTTY === true,
    stop,
}).then(
    (code) => {
        process.exitCode = code;
    },
    (err) => {
        process.stderr.write(`error: ${err instanceof Error ? err.stack : String(err)}\n`);
        process.exitCode = 1;
    },
);
