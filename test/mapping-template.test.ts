/**
 * The ingest path's data, exercised with the API-Gateway-faithful renderer: the request model and the
 * limits, the PutEvents request template over adversarial entries, and the integration responses.
 */
import * as assert from "assert";
import Ajv from "ajv-draft-04";
import { renderTemplateWithOverrides } from "../local/api-gateway/vtl";
import {
    EVENT_SOURCE,
    MAX_CLIENT_ID_LENGTH,
    MAX_ENTRIES_PER_REQUEST,
    MAX_ENTRY_LENGTH,
    MAX_ENVIRONMENT_LENGTH,
    PUT_EVENTS_MAX_BYTES,
    putEventsEntrySize,
} from "../pipeline/limits";
import {
    PUT_EVENTS_REQUEST_HEADERS,
    PUT_EVENTS_REQUEST_PARAMETERS,
    PUT_EVENTS_REQUEST_TEMPLATE,
    putEventsIntegrationUri,
} from "../pipeline/mapping-template";
import {
    PUT_EVENTS_CLIENT_ERROR_TEMPLATE,
    PUT_EVENTS_INTEGRATION_RESPONSES,
    PUT_EVENTS_SERVER_ERROR_TEMPLATE,
    PUT_EVENTS_SUCCESS_TEMPLATE,
    METHOD_RESPONSE_STATUS_CODES,
} from "../pipeline/integration-responses";
import { selectIntegrationResponse } from "../local/api-gateway/rest-api";
import { REQUEST_MODEL_SCHEMA } from "../pipeline/request-model";
import { seededRandom } from "../generator/random";
import { EventBridgeClient, PutEventsCommand, type PutEventsRequestEntry } from "@aws-sdk/client-eventbridge";

const CLIENT_ID = "7d5e8a40-1c1f-4f0e-9a53-3f1d2a6b9c01";
const STAGE_VARIABLES = { Environment: "dev", Bus: "client-events-dev-bus" };

interface PutEventsRequest {
    Entries: Array<{ Source: string; DetailType: string; EventBusName: string; Resources: string[]; Detail: string }>;
}

/** Renders the request template for these entries and parses the result as a PutEvents request. */
function render(entries: string[], stageVariables = STAGE_VARIABLES, clientId = CLIENT_ID): PutEventsRequest {
    const body = JSON.stringify({ entries: entries.map((entry) => ({ entry })) });
    const { output } = renderTemplateWithOverrides(PUT_EVENTS_REQUEST_TEMPLATE, {
        body,
        context: { requestId: "req-1", authorizer: { clientId, principalId: "sub-1" } },
        stageVariables,
    });
    let parsed: PutEventsRequest;
    try {
        parsed = JSON.parse(output);
    } catch (err) {
        throw new Error(`the rendered PutEvents request is not JSON (${(err as Error).message}):\n${output.slice(0, 500)}`, { cause: err });
    }
    return parsed;
}

/** Asserts the request has one well-formed entry per input entry, in order, each Detail exactly the entry. */
function assertRoundTrip(entries: string[]): void {
    const request = render(entries);
    assert.deepStrictEqual(Object.keys(request), ["Entries"]);
    assert.strictEqual(request.Entries.length, entries.length);
    request.Entries.forEach((e, i) => {
        assert.deepStrictEqual(Object.keys(e).sort(), ["Detail", "DetailType", "EventBusName", "Resources", "Source"]);
        assert.strictEqual(e.Source, EVENT_SOURCE);
        assert.strictEqual(e.DetailType, STAGE_VARIABLES.Environment);
        assert.strictEqual(e.EventBusName, STAGE_VARIABLES.Bus);
        assert.deepStrictEqual(e.Resources, [CLIENT_ID]);
        assert.strictEqual(e.Detail, entries[i], `entry ${i} changed on the way: ${JSON.stringify(entries[i]).slice(0, 80)}`);
        let original: unknown = Symbol("not JSON");
        try {
            original = JSON.parse(entries[i]);
        } catch {
            /* not JSON: compared as strings above */
        }
        if (typeof original !== "symbol") assert.deepStrictEqual(JSON.parse(e.Detail), original);
    });
}

