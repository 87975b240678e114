"""Checks of a JSON value against a JSON Schema node or an SDK (botocore) shape, each problem naming its path and
what is allowed.

Two sources, one way of reporting: the workflow input's own fields are described by the published JSON Schema
(statemachine/input.schema.json); the API structures it passes through (a ProductionVariant's nested objects,
UpdateEndpoint's DeploymentConfig) by the SDK's service model, whose constraints (min, max, pattern, enum) botocore
itself does not check before sending: its ParamValidator checks types, required members and `min` only, takes a
bool for an integer and a non-finite float for a number. Both are checked here with exact JSON types.
"""

from __future__ import annotations

import difflib
import functools
import json
import math
import re
from typing import Any

import boto3

# The keywords `check` enforces; every other keyword in the schema must be an annotation (a test holds the
# schema to these, so that a limit added to it cannot go unenforced).
SCHEMA_KEYWORDS = frozenset({"type", "minimum", "maximum", "minLength", "maxLength", "pattern", "enum", "properties",
                             "additionalProperties", "required", "minProperties", "maxProperties", "items",
                             "minItems", "maxItems", "oneOf"})
# Enforced by request.parse_request: the whole input's size in bytes (no JSON Schema keyword says it).
EXTENSIONS = frozenset({"x-maxBytes"})
ANNOTATIONS = frozenset({"$schema", "$id", "title", "description", "default", "$comment", "examples"})
# An enum longer than this is named, not listed, with the closest allowed values.
LISTED_ENUM = 12
SHOWN_CHARACTERS = 60


def shown(value: Any) -> str:
    """The value for a message, as JSON writes it (true, "3"), and at most a line: a 100 KB string cannot make a
    100 KB error."""
    text = json.dumps(value, ensure_ascii=False, default=repr)
    if len(text) <= SHOWN_CHARACTERS:
        return text
    size = f" ({len(value)} characters)" if isinstance(value, str) else ""
    return text[:SHOWN_CHARACTERS] + "..." + size


def is_integer(value: Any) -> bool:
    """A JSON whole number: not a bool (a Python int), not a float, even 2.0 (the API's integers are sent as
    they are typed, and 2.0 is not an integer in the request AWS receives)."""
    return isinstance(value, int) and not isinstance(value, bool)


def is_number(value: Any) -> bool:
    """A finite JSON number: NaN and Infinity are not JSON, though Python's json module reads and writes them."""
    return (isinstance(value, int | float) and not isinstance(value, bool)
            and (not isinstance(value, float) or math.isfinite(value)))


def non_finite(value: Any, path: str = "") -> list[str]:
    """The paths of every NaN or Infinity anywhere in a parsed JSON value."""
    if isinstance(value, float) and not math.isfinite(value):
        return [path or "the input"]
    if isinstance(value, dict):
        return [p for k, v in value.items() for p in non_finite(v, f"{path}.{k}" if path else str(k))]
    if isinstance(value, list):
        return [p for i, v in enumerate(value) for p in non_finite(v, f"{path}[{i}]")]
    return []


@functools.cache
def compiled(pattern: str) -> re.Pattern[str]:
    # JSON Schema patterns are ECMA-262 regular expressions, where `$` matches only at the very end; Python's `$`
    # also matches before a trailing newline, which let "name\n" pass. `\Z` is ECMA's `$`.
    return re.compile(re.sub(r"(?<!\\)\$$", r"\\Z", pattern))


def matches(pattern: str, value: str) -> bool:
    """Whether `value` matches a JSON Schema `pattern` (ECMA-262: found anywhere unless anchored)."""
    return compiled(pattern).search(value) is not None


def _range_text(low: float | None, high: float | None, unit: str) -> str:
    if low is not None and high is not None:
        return f"from {low:g} to {high:g}{unit}"
    if low is not None:
        return f"of at least {low:g}{unit}"
    return f"of at most {high:g}{unit}" if high is not None else unit.strip()


