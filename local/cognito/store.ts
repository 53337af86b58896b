/**
 * The user pool's state file, `<data-dir>/cognito/<pool>.json` (mode 0600): the signing key, the admin
 * credentials, the users and the refresh tokens (by hash), so users and tokens survive a restart.
 */
import { createHash, generateKeyPairSync, randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import * as path from "node:path";
import { writeFileAtomic } from "../fs-util";
import type { LocalCredentials } from "../sigv4";

export interface StoredUser {
    username: string;
    /** scrypt hash, hex, with its salt. */
    passwordHash: string;
    salt: string;
    attributes: Record<string, string>;
    /** FORCE_CHANGE_PASSWORD: created by AdminCreateUser, signs in with its temporary password once. */
    status: "UNCONFIRMED" | "CONFIRMED" | "FORCE_CHANGE_PASSWORD";
    /** Until when the temporary password of a FORCE_CHANGE_PASSWORD user works, seconds. */
    temporaryPasswordExpires?: number;
    enabled: boolean;
    createdAt: number;
    modifiedAt: number;
    confirmationCode?: string;
    confirmationCodeExpires?: number;
}

export interface StoredState {
    keyId: string;
    privateKeyPem: string;
    /** The credentials IAM-authorized operations must be signed with (generated once per data directory). */
    credentials?: LocalCredentials;
    users: Record<string, StoredUser>;
    /** By SHA-256 of the token. */
    refreshTokens: Record<string, { username: string; expires: number }>;
}

export class CognitoStore {
    readonly state: StoredState;
    private readonly file: string;

    constructor(dataDir: string, userPoolId: string) {
        const dir = path.join(dataDir, "cognito");
        mkdirSync(dir, { recursive: true });
        this.file = path.join(dir, `${userPoolId}.json`);
        this.state = existsSync(this.file) ? (JSON.parse(readFileSync(this.file, "utf8")) as StoredState) : freshState();
        this.state.credentials ??= freshCredentials();
        this.save();
    }

    save(): void {
        writeFileAtomic(this.file, JSON.stringify(this.state, null, 1), 0o600);
    }

    /** The state's credentials: made when the state is created or loaded, so missing ones mean a broken state. */
    get credentials(): LocalCredentials {
        const credentials = this.state.credentials;
        if (!credentials) throw new Error("local Cognito: the state has no admin credentials (it is created with them on load)");
        return credentials;
    }
}

function freshState(): StoredState {
    const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
    return {
        keyId: randomBytes(24).toString("base64url"),
        privateKeyPem: privateKey.export({ format: "pem", type: "pkcs8" }).toString(),
        users: {},
        refreshTokens: {},
    };
}

/** Refresh tokens are kept by hash only, so the state file holds no usable token. */
export function hashToken(token: string): string {
    return createHash("sha256").update(token).digest("base64url");
}

/** Local mode's credentials: an access key id shaped like AWS's and a 40-character secret. */
function freshCredentials(): LocalCredentials {
    const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    const id = Array.from(randomBytes(15), (b) => alphabet[b % 32]).join("");
    return { accessKeyId: `LOCAL${id}`, secretAccessKey: randomBytes(30).toString("base64") };
}
