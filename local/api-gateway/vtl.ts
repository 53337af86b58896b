/**
 * API Gateway mapping templates, rendered as API Gateway renders them: Velocity (velocityjs) with
 * API Gateway's `$input`, `$util`, `$context` and `$stageVariables`, and Java semantics for strings.
 *
 * API Gateway runs Apache Velocity on Java. Where Java and JavaScript differ, Java wins here:
 * - String methods are Java's: `replaceAll`/`replaceFirst`/`matches`/`split` take a Java regex and
 *   `replaceAll` a Java replacement (`$1`, `\$`); `replace` is literal and replaces every occurrence;
 *   `length()` is a method; `substring` throws out of range.
 * - Velocity string literals do not process backslash escapes: `"\\'"` is three characters.
 * - `$util.escapeJavaScript` is Apache Commons Lang's escapeJavaScript: `'` -> `\'`, `"` -> `\"`,
 *   `\` -> `\\`, `/` -> `\/`, \b \f \n \r \t, other control characters as \u00XX, and every UTF-16 unit
 *   above 0x7F as \uXXXX (upper-case hex).
 * - A reference that resolves to nothing renders as an empty string.
 *
 * Writes to `$context.requestOverride.*` and `$context.responseOverride.*` land in the context object
 * the caller passed, so the caller reads them back after rendering.
 */
import { parse, Compile } from "velocityjs";
import { templateCompiler, type AstItem, type CompiledTemplate } from "./vtl-compile";

export interface TemplateContext {
    /** The raw body the template sees as `$input.body` (request body, or the integration's response body). */
    body: string;
    /** The body parsed as JSON already (the request model parsed it), for `$input.path`/`$input.json`. */
    parsedBody?: { value: unknown };
    /** `$context`: requestId, authorizer, identity, ...; overrides are written into this object. */
    context?: Record<string, unknown>;
    /** `$stageVariables`. */
    stageVariables?: Record<string, string>;
    /** Request headers, for `$input.params()`. */
    headers?: Record<string, string>;
    /** Path parameters, for `$input.params()`. */
    path?: Record<string, string>;
    /** Query string parameters, for `$input.params()`. */
    querystring?: Record<string, string>;
}

export interface RenderOptions {
    /**
     * A new velocityjs compiler for this render, which parses string literals again at each evaluation (how
     * this module rendered before it reused compilers; the bench's "before"). Same output, slower.
     */
    uncached?: boolean;
    /**
     * Render through velocityjs's compiler (reused per template) even when the template compiles to closures
     * (vtl-compile.ts): what the differential tests compare the compiled path with. Same output, slower.
     */
    velocityjs?: boolean;
}

export interface RenderResult {
    /** The rendered text. */
    output: string;
    /** `$context.requestOverride` after rendering: header, querystring and path maps. */
    requestOverride: { header: Record<string, string>; querystring: Record<string, string>; path: Record<string, string> };
    /** `$context.responseOverride` after rendering: status (if set) and header map. */
    responseOverride: { status?: number; header: Record<string, string> };
}

// ------------------------------------------------------------------------------------------------
// $util
// ------------------------------------------------------------------------------------------------

function hex(code: number): string {
    return code.toString(16).toUpperCase();
}

/** What escapeJavaScript writes for one UTF-16 unit that it escapes. */
function escapedUnit(code: number): string {
    if (code > 0xfff) return "\\u" + hex(code);
    if (code > 0xff) return "\\u0" + hex(code);
    if (code > 0x7f) return "\\u00" + hex(code);
    switch (code) {
        case 0x08:
            return "\\b";
        case 0x0a:
            return "\\n";
        case 0x09:
            return "\\t";
        case 0x0c:
            return "\\f";
        case 0x0d:
            return "\\r";
        case 0x27:
            return "\\'";
        case 0x22:
            return '\\"';
        case 0x5c:
            return "\\\\";
        case 0x2f:
            return "\\/";
        default:
            return (code > 0xf ? "\\u00" : "\\u000") + hex(code);
    }
}