def _enum_text(allowed: list[str], value: Any) -> str:
    if len(allowed) <= LISTED_ENUM:
        return "give one of " + ", ".join(allowed)
    close = difflib.get_close_matches(str(value), allowed, n=6, cutoff=0.6)
    return (f"give one of the {len(allowed)} values the API accepts"
            + (f", e.g. {', '.join(close)}" if close else f", e.g. {', '.join(allowed[:6])}"))


def _string(problems: list[str], path: str, value: Any, low: int | None, high: int | None,
            pattern: str | None, enum: list[str] | None, full_match: bool) -> None:
    if not isinstance(value, str):
        problems.append(f"{path}: {shown(value)} is not allowed; give a string")
        return
    if enum is not None:
        if value not in enum:
            problems.append(f"{path}: {shown(value)} is not allowed; {_enum_text(list(enum), value)}")
        return
    wanted = _range_text(low, high, " characters")
    matched = True
    if pattern is not None:
        regex = compiled(pattern)
        matched = bool(regex.fullmatch(value) if full_match else regex.search(value))
    if not matched or (low is not None and len(value) < low) or (high is not None and len(value) > high):
        problems.append(f"{path}: {shown(value)} is not allowed; give a string {wanted}"
                        + (f" matching {pattern}" if pattern else ""))


def _number(problems: list[str], path: str, value: Any, low: float | None, high: float | None,
            whole: bool) -> None:
    valid = is_integer(value) if whole else is_number(value)
    if not valid or (low is not None and value < low) or (high is not None and value > high):
        kind = "a whole number" if whole else "a finite number"
        problems.append(f"{path}: {shown(value)} is not allowed; give {kind} {_range_text(low, high, '')}".rstrip())


def _list(problems: list[str], path: str, value: Any, low: int | None, high: int | None) -> bool:
    """Whether `value` is a list (its items are then checked); a wrong length is a problem too."""
    if not isinstance(value, list):
        problems.append(f"{path}: {shown(value)} is not allowed; give a list")
        return False
    if (low is not None and len(value) < low) or (high is not None and len(value) > high):
        problems.append(f"{path}: {len(value)} items; give a list {_range_text(low, high, ' items')}")
    return True


def check(value: Any, spec: dict[str, Any], path: str, problems: list[str]) -> None:
    """Check `value` against the JSON Schema node `spec` (the keywords in SCHEMA_KEYWORDS)."""
    kind = spec.get("type")
    if kind == "string" or (kind is None and "pattern" in spec):
        _string(problems, path, value, spec.get("minLength"), spec.get("maxLength"), spec.get("pattern"),
                spec.get("enum"), full_match=False)
    elif kind in ("integer", "number"):
        _number(problems, path, value, spec.get("minimum"), spec.get("maximum"), whole=kind == "integer")
    elif kind == "boolean":
        if not isinstance(value, bool):
            problems.append(f"{path}: {shown(value)} is not allowed; give true or false")
    elif kind == "array":
        if not _list(problems, path, value, spec.get("minItems"), spec.get("maxItems")):
            return
        if "items" in spec:
            for index, item in enumerate(value):
                check(item, spec["items"], f"{path}[{index}]", problems)
    elif kind == "object":
        if not isinstance(value, dict):
            problems.append(f"{path}: {shown(value)} is not allowed; give an object")
            return
        properties = spec.get("properties", {})
        for key in sorted(set(value) - set(properties)) if spec.get("additionalProperties") is False else []:
            problems.append(f"{_join(path, key)}: unknown field; allowed fields: {', '.join(properties)}")
        for key in spec.get("required", []):
            if key not in value:
                problems.append(f"{_join(path, key)}: required")
        low, high = spec.get("minProperties"), spec.get("maxProperties")
        if (low is not None and len(value) < low) or (high is not None and len(value) > high):
            wanted = (f"exactly {low}" if low == high else f"{low} to {high}" if low is not None and high is not None
                      else f"at least {low}" if low is not None else f"at most {high}")
            problems.append(f"{path}: {len(value)} field(s); give {wanted} of {', '.join(properties)}")
        for key, item in value.items():
            if key in properties:
                check(item, properties[key], _join(path, key), problems)
    if "oneOf" in spec:
        _one_of(value, spec["oneOf"], path, problems)


