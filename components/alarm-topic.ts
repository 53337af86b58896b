import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";

export interface AlarmTopicArgs {
    /** An existing SNS topic to notify instead of creating one (its policy and key are yours to manage). */
    topicArn?: pulumi.Input<string>;
    /**
     * An e-mail address to subscribe to the topic (SNS mails a confirmation link first). Whether `topicArn` and
     * `email` are given decides which resources exist: an Output is fine, an Output that resolves to undefined is not.
     */
    email?: pulumi.Input<string>;
}

/**
 * Where the pipeline's alarms notify: an SNS topic encrypted with its own KMS key, or the topic you name.
 *
 * Why a customer managed key: CloudWatch alarms publish to an encrypted topic only if the key lets the
 * CloudWatch service principal use it (kms:Decrypt and kms:GenerateDataKey*), and the AWS managed key
 * alias/aws/sns has a policy nobody can change; with it the alarm's action fails ("CloudWatch Alarms does
 * not have authorization to access the SNS topic encryption key"). See
 * https://repost.aws/knowledge-center/cloudwatch-configure-alarm-sns and
 * https://docs.aws.amazon.com/sns/latest/dg/sns-key-management.html#compatibility-with-aws-services
 */
export class AlarmTopic extends pulumi.ComponentResource {
    /** The topic's ARN: created here, or the one given. */
    public readonly topicArn: pulumi.Output<string>;
    public readonly topic?: aws.sns.Topic;
    public readonly key?: aws.kms.Key;
    /** The key's policy (JSON), for inspection and tests. */
    public readonly keyPolicyDocument?: pulumi.Output<string>;
    /** The topic's policy (JSON), for inspection and tests. */
    public readonly topicPolicyDocument?: pulumi.Output<string>;
    public readonly emailSubscription?: aws.sns.TopicSubscription;

    constructor(name: string, args: AlarmTopicArgs = {}, opts?: pulumi.ComponentResourceOptions) {
        super("client-events:index:AlarmTopic", name, {}, opts);

        if (args.topicArn !== undefined) {
            this.topicArn = pulumi.output(args.topicArn);
        } else {
            const identity = aws.getCallerIdentityOutput({}, { parent: this });
            const partition = aws.getPartitionOutput({}, { parent: this }).partition;
            ({ key: this.key, keyPolicyDocument: this.keyPolicyDocument } = this.createKey(name, identity.accountId, partition));
            this.topic = new aws.sns.Topic(`${name}-topic`, { kmsMasterKeyId: this.key.arn }, { parent: this });
            this.topicArn = this.topic.arn;
            this.topicPolicyDocument = this.createTopicPolicy(name, this.topic, identity.accountId, partition);
        }

        if (args.email !== undefined) {
            this.emailSubscription = new aws.sns.TopicSubscription(
                `${name}-email`,
                {
                    topic: this.topicArn,
                    protocol: "email",
                    endpoint: args.email,
                },
                { parent: this },
            );
        }

        this.registerOutputs({
            topicArn: this.topicArn,
            topic: this.topic,
            key: this.key,
            keyPolicyDocument: this.keyPolicyDocument,
            topicPolicyDocument: this.topicPolicyDocument,
            emailSubscription: this.emailSubscription,
        });
    }

    /** The topic's KMS key, which this account administers and its CloudWatch alarms may encrypt with. */
    private createKey(
        name: string,
        accountId: pulumi.Output<string>,
        partition: pulumi.Output<string>,
    ): { key: aws.kms.Key; keyPolicyDocument: pulumi.Output<string> } {
        const keyPolicyDocument = pulumi.all([accountId, partition]).apply(([account, part]) =>
            JSON.stringify({
                Version: "2012-10-17",
                Statement: [
                    {
                        // Without it the key becomes unmanageable: the account's IAM policies decide who administers it.
                        Sid: "AccountAdministersTheKey",
                        Effect: "Allow",
                        Principal: { AWS: `arn:${part}:iam::${account}:root` },
                        Action: "kms:*",
                        Resource: "*",
                    },
                    {
                        Sid: "CloudWatchAlarmsOfThisAccountPublish",
                        Effect: "Allow",
                        Principal: { Service: "cloudwatch.amazonaws.com" },
                        Action: ["kms:Decrypt", "kms:GenerateDataKey*"],
                        Resource: "*",
                        Condition: { StringEquals: { "aws:SourceAccount": account } },
                    },
                ],
            }),
        );
        const key = new aws.kms.Key(
            `${name}-key`,
            {
                description: "client-events alarm topic",
                enableKeyRotation: true,
                deletionWindowInDays: 7,
                policy: keyPolicyDocument,
            },
            { parent: this },
        );
        return { key, keyPolicyDocument };
    }

    /** The topic's policy: the account manages it, this account's alarms publish to it, over TLS only. */
    private createTopicPolicy(
        name: string,
        topic: aws.sns.Topic,
        accountId: pulumi.Output<string>,
        partition: pulumi.Output<string>,
    ): pulumi.Output<string> {
        const region = aws.getRegionOutput({}, { parent: this }).region;
        const topicPolicyDocument = pulumi.all([topic.arn, accountId, partition, region]).apply(([topicArn, account, part, reg]) =>
            JSON.stringify({
                Version: "2012-10-17",
                Statement: [
                    {
                        Sid: "AccountManagesTheTopic",
                        Effect: "Allow",
                        Principal: { AWS: `arn:${part}:iam::${account}:root` },
                        Action: [
                            "sns:GetTopicAttributes",
                            "sns:SetTopicAttributes",
                            "sns:Subscribe",
                            "sns:ListSubscriptionsByTopic",
                            "sns:Publish",
                            "sns:DeleteTopic",
                        ],
                        Resource: topicArn,
                    },
                    {
                        Sid: "AlarmsOfThisAccountPublish",
                        Effect: "Allow",
                        Principal: { Service: "cloudwatch.amazonaws.com" },
                        Action: "sns:Publish",
                        Resource: topicArn,
                        Condition: {
                            StringEquals: { "aws:SourceAccount": account },
                            ArnLike: { "aws:SourceArn": `arn:${part}:cloudwatch:${reg}:${account}:alarm:*` },
                        },
                    },
                    {
                        Sid: "DenyInsecureTransport",
                        Effect: "Deny",
                        Principal: "*",
                        Action: "sns:Publish",
                        Resource: topicArn,
                        Condition: { Bool: { "aws:SecureTransport": "false" } },
                    },
                ],
            }),
        );
        new aws.sns.TopicPolicy(`${name}-topic-policy`, { arn: topic.arn, policy: topicPolicyDocument }, { parent: this });
        return topicPolicyDocument;
    }
}
