/** The monitoring keys of config.ts: monitoring (default on), alarmEmail (needs monitoring), alarmTopicArn. */
import * as assert from "node:assert/strict";
import { parseConfig } from "../config";

function errorOf(raw: Record<string, string>): string {
    try {
        parseConfig(raw, "prod");
    } catch (err) {
        return (err as Error).message;
    }
    assert.fail(`accepted ${JSON.stringify(raw)}`);
}

describe("config: monitoring keys", () => {
    it("monitoring is on by default, with no e-mail address and no existing topic", () => {
        const config = parseConfig({}, "prod");
        assert.equal(config.monitoring, true);
        assert.equal(config.alarmEmail, undefined);
        assert.equal(config.alarmTopicArn, undefined);
    });

    it("reads monitoring, an e-mail address and an existing topic", () => {
        const config = parseConfig(
            { monitoring: "true", alarmEmail: " ops+alerts@example.co.uk ", alarmTopicArn: "arn:aws:sns:eu-west-1:123456789012:ops" },
            "prod",
        );
        assert.equal(config.alarmEmail, "ops+alerts@example.co.uk");
        assert.equal(config.alarmTopicArn, "arn:aws:sns:eu-west-1:123456789012:ops");
        assert.equal(parseConfig({ monitoring: "false" }, "prod").monitoring, false);
    });

    const invalid: Array<[string, Record<string, string>, RegExp]> = [
        ["monitoring that is not a boolean", { monitoring: "yes" }, /client-events:monitoring is "yes"; expected true or false/],
        [
            "an address without a domain",
            { alarmEmail: "ops@" },
            /client-events:alarmEmail is "ops@"; expected an e-mail address\. Fix: pulumi config set client-events:alarmEmail ops@example\.com/,
        ],
        ["two addresses", { alarmEmail: "a@example.com,b@example.com" }, /client-events:alarmEmail is "a@example\.com,b@example\.com"/],
        ["an address with a display name", { alarmEmail: "Ops <ops@example.com>" }, /client-events:alarmEmail/],
        [
            "an address with monitoring off (no topic to subscribe it to)",
            { alarmEmail: "ops@example.com", monitoring: "false" },
            /client-events:alarmEmail is set but client-events:monitoring is false.*Fix: pulumi config set client-events:monitoring true/,
        ],
    ];
    for (const [what, raw, message] of invalid) {
        it(`rejects ${what}, naming the key and the fix`, () => assert.match(errorOf(raw), message));
    }
});
