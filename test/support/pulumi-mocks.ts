/**
 * Pulumi mocks shared by every unit test. Mocks are process-global in Pulumi, so they are set once here
 * (import this module before any component) and each test finds its own resources by name prefix.
 */
import * as pulumi from "@pulumi/pulumi";

export const ACCOUNT = "123456789012";
export const REGION = "us-east-1";

export interface MockedResource {
    type: string;
    name: string;
    inputs: Record<string, any>;
    state: Record<string, any>;
}

/** Every resource registered so far, in registration order. */
export const resources: MockedResource[] = [];

/** An ARN shaped as AWS shapes it for the type, so IAM evaluation sees realistic resources. */
function arnFor(type: string, name: string, inputs: Record<string, any>): string {
    const physical = inputs.name ?? name;
    switch (type) {
        case "aws:s3/bucketV2:BucketV2":
        case "aws:s3/bucket:Bucket":
            return `arn:aws:s3:::${inputs.bucket ?? physical}`;
        case "aws:cloudwatch/eventBus:EventBus":
            return `arn:aws:events:${REGION}:${ACCOUNT}:event-bus/${physical}`;
        case "aws:cloudwatch/eventRule:EventRule": {
            const bus = inputs.eventBusName && inputs.eventBusName !== "default" ? `${inputs.eventBusName}/` : "";
            return `arn:aws:events:${REGION}:${ACCOUNT}:rule/${bus}${physical}`;
        }
        case "aws:cloudwatch/eventConnection:EventConnection":
            return `arn:aws:events:${REGION}:${ACCOUNT}:connection/${physical}/00000000-0000-0000-0000-000000000000`;
        case "aws:cloudwatch/eventApiDestination:EventApiDestination":
            return `arn:aws:events:${REGION}:${ACCOUNT}:api-destination/${physical}/00000000-0000-0000-0000-000000000000`;
        case "aws:cloudwatch/eventArchive:EventArchive":
            return `arn:aws:events:${REGION}:${ACCOUNT}:archive/${physical}`;
        case "aws:kinesis/firehoseDeliveryStream:FirehoseDeliveryStream":
            return `arn:aws:firehose:${REGION}:${ACCOUNT}:deliverystream/${physical}`;
        case "aws:sqs/queue:Queue":
            return `arn:aws:sqs:${REGION}:${ACCOUNT}:${physical}`;
        case "aws:cognito/userPool:UserPool":
            return `arn:aws:cognito-idp:${REGION}:${ACCOUNT}:userpool/${REGION}_${physical}`;
        case "aws:lambda/function:Function":
            return `arn:aws:lambda:${REGION}:${ACCOUNT}:function:${physical}`;
        case "aws:iam/role:Role":
            return `arn:aws:iam::${ACCOUNT}:role/${physical}`;
        case "aws:cloudwatch/logGroup:LogGroup":
            return `arn:aws:logs:${REGION}:${ACCOUNT}:log-group:${physical}`;
        case "aws:kms/key:Key":
            return `arn:aws:kms:${REGION}:${ACCOUNT}:key/${name}`;
        case "aws:apigateway/restApi:RestApi":
            return `arn:aws:apigateway:${REGION}::/restapis/${name}-id`;
        case "aws:sns/topic:Topic":
            return `arn:aws:sns:${REGION}:${ACCOUNT}:${physical}`;
        case "aws:cloudwatch/metricAlarm:MetricAlarm":
            return `arn:aws:cloudwatch:${REGION}:${ACCOUNT}:alarm:${physical}`;
        case "aws:athena/workgroup:Workgroup":
            return `arn:aws:athena:${REGION}:${ACCOUNT}:workgroup/${physical}`;
        case "aws:iam/policy:Policy":
            return `arn:aws:iam::${ACCOUNT}:policy/${physical}`;
        default:
            return `arn:aws:mock:${REGION}:${ACCOUNT}:${type.split(":")[1]?.split("/")[0] ?? "x"}/${physical}`;
    }
}