/** What escapeJavaScript writes for each unit below 0x100: "" for a unit it keeps (looked up per character). */
const ESCAPED_UNITS: string[] = Array.from({ length: 0x100 }, (_, code) =>
    code >= 0x20 && code <= 0x7f && code !== 0x27 && code !== 0x22 && code !== 0x5c && code !== 0x2f ? "" : escapedUnit(code),
);

/** Apache Commons Lang 2 `StringEscapeUtils.escapeJavaScript`, which API Gateway's `$util.escapeJavaScript` is. */
export function escapeJavaScript(input: string): string {
    let out = "";
    let copied = 0; // input before this index is in `out`; runs of plain characters are copied in one slice
    for (let i = 0; i < input.length; i++) {
        const code = input.charCodeAt(i);
        const escaped = code < 0x100 ? ESCAPED_UNITS[code] : escapedUnit(code);
        if (escaped === "") continue;
        out += input.slice(copied, i) + escaped;
        copied = i + 1;
    }
    return copied === 0 ? input : out + input.slice(copied);
}

/** Java `URLEncoder.encode(s, "UTF-8")`: letters, digits and `.-*_` kept, space as `+`, the rest %XX. */
export function urlEncode(input: string): string {
    let out = "";
    for (const byte of Buffer.from(input, "utf8")) {
        const ch = String.fromCharCode(byte);
        if (/[A-Za-z0-9.\-*_]/.test(ch)) out += ch;
        else if (ch === " ") out += "+";
        else out += "%" + byte.toString(16).toUpperCase().padStart(2, "0");
    }
    return out;
}

/** Java `URLDecoder.decode(s, "UTF-8")`: `+` is a space; a malformed escape is an error. */
export function urlDecode(input: string): string {
    const bytes: number[] = [];
    for (let i = 0; i < input.length; i++) {
        const ch = input[i];
        if (ch === "+") bytes.push(0x20);
        else if (ch === "%") {
            const pair = input.slice(i + 1, i + 3);
            if (!/^[0-9A-Fa-f]{2}$/.test(pair)) throw new Error(`URLDecoder: illegal hex characters in escape (%) pattern at ${i}`);
            bytes.push(parseInt(pair, 16));
            i += 2;
        } else bytes.push(...Buffer.from(ch, "utf8"));
    }
    return Buffer.from(bytes).toString("utf8");
}

const str = (v: unknown) => (v === undefined || v === null ? "" : String(v));

/** `$util`'s functions, made once (methods, not arrows: see makeInput). */
const UTIL_FUNCTIONS = {
    escapeJavaScript(v: unknown) {
        return escapeJavaScript(str(v));
    },
    parseJson(v: unknown): unknown {
        return JSON.parse(str(v));
    },
    urlEncode(v: unknown) {
        return urlEncode(str(v));
    },
    urlDecode(v: unknown) {
        return urlDecode(str(v));
    },
    base64Encode(v: unknown) {
        return Buffer.from(str(v), "utf8").toString("base64");
    },
    base64Decode(v: unknown) {
        return Buffer.from(str(v), "base64").toString("utf8");
    },
};

/** `$util`: a new object per render (a template may write to it), holding the same functions each time. */
function makeUtil() {
    const u = UTIL_FUNCTIONS;
    return {
        escapeJavaScript: u.escapeJavaScript,
        parseJson: u.parseJson,
        urlEncode: u.urlEncode,
        urlDecode: u.urlDecode,
        base64Encode: u.base64Encode,
        base64Decode: u.base64Decode,
    };
}

// ------------------------------------------------------------------------------------------------
// Java regular expressions and replacements
// ------------------------------------------------------------------------------------------------

