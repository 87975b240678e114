"""The published JSON Schema of the workflow input and the workflow's own validation agree.

parse_request reads the field list, ranges, defaults and descriptions from the schema; these tests run
the `jsonschema` library over the examples and over bad inputs and check both accept or refuse alike.
The schema also types each ProductionVariant field: parse_request leaves those to the check against the
endpoint's config (botocore's API shape) in the first step, so the bad inputs here stay at the request level.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import botocore.session
import pytest
from jsonschema import Draft202012Validator

from endpoint_updater.core import request as request_module
from endpoint_updater.core import shapes
from endpoint_updater.core.errors import InvalidInput
from endpoint_updater.core.request import Request, parse_request

ROOT = Path(__file__).resolve().parents[2]
PUBLISHED = ROOT / "statemachine" / "input.schema.json"
SHIPPED = ROOT / "endpoint_updater" / "core" / "input.schema.json"
# A rollout's input has its own schema (statemachine/rollout.input.schema.json).
EXAMPLES = sorted(path for path in (ROOT / "examples").glob("*.json") if not path.name.startswith("rollout"))
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
    "capacity above max a string": {"EndpointName": "e", "CapacityIncrease": {"Add": 1, "AboveMaxCapacity": "yes"}},
    "capacity above max without an amount": {"EndpointName": "e", "CapacityIncrease": {"AboveMaxCapacity": True}},
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
    "capacity above max": {"EndpointName": "e", "CapacityIncrease": {"Add": 2, "AboveMaxCapacity": True}},
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


# -- every limit in the schema is enforced: cases derived from the schema itself -----------------------------

ARN = "arn:aws:sagemaker:us-east-1:123456789012:model-package/churn/3"
# A valid value of each object in the schema, to put one bad member into.
VALID_OBJECTS: dict[tuple[str, ...], dict[str, Any]] = {
    (): {"EndpointName": "churn-prod"},
    ("VariantChanges", "[]"): {"VariantName": "AllTraffic", "ModelName": "churn-v8"},
    ("CapacityIncrease",): {"Add": 1},
    ("DeploymentConfig",): {},
    ("DeploymentConfig", "BlueGreenUpdatePolicy"): {"TrafficRoutingConfiguration": {
        "Type": "ALL_AT_ONCE", "WaitIntervalInSeconds": 0}},
    ("DeploymentConfig", "RollingUpdatePolicy"): {"MaximumBatchSize": {"Type": "INSTANCE_COUNT", "Value": 1},
                                                  "WaitIntervalInSeconds": 0},
    ("DeploymentConfig", "AutoRollbackConfiguration"): {},
    ("ModelPackage",): {"ModelPackageArn": ARN, "VariantName": "AllTraffic"},
    ("Requester",): {},
}


def schema_nodes(spec: dict[str, Any], location: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], Any]]:
    yield location, spec
    for key, child in spec.get("properties", {}).items():
        yield from schema_nodes(child, (*location, key))
    if "items" in spec:
        yield from schema_nodes(spec["items"], (*location, "[]"))


NODES = list(schema_nodes(SCHEMA))


def placed(location: tuple[str, ...], value: Any) -> Any:
    """A valid input with `value` at `location`."""
    if not location:
        return value
    parent = location[:-1]
    # CapacityIncrease takes exactly one member: the bad one replaces the valid one.
    if location[-1] == "[]":
        return placed(parent, [value])
    valid = {} if parent == ("CapacityIncrease",) else VALID_OBJECTS[parent]
    return placed(parent, {**valid, location[-1]: value})


def path_text(location: tuple[str, ...]) -> str:
    return ".".join(location).replace(".[]", "[0]")


def violations(location: tuple[str, ...], spec: dict[str, Any]) -> Iterator[tuple[str, Any]]:
    """(keyword, a value that breaks it) for each limit of one node."""
    kind = spec.get("type")
    wrong_type = {"string": 1, "integer": 1.5, "number": "1", "boolean": "true", "array": {}, "object": []}
    if kind in wrong_type and location:
        yield "type", wrong_type[kind]
    if kind in ("integer", "number") and location:
        yield "type (a boolean)", True
    if "minimum" in spec:
        yield "minimum", spec["minimum"] - 1
    if "maximum" in spec:
        yield "maximum", spec["maximum"] + 1
    if "maxLength" in spec:
        yield "maxLength", "a" * (spec["maxLength"] + 1)
    if spec.get("minLength", 0) > 0:
        yield "minLength", ""
    if "pattern" in spec:
        yield "pattern", "a_b"
    if "enum" in spec:
        yield "enum", "not-one-of-them"
    item = VALID_OBJECTS.get((*location, "[]"), {})
    if "maxItems" in spec:
        yield "maxItems", [{**item, "VariantName": f"V{i}"} if item else {} for i in range(spec["maxItems"] + 1)]
    if spec.get("minItems", 0) > 0:
        yield "minItems", []
    if kind == "object" and location in VALID_OBJECTS:
        valid = VALID_OBJECTS[location]
        if spec.get("additionalProperties") is False:
            yield "additionalProperties", {**valid, "Bogus": 1}
        for key in spec.get("required", []):
            if location:
                yield f"required {key}", {k: v for k, v in valid.items() if k != key}
        if "maxProperties" in spec:
            yield "maxProperties", {name: 1 for name in list(spec["properties"])[: spec["maxProperties"] + 1]}
        if spec.get("minProperties", 0) > len(spec.get("required", [])):
            yield "minProperties", {k: v for k, v in valid.items() if k in spec.get("required", [])}
    if "oneOf" in spec and location in VALID_OBJECTS:
        yield "oneOf (none)", {}
        yield "oneOf (two)", {key: 1 for alternative in spec["oneOf"] for key in alternative.get("required", [])}


CASES = [(location, keyword, value) for location, spec in NODES for keyword, value in violations(location, spec)]


def test_the_schema_uses_only_keywords_the_validation_enforces() -> None:
    # Given every keyword of every node of the schema / Then each is enforced or is an annotation
    used = {key for _, spec in NODES for key in spec if key not in ("properties", "items")} - {"x-maxBytes"}
    used |= {key for _, spec in NODES for alternative in spec.get("oneOf", []) for key in alternative}
    assert used <= shapes.SCHEMA_KEYWORDS | shapes.ANNOTATIONS, used - shapes.SCHEMA_KEYWORDS - shapes.ANNOTATIONS
    assert set(SCHEMA) - {"properties"} <= shapes.SCHEMA_KEYWORDS | shapes.ANNOTATIONS | shapes.EXTENSIONS


def test_every_string_has_a_length_limit_every_whole_number_a_cap_every_list_a_size() -> None:
    for location, spec in NODES:
        where = path_text(location)
        if spec.get("type") == "string":
            bounded_pattern = "pattern" in spec and not any(mark in spec["pattern"] for mark in ("*", "+", ",}"))
            assert "maxLength" in spec or "enum" in spec or bounded_pattern, where
        if spec.get("type") == "integer":
            assert "minimum" in spec and "maximum" in spec, where
        if spec.get("type") == "array":
            assert "maxItems" in spec, where
        if spec.get("type") == "object" and location not in VALID_OBJECTS:
            assert location[:1] == ("VariantChanges",), f"{where}: give a valid value in VALID_OBJECTS"


def test_the_cases_are_derived_from_every_limit() -> None:
    assert len(CASES) > 60
    assert {keyword.split()[0] for _, keyword, _ in CASES} >= {
        "type", "minimum", "maximum", "maxLength", "minLength", "pattern", "maxItems", "minItems",
        "additionalProperties", "required", "minProperties", "oneOf"}


@pytest.mark.parametrize(("location", "keyword", "value"), CASES,
                         ids=[f"{path_text(location) or 'input'}-{keyword}" for location, keyword, _ in CASES])
def test_every_limit_of_the_schema_is_enforced(location: tuple[str, ...], keyword: str, value: Any) -> None:
    # Given a valid input with one value that breaks one limit of the schema
    raw = placed(location, value)
    assert list(VALIDATOR.iter_errors(raw)), "the schema accepts it: the case is wrong"
    # When the workflow's validation reads it / Then it refuses it, naming the field
    with pytest.raises(InvalidInput) as refused:
        parse(raw)
    named = path_text(location) if not keyword.startswith(("required", "additional")) else ""
    assert named in str(refused.value)


def test_the_whole_input_has_a_size_limit() -> None:
    layouts = [{"AcceleratorPartitionTypes": ["mig-1g.10gb+abcdefghijklmnopqrst"] * 32}] * 20
    raw = placed(("VariantChanges", "[]"), {"VariantName": "AllTraffic", "AcceleratorPartitionLayouts": layouts})
    assert request_module.size_in_bytes(raw) > SCHEMA["x-maxBytes"] == request_module.MAX_BYTES
    with pytest.raises(InvalidInput, match=r"the input: \d+ bytes of JSON; give at most 16384 bytes"):
        parse(raw)
    parse(placed(("VariantChanges", "[]"), {"VariantName": "AllTraffic", "AcceleratorPartitionLayouts": layouts[:5]}))
