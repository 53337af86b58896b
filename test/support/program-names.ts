/**
 * Loads index.ts under the shared mocks with the config given as JSON in argv[2] (a separate process: a
 * program module loads once per process) and prints every resource's type, logical name and the inputs
 * that set a physical name, as one JSON line. A config error prints {"error": message} instead.
 */
import { resources, registrationsDone } from "./pulumi-mocks";
import * as pulumi from "@pulumi/pulumi";

/** Inputs that carry a physical name, by what AWS calls them. */
const NAME_INPUTS = ["name", "bucket", "stageName", "statementId", "namePrefix", "bucketPrefix", "dashboardName"];

async function main(): Promise<void> {
    const config = JSON.parse(process.argv[2] ?? "{}") as Record<string, string>;
    pulumi.runtime.setAllConfig(
        { ...pulumi.runtime.allConfig(), ...config },
        Object.keys(config).filter((k) => k.endsWith("ApiToken")),
    );
    try {
        require("../../index");
    } catch (err) {
        process.stdout.write(JSON.stringify({ error: (err as Error).message }) + "\n");
        process.exit(0);
    }
    await registrationsDone();
    process.stdout.write(
        JSON.stringify({
            resources: resources.map((r) => ({
                type: r.type,
                name: r.name,
                inputs: Object.fromEntries(NAME_INPUTS.filter((k) => typeof r.inputs[k] === "string").map((k) => [k, r.inputs[k]])),
            })),
        }) + "\n",
    );
    process.exit(0);
}

main().catch((err) => {
    console.error(err);
    process.exit(1);
});
