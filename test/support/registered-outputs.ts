/**
 * What a component passed to `registerOutputs`, read back from Pulumi's mock monitor (the monitor stores each
 * resource's registered outputs under its URN), and the component's public output properties, read from the
 * instance itself: a test compares the two, so neither side is a copy of the component's own list.
 */
import * as pulumi from "@pulumi/pulumi";
import { registrationsDone, valueOf } from "./pulumi-mocks";

interface MockMonitor {
    getRegisteredResources(): Map<
        string,
        { urn: string; state: { toJavaScript?: () => Record<string, unknown> } | Record<string, unknown> }
    >;
}

/** The names of the outputs the component registered (those whose value is not undefined). */
export async function registeredOutputNames(component: pulumi.ComponentResource): Promise<string[]> {
    const urn = await valueOf(component.urn);
    await registrationsDone();
    const monitor = pulumi.runtime.getMonitor() as unknown as MockMonitor;
    if (typeof monitor?.getRegisteredResources !== "function") throw new Error("the Pulumi mock monitor no longer lists resources");
    const registered = monitor.getRegisteredResources().get(urn);
    if (!registered) throw new Error(`the mock monitor has no resource ${urn}`);
    const state = typeof registered.state.toJavaScript === "function" ? registered.state.toJavaScript() : registered.state;
    return Object.keys(state as Record<string, unknown>).sort();
}

/**
 * The component's public outputs: every own property holding an Output or a Resource, apart from the `urn`
 * every resource has and the SDK's own `__` fields. TypeScript's `private` does not exist at run time, so a
 * component with private Output fields would list them here too (none has).
 */
export function publicOutputNames(component: pulumi.ComponentResource): string[] {
    return Object.entries(component)
        .filter(([key]) => key !== "urn" && !key.startsWith("__"))
        .filter(([, value]) => pulumi.Output.isInstance(value) || pulumi.Resource.isInstance(value))
        .map(([key]) => key)
        .sort();
}
