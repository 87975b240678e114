"""Fleet rollouts: one change applied to many endpoints, in waves, each endpoint as an update execution.

The rollout state machine (statemachine/rollout.asl.json) does the fan-out: a Map state per wave, each item an
execution of the update state machine (`states:startExecution.sync:2`), so every endpoint keeps its lock,
snapshot, restore, recovery and notification exactly as one update has them. This module is what its three
functions do, and what the command line calls before it starts anything:

- `parse_rollout`: the input checked once, every problem named with its field and what is allowed;
- `plan`: the targets resolved (an explicit list, a name pattern, tags), each endpoint planned as the update's
  first step would plan it (core/plan.py: a refusal is listed, not started), endpoints that already run the
  change skipped, the waves made, the failure budget computed. With `DryRun` the rollout ends there;
- `may_start`: before each update, whether the failure budget is spent (inside a wave too);
- `tally`: after each wave, the outcomes recorded, and whether the rollout goes on.

The execution's state carries `Rollout` (the settings), `Report` (the output: per endpoint, per wave, the
totals and why the rollout stopped), `Wave` (the next wave's items) and `Next` ("Wave", "Bake" or "Done").
"""

from __future__ import annotations

import fnmatch
import hashlib
import json
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError

from endpoint_updater import names
from endpoint_updater.core import endpoint_config, shapes, store
from endpoint_updater.core import plan as update_plan
from endpoint_updater.core import request as update_request
from endpoint_updater.core.aws import client, error_code, paginate
from endpoint_updater.core.errors import (
    EndpointUpdateInProgress,
    InvalidInput,
    RolloutTargetsNotFound,
    ScalingRestorePending,
    cause_message,
)
from endpoint_updater.core.observability import logger

SCHEMA_PATH = Path(__file__).with_name("rollout.input.schema.json")
SCHEMA: dict[str, Any] = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
PROPERTIES: dict[str, dict[str, Any]] = SCHEMA["properties"]
FIELDS = tuple(PROPERTIES)
WAVE_PROPERTIES: dict[str, dict[str, Any]] = PROPERTIES["Waves"]["properties"]
MAX_TARGETS: int = SCHEMA["x-maxTargets"]
MAX_BYTES: int = SCHEMA["x-maxBytes"]
# The update's input fields a rollout's Change may hold: all but those naming one endpoint or one run.
NOT_IN_CHANGE = frozenset({"EndpointName", "DryRun", "ModelPackage", "Requester"})
CHANGE_FIELDS = tuple(f for f in update_request.FIELDS if f not in NOT_IN_CHANGE)
DEFAULT_BATCH_SIZE = 10

# The rollout state machine's own TimeoutSeconds (statemachine/rollout.asl.json): a plan whose waves could not
# finish within it is refused, so that no rollout is cut off by it half way.
ROLLOUT_TIMEOUT_SECONDS = 604800
# What a wave takes on top of its updates' own TimeoutSeconds (starting, gating, tallying).
WAVE_OVERHEAD_SECONDS = 600

# Outcomes, per endpoint.
PENDING = "PENDING"
"""Planned, its wave has not run yet."""
PLANNED = "PLANNED"
"""DryRun: would be updated."""
SUCCEEDED = "SUCCEEDED"
FAILED = "FAILED"
TIMED_OUT = "TIMED_OUT"
ABORTED = "ABORTED"
REFUSED = "REFUSED"
"""The update's own first step would refuse it (its preflight, core/plan.py): not started."""
SKIPPED = "SKIPPED"
"""It already runs the requested change: not started."""
NOT_STARTED = "NOT_STARTED"
"""The rollout stopped before its update started (the failure budget was spent, or the canary failed)."""
FAILURES = frozenset({FAILED, TIMED_OUT, ABORTED})
CHILD_FAILED_STATUSES = frozenset({"FAILED", "TIMED_OUT", "ABORTED"})

CANARY_FAILED = "CanaryFailed"
BUDGET_SPENT = "FailureBudgetSpent"

# Execution names: at most 80 characters of 0-9A-Za-z-_ (StartExecution API reference, `name`).
EXECUTION_NAME_MAX = 80
_NOT_NAME = re.compile(r"[^0-9A-Za-z_-]")
MAX_ATTEMPTS = 20
CAUSE_MAX = 200