/** A Java regex as a JavaScript RegExp (the common subset, plus `\Q...\E` quoting and a leading `(?i)`). */
export function javaRegex(pattern: string, flags = ""): RegExp {
    let source = pattern;
    let extra = "";
    const inline = /^\(\?([imsx]+)\)/.exec(source);
    if (inline) {
        source = source.slice(inline[0].length);
        for (const f of inline[1]) if (f === "i" || f === "m" || f === "s") extra += f;
    }
    source = source.replace(/\\Q([\s\S]*?)(?:\\E|$)/g, (_m, quoted: string) => quoted.replace(/[.*+?^${}()|[\]\\/-]/g, "\\$&"));
    if (/[*+?}][+]/.test(source.replace(/\\./g, ""))) throw new Error(`possessive quantifiers are not supported: ${pattern}`);
    return new RegExp(source, Array.from(new Set(flags + extra)).join(""));
}

const regexCache = new Map<string, RegExp>();

/**
 * javaRegex, compiled once per pattern and flags (templates call replaceAll with the same few literals on every
 * entry). Callers reset `lastIndex` before a global search; rendering is synchronous, so nothing interleaves.
 */
function cachedJavaRegex(pattern: string, flags = ""): RegExp {
    const key = `${flags}/${pattern}`;
    let re = regexCache.get(key);
    if (!re) {
        re = javaRegex(pattern, flags);
        if (regexCache.size >= 1000) regexCache.delete(regexCache.keys().next().value as string);
        regexCache.set(key, re);
    }
    re.lastIndex = 0;
    return re;
}

/** Applies a Java replacement string (`$n`, `${name}`, `\x` = literal x) to one match. */
function javaReplacement(replacement: string, match: RegExpExecArray): string {
    let out = "";
    for (let i = 0; i < replacement.length; i++) {
        const ch = replacement[i];
        if (ch === "\\") {
            i++;
            if (i >= replacement.length) throw new Error("character to be escaped is missing");
            out += replacement[i];
        } else if (ch === "$") {
            i++;
            if (i >= replacement.length) throw new Error("Illegal group reference: group index is missing");
            if (replacement[i] === "{") {
                const end = replacement.indexOf("}", i);
                if (end < 0) throw new Error("named capturing group is missing trailing '}'");
                const name = replacement.slice(i + 1, end);
                if (!match.groups || !(name in match.groups)) throw new Error(`No group with name {${name}}`);
                out += match.groups[name] ?? "";
                i = end;
            } else if (/[0-9]/.test(replacement[i])) {
                // Java takes the longest group number that exists.
                let number = Number(replacement[i]);
                if (number >= match.length) throw new Error(`No group ${number}`);
                while (
                    i + 1 < replacement.length &&
                    /[0-9]/.test(replacement[i + 1]) &&
                    number * 10 + Number(replacement[i + 1]) < match.length
                ) {
                    number = number * 10 + Number(replacement[++i]);
                }
                out += match[number] ?? "";
            } else {
                throw new Error("Illegal group reference");
            }
        } else out += ch;
    }
    return out;
}

/**
 * The text a regex matches when it matches only one fixed string (each character plain, or a backslash before a
 * character that is neither a letter nor a digit, which both Java and JavaScript read as that character); else
 * undefined. `\\'` (what the ingest templates replace) is the two characters `\'`.
 */
function literalRegexText(regex: string): string | undefined {
    let text = "";
    for (let i = 0; i < regex.length; i++) {
        let ch = regex[i];
        if (ch === "\\") {
            ch = regex[++i] ?? "";
            if (!/^[^A-Za-z0-9]$/.test(ch)) return undefined;
        } else if ("^$.|?*+()[]{}".includes(ch)) return undefined;
        text += ch;
    }
    return text === "" ? undefined : text;
}

/** The last regex and replacement javaReplace saw, and whether they replace a fixed text by a fixed text. */
let lastReplace: { regex: string; replacement: string; literalText: string | undefined } = {
    regex: "",
    replacement: "",
    literalText: undefined,
};

