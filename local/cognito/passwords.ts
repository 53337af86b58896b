/** Passwords: the pool's policy, scrypt hashes (with their salt), and generated temporary passwords. */
import { randomBytes, randomInt, scrypt, timingSafeEqual } from "node:crypto";
import { CognitoError } from "./api";
import type { PasswordPolicy } from "./settings";

const SYMBOLS = "^$*.[]{}()?\"!@#%&/\\,><':;|_~`=+-";

/**
 * scrypt off the thread that answers requests (libuv's pool): one hash takes tens of milliseconds, which on the
 * request thread would stall every request in flight whenever someone signs up or in.
 */
function scryptHash(password: string, salt: string): Promise<Buffer> {
    return new Promise((resolve, reject) => scrypt(password, salt, 32, (err, key) => (err ? reject(err) : resolve(key))));
}

/** A new salt and the scrypt hash of a password with it (hex). */
export async function hashPassword(password: string): Promise<{ salt: string; passwordHash: string }> {
    const salt = randomBytes(16).toString("hex");
    return { salt, passwordHash: (await scryptHash(password, salt)).toString("hex") };
}

export async function passwordMatches(stored: { salt: string; passwordHash: string }, password: string): Promise<boolean> {
    // Both read before the hash: a password set meanwhile must not pair its hash with the old salt.
    const { salt, passwordHash } = stored;
    const actual = await scryptHash(password, salt);
    return timingSafeEqual(actual, Buffer.from(passwordHash, "hex"));
}

/** Throws InvalidPasswordException with Cognito's message for the first rule the password breaks. */
export function checkPassword(policy: PasswordPolicy, password: string): void {
    const fail = (why: string) => {
        throw new CognitoError("InvalidPasswordException", `Password did not conform with policy: ${why}`);
    };
    if ([...password].length < policy.minimumLength) fail("Password not long enough");
    if (policy.requireLowercase && !/[a-z]/.test(password)) fail("Password must have lowercase characters");
    if (policy.requireUppercase && !/[A-Z]/.test(password)) fail("Password must have uppercase characters");
    if (policy.requireNumbers && !/[0-9]/.test(password)) fail("Password must have numeric characters");
    if (policy.requireSymbols && ![...password].some((c) => SYMBOLS.includes(c) || c === " ")) fail("Password must have symbol characters");
}

/** A temporary password that meets the policy (what Cognito generates when the admin gives none). */
export function generatePassword(policy: PasswordPolicy): string {
    const pick = (chars: string) => chars[randomInt(chars.length)];
    const letters = "abcdefghijkmnopqrstuvwxyz";
    const required = [pick(letters), pick(letters.toUpperCase()), pick("23456789"), pick("!#%+-=?@^_")];
    const rest = Array.from({ length: Math.max(policy.minimumLength, 12) - required.length }, () =>
        pick(letters + letters.toUpperCase() + "23456789"),
    );
    return [...required, ...rest].join("");
}