@dataclass(frozen=True)
class RolloutRequest:
    Change: dict[str, Any]
    Endpoints: list[str] = field(default_factory=list)
    Targets: dict[str, Any] | None = None
    CanarySize: int = 1
    BatchSize: int | None = None
    BatchPercent: int | None = None
    MaxConcurrency: int = 10
    BakeSeconds: int = 0
    ToleratedFailureCount: int | None = None
    ToleratedFailurePercentage: int | None = None
    RolloutName: str | None = None
    DryRun: bool = False
    UpdateTimeoutSeconds: int = update_request.DEFAULT_TIMEOUT_SECONDS
    """The Change's TimeoutSeconds, with its default: how long one wave may take."""


# -- the input ------------------------------------------------------------------------------------------------


def _whole(problems: list[str], where: str, value: Any, spec: dict[str, Any]) -> None:
    low, high = spec["minimum"], spec["maximum"]
    if not shapes.is_integer(value) or not low <= value <= high:
        problems.append(f"{where}: {shapes.shown(value)} is not allowed; give a whole number from {low} to {high}")


def _change_problems(change: Any) -> list[str]:
    """The Change, checked by the update's own parser (one update's rules, for each endpoint)."""
    if not isinstance(change, dict):
        return [f"Change: must be an object with the update's fields ({', '.join(CHANGE_FIELDS)})"]
    problems = [f"Change.{key}: not allowed in a rollout's Change; allowed: {', '.join(CHANGE_FIELDS)}"
                for key in sorted(set(change) - set(CHANGE_FIELDS))]
    if problems:
        return problems
    try:
        # Any valid name: the endpoint is not the point here, each target's is checked when it is resolved.
        update_request.parse_request({"EndpointName": "rollout-change", **change}, shapes.variant_fields())
    except InvalidInput as error:
        message = str(error).removeprefix("invalid input: ")
        problems.append(_prefixed("Change.", message))
    return problems


_FIELD_PATH = re.compile(r"^[A-Z][A-Za-z]*(\[\d+\])?(\.[A-Za-z]+(\[\d+\])?)*: ")


def _prefixed(prefix: str, message: str) -> str:
    """The update parser's problems ("Field: ...; Other.Field: ...") with each field path under `prefix`."""
    pieces = message.split("; ")
    return "; ".join(prefix + piece if _FIELD_PATH.match(piece) else piece for piece in pieces)


