/**
 * EventBridge's input transformer (InputPathsMap and InputTemplate), as local mode's bus applies it to a
 * target's input; the Zendesk ticket's paths and template are the deployed ones (pipeline/zendesk-ticket.ts).
 */
import { TICKET_INPUT_PATHS, TICKET_INPUT_TEMPLATE } from "../pipeline/zendesk-ticket";

/** Values of EventBridge's predefined input-transformer variables. */
export interface PredefinedVariables {
    "aws.events.rule-arn"?: string;
    "aws.events.rule-name"?: string;
    "aws.events.event.ingestion-time"?: string;
}

/**
 * Evaluates an InputPathsMap JSON path (dot notation and array indices, the subset EventBridge
 * documents); `undefined` when the path does not exist in the event.
 */
export function evaluateInputPath(path: string, event: unknown): unknown {
    if (!path.startsWith("$")) throw new Error(`input path ${JSON.stringify(path)} must start with $`);
    const tokens = path.slice(1).match(/\.[A-Za-z0-9_-]+|\[\d+\]/g) ?? [];
    if (tokens.join("") !== path.slice(1))
        throw new Error(`input path ${JSON.stringify(path)} uses syntax outside dot notation and array indices`);
    let value: unknown = event;
    for (const token of tokens) {
        if (value === null || typeof value !== "object") return undefined;
        if (token.startsWith("[")) {
            if (!Array.isArray(value)) return undefined;
            value = value[Number(token.slice(1, -1))];
        } else {
            if (Array.isArray(value)) return undefined;
            const key = token.slice(1);
            value = Object.prototype.hasOwnProperty.call(value, key) ? (value as Record<string, unknown>)[key] : undefined;
        }
        if (value === undefined) return undefined;
    }
    return value;
}

/**
 * Fills an InputTemplate as EventBridge does: a placeholder outside a JSON string becomes the value's
 * JSON (strings quoted); inside a JSON string a string value is inserted as is, WITHOUT escaping (as
 * AWS documents), and other values as their JSON text; a path that does not exist in the event
 * creates no variable, and its placeholder is left empty. Text in `<...>` that names no variable is
 * left alone.
 */
export function renderInputTemplate(
    template: string,
    inputPaths: Record<string, string>,
    event: unknown,
    predefined: PredefinedVariables = {},
): string {
    const values = new Map<string, unknown>();
    const defined = new Set<string>([...Object.keys(inputPaths), ...Object.keys(predefined)]);
    for (const [name, path] of Object.entries(inputPaths)) {
        const value = evaluateInputPath(path, event);
        if (value !== undefined) values.set(name, value);
    }
    for (const [name, value] of Object.entries(predefined)) if (value !== undefined) values.set(name, value);

    let out = "";
    let inString = false;
    for (let i = 0; i < template.length; i++) {
        const c = template[i];
        if (inString && c === "\\") {
            out += c + (template[i + 1] ?? "");
            i++;
            continue;
        }
        if (c === '"') {
            inString = !inString;
            out += c;
            continue;
        }
        if (c === "<") {
            const close = template.indexOf(">", i + 1);
            const name = close > i ? template.slice(i + 1, close) : "";
            if (close > i && defined.has(name)) {
                if (values.has(name)) {
                    const value = values.get(name);
                    out += inString && typeof value === "string" ? value : JSON.stringify(value);
                }
                i = close;
                continue;
            }
        }
        out += c;
    }
    return out;
}

/** Renders the ticket for an event (what the API destination would POST to Zendesk). */
export function renderTicket(event: unknown, predefined: PredefinedVariables = {}): string {
    return renderInputTemplate(TICKET_INPUT_TEMPLATE, TICKET_INPUT_PATHS, event, predefined);
}
