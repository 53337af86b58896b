/**
 * The Authorization header validation expression (pipeline/authorization-header.ts): what the authorizer
 * accepts matches it and junk does not; it means the same in JavaScript and in Java's java.util.regex,
 * fully matched or searched, with or without a case-insensitive flag; and local mode applies it the way
 * API Gateway does (401 without invoking the authorizer, nothing cached).
 */
import { strict as assert } from "node:assert";
import type { APIGatewayAuthorizerResult } from "aws-lambda";
import {
    AUTHORIZATION_HEADER_PATTERN,
    MAX_AUTHORIZATION_HEADER_LENGTH,
    MAX_AUTHORIZATION_WHITESPACE,
    MAX_JWT_SEGMENT_LENGTH,
    tokenOfAuthorizationHeader,
} from "../pipeline/authorization-header";
import { GATEWAY_RESPONSES } from "../pipeline/gateway-responses";
import { createAuthorizer, extractToken } from "../handlers/authorizer";
import { LocalRestApi } from "../local/api-gateway/rest-api";
import { createLogger } from "../local/log";
import { createSigningKey, idToken, accessToken, jwksOf } from "./support/jwt";
import { pick as pickOne, randomInt, seededRandom } from "../generator/random";
import { requireJava, runJava } from "./support/java";
import { postEntries, signUpUser, startTestLocal, testRestApiSettings, type StartedLocal } from "./support/local";

const POOL = "us-east-1_HeaderPool";
const CLIENT = "headerclient123";
const CLIENT_ID = "0b7c7a1e-3f55-4c1b-9d7e-2d1f7a9e0c11";
const METHOD_ARN = "arn:aws:execute-api:us-east-1:123456789012:abc123/dev/POST/event";
const key = createSigningKey("header-key");

// The generator's seeded PRNG, so a failure reproduces.
const random = seededRandom(20261127);
const int = (min: number, max: number) => randomInt(random, min, max);
const pick = <T>(items: readonly T[]): T => pickOne(random, items);
const whitespace = (min: number, max: number) => Array.from({ length: int(min, max) }, () => pick([" ", "\t"])).join("");
const randomCase = (word: string) => [...word].map((c) => (random() < 0.5 ? c.toUpperCase() : c.toLowerCase())).join("");

/** A header around a token in one of the forms the API accepts. */
function acceptedHeader(token: string): string {
    const scheme = random() < 0.7 ? randomCase("bearer") + whitespace(1, MAX_AUTHORIZATION_WHITESPACE) : "";
    return whitespace(0, MAX_AUTHORIZATION_WHITESPACE) + scheme + token + whitespace(0, MAX_AUTHORIZATION_WHITESPACE);
}

/** Real signed Cognito-shaped tokens, from minimal to a payload of several KB. */
function realTokens(count: number): string[] {
    return Array.from({ length: count }, (_, i) => {
        const claims = { padding: "x".repeat(int(0, 3000)) };
        return i % 2 === 0
            ? idToken({ userPoolId: POOL, clientId: CLIENT, key, clientIdAttribute: CLIENT_ID, claims })
            : accessToken({ userPoolId: POOL, clientId: CLIENT, key, claims });
    });
}

/**
 * An independent reading of the accepted grammar, written procedurally: optional spaces/tabs, an optional
 * case-insensitive `Bearer` followed by spaces/tabs, three non-empty base64url segments within their
 * bounds, optional spaces/tabs. The expression must agree with it everywhere.
 */
function referenceToken(value: string): string | undefined {
    const isWs = (c: string) => c === " " || c === "\t";
    let start = 0;
    while (start < value.length && isWs(value[start])) start++;
    let end = value.length;
    while (end > start && isWs(value[end - 1])) end--;
    if (start > MAX_AUTHORIZATION_WHITESPACE || value.length - end > MAX_AUTHORIZATION_WHITESPACE) return undefined;
    let rest = value.slice(start, end);
    if (/^bearer$/i.test(rest.slice(0, 6)) && /^[ \t]/.test(rest.slice(6))) {
        let i = 6;
        while (i < rest.length && isWs(rest[i])) i++;
        if (i - 6 > MAX_AUTHORIZATION_WHITESPACE) return undefined;
        rest = rest.slice(i);
    }
    const parts = rest.split(".");
    if (parts.length !== 3) return undefined;
    const bounds = [MAX_JWT_SEGMENT_LENGTH.header, MAX_JWT_SEGMENT_LENGTH.payload, MAX_JWT_SEGMENT_LENGTH.signature];
    const b64url = new Set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_");
    const ok = parts.every((p, i) => p.length >= 1 && p.length <= bounds[i] && [...p].every((c) => b64url.has(c)));
    return ok ? rest : undefined;
}

