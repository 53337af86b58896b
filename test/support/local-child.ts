/**
 * Local mode as a real child process for the fault tests: `local/main.ts` transpiled once (the same
 * transpilation ts-node does, without its start-up cost in every child), run as an unprivileged user
 * when the tests run as root (root ignores file permissions), with its stdout read line by line so a test
 * waits for what the process says instead of sleeping.
 */
import { spawn, type ChildProcess } from "node:child_process";
import {
    chmodSync,
    chownSync,
    existsSync,
    mkdirSync,
    mkdtempSync,
    readdirSync,
    readFileSync,
    rmSync,
    statSync,
    symlinkSync,
    writeFileSync,
} from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as ts from "typescript";
import {
    CognitoIdentityProviderClient,
    ConfirmSignUpCommand,
    InitiateAuthCommand,
    SignUpCommand,
} from "@aws-sdk/client-cognito-identity-provider";

const ROOT = path.resolve(__dirname, "..", "..");
/** The user the children run as when the tests run as root (nobody). */
export const CHILD_UID = 65534;
const asRoot = typeof process.getuid === "function" && process.getuid() === 0;

const cleanups: Array<() => void> = [];
process.on("exit", () => cleanups.forEach((c) => c()));

/** Every TypeScript file `entry` imports, transitively (relative imports only). */
function importClosure(entries: string[]): string[] {
    const seen = new Set<string>();
    const visit = (file: string) => {
        if (seen.has(file)) return;
        seen.add(file);
        if (!file.endsWith(".ts")) return;
        for (const { fileName } of ts.preProcessFile(readFileSync(file, "utf8"), true, true).importedFiles) {
            if (!fileName.startsWith(".")) continue;
            const base = path.resolve(path.dirname(file), fileName);
            const found = [`${base}.ts`, path.join(base, "index.ts"), base].find((f) => existsSync(f) && !f.endsWith("/"));
            if (found) visit(found);
        }
    };
    entries.forEach(visit);
    return [...seen];
}

let compiled: string | undefined;

/** A directory holding local mode (and the fault-injection preload) as JavaScript, made once per test run. */
export function compiledLocal(): string {
    if (compiled) return compiled;
    const config = ts.parseJsonConfigFileContent(ts.readConfigFile(path.join(ROOT, "tsconfig.json"), ts.sys.readFile).config, ts.sys, ROOT);
    const out = mkdtempSync(path.join(os.tmpdir(), "client-events-compiled-"));
    cleanups.push(() => rmSync(out, { recursive: true, force: true }));
    chmodSync(out, 0o755);
    // The Firehose thread's module is loaded by path (new Worker), not imported.
    const roots = [
        path.join(ROOT, "local", "main.ts"),
        path.join(ROOT, "local", "firehose-thread.ts"),
        path.join(__dirname, "fault-preload.ts"),
    ];
    for (const file of importClosure(roots)) {
        const target = path.join(out, path.relative(ROOT, file)).replace(/\.ts$/, ".js");
        mkdirSync(path.dirname(target), { recursive: true, mode: 0o755 });
        const text = readFileSync(file, "utf8");
        writeFileSync(
            target,
            file.endsWith(".ts") ? ts.transpileModule(text, { compilerOptions: config.options, fileName: file }).outputText : text,
            { mode: 0o644 },
        );
    }
    symlinkSync(path.join(ROOT, "node_modules"), path.join(out, "node_modules"));
    compiled = out;
    return out;
}

/** A fresh data directory the child's user owns. */
export function childDataDir(): string {
    const dir = mkdtempSync(path.join(os.tmpdir(), "client-events-faults-"));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    if (asRoot) chownSync(dir, CHILD_UID, CHILD_UID);
    return dir;
}

/** Creates directories inside a data directory, owned by the child's user. */
export function makeChildDirs(dataDir: string, ...relative: string[]): string[] {
    return relative.map((rel) => {
        const dir = path.join(dataDir, rel);
        mkdirSync(dir, { recursive: true });
        if (asRoot) {
            for (let d = dir; d.startsWith(dataDir + path.sep); d = path.dirname(d)) chownSync(d, CHILD_UID, CHILD_UID);
        }
        return dir;
    });
}

export interface ChildOptions {
    bufferSeconds?: number;
    /** Extra environment (the fault-injection preload reads FAULT_* variables). */
    env?: Record<string, string>;
    /** Load the fault-injection preload. */
    faults?: boolean;
    port?: number;
}

export class LocalChild {
    readonly lines: string[] = [];
    stderr = "";
    private partial = "";
    private readonly waiters = new Set<() => void>();
    /** The exit code, once the process has exited and all its output is read ('close', not 'exit'). */
    readonly exited: Promise<number | null>;
    private closed = false;
    ready: any;

    constructor(readonly child: ChildProcess) {
        child.stdout!.on("data", (chunk: Buffer) => {
            this.partial += chunk.toString("utf8");
            let i: number;
            while ((i = this.partial.indexOf("\n")) >= 0) {
                this.lines.push(this.partial.slice(0, i));
                this.partial = this.partial.slice(i + 1);
            }
            this.wake();
        });
        child.stderr!.on("data", (chunk: Buffer) => {
            this.stderr += chunk.toString("utf8");
        });
        this.exited = new Promise((resolve) =>
            child.once("close", (code) => {
                this.closed = true;
                this.wake();
                resolve(code);
            }),
        );
    }

    private wake(): void {
        for (const w of [...this.waiters]) w();
    }

    get running(): boolean {
        return this.child.exitCode === null && this.child.signalCode === null;
    }

