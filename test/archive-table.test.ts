/**
 * The table definition (pipeline/archive-table.ts) against the Firehose layout it must read: for every
 * partition value, Athena's storage.location.template (expanded as Athena's partition projection expands it,
 * re-implemented here from AWS's documentation) and Firehose's prefix resolver give the same key, in both
 * directions; the SerDe properties; and the DuckDB views over hostile records.
 */
import * as assert from "node:assert/strict";
import { mkdirSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import { gzipSync } from "node:zlib";
import {
    ARCHIVE_TABLES,
    ERRORS_TABLE,
    EVENTS_TABLE,
    FIRST_ARCHIVE_YEAR,
    glueColumns,
    gluePartitionKeys,
    hiveType,
    locationTemplate,
    serdeParameters,
    tableLocation,
    tableParameters,
    type ArchiveTable,
} from "../pipeline/archive-table";
import {
    buildPartitionKeysQuery,
    DEFAULT_PARTITIONING_POLICY,
    ERROR_OUTPUT_TYPES,
    S3_ERROR_PREFIX,
    S3_PREFIX,
    validatePartitioningPolicy,
    type PartitioningPolicy,
} from "../pipeline/partitioning";
import { resolvePrefix } from "../local/firehose-prefix";
import { partitionKeysFor } from "./support/partitioning";
import { transformEvent } from "../handlers/firehose-transform";
import { defaultJqEngine, extractKeysBatch } from "../local/jq";
import { runLocalQuery } from "../query/local-engine";
import { rowObjects } from "../query/result";
import { tempDataDir } from "./support/local";

const BUCKET = "client-events-test-archive-bucket-1a2b3c4";
const THIS_YEAR = new Date().getUTCFullYear();

/**
 * Athena's partition projection of one column, from the table properties alone, as AWS documents it: enum
 * values as listed; integers from range with `digits` zero-padding; dates from range (NOW = this year) in
 * `format` (only `yyyy` here) every `interval` `interval.unit`.
 */
function projectedValues(parameters: Record<string, string>, column: string): string[] {
    const p = (name: string) => parameters[`projection.${column}.${name}`];
    switch (p("type")) {
        case "enum":
            return p("values").split(",");
        case "integer": {
            const [from, to] = p("range").split(",").map(Number);
            const digits = Number(p("digits") ?? 0);
            return Array.from({ length: to - from + 1 }, (_, i) => String(from + i).padStart(digits, "0"));
        }
        case "date": {
            assert.equal(p("format"), "yyyy", "the emulation covers the year format only");
            assert.equal(p("interval.unit"), "YEARS");
            const [from, to] = p("range")
                .split(",")
                .map((v) => (v.trim() === "NOW" ? THIS_YEAR : Number(v)));
            return Array.from({ length: to - from + 1 }, (_, i) => String(from + i));
        }
        default:
            throw new Error(`projection type ${p("type")} of ${column} is not emulated`);
    }
}

/** The template with `${column}` replaced by each value, as Athena builds a partition's location. */
function expandTemplate(template: string, values: Record<string, string>): string {
    return template.replace(/\$\{([a-z]+)\}/g, (_, column: string) => {
        assert.ok(column in values, `no value for ${column}`);
        return values[column];
    });
}

/** Every location Athena's projection can produce for the table. */
function projectedLocations(table: ArchiveTable, policy: PartitioningPolicy): Set<string> {
    const parameters = tableParameters(table, policy, BUCKET);
    assert.equal(parameters["projection.enabled"], "true");
    const template = parameters["storage.location.template"];
    let combos: Array<Record<string, string>> = [{}];
    for (const { name } of gluePartitionKeys(table)) {
        combos = combos.flatMap((c) => projectedValues(parameters, name).map((v) => ({ ...c, [name]: v })));
    }
    return new Set(combos.map((c) => expandTemplate(template, c)));
}

/** Records of every partition kind, as the transform writes them (and a few it never would). */
function sampleRecords(policy: PartitioningPolicy): string[] {
    const record = (detail: unknown) =>
        JSON.stringify({
            version: "0",
            id: "6a7e8feb-b491-4cf7-a9f1-bf3703467718",
            "detail-type": "dev",
            source: "clientevents",
            account: "123456789012",
            time: "2026-11-27T19:41:07Z",
            region: "us-east-1",
            resources: [],
            detail,
        });
    const max = policy.maxSchemaVersion;
    return [
        ...policy.eventTypes.flatMap((t) => [0, max].map((v) => record({ eventType: t, schemaVersion: v }))),
        record({ eventType: "not-listed-type", schemaVersion: max + 1 }),
        record({ eventType: "Shopping", schemaVersion: 1e300 }),
        record({ eventType: 42, schemaVersion: "1" }),
        record({ eventType: "../x", schemaVersion: -1 }),
        record({ eventType: ["shopping"], schemaVersion: { v: 1 } }),
        record({}),
        record("not an object"),
        '{"detail":{"eventType":"' + policy.eventTypes[0] + '","schemaVersion":1.0}}',
        "[1,2]",
    ];
}

const DATES = [
    new Date(Date.UTC(FIRST_ARCHIVE_YEAR, 0, 1, 0, 0, 0)),
    new Date(Date.UTC(FIRST_ARCHIVE_YEAR, 11, 31, 23, 59, 59)),
    new Date(),
];
const CUSTOM_POLICY: PartitioningPolicy = { eventTypes: ["checkout", "search-v2"], maxSchemaVersion: 3 };

describe("archive tables: one definition for Firehose, Athena and DuckDB", () => {
    it("Firehose's prefixes are the deployed ones, generated from the same segments as the tables", () => {
        assert.equal(
            S3_PREFIX,
            "events/eventType=!{partitionKeyFromQuery:eventType}/schemaVersion=!{partitionKeyFromQuery:schemaVersion}/year=!{timestamp:yyyy}/month=!{timestamp:MM}/day=!{timestamp:dd}/",
        );
        assert.equal(
            S3_ERROR_PREFIX,
            "errors/!{firehose:error-output-type}/year=!{timestamp:yyyy}/month=!{timestamp:MM}/day=!{timestamp:dd}/",
        );
        assert.equal(
            locationTemplate(EVENTS_TABLE, BUCKET),
            `s3://${BUCKET}/events/eventType=\${eventtype}/schemaVersion=\${schemaversion}/year=\${year}/month=\${month}/day=\${day}/`,
        );
        assert.equal(
            locationTemplate(ERRORS_TABLE, BUCKET),
            `s3://${BUCKET}/errors/\${erroroutputtype}/year=\${year}/month=\${month}/day=\${day}/`,
        );
        assert.equal(tableLocation(EVENTS_TABLE, BUCKET), `s3://${BUCKET}/events/`);
    });

    for (const [label, policy] of [
        ["default", DEFAULT_PARTITIONING_POLICY],
        ["custom", CUSTOM_POLICY],
    ] as const) {
        it(`${label} policy: every key Firehose writes (jq and the TypeScript reference) is a location Athena projects`, async () => {
            const locations = projectedLocations(EVENTS_TABLE, policy);
            const records = sampleRecords(policy);
            const fromJq = await extractKeysBatch(
                defaultJqEngine(),
                records.map((r) => Buffer.from(r)),
                buildPartitionKeysQuery(policy),
            );
            const kinds = new Set<string>();
            records.forEach((record, i) => {
                const result = fromJq[i];
                assert.ok("keys" in result, `jq failed on ${record}`);
                const reference = partitionKeysFor(JSON.parse(record), policy);
                assert.deepEqual(result.keys, { ...reference }, record);
                kinds.add(`${reference.eventType}/${reference.schemaVersion}`);
                for (const timestamp of DATES) {
                    const key = `s3://${BUCKET}/` + resolvePrefix(S3_PREFIX, { partitionKeys: result.keys, timestamp });
                    assert.ok(locations.has(key), `${key} (from ${record}) is not projected`);
                }
            });
            // Every kind was exercised: listed types, _other and _invalid, versions 0, the maximum, _other, _invalid.
            for (const kind of [
                `${policy.eventTypes[0]}/0`,
                `${policy.eventTypes[0]}/${policy.maxSchemaVersion}`,
                "_other/_other",
                "_invalid/_invalid",
            ]) {
                assert.ok(kinds.has(kind), kind);
            }
        });

        it(`${label} policy: every projected partition value is one Firehose writes, at the same key`, () => {
            const parameters = tableParameters(EVENTS_TABLE, policy, BUCKET);
            const template = parameters["storage.location.template"];
            const types = projectedValues(parameters, "eventtype");
            const versions = projectedValues(parameters, "schemaversion");
            assert.deepEqual(types, [...policy.eventTypes, "_other", "_invalid"]);
            assert.deepEqual(versions, [...Array.from({ length: policy.maxSchemaVersion + 1 }, (_, v) => String(v)), "_other", "_invalid"]);
            // A record that lands in each projected value (what a client would send to get there).
            const sentType = (t: string): unknown => (t === "_other" ? "unlisted-type" : t === "_invalid" ? 42 : t);
            const sentVersion = (v: string): unknown => (v === "_other" ? policy.maxSchemaVersion + 1 : v === "_invalid" ? "1" : Number(v));
            const [years, months, days] = ["year", "month", "day"].map((c) => projectedValues(parameters, c));
            assert.deepEqual(
                years,
                Array.from({ length: THIS_YEAR - FIRST_ARCHIVE_YEAR + 1 }, (_, i) => String(FIRST_ARCHIVE_YEAR + i)),
            );
            for (const eventtype of types) {
                for (const schemaversion of versions) {
                    const keys = partitionKeysFor(
                        { detail: { eventType: sentType(eventtype), schemaVersion: sentVersion(schemaversion) } },
                        policy,
                    );
                    assert.deepEqual(keys, { eventType: eventtype, schemaVersion: schemaversion });
                    for (const [year, month, day] of [
                        [years[0], months[0], days[0]],
                        [years.at(-1)!, months.at(-1)!, days.at(-1)!],
                        [years[0], "02", "28"],
                    ]) {
                        const timestamp = new Date(Date.UTC(Number(year), Number(month) - 1, Number(day), 12));
                        assert.equal(
                            resolvePrefix(S3_PREFIX, { partitionKeys: { ...keys }, timestamp }),
                            expandTemplate(template, { eventtype, schemaversion, year, month, day }).slice(`s3://${BUCKET}/`.length),
                        );
                    }
                }
            }
        });
    }

    it("the errors table projects every error output type at the key Firehose writes, and back", () => {
        const locations = projectedLocations(ERRORS_TABLE, DEFAULT_PARTITIONING_POLICY);
        const parameters = tableParameters(ERRORS_TABLE, DEFAULT_PARTITIONING_POLICY, BUCKET);
        assert.deepEqual(projectedValues(parameters, "erroroutputtype"), [...ERROR_OUTPUT_TYPES]);
        for (const errorOutputType of ["processing-failed", "partitioning-failed", "format-conversion-failed"]) {
            for (const timestamp of DATES) {
                const key = `s3://${BUCKET}/` + resolvePrefix(S3_ERROR_PREFIX, { errorOutputType, timestamp });
                assert.ok(locations.has(key), key);
            }
        }
        assert.equal(locations.size, ERROR_OUTPUT_TYPES.length * (THIS_YEAR - FIRST_ARCHIVE_YEAR + 1) * 12 * 31);
    });

    it("projects few enough partitions for Athena (1,000,000 per scan at most): ten years of the largest policy config accepts", () => {
        // config refuses (types + 2) x (maxSchemaVersion + 3) x 2 > 500; these reach it.
        const largest: PartitioningPolicy = { eventTypes: Array.from({ length: 8 }, (_, i) => `type${i}`), maxSchemaVersion: 22 };
        assert.deepEqual(validatePartitioningPolicy(largest), []);
        assert.notDeepEqual(validatePartitioningPolicy({ ...largest, maxSchemaVersion: 23 }), []);
        const parameters = tableParameters(EVENTS_TABLE, largest, BUCKET);
        const perYear = ["eventtype", "schemaversion", "month", "day"].reduce((n, c) => n * projectedValues(parameters, c).length, 1);
        assert.ok(perYear * 10 <= 1_000_000, `${perYear} partitions a year`);
        assert.equal(
            projectedLocations(EVENTS_TABLE, DEFAULT_PARTITIONING_POLICY).size,
            7 * 23 * (THIS_YEAR - FIRST_ARCHIVE_YEAR + 1) * 12 * 31,
        );
    });

    it("table properties: JSON, external, projection on, exactly these projection settings", () => {
        assert.deepEqual(tableParameters(EVENTS_TABLE, CUSTOM_POLICY, BUCKET), {
            EXTERNAL: "TRUE",
            classification: "json",
            "projection.enabled": "true",
            "storage.location.template": `s3://${BUCKET}/events/eventType=\${eventtype}/schemaVersion=\${schemaversion}/year=\${year}/month=\${month}/day=\${day}/`,
            "projection.eventtype.type": "enum",
            "projection.eventtype.values": "checkout,search-v2,_other,_invalid",
            "projection.schemaversion.type": "enum",
            "projection.schemaversion.values": "0,1,2,3,_other,_invalid",
            "projection.year.type": "date",
            "projection.year.format": "yyyy",
            "projection.year.range": `${FIRST_ARCHIVE_YEAR},NOW`,
            "projection.year.interval": "1",
            "projection.year.interval.unit": "YEARS",
            "projection.month.type": "integer",
            "projection.month.range": "1,12",
            "projection.month.digits": "2",
            "projection.day.type": "integer",
            "projection.day.range": "1,31",
            "projection.day.digits": "2",
        });
    });

    it("OpenX SerDe: malformed lines ignored, keys matched exactly through one mapping per camelCase key", () => {
        assert.deepEqual(serdeParameters(EVENTS_TABLE), {
            "ignore.malformed.json": "true",
            "case.insensitive": "false",
            "mapping.detail_type": "detail-type",
            "mapping.eventtype": "eventType",
            "mapping.schemaversion": "schemaVersion",
            "mapping.eventid": "eventId",
            "mapping.accountnumber": "accountNumber",
            "mapping.sessionid": "sessionId",
        });
        assert.deepEqual(serdeParameters(ERRORS_TABLE), {
            "ignore.malformed.json": "true",
            "case.insensitive": "false",
            "mapping.attemptsmade": "attemptsMade",
            "mapping.arrivaltimestamp": "arrivalTimestamp",
            "mapping.errorcode": "errorCode",
            "mapping.errormessage": "errorMessage",
            "mapping.attemptendingtimestamp": "attemptEndingTimestamp",
            "mapping.rawdata": "rawData",
            "mapping.lambdaarn": "lambdaArn",
        });
        const clash: ArchiveTable = {
            ...EVENTS_TABLE,
            columns: [...EVENTS_TABLE.columns, { name: "eventtype", key: "type", type: "string", comment: "" }],
        };
        assert.throws(() => serdeParameters(clash), /eventtype maps to both eventType and type/);
    });

    it("columns: the envelope and detail as strings, Glue's lower-case names, Hive types", () => {
        assert.deepEqual(
            glueColumns(EVENTS_TABLE).map((c) => `${c.name} ${c.type}`),
            [
                "id string",
                "detail_type string",
                "source string",
                "account string",
                "time string",
                "region string",
                "detail struct<eventtype:string,schemaversion:string,eventid:string,accountnumber:string,sessionid:string,sequence:string,data:string>",
            ],
        );
        assert.deepEqual(
            glueColumns(ERRORS_TABLE).map((c) => `${c.name} ${c.type}`),
            [
                "attemptsmade int",
                "arrivaltimestamp bigint",
                "errorcode string",
                "errormessage string",
                "attemptendingtimestamp bigint",
                "rawdata string",
                "lambdaarn string",
            ],
        );
        assert.deepEqual(
            gluePartitionKeys(EVENTS_TABLE).map((c) => `${c.name} ${c.type}`),
            ["eventtype string", "schemaversion string", "year string", "month string", "day string"],
        );
        assert.deepEqual(
            gluePartitionKeys(ERRORS_TABLE).map((c) => c.name),
            ["erroroutputtype", "year", "month", "day"],
        );
        for (const table of ARCHIVE_TABLES) {
            for (const c of [...glueColumns(table), ...gluePartitionKeys(table)]) {
                assert.match(c.name, /^[a-z][a-z0-9_]*$/, "names Athena takes unquoted");
                assert.ok(c.comment.length > 0 && c.comment.length <= 255, `${c.name}: Glue comments are 1 to 255 characters`);
            }
        }
        assert.equal(hiveType([{ name: "a", key: "A", type: "bigint", comment: "" }]), "struct<a:bigint>");
    });

    it("every column reads a key the transform writes", () => {
        const sent = {
            version: "0",
            id: "x",
            "detail-type": "dev",
            source: "clientevents",
            account: "1",
            time: "t",
            region: "r",
            resources: ["client-1"],
            detail: { eventType: "shopping", schemaVersion: 1, eventId: "e", sessionId: "s", sequence: 1, data: {} },
        };
        const out = transformEvent(sent);
        assert.ok(out.ok);
        const stored = out.event as Record<string, Record<string, unknown>>;
        for (const column of EVENTS_TABLE.columns) {
            assert.ok(column.key in stored, column.key);
            if (typeof column.type !== "string") for (const field of column.type) assert.ok(field.key in stored[column.key], field.key);
        }
    });
});

describe("archive tables: the DuckDB views never fail on what a client sends", () => {
    it("reads hostile records as OpenX does: NULL rows for bad lines, JSON text for any value, exact keys, .gz by extension", async () => {
        const dataDir = tempDataDir();
        const bucketDir = path.join(dataDir, "s3", "b");
        writeFileSync(path.join(dataDir, "outputs.json"), JSON.stringify({ bucketName: "b" }));
        const folder = path.join(bucketDir, "events/eventType=_invalid/schemaVersion=_invalid/year=2026/month=11/day=27");
        mkdirSync(folder, { recursive: true });
        const line = (detail: unknown) => JSON.stringify({ id: "i", "detail-type": "dev", time: "2026-11-27T19:41:07Z", detail });
        writeFileSync(
            path.join(folder, "s-1-2026-11-27-19-41-07-a"),
            [
                line({
                    eventType: "shopping",
                    EVENTTYPE: "spoof",
                    schemaVersion: { v: 1 },
                    eventId: "e1",
                    accountNumber: "c1",
                    data: "just text",
                }),
                "this line is not JSON",
                // Written as text: JavaScript numbers cannot hold these two.
                '{"id":"i","detail":{"eventType":["x"],"schemaVersion":1e400,"eventId":5,"accountNumber":"c1","data":[1,{"a":2}]}}',
                '{"id":"i","detail":{"eventType":"paging","schemaVersion":1,"eventId":"e3","accountNumber":"c2","data":{"itemSku":12345678901234567890,"nested":{"deep":true}}}}',
            ].join("\n") + "\n",
        );
        writeFileSync(
            path.join(folder, "s-1-2026-11-27-19-41-07-b.gz"),
            gzipSync(line({ eventType: "purchase", eventId: "e4", accountNumber: "c2", data: { itemSku: 7 } }) + "\n"),
        );
        writeFileSync(path.join(folder, ".s-1-being-written.tmp"), "{broken");

        const result = await runLocalQuery(
            dataDir,
            `SELECT detail.eventid AS id, detail.eventtype AS t, detail.schemaversion AS v, detail.data AS data,
            json_extract_scalar(detail.data, '$.itemSku') AS sku, json_extract(detail.data, '$.nested') AS nested, eventtype, year, month, day
            FROM events ORDER BY id NULLS LAST`,
        );
        assert.deepEqual(rowObjects(result), [
            {
                id: "5",
                t: '["x"]',
                v: "1e400",
                data: '[1,{"a":2}]',
                sku: null,
                nested: null,
                eventtype: "_invalid",
                year: "2026",
                month: "11",
                day: "27",
            },
            {
                id: "e1",
                t: "shopping",
                v: '{"v":1}',
                data: "just text",
                sku: null,
                nested: null,
                eventtype: "_invalid",
                year: "2026",
                month: "11",
                day: "27",
            },
            {
                id: "e3",
                t: "paging",
                v: "1",
                data: '{"itemSku":12345678901234567890,"nested":{"deep":true}}',
                sku: "12345678901234567890",
                nested: '{"deep":true}',
                eventtype: "_invalid",
                year: "2026",
                month: "11",
                day: "27",
            },
            {
                id: "e4",
                t: "purchase",
                v: null,
                data: '{"itemSku":7}',
                sku: "7",
                nested: null,
                eventtype: "_invalid",
                year: "2026",
                month: "11",
                day: "27",
            },
            {
                id: null,
                t: null,
                v: null,
                data: null,
                sku: null,
                nested: null,
                eventtype: "_invalid",
                year: "2026",
                month: "11",
                day: "27",
            },
        ]);
        // No error objects yet: the errors table exists, empty, with its columns.
        const errors = await runLocalQuery(dataDir, "SELECT * FROM errors");
        assert.deepEqual(
            errors.columns.map((c) => c.name),
            [...ERRORS_TABLE.columns.map((c) => c.name), ...gluePartitionKeys(ERRORS_TABLE).map((c) => c.name)],
        );
        assert.deepEqual(errors.rows, []);
    });
});
