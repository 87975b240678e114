"""Extends moto 5.2.5 where it lacks the AWS APIs or behaviours the endpoint updater depends on.

Everything here is patched into moto at class (or module) level by :func:`install`, so it applies to every
account and region backend, to every boto3 client created anywhere in the process, and to the Lambda
handlers that the Step Functions interpreter runs on background threads. Use it inside::

    moto.mock_aws(config={"stepfunctions": {"execute_state_machine": True}, "lambda": {"use_docker": False}})

What is emulated, each with the AWS documentation page it follows (titles as published):

SageMaker
  * UpdateEndpoint, which moto lacks ("UpdateEndpoint" API reference): the endpoint is ``Updating`` while the
    old config serves, DescribeEndpoint shows ``PendingDeploymentSummary`` ("PendingDeploymentSummary" API
    reference), then the configured outcome applies. Refused when the endpoint is not InService, when the
    config does not exist, and when a variant registered with Application Auto Scaling would change its
    instance type or disappear ("Update endpoints that use auto scaling").
    ``RetainAllVariantProperties``/``ExcludeRetainedVariantProperties`` keep the current DesiredInstanceCount,
    DesiredWeight and DataCaptureConfig ("UpdateEndpoint" API reference, "VariantProperty").
  * DescribeEndpoint variants as AWS shows them ("ProductionVariantSummary": weights and instance counts, or
    the serverless configs), ShadowProductionVariants, DataCaptureConfig summary ("DescribeEndpoint").
  * UpdateEndpointWeightsAndCapacities is refused unless InService, then keeps the endpoint ``Updating``
    for a while and only sets what was asked ("UpdateEndpointWeightsAndCapacities" API reference).
  * CreateEndpointConfig/DescribeEndpointConfig round-trip every request field; name pattern and length, and
    "Cannot create already existing endpoint configuration" ("CreateEndpointConfig" API reference).

Application Auto Scaling
  * DeregisterScalableTarget deletes the target's scaling policies and scheduled actions
    ("DeregisterScalableTarget" API reference).
  * Deleting a target tracking policy deletes the alarms it created ("Delete a target tracking scaling policy
    for Application Auto Scaling using the AWS CLI"); deleting a step scaling policy removes it from its
    alarms' actions and keeps the alarms ("DeleteScalingPolicy" API reference: "Deleting a step scaling policy
    deletes the underlying alarm action, but it does not delete the CloudWatch alarm").
  * Target tracking policies on SageMaker create their AlarmHigh/AlarmLow alarms ("Target tracking scaling
    policies for Application Auto Scaling": Application Auto Scaling creates and manages the alarms).
  * DescribeScalingPolicies matches ResourceId exactly, honours PolicyNames, pages by 10 and lists each policy's
    ``Alarms`` ("DescribeScalingPolicies" API reference).
  * PutScalingPolicy keeps the ARN of an existing policy and gives a re-created policy a new ARN.
  * RegisterScalableTarget checks the SageMaker endpoint and variant, defaults RoleARN to the service-linked
    role ("Amazon SageMaker AI and Application Auto Scaling", "Service-linked roles for Application Auto
    Scaling"), round-trips SuspendedState, updates an existing target in place and moves the variant's
    DesiredInstanceCount into [MinCapacity, MaxCapacity] ("RegisterScalableTarget" API reference).
  * PutScalingPolicy / PutScheduledAction / DeleteScalingPolicy / DeleteScheduledAction /
    DeregisterScalableTarget on a missing object answer ObjectNotFoundException ("ObjectNotFoundException").

CloudWatch
  * Nothing to patch: PutMetricAlarm/DescribeAlarms round-trip in moto 5.2.5 although the installed botocore
    speaks smithy-rpc-v2-cbor to CloudWatch (checked by tests/integration/test_emulation.py).

Faults: :func:`inject_fault` makes the next calls of an operation answer with an AWS error code, at moto's
request-handling layer (``BaseResponse.call_action``), so botocore parses a real ``ClientError`` (codes such
as ThrottlingException are AWS "Common Errors", valid for every service).

Time is real time (``time.monotonic``), or the local runner's emulated time while it runs
(:func:`time_source`), unless a test holds it still with :func:`manual_clock`; endpoint statuses advance
lazily whenever an operation looks at the endpoint (DescribeEndpoint, ListEndpoints, UpdateEndpoint,
UpdateEndpointWeightsAndCapacities, RegisterScalableTarget).
"""

from __future__ import annotations

import contextlib
import copy
import datetime as dt
import functools
import json
import re
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from moto.applicationautoscaling import models as aas_models
from moto.applicationautoscaling import responses as aas_responses
from moto.applicationautoscaling.exceptions import AWSValidationException
from moto.cloudwatch.models import cloudwatch_backends
from moto.core import errors as moto_errors
from moto.core.exceptions import JsonRESTError, ServiceException
from moto.core.responses import ActionResult, BaseResponse
from moto.core.utils import utcnow as moto_utcnow
from moto.sagemaker import models as sm_models
from moto.sagemaker import responses as sm_responses
from moto.sagemaker.exceptions import ValidationError

from endpoint_updater.offline import throttling

__all__ = [
    "DEFAULT_CAPACITY_SECONDS",
    "DEFAULT_UPDATE_SECONDS",
    "ENDPOINT_STATUSES",
    "UPDATE_OUTCOMES",
    "configure_capacity_change",
    "configure_update",
    "inject_fault",
    "install",
    "reset",
    "set_endpoint_status",
    "time_source",
]

DEFAULT_UPDATE_SECONDS = 0.5
DEFAULT_CAPACITY_SECONDS = 0.3
UPDATE_OUTCOMES = frozenset({"succeed", "fail", "rollback", "silent_rollback", "rollback_failed", "stuck"})
# "DescribeEndpoint" API reference, EndpointStatus.
ENDPOINT_STATUSES = frozenset(
    {
        "OutOfService",
        "Creating",
        "Updating",
        "SystemUpdating",
        "RollingBack",
        "InService",
        "Deleting",
        "Failed",
        "UpdateRollbackFailed",
    }
)

