"""Change guardrails: what this deployment lets a request change, chosen at deploy time.

The input schema says what a request *can* be; these settings say what this deployment *allows*: which
ProductionVariant fields a request may set, which models and instance types the new config may use, how
many instances a variant may get and how many a capacity raise may add, and which execution roles the
workflow may pass to SageMaker. The stack reads them from cdk.json's context (infra/config.py) and hands
them to the functions as one JSON environment variable (names.GUARDRAILS_ENV); without it (the command
line's `plan` against AWS, a function run by hand) the defaults below apply.

`check` runs once, in the first state, before anything changes (a dry run reports its refusal too). The
same limits are stated in IAM where SageMaker has condition keys for them (infra/permissions.py), so a
request that got past the check would still be denied; the check is what gives the clear error.

Dependency-free on purpose: the CDK app imports it to parse and validate the settings.
"""

from __future__ import annotations

import fnmatch
import json
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from endpoint_updater.core.errors import ChangeNotAllowed
from endpoint_updater.names import GUARDRAILS_ENV

# The settings (cdk.json context keys); each refusal names the one that controls it.
ALLOWED_VARIANT_FIELDS = "allowedVariantFields"
MODEL_NAME_PATTERN = "modelNamePattern"
ALLOWED_INSTANCE_TYPES = "allowedInstanceTypes"
MAX_INSTANCES_PER_VARIANT = "maxInstancesPerVariant"
MAX_CAPACITY_INCREASE = "maxCapacityIncrease"
EXECUTION_ROLE_PATTERNS = "executionRolePatterns"
SETTINGS = (ALLOWED_VARIANT_FIELDS, MODEL_NAME_PATTERN, ALLOWED_INSTANCE_TYPES, MAX_INSTANCES_PER_VARIANT,
            MAX_CAPACITY_INCREASE, EXECUTION_ROLE_PATTERNS)

# What users commonly change. Fields outside this list are allowed only when a deployment lists them:
# EnableSSMAccess (a shell on the serving instances), CoreDumpConfig (memory dumps to a bucket and key the
# request chooses), CapacityReservationConfig (another team's reservation), ManagedInstanceScaling,
# InstancePools and AcceleratorType (capacity outside the instance-type and count guardrails), and any field
# SageMaker adds later, until someone decides it is safe.
SAFE_VARIANT_FIELDS = ("ModelName", "InstanceType", "InitialInstanceCount", "InitialVariantWeight",
                       "ServerlessConfig", "VolumeSizeInGB", "ModelDataDownloadTimeoutInSeconds",
                       "ContainerStartupHealthCheckTimeoutInSeconds", "RoutingConfig", "InferenceAmiVersion")
DEFAULT_MODEL_NAME_PATTERN = "*"
DEFAULT_INSTANCE_TYPES = ("ml.*",)
DEFAULT_MAX_INSTANCES_PER_VARIANT = 20
DEFAULT_MAX_CAPACITY_INCREASE = 10
# Roles whose name says they are SageMaker's: the execution roles SageMaker's console and documentation
# create (AmazonSageMaker-ExecutionRole-..., SageMakerExecutionRole, sagemaker-execution...). A deployment
# whose roles are named otherwise lists them; "*" (every role) is possible but a conscious choice.
DEFAULT_EXECUTION_ROLE_PATTERNS = ("*SageMaker*", "*sagemaker*")
INSTANCE_LIMIT = 10000

# IAM wildcards * and ? only: the same pattern is written into IAM conditions and resources.
_MODEL_PATTERN = re.compile(r"^[A-Za-z0-9*?][A-Za-z0-9*?-]{0,62}$")
_INSTANCE_TYPE_PATTERN = re.compile(r"^ml\.[a-z0-9.*?-]{1,40}$")
_ROLE_PATTERN = re.compile(r"^[\w+=,.@/*?-]{1,512}$")
_FIELD = re.compile(r"^[A-Z][A-Za-z0-9]{1,80}$")


