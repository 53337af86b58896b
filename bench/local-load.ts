// Local mode under load from a separate process: wrk (Debian's `wrk`) posts 10-entry requests with one user's
// ID token over 32 connections to 127.0.0.1 for a fixed time, against local mode started as `npm run local`
// starts it and, in the same run, against the floor (bench/support/floor-server.ts). Then SIGTERM, the time
// until everything is written, and the archive read back: every accepted eventId must be there exactly once.
import { spawn, spawnSync, type ChildProcess } from "child_process";
import { connectionArgs } from "../generator/settings";
import * as fs from "fs";
import * as http from "http";
import * as os from "os";
import * as path from "path";
import * as zlib from "zlib";
import { CognitoAuth } from "../client";
import { runCli } from "../generator/cli";
import type { BenchRow } from "./table";

const AREA = "local-load";
const ROOT = path.resolve(__dirname, "..");
const CONNECTIONS = 32;
const THREADS = 2;
/** Seconds of load per server; BENCH_LOAD_SECONDS shortens it while working on the bench itself. */
const DURATION_S = Number(process.env.BENCH_LOAD_SECONDS ?? 15);
/** How long a SIGTERM may take before the run counts as not stored (the target is 60 s). */
const STORE_LIMIT_S = 300;
const USER = { name: "bench-load", password: "Bench-passw0rd!" };
/** Linux's USER_HZ: /proc reports CPU time in these ticks. */
const CLOCK_TICKS = Number(spawnSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).stdout.trim()) || 100;

interface CpuSample {
    total: number;
    main: number;
}

export const about = `local mode under wrk from a separate process (${CONNECTIONS} connections, 10-entry requests, one user, ID token, ${DURATION_S} s on 127.0.0.1) beside a bare Node floor server; needs Debian's wrk`;
export const cases = [
    "accepted events/s (floor: the bare Node server under the same load)",
    "request latency p50 and p99",
    "time from SIGTERM to everything written",
    "lost (accepted, not in the archive) and duplicated events, reading the archive back",
    "longest event-loop stall of the thread that answers requests during the load (from /_local/metrics)",
    "peak RSS of the server's processes",
    "CPU per accepted event of the server's processes (/proc), and the share of the thread that answers requests",
];

/** The wrk script: unique entries per request, every answer's eventIds to a file per thread, a JSON summary. */
const WRK_SCRIPT = String.raw`
local threads = {}
local next_id = 1
function setup(thread)
    thread:set("tid", next_id)
    next_id = next_id + 1
    table.insert(threads, thread)
end
local counter = 0
local out
function init(args)
    out = io.open(os.getenv("BENCH_OUT") .. "/answers-" .. tid .. ".txt", "w")
end
function request()
    counter = counter + 1
    local entries = {}
    for i = 1, 10 do
        entries[i] = string.format('{"entry":"{\\"eventType\\":\\"shopping\\",\\"schemaVersion\\":1,\\"eventId\\":\\"%d-%d-%d\\",\\"data\\":{\\"itemSku\\":%d}}"}', tid, counter, i, i)
    end
    return wrk.format("POST", nil, nil, '{"entries":[' .. table.concat(entries, ",") .. ']}')
end
function response(status, headers, body)
    out:write("status ", status, "\n")
    for id in string.gmatch(body, '"eventId"%s*:%s*"([^"]+)"') do out:write(id, "\n") end
end
function done(summary, latency, requests)
    local e = summary.errors
    local f = io.open(os.getenv("BENCH_OUT") .. "/summary.json", "w")
    f:write(string.format('{"requests":%d,"durationUs":%d,"connect":%d,"read":%d,"write":%d,"timeout":%d,"status":%d,"p50Us":%d,"p99Us":%d,"maxUs":%d}',
        summary.requests, summary.duration, e.connect, e.read, e.write, e.timeout, e.status,
        latency:percentile(50), latency:percentile(99), latency.max))
    f:close()
end
`;

/** The fields of local mode's ready line that the load run reads. */
interface ReadyLine {
    apiUrl: string;
    userPoolClientId: string;
    cognitoEndpoint: string;
    userPoolId: string;
    region: string;
}

interface Server {
    child: ChildProcess;
    ready: ReadyLine;
    /** Peak resident set of the process and its descendants, in KiB, sampled every 200 ms. */
    peakRssKiB: () => number;
    cpu: () => CpuSample;
    stop: () => Promise<number | undefined>;
}

