/**
 * The `run` command's engine: N simulated clients (each its own Cognito session and EventsClient), each
 * sending a batch every interval, for a number of batches. The seed's behaviour is one client, a batch of
 * `--batch` events every `--interval` seconds.
 */
import { CognitoAuth, CognitoSession, EventsClient, FetchLike, BackoffPolicy, SendResult, TokenUse } from "../client";
import { makeEvent } from "./events";
import { ManifestWriter } from "./manifest";
import { RunSummary, StatsCollector } from "./stats";

/** Error codes after which further batches cannot succeed: the run stops. */
const FATAL_CODES: Record<string, "auth" | "network" | "config"> = {
    NetworkError: "network",
    HTTP401: "auth",
    HTTP403: "auth",
    NotAuthorizedException: "auth",
    NoRefreshToken: "auth",
    HTTP404: "config",
};

export interface RunOptions {
    apiUrl: string;
    cognito: { clientId: string; region?: string; endpoint?: string };
    userid: string;
    password: string;
    /** Simulated clients. */
    users: number;
    /** Events per batch (1 to 10). */
    batch: number;
    /** Time between two batches of one client. */
    intervalMs: number;
    /** Batches each client sends. */
    batchesPerUser: number;
    loyalty: boolean;
    tokenUse: TokenUse;
    runId: string;
    manifestPath?: string;
    retry?: Partial<BackoffPolicy>;
    fetch?: FetchLike;
    now?: () => number;
    sleep?: (ms: number) => Promise<void>;
    /** Random source of event content and of backoff jitter. */
    random?: () => number;
    /** Set `stopped` to end the run after the batches in flight (Ctrl-C). */
    stop?: { stopped: boolean };
    /** Called after every batch (progress line). */
    onBatch?: (stats: StatsCollector) => void;
}

export interface RunOutcome {
    summary: RunSummary;
    /** Set when the run stopped because nothing could get through. */
    fatal?: "auth" | "network" | "config";
}

/** Signs in every simulated client and sends the batches; Cognito sign-in errors propagate (typed). */
export async function runGenerator(options: RunOptions): Promise<RunOutcome> {
    const now = options.now ?? Date.now;
    const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
    const random = options.random ?? Math.random;
    const stop = options.stop ?? { stopped: false };
    const stats = new StatsCollector();
    const auth = new CognitoAuth({ ...options.cognito, fetch: options.fetch, now });

    // Sign in before opening the manifest, so that bad credentials leave no empty manifest behind.
    const sessions: CognitoSession[] = [];
    for (let u = 0; u < options.users; u++) {
        sessions.push(await auth.signIn(options.userid, options.password, options.tokenUse));
    }

    const started = now();
    const manifest = options.manifestPath
        ? new ManifestWriter(options.manifestPath, {
              kind: "client-events-run",
              version: 1,
              runId: options.runId,
              startedAt: new Date(started).toISOString(),
              apiUrl: options.apiUrl,
          })
        : undefined;
    let fatal: RunOutcome["fatal"];
    let stoppedEarly: string | undefined;

    const clientLoop = async (u: number) => {
        const client = new EventsClient({
            apiUrl: options.apiUrl,
            tokens: sessions[u],
            fetch: options.fetch,
            now,
            sleep,
            random,
            retry: options.retry,
            onRequest: stats.onRequest,
        });
        // Clients start spread over one interval, so that N clients do not send in lockstep.
        const first = started + Math.floor((u * options.intervalMs) / options.users);
        for (let k = 0; k < options.batchesPerUser && !stop.stopped; k++) {
            const wait = first + k * options.intervalMs - now();
            if (wait > 0) await sleep(wait);
            if (stop.stopped) break;
            const events = Array.from({ length: options.batch }, () =>
                makeEvent({ runId: options.runId, loyalty: options.loyalty, random }),
            );
            const result = await client.send(events);
            stats.addBatch(events.length, result);
            manifest?.add(result);
            options.onBatch?.(stats);
            const kind = fatalKind(result);
            if (kind && !stop.stopped) {
                fatal = kind;
                stoppedEarly = `every event of a batch failed with ${result.failed[0].errorCode}: ${result.failed[0].errorMessage}`;
                stop.stopped = true;
            }
        }
    };
    try {
        await Promise.all(sessions.map((_, u) => clientLoop(u)));
    } finally {
        manifest?.close();
    }
    const summary = stats.summary(options.runId, options.users, options.intervalMs, now() - started);
    if (stoppedEarly) summary.stoppedEarly = stoppedEarly;
    else if (stop.stopped) summary.stoppedEarly = "interrupted";
    if (options.manifestPath) summary.manifest = options.manifestPath;
    return { summary, fatal };
}

function fatalKind(result: SendResult): RunOutcome["fatal"] {
    if (result.accepted.length > 0 || result.failed.length === 0) return undefined;
    const kinds = new Set(result.failed.map((f) => FATAL_CODES[f.errorCode]));
    return kinds.size === 1 ? [...kinds][0] : undefined;
}
