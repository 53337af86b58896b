/**
 * Loads index.ts under the shared mocks with the config given as JSON in argv[2] (a separate process: a
 * program module loads once per process) and prints every resource (type, logical name, inputs, state)
 * and the monitoring outputs as one JSON line, for test/monitoring.test.ts.
 */
import { registrationsDone, resources } from "./pulumi-mocks";
import * as pulumi from "@pulumi/pulumi";

async function main(): Promise<void> {
    const config = JSON.parse(process.argv[2] ?? "{}") as Record<string, string>;
    pulumi.runtime.setAllConfig(
        { ...pulumi.runtime.allConfig(), ...config },
        Object.keys(config).filter((k) => k.endsWith("ApiToken")),
    );
    const program = require("../../index");
    const outputs: Record<string, unknown> = {};
    for (const name of ["apiUrl", "alarmTopicArn", "dashboardName", "deadLetterQueueUrls"]) {
        outputs[name] =
            program[name] === undefined
                ? null
                : await new Promise((resolve) =>
                      pulumi.output(program[name]).apply((v) => {
                          resolve(v ?? null);
                          return v;
                      }),
                  );
    }
    await registrationsDone();
    process.stdout.write(
        JSON.stringify({
            outputs,
            resources: resources.map(({ type, name, inputs, state }) => ({
                type,
                name,
                inputs: { ...inputs, code: undefined },
                state: { ...state, code: undefined },
            })),
        }) + "\n",
    );
    process.exit(0);
}

main().catch((err) => {
    console.error(err);
    process.exit(1);
});
