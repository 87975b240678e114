"""The workflow's input: parsed and validated once, at the edge, before anything changes.

The fields, their ranges, defaults and descriptions come from the published JSON Schema
(statemachine/input.schema.json, shipped beside this module as input.schema.json because the function's
code is this package). The Lambda package carries no JSON Schema library, and a library's messages do not say
what to do: `shapes.check` enforces the keywords the schema uses (a test holds the schema to them), the checks
below word the common mistakes, and each ProductionVariant field and the DeploymentConfig are also checked
against the SDK's API shapes (valid values such as the instance types, ranges, lengths). The command line runs
this same function before it starts anything.

Every problem is reported at once, each naming its field and what is allowed.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from endpoint_updater.core import deployment_config, history, shapes
from endpoint_updater.core.errors import InvalidInput

SCHEMA_PATH = Path(__file__).with_name("input.schema.json")
SCHEMA: dict[str, Any] = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
PROPERTIES: dict[str, dict[str, Any]] = SCHEMA["properties"]
FIELDS = tuple(PROPERTIES)
ENDPOINT_NAME = re.compile(PROPERTIES["EndpointName"]["pattern"])
ENDPOINT_NAME_MAX: int = PROPERTIES["EndpointName"]["maxLength"]
MAX_BYTES: int = SCHEMA["x-maxBytes"]
VARIANT_PROPERTIES: dict[str, dict[str, Any]] = PROPERTIES["VariantChanges"]["items"]["properties"]
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
COMPLETIONS: tuple[str, ...] = tuple(PROPERTIES["Completion"]["enum"])
DEFAULT_COMPLETION: str = PROPERTIES["Completion"]["default"]
DEFAULT_SAFETY_INTERVAL_SECONDS: int = PROPERTIES["SafetyIntervalSeconds"]["default"]
SAFETY_INTERVAL_RANGE = _range(PROPERTIES["SafetyIntervalSeconds"])
CAPACITY_ADD_RANGE = _range(PROPERTIES["CapacityIncrease"]["properties"]["Add"])
CAPACITY_PERCENT_RANGE = _range(PROPERTIES["CapacityIncrease"]["properties"]["Percent"])
CAPACITY_FIELDS = tuple(PROPERTIES["CapacityIncrease"]["properties"])


@dataclass(frozen=True)
class Request:
    EndpointName: str
    VariantChanges: list[dict[str, Any]] = field(default_factory=list)
    CapacityIncrease: dict[str, Any] | None = None
    DeploymentConfig: dict[str, Any] | None = None
    InitialPollDelaySeconds: int = DEFAULT_INITIAL_POLL_DELAY_SECONDS
    PollIntervalSeconds: int = DEFAULT_POLL_INTERVAL_SECONDS
    TimeoutSeconds: int = DEFAULT_TIMEOUT_SECONDS
    Completion: str = DEFAULT_COMPLETION
    SafetyIntervalSeconds: int = DEFAULT_SAFETY_INTERVAL_SECONDS
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
    return shapes.is_integer(value)


def size_in_bytes(raw: Any) -> int:
    """The input's size as Step Functions counts it: its JSON text in UTF-8 (compact, as the command line sends it)."""
    return len(json.dumps(raw, separators=(",", ":"), ensure_ascii=False, default=str).encode("utf-8"))


def _check_size(problems: list[str], raw: dict[str, Any]) -> None:
    size = size_in_bytes(raw)
    if size > MAX_BYTES:
        largest = max(raw, key=lambda key: size_in_bytes(raw[key]), default=None)
        problems.append(f"the input: {size} bytes of JSON; give at most {MAX_BYTES} bytes"
                        + (f" (its largest field is {shapes.shown(largest)}, {size_in_bytes(raw[largest])} bytes)"
                           if largest is not None else ""))


def _check_variant_field(problems: list[str], where: str, key: str, value: Any) -> None:
    """One field of a variant change: the schema's limits, then the API shape's (valid values, nested objects)."""
    found: list[str] = []
    if key in VARIANT_PROPERTIES:
        shapes.check(value, VARIANT_PROPERTIES[key], f"{where}.{key}", found)
    members = shapes.sagemaker_model().shape_for("ProductionVariant").members
    if not found and key in members:
        shapes.check_shape(value, members[key], f"{where}.{key}", found)
    problems.extend(found)


def _path(problem: str) -> str:
    return problem.split(": ", 1)[0]




def _int_in_range(problems: list[str], name: str, value: Any, bounds: tuple[int, int]) -> None:
    low, high = bounds
    if not _is_int(value) or not low <= value <= high:
        problems.append(f"{name}: {shapes.shown(value)} is not allowed; give a whole number from {low} to {high}")


