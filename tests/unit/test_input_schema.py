"""The published JSON Schema of the workflow input and the workflow's own validation agree.

parse_request reads the field list, ranges, defaults and descriptions from the schema; these tests run
the `jsonschema` library over the examples and over bad inputs and check both accept or refuse alike.
The schema also types each ProductionVariant field: parse_request leaves those to the check against the
endpoint's config (botocore's API shape) in the first step, so the bad inputs here stay at the request level.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import botocore.session
import pytest
from jsonschema import Draft202012Validator

from endpoint_updater.core import request as request_module
from endpoint_updater.core.errors import InvalidInput
from endpoint_updater.core.request import Request, parse_request

ROOT = Path(__file__).resolve().parents[2]
PUBLISHED = ROOT / "statemachine" / "input.schema.json"
SHIPPED = ROOT / "endpoint_updater" / "core" / "input.schema.json"
EXAMPLES = sorted((ROOT / "examples").glob("*.json"))
SCHEMA = json.loads(PUBLISHED.read_text())
VALIDATOR = Draft202012Validator(SCHEMA)
VARIANT_FIELDS = frozenset(
    botocore.session.get_session().get_service_model("sagemaker").shape_for("ProductionVariant").members)

BAD_INPUTS: dict[str, Any] = {
    "not an object": ["churn-prod"],
    "no endpoint": {"VariantChanges": [{"VariantName": "AllTraffic", "ModelName": "m"}]},
    "endpoint name with underscore": {"EndpointName": "churn_prod"},
    "endpoint name too long": {"EndpointName": "e" * 64},
    "endpoint name not a string": {"EndpointName": 7},
    "unknown top-level field": {"EndpointName": "e", "Endpoint": "e"},
    "variant changes not a list": {"EndpointName": "e", "VariantChanges": {"VariantName": "A"}},
    "variant change not an object": {"EndpointName": "e", "VariantChanges": ["A"]},
    "variant change without a name": {"EndpointName": "e", "VariantChanges": [{"ModelName": "m"}]},
    "variant change that changes nothing": {"EndpointName": "e", "VariantChanges": [{"VariantName": "A"}]},
    "unknown variant field": {"EndpointName": "e", "VariantChanges": [{"VariantName": "A", "Modle": "m"}]},
    "capacity add and percent": {"EndpointName": "e", "CapacityIncrease": {"Add": 1, "Percent": 5}},
    "capacity empty": {"EndpointName": "e", "CapacityIncrease": {}},
    "capacity other key": {"EndpointName": "e", "CapacityIncrease": {"Instances": 1}},
    "capacity add zero": {"EndpointName": "e", "CapacityIncrease": {"Add": 0}},
    "capacity add above range": {"EndpointName": "e", "CapacityIncrease": {"Add": 1001}},
    "capacity percent a fraction": {"EndpointName": "e", "CapacityIncrease": {"Percent": 1.5}},
    "capacity add a boolean": {"EndpointName": "e", "CapacityIncrease": {"Add": True}},
    "deployment config not an object": {"EndpointName": "e", "DeploymentConfig": "CANARY"},
    "poll interval zero": {"EndpointName": "e", "PollIntervalSeconds": 0},
    "poll interval a string": {"EndpointName": "e", "PollIntervalSeconds": "30"},
    "timeout above a day": {"EndpointName": "e", "TimeoutSeconds": 86401},
    "initial poll delay negative": {"EndpointName": "e", "InitialPollDelaySeconds": -1},
    "initial poll delay above range": {"EndpointName": "e", "InitialPollDelaySeconds": 3601},
    "dry run a string": {"EndpointName": "e", "DryRun": "yes"},
    "dry run a number": {"EndpointName": "e", "DryRun": 1},
    "requester not an object": {"EndpointName": "e", "Requester": "alice"},
    "requester account not an id": {"EndpointName": "e", "Requester": {"Account": "1234"}},
    "requester unknown field": {"EndpointName": "e", "Requester": {"Role": "admin"}},
    "requested by empty": {"EndpointName": "e", "Requester": {"RequestedBy": ""}},
}

GOOD_INPUTS: dict[str, Any] = {
    "endpoint only": {"EndpointName": "churn-prod"},
    "bounds": {"EndpointName": "e", "PollIntervalSeconds": 3600, "TimeoutSeconds": 1, "InitialPollDelaySeconds": 0,
               "CapacityIncrease": {"Percent": 1000}},
    "dry run": {"EndpointName": "e", "DryRun": True},
    "requester": {"EndpointName": "e", "Requester": {"Account": "123456789012", "Source": "ml-platform",
                                                     "EventId": "5d1c2f3e", "RequestedBy": "alice"}},
}


def parse(raw: Any) -> Request:
    return parse_request(raw, VARIANT_FIELDS)


def test_the_schema_is_a_valid_draft_2020_12_schema() -> None:
    Draft202012Validator.check_schema(SCHEMA)
    assert SCHEMA["$schema"] == "https://json-schema.org/draft/2020-12/schema"


def test_the_functions_ship_the_published_schema() -> None:
    assert SHIPPED.read_bytes() == PUBLISHED.read_bytes(), "run `make schema` after editing the published schema"


def test_the_validation_takes_its_fields_defaults_and_ranges_from_the_schema() -> None:
    # Given the schema's properties / When the validation module's view of them is read
    properties = SCHEMA["properties"]
    # Then they are the same fields, defaults and ranges
    assert tuple(properties) == request_module.FIELDS
    assert set(request_module.FIELDS) == set(Request.__dataclass_fields__)
    assert request_module.DEFAULT_POLL_INTERVAL_SECONDS == properties["PollIntervalSeconds"]["default"] == 28
    assert request_module.DEFAULT_TIMEOUT_SECONDS == properties["TimeoutSeconds"]["default"] == 14400
    assert request_module.TIMEOUT_RANGE == (1, 86400)
    assert request_module.describe("DryRun") == properties["DryRun"]["description"] != ""
    assert "DryRun" in properties and properties["DryRun"]["type"] == "boolean"
    assert (properties["InitialPollDelaySeconds"]["minimum"], properties["InitialPollDelaySeconds"]["maximum"]) == (
        0, 3600)


def test_the_schema_lists_every_production_variant_field_of_the_sdk() -> None:
    variant_properties = SCHEMA["properties"]["VariantChanges"]["items"]["properties"]
    assert set(variant_properties) == VARIANT_FIELDS


def test_there_is_an_example_for_each_common_case() -> None:
    assert {path.stem for path in EXAMPLES} >= {"new-model", "new-instance-type", "two-variants", "capacity-raise",
                                                 "blue-green-canary"}


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda path: path.stem)
def test_every_example_is_valid_for_the_schema_and_the_workflow(path: Path) -> None:
    example = json.loads(path.read_text())
    assert list(VALIDATOR.iter_errors(example)) == []
    assert parse(example).EndpointName == example["EndpointName"]


@pytest.mark.parametrize("raw", GOOD_INPUTS.values(), ids=list(GOOD_INPUTS))
def test_both_accept_a_good_input(raw: Any) -> None:
    assert list(VALIDATOR.iter_errors(raw)) == []
    parse(raw)


@pytest.mark.parametrize("raw", BAD_INPUTS.values(), ids=list(BAD_INPUTS))
def test_both_refuse_a_bad_input(raw: Any) -> None:
    # Given an input the schema refuses
    assert list(VALIDATOR.iter_errors(raw)), "the schema accepts it"
    # When the workflow's validation reads it / Then it refuses it too, naming a field when it is an object
    with pytest.raises(InvalidInput) as refused:
        parse(raw)
    if isinstance(raw, dict):
        assert any(name in str(refused.value) for name in SCHEMA["properties"]) or "VariantChanges" in str(
            refused.value)
