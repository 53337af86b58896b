// The floor for local mode under load: a bare Node HTTP process that does what local mode must do at the
// least for each request. It parses the request and each entry, builds the line the archive would hold (the
// event as EventBridge delivers it, after the transform), appends the request's lines to one file and only
// then answers with an eventId per entry. No authorizer, no bus, no Firehose.
// Usage: floor-server.ts <archive file>; prints {"ready":true,"apiUrl":...}; SIGTERM closes and exits.
import { randomUUID } from "crypto";
import * as fs from "fs";
import * as http from "http";

const archive = process.argv[2];
if (!archive) throw new Error("usage: floor-server.ts <archive file>");
const fd = fs.openSync(archive, "a");
const CLIENT_ID = "c0ffee00-0000-4000-8000-000000000000";

function answer(res: http.ServerResponse, status: number, body: unknown): void {
    res.writeHead(status, { "Content-Type": "application/json" });
    res.end(JSON.stringify(body));
}

const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
        let entries: Array<{ entry: string }>;
        try {
            entries = (JSON.parse(Buffer.concat(chunks).toString("utf8")) as { entries: Array<{ entry: string }> }).entries;
        } catch {
            return answer(res, 400, { message: "Invalid request body" });
        }
        const time = new Date().toISOString().replace(/\.\d+Z$/, "Z");
        const ids: string[] = [];
        let lines = "";
        for (const { entry } of entries) {
            const id = randomUUID();
            ids.push(id);
            const event = {
                version: "0",
                id,
                "detail-type": "bench",
                source: "clientevents",
                account: "000000000000",
                time,
                region: "us-east-1",
                resources: [],
                detail: { ...JSON.parse(entry), accountNumber: CLIENT_ID },
            };
            lines += JSON.stringify(event) + "\n";
        }
        fs.appendFileSync(fd, lines);
        answer(res, 200, { failedEntryCount: 0, entries: ids.map((eventId) => ({ eventId })) });
    });
});

server.keepAliveTimeout = 60_000;
server.listen(0, "127.0.0.1", () => {
    const { port } = server.address() as { port: number };
    process.stdout.write(JSON.stringify({ ready: true, apiUrl: `http://127.0.0.1:${port}/floor/event` }) + "\n");
});
process.on("SIGTERM", () => {
    server.close();
    server.closeAllConnections();
    fs.closeSync(fd);
    process.exit(0);
});