function javaReplace(input: string, regex: string, replacement: string, all: boolean): string {
    if (regex !== lastReplace.regex || replacement !== lastReplace.replacement) {
        const fixed = replacement.indexOf("\\") === -1 && replacement.indexOf("$") === -1;
        lastReplace = { regex, replacement, literalText: fixed ? literalRegexText(regex) : undefined };
    }
    const literalText = lastReplace.literalText;
    if (literalText !== undefined) {
        // A fixed text replaced by a fixed text (no `$` for JavaScript to read): what the regex loop below builds.
        return all ? input.replaceAll(literalText, replacement) : input.replace(literalText, replacement);
    }
    const re = cachedJavaRegex(regex, "g");
    let out = "";
    let last = 0;
    let match: RegExpExecArray | null;
    while ((match = re.exec(input)) !== null) {
        out += input.slice(last, match.index) + javaReplacement(replacement, match);
        last = match.index + match[0].length;
        if (match[0].length === 0) {
            // Java advances past an empty match, copying the next character.
            if (re.lastIndex < input.length) out += input[re.lastIndex];
            last = re.lastIndex + 1;
            re.lastIndex++;
        }
        if (!all) break;
    }
    return out + input.slice(Math.min(last, input.length));
}

/** Java `String.split(regex)`: trailing empty strings removed; a leading empty string from a zero-width match too. */
function javaSplit(input: string, regex: string, limit = 0): string[] {
    if (input === "") return [""];
    let parts = input.split(cachedJavaRegex(regex));
    if (limit > 0 && parts.length > limit) {
        // Rebuild with a limit: split again keeping the remainder in the last part.
        const re = cachedJavaRegex(regex, "g");
        parts = [];
        let last = 0;
        let match: RegExpExecArray | null;
        while (parts.length < limit - 1 && (match = re.exec(input)) !== null) {
            if (match[0].length === 0 && match.index === 0) {
                re.lastIndex++;
                continue;
            }
            parts.push(input.slice(last, match.index));
            last = match.index + match[0].length;
            if (match[0].length === 0) re.lastIndex++;
        }
        parts.push(input.slice(last));
        return parts;
    }
    if (parts.length > 1 && parts[0] === "" && cachedJavaRegex(regex).exec(input)?.[0] === "") parts.shift();
    if (limit === 0) while (parts.length > 1 && parts[parts.length - 1] === "") parts.pop();
    return parts;
}

function checkIndex(value: number, min: number, max: number, what: string): void {
    if (!Number.isInteger(value) || value < min || value > max) throw new Error(`StringIndexOutOfBoundsException: ${what} ${value}`);
}

/**
 * Java `java.lang.String` methods, by name: what a template calls on a string. Arguments are whatever the
 * template passes (`never[]`: each method declares the types it reads).
 */
const JAVA_STRING_METHODS: Record<string, (s: string, ...args: never[]) => unknown> = {
    length: (s) => s.length,
    isEmpty: (s) => s.length === 0,
    charAt: (s, i: number) => {
        checkIndex(i, 0, s.length - 1, "index");
        return s[i];
    },
    indexOf: (s, t: unknown, from?: number) => s.indexOf(String(t), from),
    lastIndexOf: (s, t: unknown, from?: number) => (from === undefined ? s.lastIndexOf(String(t)) : s.lastIndexOf(String(t), from)),
    substring: (s, begin: number, end?: number) => {
        const stop = end ?? s.length;
        checkIndex(begin, 0, s.length, "begin");
        checkIndex(stop, begin, s.length, "end");
        return s.substring(begin, stop);
    },
    contains: (s, t: unknown) => s.includes(String(t)),
    startsWith: (s, t: unknown, offset?: number) => s.startsWith(String(t), offset ?? 0),
    endsWith: (s, t: unknown) => s.endsWith(String(t)),
    equals: (s, t: unknown) => typeof t === "string" && s === t,
    equalsIgnoreCase: (s, t: unknown) => typeof t === "string" && s.toLowerCase() === t.toLowerCase(),
    toLowerCase: (s) => s.toLowerCase(),
    toUpperCase: (s) => s.toUpperCase(),
    trim: (s) => s.replace(/^[\x00-\x20]+|[\x00-\x20]+$/g, ""),
    concat: (s, t: unknown) => s + String(t),
    replace: (s, target: unknown, replacement: unknown) => s.split(String(target)).join(String(replacement)),
    replaceAll: (s, regex: string, replacement: string) => javaReplace(s, String(regex), String(replacement), true),
    replaceFirst: (s, regex: string, replacement: string) => javaReplace(s, String(regex), String(replacement), false),
    matches: (s, regex: string) => cachedJavaRegex(`^(?:${String(regex)})$`).test(s),
    split: (s, regex: string, limit?: number) => javaSplit(s, String(regex), limit ?? 0),
    toString: (s: string) => s,
    hashCode: (s) => {
        let h = 0;
        for (let i = 0; i < s.length; i++) h = (Math.imul(31, h) + s.charCodeAt(i)) | 0;
        return h;
    },
};

