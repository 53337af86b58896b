/**
 * AWS Signature Version 4 verification for local mode's IAM-authorized operations (Cognito's Admin* and
 * ListUsers). The signature is recomputed with @smithy/signature-v4, the signer the AWS SDK itself uses,
 * over exactly the headers the client signed, and compared in constant time. Errors carry the `__type`
 * and message AWS answers with.
 */
import { createHash, createHmac, timingSafeEqual, type Hash, type Hmac } from "node:crypto";
import { SignatureV4 } from "@smithy/signature-v4";

/** Local mode's static credentials (no session token). */
export interface LocalCredentials {
    accessKeyId: string;
    secretAccessKey: string;
}

/** The parts of an HTTP request a signature covers. */
export interface SignedRequest {
    method: string;
    /** Path and query as received, e.g. `/` or `/?a=b`. */
    url: string;
    headers: Record<string, string | string[] | undefined>;
    body: Buffer;
}

/** A refusal, as the AWS JSON protocol reports it (HTTP 400 with `__type`). */
export class SignatureError extends Error {
    constructor(
        readonly type: string,
        message: string,
        readonly status = 400,
    ) {
        super(message);
    }
}

export const MISMATCH =
    "The request signature we calculated does not match the signature you provided. " +
    "Check your AWS Secret Access Key and signing method. Consult the service documentation for details.";
export const INVALID_TOKEN = "The security token included in the request is invalid.";

/** How far a request's X-Amz-Date may be from local time (AWS: 5 minutes). */
const MAX_SKEW_MS = 5 * 60 * 1000;

/** SHA-256 (or HMAC-SHA256 with a secret) in the shape the signer takes. */
class Sha256 {
    private hash!: Hash | Hmac;
    constructor(private readonly secret?: string | ArrayBuffer | ArrayBufferView) {
        this.reset();
    }
    update(data: Uint8Array): void {
        this.hash.update(data);
    }
    async digest(): Promise<Uint8Array> {
        return new Uint8Array(this.hash.digest());
    }
    reset(): void {
        this.hash = this.secret === undefined ? createHash("sha256") : createHmac("sha256", toBuffer(this.secret));
    }
}

function toBuffer(data: string | ArrayBuffer | ArrayBufferView): Buffer {
    if (typeof data === "string") return Buffer.from(data, "utf8");
    if (ArrayBuffer.isView(data)) return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
    return Buffer.from(data);
}

function header(headers: SignedRequest["headers"], name: string): string | undefined {
    const value = headers[name];
    return Array.isArray(value) ? value.join(",") : value;
}

interface Authorization {
    accessKeyId: string;
    date: string;
    region: string;
    service: string;
    signedHeaders: string[];
    signature: string;
}

/** Parses `AWS4-HMAC-SHA256 Credential=AKID/20261201/us-east-1/cognito-idp/aws4_request, SignedHeaders=..., Signature=...`. */
function parseAuthorization(value: string): Authorization {
    const match = /^AWS4-HMAC-SHA256\s+(.*)$/s.exec(value.trim());
    if (!match)
        throw new SignatureError(
            "IncompleteSignatureException",
            `Authorization header requires the AWS4-HMAC-SHA256 algorithm. Authorization=${value.split(" ")[0]}`,
        );
    const fields = Object.fromEntries(
        match[1].split(/,\s*/).map((part) => {
            const i = part.indexOf("=");
            return i < 0 ? [part.trim(), ""] : [part.slice(0, i).trim(), part.slice(i + 1).trim()];
        }),
    );
    const missing = ["Credential", "Signature", "SignedHeaders"].filter((name) => !fields[name]);
    if (missing.length > 0) {
        throw new SignatureError(
            "IncompleteSignatureException",
            missing.map((name) => `Authorization header requires '${name}' parameter.`).join(" "),
        );
    }
    const scope = String(fields.Credential).split("/");
    if (scope.length !== 5 || scope[4] !== "aws4_request") {
        throw new SignatureError(
            "IncompleteSignatureException",
            "Credential should be scoped to a valid region, service and aws4_request: <access key>/<date>/<region>/<service>/aws4_request.",
        );
    }
    return {
        accessKeyId: scope[0],
        date: scope[1],
        region: scope[2],
        service: scope[3],
        signedHeaders: String(fields.SignedHeaders).split(";"),
        signature: String(fields.Signature),
    };
}

/** `20261201T120000Z` -> milliseconds since the epoch. */
function parseAmzDate(value: string): number {
    const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(value);
    if (!m)
        throw new SignatureError(
            "IncompleteSignatureException",
            `X-Amz-Date must be in the ISO8601 basic format (yyyyMMdd'T'HHmmss'Z'); got '${value}'.`,
        );
    return Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6]));
}

