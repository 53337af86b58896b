// `npm run bench [-- name ...] [--markdown] [--help]`: runs every bench/*.ts module that exports
// `run(): Promise<BenchRow[]>` (or only the named ones: `local` runs `local` and every `local-*`) and prints one
// table. Speed figures live here, never in timed tests.
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { formatMarkdownTable, formatTable, targetMet, type BenchModule, type BenchRow } from "./table";

export type { BenchRow } from "./table";

const MARKDOWN_FILE = path.join(__dirname, "..", "docs", "benchmarks.md");

function allModules(): string[] {
    return fs
        .readdirSync(__dirname)
        .filter((f) => f.endsWith(".ts") && !f.endsWith(".d.ts") && f !== "main.ts" && f !== "table.ts")
        .map((f) => f.slice(0, -3))
        .sort();
}

/** The modules a name selects: itself and its `name-*` family. */
function selected(only: string[]): string[] {
    return allModules().filter((name) => only.length === 0 || only.some((o) => name === o || name.startsWith(`${o}-`)));
}

function load(name: string): Partial<BenchModule> {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- modules found at run time, loaded synchronously for --help
    return require(path.join(__dirname, name)) as Partial<BenchModule>;
}

function help(): string {
    const lines = [
        "Usage: npm run bench -- [name ...] [--markdown] [--help]",
        "",
        "  name        run only these modules (a name also selects its name-* modules: `local` runs local, local-load, local-start)",
        `  --markdown  also write ${path.relative(process.cwd(), MARKDOWN_FILE)} (date, machine, every figure beside its floor)`,
        "  --help      list the modules and their cases without running them",
        "",
        "Figures with a floor are compared with it in the same run (ratio = value / floor); absolute figures on a shared",
        "machine are noisy, the ratios hold. Prerequisites: Node 22 through `npx -p node@22 node` (else the current Node),",
        "Debian's jq 1.6 (optional) and wrk (`apt-get install wrk`, for local-load). BENCH_LOAD_SECONDS=3 shortens",
        "local-load's 15 s per server while working on the bench itself.",
        "",
    ];
    for (const name of allModules()) {
        const mod = load(name);
        if (typeof mod.run !== "function") continue;
        lines.push(`${name}: ${mod.about ?? ""}`);
        for (const c of mod.cases ?? []) lines.push(`  - ${c}`);
    }
    return lines.join("\n") + "\n";
}

export function machine(): { cpu: string; cores: number; node: string; platform: string } {
    return {
        cpu: os.cpus()[0]?.model ?? "unknown CPU",
        cores: os.cpus().length,
        node: process.version,
        platform: `${os.type()} ${os.release()}`,
    };
}

function markdown(rows: BenchRow[], names: string[], started: Date): string {
    const m = machine();
    const targets = rows.filter((r) => r.target);
    return [
        "# Benchmarks",
        "",
        `Written by \`npm run bench -- --markdown\`${names.length < allModules().length ? ` (modules: ${names.join(", ")})` : ""}.`,
        "",
        `- Date: ${started.toISOString().replace(/\.\d+Z$/, "Z")}`,
        `- Machine: ${m.cpu}, ${m.cores} cores, ${m.platform}`,
        `- Node: ${m.node} (the bench's own process; child processes say which Node they ran on in their note)`,
        `- Targets met: ${targets.filter((r) => targetMet(r)).length} of ${targets.length}`,
        "",
        "Each figure that has a floor stands beside it: the same work done the simplest way, measured in the same run",
        "(ratio = value / floor). A cost per call is the 10th percentile of short slices that alternate between a figure and",
        "its floor, so the ratios hold on a shared machine even when absolute figures move. Child-process figures (starts,",
        "cold starts, local-load) are medians of interleaved runs or one run under the same load as their floor. What each",
        "case measures: `npm run bench -- --help`.",
        "",
        formatMarkdownTable(rows),
        "",
    ].join("\n");
}

export async function main(argv: string[]): Promise<number> {
    if (argv.includes("--help") || argv.includes("-h")) {
        process.stdout.write(help());
        return 0;
    }
    const unknown = argv.filter((a) => a.startsWith("-") && a !== "--markdown");
    if (unknown.length) {
        process.stderr.write(`unknown option ${unknown.join(", ")}\n${help()}`);
        return 2;
    }
    const only = argv.filter((a) => !a.startsWith("-"));
    const names = selected(only).filter((name) => typeof load(name).run === "function");
    if (names.length === 0) {
        process.stderr.write(`no bench modules${only.length ? ` named ${only.join(", ")}` : ""} in ${__dirname}\n`);
        return 1;
    }
    const started = new Date();
    const rows: BenchRow[] = [];
    let failed = false;
    for (const name of names) {
        const run = load(name).run;
        if (typeof run !== "function") continue;
        process.stderr.write(`bench: ${name}...\n`);
        try {
            rows.push(...(await run()));
        } catch (e) {
            failed = true;
            rows.push({ area: name, case: "(failed)", value: NaN, unit: "", note: e instanceof Error ? e.message : String(e) });
        }
    }
    const m = machine();
    process.stdout.write(`Node ${m.node}, ${m.cpu}, ${m.cores} cores\n\n${formatTable(rows)}\n`);
    if (argv.includes("--markdown")) {
        fs.mkdirSync(path.dirname(MARKDOWN_FILE), { recursive: true });
        fs.writeFileSync(MARKDOWN_FILE, markdown(rows, names, started));
        process.stderr.write(`bench: wrote ${path.relative(process.cwd(), MARKDOWN_FILE)}\n`);
    }
    return failed ? 1 : 0;
}

if (require.main === module) {
    main(process.argv.slice(2)).then((code) => {
        process.exitCode = code;
    });
}
