// The API-Gateway-faithful Velocity renderer on the ingest API's own templates (10-entry requests): through velocityjs
// with a new compiler per render, through velocityjs reused, and compiled to closures (what local mode runs), beside
// a floor: the same text built by plain TypeScript.
import { EVENT_SOURCE } from "../pipeline/limits";
import { PUT_EVENTS_REQUEST_TEMPLATE } from "../pipeline/mapping-template";
import { PUT_EVENTS_SUCCESS_TEMPLATE } from "../pipeline/integration-responses";
import { escapeJavaScript, renderTemplate, renderTemplateWithOverrides, type RenderOptions } from "../local/api-gateway/vtl";
import { compareCosts, type BenchRow } from "./table";

const AREA = "velocity";

export const about =
    "mapping templates through local mode's Velocity renderer: velocityjs with a new compiler per render, velocityjs reused, compiled to closures (local mode's path), and plain TypeScript (floor)";
export const cases = [
    "request template (PutEvents body), 10 entries: velocityjs new, velocityjs reused, compiled; floor: the same text built by plain TypeScript",
    "success response template, 10 entries: velocityjs new, velocityjs reused, compiled; same floor",
];

/** The three renderers measured: velocityjs with a new compiler per render, velocityjs reused, the compiled closures. */
const UNCACHED: RenderOptions = { uncached: true };
const REUSED: RenderOptions = { velocityjs: true };
const COMPILED: RenderOptions = {};

const STAGE = { Environment: "local", Bus: "client-events-local-bus" };
const CLIENT_ID = "7d5e8a40-1c1f-4f0e-9a53-3f1d2a6b9c01";

function requestBody(): string {
    const entries = Array.from({ length: 10 }, (_, i) => ({
        entry: JSON.stringify({ eventType: "shopping", schemaVersion: 1, data: { itemSku: 1000 + i, note: 'it\'s "quoted" / é' } }),
    }));
    return JSON.stringify({ entries });
}

/** The request template's output, written by hand (the floor); checked equal to the renderer's below. */
function requestFloor(body: string, stage: typeof STAGE, clientId: string): string {
    const { entries } = JSON.parse(body) as { entries: Array<{ entry: string }> };
    let out = '{\n  "Entries": [\n';
    entries.forEach((e, i) => {
        out +=
            `    {\n      "Source": "${EVENT_SOURCE}",\n      "DetailType": "${stage.Environment}",\n      "EventBusName": "${stage.Bus}",\n` +
            `      "Resources": ["${clientId}"],\n      "Detail": "${escapeJavaScript(e.entry).replaceAll("\\'", "'")}"\n    }${i + 1 < entries.length ? "," : ""}`;
    });
    return out + "  ]\n}\n";
}

function responseBody(): string {
    return JSON.stringify({
        FailedEntryCount: 0,
        Entries: Array.from({ length: 10 }, (_, i) => ({ EventId: `6a7e8feb-b491-4cf7-a9f1-${String(i).padStart(12, "0")}` })),
    });
}

function responseFloor(body: string): string {
    const { Entries } = JSON.parse(body) as { Entries: Array<{ EventId: string }> };
    let out = '{\n  "failedEntryCount": 0,\n  "entries": [\n';
    Entries.forEach((e, i) => {
        out += `    {"eventId": "${escapeJavaScript(e.EventId).replaceAll("\\'", "'")}"}${i + 1 < Entries.length ? "," : ""}\n`;
    });
    return out + "  ]\n}\n";
}

export async function run(): Promise<BenchRow[]> {
    const rows: BenchRow[] = [];
    const reqBody = requestBody();
    const context = () => ({ requestId: "bench", authorizer: { clientId: CLIENT_ID } });
    const request = (options: RenderOptions) => () =>
        renderTemplate(PUT_EVENTS_REQUEST_TEMPLATE, { body: reqBody, context: context(), stageVariables: STAGE }, options);
    const respBody = responseBody();
    const response = (options: RenderOptions) => () =>
        renderTemplateWithOverrides(PUT_EVENTS_SUCCESS_TEMPLATE, { body: respBody, context: context() }, options).output;

    // The floors must produce exactly what the renderer does, or the comparison means nothing.
    for (const [name, floor, rendered] of [
        ["request", requestFloor(reqBody, STAGE, CLIENT_ID), request(COMPILED)()],
        ["response", responseFloor(respBody), response(COMPILED)()],
    ] as const) {
        if (floor !== rendered)
            throw new Error(
                `the ${name} floor differs from the renderer's output: ${JSON.stringify(floor).slice(0, 300)} vs ${JSON.stringify(rendered).slice(0, 300)}`,
            );
        for (const options of [UNCACHED, REUSED]) {
            if (rendered !== (name === "request" ? request(options)() : response(options)()))
                throw new Error(`the ${name} template renders differently with ${JSON.stringify(options)}`);
        }
    }

    const us = await compareCosts({
        requestFloor: () => requestFloor(reqBody, STAGE, CLIENT_ID),
        requestBefore: request(UNCACHED),
        requestReused: request(REUSED),
        requestAfter: request(COMPILED),
        responseFloor: () => responseFloor(respBody),
        responseBefore: response(UNCACHED),
        responseReused: response(REUSED),
        responseAfter: response(COMPILED),
    });
    for (const [label, key, floorCase] of [
        ["request template, 10 entries", "request", "plain TypeScript, same PutEvents text"],
        ["success response template, 10 entries", "response", "plain TypeScript, same response text"],
    ] as const) {
        const floor = { case: floorCase, value: us[`${key}Floor`] };
        rows.push(
            { area: AREA, case: `${label}: velocityjs, new compiler per render`, value: us[`${key}Before`], unit: "us/render", floor },
            { area: AREA, case: `${label}: velocityjs, compiler reused`, value: us[`${key}Reused`], unit: "us/render", floor },
            {
                area: AREA,
                case: `${label}: compiled to closures (vtl-compile.ts)`,
                value: us[`${key}After`],
                unit: "us/render",
                floor,
                note: `${(us[`${key}Reused`] / us[`${key}After`]).toFixed(2)}x faster than velocityjs reused, ${(us[`${key}Before`] / us[`${key}After`]).toFixed(2)}x than a new compiler`,
            },
        );
    }
    return rows;
}