    /** Waits for the first line (at or after index `from`) that matches. */
    async waitFor(test: RegExp | ((line: string) => boolean), what: string, from = 0): Promise<string> {
        const matches = typeof test === "function" ? test : (l: string) => test.test(l);
        return (await this.waitForCount(matches, 1, what, from))[0];
    }

    /** Waits until `count` lines (at or after index `from`) match; returns them. */
    async waitForCount(matches: (line: string) => boolean, count: number, what: string, from = 0): Promise<string[]> {
        for (;;) {
            const found = this.lines.slice(from).filter(matches);
            if (found.length >= count) return found;
            if (this.closed)
                throw new Error(
                    `local mode exited (${this.child.exitCode ?? this.child.signalCode}) before ${what}\nstdout:\n${this.lines.join("\n")}\nstderr:\n${this.stderr}`,
                );
            await new Promise<void>((resolve) => {
                const w = () => {
                    this.waiters.delete(w);
                    resolve();
                };
                this.waiters.add(w);
            });
        }
    }

    /** Lines matching a pattern (so far). */
    matching(pattern: RegExp): string[] {
        return this.lines.filter((l) => pattern.test(l));
    }

    /** Sends a signal and waits for the exit code. */
    async stop(signal: NodeJS.Signals = "SIGTERM"): Promise<number | null> {
        if (this.running) this.child.kill(signal);
        return this.exited;
    }
}

/** Starts `local/main` as the child's user and waits for its ready line (or its exit, for a refused start). */
export async function startChild(dataDir: string, options: ChildOptions = {}): Promise<LocalChild> {
    const dir = compiledLocal();
    const node = [
        ...(options.faults ? ["-r", path.join(dir, "test", "support", "fault-preload.js")] : []),
        path.join(dir, "local", "main.js"),
        "--port",
        String(options.port ?? 0),
        "--data-dir",
        dataDir,
        "--buffer-seconds",
        String(options.bufferSeconds ?? 600),
    ];
    const [command, args] = asRoot
        ? ["setpriv", [`--reuid=${CHILD_UID}`, `--regid=${CHILD_UID}`, "--clear-groups", process.execPath, ...node]]
        : [process.execPath, node];
    const child = new LocalChild(
        spawn(command, args as string[], {
            cwd: dir,
            stdio: ["ignore", "pipe", "pipe"],
            env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: dataDir, NODE_NO_WARNINGS: "1", ...options.env },
        }),
    );
    const first = await child
        .waitFor((l) => l.startsWith("{"), "the ready line")
        .catch((err) => {
            if (!child.running) return undefined; // refused to start: the caller reads the exit code and stderr
            throw err;
        });
    if (first) child.ready = JSON.parse(first);
    return child;
}

/** Signs a user up through the printed confirmation code and returns an ID token. */
export async function signUp(child: LocalChild, username: string): Promise<string> {
    const { cognitoEndpoint, region, userPoolClientId: ClientId } = child.ready;
    const cognito = new CognitoIdentityProviderClient({
        endpoint: cognitoEndpoint,
        region,
        credentials: { accessKeyId: "x", secretAccessKey: "x" },
    });
    const Password = "Good-Passw0rd";
    const from = child.lines.length;
    await cognito.send(
        new SignUpCommand({
            ClientId,
            Username: username,
            Password,
            UserAttributes: [{ Name: "email", Value: `${username}@example.com` }],
        }),
    );
    const code = (await child.waitFor((l) => l.startsWith(`confirmation code for ${username}:`), "the confirmation code", from)).split(
        ": ",
    )[1];
    await cognito.send(new ConfirmSignUpCommand({ ClientId, Username: username, ConfirmationCode: code }));
    return signIn(child, username, Password);
}

export async function signIn(child: LocalChild, username: string, password = "Good-Passw0rd"): Promise<string> {
    const { cognitoEndpoint, region, userPoolClientId: ClientId } = child.ready;
    const cognito = new CognitoIdentityProviderClient({
        endpoint: cognitoEndpoint,
        region,
        credentials: { accessKeyId: "x", secretAccessKey: "x" },
    });
    const auth = await cognito.send(
        new InitiateAuthCommand({ ClientId, AuthFlow: "USER_PASSWORD_AUTH", AuthParameters: { USERNAME: username, PASSWORD: password } }),
    );
    return auth.AuthenticationResult!.IdToken!;
}

export interface PostOutcome {
    status: number;
    json: any;
    /** Event ids of the entries answered as accepted. */
    accepted: string[];
}

/** POSTs events (each an entry string) to the child's API. */
export async function postEvents(child: LocalChild, token: string, entries: string[]): Promise<PostOutcome> {
    const res = await fetch(child.ready.apiUrl, {
        method: "POST",
        headers: { "Content-Type": "application/json", Authorization: token },
        body: JSON.stringify({ entries: entries.map((entry) => ({ entry })) }),
    });
    const text = await res.text();
    const json = JSON.parse(text);
    const accepted = (json.entries ?? []).filter((e: { eventId?: string }) => e.eventId).map((e: { eventId: string }) => e.eventId);
    return { status: res.status, json, accepted };
}

/** chmod -R, as root would for the operator (a-w / u+w). */
export function chmodTree(dir: string, mode: "a-w" | "u+w"): void {
    const walk = (p: string) => {
        const stat = statSync(p);
        const current = stat.mode & 0o7777;
        chmodSync(p, mode === "a-w" ? current & ~0o222 : current | 0o200);
        if (stat.isDirectory()) for (const name of readdirSync(p)) walk(path.join(p, name));
    };
    if (existsSync(dir)) walk(dir);
}
