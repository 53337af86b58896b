/**
 * The console's HTTP side: the page (static files bundled by `npm run build:console` into
 * `local/console/dist/`), its JSON endpoints and `GET /_local/metrics`.
 *
 * Safety: they answer only while local mode listens on a loopback address (unless `onAnyAddress`), only to
 * a Host header naming that address (a DNS-rebinding page cannot read them), with a strict
 * Content-Security-Policy (no inline script or style), and the flush button's POST needs a JSON content
 * type and a same-origin Origin (a cross-site form cannot trigger it). The data itself is already redacted
 * by the activity feed.
 */
import { existsSync, readFileSync } from "node:fs";
import type { IncomingMessage, ServerResponse } from "node:http";
import { isIP } from "node:net";
import * as path from "node:path";
import { gunzipSync } from "node:zlib";
import type { ActivityFeed } from "../activity";
import { redactText } from "../activity";
import { localObjectPath } from "../firehose";
import type { LocalMetrics } from "../metrics";

export const CONSOLE_PATH = "/_local/";
export const METRICS_PATH = "/_local/metrics";
const API_PREFIX = "/_local/api/";

/** The bundled page; absent until `npm run build:console` (run by `npm ci` and `npm run local`) has run. */
export const CONSOLE_DIST = path.join(__dirname, "dist");

const STATIC_FILES: Record<string, { file: string; type: string }> = {
    "/_local/": { file: "index.html", type: "text/html; charset=utf-8" },
    "/_local/console.js": { file: "console.js", type: "text/javascript; charset=utf-8" },
    "/_local/console.css": { file: "console.css", type: "text/css; charset=utf-8" },
};

/** Headers of every console answer. */
export const SECURITY_HEADERS: Record<string, string> = {
    "Content-Security-Policy":
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; " +
        "base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Cache-Control": "no-store",
};

/** Lines of an object the console shows at most, and characters per line. */
const MAX_OBJECT_LINES = 1000;
const MAX_LINE = 16 * 1024;

export interface ConsoleOptions {
    feed: ActivityFeed;
    metrics: LocalMetrics;
    /** The address the HTTP server listens on (known once it listens). */
    address: () => { address: string; port: number } | undefined;
    /** Serve the console and its JSON even when local mode listens on a non-loopback address. */
    onAnyAddress?: boolean;
    /** `<s3Dir>/<bucket>`: where the objects the console shows are. */
    bucketDir: string;
    /** Writes every Firehose buffer now. */
    flushFirehose: () => Promise<void>;
    /** Records waiting in the Firehose buffer, deliveries in progress. */
    gauges: () => Record<string, number>;
    /** What the page shows in its header (environment, stream, rules...). */
    settings: Record<string, unknown>;
    /** Where the bundled page is (tests may point elsewhere). */
    distDir?: string;
}

/** Whether an address (as `server.address()` reports it) is a loopback one. */
export function isLoopbackAddress(address: string): boolean {
    const a = address.replace(/^::ffff:/i, "");
    if (isIP(a) === 4) return a.startsWith("127.");
    return a === "::1";
}

export class LocalConsole {
    private readonly cache = new Map<string, Buffer>();

    constructor(private readonly options: ConsoleOptions) {}

    /** Whether the console is served (the ready summary says so). */
    get enabled(): boolean {
        const bound = this.options.address();
        return !!bound && (this.options.onAnyAddress === true || isLoopbackAddress(bound.address));
    }

    /** The paths this serves (`/_local/outputs` stays with the server: the generator needs it everywhere). */
    owns(pathname: string): boolean {
        return pathname === "/_local" || pathname === METRICS_PATH || pathname in STATIC_FILES || pathname.startsWith(API_PREFIX);
    }

    async handle(req: IncomingMessage, res: ServerResponse, pathname: string, query: URLSearchParams): Promise<void> {
        if (!this.enabled) {
            return this.json(res, 403, {
                message:
                    "The console and /_local/metrics answer only while local mode listens on a loopback address; start it with --console-on-any-address to serve them on this address.",
            });
        }
        if (!this.hostAllowed(req.headers.host)) {
            return this.json(res, 421, {
                message: "Host header does not name this server (the console answers only to the address it listens on).",
            });
        }
        if (pathname === "/_local") {
            res.writeHead(308, { ...SECURITY_HEADERS, Location: CONSOLE_PATH });
            res.end();
            return;
        }
        const method = req.method ?? "GET";
        if (pathname === `${API_PREFIX}flush`) {
            if (method !== "POST") return this.json(res, 405, { message: "POST to flush the Firehose buffers." });
            return this.flush(req, res);
        }
        if (method !== "GET") return this.json(res, 405, { message: "Method not allowed." });
        if (pathname === METRICS_PATH) return this.json(res, 200, this.options.metrics.snapshot());
        if (pathname === `${API_PREFIX}activity`) return this.json(res, 200, this.activity(query));
        if (pathname === `${API_PREFIX}object`) return this.object(res, query.get("key") ?? "");
        const asset = STATIC_FILES[pathname];
        if (asset) return this.asset(res, asset.file, asset.type);
        return this.json(res, 404, { message: "Not found." });
    }

