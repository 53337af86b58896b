/**
 * SQL over local mode's archive with DuckDB, in memory: the tables `events` and `errors` are views generated
 * from pipeline/archive-table.ts over `<data-dir>/s3/<bucket>/`. Nothing is written anywhere: no database
 * file, no spill directory, no extension downloads, file access limited to the bucket directory, and only
 * one SELECT (or EXPLAIN) statement per run.
 */
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import * as path from "node:path";
import { DuckDBInstance, StatementType, type DuckDBConnection } from "@duckdb/node-api";
import { ARCHIVE_TABLES, DUCKDB_COMPATIBILITY_MACROS, duckdbGlob, duckdbViewSql } from "../pipeline/archive-table";
import { normalizeValue, QueryFailed, QueryUsageError, type QueryResult } from "./result";

/** How to get an archive, for the messages that find none. */
const HOW_TO_ARCHIVE =
    "Start local mode (npm run local), send events (npm run generator -- signup --local --userid alice --email alice@example.com --admin-confirm, " +
    "then npm run generator -- run --local --userid alice --batches 3 --interval 1), and wait for the Firehose buffer (5 s) " +
    "or stop local mode; pass --data-dir if local mode keeps its data elsewhere.";

/** The local bucket directory of a data directory: the bucket local mode names in outputs.json, else the only one. */
export function localBucketDir(dataDir: string): string {
    const root = path.resolve(dataDir);
    const s3 = path.join(root, "s3");
    const outputs = path.join(root, "outputs.json");
    if (existsSync(outputs)) {
        let bucketName: unknown;
        try {
            bucketName = JSON.parse(readFileSync(outputs, "utf8")).bucketName;
        } catch {
            throw new QueryUsageError(`${outputs} is not JSON; restart local mode (npm run local) to rewrite it`);
        }
        if (typeof bucketName !== "string" || bucketName === "" || bucketName.includes("/")) {
            throw new QueryUsageError(`${outputs} names no bucket; restart local mode (npm run local) to rewrite it`);
        }
        return path.join(s3, bucketName);
    }
    const buckets = existsSync(s3) ? readdirSync(s3).filter((n) => statSync(path.join(s3, n)).isDirectory()) : [];
    if (buckets.length === 1) return path.join(s3, buckets[0]);
    if (buckets.length === 0) throw new QueryUsageError(`No archive in ${root} yet. ${HOW_TO_ARCHIVE}`);
    throw new QueryUsageError(`${s3} holds several buckets (${buckets.join(", ")}) and no outputs.json says which is local mode's`);
}

/** Opens an in-memory DuckDB with the archive's views, then locks it down. */
async function openArchive(bucketDir: string): Promise<{ connection: DuckDBConnection; close: () => void }> {
    const instance = await DuckDBInstance.create(":memory:", {
        autoinstall_known_extensions: "false",
        autoload_known_extensions: "false",
        temp_directory: "",
    });
    const connection = await instance.connect();
    const close = () => {
        connection.closeSync();
        instance.closeSync();
    };
    try {
        let objects = 0;
        for (const table of ARCHIVE_TABLES) {
            const found = await connection.runAndReadAll(
                `SELECT count(*) AS n FROM glob('${duckdbGlob(table, bucketDir).replace(/'/g, "''")}')`,
            );
            const count = Number(found.getRowsJson()[0][0]);
            objects += count;
            await connection.run(duckdbViewSql(table, bucketDir, count > 0));
        }
        if (objects === 0)
            throw new QueryUsageError(`No archive in ${bucketDir} yet: no objects under events/ or errors/. ${HOW_TO_ARCHIVE}`);
        for (const macro of DUCKDB_COMPATIBILITY_MACROS) await connection.run(macro);
        // Firehose's partition dates are UTC, and so is Athena's current_date.
        await connection.run("SET TimeZone = 'UTC'");
        await connection.run(`SET allowed_directories = ['${(bucketDir + path.sep).replace(/'/g, "''")}']`);
        await connection.run("SET enable_external_access = false");
        await connection.run("SET lock_configuration = true");
        return { connection, close };
    } catch (err) {
        close();
        throw err;
    }
}

/** Runs one SELECT over the archive in `dataDir`, with `?` parameters bound in order. */
export async function runLocalQuery(dataDir: string, sql: string, parameters: ReadonlyArray<string | number> = []): Promise<QueryResult> {
    if (sql.replace(/--[^\n]*/g, "").trim() === "") throw new QueryUsageError("no SQL to run");
    const bucketDir = localBucketDir(dataDir);
    if (!existsSync(bucketDir))
        throw new QueryUsageError(`No archive in ${path.resolve(dataDir)} yet: ${bucketDir} does not exist. ${HOW_TO_ARCHIVE}`);
    const { connection, close } = await openArchive(bucketDir);
    try {
        const statements = await connection.extractStatements(sql).catch((err) => {
            throw new QueryFailed(`DuckDB: ${(err as Error).message}`);
        });
        if (statements.count !== 1) throw new QueryUsageError(`one statement at a time, got ${statements.count}`);
        const prepared = await statements.prepare(0).catch((err) => {
            throw new QueryFailed(`DuckDB: ${(err as Error).message}`);
        });
        if (prepared.statementType !== StatementType.SELECT && prepared.statementType !== StatementType.EXPLAIN) {
            throw new QueryUsageError(
                `only SELECT queries run here (this is ${StatementType[prepared.statementType]}): the archive is read, never written`,
            );
        }
        if (prepared.parameterCount !== parameters.length) {
            throw new QueryUsageError(`the query has ${prepared.parameterCount} ? placeholders, ${parameters.length} values were given`);
        }
        parameters.forEach((value, i) => {
            if (typeof value === "number") prepared.bindBigInt(i + 1, BigInt(value));
            else prepared.bindVarchar(i + 1, value);
        });
        const reader = await prepared.runAndReadAll().catch((err) => {
            throw new QueryFailed(`DuckDB: ${(err as Error).message}`);
        });
        const types = reader.columnTypes().map((t) => String(t).replace(/\(.*$/s, "").toUpperCase());
        const columns = reader.columnNames().map((name, i) => ({ name, type: types[i] }));
        return { columns, rows: reader.getRowsJson().map((row) => row.map((v, i) => normalizeValue(types[i], v))) };
    } finally {
        close();
    }
}
