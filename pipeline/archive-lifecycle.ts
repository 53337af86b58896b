/** The archive bucket's lifecycle rules, as plain data and checks (used by the Archive component and config.ts). */

/** Storage classes a lifecycle rule may move events to, with the fewest days S3 accepts for each. */
export const TRANSITION_MIN_DAYS: Record<string, number> = {
    STANDARD_IA: 30,
    ONEZONE_IA: 30,
    INTELLIGENT_TIERING: 0,
    GLACIER_IR: 0,
    GLACIER: 0,
    DEEP_ARCHIVE: 0,
};

/** Checks lifecycle settings S3 would reject, naming the Archive argument. */
export function validateLifecycle(transitionDays: number, storageClass: string, expirationDays: number): void {
    if (!Number.isInteger(transitionDays) || transitionDays < 0)
        throw new Error(`transitionDays must be a whole number >= 0, got ${transitionDays}`);
    if (!Number.isInteger(expirationDays) || expirationDays < 0)
        throw new Error(`expirationDays must be a whole number >= 0, got ${expirationDays}`);
    if (!(storageClass in TRANSITION_MIN_DAYS))
        throw new Error(`transitionStorageClass must be one of ${Object.keys(TRANSITION_MIN_DAYS).join(", ")}, got ${storageClass}`);
    if (transitionDays > 0 && transitionDays < TRANSITION_MIN_DAYS[storageClass]) {
        throw new Error(
            `S3 moves objects to ${storageClass} after ${TRANSITION_MIN_DAYS[storageClass]} days at the earliest; transitionDays is ${transitionDays}`,
        );
    }
    if (transitionDays > 0 && expirationDays > 0 && expirationDays <= transitionDays) {
        throw new Error(`expirationDays (${expirationDays}) must be after transitionDays (${transitionDays}), or 0 to keep events forever`);
    }
}
