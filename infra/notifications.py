"""Where the workflow tells people what happened: one SNS topic and its subscribers.

The topic is encrypted with a customer managed KMS key (rotated yearly), because CloudWatch alarms can
publish to an encrypted topic only when the key policy lets cloudwatch.amazonaws.com use the key, which
the AWS managed key for SNS does not allow (Amazon SNS Developer Guide, "Configure KMS permissions for AWS
services"). The topic accepts only TLS requests.
"""

from __future__ import annotations

from aws_cdk import RemovalPolicy, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from constructs import Construct

from infra import nag, settings
from infra.config import Subscriber


class Notifications(Construct):
    """The topic (`self.topic`) and one subscription per configured subscriber."""

    def __init__(self, scope: Construct, construct_id: str, *, subscribers: tuple[Subscriber, ...] = ()) -> None:
        super().__init__(scope, construct_id)
        self.key = kms.Key(
            self,
            "TopicKey",
            description=f"{settings.SERVICE_NAME}: encrypts the notification topic",
            enable_key_rotation=True,
            removal_policy=RemovalPolicy.RETAIN,
        )
        # Alarm actions publish as the CloudWatch service; only alarms of this account may use the key.
        self.key.add_to_resource_policy(
            iam.PolicyStatement(
                sid="CloudWatchAlarmsPublishToTheTopic",
                principals=[iam.ServicePrincipal("cloudwatch.amazonaws.com")],
                actions=["kms:Decrypt", "kms:GenerateDataKey*"],
                resources=["*"],
                conditions={"StringEquals": {"aws:SourceAccount": Stack.of(self).account}},
            )
        )
        self.topic = sns.Topic(
            self,
            "Topic",
            display_name=settings.NOTIFICATION_DISPLAY_NAME,
            master_key=self.key,
            enforce_ssl=True,
        )
        for index, subscriber in enumerate(subscribers):
            subscription = sns.Subscription(
                self,
                f"Subscriber{index}",
                topic=self.topic,
                protocol=sns.SubscriptionProtocol[subscriber.protocol.upper().replace("-", "_")],
                endpoint=subscriber.endpoint,
            )
            nag.acknowledge(
                subscription,
                "Serverless-SNSRedrivePolicy",
                "A message this subscriber cannot take after SNS's delivery retries would only reach a queue "
                "whose alarm notifies this same topic; what the message says stays in the alarm's history and "
                "the execution's status and record.",
            )
