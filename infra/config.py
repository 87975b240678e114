"""The settings a deployment chooses in cdk.json's `context` (or `-c name=value`), validated once at synth.

Each reader turns one raw context value into a typed value, or raises a one-line ValueError that names the
setting and what it allows. The stack reads them all with `DeploymentSettings.from_context`; another CDK
app can build `DeploymentSettings` (or the constructs' own props) directly.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from constructs import Construct

from endpoint_updater import names
from endpoint_updater.core import guardrails as change_guardrails
from endpoint_updater.core.guardrails import Guardrails

POWERTOOLS_LAYER_VERSION = "powertoolsLayerVersion"
ENDPOINT_NAME_PATTERN = "endpointNamePattern"
NOTIFICATION_SUBSCRIBERS = "notificationSubscribers"
RECORD_RETENTION_DAYS = "recordRetentionDays"
UPDATE_REQUEST_SOURCE = "updateRequestSource"
UPDATE_REQUEST_PRINCIPALS = "updateRequestPrincipals"
MODEL_PACKAGE_DEPLOYMENTS = "modelPackageDeployments"
DEFAULT_UPDATE_REQUEST_SOURCE = names.DEFAULT_UPDATE_REQUEST_SOURCE
# Workflow input fields a deployment of a model package group may set besides its endpoint and variant. Completion
# and SafetyIntervalSeconds too: an account whose SageMaker events do not reach the stack's rule deploys its
# approved packages with "Completion": "polling".
DEPLOYMENT_OPTIONS = frozenset({"CapacityIncrease", "Completion", "DeploymentConfig", "InitialPollDelaySeconds",
                                "PollIntervalSeconds", "SafetyIntervalSeconds", "TimeoutSeconds"})
_NAME = re.compile(r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$")
_SOURCE = re.compile(r"^[A-Za-z0-9._/-]{1,256}$")
DEFAULT_RECORD_RETENTION_DAYS = names.DEFAULT_RECORD_RETENTION_DAYS
RECORD_RETENTION_RANGE = (1, 3650)

DEFAULT_ENDPOINT_NAME_PATTERN = "*"

# Who may put "Endpoint Update Requested" events on the stack's request bus: account ids (every principal of
# that account its own IAM policies allow) and IAM role ARNs (that role only; IAM User Guide, "IAM
# identifiers": a role ARN is arn:<partition>:iam::<account>:role/<path><name>).
_ACCOUNT_ID = re.compile(r"^\d{12}$")
_ROLE_ARN = re.compile(r"^arn:aws[a-z-]*:iam::(?P<account>\d{12}):role/[\w+=,.@/-]{1,512}$")

# SageMaker endpoint names: `^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}` (CreateEndpoint API reference); a pattern
# may also hold the IAM wildcards `*` and `?`.
_ENDPOINT_NAME_PATTERN = re.compile(r"^[A-Za-z0-9*?][A-Za-z0-9*?-]{0,62}$")

# SNS protocols a subscriber may use, and what their endpoint must look like (Subscribe API reference).
# firehose is left out: it needs a subscription role, which a context entry cannot carry safely. http is left
# out: alarms and end-of-update messages name endpoints, configs and executions, and would cross the network in
# clear text (https delivers the same messages over TLS).
_ARN = re.compile(r"^arn:aws[a-z-]*:[a-z0-9-]+:[a-z0-9-]*:\d{12}:\S+$")
SUBSCRIBER_ENDPOINTS: dict[str, tuple[re.Pattern[str], str]] = {
    "email": (re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$"), "an email address"),
    "email-json": (re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$"), "an email address"),
    "https": (re.compile(r"^https://\S+$"), "an https:// URL"),
    "sms": (re.compile(r"^\+[1-9]\d{6,14}$"), "a phone number in E.164 form (+ and digits)"),
    "sqs": (_ARN, "an SQS queue ARN"),
    "lambda": (_ARN, "a Lambda function ARN"),
    "application": (_ARN, "a mobile platform endpoint ARN"),
}

REFUSED_PROTOCOLS: dict[str, str] = {
    "http": "messages would cross the network in clear text, use https",
}


@dataclass(frozen=True)
class Subscriber:
    """One subscription to the notification topic."""

    protocol: str
    endpoint: str


@dataclass(frozen=True)
class RequestPrincipals:
    """Who may send update requests; both empty means principals of the stack's own account only."""

    accounts: tuple[str, ...] = ()
    roles: tuple[str, ...] = ()

    def sender_accounts(self) -> tuple[str, ...]:
        """The accounts whose events the request rule accepts: those named, and those of the roles named."""
        # A role ARN's fifth field is its account.
        return tuple(dict.fromkeys([*self.accounts, *(role.split(":")[4] for role in self.roles)]))