def parse_rollout(raw: Any) -> RolloutRequest:
    """Check a rollout's input; InvalidInput names every problem, its field and what is allowed. Nothing is read
    from AWS here but the SDK's model: the command line calls this before it starts anything."""
    if not isinstance(raw, dict):
        raise InvalidInput("invalid input: the rollout input must be a JSON object with the fields "
                           + ", ".join(FIELDS))
    problems: list[str] = []
    size = update_request.size_in_bytes(raw)
    if size > MAX_BYTES:
        problems.append(f"the input: {size} bytes of JSON; give at most {MAX_BYTES} bytes")
    problems += [f"{key}: unknown field; allowed fields: {', '.join(FIELDS)}" for key in sorted(set(raw) - set(FIELDS))]

    endpoints = raw.get("Endpoints")
    targets = raw.get("Targets")
    if endpoints is None and targets is None:
        problems.append("Endpoints or Targets: required; give Endpoints (a list of endpoint names) and/or Targets "
                        "(NamePattern, e.g. \"churn-*\", and/or Tags, e.g. {\"team\": \"churn\"})")
    if endpoints is not None:
        if not isinstance(endpoints, list) or not endpoints:
            problems.append("Endpoints: must be a non-empty list of endpoint names")
            endpoints = []
        else:
            seen: set[str] = set()
            pattern = PROPERTIES["Endpoints"]["items"]["pattern"]
            for index, name in enumerate(endpoints):
                if not isinstance(name, str) or len(name) > update_request.ENDPOINT_NAME_MAX or not shapes.matches(
                        pattern, name):
                    problems.append(f"Endpoints[{index}]: {shapes.shown(name)} is not an endpoint name (at most "
                                    f"{update_request.ENDPOINT_NAME_MAX} letters, digits and hyphens, starting and "
                                    "ending with a letter or digit)")
                elif name in seen:
                    problems.append(f"Endpoints[{index}]: {name!r} is named twice; name each endpoint once")
                else:
                    seen.add(name)
            if len(endpoints) > MAX_TARGETS:
                problems.append(f"Endpoints: {len(endpoints)} endpoints; a rollout updates at most {MAX_TARGETS}")
    else:
        endpoints = []
    if targets is not None:
        spec = PROPERTIES["Targets"]["properties"]
        if not isinstance(targets, dict) or not targets or not set(targets) <= set(spec):
            problems.append("Targets: give NamePattern (e.g. \"churn-*\") and/or Tags (e.g. {\"team\": \"churn\"}), "
                            "nothing else")
        else:
            found: list[str] = []
            shapes.check(targets, PROPERTIES["Targets"], "Targets", found)
            if "NamePattern" in targets and any(p.startswith("Targets.NamePattern") for p in found):
                found = [p for p in found if not p.startswith("Targets.NamePattern")] + [
                    f"Targets.NamePattern: {shapes.shown(targets['NamePattern'])} is not allowed; give letters, "
                    "digits, hyphens and the wildcards * (any run of characters) and ? (one character), "
                    "e.g. \"churn-*\""]
            problems += found

    change = raw.get("Change")
    if change is None:
        problems.append(f"Change: required; the update applied to each endpoint, with the update's fields "
                        f"({', '.join(CHANGE_FIELDS)}), e.g. {{\"VariantChanges\": [{{\"VariantName\": \"AllTraffic\", "
                        "\"ModelName\": \"churn-v8\"}]}")
    else:
        problems += _change_problems(change)

    waves = raw.get("Waves", {})
    settings: dict[str, Any] = {}
    if not isinstance(waves, dict):
        problems.append(f"Waves: must be an object with {', '.join(WAVE_PROPERTIES)} (all optional)")
        waves = {}
    for key in sorted(set(waves) - set(WAVE_PROPERTIES)):
        problems.append(f"Waves.{key}: unknown field; allowed: {', '.join(WAVE_PROPERTIES)}")
    if "BatchSize" in waves and "BatchPercent" in waves:
        problems.append("Waves: give BatchSize (endpoints per wave) or BatchPercent (percent of the endpoints per "
                        "wave), not both")
    for key, spec in WAVE_PROPERTIES.items():
        if key in waves:
            _whole(problems, f"Waves.{key}", waves[key], spec)
            settings[key] = waves[key]
        elif "default" in spec:
            settings[key] = spec["default"]

    if "ToleratedFailureCount" in raw and "ToleratedFailurePercentage" in raw:
        problems.append("ToleratedFailureCount, ToleratedFailurePercentage: give one of them, not both")
    for key in ("ToleratedFailureCount", "ToleratedFailurePercentage"):
        if key in raw:
            _whole(problems, key, raw[key], PROPERTIES[key])

    rollout_name = raw.get("RolloutName")
    if rollout_name is not None:
        spec = PROPERTIES["RolloutName"]
        if not isinstance(rollout_name, str) or not shapes.matches(spec["pattern"], rollout_name) or not (
                spec["minLength"] <= len(rollout_name) <= spec["maxLength"]):
            problems.append(f"RolloutName: {shapes.shown(rollout_name)} is not allowed; give 1 to {spec['maxLength']} "
                            "letters, digits, hyphens or underscores")

    dry_run = raw.get("DryRun", False)
    if not isinstance(dry_run, bool):
        problems.append(f"DryRun: {shapes.shown(dry_run)} is not allowed; give true (plan only, change nothing) "
                        "or false")

    if problems or not isinstance(change, dict):
        raise InvalidInput("invalid input: " + "; ".join(problems))
    timeout = change.get("TimeoutSeconds", update_request.DEFAULT_TIMEOUT_SECONDS)
    return RolloutRequest(
        Change=change, Endpoints=list(endpoints), Targets=targets, CanarySize=settings["CanarySize"],
        BatchSize=settings.get("BatchSize"), BatchPercent=settings.get("BatchPercent"),
        MaxConcurrency=settings["MaxConcurrency"], BakeSeconds=settings["BakeSeconds"],
        ToleratedFailureCount=raw.get("ToleratedFailureCount"),
        ToleratedFailurePercentage=raw.get("ToleratedFailurePercentage"), RolloutName=rollout_name, DryRun=dry_run,
        UpdateTimeoutSeconds=timeout)


# -- names ----------------------------------------------------------------------------------------------------


def rollout_name_of(execution_arn: str, given: str | None) -> str:
    return given or execution_arn.rsplit(":", 1)[-1]


