import * as assert from "assert";
import { oneOf, valueOf } from "./support/pulumi-mocks";
import { HandlerFunction } from "../components/handler-function";
import { handler } from "./smoke-handler";

describe("smoke", () => {
    it("builds a HandlerFunction and serializes it", async () => {
        const fn = new HandlerFunction("smoke", { callback: handler, packages: ["aws-jwt-verify"] });
        const doc = await valueOf(fn.policyDocument);
        assert.ok(doc.includes("logs:PutLogEvents"));
        const lambda = await oneOf("smoke", "aws:lambda/function:Function");
        assert.strictEqual(lambda.inputs.runtime, "nodejs22.x");
        assert.ok(lambda.state.arn.startsWith("arn:aws:lambda:"));
    });
});
