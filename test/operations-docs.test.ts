/**
 * docs/operations.md and docs/cost.md show what the code builds: each alarm's row (threshold, window,
 * missing data, the reason), each metric's row (namespace, name, dimensions, statistic, AWS page), and the
 * cost table for 1 M, 100 M and 1 B events. A change to an alarm, a metric or a price fails here until the
 * docs say it too.
 */
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { alarmSpecs, alarmTableRow } from "../pipeline/alarms";
import { METRICS, metricTableRow } from "../pipeline/metrics";
import { comparisonTable } from "../cost/main";

const read = (file: string) => fs.readFileSync(path.resolve(__dirname, "..", file), "utf8");

describe("docs: operations and cost", () => {
    const operations = read("docs/operations.md");

    it("shows every alarm with its threshold, window, missing-data treatment and reason", () => {
        const missing = alarmSpecs()
            .map(alarmTableRow)
            .filter((row) => !operations.includes(row));
        assert.deepEqual(missing, []);
        const rows = operations
            .split("\n")
            .filter((line) => /^\| `[a-z0-9-]+` \| (pipeline|each route|authorizer|post-confirmation|transform) \|/.test(line));
        assert.equal(rows.length, alarmSpecs().length, "no alarm row the code does not build");
    });

    it("lists every metric with its namespace, dimensions, statistic and the page AWS documents it on", () => {
        const missing = Object.values(METRICS)
            .map(metricTableRow)
            .filter((row) => !operations.includes(row));
        assert.deepEqual(missing, []);
    });

    it("names the monitoring config keys", () => {
        for (const key of ["monitoring", "alarmEmail", "alarmTopicArn"]) assert.ok(operations.includes(`| \`${key}\` |`), key);
    });

    it("shows the cost table the model computes for 1 M, 100 M and 1 B events a month", () => {
        assert.ok(read("docs/cost.md").includes(comparisonTable([1e6, 1e8, 1e9])));
    });
});
