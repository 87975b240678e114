"""The workflow's input: parsed and validated once, at the edge, before anything changes.

Every problem is reported at once, each naming its field and what is allowed.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from typing import Any

from updater.errors import InvalidInput

ENDPOINT_NAME = re.compile(r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$")
FIELDS = ("EndpointName", "VariantChanges", "CapacityIncrease", "DeploymentConfig", "InitialPollDelaySeconds",
          "PollIntervalSeconds", "TimeoutSeconds")
# Chosen with `make bench` (bench/polling.py) against boto3's 30-second waiter over updates of 3 to 60
# minutes: on average fewer polls and an earlier notice (README, "Polling policy"). The first delay is the
# shortest simulated update; an update that ends or fails sooner is noticed only then.
DEFAULT_INITIAL_POLL_DELAY_SECONDS = 180
INITIAL_POLL_DELAY_RANGE = (0, 3600)
DEFAULT_POLL_INTERVAL_SECONDS = 28
POLL_INTERVAL_RANGE = (1, 3600)
DEFAULT_TIMEOUT_SECONDS = 4 * 3600
TIMEOUT_RANGE = (1, 24 * 3600)
CAPACITY_ADD_RANGE = (1, 1000)
CAPACITY_PERCENT_RANGE = (1, 1000)


@dataclass(frozen=True)
class Request:
    EndpointName: str
    VariantChanges: list[dict[str, Any]] = field(default_factory=list)
    CapacityIncrease: dict[str, int] | None = None
    DeploymentConfig: dict[str, Any] | None = None
    InitialPollDelaySeconds: int = DEFAULT_INITIAL_POLL_DELAY_SECONDS
    PollIntervalSeconds: int = DEFAULT_POLL_INTERVAL_SECONDS
    TimeoutSeconds: int = DEFAULT_TIMEOUT_SECONDS

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


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

    changes = raw.get("VariantChanges", [])
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

    deployment = raw.get("DeploymentConfig")
    if deployment is not None and not isinstance(deployment, dict):
        problems.append("DeploymentConfig: must be an object as UpdateEndpoint's DeploymentConfig defines it")

    poll = raw.get("PollIntervalSeconds", DEFAULT_POLL_INTERVAL_SECONDS)
    poll_problems = len(problems)
    _int_in_range(problems, "PollIntervalSeconds", poll, POLL_INTERVAL_RANGE)
    # An input that sets only the interval keeps the timing it had before the initial delay existed: one
    # interval before the first poll.
    inherits = "PollIntervalSeconds" in raw and len(problems) == poll_problems
    first_poll: Any = raw.get("InitialPollDelaySeconds", poll if inherits else DEFAULT_INITIAL_POLL_DELAY_SECONDS)
    _int_in_range(problems, "InitialPollDelaySeconds", first_poll, INITIAL_POLL_DELAY_RANGE)
    timeout = raw.get("TimeoutSeconds", DEFAULT_TIMEOUT_SECONDS)
    _int_in_range(problems, "TimeoutSeconds", timeout, TIMEOUT_RANGE)

    if problems or not isinstance(name, str):
        raise InvalidInput("invalid input: " + "; ".join(problems))
    return Request(EndpointName=name, VariantChanges=changes, CapacityIncrease=increase,
                   DeploymentConfig=deployment, InitialPollDelaySeconds=first_poll, PollIntervalSeconds=poll,
                   TimeoutSeconds=timeout)
