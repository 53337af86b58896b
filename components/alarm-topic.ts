import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";

export interface AlarmTopicArgs {
    /** An existing SNS topic to notify instead of creating one (its policy and key are yours to manage). */
    topicArn?: pulumi.Input<string>;
    /** An e-mail address to subscribe to the topic (SNS mails a confirmation link first). */
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
        const parent = { parent: this };

        if (args.topicArn !== undefined) {
            this.topicArn = pulumi.output(args.topicArn);
        } else {
            const identity = aws.getCallerIdentityOutput({}, parent);
            const partition = aws.getPartitionOutput({}, parent).partition;
            this.keyPolicyDocument = pulumi.all([identity.accountId, partition]).apply(([account, part]) =>
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
            this.key = new aws.kms.Key(
                `${name}-key`,
                {
                    description: "client-events alarm topic",
                    enableKeyRotation: true,
                    deletionWindowInDays: 7,
                    policy: this.keyPolicyDocument,
                },
                parent,
            );
            this.topic = new aws.sns.Topic(`${name}-topic`, { kmsMasterKeyId: this.key.arn }, parent);
            this.topicArn = this.topic.arn;

            const region = aws.getRegionOutput({}, parent).region;
            this.topicPolicyDocument = pulumi
                .all([this.topic.arn, identity.accountId, partition, region])
                .apply(([topicArn, account, part, reg]) =>
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
            new aws.sns.TopicPolicy(`${name}-topic-policy`, { arn: this.topic.arn, policy: this.topicPolicyDocument }, parent);
        }

        if (args.email !== undefined) {
            this.emailSubscription = new aws.sns.TopicSubscription(
                `${name}-email`,
                {
                    topic: this.topicArn,
                    protocol: "email",
                    endpoint: args.email,
                },
                parent,
            );
        }

        this.registerOutputs({ topicArn: this.topicArn });
    }
}