def child_name(rollout: str, endpoint: str, attempt: int = 1) -> str:
    """The name of the update execution a rollout starts for an endpoint: `<rollout>-<endpoint>`, then `-r<n>` for
    the n-th attempt of a rollout run again. Cut to 80 characters with a hash of what was cut, so that it stays
    unique and the same on every run."""
    suffix = "" if attempt == 1 else f"-r{attempt}"
    full = _NOT_NAME.sub("-", f"{rollout}-{endpoint}")
    if len(full) + len(suffix) <= EXECUTION_NAME_MAX:
        return full + suffix
    digest = hashlib.sha256(f"{rollout}\n{endpoint}".encode()).hexdigest()[:8]
    keep = EXECUTION_NAME_MAX - len(suffix) - len(digest) - 1
    return f"{full[:keep]}-{digest}{suffix}"


# -- targets ---------------------------------------------------------------------------------------------------


# How IAM refuses a call the role does not allow (SageMaker answers AccessDeniedException).
ACCESS_DENIED = frozenset({"AccessDeniedException", "AccessDenied"})


def resolve_targets(request: RolloutRequest) -> list[str]:
    """The endpoints to update, in order: the explicit list, then the endpoints Targets matches (by name), each
    once. Targets is read now: ListEndpoints, then ListTags for the endpoints whose name matches."""
    ordered = list(request.Endpoints)
    if request.Targets:
        pattern = request.Targets.get("NamePattern")
        tags = request.Targets.get("Tags") or {}
        matched = []
        for summary in paginate("sagemaker", "list_endpoints", "Endpoints"):
            name = summary["EndpointName"]
            if pattern is not None and not fnmatch.fnmatchcase(name, pattern):
                continue
            if tags:
                try:
                    carried = {t["Key"]: t["Value"] for t in paginate(
                        "sagemaker", "list_tags", "Tags", ResourceArn=summary["EndpointArn"])}
                except ClientError as error:
                    if error_code(error) not in ACCESS_DENIED:
                        raise
                    # The plan's role reads tags only of the endpoints this deployment may update
                    # (endpointNamePattern): an endpoint outside it could not be updated either.
                    logger.info("endpoint outside this deployment's endpointNamePattern left out",
                                extra={"endpoint": name})
                    continue
                if any(carried.get(key) != value for key, value in tags.items()):
                    continue
            matched.append(name)
        ordered += [name for name in sorted(matched) if name not in set(request.Endpoints)]
    return ordered


# -- planning ----------------------------------------------------------------------------------------------------


def already_applied(current_config: dict[str, Any] | None, changes: list[dict[str, Any]]) -> bool:
    """The endpoint already runs the change: its current config has, for each changed variant, every requested
    field at the requested value (its model, instance type, count, serverless config...). A change of nothing
    but capacity, polling or deployment settings is never "already applied": those describe how to update."""
    if not current_config or not changes:
        return False
    current = endpoint_config.all_variants(current_config)
    for change in changes:
        variant = current.get(change["VariantName"])
        if variant is None:
            return False
        if any(variant.get(key) != value for key, value in change.items() if key != "VariantName"):
            return False
    return True


def _describe_child(arn: str) -> dict[str, Any] | None:
    try:
        described: dict[str, Any] = client("stepfunctions").describe_execution(executionArn=arn)
    except ClientError as error:
        if error_code(error) == "ExecutionDoesNotExist":
            return None
        raise
    return described


def _child_input(endpoint: str, change: dict[str, Any]) -> dict[str, Any]:
    return {"EndpointName": endpoint, **change}


def _record(endpoint: str) -> dict[str, Any]:
    """An endpoint's line of the output. ExecutionArn is its update's, planned (the name is deterministic), then
    started: the Outcome says which."""
    return {"EndpointName": endpoint, "Wave": None, "ExecutionArn": None, "Outcome": PENDING,
            "OldConfigName": None, "NewConfigName": None, "Error": None, "Cause": None}


def execution_name(record: dict[str, Any]) -> str:
    return str(record["ExecutionArn"]).rsplit(":", 1)[-1]


def _short(cause: str | None) -> str | None:
    if cause is None or len(cause) <= CAUSE_MAX:
        return cause
    return cause[: CAUSE_MAX - 3] + "..."


