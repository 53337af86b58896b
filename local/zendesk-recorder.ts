/**
 * A stand-in for Zendesk's `POST /api/v2/tickets`: checks the Basic credentials and the ticket's shape,
 * appends each ticket to `<data-dir>/zendesk/tickets.jsonl` (mode 0600) and answers 201 like Zendesk.
 * Served by local mode's own HTTP server.
 *
 * The file keeps the Authorization header each ticket arrived with only when it carries local mode's own
 * fake credentials; a real API token (configured without an endpoint) is recorded masked. When the file
 * cannot be written the recorder answers 503, which the API destination retries, so no ticket is lost.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { chmodSync, existsSync, readFileSync } from "node:fs";
import * as path from "node:path";
import { TICKET_FIELDS } from "../pipeline/zendesk-ticket";
import { appendJsonLine, describeFsError, fixHint, ProblemLog } from "./fs-util";
import type { ActivitySink } from "./activity";
import type { Logger } from "./log";

/** Path of the recorder under local mode's HTTP server. */
export const ZENDESK_RECORDER_PATH = "/zendesk/api/v2/tickets";

export interface RecorderOptions {
    /** Record the Authorization header as received (only for local mode's own fake credentials). */
    keepAuthorization?: boolean;
    /** Receives each refused ticket with the reason (the API destination reports accepted ones). */
    activity?: ActivitySink;
}

/** `Basic [masked: user local@example.com/token]`: the scheme and user stay readable, the secret does not. */
export function maskAuthorization(header: string): string {
    const [scheme, value = ""] = header.split(/\s+/, 2);
    const decoded = Buffer.from(value, "base64").toString("utf8");
    const user = decoded.includes(":") ? decoded.slice(0, decoded.indexOf(":")) : "";
    return `${scheme} [masked${user ? `: user ${user}` : ""}]`;
}

export class ZendeskRecorder {
    private nextId = 1;
    readonly file: string;
    private readonly problems: ProblemLog;

    constructor(
        dataDir: string,
        private readonly expectedAuthorization: string,
        private readonly log: Logger,
        private readonly options: RecorderOptions = {},
    ) {
        this.file = path.join(dataDir, "zendesk", "tickets.jsonl");
        this.problems = new ProblemLog(log);
        if (existsSync(this.file)) {
            // Ticket ids continue after those of earlier runs; a file an older version left world-readable is closed.
            this.nextId =
                readFileSync(this.file, "utf8")
                    .split("\n")
                    .filter((l) => l !== "").length + 1;
            try {
                chmodSync(this.file, 0o600);
            } catch {
                // not ours to change (another owner): left as it is
            }
        }
    }

    handle(req: IncomingMessage, res: ServerResponse, body: Buffer): void {
        const send = (status: number, value: unknown) => {
            res.writeHead(status, { "Content-Type": "application/json; charset=utf-8" });
            res.end(JSON.stringify(value));
        };
        if (req.method !== "POST") return send(405, { error: "MethodNotAllowed" });
        const authorization = req.headers.authorization;
        if (authorization !== this.expectedAuthorization) {
            this.log.warn("zendesk recorder: 401 (credentials differ from the configured ones)");
            this.options.activity?.emit({ type: "ticket-refused", status: 401, reason: "credentials differ from the configured ones" });
            return send(401, { error: "Couldn't authenticate you" });
        }
        const text = body.toString("utf8");
        const problems = ticketShapeErrors(text);
        if (problems.length > 0) {
            this.log.warn(`zendesk recorder: 422 (${problems.join("; ")})`);
            this.options.activity?.emit({ type: "ticket-refused", status: 422, reason: problems.join("; ") });
            return send(422, { error: "RecordInvalid", description: problems.join("; ") });
        }
        const ticket = (JSON.parse(text) as { ticket: Record<string, unknown> }).ticket;
        try {
            appendJsonLine(
                this.file,
                {
                    receivedAt: new Date().toISOString(),
                    authorization: this.options.keepAuthorization ? authorization : maskAuthorization(authorization),
                    contentType: req.headers["content-type"],
                    userAgent: req.headers["user-agent"],
                    body: text,
                },
                0o600,
            );
        } catch (err) {
            this.problems.report(
                "write",
                `zendesk recorder: cannot write ${this.file}: ${describeFsError(err)}; answering 503 so the ticket is retried: ${fixHint(err, this.file)}`,
            );
            return send(503, { error: "ServiceUnavailable", description: "The recorder cannot store tickets right now." });
        }
        this.problems.resolve("write", `zendesk recorder: ${this.file} is writable again`);
        const id = this.nextId++;
        this.log.info(`zendesk recorder: ticket ${id} recorded (${ticket.subject})`);
        send(201, { ticket: { id, ...ticket, status: "new" } });
    }
}

/**
 * Checks a request body against Zendesk's create-ticket shape
 * `{"ticket":{"subject":string,"comment":{"body":string},...}}`, allowing only `allowedFields` in the
 * ticket. Returns the problems (empty when the body is a well-formed ticket).
 */
export function ticketShapeErrors(body: string, allowedFields: readonly string[] = TICKET_FIELDS): string[] {
    let parsed: unknown;
    try {
        parsed = JSON.parse(body);
    } catch (error) {
        return [`not JSON: ${(error as Error).message}`];
    }
    const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === "object" && !Array.isArray(v);
    if (!isObject(parsed)) return ["body is not a JSON object"];
    const errors: string[] = [];
    const extraTop = Object.keys(parsed).filter((k) => k !== "ticket");
    if (extraTop.length > 0) errors.push(`unexpected top-level fields: ${extraTop.join(", ")}`);
    const ticket = parsed.ticket;
    if (!isObject(ticket)) return [...errors, "ticket is not an object"];
    const extra = Object.keys(ticket).filter((k) => !allowedFields.includes(k));
    if (extra.length > 0) errors.push(`unexpected ticket fields: ${extra.join(", ")}`);
    if (typeof ticket.subject !== "string" || ticket.subject.trim() === "") errors.push("ticket.subject must be a non-empty string");
    const comment = ticket.comment;
    if (!isObject(comment)) {
        errors.push("ticket.comment must be an object");
    } else {
        if (typeof comment.body !== "string" || comment.body.trim() === "") errors.push("ticket.comment.body must be a non-empty string");
        const extraComment = Object.keys(comment).filter((k) => k !== "body");
        if (extraComment.length > 0) errors.push(`unexpected comment fields: ${extraComment.join(", ")}`);
    }
    if (ticket.tags !== undefined && !(Array.isArray(ticket.tags) && ticket.tags.every((t) => typeof t === "string"))) {
        errors.push("ticket.tags must be an array of strings");
    }
    return errors;
}
