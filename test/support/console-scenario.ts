/**
 * What the console's browser test (and the docs' screenshot) shows: local mode with a stand-in Zendesk
 * that opens tickets but fails one item, a signed-up user, and requests with hostile strings, a rejected
 * entry, a refused request, a record the Firehose transform rejects and an event that ends in the
 * dead-letter store.
 */
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import { postEntries, postRaw, signUpUser, startTestLocal, type StartedLocal, type TestUser } from "./local";
import type { Activity, ActivityFeed } from "../../local/activity";
import { ZENDESK_RULE } from "../../local";

/** Strings that would run if the page ever rendered client data as HTML; each sets `window.__pwned`. */
export const HOSTILE = {
    script: "<script>window.__pwned = 'script'</script>",
    closeScript: "</script><script>window.__pwned = 'close-script'</script>",
    img: `<img src=x onerror="window.__pwned='img'">`,
    svg: `<svg onload="window.__pwned='svg'"></svg>`,
    quotes: `"double" 'single' \`back\` &amp; &lt;b&gt;`,
    rtl: "שלום עולם — مرحبا بالعالم",
};

/** An eventType that is itself markup (its partition is `_invalid`). */
export const HOSTILE_EVENT_TYPE = `<img src=x onerror="window.__pwned='type'">`;

/** The item whose ticket the stand-in Zendesk always fails with 500 (so it is dead-lettered). */
export const FAILING_ITEM = 666;
export const TICKET_ITEM = 42;
/** The ticket id the stand-in Zendesk gives the ticket of TICKET_ITEM. */
export const TICKET_ID = 9042;
export const ZENDESK_TOKEN = "zendesk-s3cret-api-token";

export interface FakeZendesk {
    url: string;
    received: string[];
    close(): Promise<void>;
}

/** Answers 201 with a ticket, except 500 for tickets of FAILING_ITEM. */
export async function fakeZendesk(): Promise<FakeZendesk> {
    const received: string[] = [];
    let next = TICKET_ID;
    const server = http.createServer((req, res) => {
        const chunks: Buffer[] = [];
        req.on("data", (c: Buffer) => chunks.push(c));
        req.on("end", () => {
            const body = Buffer.concat(chunks).toString("utf8");
            received.push(body);
            if (body.includes(`item ${FAILING_ITEM} `)) {
                res.writeHead(500, { "Content-Type": "application/json" });
                res.end(JSON.stringify({ error: "InternalError" }));
                return;
            }
            const ticket = (JSON.parse(body) as { ticket: Record<string, unknown> }).ticket;
            res.writeHead(201, { "Content-Type": "application/json" });
            res.end(JSON.stringify({ ticket: { id: next++, ...ticket, status: "new" } }));
        });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/v2/tickets`;
    return { url, received, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

export interface ConsoleScenario {
    started: StartedLocal;
    user: TestUser;
    zendesk: FakeZendesk;
    /** Event ids by what they are. */
    ids: { hostile: string; rtl: string; hostileType: string; ticket: string; deadLetter: string; secrets: string };
    /** The raw text of the record put straight into Firehose, which the transform rejects. */
    rejectedRecord: string;
    close(): Promise<void>;
}

export function event(eventType: string, data: Record<string, unknown>): string {
    return JSON.stringify({ eventType, schemaVersion: 1, data });
}

/** Resolves once the feed holds (or receives) a record that passes `test`. */
function untilActivity(feed: ActivityFeed, test: (a: Activity) => boolean): Promise<void> {
    return new Promise((resolve) => {
        const stop = feed.subscribe((a) => {
            if (test(a)) {
                stop();
                resolve();
            }
        });
        if (feed.since(0).some(test)) {
            stop();
            resolve();
        }
    });
}

/** Starts local mode and sends everything; deliveries are done, the Firehose buffer is not yet written. */
export async function runConsoleScenario(): Promise<ConsoleScenario> {
    const zendesk = await fakeZendesk();
    const started = await startTestLocal({
        // Schema checks off: the scenario's events carry hostile fields that the schemas of schemas/ would quarantine.
        config: { schemaEnforcement: "off" },
        zendesk: { endpoint: zendesk.url, email: "support@example.com", apiToken: ZENDESK_TOKEN, ratePerSecond: 100 },
        zendeskRetryPolicy: { maximumRetryAttempts: 2 },
    });
    try {
        const user = await signUpUser(started, "console-user");
        const { local } = started;
        const first = await postEntries(local, user.accessToken, [
            event("shopping", { itemSku: 123, ...HOSTILE }),
            "not json",
            event("searching", { query: HOSTILE.rtl }),
            event(HOSTILE_EVENT_TYPE, { note: HOSTILE.closeScript }),
        ]);
        if (first.status !== 207) throw new Error(`expected 207, got ${first.status}: ${first.body}`);
        const loyalty = await postEntries(local, `Bearer ${user.accessToken}`, [
            event("loyaltypurchase", { itemSku: TICKET_ITEM }),
            event("loyaltypurchase", { itemSku: FAILING_ITEM }),
        ]);
        // A careless client that puts credentials into an event: the console must not show them.
        const secrets = await postEntries(local, user.idToken, [
            event("paging", { page: 2, password: user.password, token: user.accessToken, header: `Bearer ${user.refreshToken}` }),
        ]);
        await postRaw(local, JSON.stringify({ entries: [{ entry: event("paging", {}) }] })); // no Authorization: 401
        const rejectedRecord = `not an event ${HOSTILE.img}`;
        local.firehose.put(Buffer.from(rejectedRecord, "utf8"));
        // The ticket delivered, the failing one dead-lettered. (Not bus.drain(): the archive delivery finishes only once
        // its object is written, and the scenario leaves the Firehose buffer waiting.)
        await untilActivity(started.local.activity, (a) => a.type === "dead-letter");
        await untilActivity(started.local.activity, (a) => a.type === "delivery" && a.rule === ZENDESK_RULE);
        const [hostile, , rtl, hostileType] = first.json.entries.map((e: { eventId?: string }) => e.eventId ?? "");
        return {
            started,
            user,
            zendesk,
            rejectedRecord,
            ids: {
                hostile,
                rtl,
                hostileType,
                ticket: loyalty.json.entries[0].eventId,
                deadLetter: loyalty.json.entries[1].eventId,
                secrets: secrets.json.entries[0].eventId,
            },
            close: async () => {
                await started.local.close();
                await zendesk.close();
            },
        };
    } catch (err) {
        await started.local.close();
        await zendesk.close();
        throw err;
    }
}
