/**
 * Mapping templates compiled to JavaScript closures, once per template, from velocityjs's own AST.
 *
 * Why: velocityjs interprets its AST on every render (a guid and a scope lookup per reference, a handler search per
 * method call, a `forEach` per node list), and the ingest templates run on the thread that answers requests for
 * every request and every response. The closures do the same work without the interpretation.
 *
 * How it stays faithful to velocityjs (what the tests trust):
 * - velocityjs still parses (`parse`); only a subset of its AST is compiled: text, comments, `#[[raw]]#`,
 *   references with property, index and method chains, `#set`, `#if/#elseif/#else`, `#foreach`, and the
 *   literals and expressions inside them. Any other node (macros, `#define`, `#break`, `#stop`, `#eval`,
 *   `$foo()`, prototype keys, `.eval(...)`, ...) makes the compiler return undefined, and the caller renders
 *   that template through velocityjs as before: an unsupported construct costs speed, never a wrong answer.
 * - Each closure mirrors one velocityjs method (named in its comment), step for step, in the same order of
 *   evaluation, including velocityjs's quirks: loose `==`, `&&`/`||` returning operands, the scope stack
 *   (`conditions`) of `#foreach` (a loop over a map leaves its scope behind), a missing reference rendering as
 *   "" (the renderer runs velocityjs silent), arrays and maps rendered as `[a, b]` and `{k=v}`.
 * - Method calls search the same handler list velocityjs builds (the caller's Java string methods, then
 *   velocityjs's `get`/`put`/`size`/...), skipping only handlers that cannot match the name or the receiver, and
 *   `#set` paths go through velocityjs's own `resolveSetPath`, so those handlers, their errors and their side
 *   effects are the library's.
 * - test/vtl-compile.test.ts renders every template of the repository, every template of the Velocity tests and a
 *   generated corpus both ways, over hostile inputs, and requires byte-identical output, overrides and errors.
 */
import { Compile, Helper } from "velocityjs";

/** velocityjs's AST, as far as the compiler reads it (the library's own types are not exported). */
interface Pos {
    first_line: number;
    first_column: number;
}
interface AstNode {
    type: string;
    id?: unknown;
    leader?: string;
    path?: AstNode[];
    args?: AstNode[] | false;
    value?: unknown;
    isEval?: boolean;
    isRange?: boolean;
    equal?: [AstNode, AstNode];
    condition?: AstNode;
    from?: AstNode;
    to?: string;
    expression?: AstNode[];
    operator?: string;
    pos?: Pos;
}
/** A node of a list: text, a node, or a block (`[#if/#foreach node, ...body]`). */
export type AstItem = string | AstNode | AstItem[];

/** One foreach scope on velocityjs's `conditions` stack (a contextId and its `local` object). */
interface Scope {
    vars: Record<string, unknown>;
}

/** velocityjs's render state: the context, the scope stack (`conditions`) and the current scope (`contextId`). */
interface State {
    context: Record<string, unknown>;
    conditions: Scope[];
    current: Scope | undefined;
}

type Eval = (st: State) => unknown;
type Step = (base: unknown, st: State) => unknown;

/** A compiled template: renders with a velocityjs render context (`{input, util, context, stageVariables}`). */
export type CompiledTemplate = (context: Record<string, unknown>) => string;

/** What `compileTemplate` needs from its caller. */
export interface CompileOptions {
    /** velocityjs's `parse`, for double-quoted string literals (the caller may cache it). */
    parse: (text: string) => AstItem[];
    /** The method handlers the velocityjs renderer is configured with (`customMethodHandlers`). */
    customMethodHandlers: NonNullable<ConstructorParameters<typeof Compile>[1]>["customMethodHandlers"];
    /**
     * What the caller knows of its handlers for strings (vtl.ts's Java string methods): `uids`, handlers that match
     * only string receivers (skipped for others), and `resolve(name)`, the function the first handler runs for a
     * string receiver and method `name` when it matches (undefined: search the handlers as velocityjs does).
     */
    stringHandlers?: { uids: ReadonlySet<string>; resolve(name: string): ((s: string, ...params: unknown[]) => unknown) | undefined };
}

/** Thrown while compiling: the template holds a construct the compiler leaves to velocityjs. */
class Unsupported extends Error {}

function unsupported(what: string): never {
    throw new Unsupported(what);
}

