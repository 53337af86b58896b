/**
 * Where the generator finds the deployment: flags, then environment variables, then either local mode's
 * settings (`--local [url]`) or the Pulumi stack's outputs (`pulumi stack output --json`).
 */
import { execFile } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { CliError, EXIT } from "./errors";

/** Everything the commands may need. */
export interface Settings {
    apiUrl?: string;
    region?: string;
    userPoolId?: string;
    userPoolClientId?: string;
    cognitoEndpoint?: string;
    bucketName?: string;
    dataDir?: string;
}

export type SettingName = keyof Settings;

/** Flags shared by the commands (commander's camelCase names). */
export interface ConnectionFlags {
    stack?: string;
    local?: string | boolean;
    apiUrl?: string;
    apiid?: string;
    stage?: string;
    region?: string;
    appclientid?: string;
    userPoolId?: string;
    cognitoEndpoint?: string;
    bucket?: string;
    dataDir?: string;
}

export const DEFAULT_LOCAL_URL = "http://127.0.0.1:4000";

/** Environment variables read, by setting. */
export const ENV: Record<SettingName, string[]> = {
    apiUrl: ["CLIENT_EVENTS_API_URL"],
    region: ["CLIENT_EVENTS_REGION", "AWS_REGION", "AWS_DEFAULT_REGION"],
    userPoolId: ["CLIENT_EVENTS_USER_POOL_ID"],
    userPoolClientId: ["CLIENT_EVENTS_APP_CLIENT_ID"],
    cognitoEndpoint: ["CLIENT_EVENTS_COGNITO_ENDPOINT"],
    bucketName: ["CLIENT_EVENTS_BUCKET"],
    dataDir: ["CLIENT_EVENTS_DATA_DIR"],
};

const FLAG_OF: Record<SettingName, string> = {
    apiUrl: "--api-url (or --apiid)",
    region: "--region",
    userPoolId: "--user-pool-id",
    userPoolClientId: "--appclientid",
    cognitoEndpoint: "--cognito-endpoint",
    bucketName: "--bucket",
    dataDir: "--data-dir",
};

/** What `connectionArgs` reads: local mode's outputs (outputs.json, its ready line) or a stack's. */
export interface ConnectionOutputs {
    apiUrl: string;
    userPoolClientId: string;
    cognitoEndpoint: string;
    userPoolId: string;
    region: string;
}

/** The generator's connection flags for a pipeline's outputs, for scripts and tests that run its commands. */
export function connectionArgs(o: ConnectionOutputs): string[] {
    return [
        "--api-url",
        o.apiUrl,
        "--appclientid",
        o.userPoolClientId,
        "--cognito-endpoint",
        o.cognitoEndpoint,
        "--user-pool-id",
        o.userPoolId,
        "--region",
        o.region,
    ];
}

/** Stack output names that may hold each setting (the first present wins). */
const OUTPUT_NAMES: Record<SettingName, string[]> = {
    apiUrl: ["apiUrl"],
    region: ["region"],
    userPoolId: ["userPoolId"],
    userPoolClientId: ["userPoolClientId", "appClientId"],
    cognitoEndpoint: ["cognitoEndpoint"],
    bucketName: ["bucketName", "archiveBucketName", "eventsBucketName", "archiveBucket"],
    dataDir: ["dataDir"],
};

/** Runs a program and resolves with its stdout; rejects with the child_process error (code ENOENT...). */
export type Exec = (file: string, args: string[]) => Promise<{ stdout: string; stderr: string }>;

export const defaultExec: Exec = (file, args) =>
    new Promise((resolve, reject) => {
        execFile(file, args, { timeout: 120_000, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
            if (err) reject(Object.assign(err, { stdout, stderr }));
            else resolve({ stdout, stderr });
        });
    });

export interface ResolveDeps {
    env: NodeJS.ProcessEnv;
    exec?: Exec;
    fetch?: (url: string, init: RequestInit) => Promise<Response>;
}

/**
 * Resolves the settings a command needs. Reads Pulumi (or local mode) only when flags and environment
 * leave something out; throws a CliError naming every way to provide what is still missing.
 */
