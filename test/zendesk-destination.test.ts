import { oneOf, registrationsDone, resourcesOf, valueOf } from "./support/pulumi-mocks";
import * as assert from "assert";
import * as pulumi from "@pulumi/pulumi";
import { ZendeskDestination } from "../components/zendesk-destination";
import { isAllowed } from "./support/iam";
import { TICKET_INPUT_PATHS, TICKET_INPUT_TEMPLATE, ZENDESK_RETRY_POLICY } from "../pipeline/zendesk-ticket";

const ENDPOINT = "https://acme.zendesk.com/api/v2/tickets";
const TOKEN = "zd-token-0123456789abcdef";
/** How the Pulumi engine protocol marks a secret value (what the mock monitor receives). */
const SECRET_SIGNATURE = "4dabf18193072939515e22adb298388d";
const SECRET_MARKER = "1b47061264138c4ac30d75fd1eb44270";

describe("ZendeskDestination component", () => {
    let zendesk: ZendeskDestination;
    // pulumi.log.warn writes to console.warn under mocks: collect what the components warn.
    const warnings: string[] = [];
    const originalWarn = console.warn;
    before(() => {
        console.warn = (...args: unknown[]) => {
            warnings.push(args.map(String).join(" "));
        };
        zendesk = new ZendeskDestination("zd-a", { email: "support@example.com", apiToken: pulumi.secret(TOKEN), endpoint: ENDPOINT });
    });
    after(() => {
        console.warn = originalWarn;
    });

    it("creates a BASIC-auth connection with the API-token username", async () => {
        const connection = await oneOf("zd-a-connection", "aws:cloudwatch/eventConnection:EventConnection");
        assert.strictEqual(connection.inputs.authorizationType, "BASIC");
        const auth = connection.inputs.authParameters;
        assert.strictEqual(auth[SECRET_SIGNATURE], SECRET_MARKER, "the engine receives the auth parameters as a secret");
        assert.strictEqual(auth.value.basic.username, "support@example.com/token");
        assert.strictEqual(auth.value.basic.password, TOKEN);
    });

    it("keeps the API token a secret end to end", async () => {
        assert.strictEqual(
            await pulumi.isSecret(zendesk.connection.authParameters),
            true,
            "the connection's auth parameters are secret in state",
        );
        // A plain string from the caller is made secret too.
        const plain = new ZendeskDestination("zd-b", { email: "support@example.com", apiToken: TOKEN, endpoint: ENDPOINT });
        assert.strictEqual(await pulumi.isSecret(plain.connection.authParameters), true);
        // And the token never appears in anything that is not secret.
        const destination = await oneOf("zd-a-api", "aws:cloudwatch/eventApiDestination:EventApiDestination");
        assert.ok(!JSON.stringify(destination.inputs).includes(TOKEN));
        assert.ok(!JSON.stringify(await valueOf(zendesk.target.roleStatements!)).includes(TOKEN));
    });

    it("creates a POST API destination to the tickets endpoint with the default rate", async () => {
        const destination = await oneOf("zd-a-api", "aws:cloudwatch/eventApiDestination:EventApiDestination");
        const connection = await oneOf("zd-a-connection", "aws:cloudwatch/eventConnection:EventConnection");
        assert.strictEqual(destination.inputs.invocationEndpoint, ENDPOINT);
        assert.strictEqual(destination.inputs.httpMethod, "POST");
        assert.strictEqual(destination.inputs.connectionArn, connection.state.arn);
        assert.strictEqual(destination.inputs.invocationRateLimitPerSecond, 2);
        // 120 requests a minute: Zendesk's smallest plans allow 200, so the default raises no warning.
        await registrationsDone();
        assert.deepStrictEqual(
            warnings.filter((w) => w.includes("zendeskRatePerSecond")),
            [],
        );
    });

    it("describes a target that builds the ticket server-side, with retries", async () => {
        const arn = await valueOf(zendesk.apiDestinationArn);
        assert.strictEqual(await valueOf(zendesk.target.arn), arn);
        assert.deepStrictEqual(await valueOf(zendesk.target.inputTransformer!), {
            inputPaths: TICKET_INPUT_PATHS,
            inputTemplate: TICKET_INPUT_TEMPLATE,
        });
        assert.deepStrictEqual(await valueOf(zendesk.target.retryPolicy!), ZENDESK_RETRY_POLICY);
    });

    it("lets the target's role invoke this API destination only (evaluated)", async () => {
        const arn = await valueOf(zendesk.apiDestinationArn);
        const doc = { Version: "2012-10-17", Statement: await valueOf(zendesk.target.roleStatements!) };
        assert.ok(await isAllowed(doc, "events:InvokeApiDestination", arn));
        assert.ok(!(await isAllowed(doc, "events:InvokeApiDestination", arn.replace("zd-a-api", "other"))));
        assert.ok(!(await isAllowed(doc, "events:PutEvents", "arn:aws:events:us-east-1:123456789012:event-bus/default")));
        assert.ok(
            !(await isAllowed(
                doc,
                "secretsmanager:GetSecretValue",
                "arn:aws:secretsmanager:us-east-1:123456789012:secret:events!connection/x",
            )),
        );
    });

    it("honours a configured rate, warning when it exceeds the smallest Zendesk plans (200 requests a minute)", async () => {
        new ZendeskDestination("zd-c", {
            email: "support@example.com",
            apiToken: TOKEN,
            endpoint: ENDPOINT,
            invocationRateLimitPerSecond: 5,
        });
        const destination = await oneOf("zd-c-api", "aws:cloudwatch/eventApiDestination:EventApiDestination");
        assert.strictEqual(destination.inputs.invocationRateLimitPerSecond, 5);
        assert.deepStrictEqual(
            warnings
                .filter((w) => w.includes("zendeskRatePerSecond"))
                .map((w) => /(\d+) requests a minute, above the (\d+)/.exec(w)?.slice(1)),
            [["300", "200"]],
        );
    });

    it("rejects a malformed endpoint, email or rate before creating anything, naming the config key", async () => {
        const base = { email: "support@example.com", apiToken: TOKEN, endpoint: ENDPOINT };
        assert.throws(
            () => new ZendeskDestination("zd-d", { ...base, endpoint: "https://evil.example/api/v2/tickets" }),
            /zendeskEndpoint/,
        );
        assert.throws(
            () => new ZendeskDestination("zd-d", { ...base, endpoint: "http://acme.zendesk.com/api/v2/tickets" }),
            /zendeskEndpoint/,
        );
        assert.throws(() => new ZendeskDestination("zd-d", { ...base, email: "support" }), /zendeskEmail/);
        assert.throws(() => new ZendeskDestination("zd-d", { ...base, invocationRateLimitPerSecond: 0 }), /zendeskRatePerSecond/);
        assert.deepStrictEqual(await resourcesOf("zd-d"), []);
    });

    it("a plain-string token given by the caller is secret too", async () => {
        const connection = await oneOf("zd-b-connection", "aws:cloudwatch/eventConnection:EventConnection");
        assert.strictEqual(connection.inputs.authParameters[SECRET_SIGNATURE], SECRET_MARKER);
    });
});
