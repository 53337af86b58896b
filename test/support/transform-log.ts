// Reads what the Firehose transform logged: its EMF reject counts and the schema rejections it named.
import { TRANSFORM_REJECTS } from "../../pipeline/metrics";
import type { RejectionExample } from "../../handlers/firehose-transform";

/** The log lines' JSON objects (a line may carry a prefix before its "{", as local mode's function log does). */
function objectsOf(lines: readonly string[]): Array<Record<string, unknown>> {
    return lines.filter((l) => l.includes("{")).map((l) => JSON.parse(l.slice(l.indexOf("{"))) as Record<string, unknown>);
}

/** Rejected records by reason, summed over the EMF lines, and the examples the rejection line named. */
export function readRejectLog(lines: readonly string[]): { rejected: Record<string, number>; examples: RejectionExample[] } {
    const rejected: Record<string, number> = {};
    const examples: RejectionExample[] = [];
    for (const line of objectsOf(lines)) {
        if (line._aws !== undefined) {
            const reason = String(line[TRANSFORM_REJECTS.reasonDimension]);
            rejected[reason] = (rejected[reason] ?? 0) + Number(line[TRANSFORM_REJECTS.metricName]);
        }
        if (Array.isArray(line.examples)) examples.push(...(line.examples as RejectionExample[]));
    }
    return { rejected, examples };
}
