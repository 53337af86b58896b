// The compiled Velocity renderer (local/api-gateway/vtl-compile.ts) against velocityjs, the renderer it replaces on
// the hot path: every template of the repository and a generated corpus, over hostile inputs, must render
// byte-identically, leave the same overrides and context, or fail with the same error.
import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import * as ts from "typescript";
import { parse } from "velocityjs";
import {
    isCompiled,
    renderTemplate,
    renderTemplateWithOverrides,
    type RenderOptions,
    type TemplateContext,
} from "../local/api-gateway/vtl";
import { PUT_EVENTS_REQUEST_TEMPLATE } from "../pipeline/mapping-template";
import { PUT_EVENTS_INTEGRATION_RESPONSES } from "../pipeline/integration-responses";
import { pick, randomInt, seededRandom } from "../generator/random";

type Outcome =
    { output: string; requestOverride: unknown; responseOverride: unknown; context: unknown } | { error: string; context: unknown };

function outcome(template: string, ctx: TemplateContext, options: RenderOptions): Outcome {
    const copy = structuredClone(ctx);
    copy.context ??= {};
    try {
        const { output, requestOverride, responseOverride } = renderTemplateWithOverrides(template, copy, options);
        return { output, requestOverride, responseOverride, context: copy.context };
    } catch (e) {
        return { error: e instanceof Error ? `${e.name}: ${e.message}` : `thrown ${String(e)}`, context: copy.context };
    }
}

/** Renders compiled, through velocityjs reused and through a new velocityjs compiler: all three must agree. */
function assertSameEverywhere(template: string, ctx: TemplateContext): Outcome {
    const compiled = outcome(template, ctx, {});
    const label = `template ${JSON.stringify(template).slice(0, 200)} with body ${JSON.stringify(ctx.body).slice(0, 200)}`;
    assert.deepStrictEqual(compiled, outcome(template, ctx, { velocityjs: true }), label);
    assert.deepStrictEqual(compiled, outcome(template, ctx, { uncached: true }), `${label} (uncached)`);
    return compiled;
}

function parses(text: string): boolean {
    try {
        parse(text);
        return true;
    } catch {
        return false;
    }
}

