/** The long-lived jq 1.6 process local mode partitions with: order, agreement with one jq per batch, crashes. */
import { strict as assert } from "node:assert";
import { PARTITION_KEYS_JQ_QUERY } from "../pipeline/partitioning";
import { partitionKeysFor } from "./support/partitioning";
import { BinaryJq, extractKeysBatch, findJq16 } from "../local/jq";
import { StreamingJq } from "../local/jq-stream";

const JQ = findJq16();

function record(i: number, eventType: unknown = ["shopping", "paging", "unknown-type", "bad type", 7][i % 5]): Buffer {
    return Buffer.from(JSON.stringify({ version: "0", id: `id-${i}`, detail: { eventType, schemaVersion: i % 23, n: i } }));
}

/** Nesting jq 1.6 refuses to parse (its limit is 256), though JSON.parse reads it. */
const tooDeep = Buffer.from(`{"detail":${"[".repeat(300)}${"]".repeat(300)}}`);

describe("jq 1.6 as one long-lived process (StreamingJq)", () => {
    let engine: StreamingJq;
    before(() => {
        assert.ok(JQ, "jq 1.6 must be installed (.ci/run installs it)");
    });
    beforeEach(() => (engine = new StreamingJq(JQ!)));
    afterEach(() => engine.close());

    it("gives each record its keys, in order, from one process across runs", async () => {
        const records = Array.from({ length: 3000 }, (_, i) => record(i));
        const [first, second] = await Promise.all([
            extractKeysBatch(engine, records.slice(0, 1500), PARTITION_KEYS_JQ_QUERY),
            extractKeysBatch(engine, records.slice(1500), PARTITION_KEYS_JQ_QUERY),
        ]);
        const expected = records.map((r) => ({ keys: partitionKeysFor(JSON.parse(r.toString())) }));
        assert.deepEqual([...first, ...second], expected);
        assert.equal(engine.starts(PARTITION_KEYS_JQ_QUERY), 1);
    });

    it("agrees with one jq process per batch on records that fail, and a record jq cannot parse fails alone", async () => {
        const records = [
            record(1),
            Buffer.from("not json"),
            tooDeep,
            record(2),
            Buffer.from('{"detail":{"eventType":"shopping","schemaVersion":1e400}}'),
            record(3),
        ];
        const streamed = await extractKeysBatch(engine, records, PARTITION_KEYS_JQ_QUERY);
        const oneShot = await extractKeysBatch(new BinaryJq(JQ!), records, PARTITION_KEYS_JQ_QUERY);
        assert.deepEqual(
            streamed.map((r) => ("keys" in r ? r.keys : "error")),
            oneShot.map((r) => ("keys" in r ? r.keys : "error")),
        );
        assert.deepEqual(streamed[1], { error: "Non JSON record provided" });
        assert.match((streamed[2] as { error: string }).error, /depth limit/);
        assert.equal(
            engine.starts(PARTITION_KEYS_JQ_QUERY),
            2,
            "jq stopped at the deep record; the records after it went to a new process",
        );
    });

    it("reports a query error or a query without exactly one output for that record only", async () => {
        const results = await engine.runEach(
            ['{"a":1}', '{"a":"x"}', '{"a":[1,2]}'],
            'if (.a | type) == "string" then error("no strings") else .a[]? // .a end',
        );
        assert.deepEqual(results, [{ line: "1" }, { error: "jq: error: no strings" }, { error: "jq gave 2 results for 1 record" }]);
    });

    it("loses nothing and answers nothing twice when the process is killed with records in flight", async () => {
        const records = Array.from({ length: 20_000 }, (_, i) => record(i).toString());
        const running = engine.runEach(records, PARTITION_KEYS_JQ_QUERY);
        const pid = engine.pid(PARTITION_KEYS_JQ_QUERY)!;
        await new Promise((resolve) => setTimeout(resolve, 30));
        process.kill(pid, "SIGKILL");
        const results = await running;
        assert.equal(results.length, records.length);
        results.forEach((r, i) => assert.deepEqual(r, { line: JSON.stringify(partitionKeysFor(JSON.parse(records[i]))) }, `record ${i}`));
        assert.equal(engine.starts(PARTITION_KEYS_JQ_QUERY), 2);
    });

    it("fails the run, instead of blaming records, when jq cannot be started", async () => {
        const missing = new StreamingJq("/nonexistent/jq");
        await assert.rejects(missing.runEach(['{"a":1}'], "."), /jq keeps failing/);
        missing.close();
    });
});
