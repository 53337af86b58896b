// The generator CLI's I/O for tests: output collected in `out` and `errText`, no terminal, no waiting between batches.
import type { CliIO } from "../../generator/cli";

export function recordingIo(env: NodeJS.ProcessEnv = {}): CliIO & { out: string; errText: string } {
    const c = {
        out: "",
        errText: "",
        stdout: (t: string) => void (c.out += t),
        stderr: (t: string) => void (c.errText += t),
        env,
        isTTY: false,
        sleep: async () => undefined,
    };
    return c;
}
