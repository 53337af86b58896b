/**
 * IAM policy evaluation for tests, with @cloud-copilot/iam-simulate: identity policies of this program's
 * roles are evaluated as AWS would evaluate them (actions, resource ARNs, wildcards, conditions).
 */
import { runSimulation, type Simulation } from "@cloud-copilot/iam-simulate";

export const TEST_ACCOUNT = "123456789012";

export interface SimulationOptions {
    /** Request context keys, e.g. `{ "aws:SourceArn": "..." }`. */
    context?: Record<string, string | string[]>;
    /** The calling principal; default a role of the test account. */
    principal?: string;
    /** The account that owns the resource; default the test account. */
    resourceAccount?: string;
    /** A resource policy to evaluate too (for resource-side checks such as SQS or Lambda permissions). */
    resourcePolicy?: object;
}

function asDocument(policy: string | object): any {
    return typeof policy === "string" ? JSON.parse(policy) : policy;
}

/**
 * The simulator's overall result for one request: "Allowed", "ExplicitlyDenied" or "ImplicitlyDenied".
 * Throws when the simulator rejects the request itself (an unknown action, or a resource ARN that is not
 * a resource type of the action), so a typo in a test or a policy cannot pass as "denied".
 */
export async function evaluate(
    policy: string | object,
    action: string,
    resource: string,
    options: SimulationOptions = {},
): Promise<string> {
    const simulation: Simulation = {
        identityPolicies: [{ name: "policy", policy: asDocument(policy) }],
        serviceControlPolicies: [],
        resourceControlPolicies: [],
        resourcePolicy: options.resourcePolicy as any,
        request: {
            action,
            principal: options.principal ?? `arn:aws:iam::${TEST_ACCOUNT}:role/test-role`,
            resource: { accountId: options.resourceAccount ?? TEST_ACCOUNT, resource },
            contextVariables: options.context ?? {},
        },
    } as Simulation;
    const response: any = await runSimulation(simulation, {});
    if (response.resultType === "error") {
        throw new Error(`simulation of ${action} on ${resource} failed: ${JSON.stringify(response.errors)}`);
    }
    return response.overallResult as string;
}

/** Whether the policy allows the action on the resource. */
export async function isAllowed(
    policy: string | object,
    action: string,
    resource: string,
    options: SimulationOptions = {},
): Promise<boolean> {
    return (await evaluate(policy, action, resource, options)) === "Allowed";
}
