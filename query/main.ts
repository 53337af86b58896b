/**
 * `npm run query -- [options] [SQL]`: see query/cli.ts, or run with --help.
 */
import { runQueryCli } from "./cli";
import { silenceSdkNodeVersionNotice } from "../generator/sdk-notice";

silenceSdkNodeVersionNotice();

let stopping = false;
process.on("SIGINT", () => {
    if (stopping) process.exit(130);
    stopping = true;
    process.stderr.write("\nstopping the query (Ctrl-C again to quit now)\n");
});

runQueryCli(process.argv.slice(2), {
    stdout: (text) => process.stdout.write(text),
    stderr: (text) => process.stderr.write(text),
    env: process.env,
    athenaOptions: { cancelled: () => stopping },
}).then(
    (code) => {
        process.exitCode = code;
    },
    (err) => {
        process.stderr.write(`error: ${err instanceof Error ? err.stack : String(err)}\n`);
        process.exitCode = 1;
    },
);