pulumi.runtime.setMocks(
    {
        newResource(args: pulumi.runtime.MockResourceArgs): { id: string; state: Record<string, any> } {
            const inputs = args.inputs as Record<string, any>;
            const state: Record<string, any> = { ...inputs, arn: arnFor(args.type, args.name, inputs) };
            if (state.name === undefined) state.name = args.name;
            switch (args.type) {
                case "aws:sqs/queue:Queue":
                    state.url = `https://sqs.${REGION}.amazonaws.com/${ACCOUNT}/${state.name}`;
                    break;
                case "aws:cognito/userPool:UserPool":
                    state.endpoint = `cognito-idp.${REGION}.amazonaws.com/${REGION}_${args.name}`;
                    break;
                case "aws:apigateway/restApi:RestApi":
                    state.rootResourceId = `${args.name}-root`;
                    state.executionArn = `arn:aws:execute-api:${REGION}:${ACCOUNT}:${args.name}-id`;
                    break;
                case "aws:lambda/function:Function":
                    state.invokeArn = `arn:aws:apigateway:${REGION}:lambda:path/2015-03-31/functions/${state.arn}/invocations`;
                    break;
                case "aws:s3/bucketV2:BucketV2":
                case "aws:s3/bucket:Bucket":
                    state.bucket = inputs.bucket ?? `${args.name}-bucket`;
                    state.arn = `arn:aws:s3:::${state.bucket}`;
                    break;
            }
            resources.push({ type: args.type, name: args.name, inputs, state });
            return { id: `${args.name}-id`, state };
        },
        call(args: pulumi.runtime.MockCallArgs): Record<string, any> {
            switch (args.token) {
                case "aws:index/getCallerIdentity:getCallerIdentity":
                    return { accountId: ACCOUNT, arn: `arn:aws:iam::${ACCOUNT}:user/test`, userId: "AIDTEST" };
                case "aws:index/getRegion:getRegion":
                    return { name: REGION, region: REGION, id: REGION };
                case "aws:index/getPartition:getPartition":
                    return { partition: "aws", dnsSuffix: "amazonaws.com" };
                default:
                    return args.inputs;
            }
        },
    },
    "client-events",
    "test",
    false,
);

/** The value inside an Output (mocks run with preview = false, so every value is known). */
export function valueOf<T>(output: pulumi.Input<T> | pulumi.Output<T>): Promise<T> {
    return new Promise((resolve) =>
        pulumi.output(output).apply((v) => {
            resolve(v as T);
            return v;
        }),
    );
}

/**
 * Resolves once every resource registration and invoke started so far has completed, and so has every
 * one those started: a resource created in an `apply` is registered only once the outputs it waits for
 * are resolved. Each registration holds the SDK's RPC queue open until its outputs are resolved, and
 * `waitForRPCs` (what Pulumi awaits before a program ends) resolves when that queue is empty. Between two
 * waits, one turn of the event loop lets every `apply` callback those outputs unblocked run; when no new
 * resource appeared, nothing is left. `waitForRPCs` is exported by the SDK's runtime but marked internal:
 * @pulumi/pulumi is pinned to one minor version, and this fails loudly if it ever goes away.
 */
export async function registrationsDone(): Promise<void> {
    const { waitForRPCs } = pulumi.runtime as unknown as { waitForRPCs?: () => Promise<void> };
    if (typeof waitForRPCs !== "function")
        throw new Error("@pulumi/pulumi no longer exports runtime.waitForRPCs: update test/support/pulumi-mocks.ts");
    for (;;) {
        await waitForRPCs();
        const seen = resources.length;
        await new Promise((resolve) => setImmediate(resolve));
        await waitForRPCs();
        if (resources.length === seen) return;
    }
}

/** Every resource registered under a name prefix (and of a type, if given), once every registration is done. */
export async function resourcesOf(prefix: string, type?: string): Promise<MockedResource[]> {
    await registrationsDone();
    return resources.filter((r) => r.name.startsWith(prefix) && (type === undefined || r.type === type));
}

/** The one resource of a type under prefix; fails loudly when there is none or several. */
export async function oneOf(prefix: string, type: string): Promise<MockedResource> {
    const found = await resourcesOf(prefix, type);
    if (found.length !== 1) {
        throw new Error(`expected one ${type} under "${prefix}", found ${found.length}: ${found.map((r) => r.name).join(", ")}`);
    }
    return found[0];
}
