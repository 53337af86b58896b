/**
 * Small file utilities: atomic writes (temp file + rename), durable writes (fsync of the file and its
 * directory) and one-time reports of disk problems that say which path failed and what to do about it.
 */
import * as fs from "node:fs";
import { randomBytes } from "node:crypto";
import * as path from "node:path";
import type { Logger } from "./log";

function tempName(file: string, dir = path.dirname(file)): string {
    return path.join(dir, `.${path.basename(file)}.${randomBytes(6).toString("hex")}.tmp`);
}

/** Writes a file so readers see either the old or the complete new content, never a partial one. */
export function writeFileAtomic(file: string, data: string | Buffer, mode = 0o644): void {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    const tmp = tempName(file);
    fs.writeFileSync(tmp, data, { mode });
    fs.renameSync(tmp, file);
}

/**
 * Like writeFileAtomic, without blocking the event loop, and durable once it resolves: the data is
 * fsynced before the rename and the directory after it, so a power cut cannot leave an empty object.
 * `tmpDir` (same file system) holds the temporary file, so a crash leaves no stray file beside `file`.
 */
export async function writeFileDurable(file: string, data: Buffer, options: { mode?: number; tmpDir?: string } = {}): Promise<void> {
    const dir = path.dirname(file);
    await fs.promises.mkdir(dir, { recursive: true });
    if (options.tmpDir) await fs.promises.mkdir(options.tmpDir, { recursive: true });
    const tmp = tempName(file, options.tmpDir);
    const mode = options.mode ?? 0o644;
    try {
        const handle = await fs.promises.open(tmp, "wx", mode);
        try {
            await handle.writeFile(data);
            await handle.sync();
        } finally {
            await handle.close();
        }
        await fs.promises.rename(tmp, file);
    } catch (err) {
        await fs.promises.unlink(tmp).catch(() => undefined);
        throw err;
    }
    await syncDirectory(dir);
}

/** Makes a rename or a new file in `dir` durable (best effort: some filesystems refuse to fsync a directory). */
export async function syncDirectory(dir: string): Promise<void> {
    let handle: fs.promises.FileHandle | undefined;
    try {
        handle = await fs.promises.open(dir, "r");
        await handle.sync();
    } catch {
        // EISDIR / EINVAL on filesystems without directory fsync: nothing more can be done.
    } finally {
        await handle?.close().catch(() => undefined);
    }
}

/** Appends one JSON document as one line (synchronously). */
export function appendJsonLine(file: string, value: unknown, mode = 0o644): void {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.appendFileSync(file, JSON.stringify(value) + "\n", { mode });
}

/** Appends text to a file and fsyncs it before resolving. */
export async function appendDurable(file: string, text: string, mode = 0o644): Promise<void> {
    await fs.promises.mkdir(path.dirname(file), { recursive: true });
    const handle = await fs.promises.open(file, "a", mode);
    try {
        await handle.appendFile(text);
        await handle.sync();
    } finally {
        await handle.close();
    }
}

const ERROR_NAMES: Record<string, string> = {
    EACCES: "permission denied",
    EPERM: "operation not permitted",
    EROFS: "read-only file system",
    ENOSPC: "no space left on device",
    EDQUOT: "disk quota exceeded",
    EIO: "input/output error",
    ENOENT: "no such file or directory",
    ENOTDIR: "a path component is not a directory",
    EMFILE: "too many open files",
};

/** `EACCES (permission denied)`, or the error's message when it has no code. */
export function describeFsError(err: unknown): string {
    const code = (err as NodeJS.ErrnoException)?.code;
    if (!code) return (err as Error)?.message ?? String(err);
    return ERROR_NAMES[code] ? `${code} (${ERROR_NAMES[code]})` : code;
}

/** What an operator can do about a failed write of `file`. */
export function fixHint(err: unknown, file: string): string {
    const code = (err as NodeJS.ErrnoException)?.code;
    const dir = path.dirname(file);
    const user = typeof process.getuid === "function" ? ` for uid ${process.getuid()}` : "";
    switch (code) {
        case "EACCES":
        case "EPERM":
            return `make ${dir} and what is in it writable${user} (for example chmod -R u+w ${dir})`;
        case "EROFS":
            return `remount the file system holding ${dir} read-write, or start local mode with another --data-dir`;
        case "ENOSPC":
        case "EDQUOT":
            return `free space on the file system holding ${dir}`;
        case "EMFILE":
            return "raise the open-file limit (ulimit -n)";
        default:
            return `check ${dir}`;
    }
}

/**
 * Reports each distinct disk problem once (not on every retry), and once more when it is over, so a
 * failing disk gives a few readable lines instead of a flood.
 */
export class ProblemLog {
    private readonly open = new Map<string, string>();

    constructor(private readonly log: Logger) {}

    /** Logs `message` unless the problem `key` is already reported. */
    report(key: string, message: string): void {
        if (this.open.has(key)) return;
        this.open.set(key, message);
        this.log.warn(message);
    }

    /** Marks the problem `key` as over; logs `message` if it had been reported. */
    resolve(key: string, message: string): void {
        if (!this.open.delete(key)) return;
        this.log.info(message);
    }

    /** Marks every open problem as over; logs `message` once if there was any. */
    resolveAll(message: string): void {
        if (this.open.size === 0) return;
        this.open.clear();
        this.log.info(message);
    }

    /** The problems reported and not yet over, as logged. */
    get current(): string[] {
        return [...this.open.values()];
    }
}

/** Milliseconds before retry number `attempt` (1, 2, ...): doubling from `baseMs` up to `maxMs`. */
export function backoffDelay(attempt: number, baseMs: number, maxMs: number): number {
    return Math.min(maxMs, baseMs * 2 ** Math.max(0, attempt - 1));
}
