/**
 * What a component passed to `registerOutputs`, read back from Pulumi's mock monitor (the monitor stores each
 * resource's registered outputs under its URN), and the component's public properties, read from the instance
 * itself: a test compares the two, so neither side is a copy of the component's own list.
 */
import * as pulumi from "@pulumi/pulumi";
import { registrationsDone, valueOf } from "./pulumi-mocks";

interface MockMonitor {
    getRegisteredResources(): Map<string, { urn: string; state: unknown }>;
}

/** The names of the outputs the component registered (those whose value is not undefined), sorted. */
export async function registeredOutputNames(component: pulumi.ComponentResource): Promise<string[]> {
    const urn = await valueOf(component.urn);
    await registrationsDone();
    const monitor = pulumi.runtime.getMonitor() as unknown as MockMonitor | undefined;
    if (typeof monitor?.getRegisteredResources !== "function") throw new Error("the Pulumi mock monitor no longer lists its resources");
    const registered = monitor.getRegisteredResources().get(urn);
    if (!registered) throw new Error(`the mock monitor has no resource ${urn}`);
    // registerResourceOutputs stores the request's outputs as a protobuf Struct.
    const state = registered.state as { toJavaScript?: () => Record<string, unknown> };
    if (typeof state.toJavaScript !== "function") throw new Error(`${urn}: its outputs were never registered`);
    return Object.keys(state.toJavaScript()).sort();
}

/**
 * The component's public properties that hold a value: every own property but the `urn` every resource has and
 * the SDK's own `__` fields. TypeScript's `private` does not exist at run time, so a component with private fields
 * would list them here too (none has: test/component-outputs.test.ts would show them).
 */
export function publicOutputNames(component: pulumi.ComponentResource): string[] {
    return Object.entries(component)
        .filter(([key, value]) => key !== "urn" && !key.startsWith("__") && value !== undefined)
        .map(([key]) => key)
        .sort();
}
