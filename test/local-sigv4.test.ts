/**
 * Local Cognito's IAM-authorized operations (Admin*, ListUsers) need a request signed with AWS Signature
 * Version 4 by the credentials local mode publishes, verified for real: a signature computed by hand from
 * AWS's documented algorithm passes, and any change to what it covers is refused with AWS's error.
 * Before, any process could set any user's custom:clientId and publish as another client.
 */
import { strict as assert } from "node:assert";
import { createHash, createHmac } from "node:crypto";
import * as http from "node:http";
import {
    AdminGetUserCommand,
    AdminUpdateUserAttributesCommand,
    CognitoIdentityProviderClient,
    ListUsersCommand,
} from "@aws-sdk/client-cognito-identity-provider";
import { signUpUser, startTestLocal, type StartedLocal, type TestUser } from "./support/local";

const TARGET = "AWSCognitoIdentityProviderService.";

interface RawAnswer {
    status: number;
    type?: string;
    message?: string;
    json: any;
}

/** One POST to local Cognito with exactly these headers (node:http adds only Host and Content-Length). */
function post(endpoint: string, headers: Record<string, string>, body: string): Promise<RawAnswer> {
    return new Promise((resolve, reject) => {
        const url = new URL(endpoint);
        const req = http.request(
            {
                host: url.hostname,
                port: url.port,
                path: "/",
                method: "POST",
                headers: { "content-length": String(Buffer.byteLength(body)), ...headers },
            },
            (res) => {
                let text = "";
                res.on("data", (c) => (text += c));
                res.on("end", () => {
                    const json = text ? JSON.parse(text) : {};
                    resolve({ status: res.statusCode!, type: json.__type, message: json.message, json });
                });
            },
        );
        req.on("error", reject);
        req.end(body);
    });
}

const sha256 = (data: string) => createHash("sha256").update(data, "utf8").digest("hex");
const hmac = (key: string | Buffer, data: string) => createHmac("sha256", key).update(data, "utf8").digest();

/** AWS Signature Version 4, computed by hand as AWS's documentation describes it (no library). */
function signByHand(options: {
    host: string;
    operation: string;
    body: string;
    accessKeyId: string;
    secretAccessKey: string;
    region: string;
    service?: string;
    date?: Date;
    extraHeaders?: Record<string, string>;
}): Record<string, string> {
    const date = (options.date ?? new Date())
        .toISOString()
        .replace(/[-:]/g, "")
        .replace(/\.\d{3}/, "");
    const day = date.slice(0, 8);
    const service = options.service ?? "cognito-idp";
    const headers: Record<string, string> = {
        "content-type": "application/x-amz-json-1.1",
        host: options.host,
        "x-amz-date": date,
        "x-amz-target": TARGET + options.operation,
        ...options.extraHeaders,
    };
    const names = Object.keys(headers).sort();
    const canonical = ["POST", "/", "", ...names.map((n) => `${n}:${headers[n].trim()}`), "", names.join(";"), sha256(options.body)].join(
        "\n",
    );
    const scope = `${day}/${options.region}/${service}/aws4_request`;
    const toSign = ["AWS4-HMAC-SHA256", date, scope, sha256(canonical)].join("\n");
    const key = hmac(hmac(hmac(hmac(`AWS4${options.secretAccessKey}`, day), options.region), service), "aws4_request");
    const signature = createHmac("sha256", key).update(toSign, "utf8").digest("hex");
    return {
        ...headers,
        authorization: `AWS4-HMAC-SHA256 Credential=${options.accessKeyId}/${scope}, SignedHeaders=${names.join(";")}, Signature=${signature}`,
    };
}