def _compact_plan(planned: dict[str, Any]) -> dict[str, Any]:
    """What a dry run shows per endpoint (the whole plan of 300 endpoints would not fit in the output)."""
    return {"CurrentConfigName": (planned.get("CurrentConfig") or {}).get("EndpointConfigName"),
            "NewConfigName": (planned.get("NewConfig") or {}).get("EndpointConfigName"),
            "Changes": planned.get("Changes") or [], "CapacityRaise": planned.get("CapacityRaise") or [],
            "DeploymentConfigSource": (planned.get("DeploymentConfigSource") or {}).get("Source"),
            "Refusal": planned.get("Refusal")}


def preflight(endpoint: str, request: RolloutRequest, rollout: str, update_state_machine_arn: str,
              start_time: str) -> dict[str, Any]:
    """One endpoint's record: its update execution's name, and PENDING, REFUSED or SKIPPED as the update's own
    first step would decide (core/plan.py), read-only. An update of this rollout still running for it is kept:
    starting it again with the same name and input gives it back (StartExecution is idempotent for a running
    execution), so it is waited for, not started twice."""
    record = _record(endpoint)
    child_input = _child_input(endpoint, request.Change)
    for attempt in range(1, MAX_ATTEMPTS + 1):
        name = child_name(rollout, endpoint, attempt)
        arn = names.execution_arn(update_state_machine_arn, name)
        described = _describe_child(arn)
        if described is None:
            break
        if described["status"] == names.RUNNING:
            record["ExecutionArn"] = arn
            if json.loads(described.get("input") or "{}") != child_input:
                record.update(Outcome=REFUSED, Error="EndpointUpdateInProgress",
                              Cause=f"execution {name} of this rollout runs another change on endpoint {endpoint}")
            return record
    else:
        record.update(Outcome=REFUSED, Error="RolloutAttemptsExhausted",
                      Cause=f"{MAX_ATTEMPTS} executions of this rollout already ran for endpoint {endpoint}; "
                            "give another RolloutName")
        return record
    parsed = update_request.parse_request(child_input, shapes.variant_fields())
    try:
        store.check_free(endpoint, arn)
    except (EndpointUpdateInProgress, ScalingRestorePending) as busy:
        record.update(Outcome=REFUSED, Error=type(busy).__name__, Cause=_short(str(busy)))
        return record
    planned = update_plan.dry_run(parsed, endpoint_config.new_config_name(endpoint, arn, start_time))
    record["OldConfigName"] = (planned.get("CurrentConfig") or {}).get("EndpointConfigName")
    record["ExecutionArn"] = arn
    if planned["Refusal"]:
        record.update(Outcome=REFUSED, Error=planned["Refusal"]["Error"], Cause=_short(planned["Refusal"]["Cause"]),
                      ExecutionArn=None)
    elif already_applied(planned["CurrentConfig"], parsed.VariantChanges):
        record.update(Outcome=SKIPPED, Cause="the endpoint already runs the requested change",
                      NewConfigName=record["OldConfigName"], ExecutionArn=None)
    if request.DryRun:
        record["Plan"] = _compact_plan(planned)
        if record["Outcome"] == PENDING:
            record["Outcome"] = PLANNED
    return record


def failure_budget(request: RolloutRequest, updated: int) -> int:
    """Failures tolerated: ToleratedFailureCount, or ToleratedFailurePercentage of the endpoints the rollout
    updates rounded down (the smaller budget where a fraction is left), or 0."""
    if request.ToleratedFailureCount is not None:
        return request.ToleratedFailureCount
    if request.ToleratedFailurePercentage is not None:
        return math.floor(updated * request.ToleratedFailurePercentage / 100)
    return 0


def make_waves(endpoints: list[str], request: RolloutRequest) -> list[list[str]]:
    """The canary wave (CanarySize endpoints), then batches of BatchSize, or BatchPercent of all rounded up."""
    canary = endpoints[: request.CanarySize]
    rest = endpoints[request.CanarySize:]
    if request.BatchSize is not None:
        size = request.BatchSize
    elif request.BatchPercent is not None:
        size = max(1, math.ceil(len(endpoints) * request.BatchPercent / 100))
    else:
        size = DEFAULT_BATCH_SIZE
    waves = [canary] if canary else []
    waves += [rest[start: start + size] for start in range(0, len(rest), size)]
    return waves


