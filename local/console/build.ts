/**
 * Bundles the console page (local/console/web/) into static files in local/console/dist/: console.js
 * (Preact, uPlot and the page), console.css and index.html. No CDN: the page loads only these files.
 * Run by `npm ci` (prepare), `npm run local` and `npm test` (their pre-steps), or `npm run build:console`.
 */
import { copyFileSync, mkdirSync } from "node:fs";
import * as path from "node:path";
import { build } from "esbuild";

const WEB = path.join(__dirname, "web");

export async function buildConsole(outDir = path.join(__dirname, "dist")): Promise<void> {
    mkdirSync(outDir, { recursive: true });
    const common = {
        bundle: true,
        minify: true,
        legalComments: "linked" as const,
        logLevel: "warning" as const,
        target: ["chrome110", "firefox110", "safari16"],
    };
    await build({
        ...common,
        entryPoints: [path.join(WEB, "main.tsx")],
        outfile: path.join(outDir, "console.js"),
        format: "iife",
        jsx: "automatic",
        jsxImportSource: "preact",
        tsconfig: path.join(WEB, "tsconfig.json"),
    });
    await build({ ...common, entryPoints: [path.join(WEB, "style.css")], outfile: path.join(outDir, "console.css") });
    copyFileSync(path.join(WEB, "index.html"), path.join(outDir, "index.html"));
}

if (require.main === module) {
    buildConsole(process.argv[2]).catch((err) => {
        process.stderr.write(`console build failed: ${(err as Error).message}\n`);
        process.exit(1);
    });
}