function descendants(pid: number): number[] {
    const out = [pid];
    for (const p of out) {
        try {
            for (const task of fs.readdirSync(`/proc/${p}/task`)) {
                const children = fs.readFileSync(`/proc/${p}/task/${task}/children`, "utf8").trim();
                if (children) out.push(...children.split(/\s+/).map(Number));
            }
        } catch {
            // gone
        }
    }
    return out;
}

/** utime + stime of a /proc stat line, in seconds (the fields after the parenthesized name: 14 and 15). */
function statCpuSeconds(statPath: string): number {
    const fields = fs
        .readFileSync(statPath, "utf8")
        .replace(/^.*\) /s, "")
        .split(" ");
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
}

/** CPU seconds used so far by the process and its descendants (every thread), and by its main thread alone. */
function cpuSeconds(pid: number): CpuSample {
    let total = 0;
    for (const p of descendants(pid)) {
        try {
            total += statCpuSeconds(`/proc/${p}/stat`);
        } catch {
            // gone
        }
    }
    return { total, main: statCpuSeconds(`/proc/${pid}/task/${pid}/stat`) };
}

function rssKiB(pid: number): number {
    let total = 0;
    for (const p of descendants(pid)) {
        try {
            total += Number(/VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${p}/status`, "utf8"))?.[1] ?? 0);
        } catch {
            // gone
        }
    }
    return total;
}

/** Starts `command args` through sh, as npm runs a script, and waits for its JSON ready line. */
function startServer(command: string, args: string[]): Promise<Server> {
    const child = spawn("sh", ["-c", `exec ${command} "$@"`, "sh", ...args], {
        cwd: ROOT,
        stdio: ["ignore", "pipe", "pipe"],
        env: { ...process.env, PATH: `${path.join(ROOT, "node_modules", ".bin")}${path.delimiter}${process.env.PATH}` },
    });
    let peak = 0;
    const pid = child.pid ?? 0; // undefined only when the spawn failed, which the exit handler reports
    const sampler = setInterval(() => (peak = Math.max(peak, rssKiB(pid))), 200);
    let stderr = "";
    child.stderr.on("data", (chunk) => (stderr = (stderr + chunk).slice(-2000)));
    const exited = new Promise<void>((resolve) =>
        child.on("exit", () => {
            clearInterval(sampler);
            resolve();
        }),
    );
    const stop = async (): Promise<number | undefined> => {
        peak = Math.max(peak, rssKiB(pid));
        const started = process.hrtime.bigint();
        child.kill("SIGTERM");
        const limit = new Promise<"limit">((resolve) => setTimeout(() => resolve("limit"), STORE_LIMIT_S * 1000).unref());
        if ((await Promise.race([exited, limit])) === "limit") {
            child.kill("SIGKILL");
            await exited;
            return undefined;
        }
        return Number(process.hrtime.bigint() - started) / 1e9;
    };
    return new Promise((resolve, reject) => {
        let out = "";
        const onData = (chunk: Buffer) => {
            out += chunk;
            const line = out.split("\n").find((l) => l.startsWith("{") && l.includes('"ready":true'));
            if (!line) return;
            child.stdout.off("data", onData);
            // BENCH_LOCAL_STDOUT=<file> keeps what the server prints after its ready line (with --trace-gc, say).
            if (process.env.BENCH_LOCAL_STDOUT) child.stdout.pipe(fs.createWriteStream(process.env.BENCH_LOCAL_STDOUT));
            else child.stdout.resume();
            resolve({ child, ready: JSON.parse(line), peakRssKiB: () => peak, cpu: () => cpuSeconds(pid), stop });
        };
        child.stdout.on("data", onData);
        child.on("exit", (code) =>
            reject(new Error(`${command} exited (${code}) before its ready line: ${stderr.trim().split("\n").slice(-3).join(" | ")}`)),
        );
    });
}

interface Load {
    summary: {
        requests: number;
        durationUs: number;
        connect: number;
        read: number;
        write: number;
        timeout: number;
        status: number;
        p50Us: number;
        p99Us: number;
        maxUs: number;
    };
    accepted: Set<string>;
    statuses: Map<string, number>;
    /** CPU seconds the server's processes used while wrk ran. */
    cpu: CpuSample;
}

function runWrk(server: Server, token: string, dir: string): Load {
    const url = server.ready.apiUrl;
    fs.mkdirSync(dir, { recursive: true });
    const script = path.join(dir, "load.lua");
    fs.writeFileSync(script, WRK_SCRIPT);
    const cpuBefore = server.cpu();
    const run = spawnSync(
        "wrk",
        [
            `-t${THREADS}`,
            `-c${CONNECTIONS}`,
            `-d${DURATION_S}s`,
            "--timeout",
            "10s",
            "-s",
            script,
            "-H",
            `Authorization: ${token}`,
            "-H",
            "Content-Type: application/json",
            url,
        ],
        { env: { ...process.env, BENCH_OUT: dir }, encoding: "utf8", timeout: (DURATION_S + 60) * 1000 },
    );
    const cpuAfter = server.cpu();
    if (run.status !== 0) throw new Error(`wrk failed (${run.status}): ${run.stderr || run.stdout}`);
    const cpu = { total: cpuAfter.total - cpuBefore.total, main: cpuAfter.main - cpuBefore.main };
    const accepted = new Set<string>();
    const statuses = new Map<string, number>();
    for (const file of fs.readdirSync(dir).filter((f) => f.startsWith("answers-"))) {
        for (const line of fs.readFileSync(path.join(dir, file), "utf8").split("\n")) {
            if (line.startsWith("status ")) statuses.set(line.slice(7), (statuses.get(line.slice(7)) ?? 0) + 1);
            else if (line) accepted.add(line);
        }
    }
    return { summary: JSON.parse(fs.readFileSync(path.join(dir, "summary.json"), "utf8")), accepted, statuses, cpu };
}

/** Every file under `dir`. */
function filesUnder(dir: string): string[] {
    if (!fs.existsSync(dir)) return [];
    return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
        const full = path.join(dir, entry.name);
        return entry.isDirectory() ? filesUnder(full) : [full];
    });
}

/** Every event id in the archive files, with how often it occurs, and the lines that hold no event. */
function archivedIds(files: string[]): { ids: Map<string, number>; errorLines: number } {
    const ids = new Map<string, number>();
    let errorLines = 0;
    for (const file of files) {
        const raw = fs.readFileSync(file);
        const data = raw[0] === 0x1f && raw[1] === 0x8b ? zlib.gunzipSync(raw) : raw;
        // Line by line from the bytes: the floor's one file can be larger than the longest string V8 makes (512 MiB).
        for (let start = 0; start < data.length;) {
            const newline = data.indexOf(0x0a, start);
            const end = newline < 0 ? data.length : newline;
            const line = data.toString("utf8", start, end);
            start = end + 1;
            if (!line.trim()) continue;
            let id: unknown;
            try {
                id = (JSON.parse(line) as { id?: unknown }).id;
            } catch {
                // not an event line
            }
            if (typeof id === "string") ids.set(id, (ids.get(id) ?? 0) + 1);
            else errorLines++;
        }
    }
    return { ids, errorLines };
}

interface Outcome {
    eventsPerSecond: number;
    p50Ms: number;
    p99Ms: number;
    storeSeconds: number | undefined;
    lost: number;
    duplicated: number;
    peakRssMiB: number;
    /** CPU of all the server's processes per accepted event, and the share of it on the thread that answers requests. */
    cpuUsPerEvent: number;
    mainThreadShare: number;
    note: string;
}

function outcome(
    load: Load,
    archive: { ids: Map<string, number>; errorLines: number },
    storeSeconds: number | undefined,
    peakKiB: number,
): Outcome {
    let lost = 0;
    for (const id of load.accepted) if (!archive.ids.has(id)) lost++;
    let duplicated = 0;
    let unanswered = 0;
    for (const [id, n] of archive.ids) {
        duplicated += n - 1;
        if (!load.accepted.has(id)) unanswered++;
    }
    const s = load.summary;
    const statuses = [...load.statuses].map(([status, n]) => `${n}x ${status}`).join(", ");
    const errors = s.connect + s.read + s.write + s.timeout;
    return {
        eventsPerSecond: load.accepted.size / (s.durationUs / 1e6),
        p50Ms: s.p50Us / 1000,
        p99Ms: s.p99Us / 1000,
        storeSeconds,
        lost,
        duplicated,
        peakRssMiB: peakKiB / 1024,
        cpuUsPerEvent: (load.cpu.total * 1e6) / Math.max(1, load.accepted.size),
        mainThreadShare: load.cpu.total > 0 ? load.cpu.main / load.cpu.total : 0,
        note:
            `${load.accepted.size} events accepted in ${s.requests} requests (${statuses || "no answers"}${errors ? `; ${errors} socket errors or timeouts` : ""}); ` +
            `${unanswered} stored but unanswered (in flight when wrk stopped)${archive.errorLines ? `; ${archive.errorLines} error-prefix lines` : ""}; max latency ${(s.maxUs / 1000).toFixed(0)} ms`,
    };
}

interface Stalls {
    maxMs: number;
    p99Ms: number;
    seconds: number;
    /** API Gateway's Latency as local mode measured it (request read to answer ready), p99 since its start. */
    apiLatencyP99Ms: number | null;
    /** The journal's group fsyncs (every answer of a group waits for its fsync), since local mode's start. */
    journalFsync: { p99: number | null; max: number | null };
}

/** The event-loop delay local mode measured in the seconds since `from` (epoch seconds), from /_local/metrics. */
async function eventLoopStalls(base: string, from: number): Promise<Stalls> {
    // A new connection (agent: false): a pooled one went stale while spawnSync(wrk) held this thread.
    const text = await new Promise<string>((resolve, reject) => {
        http.get(`${base}/_local/metrics`, { agent: false }, (res) => {
            let body = "";
            res.setEncoding("utf8");
            res.on("data", (chunk: string) => (body += chunk));
            res.on("end", () => resolve(body));
        }).on("error", reject);
    });
    const metrics = JSON.parse(text) as {
        process?: {
            eventLoopDelay?: { perSecond: Array<{ at: number; maxMs: number; p99Ms: number }> };
            journalFsyncMs?: { p99: number | null; max: number | null };
        };
        api?: { Latency?: { p99: number | null } };
    };
    const seconds = (metrics.process?.eventLoopDelay?.perSecond ?? []).filter((s) => s.at >= from);
    if (seconds.length === 0) throw new Error("/_local/metrics has no event-loop delay for the load's seconds");
    return {
        maxMs: Math.max(...seconds.map((s) => s.maxMs)),
        p99Ms: Math.max(...seconds.map((s) => s.p99Ms)),
        seconds: seconds.length,
        apiLatencyP99Ms: metrics.api?.Latency?.p99 ?? null,
        journalFsync: { p99: metrics.process?.journalFsyncMs?.p99 ?? null, max: metrics.process?.journalFsyncMs?.max ?? null },
    };
}

async function idToken(ready: ReadyLine): Promise<string> {
    const conn = connectionArgs(ready);
    const quiet = { stdout: () => undefined, stderr: () => undefined, env: {}, isTTY: false };
    const code = await runCli(
        ["signup", "--userid", USER.name, "--password", USER.password, "--email", "bench-load@example.com", "--admin-confirm", ...conn],
        quiet,
    );
    if (code !== 0) throw new Error(`signup failed with exit code ${code}`);
    const session = await new CognitoAuth({ endpoint: ready.cognitoEndpoint, clientId: ready.userPoolClientId }).signIn(
        USER.name,
        USER.password,
        "id",
    );
    return session.getToken();
}

export async function run(): Promise<BenchRow[]> {
    if (spawnSync("wrk", ["--version"]).error) throw new Error("wrk is not installed: apt-get install wrk (Debian's package)");
    const { localCommand, floorCommand } = serverCommands();
    const scratch = fs.mkdtempSync(path.join(os.tmpdir(), "bench-local-load-"));
    try {
        // The floor, under the same load, in the same run.
        const floor = await measureFloor(floorCommand, scratch);
        const { mode, stalls } = await measureLocal(localCommand, scratch);
        return benchRows(mode, floor, stalls);
    } finally {
        fs.rmSync(scratch, { recursive: true, force: true });
    }
}

/** `npm run local`'s command, and the same command running the bare floor server. */
function serverCommands(): { localCommand: string; floorCommand: string } {
    const script = (JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8")) as { scripts: Record<string, string> }).scripts
        .local;
    // BENCH_CPU_PROFILE=<dir>: local mode writes CPU profiles of its threads there (node --cpu-prof).
    // BENCH_NODE_FLAGS: more Node flags for local mode alone (say --trace-gc, with BENCH_LOCAL_STDOUT=<file>).
    const profileDir = process.env.BENCH_CPU_PROFILE;
    const flags = [
        ...(profileDir ? ["--cpu-prof", `--cpu-prof-dir=${JSON.stringify(path.resolve(profileDir))}`] : []),
        ...(process.env.BENCH_NODE_FLAGS ?? "").split(" ").filter(Boolean),
    ];
    const localCommand = flags.length > 0 ? script.replace(/^node /, `node ${flags.join(" ")} `) : script;
    return { localCommand, floorCommand: script.replace("local/main.ts", "bench/support/floor-server.ts") };
}

async function measureFloor(floorCommand: string, scratch: string): Promise<Outcome> {
    const floorFile = path.join(scratch, "floor-archive.ndjson");
    const floorServer = await startServer(floorCommand, [floorFile]);
    const floorLoad = runWrk(floorServer, "floor-needs-no-token", path.join(scratch, "wrk-floor"));
    const floorStore = await floorServer.stop();
    return outcome(floorLoad, archivedIds([floorFile]), floorStore, floorServer.peakRssKiB());
}

async function measureLocal(localCommand: string, scratch: string): Promise<{ mode: Outcome; stalls: Stalls }> {
    const dataDir = path.join(scratch, "local");
    const local = await startServer(localCommand, ["--port", "0", "--data-dir", dataDir, "--quiet"]);
    let load: Load;
    let stalls: Stalls;
    try {
        const token = await idToken(local.ready);
        const loadStart = Math.floor(Date.now() / 1000);
        load = runWrk(local, token, path.join(scratch, "wrk-local"));
        stalls = await eventLoopStalls(local.ready.cognitoEndpoint, loadStart);
    } catch (err) {
        await local.stop();
        throw err;
    }
    const storeSeconds = await local.stop();
    const mode = outcome(load, archivedIds(filesUnder(path.join(dataDir, "s3"))), storeSeconds, local.peakRssKiB());
    return { mode, stalls };
}

/**
 * Local mode's own view of the latency wrk measured: what wrk measures beyond it waited outside the pipeline (in
 * socket buffers, or wrk's threads off the CPU); the journal's fsync is the disk's part of it, since every answer
 * waits for its group's.
 */
function latencyNote(stalls: Stalls): string {
    const fsync = stalls.journalFsync;
    return (
        `inside local mode (API Latency, request read to answer ready, /_local/metrics): p99 ${stalls.apiLatencyP99Ms ?? "?"} ms; ` +
        `the journal's fsync: p99 ${fsync.p99 ?? "?"} ms, max ${fsync.max?.toFixed(0) ?? "?"} ms`
    );
}

function benchRows(mode: Outcome, floor: Outcome, stalls: Stalls): BenchRow[] {
    const label = "local mode under wrk";
    return [
        {
            area: AREA,
            case: `${label}: accepted events/s`,
            value: mode.eventsPerSecond,
            unit: "events/s",
            floor: { case: "bare Node server, same load", value: floor.eventsPerSecond },
            target: { value: { atLeast: 20_000 }, ratio: { atLeast: 0.3 } },
            note: mode.note,
        },
        {
            area: AREA,
            case: `${label}: request latency p50`,
            value: mode.p50Ms,
            unit: "ms",
            floor: { case: "bare Node server", value: floor.p50Ms },
        },
        {
            area: AREA,
            case: `${label}: request latency p99`,
            value: mode.p99Ms,
            unit: "ms",
            floor: { case: "bare Node server", value: floor.p99Ms },
            target: { value: { atMost: 200 } },
            note: latencyNote(stalls),
        },
        {
            area: AREA,
            case: `${label}: SIGTERM to everything written`,
            value: mode.storeSeconds ?? NaN,
            unit: "s",
            floor: { case: "bare Node server", value: floor.storeSeconds ?? NaN },
            target: { value: { atMost: 60 } },
            note: mode.storeSeconds === undefined ? `not done after ${STORE_LIMIT_S} s: killed` : undefined,
        },
        {
            area: AREA,
            case: `${label}: lost events (accepted, not archived)`,
            value: mode.lost,
            unit: "events",
            target: { value: { atMost: 0 } },
            note: `floor: ${floor.lost}`,
        },
        {
            area: AREA,
            case: `${label}: duplicated events in the archive`,
            value: mode.duplicated,
            unit: "events",
            target: { value: { atMost: 0 } },
            note: `floor: ${floor.duplicated}`,
        },
        {
            area: AREA,
            case: `${label}: longest event-loop stall of the request thread`,
            value: stalls.maxMs,
            unit: "ms",
            target: { value: { atMost: 50 } },
            note: `largest per-second p99 ${stalls.p99Ms.toFixed(1)} ms over ${stalls.seconds} s of load (perf_hooks.monitorEventLoopDelay, from /_local/metrics)`,
        },
        {
            area: AREA,
            case: `${label}: peak RSS (all its processes)`,
            value: mode.peakRssMiB,
            unit: "MiB",
            floor: { case: "bare Node server", value: floor.peakRssMiB },
        },
        {
            area: AREA,
            case: `${label}: CPU per accepted event (all its processes and threads)`,
            value: mode.cpuUsPerEvent,
            unit: "us/event",
            floor: { case: "bare Node server", value: floor.cpuUsPerEvent },
            note: `${(mode.mainThreadShare * 100).toFixed(0)}% of it on the thread that answers requests (floor: ${(floor.mainThreadShare * 100).toFixed(0)}%); from /proc, while wrk ran`,
        },
        { area: AREA, case: "floor under wrk (bare Node server)", value: floor.eventsPerSecond, unit: "events/s", note: floor.note },
    ];
}
