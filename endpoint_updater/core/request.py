"""The workflow's input: parsed and validated once, at the edge, before anything changes.

The fields, their ranges, defaults and descriptions come from the published JSON Schema
(statemachine/input.schema.json, shipped beside this module as input.schema.json because the function's
code is this package). The Lambda package cannot carry a JSON Schema validator, and a validator's messages
do not say what to do, so the checks are written here and a test holds them to the schema.

Every problem is reported at once, each naming its field and what is allowed.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from endpoint_updater.core.errors import InvalidInput

SCHEMA_PATH = Path(__file__).with_name("input.schema.json")
SCHEMA: dict[str, Any] = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
PROPERTIES: dict[str, dict[str, Any]] = SCHEMA["properties"]
FIELDS = tuple(PROPERTIES)
ENDPOINT_NAME = re.compile(PROPERTIES["EndpointName"]["pattern"])
# Whole-number fields with a range; CapacityIncrease's members are checked with their parent.
INTEGER_FIELDS = tuple(name for name, spec in PROPERTIES.items() if spec.get("type") == "integer")


def _range(spec: dict[str, Any]) -> tuple[int, int]:
    return int(spec["minimum"]), int(spec["maximum"])


# The polling defaults were chosen with `make bench` (bench/polling.py) against boto3's 30-second waiter over
# updates of 3 to 60 minutes: on average fewer polls and an earlier notice (docs/benchmarks.md, "Polling policy"). The
# first delay is the shortest simulated update; an update that ends or fails sooner is noticed only then.
DEFAULT_INITIAL_POLL_DELAY_SECONDS: int = PROPERTIES["InitialPollDelaySeconds"]["default"]
DEFAULT_POLL_INTERVAL_SECONDS: int = PROPERTIES["PollIntervalSeconds"]["default"]
POLL_INTERVAL_RANGE = _range(PROPERTIES["PollIntervalSeconds"])
DEFAULT_TIMEOUT_SECONDS: int = PROPERTIES["TimeoutSeconds"]["default"]
TIMEOUT_RANGE = _range(PROPERTIES["TimeoutSeconds"])
CAPACITY_ADD_RANGE = _range(PROPERTIES["CapacityIncrease"]["properties"]["Add"])
CAPACITY_PERCENT_RANGE = _range(PROPERTIES["CapacityIncrease"]["properties"]["Percent"])


@dataclass(frozen=True)
class Request:
    EndpointName: str
    VariantChanges: list[dict[str, Any]] = field(default_factory=list)
    CapacityIncrease: dict[str, int] | None = None
    DeploymentConfig: dict[str, Any] | None = None
    InitialPollDelaySeconds: int = DEFAULT_INITIAL_POLL_DELAY_SECONDS
    PollIntervalSeconds: int = DEFAULT_POLL_INTERVAL_SECONDS
    TimeoutSeconds: int = DEFAULT_TIMEOUT_SECONDS
    DryRun: bool = False
    ModelPackage: dict[str, str] | None = None
    Requester: dict[str, str] | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def describe(name: str) -> str:
    """The field's description in the schema, for messages and help texts."""
    return str(PROPERTIES[name].get("description", ""))


def endpoint_named_in(raw_input: Any) -> str | None:
    """The EndpointName of an execution's input (its JSON text, or parsed), or None when it names none. For
    the functions that see executions end: an input refused at validation may be anything."""
    try:
        parsed = json.loads(raw_input) if isinstance(raw_input, str) else raw_input
    except ValueError:
        return None
    name = parsed.get("EndpointName") if isinstance(parsed, dict) else None
    return name if isinstance(name, str) and name else None


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _int_in_range(problems: list[str], name: str, value: Any, bounds: tuple[int, int]) -> None:
    low, high = bounds
    if not _is_int(value) or not low <= value <= high:
        problems.append(f"{name}: {value!r} is not allowed; give a whole number from {low} to {high}")