describe("local Cognito: admin operations need a SigV4 signature by local mode's credentials", function () {
    this.timeout(30_000);
    let started: StartedLocal;
    let victim: TestUser;
    let endpoint: string;
    let host: string;
    let UserPoolId: string;

    before(async () => {
        started = await startTestLocal();
        victim = await signUpUser(started, "victim");
        endpoint = started.local.outputs.cognitoEndpoint;
        host = new URL(endpoint).host;
        UserPoolId = started.local.outputs.userPoolId;
    });
    after(() => started?.local.close());

    const hijack = JSON.stringify({
        UserPoolId: "",
        Username: "victim",
        UserAttributes: [{ Name: "custom:clientId", Value: "00000000-0000-4000-8000-000000000000" }],
    });
    const body = () => hijack.replace('"UserPoolId":""', `"UserPoolId":${JSON.stringify(UserPoolId)}`);
    const signed = (extra: Partial<Parameters<typeof signByHand>[0]> = {}) =>
        signByHand({
            host,
            operation: "AdminUpdateUserAttributes",
            body: body(),
            region: started.local.outputs.region,
            ...started.local.credentials,
            ...extra,
        });
    const clientIdNow = async () =>
        (await started.cognito.send(new AdminGetUserCommand({ UserPoolId, Username: "victim" }))).UserAttributes?.find(
            (a) => a.Name === "custom:clientId",
        )?.Value;

    it("an unsigned AdminUpdateUserAttributes cannot set another user's clientId: MissingAuthenticationTokenException", async () => {
        const res = await post(
            endpoint,
            { "content-type": "application/x-amz-json-1.1", "x-amz-target": TARGET + "AdminUpdateUserAttributes" },
            body(),
        );
        assert.equal(res.status, 400);
        assert.equal(res.type, "MissingAuthenticationTokenException");
        assert.equal(res.message, "Missing Authentication Token");
        assert.equal(await clientIdNow(), victim.clientId);
    });

    it("every IAM operation is refused unsigned; the public ones (SignUp, InitiateAuth...) need no signature, as on AWS", async () => {
        for (const operation of ["AdminGetUser", "AdminConfirmSignUp", "AdminCreateUser", "AdminUpdateUserAttributes", "ListUsers"]) {
            const res = await post(
                endpoint,
                { "content-type": "application/x-amz-json-1.1", "x-amz-target": TARGET + operation },
                JSON.stringify({ UserPoolId, Username: "victim" }),
            );
            assert.equal(res.type, "MissingAuthenticationTokenException", operation);
        }
        const auth = await post(
            endpoint,
            { "content-type": "application/x-amz-json-1.1", "x-amz-target": TARGET + "InitiateAuth" },
            JSON.stringify({
                ClientId: started.local.outputs.userPoolClientId,
                AuthFlow: "USER_PASSWORD_AUTH",
                AuthParameters: { USERNAME: "victim", PASSWORD: victim.password },
            }),
        );
        assert.equal(auth.status, 200);
        assert.ok(auth.json.AuthenticationResult.IdToken);
    });

    it("a signature computed by hand from AWS's algorithm with the published credentials is accepted", async () => {
        const res = await post(endpoint, signed(), body());
        assert.equal(res.status, 200, JSON.stringify(res.json));
        assert.equal(await clientIdNow(), "00000000-0000-4000-8000-000000000000");
        // Put the victim's clientId back, through the SDK (which signs the same way).
        await started.cognito.send(
            new AdminUpdateUserAttributesCommand({
                UserPoolId,
                Username: "victim",
                UserAttributes: [{ Name: "custom:clientId", Value: victim.clientId }],
            }),
        );
        assert.equal(await clientIdNow(), victim.clientId);
    });

    it("the headers a client chose to sign are the ones checked (another client signs more headers than the SDK)", async () => {
        const res = await post(endpoint, signed({ extraHeaders: { "user-agent": "aws-cli/2 example", "x-amz-user-agent": "x" } }), body());
        assert.equal(res.status, 200, JSON.stringify(res.json));
        await started.cognito.send(
            new AdminUpdateUserAttributesCommand({
                UserPoolId,
                Username: "victim",
                UserAttributes: [{ Name: "custom:clientId", Value: victim.clientId }],
            }),
        );
    });

    it("anything the signature covers, changed, is refused: body, operation, signed header, date scope", async () => {
        const headers = signed();
        const cases: Array<[string, Record<string, string>, string]> = [
            ["another body", headers, body().replace("victim", "victin")],
            ["another operation", { ...headers, "x-amz-target": TARGET + "AdminGetUser" }, body()],
            ["a changed signed header", { ...headers, "content-type": "application/json" }, body()],
            [
                "a flipped signature digit",
                { ...headers, authorization: headers.authorization.replace(/.$/, (c) => (c === "0" ? "1" : "0")) },
                body(),
            ],
        ];
        for (const [what, h, b] of cases) {
            const res = await post(endpoint, h, b);
            assert.equal(res.type, "InvalidSignatureException", what);
            assert.match(res.message!, /^The request signature we calculated does not match the signature you provided/, what);
        }
        assert.equal(await clientIdNow(), victim.clientId);
    });

    it("the wrong key, a session token, the wrong scope or an old date are refused with AWS's errors", async () => {
        const region = started.local.outputs.region;
        const cases: Array<[string, Record<string, string>, string, RegExp]> = [
            [
                "another access key",
                signed({ accessKeyId: "AKIAIOSFODNN7EXAMPLE" }),
                "UnrecognizedClientException",
                /The security token included in the request is invalid/,
            ],
            [
                "the wrong secret",
                signed({ secretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY" }),
                "InvalidSignatureException",
                /does not match/,
            ],
            [
                "a session token local mode never issued",
                signed({ extraHeaders: { "x-amz-security-token": "FwoGZXIvYXdzEXAMPLE" } }),
                "UnrecognizedClientException",
                /security token/,
            ],
            [
                "another region",
                signed({ region: region === "eu-west-1" ? "us-east-1" : "eu-west-1" }),
                "InvalidSignatureException",
                /scoped to a valid region/,
            ],
            ["another service", signed({ service: "dynamodb" }), "InvalidSignatureException", /scoped to correct service: 'cognito-idp'/],
            [
                "signed 10 minutes ago",
                signed({ date: new Date(Date.now() - 10 * 60_000) }),
                "InvalidSignatureException",
                /^Signature expired: \d{8}T\d{6}Z is now earlier than/,
            ],
            [
                "signed 10 minutes ahead",
                signed({ date: new Date(Date.now() + 10 * 60_000) }),
                "InvalidSignatureException",
                /^Signature not yet current/,
            ],
            [
                "no Signature",
                { ...signed(), authorization: signed().authorization.replace(/, Signature=.*$/, "") },
                "IncompleteSignatureException",
                /requires 'Signature' parameter/,
            ],
        ];
        for (const [what, headers, type, message] of cases) {
            const res = await post(endpoint, headers, body());
            assert.equal(res.status, 400, what);
            assert.equal(res.type, type, `${what}: ${res.message}`);
            assert.match(res.message!, message, what);
        }
        assert.equal(await clientIdNow(), victim.clientId);
    });

    it("through the SDK: the published credentials work; others get the SDK's named errors", async () => {
        const client = (credentials: { accessKeyId: string; secretAccessKey: string; sessionToken?: string }) =>
            new CognitoIdentityProviderClient({ endpoint, region: started.local.outputs.region, credentials });
        const ok = await client({ ...started.local.credentials }).send(new ListUsersCommand({ UserPoolId }));
        assert.ok((ok.Users ?? []).some((u) => u.Username === "victim"));
        await assert.rejects(client({ accessKeyId: "local", secretAccessKey: "local" }).send(new ListUsersCommand({ UserPoolId })), {
            name: "UnrecognizedClientException",
        });
        await assert.rejects(client({ ...started.local.credentials, secretAccessKey: "x" }).send(new ListUsersCommand({ UserPoolId })), {
            name: "InvalidSignatureException",
        });
    });

    it("the credentials are kept in the data directory: the same after a restart", async () => {
        const before = { ...started.local.credentials };
        const dataDir = started.local.outputs.dataDir;
        await started.local.close();
        started = await startTestLocal({ dataDir });
        assert.deepEqual({ ...started.local.credentials }, before);
        assert.equal(started.local.outputs.credentials.accessKeyId, before.accessKeyId);
    });
});
