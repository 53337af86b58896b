/**
 * A stand-in for Zendesk's `POST /api/v2/tickets`: checks the Basic credentials and the ticket's shape,
 * appends each ticket (with the Authorization header it received) to `<data-dir>/zendesk/tickets.jsonl`
 * and answers 201 like Zendesk. Served by local mode's own HTTP server.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { existsSync, readFileSync } from "node:fs";
import * as path from "node:path";
import { ticketShapeErrors } from "../pipeline/zendesk-ticket";
import { appendJsonLine } from "./fs-util";
import type { ActivitySink } from "./activity";
import type { Logger } from "./log";

/** Path of the recorder under local mode's HTTP server. */
export const ZENDESK_RECORDER_PATH = "/zendesk/api/v2/tickets";

export class ZendeskRecorder {
    private nextId = 1;
    readonly file: string;

    /** `activity` receives each refused ticket with the reason (the API destination reports accepted ones). */
    constructor(dataDir: string, private readonly expectedAuthorization: string, private readonly log: Logger, private readonly activity?: ActivitySink) {
        this.file = path.join(dataDir, "zendesk", "tickets.jsonl");
        // Ticket ids continue after those of earlier runs.
        if (existsSync(this.file)) this.nextId = readFileSync(this.file, "utf8").split("\n").filter((l) => l !== "").length + 1;
    }

    handle(req: IncomingMessage, res: ServerResponse, body: Buffer): void {
        const send = (status: number, value: unknown) => {
            res.writeHead(status, { "Content-Type": "application/json; charset=utf-8" });
            res.end(JSON.stringify(value));
        };
        if (req.method !== "POST") return send(405, { error: "MethodNotAllowed" });
        if (req.headers.authorization !== this.expectedAuthorization) {
            this.log.warn("zendesk recorder: 401 (credentials differ from the configured ones)");
            this.activity?.emit({ type: "ticket-refused", status: 401, reason: "credentials differ from the configured ones" });
            return send(401, { error: "Couldn't authenticate you" });
        }
        const text = body.toString("utf8");
        const problems = ticketShapeErrors(text);
        if (problems.length > 0) {
            this.log.warn(`zendesk recorder: 422 (${problems.join("; ")})`);
            this.activity?.emit({ type: "ticket-refused", status: 422, reason: problems.join("; ") });
            return send(422, { error: "RecordInvalid", description: problems.join("; ") });
        }
        const ticket = (JSON.parse(text) as { ticket: Record<string, unknown> }).ticket;
        const id = this.nextId++;
        appendJsonLine(this.file, {
            receivedAt: new Date().toISOString(),
            authorization: req.headers.authorization,
            contentType: req.headers["content-type"],
            userAgent: req.headers["user-agent"],
            body: text,
        });
        this.log.info(`zendesk recorder: ticket ${id} recorded (${ticket.subject})`);
        send(201, { ticket: { id, ...ticket, status: "new" } });
    }
}
