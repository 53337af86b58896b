import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import manifest from "../package.json";

/** The Lambda runtime every handler runs on; it ships AWS SDK v3, so no SDK goes into a package. */
export const LAMBDA_RUNTIME = "nodejs22.x";

/** An IAM policy statement, as plain data so tests can evaluate it. */
export interface PolicyStatement {
    Sid?: string;
    Effect: "Allow" | "Deny";
    Action: string | string[];
    Resource: pulumi.Input<string> | pulumi.Input<string>[];
    Condition?: Record<string, Record<string, pulumi.Input<string> | pulumi.Input<string>[]>>;
}

export interface HandlerFunctionArgs<E, R> {
    /**
     * The handler: an async function from `handlers/`, serialized by Pulumi into the Lambda package. Plain, like
     * `callbackFactory` and `packages`: the package is built from them while the program runs.
     */
    callback?: aws.lambda.Callback<E, R>;
    /**
     * Instead of `callback`: a function run once per cold start that returns the handler. Use it for state
     * kept across invocations (clients, caches): in a serialized `callback`, module-level variables are
     * re-created on every invocation.
     */
    callbackFactory?: aws.lambda.CallbackFactory<E, R>;
    /** What the function may do beyond writing its own logs; nothing by default. */
    statements?: pulumi.Input<PolicyStatement[]>;
    /** Environment variables (no secrets: they are readable by anyone who can read the function). */
    environment?: pulumi.Input<Record<string, pulumi.Input<string>>>;
    /** Seconds; default 10. */
    timeout?: pulumi.Input<number>;
    /** MiB; default 256 (arm64 Lambdas get CPU in proportion to memory). */
    memorySize?: pulumi.Input<number>;
    /** Log retention in days; default 30. */
    logRetentionDays?: pulumi.Input<number>;
    /** Root `dependencies` this handler needs; every other one is kept out of its package (plain: see `callback`). */
    packages?: string[];
    /** A description shown in the Lambda console. */
    description?: pulumi.Input<string>;
}

/** Root `dependencies` of package.json that are not Pulumi SDKs: the candidates for a Lambda package. */
function runtimeDependencies(): string[] {
    return Object.keys((manifest as { dependencies?: Record<string, string> }).dependencies ?? {}).filter(
        (name) => !name.startsWith("@pulumi/"),
    );
}

/**
 * A Lambda built from a handler callback, with what every function of this program needs and
 * `CallbackFunction` does not give by default: its own role (the default one carries broad managed
 * policies), a log group with retention that the role alone may write to, arm64, an explicit
 * runtime, and a package that holds only the dependencies the handler uses.
 */
export class HandlerFunction<E, R> extends pulumi.ComponentResource {
    public readonly function: aws.lambda.CallbackFunction<E, R>;
    public readonly role: aws.iam.Role;
    public readonly logGroup: aws.cloudwatch.LogGroup;
    /** The role's inline policy document (JSON), exported for inspection and tests. */
    public readonly policyDocument: pulumi.Output<string>;

    constructor(name: string, args: HandlerFunctionArgs<E, R>, opts?: pulumi.ComponentResourceOptions) {
        super("client-events:index:HandlerFunction", name, {}, opts);
        if ((args.callback === undefined) === (args.callbackFactory === undefined)) {
            throw new Error(`HandlerFunction ${name}: give exactly one of callback and callbackFactory`);
        }
        this.logGroup = new aws.cloudwatch.LogGroup(
            `${name}-logs`,
            {
                retentionInDays: args.logRetentionDays ?? 30,
            },
            { parent: this },
        );

        this.role = new aws.iam.Role(
            `${name}-role`,
            {
                assumeRolePolicy: JSON.stringify({
                    Version: "2012-10-17",
                    Statement: [
                        {
                            Effect: "Allow",
                            Principal: { Service: "lambda.amazonaws.com" },
                            Action: "sts:AssumeRole",
                        },
                    ],
                }),
            },
            { parent: this },
        );

        const logStatement: PolicyStatement = {
            Sid: "WriteOwnLogs",
            Effect: "Allow",
            Action: ["logs:CreateLogStream", "logs:PutLogEvents"],
            Resource: pulumi.interpolate`${this.logGroup.arn}:*`,
        };
        this.policyDocument = pulumi
            .output(args.statements ?? [])
            .apply((extra) => pulumi.output({ Version: "2012-10-17", Statement: [logStatement, ...extra] }))
            .apply((doc) => JSON.stringify(doc));
        const policy = new aws.iam.RolePolicy(
            `${name}-policy`,
            {
                role: this.role.id,
                policy: this.policyDocument,
            },
            { parent: this },
        );

        const keep = new Set(args.packages ?? []);
        this.function = new aws.lambda.CallbackFunction<E, R>(
            `${name}`,
            {
                callback: args.callback,
                callbackFactory: args.callbackFactory,
                role: this.role.arn,
                runtime: LAMBDA_RUNTIME,
                architectures: ["arm64"],
                timeout: args.timeout ?? 10,
                memorySize: args.memorySize ?? 256,
                description: args.description,
                environment: args.environment ? { variables: args.environment } : undefined,
                loggingConfig: { logFormat: "JSON", logGroup: this.logGroup.name },
                codePathOptions: {
                    extraExcludePackages: runtimeDependencies().filter((dep) => !keep.has(dep)),
                },
            },
            { parent: this, dependsOn: [policy, this.logGroup] },
        );

        this.registerOutputs({
            function: this.function,
            role: this.role,
            logGroup: this.logGroup,
            policyDocument: this.policyDocument,
        });
    }
}