function amzDate(ms: number): string {
    return new Date(ms)
        .toISOString()
        .replace(/[-:]/g, "")
        .replace(/\.\d{3}/, "");
}

/** Checks what a signature claims before any cryptography: key, scope, time. */
function checkClaims(
    request: SignedRequest,
    auth: Authorization,
    credentials: LocalCredentials,
    expected: { region: string; service: string; now: number },
): number {
    if (auth.accessKeyId !== credentials.accessKeyId || header(request.headers, "x-amz-security-token") !== undefined) {
        throw new SignatureError("UnrecognizedClientException", INVALID_TOKEN);
    }
    const date = header(request.headers, "x-amz-date");
    if (date === undefined) {
        throw new SignatureError(
            "IncompleteSignatureException",
            "Authorization header requires existence of an 'X-Amz-Date' header (local mode does not read 'Date').",
        );
    }
    const signedAt = parseAmzDate(date);
    if (auth.date !== date.slice(0, 8)) {
        throw new SignatureError(
            "InvalidSignatureException",
            `Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '${auth.date}' != '${date.slice(0, 8)}', from 'x-amz-date'.`,
        );
    }
    if (auth.region !== expected.region)
        throw new SignatureError(
            "InvalidSignatureException",
            `Credential should be scoped to a valid region, not '${auth.region}'. (local mode's region is ${expected.region})`,
        );
    if (auth.service !== expected.service)
        throw new SignatureError("InvalidSignatureException", `Credential should be scoped to correct service: '${expected.service}'.`);
    if (!auth.signedHeaders.includes("host"))
        throw new SignatureError("InvalidSignatureException", "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.");
    if (signedAt < expected.now - MAX_SKEW_MS) {
        throw new SignatureError(
            "InvalidSignatureException",
            `Signature expired: ${date} is now earlier than ${amzDate(expected.now - MAX_SKEW_MS)} (${amzDate(expected.now)} - 5 min.)`,
        );
    }
    if (signedAt > expected.now + MAX_SKEW_MS) {
        throw new SignatureError(
            "InvalidSignatureException",
            `Signature not yet current: ${date} is still later than ${amzDate(expected.now + MAX_SKEW_MS)} (${amzDate(expected.now)} + 5 min.)`,
        );
    }
    return signedAt;
}

/**
 * Verifies a request's SigV4 signature against local credentials; throws a SignatureError AWS would
 * answer with: MissingAuthenticationTokenException (no signature), IncompleteSignatureException,
 * UnrecognizedClientException (another access key, or a session token), InvalidSignatureException.
 */
export async function verifySigV4(
    request: SignedRequest,
    credentials: LocalCredentials,
    expected: { region: string; service: string; now?: number },
): Promise<void> {
    const value = header(request.headers, "authorization");
    if (value === undefined || value.trim() === "")
        throw new SignatureError("MissingAuthenticationTokenException", "Missing Authentication Token");
    const auth = parseAuthorization(value);
    const signedAt = checkClaims(request, auth, credentials, { ...expected, now: expected.now ?? Date.now() });

    const url = new URL(request.url, "http://local");
    const query: Record<string, string | string[]> = {};
    for (const [name, v] of url.searchParams) query[name] = name in query ? ([] as string[]).concat(query[name], v) : v;
    const headers: Record<string, string> = {};
    for (const name of auth.signedHeaders) {
        const v = header(request.headers, name);
        if (v !== undefined) headers[name] = v;
    }
    const signer = new SignatureV4({
        credentials,
        region: auth.region,
        service: auth.service,
        sha256: Sha256,
        applyChecksum: false,
        uriEscapePath: true,
    });
    const signed = await signer.sign(
        {
            method: request.method,
            protocol: "http:",
            hostname: headers.host ?? "localhost",
            path: url.pathname,
            query,
            headers,
            body: request.body,
        },
        { signingDate: new Date(signedAt), signableHeaders: new Set(auth.signedHeaders) },
    );
    const computed = parseAuthorization(String(signed.headers.authorization));
    const provided = Buffer.from(auth.signature, "utf8");
    const expectedSignature = Buffer.from(computed.signature, "utf8");
    const same =
        computed.signedHeaders.join(";") === auth.signedHeaders.join(";") &&
        provided.length === expectedSignature.length &&
        timingSafeEqual(provided, expectedSignature);
    if (!same) throw new SignatureError("InvalidSignatureException", MISMATCH);
}
