/**
 * One local mode per data directory: `<data-dir>/local-mode.lock` names the process that owns it (pid,
 * and port once it listens). A second local mode on the same directory refuses to start and says who has
 * it; a lock whose process is gone (kill -9, a crash) is taken over.
 */
import { closeSync, linkSync, openSync, readFileSync, renameSync, unlinkSync, writeSync } from "node:fs";
import * as path from "node:path";
import { writeFileAtomic } from "./fs-util";

export const LOCK_FILE = "local-mode.lock";

interface LockContent {
    pid: number;
    port?: number;
    url?: string;
    startedAt: string;
}

/** Raised when another live process holds the data directory. */
export class DataDirLockedError extends Error {
    constructor(
        readonly dataDir: string,
        readonly owner: LockContent,
        readonly lockFile: string,
    ) {
        const where =
            owner.port !== undefined ? `port ${owner.port}${owner.url ? ` (${owner.url})` : ""}` : "port not known yet (still starting)";
        super(
            `Local mode is already running on the data directory ${dataDir}: pid ${owner.pid}, ${where}. ` +
                `Stop it first, or start this one on another directory with --data-dir <dir>. ` +
                `(If pid ${owner.pid} is not local mode, delete ${lockFile}.)`,
        );
    }
}

/** Whether a process with this pid exists (EPERM: it exists, owned by another user). */
function alive(pid: number): boolean {
    try {
        process.kill(pid, 0);
        return true;
    } catch (err) {
        return (err as NodeJS.ErrnoException).code === "EPERM";
    }
}

function readLock(file: string): LockContent | undefined {
    try {
        const content = JSON.parse(readFileSync(file, "utf8")) as LockContent;
        return Number.isInteger(content.pid) && content.pid > 0 ? content : undefined;
    } catch {
        return undefined;
    }
}

export class DataDirLock {
    private released = false;

    private constructor(
        readonly file: string,
        private content: LockContent,
    ) {}

    /** Takes the data directory, or throws DataDirLockedError naming its owner. */
    static acquire(dataDir: string): DataDirLock {
        const file = path.join(dataDir, LOCK_FILE);
        const content: LockContent = { pid: process.pid, startedAt: new Date().toISOString() };
        for (let attempt = 0; attempt < 5; attempt++) {
            let fd: number;
            try {
                fd = openSync(file, "wx", 0o644);
            } catch (err) {
                if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
                const owner = readLock(file);
                if (owner && alive(owner.pid)) throw new DataDirLockedError(dataDir, owner, file);
                DataDirLock.removeStale(file, owner);
                continue;
            }
            try {
                writeSync(fd, JSON.stringify(content) + "\n");
            } finally {
                closeSync(fd);
            }
            return new DataDirLock(file, content);
        }
        throw new Error(`could not take the lock ${file}: it keeps changing; is another local mode starting on ${dataDir}?`);
    }

    /**
     * Removes a stale lock. It is moved aside first and checked: if another process took the directory
     * over in the meantime, its fresh lock is put back instead of being deleted.
     */
    private static removeStale(file: string, seen: LockContent | undefined): void {
        const aside = `${file}.${process.pid}.stale`;
        try {
            renameSync(file, aside);
        } catch {
            return; // gone already: someone else removed it
        }
        const moved = readLock(aside);
        if (moved && seen && moved.pid !== seen.pid && alive(moved.pid)) {
            try {
                linkSync(aside, file);
            } catch {
                // a third process holds it now; it will be seen on the next attempt
            }
        }
        unlinkSync(aside);
    }

    /** Adds where this local mode listens, for the message a second one prints. */
    listening(port: number, url: string): void {
        this.content = { ...this.content, port, url };
        writeFileAtomic(this.file, JSON.stringify(this.content) + "\n");
    }

    /** Gives the directory up (only if the lock is still this process's). */
    release(): void {
        if (this.released) return;
        this.released = true;
        if (readLock(this.file)?.pid === this.content.pid) {
            try {
                unlinkSync(this.file);
            } catch {
                // a read-only directory: the next start sees the pid is gone and takes the lock over
            }
        }
    }
}