describe("request model and limits", () => {
    const ajv = new Ajv({ allErrors: true });
    const validate = ajv.compile(REQUEST_MODEL_SCHEMA as object);
    const body = (entries: unknown[]) => ({ entries });

    it("is a draft-04 schema (API Gateway models are JSON Schema draft 4) that the draft-04 meta-schema accepts", () => {
        assert.strictEqual(REQUEST_MODEL_SCHEMA.$schema, "http://json-schema.org/draft-04/schema#");
        assert.strictEqual(ajv.validateSchema(REQUEST_MODEL_SCHEMA), true, ajv.errorsText());
        // Only draft-4 keywords (the draft's validation and core keywords), at every level of the schema.
        const draft4 = new Set([
            "$schema",
            "id",
            "$ref",
            "title",
            "description",
            "default",
            "type",
            "enum",
            "allOf",
            "anyOf",
            "oneOf",
            "not",
            "definitions",
            "multipleOf",
            "maximum",
            "exclusiveMaximum",
            "minimum",
            "exclusiveMinimum",
            "maxLength",
            "minLength",
            "pattern",
            "items",
            "additionalItems",
            "maxItems",
            "minItems",
            "uniqueItems",
            "maxProperties",
            "minProperties",
            "required",
            "properties",
            "patternProperties",
            "additionalProperties",
            "dependencies",
            "format",
        ]);
        const keywordsOf = (schema: unknown): string[] => {
            if (typeof schema !== "object" || schema === null) return [];
            const s = schema as Record<string, unknown>;
            const nested = [
                s.items,
                s.additionalItems,
                s.additionalProperties,
                s.not,
                ...[s.allOf, s.anyOf, s.oneOf].flatMap((x) => (Array.isArray(x) ? x : [])),
                ...[s.properties, s.patternProperties, s.definitions].flatMap((x) => (x && typeof x === "object" ? Object.values(x) : [])),
            ];
            return [...Object.keys(s), ...nested.flatMap(keywordsOf)];
        };
        const used = keywordsOf(REQUEST_MODEL_SCHEMA);
        assert.ok(used.includes("maxItems") && used.includes("maxLength"), "the walk reaches the item schema");
        assert.deepStrictEqual(
            used.filter((k) => !draft4.has(k)),
            [],
        );
    });

    it("accepts 1 to 10 entries of one non-empty string each", () => {
        assert.ok(validate(body([{ entry: "{}" }])));
        assert.ok(validate(body(Array.from({ length: 10 }, () => ({ entry: '{"eventType":"shopping"}' })))));
    });

    const invalid: Array<[string, unknown]> = [
        ["no entries", body([])],
        ["11 entries", body(Array.from({ length: 11 }, () => ({ entry: "{}" })))],
        ["entries missing", {}],
        ["entries not an array", { entries: { entry: "{}" } }],
        ["an entry without entry", body([{}])],
        ["an empty entry", body([{ entry: "" }])],
        ["an entry that is an object, not a string", body([{ entry: { eventType: "x" } }])],
        ["an entry that is a number", body([{ entry: 1 }])],
        ["an extra property in an item", body([{ entry: "{}", extra: 1 }])],
        ["an extra top-level property", { entries: [{ entry: "{}" }], more: true }],
        ["a body that is an array", [{ entry: "{}" }]],
        ["an entry one character too long", body([{ entry: "x".repeat(MAX_ENTRY_LENGTH + 1) }])],
    ];
    for (const [title, value] of invalid) {
        it(`rejects ${title}`, () => assert.strictEqual(validate(value), false));
    }

    it("entry sizes and request limits are EventBridge's documented ones: 14 bytes for Time, UTF-8 bytes, 10 entries, 256 KiB", () => {
        // 14 bytes for Time (not sent) + UTF-8 bytes of Source, DetailType, Detail and each of Resources.
        assert.strictEqual(putEventsEntrySize({ Source: "ab", DetailType: "é", Detail: "😀", Resources: ["x", "yz"] }), 2 + 2 + 4 + 3);
        assert.strictEqual(putEventsEntrySize({ Time: new Date(), Source: "a", DetailType: "b" }), 14 + 2);
        assert.strictEqual(MAX_ENTRIES_PER_REQUEST, 10);
        assert.strictEqual(PUT_EVENTS_MAX_BYTES, 256 * 1024);
    });

    const worstCases: Array<[string, string]> = [
        ["4-byte characters (emoji)", "😀"],
        ["3-byte characters", "€"],
        ["2-byte characters", "é"],
        ["ASCII", "a"],
    ];
    for (const [title, unit] of worstCases) {
        it(`ten longest valid entries of ${title} fit one PutEvents request, with the longest environment and clientId`, () => {
            const entry = unit.repeat(MAX_ENTRY_LENGTH);
            assert.ok(validate(body(Array.from({ length: 10 }, () => ({ entry })))), "the model accepts them");
            const total =
                10 *
                putEventsEntrySize({
                    Source: EVENT_SOURCE,
                    DetailType: "e".repeat(MAX_ENVIRONMENT_LENGTH),
                    Detail: entry,
                    Resources: ["c".repeat(MAX_CLIENT_ID_LENGTH)],
                });
            assert.ok(total < PUT_EVENTS_MAX_BYTES, `${total} bytes`);
        });
    }

    // With the test above, this one pins MAX_ENTRY_LENGTH: the largest length whose ten worst-case entries fit.
    it("the bound is tight: ten entries of one more 4-byte character would reach the limit", () => {
        const entry = "😀".repeat(MAX_ENTRY_LENGTH + 1);
        const total =
            10 *
            putEventsEntrySize({
                Source: EVENT_SOURCE,
                DetailType: "e".repeat(MAX_ENVIRONMENT_LENGTH),
                Detail: entry,
                Resources: ["c".repeat(MAX_CLIENT_ID_LENGTH)],
            });
        assert.ok(total >= PUT_EVENTS_MAX_BYTES, `${total}`);
    });
});

