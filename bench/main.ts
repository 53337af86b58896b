// `npm run bench [-- name ...]`: runs every bench/*.ts module that exports `run(): Promise<BenchRow[]>`
// (or only the named ones) and prints one table. Speed figures live here, never in timed tests.
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { formatTable, type BenchModule, type BenchRow } from "./table";

export type { BenchRow } from "./table";

function benchModules(only: string[]): string[] {
    return fs.readdirSync(__dirname)
        .filter((f) => f.endsWith(".ts") && !f.endsWith(".d.ts") && f !== "main.ts" && f !== "table.ts")
        .map((f) => f.slice(0, -3))
        .filter((name) => only.length === 0 || only.includes(name))
        .sort();
}

export async function main(argv: string[]): Promise<number> {
    const only = argv.filter((a) => !a.startsWith("-"));
    const names = benchModules(only);
    if (names.length === 0) {
        process.stderr.write(`no bench modules${only.length ? ` named ${only.join(", ")}` : ""} in ${__dirname}\n`);
        return 1;
    }
    const rows: BenchRow[] = [];
    let failed = false;
    for (const name of names) {
        const mod = (await import(path.join(__dirname, name))) as Partial<BenchModule>;
        if (typeof mod.run !== "function") continue;
        process.stderr.write(`bench: ${name}...\n`);
        try {
            rows.push(...await mod.run());
        } catch (e) {
            failed = true;
            rows.push({ area: name, case: "(failed)", value: NaN, unit: "", note: e instanceof Error ? e.message : String(e) });
        }
    }
    const cpu = os.cpus()[0]?.model ?? "unknown CPU";
    process.stdout.write(`Node ${process.version}, ${cpu}, one core (single-threaded)\n\n${formatTable(rows)}\n`);
    return failed ? 1 : 0;
}

if (require.main === module) {
    main(process.argv.slice(2)).then((code) => {
        process.exitCode = code;
    });
}
