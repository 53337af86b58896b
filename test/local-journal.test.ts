/**
 * The event bus's journal on its own: group commit (one write and one fsync per group, whatever the
 * number of appends), answers only after the fsync, commit lines that void a cut-short group, progress
 * marks in the event's own segment, recovery, rotation and a failed write cut off the file.
 */
import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as path from "node:path";
import { EventJournal, JournalWriteError, parseSegment, type JournalEntry, type RecoveredEntry } from "../local/journal";
import { createLogger } from "../local/log";
import { tempDataDir } from "./support/local";

// The fs module object itself, to watch and fail its calls (an `import * as` namespace is a copy).
import fsModule = require("node:fs");

const quiet = createLogger({ quiet: true });
const entry = (id: string, targets = ["archive/archive"]): JournalEntry => ({
    id,
    acceptedAt: 1_700_000_000_000,
    targets,
    text: JSON.stringify({ n: id }),
});
const segments = (dir: string) =>
    fs.existsSync(dir)
        ? fs
              .readdirSync(dir)
              .filter((n) => n.startsWith("segment-"))
              .sort()
        : [];

function recoverAll(dir: string): RecoveredEntry[] {
    const found: RecoveredEntry[] = [];
    new EventJournal({ dir }, quiet).recover((entries) => found.push(...entries));
    return found;
}

/** Replaces fs.<name> for the duration of `run`. */
async function patched<T>(
    name: "fsync" | "write",
    replacement: (original: (...args: any[]) => void) => (...args: any[]) => void,
    run: () => Promise<T>,
): Promise<T> {
    const mutable = fsModule as unknown as Record<string, (...args: any[]) => void>;
    const original = mutable[name];
    mutable[name] = replacement(original);
    try {
        return await run();
    } finally {
        mutable[name] = original;
    }
}

