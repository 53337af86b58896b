/**
 * The layering, enforced by reading the sources (with the TypeScript parser, so comments and strings do
 * not count and `import type` is told apart):
 *
 * - local/, handlers/, pipeline/, client/, event-pattern/ import neither `@pulumi/*` nor `components/`,
 *   directly or through anything they load at start-up (e.g. config.ts): local mode and the handlers must
 *   not load the Pulumi SDK, and pipeline/ is the plain-data source of truth both sides share.
 * - handlers/ (packed into Lambdas) import nothing from local/, test/, generator/.
 * - pipeline/ imports none of the layers built on it.
 * client/'s "no Node built-ins" rule is checked by test/client.test.ts ("embeddability").
 */
import * as assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import * as path from "node:path";
import { isBuiltin } from "node:module";
import * as ts from "typescript";
import { CLIENT_ID_ATTRIBUTE } from "../pipeline/identity";

const ROOT = path.resolve(__dirname, "..");

interface ImportRef {
    specifier: string;
    /** `import type` / `export type`: erased at compile time. */
    typeOnly: boolean;
    /** Runs when the module loads (a static import, or a require()/import() outside any function). */
    atLoad: boolean;
}

/** Every import, re-export, require() and import() of a TypeScript source. */
export function importsOf(source: string, fileName = "file.ts"): ImportRef[] {
    const file = ts.createSourceFile(fileName, source, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
    const refs: ImportRef[] = [];
    const visit = (node: ts.Node, inFunction: boolean): void => {
        if (ts.isImportDeclaration(node) && ts.isStringLiteral(node.moduleSpecifier)) {
            const clause = node.importClause;
            const typeOnly =
                !!clause &&
                (clause.isTypeOnly ||
                    (!clause.name &&
                        !!clause.namedBindings &&
                        ts.isNamedImports(clause.namedBindings) &&
                        clause.namedBindings.elements.length > 0 &&
                        clause.namedBindings.elements.every((e) => e.isTypeOnly)));
            refs.push({ specifier: node.moduleSpecifier.text, typeOnly, atLoad: !typeOnly });
        } else if (ts.isExportDeclaration(node) && node.moduleSpecifier && ts.isStringLiteral(node.moduleSpecifier)) {
            const typeOnly =
                node.isTypeOnly ||
                (!!node.exportClause &&
                    ts.isNamedExports(node.exportClause) &&
                    node.exportClause.elements.length > 0 &&
                    node.exportClause.elements.every((e) => e.isTypeOnly));
            refs.push({ specifier: node.moduleSpecifier.text, typeOnly, atLoad: !typeOnly });
        } else if (
            ts.isImportEqualsDeclaration(node) &&
            ts.isExternalModuleReference(node.moduleReference) &&
            ts.isStringLiteral(node.moduleReference.expression)
        ) {
            refs.push({
                specifier: node.moduleReference.expression.text,
                typeOnly: node.isTypeOnly,
                atLoad: !node.isTypeOnly && !inFunction,
            });
        } else if (
            ts.isCallExpression(node) &&
            node.arguments.length >= 1 &&
            ts.isStringLiteralLike(node.arguments[0]) &&
            ((ts.isIdentifier(node.expression) && node.expression.text === "require") ||
                node.expression.kind === ts.SyntaxKind.ImportKeyword)
        ) {
            refs.push({ specifier: node.arguments[0].text, typeOnly: false, atLoad: !inFunction });
        } else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument) && ts.isStringLiteral(node.argument.literal)) {
            refs.push({ specifier: node.argument.literal.text, typeOnly: true, atLoad: false });
        }
        const nested = inFunction || ts.isFunctionLike(node);
        ts.forEachChild(node, (child) => visit(child, nested));
    };
    visit(file, false);
    return refs;
}