@dataclass(frozen=True)
class Guardrails:
    """One deployment's guardrails; the defaults are the safe ones."""

    allowed_variant_fields: tuple[str, ...] = SAFE_VARIANT_FIELDS
    model_name_pattern: str = DEFAULT_MODEL_NAME_PATTERN
    allowed_instance_types: tuple[str, ...] = DEFAULT_INSTANCE_TYPES
    max_instances_per_variant: int = DEFAULT_MAX_INSTANCES_PER_VARIANT
    max_capacity_increase: int = DEFAULT_MAX_CAPACITY_INCREASE
    execution_role_patterns: tuple[str, ...] = DEFAULT_EXECUTION_ROLE_PATTERNS

    def to_settings(self) -> dict[str, Any]:
        """As the settings name them: what the stack passes to the functions."""
        return {ALLOWED_VARIANT_FIELDS: list(self.allowed_variant_fields), MODEL_NAME_PATTERN: self.model_name_pattern,
                ALLOWED_INSTANCE_TYPES: list(self.allowed_instance_types),
                MAX_INSTANCES_PER_VARIANT: self.max_instances_per_variant,
                MAX_CAPACITY_INCREASE: self.max_capacity_increase,
                EXECUTION_ROLE_PATTERNS: list(self.execution_role_patterns)}

    @classmethod
    def from_settings(cls, raw: Mapping[str, Any], known_fields: Iterable[str] | None = None) -> Guardrails:
        """The guardrails from settings (absent ones take their default). Raises ValueError naming the setting
        and what it allows. `known_fields`: the ProductionVariant fields the SDK knows, when available."""
        unknown = sorted(set(raw) - set(SETTINGS))
        if unknown:
            raise ValueError(f"unknown guardrail setting {', '.join(unknown)}; the settings are {', '.join(SETTINGS)}")
        defaults = cls()
        return cls(
            allowed_variant_fields=_fields(raw.get(ALLOWED_VARIANT_FIELDS, defaults.allowed_variant_fields),
                                           known_fields),
            model_name_pattern=_pattern(raw.get(MODEL_NAME_PATTERN, defaults.model_name_pattern), MODEL_NAME_PATTERN,
                                        _MODEL_PATTERN, "a model name with the IAM wildcards * and ? (e.g. 'churn-*')"),
            allowed_instance_types=_patterns(raw.get(ALLOWED_INSTANCE_TYPES, defaults.allowed_instance_types),
                                             ALLOWED_INSTANCE_TYPES, _INSTANCE_TYPE_PATTERN,
                                             "SageMaker instance types with the IAM wildcards * and ? "
                                             "(e.g. 'ml.m5.*', 'ml.c5.2xlarge')"),
            max_instances_per_variant=_count(raw.get(MAX_INSTANCES_PER_VARIANT, defaults.max_instances_per_variant),
                                             MAX_INSTANCES_PER_VARIANT),
            max_capacity_increase=_count(raw.get(MAX_CAPACITY_INCREASE, defaults.max_capacity_increase),
                                         MAX_CAPACITY_INCREASE),
            execution_role_patterns=_patterns(raw.get(EXECUTION_ROLE_PATTERNS, defaults.execution_role_patterns),
                                              EXECUTION_ROLE_PATTERNS, _ROLE_PATTERN,
                                              "IAM role names (with an optional path) with the IAM wildcards * and ? "
                                              "(e.g. 'churn-sagemaker-*')"),
        )

    def model_allowed(self, name: str) -> bool:
        # SageMaker writes names in lower case in its ARNs, which IAM's condition sees: match both alike.
        return fnmatch.fnmatchcase(name.lower(), self.model_name_pattern.lower())

    def instance_type_allowed(self, instance_type: str) -> bool:
        return any(fnmatch.fnmatchcase(instance_type, pattern) for pattern in self.allowed_instance_types)

    def role_allowed(self, role_arn: str) -> bool:
        """Whether the role (an IAM role ARN) matches a pattern, as IAM matches `role/<pattern>`."""
        _, _, name = role_arn.partition(":role/")
        return bool(name) and any(fnmatch.fnmatchcase(name, pattern) for pattern in self.execution_role_patterns)


def _fields(value: Any, known: Iterable[str] | None) -> tuple[str, ...]:
    if not isinstance(value, list | tuple) or not all(isinstance(f, str) and _FIELD.match(f) for f in value):
        raise ValueError(f"{ALLOWED_VARIANT_FIELDS} must be a list of ProductionVariant field names, got {value!r}")
    if known is not None:
        strangers = sorted(set(value) - set(known))
        if strangers:
            raise ValueError(f"{ALLOWED_VARIANT_FIELDS}: {', '.join(strangers)} not a ProductionVariant field; the "
                             f"fields: {', '.join(sorted(set(known) - {'VariantName'}))}")
    return tuple(dict.fromkeys(f for f in value if f != "VariantName"))


def _pattern(value: Any, setting: str, shape: re.Pattern[str], described: str) -> str:
    if not isinstance(value, str) or not shape.match(value):
        raise ValueError(f"{setting} must be {described}, got {value!r}")
    return value


def _patterns(value: Any, setting: str, shape: re.Pattern[str], described: str) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list | tuple) or not value:
        raise ValueError(f"{setting} must be a non-empty list of {described}, got {value!r}")
    return tuple(_pattern(item, setting, shape, described) for item in value)


def _count(value: Any, setting: str) -> int:
    if isinstance(value, bool) or not str(value).isdigit() or not 1 <= int(value) <= INSTANCE_LIMIT:
        raise ValueError(f"{setting} must be a whole number of instances from 1 to {INSTANCE_LIMIT}, got {value!r}")
    return int(value)


