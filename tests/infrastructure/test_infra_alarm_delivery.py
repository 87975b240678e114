"""Every alarm's action can publish: the topic policy and the topic's key policy, evaluated as IAM would, let
the CloudWatch service principal publish for each alarm of the stack, and for nothing else.

An alarm action to an SNS topic is a Publish by cloudwatch.amazonaws.com carrying the alarm's ARN as
aws:SourceArn and its account as aws:SourceAccount (CloudWatch User Guide, "Confused deputy prevention"). On a
topic encrypted with a customer managed key, SNS then uses the key on CloudWatch's behalf: the key policy must
let cloudwatch.amazonaws.com call kms:GenerateDataKey* and kms:Decrypt (Amazon SNS Developer Guide, "Key
management", "Configure AWS KMS permissions for AWS services").
"""

from __future__ import annotations

from typing import Any

import pytest
from policy_evaluation import ALLOW, DENY, IMPLICIT_DENY, Deployment, Request, evaluate
from synthesized import Template, as_list, referenced_id, resources_of_type

CLOUDWATCH = "cloudwatch.amazonaws.com"


def _topic_policy(deployment: Deployment, topic_id: str) -> list[dict[str, Any]]:
    """The statements of every topic policy attached to the topic (SNS keeps one: the template must hold one)."""
    policies = [policy for policy in resources_of_type(deployment.template, "AWS::SNS::TopicPolicy").values()
                if {"Ref": topic_id} in policy["Properties"]["Topics"]]
    assert len(policies) == 1, f"topic {topic_id} has {len(policies)} topic policies"
    return as_list(deployment.resolve(policies[0]["Properties"]["PolicyDocument"]["Statement"]))


def _key_policy(deployment: Deployment, topic_id: str) -> list[dict[str, Any]]:
    topic = deployment.template["Resources"][topic_id]
    key_id = referenced_id(topic["Properties"]["KmsMasterKeyId"])
    key = deployment.template["Resources"][key_id]
    return as_list(deployment.resolve(key["Properties"]["KeyPolicy"]["Statement"]))


def _alarm_publish(deployment: Deployment, topic_arn: str, alarm_arn: str, account: str | None = None) -> Request:
    account = account or deployment.account
    return Request(CLOUDWATCH, "sns:Publish", topic_arn,
                   {"aws:SourceArn": alarm_arn, "aws:SourceAccount": account, "aws:SecureTransport": "true"})


def _key_use(action: str, alarm_arn: str, account: str) -> Request:
    return Request(CLOUDWATCH, action, "*", {"aws:SourceArn": alarm_arn, "aws:SourceAccount": account})


def _alarm_actions(template: Template) -> list[tuple[str, str]]:
    """(alarm id, topic id) for every action of every alarm in the template."""
    return [(alarm_id, referenced_id(action))
            for alarm_id, alarm in resources_of_type(template, "AWS::CloudWatch::Alarm").items()
            for action in alarm["Properties"].get("AlarmActions", [])]


def test_every_alarm_has_an_action_on_an_encrypted_topic(template: Template) -> None:
    # Given the template's alarms
    alarms = resources_of_type(template, "AWS::CloudWatch::Alarm")

    # When their actions are read
    actions = _alarm_actions(template)

    # Then every alarm (seven at least: three on executions, three on functions, one on undelivered events)
    # notifies a topic of the stack that is encrypted with a key
    assert len(alarms) >= 7
    assert {alarm_id for alarm_id, _ in actions} == set(alarms)
    for _, topic_id in actions:
        assert template["Resources"][topic_id]["Type"] == "AWS::SNS::Topic"
        assert "KmsMasterKeyId" in template["Resources"][topic_id]["Properties"]


def test_each_alarms_action_may_publish_under_the_topic_and_key_policies(template: Template) -> None:
    # Given the template deployed to one account
    deployment = Deployment(template)
    checked = []

    for alarm_id, topic_id in _alarm_actions(template):
        # When CloudWatch publishes this alarm's state change to its topic, and SNS uses the topic's key for it
        alarm_arn, topic_arn = deployment.arn(alarm_id), deployment.arn(topic_id)
        publish = evaluate(_topic_policy(deployment, topic_id), _alarm_publish(deployment, topic_arn, alarm_arn))
        key_uses = {action: evaluate(_key_policy(deployment, topic_id),
                                     _key_use(action, alarm_arn, deployment.account))
                    for action in ("kms:GenerateDataKey", "kms:Decrypt")}

        # Then the topic policy allows the publish and the key policy allows both uses of the key
        assert publish == ALLOW, f"{alarm_id}: the topic policy gives {publish} for CloudWatch's publish"
        assert key_uses == {"kms:GenerateDataKey": ALLOW, "kms:Decrypt": ALLOW}, alarm_id
        checked.append(alarm_id)
    assert len(checked) >= 7


@pytest.mark.parametrize(("what", "alarm_name", "account", "expected"), [
    ("another alarm of this account", "someone-elses-alarm", None, IMPLICIT_DENY),
    ("an alarm of another account", None, "444455556666", IMPLICIT_DENY),
])
def test_the_topic_lets_cloudwatch_publish_for_the_stacks_alarms_only(
        template: Template, what: str, alarm_name: str | None, account: str | None, expected: str) -> None:
    # Given the template deployed to one account, and one of its alarm actions
    deployment = Deployment(template)
    alarm_id, topic_id = _alarm_actions(template)[0]
    topic_arn = deployment.arn(topic_id)
    alarm_arn = deployment.arn(alarm_id)
    if alarm_name is not None:
        alarm_arn = alarm_arn.rsplit(":", 1)[0] + f":{alarm_name}"
    if account is not None:
        alarm_arn = alarm_arn.replace(deployment.account, account)

    # When CloudWatch publishes to the topic for another alarm (the confused deputy)
    publish = evaluate(_topic_policy(deployment, topic_id), _alarm_publish(deployment, topic_arn, alarm_arn, account))

    # Then no statement allows it
    assert publish == expected, what


def test_a_publish_without_tls_is_denied_even_for_the_stacks_alarms(template: Template) -> None:
    # Given the template deployed to one account, and one of its alarm actions
    deployment = Deployment(template)
    alarm_id, topic_id = _alarm_actions(template)[0]
    request = _alarm_publish(deployment, deployment.arn(topic_id), deployment.arn(alarm_id))

    # When the same publish arrives over plain HTTP
    plain = Request(request.service_principal, request.action, request.resource,
                    {**request.context, "aws:SecureTransport": "false"})

    # Then the topic's TLS deny wins over the allow
    assert evaluate(_topic_policy(deployment, topic_id), plain) == DENY
