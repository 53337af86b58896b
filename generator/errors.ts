/** Exit codes of the CLI (also listed in --help). */
export const EXIT = {
    OK: 0,
    /** Events were finally lost (run) or are missing from storage (verify). */
    LOST: 1,
    /** Bad flags, missing settings or stack outputs. */
    CONFIG: 2,
    /** Wrong credentials, unconfirmed user, token refused. */
    AUTH: 3,
    /** Cognito, the API or storage could not be reached. */
    NETWORK: 4,
} as const;

/** An error the CLI reports as one clear message and an exit code. */
export class CliError extends Error {
    constructor(
        message: string,
        readonly exitCode: number = EXIT.CONFIG,
    ) {
        super(message);
        this.name = "CliError";
    }
}