@dataclass(frozen=True)
class DeploymentSettings:
    """Everything the stack takes from context."""

    powertools_layer_version: int
    endpoint_name_pattern: str = DEFAULT_ENDPOINT_NAME_PATTERN
    subscribers: tuple[Subscriber, ...] = ()
    record_retention_days: int = DEFAULT_RECORD_RETENTION_DAYS
    update_request_source: str = DEFAULT_UPDATE_REQUEST_SOURCE
    update_request_principals: RequestPrincipals = field(default_factory=RequestPrincipals)
    model_package_deployments: dict[str, dict[str, Any]] = field(default_factory=dict)
    guardrails: Guardrails = field(default_factory=Guardrails)

    @classmethod
    def from_context(cls, scope: Construct) -> DeploymentSettings:
        node = scope.node
        return cls(
            powertools_layer_version=powertools_layer_version(node.try_get_context(POWERTOOLS_LAYER_VERSION)),
            endpoint_name_pattern=endpoint_name_pattern(node.try_get_context(ENDPOINT_NAME_PATTERN)),
            subscribers=subscribers(node.try_get_context(NOTIFICATION_SUBSCRIBERS)),
            record_retention_days=record_retention_days(node.try_get_context(RECORD_RETENTION_DAYS)),
            update_request_source=update_request_source(node.try_get_context(UPDATE_REQUEST_SOURCE)),
            update_request_principals=update_request_principals(node.try_get_context(UPDATE_REQUEST_PRINCIPALS)),
            model_package_deployments=model_package_deployments(node.try_get_context(MODEL_PACKAGE_DEPLOYMENTS)),
            guardrails=guardrails(node.try_get_context),
        )


def powertools_layer_version(value: Any) -> int:
    # From cdk.json it is a number; from `-c powertoolsLayerVersion=N` on the command line it is a string.
    if isinstance(value, bool) or not str(value).isdigit() or int(value) < 1:
        raise ValueError(
            f"context value {POWERTOOLS_LAYER_VERSION!r} must be a positive layer version number, got {value!r}"
        )
    return int(value)


def record_retention_days(value: Any) -> int:
    """Days an update's record is kept once its scaling was restored; absent means the default."""
    if value is None:
        return DEFAULT_RECORD_RETENTION_DAYS
    low, high = RECORD_RETENTION_RANGE
    if isinstance(value, bool) or not str(value).isdigit() or not low <= int(value) <= high:
        raise ValueError(f"context value {RECORD_RETENTION_DAYS!r} must be a whole number of days from {low} to "
                         f"{high}, got {value!r}")
    return int(value)


def endpoint_name_pattern(value: Any) -> str:
    """The endpoints the workflow may touch; absent means every endpoint of the account and region."""
    if value is None:
        return DEFAULT_ENDPOINT_NAME_PATTERN
    if not isinstance(value, str) or not _ENDPOINT_NAME_PATTERN.match(value):
        raise ValueError(
            f"context value {ENDPOINT_NAME_PATTERN!r} must be an endpoint name of at most 63 letters, digits and "
            f"hyphens, with optional IAM wildcards * and ? (for example 'churn-*'), got {value!r}"
        )
    return value


def subscribers(value: Any) -> tuple[Subscriber, ...]:
    """A list whose entries are email addresses or {"protocol": ..., "endpoint": ...} objects."""
    if value is None:
        return ()
    if isinstance(value, str):
        # `-c notificationSubscribers=ops@example.com` passes a string; accept one address or a JSON list.
        value = _json_or_text(value)
    if not isinstance(value, list):
        raise ValueError(
            f"context value {NOTIFICATION_SUBSCRIBERS!r} must be a list of email addresses or "
            f'{{"protocol": ..., "endpoint": ...}} objects, got {value!r}'
        )
    return tuple(_subscriber(index, entry) for index, entry in enumerate(value))


