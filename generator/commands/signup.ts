/** `generator signup`: SignUp, then confirm with the e-mailed code or AdminConfirmSignUp. */
import { Command, Option } from "commander";
import { AdminConfirmSignUpCommand, CognitoIdentityProviderClient } from "@aws-sdk/client-cognito-identity-provider";
import { CognitoAuth, CognitoError } from "../../client";
import { CLIENT_ID_ATTRIBUTE } from "../../pipeline/identity";
import { CliError, EXIT } from "../errors";
import { readLocalCredentials, resolveSettings, type Settings } from "../settings";
import {
    CommandContext,
    CommonOptions,
    connectionOptions,
    EXIT_HELP,
    isLoopbackUrl,
    LOCAL_NOT_RUNNING,
    localFlag,
    withCode,
} from "./common";

interface SignupFlags extends CommonOptions {
    userid?: string;
    password?: string;
    email?: string;
    confirmCode?: string;
    adminConfirm?: boolean;
}

/** Adds `signup` to the program; `done` receives its exit code. */
export function addSignupCommand(program: Command, ctx: CommandContext, done: (code: number) => void): void {
    connectionOptions(
        program
            .command("signup")
            .description("Sign a user up (SignUp), then confirm it with the e-mailed code or AdminConfirmSignUp.")
            .option("--userid <name>", "user name (env CLIENT_EVENTS_USERID)")
            .option("--password <password>", "password (env CLIENT_EVENTS_PASSWORD)")
            .option("--email <address>", "e-mail address that receives the confirmation code")
            .addOption(
                new Option("--confirm-code <code>", "confirm an earlier sign-up with the code Cognito e-mailed (skips SignUp)").conflicts(
                    "adminConfirm",
                ),
            )
            .option(
                "--admin-confirm",
                "confirm at once with AdminConfirmSignUp (needs AWS credentials with cognito-idp:AdminConfirmSignUp; against local mode, the credentials it published in outputs.json)",
            )
            .option(
                "--data-dir <dir>",
                "local mode's data directory, whose outputs.json holds the credentials --admin-confirm signs with when local mode does not answer (env CLIENT_EVENTS_DATA_DIR; default .local)",
            )
            .addHelpText("after", EXIT_HELP),
    ).action(async (flags: SignupFlags) => {
        try {
            done(await signup(flags, ctx));
        } catch (e) {
            const error = withCode(e);
            // A network error against local mode most likely means it is not running: say how to start it.
            throw error.exitCode === EXIT.NETWORK && localFlag(flags)
                ? new CliError(`${error.message}\n${LOCAL_NOT_RUNNING}`, error.exitCode)
                : error;
        }
    });
}

async function signup(flags: SignupFlags, ctx: CommandContext): Promise<number> {
    const { io, out } = ctx;
    const userid = flags.userid ?? io.env.CLIENT_EVENTS_USERID;
    const password = flags.password ?? io.env.CLIENT_EVENTS_PASSWORD;
    if (!userid) throw new CliError("signup needs --userid (or CLIENT_EVENTS_USERID)");
    // userPoolId is read only with --admin-confirm, which adds it to what must be resolved.
    const needs: Array<"userPoolClientId" | "cognitoEndpoint" | "userPoolId"> = ["userPoolClientId", "cognitoEndpoint"];
    if (flags.adminConfirm) needs.push("userPoolId");
    const settings = await resolveSettings(flags, needs, ctx.deps);
    const auth = new CognitoAuth({ clientId: settings.userPoolClientId, endpoint: settings.cognitoEndpoint, fetch: io.fetch });
    let confirmed: boolean;
    if (flags.confirmCode) {
        await auth.confirmSignUp(userid, flags.confirmCode);
        confirmed = true;
    } else {
        if (!password) throw new CliError("signup needs --password (or CLIENT_EVENTS_PASSWORD)");
        if (!flags.email) throw new CliError("signup needs --email (Cognito sends the confirmation code there)");
        confirmed = await signUp(auth, userid, password, flags.email);
        if (flags.adminConfirm && !confirmed) {
            await adminConfirm(settings.userPoolId, settings.cognitoEndpoint, settings, userid, ctx);
            confirmed = true;
        }
    }
    if (!confirmed) {
        const msg =
            `Signed up ${userid}. Cognito sent a confirmation code to ${flags.email}; confirm with:\n` +
            `  npm run generator -- signup --userid ${userid} --confirm-code CODE`;
        out(flags.json ? JSON.stringify({ userid, confirmed: false }) : msg);
        return EXIT.OK;
    }
    // Sign in once, to prove the user works and show the clientId the confirmation trigger gave it.
    let clientId: string | undefined;
    if (password) {
        const session = await auth.signIn(userid, password, "id");
        clientId = jwtClaim(session.tokens.idToken, CLIENT_ID_ATTRIBUTE);
    }
    out(
        flags.json
            ? JSON.stringify({ userid, confirmed: true, clientId: clientId ?? null })
            : `User ${userid} is confirmed${clientId ? `; clientId ${clientId}` : ""}.`,
    );
    return EXIT.OK;
}

/** SignUp; resolves with whether Cognito confirmed the user at once. */
async function signUp(auth: CognitoAuth, userid: string, password: string, email: string): Promise<boolean> {
    try {
        const result = await auth.signUp({ username: userid, password, email });
        return result.userConfirmed;
    } catch (e) {
        if (e instanceof CognitoError && e.code === "UsernameExistsException") {
            throw new CliError(`user ${userid} already exists: run with --confirm-code CODE to confirm it, or just use it`, EXIT.CONFIG);
        }
        if (e instanceof CognitoError && e.code === "InvalidPasswordException") throw new CliError(e.message, EXIT.CONFIG);
        throw e;
    }
}

async function adminConfirm(userPoolId: string, endpoint: string, settings: Settings, userid: string, ctx: CommandContext): Promise<void> {
    const local = isLoopbackUrl(endpoint);
    // Local mode verifies the signature like AWS: sign with the credentials it published in outputs.json.
    const credentials = local ? await readLocalCredentials(endpoint, settings.dataDir, ctx.deps) : undefined;
    const client = new CognitoIdentityProviderClient({
        region: settings.region ?? "us-east-1",
        ...(local ? { endpoint, ...(credentials ? { credentials } : {}) } : {}),
        ...(!local && !/\.amazonaws\.com/.test(endpoint) ? { endpoint } : {}),
    });
    try {
        await client.send(new AdminConfirmSignUpCommand({ UserPoolId: userPoolId, Username: userid }));
    } finally {
        client.destroy();
    }
}

/** A claim of a JWT's payload, without verifying it (display only). */
function jwtClaim(token: string, claim: string): string | undefined {
    const payload = token.split(".")[1];
    if (!payload) return undefined;
    try {
        const value = JSON.parse(Buffer.from(payload, "base64url").toString("utf8"))[claim];
        return typeof value === "string" ? value : undefined;
    } catch {
        return undefined;
    }
}