describe("local mode's event journal", () => {
    it("refuses an entry that would not stay one line of JSON (a line break in its text, a time that is not a number) and writes nothing of its group", async () => {
        const dir = path.join(tempDataDir(), "journal");
        const journal = new EventJournal({ dir }, quiet);
        await assert.rejects(journal.append([entry("ok"), { ...entry("nl"), text: '{"a":\n1}' }]), JournalWriteError);
        await assert.rejects(journal.append([{ ...entry("nan"), acceptedAt: Number.NaN }]), /nan is not one line of JSON/);
        await journal.append([entry("later")]);
        await journal.close();
        assert.deepEqual(
            recoverAll(dir).map((e) => e.id),
            ["later"],
        );
    });

    it("group commit: 50 concurrent appends take two writes and two fsyncs, and each resolves only after the fsync of its group", async () => {
        const dir = path.join(tempDataDir(), "journal");
        const journal = new EventJournal({ dir }, quiet);
        const order: string[] = [];
        await patched(
            "fsync",
            (original) => (fd: number, callback: (err: Error | null) => void) =>
                original(fd, (err: Error | null) => {
                    order.push("fsync");
                    callback(err);
                }),
            () => Promise.all(Array.from({ length: 50 }, (_, i) => journal.append([entry(`e${i}`)]).then(() => order.push(`e${i}`)))),
        );
        // The first append starts a write at once; the 49 that arrive meanwhile share the next one.
        assert.equal(journal.stats.groups, 2);
        assert.equal(journal.stats.fsyncs, 2);
        assert.equal(order[0], "fsync", "nothing is acknowledged before an fsync");
        assert.equal(order.indexOf("fsync", 1), 2, "the second group's fsync comes before any of its appends resolve");
        assert.equal(journal.pendingEvents, 50);
        await journal.close();
        assert.deepEqual(
            recoverAll(dir).map((e) => e.id),
            Array.from({ length: 50 }, (_, i) => `e${i}`),
        );
    });

    it("recovery skips a group without its commit line and a line cut short, and applies finished deliveries and attempts", () => {
        const text = [
            '{"g":1,"id":"a","at":5,"t":["archive/archive","zendesk/zendesk"],"x":{"k":1}}',
            '{"g":1,"id":"b","at":5,"t":["archive/archive"],"x":{}}',
            '{"c":1}',
            '{"d":[["a","archive/archive"],["b","archive/archive"]]}',
            '{"n":[["a","zendesk/zendesk",3]]}',
            '{"g":2,"id":"c","at":6,"t":["archive/archive"],"x":{}}', // group 2 never committed (a failed write)
            '{"g":3,"id":"d","at":7,"t":["archive/archive"],"x":{}}',
            '{"c":3}',
            '{"g":4,"id":"e","at":8,"t":["arch', // cut short by a crash
        ].join("\n");
        const { entries, maxGroup } = parseSegment(text);
        assert.deepEqual(
            entries.map((e) => [e.id, e.targets, e.attempts, e.acceptedAt]),
            [
                ["a", ["zendesk/zendesk"], { "zendesk/zendesk": 3 }, 5],
                ["d", ["archive/archive"], {}, 7],
            ],
        );
        assert.deepEqual(entries[0].data, { k: 1 });
        assert.equal(entries[0].text, '{"k":1}', "the entry's own text, as written");
        assert.equal(maxGroup, 3);
    });

    it("marks a finished delivery in the event's own segment; resumes the rest after a restart; deletes a segment once all its events are finished", async () => {
        const dir = path.join(tempDataDir(), "journal");
        const first = new EventJournal({ dir }, quiet);
        await first.append([entry("a", ["archive/archive", "zendesk/zendesk"]), entry("b")]);
        first.markDone("a", "archive/archive");
        first.markDone("b", "archive/archive");
        first.noteAttempts("a", "zendesk/zendesk", 2);
        const report = await first.close();
        assert.equal(report.pendingEvents, 1);
        assert.equal(report.files.length, 1);

        const second = new EventJournal({ dir }, quiet);
        const resumed: RecoveredEntry[] = [];
        assert.equal(
            second.recover((entries) => resumed.push(...entries)),
            1,
        );
        assert.deepEqual(
            resumed.map((e) => [e.id, e.targets, e.attempts]),
            [["a", ["zendesk/zendesk"], { "zendesk/zendesk": 2 }]],
        );
        await second.append([entry("c")]);
        second.markDone("a", "zendesk/zendesk");
        await second.settle();
        assert.deepEqual(segments(dir), ["segment-000002.jsonl"], "the recovered segment is deleted once its last event is finished");
        second.markDone("c", "archive/archive");
        const closing = await second.close();
        assert.deepEqual([closing.pendingEvents, closing.files], [0, []]);
        assert.deepEqual(segments(dir), [], "nothing left");
    });

    it("a segment left by a previous run that cannot be opened for writing waits (retried with backoff) and is resumed once, when it can", async () => {
        const dir = path.join(tempDataDir(), "journal");
        const first = new EventJournal({ dir }, quiet);
        await first.append([entry("a")]);
        await first.close();
        const [name] = segments(dir);
        const mutable = fsModule as unknown as Record<string, (...args: any[]) => any>;
        const openSync = mutable.openSync;
        let readOnly = true;
        mutable.openSync = (file: string, ...rest: unknown[]) => {
            if (readOnly && file === path.join(dir, name))
                throw Object.assign(new Error(`EACCES: permission denied, open '${file}'`), { code: "EACCES" });
            return openSync(file, ...rest);
        };
        try {
            const resumed: string[] = [];
            let wake: () => void = () => undefined;
            const second = new EventJournal({ dir, retryBaseMs: 5, retryMaxMs: 20 }, quiet);
            assert.equal(
                second.recover((entries) => {
                    resumed.push(...entries.map((e) => e.id));
                    wake();
                }),
                0,
                "not resumed while it cannot record progress",
            );
            assert.deepEqual(resumed, []);
            const done = new Promise<void>((resolve) => {
                wake = resolve;
            });
            readOnly = false;
            await done;
            assert.deepEqual(resumed, ["a"]);
            second.markDone("a", "archive/archive");
            assert.deepEqual((await second.close()).files, []);
        } finally {
            mutable.openSync = openSync;
        }
    });

    it("rotates a segment past its size and deletes it when its events are finished", async () => {
        const dir = path.join(tempDataDir(), "journal");
        const journal = new EventJournal({ dir, segmentBytes: 100 }, quiet);
        await journal.append([entry("a"), entry("b")]);
        await journal.append([entry("c")]);
        assert.deepEqual(segments(dir), ["segment-000001.jsonl", "segment-000002.jsonl"]);
        journal.markDone("a", "archive/archive");
        journal.markDone("b", "archive/archive");
        await journal.settle();
        assert.deepEqual(segments(dir), ["segment-000002.jsonl"]);
        await journal.close();
        assert.deepEqual(
            recoverAll(dir).map((e) => e.id),
            ["c"],
        );
    });

    it("a failed write rejects its group with JournalWriteError and cuts it off the file; the next group is written", async () => {
        const dir = path.join(tempDataDir(), "journal");
        const journal = new EventJournal({ dir }, quiet);
        await journal.append([entry("a")]);
        // A full disk that takes part of the group, then fails.
        await patched(
            "write",
            (original) =>
                (
                    fd: number,
                    buffer: Buffer,
                    offset: number,
                    length: number,
                    position: null,
                    callback: (err: Error | null, n?: number) => void,
                ) => {
                    original(fd, buffer, offset, Math.ceil(length / 2), position, () => {
                        callback(Object.assign(new Error("ENOSPC: no space left on device, write"), { code: "ENOSPC" }));
                    });
                },
            () =>
                assert.rejects(
                    journal.append([entry("b"), entry("c")]),
                    (err: unknown) => err instanceof JournalWriteError && /ENOSPC/.test(err.message),
                ),
        );
        const [file] = segments(dir);
        assert.ok(!fs.readFileSync(path.join(dir, file), "utf8").includes('"id":"b"'), "the partial group is truncated away");
        await journal.append([entry("d")]);
        await journal.close();
        assert.deepEqual(
            recoverAll(dir).map((e) => e.id),
            ["a", "d"],
        );
    });
});
