/**
 * Gateway responses stay JSON whatever API Gateway substitutes into them. API Gateway documents no
 * escaping of `$context.*` values in gateway response templates, so each template is rendered with a
 * substitution that inserts values exactly as they are, with hostile text for every variable.
 */
import { strict as assert } from "node:assert";
import { GATEWAY_RESPONSES, JSON_SAFE_CONTEXT_VARIABLES } from "../pipeline/gateway-responses";
import { substituteGatewayTemplate } from "../local/api-gateway/rest-api";

/** What API Gateway's validator and messages can hold: quotes, backslashes, markup, newlines, `$`. */
const HOSTILE = [
    '[object has missing required properties (["entries"])]',
    'instance failed to match: ["x\\"y"] \\ </script> \n\t $context.requestId "',
    '"}, "injected": true, "x": "',
];

/** Values of the variables API Gateway generates itself, in their documented alphabets. */
const GENERATED: Record<string, string> = {
    "$context.requestId": "c6af9ac6-7b61-11e6-9a41-93e8deadbeef",
    "$context.error.responseType": "BAD_REQUEST_BODY",
};

/** Inserts each `$context.*` / `$stageVariables.*` value as it is, like API Gateway (no escaping). */
function substituteRaw(template: string, value: (variable: string) => string): string {
    return template.replace(/\$(?:context|stageVariables)(?:\.[A-Za-z0-9_]+)+/g, (variable) => value(variable));
}

describe("gateway responses", () => {
    it("the unescaped substitution used here is the one that breaks the old template", () => {
        // The 400 template before: the validation string inside a JSON string.
        const old = `{"message": "Invalid request body: $context.error.validationErrorString", "requestId": "$context.requestId"}`;
        const rendered = substituteRaw(old, (v) => GENERATED[v] ?? HOSTILE[0]);
        assert.throws(() => JSON.parse(rendered), SyntaxError);
    });

    for (const spec of GATEWAY_RESPONSES) {
        it(`${spec.responseType}: valid JSON with a message, whatever any variable holds`, () => {
            for (const hostile of HOSTILE) {
                // Every variable gets hostile text unless API Gateway generates its value (ids, enums).
                const rendered = substituteRaw(
                    spec.template,
                    (v) => GENERATED[v] ?? (v === "$context.error.messageString" ? `"${hostile}"` : hostile),
                );
                const parsed = JSON.parse(rendered);
                assert.equal(typeof parsed.message, "string", rendered);
                assert.ok(!JSON.stringify(parsed).includes("injected"), rendered);
            }
        });
    }

    it("only API Gateway's own ids and enums are substituted, each inside a string", () => {
        for (const spec of GATEWAY_RESPONSES) {
            for (const [variable] of spec.template.matchAll(/\$(?:context|stageVariables)(?:\.[A-Za-z0-9_]+)+/g)) {
                assert.ok(variable in JSON_SAFE_CONTEXT_VARIABLES, `${spec.responseType} uses ${variable}`);
                assert.ok(JSON_SAFE_CONTEXT_VARIABLES[variable].test(GENERATED[variable]), variable);
            }
        }
    });

    it("the 400 answer says what the body must look like; the 403 that the user has no clientId", () => {
        const render = (type: string) =>
            JSON.parse(substituteRaw(GATEWAY_RESPONSES.find((r) => r.responseType === type)!.template, (v) => GENERATED[v]));
        const bad = render("BAD_REQUEST_BODY");
        assert.match(
            bad.message,
            /^Invalid request body: expected \{"entries": \[\{"entry": "<one event as a JSON string>"\}, \.\.\.\]\} with 1 to 10 entries/,
        );
        assert.deepEqual(
            { type: bad.type, requestId: bad.requestId },
            { type: "BAD_REQUEST_BODY", requestId: GENERATED["$context.requestId"] },
        );
        assert.equal(render("ACCESS_DENIED").message, "Forbidden: this user has no clientId");
    });

    describe("local mode's substitution", () => {
        it("inserts values without escaping, as API Gateway documents it", () => {
            const out = substituteGatewayTemplate(
                `{"a": "$context.error.validationErrorString", "m": $context.error.messageString, "s": "$stageVariables.Bus"}`,
                { error: { validationErrorString: 'x"y\\', message: 'q"r' } },
                { Bus: 'b"' },
            );
            assert.equal(out, `{"a": "x"y\\", "m": "q"r", "s": "b""}`);
        });

        it("renders every gateway response as JSON with hostile values in every context variable", () => {
            for (const spec of GATEWAY_RESPONSES) {
                for (const hostile of HOSTILE) {
                    const context = {
                        requestId: GENERATED["$context.requestId"],
                        error: { responseType: spec.responseType, message: hostile, validationErrorString: hostile },
                        authorizer: { clientId: hostile, principalId: hostile },
                        identity: { sourceIp: hostile, userAgent: hostile },
                    };
                    const parsed = JSON.parse(substituteGatewayTemplate(spec.template, context, { Bus: hostile, Environment: hostile }));
                    assert.equal(parsed.type, spec.responseType);
                    assert.equal(parsed.requestId, GENERATED["$context.requestId"]);
                }
            }
        });
    });
});