/** Every string literal and substitution-free template literal of a test file that looks like a template. */
function templatesIn(file: string): string[] {
    const source = ts.createSourceFile(file, fs.readFileSync(file, "utf8"), ts.ScriptTarget.ES2022, true);
    const found = new Set<string>();
    const visit = (node: ts.Node) => {
        if ((ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node)) && /[$#]/.test(node.text)) found.add(node.text);
        ts.forEachChild(node, visit);
    };
    visit(source);
    // Keep what velocityjs parses: the rest are JSONPath expressions or messages, not templates.
    return [...found].filter(parses);
}

const ENTRY_TEXTS = [
    `{"a":1}`,
    `it's "quoted" / \\ back\\'slash`,
    "",
    "é ünï ☃ 😀",
    "\ud800 lone \udfff surrogates",
    "\u0000\u0001\b\f\n\r\t\u007f\u0080\u00ff\u0100",
    "$context.requestId #set($x = 1) ${x} #if(true)y#end",
    "\\\\'\\'",
    "x".repeat(5000),
];

/** Request and response bodies, as raw JSON text (some on purpose not what the templates expect, or not JSON). */
function hostileBodies(): string[] {
    const entries = ENTRY_TEXTS.map((entry) => ({ entry }));
    const bodies = [
        JSON.stringify({ entries }),
        JSON.stringify({ entries: [] }),
        JSON.stringify({ entries: [{}, { entry: null }, { entry: 5 }, { entry: { a: [1, 2] } }, null, 7, "s", [1]] }),
        JSON.stringify({ entries: "not an array" }),
        JSON.stringify({ entries: { a: { entry: "map value" }, length: 2 } }),
        JSON.stringify({ entries: { only: { entry: "map without length" } } }),
        JSON.stringify({ entries: null }),
        `{"entries":[{"entry":"${"n".repeat(3)}"}],"big":123456789012345678901234567890,"huge":1e400,"tiny":-1e-400}`,
        `{"__proto__":{"entry":"proto"},"constructor":"c","toString":"t","entries":[{"entry":"a","__proto__":"p"}]}`,
        JSON.stringify({ FailedEntryCount: 0, Entries: [{ EventId: "id-1" }, { EventId: 'it\'s "2"' }] }),
        JSON.stringify({
            FailedEntryCount: 2,
            Entries: [{ EventId: "id-1" }, { ErrorCode: "ThrottlingException", ErrorMessage: 'slow "down"' }, {}],
        }),
        JSON.stringify({ FailedEntryCount: "1", Entries: [{ EventId: "" }, { ErrorCode: "InternalFailure" }, { ErrorCode: null }] }),
        JSON.stringify({ FailedEntryCount: null, Entries: null }),
        JSON.stringify({ FailedEntryCount: -1, Entries: [{ EventId: 5 }, { EventId: true }] }),
        JSON.stringify({ __type: "com.amazon#ThrottlingException", message: "Rate exceeded" }),
        JSON.stringify({ __type: "ValidationException", message: "it's \\ bad" }),
        JSON.stringify({ __type: "ValidationException", Message: "capital M" }),
        JSON.stringify({ __type: "AccessDeniedException" }),
        JSON.stringify({ __type: 5 }),
        JSON.stringify({ v: "Hello, World", s: '{"a":{"b":42}}' }),
        JSON.stringify({ v: "  Hello, World  ", s: "not json" }),
        JSON.stringify({ v: "a,b,,,", entries: [{ entry: "a" }, { entry: "b" }] }),
        JSON.stringify({ v: 42 }),
        JSON.stringify({ v: null }),
        JSON.stringify({ v: ["x", 1] }),
        JSON.stringify({ v: { k: "v" } }),
        "",
        "not json at all",
        "[1,2,3]",
        "null",
        '"a string"',
        "{",
    ];
    return bodies;
}

function contexts(body: string): TemplateContext[] {
    return [
        {
            body,
            context: { requestId: "req-1", authorizer: { clientId: "client-1" } },
            stageVariables: { Environment: "dev", Bus: "bus-1" },
            headers: { "X-Trace": "h" },
            path: { id: "p" },
            querystring: { q: "1" },
        },
        { body, context: { requestId: 'r"\\', authorizer: { clientId: "é'\"" }, responseOverride: { status: 201, header: {} } } },
        { body, context: { authorizer: null } },
    ];
}

/** Small templates, one per construct the compiler claims, over the body `$r` ($input.path('$')) and literals. */
const CONSTRUCTS = [
    "$r",
    "$!r.v",
    "${r.v}",
    "$!{r.missing}",
    "$r.missing.deeper",
    "$missing",
    "$r.v.length()",
    "$r.v.length",
    "$r.entries[0].entry",
    "$r.entries[1]",
    '$r["v"]',
    "$r.entries[$i]",
    "$r[$k]",
    "#set($kc = 'constructor')$r[$kc]|$r.entries[$kc]|$r.v[$kc]|#set($kp = '__proto__')$r[$kp]|$r['constructor']|$r['toString']",
    "$r.v.toUpperCase().trim()",
    "$r.v.substring(1, 3)",
    "$r.v.padStart(5)",
    '$r.v.split(",").size()',
    '$r.v.replaceAll("(\\w+)", "<$1>")',
    '$r.v.replaceAll("\\\\\'", "\'")',
    '$r.v.replaceFirst("l", "L")',
    '$r.v.matches("H.*")',
    '$r.v.contains("o")',
    "$r.v.hashCode()",
    "$r.entries.size()",
    "$r.size()",
    "$r.keySet()",
    "$r.entrySet()",
    '$r.get("v")',
    "$r.getV()",
    "$r.isV()",
    '$r.put("z", 1)$r.z',
    "$r.setZ(2)$r.z$r",
    "$r.entries.add(9)$r.entries",
    "$r.entries.remove(0)$r.entries",
    "$r.entries.subList(0, 1)",
    "$r.v.toFixed(1)",
    "$input.path('$.v')|$input.json('$.v')|$input.json('$.entries[*].entry')",
    "$input.params('id')|$input.params('q')|$input.params('x-trace')|$input.params().header",
    "$input.body",
    "$util.escapeJavaScript($r.v)|$util.urlEncode($r.v)|$util.base64Encode($r.v)",
    "$util.parseJson($r.s).a.b",
    "$util.escapeJavaScript($r.v)$util",
    "$input.path('$')$input.keySet()",
    "$context.requestId|$context.authorizer.clientId|$stageVariables.Environment",
    "$context.responseOverride",
    "#set($x = 1)$x",
    '#set($x = "a$r.v b")$x',
    "#set($x = 'a$r.v')$x",
    "#set($x = [1, 'b', $r.v])$x",
    '#set($x = {"a": 1, "b": $r.v, "c": [1..3]})$x',
    "#set($x = [1..3])$x",
    "#set($x = [3..-1])$x",
    "#set($x = [$i..$n])$x",
    "#set($x = [$r.v..2])$x",
    "#set($x = true)$x|#set($x = false)$x|#set($x = null)$x",
    "#set($x = 1.5)$x",
    "#set($x = $n + 1)$x|#set($x = $n - 1)$x|#set($x = $n * 3)$x|#set($x = $n / 4)$x|#set($x = $n % 2)$x",
    "#set($x = $r.v + 1)$x",
    "#set($x = -($n))$x|#set($x = -1 * $n)$x",
    "#set($x = ($n + 1) * 2)$x",
    "#set($x = $r.missing)$x",
    "#set($r.v = 'changed')$r.v",
    "#set($r.entries[0] = 'first')$r.entries",
    '#set($r["k"] = 3)$r.k',
    "#set($new.a.b = 1)$new",
    "#set($r.v.x = 1)$r.v",
    "#set($context.responseOverride.status = 207)#set($context.responseOverride.header.X-Count = $n)",
    '#set($context.requestOverride.header.X-Amz-Target = "AWSEvents.PutEvents")#set($context.requestOverride.path.p = $r.v)',
    "#if($r.v)yes#{else}no#end",
    "#if($r.missing)yes#elseif($n > 1)two#elseif($n)one#{else}none#end",
    "#if($n == 2)eq#end#if($n != 2)ne#end#if($n >= 2)ge#end#if($n <= 2)le#end#if($n < 2)lt#end",
    '#if($r.v == "Hello, World")eq#end#if($n == "2")loose#end#if($r.missing == $r.other)undef#end',
    "#if($r.v && $n)and#end#if($r.missing || $n)or#end#if(!$r.missing)not#end#if(!($n > 1))paren#end",
    "#set($x = $r.missing || 'default')$x|#set($x = $r.v && $n)$x",
    "#foreach($e in $r.entries)[$foreach.index $foreach.count $foreach.hasNext $velocityCount $e]#end",
    "#foreach($e in $r.entries)$e.entry#if($foreach.hasNext),#end#end",
    "#foreach($e in $r)$e;#end",
    "#foreach($e in $r.entries)#end$e",
    "#foreach($e in $r)#end$e|$foreach.index",
    "#foreach($e in [1..3])#foreach($e in ['a', 'b'])$e$foreach.index#end$e#end",
    "#foreach($e in $r.entries)#set($e = 'x')#set($outer = $foreach.count)#end$e $outer",
    "#foreach($e in $r.v)$e#end|#foreach($e in $r.missing)$e#end|#foreach($e in [])$e#end",
    "#foreach($m in $r)#foreach($e in $r.entries)$e#end#end$m",
    '#set($mm = {"a": 1, "b": 2})#foreach($x in $mm)$x#end$x',
    "#* comment *##[[raw $r #if]]##if($n)## line comment\nx#end",
    "$foreach.index$velocityCount",
    "\\$r.v \\#if",
    "$toString",
];

const PRELUDE = "#set($r = $input.path('$'))#set($i = 1)#set($n = 2)#set($k = 'v')";

/** Constructs the compiler leaves to velocityjs, with what velocityjs renders for each (read from Velocity's rules). */
const FALLBACKS: Array<[string, string]> = [
    ["#macro(greet $name)hi $name#end#greet('bob')", "hi bob"],
    ["#define($block)inside#end$block", "inside"],
    ["#foreach($e in [1, 2, 3])$e#if($e == 2)#break#end#end", "12"],
    ["a#stop()b", "a"],
    ["#set($f = $r.constructor)$f", ""],
    ["#set($r = $input.path('$'))$r.eval('x')", ""],
];

describe("compiled Velocity templates (vtl-compile.ts) against velocityjs", () => {
    const bodies = hostileBodies();

    describe("the repository's templates, over hostile requests, responses and contexts", () => {
        const ingest: Array<[string, string]> = [
            ["PutEvents request template", PUT_EVENTS_REQUEST_TEMPLATE],
            ...PUT_EVENTS_INTEGRATION_RESPONSES.map((r): [string, string] => [
                `${r.statusCode} response template`,
                r.responseTemplates["application/json"],
            ]),
        ];
        for (const [name, template] of ingest) {
            it(`${name}: compiled, and identical to velocityjs for every body and context`, () => {
                assert.strictEqual(isCompiled(template), true, "the template renders through the compiled path");
                for (const body of bodies) for (const ctx of contexts(body)) assertSameEverywhere(template, ctx);
            });
        }

        it("the request template renders the hostile entries as PutEvents entries whose Detail is each entry", () => {
            const body = JSON.stringify({ entries: ENTRY_TEXTS.map((entry) => ({ entry })) });
            const result = assertSameEverywhere(PUT_EVENTS_REQUEST_TEMPLATE, contexts(body)[0]);
            assert.ok("output" in result, JSON.stringify(result));
            const parsed = JSON.parse(result.output) as { Entries: Array<{ Detail: string; EventBusName: string }> };
            assert.deepStrictEqual(
                parsed.Entries.map((e) => e.Detail),
                ENTRY_TEXTS,
            );
            assert.ok(parsed.Entries.every((e) => e.EventBusName === "bus-1"));
        });

        for (const file of ["test/vtl.test.ts", "test/mapping-template.test.ts"]) {
            it(`every template literal of ${file}`, () => {
                const templates = templatesIn(path.join(__dirname, "..", file));
                assert.ok(templates.length >= 10, `found ${templates.length} templates`);
                for (const template of templates) {
                    // The tests of velocityjs's state between renders use #stop, #macro, #define and #break on purpose.
                    if (!/#(stop|macro|define|break)\b/.test(template))
                        assert.strictEqual(isCompiled(template), true, `compiled: ${template}`);
                    for (const body of bodies) assertSameEverywhere(template, contexts(body)[0]);
                }
            });
        }
    });

    describe("a corpus of small templates, one construct each, then random combinations", () => {
        it("each construct compiles and renders as velocityjs does over every body", () => {
            for (const construct of CONSTRUCTS) {
                const template = PRELUDE + construct;
                assert.strictEqual(isCompiled(template), true, `compiled: ${construct}`);
                for (const body of bodies) for (const ctx of contexts(body).slice(0, 2)) assertSameEverywhere(template, ctx);
            }
        });

        it("400 random combinations, nested in #foreach and #if, render as velocityjs does", () => {
            const random = seededRandom(15);
            const wrap = (inner: string) => {
                const wrapped = [inner, `#foreach($w in $r.entries)${inner}#end`, `#if($r.v)${inner}#else-${inner}#end`];
                // In a double-quoted string literal too, when the construct still parses with its quotes made single.
                const literal = `<${inner.replace(/"/g, "'")}>`;
                if (parses(literal)) wrapped.push(`#set($s = "${literal}")$s`);
                return pick(random, wrapped);
            };
            for (let i = 0; i < 400; i++) {
                const parts = Array.from({ length: randomInt(random, 2, 4) }, () => wrap(pick(random, CONSTRUCTS)));
                const template = PRELUDE + parts.join(pick(random, ["", "\n", " | "]));
                assert.strictEqual(isCompiled(template), true, `compiled: ${template}`);
                for (const body of [bodies[0], bodies[2], bodies[4], bodies[19], bodies[26]])
                    assertSameEverywhere(template, contexts(body)[0]);
            }
        });
    });

    describe("constructs left to velocityjs", () => {
        for (const [construct, expected] of FALLBACKS) {
            it(`${JSON.stringify(construct)} is not compiled and still renders ${JSON.stringify(expected)}`, () => {
                assert.strictEqual(isCompiled(construct), false);
                assert.strictEqual(renderTemplate(construct, { body: "{}" }), expected);
                assertSameEverywhere(construct, { body: "{}" });
            });
        }

        it("a template that does not parse fails the same way on every path", () => {
            assert.throws(() => isCompiled("#if("));
            assertSameEverywhere("#if(", { body: "{}" });
            assert.ok("error" in outcome("#if(", { body: "{}" }, {}));
        });
    });
});
