import * as assert from "assert";
import { mockClient } from "aws-sdk-client-mock";
import { CognitoIdentityProviderClient, GetUserCommand } from "@aws-sdk/client-cognito-identity-provider";
import type { APIGatewayAuthorizerResult, APIGatewayTokenAuthorizerEvent } from "aws-lambda";
import { createAuthorizer, extractToken, handler, stageWideResource, createTtlCache, type AuthorizerOptions } from "../handlers/authorizer";
import { accessToken, base64url, createSigningKey, idToken, jwksOf, signJwt } from "./support/jwt";

const POOL = "us-east-1_TestPool1";
const CLIENT = "testclient123456";
const METHOD_ARN = "arn:aws:execute-api:us-east-1:123456789012:abc123/dev/POST/event";
const STAGE_WIDE = "arn:aws:execute-api:us-east-1:123456789012:abc123/dev/*/*";
const CLIENT_ID = "7d5e8a40-1c1f-4f0e-9a53-3f1d2a6b9c01";

const key = createSigningKey("key-1");
const otherKey = createSigningKey("key-2");
// Created in the suite's before() and restored after it: a class-wide mock made at load time would leak into
// every other test file (local mode's tests use the real client).
const mockCognito = () => mockClient(CognitoIdentityProviderClient);
let cognitoMock: ReturnType<typeof mockCognito>;

function event(token: string | undefined): APIGatewayTokenAuthorizerEvent {
    return { type: "TOKEN", methodArn: METHOD_ARN, authorizationToken: token as string };
}

function authorizer(extra: Partial<AuthorizerOptions> = {}) {
    return createAuthorizer({
        userPoolId: POOL,
        clientId: CLIENT,
        jwks: jwksOf(key),
        cognito: new CognitoIdentityProviderClient({ region: "us-east-1" }),
        ...extra,
    });
}

async function rejectsUnauthorized(promise: Promise<unknown>): Promise<void> {
    await assert.rejects(promise, (err: Error) => err.message === "Unauthorized");
}

function givenUser(sub: string, clientId: string | undefined): void {
    cognitoMock.on(GetUserCommand).resolves({
        Username: "alice",
        UserAttributes: [{ Name: "sub", Value: sub }, ...(clientId === undefined ? [] : [{ Name: "custom:clientId", Value: clientId }])],
    });
}

function allowed(result: APIGatewayAuthorizerResult, clientId: string): void {
    assert.strictEqual(result.policyDocument.Statement.length, 1);
    const statement = result.policyDocument.Statement[0] as { Effect: string; Action: string; Resource: string };
    assert.deepStrictEqual(statement, { Action: "execute-api:Invoke", Effect: "Allow", Resource: STAGE_WIDE });
    assert.deepStrictEqual(result.context, { clientId });
}

function denied(result: APIGatewayAuthorizerResult): void {
    const statement = result.policyDocument.Statement[0] as { Effect: string; Resource: string };
    assert.strictEqual(statement.Effect, "Deny");
    assert.strictEqual(statement.Resource, STAGE_WIDE);
    assert.strictEqual(result.context, undefined);
}

