// Generator and client library: client-side preparation rate, and events per second through local mode
// (the real API model, authorizer and mapping template, bus and Firehose) with 8 concurrent clients.
import * as fs from "fs";
import { connectionArgs } from "../generator/settings";
import * as os from "os";
import * as path from "path";
import { prepareEvent } from "../client";
import { makeEvent } from "../generator/events";
import { seededRandom } from "../generator/random";
import { runCli } from "../generator/cli";
import { runGenerator } from "../generator/run";
import { measureRate, type BenchRow } from "./table";

const AREA = "generator";

export const about = "the client library's preparation rate, and the generator driving local mode inside the same process";
export const cases = [
    "prepareEvent (validate, id, serialize)",
    "generator and local mode in one process: accepted events/s, request latency p50 and p99 (8 clients, batches of 10; not local mode's ceiling, see local-load)",
];

export async function run(): Promise<BenchRow[]> {
    const random = seededRandom(1);
    const events = Array.from({ length: 1000 }, () => makeEvent({ runId: "bench", loyalty: true, random }));
    let id = 0;
    const prepareRate = measureRate((i) => prepareEvent(events[i % events.length], () => `id-${id++}`).bytes);

    const rows: BenchRow[] = [
        { area: AREA, case: "prepareEvent (validate, id, serialize)", value: Math.round(prepareRate), unit: "events/s" },
    ];

    const { startLocal } = await import("../local/index");
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "bench-generator-"));
    const local = await startLocal({ port: 0, dataDir: dir, quiet: true, bufferSeconds: 60 });
    try {
        const o = local.outputs;
        const conn = connectionArgs(o);
        const quiet = { stdout: () => undefined, stderr: () => undefined, env: {}, isTTY: false };
        const code = await runCli(
            ["signup", "--userid", "bench", "--password", "Bench-passw0rd!", "--email", "bench@example.com", "--admin-confirm", ...conn],
            quiet,
        );
        if (code !== 0) throw new Error(`signup failed with exit code ${code}`);
        const users = 8;
        const { summary } = await runGenerator({
            apiUrl: o.apiUrl,
            cognito: { clientId: o.userPoolClientId, endpoint: o.cognitoEndpoint },
            userid: "bench",
            password: "Bench-passw0rd!",
            users,
            batch: 10,
            intervalMs: 0,
            batchesPerUser: 50,
            loyalty: false,
            tokenUse: "id",
            runId: "bench",
            random: seededRandom(2),
        });
        if (summary.failed > 0) throw new Error(`${summary.failed} events failed: ${JSON.stringify(summary.failedByCode)}`);
        // The generator shares the process (and its one thread) with local mode: this is not local mode's ceiling
        // (local-load drives it from a separate process).
        const note = `${summary.accepted} events, ${users} clients, batches of 10`;
        rows.push(
            {
                area: AREA,
                case: "generator in the same process as local mode: accepted events",
                value: Math.round((summary.accepted / summary.durationMs) * 1000),
                unit: "events/s",
                note,
            },
            {
                area: AREA,
                case: "generator in the same process as local mode: request latency p50",
                value: summary.latencyMs.p50,
                unit: "ms",
                note,
            },
            {
                area: AREA,
                case: "generator in the same process as local mode: request latency p99",
                value: summary.latencyMs.p99,
                unit: "ms",
                note,
            },
        );
    } finally {
        await local.close();
        fs.rmSync(dir, { recursive: true, force: true });
    }
    return rows;
}
