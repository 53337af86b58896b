/**
 * One source of truth for the identity settings: the IdentityPool component deploys exactly
 * pipeline/identity.ts, and local mode's Cognito enforces exactly the same values.
 */
import * as assert from "node:assert/strict";
import { oneOf, valueOf } from "./support/pulumi-mocks";
import { IdentityPool } from "../components/identity-pool";
import * as identity from "../pipeline/identity";
import { startTestLocal } from "./support/local";

describe("identity settings: deployed and local from pipeline/identity.ts", () => {
    const prefix = "identity-settings";

    it("the component deploys them", async () => {
        const pool = new IdentityPool(prefix, {});
        await valueOf(pool.client.id);
        const up = await oneOf(prefix, "aws:cognito/userPool:UserPool");
        assert.deepEqual(up.inputs.aliasAttributes, identity.ALIAS_ATTRIBUTES);
        assert.deepEqual(up.inputs.autoVerifiedAttributes, identity.AUTO_VERIFIED_ATTRIBUTES);
        assert.deepEqual(up.inputs.usernameConfiguration, { caseSensitive: identity.USERNAME_CASE_SENSITIVE });
        assert.deepEqual(up.inputs.passwordPolicy, identity.PASSWORD_POLICY);
        assert.deepEqual(up.inputs.schemas, identity.SCHEMA_ATTRIBUTES);
        const client = await oneOf(prefix, "aws:cognito/userPoolClient:UserPoolClient");
        assert.deepEqual(client.inputs.explicitAuthFlows, identity.EXPLICIT_AUTH_FLOWS);
        assert.deepEqual(client.inputs.readAttributes, identity.READ_ATTRIBUTES);
        assert.deepEqual(client.inputs.writeAttributes, identity.WRITE_ATTRIBUTES);
        assert.equal(client.inputs.preventUserExistenceErrors, identity.PREVENT_USER_EXISTENCE_ERRORS ? "ENABLED" : "LEGACY");
    });

    it("local mode's Cognito enforces them", async () => {
        const { local } = await startTestLocal();
        try {
            const s = local.cognito.settings;
            assert.deepEqual(s.aliasAttributes, identity.ALIAS_ATTRIBUTES);
            assert.deepEqual(s.autoVerifiedAttributes, identity.AUTO_VERIFIED_ATTRIBUTES);
            assert.equal(s.caseInsensitiveUsernames, !identity.USERNAME_CASE_SENSITIVE);
            assert.equal(s.preventUserExistenceErrors, identity.PREVENT_USER_EXISTENCE_ERRORS);
            assert.deepEqual(s.passwordPolicy, identity.PASSWORD_POLICY);
            assert.deepEqual(s.customAttributes, identity.SCHEMA_ATTRIBUTES.filter((a) => a.name !== "email").map((a) => a.name));
            assert.deepEqual(s.explicitAuthFlows, identity.EXPLICIT_AUTH_FLOWS);
            assert.deepEqual(s.readAttributes, identity.READ_ATTRIBUTES);
            assert.deepEqual(s.writeAttributes, identity.WRITE_ATTRIBUTES);
        } finally {
            await local.close();
        }
    });
});