/** Headers the authorizer must refuse: other schemes, several tokens, odd separators, wrong shapes, over the bounds. */
function junkHeaders(token: string): string[] {
    const [h, p, s] = token.split(".");
    const ws17 = " ".repeat(MAX_AUTHORIZATION_WHITESPACE + 1);
    return [
        "",
        " ",
        "\t",
        "Bearer",
        "Bearer ",
        "bearer\t",
        "null",
        "undefined",
        "[object Object]",
        "Basic dXNlcjpwYXNzd29yZA==",
        `Basic ${token}`,
        `Token ${token}`,
        `JWT ${token}`,
        `Bearer: ${token}`,
        `Bearer:${token}`,
        `Bearer Bearer ${token}`,
        `Bearer.${token}`,
        `Bearer,${token}`,
        `${token} ${token}`,
        `${token},${token}`,
        `Bearer ${token}, Bearer ${token}`,
        `Bearer ${token} extra`,
        `"${token}"`,
        `'${token}'`,
        `<${token}>`,
        `${token};`,
        `Bearer\u00a0${token}`,
        `\u3000${token}`,
        `${token}\u2028`,
        `Bearer\n${token}`,
        `${token}\r\n`,
        `\u000b${token}`,
        `${token}\u0000`,
        `Bearer \u200b${token}`,
        `${h}.${p}`,
        `${h}.${p}.`,
        `.${p}.${s}`,
        `${h}..${s}`,
        `${h}.${p}.${s}.`,
        `${h}.${p}.${s}.${s}.${s}`,
        `${h}.${p}.${s.slice(0, 10)}+/=`,
        `${h}.${p}.${s}=`,
        `${h}%2E${p}%2E${s}`,
        `${h}.${p}.${s}\u00e9`,
        `${ws17}${token}`,
        `${token}${ws17}`,
        `Bearer${ws17}${token}`,
        `${"A".repeat(MAX_JWT_SEGMENT_LENGTH.header + 1)}.${p}.${s}`,
        `${h}.${"B".repeat(MAX_JWT_SEGMENT_LENGTH.payload + 1)}.${s}`,
        `${h}.${p}.${"C".repeat(MAX_JWT_SEGMENT_LENGTH.signature + 1)}`,
        `${"A".repeat(4000)}.${"B".repeat(4000)}.${"C".repeat(2000)}`,
        "x".repeat(100_000),
    ];
}

/** Random edits of accepted headers: one to three insertions, deletions or replacements near the grammar's edges. */
function mutations(headers: string[], count: number): string[] {
    const alphabet = [
        " ",
        "\t",
        ".",
        ",",
        ":",
        ";",
        "=",
        "+",
        "/",
        "-",
        "_",
        "a",
        "Z",
        "0",
        "B",
        "b",
        "\u00a0",
        "\u00e9",
        "\n",
        "\r",
        "\u0000",
        "\u3000",
    ];
    return Array.from({ length: count }, () => {
        let value = pick(headers);
        for (let edits = int(1, 3); edits > 0; edits--) {
            const at = random() < 0.5 ? int(0, Math.min(12, value.length)) : int(Math.max(0, value.length - 12), value.length);
            const op = int(0, 2);
            if (op === 0) value = value.slice(0, at) + pick(alphabet) + value.slice(at);
            else if (op === 1) value = value.slice(0, at) + value.slice(at + 1);
            else value = value.slice(0, at) + pick(alphabet) + value.slice(at + 1);
        }
        return value;
    });
}

