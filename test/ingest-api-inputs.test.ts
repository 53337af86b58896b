// IngestApi arguments given as Outputs (values known only at deployment) behave as the same plain values.
import { ACCOUNT, REGION, resourcesOf } from "./support/pulumi-mocks";
import * as assert from "assert";
import * as pulumi from "@pulumi/pulumi";
import { IngestApi, type IngestApiArgs } from "../components/ingest-api";

function args(overrides: Partial<IngestApiArgs>): IngestApiArgs {
    return {
        environment: "dev",
        eventBusName: "in-bus",
        eventBusArn: `arn:aws:events:${REGION}:${ACCOUNT}:event-bus/in-bus`,
        userPoolId: "pool",
        userPoolArn: `arn:aws:cognito-idp:${REGION}:${ACCOUNT}:userpool/pool`,
        userPoolClientId: "client",
        ...overrides,
    };
}

describe("IngestApi with Output arguments", () => {
    it("an Output CORS origin reaches every answer, with Vary: Origin, as a plain one does", async () => {
        new IngestApi("in-cors", args({ corsAllowOrigin: pulumi.output(Promise.resolve("https://app.example.com")) }));
        const gatewayResponses = await resourcesOf("in-cors", "aws:apigateway/response:Response");
        assert.ok(gatewayResponses.length > 0);
        for (const r of gatewayResponses) {
            assert.strictEqual(
                r.inputs.responseParameters["gatewayresponse.header.Access-Control-Allow-Origin"],
                "'https://app.example.com'",
            );
            assert.strictEqual(r.inputs.responseParameters["gatewayresponse.header.Vary"], "'Origin'");
        }
        const [preflight] = await resourcesOf("in-cors-options-mock-", "aws:apigateway/integrationResponse:IntegrationResponse");
        assert.strictEqual(
            preflight.inputs.responseParameters["method.response.header.Access-Control-Allow-Origin"],
            "'https://app.example.com'",
        );
        assert.strictEqual(preflight.inputs.responseParameters["method.response.header.Vary"], "'Origin'");
        const [options] = await resourcesOf("in-cors-options-204", "aws:apigateway/methodResponse:MethodResponse");
        assert.strictEqual(options.inputs.responseParameters["method.response.header.Vary"], true);
    });

    it("an Output execution log level is accepted without logging when it resolves to OFF", async () => {
        new IngestApi("in-level", args({ cloudWatchRole: "off", executionLogLevel: pulumi.output(Promise.resolve("OFF")) }));
        const [settings] = await resourcesOf("in-level-method-settings", "aws:apigateway/methodSettings:MethodSettings");
        assert.strictEqual(settings.inputs.settings.loggingLevel, "OFF");
    });
});