describe("authorizer", () => {
    before(() => {
        cognitoMock = mockCognito();
    });
    after(() => cognitoMock.restore());
    const logged: string[] = [];
    const originals = { log: console.log, warn: console.warn, error: console.error, info: console.info };

    before(() => {
        for (const level of ["log", "warn", "error", "info"] as const) {
            console[level] = (...args: unknown[]) => {
                logged.push(args.map(String).join(" "));
            };
        }
    });
    after(() => {
        Object.assign(console, originals);
    });
    beforeEach(() => cognitoMock.reset());

    describe("valid tokens", () => {
        it("allows an access token and resolves the clientId with GetUser called with that token", async () => {
            givenUser("sub-1", CLIENT_ID);
            const token = accessToken({ userPoolId: POOL, clientId: CLIENT, key, sub: "sub-1" });
            const result = await authorizer()(event(token));
            allowed(result, CLIENT_ID);
            assert.strictEqual(result.principalId, "sub-1");
            const calls = cognitoMock.commandCalls(GetUserCommand);
            assert.strictEqual(calls.length, 1);
            assert.strictEqual(calls[0].args[0].input.AccessToken, token);
        });

        it("allows an ID token with the clientId from its custom:clientId claim, without calling Cognito", async () => {
            const token = idToken({ userPoolId: POOL, clientId: CLIENT, key, sub: "sub-2", clientIdAttribute: CLIENT_ID });
            const result = await authorizer()(event(token));
            allowed(result, CLIENT_ID);
            assert.strictEqual(cognitoMock.commandCalls(GetUserCommand).length, 0);
        });

        it("accepts `Bearer <token>` in any case of the scheme", async () => {
            const token = idToken({ userPoolId: POOL, clientId: CLIENT, key, clientIdAttribute: CLIENT_ID });
            allowed(await authorizer()(event(`Bearer ${token}`)), CLIENT_ID);
            allowed(await authorizer()(event(`bearer   ${token}`)), CLIENT_ID);
        });

        it("accepts an issuer override with a pre-loaded JWKS (local mode)", async () => {
            const issuer = "http://127.0.0.1:9/us-east-1_TestPool1";
            const token = idToken({ userPoolId: POOL, clientId: CLIENT, key, clientIdAttribute: CLIENT_ID, claims: { iss: issuer } });
            allowed(await authorizer({ issuer })(event(token)), CLIENT_ID);
            // ... and then the Cognito issuer is the wrong one.
            const cognitoToken = idToken({ userPoolId: POOL, clientId: CLIENT, key, clientIdAttribute: CLIENT_ID });
            await rejectsUnauthorized(authorizer({ issuer })(event(cognitoToken)));
        });
    });

    describe("invalid tokens get 401 (throw Unauthorized)", () => {
        const now = Math.floor(Date.now() / 1000);
        const cases: Array<[string, () => string]> = [
            ["expired", () => accessToken({ userPoolId: POOL, clientId: CLIENT, key, now: now - 7200, lifetime: 3600 })],
            [
                "not yet valid (nbf in the future)",
                () => accessToken({ userPoolId: POOL, clientId: CLIENT, key, claims: { nbf: now + 600 } }),
            ],
            ["wrong issuer (another pool)", () => accessToken({ userPoolId: "us-east-1_OtherPool", clientId: CLIENT, key })],
            [
                "wrong issuer (another region)",
                () =>
                    accessToken({
                        userPoolId: POOL,
                        clientId: CLIENT,
                        key,
                        claims: { iss: "https://cognito-idp.eu-west-1.amazonaws.com/us-east-1_TestPool1" },
                    }),
            ],
            ["access token of another app client", () => accessToken({ userPoolId: POOL, clientId: "otherclient", key })],
            [
                "ID token of another app client",
                () => idToken({ userPoolId: POOL, clientId: "otherclient", key, clientIdAttribute: CLIENT_ID }),
            ],
            ["wrong token_use (refresh)", () => accessToken({ userPoolId: POOL, clientId: CLIENT, key, claims: { token_use: "refresh" } })],
            ["no token_use", () => accessToken({ userPoolId: POOL, clientId: CLIENT, key, claims: { token_use: undefined } })],
            [
                "ID token posing as access (aud set, token_use access, no client_id)",
                () => idToken({ userPoolId: POOL, clientId: CLIENT, key, clientIdAttribute: CLIENT_ID, claims: { token_use: "access" } }),
            ],
            [
                "tampered payload",
                () => {
                    const [h, , s] = idToken({ userPoolId: POOL, clientId: CLIENT, key, clientIdAttribute: "victim" }).split(".");
                    const forged = base64url(
                        JSON.stringify({
                            sub: "x",
                            iss: `https://cognito-idp.us-east-1.amazonaws.com/${POOL}`,
                            token_use: "id",
                            aud: CLIENT,
                            exp: now + 3600,
                            iat: now,
                            "custom:clientId": CLIENT_ID,
                        }),
                    );
                    return `${h}.${forged}.${s}`;
                },
            ],
            [
                "tampered signature",
                () => {
                    const token = idToken({ userPoolId: POOL, clientId: CLIENT, key, clientIdAttribute: CLIENT_ID });
                    const [h, p, s] = token.split(".");
                    const sig = Buffer.from(s, "base64url");
                    sig[10] ^= 0x01;
                    return `${h}.${p}.${base64url(sig)}`;
                },
            ],
            [
                "alg none",
                () => {
                    const payload = {
                        sub: "x",
                        iss: `https://cognito-idp.us-east-1.amazonaws.com/${POOL}`,
                        token_use: "id",
                        aud: CLIENT,
                        exp: now + 3600,
                        iat: now,
                        "custom:clientId": CLIENT_ID,
                    };
                    return `${base64url(JSON.stringify({ alg: "none", kid: key.kid }))}.${base64url(JSON.stringify(payload))}.`;
                },
            ],
            [
                "HS256 signed with the public key as secret",
                () => {
                    const header = base64url(JSON.stringify({ alg: "HS256", kid: key.kid }));
                    const payload = base64url(
                        JSON.stringify({
                            sub: "x",
                            iss: `https://cognito-idp.us-east-1.amazonaws.com/${POOL}`,
                            token_use: "id",
                            aud: CLIENT,
                            exp: now + 3600,
                            "custom:clientId": CLIENT_ID,
                        }),
                    );
                    const mac = require("crypto").createHmac("sha256", JSON.stringify(key.jwk)).update(`${header}.${payload}`).digest();
                    return `${header}.${payload}.${base64url(mac)}`;
                },
            ],
            ["unknown kid", () => idToken({ userPoolId: POOL, clientId: CLIENT, key: otherKey, clientIdAttribute: CLIENT_ID })],
            [
                "known kid, signed by another key",
                () =>
                    idToken({ userPoolId: POOL, clientId: CLIENT, key: otherKey, clientIdAttribute: CLIENT_ID, header: { kid: key.kid } }),
            ],
            ["garbage", () => "not-a-jwt"],
            ["three garbage parts", () => "aaa.bbb.ccc"],
            ["empty", () => ""],
            ["Bearer without a token", () => "Bearer "],
            ["two tokens", () => `Bearer a.b.c d.e.f`],
        ];
        for (const [title, make] of cases) {
            it(title, async () => {
                givenUser("sub-x", CLIENT_ID);
                await rejectsUnauthorized(authorizer()(event(make())));
            });
        }

        it("a missing Authorization value", async () => {
            await rejectsUnauthorized(authorizer()(event(undefined)));
        });

        it("an access token that Cognito says is revoked (GetUser NotAuthorizedException)", async () => {
            cognitoMock
                .on(GetUserCommand)
                .rejects(Object.assign(new Error("Access Token has been revoked"), { name: "NotAuthorizedException" }));
            const token = accessToken({ userPoolId: POOL, clientId: CLIENT, key });
            await rejectsUnauthorized(authorizer()(event(token)));
        });
    });

    describe("users without a usable clientId get a Deny (403)", () => {
        it("ID token without custom:clientId", async () => {
            const token = idToken({ userPoolId: POOL, clientId: CLIENT, key });
            denied(await authorizer()(event(token)));
        });

        it("access token of a user whose attributes have no clientId", async () => {
            givenUser("sub-3", undefined);
            denied(await authorizer()(event(accessToken({ userPoolId: POOL, clientId: CLIENT, key, sub: "sub-3" }))));
        });

        it("a clientId that would need escaping downstream", async () => {
            const token = idToken({ userPoolId: POOL, clientId: CLIENT, key, clientIdAttribute: 'abc","x' });
            denied(await authorizer()(event(token)));
            const empty = idToken({ userPoolId: POOL, clientId: CLIENT, key, clientIdAttribute: "" });
            denied(await authorizer()(event(empty)));
        });
    });

    describe("clientId cache", () => {
        it("a second request of the same user makes no Cognito call", async () => {
            givenUser("sub-4", CLIENT_ID);
            const auth = authorizer();
            allowed(await auth(event(accessToken({ userPoolId: POOL, clientId: CLIENT, key, sub: "sub-4" }))), CLIENT_ID);
            allowed(await auth(event(accessToken({ userPoolId: POOL, clientId: CLIENT, key, sub: "sub-4" }))), CLIENT_ID);
            assert.strictEqual(cognitoMock.commandCalls(GetUserCommand).length, 1);
        });

        it("asks Cognito again once the entry expired", async () => {
            givenUser("sub-5", CLIENT_ID);
            let clock = 1_000_000;
            const auth = authorizer({ now: () => clock, clientIdCacheTtlMs: 60_000 });
            await auth(event(accessToken({ userPoolId: POOL, clientId: CLIENT, key, sub: "sub-5" })));
            clock += 59_999;
            await auth(event(accessToken({ userPoolId: POOL, clientId: CLIENT, key, sub: "sub-5" })));
            assert.strictEqual(cognitoMock.commandCalls(GetUserCommand).length, 1);
            clock += 2;
            await auth(event(accessToken({ userPoolId: POOL, clientId: CLIENT, key, sub: "sub-5" })));
            assert.strictEqual(cognitoMock.commandCalls(GetUserCommand).length, 2);
        });

        it("a user without a clientId is not cached: once one is assigned (at sign-in or by assign-client-ids), the next request passes", async () => {
            givenUser("sub-7", undefined);
            const auth = authorizer();
            const token = () => accessToken({ userPoolId: POOL, clientId: CLIENT, key, sub: "sub-7" });
            denied(await auth(event(token())));
            givenUser("sub-7", CLIENT_ID);
            allowed(await auth(event(token())), CLIENT_ID);
            assert.strictEqual(cognitoMock.commandCalls(GetUserCommand).length, 2);
        });

        it("a Cognito outage is an error (API Gateway answers 500), not a 401, and is not cached", async () => {
            cognitoMock
                .on(GetUserCommand)
                .rejectsOnce(Object.assign(new Error("Rate exceeded"), { name: "TooManyRequestsException" }))
                .resolves({ Username: "alice", UserAttributes: [{ Name: "custom:clientId", Value: CLIENT_ID }] });
            const auth = authorizer();
            const token = accessToken({ userPoolId: POOL, clientId: CLIENT, key, sub: "sub-6" });
            const before = logged.length;
            await assert.rejects(auth(event(token)), (err: Error) => {
                assert.strictEqual(err.message, "Cognito lookup failed");
                assert.strictEqual((err.cause as Error | undefined)?.name, "TooManyRequestsException");
                return true;
            });
            assert.deepStrictEqual(
                logged.slice(before).map((l) => JSON.parse(l)),
                [{ message: "Cognito GetUser failed", error: "TooManyRequestsException" }],
            );
            allowed(await auth(event(token)), CLIENT_ID);
        });

        it("TtlCache is bounded and evicts the oldest entry", () => {
            const cache = createTtlCache<number>(1000, 3, () => 0);
            for (let i = 0; i < 5; i++) cache.set(`k${i}`, i);
            assert.strictEqual(cache.size(), 3);
            assert.strictEqual(cache.get("k0"), undefined);
            assert.strictEqual(cache.get("k1"), undefined);
            assert.strictEqual(cache.get("k4"), 4);
        });
    });

    describe("helpers and the deployed handler", () => {
        it("extractToken", () => {
            assert.strictEqual(extractToken("a.b.c"), "a.b.c");
            assert.strictEqual(extractToken("Bearer a.b.c"), "a.b.c");
            assert.strictEqual(extractToken("  BEARER\ta.b.c  "), "a.b.c");
            assert.strictEqual(extractToken("Basic abc"), undefined);
            assert.strictEqual(extractToken("a.b"), undefined);
            assert.strictEqual(extractToken(undefined), undefined);
        });

        it("stageWideResource covers every method and path of the stage", () => {
            assert.strictEqual(stageWideResource(METHOD_ARN), STAGE_WIDE);
            assert.strictEqual(
                stageWideResource("arn:aws:execute-api:eu-west-1:1:api/prod/GET/a/b/c"),
                "arn:aws:execute-api:eu-west-1:1:api/prod/*/*",
            );
            assert.throws(() => stageWideResource("nonsense"));
        });

        it("handler is configured by USER_POOL_ID and USER_POOL_CLIENT_ID", async () => {
            const saved = { pool: process.env.USER_POOL_ID, client: process.env.USER_POOL_CLIENT_ID };
            try {
                delete process.env.USER_POOL_ID;
                delete process.env.USER_POOL_CLIENT_ID;
                await assert.rejects(handler(event("a.b.c")), /USER_POOL_ID/);
                process.env.USER_POOL_ID = POOL;
                process.env.USER_POOL_CLIENT_ID = CLIENT;
                await rejectsUnauthorized(handler(event("garbage")));
            } finally {
                if (saved.pool === undefined) delete process.env.USER_POOL_ID;
                else process.env.USER_POOL_ID = saved.pool;
                if (saved.client === undefined) delete process.env.USER_POOL_CLIENT_ID;
                else process.env.USER_POOL_CLIENT_ID = saved.client;
            }
        });

        it("never logs a token, whatever it refuses or allows", async () => {
            const now = Math.floor(Date.now() / 1000);
            const valid = accessToken({ userPoolId: POOL, clientId: CLIENT, key, sub: "sub-log" });
            const [h, p, s] = idToken({ userPoolId: POOL, clientId: CLIENT, key, clientIdAttribute: CLIENT_ID }).split(".");
            const tokens = [
                valid,
                accessToken({ userPoolId: POOL, clientId: CLIENT, key, now: now - 7200, lifetime: 3600 }),
                accessToken({ userPoolId: POOL, clientId: "otherclient", key }),
                idToken({ userPoolId: POOL, clientId: CLIENT, key: otherKey, clientIdAttribute: CLIENT_ID }),
                idToken({ userPoolId: POOL, clientId: CLIENT, key }), // no clientId: Deny
                `${h}.${p}.${s.slice(0, -4)}AAAA`,
                `${h}.${base64url(JSON.stringify({ sub: "x", token_use: "id" }))}.${s}`,
            ];
            const from = logged.length;
            givenUser("sub-log", CLIENT_ID);
            const auth = authorizer();
            for (const token of tokens) await auth(event(`Bearer ${token}`)).catch(() => undefined);
            cognitoMock.on(GetUserCommand).rejects(Object.assign(new Error(`Invalid token ${valid}`), { name: "InternalErrorException" }));
            await authorizer()(event(valid)).catch(() => undefined);
            const lines = logged.slice(from);
            assert.ok(lines.length >= tokens.length - 1, `every refusal is logged: ${lines.length} lines`);
            for (const token of tokens) {
                for (const part of token.split(".").filter((x) => x.length > 8)) {
                    for (const line of lines) assert.ok(!line.includes(part), `a log line contains part of a token: ${line.slice(0, 80)}`);
                }
            }
        });
    });

    it("signJwt produces what the verifier accepts (sanity of the test helper)", async () => {
        const token = signJwt(
            { alg: "RS256", kid: key.kid },
            {
                sub: "s",
                iss: `https://cognito-idp.us-east-1.amazonaws.com/${POOL}`,
                token_use: "id",
                aud: CLIENT,
                exp: Math.floor(Date.now() / 1000) + 60,
                iat: Math.floor(Date.now() / 1000),
                "custom:clientId": CLIENT_ID,
            },
            key,
        );
        allowed(await authorizer()(event(token)), CLIENT_ID);
    });
});