def parse_request(raw: Any, variant_fields: frozenset[str]) -> Request:
    """Check the request's own shape. `variant_fields` are the ProductionVariant fields AWS accepts."""
    if not isinstance(raw, dict):
        raise InvalidInput(f"the input must be a JSON object with the fields {', '.join(FIELDS)}")
    problems: list[str] = []
    _check_size(problems, raw)
    for key in sorted(set(raw) - set(FIELDS)):
        problems.append(f"{key}: unknown field; allowed fields: {', '.join(FIELDS)}")

    name = raw.get("EndpointName")
    if name is None:
        problems.append("EndpointName: required; the name of an existing endpoint")
    elif (not isinstance(name, str) or len(name) > ENDPOINT_NAME_MAX
          or not shapes.matches(PROPERTIES["EndpointName"]["pattern"], name)):
        problems.append(f"EndpointName: {shapes.shown(name)} is not an endpoint name (at most {ENDPOINT_NAME_MAX} "
                        "letters, digits and hyphens, starting and ending with a letter or digit)")

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
        for key in sorted(set(change) & variant_fields):
            _check_variant_field(problems, where, key, change[key])

    increase = raw.get("CapacityIncrease")
    if increase is not None:
        amounts = set(increase) & {"Add", "Percent"} if isinstance(increase, dict) else set()
        if not isinstance(increase, dict) or len(amounts) != 1 or not set(increase) <= set(CAPACITY_FIELDS):
            problems.append("CapacityIncrease: give exactly one of Add (instances to add) or Percent "
                            "(percent to add), e.g. {\"Add\": 1} or {\"Percent\": 50}, and optionally "
                            "AboveMaxCapacity (true or false)")
        else:
            if "Add" in increase:
                _int_in_range(problems, "CapacityIncrease.Add", increase["Add"], CAPACITY_ADD_RANGE)
            else:
                _int_in_range(problems, "CapacityIncrease.Percent", increase["Percent"], CAPACITY_PERCENT_RANGE)
            above = increase.get("AboveMaxCapacity", False)
            if not isinstance(above, bool):
                problems.append(f"CapacityIncrease.AboveMaxCapacity: {above!r} is not allowed; give true (raise "
                                "above the scalable target's MaxCapacity) or false (the default: stop at it)")

    package = raw.get("ModelPackage")
    if package is not None:
        package_spec = PROPERTIES["ModelPackage"]
        arn_pattern = shapes.compiled(package_spec["properties"]["ModelPackageArn"]["pattern"])
        if not isinstance(package, dict) or set(package) != set(package_spec["required"]):
            problems.append("ModelPackage: give exactly ModelPackageArn (an approved, versioned model package) and "
                            "VariantName (the variant that gets its model)")
        else:
            if not isinstance(package["ModelPackageArn"], str) or not arn_pattern.search(package["ModelPackageArn"]):
                problems.append(f"ModelPackage.ModelPackageArn: {shapes.shown(package['ModelPackageArn'])} is not a "
                                "versioned "
                                "model package ARN (arn:aws:sagemaker:<region>:<account>:model-package/<group>/<n>)")
            if not isinstance(package["VariantName"], str) or not package["VariantName"]:
                problems.append("ModelPackage.VariantName: required; the name of one of the endpoint's variants")
            elif any(isinstance(c, dict) and c.get("VariantName") == package["VariantName"] and "ModelName" in c
                     for c in changes):
                problems.append(f"ModelPackage.VariantName: {package['VariantName']!r} also gets a ModelName in "
                                "VariantChanges; give the model one way")

    deployment = raw.get("DeploymentConfig")
    if deployment is not None:
        problems.extend(deployment_config.check(deployment))

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

    completion = raw.get("Completion", DEFAULT_COMPLETION)
    if completion not in COMPLETIONS:
        problems.append(f"Completion: {shapes.shown(completion)} is not allowed; give events (SageMaker's endpoint "
                        "events end each wait, with a poll every SafetyIntervalSeconds as the safety net) or polling "
                        "(a poll every PollIntervalSeconds)")
    else:
        _check_history(problems, numbers, completion)

    dry_run = raw.get("DryRun", PROPERTIES["DryRun"]["default"])
    if not isinstance(dry_run, bool):
        problems.append(f"DryRun: {shapes.shown(dry_run)} is not allowed; give true (plan only, change nothing) "
                        "or false")

    # Whatever limit of the schema the checks above do not word, in the schema's own terms.
    reported = {_path(problem) for problem in problems}
    generic: list[str] = []
    shapes.check(raw, SCHEMA, "", generic)
    # Anywhere else (an unknown field's value, say): not JSON, whatever the field.
    generic.extend(f"{where}: NaN or Infinity is not a JSON number; give a finite number"
                   for where in shapes.non_finite(raw))
    # A field the checks above already named is not named twice; any other problem is added, so that a member
    # added to the schema is checked even where a check above words its parent's problem.
    problems.extend(problem for problem in generic if _path(problem) not in reported)

    requester = raw.get("Requester")
    _check_requester(problems, requester)

    if problems or not isinstance(name, str):
        raise InvalidInput("invalid input: " + "; ".join(problems))
    return Request(EndpointName=name, VariantChanges=changes, CapacityIncrease=increase,
                   DeploymentConfig=deployment, DryRun=dry_run, ModelPackage=package, Requester=requester,
                   Completion=completion, **numbers)


def _check_history(problems: list[str], numbers: dict[str, Any], completion: str) -> None:
    """Refuse a TimeoutSeconds and interval whose wait could outgrow the execution's history (core/history.py),
    once each field is valid on its own."""
    field = history.INTERVAL_FIELD[completion]
    timeout, interval = numbers.get("TimeoutSeconds"), numbers.get(field)
    if not (isinstance(timeout, int) and isinstance(interval, int) and _is_int(timeout) and _is_int(interval)):
        return
    low, high = TIMEOUT_RANGE
    interval_range = _range(PROPERTIES[field])
    if not (low <= timeout <= high and interval_range[0] <= interval <= interval_range[1]):
        return
    found = history.problem(timeout, interval, completion, interval_range, TIMEOUT_RANGE)
    if found:
        problems.append(found)


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
