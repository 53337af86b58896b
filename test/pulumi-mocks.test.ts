/**
 * The mocks' wait for registrations (test/support/pulumi-mocks.ts): resources created inside `apply`
 * callbacks, several levels deep and after an invoke, are all found without any timer.
 */
import * as assert from "node:assert/strict";
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { registrationsDone, resources, resourcesOf } from "./support/pulumi-mocks";

/** A component whose last resources exist only once earlier outputs (and an invoke) have resolved. */
class Nested extends pulumi.ComponentResource {
    constructor(name: string) {
        super("test:index:Nested", name, {}, {});
        const parent = { parent: this };
        const first = new aws.sqs.Queue(`${name}-first`, {}, parent);
        first.arn.apply((arn) => {
            const second = new aws.sqs.Queue(`${name}-second`, { tags: { after: arn } }, parent);
            second.url.apply((url) => new aws.sqs.Queue(`${name}-third`, { tags: { after: url } }, parent));
        });
        aws.getRegionOutput({}, parent).region.apply((region) => new aws.sqs.Queue(`${name}-${region}`, {}, parent));
        this.registerOutputs({});
    }
}

describe("Pulumi mocks: waiting for registrations", () => {
    it("finds resources registered inside apply callbacks, three levels deep and after an invoke", async () => {
        new Nested("nested-a");
        const names = (await resourcesOf("nested-a", "aws:sqs/queue:Queue")).map((r) => r.name).sort();
        assert.deepEqual(names, ["nested-a-first", "nested-a-second", "nested-a-third", "nested-a-us-east-1"]);
    });

    it("returns at once when nothing is pending", async () => {
        await registrationsDone();
        const count = resources.length;
        await registrationsDone();
        assert.equal(resources.length, count);
    });
});
