// How long `npm run local` takes from spawn to its ready line, with each way of running the TypeScript, beside
// an empty Node process. Each start gets a new data directory, as a new user's first start does (it creates
// the signing key).
import { spawn } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import type { BenchRow } from "./table";

const AREA = "local";
const ROOT = path.resolve(__dirname, "..");
const RUNS = 5;

export const about = "local mode's start: ms from spawn to the ready line, per TypeScript runner, beside an empty Node process";
export const cases = [
    "npm run local's command (package.json), spawn to ready line; floor: node -e 0",
    "the same with the other runners: ts-node --transpile-only, tsx, node --import tsx; tsx with an empty compile cache",
];

interface Start {
    label: string;
    /** A shell command, run as npm runs a script (node_modules/.bin on PATH); local mode's options are appended. */
    command: string;
    /** A fresh TMPDIR per start (tsx keeps its compile cache there). */
    emptyCache?: boolean;
}

/** Spawns `command` through sh as npm would, resolves when `ready` is printed (ms), then stops it with SIGTERM. */
export function timeToReady(command: string, args: string[], env: NodeJS.ProcessEnv = {}, timeoutMs = 120_000): Promise<number> {
    const started = process.hrtime.bigint();
    const child = spawn("sh", ["-c", `exec ${command} "$@"`, "sh", ...args], {
        cwd: ROOT,
        stdio: ["ignore", "pipe", "pipe"],
        env: { ...process.env, ...env, PATH: `${path.join(ROOT, "node_modules", ".bin")}${path.delimiter}${process.env.PATH}` },
    });
    return new Promise((resolve, reject) => {
        let out = "";
        let err = "";
        let ms: number | undefined;
        const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
        child.stdout.on("data", (chunk) => {
            out += chunk;
            if (ms === undefined && out.includes('"ready":true')) {
                ms = Number(process.hrtime.bigint() - started) / 1e6;
                child.kill("SIGTERM");
            }
        });
        child.stderr.on("data", (chunk) => (err += chunk));
        child.on("exit", () => {
            clearTimeout(timer);
            if (ms === undefined) reject(new Error(`${command}: no ready line (${err.trim().split("\n").pop() ?? "no output"})`));
            else resolve(ms);
        });
    });
}

function exitMs(args: string[]): Promise<number> {
    const started = process.hrtime.bigint();
    const child = spawn(process.execPath, args, { stdio: "ignore" });
    return new Promise((resolve) => child.on("exit", () => resolve(Number(process.hrtime.bigint() - started) / 1e6)));
}

export async function run(): Promise<BenchRow[]> {
    const scripts = (JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8")) as { scripts: Record<string, string> }).scripts;
    const starts: Start[] = [
        { label: `npm run local's command: ${scripts.local}`, command: scripts.local },
        { label: "ts-node --transpile-only local/main.ts", command: "ts-node --transpile-only local/main.ts" },
        { label: "tsx local/main.ts", command: "tsx local/main.ts" },
        { label: "node --import tsx local/main.ts", command: "node --import tsx local/main.ts" },
        { label: "node --import tsx local/main.ts, empty compile cache", command: "node --import tsx local/main.ts", emptyCache: true },
    ];
    const scratch = fs.mkdtempSync(path.join(os.tmpdir(), "bench-local-start-"));
    try {
        const samples = new Map<Start, number[]>(starts.map((s) => [s, []]));
        const samplesOf = (start: Start): number[] => samples.get(start) ?? [];
        const empty: number[] = [];
        let n = 0;
        for (let i = 0; i < RUNS; i++) {
            // Interleaved, so the machine's load falls on every runner alike.
            empty.push(await exitMs(["-e", "0"]));
            for (const start of starts) {
                const dataDir = path.join(scratch, `data-${n++}`);
                const env: NodeJS.ProcessEnv = {};
                if (start.emptyCache) {
                    env.TMPDIR = path.join(scratch, `tmp-${n}`);
                    fs.mkdirSync(env.TMPDIR);
                }
                samplesOf(start).push(await timeToReady(start.command, ["--port", "0", "--data-dir", dataDir, "--quiet"], env));
            }
        }
        const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
        const floor = { case: "empty Node process (node -e 0)", value: median(empty) };
        return starts.map((start) => ({
            area: AREA,
            case: `start to ready line: ${start.label}`,
            value: median(samplesOf(start)),
            unit: "ms",
            floor,
            note: `median of ${RUNS}; a new data directory each time`,
        }));
    } finally {
        fs.rmSync(scratch, { recursive: true, force: true });
    }
}
