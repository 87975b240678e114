"""The request's own shape is checked before any AWS call; every message names the field and what is allowed."""

import json

import pytest

from endpoint_updater.core.errors import InvalidInput
from endpoint_updater.core.request import (
    DEFAULT_INITIAL_POLL_DELAY_SECONDS,
    DEFAULT_POLL_INTERVAL_SECONDS,
    DEFAULT_TIMEOUT_SECONDS,
    endpoint_named_in,
    parse_request,
)

VARIANT_FIELDS = frozenset({"VariantName", "ModelName", "InstanceType", "InitialInstanceCount", "ServerlessConfig"})


def refused(raw: object) -> str:
    with pytest.raises(InvalidInput) as caught:
        parse_request(raw, VARIANT_FIELDS)
    return str(caught.value)


def test_minimal_request_gets_the_defaults() -> None:
    # Given only an endpoint name / When parsed
    request = parse_request({"EndpointName": "churn-prod"}, VARIANT_FIELDS)
    # Then the optional fields take their documented defaults
    assert request.VariantChanges == []
    assert request.CapacityIncrease is None
    assert request.InitialPollDelaySeconds == DEFAULT_INITIAL_POLL_DELAY_SECONDS
    assert request.PollIntervalSeconds == DEFAULT_POLL_INTERVAL_SECONDS
    assert request.TimeoutSeconds == DEFAULT_TIMEOUT_SECONDS


def test_an_interval_alone_keeps_one_interval_before_the_first_poll() -> None:
    # Given an input written before InitialPollDelaySeconds existed / When parsed
    request = parse_request({"EndpointName": "churn-prod", "PollIntervalSeconds": 5}, VARIANT_FIELDS)
    # Then the first poll comes one interval after UpdateEndpoint, as it did then
    assert (request.InitialPollDelaySeconds, request.PollIntervalSeconds) == (5, 5)


def test_an_initial_delay_of_zero_polls_at_once() -> None:
    request = parse_request({"EndpointName": "e", "InitialPollDelaySeconds": 0, "PollIntervalSeconds": 5},
                            VARIANT_FIELDS)
    assert (request.InitialPollDelaySeconds, request.PollIntervalSeconds) == (0, 5)


def test_a_bad_interval_is_reported_once() -> None:
    message = refused({"EndpointName": "e", "PollIntervalSeconds": "30"})
    assert "PollIntervalSeconds: \"30\" is not allowed" in message and "InitialPollDelaySeconds" not in message


def test_full_request_is_kept_as_given() -> None:
    raw = {"EndpointName": "churn-prod", "VariantChanges": [{"VariantName": "AllTraffic", "ModelName": "churn-v8"}],
           "CapacityIncrease": {"Percent": 50}, "DeploymentConfig": {"RollingUpdatePolicy": {
               "MaximumBatchSize": {"Type": "INSTANCE_COUNT", "Value": 1}, "WaitIntervalInSeconds": 60}},
           "InitialPollDelaySeconds": 60, "PollIntervalSeconds": 5, "TimeoutSeconds": 600, "Completion": "polling",
           "SafetyIntervalSeconds": 120, "DryRun": True,
           "ModelPackage": {"ModelPackageArn": "arn:aws:sagemaker:us-east-1:123456789012:model-package/churn/3",
                            "VariantName": "Canary"},
           "Requester": {"Account": "123456789012", "Source": "endpoint-updater", "RequestedBy": "alice"}}
    assert parse_request(raw, VARIANT_FIELDS).to_dict() == raw


def test_missing_endpoint_name_is_named() -> None:
    assert "EndpointName: required" in refused({})


def test_malformed_endpoint_name_says_what_is_allowed() -> None:
    message = refused({"EndpointName": "-bad_name"})
    assert "EndpointName" in message and "at most 63" in message


def test_unknown_top_level_field_lists_the_allowed_fields() -> None:
    message = refused({"EndpointName": "churn-prod", "Endpoint": "x"})
    assert "Endpoint: unknown field" in message
    assert "allowed fields: EndpointName, VariantChanges, CapacityIncrease" in message


