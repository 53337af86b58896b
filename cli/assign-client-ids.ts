// `assign-client-ids`: gives every user of a pool who has no clientId the one the triggers would give it.
import {
    AdminUpdateUserAttributesCommand,
    ListUsersCommand,
    type CognitoIdentityProviderClient,
    type UserType,
} from "@aws-sdk/client-cognito-identity-provider";
import { CLIENT_ID_ATTRIBUTE, clientIdFor, hasClientId } from "../pipeline/identity";
import { CLIENT_ID_PATTERN } from "../handlers/authorizer";

export interface AssignOptions {
    userPoolId: string;
    /** List who would get a clientId; change nothing. */
    dryRun?: boolean;
}

export interface AssignReport {
    userPoolId: string;
    dryRun: boolean;
    /** Users listed. */
    users: number;
    /** Users who already had a usable clientId (left alone). */
    alreadySet: number;
    /** Users given a clientId (or, in a dry run, who would be). */
    assigned: Array<{ username: string; clientId: string; status?: string }>;
    /** Users whose clientId the authorizer refuses (not letters, digits and "-"): left alone, for a person to decide. */
    unusable: string[];
    /** Users whose update failed (the rest went on). */
    failed: Array<{ username: string; error: string }>;
}

/** Every user of the pool, page by page (ListUsers allows 60 a page), with the two attributes needed. */
async function* listUsers(cognito: Pick<CognitoIdentityProviderClient, "send">, userPoolId: string): AsyncGenerator<UserType> {
    let PaginationToken: string | undefined;
    do {
        const page = await cognito.send(
            new ListUsersCommand({ UserPoolId: userPoolId, Limit: 60, PaginationToken, AttributesToGet: ["sub", CLIENT_ID_ATTRIBUTE] }),
        );
        yield* page.Users ?? [];
        PaginationToken = page.PaginationToken;
    } while (PaginationToken);
}

/**
 * Assigns missing clientIds: AdminUpdateUserAttributes only for users without one, with the clientId
 * derived from pool and `sub` (pipeline/identity.ts), the value the pre-token-generation trigger would
 * store at the user's next sign-in. Idempotent: a second run assigns nothing, and a sign-in at the same
 * moment writes the same value. An existing clientId is never changed.
 */
export async function assignClientIds(cognito: Pick<CognitoIdentityProviderClient, "send">, options: AssignOptions): Promise<AssignReport> {
    const report: AssignReport = {
        userPoolId: options.userPoolId,
        dryRun: options.dryRun === true,
        users: 0,
        alreadySet: 0,
        assigned: [],
        unusable: [],
        failed: [],
    };
    for await (const user of listUsers(cognito, options.userPoolId)) {
        report.users++;
        const username = user.Username ?? "";
        const attributes = Object.fromEntries((user.Attributes ?? []).map((a) => [a.Name, a.Value]));
        const existing = attributes[CLIENT_ID_ATTRIBUTE];
        if (hasClientId(existing)) {
            if (CLIENT_ID_PATTERN.test(existing)) report.alreadySet++;
            else report.unusable.push(username);
            continue;
        }
        if (!hasClientId(attributes.sub)) {
            report.failed.push({ username, error: "ListUsers returned no sub" });
            continue;
        }
        const clientId = clientIdFor(options.userPoolId, attributes.sub);
        try {
            if (!report.dryRun) {
                await cognito.send(
                    new AdminUpdateUserAttributesCommand({
                        UserPoolId: options.userPoolId,
                        Username: username,
                        UserAttributes: [{ Name: CLIENT_ID_ATTRIBUTE, Value: clientId }],
                    }),
                );
            }
            report.assigned.push({ username, clientId, status: user.UserStatus });
        } catch (err) {
            report.failed.push({ username, error: `${(err as Error).name}: ${(err as Error).message}` });
        }
    }
    return report;
}

/** The report as lines for a person. */
export function formatAssignReport(report: AssignReport): string {
    const verb = report.dryRun ? "would assign" : "assigned";
    const lines = [
        `user pool ${report.userPoolId}: ${report.users} users, ${report.alreadySet} already have a clientId, ${report.assigned.length} ${verb}` +
            `${report.failed.length ? `, ${report.failed.length} failed` : ""}${report.dryRun ? " (dry run: nothing changed)" : ""}`,
        ...report.assigned.map((a) => `  ${verb} ${a.clientId} to ${a.username}${a.status ? ` (${a.status})` : ""}`),
        ...report.failed.map((f) => `  failed ${f.username}: ${f.error}`),
    ];
    if (report.unusable.length > 0) {
        lines.push(
            `  left alone: ${report.unusable.length} users whose clientId the authorizer refuses (letters, digits and "-" only): ${report.unusable.join(", ")}`,
        );
    }
    return lines.join("\n");
}