def resolve(raw_input: Any, execution_arn: str, start_time: str, update_state_machine_arn: str) -> dict[str, Any]:
    """The rollout's first step: the input checked, the targets resolved. Refuses with InvalidInput or
    RolloutTargetsNotFound before anything starts. Each target is then planned on its own (`preflight`, in a
    Map whose Retry absorbs throttling), and `make_plan` makes the waves."""
    request = parse_rollout(raw_input)
    targets = resolve_targets(request)
    if not targets:
        raise RolloutTargetsNotFound(f"Targets {json.dumps(request.Targets, sort_keys=True)} matches no endpoint; "
                                     "check NamePattern and Tags (ListEndpoints, ListTags)")
    if len(targets) > MAX_TARGETS:
        raise InvalidInput(f"invalid input: Endpoints and Targets: {len(targets)} endpoints; a rollout updates at "
                           f"most {MAX_TARGETS}: narrow Targets or split the rollout")
    return {
        "ExecutionId": execution_arn,
        "Request": raw_input,
        "Rollout": {"Name": rollout_name_of(execution_arn, request.RolloutName), "ExecutionArn": execution_arn,
                    "StartTime": start_time, "UpdateStateMachineArn": update_state_machine_arn,
                    "Change": request.Change, "DryRun": request.DryRun},
        "Targets": targets,
    }


def preflight_one(endpoint: str, rollout: dict[str, Any]) -> dict[str, Any]:
    """`preflight` as the Map calls it, with the rollout's settings from `resolve`."""
    request = RolloutRequest(Change=rollout["Change"], DryRun=rollout["DryRun"])
    return preflight(endpoint, request, rollout["Name"], rollout["UpdateStateMachineArn"], rollout["StartTime"])


def make_plan(state: dict[str, Any]) -> dict[str, Any]:
    """After every target's preflight (`Planned`, in target order): the waves, the failure budget, the report, and
    the first wave's items; or the end, for a dry run or when no endpoint is left to update."""
    request = parse_rollout(state["Request"])
    rollout, targets = state["Rollout"], state["Targets"]
    execution_arn = rollout["ExecutionArn"]
    records = [_cleaned(record) for record in state["Planned"]]
    to_update = [r["EndpointName"] for r in records if r["Outcome"] in (PENDING, PLANNED)]
    waves = make_waves(to_update, request)
    longest = len(waves) * (request.UpdateTimeoutSeconds + request.BakeSeconds + WAVE_OVERHEAD_SECONDS)
    if longest > ROLLOUT_TIMEOUT_SECONDS:
        raise InvalidInput(
            f"invalid input: Waves, Change.TimeoutSeconds: {len(waves)} waves of up to "
            f"{request.UpdateTimeoutSeconds} s (Change.TimeoutSeconds) plus {request.BakeSeconds} s of bake each could "
            f"take {longest} s, more than the rollout's limit of {ROLLOUT_TIMEOUT_SECONDS} s; give larger batches "
            "(Waves.BatchSize or BatchPercent), a shorter Change.TimeoutSeconds or Waves.BakeSeconds")
    by_name = {r["EndpointName"]: r for r in records}
    for number, wave in enumerate(waves, start=1):
        for name in wave:
            by_name[name]["Wave"] = number
    budget = failure_budget(request, len(to_update))
    canary = request.CanarySize > 0 and bool(waves)
    report = {
        "RolloutName": rollout["Name"], "ExecutionArn": execution_arn, "DryRun": request.DryRun,
        # The explicit list is in the execution's input; what Targets matched is recorded here.
        "Targets": {"NamePattern": (request.Targets or {}).get("NamePattern"),
                    "Tags": (request.Targets or {}).get("Tags"), "Resolved": targets},
        "Endpoints": records,
        # Each endpoint's record names its wave; a wave lists its size and, once run, its totals.
        "Waves": [{"Wave": number, "Canary": canary and number == 1, "Size": len(wave),
                   "Status": "PLANNED" if request.DryRun else PENDING, "Totals": {}}
                  for number, wave in enumerate(waves, start=1)],
        "FailureBudget": {"ToleratedFailures": budget, "Failures": 0,
                          "Basis": _budget_basis(request, len(to_update))},
        "Totals": _totals(records),
    }
    planned: dict[str, Any] = {
        "ExecutionId": execution_arn,
        "Rollout": {"Name": rollout["Name"], "ExecutionArn": execution_arn,
                    "UpdateStateMachineArn": rollout["UpdateStateMachineArn"], "Change": request.Change,
                    "MaxConcurrency": request.MaxConcurrency, "BakeSeconds": request.BakeSeconds,
                    "ToleratedFailures": budget},
        "Report": report,
    }
    logger.info("rollout planned", extra={"rollout": rollout["Name"], "targets": len(targets), "waves": len(waves),
                                          "totals": report["Totals"], "dry_run": request.DryRun})
    if request.DryRun or not waves:
        return {**planned, "Wave": None, "Next": "Done", "BakeSeconds": 0}
    return {**planned, "Wave": _wave_items(planned, 1), "Next": "Wave", "BakeSeconds": 0}


