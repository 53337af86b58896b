/**
 * jq 1.6 kept running: one process per query, fed records on stdin, one output line per record, matched
 * back in order. Starting a jq per delivery costs more than the records it processes; one long-lived process
 * runs at jq's own rate (about 60,000 records a second per core for the partition query).
 *
 * The program is `try [0, [QUERY]] catch [1, .]`, so every record gives exactly one line whatever the query
 * does: its outputs (`[0, [...]]`; the query must give exactly one) or its error (`[1, message]`). A record jq
 * cannot even parse (jq 1.6 refuses nesting deeper than 256) ends the process ("parse error"): that record
 * gets jq's message, and the records sent after it go to a new process. A process that dies otherwise (killed) is replaced and
 * everything it had not answered is sent again, so a crash loses no record and answers none twice.
 */
import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import type { JqEngine, JqResult } from "./jq";

/** A record written to jq and not answered yet. */
interface Pending {
    input: string;
    done: (result: JqResult) => void;
    fail: (err: Error) => void;
}

/** Restarts in a row without one answer before the records waiting fail (the caller retries them later). */
const MAX_FRUITLESS_RESTARTS = 3;

class JqProcess {
    private child: ChildProcessWithoutNullStreams | undefined;
    /** Written and not answered, oldest first; `head` skips answered entries without shifting the array. */
    private pending: Array<Pending | undefined> = [];
    private head = 0;
    private carry = "";
    private stderr = "";
    private fruitlessRestarts = 0;
    /** Processes started (tests and the bench read it). */
    starts = 0;

    constructor(
        private readonly command: string,
        private readonly query: string,
    ) {}

    /** Writes the records (one write for all of them); resolves with one result per record, in order. */
    submit(inputs: string[]): Promise<JqResult[]> {
        const entries: Pending[] = [];
        const results = Promise.all(inputs.map((input) => new Promise<JqResult>((done, fail) => entries.push({ input, done, fail }))));
        this.pending.push(...entries);
        this.write(entries);
        this.setRef(true);
        return results.finally(() => this.setRef(this.pending.length > this.head));
    }

    pid(): number | undefined {
        return this.child?.pid;
    }

    private write(entries: Pending[]): void {
        if (entries.length === 0) return;
        let text = "";
        for (const entry of entries) text += entry.input + "\n";
        this.ensure().stdin.write(text);
    }

    private ensure(): ChildProcessWithoutNullStreams {
        if (this.child) return this.child;
        const child = spawn(this.command, ["-c", "--unbuffered", `try [0, [${this.query}]] catch [1, .]`], {
            stdio: ["pipe", "pipe", "pipe"],
        });
        this.starts++;
        this.child = child;
        this.carry = "";
        this.stderr = "";
        child.stdout.setEncoding("utf8");
        child.stdout.on("data", (chunk: string) => this.onOutput(chunk));
        child.stderr.on("data", (chunk: Buffer) => {
            this.stderr = (this.stderr + chunk.toString("utf8")).slice(-2000);
        });
        child.stdin.on("error", () => undefined); // a dying jq: handled on close
        child.on("error", (err) => {
            this.stderr ||= err.message;
        });
        child.on("close", (code, signal) => this.onExit(child, code, signal));
        return child;
    }

    private onOutput(chunk: string): void {
        const lines = (this.carry + chunk).split("\n");
        this.carry = lines.pop() ?? ""; // split always gives at least one element: the incomplete tail
        for (const line of lines) {
            const entry = this.pending[this.head];
            if (!entry) continue; // one line per record written: not reached
            this.pending[this.head++] = undefined;
            this.fruitlessRestarts = 0;
            entry.done(parseAnswer(line));
        }
        if (this.head > 1024 && this.head * 2 > this.pending.length) {
            this.pending = this.pending.slice(this.head);
            this.head = 0;
        }
    }

    private onExit(child: ChildProcessWithoutNullStreams, code: number | null, signal: NodeJS.Signals | null): void {
        if (this.child !== child) return;
        this.child = undefined;
        const left = this.pending.slice(this.head) as Pending[];
        this.pending = [];
        this.head = 0;
        if (left.length === 0) return;
        const message = this.stderr.trim() || `jq exited (${signal ?? code})`;
        // jq stops at an input it cannot parse: the first record it had not answered.
        const unparsable = code !== null && /^parse error/m.test(this.stderr) ? left.shift() : undefined;
        if (unparsable) unparsable.done({ error: message });
        else if (++this.fruitlessRestarts > MAX_FRUITLESS_RESTARTS) {
            for (const entry of left) entry.fail(new Error(`jq keeps failing: ${message}`));
            return;
        }
        this.pending = left;
        this.write(left);
    }

    /** Node may exit while nothing waits for jq (the process stays for the next batch). */
    private setRef(waiting: boolean): void {
        const child = this.child;
        if (!child) return;
        for (const handle of [child, child.stdin, child.stdout, child.stderr] as Array<{ ref?: () => void; unref?: () => void }>) {
            if (waiting) handle.ref?.();
            else handle.unref?.();
        }
    }

    close(): void {
        const child = this.child;
        this.child = undefined;
        child?.stdin.end();
        child?.kill();
        for (const entry of this.pending.slice(this.head)) entry?.fail(new Error("jq was closed"));
        this.pending = [];
        this.head = 0;
    }
}

/** One output line of the wrapped program. */
function parseAnswer(line: string): JqResult {
    let answer: unknown;
    try {
        answer = JSON.parse(line);
    } catch {
        return { error: `jq gave an unreadable line: ${line.slice(0, 200)}` };
    }
    const [failed, value] = answer as [number, unknown];
    if (failed === 1) return { error: `jq: error: ${typeof value === "string" ? value : JSON.stringify(value)}` };
    const outputs = value as unknown[];
    if (outputs.length !== 1) return { error: `jq gave ${outputs.length} results for 1 record` };
    return { line: JSON.stringify(outputs[0]) };
}

export class StreamingJq implements JqEngine {
    readonly name: string;
    private readonly processes = new Map<string, JqProcess>();

    constructor(private readonly command: string) {
        this.name = `${command} (jq 1.6, one long-lived process)`;
    }

    private process(query: string): JqProcess {
        let proc = this.processes.get(query);
        if (!proc) {
            proc = new JqProcess(this.command, query);
            this.processes.set(query, proc);
        }
        return proc;
    }

    /** Processes started so far for a query (1 unless one died). */
    starts(query: string): number {
        return this.processes.get(query)?.starts ?? 0;
    }

    runEach(inputs: string[], query: string): Promise<JqResult[]> {
        return this.process(query).submit(inputs);
    }

    /** The pid of the process running a query (tests kill it). */
    pid(query: string): number | undefined {
        return this.processes.get(query)?.pid();
    }

    async run(inputs: string[], query: string): Promise<string[]> {
        const results = await this.runEach(inputs, query);
        return results.map((r) => {
            if ("error" in r) throw new Error(r.error);
            return r.line;
        });
    }

    close(): void {
        for (const proc of this.processes.values()) proc.close();
        this.processes.clear();
    }
}