def _json_or_text(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return [text]


def _subscriber(index: int, entry: Any) -> Subscriber:
    where = f"context value {NOTIFICATION_SUBSCRIBERS!r}[{index}]"
    allowed = ", ".join(sorted(SUBSCRIBER_ENDPOINTS))
    if isinstance(entry, str):
        entry = {"protocol": "email", "endpoint": entry}
    if not isinstance(entry, dict) or set(entry) != {"protocol", "endpoint"}:
        raise ValueError(
            f'{where} must be an email address or an object with exactly "protocol" and "endpoint", got {entry!r}'
        )
    protocol, endpoint = entry["protocol"], entry["endpoint"]
    if protocol in REFUSED_PROTOCOLS:
        raise ValueError(f"{where}.protocol {protocol!r} is not allowed: {REFUSED_PROTOCOLS[protocol]}; allowed: "
                         f"{allowed}")
    if protocol not in SUBSCRIBER_ENDPOINTS:
        raise ValueError(f"{where}.protocol must be one of {allowed}, got {protocol!r}")
    shape, described = SUBSCRIBER_ENDPOINTS[protocol]
    if not isinstance(endpoint, str) or not shape.match(endpoint):
        raise ValueError(f"{where}.endpoint must be {described} for protocol {protocol!r}, got {endpoint!r}")
    return Subscriber(protocol=protocol, endpoint=endpoint)


def update_request_source(value: Any) -> str:
    """The EventBridge `source` of "Endpoint Update Requested" events; AWS reserves sources starting "aws."."""
    if value is None:
        return DEFAULT_UPDATE_REQUEST_SOURCE
    if not isinstance(value, str) or not _SOURCE.match(value) or value.startswith("aws."):
        raise ValueError(f"context value {UPDATE_REQUEST_SOURCE!r} must be an event source of letters, digits and "
                         f"._/- that does not start with 'aws.', got {value!r}")
    return value


def update_request_principals(value: Any) -> RequestPrincipals:
    """Account ids and IAM role ARNs allowed to put update requests on the request bus; absent or empty means
    the stack's own account only."""
    if value is None:
        return RequestPrincipals()
    if isinstance(value, str):  # `-c updateRequestPrincipals='["111122223333"]'` or one id or ARN
        value = _json_or_text(value)
    allowed = "a 12-digit account id or an IAM role ARN (arn:aws:iam::<account>:role/<name>)"
    if not isinstance(value, list):
        raise ValueError(f"context value {UPDATE_REQUEST_PRINCIPALS!r} must be a list whose entries are each "
                         f"{allowed}, got {value!r}")
    accounts: list[str] = []
    roles: list[str] = []
    for index, entry in enumerate(value):
        if isinstance(entry, str) and _ACCOUNT_ID.match(entry):
            accounts.append(entry)
        elif isinstance(entry, str) and _ROLE_ARN.match(entry):
            roles.append(entry)
        else:
            raise ValueError(f"context value {UPDATE_REQUEST_PRINCIPALS!r}[{index}] must be {allowed}; wildcards "
                             f"are not allowed, got {entry!r}")
    return RequestPrincipals(accounts=tuple(dict.fromkeys(accounts)), roles=tuple(dict.fromkeys(roles)))


def model_package_deployments(value: Any) -> dict[str, dict[str, Any]]:
    """Model package group name -> {"EndpointName", "VariantName", optional workflow input fields}."""
    if value is None:
        return {}
    if isinstance(value, str):  # `-c modelPackageDeployments='{...}'`
        value = _json_or_text(value)
    where = f"context value {MODEL_PACKAGE_DEPLOYMENTS!r}"
    if not isinstance(value, dict):
        raise ValueError(f'{where} must be an object: {{"<model package group>": {{"EndpointName": ..., '
                         f'"VariantName": ...}}}}, got {value!r}')
    for group, target in value.items():
        if not _NAME.match(str(group)):
            raise ValueError(f"{where}: {group!r} is not a model package group name (letters, digits, hyphens)")
        if not isinstance(target, dict) or not {"EndpointName", "VariantName"} <= set(target):
            raise ValueError(f'{where}[{group!r}] must be an object with "EndpointName" and "VariantName", got '
                             f"{target!r}")
        if not isinstance(target["EndpointName"], str) or not _NAME.match(target["EndpointName"]):
            raise ValueError(f"{where}[{group!r}].EndpointName: {target['EndpointName']!r} is not an endpoint name")
        if not isinstance(target["VariantName"], str) or not target["VariantName"]:
            raise ValueError(f"{where}[{group!r}].VariantName: required, the variant that gets the new model")
        unknown = sorted(set(target) - {"EndpointName", "VariantName"} - DEPLOYMENT_OPTIONS)
        if unknown:
            raise ValueError(f"{where}[{group!r}]: {', '.join(unknown)} not allowed; allowed besides EndpointName and "
                             f"VariantName: {', '.join(sorted(DEPLOYMENT_OPTIONS))}")
    return {str(group): dict(target) for group, target in value.items()}


def guardrails(context: Callable[[str], Any]) -> Guardrails:
    """The change guardrails (endpoint_updater/core/guardrails.py), one context value per guardrail; an absent
    one takes its default. `context` reads one context value by name (None when absent)."""
    raw: dict[str, Any] = {}
    for setting in change_guardrails.SETTINGS:
        value = context(setting)
        if value is None:
            continue
        # From the command line (`-c allowedInstanceTypes='["ml.m5.*"]'`) a list arrives as its JSON text.
        if isinstance(value, str) and value.startswith("["):
            value = _json_or_text(value)
        raw[setting] = value
    try:
        return Guardrails.from_settings(raw, known_fields=_variant_fields())
    except ValueError as error:
        raise ValueError(f"context value {error}") from None


def _variant_fields() -> frozenset[str]:
    """The ProductionVariant fields of the SDK the functions run with (the project's pinned botocore)."""
    import botocore.session

    model = botocore.session.get_session().get_service_model("sagemaker")
    return frozenset(model.shape_for("ProductionVariant").members)