/** The .ts file a relative specifier names, or undefined for packages and Node built-ins. */
function resolveLocal(fromFile: string, specifier: string): string | undefined {
    if (!specifier.startsWith(".")) return undefined;
    const base = path.resolve(path.dirname(fromFile), specifier);
    for (const candidate of [`${base}.ts`, path.join(base, "index.ts"), base]) {
        if (existsSync(candidate) && candidate.endsWith(".ts")) return candidate;
    }
    throw new Error(`${path.relative(ROOT, fromFile)}: cannot resolve ${specifier}`);
}

function sourcesUnder(dir: string): string[] {
    const abs = path.join(ROOT, dir);
    if (!existsSync(abs)) return [];
    return readdirSync(abs, { recursive: true, encoding: "utf8" })
        .filter((f) => f.endsWith(".ts") && !f.endsWith(".d.ts"))
        .map((f) => path.join(abs, f))
        .sort();
}

const rel = (file: string) => path.relative(ROOT, file).split(path.sep).join("/");
const isPulumi = (specifier: string) => specifier === "@pulumi" || specifier.startsWith("@pulumi/");
const inDir = (file: string, dir: string) => rel(file).startsWith(`${dir}/`);

/** One problem per offending import of `file`: `forbidden(specifier, resolvedFile)` names the rule broken. */
function checkFile(file: string, refs: ImportRef[], forbidden: (specifier: string, target?: string) => string | undefined): string[] {
    const problems: string[] = [];
    for (const ref of refs) {
        const target = resolveLocal(file, ref.specifier);
        const why = forbidden(ref.specifier, target);
        if (why) problems.push(`${rel(file)} imports ${ref.specifier}${ref.typeOnly ? " (type only)" : ""}: ${why}`);
    }
    return problems;
}

/**
 * Follows load-time relative imports from `roots`; returns, for each module reached, the chain that reaches it.
 */
function loadGraph(roots: string[]): Map<string, string[]> {
    const chains = new Map<string, string[]>();
    const queue = roots.map((file) => [file]);
    while (queue.length > 0) {
        const chain = queue.shift()!;
        const file = chain[chain.length - 1];
        if (chains.has(file)) continue;
        chains.set(file, chain);
        for (const ref of importsOf(readFileSync(file, "utf8"), file)) {
            if (!ref.atLoad) continue;
            const target = resolveLocal(file, ref.specifier);
            if (target && !chains.has(target)) queue.push([...chain, target]);
        }
    }
    return chains;
}

const PURE_LAYERS = ["local", "handlers", "pipeline", "client", "event-pattern"];
const notPulumiOrComponents = (specifier: string, target?: string) =>
    isPulumi(specifier)
        ? "the Pulumi SDK is for components/ and index.ts only"
        : target && inDir(target, "components")
          ? "components/ loads the Pulumi SDK; move shared data to pipeline/"
          : undefined;

