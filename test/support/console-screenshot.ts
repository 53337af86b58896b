/**
 * `npm run screenshot:console [-- <file>]`: the console after the browser test's scenario plus half a
 * minute of generator-like traffic, saved to docs/images/console.png (the docs' picture). Not part of
 * `npm test`, which never writes into the repository.
 */
import * as path from "node:path";
import { mkdirSync } from "node:fs";
import { launchChromium } from "./browser";
import { event, runConsoleScenario } from "./console-scenario";
import { postEntries } from "./local";

const TYPES = ["shopping", "searching", "paging", "purchase"];

async function main(file: string): Promise<void> {
    const scenario = await runConsoleScenario();
    const browser = await launchChromium();
    try {
        const { local } = scenario.started;
        // Traffic for the chart: a batch every half second for 30 seconds.
        for (let i = 0; i < 60; i++) {
            const batch = Array.from({ length: 1 + (i % 10) }, (_, j) =>
                event(TYPES[(i + j) % TYPES.length], { itemSku: 100 + i * 10 + j }),
            );
            await postEntries(local, scenario.user.accessToken, batch);
            await new Promise((resolve) => setTimeout(resolve, 500));
        }
        const page = await browser.newPage({ viewport: { width: 1500, height: 980 } });
        await page.goto(local.details.consoleUrl);
        await page.getByTestId("connection").filter({ hasText: "live" }).waitFor();
        await page.getByRole("button", { name: "Flush Firehose buffers now" }).click();
        await page
            .getByTestId("flush-result")
            .filter({ hasText: /^Wrote/ })
            .waitFor();
        await page.locator(`[data-testid="event-row"][data-event-id="${scenario.ids.hostile}"]`).click();
        await page.evaluate("window.scrollTo(0, 0)");
        await page.mouse.move(5, 5);
        await page.waitForTimeout(1500); // the next metrics poll and chart redraw
        mkdirSync(path.dirname(file), { recursive: true });
        await page.screenshot({ path: file });
        process.stdout.write(`wrote ${file}\n`);
    } finally {
        await browser.close();
        await scenario.close();
    }
}

main(path.resolve(process.argv[2] ?? path.join(__dirname, "..", "..", "docs", "images", "console.png"))).then(
    () => process.exit(0),
    (err) => {
        process.stderr.write(`${(err as Error).stack ?? err}\n`);
        process.exit(1);
    },
);