export async function resolveSettings<N extends SettingName>(
    flags: ConnectionFlags,
    needs: N[],
    deps: ResolveDeps,
): Promise<Settings & Required<Pick<Settings, N>>> {
    const settings: Settings = {};
    const fromFlags: Settings = {
        apiUrl: flags.apiUrl,
        region: flags.region,
        userPoolId: flags.userPoolId,
        userPoolClientId: flags.appclientid,
        cognitoEndpoint: flags.cognitoEndpoint,
        bucketName: flags.bucket,
        dataDir: flags.dataDir,
    };
    for (const name of Object.keys(ENV) as SettingName[]) {
        const value = fromFlags[name] ?? ENV[name].map((v) => deps.env[v]).find((v) => v !== undefined && v !== "");
        if (value !== undefined) settings[name] = value;
    }

    const missing = () => needs.filter((n) => settings[n] === undefined && !(n === "apiUrl" && flags.apiid));
    let source = "";
    if (flags.local !== undefined && flags.local !== false) {
        const url = typeof flags.local === "string" ? flags.local : DEFAULT_LOCAL_URL;
        const outputs = await readLocalOutputs(url, settings.dataDir, deps);
        fill(settings, outputs);
        source = `local mode at ${url}`;
    } else if (missing().length > 0) {
        const outputs = await readStackOutputs(flags.stack, deps.exec ?? defaultExec);
        fill(settings, outputs);
        source = `stack outputs${flags.stack ? ` of ${flags.stack}` : ""}`;
    }

    if (!settings.apiUrl && flags.apiid) {
        if (!settings.region) throw new CliError("--apiid needs a region: pass --region or set AWS_REGION");
        // The full URL to POST events to, as the stack output apiUrl holds it.
        settings.apiUrl = `https://${flags.apiid}.execute-api.${settings.region}.amazonaws.com/${flags.stage ?? "dev"}/event`;
    }
    // Cognito's endpoint follows from the region unless given.
    if ((needs as SettingName[]).includes("cognitoEndpoint") && !settings.cognitoEndpoint && settings.region) {
        settings.cognitoEndpoint = `https://cognito-idp.${settings.region}.amazonaws.com/`;
    }
    const still = missing();
    if (still.length > 0) {
        const how = still.map((n) => `  ${n}: ${FLAG_OF[n]} or $${ENV[n][0]}${source ? "" : ` or the stack output ${OUTPUT_NAMES[n][0]}`}`);
        throw new CliError(`missing settings${source ? ` (not in the ${source})` : ""}:\n${how.join("\n")}`, EXIT.CONFIG);
    }
    return settings as Settings & Required<Pick<Settings, N>>; // every needed setting was checked above
}

function fill(settings: Settings, outputs: Record<string, unknown>): void {
    for (const name of Object.keys(OUTPUT_NAMES) as SettingName[]) {
        if (settings[name] !== undefined) continue;
        const value = OUTPUT_NAMES[name].map((o) => outputs[o]).find((v) => typeof v === "string" && v !== "");
        if (value !== undefined) settings[name] = value as string;
    }
}

/** `pulumi stack output --json [--stack NAME]`, with clear errors when Pulumi is absent or fails. */
export async function readStackOutputs(stack: string | undefined, exec: Exec): Promise<Record<string, unknown>> {
    const args = ["stack", "output", "--json", ...(stack ? ["--stack", stack] : [])];
    let stdout: string;
    try {
        ({ stdout } = await exec("pulumi", args));
    } catch (err) {
        const e = err as NodeJS.ErrnoException & { stderr?: string };
        if (e.code === "ENOENT") {
            throw new CliError(
                "cannot read the stack outputs: the pulumi CLI is not installed or not on PATH. " +
                    "Pass the settings as flags or environment variables (see --help), or use --local for local mode.",
                EXIT.CONFIG,
            );
        }
        const detail = (e.stderr ?? "").trim().split("\n").filter(Boolean).slice(-2).join(" ") || e.message;
        throw new CliError(`pulumi stack output${stack ? ` --stack ${stack}` : ""} failed: ${detail}`, EXIT.CONFIG);
    }
    try {
        const parsed = JSON.parse(stdout);
        if (parsed && typeof parsed === "object" && !Array.isArray(parsed)) return parsed;
    } catch {
        // fall through
    }
    throw new CliError("pulumi stack output --json did not print a JSON object", EXIT.CONFIG);
}

/** Where local mode keeps its data (and `outputs.json`) unless started with --data-dir. */
export const DEFAULT_LOCAL_DATA_DIR = ".local";

/** What local mode's outputs must hold to be used. */
function isLocalOutputs(value: unknown): value is Record<string, unknown> {
    return !!value && typeof value === "object" && !Array.isArray(value) && typeof (value as { apiUrl?: unknown }).apiUrl === "string";
}

