// The crypto module object itself (an `import * as` namespace is a copy): local Cognito reads crypto.scrypt at each call.
import cryptoModule = require("node:crypto");

/**
 * Holds the callback of every crypto.scrypt call from now on until `releaseAll()`, so that a test can act while a
 * password hash is pending. `restore()` puts scrypt back and releases what is still held.
 */
export function holdScrypt(): { held: () => number; releaseAll: () => void; restore: () => void } {
    const held: Array<() => void> = [];
    const original = cryptoModule.scrypt;
    (cryptoModule as { scrypt: unknown }).scrypt = (...args: unknown[]) => {
        const callback = args.pop() as (...results: unknown[]) => void;
        (original as (...a: unknown[]) => void)(...args, (...results: unknown[]) => held.push(() => callback(...results)));
    };
    const releaseAll = () => {
        for (const release of held.splice(0)) release();
    };
    return {
        held: () => held.length,
        releaseAll,
        restore: () => {
            (cryptoModule as { scrypt: unknown }).scrypt = original;
            releaseAll();
        },
    };
}
