/**
 * The local console in a real browser (Debian's chromium through playwright-core): what the page shows
 * after the scenario of test/support/console-scenario.ts, that no client string runs as markup, that no
 * credential reaches the page, and that the strict Content-Security-Policy is never violated.
 */
import { strict as assert } from "node:assert";
import { mkdtempSync, readFileSync } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { Browser, Page } from "playwright-core";
import { ARCHIVE_RULE, ZENDESK_RULE } from "../local";
import { launchChromium } from "./support/browser";
import {
    FAILING_ITEM,
    HOSTILE,
    HOSTILE_EVENT_TYPE,
    TICKET_ID,
    ZENDESK_TOKEN,
    runConsoleScenario,
    type ConsoleScenario,
} from "./support/console-scenario";
import { archiveRecords, listFiles } from "./support/local";

/** What the page's window holds for the test (the payloads would set __pwned). */
type Probe = { __pwned?: string; __cspViolations?: string[] };
/** Runs before the page's own script: records every Content-Security-Policy violation. */
const CSP_RECORDER = `window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (e) => window.__cspViolations.push(e.violatedDirective + " " + e.blockedURI));`;

describe("local console in a browser", function () {
    this.timeout(60_000);
    let scenario: ConsoleScenario;
    let browser: Browser;
    let page: Page;
    const pageErrors: string[] = [];
    /** Requests the page made to anywhere but local mode (it needs no network). */
    const elsewhere: string[] = [];

    before(async () => {
        scenario = await runConsoleScenario();
        browser = await launchChromium();
        page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
        page.on("pageerror", (err) => pageErrors.push(err.message));
        const origin = new URL(scenario.started.local.details.consoleUrl).origin;
        page.on("request", (r) => {
            if (new URL(r.url()).origin !== origin) elsewhere.push(r.url());
        });
        await page.addInitScript(CSP_RECORDER);
        const response = await page.goto(scenario.started.local.details.consoleUrl);
        assert.equal(response?.status(), 200);
        assert.match(response!.headers()["content-security-policy"], /script-src 'self';/);
        await page.getByTestId("connection").filter({ hasText: "live" }).waitFor();
    });
    after(async () => {
        await browser?.close();
        await scenario?.close();
    });

    const eventRow = (id: string) => page.locator(`[data-testid="event-row"][data-event-id="${id}"]`);
    const tab = (name: string) => page.getByRole("tab", { name, exact: true }).click();
    /** Waits until the page shows exactly `n` rows of a kind (filters apply at the next render). */
    const rowsAre = (testid: string, n: number) =>
        page.waitForFunction(`document.querySelectorAll('[data-testid="${testid}"]').length === ${n}`);

    it("is the URL of the ready summary and shows each event with the rules it matched", async () => {
        assert.match(scenario.started.local.details.consoleUrl, /^http:\/\/127\.0\.0\.1:\d+\/_local\/$/);
        const { ids } = scenario;
        await eventRow(ids.hostile).waitFor();
        assert.equal(await eventRow(ids.hostile).getByTestId("event-type").textContent(), "shopping");
        assert.equal(await eventRow(ids.hostileType).getByTestId("event-type").textContent(), HOSTILE_EVENT_TYPE);
        assert.equal(
            await eventRow(ids.hostile).getByTestId(`route-${ARCHIVE_RULE}`).getAttribute("data-state"),
            "pending",
            "delivered only once its object is written",
        );
        assert.match((await eventRow(ids.hostile).getByTestId(`route-${ARCHIVE_RULE}`).textContent()) ?? "", /in the Firehose buffer/);
        assert.equal(
            await eventRow(ids.hostile).getByTestId(`route-${ZENDESK_RULE}`).count(),
            0,
            "a shopping event matches only the archive rule",
        );
        assert.equal(
            await page.getByTestId("count-buffered-value").textContent(),
            "7",
            "6 accepted events and the raw record wait in the buffer",
        );
    });

    it("opens an event's full JSON, hostile strings shown as text", async () => {
        await eventRow(scenario.ids.hostile).click();
        await page.getByTestId("detail-event-id").filter({ hasText: scenario.ids.hostile }).waitFor();
        const shown = JSON.parse((await page.getByTestId("detail").locator("pre[aria-label='The event as JSON']").textContent())!);
        assert.equal(shown.id, scenario.ids.hostile);
        assert.equal(shown.resources[0], scenario.user.clientId);
        assert.deepEqual(shown.detail.data, { itemSku: 123, ...HOSTILE });
    });

    it("flushes the Firehose buffer from the button and shows each event's partition and object", async () => {
        await page.getByRole("button", { name: "Flush Firehose buffers now" }).click();
        await page
            .getByTestId("flush-result")
            .filter({ hasText: /^Wrote 7 records into \d+ objects\.$/ })
            .waitFor();
        const { local } = scenario.started;
        const stored = archiveRecords(local).find((r) => r.record.id === scenario.ids.hostile)!;
        assert.ok(stored, "the event is on disk");
        const route = eventRow(scenario.ids.hostile).getByTestId(`route-${ARCHIVE_RULE}`);
        await route.filter({ hasText: stored.key }).waitFor();
        assert.equal(await route.textContent(), `${ARCHIVE_RULE} ${stored.key}`);
        await eventRow(scenario.ids.hostile).click();
        assert.equal(
            await page.getByTestId("detail").getByTestId(`route-${ARCHIVE_RULE}`).textContent(),
            `${ARCHIVE_RULE} s3://${local.outputs.bucketName}/${stored.key}`,
        );
        assert.match(stored.key, /^events\/eventType=shopping\/schemaVersion=1\//);

        await tab("Firehose");
        const partition = stored.key.slice(0, stored.key.lastIndexOf("/") + 1);
        const group = page.locator(`[data-testid="partition"][data-partition="${partition}"]`);
        await group.waitFor();
        await group.getByRole("button", { name: `View lines of ${stored.key}` }).click();
        const lines = page.getByTestId("object-line");
        await lines.first().waitFor();
        const onDisk = readFileSync(path.join(local.details.s3Dir, local.outputs.bucketName, stored.key), "utf8")
            .split("\n")
            .filter(Boolean);
        assert.deepEqual(await lines.allTextContents(), onDisk);
        assert.ok(
            onDisk.some((l) => l.includes(JSON.stringify(HOSTILE.script))),
            "the object holds the hostile event",
        );
        // The hostile eventType went to the _invalid partition, shown like any other.
        await page.locator(`[data-testid="partition"][data-partition^="events/eventType=_invalid/"]`).waitFor();
        // The count tile (from /_local/metrics) catches up within a second.
        const objects = listFiles(path.join(local.details.s3Dir, local.outputs.bucketName)).filter((k) => k.startsWith("events/")).length;
        await page
            .getByTestId("count-objects-value")
            .filter({ hasText: new RegExp(`^${objects}$`) })
            .waitFor();
    });

    it("shows the rejected entry with its error, and the record the transform rejected, decoded", async () => {
        await tab("Errors");
        const rejected = page.getByTestId("rejected-entry");
        await rejected.first().waitFor();
        assert.equal(await rejected.count(), 1);
        assert.equal(await rejected.getByTestId("error-code").textContent(), "MalformedDetail");
        assert.equal(await rejected.getByTestId("entry-text").textContent(), "not json");
        const errors = page.locator('[data-testid="error-type"][data-error-type="processing-failed"] [data-testid="error-record"]');
        await errors.first().waitFor();
        assert.equal(await errors.getAttribute("data-error-code"), "Lambda.ProcessingFailedStatus");
        assert.equal(await errors.getByTestId("raw-data").textContent(), scenario.rejectedRecord);
        assert.equal(await page.locator('[data-testid="refused-request"][data-status="401"]').count(), 1);
    });

    it("shows the ticket the Zendesk endpoint opened and the dead letter of the one it kept failing", async () => {
        await tab("Tickets");
        const ticket = page.getByTestId("ticket-row");
        await ticket.first().waitFor();
        assert.equal(await ticket.count(), 1);
        assert.equal(await ticket.getAttribute("data-ticket-id"), String(TICKET_ID));
        assert.equal(await ticket.getAttribute("data-event-id"), scenario.ids.ticket);

        await tab("Dead letters");
        const dead = page.getByTestId("dead-letter-row");
        await dead.first().waitFor();
        assert.equal(await dead.count(), 1);
        assert.equal(await dead.getAttribute("data-event-id"), scenario.ids.deadLetter);
        assert.equal(await dead.getByTestId("dlq-error-code").textContent(), "RETRYABLE_HTTP_ERROR");
        await dead.click();
        const message = JSON.parse((await page.locator("pre[aria-label='The dead-letter message as JSON']").textContent())!);
        assert.equal(message.attributes.RETRY_ATTEMPTS, "2");
        assert.equal(message.attributes.EXHAUSTED_RETRY_CONDITION, "MaximumRetryAttempts");
        assert.equal(message.body.detail.data.itemSku, FAILING_ITEM);

        await tab("Events");
        assert.equal(
            await eventRow(scenario.ids.ticket).getByTestId(`route-${ZENDESK_RULE}`).textContent(),
            `${ZENDESK_RULE} ticket #${TICKET_ID}`,
        );
        assert.equal(
            await eventRow(scenario.ids.deadLetter).getByTestId(`route-${ZENDESK_RULE}`).getAttribute("data-state"),
            "dead-letter",
        );
    });

    it("shows each request with its status, user, entries and per-entry results", async () => {
        await tab("Requests");
        const rows = page.getByTestId("request-row");
        await rows.first().waitFor();
        assert.deepEqual((await rows.evaluateAll((trs) => trs.map((tr) => tr.getAttribute("data-status")))).sort(), [
            "200",
            "200",
            "207",
            "401",
        ]);
        const mixed = page.locator('[data-testid="request-row"][data-status="207"]');
        assert.equal(await mixed.locator("td").nth(3).locator("span").getAttribute("title"), scenario.user.clientId);
        await mixed.click();
        const entries = page.getByTestId("request-entry");
        assert.deepEqual(await entries.evaluateAll((trs) => trs.map((tr) => tr.getAttribute("data-result"))), [
            "accepted",
            "failed",
            "accepted",
            "accepted",
        ]);
        assert.equal(await entries.nth(1).locator("td").nth(1).textContent(), "not json");
        assert.equal(await entries.nth(1).locator("td").nth(2).textContent(), "MalformedDetail: Detail is malformed.");
        assert.equal(await entries.nth(0).locator("td").nth(2).textContent(), `accepted ${scenario.ids.hostile}`);
        const request = JSON.parse((await page.locator("pre[aria-label='The request as JSON']").textContent())!);
        assert.equal(request.status, 207);
        assert.equal(request.clientId, scenario.user.clientId);
        assert.match(request.principalId, /^[0-9a-f-]{36}$/, "the user: the authorizer's principal (the Cognito sub)");
        assert.equal(request.entryCount, 4);
        assert.equal(request.failedEntryCount, 1);
    });

    it("filters by eventType, clientId and status", async () => {
        await tab("Events");
        const rows = page.getByTestId("event-row");
        assert.equal(await rows.count(), 6);
        await page.getByLabel("eventType").selectOption("loyaltypurchase");
        await rowsAre("event-row", 2);
        await page.getByLabel("eventType").selectOption({ label: HOSTILE_EVENT_TYPE });
        await rowsAre("event-row", 1);
        await page.getByRole("button", { name: "Clear filters" }).click();
        await page.getByLabel("clientId").fill("no-such-client");
        await rowsAre("event-row", 0);
        await page.getByLabel("clientId").fill(scenario.user.clientId.slice(0, 8));
        await rowsAre("event-row", 6);
        await page.getByLabel("Status").selectOption("207");
        await rowsAre("event-row", 3);
        await tab("Requests");
        await page.getByLabel("clientId").fill("");
        await page.getByLabel("Status").selectOption("4xx");
        await rowsAre("request-row", 1);
        assert.equal(await page.getByTestId("request-row").getAttribute("data-status"), "401");
        await page.getByRole("button", { name: "Clear filters" }).click();
    });

    it("runs no injected script, shows no credential and never violates its Content-Security-Policy", async () => {
        await tab("Events");
        await eventRow(scenario.ids.secrets).click();
        const shown = JSON.parse((await page.locator("pre[aria-label='The event as JSON']").textContent())!);
        assert.deepEqual(shown.detail.data, { page: 2, password: "[redacted]", token: "[redacted]", header: "Bearer [redacted]" });
        const html = await page.content();
        const served = await (await fetch(new URL("api/activity", scenario.started.local.details.consoleUrl))).text();
        const { user } = scenario;
        const basic = Buffer.from(`support@example.com/token:${ZENDESK_TOKEN}`).toString("base64");
        for (const secret of [user.accessToken, user.idToken, user.refreshToken, user.password, ZENDESK_TOKEN, basic]) {
            assert.ok(!html.includes(secret), "a credential reached the page");
            assert.ok(!served.includes(secret), "a credential reached the console's JSON");
        }
        assert.equal(await page.evaluate(() => (globalThis as unknown as Probe).__pwned), undefined, "an injected script ran");
        assert.equal(await page.locator("img, svg, iframe, object, embed").count(), 0, "client markup became elements");
        assert.equal(await page.locator("script").count(), 1, "only the console's own script");
        assert.deepEqual(await page.evaluate(() => (globalThis as unknown as Probe).__cspViolations), []);
        assert.deepEqual(pageErrors, []);
        assert.deepEqual(elsewhere, [], "the page loads everything from local mode");
    });

    it("draws the rate chart and saves a screenshot", async () => {
        await page.locator('[data-testid="rate-chart"] canvas').waitFor();
        const dir = mkdtempSync(path.join(os.tmpdir(), "client-events-console-"));
        const file = path.join(dir, "console.png");
        await page.screenshot({ path: file, fullPage: true });
        assert.ok(readFileSync(file).subarray(1, 4).toString() === "PNG");
    });
});
