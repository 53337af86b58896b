import * as assert from "assert";
import {
    escapeJavaScript,
    javaRegex,
    jsonPath,
    renderTemplate,
    renderTemplateWithOverrides,
    urlDecode,
    urlEncode,
} from "../local/api-gateway/vtl";
import { pick, randomInt, seededRandom } from "../generator/random";
import { COMMONS_LANG3_JAR, COMMONS_LANG_JAR, fromCodeUnits, requireJava, runJava, toCodeUnits } from "./support/java";

const r = (template: string, extra: Record<string, unknown> = {}, body = "{}") =>
    renderTemplate(template, { body, context: { requestId: "req-1", ...extra }, stageVariables: { Environment: "dev", Bus: "bus-1" } });

describe("API Gateway Velocity renderer", () => {
    describe("$util.escapeJavaScript (Apache Commons Lang semantics)", () => {
        const cases: Array<[string, string]> = [
            ["it's", "it\\'s"],
            ['say "hi"', 'say \\"hi\\"'],
            ["a\\b", "a\\\\b"],
            ["a/b", "a\\/b"],
            ["\b\f\n\r\t", "\\b\\f\\n\\r\\t"],
            ["\u0000\u0001\u000f\u0010\u001f", "\\u0000\\u0001\\u000F\\u0010\\u001F"],
            ["\u007f", "\u007f"],
            ["é", "\\u00E9"],
            ["\u0100", "\\u0100"],
            ["\u0fff\u1000", "\\u0FFF\\u1000"],
            ["€", "\\u20AC"],
            ["😀", "\\uD83D\\uDE00"],
            ["plain ASCII 123 <>&", "plain ASCII 123 <>&"],
        ];
        for (const [input, expected] of cases) {
            it(`${JSON.stringify(input)} -> ${expected}`, () => {
                assert.strictEqual(escapeJavaScript(input), expected);
                assert.strictEqual(r("$util.escapeJavaScript($input.path('$.v'))", {}, JSON.stringify({ v: input })), expected);
            });
        }

        // AWS does not say which Commons Lang API Gateway uses: Lang 2's escapeJavaScript and Lang 3's escapeEcmaScript
        // must both give what the renderer gives.
        it("agrees with Java's Commons Lang StringEscapeUtils (2: escapeJavaScript, 3: escapeEcmaScript), and with Java's replaceAll after it, on every UTF-16 unit", function () {
            this.timeout(60_000);
            requireJava(this, { commonsLang: true });
            // Every code unit 0..0xFFFF (lone surrogates included) in strings of 512, the cases above, surrogate
            // pairs, and random mixes of the characters escaping treats specially.
            const samples: string[] = cases.map(([input]) => input);
            for (let start = 0; start < 0x10000; start += 512) {
                samples.push(Array.from({ length: 512 }, (_, i) => String.fromCharCode(start + i)).join(""));
            }
            samples.push("😀👍🏽🇫🇷𝄞", "\ud800", "\udfff", "a\udc00b\ud83d", "", "\\'", "\\\\''\\'");
            const random = seededRandom(20261201);
            const alphabet = [
                "'",
                '"',
                "\\",
                "/",
                "\n",
                "\r",
                "\t",
                "\u0000",
                "\u001f",
                "\u007f",
                "\u0080",
                "é",
                "€",
                "\u2028",
                "😀",
                "\ud800",
                "a",
                " ",
                "$",
                "#",
            ];
            for (let n = 0; n < 300; n++)
                samples.push(Array.from({ length: randomInt(random, 0, 30) }, () => pick(random, alphabet)).join(""));
            const output = runJava(
                "EscapeCheck",
                `
import java.io.*;
import java.nio.charset.StandardCharsets;
import org.apache.commons.lang.StringEscapeUtils;
public class EscapeCheck {
    static String decode(String line) {
        if (line.isEmpty()) return "";
        StringBuilder s = new StringBuilder();
        for (String unit : line.split(",")) s.append((char) Integer.parseInt(unit, 16));
        return s.toString();
    }
    static String encode(String s) {
        StringBuilder out = new StringBuilder();
        for (int i = 0; i < s.length(); i++) out.append(i == 0 ? "" : ",").append(Integer.toHexString(s.charAt(i)));
        return out.toString();
    }
    public static void main(String[] args) throws Exception {
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.US_ASCII));
        StringBuilder out = new StringBuilder();
        for (String line; (line = in.readLine()) != null; ) {
            String escaped = StringEscapeUtils.escapeJavaScript(decode(line));
            if (!escaped.equals(org.apache.commons.lang3.StringEscapeUtils.escapeEcmaScript(decode(line)))) throw new IllegalStateException("Lang 2 and 3 differ on " + line);
            // The mapping template's expression: escapeJavaScript(x).replaceAll("\\'", "'") (the regex \\').
            out.append(encode(escaped)).append(' ').append(encode(escaped.replaceAll("\\\\\\\\'", "'"))).append('\\n');
        }
        System.out.print(out);
    }
}
`,
                samples.map(toCodeUnits).join("\n") + "\n",
                [COMMONS_LANG_JAR, COMMONS_LANG3_JAR],
            );
            const lines = output.split("\n").slice(0, -1);
            assert.strictEqual(lines.length, samples.length);
            samples.forEach((sample, i) => {
                const [escaped, unescapedApostrophes] = lines[i].split(" ").map(fromCodeUnits);
                assert.strictEqual(escapeJavaScript(sample), escaped, `sample ${i}: ${JSON.stringify(sample.slice(0, 40))}`);
                const template = `$util.escapeJavaScript($input.path('$.v')).replaceAll("\\\\'","'")`;
                assert.strictEqual(r(template, {}, JSON.stringify({ v: sample })), unescapedApostrophes, `template on sample ${i}`);
            });
        });

        it("its output is not JSON when the input has an apostrophe (why the template needs replaceAll)", () => {
            assert.throws(() => JSON.parse(`"${escapeJavaScript("it's")}"`));
            assert.strictEqual(JSON.parse(`"${escapeJavaScript("it's").replace(/\\'/g, "'")}"`), "it's");
        });
    });

    describe("Java string semantics", () => {
        it("a double-quoted Velocity string literal keeps backslashes: \"\\\\'\" is the regex \\\\'", () => {
            assert.strictEqual(r(`#set($s = "\\\\'")$s.length()`), "3");
            assert.strictEqual(r(`$input.path('$.v').replaceAll("\\\\'","'")`, {}, JSON.stringify({ v: "a\\'b" })), "a'b");
        });

        it("replaceAll takes a regex (JavaScript's would be literal)", () => {
            assert.strictEqual(r(`$input.path('$.v').replaceAll("[0-9]+", "#")`, {}, JSON.stringify({ v: "a1b22c333" })), "a#b#c#");
            assert.strictEqual(r(`$input.path('$.v').replaceAll(".", "x")`, {}, JSON.stringify({ v: "abc" })), "xxx");
        });

        it("replaceAll uses Java replacement syntax: $1, ${name}, \\$", () => {
            assert.strictEqual(
                r(`$input.path('$.v').replaceAll("(\\w+)@(\\w+)", "$2 at $1")`, {}, JSON.stringify({ v: "me@host" })),
                "host at me",
            );
            assert.strictEqual(
                r(`$input.path('$.v').replaceAll("(?<u>\\w+)@", '\${u}-')`, {}, JSON.stringify({ v: "me@host" })),
                "me-host",
            );
            assert.strictEqual(r(`$input.path('$.v').replaceAll("a", '\\$')`, {}, JSON.stringify({ v: "aba" })), "$b$");
            assert.throws(
                () => r(`$input.path('$.v').replaceAll("a", "$&")`, {}, JSON.stringify({ v: "a" })),
                /Illegal group reference/,
                "Java has no $&",
            );
        });

        it("replaceFirst, and empty matches advance like Java", () => {
            assert.strictEqual(r(`$input.path('$.v').replaceFirst("a", "x")`, {}, JSON.stringify({ v: "aaa" })), "xaa");
            assert.strictEqual(r(`$input.path('$.v').replaceAll("x*", "-")`, {}, JSON.stringify({ v: "abc" })), "-a-b-c-");
        });

        it("replace is literal and replaces every occurrence (JavaScript's replaces the first)", () => {
            assert.strictEqual(r(`$input.path('$.v').replace(".", "$&")`, {}, JSON.stringify({ v: "a.b.c" })), "a$&b$&c");
        });

        it("length(), substring, indexOf, contains, startsWith, endsWith, case, trim, equals, matches, split", () => {
            const body = JSON.stringify({ v: "  Hello, World  " });
            assert.strictEqual(r(`$input.path('$.v').length()`, {}, body), "16");
            assert.strictEqual(r(`$input.path('$.v').trim().substring(7)`, {}, body), "World");
            assert.strictEqual(r(`$input.path('$.v').trim().substring(0, 5).toUpperCase()`, {}, body), "HELLO");
            assert.strictEqual(r(`$input.path('$.v').indexOf("o")`, {}, body), "6");
            assert.strictEqual(r(`#if($input.path('$.v').contains("World"))yes#end`, {}, body), "yes");
            assert.strictEqual(
                r(`#if($input.path('$.v').trim().startsWith("Hell") && $input.path('$.v').trim().endsWith("ld"))yes#end`, {}, body),
                "yes",
            );
            assert.strictEqual(r(`#if($input.path('$.v').trim().equalsIgnoreCase("hello, world"))yes#end`, {}, body), "yes");
            assert.strictEqual(r(`#if($input.path('$.v').trim().matches("H.*d"))yes#{else}no#end`, {}, body), "yes");
            assert.strictEqual(
                r(`#if($input.path('$.v').matches("ello"))yes#{else}no#end`, {}, body),
                "no",
                "matches is a whole-string match",
            );
            assert.strictEqual(
                r(`$input.path('$.v').split(",").size()`, {}, JSON.stringify({ v: "a,b,,," })),
                "2",
                "trailing empty strings dropped",
            );
        });

        it("substring out of range fails as in Java (JavaScript would clamp)", () => {
            assert.throws(() => r(`$input.path('$.v').substring(2, 10)`, {}, JSON.stringify({ v: "abc" })), /StringIndexOutOfBounds/);
        });

        it("methods Java strings do not have fail", () => {
            assert.throws(() => r(`$input.path('$.v').padStart(5)`, {}, JSON.stringify({ v: "abc" })), /no method padStart/);
        });

        it("javaRegex handles (?i) and \\Q...\\E", () => {
            assert.ok(javaRegex("(?i)abc").test("ABC"));
            assert.ok(javaRegex("\\Qa.b\\E").test("a.b"));
            assert.ok(!javaRegex("\\Qa.b\\E").test("axb"));
        });
    });

    describe("$input", () => {
        const body = JSON.stringify({ entries: [{ entry: "a" }, { entry: "b" }], n: 5, o: { "k-1": [1, 2] } });

        it("$input.body is the raw body", () => {
            assert.strictEqual(renderTemplate("$input.body", { body: "raw 'text' $x" }), "raw 'text' $x");
        });

        it("$input.json returns JSON text, $input.path values", () => {
            assert.strictEqual(r("$input.json('$.entries[1]')", {}, body), `{"entry":"b"}`);
            assert.strictEqual(r("$input.json('$')", {}, body), body);
            assert.strictEqual(r("$input.path('$.n')", {}, body), "5");
            assert.strictEqual(r("$input.path('$.entries').size()", {}, body), "2");
            assert.strictEqual(r("$input.json(\"$.o['k-1']\")", {}, body), "[1,2]");
            assert.strictEqual(r("$input.json('$.entries[*].entry')", {}, body), `["a","b"]`);
            assert.strictEqual(r("[$input.json('$.missing')]", {}, body), "[]");
        });

        it("#foreach over $input.path with $foreach.hasNext", () => {
            assert.strictEqual(r("#foreach($e in $input.path('$.entries'))$e.entry#if($foreach.hasNext),#end#end", {}, body), "a,b");
        });

        it("$input.params looks in path, query string, then headers (case-insensitive)", () => {
            const ctx = { body: "{}", path: { id: "p" }, querystring: { id: "q", q: "2" }, headers: { "X-Trace": "h" } };
            assert.strictEqual(
                renderTemplate("$input.params('id')|$input.params('q')|$input.params('x-trace')|[$input.params('none')]", ctx),
                "p|2|h|[]",
            );
            assert.strictEqual(renderTemplate("$input.params().header.get('X-Trace')", ctx), "h");
        });

        it("jsonPath rejects what it cannot evaluate", () => {
            assert.throws(() => jsonPath({}, "entries"), /Invalid JSONPath/);
            assert.throws(() => jsonPath({}, "$..deep"), /Invalid JSONPath/);
        });
    });

    describe("$util", () => {
        it("parseJson", () => {
            assert.strictEqual(
                r(`#set($o = $util.parseJson($input.path('$.s')))$o.a.b`, {}, JSON.stringify({ s: '{"a":{"b":42}}' })),
                "42",
            );
        });

        it("urlEncode / urlDecode follow java.net.URLEncoder / URLDecoder", () => {
            assert.strictEqual(urlEncode("a b*c~d/é'"), "a+b*c%7Ed%2F%C3%A9%27");
            assert.strictEqual(urlDecode("a+b%2F%C3%A9"), "a b/é");
            assert.throws(() => urlDecode("%zz"));
            assert.strictEqual(r(`$util.urlEncode("x y")|$util.urlDecode("x+y")`), "x+y|x y");
        });

        it("base64Encode / base64Decode (UTF-8)", () => {
            assert.strictEqual(r(`$util.base64Encode("héllo")`), Buffer.from("héllo").toString("base64"));
            assert.strictEqual(r(`$util.base64Decode("aOlsbG8=")`), Buffer.from("aOlsbG8=", "base64").toString("utf8"));
        });
    });

    describe("$context and $stageVariables", () => {
        it("reads context and stage variables; a missing reference renders empty", () => {
            assert.strictEqual(
                r("$context.requestId|$stageVariables.Environment|$stageVariables.Bus|[$context.authorizer.clientId]|[$nothing]"),
                "req-1|dev|bus-1|[]|[]",
            );
        });

        it("response and request overrides are written into the caller's context object", () => {
            const context: Record<string, any> = { requestId: "r" };
            const text = renderTemplate(
                `#set($context.responseOverride.status = 207)#set($context.responseOverride.header.X-Count = "2")#set($context.requestOverride.header.X-Amz-Target = "AWSEvents.PutEvents")ok`,
                { body: "{}", context },
            );
            assert.strictEqual(text, "ok");
            assert.strictEqual(context.responseOverride.status, 207);
            assert.strictEqual(context.responseOverride.header["X-Count"], "2");
            assert.strictEqual(context.requestOverride.header["X-Amz-Target"], "AWSEvents.PutEvents");
        });

        it("renderTemplateWithOverrides returns them too", () => {
            const result = renderTemplateWithOverrides(`#set($context.responseOverride.status = 429)x`, { body: "{}" });
            assert.deepStrictEqual(result, {
                output: "x",
                requestOverride: { header: {}, querystring: {}, path: {} },
                responseOverride: { status: 429, header: {} },
            });
        });

        it("text that looks like VTL inside data is not evaluated", () => {
            const body = JSON.stringify({ v: "#set($context.responseOverride.status = 500) $context.requestId ${x}" });
            const context: Record<string, any> = { requestId: "r" };
            const text = renderTemplate("$input.path('$.v')", { body, context });
            assert.strictEqual(text, "#set($context.responseOverride.status = 500) $context.requestId ${x}");
            assert.strictEqual(context.responseOverride.status, undefined);
        });
    });

    describe("rendering again (one compiler reused per template)", () => {
        // Each template is rendered with every body in turn; the later renders must not see what earlier ones left.
        const cases: Array<{ title: string; template: string; renders: Array<[body: object, expected: string]> }> = [
            {
                title: "#stop in one render does not stop the next",
                template: "#if($input.path('$.stop'))#stop()#end|after", // velocityjs takes #stop as a macro call
                renders: [
                    [{ stop: true }, ""],
                    [{}, "|after"],
                ],
            },
            {
                title: "a #macro defined in one render is unknown in the next",
                template: "#if($input.path('$.define'))#macro(greet)hi#end#end[#greet()]",
                renders: [
                    [{ define: true }, "[hi]"],
                    [{}, "[]"],
                ],
            },
            {
                title: "a #define of one render is gone in the next",
                template: "#if($input.path('$.define'))#define($block)B#end#end[$!block]",
                renders: [
                    [{ define: true }, "[B]"],
                    [{}, "[]"],
                ],
            },
            {
                title: "#break and the loop variables start over",
                template: "#foreach($x in $input.path('$.xs'))$x$foreach.count#if($x == 2)#break#end#end|",
                renders: [
                    [{ xs: [1, 2, 3] }, "1122|"],
                    [{ xs: [3, 4] }, "3142|"],
                ],
            },
            {
                title: "a double-quoted literal is evaluated with each render's values",
                template: `#set($s = "<$input.path('$.v')>")$s`,
                renders: [
                    [{ v: "a" }, "<a>"],
                    [{ v: "b" }, "<b>"],
                ],
            },
        ];
        for (const { title, template, renders } of cases) {
            it(title, () => {
                for (const uncached of [false, true]) {
                    for (const [body, expected] of [...renders, ...renders]) {
                        assert.strictEqual(
                            renderTemplate(template, { body: JSON.stringify(body) }, { uncached }),
                            expected,
                            `${JSON.stringify(body)}, uncached: ${uncached}`,
                        );
                    }
                }
            });
        }

        it("a template that throws leaves its compiler usable", () => {
            const template = "#set($v = $input.path('$.v'))$v.substring(0, 2)";
            assert.throws(() => renderTemplate(template, { body: JSON.stringify({ v: "a" }) }), /StringIndexOutOfBounds/);
            assert.strictEqual(renderTemplate(template, { body: JSON.stringify({ v: "abc" }) }), "ab");
        });
    });
});