SAGEMAKER_NAMESPACE = "sagemaker"
INSTANCE_COUNT_DIMENSION = "sagemaker:variant:DesiredInstanceCount"
PROVISIONED_CONCURRENCY_DIMENSION = "sagemaker:variant:DesiredProvisionedConcurrency"
COPY_COUNT_DIMENSION = "sagemaker:inference-component:DesiredCopyCount"
# Dimensions AWS accepts ("Amazon SageMaker AI and Application Auto Scaling") that moto 5.2.5 does not know.
_EXTRA_DIMENSIONS = frozenset({PROVISIONED_CONCURRENCY_DIMENSION, COPY_COUNT_DIMENSION})
# "Service-linked roles for Application Auto Scaling", Service-linked role ARN reference.
SAGEMAKER_SERVICE_LINKED_ROLE = (
    "arn:{partition}:iam::{account}:role/aws-service-role/sagemaker.application-autoscaling.amazonaws.com/"
    "AWSServiceRoleForApplicationAutoScaling_SageMakerEndpoint"
)
_SUSPENDED_KEYS = ("DynamicScalingInSuspended", "DynamicScalingOutSuspended", "ScheduledScalingSuspended")
# "CreateEndpointConfig" API reference, EndpointConfigName.
_CONFIG_NAME_PATTERN = re.compile(r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$")
_CONFIG_NAME_MAX = 63
# "DescribeScalingPolicies" API reference: MaxResults between 1 and 10, default 10.
_POLICY_PAGE_MAX = 10

# ---------------------------------------------------------------------------------------------------------
# Module state: settings per endpoint name and injected faults. Shared with background threads.
# ---------------------------------------------------------------------------------------------------------

_LOCK = threading.RLock()
_INSTALLED = False


@dataclass(frozen=True)
class _UpdateSetting:
    seconds: float = DEFAULT_UPDATE_SECONDS
    outcome: str = "succeed"
    failure_reason: str | None = None


@dataclass
class _Fault:
    code: str
    message: str
    remaining: int


_update_settings: dict[str, _UpdateSetting] = {}
_capacity_seconds: dict[str, float] = {}
_faults: dict[tuple[str, str], list[_Fault]] = {}


class ManualClock:
    """A clock that moves only when told to, so a test can look at an endpoint in the middle of an update."""

    def __init__(self, start: float) -> None:
        self._now = start

    def __call__(self) -> float:
        return self._now

    def advance(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError("seconds must be >= 0")
        self._now += seconds


def _system_utcnow() -> dt.datetime:
    return moto_utcnow()


# Where durations are measured (monotonic seconds) and dates read (naive UTC, as moto keeps them): real time,
# or the local runner's emulated time while it runs.
_source: Callable[[], float] = time.monotonic
_dates: Callable[[], dt.datetime] = _system_utcnow
_clock: Callable[[], float] = time.monotonic


def _now() -> float:
    return _clock()


def _utcnow() -> dt.datetime:
    return _dates()


@contextlib.contextmanager
def time_source(monotonic: Callable[[], float], utc: Callable[[], dt.datetime]) -> Iterator[None]:
    """The emulator measures durations with `monotonic` and dates what it changes with `utc` (aware or
    naive UTC) until the block ends."""
    global _source, _dates, _clock
    with _LOCK:
        saved = _source, _dates, _clock
        _source, _clock = monotonic, monotonic
        _dates = lambda: utc().replace(tzinfo=None)  # noqa: E731
    try:
        yield
    finally:
        with _LOCK:
            _source, _dates, _clock = saved


@contextlib.contextmanager
def manual_clock() -> Iterator[ManualClock]:
    """Hold the emulated time still until ``advance``; the time source's time comes back on exit."""
    global _clock
    with _LOCK:
        clock = ManualClock(_clock())
        _clock = clock
    try:
        yield clock
    finally:
        with _LOCK:
            _clock = _source


def reset() -> None:
    """Forget configured behaviours and injected faults (moto's own state is reset by ``mock_aws``)."""
    with _LOCK:
        _update_settings.clear()
        _capacity_seconds.clear()
        _faults.clear()


def configure_update(
    endpoint_name: str, *, seconds: float = DEFAULT_UPDATE_SECONDS, outcome: str = "succeed",
    failure_reason: str | None = None,
) -> None:
    """How the next UpdateEndpoint calls of ``endpoint_name`` end, after ``seconds`` of ``Updating``.

    outcome: ``succeed``; ``fail`` (EndpointStatus Failed with FailureReason); ``rollback`` (InService on the
    old config, FailureReason set); ``silent_rollback`` (InService on the old config, no FailureReason);
    ``rollback_failed`` (UpdateRollbackFailed); ``stuck`` (Updating forever).
    """
    if outcome not in UPDATE_OUTCOMES:
        raise ValueError(f"outcome must be one of {sorted(UPDATE_OUTCOMES)}, not {outcome!r}")
    if seconds < 0:
        raise ValueError("seconds must be >= 0")
    with _LOCK:
        _update_settings[endpoint_name] = _UpdateSetting(seconds, outcome, failure_reason)


def configure_capacity_change(endpoint_name: str, *, seconds: float = DEFAULT_CAPACITY_SECONDS) -> None:
    """How long UpdateEndpointWeightsAndCapacities keeps ``endpoint_name`` Updating."""
    if seconds < 0:
        raise ValueError("seconds must be >= 0")
    with _LOCK:
        _capacity_seconds[endpoint_name] = seconds


def set_endpoint_status(endpoint_name: str, status: str, failure_reason: str | None = None) -> None:
    """Force the status of every emulated endpoint of that name (any account or region).

    Cancels an update or capacity change in progress (their outcome never applies). Raises LookupError when
    no such endpoint exists.
    """
    if status not in ENDPOINT_STATUSES:
        raise ValueError(f"status must be one of {sorted(ENDPOINT_STATUSES)}, not {status!r}")
    found = False
    with _LOCK:
        for account in dict.values(sm_models.sagemaker_backends):
            for backend in dict.values(account):
                endpoint: Any = backend.endpoints.get(endpoint_name)
                if endpoint is None:
                    continue
                found = True
                state = _state(backend, endpoint)
                state.pending_update = None
                state.capacity_deadline = None
                endpoint.endpoint_status = status
                endpoint.failure_reason = failure_reason
                endpoint.last_modified_time = _utcnow()
    if not found:
        raise LookupError(f"no emulated endpoint named {endpoint_name!r}")


def inject_fault(
    service: str, operation: str, code: str, message: str = "injected by the emulator", *, times: int = 1
) -> None:
    """Make the next ``times`` calls of ``operation`` on ``service`` answer with the AWS error ``code``.

    ``service`` is the boto3 client name (``sagemaker``, ``application-autoscaling``, ``cloudwatch``),
    ``operation`` the API name (``UpdateEndpoint``). botocore raises ``ClientError`` with
    ``Error.Code == code``. Faults of the same operation queue up in call order. Note that botocore itself
    retries throttling and 5xx errors unless the client is configured not to.
    """
    if times < 1:
        raise ValueError("times must be >= 1")
    with _LOCK:
        # AWS "Common Errors" (ThrottlingException, ...) apply to every service but are not in every service
        # model: tell moto's serializer not to warn about them.
        if code not in moto_errors.COMMON_ERROR_CODES:
            moto_errors.COMMON_ERROR_CODES.append(code)
        _faults.setdefault((service, operation), []).append(_Fault(code, message, times))


def _take_fault(service: str, operation: str) -> _Fault | None:
    with _LOCK:
        queue = _faults.get((service, operation))
        if not queue:
            return None
        fault = queue[0]
        fault.remaining -= 1
        if fault.remaining <= 0:
            queue.pop(0)
        return fault


# ---------------------------------------------------------------------------------------------------------
# Errors
# ---------------------------------------------------------------------------------------------------------


class _InjectedError(ServiceException):
    """A serializable error with any code, for fault injection."""


class ObjectNotFoundException(JsonRESTError):
    """Application Auto Scaling "ObjectNotFoundException" (API reference, Errors)."""

    def __init__(self, message: str) -> None:
        super().__init__("ObjectNotFoundException", message)


def _partition(region: str) -> str:
    if region.startswith("cn-"):
        return "aws-cn"
    if region.startswith("us-gov-"):
        return "aws-us-gov"
    return "aws"


# ---------------------------------------------------------------------------------------------------------
# SageMaker: endpoint state kept on moto's FakeEndpoint
# ---------------------------------------------------------------------------------------------------------


@dataclass
class _PendingUpdate:
    config_name: str
    request: dict[str, Any]  # the new config's CreateEndpointConfig request (without Tags)
    variants: list[dict[str, Any]]  # ProductionVariantSummary the endpoint gets on success
    shadow_variants: list[dict[str, Any]]
    data_capture: dict[str, Any] | None
    start_time: Any
    deadline: float | None  # _now(); None: never ends (outcome "stuck")
    outcome: str
    failure_reason: str | None


@dataclass
class _EndpointState:
    request: dict[str, Any]  # the deployed config's request
    shadow_variants: list[dict[str, Any]] = field(default_factory=list)
    data_capture: dict[str, Any] | None = None
    last_deployment_config: dict[str, Any] | None = None
    pending_update: _PendingUpdate | None = None
    capacity_deadline: float | None = None


_STATE_ATTR = "_endpoint_updater_emulation"
_REQUEST_ATTR = "_endpoint_updater_request"


def _config_request(config: Any) -> dict[str, Any]:
    """The CreateEndpointConfig request of a moto FakeEndpointConfig (reconstructed for configs made before
    install())."""
    request = getattr(config, _REQUEST_ATTR, None)
    if request is not None:
        return request
    rebuilt: dict[str, Any] = {"ProductionVariants": copy.deepcopy(config.production_variants)}
    if config.data_capture_config:
        rebuilt["DataCaptureConfig"] = copy.deepcopy(config.data_capture_config)
    if config.async_inference_config:
        rebuilt["AsyncInferenceConfig"] = copy.deepcopy(config.async_inference_config)
    if config.kms_key_id:
        rebuilt["KmsKeyId"] = config.kms_key_id
    return rebuilt


def _variant_summary(variant: dict[str, Any]) -> dict[str, Any]:
    """"ProductionVariantSummary" of a freshly deployed ProductionVariant (Current = Desired)."""
    summary: dict[str, Any] = {"VariantName": variant["VariantName"]}
    weight = float(variant.get("InitialVariantWeight", 1.0))
    summary["CurrentWeight"] = weight
    summary["DesiredWeight"] = weight
    if variant.get("ServerlessConfig"):
        summary["CurrentServerlessConfig"] = copy.deepcopy(variant["ServerlessConfig"])
        summary["DesiredServerlessConfig"] = copy.deepcopy(variant["ServerlessConfig"])
    elif variant.get("InitialInstanceCount") is not None:
        summary["CurrentInstanceCount"] = int(variant["InitialInstanceCount"])
        summary["DesiredInstanceCount"] = int(variant["InitialInstanceCount"])
    for key in ("ManagedInstanceScaling", "RoutingConfig"):
        if key in variant:
            summary[key] = copy.deepcopy(variant[key])
    return summary


def _pending_variant_summary(variant: dict[str, Any], target: dict[str, Any]) -> dict[str, Any]:
    """"PendingProductionVariantSummary": what the deployment in progress asks for."""
    pending: dict[str, Any] = {"VariantName": variant["VariantName"], "DesiredWeight": target["DesiredWeight"]}
    if "DesiredInstanceCount" in target:
        pending["DesiredInstanceCount"] = target["DesiredInstanceCount"]
    if "DesiredServerlessConfig" in target:
        pending["DesiredServerlessConfig"] = copy.deepcopy(target["DesiredServerlessConfig"])
    for key in ("InstanceType", "AcceleratorType", "ManagedInstanceScaling", "RoutingConfig"):
        if key in variant:
            pending[key] = copy.deepcopy(variant[key])
    return pending


def _data_capture_summary(config: dict[str, Any] | None) -> dict[str, Any] | None:
    """"DataCaptureConfigSummary" of a DataCaptureConfig."""
    if not config:
        return None
    enabled = bool(config.get("EnableCapture", True))
    summary: dict[str, Any] = {"EnableCapture": enabled, "CaptureStatus": "Started" if enabled else "Stopped"}
    if config.get("InitialSamplingPercentage") is not None:
        summary["CurrentSamplingPercentage"] = config["InitialSamplingPercentage"]
    for key in ("DestinationS3Uri", "KmsKeyId"):
        if config.get(key):
            summary[key] = config[key]
    return summary


def _state(backend: Any, endpoint: Any) -> _EndpointState:
    state = getattr(endpoint, _STATE_ATTR, None)
    if state is None:
        config = backend.endpoint_configs.get(endpoint.endpoint_config_name)
        request = _config_request(config) if config is not None else {"ProductionVariants": []}
        state = _EndpointState(
            request=request,
            shadow_variants=[_variant_summary(v) for v in request.get("ShadowProductionVariants") or []],
            data_capture=_data_capture_summary(request.get("DataCaptureConfig")),
        )
        if config is not None:
            endpoint.production_variants = [_variant_summary(v) for v in request.get("ProductionVariants", [])]
        setattr(endpoint, _STATE_ATTR, state)
    return state


def _default_failure_reason(outcome: str, pending: _PendingUpdate) -> str:
    names = ", ".join(v["VariantName"] for v in pending.variants) or "AllTraffic"
    health = (
        f"The primary container for production variant {names} did not pass the ping health check. "
        "Please check CloudWatch logs for this endpoint."
    )
    if outcome == "rollback_failed":
        return f"Update rollback failed: {health}"
    return health


def _advance(backend: Any, endpoint: Any) -> None:
    """Apply whatever has finished by now (lazy wall-clock time)."""
    state = _state(backend, endpoint)
    now = _now()
    if state.capacity_deadline is not None and state.capacity_deadline <= now:
        for variant in endpoint.production_variants:
            if "DesiredInstanceCount" in variant:
                variant["CurrentInstanceCount"] = variant["DesiredInstanceCount"]
            if "DesiredWeight" in variant:
                variant["CurrentWeight"] = variant["DesiredWeight"]
            if "DesiredServerlessConfig" in variant:
                variant["CurrentServerlessConfig"] = copy.deepcopy(variant["DesiredServerlessConfig"])
        state.capacity_deadline = None
        endpoint.endpoint_status = "InService"
        endpoint.last_modified_time = _utcnow()
    pending = state.pending_update
    if pending is None or pending.deadline is None or pending.deadline > now:
        return
    state.pending_update = None
    endpoint.last_modified_time = _utcnow()
    reason = pending.failure_reason or _default_failure_reason(pending.outcome, pending)
    if pending.outcome == "succeed":
        endpoint.endpoint_config_name = pending.config_name
        endpoint.production_variants = pending.variants
        state.request = pending.request
        state.shadow_variants = pending.shadow_variants
        state.data_capture = pending.data_capture
        endpoint.endpoint_status = "InService"
        endpoint.failure_reason = None
    else:
        status, gives_reason = _FAILED_OUTCOMES[pending.outcome]
        endpoint.endpoint_status = status
        endpoint.failure_reason = reason if gives_reason else None


# What a failed update leaves: the endpoint's status, and whether it carries a FailureReason.
# A rollback serves the previous config again (the endpoint's config name is left unchanged).
_FAILED_OUTCOMES: dict[str, tuple[str, bool]] = {
    "fail": ("Failed", True),
    "rollback": ("InService", True),
    "silent_rollback": ("InService", False),
    "rollback_failed": ("UpdateRollbackFailed", True),
}


def _endpoint_or_error(backend: Any, endpoint_name: str) -> Any:
    endpoint = backend.endpoints.get(endpoint_name)
    if endpoint is None:
        arn = sm_models.FakeEndpoint.arn_formatter(endpoint_name, backend.account_id, backend.region_name)
        raise ValidationError(message=f'Could not find endpoint "{arn}".')
    return endpoint


def _describe_endpoint(self: Any, endpoint_name: str) -> dict[str, Any]:
    """DescribeEndpoint as AWS answers it ("DescribeEndpoint" API reference)."""
    with _LOCK:
        endpoint = _endpoint_or_error(self, endpoint_name)
        _advance(self, endpoint)
        state = _state(self, endpoint)
        response: dict[str, Any] = {
            "EndpointName": endpoint.endpoint_name,
            "EndpointArn": endpoint.arn,
            "EndpointConfigName": endpoint.endpoint_config_name,
            "ProductionVariants": copy.deepcopy(endpoint.production_variants),
            "EndpointStatus": endpoint.endpoint_status,
            "CreationTime": endpoint.creation_time,
            "LastModifiedTime": endpoint.last_modified_time,
        }
        if state.data_capture:
            response["DataCaptureConfig"] = copy.deepcopy(state.data_capture)
        if endpoint.failure_reason:
            response["FailureReason"] = endpoint.failure_reason
        if state.last_deployment_config:
            response["LastDeploymentConfig"] = copy.deepcopy(state.last_deployment_config)
        for key in ("AsyncInferenceConfig", "ExplainerConfig", "MetricsConfig"):
            if state.request.get(key):
                response[key] = copy.deepcopy(state.request[key])
        if state.shadow_variants:
            response["ShadowProductionVariants"] = copy.deepcopy(state.shadow_variants)
        pending = state.pending_update
        if pending is not None:
            summary: dict[str, Any] = {
                "EndpointConfigName": pending.config_name,
                "ProductionVariants": [
                    _pending_variant_summary(v, t)
                    for v, t in zip(pending.request.get("ProductionVariants", []), pending.variants, strict=True)
                ],
                "StartTime": pending.start_time,
            }
            shadows = pending.request.get("ShadowProductionVariants") or []
            if shadows:
                summary["ShadowProductionVariants"] = [
                    _pending_variant_summary(v, t) for v, t in zip(shadows, pending.shadow_variants, strict=True)
                ]
            response["PendingDeploymentSummary"] = summary
        return response


def _create_endpoint(self: Any, endpoint_name: str, endpoint_config_name: str, tags: list[dict[str, str]]) -> Any:
    """CreateEndpoint; the endpoint is InService at once (moto behaviour), with AWS-shaped variants."""
    with _LOCK:
        if endpoint_name in self.endpoints:
            arn = sm_models.FakeEndpoint.arn_formatter(endpoint_name, self.account_id, self.region_name)
            raise ValidationError(message=f'Cannot create already existing endpoint "{arn}".')
        config = self.endpoint_configs.get(endpoint_config_name)
        if config is None:
            arn = sm_models.FakeEndpointConfig.arn_formatter(endpoint_config_name, self.account_id, self.region_name)
            raise ValidationError(message=f'Could not find endpoint configuration "{arn}".')
        request = copy.deepcopy(_config_request(config))
        endpoint_class: Any = sm_models.FakeEndpoint
        endpoint = endpoint_class(
            account_id=self.account_id,
            region_name=self.region_name,
            endpoint_name=endpoint_name,
            endpoint_config_name=endpoint_config_name,
            production_variants=request.get("ProductionVariants", []),
            data_capture_config=request.get("DataCaptureConfig") or {},
            tags=tags,
        )
        endpoint.production_variants = [_variant_summary(v) for v in request.get("ProductionVariants", [])]
        setattr(
            endpoint,
            _STATE_ATTR,
            _EndpointState(
                request=request,
                shadow_variants=[_variant_summary(v) for v in request.get("ShadowProductionVariants") or []],
                data_capture=_data_capture_summary(request.get("DataCaptureConfig")),
            ),
        )
        self.endpoints[endpoint_name] = endpoint
        return endpoint


def _autoscaled_variants(account_id: str, region: str, endpoint_name: str) -> set[str]:
    backend = aas_models.applicationautoscaling_backends[account_id][region]
    prefix = f"endpoint/{endpoint_name}/variant/"
    names: set[str] = set()
    for targets in backend.targets.values():
        for resource_id, target in targets.items():
            if target.service_namespace == SAGEMAKER_NAMESPACE and resource_id.startswith(prefix):
                names.add(resource_id[len(prefix) :])
    return names


def _update_endpoint(
    self: Any,
    endpoint_name: str,
    endpoint_config_name: str,
    retain_all_variant_properties: bool = False,
    exclude_retained_variant_properties: list[dict[str, str]] | None = None,
    deployment_config: dict[str, Any] | None = None,
    retain_deployment_config: bool = False,
) -> str:
    """UpdateEndpoint ("UpdateEndpoint" API reference; "Update endpoints that use auto scaling")."""
    with _LOCK:
        endpoint = _endpoint_or_error(self, endpoint_name)
        _advance(self, endpoint)
        if endpoint.endpoint_status != "InService":
            raise ValidationError(message=f'Cannot update in-progress endpoint "{endpoint.arn}".')
        config = self.endpoint_configs.get(endpoint_config_name)
        if config is None:
            arn = sm_models.FakeEndpointConfig.arn_formatter(endpoint_config_name, self.account_id, self.region_name)
            raise ValidationError(message=f'Could not find endpoint configuration "{arn}".')
        state = _state(self, endpoint)
        request = copy.deepcopy(_config_request(config))
        new_variants = request.get("ProductionVariants", [])

        # Application Auto Scaling refuses an update that changes the instance type of, or removes, a
        # variant registered as a scalable target.
        old_types = {v["VariantName"]: v.get("InstanceType") for v in state.request.get("ProductionVariants", [])}
        new_types = {v["VariantName"]: v.get("InstanceType") for v in new_variants}
        blocked = sorted(
            name
            for name in _autoscaled_variants(self.account_id, self.region_name, endpoint_name)
            if name in old_types and (name not in new_types or new_types[name] != old_types[name])
        )
        if blocked:
            raise ValidationError(
                message=(
                    f"The variant(s) {blocked} of endpoint {endpoint_name} are registered as scalable targets "
                    "with Application Auto Scaling. Deregister them before you remove them or change their "
                    "instance type."
                )
            )

        excluded = {p.get("VariantPropertyType") for p in exclude_retained_variant_properties or []}
        current = {v["VariantName"]: v for v in endpoint.production_variants}
        targets = []
        for variant in new_variants:
            target = _variant_summary(variant)
            old = current.get(variant["VariantName"])
            if retain_all_variant_properties and old is not None:
                if (
                    "DesiredInstanceCount" not in excluded
                    and "DesiredInstanceCount" in old
                    and "DesiredInstanceCount" in target
                ):
                    target["CurrentInstanceCount"] = target["DesiredInstanceCount"] = old["DesiredInstanceCount"]
                if "DesiredWeight" not in excluded and "DesiredWeight" in old:
                    target["CurrentWeight"] = target["DesiredWeight"] = old["DesiredWeight"]
            targets.append(target)
        data_capture = _data_capture_summary(request.get("DataCaptureConfig"))
        if retain_all_variant_properties and "DataCaptureConfig" not in excluded:
            data_capture = copy.deepcopy(state.data_capture)

        if deployment_config:
            state.last_deployment_config = copy.deepcopy(deployment_config)
        elif not retain_deployment_config:
            state.last_deployment_config = None

        setting = _update_settings.get(endpoint_name, _UpdateSetting())
        state.pending_update = _PendingUpdate(
            config_name=endpoint_config_name,
            request=request,
            variants=targets,
            shadow_variants=[_variant_summary(v) for v in request.get("ShadowProductionVariants") or []],
            data_capture=data_capture,
            start_time=_utcnow(),
            deadline=None if setting.outcome == "stuck" else _now() + setting.seconds,
            outcome=setting.outcome,
            failure_reason=setting.failure_reason,
        )
        endpoint.endpoint_status = "Updating"
        endpoint.last_modified_time = _utcnow()
        return str(endpoint.arn)


def _update_endpoint_weights_and_capacities(
    self: Any, endpoint_name: str, desired_weights_and_capacities: list[dict[str, Any]]
) -> str:
    """UpdateEndpointWeightsAndCapacities: Updating for a while, then InService with what was asked
    ("UpdateEndpointWeightsAndCapacities" API reference)."""
    with _LOCK:
        endpoint = _endpoint_or_error(self, endpoint_name)
        _advance(self, endpoint)
        if endpoint.endpoint_status != "InService":
            raise ValidationError(message=f'Cannot update in-progress endpoint "{endpoint.arn}".')
        variants = {v["VariantName"]: v for v in endpoint.production_variants}
        seen: set[str] = set()
        for change in desired_weights_and_capacities or []:
            name = str(change.get("VariantName"))
            if name in seen:
                raise ValidationError(message=f'The variant name "{name}" was non-unique within the request.')
            seen.add(name)
            if name not in variants:
                raise ValidationError(
                    message=(
                        f'The variant name(s) "{name}" is/are not present within endpoint configuration '
                        f'"{endpoint.endpoint_config_name}".'
                    )
                )
            variant = variants[name]
            if change.get("DesiredInstanceCount") is not None and "DesiredServerlessConfig" in variant:
                raise ValidationError(
                    message=f"DesiredInstanceCount is not supported for the serverless variant {name}."
                )
        for change in desired_weights_and_capacities or []:
            variant = variants[change["VariantName"]]
            if change.get("DesiredWeight") is not None:
                variant["DesiredWeight"] = float(change["DesiredWeight"])
            if change.get("DesiredInstanceCount") is not None:
                variant["DesiredInstanceCount"] = int(change["DesiredInstanceCount"])
            serverless = change.get("ServerlessUpdateConfig")
            if serverless and "DesiredServerlessConfig" in variant:
                variant["DesiredServerlessConfig"].update(serverless)
        seconds = _capacity_seconds.get(endpoint_name, DEFAULT_CAPACITY_SECONDS)
        state = _state(self, endpoint)
        state.capacity_deadline = _now() + seconds
        endpoint.endpoint_status = "Updating"
        endpoint.last_modified_time = _utcnow()
        _advance(self, endpoint)  # seconds == 0 applies at once
        return str(endpoint.arn)


def _clamp_desired_instance_count(
    account_id: str, region: str, endpoint_name: str, variant_name: str, minimum: int | None, maximum: int | None
) -> None:
    """RegisterScalableTarget moves an active resource's capacity into [MinCapacity, MaxCapacity]
    ("RegisterScalableTarget" API reference). The endpoint stays InService."""
    backend = sm_models.sagemaker_backends[account_id][region]
    endpoint = backend.endpoints.get(endpoint_name)
    if endpoint is None:
        return
    _advance(backend, endpoint)
    if endpoint.endpoint_status != "InService":
        return
    for variant in endpoint.production_variants:
        if variant["VariantName"] != variant_name or "DesiredInstanceCount" not in variant:
            continue
        count = variant["DesiredInstanceCount"]
        if minimum is not None:
            count = max(count, minimum)
        if maximum is not None:
            count = min(count, maximum)
        if count != variant["DesiredInstanceCount"]:
            variant["DesiredInstanceCount"] = variant["CurrentInstanceCount"] = count
            endpoint.last_modified_time = _utcnow()


def _list_endpoints_advancing(original: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(original)
    def list_endpoints(self: Any, *args: Any, **kwargs: Any) -> Any:
        with _LOCK:
            for endpoint in list(self.endpoints.values()):
                _advance(self, endpoint)
            return original(self, *args, **kwargs)

    return list_endpoints


# --- SageMaker endpoint configs ---------------------------------------------------------------------------


def _response_create_endpoint_config(self: Any) -> ActionResult:
    """CreateEndpointConfig keeping the whole request ("CreateEndpointConfig" API reference)."""
    params = self.params.original_dict() if hasattr(self.params, "original_dict") else self.params
    request = copy.deepcopy(dict(params))
    name = request.get("EndpointConfigName") or ""
    if len(name) > _CONFIG_NAME_MAX:
        raise ValidationError(
            message=(
                f"1 validation error detected: Value '{name}' at 'endpointConfigName' failed to satisfy "
                f"constraint: Member must have length less than or equal to {_CONFIG_NAME_MAX}"
            )
        )
    if not _CONFIG_NAME_PATTERN.match(name):
        raise ValidationError(
            message=(
                f"1 validation error detected: Value '{name}' at 'endpointConfigName' failed to satisfy "
                f"constraint: Member must satisfy regular expression pattern: {_CONFIG_NAME_PATTERN.pattern}"
            )
        )
    backend = self.sagemaker_backend
    with _LOCK:
        if name in backend.endpoint_configs:
            arn = sm_models.FakeEndpointConfig.arn_formatter(name, backend.account_id, backend.region_name)
            raise ValidationError(message=f'Cannot create already existing endpoint configuration "{arn}".')
        config = backend.create_endpoint_config(
            endpoint_config_name=name,
            production_variants=request.get("ProductionVariants"),
            data_capture_config=request.get("DataCaptureConfig"),
            async_inference_config=request.get("AsyncInferenceConfig"),
            tags=request.get("Tags"),
            kms_key_id=request.get("KmsKeyId"),
        )
        request.pop("Tags", None)
        setattr(config, _REQUEST_ATTR, request)
    return ActionResult({"EndpointConfigArn": config.endpoint_config_arn})


def _describe_endpoint_config_wrapper(original: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(original)
    def describe_endpoint_config(self: Any, endpoint_config_name: str) -> dict[str, Any]:
        config = self.endpoint_configs.get(endpoint_config_name)
        request = getattr(config, _REQUEST_ATTR, None) if config is not None else None
        if request is None:
            return dict(original(self, endpoint_config_name))
        response = copy.deepcopy(request)
        response.update(
            EndpointConfigName=config.endpoint_config_name,
            EndpointConfigArn=config.endpoint_config_arn,
            CreationTime=config.creation_time,
        )
        return response

    return describe_endpoint_config


def _response_update_endpoint(self: Any) -> ActionResult:
    arn = self.sagemaker_backend.update_endpoint(
        endpoint_name=self._get_param("EndpointName"),
        endpoint_config_name=self._get_param("EndpointConfigName"),
        retain_all_variant_properties=bool(self._get_param("RetainAllVariantProperties", False)),
        exclude_retained_variant_properties=self._get_param("ExcludeRetainedVariantProperties"),
        deployment_config=self._get_param("DeploymentConfig"),
        retain_deployment_config=bool(self._get_param("RetainDeploymentConfig", False)),
    )
    return ActionResult({"EndpointArn": arn})


# ---------------------------------------------------------------------------------------------------------
# Application Auto Scaling
# ---------------------------------------------------------------------------------------------------------


def _no_target(namespace: str, resource_id: str, dimension: str) -> ObjectNotFoundException:
    return ObjectNotFoundException(
        f"No scalable target registered for service namespace: {namespace}, resource ID: {resource_id}, "
        f"scalable dimension: {dimension}"
    )


def _require_target(backend: Any, namespace: str, resource_id: str, dimension: str) -> Any:
    target = backend.targets.get(dimension, {}).get(resource_id)
    if target is None or target.service_namespace != namespace:
        raise _no_target(namespace, resource_id, dimension)
    return target


def _validate_sagemaker_resource(backend: Any, resource_id: str, dimension: str) -> None:
    """RegisterScalableTarget needs the SageMaker endpoint and variant to exist (the service calls
    sagemaker:DescribeEndpoint: "Identity-based policy examples for Application Auto Scaling")."""
    parts = resource_id.split("/")
    if parts[0] != "endpoint":
        return
    if len(parts) != 4 or parts[2] != "variant":
        raise AWSValidationException(f"Unsupported resource ID for SageMaker: {resource_id}")
    endpoint_name, variant_name = parts[1], parts[3]
    sagemaker = sm_models.sagemaker_backends[backend.account_id][backend.region_name]
    endpoint = sagemaker.endpoints.get(endpoint_name)
    if endpoint is None:
        raise AWSValidationException(f"Endpoint {endpoint_name} does not exist: cannot register {resource_id}.")
    _state(sagemaker, endpoint)
    variant = next((v for v in endpoint.production_variants if v["VariantName"] == variant_name), None)
    if variant is None:
        raise AWSValidationException(
            f"Variant {variant_name} does not exist on endpoint {endpoint_name}: cannot register {resource_id}."
        )
    serverless = "DesiredServerlessConfig" in variant
    if dimension == INSTANCE_COUNT_DIMENSION and serverless:
        raise AWSValidationException(
            f"Variant {variant_name} is serverless: use {PROVISIONED_CONCURRENCY_DIMENSION}, not {dimension}."
        )
    if dimension == PROVISIONED_CONCURRENCY_DIMENSION and not serverless:
        raise AWSValidationException(f"Variant {variant_name} is not serverless: {dimension} does not apply.")


def _register_scalable_target_wrapper(original: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(original)
    def register_scalable_target(
        self: Any,
        namespace: str,
        r_id: str,
        dimension: str,
        min_capacity: int | None,
        max_capacity: int | None,
        role_arn: str | None,
        suspended_state: dict[str, bool] | None,
    ) -> Any:
        with _LOCK:
            existing = self.targets.get(dimension, {}).get(r_id)
            if namespace == SAGEMAKER_NAMESPACE:
                _validate_sagemaker_resource(self, r_id, dimension)
            if existing is None and (min_capacity is None or max_capacity is None):
                raise AWSValidationException(
                    "MinCapacity and MaxCapacity are required to register a new scalable target."
                )
            effective_min = min_capacity if min_capacity is not None else existing.min_capacity
            effective_max = max_capacity if max_capacity is not None else existing.max_capacity
            if effective_min is not None and effective_max is not None and effective_min > effective_max:
                raise AWSValidationException(
                    f"Minimum capacity {effective_min} cannot be greater than maximum capacity {effective_max}."
                )
            if existing is None and role_arn is None and namespace == SAGEMAKER_NAMESPACE:
                role_arn = SAGEMAKER_SERVICE_LINKED_ROLE.format(
                    partition=_partition(self.region_name), account=self.account_id
                )
            if suspended_state is not None or existing is None:
                base = dict.fromkeys(_SUSPENDED_KEYS, False)
                if existing is not None and existing.suspended_state:
                    base.update(existing.suspended_state)
                base.update({k: bool(v) for k, v in (suspended_state or {}).items()})
                suspended_state = base
            target = original(self, namespace, r_id, dimension, min_capacity, max_capacity, role_arn, suspended_state)
            if existing is not None and role_arn is not None:
                target.role_arn = role_arn
            parts = r_id.split("/")
            if namespace == SAGEMAKER_NAMESPACE and dimension == INSTANCE_COUNT_DIMENSION and len(parts) == 4:
                _clamp_desired_instance_count(
                    self.account_id, self.region_name, parts[1], parts[3], target.min_capacity, target.max_capacity
                )
            return target

    return register_scalable_target


def _deregister_scalable_target(self: Any, namespace: str, r_id: str, dimension: str) -> None:
    """DeregisterScalableTarget deletes the target's policies and scheduled actions."""
    with _LOCK:
        target = self.targets.get(dimension, {}).get(r_id)
        if target is None or target.service_namespace != namespace:
            raise ObjectNotFoundException(
                f"No scalable target found for service namespace: {namespace}, resource ID: {r_id}, "
                f"scalable dimension: {dimension}"
            )
        for key, policy in list(self.policies.items()):
            if (policy.service_namespace, policy.resource_id, policy.scalable_dimension) == (
                namespace,
                r_id,
                dimension,
            ):
                _forget_policy(policy)
                del self.policies[key]
        self.scheduled_actions = [
            a
            for a in self.scheduled_actions
            if (a.service_namespace, a.resource_id, a.scalable_dimension) != (namespace, r_id, dimension)
        ]
        del self.targets[dimension][r_id]


def _forget_policy(policy: Any) -> None:
    """What deleting a policy does to CloudWatch: the alarms it created go, other alarms lose the action."""
    cloudwatch = cloudwatch_backends[policy.account_id][policy.region_name]
    created = {a.name for a in policy.alarms}
    cloudwatch.delete_alarms(list(created))
    policy.alarms = []
    for alarm in cloudwatch.alarms.values():
        for attribute in ("alarm_actions", "ok_actions", "insufficient_data_actions"):
            actions = getattr(alarm, attribute, None) or []
            if policy.policy_arn in actions:
                setattr(alarm, attribute, [a for a in actions if a != policy.policy_arn])


def _put_scaling_policy_wrapper(original: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(original)
    def put_scaling_policy(
        self: Any,
        policy_name: str,
        service_namespace: str,
        resource_id: str,
        scalable_dimension: str,
        policy_body: dict[str, Any],
        policy_type: str | None,
    ) -> Any:
        with _LOCK:
            _require_target(self, service_namespace, resource_id, scalable_dimension)
            key = aas_models.FakeApplicationAutoscalingPolicy.formulate_key(
                service_namespace, resource_id, scalable_dimension, policy_name
            )
            old = self.policies.get(key)
            policy = original(
                self, policy_name, service_namespace, resource_id, scalable_dimension, policy_body, policy_type
            )
            if old is not None:
                # An update keeps the policy (and its ARN); only a re-created policy gets a new ARN.
                _delete_created_alarms(old)
                _delete_created_alarms(policy)
                policy._guid = old._guid
                policy.policy_arn = old.policy_arn
                policy.creation_time = old.creation_time
                policy.create_alarms()
            return policy

    return put_scaling_policy


def _delete_created_alarms(policy: Any) -> None:
    cloudwatch = cloudwatch_backends[policy.account_id][policy.region_name]
    cloudwatch.delete_alarms([a.name for a in policy.alarms])
    policy.alarms = []


def _delete_scaling_policy(
    self: Any, policy_name: str, service_namespace: str, resource_id: str, scalable_dimension: str
) -> None:
    with _LOCK:
        key = aas_models.FakeApplicationAutoscalingPolicy.formulate_key(
            service_namespace, resource_id, scalable_dimension, policy_name
        )
        policy = self.policies.get(key)
        if policy is None:
            raise ObjectNotFoundException(
                f"No scaling policy found for service namespace: {service_namespace}, resource ID: {resource_id}, "
                f"scalable dimension: {scalable_dimension}, policy name: {policy_name}"
            )
        _forget_policy(policy)
        del self.policies[key]


def _create_alarms_wrapper(original: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(original)
    def create_alarms(self: Any) -> None:
        original(self)
        if self.policy_type == "TargetTrackingScaling" and self.service_namespace == SAGEMAKER_NAMESPACE:
            self.alarms.extend(_sagemaker_target_tracking_alarms(self))

    return create_alarms


# PredefinedMetricType -> (CloudWatch metric name, statistic) for SageMaker target tracking.
_PREDEFINED_METRICS = {
    "SageMakerVariantInvocationsPerInstance": ("InvocationsPerInstance", "Sum"),
    "SageMakerVariantProvisionedConcurrencyUtilization": ("ServerlessProvisionedConcurrencyUtilization", "Average"),
    "SageMakerInferenceComponentInvocationsPerCopy": ("InvocationsPerCopy", "Sum"),
    "SageMakerVariantConcurrentRequestsPerModelHighResolution": ("ConcurrentRequestsPerModel", "Maximum"),
}


def _sagemaker_target_tracking_alarms(policy: Any) -> list[Any]:
    """The AlarmHigh/AlarmLow alarms Application Auto Scaling creates for a target tracking policy."""
    cloudwatch = cloudwatch_backends[policy.account_id][policy.region_name]
    config = policy.target_tracking_scaling_policy_configuration or {}
    parts = policy.resource_id.split("/")
    if parts[0] == "endpoint" and len(parts) == 4:
        dimensions = [{"Name": "EndpointName", "Value": parts[1]}, {"Name": "VariantName", "Value": parts[3]}]
    else:
        dimensions = [{"Name": "InferenceComponentName", "Value": parts[-1]}]
    predefined = config.get("PredefinedMetricSpecification")
    if predefined:
        metric_type = predefined.get("PredefinedMetricType", "")
        metric_name, statistic = _PREDEFINED_METRICS.get(metric_type, (metric_type, "Average"))
        namespace = "AWS/SageMaker"
    else:
        custom = config.get("CustomizedMetricSpecification") or {}
        metric_name = custom.get("MetricName", "CustomMetric")
        namespace = custom.get("Namespace", "Custom")
        statistic = custom.get("Statistic", "Average")
        dimensions = custom.get("Dimensions") or dimensions
    target_value = float(config.get("TargetValue", 0.0))
    action = f"{policy.policy_arn}:createdBy/{uuid.uuid4()}"
    description = f"DO NOT EDIT OR DELETE. For TargetTrackingScaling policy {action}."
    def alarm(kind: str, comparison: str, periods: int, threshold: float) -> Any:
        return cloudwatch.put_metric_alarm(
            name=f"TargetTracking-{policy.resource_id}-{kind}-{uuid.uuid4()}",
            namespace=namespace,
            metric_name=metric_name,
            comparison_operator=comparison,
            evaluation_periods=periods,
            period=60,
            threshold=threshold,
            statistic=statistic,
            description=description,
            dimensions=dimensions,
            alarm_actions=[action],
        )

    alarms = [alarm("AlarmHigh", "GreaterThanThreshold", 3, target_value)]
    if not config.get("DisableScaleIn"):
        alarms.append(alarm("AlarmLow", "LessThanThreshold", 15, round(target_value * 0.9, 6)))
    return alarms


def _build_alarms(policy: Any) -> list[dict[str, str]]:
    """A policy's ``Alarms``: the alarms it created plus the alarms whose actions invoke it."""
    with _LOCK:
        cloudwatch = cloudwatch_backends[policy.account_id][policy.region_name]
        alarms: dict[str, str] = {}
        for alarm in policy.alarms:
            if alarm.name in cloudwatch.alarms:
                alarms[alarm.name] = alarm.alarm_arn
        for alarm in cloudwatch.alarms.values():
            if policy.policy_arn in (alarm.alarm_actions or []):
                alarms[alarm.name] = alarm.alarm_arn
        return [{"AlarmName": name, "AlarmARN": arn} for name, arn in sorted(alarms.items())]


def _response_describe_scaling_policies(self: Any) -> str:
    """DescribeScalingPolicies with exact ResourceId/ScalableDimension matching, PolicyNames and pages of at
    most 10 ("DescribeScalingPolicies" API reference)."""
    params = json.loads(self.body or "{}")
    self._validate_params()
    max_results = params.get("MaxResults") or _POLICY_PAGE_MAX
    if not 1 <= int(max_results) <= _POLICY_PAGE_MAX:
        raise AWSValidationException(
            f"1 validation error detected: Value '{max_results}' at 'maxResults' failed to satisfy constraint: "
            f"Member must have value less than or equal to {_POLICY_PAGE_MAX}"
        )
    backend = self.applicationautoscaling_backend
    with _LOCK:
        policies = [p for p in backend.policies.values() if p.service_namespace == params.get("ServiceNamespace")]
        if params.get("ResourceId"):
            policies = [p for p in policies if p.resource_id == params["ResourceId"]]
        if params.get("ScalableDimension"):
            policies = [p for p in policies if p.scalable_dimension == params["ScalableDimension"]]
        if params.get("PolicyNames"):
            policies = [p for p in policies if p.policy_name in params["PolicyNames"]]
        start = int(params.get("NextToken") or 0)
        page = policies[start : start + int(max_results)]
        next_token = str(start + int(max_results)) if start + int(max_results) < len(policies) else None
        body: dict[str, Any] = {"ScalingPolicies": [aas_responses._build_policy(p) for p in page]}
    if next_token:
        body["NextToken"] = next_token
    return json.dumps(body)


def _put_scheduled_action_wrapper(original: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(original)
    def put_scheduled_action(self: Any, service_namespace: str, schedule: str, timezone: str,
                             scheduled_action_name: str, resource_id: str, scalable_dimension: str,
                             *args: Any, **kwargs: Any) -> Any:
        with _LOCK:
            _require_target(self, service_namespace, resource_id, scalable_dimension)
            return original(self, service_namespace, schedule, timezone, scheduled_action_name, resource_id,
                            scalable_dimension, *args, **kwargs)

    return put_scheduled_action


def _delete_scheduled_action(
    self: Any, service_namespace: str, scheduled_action_name: str, resource_id: str, scalable_dimension: str
) -> None:
    with _LOCK:
        keep = [
            a
            for a in self.scheduled_actions
            if (a.service_namespace, a.scheduled_action_name, a.resource_id, a.scalable_dimension)
            != (service_namespace, scheduled_action_name, resource_id, scalable_dimension)
        ]
        if len(keep) == len(self.scheduled_actions):
            raise ObjectNotFoundException(
                f"No scheduled action found for service namespace: {service_namespace}, resource ID: "
                f"{resource_id}, scalable dimension: {scalable_dimension}, scheduled action name: "
                f"{scheduled_action_name}"
            )
        self.scheduled_actions = keep


def _target_params_are_valid_wrapper(original: Callable[..., bool]) -> Callable[..., bool]:
    @functools.wraps(original)
    def _target_params_are_valid(namespace: str, r_id: str, dimension: str) -> bool:
        if dimension in _EXTRA_DIMENSIONS:
            resource_type = dimension.split(":")[1]
            actual = aas_models._get_resource_type_from_resource_id(r_id)
            if namespace == SAGEMAKER_NAMESPACE and actual == resource_type:
                return True
            raise AWSValidationException("Unsupported service namespace, resource type or scalable dimension")
        return original(namespace, r_id, dimension)

    return _target_params_are_valid


def _validate_params_wrapper(original: Callable[..., None]) -> Callable[..., None]:
    @functools.wraps(original)
    def _validate_params(self: Any) -> None:
        if self._get_param("ScalableDimension") in _EXTRA_DIMENSIONS:
            if self._get_param("ServiceNamespace") != SAGEMAKER_NAMESPACE:
                raise AWSValidationException("Unsupported service namespace, resource type or scalable dimension")
            return
        original(self)

    return _validate_params


# ---------------------------------------------------------------------------------------------------------
# Fault injection at the request-handling layer
# ---------------------------------------------------------------------------------------------------------


def _call_action_wrapper(original: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(original)
    def call_action(self: Any) -> Any:
        if _faults or throttling.is_enabled():
            try:
                operation = self._get_action()
            except Exception:  # an unroutable request: let moto answer it
                operation = None
            fault = _take_fault(self.boto3_service_name, operation) if operation else None
            # -- emulated request-rate throttling (offline/throttling.py) --
            if fault is None and operation and throttling.throttles(self.boto3_service_name, operation):
                fault = _Fault(throttling.ERROR_CODE, throttling.ERROR_MESSAGE, 0)
            # -- end of throttling --
            if fault is not None:
                status, headers, body = self.serialized(ActionResult(_InjectedError(fault.code, fault.message)))
                headers, body = self._enrich_response(headers, body)
                return status, headers, body
        return original(self)

    return call_action


# ---------------------------------------------------------------------------------------------------------
# install()
# ---------------------------------------------------------------------------------------------------------


def _patch(owner: Any, name: str, replacement: Any) -> None:
    setattr(owner, name, replacement)


def install() -> None:
    """Patch moto (idempotent). Call before or inside ``mock_aws``; patches stay for the process."""
    global _INSTALLED
    with _LOCK:
        if _INSTALLED:
            return
        backend = sm_models.SageMakerModelBackend
        response = sm_responses.SageMakerResponse
        _patch(backend, "describe_endpoint", _describe_endpoint)
        _patch(backend, "create_endpoint", _create_endpoint)
        _patch(backend, "update_endpoint", _update_endpoint)
        _patch(backend, "update_endpoint_weights_and_capacities", _update_endpoint_weights_and_capacities)
        _patch(backend, "list_endpoints", _list_endpoints_advancing(backend.list_endpoints))
        _patch(backend, "describe_endpoint_config", _describe_endpoint_config_wrapper(backend.describe_endpoint_config))
        _patch(response, "update_endpoint", _response_update_endpoint)
        _patch(response, "create_endpoint_config", _response_create_endpoint_config)

        aas_backend = aas_models.ApplicationAutoscalingBackend
        aas_response = aas_responses.ApplicationAutoScalingResponse
        _patch(aas_backend, "register_scalable_target",
               _register_scalable_target_wrapper(aas_backend.register_scalable_target))
        _patch(aas_backend, "deregister_scalable_target", _deregister_scalable_target)
        _patch(aas_backend, "put_scaling_policy", _put_scaling_policy_wrapper(aas_backend.put_scaling_policy))
        _patch(aas_backend, "delete_scaling_policy", _delete_scaling_policy)
        _patch(aas_backend, "put_scheduled_action", _put_scheduled_action_wrapper(aas_backend.put_scheduled_action))
        _patch(aas_backend, "delete_scheduled_action", _delete_scheduled_action)
        _patch(aas_models.FakeApplicationAutoscalingPolicy, "create_alarms",
               _create_alarms_wrapper(aas_models.FakeApplicationAutoscalingPolicy.create_alarms))
        _patch(aas_models, "_target_params_are_valid",
               _target_params_are_valid_wrapper(aas_models._target_params_are_valid))
        _patch(aas_responses, "_build_alarms", _build_alarms)
        _patch(aas_response, "describe_scaling_policies", _response_describe_scaling_policies)
        _patch(aas_response, "_validate_params", _validate_params_wrapper(aas_response._validate_params))

        _patch(BaseResponse, "call_action", _call_action_wrapper(BaseResponse.call_action))
        _INSTALLED = True