def current() -> Guardrails:
    """This deployment's guardrails: the stack's environment variable, else the defaults."""
    text = os.environ.get(GUARDRAILS_ENV)
    if not text:
        return Guardrails()
    return Guardrails.from_settings(json.loads(text))


_VARIANT_LISTS = ("ProductionVariants", "ShadowProductionVariants")


def check(changes: list[dict[str, Any]], config: dict[str, Any], raises: list[dict[str, Any]],
          rails: Guardrails | None = None) -> None:
    """Refuse, with every problem at once, a request this deployment's guardrails do not allow.

    `changes` are the request's VariantChanges (with a model package's model already in them), `config` the
    endpoint's current config, `raises` the planned capacity raise (VariantName, From, To). Models and
    instance types are checked on every variant of the new config, not only the changed ones: IAM's
    condition on CreateEndpointConfig sees them all.
    """
    rails = rails or current()
    problems: list[str] = []
    fields = ", ".join(rails.allowed_variant_fields)
    requested: dict[str, tuple[int | None, dict[str, Any]]] = {
        change["VariantName"]: (index, change) for index, change in enumerate(changes)}
    for index, change in requested.values():
        where = f"VariantChanges[{index}]"
        for key in sorted(set(change) - {"VariantName"} - set(rails.allowed_variant_fields)):
            problems.append(f"{where}.{key}: this deployment does not let a request set {key} (guardrail on variant "
                            f"fields, setting {ALLOWED_VARIANT_FIELDS}: {fields})")
        count = change.get("InitialInstanceCount")
        if isinstance(count, int) and count > rails.max_instances_per_variant:
            problems.append(_too_many(f"{where}.InitialInstanceCount", count, rails))
        managed = change.get("ManagedInstanceScaling")
        highest = managed.get("MaxInstanceCount") if isinstance(managed, dict) else None
        if isinstance(highest, int) and highest > rails.max_instances_per_variant:
            problems.append(_too_many(f"{where}.ManagedInstanceScaling.MaxInstanceCount", highest, rails))
    for key in _VARIANT_LISTS:
        for variant in config.get(key) or []:
            position, asked = requested.get(variant["VariantName"], (None, {}))
            after = {**variant, **asked}
            where = f"VariantChanges[{position}]" if position is not None else f"variant {variant['VariantName']}"
            model = after.get("ModelName")
            if isinstance(model, str) and not rails.model_allowed(model):
                problems.append(f"{where}.ModelName: model {model} is not one this deployment deploys (guardrail on "
                                f"models, setting {MODEL_NAME_PATTERN}: {rails.model_name_pattern})")
            instance_type = after.get("InstanceType")
            if isinstance(instance_type, str) and not rails.instance_type_allowed(instance_type):
                problems.append(f"{where}.InstanceType: {instance_type} is not an instance type this deployment "
                                f"allows (guardrail on instance types, setting {ALLOWED_INSTANCE_TYPES}: "
                                f"{', '.join(rails.allowed_instance_types)})")
    role = config.get("ExecutionRoleArn")
    if isinstance(role, str) and not rails.role_allowed(role):
        problems.append(role_refusal("the endpoint config's ExecutionRoleArn", role, rails))
    for raised in raises:
        # The count the request asks for, before any cap at the target's MaxCapacity: the guardrail judges the
        # request as written, so a raise the cap happens to shrink today is still refused.
        asked_to = raised.get("Requested", raised["To"])
        added = asked_to - raised["From"]
        if added > rails.max_capacity_increase:
            problems.append(f"CapacityIncrease: adds {added} instances to variant {raised['VariantName']} "
                            f"({raised['From']} -> {asked_to}), more than this deployment allows (guardrail on "
                            f"capacity raises, setting {MAX_CAPACITY_INCREASE}: {rails.max_capacity_increase})")
        if asked_to > rails.max_instances_per_variant:
            problems.append(_too_many(f"CapacityIncrease (variant {raised['VariantName']})", asked_to, rails))
    if problems:
        raise ChangeNotAllowed("refused by this deployment's guardrails, nothing was changed: " + "; ".join(problems))


def _too_many(where: str, count: int, rails: Guardrails) -> str:
    return (f"{where}: {count} instances is more than this deployment allows per variant (guardrail on instances, "
            f"setting {MAX_INSTANCES_PER_VARIANT}: {rails.max_instances_per_variant})")


def role_refusal(what: str, role_arn: str, rails: Guardrails) -> str:
    return (f"{what} {role_arn} is not a role this deployment passes to SageMaker (guardrail on execution roles, "
            f"setting {EXECUTION_ROLE_PATTERNS}: {', '.join(rails.execution_role_patterns)})")


def check_role(what: str, role_arn: str) -> None:
    """Refuse to hand SageMaker a role outside the execution role patterns, before any AWS call."""
    rails = current()
    if not rails.role_allowed(role_arn):
        raise ChangeNotAllowed(role_refusal(what, role_arn, rails) + "; nothing was created")