const javaStringHandler = {
    uid: "java.lang.String",
    match: ({ property, context }: { property: string; context: unknown }) =>
        typeof context === "string" && Object.prototype.hasOwnProperty.call(JAVA_STRING_METHODS, property),
    resolve: ({ property, context, params }: { property: string; context: unknown; params: unknown[] }) =>
        JAVA_STRING_METHODS[property](context as string, ...(params as never[])),
};

/** Methods JavaScript has on strings but Java does not: calling them fails as it would on API Gateway. */
const notJavaStringHandler = {
    uid: "not java.lang.String",
    match: ({ property, context }: { property: string; context: unknown }) =>
        typeof context === "string" && !Object.prototype.hasOwnProperty.call(JAVA_STRING_METHODS, property),
    resolve: ({ property }: { property: string }) => {
        throw new Error(`java.lang.String has no method ${property}()`);
    },
};

/**
 * For the compiled renderer (vtl-compile.ts): the two handlers above match only strings, and for a string the first
 * matches exactly when the method is one of JAVA_STRING_METHODS, which it then calls.
 */
const JAVA_STRING_HANDLERS = {
    uids: new Set([javaStringHandler.uid, notJavaStringHandler.uid]),
    resolve: (name: string) =>
        Object.prototype.hasOwnProperty.call(JAVA_STRING_METHODS, name)
            ? (JAVA_STRING_METHODS[name] as (s: string, ...params: unknown[]) => unknown)
            : undefined,
};

// ------------------------------------------------------------------------------------------------
// $input
// ------------------------------------------------------------------------------------------------

/** Evaluates the JSONPath subset templates use: `$`, `.name`, `['name']`, `[n]`, `[*]`, `.*`. */
export function jsonPath(root: unknown, path: string): unknown {
    const expr = path.trim();
    if (!expr.startsWith("$")) throw new Error(`Invalid JSONPath ${path}`);
    const tokens: Array<string | number | "*"> = [];
    const re = /\.\s*([A-Za-z_$][\w$-]*|\*)|\[\s*(?:'((?:[^'\\]|\\.)*)'|"((?:[^"\\]|\\.)*)"|(-?\d+)|(\*))\s*\]/gy;
    re.lastIndex = 1;
    while (re.lastIndex < expr.length) {
        const m = re.exec(expr);
        if (!m) throw new Error(`Invalid JSONPath ${path}`);
        if (m[1] !== undefined) tokens.push(m[1] === "*" ? "*" : m[1]);
        else if (m[2] !== undefined) tokens.push(m[2]);
        else if (m[3] !== undefined) tokens.push(m[3]);
        else if (m[4] !== undefined) tokens.push(Number(m[4]));
        else tokens.push("*");
    }
    let current: unknown[] = [root];
    let multi = false;
    for (const token of tokens) {
        const next: unknown[] = [];
        for (const value of current) {
            if (value === null || typeof value !== "object") continue;
            if (token === "*") {
                multi = true;
                next.push(...(Array.isArray(value) ? value : Object.values(value)));
            } else if (typeof token === "number") {
                if (Array.isArray(value)) {
                    const v = value[token < 0 ? value.length + token : token];
                    if (v !== undefined) next.push(v);
                }
            } else if (!Array.isArray(value) && Object.prototype.hasOwnProperty.call(value, token)) {
                next.push((value as Record<string, unknown>)[token]);
            }
        }
        current = next;
    }
    if (multi) return current;
    return current.length === 0 ? undefined : current[0];
}