/** The HTTP request the AWS SDK's EventBridge client sends for PutEvents (captured before it is signed and sent). */
async function sdkPutEventsRequest(
    entries: PutEventsRequestEntry[],
    region = "eu-west-1",
): Promise<{ hostname: string; headers: Record<string, string>; body: string }> {
    const client = new EventBridgeClient({ region, credentials: { accessKeyId: "AKIDEXAMPLE", secretAccessKey: "example" } });
    const command = new PutEventsCommand({ Entries: entries });
    let captured: { hostname: string; headers: Record<string, string>; body: string } | undefined;
    command.middlewareStack.add(
        (_next) => async (args) => {
            const request = args.request as { hostname: string; headers: Record<string, string>; body: unknown };
            const body: unknown = request.body;
            captured = {
                hostname: request.hostname,
                headers: request.headers,
                body: typeof body === "string" ? body : new TextDecoder().decode(body as Uint8Array),
            };
            return { output: { $metadata: {} }, response: {} } as never;
        },
        { step: "build", priority: "low" },
    );
    await client.send(command);
    assert.ok(captured, "the SDK built a request");
    return captured;
}

describe("PutEvents request template", () => {
    it("targets PutEvents with the headers and the service the AWS SDK uses for it", async () => {
        const sdk = await sdkPutEventsRequest(
            [{ Source: EVENT_SOURCE, DetailType: "dev", Detail: "{}", EventBusName: "bus" }],
            "eu-west-1",
        );
        const header = (name: string) => Object.entries(sdk.headers).find(([k]) => k.toLowerCase() === name.toLowerCase())?.[1];
        assert.deepStrictEqual(PUT_EVENTS_REQUEST_HEADERS, {
            "X-Amz-Target": header("X-Amz-Target"),
            "Content-Type": header("Content-Type"),
        });
        assert.deepStrictEqual(
            PUT_EVENTS_REQUEST_PARAMETERS,
            Object.fromEntries(
                Object.entries(PUT_EVENTS_REQUEST_HEADERS).map(([name, value]) => [`integration.request.header.${name}`, `'${value}'`]),
            ),
        );
        // API Gateway names an AWS service action as arn:aws:apigateway:<region>:<service subdomain>:action/<action>.
        const subdomain = sdk.hostname.split(".")[0];
        assert.strictEqual(sdk.hostname, `${subdomain}.eu-west-1.amazonaws.com`);
        assert.strictEqual(putEventsIntegrationUri("eu-west-1"), `arn:aws:apigateway:eu-west-1:${subdomain}:action/PutEvents`);
    });

    it("renders the body the AWS SDK sends for the same entries", async () => {
        const entries = [`{"eventType":"shopping","schemaVersion":1,"data":{"itemSku":123}}`, `{"name":"O'Brien","path":"a\\b"}`];
        const sdk = await sdkPutEventsRequest(
            entries.map((Detail) => ({
                Source: EVENT_SOURCE,
                DetailType: STAGE_VARIABLES.Environment,
                EventBusName: STAGE_VARIABLES.Bus,
                Resources: [CLIENT_ID],
                Detail,
            })),
        );
        assert.deepStrictEqual(render(entries), JSON.parse(sdk.body));
    });

    it("undoes escapeJavaScript's \\' with a Java regex of one backslash and an apostrophe", () => {
        assert.ok(PUT_EVENTS_REQUEST_TEMPLATE.includes(`$util.escapeJavaScript($elem.entry).replaceAll("\\\\'","'")`));
    });

    it("maps the sample events", () => {
        assertRoundTrip([
            `{"eventType":"shopping","schemaVersion":1,"data":{"itemSku":123}}`,
            `{"eventType":"loyaltypurchase","schemaVersion":1,"data":{"itemSku":456,"points":10}}`,
        ]);
    });

    const adversarial: Array<[string, string]> = [
        ["an apostrophe (the original sample's defect)", `{"name":"O'Brien"}`],
        ["many apostrophes", `{"a":"'''","b":"it's Bob's"}`],
        ["escaped quotes", `{"quote":"she said \\"hi\\""}`],
        ["backslashes", `{"path":"C:\\\\Users\\\\x","one":"\\\\"}`],
        ["a backslash before an apostrophe", `{"x":"\\\\'"}`],
        ["the text \\' literally", `{"x":"\\\\'\\\\'"}`],
        ["backslash runs before apostrophes", `{"x":"\\\\\\\\'\\\\\\\\\\\\'"}`],
        ["slashes and </script>", `{"url":"https://example.com/a/b","html":"</script>"}`],
        ["newlines, tabs, CR as JSON escapes", `{"t":"a\\nb\\tc\\rd\\be\\ff"}`],
        ["raw whitespace between tokens", `{\n\t"a" :\r\n 1 }`],
        ["control characters as \\u escapes", `{"c":"\\u0000\\u0001\\u001f\\u007f"}`],
        ["emoji and 4-byte characters", `{"e":"😀👍🏽🇫🇷","m":"𝄞"}`],
        ["unicode text", `{"t":"héllo wörld ñ 你好 مرحبا Ω ≠ ∑"}`],
        ["raw non-ASCII and escaped non-ASCII", `{"a":"é","b":"\\u00e9"}`],
        ["a lone surrogate escape", `{"s":"\\ud800"}`],
        ["dollar signs", `{"price":"$100","v":"$context.authorizer.clientId","w":"$stageVariables.Bus"}`],
        [
            "VTL-looking text",
            `{"a":"#set($x = 'y')","b":"#if(true)x#end","c":"\${x}","d":"#foreach($i in [1..3])$i#end","e":"## comment","f":"#* block *#"}`,
        ],
        ["Velocity escapes", `{"a":"\\\\$x","b":"#[[raw]]#"}`],
        ["JSON that is not an object (EventBridge will say MalformedDetail)", `[1,2,3]`],
        ["not JSON at all", `it's not JSON: "x" \\ y`],
        ["numbers, booleans, null, nesting", `{"n":-1.5e10,"b":true,"z":null,"deep":{"a":[{"b":[[]]}]}}`],
        ["a very long entry", JSON.stringify({ data: "ab'\\\"/😀\n$#".repeat(400) })],
    ];
    for (const [title, entry] of adversarial) {
        it(`keeps ${title} exactly`, () => assertRoundTrip([entry]));
    }

    it("keeps ten adversarial entries together, in order", () => {
        assertRoundTrip(adversarial.slice(0, 10).map(([, e]) => e));
    });

    it("keeps the longest valid entries exactly", () => {
        assertRoundTrip([`"${"'".repeat(MAX_ENTRY_LENGTH - 2)}"`, `"${"😀".repeat((MAX_ENTRY_LENGTH - 2) / 2)}"`]);
    });

    it("keeps every string of up to 4 characters over the troublesome alphabet  \\ ' \" / x \\n é", () => {
        const alphabet = ["\\", "'", '"', "/", "x", "\n", "é"];
        let count = 0;
        const batch: string[] = [];
        const visit = (prefix: string, depth: number): void => {
            if (prefix !== "") {
                batch.push(prefix);
                count++;
                if (batch.length === 10) {
                    assertRoundTrip(batch);
                    batch.length = 0;
                }
            }
            if (depth === 0) return;
            for (const ch of alphabet) visit(prefix + ch, depth - 1);
        };
        visit("", 4);
        if (batch.length) assertRoundTrip(batch);
        assert.strictEqual(count, 7 + 49 + 343 + 2401);
    });

    it("keeps 300 random JSON documents of random code points", () => {
        const random = seededRandom(20261127); // deterministic, so failures reproduce
        const pick = (): string => {
            const r = random();
            if (r < 0.3) return String.fromCharCode(Math.floor(random() * 0x80));
            if (r < 0.4) return ["'", "\\", '"', "/", "$", "#", "{", "}"][Math.floor(random() * 8)];
            if (r < 0.7) return String.fromCharCode(0x80 + Math.floor(random() * (0xd800 - 0x80)));
            if (r < 0.85) return String.fromCodePoint(0x10000 + Math.floor(random() * 0xfffff));
            return String.fromCharCode(0xe000 + Math.floor(random() * 0x2000));
        };
        for (let n = 0; n < 30; n++) {
            const entries = Array.from({ length: 10 }, () => {
                let text = "";
                const length = Math.floor(random() * 40);
                for (let i = 0; i < length; i++) text += pick();
                return JSON.stringify({ text, [text.slice(0, 5)]: [text, 1, null] });
            });
            assertRoundTrip(entries);
        }
    });

    it("DetailType and EventBusName come from the stage variables, Resources from the authorizer", () => {
        const request = render(["{}"], { Environment: "prod_eu-1", Bus: "other-bus" }, "c-1");
        assert.strictEqual(request.Entries[0].DetailType, "prod_eu-1");
        assert.strictEqual(request.Entries[0].EventBusName, "other-bus");
        assert.deepStrictEqual(request.Entries[0].Resources, ["c-1"]);
    });
});