def _cleaned(record: dict[str, Any]) -> dict[str, Any]:
    """A preflight's record, or what the Map's Catch made of a preflight that failed: that endpoint is refused with
    the error, the others go on."""
    if "Outcome" in record:
        return record
    return {**_record(record["EndpointName"]), "Outcome": REFUSED, "Error": record.get("Error"),
            "Cause": _short(cause_message(record.get("Cause")))}


def plan(raw_input: Any, execution_arn: str, start_time: str, update_state_machine_arn: str) -> dict[str, Any]:
    """The three planning steps in one call, as the state machine runs them (the command line's plan)."""
    state = resolve(raw_input, execution_arn, start_time, update_state_machine_arn)
    planned = [preflight_one(name, state["Rollout"]) for name in state["Targets"]]
    return make_plan({**state, "Planned": planned})


def _budget_basis(request: RolloutRequest, updated: int) -> str:
    if request.ToleratedFailureCount is not None:
        return f"ToleratedFailureCount {request.ToleratedFailureCount}"
    if request.ToleratedFailurePercentage is not None:
        return (f"ToleratedFailurePercentage {request.ToleratedFailurePercentage} of {updated} endpoints to update, "
                "rounded down")
    return "no failure tolerated (the default)"


def _totals(records: list[dict[str, Any]]) -> dict[str, int]:
    totals: dict[str, int] = {}
    for record in records:
        totals[record["Outcome"]] = totals.get(record["Outcome"], 0) + 1
    return dict(sorted(totals.items()))


def _wave_items(state: dict[str, Any], number: int) -> dict[str, Any]:
    """The Map's input for wave `number`: one item per endpoint, and what the gate of each needs."""
    report, rollout = state["Report"], state["Rollout"]
    wave = report["Waves"][number - 1]
    # The update's input is the Change with the endpoint's name (States.JsonMerge in the Map): the Change is not
    # repeated per item.
    items = [{"Target": {"EndpointName": r["EndpointName"]}, "ExecutionName": execution_name(r)}
             for r in report["Endpoints"] if r["Wave"] == number]
    remaining = 0 if wave["Canary"] else rollout["ToleratedFailures"] - report["FailureBudget"]["Failures"]
    return {"Number": number, "Items": items, "MaxConcurrency": rollout["MaxConcurrency"], "Change": rollout["Change"],
            "Gate": {"ExecutionNames": [item["ExecutionName"] for item in items], "Remaining": remaining,
                     "Canary": wave["Canary"], "UpdateStateMachineArn": rollout["UpdateStateMachineArn"],
                     "ExecutionId": rollout["ExecutionArn"]}}


# -- inside a wave ------------------------------------------------------------------------------------------------


def may_start(gate: dict[str, Any], index: int) -> dict[str, Any]:
    """Whether item `index` of a wave may start its update: not once the failures of the updates this wave has
    started before it are more than the budget left (`Remaining`; 0 in the canary wave). Updates already running
    go on; only new ones are held back. The Map starts items in order, so those before it are the ones started."""
    remaining = gate["Remaining"]
    failed: list[str] = []
    for name in gate["ExecutionNames"][:index]:
        described = _describe_child(names.execution_arn(gate["UpdateStateMachineArn"], name))
        if described is not None and described["status"] in CHILD_FAILED_STATUSES:
            failed.append(name)
            if len(failed) > remaining:
                why = ("an update of the canary wave failed" if gate["Canary"]
                       else f"the failure budget is spent ({remaining} more failure(s) were tolerated in this wave)")
                return {"Start": False, "Reason": f"{why}: {', '.join(failed)}"}
    return {"Start": True}


# -- after a wave ------------------------------------------------------------------------------------------------