/** The request body of one render, parsed as JSON when a template first asks for `$input.path`/`$input.json`. */
interface Body {
    text: string;
    parsed?: { value: unknown };
}

function bodyRoot(body: Body): unknown {
    if (!body.parsed) {
        try {
            body.parsed = { value: body.text === "" ? {} : JSON.parse(body.text) };
        } catch {
            throw new Error("Unable to parse the body as JSON for $input.path/$input.json");
        }
    }
    return body.parsed.value;
}

// `$input` is a new object per render, its functions closures over the render's body. They are methods
// (`name() {}`), not arrows: the TypeScript runner (esbuild, keepNames) names every arrow stored in a property with
// a call per render, which cost more than the functions themselves.
function makeInput(ctx: TemplateContext) {
    const body: Body = { text: ctx.body, parsed: ctx.parsedBody };
    let params: { path: Record<string, string>; querystring: Record<string, string>; header: Record<string, string> } | undefined;
    return {
        body: ctx.body,
        json(path: string) {
            const value = jsonPath(bodyRoot(body), String(path));
            return value === undefined ? "" : JSON.stringify(value);
        },
        path(path: string) {
            return jsonPath(bodyRoot(body), String(path));
        },
        params(name?: string) {
            // Made at the first call, then the same object for the rest of the render.
            params ??= { path: { ...(ctx.path ?? {}) }, querystring: { ...(ctx.querystring ?? {}) }, header: { ...(ctx.headers ?? {}) } };
            if (name === undefined) return params;
            const key = String(name);
            if (key in params.path) return params.path[key];
            if (key in params.querystring) return params.querystring[key];
            const headers = params.header;
            const header = Object.keys(headers).find((h) => h.toLowerCase() === key.toLowerCase());
            return header === undefined ? "" : headers[header];
        },
    };
}

// ------------------------------------------------------------------------------------------------
// rendering
// ------------------------------------------------------------------------------------------------

type Asts = ReturnType<typeof parse>;

/** A Map that forgets its oldest entry beyond `max` entries (caches keyed by template text stay bounded). */
function boundedCache<V>(max: number): { get(key: string): V | undefined; set(key: string, value: V): void } {
    const entries = new Map<string, V>();
    return {
        get: (key) => entries.get(key),
        set(key, value) {
            if (entries.size >= max) entries.delete(entries.keys().next().value as string);
            entries.set(key, value);
        },
    };
}

/** Parsed templates, and parsed double-quoted string literals ("$!e.ErrorCode"): parsing is pure. */
const parsedCache = boundedCache<Asts>(1000);

function parsed(text: string): Asts {
    let asts = parsedCache.get(text);
    if (!asts) {
        asts = parse(text);
        parsedCache.set(text, asts);
    }
    return asts;
}

const METHOD_HANDLERS = [javaStringHandler, notJavaStringHandler];

/**
 * velocityjs's compiler, made reusable: a double-quoted string literal is parsed once (velocityjs parses it
 * again each time it is evaluated), and `reset` returns the render state to that of a new compiler, so one
 * instance serves every render of its template (rendering is synchronous).
 */
class ReusableCompile extends Compile {
    inUse = false;

    protected evalStr(str: string): string {
        return this.renderAstList(parsed(str), this.contextId);
    }

