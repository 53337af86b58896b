/**
 * One readable line per request and per delivery. Tokens, passwords and Authorization headers are never
 * passed to the logger; callers log only names, ids, counts and status codes.
 */
export interface Logger {
    info(message: string): void;
    warn(message: string): void;
    /** True when info lines go nowhere: a line built for every event or request is then not built at all. */
    readonly quiet?: boolean;
}

/** A logger that writes timestamped lines to stdout (after the ready line), or nothing. */
export function createLogger(options: { quiet?: boolean; write?: (line: string) => void } = {}): Logger {
    if (options.quiet) return { info: () => undefined, warn: () => undefined, quiet: true };
    const write = options.write ?? ((line: string) => process.stdout.write(line + "\n"));
    const stamp = () => new Date().toISOString().slice(11, 23);
    return {
        info: (message) => write(`${stamp()} ${message}`),
        warn: (message) => write(`${stamp()} WARN ${message}`),
    };
}