def tally(state: dict[str, Any]) -> dict[str, Any]:
    """Record the wave's outcomes (`WaveResults`, the Map's output), count failures against the budget and decide:
    the next wave (after BakeSeconds), or done; stopped, with StoppedBecause, after a canary failure or once the
    failures are more than the budget. Idempotent: a retried tally gives the same answer."""
    state = dict(state)
    results = state.pop("WaveResults")
    report, rollout, wave = state["Report"], state["Rollout"], state["Wave"]
    by_name = {r["EndpointName"]: r for r in report["Endpoints"]}
    for result in results:
        _record_result(by_name[result["EndpointName"]], result)
    number = wave["Number"]
    summary = report["Waves"][number - 1]
    wave_records = [r for r in report["Endpoints"] if r["Wave"] == number]
    summary["Totals"] = _totals(wave_records)
    summary["Status"] = "DONE"
    failures = sum(r["Outcome"] in FAILURES for r in report["Endpoints"])
    report["FailureBudget"]["Failures"] = failures
    stopped = None
    wave_failures = [r["EndpointName"] for r in wave_records if r["Outcome"] in FAILURES]
    if summary["Canary"] and wave_failures:
        stopped = {"Reason": CANARY_FAILED, "Wave": number,
                   "Message": f"the canary wave failed ({', '.join(wave_failures)}): no other wave was started"}
    elif failures > rollout["ToleratedFailures"]:
        stopped = {"Reason": BUDGET_SPENT, "Wave": number,
                   "Message": f"{failures} update(s) failed, more than the {rollout['ToleratedFailures']} tolerated "
                              f"({report['FailureBudget']['Basis']}): no update started after that"}
    if stopped is not None:
        for record in report["Endpoints"]:
            if record["Outcome"] == PENDING:
                record.update(Outcome=NOT_STARTED, ExecutionArn=None,
                              Cause=_short(f"the rollout stopped: {stopped['Message']}"))
        for later in report["Waves"][number:]:
            later["Status"] = NOT_STARTED
            later["Totals"] = _totals([r for r in report["Endpoints"] if r["Wave"] == later["Wave"]])
        summary["Totals"] = _totals(wave_records)
        report["StoppedBecause"] = stopped
    report["Totals"] = _totals(report["Endpoints"])
    logger.info("rollout wave tallied", extra={"rollout": rollout["Name"], "wave": number, "totals": summary["Totals"],
                                               "failures": failures, "stopped": stopped})
    if stopped is None and number < len(report["Waves"]):
        state["Wave"] = _wave_items(state, number + 1)
        state["Next"] = "Bake" if rollout["BakeSeconds"] > 0 else "Wave"
        state["BakeSeconds"] = rollout["BakeSeconds"]
    else:
        state["Wave"] = None
        state["Next"] = "Done"
        state["BakeSeconds"] = 0
    return state


def _record_result(record: dict[str, Any], result: dict[str, Any]) -> None:
    """One Map item's result into the endpoint's record. A failed update is described again for its status,
    error and cause (the Map keeps only its error name, so that a wave's results stay small)."""
    outcome = result["Outcome"]
    if outcome == SUCCEEDED:
        record.update(Outcome=SUCCEEDED, ExecutionArn=result["ExecutionArn"],
                      OldConfigName=result.get("PreviousConfigName") or record["OldConfigName"],
                      NewConfigName=result.get("NewConfigName"), Error=None, Cause=None)
        return
    if outcome == NOT_STARTED:
        gate = result.get("Gate") or {}
        reason = gate.get("Reason") or (
            f"the failure budget could not be checked ({gate.get('Error')}: {cause_message(gate.get('Cause'))})")
        record.update(Outcome=NOT_STARTED, ExecutionArn=None, Cause=_short(f"not started: {reason}"))
        return
    arn = record["ExecutionArn"]
    described = _describe_child(arn)
    if described is None or described["status"] == names.RUNNING:
        record.update(Outcome=FAILED, Error=result.get("Error"), Cause=_short(cause_message(result.get("Cause"))),
                      ExecutionArn=None if described is None else arn)
        return
    record.update(Outcome=described["status"] if described["status"] in CHILD_FAILED_STATUSES else FAILED,
                  ExecutionArn=arn, Error=described.get("error") or result.get("Error"),
                  Cause=_short(cause_message(described.get("cause"))))