    /**
     * Loopback: the Host must be a loopback name or address with the port listened on (a rebinding
     * attacker's page sends its own host name). On any address (opted in), the Host is not checked.
     */
    private hostAllowed(host: string | undefined): boolean {
        if (this.options.onAnyAddress) return true;
        if (!host) return false;
        let url: URL;
        try {
            url = new URL(`http://${host}`);
        } catch {
            return false;
        }
        const port = String(this.options.address()?.port ?? "");
        const name = url.hostname.replace(/^\[|\]$/g, "");
        return (url.port || "80") === port && (name === "localhost" || isLoopbackAddress(name));
    }

    private activity(query: URLSearchParams): Record<string, unknown> {
        const { feed } = this.options;
        const after = Math.max(0, Number(query.get("after") ?? 0) || 0);
        const limit = Math.min(5000, Math.max(1, Number(query.get("limit") ?? 5000) || 5000));
        return {
            startedAt: feed.startedAt,
            lastSeq: feed.lastSeq,
            oldestSeq: feed.oldestSeq,
            records: feed.since(after, limit),
            gauges: this.options.gauges(),
            settings: this.options.settings,
        };
    }

    /** An archive or error object's lines, redacted like the feed. */
    private object(res: ServerResponse, key: string): void {
        let file: string;
        try {
            file = localObjectPath(this.options.bucketDir, key);
        } catch (err) {
            return this.json(res, 400, { message: (err as Error).message });
        }
        if (!key || !existsSync(file)) return this.json(res, 404, { message: "No such object." });
        let text: string;
        try {
            const body = readFileSync(file);
            text = (key.endsWith(".gz") ? gunzipSync(body) : body).toString("utf8");
        } catch (err) {
            return this.json(res, 500, { message: `Cannot read the object: ${(err as Error).message}` });
        }
        const all = text.split("\n").filter((l) => l !== "");
        this.json(res, 200, {
            key,
            lineCount: all.length,
            truncated: all.length > MAX_OBJECT_LINES,
            lines: all.slice(0, MAX_OBJECT_LINES).map((l) => redactText(l, MAX_LINE)),
        });
    }

    private async flush(req: IncomingMessage, res: ServerResponse): Promise<void> {
        // A cross-site page can POST a form, but not with a JSON content type and not with our Origin.
        const type = (req.headers["content-type"] ?? "").split(";")[0].trim().toLowerCase();
        const origin = req.headers.origin;
        if (type !== "application/json") return this.json(res, 415, { message: "Send Content-Type: application/json." });
        if (origin !== undefined && origin !== `http://${req.headers.host}`)
            return this.json(res, 403, { message: "Cross-origin request refused." });
        req.resume();
        const before = this.options.feed.lastSeq;
        const buffered = this.options.gauges().BufferedRecords ?? 0;
        await this.options.flushFirehose();
        const objects = this.options.feed
            .since(before)
            .filter((r) => r.type === "object")
            .map((r) => (r as { key: string }).key);
        this.json(res, 200, { flushedRecords: buffered, objects });
    }

    private asset(res: ServerResponse, file: string, type: string): void {
        const dir = this.options.distDir ?? CONSOLE_DIST;
        let body = this.cache.get(file);
        if (!body) {
            const full = path.join(dir, file);
            if (!existsSync(full)) {
                res.writeHead(503, { ...SECURITY_HEADERS, "Content-Type": "text/plain; charset=utf-8" });
                res.end("The console page is not built. Run: npm run build:console (npm ci and npm run local run it).\n");
                return;
            }
            body = readFileSync(full);
            this.cache.set(file, body);
        }
        res.writeHead(200, { ...SECURITY_HEADERS, "Content-Type": type, "Content-Length": body.length });
        res.end(body);
    }

    private json(res: ServerResponse, status: number, value: unknown): void {
        const body = JSON.stringify(value);
        res.writeHead(status, {
            ...SECURITY_HEADERS,
            "Content-Type": "application/json; charset=utf-8",
            "Content-Length": Buffer.byteLength(body),
        });
        res.end(body);
    }
}
