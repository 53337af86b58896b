/**
 * Local mode under disk faults, each case against a real `local/main` process run as an unprivileged user
 * (root ignores permissions): a read-only journal, a journal that cannot be opened, a full disk at the
 * journal's write (injected), a read-only data directory then SIGTERM, a read-only partition, a read-only
 * bucket, kill -9 right after a 200 and during a flush, and a second local mode on the same directory.
 *
 * Every case ends with the same check: each event answered as accepted is in S3 after a restart exactly
 * once (kill -9 during a flush: at least once, and a duplicate only of a record whose object the killed
 * process had written before its journal recorded it). The tests wait for what the process prints, never
 * for a fixed time.
 */
import { strict as assert } from "node:assert";
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import { listFiles } from "./support/local";
import { chmodTree, childDataDir, makeChildDirs, postEvents, signIn, signUp, startChild, type LocalChild } from "./support/local-child";

const STREAM = "client-events-local-archive";
const ev = (eventType: string, n: number, schemaVersion = 1) =>
    JSON.stringify({ eventType, schemaVersion, data: { itemSku: n, note: 'it\'s "quoted" ✓' } });

/** How many times each event id is in the bucket's event objects. */
function archivedIds(dataDir: string, bucket: string): Map<string, string[]> {
    const dir = path.join(dataDir, "s3", bucket);
    const found = new Map<string, string[]>();
    for (const key of listFiles(dir).filter((k) => k.startsWith("events/"))) {
        for (const line of readFileSync(path.join(dir, key), "utf8")
            .split("\n")
            .filter((l) => l !== "")) {
            const id = JSON.parse(line).id as string;
            found.set(id, [...(found.get(id) ?? []), key]);
        }
    }
    return found;
}

/** Restarts local mode on the directory, stops it, and returns what the archive then holds. */
async function restartAndCollect(dataDir: string): Promise<{ ids: Map<string, string[]>; child: LocalChild }> {
    const child = await startChild(dataDir);
    const code = await child.stop("SIGTERM");
    assert.equal(code, 0, `the restarted process stops cleanly\n${child.stderr}\n${child.lines.join("\n")}`);
    return { ids: archivedIds(dataDir, child.ready.bucketName), child };
}

/** Every accepted id is archived exactly once, and nothing else is. */
function assertExactlyOnce(ids: Map<string, string[]>, accepted: string[]): void {
    const missing = accepted.filter((id) => !ids.has(id));
    const doubled = [...ids].filter(([, keys]) => keys.length > 1).map(([id]) => id);
    assert.deepEqual(missing, [], "every event answered as accepted is archived");
    assert.deepEqual(doubled, [], "no event is archived twice");
    assert.deepEqual([...ids.keys()].sort(), [...accepted].sort(), "only accepted events are archived");
}

