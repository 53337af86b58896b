/**
 * Runs a handler the way local mode shows Lambda logs: while any handler runs, `console.*` output goes to
 * local mode's log with the function's name (or nowhere with --quiet), like a function's log stream.
 */
import type { ActivitySink } from "./activity";
import type { Logger } from "./log";

type ConsoleMethod = "log" | "info" | "warn" | "error" | "debug";
const METHODS: ConsoleMethod[] = ["log", "info", "warn", "error", "debug"];

let active = 0;
let originals: Partial<Record<ConsoleMethod, (...args: unknown[]) => void>> = {};
const names: string[] = [];

function format(args: unknown[]): string {
    return args.map((a) => (typeof a === "string" ? a : a instanceof Error ? (a.stack ?? a.message) : JSON.stringify(a))).join(" ");
}

/**
 * Wraps a handler so its console output becomes local-mode log lines `lambda <name>: ...`; each invocation
 * (duration, error) is reported to `activity` when given.
 */
export function asLocalLambda<A extends unknown[], R>(
    name: string,
    log: Logger,
    handler: (...args: A) => Promise<R>,
    activity?: ActivitySink,
): (...args: A) => Promise<R> {
    return async (...args: A) => {
        const started = performance.now();
        let failed = true;
        if (active++ === 0) {
            originals = {};
            for (const method of METHODS) {
                originals[method] = console[method];
                console[method] = (...parts: unknown[]) => {
                    // With several handlers running at once, the line is attributed to the most recent one.
                    const line = `lambda ${names[names.length - 1] ?? "?"}: ${format(parts)}`;
                    if (method === "warn" || method === "error") log.warn(line);
                    else log.info(line);
                };
            }
        }
        names.push(name);
        try {
            const result = await handler(...args);
            failed = false;
            return result;
        } finally {
            activity?.emit({ type: "lambda", name, durationMs: performance.now() - started, error: failed });
            names.splice(names.lastIndexOf(name), 1);
            if (--active === 0) {
                for (const method of METHODS) if (originals[method]) console[method] = originals[method] as never;
            }
        }
    };
}