def _one_of(value: Any, alternatives: list[dict[str, Any]], path: str, problems: list[str]) -> None:
    matched = 0
    for alternative in alternatives:
        found: list[str] = []
        # An alternative is checked as a node of its parent's type (`{"required": [...]}` under an object).
        check(value, {"type": "object", **alternative} if isinstance(value, dict) else alternative, path, found)
        matched += not found
    if matched != 1:
        keys: list[Any] = [alternative.get("required") for alternative in alternatives]
        single = all(isinstance(key, list) and len(key) == 1 for key in keys)
        wanted = " or ".join(str(key[0]) for key in keys) if single else f"{len(alternatives)} forms the schema gives"
        problems.append(f"{path}: give exactly one of {wanted}")


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


@functools.cache
def sagemaker_model() -> Any:
    """The SageMaker service model of the SDK this code runs with: the API the functions call.

    Read through boto3's default session, the one the functions' clients are made from, so the model file is
    parsed once per process (a session of its own would parse it again: about 50 ms more on a cold start).
    No client is made, so the command line can validate before any region is known."""
    if boto3.DEFAULT_SESSION is None:
        boto3.setup_default_session()
    # boto3 exposes no service model without a client; its session's botocore session holds the loader cache.
    return boto3.DEFAULT_SESSION._session.get_service_model("sagemaker")  # type: ignore[union-attr]


def variant_fields() -> frozenset[str]:
    """The ProductionVariant fields the API accepts."""
    return frozenset(sagemaker_model().shape_for("ProductionVariant").members)


def check_shape(value: Any, shape: Any, path: str, problems: list[str]) -> None:
    """Check `value` against a botocore shape: members, required members, exact types, and the model's min, max,
    pattern and enum (the API reference's "Length Constraints", "Valid Range", "Pattern" and "Valid Values")."""
    meta = shape.metadata
    kind = shape.type_name
    if kind == "structure":
        if not isinstance(value, dict):
            problems.append(f"{path}: {shown(value)} is not allowed; give an object with the fields of "
                            f"{shape.name}: {', '.join(shape.members)}")
            return
        for key in sorted(set(value) - set(shape.members)):
            problems.append(f"{path}.{key}: unknown field; allowed fields: {', '.join(shape.members)}")
        for key in shape.required_members:
            if key not in value:
                problems.append(f"{path}.{key}: required")
        for key, item in value.items():
            if key in shape.members:
                check_shape(item, shape.members[key], f"{path}.{key}", problems)
    elif kind == "list":
        if not _list(problems, path, value, meta.get("min"), meta.get("max")):
            return
        for index, item in enumerate(value):
            check_shape(item, shape.member, f"{path}[{index}]", problems)
    elif kind == "map":
        if not isinstance(value, dict):
            problems.append(f"{path}: {shown(value)} is not allowed; give an object")
            return
        for key, item in value.items():
            check_shape(item, shape.value, f"{path}.{key}", problems)
    elif kind == "string":
        enum = getattr(shape, "enum", None) or None
        _string(problems, path, value, meta.get("min"), meta.get("max"), meta.get("pattern"), enum, full_match=True)
    elif kind in ("integer", "long"):
        _number(problems, path, value, meta.get("min"), meta.get("max"), whole=True)
    elif kind in ("float", "double"):
        _number(problems, path, value, meta.get("min"), meta.get("max"), whole=False)
    elif kind == "boolean" and not isinstance(value, bool):
        problems.append(f"{path}: {shown(value)} is not allowed; give true or false")