/** Names velocityjs's prototype guard treats specially, or that its scope code calls as methods. */
const GUARDED_NAMES = new Set(["__proto__", "constructor", "prototype", "hasOwnProperty", "eval"]);

function checkName(name: unknown): string {
    if (typeof name !== "string" || GUARDED_NAMES.has(name)) unsupported(`name ${String(name)}`);
    return name;
}

const hasOwn = Object.hasOwn;

/** velocityjs prototype-guard `isBlockedPrototypeKey(base, key)` (isEnd false), for keys known only at render. */
function blockedKey(base: unknown, key: string): boolean {
    if (key === "__proto__") return true;
    if (key === "prototype" && typeof base === "function") return true;
    if (key !== "constructor" && key !== "prototype") return false;
    return !((typeof base === "object" || typeof base === "function") && base !== null && hasOwn(base, key));
}

/** velocityjs utils `format`: how a value renders in text (arrays as `[a, b]`, plain objects as `{k=v}`). */
function format(value: unknown): unknown {
    if (Array.isArray(value)) return "[" + value.map((v) => format(v)).join(", ") + "]";
    if (typeof value === "object" && value !== null) {
        if ((value as { toString: () => unknown }).toString.toString().indexOf("[native code]") === -1) return value;
        const kvJoin = (k: string) => `${k}=${format((value as Record<string, unknown>)[k])}`;
        return "{" + Object.keys(value).map(kvJoin).join(", ") + "}";
    }
    return value;
}

type Handler = NonNullable<CompileOptions["customMethodHandlers"]>[number];

/** The velocityjs pieces the compiled code uses, from one compiler instance configured with the same handlers. */
interface Delegate {
    /** The caller's handlers followed by velocityjs's own (`get`, `put`, `size`, ...), as velocityjs searches them. */
    handlers: Handler[];
    /** What velocityjs's `getPropMethod` stores as `eval` on an object whose function it calls (undefined: nothing). */
    evalProperty: { value: unknown } | undefined;
    resolveSetPath(
        context: Record<string, unknown>,
        ref: AstNode,
        keys: string[],
    ): { blocked: boolean; rootRef?: unknown; shouldSetRoot?: boolean; baseRef?: unknown; key?: string };
}

function makeDelegate(options: CompileOptions): Delegate {
    const compiler = new Compile([], { customMethodHandlers: options.customMethodHandlers });
    const internals = compiler as unknown as {
        config: { customMethodHandlers: Handler[] };
        getPropMethod(property: { id: string }, base: unknown, ast: AstNode): unknown;
        resolveSetPath: Delegate["resolveSetPath"];
    };
    // velocityjs gives each object whose function a template calls an `eval` property (a closure over the compiler,
    // with the same text each time): take one from a probe call, so objects rendered afterwards show the same text.
    const probe: Record<string, unknown> = { probe: () => undefined };
    internals.getPropMethod({ id: "probe" }, probe, { type: "references", id: "probe" });
    return {
        handlers: internals.config.customMethodHandlers,
        evalProperty: hasOwn(probe, "eval") ? { value: probe.eval } : undefined,
        resolveSetPath: (context, ref, keys) => internals.resolveSetPath(context, ref, keys),
    };
}

const POS_UNKNOWN = { first_line: "unknown", first_column: "unknown" };

/**
 * velocityjs's own method handlers (methods.ts of velocityjs 2.1.7), by uid, with the method names each can match:
 * one exact name, or a prefix followed by more. A handler not listed here (the caller's, or one a later velocityjs
 * adds) is consulted for every name.
 */
const VELOCITYJS_HANDLER_NAMES: Record<string, { name: string } | { prefix: string }> = {
    "system: get": { name: "get" },
    "system: set": { name: "set" },
    "system: getValue": { prefix: "get" },
    "system: isValue": { prefix: "is" },
    "system: setValue": { prefix: "set" },
    "system: keySet": { name: "keySet" },
    "system: entrySet": { name: "entrySet" },
    "system: size": { name: "size" },
    "system: put": { name: "put" },
    "system: add": { name: "add" },
    "system: remove": { name: "remove" },
    "system: subList": { name: "subList" },
};

/** The handlers that may match a call of method `name`, in velocityjs's order. */
function handlersFor(handlers: Handler[], name: string): Handler[] {
    return handlers.filter((handler) => {
        if (!handler) return false;
        const names = hasOwn(VELOCITYJS_HANDLER_NAMES, handler.uid) ? VELOCITYJS_HANDLER_NAMES[handler.uid] : undefined;
        if (names === undefined) return true;
        return "name" in names ? names.name === name : name.startsWith(names.prefix) && name.length > names.prefix.length;
    });
}

