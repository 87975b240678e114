"""The notification topic: encrypted with a rotated key that alarms may use, TLS only, subscribers from context."""

from __future__ import annotations

from typing import Any

import pytest
from synthesized import Template, as_list, referenced_id, resources_of_type

from infra import config, settings


def _synthesized(context: dict[str, Any]) -> Template:
    import aws_cdk as cdk
    from aws_cdk.assertions import Template as CdkTemplate

    from infra.stack import EndpointUpdaterStack

    stack = EndpointUpdaterStack(cdk.App(context={**settings.context_defaults(), **context}), "Given")
    document: Template = CdkTemplate.from_stack(stack).to_json()
    return document


def test_the_topic_is_encrypted_with_a_rotated_key_that_cloudwatch_alarms_may_use(template: Template) -> None:
    # Given the topic and the keys of the template
    (topic,) = resources_of_type(template, "AWS::SNS::Topic").values()
    keys = resources_of_type(template, "AWS::KMS::Key")

    # When the topic's key is resolved
    key = keys[referenced_id(topic["Properties"]["KmsMasterKeyId"])]
    statements = key["Properties"]["KeyPolicy"]["Statement"]

    # Then it is a customer managed key with yearly rotation, and CloudWatch (alarm actions) of this account
    # may encrypt with it
    assert key["Properties"]["EnableKeyRotation"] is True
    cloudwatch = [s for s in statements if s.get("Principal") == {"Service": "cloudwatch.amazonaws.com"}]
    assert len(cloudwatch) == 1
    assert set(as_list(cloudwatch[0]["Action"])) == {"kms:Decrypt", "kms:GenerateDataKey*"}
    assert cloudwatch[0]["Condition"] == {"StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}}


def test_the_topic_refuses_requests_without_tls(template: Template) -> None:
    # Given the topic's policy
    topic_id = next(iter(resources_of_type(template, "AWS::SNS::Topic")))
    (policy,) = resources_of_type(template, "AWS::SNS::TopicPolicy").values()

    # When its statements are read
    statements = policy["Properties"]["PolicyDocument"]["Statement"]

    # Then it denies every request over plain HTTP, on this topic
    assert policy["Properties"]["Topics"] == [{"Ref": topic_id}]
    assert any(s["Effect"] == "Deny" and s["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
               for s in statements)


def test_cdk_json_configures_no_subscriber(template: Template) -> None:
    # Given the template synthesized from cdk.json's context, which lists no subscriber
    # When its subscriptions are listed
    # Then there are none
    assert resources_of_type(template, "AWS::SNS::Subscription") == {}


def test_subscribers_come_from_context_as_emails_or_protocol_endpoint_pairs() -> None:
    # Given a context with an email address and an HTTPS and an SQS subscriber
    queue = "arn:aws:sqs:eu-west-1:111122223333:endpoint-updates"
    context = {config.NOTIFICATION_SUBSCRIBERS: [
        "ml-platform@example.com",
        {"protocol": "https", "endpoint": "https://hooks.example.com/updates"},
        {"protocol": "sqs", "endpoint": queue},
    ]}

    # When the stack is synthesized with it
    template = _synthesized(context)
    topic_id = next(iter(resources_of_type(template, "AWS::SNS::Topic")))
    subscriptions = resources_of_type(template, "AWS::SNS::Subscription").values()

    # Then each is subscribed to the topic with its protocol
    assert sorted((s["Properties"]["Protocol"], s["Properties"]["Endpoint"]) for s in subscriptions) == [
        ("email", "ml-platform@example.com"), ("https", "https://hooks.example.com/updates"), ("sqs", queue)]
    assert all(s["Properties"]["TopicArn"] == {"Ref": topic_id} for s in subscriptions)


@pytest.mark.parametrize(("value", "message"), [
    ("not-an-address", r"notificationSubscribers'\[0\]\.endpoint must be an email address"),
    ([{"protocol": "carrier-pigeon", "endpoint": "x"}], r"\[0\]\.protocol must be one of application, email, "),
    ([{"protocol": "https", "endpoint": "http://plain.example.com"}], r"must be an https:// URL"),
    ([{"protocol": "sqs", "endpoint": "my-queue"}], r"must be an SQS queue ARN"),
    ([{"endpoint": "ops@example.com"}], r'exactly "protocol" and "endpoint"'),
    ({"email": "ops@example.com"}, r"must be a list of email addresses or"),
], ids=["bad-email", "bad-protocol", "http-for-https", "sqs-not-arn", "missing-protocol", "not-a-list"])
def test_a_malformed_subscriber_stops_the_synthesis_naming_the_entry(value: Any, message: str) -> None:
    # Given a malformed subscriber list
    # When the stack is built with it
    # Then the synthesis stops with one line naming the entry and what is allowed
    with pytest.raises(ValueError, match=message):
        _synthesized({config.NOTIFICATION_SUBSCRIBERS: value})


@pytest.mark.parametrize("endpoint", ["http://hooks.example.com/updates", "https://hooks.example.com/updates"])
def test_a_clear_text_http_subscriber_is_refused_naming_the_setting_and_the_allowed_protocols(endpoint: str) -> None:
    # Given a subscriber over plain http (whatever its URL says)
    value = [{"protocol": "http", "endpoint": endpoint}]

    # When the subscribers are read
    # Then the synthesis stops before anything is built, naming the setting, the entry, why, and what is allowed
    with pytest.raises(ValueError) as refused:
        config.subscribers(value)
    message = str(refused.value)
    assert message.startswith("context value 'notificationSubscribers'[0].protocol 'http' is not allowed")
    assert "clear text" in message and "use https" in message
    assert message.endswith("allowed: application, email, email-json, https, lambda, sms, sqs")
    assert "http" not in config.SUBSCRIBER_ENDPOINTS


def test_a_single_address_from_the_command_line_is_one_email_subscriber() -> None:
    # Given `-c notificationSubscribers=ops@example.com`, which the CDK passes as a string
    # When it is read
    # Then it is one email subscriber
    assert config.subscribers("ops@example.com") == (config.Subscriber("email", "ops@example.com"),)
    assert config.subscribers('["a@example.com", "b@example.com"]') == (
        config.Subscriber("email", "a@example.com"), config.Subscriber("email", "b@example.com"))