describe("local mode under disk faults (real processes, unprivileged user)", function () {
    this.timeout(60_000);
    const children: LocalChild[] = [];
    const track = (child: LocalChild) => {
        children.push(child);
        return child;
    };
    afterEach(() => {
        for (const child of children.splice(0)) if (child.running) child.child.kill("SIGKILL");
    });

    it("repro 1: the journal turns read-only while events are buffered: the flush timer does not crash the process, and every 200 is archived once after a restart", async () => {
        const dataDir = childDataDir();
        const child = track(await startChild(dataDir, { bufferSeconds: 2 }));
        const token = await signUp(child, "ann");
        const first = await postEvents(child, token, [ev("shopping", 1), ev("paging", 2), ev("searching", 3)]);
        assert.equal(first.status, 200);
        // Where the journal of accepted events lives (eventbridge/ now; firehose/ before this change).
        for (const dir of ["eventbridge", "firehose"]) chmodTree(path.join(dataDir, dir), "a-w");
        const second = await postEvents(child, token, [ev("shopping", 4), ev("purchase", 5)]);
        await child.waitFor(/firehose \S+ -> s3:\/\/.*\(\d+ records/, "the buffer's flush");
        assert.ok(child.running, "the process is still serving");
        assert.equal(await child.stop("SIGTERM"), 0, child.stderr);
        for (const dir of ["eventbridge", "firehose"]) chmodTree(path.join(dataDir, dir), "u+w");
        const { ids } = await restartAndCollect(dataDir);
        assertExactlyOnce(ids, [...first.accepted, ...second.accepted]);
        assert.equal(first.accepted.length + second.accepted.length, 5);
    });

    it("repro 2: a journal that cannot be written makes PutEvents answer 207 InternalFailure (retryable); resent after the fix, the events survive a kill -9", async () => {
        const dataDir = childDataDir();
        // Both the journal's directory before this change (firehose/<stream>) and now are read-only at start.
        const dirs = makeChildDirs(dataDir, "eventbridge/journal", `firehose/${STREAM}`);
        dirs.forEach((d) => chmodTree(d, "a-w"));
        const child = track(await startChild(dataDir));
        const token = await signUp(child, "bob");
        const entries = [ev("shopping", 1), ev("paging", 2), ev("searching", 3)];
        const refused = await postEvents(child, token, entries);
        assert.equal(refused.status, 207, JSON.stringify(refused.json));
        assert.deepEqual(refused.accepted, [], "nothing is reported accepted that is not stored");
        for (const entry of refused.json.entries) {
            assert.equal(entry.errorCode, "InternalFailure");
            assert.equal(entry.retryable, true);
            assert.match(entry.errorMessage, /cannot write its journal \(EACCES/);
        }
        const warning = await child.waitFor(/WARN eventbridge journal: cannot write .*EACCES/, "the journal warning");
        assert.ok(warning.includes(path.join(dataDir, "eventbridge", "journal")) && warning.includes("chmod -R u+w"), warning);

        dirs.forEach((d) => chmodTree(d, "u+w"));
        const resent = await postEvents(child, token, entries);
        assert.equal(resent.status, 200, JSON.stringify(resent.json));
        child.child.kill("SIGKILL");
        await child.exited;
        const { ids } = await restartAndCollect(dataDir);
        assertExactlyOnce(ids, resent.accepted);
        assert.equal(child.matching(/cannot write .*journal/).length, 1, "the problem is logged once");
    });

    it("ENOSPC at the journal's write (injected): 207 InternalFailure, logged once with the path; the process keeps serving, and what it accepted survives a kill -9", async () => {
        const dataDir = childDataDir();
        const trigger = path.join(childDataDir(), "disk-full");
        const child = track(
            await startChild(dataDir, {
                faults: true,
                env: {
                    FAULT_ENOSPC_TRIGGER: trigger,
                    FAULT_ENOSPC_UNDER: [path.join(dataDir, "eventbridge"), path.join(dataDir, "firehose")].join(","),
                },
            }),
        );
        const token = await signUp(child, "cat");
        const before = await postEvents(child, token, [ev("shopping", 1), ev("paging", 2)]);
        assert.equal(before.status, 200);
        writeFileSync(trigger, "");
        const entries = [ev("shopping", 3), ev("searching", 4), ev("purchase", 5)];
        for (let i = 0; i < 2; i++) {
            const full = await postEvents(child, token, entries);
            assert.equal(full.status, 207, JSON.stringify(full.json));
            assert.deepEqual(
                full.json.entries.map((e: { errorCode: string; retryable: boolean }) => [e.errorCode, e.retryable]),
                entries.map(() => ["InternalFailure", true]),
            );
        }
        // Local mode logs each request after answering it: once both are logged, so is any warning they caused.
        await child.waitForCount((l) => / api POST \/local\/event -> 207 /.test(l), 2, "both refused requests");
        const warnings = child.matching(/WARN eventbridge journal: cannot write .*ENOSPC/);
        assert.equal(warnings.length, 1, "logged once, not per request");
        assert.ok(
            warnings[0].includes(path.join(dataDir, "eventbridge", "journal", "segment-")) && warnings[0].includes("free space"),
            warnings[0],
        );
        rmSync(trigger);
        const resent = await postEvents(child, token, entries);
        assert.equal(resent.status, 200);
        child.child.kill("SIGKILL");
        await child.exited;
        const { ids } = await restartAndCollect(dataDir);
        assertExactlyOnce(ids, [...before.accepted, ...resent.accepted]);
    });

    it("repro 3: the whole data directory turns read-only, then SIGTERM: exit 1 naming how many events remain in the journal and where; the next start writes each once", async () => {
        const dataDir = childDataDir();
        const child = track(await startChild(dataDir));
        const token = await signUp(child, "dan");
        const sent = await postEvents(child, token, [ev("shopping", 1), ev("paging", 2), ev("loyaltypurchase", 3), ev("searching", 4)]);
        assert.equal(sent.status, 200);
        chmodTree(dataDir, "a-w");
        const code = await child.stop("SIGTERM");
        assert.equal(code, 1, `exit code\n${child.stderr}`);
        const journal = path.join(dataDir, "eventbridge", "journal");
        assert.ok(child.stderr.includes(`4 accepted events are not fully written: they remain in the journal ${journal}`), child.stderr);
        assert.match(child.stderr, /EACCES/);
        assert.ok(!child.lines.some((l) => l.includes("every buffer is written")), "it does not claim it wrote everything");

        chmodTree(dataDir, "u+w");
        const { ids } = await restartAndCollect(dataDir);
        assertExactlyOnce(ids, sent.accepted);
        const tickets = readFileSync(path.join(dataDir, "zendesk", "tickets.jsonl"), "utf8")
            .split("\n")
            .filter((l) => l !== "");
        assert.equal(tickets.length, 1, "the loyalty purchase opened one ticket");
    });

    it("repro 4: one read-only partition: the batch's other objects are written, only that partition waits, and nothing is written twice after the fix", async () => {
        const dataDir = childDataDir();
        const child = track(await startChild(dataDir, { bufferSeconds: 0.2 }));
        const token = await signUp(child, "eve");
        const first = await postEvents(child, token, [ev("shopping", 1)]);
        await child.waitFor(/firehose .* -> s3:\/\/.*\/events\/eventType=shopping\//, "the first object");
        const bucket = path.join(dataDir, "s3", child.ready.bucketName);
        chmodTree(path.join(bucket, "events", "eventType=shopping"), "a-w");
        const from = child.lines.length;
        // The read-only partition's object comes last in the batch, after two that can be written.
        const batch = await postEvents(child, token, [ev("paging", 2), ev("searching", 3), ev("shopping", 4)]);
        assert.equal(batch.status, 200);
        await child.waitFor(/-> s3:\/\/.*eventType=paging\//, "the paging object", from);
        await child.waitFor(/-> s3:\/\/.*eventType=searching\//, "the searching object", from);
        await child.waitFor(/WARN firehose .*(cannot write|delivery failed)/, "the failed partition", from);
        const code = await child.stop("SIGTERM");
        assert.equal(code, 1, `only the shopping event is not written: ${child.stderr}`);
        assert.match(child.stderr, /1 accepted event is not fully written: it remains in the journal/);
        assert.equal(child.matching(/WARN firehose .*cannot write s3:\/\/.*eventType=shopping.*EACCES/).length, 1, child.lines.join("\n"));

        chmodTree(path.join(bucket, "events"), "u+w");
        const { ids } = await restartAndCollect(dataDir);
        assertExactlyOnce(ids, [...first.accepted, ...batch.accepted]);
    });

    it("read-only bucket directory: the objects are retried with backoff, logged once, and written once the directory is writable again", async () => {
        const dataDir = childDataDir();
        const bucketDir = makeChildDirs(dataDir, "s3/client-events-local-archive-000000000000")[0];
        chmodTree(bucketDir, "a-w");
        const child = track(await startChild(dataDir, { bufferSeconds: 0.2 }));
        const token = await signUp(child, "fay");
        const sent = await postEvents(child, token, [ev("shopping", 1), ev("paging", 2), ev("purchase", 3)]);
        assert.equal(sent.status, 200);
        await child.waitFor(/WARN firehose .*(cannot write s3:\/\/.*EACCES.*retried with backoff|delivery failed)/, "the write failure");
        // More records for the same broken directory: no second warning.
        const more = await postEvents(child, token, [ev("searching", 4)]);
        assert.equal(more.status, 200);
        chmodTree(bucketDir, "u+w");
        await child.waitFor(/every object waiting for a retry is written/, "the retry that succeeds");
        assert.ok(child.running);
        assert.equal(child.matching(/WARN firehose .*cannot write/).length, 1, "the failure is logged once");
        assert.equal(await child.stop("SIGTERM"), 0, child.stderr);
        const { ids } = await restartAndCollect(dataDir);
        assertExactlyOnce(ids, [...sent.accepted, ...more.accepted]);
    });

    it("kill -9 right after a 200: the next start writes every accepted event once", async () => {
        const dataDir = childDataDir();
        const child = track(await startChild(dataDir));
        const token = await signUp(child, "gus");
        const sent = await postEvents(
            child,
            token,
            Array.from({ length: 10 }, (_, i) => ev("shopping", i)),
        );
        child.child.kill("SIGKILL");
        assert.equal(sent.status, 200);
        await child.exited;
        const { ids } = await restartAndCollect(dataDir);
        assertExactlyOnce(ids, sent.accepted);
    });

    it("kill -9 during a flush: every accepted event is archived at least once; a duplicate only of a record the killed process had written before its journal recorded it", async () => {
        const dataDir = childDataDir();
        const child = track(await startChild(dataDir));
        const token = await signUp(child, "hal");
        const accepted: string[] = [];
        // 100 events in 84 partitions (4 eventTypes x schemaVersion 0-20): one flush writes 84 objects.
        const types = ["shopping", "searching", "paging", "purchase"];
        for (let request = 0; request < 10; request++) {
            const res = await postEvents(
                child,
                token,
                Array.from({ length: 10 }, (_, i) =>
                    ev(types[(request * 10 + i) % 4], request * 10 + i, Math.min(20, Math.floor((request * 10 + i) / 4))),
                ),
            );
            assert.equal(res.status, 200);
            accepted.push(...res.accepted);
        }
        child.child.kill("SIGTERM"); // starts the flush...
        await child.waitFor(/firehose .* -> s3:\/\//, "the first object of the flush");
        child.child.kill("SIGKILL"); // ...and this interrupts it
        await child.exited;
        const bucket = child.ready.bucketName;
        const writtenBeforeKill = new Set([...archivedIds(dataDir, bucket).values()].flat());

        const { ids } = await restartAndCollect(dataDir);
        assert.deepEqual(
            accepted.filter((id) => !ids.has(id)),
            [],
            "every accepted event is archived",
        );
        const doubled = [...ids].filter(([, keys]) => keys.length > 1);
        for (const [id, keys] of doubled) {
            assert.equal(keys.length, 2, `${id} is archived at most twice`);
            assert.ok(
                keys.some((k) => writtenBeforeKill.has(k)),
                `${id}: its first copy is an object the killed process wrote`,
            );
        }
        assert.deepEqual([...ids.keys()].sort(), [...accepted].sort());
    });

    it("repro 5: a second local mode on the same data directory refuses to start, naming the first's pid and port and --data-dir; a stale lock is taken over", async () => {
        const dataDir = childDataDir();
        const first = track(await startChild(dataDir));
        await signUp(first, "ivy");
        const outputs = readFileSync(path.join(dataDir, "outputs.json"), "utf8");
        const second = track(await startChild(dataDir));
        assert.equal(second.ready, undefined, "the second one does not start");
        assert.equal(await second.exited, 1);
        const port = new URL(first.ready.apiUrl).port;
        assert.match(second.stderr, new RegExp(`pid ${first.child.pid}\\b`));
        assert.match(second.stderr, new RegExp(`port ${port}\\b`));
        assert.match(second.stderr, /--data-dir/);
        assert.equal(readFileSync(path.join(dataDir, "outputs.json"), "utf8"), outputs, "outputs.json still points at the first");
        // The first keeps its users: the confirmed user still signs in, a new one signs up.
        await signIn(first, "ivy");
        await signUp(first, "jon");

        first.child.kill("SIGKILL");
        await first.exited;
        assert.ok(existsSync(path.join(dataDir, "local-mode.lock")), "kill -9 leaves the lock behind");
        const third = track(await startChild(dataDir));
        assert.ok(third.ready, `a stale lock is taken over\n${third.stderr}`);
        assert.notEqual(JSON.parse(readFileSync(path.join(dataDir, "outputs.json"), "utf8")).apiUrl, JSON.parse(outputs).apiUrl);
        await signIn(third, "ivy");
        await signIn(third, "jon");
        assert.equal(await third.stop("SIGTERM"), 0);
        assert.ok(!existsSync(path.join(dataDir, "local-mode.lock")), "a clean stop releases the lock");
    });
});
