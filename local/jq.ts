/**
 * Runs Firehose's MetadataExtraction query on many records. The engines:
 * - the `jq` 1.6 binary when one is on the PATH: Firehose's own JQ engine version, either one long-lived
 *   process fed a stream (StreamingJq, local/jq-stream.ts: what local mode uses) or one process per batch;
 * - jq-wasm otherwise (jq 1.7.1 compiled to WebAssembly). One jq-wasm instance fails after a few hundred
 *   runs ("memory access out of bounds"), so instances are replaced regularly and records go in batches.
 * Both take the records as one stream of JSON values and give one output line per record.
 */
import { spawn, spawnSync } from "node:child_process";
import { StreamingJq } from "./jq-stream";

/** What the query gave for one record: its one output line, or why there is none. */
export type JqResult = { line: string } | { error: string };

export interface JqEngine {
    readonly name: string;
    /** Runs `query` over each input (one JSON text each); resolves to one output line per input, or rejects. */
    run(inputs: string[], query: string): Promise<string[]>;
    /** A result per input, so one record's failure does not fail the others (rejects only when nothing could run). */
    runEach?(inputs: string[], query: string): Promise<JqResult[]>;
    /** Stops what the engine keeps running. */
    close?(): void;
}

/** The `jq` binary, when it is jq 1.6 (Firehose's JsonParsingEngine JQ-1.6). */
export function findJq16(command = "jq"): string | undefined {
    try {
        const result = spawnSync(command, ["--version"], { encoding: "utf8", timeout: 5000 });
        return result.status === 0 && result.stdout.trim() === "jq-1.6" ? command : undefined;
    } catch {
        return undefined;
    }
}

export class BinaryJq implements JqEngine {
    readonly name: string;
    constructor(private readonly command: string) {
        this.name = `${command} (jq 1.6)`;
    }

    run(inputs: string[], query: string): Promise<string[]> {
        return new Promise((resolve, reject) => {
            const child = spawn(this.command, ["-c", query], { stdio: ["pipe", "pipe", "pipe"] });
            const out: Buffer[] = [];
            let err = "";
            child.stdout.on("data", (c: Buffer) => out.push(c));
            child.stderr.on("data", (c: Buffer) => {
                err += c.toString("utf8");
            });
            child.on("error", reject);
            child.on("close", (code) => {
                const text = Buffer.concat(out).toString("utf8");
                const lines = text === "" ? [] : text.replace(/\n$/, "").split("\n");
                if (code !== 0 || lines.length !== inputs.length) {
                    reject(new Error(err.trim() || `jq exited with ${code} and ${lines.length} results for ${inputs.length} records`));
                } else {
                    resolve(lines);
                }
            });
            child.stdin.on("error", () => undefined); // jq may exit before reading everything; reported on close
            child.stdin.end(inputs.join("\n") + "\n");
        });
    }
}

type WasmInstance = { raw(input: string, filter: string, flags?: string[]): Promise<string> };

export class WasmJq implements JqEngine {
    readonly name = "jq-wasm (jq 1.7.1)";
    private instance: Promise<WasmInstance> | undefined;
    private runs = 0;
    private queue: Promise<unknown> = Promise.resolve();
    /** Runs per instance before it is replaced (it breaks after about 250). */
    static readonly RUNS_PER_INSTANCE = 100;
    /** Records per run: the module copies its input and output byte by byte, so batches stay small. */
    static readonly BATCH = 10;

    private async fresh(): Promise<WasmInstance> {
        // The Emscripten factory behind jq-wasm's singleton: a new, independent instance per call.
        // eslint-disable-next-line @typescript-eslint/no-require-imports -- an untyped file inside jq-wasm, loaded on first use
        const factory = require("jq-wasm/dist/build/jq.js") as { default?: () => Promise<WasmInstance> } & (() => Promise<WasmInstance>);
        return (factory.default ?? factory)();
    }

    private async once(input: string, query: string): Promise<string> {
        if (!this.instance || this.runs >= WasmJq.RUNS_PER_INSTANCE) {
            this.instance = this.fresh();
            this.runs = 0;
        }
        this.runs++;
        try {
            return await (await this.instance).raw(input, query, ["-c"]);
        } catch (err) {
            this.instance = undefined; // a failed instance is not reused
            throw err;
        }
    }

    run(inputs: string[], query: string): Promise<string[]> {
        const work = this.queue.then(async () => {
            const lines: string[] = [];
            for (let i = 0; i < inputs.length; i += WasmJq.BATCH) {
                const batch = inputs.slice(i, i + WasmJq.BATCH);
                const text = await this.once(batch.join("\n"), query);
                const out = text === "" ? [] : text.split("\n");
                if (out.length !== batch.length) throw new Error(`jq gave ${out.length} results for ${batch.length} records`);
                lines.push(...out);
            }
            return lines;
        });
        this.queue = work.catch(() => undefined);
        return work;
    }
}

/** The engine local mode uses: jq 1.6 when installed (one long-lived process), else jq-wasm. */
export function defaultJqEngine(): JqEngine {
    const binary = findJq16();
    return binary ? new StreamingJq(binary) : new WasmJq();
}

export type KeysOrError = { keys: Record<string, string> } | { error: string };

function toKeys(line: string): KeysOrError {
    let value: unknown;
    try {
        value = JSON.parse(line);
    } catch {
        return { error: `Metadata extraction query did not return one JSON value: ${line.slice(0, 200)}` };
    }
    if (value === null || typeof value !== "object" || Array.isArray(value))
        return { error: "Metadata extraction query did not return an object" };
    const keys: Record<string, string> = {};
    for (const [name, v] of Object.entries(value as Record<string, unknown>)) {
        if (typeof v === "string") keys[name] = v;
        else if (typeof v === "number") keys[name] = String(v);
        else return { error: `Partition key ${name} evaluated to ${v === null ? "null" : typeof v}` };
    }
    return { keys };
}

/**
 * The partition keys of each record, as Firehose's MetadataExtraction gives them: a record must be JSON and
 * the query must give an object of strings or numbers; otherwise that record gets an error.
 */
export async function extractKeysBatch(engine: JqEngine, records: Buffer[], query: string): Promise<KeysOrError[]> {
    const results: KeysOrError[] = new Array(records.length);
    const texts: string[] = [];
    const positions: number[] = [];
    records.forEach((record, i) => {
        const text = record.toString("utf8");
        try {
            JSON.parse(text);
            texts.push(text);
            positions.push(i);
        } catch {
            results[i] = { error: "Non JSON record provided" };
        }
    });
    if (texts.length === 0) return results;
    if (engine.runEach) {
        const each = await engine.runEach(texts, query);
        each.forEach((r, k) => (results[positions[k]] = "error" in r ? r : toKeys(r.line)));
        return results;
    }
    let lines: string[] | undefined;
    try {
        lines = await engine.run(texts, query);
    } catch {
        lines = undefined; // one record broke the batch: run them one by one to find it
    }
    for (let k = 0; k < texts.length; k++) {
        if (lines) {
            results[positions[k]] = toKeys(lines[k]);
            continue;
        }
        try {
            results[positions[k]] = toKeys((await engine.run([texts[k]], query))[0]);
        } catch (err) {
            results[positions[k]] = { error: (err as Error).message };
        }
    }
    return results;
}
