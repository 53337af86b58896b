/**
 * Fault injection for the fault tests, loaded into a local-mode child with `node -r`: while the file
 * named by FAULT_ENOSPC_TRIGGER exists, every write to a file under one of the directories listed in
 * FAULT_ENOSPC_UNDER (comma-separated) fails with ENOSPC, as on a full disk. Nothing else changes, and
 * local mode itself has no test hook: this module replaces the fs functions before it loads.
 */
// The module object itself (an `import * as` namespace would be a read-only copy of it).
import fs = require("node:fs");
import path = require("node:path");

const trigger = process.env.FAULT_ENOSPC_TRIGGER;
const under = (process.env.FAULT_ENOSPC_UNDER ?? "")
    .split(",")
    .filter((d) => d !== "")
    .map((d) => path.resolve(d) + path.sep);

if (trigger && under.length > 0) {
    const fdPaths = new Map<number, string>();
    const watched = (file: unknown) => typeof file === "string" && under.some((d) => path.resolve(file).startsWith(d));
    const failing = (file: unknown) => watched(file) && fs.existsSync(trigger);
    const enospc = (syscall: string) =>
        Object.assign(new Error(`ENOSPC: no space left on device, ${syscall}`), { errno: -28, code: "ENOSPC", syscall });
    const mutable = fs as unknown as Record<string, (...args: any[]) => any>;

    const openSync = mutable.openSync;
    mutable.openSync = (file: unknown, ...rest: unknown[]) => {
        const fd = openSync(file, ...rest);
        if (watched(file)) fdPaths.set(fd, String(file));
        return fd;
    };
    const closeSync = mutable.closeSync;
    mutable.closeSync = (fd: number) => {
        fdPaths.delete(fd);
        return closeSync(fd);
    };
    const write = mutable.write;
    mutable.write = (fd: number, ...rest: unknown[]) => {
        if (failing(fdPaths.get(fd))) {
            const callback = rest[rest.length - 1] as (err: Error) => void;
            process.nextTick(() => callback(enospc("write")));
            return;
        }
        return write(fd, ...rest);
    };
    // Writes by path (how earlier versions of local mode appended to their journal).
    for (const name of ["appendFileSync", "writeFileSync"]) {
        const original = mutable[name];
        mutable[name] = (file: unknown, ...rest: unknown[]) => {
            if (failing(file)) throw enospc("write");
            return original(file, ...rest);
        };
    }
}