def test_unknown_variant_field_lists_the_production_variant_fields() -> None:
    message = refused({"EndpointName": "e", "VariantChanges": [{"VariantName": "A", "Modle": "x"}]})
    assert "VariantChanges[0].Modle: unknown field" in message
    assert "InstanceType" in message and "ModelName" in message


@pytest.mark.parametrize("increase", [{"Add": -1}, {"Add": 0}, {"Percent": -50}, {"Add": 1.5}, {"Add": True}])
def test_capacity_increase_must_be_a_positive_whole_number(increase: dict) -> None:
    field = next(iter(increase))
    message = refused({"EndpointName": "e", "CapacityIncrease": increase})
    assert f"CapacityIncrease.{field}" in message and "whole number from 1" in message


def test_capacity_increase_takes_add_or_percent_not_both() -> None:
    message = refused({"EndpointName": "e", "CapacityIncrease": {"Add": 1, "Percent": 50}})
    assert "CapacityIncrease: give exactly one of Add" in message


@pytest.mark.parametrize("above", ["yes", 1, None, [True]])
def test_above_max_capacity_must_be_a_boolean(above: object) -> None:
    # Given an AboveMaxCapacity that is not true or false / When parsed / Then the message names it and the choice
    message = refused({"EndpointName": "e", "CapacityIncrease": {"Add": 1, "AboveMaxCapacity": above}})
    assert f"CapacityIncrease.AboveMaxCapacity: {above!r} is not allowed; give true" in message


def test_above_max_capacity_is_kept_and_needs_an_amount() -> None:
    request = parse_request({"EndpointName": "e", "CapacityIncrease": {"Percent": 50, "AboveMaxCapacity": True}},
                            VARIANT_FIELDS)
    assert request.CapacityIncrease == {"Percent": 50, "AboveMaxCapacity": True}
    message = refused({"EndpointName": "e", "CapacityIncrease": {"AboveMaxCapacity": True}})
    assert "CapacityIncrease: give exactly one of Add" in message and "AboveMaxCapacity (true or false)" in message


def test_a_variant_named_twice_is_refused() -> None:
    changes = [{"VariantName": "A", "ModelName": "m1"}, {"VariantName": "A", "ModelName": "m2"}]
    assert "VariantChanges[1].VariantName: 'A' is named twice" in refused({"EndpointName": "e",
                                                                           "VariantChanges": changes})


def test_a_change_that_changes_nothing_is_refused() -> None:
    assert "VariantChanges[0]: names no field to change" in refused(
        {"EndpointName": "e", "VariantChanges": [{"VariantName": "A"}]})


@pytest.mark.parametrize(("field", "value"), [("PollIntervalSeconds", 0), ("PollIntervalSeconds", "30"),
                                              ("InitialPollDelaySeconds", -1), ("InitialPollDelaySeconds", 3601),
                                              ("InitialPollDelaySeconds", True), ("InitialPollDelaySeconds", 1.5),
                                              ("TimeoutSeconds", 10**6), ("TimeoutSeconds", -1)])
def test_intervals_must_be_in_range(field: str, value: object) -> None:
    assert f"{field}: {json.dumps(value)} is not allowed" in refused({"EndpointName": "e", field: value})


def test_every_problem_is_reported_at_once() -> None:
    message = refused({"Bogus": 1, "CapacityIncrease": {"Add": 0}})
    assert "Bogus" in message and "EndpointName: required" in message and "CapacityIncrease.Add" in message


def test_input_that_is_not_an_object_is_refused() -> None:
    assert "must be a JSON object" in refused(["churn-prod"])


@pytest.mark.parametrize(("raw_input", "name"), [
    ('{"EndpointName": "churn-prod", "DryRun": true}', "churn-prod"),
    ({"EndpointName": "churn-prod"}, "churn-prod"),
    ('{"EndpointName": ""}', None),
    ('{"EndpointName": 7}', None),
    ('["churn-prod"]', None),
    ("{not json", None),
    (None, None),
])
def test_the_endpoint_an_execution_was_about_is_read_from_any_input(raw_input: object, name: str | None) -> None:
    # Given an ended execution's input, valid or not / When its endpoint is read / Then a name or None, never an error
    assert endpoint_named_in(raw_input) == name