    reset(): void {
        this.defines = {};
        this.conditions = [];
        this.local = {};
        this.contextId = "";
        this.macrosStore = {};
        this.runState = { stop: false, break: false };
    }
}

const compilerCache = boundedCache<ReusableCompile>(100);

/** The template's compiler; a new one when `uncached` or when that template is already rendering. */
function compilerFor(template: string, uncached: boolean): Compile & { inUse?: boolean } {
    if (uncached) return new Compile(parsed(template), { customMethodHandlers: METHOD_HANDLERS });
    let compiler = compilerCache.get(template);
    if (!compiler) {
        compiler = new ReusableCompile(parsed(template), { customMethodHandlers: METHOD_HANDLERS });
        compilerCache.set(template, compiler);
    }
    if (compiler.inUse) return new ReusableCompile(parsed(template), { customMethodHandlers: METHOD_HANDLERS });
    compiler.reset();
    return compiler;
}

const compileTemplate = templateCompiler({
    parse: (text) => parsed(text) as AstItem[],
    customMethodHandlers: METHOD_HANDLERS,
    stringHandlers: JAVA_STRING_HANDLERS,
});

/** Templates compiled to closures; null for a template velocityjs renders (a construct the compiler leaves to it). */
const compiledCache = boundedCache<CompiledTemplate | null>(100);

function compiledFor(template: string): CompiledTemplate | null {
    let compiled = compiledCache.get(template);
    if (compiled === undefined) {
        compiled = compileTemplate(parsed(template) as AstItem[]) ?? null;
        compiledCache.set(template, compiled);
    }
    return compiled;
}

/**
 * Whether renders of this template run compiled to closures (true) or through velocityjs (false: it holds a
 * construct the compiler leaves to velocityjs). A template that does not parse throws velocityjs's error.
 */
export function isCompiled(template: string): boolean {
    return compiledFor(template) !== null;
}

/** Renders through velocityjs: a compiler per template, reused, or a new one (`uncached`). */
function renderWithVelocityjs(template: string, context: Record<string, unknown>, uncached: boolean): string {
    const compiler = compilerFor(template, uncached);
    compiler.inUse = true;
    try {
        return compiler.render(context, undefined, true);
    } finally {
        compiler.inUse = false;
    }
}

function ensureObject(holder: Record<string, unknown>, key: string): Record<string, unknown> {
    if (holder[key] === undefined || holder[key] === null || typeof holder[key] !== "object") holder[key] = {};
    return holder[key] as Record<string, unknown>;
}

/** Renders a template and returns the text and the overrides it set. */
export function renderTemplateWithOverrides(template: string, ctx: TemplateContext, options: RenderOptions = {}): RenderResult {
    const context = ctx.context ?? {};
    const requestOverride = ensureObject(context, "requestOverride");
    for (const key of ["header", "querystring", "path"]) ensureObject(requestOverride, key);
    const responseOverride = ensureObject(context, "responseOverride");
    ensureObject(responseOverride, "header");

    const renderContext = { input: makeInput(ctx), util: makeUtil(), context, stageVariables: { ...(ctx.stageVariables ?? {}) } };
    const compiled = options.uncached || options.velocityjs ? null : compiledFor(template);
    const output = compiled ? compiled(renderContext) : renderWithVelocityjs(template, renderContext, options.uncached === true);

    const status = responseOverride.status;
    return {
        output,
        requestOverride: requestOverride as RenderResult["requestOverride"],
        responseOverride: {
            status: status === undefined || status === null || status === "" ? undefined : Number(status),
            header: responseOverride.header as Record<string, string>,
        },
    };
}

/**
 * Renders a mapping template as API Gateway would. Overrides the template sets are written into
 * `ctx.context.requestOverride` / `ctx.context.responseOverride` (created when absent).
 */
export function renderTemplate(template: string, ctx: TemplateContext, options: RenderOptions = {}): string {
    return renderTemplateWithOverrides(template, ctx, options).output;
}
