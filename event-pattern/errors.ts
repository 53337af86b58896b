/**
 * Thrown for a pattern that EventBridge would refuse with `InvalidEventPatternException`.
 * The message follows the API's wording: `Event pattern is not valid. Reason: <reason>`, plus where in the
 * pattern the problem sits.
 */
export class InvalidEventPatternError extends Error {
    /** The error code EventBridge returns for the same pattern. */
    readonly code = "InvalidEventPatternException";
    /** The problem alone, without the prefix or location. */
    readonly reason: string;
    /** Where in the pattern the problem is (e.g. `detail.state[0]`), when known. */
    readonly location?: string;

    constructor(reason: string, location?: string) {
        super(`Event pattern is not valid. Reason: ${reason}${location ? ` (at ${location})` : ""}`);
        this.name = "InvalidEventPatternError";
        this.reason = reason;
        this.location = location;
    }
}