describe("integration responses", () => {
    function respond(template: string, body: unknown) {
        const context: Record<string, any> = { requestId: "req-9" };
        const result = renderTemplateWithOverrides(template, { body: JSON.stringify(body), context });
        return { json: JSON.parse(result.output), status: result.responseOverride.status };
    }

    it("selects by the backend's HTTP status: 2xx default, 4xx and 5xx", () => {
        assert.strictEqual(selectIntegrationResponse(200).statusCode, "200");
        assert.strictEqual(selectIntegrationResponse(400).statusCode, "500");
        assert.strictEqual(selectIntegrationResponse(403).statusCode, "500");
        assert.strictEqual(selectIntegrationResponse(413).statusCode, "500");
        assert.strictEqual(selectIntegrationResponse(500).statusCode, "503");
        assert.strictEqual(selectIntegrationResponse(503).statusCode, "503");
        assert.strictEqual(selectIntegrationResponse(2400).statusCode, "200", "patterns match the whole status");
        for (const r of PUT_EVENTS_INTEGRATION_RESPONSES)
            assert.ok((METHOD_RESPONSE_STATUS_CODES as readonly string[]).includes(r.statusCode));
    });

    it("200 with every entry accepted: the event ids in request order, status unchanged", () => {
        const { json, status } = respond(PUT_EVENTS_SUCCESS_TEMPLATE, {
            FailedEntryCount: 0,
            Entries: [{ EventId: "id-1" }, { EventId: "id-2" }],
        });
        assert.strictEqual(status, undefined);
        assert.deepStrictEqual(json, { failedEntryCount: 0, entries: [{ eventId: "id-1" }, { eventId: "id-2" }] });
    });

    it("per-entry failures become 207 with each entry's error, in request order, retryable marked", () => {
        const { json, status } = respond(PUT_EVENTS_SUCCESS_TEMPLATE, {
            FailedEntryCount: 3,
            Entries: [
                { EventId: "id-1" },
                { ErrorCode: "MalformedDetail", ErrorMessage: "Detail is malformed." },
                { ErrorCode: "ThrottlingException", ErrorMessage: "Rate exceeded" },
                { ErrorCode: "InternalFailure", ErrorMessage: 'it\'s "broken" \\ / é 😀\n' },
            ],
        });
        assert.strictEqual(status, 207);
        assert.deepStrictEqual(json, {
            failedEntryCount: 3,
            entries: [
                { eventId: "id-1" },
                { errorCode: "MalformedDetail", errorMessage: "Detail is malformed.", retryable: false },
                { errorCode: "ThrottlingException", errorMessage: "Rate exceeded", retryable: true },
                { errorCode: "InternalFailure", errorMessage: 'it\'s "broken" \\ / é 😀\n', retryable: true },
            ],
        });
    });

    it("every entry failed: still 207 with the per-entry errors", () => {
        const { json, status } = respond(PUT_EVENTS_SUCCESS_TEMPLATE, {
            FailedEntryCount: 1,
            Entries: [{ ErrorCode: "MalformedDetail", ErrorMessage: "x" }],
        });
        assert.strictEqual(status, 207);
        assert.strictEqual(json.failedEntryCount, 1);
    });

    it("EventBridge throttling the whole request: 429, retryable", () => {
        const { json, status } = respond(PUT_EVENTS_CLIENT_ERROR_TEMPLATE, { __type: "ThrottlingException", message: "Rate exceeded" });
        assert.strictEqual(status, 429);
        assert.strictEqual(json.retryable, true);
        assert.strictEqual(json.requestId, "req-9");
    });

    it("EventBridge validation errors: 400 with EventBridge's message", () => {
        const { json, status } = respond(PUT_EVENTS_CLIENT_ERROR_TEMPLATE, {
            __type: "com.amazonaws.events#ValidationException",
            message: 'Total size of the entries in the request is over the limit\'s "x"',
        });
        assert.strictEqual(status, 400);
        assert.strictEqual(
            json.message,
            'EventBridge rejected the request: Total size of the entries in the request is over the limit\'s "x"',
        );
        assert.strictEqual(json.retryable, false);
    });

    it("AccessDenied or a missing bus is the deployment's fault: 500, without AWS's message", () => {
        for (const type of ["AccessDeniedException", "ResourceNotFoundException", "UnrecognizedClientException", ""]) {
            const { json, status } = respond(PUT_EVENTS_CLIENT_ERROR_TEMPLATE, {
                __type: type,
                Message: "User: arn:aws:sts::123456789012:assumed-role/x is not authorized",
            });
            assert.strictEqual(status, undefined, type);
            assert.ok(!JSON.stringify(json).includes("arn:aws"), "no account details leak to clients");
            assert.strictEqual(json.retryable, false);
        }
    });

    it("EventBridge 5xx: 503, retryable", () => {
        const { json, status } = respond(PUT_EVENTS_SERVER_ERROR_TEMPLATE, { __type: "InternalFailure" });
        assert.strictEqual(status, undefined);
        assert.strictEqual(selectIntegrationResponse(500).statusCode, "503");
        assert.deepStrictEqual(json, {
            message: "EventBridge is temporarily unavailable; retry with backoff.",
            retryable: true,
            requestId: "req-9",
        });
    });
});
