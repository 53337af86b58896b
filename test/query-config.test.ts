/** The ArchiveQuery component's config keys: defaults, reading, and refusals that name the key and the fix. */
import * as assert from "node:assert/strict";
import { DEFAULTS, parseConfig } from "../config";

describe("config: query keys", () => {
    it("on by default, 10 GiB scan limit, results kept 7 days", () => {
        const config = parseConfig({}, "prod");
        assert.equal(config.queryEnabled, true);
        assert.equal(config.queryBytesScannedCutoffPerQuery, 10737418240);
        assert.equal(config.queryResultsExpirationDays, 7);
        assert.equal(DEFAULTS.queryEnabled, true);
    });

    it("reads each key", () => {
        const config = parseConfig(
            { queryEnabled: "false", queryBytesScannedCutoffPerQuery: "10485760", queryResultsExpirationDays: "1" },
            "prod",
        );
        assert.deepEqual(
            [config.queryEnabled, config.queryBytesScannedCutoffPerQuery, config.queryResultsExpirationDays],
            [false, 10485760, 1],
        );
    });

    for (const [key, value] of [
        ["queryEnabled", "yes"],
        ["queryBytesScannedCutoffPerQuery", "10485759"],
        ["queryBytesScannedCutoffPerQuery", "1e10"],
        ["queryResultsExpirationDays", "0"],
    ]) {
        it(`rejects ${key}=${value}, naming the key and the fix`, () => {
            assert.throws(
                () => parseConfig({ [key]: value }, "prod"),
                (err: Error) =>
                    err.message.includes(`client-events:${key} is "${value}"`) &&
                    err.message.includes(`Fix: pulumi config set client-events:${key} `),
            );
        });
    }
});