/**
 * Local mode's settings, first of:
 * 1. `GET {url}/_local/outputs` (the ready line's JSON), served by the running local mode;
 * 2. `<data-dir>/outputs.json`, which local mode writes when it starts (so `verify` still works once it stopped).
 * Nothing is guessed: without either, a CliError tells the user to start `npm run local` (exit code NETWORK
 * when nothing answers at `url`, CONFIG otherwise).
 */
export async function readLocalOutputs(url: string, dataDir: string | undefined, deps: ResolveDeps): Promise<Record<string, unknown>> {
    const fetchImpl = deps.fetch ?? ((input: string, init: RequestInit) => fetch(input, init));
    const base = url.replace(/\/+$/, "");
    let problem: string;
    let reachable = false;
    try {
        const response = await fetchImpl(`${base}/_local/outputs`, { signal: AbortSignal.timeout(5000) });
        reachable = true;
        const text = await response.text().catch(() => "");
        let body: unknown;
        try {
            body = JSON.parse(text);
        } catch {
            body = undefined;
        }
        if (response.ok && isLocalOutputs(body)) return body;
        problem = `${base}/_local/outputs answered HTTP ${response.status} without local mode's outputs (is that local mode?)`;
    } catch (err) {
        const cause = (err as { cause?: { code?: string } }).cause;
        problem = `cannot reach local mode at ${url} (${cause?.code ?? (err as Error).message})`;
    }

    const file = path.join(path.resolve(dataDir ?? DEFAULT_LOCAL_DATA_DIR), "outputs.json");
    if (fs.existsSync(file)) {
        let parsed: unknown;
        try {
            parsed = JSON.parse(fs.readFileSync(file, "utf8"));
        } catch {
            throw new CliError(`${file} is not JSON; restart \`npm run local\` to rewrite it`, EXIT.CONFIG);
        }
        if (isLocalOutputs(parsed)) return parsed;
        throw new CliError(`${file} does not hold local mode's outputs (no apiUrl); restart \`npm run local\` to rewrite it`, EXIT.CONFIG);
    }
    throw new CliError(
        `${problem}, and there is no ${file}. Start local mode with \`npm run local\` (in another terminal), ` +
            "then pass --local <its URL> if it does not listen on the default, and --data-dir if it keeps its data elsewhere.",
        reachable ? EXIT.CONFIG : EXIT.NETWORK,
    );
}

/** Credentials for local mode's IAM-authorized Cognito operations (AdminConfirmSignUp...). */
export interface LocalAdminCredentials {
    accessKeyId: string;
    secretAccessKey: string;
}

function credentialsIn(file: string): LocalAdminCredentials | undefined {
    try {
        const credentials = (JSON.parse(fs.readFileSync(file, "utf8")) as { credentials?: Partial<LocalAdminCredentials> }).credentials;
        if (typeof credentials?.accessKeyId === "string" && typeof credentials.secretAccessKey === "string") {
            return { accessKeyId: credentials.accessKeyId, secretAccessKey: credentials.secretAccessKey };
        }
    } catch {
        // unreadable or not JSON: not local mode's outputs
    }
    return undefined;
}

/**
 * The credentials local mode published for its admin operations. The running local mode at `endpoint`
 * names its outputs file (`GET /_local/outputs` gives the access key id and the file, never the secret);
 * the secret is in that file (mode 0600, so only its owner can sign). Without a running local mode,
 * `<data-dir>/outputs.json`. Undefined when neither holds them (the AWS SDK's own credential chain applies).
 */
export async function readLocalCredentials(
    endpoint: string,
    dataDir: string | undefined,
    deps: ResolveDeps,
): Promise<LocalAdminCredentials | undefined> {
    const fetchImpl = deps.fetch ?? ((input: string, init: RequestInit) => fetch(input, init));
    try {
        const response = await fetchImpl(`${endpoint.replace(/\/+$/, "")}/_local/outputs`, { signal: AbortSignal.timeout(5000) });
        const published = ((await response.json()) as { credentials?: { accessKeyId?: string; file?: string } }).credentials;
        if (response.ok && typeof published?.file === "string") {
            const found = credentialsIn(published.file);
            if (found && found.accessKeyId === published.accessKeyId) return found;
        }
    } catch {
        // not reachable or not local mode: try the data directory
    }
    return credentialsIn(path.join(path.resolve(dataDir ?? DEFAULT_LOCAL_DATA_DIR), "outputs.json"));
}