describe("architecture: layering of the sources", () => {
    it("finds the sources it checks", () => {
        for (const dir of PURE_LAYERS) assert.ok(sourcesUnder(dir).length > 0, `no sources under ${dir}/`);
    });

    it("reads every form of import, and tells type-only and deferred ones apart", () => {
        const refs = importsOf(
            [
                `import * as a from "@pulumi/aws";`,
                `import { b } from "../components/x";`,
                `import "./side-effect";`,
                `import type { C } from "@pulumi/pulumi";`,
                `import { type D } from "./types";`,
                `export { e } from "./e";`,
                `export type { F } from "./f";`,
                `import g = require("./g");`,
                `const h = require("./h");`,
                `function later() { return require("./later"); }`,
                `const lazy = async () => import("./lazy");`,
                `let t: import("./t").T;`,
                `// import { x } from "@pulumi/commented";`,
                `const s = 'import { y } from "@pulumi/in-a-string"';`,
            ].join("\n"),
        );
        assert.deepEqual(
            refs.map((r) => `${r.specifier}${r.typeOnly ? " type" : ""}${r.atLoad ? " load" : ""}`),
            [
                "@pulumi/aws load",
                "../components/x load",
                "./side-effect load",
                "@pulumi/pulumi type",
                "./types type",
                "./e load",
                "./f type",
                "./g load",
                "./h load",
                "./later",
                "./lazy",
                "./t type",
            ],
        );
    });

    for (const dir of PURE_LAYERS) {
        it(`${dir}/ imports neither @pulumi/* nor components/`, () => {
            const problems = sourcesUnder(dir).flatMap((file) =>
                checkFile(file, importsOf(readFileSync(file, "utf8"), file), notPulumiOrComponents),
            );
            assert.deepEqual(problems, []);
        });
    }

    it("nothing those layers load at start-up (config.ts included) loads @pulumi/* or components/", () => {
        const graph = loadGraph(PURE_LAYERS.flatMap(sourcesUnder));
        const problems: string[] = [];
        for (const [file, chain] of graph) {
            const loaded = importsOf(readFileSync(file, "utf8"), file).filter((r) => r.atLoad);
            for (const problem of checkFile(file, loaded, notPulumiOrComponents)) {
                problems.push(`${problem} (reached by ${chain.map(rel).join(" -> ")})`);
            }
        }
        assert.ok(
            [...graph.keys()].some((f) => rel(f) === "config.ts"),
            "local mode validates its config with config.ts",
        );
        assert.deepEqual(problems, []);
    });

    it("handlers/ import nothing from local/, test/, generator/ (directly or through what they load)", () => {
        const handlerFiles = sourcesUnder("handlers");
        const fromHandlers = (specifier: string, target?: string) =>
            target && ["local", "test", "generator"].some((dir) => inDir(target, dir))
                ? "handlers are packed into Lambdas; keep tools and tests out of them"
                : undefined;
        const direct = handlerFiles.flatMap((file) => checkFile(file, importsOf(readFileSync(file, "utf8"), file), fromHandlers));
        assert.deepEqual(direct, []);
        const reached = [...loadGraph(handlerFiles).keys()].map(rel).filter((f) => /^(local|test|generator)\//.test(f));
        assert.deepEqual(reached, []);
    });

    it("pipeline/ imports none of the layers built on it", () => {
        const upward = (specifier: string, target?: string) =>
            target && !inDir(target, "pipeline") ? "pipeline/ is the bottom layer: plain data and pure functions" : undefined;
        const problems = sourcesUnder("pipeline").flatMap((file) => checkFile(file, importsOf(readFileSync(file, "utf8"), file), upward));
        assert.deepEqual(problems, []);
    });

    it("the handlers import the clientId attribute from pipeline/identity.ts and spell no copy of it", () => {
        const copies: string[] = [];
        for (const file of sourcesUnder("handlers")) {
            const source = ts.createSourceFile(file, readFileSync(file, "utf8"), ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
            const visit = (node: ts.Node): void => {
                if (ts.isStringLiteralLike(node) && node.text === CLIENT_ID_ATTRIBUTE)
                    copies.push(`${rel(file)}:${source.getLineAndCharacterOfPosition(node.getStart()).line + 1}`);
                ts.forEachChild(node, visit);
            };
            visit(source);
        }
        assert.deepEqual(copies, []);
        for (const handler of ["authorizer", "post-confirmation", "pre-token-generation"]) {
            const refs = importsOf(readFileSync(path.join(ROOT, "handlers", `${handler}.ts`), "utf8"));
            assert.ok(
                refs.some((r) => r.specifier === "../pipeline/identity" && r.atLoad),
                `handlers/${handler}.ts`,
            );
        }
    });

    it("the pipeline/ modules the handlers load import no package (nothing heavy is packed into the Lambdas)", () => {
        const pipelineFiles = [...loadGraph(sourcesUnder("handlers")).keys()].filter((f) => inDir(f, "pipeline"));
        assert.ok(pipelineFiles.some((f) => rel(f) === "pipeline/identity.ts"));
        // Node's own modules (crypto...) come with the runtime: nothing of them is packed.
        const packages = pipelineFiles.flatMap((file) =>
            importsOf(readFileSync(file, "utf8"), file)
                .filter((r) => r.atLoad && !r.specifier.startsWith(".") && !isBuiltin(r.specifier))
                .map((r) => `${rel(file)} imports ${r.specifier}`),
        );
        assert.deepEqual(packages, []);
    });
});
