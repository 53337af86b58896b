/**
 * Where the generator finds local mode's settings (`--local`): the running local mode's `/_local/outputs`,
 * else `<data-dir>/outputs.json`, else a clear error. Nothing is guessed. Real HTTP on 127.0.0.1.
 */
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { CliError, EXIT } from "../generator/errors";
import { readLocalOutputs, resolveSettings } from "../generator/settings";

const OUTPUTS = {
    ready: true,
    apiUrl: "http://127.0.0.1:4999/staging/event",
    userPoolId: "eu-west-1_LocalPool",
    userPoolClientId: "abcdefghijklmnopqrstuvwxyz",
    bucketName: "client-events-staging-archive-000000000000",
    eventBusName: "client-events-staging",
    region: "eu-west-1",
    cognitoEndpoint: "http://127.0.0.1:4999",
    dataDir: "/somewhere/.local",
};

/** A server answering every request with `status` and `body`; resolves with its URL. */
async function serve(status: number, body: string): Promise<{ url: string; paths: string[]; close: () => Promise<void> }> {
    const paths: string[] = [];
    const server = http.createServer((req, res) => {
        paths.push(req.url ?? "");
        res.writeHead(status, { "Content-Type": "application/json" }).end(body);
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as AddressInfo;
    return { url: `http://127.0.0.1:${port}`, paths, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

/** A loopback URL where nothing listens (a port just released). */
async function deadUrl(): Promise<string> {
    const { url, close } = await serve(200, "{}");
    await close();
    return url;
}

function tempDir(): string {
    return fs.mkdtempSync(path.join(os.tmpdir(), "generator-settings-"));
}

async function rejection(promise: Promise<unknown>): Promise<CliError> {
    try {
        await promise;
    } catch (err) {
        assert.ok(err instanceof CliError, `a CliError, got ${String(err)}`);
        return err;
    }
    assert.fail("expected a rejection");
}

describe("generator settings: --local", () => {
    const dirs: string[] = [];
    after(() => {
        for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
    });
    const dataDir = (outputs?: unknown) => {
        const dir = tempDir();
        dirs.push(dir);
        if (outputs !== undefined)
            fs.writeFileSync(path.join(dir, "outputs.json"), typeof outputs === "string" ? outputs : JSON.stringify(outputs));
        return dir;
    };

    it("reads the running local mode's GET /_local/outputs first", async () => {
        const server = await serve(200, JSON.stringify(OUTPUTS));
        try {
            const other = { ...OUTPUTS, apiUrl: "http://127.0.0.1:1/other/event" };
            assert.deepEqual(await readLocalOutputs(`${server.url}/`, dataDir(other), { env: {} }), OUTPUTS);
            assert.deepEqual(server.paths, ["/_local/outputs"]);
        } finally {
            await server.close();
        }
    });

    it("falls back to <data-dir>/outputs.json when the URL answers without outputs", async () => {
        const server = await serve(404, JSON.stringify({ message: "Not Found" }));
        try {
            assert.deepEqual(await readLocalOutputs(server.url, dataDir(OUTPUTS), { env: {} }), OUTPUTS);
        } finally {
            await server.close();
        }
    });

    it("falls back to outputs.json when local mode has stopped (verify reads the data directory)", async () => {
        assert.deepEqual(await readLocalOutputs(await deadUrl(), dataDir(OUTPUTS), { env: {} }), OUTPUTS);
    });

    it("guesses nothing: no outputs anywhere is an error telling the user to start local mode", async () => {
        const server = await serve(200, "<html>some other server</html>");
        try {
            const err = await rejection(readLocalOutputs(server.url, dataDir(), { env: {} }));
            assert.equal(err.exitCode, EXIT.CONFIG);
            assert.match(err.message, /_local\/outputs answered HTTP 200 without local mode's outputs/);
            assert.match(err.message, /outputs\.json/);
            assert.match(err.message, /npm run local/);
        } finally {
            await server.close();
        }
        const unreachable = await rejection(readLocalOutputs(await deadUrl(), dataDir(), { env: {} }));
        assert.equal(unreachable.exitCode, EXIT.NETWORK);
        assert.match(unreachable.message, /cannot reach local mode at .*ECONNREFUSED.*npm run local/s);
    });

    it("rejects an outputs.json that is not JSON or holds no apiUrl", async () => {
        const url = await deadUrl();
        const notJson = await rejection(readLocalOutputs(url, dataDir("{ half"), { env: {} }));
        assert.equal(notJson.exitCode, EXIT.CONFIG);
        assert.match(notJson.message, /is not JSON/);
        const noApi = await rejection(readLocalOutputs(url, dataDir({ userPoolId: "x" }), { env: {} }));
        assert.match(noApi.message, /no apiUrl/);
    });

    it("resolveSettings --local fills every setting from the outputs; flags still win", async () => {
        const server = await serve(200, JSON.stringify(OUTPUTS));
        try {
            const settings = await resolveSettings(
                { local: server.url, appclientid: "fromflag" },
                ["apiUrl", "userPoolClientId", "cognitoEndpoint", "bucketName", "region"],
                { env: {} },
            );
            assert.equal(settings.apiUrl, OUTPUTS.apiUrl);
            assert.equal(settings.userPoolClientId, "fromflag");
            assert.equal(settings.cognitoEndpoint, OUTPUTS.cognitoEndpoint);
            assert.equal(settings.bucketName, OUTPUTS.bucketName);
            assert.equal(settings.region, OUTPUTS.region);
        } finally {
            await server.close();
        }
    });

    it("--apiid gives the full event URL, the meaning of the stack output apiUrl", async () => {
        const settings = await resolveSettings(
            { apiid: "a1b2c3d4e5", region: "eu-west-1", stage: "prod", appclientid: "x" },
            ["apiUrl", "userPoolClientId"],
            { env: {} },
        );
        assert.equal(settings.apiUrl, "https://a1b2c3d4e5.execute-api.eu-west-1.amazonaws.com/prod/event");
    });
});
