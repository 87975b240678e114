"""The workflow input, from flags or a JSON file, validated by the workflow's own parse_request."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from typing import Any

from endpoint_updater.cli.errors import INVALID, CliError
from endpoint_updater.core import shapes
from endpoint_updater.core.errors import InvalidInput
from endpoint_updater.core.request import parse_request

NAME_MAX = 80
# Local executions poll the emulated endpoint every second unless --poll-interval says otherwise.
LOCAL_POLL_INTERVAL_SECONDS = 1
_NOT_IN_NAME = re.compile(r"[^0-9A-Za-z_-]")


def read_input_file(path: str) -> dict[str, Any]:
    try:
        text = Path(path).read_text(encoding="utf-8") if path != "-" else _stdin()
    except OSError as error:
        raise CliError(f"--input {path}: cannot read it: {error.strerror or error}", INVALID) from error
    try:
        value = json.loads(text, parse_constant=_not_json)
    except _NotJson as error:
        raise CliError(f"--input {path}: not valid JSON: {error} is not a JSON number; give a finite number",
                       INVALID) from error
    except json.JSONDecodeError as error:
        raise CliError(f"--input {path}: not valid JSON: {error.msg} at line {error.lineno} column {error.colno}",
                       INVALID) from error
    if not isinstance(value, dict):
        raise CliError(f"--input {path}: must hold a JSON object (the workflow input), not {type(value).__name__}",
                       INVALID)
    return value


class _NotJson(ValueError):
    pass


def _not_json(constant: str) -> Any:
    # Python's json module reads NaN, Infinity and -Infinity, which JSON does not have; the workflow would be
    # sent them as they are.
    raise _NotJson(constant)


def _stdin() -> str:
    import sys

    return sys.stdin.read()


def from_flags(raw: dict[str, Any], *, endpoint: str | None, variant: str | None, model: str | None,
               instance_type: str | None, instance_count: int | None, capacity_add: int | None,
               capacity_percent: int | None, poll_interval: int | None, timeout: int | None,
               dry_run: bool = False) -> dict[str, Any]:
    """The input: the file's fields (if any), overridden by the flags given."""
    result = dict(raw)
    if endpoint is not None:
        result["EndpointName"] = endpoint
    change = {key: value for key, value in (("ModelName", model), ("InstanceType", instance_type),
                                            ("InitialInstanceCount", instance_count)) if value is not None}
    if change and variant is None:
        raise CliError("--model, --instance-type and --instance-count change one variant: name it with --variant",
                       INVALID)
    if variant is not None:
        if not change:
            raise CliError(f"--variant {variant}: say what to change with --model, --instance-type or "
                           "--instance-count", INVALID)
        listed = [c for c in result.get("VariantChanges") or [] if isinstance(c, dict)]
        others = [c for c in listed if c.get("VariantName") != variant]
        mine = next((c for c in listed if c.get("VariantName") == variant), {})
        result["VariantChanges"] = [*others, {**mine, "VariantName": variant, **change}]
    if capacity_add is not None and capacity_percent is not None:
        raise CliError("--capacity-add and --capacity-percent: give one of them", INVALID)
    if capacity_add is not None:
        result["CapacityIncrease"] = {"Add": capacity_add}
    if capacity_percent is not None:
        result["CapacityIncrease"] = {"Percent": capacity_percent}
    if poll_interval is not None:
        result["PollIntervalSeconds"] = poll_interval
    if timeout is not None:
        result["TimeoutSeconds"] = timeout
    if dry_run:
        result["DryRun"] = True
    if "EndpointName" not in result:
        raise CliError("no endpoint: pass --endpoint NAME or --input FILE with an EndpointName", INVALID)
    return result


def validated(raw: dict[str, Any]) -> dict[str, Any]:
    """The canonical input: checked as the workflow checks it, with every default written out, so that the
    same request is the same text (and so gets the same execution name)."""
    try:
        request = parse_request(raw, shapes.variant_fields())
    except InvalidInput as error:
        raise CliError(str(error), INVALID) from error
    return {key: value for key, value in request.to_dict().items() if value is not None}


def canonical_json(request: dict[str, Any]) -> str:
    return json.dumps(request, sort_keys=True, separators=(",", ":"), allow_nan=False)


def execution_name(request: dict[str, Any]) -> str:
    """`<endpoint>-<32 hex of the canonical input>`: the same request gets the same name, so starting it
    twice while it runs returns the running execution (StartExecution is idempotent on name and input)."""
    digest = hashlib.sha256(canonical_json(request).encode()).hexdigest()[:32]
    stem = _NOT_IN_NAME.sub("-", str(request["EndpointName"]))[: NAME_MAX - len(digest) - 1]
    return f"{stem}-{digest}"


def check_name(name: str) -> str:
    if not name or len(name) > NAME_MAX or _NOT_IN_NAME.search(name):
        raise CliError(f"--name {name!r}: give 1 to {NAME_MAX} letters, digits, hyphens or underscores", INVALID)
    return name
