import * as assert from "assert";
import { ACCOUNT, REGION, oneOf, resourcesOf, valueOf } from "./support/pulumi-mocks";
import { IdentityPool } from "../components/identity-pool";
import { isAllowed } from "./support/iam";

const OTHER_POOL = `arn:aws:cognito-idp:${REGION}:${ACCOUNT}:userpool/${REGION}_Other`;

/** Every inline policy attached to the role named by the mocked role resource, merged into one document. */
async function rolePolicies(prefix: string, roleName: string): Promise<{ Version: string; Statement: any[] }> {
    const policies = (await resourcesOf(prefix, "aws:iam/rolePolicy:RolePolicy")).filter((p) => p.inputs.role === `${roleName}-id`);
    assert.ok(policies.length > 0, `no policy on ${roleName}`);
    return { Version: "2012-10-17", Statement: policies.flatMap((p) => JSON.parse(p.inputs.policy).Statement) };
}

describe("IdentityPool", () => {
    const prefix = "idp-default";
    let pool: IdentityPool;
    before(() => {
        pool = new IdentityPool(prefix, {});
    });

    it("user pool: username sign-in with an email alias, email verified, the sample's password policy", async () => {
        const up = await oneOf(prefix, "aws:cognito/userPool:UserPool");
        assert.deepStrictEqual(up.inputs.aliasAttributes, ["email"]);
        assert.strictEqual(up.inputs.usernameAttributes, undefined, "the username stays the sign-in name");
        assert.deepStrictEqual(up.inputs.autoVerifiedAttributes, ["email"]);
        assert.deepStrictEqual(up.inputs.passwordPolicy, {
            minimumLength: 8,
            requireUppercase: true,
            requireLowercase: true,
            requireSymbols: true,
            requireNumbers: false,
            temporaryPasswordValidityDays: 7,
        });
        assert.strictEqual(up.inputs.adminCreateUserConfig.allowAdminCreateUserOnly, false, "self sign-up");
    });

    it("user pool: custom:clientId is a mutable string attribute", async () => {
        const up = await oneOf(prefix, "aws:cognito/userPool:UserPool");
        const attribute = up.inputs.schemas.find((s: any) => s.name === "clientId");
        assert.ok(attribute);
        assert.strictEqual(attribute.attributeDataType, "String");
        assert.strictEqual(attribute.mutable, true);
        assert.strictEqual(attribute.required, false);
        assert.deepStrictEqual(attribute.stringAttributeConstraints, { minLength: "1", maxLength: "64" });
    });

    it("user pool: deletion protection on and threat protection off by default (no Plus plan)", async () => {
        const up = await oneOf(prefix, "aws:cognito/userPool:UserPool");
        assert.strictEqual(up.inputs.deletionProtection, "ACTIVE");
        assert.strictEqual(up.inputs.userPoolAddOns.advancedSecurityMode, "OFF");
        assert.strictEqual(up.inputs.userPoolTier, "ESSENTIALS");
    });

    it("user pool: the post-confirmation trigger is the HandlerFunction's Lambda", async () => {
        const up = await oneOf(prefix, "aws:cognito/userPool:UserPool");
        const fn = await oneOf(`${prefix}-confirm`, "aws:lambda/function:Function");
        assert.strictEqual(up.inputs.lambdaConfig.postConfirmation, fn.state.arn);
        assert.strictEqual(fn.inputs.runtime, "nodejs22.x");
        assert.deepStrictEqual(fn.inputs.architectures, ["arm64"]);
        assert.ok(fn.inputs.timeout <= 5, "Cognito waits at most 5 s");
    });

    it("app client: no secret, the three auth flows, clientId readable but never writable, existence errors prevented", async () => {
        const client = await oneOf(prefix, "aws:cognito/userPoolClient:UserPoolClient");
        const up = await oneOf(prefix, "aws:cognito/userPool:UserPool");
        assert.strictEqual(client.inputs.userPoolId, `${up.name}-id`);
        assert.strictEqual(client.inputs.generateSecret, false);
        assert.deepStrictEqual([...client.inputs.explicitAuthFlows].sort(), [
            "ALLOW_REFRESH_TOKEN_AUTH",
            "ALLOW_USER_PASSWORD_AUTH",
            "ALLOW_USER_SRP_AUTH",
        ]);
        assert.ok(client.inputs.readAttributes.includes("custom:clientId"));
        assert.ok(!client.inputs.writeAttributes.includes("custom:clientId"));
        assert.ok(!client.inputs.writeAttributes.some((a: string) => a.startsWith("custom:")));
        assert.strictEqual(client.inputs.preventUserExistenceErrors, "ENABLED");
        assert.strictEqual(client.inputs.enableTokenRevocation, true);
    });

    it("app client: token validity defaults (60 min, 60 min, 30 days) with explicit units", async () => {
        const client = await oneOf(prefix, "aws:cognito/userPoolClient:UserPoolClient");
        assert.strictEqual(client.inputs.accessTokenValidity, 60);
        assert.strictEqual(client.inputs.idTokenValidity, 60);
        assert.strictEqual(client.inputs.refreshTokenValidity, 30);
        assert.deepStrictEqual(client.inputs.tokenValidityUnits, { accessToken: "minutes", idToken: "minutes", refreshToken: "days" });
    });

    it("user pool: the pre-token-generation trigger (event version 1) gives users without a clientId one at sign-in", async () => {
        const up = await oneOf(prefix, "aws:cognito/userPool:UserPool");
        const fn = await oneOf(`${prefix}-token`, "aws:lambda/function:Function");
        assert.deepStrictEqual(up.inputs.lambdaConfig.preTokenGenerationConfig, { lambdaArn: fn.state.arn, lambdaVersion: "V1_0" });
        assert.strictEqual(up.inputs.lambdaConfig.preTokenGeneration, undefined, "the legacy field is not set as well");
        assert.strictEqual(fn.inputs.runtime, "nodejs22.x");
        assert.ok(fn.inputs.timeout <= 5, "Cognito waits at most 5 s");
        assert.notStrictEqual(
            (await oneOf(`${prefix}-token`, "aws:iam/role:Role")).name,
            (await oneOf(`${prefix}-confirm`, "aws:iam/role:Role")).name,
            "one role per trigger",
        );
    });

    for (const trigger of ["confirm", "token"]) {
        it(`${trigger} trigger's Lambda permission: only Cognito, only for this pool`, async () => {
            const permission = await oneOf(`${prefix}-${trigger}-invoke`, "aws:lambda/permission:Permission");
            const up = await oneOf(prefix, "aws:cognito/userPool:UserPool");
            const fn = await oneOf(`${prefix}-${trigger}`, "aws:lambda/function:Function");
            assert.strictEqual(permission.inputs.principal, "cognito-idp.amazonaws.com");
            assert.strictEqual(permission.inputs.action, "lambda:InvokeFunction");
            assert.strictEqual(permission.inputs.sourceArn, up.state.arn);
            assert.strictEqual(permission.inputs.function, fn.state.name);
        });

        describe(`${trigger} trigger role (IAM simulation)`, () => {
            let policy: { Version: string; Statement: any[] };
            let poolArn: string;
            let logGroupArn: string;
            before(async () => {
                const role = await oneOf(`${prefix}-${trigger}`, "aws:iam/role:Role");
                policy = await rolePolicies(prefix, role.name);
                poolArn = (await oneOf(prefix, "aws:cognito/userPool:UserPool")).state.arn;
                logGroupArn = (await oneOf(`${prefix}-${trigger}`, "aws:cloudwatch/logGroup:LogGroup")).state.arn;
                assert.strictEqual(
                    await valueOf(pool.triggerPolicyDocument),
                    JSON.stringify({
                        Version: "2012-10-17",
                        Statement: [
                            {
                                Sid: "SetClientIdOfThisPool",
                                Effect: "Allow",
                                Action: "cognito-idp:AdminUpdateUserAttributes",
                                Resource: poolArn,
                            },
                        ],
                    }),
                );
            });

            it("the pool statement is a separate policy (no pool <-> function cycle)", async () => {
                const policies = await resourcesOf(`${prefix}-${trigger}-pool`, "aws:iam/rolePolicy:RolePolicy");
                assert.strictEqual(policies.length, 1);
                assert.strictEqual(policies[0].inputs.role, `${(await oneOf(`${prefix}-${trigger}`, "aws:iam/role:Role")).name}-id`);
            });

            it("allows AdminUpdateUserAttributes on this pool", async () => {
                assert.ok(await isAllowed(policy, "cognito-idp:AdminUpdateUserAttributes", poolArn));
            });

            it("denies it on another pool", async () => {
                assert.ok(!(await isAllowed(policy, "cognito-idp:AdminUpdateUserAttributes", OTHER_POOL)));
            });

            for (const action of [
                "cognito-idp:AdminGetUser",
                "cognito-idp:AdminDeleteUser",
                "cognito-idp:AdminSetUserPassword",
                "cognito-idp:AdminCreateUser",
                "cognito-idp:ListUsers",
                "cognito-idp:DeleteUserPool",
            ]) {
                it(`denies ${action} on this pool`, async () => {
                    assert.ok(!(await isAllowed(policy, action, poolArn)));
                });
            }

            it("may write only its own log group", async () => {
                assert.ok(await isAllowed(policy, "logs:PutLogEvents", `${logGroupArn}:log-stream:abc`));
                assert.ok(
                    !(await isAllowed(policy, "logs:PutLogEvents", `arn:aws:logs:${REGION}:${ACCOUNT}:log-group:other:log-stream:abc`)),
                );
                assert.ok(!(await isAllowed(policy, "logs:DeleteLogGroup", `${logGroupArn}:*`)));
            });
        });
    }

    describe("with options", () => {
        const custom = "idp-custom";
        before(async () => {
            const custom_ = new IdentityPool(custom, {
                threatProtection: "enforced",
                deletionProtection: false,
                accessTokenValidityMinutes: 15,
                idTokenValidityMinutes: 30,
                refreshTokenValidityDays: 7,
                logRetentionDays: 90,
            });
            await valueOf(custom_.client.id);
        });

        it("threat protection enforced needs the Plus plan", async () => {
            const up = await oneOf(custom, "aws:cognito/userPool:UserPool");
            assert.strictEqual(up.inputs.userPoolAddOns.advancedSecurityMode, "ENFORCED");
            assert.strictEqual(up.inputs.userPoolTier, "PLUS");
            assert.strictEqual(up.inputs.deletionProtection, "INACTIVE");
        });

        it("token validity and log retention follow the arguments", async () => {
            const client = await oneOf(custom, "aws:cognito/userPoolClient:UserPoolClient");
            assert.strictEqual(client.inputs.accessTokenValidity, 15);
            assert.strictEqual(client.inputs.idTokenValidity, 30);
            assert.strictEqual(client.inputs.refreshTokenValidity, 7);
            const logs = await oneOf(`${custom}-confirm`, "aws:cloudwatch/logGroup:LogGroup");
            assert.strictEqual(logs.inputs.retentionInDays, 90);
        });
    });
});
