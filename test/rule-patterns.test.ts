import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import { compilePattern } from "../event-pattern";
import { ALL_CLIENT_EVENTS_PATTERN, LOYALTY_PURCHASE_PATTERN } from "../pipeline/event-patterns";

const sample = (file: string) => JSON.parse(fs.readFileSync(path.resolve(__dirname, "../events", file), "utf8"));

function clientEvent(detail: unknown, overrides: Record<string, unknown> = {}): Record<string, unknown> {
    return { ...sample("event.json"), detail, ...overrides };
}

describe("rule patterns (checked with the EventBridge pattern engine)", () => {
    const all = compilePattern(ALL_CLIENT_EVENTS_PATTERN);
    const loyalty = compilePattern(LOYALTY_PURCHASE_PATTERN);

    it("both patterns are valid EventBridge patterns", () => {
        assert.doesNotThrow(() => compilePattern(JSON.stringify(ALL_CLIENT_EVENTS_PATTERN)));
        assert.doesNotThrow(() => compilePattern(JSON.stringify(LOYALTY_PURCHASE_PATTERN)));
    });

    it("the archive rule takes every event from the ingest API, whatever its detail", () => {
        for (const file of ["event.json", "loyalty-purchase.json", "unusable-keys.json"]) assert.ok(all.matches(sample(file)), file);
        assert.ok(all.matches(clientEvent({})));
        assert.ok(all.matches(clientEvent({ eventType: 42 })));
    });

    it("the archive rule ignores events from other sources", () => {
        assert.ok(!all.matches(clientEvent({ eventType: "shopping" }, { source: "aws.s3" })));
        assert.ok(!all.matches(clientEvent({ eventType: "shopping" }, { source: "ClientEvents" })));
        assert.ok(!all.matches(clientEvent({ eventType: "shopping" }, { source: "clientevents2" })));
    });

    it("the Zendesk rule takes loyalty purchases with a numeric itemSku", () => {
        assert.ok(loyalty.matches(sample("loyalty-purchase.json")));
        for (const itemSku of [0, 1, 4711, 12.5, 1e9]) {
            assert.ok(loyalty.matches(clientEvent({ eventType: "loyaltypurchase", schemaVersion: 1, data: { itemSku } })), String(itemSku));
        }
    });

    it("the Zendesk rule takes the event as a string (as EventBridge receives it)", () => {
        assert.ok(loyalty.matches(JSON.stringify(sample("loyalty-purchase.json"))));
    });

    it("the Zendesk rule ignores other event types, other sources and near misses", () => {
        const data = { itemSku: 1 };
        for (const detail of [
            { eventType: "shopping", data },
            { eventType: "purchase", data },
            { eventType: "LoyaltyPurchase", data },
            { eventType: "loyaltypurchase ", data },
            { eventtype: "loyaltypurchase", data },
            { data },
        ]) {
            assert.ok(!loyalty.matches(clientEvent(detail)), JSON.stringify(detail));
        }
        assert.ok(!loyalty.matches(clientEvent({ eventType: "loyaltypurchase", data }, { source: "other" })));
        assert.ok(!loyalty.matches(sample("event.json")));
    });

    it("the Zendesk rule ignores loyalty purchases whose itemSku could inject text into the ticket", () => {
        for (const itemSku of ["4711", '1","priority":"urgent', "1\\", "line\nbreak", { sku: 1 }, ["1"], null, true, -1]) {
            assert.ok(
                !loyalty.matches(clientEvent({ eventType: "loyaltypurchase", schemaVersion: 1, data: { itemSku } })),
                JSON.stringify(itemSku),
            );
        }
        assert.ok(!loyalty.matches(clientEvent({ eventType: "loyaltypurchase", schemaVersion: 1, data: {} })), "no itemSku");
        assert.ok(!loyalty.matches(clientEvent({ eventType: "loyaltypurchase", schemaVersion: 1 })), "no data");
    });

    it("follows EventBridge's array semantics: an array matches when one element does", () => {
        // So a numeric itemSku can arrive as an array such as [1, "text"]; test/zendesk-ticket.test.ts
        // shows such a value cannot set a named Zendesk field.
        assert.ok(loyalty.matches(clientEvent({ eventType: ["loyaltypurchase"], data: { itemSku: 1 } })));
        assert.ok(loyalty.matches(clientEvent({ eventType: "loyaltypurchase", data: { itemSku: [1, '","priority":"urgent'] } })));
    });

    it("every loyalty purchase the Zendesk rule takes is also archived", () => {
        assert.ok(all.matches(sample("loyalty-purchase.json")));
    });
});
