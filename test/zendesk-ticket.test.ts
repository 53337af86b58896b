import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import { compilePattern } from "../event-pattern";
import { LOYALTY_PURCHASE_PATTERN } from "../pipeline/event-patterns";
import {
    parseZendeskEndpoint,
    TICKET_INPUT_PATHS,
    TICKET_INPUT_TEMPLATE,
    validateZendeskEmail,
    validateZendeskRate,
    zendeskEnabled,
    ZendeskConfigError,
    zendeskUsername,
    DEFAULT_ZENDESK_RATE_PER_SECOND,
    ZENDESK_PLAN_REQUESTS_PER_MINUTE,
} from "../pipeline/zendesk-ticket";
import { evaluateInputPath, renderInputTemplate, renderTicket } from "../local/input-transformer";
import { ticketShapeErrors } from "../local/zendesk-recorder";

const loyaltySample = JSON.parse(fs.readFileSync(path.resolve(__dirname, "../events/loyalty-purchase.json"), "utf8"));
const withItem = (itemSku: unknown) => ({ ...loyaltySample, detail: { ...loyaltySample.detail, data: { itemSku } } });

describe("zendesk ticket: the input transformer", () => {
    it("renders the sample loyalty purchase as a Zendesk ticket naming the client, the item and the time", () => {
        const body = renderTicket(loyaltySample);
        assert.deepStrictEqual(ticketShapeErrors(body), []);
        const ticket = JSON.parse(body).ticket;
        assert.strictEqual(ticket.subject, "Loyalty purchase by client 3f2b8c1e-5d4a-4e6f-9b7c-2a1d0e9f8c7b");
        assert.strictEqual(
            ticket.comment.body,
            "Client 3f2b8c1e-5d4a-4e6f-9b7c-2a1d0e9f8c7b made a loyalty purchase of item 4711 at 2026-11-27T19:42:30Z " +
                "(EventBridge event 0d5e2f1a-7c3b-4a9e-8f6d-1b2c3d4e5f60).",
        );
        assert.deepStrictEqual(ticket.tags, ["clientevents", "loyaltypurchase"]);
    });

    it("takes nothing else from the client's detail (the ticket is built server-side)", () => {
        const event = withItem(1);
        event.detail.ticket = { subject: "client subject", priority: "urgent" };
        event.detail.data.note = "client text";
        const body = renderTicket(event);
        assert.ok(!body.includes("client subject") && !body.includes("urgent") && !body.includes("client text"));
        assert.deepStrictEqual(
            Object.values(TICKET_INPUT_PATHS).filter((p) => p.startsWith("$.detail")),
            ["$.detail.data.itemSku"],
        );
    });

    it("is a valid InputTemplate: JSON, placeholders only inside strings, never as keys, known variables only", () => {
        // With every placeholder replaced by a plain word the template must be JSON of the ticket shape.
        const neutral = TICKET_INPUT_TEMPLATE.replace(/<([A-Za-z0-9_.-]+)>/g, "x");
        assert.deepStrictEqual(ticketShapeErrors(neutral), []);
        const used = [...TICKET_INPUT_TEMPLATE.matchAll(/<([A-Za-z0-9_.-]+)>/g)].map((m) => m[1]);
        assert.deepStrictEqual([...new Set(used)].sort(), Object.keys(TICKET_INPUT_PATHS).sort());
        assert.doesNotMatch(TICKET_INPUT_TEMPLATE, /"<[^>]+>"\s*:/, "no placeholder as an object key");
        assert.ok(Object.keys(TICKET_INPUT_PATHS).length <= 100 && Object.keys(TICKET_INPUT_PATHS).every((k) => !k.startsWith("aws.")));
        assert.ok(TICKET_INPUT_TEMPLATE.length <= 8192, "InputTemplate max length");
    });

    it("every numeric itemSku the rule lets through gives a well-formed ticket", () => {
        const rule = compilePattern(LOYALTY_PURCHASE_PATTERN);
        for (const itemSku of [0, 7, 4711, 12.5, 1e9, 1e21, 123456789012345, 0.000001]) {
            const event = withItem(itemSku);
            assert.ok(rule.matches(event), String(itemSku));
            assert.deepStrictEqual(ticketShapeErrors(renderTicket(event)), [], String(itemSku));
        }
    });

    it("shows why the rule must keep strings out: substituted unescaped, a string breaks or extends the ticket", () => {
        // EventBridge does not escape values inserted inside quoted strings: these would be the outcome.
        assert.match(ticketShapeErrors(renderTicket(withItem('1","x')))[0], /not JSON/);
        const injected = renderTicket(withItem('1."},"priority":"urgent","comment":{"body":"x'));
        assert.ok(
            ticketShapeErrors(injected).some((e) => /unexpected ticket fields: priority/.test(e)),
            injected,
        );
        // ...and the rule does keep them out.
        const rule = compilePattern(LOYALTY_PURCHASE_PATTERN);
        assert.ok(!rule.matches(withItem('1","x')) && !rule.matches(withItem('1."},"priority":"urgent","comment":{"body":"x')));
    });

    it("an array itemSku that passes the rule (one numeric element) can never set a named Zendesk field", () => {
        // EventBridge matches an array when one element matches, so [1, <anything>] reaches the template.
        // Inserted as JSON text, the client's strings stay escaped; whatever lands outside a JSON string
        // holds no quote, so no key the client names can appear. Fuzz it.
        const rule = compilePattern(LOYALTY_PURCHASE_PATTERN);
        const pieces = [
            "",
            ",",
            ":",
            "}",
            "{",
            "]",
            "[",
            '"',
            "\\",
            "priority",
            "urgent",
            "\n",
            "1",
            "true",
            "null",
            " ",
            "'",
            "<itemSku>",
            '\\"',
        ];
        let seed = 42;
        const random = (n: number) => {
            seed = (seed * 1103515245 + 12345) % 2147483648;
            return seed % n;
        };
        const text = () => Array.from({ length: 1 + random(6) }, () => pieces[random(pieces.length)]).join("");
        const element = (): unknown => {
            switch (random(5)) {
                case 0:
                    return text();
                case 1:
                    return { [text()]: text() };
                case 2:
                    return [text(), random(10)];
                case 3:
                    return random(1000);
                default:
                    return random(2) === 0;
            }
        };
        let wellFormed = 0;
        for (let i = 0; i < 3000; i++) {
            const itemSku = [random(100), ...Array.from({ length: 1 + random(4) }, element)];
            if (random(2) === 0) itemSku.reverse();
            const event = withItem(itemSku);
            assert.ok(rule.matches(event));
            const body = renderTicket(event);
            let parsed: { ticket?: Record<string, unknown> } | undefined;
            try {
                parsed = JSON.parse(body);
            } catch {
                continue;
            } // Zendesk answers 400: the event goes to the DLQ.
            wellFormed++;
            const names: string[] = [];
            const walk = (v: unknown) => {
                if (v && typeof v === "object")
                    for (const [k, child] of Object.entries(v)) {
                        if (!Array.isArray(v)) names.push(k);
                        walk(child);
                    }
            };
            walk(parsed);
            const known = new Set(["ticket", "subject", "comment", "body", "tags"]);
            const named = names.filter((n) => !known.has(n) && /[A-Za-z]/.test(n.replace(/\b(true|false|null)\b/g, "")));
            assert.deepStrictEqual(named, [], `${JSON.stringify(itemSku)} -> ${body}`);
            assert.strictEqual(typeof parsed!.ticket!.subject, "string");
        }
        assert.ok(wellFormed > 50, `${wellFormed} well-formed: some array values keep the JSON valid (so the walk above is exercised)`);
    });

    it("a missing clientId or time leaves the ticket well-formed (the variable is not created)", () => {
        const event = { ...withItem(5), resources: [] } as Record<string, unknown>;
        delete event.time;
        const body = renderTicket(event);
        assert.deepStrictEqual(ticketShapeErrors(body), []);
        assert.match(JSON.parse(body).ticket.subject, /by client $/);
    });
});