describe("Authorization header validation expression", () => {
    const tokens = realTokens(24);
    const accepted = tokens.flatMap((t) => [t, acceptedHeader(t), acceptedHeader(t), `Bearer ${t}`]);
    const junk = tokens.slice(0, 2).flatMap(junkHeaders);
    const mutated = mutations(accepted, 3000);
    const regex = new RegExp(AUTHORIZATION_HEADER_PATTERN);

    it("uses only constructs that mean the same in Java and JavaScript: anchors, classes, bounded quantifiers", () => {
        // Read the expression token by token; anything but these fails: no unbounded quantifier, lookaround, inline
        // flag, backreference, shorthand class (\s \w \d differ between the engines) or dot wildcard.
        const allowed = [
            ["anchor", /\^|\$/y],
            ["group", /\(\?:|\(|\)/y],
            ["bounded quantifier", /\?|\{\d+,\d+\}/y],
            ["class of literal characters, ranges and \\t", /\[(?:\\t|[A-Za-z0-9_ ]-[A-Za-z0-9_ ]|[A-Za-z0-9_ ]|-(?=\]))+\]/y],
            ["escaped dot", /\\\./y],
        ] as const;
        const kinds: string[] = [];
        for (let at = 0; at < AUTHORIZATION_HEADER_PATTERN.length;) {
            const found = allowed.find(([, re]) => {
                re.lastIndex = at;
                return re.test(AUTHORIZATION_HEADER_PATTERN);
            });
            assert.ok(found, `construct at ${at}: ${AUTHORIZATION_HEADER_PATTERN.slice(at, at + 20)}`);
            kinds.push(found[0]);
            at = found[1].lastIndex;
        }
        assert.equal(kinds[0], "anchor");
        assert.equal(kinds[kinds.length - 1], "anchor");
        assert.equal(kinds.filter((k) => k === "anchor").length, 2, "anchored at both ends, nowhere else");
        // One capturing group: the token.
        assert.equal(new RegExp(`${AUTHORIZATION_HEADER_PATTERN}|`).exec("")?.length, 2);
        // Every quantifier's upper bound is a documented limit.
        const bounds = [...AUTHORIZATION_HEADER_PATTERN.matchAll(/\{\d+,(\d+)\}/g)].map((m) => Number(m[1]));
        assert.deepEqual(
            [...new Set(bounds)].sort((a, b) => a - b),
            [MAX_AUTHORIZATION_WHITESPACE, ...Object.values(MAX_JWT_SEGMENT_LENGTH)]
                .filter((v, i, a) => a.indexOf(v) === i)
                .sort((a, b) => a - b),
        );
    });

    it("every header the authorizer accepts matches, with the token as its group", async () => {
        const authorize = createAuthorizer({ userPoolId: POOL, clientId: CLIENT, jwks: jwksOf(key) });
        for (const header of accepted) {
            const token = header.trim().replace(/^bearer[ \t]+/i, "");
            assert.ok(regex.test(header), JSON.stringify(header.slice(0, 40)));
            assert.equal(tokenOfAuthorizationHeader(header), token);
            assert.equal(extractToken(header), token);
        }
        // The real authorizer allows the ID tokens in every accepted form (access tokens would need Cognito GetUser).
        for (const header of accepted.filter(
            (h) =>
                JSON.parse(
                    Buffer.from(
                        h
                            .trim()
                            .replace(/^bearer[ \t]+/i, "")
                            .split(".")[1],
                        "base64url",
                    ).toString(),
                ).token_use === "id",
        )) {
            const result = await authorize({ type: "TOKEN", authorizationToken: header, methodArn: METHOD_ARN });
            assert.equal(result.policyDocument.Statement[0].Effect, "Allow");
            assert.deepEqual(result.context, { clientId: CLIENT_ID });
        }
    });

    it("realistic junk does not match, and the authorizer refuses it too", async () => {
        const authorize = createAuthorizer({ userPoolId: POOL, clientId: CLIENT, jwks: jwksOf(key) });
        for (const header of junk) {
            assert.equal(regex.test(header), false, JSON.stringify(header.slice(0, 60)));
            assert.equal(extractToken(header), undefined);
            await assert.rejects(authorize({ type: "TOKEN", authorizationToken: header, methodArn: METHOD_ARN }), /^Error: Unauthorized$/);
        }
    });

    it("agrees with an independent reading of the grammar on thousands of edited headers", () => {
        let matched = 0;
        for (const header of [...accepted, ...junk, ...mutated]) {
            const expected = referenceToken(header);
            assert.equal(tokenOfAuthorizationHeader(header), expected, JSON.stringify(header.slice(0, 60)));
            if (expected !== undefined) matched++;
        }
        // Both outcomes are well represented among the edits.
        assert.ok(matched > 500 && matched < accepted.length + mutated.length - 500, `matched ${matched}`);
    });

    it("means the same searched or fully matched, with or without a case-insensitive flag", () => {
        const variants = [
            new RegExp(`^(?:${AUTHORIZATION_HEADER_PATTERN})$`),
            new RegExp(AUTHORIZATION_HEADER_PATTERN, "i"),
            new RegExp(`^(?:${AUTHORIZATION_HEADER_PATTERN})$`, "i"),
        ];
        for (const header of [...accepted, ...junk, ...mutated]) {
            const expected = regex.test(header);
            for (const variant of variants)
                assert.equal(variant.test(header), expected, `${variant.flags} ${JSON.stringify(header.slice(0, 60))}`);
        }
    });

    it("bounds the header: the longest accepted value matches, one more character in any part does not", () => {
        const longest =
            " ".repeat(16) +
            "bEaReR" +
            "\t".repeat(16) +
            "a".repeat(1024) +
            "." +
            "b".repeat(6144) +
            "." +
            "c".repeat(1024) +
            " ".repeat(16);
        assert.equal(longest.length, MAX_AUTHORIZATION_HEADER_LENGTH);
        assert.ok(regex.test(longest));
        assert.ok(MAX_AUTHORIZATION_HEADER_LENGTH <= 8300, "well inside API Gateway's 10 KB for the request line and headers");
        for (const at of [0, 22, 100, 2000, MAX_AUTHORIZATION_HEADER_LENGTH - 100, MAX_AUTHORIZATION_HEADER_LENGTH]) {
            const longer = longest.slice(0, at) + longest[Math.min(at, longest.length - 1)] + longest.slice(at);
            assert.equal(regex.test(longer), false, `extra character at ${at}`);
        }
    });

    it("means the same in Java's java.util.regex, with matches() and find(), with and without CASE_INSENSITIVE", function () {
        this.timeout(60_000);
        requireJava(this);
        const samples = [...accepted, ...junk, ...mutated];
        const source = `
import java.io.*;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.regex.Pattern;
public class RegexCheck {
    public static void main(String[] args) throws Exception {
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        String patternText = new String(Base64.getDecoder().decode(in.readLine()), StandardCharsets.UTF_8);
        Pattern plain = Pattern.compile(patternText);
        Pattern folded = Pattern.compile(patternText, Pattern.CASE_INSENSITIVE);
        StringBuilder out = new StringBuilder();
        for (String line; (line = in.readLine()) != null; ) {
            String value = new String(Base64.getDecoder().decode(line), StandardCharsets.UTF_8);
            out.append(plain.matcher(value).matches() ? '1' : '0').append(plain.matcher(value).find() ? '1' : '0')
               .append(folded.matcher(value).matches() ? '1' : '0').append(folded.matcher(value).find() ? '1' : '0').append('\\n');
        }
        System.out.print(out);
    }
}
`;
        const input = [AUTHORIZATION_HEADER_PATTERN, ...samples].map((s) => Buffer.from(s, "utf8").toString("base64")).join("\n") + "\n";
        const lines = runJava("RegexCheck", source, input).trimEnd().split("\n");
        assert.equal(lines.length, samples.length);
        let lenient = 0;
        samples.forEach((sample, i) => {
            const expected = regex.test(sample) ? "1111" : "0000";
            if (lines[i] === expected) return;
            // Java's `$` also matches before a final line terminator, so find() (if API Gateway searches
            // rather than fully matches) lets such a value through to the authorizer, which refuses it:
            // never a false 401, at worst one invocation. HTTP header values cannot hold CR or LF anyway.
            assert.equal(lines[i], "0101", JSON.stringify(sample.slice(0, 60)));
            const stripped = sample.replace(/(?:\r\n|[\n\r\u0085\u2028\u2029])$/, "");
            assert.notEqual(stripped, sample, `only a final line terminator may differ: ${JSON.stringify(sample.slice(-20))}`);
            assert.ok(regex.test(stripped));
            assert.equal(extractToken(sample), undefined);
            lenient++;
        });
        assert.ok(lenient < samples.length / 20, `${lenient} samples differ`);
    });
});

