/**
 * How Firehose resolves an S3 prefix and names an object at delivery (the prefixes themselves are in
 * pipeline/partitioning.ts, deployed by the Archive component): local mode's emulation of that step.
 */

/** Values of `!{firehose:error-output-type}` (those that apply to an S3 destination). */
export type ErrorOutputType = "processing-failed" | "format-conversion-failed" | string;

/** What a prefix's expressions resolve to. */
export interface PrefixContext {
    /** Keys from the metadata-extraction query. */
    partitionKeys?: Partial<Record<string, string>>;
    /** Arrival time of the oldest record in the object (Firehose evaluates timestamps in UTC). */
    timestamp: Date;
    /** For the error prefix. */
    errorOutputType?: ErrorOutputType;
}

/**
 * A Java DateTimeFormatter pattern of the subset Firehose prefixes use (yyyy, yy, MM, dd, HH, mm, ss,
 * and quoted literals), formatted in UTC.
 */
export function formatTimestamp(pattern: string, date: Date): string {
    let out = "";
    let i = 0;
    while (i < pattern.length) {
        const c = pattern[i];
        if (c === "'") {
            const end = pattern.indexOf("'", i + 1);
            if (end < 0) throw new Error(`unterminated quote in timestamp pattern ${JSON.stringify(pattern)}`);
            out += end === i + 1 ? "'" : pattern.slice(i + 1, end);
            i = end + 1;
        } else if (/[A-Za-z]/.test(c)) {
            let j = i;
            while (j < pattern.length && pattern[j] === c) j++;
            out += timestampField(pattern.slice(i, j), date);
            i = j;
        } else {
            out += c;
            i++;
        }
    }
    return out;
}

function two(n: number): string {
    return String(n).padStart(2, "0");
}

/** One run of pattern letters (a switch, not a table of closures built at every call: prefixes resolve per record). */
function timestampField(run: string, date: Date): string {
    switch (run) {
        case "yyyy":
            return String(date.getUTCFullYear()).padStart(4, "0");
        case "yy":
            return two(date.getUTCFullYear() % 100);
        case "MM":
            return two(date.getUTCMonth() + 1);
        case "dd":
            return two(date.getUTCDate());
        case "HH":
            return two(date.getUTCHours());
        case "mm":
            return two(date.getUTCMinutes());
        case "ss":
            return two(date.getUTCSeconds());
        default:
            throw new Error(`timestamp pattern letter run ${JSON.stringify(run)} is not supported`);
    }
}

/**
 * Resolves a Firehose S3 prefix the way Firehose does at delivery: `!{partitionKeyFromQuery:k}`,
 * `!{timestamp:pattern}` and `!{firehose:error-output-type}`. Throws on an unknown expression or a
 * missing key (Firehose would send the record to the error prefix instead).
 */
export function resolvePrefix(prefix: string, context: PrefixContext): string {
    return prefix.replace(/!\{([A-Za-z]+):([^}]*)\}/g, (_whole, namespace: string, value: string) => {
        switch (namespace) {
            case "partitionKeyFromQuery":
            case "partitionKeyFromLambda": {
                const key = context.partitionKeys?.[value];
                if (typeof key !== "string" || key === "") throw new Error(`partition key ${value} has no value`);
                return key;
            }
            case "timestamp":
                return formatTimestamp(value, context.timestamp);
            case "firehose":
                if (value === "error-output-type") {
                    if (!context.errorOutputType) throw new Error("!{firehose:error-output-type} needs an error output type");
                    return context.errorOutputType;
                }
                if (value === "random-string") return Math.random().toString(36).slice(2, 13).padEnd(11, "0");
                throw new Error(`unknown firehose expression ${value}`);
            default:
                throw new Error(`unknown prefix namespace ${namespace}`);
        }
    });
}

/**
 * The object name Firehose appends to the prefix:
 * `<stream name>-<stream version>-<yyyy>-<MM>-<dd>-<HH>-<mm>-<ss>-<uuid><extension>`.
 */
export function objectNameSuffix(streamName: string, timestamp: Date, uuid: string, extension = "", streamVersion = 1): string {
    return `${streamName}-${streamVersion}-${formatTimestamp("yyyy-MM-dd-HH-mm-ss", timestamp)}-${uuid}${extension}`;
}