def parse_request(raw: Any, variant_fields: frozenset[str]) -> Request:
    """Check the request's own shape. `variant_fields` are the ProductionVariant fields AWS accepts."""
    if not isinstance(raw, dict):
        raise InvalidInput(f"the input must be a JSON object with the fields {', '.join(FIELDS)}")
    problems: list[str] = []
    unknown = sorted(set(raw) - set(FIELDS))
    if unknown:
        problems.append(f"{', '.join(unknown)}: unknown field; allowed fields: {', '.join(FIELDS)}")

    name = raw.get("EndpointName")
    if name is None:
        problems.append("EndpointName: required; the name of an existing endpoint")
    elif not isinstance(name, str) or not ENDPOINT_NAME.match(name):
        problems.append(f"EndpointName: {name!r} is not an endpoint name "
                        "(at most 63 letters, digits and hyphens, starting with a letter or digit)")

    changes = raw.get("VariantChanges", PROPERTIES["VariantChanges"]["default"])
    if not isinstance(changes, list):
        problems.append("VariantChanges: must be a list of objects, each with a VariantName")
        changes = []
    seen: set[str] = set()
    changeable = sorted(variant_fields - {"VariantName"})
    for index, change in enumerate(changes):
        where = f"VariantChanges[{index}]"
        if not isinstance(change, dict):
            problems.append(f"{where}: must be an object with a VariantName and the ProductionVariant fields to change")
            continue
        variant = change.get("VariantName")
        if not isinstance(variant, str) or not variant:
            problems.append(f"{where}.VariantName: required; the name of one of the endpoint's variants")
        elif variant in seen:
            problems.append(f"{where}.VariantName: {variant!r} is named twice; give one change per variant")
        else:
            seen.add(variant)
        for key in sorted(set(change) - variant_fields):
            problems.append(f"{where}.{key}: unknown field; allowed: {', '.join(changeable)}")
        if set(change) <= {"VariantName"}:
            problems.append(f"{where}: names no field to change; allowed: {', '.join(changeable)}")

    increase = raw.get("CapacityIncrease")
    if increase is not None:
        if not isinstance(increase, dict) or len(increase) != 1 or not set(increase) <= {"Add", "Percent"}:
            problems.append("CapacityIncrease: give exactly one of Add (instances to add) or Percent "
                            "(percent to add), e.g. {\"Add\": 1} or {\"Percent\": 50}")
        elif "Add" in increase:
            _int_in_range(problems, "CapacityIncrease.Add", increase["Add"], CAPACITY_ADD_RANGE)
        else:
            _int_in_range(problems, "CapacityIncrease.Percent", increase["Percent"], CAPACITY_PERCENT_RANGE)

    package = raw.get("ModelPackage")
    if package is not None:
        package_spec = PROPERTIES["ModelPackage"]
        arn_pattern = re.compile(package_spec["properties"]["ModelPackageArn"]["pattern"])
        if not isinstance(package, dict) or set(package) != set(package_spec["required"]):
            problems.append("ModelPackage: give exactly ModelPackageArn (an approved, versioned model package) and "
                            "VariantName (the variant that gets its model)")
        else:
            if not isinstance(package["ModelPackageArn"], str) or not arn_pattern.match(package["ModelPackageArn"]):
                problems.append(f"ModelPackage.ModelPackageArn: {package['ModelPackageArn']!r} is not a versioned "
                                "model package ARN (arn:aws:sagemaker:<region>:<account>:model-package/<group>/<n>)")
            if not isinstance(package["VariantName"], str) or not package["VariantName"]:
                problems.append("ModelPackage.VariantName: required; the name of one of the endpoint's variants")
            elif any(isinstance(c, dict) and c.get("VariantName") == package["VariantName"] and "ModelName" in c
                     for c in changes):
                problems.append(f"ModelPackage.VariantName: {package['VariantName']!r} also gets a ModelName in "
                                "VariantChanges; give the model one way")

    deployment = raw.get("DeploymentConfig")
    if deployment is not None and not isinstance(deployment, dict):
        problems.append("DeploymentConfig: must be an object as UpdateEndpoint's DeploymentConfig defines it")

    numbers: dict[str, Any] = {}
    for key in INTEGER_FIELDS:
        if key == "InitialPollDelaySeconds" and key not in raw:
            continue
        numbers[key] = raw.get(key, PROPERTIES[key].get("default"))
        if numbers[key] is not None:
            _int_in_range(problems, key, numbers[key], _range(PROPERTIES[key]))
    if "InitialPollDelaySeconds" not in raw:
        # An input that sets only the interval keeps the timing it had before the initial delay existed: one
        # interval before the first poll.
        given = raw.get("PollIntervalSeconds")
        low, high = POLL_INTERVAL_RANGE
        numbers["InitialPollDelaySeconds"] = (
            given if isinstance(given, int) and _is_int(given) and low <= given <= high
            else DEFAULT_INITIAL_POLL_DELAY_SECONDS)

    dry_run = raw.get("DryRun", PROPERTIES["DryRun"]["default"])
    if not isinstance(dry_run, bool):
        problems.append(f"DryRun: {dry_run!r} is not allowed; give true (plan only, change nothing) or false")

    requester = raw.get("Requester")
    _check_requester(problems, requester)

    if problems or not isinstance(name, str):
        raise InvalidInput("invalid input: " + "; ".join(problems))
    return Request(EndpointName=name, VariantChanges=changes, CapacityIncrease=increase,
                   DeploymentConfig=deployment, DryRun=dry_run, ModelPackage=package, Requester=requester,
                   **numbers)


def _check_requester(problems: list[str], requester: Any) -> None:
    """Requester's shape, from the schema: an object of short strings, Account an account id."""
    if requester is None:
        return
    spec = PROPERTIES["Requester"]["properties"]
    if not isinstance(requester, dict):
        problems.append(f"Requester: must be an object with {', '.join(spec)} (all optional)")
        return
    for key in sorted(set(requester) - set(spec)):
        problems.append(f"Requester.{key}: unknown field; allowed: {', '.join(spec)}")
    for key, value in requester.items():
        if key not in spec:
            continue
        low, high = spec[key].get("minLength", 1), spec[key].get("maxLength", 256)
        pattern = spec[key].get("pattern")
        if not isinstance(value, str) or not low <= len(value) <= high or (pattern and not re.match(pattern, value)):
            problems.append(f"Requester.{key}: {value!r} is not allowed; {spec[key]['description']}"
                            + (f" ({low} to {high} characters)" if not pattern else " (12 digits)"))