describe("zendesk ticket: EventBridge substitution model", () => {
    const event = { detail: { s: 'a"b', n: 1.5, o: { k: [1, "x"] }, t: true, z: null }, resources: ["r0", "r1"] };
    const paths = {
        s: "$.detail.s",
        n: "$.detail.n",
        o: "$.detail.o",
        t: "$.detail.t",
        z: "$.detail.z",
        r: "$.resources[1]",
        m: "$.detail.missing",
    };

    it("inserts JSON outside strings and raw text inside strings", () => {
        assert.strictEqual(
            renderInputTemplate('{"a":<s>,"b":<n>,"c":<o>,"d":<t>,"e":<z>}', paths, event),
            '{"a":"a\\"b","b":1.5,"c":{"k":[1,"x"]},"d":true,"e":null}',
        );
        assert.strictEqual(renderInputTemplate('{"a":"<s> <n> <t> <r>"}', paths, event), '{"a":"a"b 1.5 true r1"}');
    });

    it("handles escaped quotes in the template, unknown placeholders and missing paths", () => {
        assert.strictEqual(renderInputTemplate('{"a":"say \\"<r>\\" <b>tag</b>"}', paths, event), '{"a":"say \\"r1\\" <b>tag</b>"}');
        assert.strictEqual(renderInputTemplate('{"a":"[<m>]"}', paths, event), '{"a":"[]"}');
        assert.strictEqual(renderInputTemplate('"rule <aws.events.rule-name>"', {}, event, { "aws.events.rule-name": "r" }), '"rule r"');
    });

    it("evaluates the documented JSON path subset", () => {
        assert.strictEqual(evaluateInputPath("$.resources[0]", event), "r0");
        assert.deepStrictEqual(evaluateInputPath("$.detail.o.k", event), [1, "x"]);
        assert.strictEqual(evaluateInputPath("$.detail.o.k[1]", event), "x");
        assert.strictEqual(evaluateInputPath("$.detail.s.length", event), undefined);
        assert.strictEqual(evaluateInputPath("$.resources[5]", event), undefined);
        assert.strictEqual(evaluateInputPath("$.detail.constructor", event), undefined);
        assert.throws(() => evaluateInputPath("$..s", event), /syntax/);
        assert.throws(() => evaluateInputPath("detail", event), /start with \$/);
    });
});