/** Compiles templates with one set of options; each call of `compile` returns undefined for a template it leaves to velocityjs. */
export function templateCompiler(options: CompileOptions): (asts: AstItem[]) => CompiledTemplate | undefined {
    const delegate = makeDelegate(options);
    return (asts) => {
        let body: Eval;
        try {
            body = new TemplateCompiler(options, delegate, scopedNames(asts, options.parse)).list(asts);
        } catch {
            // Unsupported, or anything else compiling went wrong with (an AST shape a later velocityjs makes, code
            // generation switched off): velocityjs renders it, so a compiler problem costs speed, never an answer.
            return undefined;
        }
        return (context) => body({ context, conditions: [], current: undefined }) as string;
    };
}

/**
 * The names a `#foreach` scope can ever hold in this template: `foreach`, `velocityCount` and each loop variable
 * (string literals included). `#set` writes into a scope only names it holds already, so a reference to any other
 * name never finds a scope: it reads the context without looking through the scopes.
 */
function scopedNames(items: AstItem[], parse: CompileOptions["parse"]): Set<string> {
    const names = new Set(["foreach", "velocityCount"]);
    const walk = (value: unknown): void => {
        if (Array.isArray(value)) return value.forEach(walk);
        if (typeof value !== "object" || value === null) return;
        const node = value as AstNode;
        if (node.type === "foreach" && typeof node.to === "string") names.add(node.to);
        if (node.type === "string" && node.isEval && typeof node.value === "string" && /[$#]/.test(node.value)) {
            try {
                walk(parse(node.value));
            } catch {
                // compiling that literal fails too, and the template goes to velocityjs
            }
        }
        Object.values(node).forEach(walk);
    };
    walk(items);
    return names;
}

/** Compiles one template (its scoped names known). */
class TemplateCompiler {
    constructor(
        private readonly options: CompileOptions,
        private readonly delegate: Delegate,
        private readonly scoped: Set<string>,
    ) {}

    /** `renderAstList` without a contextId change: each item's text appended with `+=`, in order. */
    list(items: AstItem[]): Eval {
        const parts: Eval[] = [];
        let text = "";
        for (const item of items) {
            if (typeof item === "string" || (!Array.isArray(item) && item.type === "raw")) {
                text += typeof item === "string" ? item : String(item.value);
                continue;
            }
            if (!Array.isArray(item) && item.type === "comment") continue;
            parts.push(prefixed(text, this.item(item)));
            text = "";
        }
        if (text !== "") parts.push(constant(text));
        if (parts.length === 0) return () => "";
        if (parts.length === 1) return concatOne(parts[0]);
        return (st) => {
            let out = "";
            for (const part of parts) out += part(st) as string;
            return out;
        };
    }

    private item(item: AstNode | AstItem[]): Eval {
        if (Array.isArray(item)) return this.block(item);
        if (item.type === "references") {
            if (item.args !== undefined) unsupported("$foo() at the start of a reference");
            const ref = this.reference(item, true);
            return (st) => format(ref(st));
        }
        if (item.type === "set") return this.set(item);
        return unsupported(`node ${item.type}`);
    }

    /** `getBlock`: only `#if` and `#foreach` blocks. */
    private block(block: AstItem[]): Eval {
        const head = block[0];
        if (typeof head !== "object" || Array.isArray(head)) return unsupported("block");
        if (head.type === "if") return this.ifBlock(block as AstNode[]);
        if (head.type === "foreach") return this.foreach(head, block.slice(1));
        return unsupported(`block ${head.type}`);
    }

    /** `getBlockIf`: the first branch whose condition is truthy (`!!`), conditions evaluated in order, lazily. */
    private ifBlock(block: AstItem[]): Eval {
        const branches: Array<{ condition: Eval | undefined; items: AstItem[] }> = [];
        for (const item of block) {
            const node = typeof item === "object" && !Array.isArray(item) ? item : undefined;
            if (node && (node.type === "if" || node.type === "elseif")) {
                if (!node.condition) unsupported("condition");
                branches.push({ condition: this.expression(node.condition), items: [] });
            } else if (node && node.type === "else") branches.push({ condition: undefined, items: [] });
            else branches[branches.length - 1].items.push(item);
        }
        const compiled = branches.map((b) => ({ condition: b.condition, body: this.list(b.items) }));
        return (st) => {
            for (const branch of compiled) if (branch.condition === undefined || !!branch.condition(st)) return branch.body(st);
            return "";
        };
    }

    /** `getBlockEach`, with its scope handling (`conditions`, `local[contextId]`, the shift only when `from.length`). */
    private foreach(head: AstNode, body: AstItem[]): Eval {
        if (!head.from) return unsupported("foreach without a source");
        const from = this.literal({ ...head.from, pos: head.pos });
        const to = checkName(head.to);
        const render = this.list(body);
        return (st) => {
            const source = from(st);
            const local: Record<string, unknown> = { foreach: { count: 0, index: 0, hasNext: false }, velocityCount: 0 };
            let ret = "";
            const scope: Scope = { vars: local };
            const type = Object.prototype.toString.call(source);
            if (!source || (type !== "[object Array]" && type !== "[object Object]")) return "";
            const items: unknown[] = Array.isArray(source) ? source : Object.values(source as object);
            const len = items.length;
            items.forEach((val, i) => {
                local[to] = val;
                local.foreach = { count: i + 1, index: i, hasNext: i + 1 < len };
                local.velocityCount = i + 1;
                scope.vars = local;
                if (scope !== st.current && st.conditions.indexOf(scope) === -1) st.conditions.unshift(scope);
                st.current = scope;
                ret += render(st) as string;
            });
            if ((source as { length?: unknown }).length) {
                scope.vars = {};
                st.conditions.shift();
                st.current = st.conditions[0];
            }
            return ret;
        };
    }

    /** `setValue`: the scope that holds the name, else the context; a path through velocityjs's `resolveSetPath`. */
    private set(node: AstNode): Eval {
        if (!node.equal) return unsupported("#set");
        const [ref, valueAst] = node.equal;
        const id = checkName(ref.id);
        const value = valueAst.type === "math" ? this.expression(valueAst) : this.literal(valueAst);
        const scoped = this.scoped.has(id);
        const target = (st: State) => {
            if (scoped) for (const scope of st.conditions) if (hasOwn(scope.vars, id)) return scope.vars;
            return st.context;
        };
        if (!ref.path) {
            return (st) => {
                const context = target(st);
                context[id] = value(st);
                return "";
            };
        }
        const keys = ref.path.map((step): Eval => {
            if (step.type === "property") return constant(checkName(step.id));
            if (step.type === "index" && step.id) {
                const key = this.literal(step.id as AstNode);
                return (st) => String(key(st));
            }
            return unsupported(`#set path ${step.type}`);
        });
        const delegate = this.delegate;
        return (st) => {
            const context = target(st);
            const pathKeys = keys.map((key) => key(st) as string);
            if (delegate.resolveSetPath(context, ref, pathKeys).blocked) return "";
            const val = value(st);
            const setPath = delegate.resolveSetPath(context, ref, pathKeys);
            if (setPath.blocked) return "";
            if (setPath.shouldSetRoot) context[id] = setPath.rootRef;
            // velocityjs's classes run in strict mode, as this module does: a write to a primitive throws there too.
            if (setPath.key !== undefined) (setPath.baseRef as Record<string, unknown>)[setPath.key] = val;
            return "";
        };
    }

    /** `getReferences`: the context's value, replaced by the innermost scope's if one holds the name, then the path. */
    private reference(node: AstNode, isVal: boolean): Eval {
        if (node.type !== "references") return unsupported(node.type);
        if (node.args !== undefined) unsupported("$foo()");
        const id = checkName(node.id);
        // A property step is a reader; index and method steps are closures (each returns undefined past null itself).
        const steps = (node.path ?? []).map((step) => (step.type === "property" ? reader(checkName(step.id)) : this.attribute(step, node)));
        const scoped = this.scoped.has(id);
        const readId = reader(id);
        return (st) => {
            let ret = readId(st.context);
            if (scoped) {
                for (const scope of st.conditions) {
                    if (hasOwn(scope.vars, id)) {
                        ret = scope.vars[id];
                        break;
                    }
                }
            }
            for (const step of steps) ret = ret === null || ret === undefined ? undefined : step(ret, st);
            if (isVal && ret === undefined) ret = "";
            return ret;
        };
    }

    /** `getAttributes`: nothing past null or undefined; properties, indexes, and methods through velocityjs. */
    private attribute(step: AstNode, ref: AstNode): Step {
        if (step.type === "property") {
            const name = checkName(step.id);
            return (base) => (base === null || base === undefined ? undefined : (base as Record<string, unknown>)[name]);
        }
        if (step.type === "index") return this.index(step);
        if (step.type !== "method") return unsupported(`attribute ${step.type}`);
        return this.method(
            checkName(step.id),
            (step.args || []).map((arg) => this.literal(arg)),
            ref,
        );
    }

    /**
     * `getPropMethod`: read the method, evaluate the arguments, the first handler that matches (the Java string
     * methods, velocityjs's `get`/`put`/...), else a function of the object, whose error gets velocityjs's suffix.
     */
    private method(name: string, args: Eval[], ref: AstNode): Step {
        const { evalProperty } = this.delegate;
        const handlers = handlersFor(this.delegate.handlers, name);
        const strings = this.options.stringHandlers;
        // For a string: the caller's handler, called directly (reading the method first, as velocityjs does, has no
        // effect on a string). For anything else: the handlers that can match it, then the object's own function.
        const forString = strings?.resolve(name);
        const forOthers = strings ? handlers.filter((handler) => !strings.uids.has(handler.uid)) : handlers;
        const readMethod = reader(name);
        return (base, st) => {
            if (base === null || base === undefined) return undefined;
            if (forString && typeof base === "string") {
                // The arguments spelled out when there are few: the same call, without an array.
                if (args.length === 1) return forString(base, args[0](st));
                if (args.length === 2) return forString(base, args[0](st), args[1](st));
                return forString(base, ...args.map((arg) => arg(st)));
            }
            const ret = readMethod(base);
            const params: unknown[] = [];
            for (const arg of args) params.push(arg(st));
            const candidates = typeof base === "string" ? handlers : forOthers;
            if (candidates.length > 0) {
                const payload = { property: name, params, context: base };
                for (const handler of candidates) if (handler.match(payload)) return handler.resolve(payload);
            }
            if (!ret || !(ret as { call?: unknown }).call) return undefined;
            if (typeof base === "object" && evalProperty) (base as Record<string, unknown>).eval = evalProperty.value;
            try {
                const fn = ret as (...a: unknown[]) => unknown;
                // `apply` with the arguments spelled out when there are few (the same call, cheaper in V8).
                if (params.length === 1) return fn.call(base, params[0]);
                return fn.apply(base, params);
            } catch (e) {
                if (e instanceof Error) {
                    const pos = ref.pos ?? POS_UNKNOWN;
                    e.message += `on ${Helper.getRefText(ref as never)} at L/N ${pos.first_line}:${pos.first_column}`;
                }
                throw e;
            }
        };
    }

    /** `getPropIndex`: a reference's value (not rendered) or the literal's raw value, behind the prototype guard. */
    private index(step: AstNode): Step {
        const key = step.id as AstNode;
        let evalKey: Eval;
        if (key.type === "references") evalKey = this.reference(key, false);
        else if (key.type === "integer" || key.type === "string") evalKey = constant(key.value);
        else return unsupported(`index ${key.type}`);
        return (base, st) => {
            if (base === null || base === undefined) return undefined;
            const k = evalKey(st);
            if (blockedKey(base, String(k))) return undefined;
            return (base as Record<string, unknown>)[k as string];
        };
    }

    /** `getLiteral`: strings (double-quoted ones rendered when they hold `$` or `#`), numbers, arrays, maps, booleans. */
    private literal(node: AstNode): Eval {
        switch (node.type) {
            case "references":
                return this.reference(node, false);
            case "string":
                return this.string(node);
            case "integer":
                return constant(parseInt(String(node.value), 10));
            case "decimal":
                return constant(parseFloat(node.value as string));
            case "bool":
                return constant(({ true: true, false: false, null: null } as Record<string, unknown>)[String(node.value)]);
            case "array":
                return node.isRange === true ? this.range(node) : this.array(node);
            case "map":
                return this.map(node);
            default:
                return unsupported(`literal ${node.type}`);
        }
    }

    /** `getString`: a double-quoted literal with `$` or `#` is a template, rendered in the current scope. */
    private string(node: AstNode): Eval {
        const value = String(node.value);
        if (!(node.isEval && (value.indexOf("#") !== -1 || value.indexOf("$") !== -1))) return constant(value);
        let asts: AstItem[];
        try {
            asts = this.options.parse(value);
        } catch {
            return unsupported("a string literal that does not parse");
        }
        return this.list(asts);
    }

    private array(node: AstNode): Eval {
        const items = (node.value as AstNode[]).map((item) => this.literal(item));
        return (st) => items.map((item) => item(st));
    }

    /** `getArray` for `[a..b]`: each bound a number literal or a reference; NaN gives []. */
    private range(node: AstNode): Eval {
        const bounds = (node.value as Array<AstNode | string | number>).map((bound): Eval => {
            if (typeof bound === "string") return constant(parseInt(bound, 10));
            if (typeof bound === "number") return constant(bound);
            return this.reference(bound, false);
        });
        if (bounds.length !== 2) return unsupported("range");
        return (st) => {
            const begin = bounds[0](st) as number;
            const end = bounds[1](st) as number;
            if (Number.isNaN(begin) || Number.isNaN(end)) return [];
            const ret: number[] = [];
            let i: number;
            if (begin < end) for (i = begin; i <= end; i++) ret.push(i);
            else for (i = begin; i >= end; i--) ret.push(i);
            return ret;
        };
    }

    private map(node: AstNode): Eval {
        const entries = Object.entries((node.value ?? {}) as Record<string, AstNode>).map(
            ([key, value]) => [key, this.literal(value)] as const,
        );
        return (st) => {
            const ret: Record<string, unknown> = {};
            for (const [key, value] of entries) ret[key] = value(st);
            return ret;
        };
    }

    /** `getExpression`: operators as velocityjs applies them (JavaScript's, `==` loose), left operand first. */
    private expression(node: AstNode): Eval {
        if (node.type !== "math") return this.literal(node);
        const [a, b] = (node.expression ?? []).map((operand) => this.expression(operand));
        const operator = node.operator ?? "";
        const unary = hasOwn(UNARY, operator) ? UNARY[operator] : undefined;
        if (unary && a && !b) return (st) => unary(a(st));
        if (!a || !b || (node.expression ?? []).length !== 2) return unsupported(`operator ${operator}`);
        if (operator === "||") return (st) => a(st) || b(st);
        if (operator === "&&") return (st) => a(st) && b(st);
        const binary = hasOwn(BINARY, operator) ? BINARY[operator] : undefined;
        if (!binary) return unsupported(`operator ${operator}`);
        return (st) => binary(a(st), b(st));
    }
}

function constant(value: unknown): Eval {
    return () => value;
}

/**
 * A reader of property `name`, one per name (`o => o["name"]`, made with `new Function` from the name as a JSON string):
 * its own function, so V8 caches that property's lookup, where one closure reading every name cannot.
 */
const readers = new Map<string, (o: unknown) => unknown>();

function reader(name: string): (o: unknown) => unknown {
    let read = readers.get(name);
    if (!read) {
        read = new Function("o", `return o[${JSON.stringify(name)}];`) as (o: unknown) => unknown;
        if (readers.size < 10_000) readers.set(name, read); // names come from templates: a few hundred at most
    }
    return read;
}

/** `text` then the part's value, appended in one step (the same string: the part is converted once, after `text`). */
function prefixed(text: string, part: Eval): Eval {
    if (text === "") return part;
    return (st) => text + (part(st) as string);
}

/** A list of one part still appends it to "" (velocityjs's `str += ...`), which turns it into text. */
function concatOne(part: Eval): Eval {
    return (st) => {
        let out = "";
        out += part(st) as string;
        return out;
    };
}

/** Binary operators as velocityjs applies them: JavaScript's, with loose `==` and `!=` (`&&`, `||` are lazy, below). */
const BINARY: Record<string, ((x: unknown, y: unknown) => unknown) | undefined> = {
    "+": (x, y) => (x as number) + (y as number),
    "-": (x, y) => (x as number) - (y as number),
    "*": (x, y) => (x as number) * (y as number),
    "/": (x, y) => (x as number) / (y as number),
    "%": (x, y) => (x as number) % (y as number),
    ">": (x, y) => (x as number) > (y as number),
    "<": (x, y) => (x as number) < (y as number),
    ">=": (x, y) => (x as number) >= (y as number),
    "<=": (x, y) => (x as number) <= (y as number),
    "==": (x, y) => x == y,
    "!=": (x, y) => x != y,
};

const UNARY: Record<string, ((x: unknown) => unknown) | undefined> = {
    minus: (x) => -(x as number),
    not: (x) => !x,
    parenthesis: (x) => x,
};
