/**
 * The run manifest: newline-delimited JSON, first a header line with the run's id and start time, then one
 * line per event with its id, type and final status. Written as the run goes, so an interrupted run still
 * leaves a usable manifest.
 */
import * as fs from "fs";
import type { SendResult } from "../client";

export interface ManifestHeader {
    kind: "client-events-run";
    version: 1;
    runId: string;
    startedAt: string;
    apiUrl: string;
    /** Set when the run stopped before sending anything (sign-in or settings failed): why. verify refuses it. */
    failed?: string;
}

export interface ManifestEvent {
    eventId: string;
    eventType: string;
    status: "accepted" | "failed";
    errorCode?: string;
}

export interface Manifest {
    header: ManifestHeader;
    events: ManifestEvent[];
}

/** Appends to a manifest file (created or truncated on open). */
export class ManifestWriter {
    private readonly fd: number;

    constructor(
        readonly path: string,
        header: ManifestHeader,
    ) {
        this.fd = fs.openSync(path, "w", 0o644);
        fs.writeSync(this.fd, JSON.stringify(header) + "\n");
    }

    add(result: SendResult): void {
        const lines = [
            ...result.accepted.map((a): ManifestEvent => ({ eventId: a.eventId, eventType: a.eventType, status: "accepted" })),
            ...result.failed.map((f): ManifestEvent => ({
                eventId: f.eventId,
                eventType: f.eventType,
                status: "failed",
                errorCode: f.errorCode,
            })),
        ];
        if (lines.length) fs.writeSync(this.fd, lines.map((l) => JSON.stringify(l)).join("\n") + "\n");
    }

    close(): void {
        fs.closeSync(this.fd);
    }
}

/** Records in the manifest file a run that failed before sending anything, so that verify cannot report an older run there. */
export function writeFailedManifest(path: string, header: Omit<ManifestHeader, "failed">, reason: string): void {
    new ManifestWriter(path, { ...header, failed: reason }).close();
}

/** Reads a manifest; throws with the line number when it is not one. */
export function readManifest(path: string): Manifest {
    let text: string;
    try {
        text = fs.readFileSync(path, "utf8");
    } catch (err) {
        throw new Error(`cannot read the manifest ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, {
            cause: err,
        });
    }
    const lines = text.split("\n").filter((l) => l.trim() !== "");
    const parse = (line: string, n: number) => {
        try {
            return JSON.parse(line);
        } catch {
            throw new Error(`${path}:${n}: not JSON`);
        }
    };
    const header = lines.length ? parse(lines[0], 1) : undefined;
    if (
        header?.kind !== "client-events-run" ||
        typeof header.runId !== "string" ||
        (header.failed !== undefined && typeof header.failed !== "string")
    ) {
        throw new Error(`${path} is not a run manifest (written by: run --manifest ${path})`);
    }
    const events = lines.slice(1).map((line, i) => {
        const e = parse(line, i + 2);
        if (typeof e?.eventId !== "string" || typeof e.eventType !== "string" || (e.status !== "accepted" && e.status !== "failed")) {
            throw new Error(`${path}:${i + 2}: not a manifest event line`);
        }
        return e as ManifestEvent;
    });
    return { header, events };
}