describe("zendesk ticket: shape check", () => {
    it("flags each departure from the create-ticket shape", () => {
        assert.deepStrictEqual(ticketShapeErrors('{"ticket":{"subject":"s","comment":{"body":"b"}}}'), []);
        assert.match(ticketShapeErrors("{")[0], /not JSON/);
        assert.deepStrictEqual(ticketShapeErrors("[]"), ["body is not a JSON object"]);
        assert.ok(ticketShapeErrors('{"ticket":{"subject":"","comment":{"body":"b"}}}').some((e) => /subject/.test(e)));
        assert.ok(ticketShapeErrors('{"ticket":{"subject":"s","comment":"b"}}').some((e) => /comment must be an object/.test(e)));
        assert.ok(ticketShapeErrors('{"ticket":{"subject":"s","comment":{"body":1}}}').some((e) => /body/.test(e)));
        assert.ok(
            ticketShapeErrors('{"ticket":{"subject":"s","comment":{"body":"b","public":false}}}').some((e) =>
                /comment fields: public/.test(e),
            ),
        );
        assert.ok(
            ticketShapeErrors('{"ticket":{"subject":"s","comment":{"body":"b"},"requester":{}}}').some((e) =>
                /ticket fields: requester/.test(e),
            ),
        );
        assert.ok(ticketShapeErrors('{"ticket":{"subject":"s","comment":{"body":"b"}},"x":1}').some((e) => /top-level/.test(e)));
        assert.ok(ticketShapeErrors('{"ticket":{"subject":"s","comment":{"body":"b"},"tags":[1]}}').some((e) => /tags/.test(e)));
    });
});