describe("local mode applies the validation expression before the authorizer", () => {
    const quiet = createLogger({ quiet: true });
    const allow: APIGatewayAuthorizerResult = {
        principalId: "p",
        context: { clientId: "c-1" },
        policyDocument: {
            Version: "2012-10-17",
            Statement: [
                { Action: "execute-api:Invoke", Effect: "Allow", Resource: "arn:aws:execute-api:eu-west-1:000000000000:api/dev/*/*" },
            ],
        },
    };
    const settings = { ...testRestApiSettings(), identityValidationExpression: AUTHORIZATION_HEADER_PATTERN };
    const request = (authorization: string) => ({
        method: "POST",
        path: "/dev/event",
        headers: { authorization, "content-type": "application/json" },
        body: Buffer.from(JSON.stringify({ entries: [{ entry: '{"eventType":"a"}' }] })),
        sourceIp: "127.0.0.1",
    });

    it("answers a junk header 401 (UNAUTHORIZED gateway response) without invoking the authorizer, every time", async () => {
        const invoked: string[] = [];
        const api = new LocalRestApi(
            settings,
            {
                authorizer: async (event) => {
                    invoked.push(event.authorizationToken);
                    return allow;
                },
                putEvents: () => ({ status: 200, body: JSON.stringify({ Entries: [{ EventId: "e1" }], FailedEntryCount: 0 }) }),
            },
            quiet,
        );
        const unauthorized = GATEWAY_RESPONSES.find((r) => r.responseType === "UNAUTHORIZED")!;
        for (const header of ["junk", "Basic dXNlcjpwYXNz", "junk", "a.b", "Bearer a.b.c d"]) {
            const res = await api.handle(request(header));
            assert.equal(res.status, Number(unauthorized.statusCode));
            assert.match(res.note, /^UNAUTHORIZED: Authorization header fails the identity validation expression$/);
            assert.equal(JSON.parse(res.body).message, "Unauthorized");
            assert.equal(res.headers["Access-Control-Allow-Origin"], "*");
        }
        assert.deepEqual(invoked, []);
        // A well-formed header reaches the authorizer; its result is cached, the refusals above never were.
        assert.equal((await api.handle(request("Bearer a.b.c"))).status, 200);
        assert.equal((await api.handle(request("Bearer a.b.c"))).status, 200);
        assert.deepEqual(invoked, ["Bearer a.b.c"]);
    });

    it("without an expression every non-empty header reaches the authorizer (the setting is what filters)", async () => {
        let calls = 0;
        const api = new LocalRestApi(
            { ...settings, identityValidationExpression: undefined },
            {
                authorizer: async () => {
                    calls++;
                    throw new Error("Unauthorized");
                },
                putEvents: () => ({ status: 200, body: "{}" }),
            },
            quiet,
        );
        assert.equal((await api.handle(request("junk"))).status, 401);
        assert.equal(calls, 1);
    });

    describe("end to end", function () {
        this.timeout(30_000);
        let started: StartedLocal;
        const lines: string[] = [];
        before(async () => {
            started = await startTestLocal({ quiet: false, logLine: (line) => lines.push(line) });
        });
        after(async () => {
            await started?.local.close();
        });

        it("junk never reaches the authorizer Lambda; a well-formed but forged token does, and is refused there", async () => {
            const user = await signUpUser(started, "HeaderUser");
            const [h, p] = user.idToken.split(".");
            lines.length = 0;
            for (const header of [
                "junk",
                `Basic ${Buffer.from("a:b").toString("base64")}`,
                `${user.accessToken},${user.accessToken}`,
                `Token ${user.accessToken}`,
            ]) {
                assert.equal((await postEntries(started.local, header, ['{"eventType":"a","schemaVersion":1}'])).status, 401);
            }
            const apiLines = lines.filter((l) => / api POST /.test(l));
            assert.equal(apiLines.length, 4);
            for (const line of apiLines)
                assert.match(line, /-> 401 UNAUTHORIZED: Authorization header fails the identity validation expression/);
            assert.deepEqual(
                lines.filter((l) => /lambda authorizer:/.test(l)),
                [],
            );

            lines.length = 0;
            assert.equal((await postEntries(started.local, `Bearer ${h}.${p}.AAAA`, ['{"eventType":"a","schemaVersion":1}'])).status, 401);
            assert.ok(
                lines.some((l) => /-> 401 UNAUTHORIZED: authorizer: Unauthorized/.test(l)),
                lines.join("\n"),
            );
            assert.ok(
                lines.some((l) => /lambda authorizer: .*token rejected/.test(l)),
                lines.join("\n"),
            );

            assert.equal(
                (await postEntries(started.local, `bearer\t${user.idToken}`, ['{"eventType":"a","schemaVersion":1}'])).status,
                200,
            );
        });
    });
});
