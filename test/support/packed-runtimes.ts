/**
 * Where the tests execute serialized Lambda code: in this process (the machine's Node), and in a Node 22
 * child process, the major of the Lambda runtime (nodejs22.x). Both load the same text as a module whose
 * node_modules resolve to the repository's, and run `handler(event)` with the environment variables given.
 *
 * Node 22 is the npm package `node@22` run through npx (`npx -p node@22 node`), cached by npm; CI fetches it
 * before the tests (.ci/run), so no test waits for a download there. `CLIENT_EVENTS_NODE22` may name a
 * Node 22 binary instead.
 */
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

const ROOT = path.resolve(__dirname, "../..");

/** Environment changes for one invocation: a value sets the variable, null removes it. */
export type EnvChanges = Record<string, string | null>;

export interface PackedModule {
    /** Runs the packed module's `handler` export with the environment changed as given first. */
    handler(event: unknown, env?: EnvChanges): Promise<any>;
}

export interface PackedRuntime {
    /** "this process (Node 20.x)" or "Node 22.x". */
    readonly label: string;
    /** The major version of Node the code runs on. */
    readonly major: number;
    load(source: string): Promise<PackedModule>;
    close(): Promise<void>;
}

/** Writes serialized handler text as index.js in a temporary directory whose node_modules is the repository's. */
function writeModule(source: string): string {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "ce-lambda-"));
    fs.symlinkSync(path.join(ROOT, "node_modules"), path.join(dir, "node_modules"), "dir");
    const file = path.join(dir, "index.js");
    fs.writeFileSync(file, source);
    return file;
}

function applyEnv(env: EnvChanges | undefined): void {
    for (const [name, value] of Object.entries(env ?? {})) {
        if (value === null) delete process.env[name];
        else process.env[name] = value;
    }
}

/** The machine's Node: the module is required into the test process. */
export function inProcessRuntime(): PackedRuntime {
    return {
        label: `this process (Node ${process.versions.node})`,
        major: Number(process.versions.node.split(".")[0]),
        async load(source) {
            const mod = require(writeModule(source)) as { handler: (event: unknown) => Promise<unknown> };
            return {
                handler: async (event, env) => {
                    applyEnv(env);
                    return mod.handler(event);
                },
            };
        },
        close: async () => undefined,
    };
}

/** The Node 22 binary: CLIENT_EVENTS_NODE22, or the npm package node@22 through npx (cached after the first run). */
export function node22Binary(): string {
    const given = process.env.CLIENT_EVENTS_NODE22;
    const binary =
        given ??
        execFileSync("npx", ["--yes", "--prefer-offline", "-p", "node@22", "node", "-p", "process.execPath"], {
            encoding: "utf8",
            timeout: 600_000,
            stdio: ["ignore", "pipe", "pipe"],
        }).trim();
    const version = execFileSync(binary, ["--version"], { encoding: "utf8" }).trim();
    if (!/^v22\./.test(version)) throw new Error(`${binary} is Node ${version}, not 22 (set CLIENT_EVENTS_NODE22 to a Node 22 binary)`);
    return binary;
}

/**
 * The child's side: loads the module, then for each JSON line on stdin ({id, event, env}) runs the handler
 * and writes {id, result} or {id, error} on file descriptor 3 (stdout is left to the handler's logging).
 */
const HARNESS = `
const fs = require("fs");
const mod = require(process.argv[2]);
const reply = (value) => fs.writeSync(3, JSON.stringify(value) + "\\n");
let buffer = "";
process.stdin.setEncoding("utf8");
process.stdin.on("data", (chunk) => {
    buffer += chunk;
    let i;
    while ((i = buffer.indexOf("\\n")) >= 0) {
        const { id, event, env } = JSON.parse(buffer.slice(0, i));
        buffer = buffer.slice(i + 1);
        for (const [name, value] of Object.entries(env || {})) { if (value === null) delete process.env[name]; else process.env[name] = value; }
        Promise.resolve().then(() => mod.handler(event)).then(
            (result) => reply({ id, result: result === undefined ? null : result }),
            (err) => reply({ id, error: { name: (err && err.name) || "Error", message: String((err && err.message) || err) } }));
    }
});
reply({ ready: process.version });
`;

/** Node 22 in a child process per loaded module, talking JSON lines. */
export function node22Runtime(binary: string): PackedRuntime {
    const children: ChildProcess[] = [];
    const version = execFileSync(binary, ["-p", "process.versions.node"], { encoding: "utf8" }).trim();
    return {
        label: `Node ${version}`,
        major: Number(version.split(".")[0]),
        async load(source) {
            const file = writeModule(source);
            const harness = path.join(path.dirname(file), "harness.js");
            fs.writeFileSync(harness, HARNESS);
            const child = spawn(binary, [harness, file], { stdio: ["pipe", "ignore", "pipe", "pipe"], env: { ...process.env } });
            children.push(child);
            let stderr = "";
            child.stderr!.on("data", (c: Buffer) => {
                stderr += c.toString();
            });
            const pending = new Map<number, { resolve: (v: any) => void; reject: (e: Error) => void }>();
            let ready: (() => void) | undefined;
            const started = new Promise<void>((resolve, reject) => {
                ready = resolve;
                child.once("exit", (code) => reject(new Error(`Node 22 child exited (${code}) before it was ready: ${stderr}`)));
            });
            let buffer = "";
            (child.stdio[3] as NodeJS.ReadableStream).on("data", (chunk: Buffer) => {
                buffer += chunk.toString("utf8");
                let i: number;
                while ((i = buffer.indexOf("\n")) >= 0) {
                    const message = JSON.parse(buffer.slice(0, i));
                    buffer = buffer.slice(i + 1);
                    if (message.ready) {
                        ready?.();
                        continue;
                    }
                    const waiter = pending.get(message.id);
                    pending.delete(message.id);
                    if (message.error) waiter?.reject(Object.assign(new Error(message.error.message), { name: message.error.name }));
                    else waiter?.resolve(message.result);
                }
            });
            child.on("exit", (code) => {
                for (const waiter of pending.values()) waiter.reject(new Error(`Node 22 child exited (${code}): ${stderr}`));
                pending.clear();
            });
            await started;
            let next = 0;
            return {
                handler(event, env) {
                    const id = next++;
                    return new Promise((resolve, reject) => {
                        pending.set(id, { resolve, reject });
                        child.stdin!.write(JSON.stringify({ id, event, env }) + "\n");
                    });
                },
            };
        },
        async close() {
            await Promise.all(
                children.map(
                    (child) =>
                        new Promise<void>((resolve) => {
                            if (child.exitCode !== null) return resolve();
                            child.once("exit", () => resolve());
                            child.kill();
                        }),
                ),
            );
        },
    };
}