describe("zendesk settings", () => {
    it("accepts Zendesk tickets endpoints only", () => {
        assert.deepStrictEqual(parseZendeskEndpoint("https://acme.zendesk.com/api/v2/tickets"), {
            url: "https://acme.zendesk.com/api/v2/tickets",
            subdomain: "acme",
        });
        assert.strictEqual(parseZendeskEndpoint("https://my-co2.zendesk.com/api/v2/tickets.json").subdomain, "my-co2");
        for (const bad of [
            "http://acme.zendesk.com/api/v2/tickets",
            "https://acme.zendesk.com/api/v2/tickets/",
            "https://acme.zendesk.com/api/v2/users",
            "https://acme.zendesk.com.evil.example/api/v2/tickets",
            "https://evil.example/acme.zendesk.com/api/v2/tickets",
            "https://user:pw@acme.zendesk.com/api/v2/tickets",
            "https://acme.zendesk.com:8443/api/v2/tickets",
            "https://acme.zendesk.com/api/v2/tickets?x=1",
            "https://acme.zendesk.com/api/v2/tickets#x",
            "https://.zendesk.com/api/v2/tickets",
            "https://-acme.zendesk.com/api/v2/tickets",
            "https://a_b.zendesk.com/api/v2/tickets",
            "https://a.b.zendesk.com/api/v2/tickets",
            " https://acme.zendesk.com/api/v2/tickets",
            "",
        ]) {
            assert.throws(
                () => parseZendeskEndpoint(bad),
                (e: Error) => e instanceof ZendeskConfigError && /zendeskEndpoint/.test(e.message),
                bad,
            );
        }
    });

    it("builds the API-token username and validates the email", () => {
        assert.strictEqual(zendeskUsername("support@example.com"), "support@example.com/token");
        assert.strictEqual(validateZendeskEmail("support@example.com"), "support@example.com");
        for (const bad of ["support", "support@", "a b@example.com", "support@example.com/token", ""]) {
            assert.throws(() => validateZendeskEmail(bad), /zendeskEmail/, bad);
        }
    });

    it("defaults the rate within every Zendesk plan, allows 1/s to 300/s and warns above the smallest plan", () => {
        assert.ok(DEFAULT_ZENDESK_RATE_PER_SECOND * 60 <= ZENDESK_PLAN_REQUESTS_PER_MINUTE.lowest);
        assert.deepStrictEqual(validateZendeskRate(DEFAULT_ZENDESK_RATE_PER_SECOND), []);
        assert.deepStrictEqual(validateZendeskRate(1), []);
        assert.match(validateZendeskRate(10)[0], /600 requests a minute/);
        for (const bad of [0, -1, 1.5, 301, Number.NaN]) assert.throws(() => validateZendeskRate(bad), /zendeskRatePerSecond/);
    });

    it("is all or nothing: no keys disables Zendesk, some keys is an error naming the missing ones", () => {
        assert.strictEqual(zendeskEnabled({ zendeskApiToken: false }), false);
        assert.strictEqual(zendeskEnabled({ zendeskEmail: "", zendeskApiToken: false, zendeskEndpoint: "" }), false);
        assert.strictEqual(
            zendeskEnabled({ zendeskEmail: "a@b.c", zendeskApiToken: true, zendeskEndpoint: "https://a.zendesk.com/api/v2/tickets" }),
            true,
        );
        assert.throws(
            () => zendeskEnabled({ zendeskEmail: "a@b.c", zendeskApiToken: false }),
            (e: Error) => /zendeskApiToken, zendeskEndpoint are missing/.test(e.message) && /--secret zendeskApiToken/.test(e.message),
        );
        assert.throws(
            () => zendeskEnabled({ zendeskApiToken: true, zendeskEndpoint: "https://a.zendesk.com/api/v2/tickets" }),
            /zendeskEmail is missing/,
        );
    });
});
