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
 * Answers of a query that reads only a projection of each record (for buildPartitionKeysQuery's query,
 * pipeline/partitioning.ts partitionQueryInput): records with the same projection get the same answer, so jq runs
 * once per projection. Bounded: the least recently used projection is dropped past `maxEntries`, and projections
 * longer than `maxProjectionLength` are not kept, so clients sending unique values cannot grow it. Errors are never
 * kept (they may come from the engine rather than the record).
 */
export class ProjectionMemo {
    private readonly answers = new Map<string, Record<string, string>>();

    constructor(
        /** The only query this memo answers. */
        readonly query: string,
        /** The text of a record the query gives the same answer for, or undefined when it cannot vouch for one. */
        readonly project: (text: string, value: unknown) => string | undefined,
        readonly maxEntries = 4096,
        readonly maxProjectionLength = 512,
    ) {}

    get size(): number {
        return this.answers.size;
    }

    /** The keys remembered for a projection, made the most recently used. */
    recall(projection: string): Record<string, string> | undefined {
        const keys = this.answers.get(projection);
        if (keys === undefined) return undefined;
        this.answers.delete(projection);
        this.answers.set(projection, keys);
        return keys;
    }

    remember(projection: string, keys: Record<string, string>): void {
        if (projection.length > this.maxProjectionLength) return;
        this.answers.delete(projection);
        this.answers.set(projection, keys);
        if (this.answers.size > this.maxEntries) this.answers.delete(this.answers.keys().next().value as string);
    }
}

/** What goes to jq for a batch: distinct inputs, the records each one answers, and the projection it stands for. */
interface JqWork {
    inputs: string[];
    answers: number[][];
    projections: Array<string | undefined>;
}

/**
 * The partition keys of each record, as Firehose's MetadataExtraction gives them: a record must be JSON and
 * the query must give an object of strings or numbers; otherwise that record gets an error. With a memo, a record
 * whose projection is known takes the remembered keys, an unknown projection goes to jq once (as its projection
 * text), and a record the projection cannot vouch for goes to jq whole.
 */
export async function extractKeysBatch(engine: JqEngine, records: Buffer[], query: string, memo?: ProjectionMemo): Promise<KeysOrError[]> {
    if (memo && memo.query !== query) throw new Error("extractKeysBatch: the memo belongs to another query");
    const results: KeysOrError[] = new Array(records.length);
    const work: JqWork = { inputs: [], answers: [], projections: [] };
    const pending = new Map<string, number>(); // projection -> its input in this batch
    records.forEach((record, i) => {
        const text = record.toString("utf8");
        let value: unknown;
        try {
            value = JSON.parse(text);
        } catch {
            results[i] = { error: "Non JSON record provided" };
            return;
        }
        const projection = memo?.project(text, value);
        if (projection === undefined) {
            addInput(work, text, i, undefined);
            return;
        }
        const known = memo?.recall(projection);
        if (known) results[i] = { keys: { ...known } };
        else if (pending.has(projection)) work.answers[pending.get(projection) as number].push(i);
        else pending.set(projection, addInput(work, projection, i, projection));
    });
    if (work.inputs.length === 0) return results;
    const answered = await runQuery(engine, work.inputs, query);
    answered.forEach((answer, k) => {
        const projection = work.projections[k];
        if ("keys" in answer && projection !== undefined) memo?.remember(projection, answer.keys);
        for (const i of work.answers[k]) results[i] = "keys" in answer ? { keys: { ...answer.keys } } : answer;
    });
    return results;
}

function addInput(work: JqWork, input: string, record: number, projection: string | undefined): number {
    work.inputs.push(input);
    work.answers.push([record]);
    work.projections.push(projection);
    return work.inputs.length - 1;
}

/** The query's keys (or error) for each input, one engine run for all of them when the engine allows. */
async function runQuery(engine: JqEngine, texts: string[], query: string): Promise<KeysOrError[]> {
    if (engine.runEach) return (await engine.runEach(texts, query)).map((r) => ("error" in r ? r : toKeys(r.line)));
    let lines: string[] | undefined;
    try {
        lines = await engine.run(texts, query);
    } catch {
        lines = undefined; // one record broke the batch: run them one by one to find it
    }
    const results: KeysOrError[] = [];
    for (let k = 0; k < texts.length; k++) {
        if (lines) {
            results.push(toKeys(lines[k]));
            continue;
        }
        try {
            results.push(toKeys((await engine.run([texts[k]], query))[0]));
        } catch (err) {
            results.push({ error: (err as Error).message });
        }
    }
    return results;
}
