"""SageMaker as the endpoint updater needs it, on moto's SageMaker backend.

* UpdateEndpoint, which moto lacks ("UpdateEndpoint" API reference): the endpoint is ``Updating`` while the
  old config serves, DescribeEndpoint shows ``PendingDeploymentSummary`` ("PendingDeploymentSummary" API
  reference), then the configured outcome applies (:func:`configure_update`). Refused when the endpoint is
  not InService ("Cannot update in-progress endpoint"), when the config does not exist, and when a variant
  registered with Application Auto Scaling would change its instance type or disappear ("Update endpoints
  that use auto scaling"). Without ``RetainAllVariantProperties`` each variant takes its weight and count
  from the new config's InitialVariantWeight/InitialInstanceCount; with it, production and shadow variants
  keep their live DesiredWeight and DesiredInstanceCount, and the endpoint its DataCaptureConfig, except
  what ``ExcludeRetainedVariantProperties`` names ("UpdateEndpoint" API reference, "VariantProperty").
  DescribeEndpoint's ``LastDeploymentConfig`` is the DeploymentConfig of the last update that gave one, kept
  by ``RetainDeploymentConfig`` ("DescribeEndpoint", "UpdateEndpoint"); the update then runs with it, and
  its auto-rollback alarms roll the update back when one of them is in ALARM as the update would complete
  ("Auto-Rollback Configuration and Monitoring"). :func:`update_requests` gives the requests received.
* DescribeEndpoint variants as AWS shows them ("ProductionVariantSummary": weights and instance counts, or the
  serverless configs), ShadowProductionVariants, DataCaptureConfig summary ("DescribeEndpoint").
* UpdateEndpointWeightsAndCapacities is refused unless InService, and when it changes the capacity of more
  than one variant; then keeps the endpoint ``Updating`` for a while (:func:`configure_capacity_change`) and
  only sets what was asked, or rolls the change back ("UpdateEndpointWeightsAndCapacities" API reference).
* CreateEndpointConfig/DescribeEndpointConfig round-trip every request field; name pattern and length, and
  "Cannot create already existing endpoint configuration" ("CreateEndpointConfig" API reference).
* RegisterScalableTarget moves an active variant's capacity into [MinCapacity, MaxCapacity]
  (:func:`clamp_desired_instance_count`, "RegisterScalableTarget" API reference).

* Every status change sends SageMaker's "SageMaker Endpoint State Change" event at its emulated moment, and a
  deployment with guardrails or a capacity change also "SageMaker Endpoint Deployment State Change" events
  (``emulation.events``): CreateEndpoint (Creating, then InService at once, as moto creates it), UpdateEndpoint
  (Updating; then InService on the new config, InService on the old one after a rollback, Failed or
  UpdateRollbackFailed), UpdateEndpointWeightsAndCapacities (Updating; then InService, or RollingBack and
  InService when it rolls back), and a status forced by :func:`set_endpoint_status`.

Durations and dates are the emulator's clock (``emulation.clock``); statuses advance lazily, whenever an
operation looks at the endpoint (DescribeEndpoint, ListEndpoints, UpdateEndpoint,
UpdateEndpointWeightsAndCapacities, RegisterScalableTarget), and, where the clock has timers, at the moment
each change ends, so that its event is sent then.
"""

from __future__ import annotations

import copy
import functools
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from endpoint_updater.offline import moto_seam
from endpoint_updater.offline.emulation import clock, events
from endpoint_updater.offline.emulation.lock import LOCK

DEFAULT_UPDATE_SECONDS = 0.5
DEFAULT_CAPACITY_SECONDS = 0.3
UPDATE_OUTCOMES = frozenset({"succeed", "fail", "rollback", "silent_rollback", "rollback_failed", "stuck"})
CAPACITY_OUTCOMES = frozenset({"succeed", "rollback"})
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
# "CreateEndpointConfig" API reference, EndpointConfigName.
_CONFIG_NAME_PATTERN = re.compile(r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$")
_CONFIG_NAME_MAX = 63


def _invalid(message: str) -> Exception:
    """SageMaker "ValidationException", as moto answers it."""
    return moto_seam.sagemaker_validation_error(message)


@dataclass(frozen=True)
class _UpdateSetting:
    seconds: float = DEFAULT_UPDATE_SECONDS
    outcome: str = "succeed"
    failure_reason: str | None = None


@dataclass(frozen=True)
class _CapacitySetting:
    seconds: float = DEFAULT_CAPACITY_SECONDS
    outcome: str = "succeed"
    failure_reason: str | None = None


# Settings per endpoint name, shared with background threads.
_update_settings: dict[str, _UpdateSetting] = {}
_capacity_settings: dict[str, _CapacitySetting] = {}
# The UpdateEndpoint requests received, per endpoint name, for tests to read what a caller sent.
_update_requests: dict[str, list[dict[str, Any]]] = {}


def reset() -> None:
    with LOCK:
        _update_settings.clear()
        _capacity_settings.clear()
        _update_requests.clear()


def update_requests(endpoint_name: str) -> list[dict[str, Any]]:
    """The UpdateEndpoint requests made for ``endpoint_name`` (accepted or not), oldest first, as sent (only
    the parameters given)."""
    with LOCK:
        return copy.deepcopy(_update_requests.get(endpoint_name, []))


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
    with LOCK:
        _update_settings[endpoint_name] = _UpdateSetting(seconds, outcome, failure_reason)


def configure_capacity_change(endpoint_name: str, *, seconds: float = DEFAULT_CAPACITY_SECONDS,
                              outcome: str = "succeed", failure_reason: str | None = None) -> None:
    """How the next UpdateEndpointWeightsAndCapacities calls of ``endpoint_name`` end, after ``seconds`` of
    ``Updating``.

    outcome: ``succeed`` (what was asked applies); ``rollback`` (a fault: the endpoint is InService again with
    every variant's weights and counts as before the call, Desired and Current alike, and ``failure_reason``
    as its FailureReason, none by default: AWS documents no FailureReason for a capacity change).
    """
    if outcome not in CAPACITY_OUTCOMES:
        raise ValueError(f"outcome must be one of {sorted(CAPACITY_OUTCOMES)}, not {outcome!r}")
    if seconds < 0:
        raise ValueError("seconds must be >= 0")
    with LOCK:
        _capacity_settings[endpoint_name] = _CapacitySetting(seconds, outcome, failure_reason)


def set_endpoint_status(endpoint_name: str, status: str, failure_reason: str | None = None) -> None:
    """Force the status of every emulated endpoint of that name (any account or region).

    Cancels an update or capacity change in progress (their outcome never applies). Raises LookupError when
    no such endpoint exists.
    """
    if status not in ENDPOINT_STATUSES:
        raise ValueError(f"status must be one of {sorted(ENDPOINT_STATUSES)}, not {status!r}")
    found = False
    with LOCK:
        for backend in moto_seam.sagemaker_backends():
            endpoint: Any = backend.endpoints.get(endpoint_name)
            if endpoint is None:
                continue
            found = True
            state = state_of(backend, endpoint)
            state.pending_update = None
            state.capacity_deadline = None
            state.capacity_rollback = None
            changed = endpoint.endpoint_status != status
            endpoint.endpoint_status = status
            endpoint.failure_reason = failure_reason
            endpoint.last_modified_time = clock.utcnow()
            if changed:
                _send_state_change(backend, endpoint)
    if not found:
        raise LookupError(f"no emulated endpoint named {endpoint_name!r}")


@dataclass
class _PendingUpdate:
    config_name: str
    request: dict[str, Any]  # the new config's CreateEndpointConfig request (without Tags)
    variants: list[dict[str, Any]]  # ProductionVariantSummary the endpoint gets on success
    shadow_variants: list[dict[str, Any]]
    data_capture: dict[str, Any] | None
    start_time: Any
    deadline: float | None  # clock.now(); None: never ends (outcome "stuck")
    outcome: str
    failure_reason: str | None
    deployment_config: dict[str, Any] | None = None  # the one this update runs with (given or retained)


@dataclass
class _EndpointState:
    request: dict[str, Any]  # the deployed config's request
    shadow_variants: list[dict[str, Any]] = field(default_factory=list)
    data_capture: dict[str, Any] | None = None
    last_deployment_config: dict[str, Any] | None = None
    pending_update: _PendingUpdate | None = None
    capacity_deadline: float | None = None
    # The variants as they were before the capacity change in progress, when that change is to roll back.
    capacity_rollback: list[dict[str, Any]] | None = None
    capacity_failure_reason: str | None = None


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


def state_of(backend: Any, endpoint: Any) -> _EndpointState:
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
    state = state_of(backend, endpoint)
    now = clock.now()
    if state.capacity_deadline is not None and state.capacity_deadline <= now:
        if state.capacity_rollback is not None:
            # "EndpointStatus" (DescribeEndpoint API reference): RollingBack while a failed scaling or weight
            # change goes back to the previous configuration, then InService. The emulator passes through it
            # in no time (polls see InService as before); its event is sent all the same.
            endpoint.endpoint_status = "RollingBack"
            endpoint.last_modified_time = clock.utcnow()
            _send_state_change(backend, endpoint)
            endpoint.production_variants = state.capacity_rollback
            endpoint.failure_reason = state.capacity_failure_reason
        for variant in endpoint.production_variants:
            if "DesiredInstanceCount" in variant:
                variant["CurrentInstanceCount"] = variant["DesiredInstanceCount"]
            if "DesiredWeight" in variant:
                variant["CurrentWeight"] = variant["DesiredWeight"]
            if "DesiredServerlessConfig" in variant:
                variant["CurrentServerlessConfig"] = copy.deepcopy(variant["DesiredServerlessConfig"])
        state.capacity_deadline = None
        state.capacity_rollback = None
        endpoint.endpoint_status = "InService"
        endpoint.last_modified_time = clock.utcnow()
        _send_state_change(backend, endpoint)
    pending = state.pending_update
    if pending is None or pending.deadline is None or pending.deadline > now:
        return
    state.pending_update = None
    endpoint.last_modified_time = clock.utcnow()
    _complete_update(backend, endpoint, state, pending)
    _send_state_change(backend, endpoint)
    if _guarded(pending.deployment_config):
        _send_deployment_change(backend, endpoint)


def _complete_update(backend: Any, endpoint: Any, state: _EndpointState, pending: _PendingUpdate) -> None:
    reason = pending.failure_reason or _default_failure_reason(pending.outcome, pending)
    tripped = _tripped_rollback_alarms(backend, pending.deployment_config)
    if pending.outcome == "succeed" and tripped:
        # "Auto-Rollback Configuration and Monitoring" (SageMaker Developer Guide): when an alarm of the
        # deployment's AutoRollbackConfiguration goes to ALARM, SageMaker rolls the update back and the
        # endpoint serves the previous config.
        endpoint.endpoint_status = "InService"
        endpoint.failure_reason = f"Deployment rolled back: alarm(s) {', '.join(tripped)} in ALARM state."
        return
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


def _tripped_rollback_alarms(backend: Any, deployment: dict[str, Any] | None) -> list[str]:
    rollback = (deployment or {}).get("AutoRollbackConfiguration") or {}
    names = [a.get("AlarmName") for a in rollback.get("Alarms") or []]
    if not names:
        return []
    alarms = moto_seam.cloudwatch_backend(backend.account_id, backend.region_name).alarms
    return sorted(n for n in names if n in alarms and alarms[n].state_value == "ALARM")


# What a failed update leaves: the endpoint's status, and whether it carries a FailureReason.
# A rollback serves the previous config again (the endpoint's config name is left unchanged).
_FAILED_OUTCOMES: dict[str, tuple[str, bool]] = {
    "fail": ("Failed", True),
    "rollback": ("InService", True),
    "silent_rollback": ("InService", False),
    "rollback_failed": ("UpdateRollbackFailed", True),
}


# -- SageMaker's endpoint events ("Events that Amazon SageMaker AI sends to Amazon EventBridge") ---------------

_EVENT_VARIANT_FIELDS = ("VariantName", "CurrentWeight", "DesiredWeight", "CurrentInstanceCount",
                         "DesiredInstanceCount", "CurrentServerlessConfig", "DesiredServerlessConfig")


def _event_detail(endpoint: Any, status: str | None = None) -> dict[str, Any]:
    """The detail both endpoint events share (the page's samples): no FailureReason, the status in upper snake
    case, dates in epoch milliseconds, tags as a map."""
    return {
        "EndpointName": endpoint.endpoint_name,
        "EndpointArn": endpoint.arn,
        "EndpointConfigName": endpoint.endpoint_config_name,
        "ProductionVariants": [{k: copy.deepcopy(v[k]) for k in _EVENT_VARIANT_FIELDS if k in v}
                               for v in endpoint.production_variants],
        "EndpointStatus": events.upper_snake(status or endpoint.endpoint_status),
        "CreationTime": events.epoch_millis(endpoint.creation_time),
        "LastModifiedTime": events.epoch_millis(endpoint.last_modified_time),
        "Tags": {t["Key"]: t.get("Value", "") for t in getattr(endpoint, "tags", None) or []},
    }


def _send(backend: Any, detail_type: str, detail: dict[str, Any]) -> None:
    events.ENDPOINT_EVENTS.send(events.envelope(detail_type, detail, backend.account_id, backend.region_name,
                                                clock.utcnow()))


def _send_state_change(backend: Any, endpoint: Any, status: str | None = None) -> None:
    _send(backend, events.STATE_CHANGE, _event_detail(endpoint, status))


def _guarded(deployment: dict[str, Any] | None) -> bool:
    """An update with deployment guardrails (blue/green or rolling, "DeploymentConfig"), the kind the deployment
    state change events describe."""
    return any((deployment or {}).get(k) for k in ("BlueGreenUpdatePolicy", "RollingUpdatePolicy"))


def _variant_status(status: str, message: str) -> list[dict[str, Any]]:
    """"ProductionVariantStatus": the deployment stage of a variant, as the deployment event shows it."""
    return [{"Status": status, "StatusMessage": message, "StartTime": events.epoch_millis(clock.utcnow())}]


def _send_deployment_change(backend: Any, endpoint: Any, pending: _PendingUpdate | None = None,
                            resized: dict[str, tuple[int, int]] | None = None) -> None:
    """A "SageMaker Endpoint Deployment State Change": the start of a guarded update (its target config in
    PendingDeploymentSummary, each new variant Creating), the start of a capacity change on the current config
    (the resized variant Updating), or, with neither, the end of the deployment (the endpoint as it ended)."""
    detail = _event_detail(endpoint)
    if pending is not None:
        variants = []
        for variant, target in zip(pending.request.get("ProductionVariants", []), pending.variants, strict=True):
            summary = _pending_variant_summary(variant, target)
            count = target.get("DesiredInstanceCount")
            summary["VariantStatus"] = _variant_status(
                "Creating", f"Launching {count} instance(s)." if count is not None else "Launching instance(s).")
            variants.append(summary)
        detail["PendingDeploymentSummary"] = {"EndpointConfigName": pending.config_name,
                                              "StartTime": events.epoch_millis(pending.start_time),
                                              "ProductionVariants": variants}
    for variant in detail["ProductionVariants"]:
        if resized and variant["VariantName"] in resized:
            before, after = resized[variant["VariantName"]]
            direction = "out" if after >= before else "in"
            variant["VariantStatus"] = _variant_status(
                "Updating", f"Scaling {direction} desired instance count to {after}.")
    _send(backend, events.DEPLOYMENT_STATE_CHANGE, detail)


def _advance_when_due(backend: Any, endpoint_name: str, seconds: float) -> None:
    """Apply what ends in `seconds` at that moment (its events then go out), where the clock has timers."""

    def due() -> None:
        with LOCK:
            endpoint = backend.endpoints.get(endpoint_name)
            if endpoint is not None:
                _advance(backend, endpoint)

    clock.call_later(seconds, due)


def _endpoint_or_error(backend: Any, endpoint_name: str) -> Any:
    endpoint = backend.endpoints.get(endpoint_name)
    if endpoint is None:
        arn = moto_seam.endpoint_class().arn_formatter(endpoint_name, backend.account_id, backend.region_name)
        raise _invalid(f'Could not find endpoint "{arn}".')
    return endpoint


def _describe_endpoint(self: Any, endpoint_name: str) -> dict[str, Any]:
    """DescribeEndpoint as AWS answers it ("DescribeEndpoint" API reference)."""
    with LOCK:
        endpoint = _endpoint_or_error(self, endpoint_name)
        _advance(self, endpoint)
        state = state_of(self, endpoint)
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
    with LOCK:
        if endpoint_name in self.endpoints:
            arn = moto_seam.endpoint_class().arn_formatter(endpoint_name, self.account_id, self.region_name)
            raise _invalid(f'Cannot create already existing endpoint "{arn}".')
        config = self.endpoint_configs.get(endpoint_config_name)
        if config is None:
            arn = moto_seam.endpoint_config_arn(endpoint_config_name, self.account_id, self.region_name)
            raise _invalid(f'Could not find endpoint configuration "{arn}".')
        request = copy.deepcopy(_config_request(config))
        endpoint_class: Any = moto_seam.endpoint_class()
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
        # moto creates the endpoint InService at once: Creating and InService are sent at that moment.
        _send_state_change(self, endpoint, "Creating")
        _send_state_change(self, endpoint)
        return endpoint


def _autoscaled_variants(account_id: str, region: str, endpoint_name: str) -> set[str]:
    backend = moto_seam.autoscaling_backend(account_id, region)
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
    retain_all_variant_properties: bool | None = None,
    exclude_retained_variant_properties: list[dict[str, str]] | None = None,
    deployment_config: dict[str, Any] | None = None,
    retain_deployment_config: bool | None = None,
) -> str:
    """UpdateEndpoint ("UpdateEndpoint" API reference; "Update endpoints that use auto scaling")."""
    with LOCK:
        sent: dict[str, Any] = {"EndpointName": endpoint_name, "EndpointConfigName": endpoint_config_name}
        for key, value in (("RetainAllVariantProperties", retain_all_variant_properties),
                           ("ExcludeRetainedVariantProperties", exclude_retained_variant_properties),
                           ("DeploymentConfig", deployment_config),
                           ("RetainDeploymentConfig", retain_deployment_config)):
            if value is not None:
                sent[key] = copy.deepcopy(value)
        _update_requests.setdefault(endpoint_name, []).append(sent)
        endpoint = _endpoint_or_error(self, endpoint_name)
        _advance(self, endpoint)
        if endpoint.endpoint_status != "InService":
            raise _invalid(f'Cannot update in-progress endpoint "{endpoint.arn}".')
        config = self.endpoint_configs.get(endpoint_config_name)
        if config is None:
            arn = moto_seam.endpoint_config_arn(endpoint_config_name, self.account_id, self.region_name)
            raise _invalid(f'Could not find endpoint configuration "{arn}".')
        state = state_of(self, endpoint)
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
            raise _invalid(

                    f"The variant(s) {blocked} of endpoint {endpoint_name} are registered as scalable targets "
                    "with Application Auto Scaling. Deregister them before you remove them or change their "
                    "instance type."

            )

        # "UpdateEndpoint" API reference: RetainAllVariantProperties false (the default) uses the variant
        # properties of the new config; true keeps the endpoint's, except the VariantProperty types listed in
        # ExcludeRetainedVariantProperties, which the new config overrides ("VariantProperty":
        # DesiredInstanceCount from InitialInstanceCount, DesiredWeight from InitialVariantWeight).
        retain = bool(retain_all_variant_properties)
        excluded = {p.get("VariantPropertyType") for p in exclude_retained_variant_properties or []}
        targets = _retained(endpoint.production_variants, new_variants, retain, excluded)
        shadow_targets = _retained(state.shadow_variants, request.get("ShadowProductionVariants") or [], retain,
                                   excluded)
        data_capture = _data_capture_summary(request.get("DataCaptureConfig"))
        if retain and "DataCaptureConfig" not in excluded:
            data_capture = copy.deepcopy(state.data_capture)

        # "UpdateEndpoint": RetainDeploymentConfig "specifies whether to reuse the last deployment
        # configuration", default false; "DescribeEndpoint": LastDeploymentConfig is "the most recent
        # deployment configuration for the endpoint". An update without either runs with SageMaker's default
        # ("DeploymentConfig": blue/green, all at once), and the emulator then leaves none to reuse.
        used: dict[str, Any] | None = None
        if deployment_config:
            used = copy.deepcopy(deployment_config)
        elif retain_deployment_config:
            used = copy.deepcopy(state.last_deployment_config)
        state.last_deployment_config = used

        setting = _update_settings.get(endpoint_name, _UpdateSetting())
        state.pending_update = _PendingUpdate(
            config_name=endpoint_config_name,
            request=request,
            variants=targets,
            shadow_variants=shadow_targets,
            data_capture=data_capture,
            start_time=clock.utcnow(),
            deadline=None if setting.outcome == "stuck" else clock.now() + setting.seconds,
            outcome=setting.outcome,
            failure_reason=setting.failure_reason,
            deployment_config=used,
        )
        endpoint.endpoint_status = "Updating"
        endpoint.last_modified_time = clock.utcnow()
        _send_state_change(self, endpoint)
        if _guarded(used):
            _send_deployment_change(self, endpoint, pending=state.pending_update)
        if setting.outcome != "stuck":
            _advance_when_due(self, endpoint_name, setting.seconds)
        return str(endpoint.arn)


def _retained(live: list[dict[str, Any]], new_variants: list[dict[str, Any]], retain: bool,
              excluded: set[Any]) -> list[dict[str, Any]]:
    """The variant summaries an update deploys: from the new config, with the live DesiredInstanceCount and
    DesiredWeight of a variant of the same name kept under RetainAllVariantProperties unless excluded."""
    current = {v["VariantName"]: v for v in live}
    targets = []
    for variant in new_variants:
        target = _variant_summary(variant)
        old = current.get(variant["VariantName"])
        if retain and old is not None:
            if "DesiredInstanceCount" not in excluded and "DesiredInstanceCount" in old \
                    and "DesiredInstanceCount" in target:
                target["CurrentInstanceCount"] = target["DesiredInstanceCount"] = old["DesiredInstanceCount"]
            if "DesiredWeight" not in excluded and "DesiredWeight" in old:
                target["CurrentWeight"] = target["DesiredWeight"] = old["DesiredWeight"]
        targets.append(target)
    return targets


def _update_endpoint_weights_and_capacities(
    self: Any, endpoint_name: str, desired_weights_and_capacities: list[dict[str, Any]]
) -> str:
    """UpdateEndpointWeightsAndCapacities: Updating for a while, then InService with what was asked, or as
    before when configured to roll back ("UpdateEndpointWeightsAndCapacities" API reference)."""
    with LOCK:
        endpoint = _endpoint_or_error(self, endpoint_name)
        _advance(self, endpoint)
        if endpoint.endpoint_status != "InService":
            raise _invalid(f'Cannot update in-progress endpoint "{endpoint.arn}".')
        # The API reference: it "updates variant weight of one or more variants associated with an existing
        # endpoint, or capacity of one variant". It does not say what AWS answers to the capacity of two
        # variants in one call; refusing it is the safer reading (a client relying on it would be caught here).
        resized = [str(c.get("VariantName")) for c in desired_weights_and_capacities or []
                   if c.get("DesiredInstanceCount") is not None or c.get("ServerlessUpdateConfig")]
        if len(resized) > 1:
            raise _invalid(
                f"UpdateEndpointWeightsAndCapacities changes the capacity of one variant per request; this one "
                f"changes the capacity of {len(resized)} variants ({', '.join(resized)})."
            )
        variants = {v["VariantName"]: v for v in endpoint.production_variants}
        seen: set[str] = set()
        for change in desired_weights_and_capacities or []:
            name = str(change.get("VariantName"))
            if name in seen:
                raise _invalid(f'The variant name "{name}" was non-unique within the request.')
            seen.add(name)
            if name not in variants:
                raise _invalid(

                        f'The variant name(s) "{name}" is/are not present within endpoint configuration '
                        f'"{endpoint.endpoint_config_name}".'

                )
            variant = variants[name]
            if change.get("DesiredInstanceCount") is not None and "DesiredServerlessConfig" in variant:
                raise _invalid(
                    f"DesiredInstanceCount is not supported for the serverless variant {name}."
                )
        setting = _capacity_settings.get(endpoint_name, _CapacitySetting())
        previous = copy.deepcopy(endpoint.production_variants) if setting.outcome == "rollback" else None
        counts = {name: v.get("DesiredInstanceCount") for name, v in variants.items()}
        for change in desired_weights_and_capacities or []:
            variant = variants[change["VariantName"]]
            if change.get("DesiredWeight") is not None:
                variant["DesiredWeight"] = float(change["DesiredWeight"])
            if change.get("DesiredInstanceCount") is not None:
                variant["DesiredInstanceCount"] = int(change["DesiredInstanceCount"])
            serverless = change.get("ServerlessUpdateConfig")
            if serverless and "DesiredServerlessConfig" in variant:
                variant["DesiredServerlessConfig"].update(serverless)
        state = state_of(self, endpoint)
        state.capacity_deadline = clock.now() + setting.seconds
        state.capacity_rollback = previous
        state.capacity_failure_reason = setting.failure_reason
        endpoint.endpoint_status = "Updating"
        endpoint.last_modified_time = clock.utcnow()
        _send_state_change(self, endpoint)
        scaled = {name: (counts[name], v["DesiredInstanceCount"]) for name, v in variants.items()
                  if counts[name] is not None and v.get("DesiredInstanceCount") != counts[name]}
        if scaled:
            _send_deployment_change(self, endpoint, resized=scaled)
        _advance(self, endpoint)  # seconds == 0 applies at once
        if state.capacity_deadline is not None:
            _advance_when_due(self, endpoint_name, setting.seconds)
        return str(endpoint.arn)


def clamp_desired_instance_count(
    account_id: str, region: str, endpoint_name: str, variant_name: str, minimum: int | None, maximum: int | None
) -> None:
    """RegisterScalableTarget moves an active resource's capacity into [MinCapacity, MaxCapacity]
    ("RegisterScalableTarget" API reference). The endpoint stays InService."""
    backend = moto_seam.sagemaker_backend(account_id, region)
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
            endpoint.last_modified_time = clock.utcnow()


def _list_endpoints_advancing(original: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(original)
    def list_endpoints(self: Any, *args: Any, **kwargs: Any) -> Any:
        with LOCK:
            for endpoint in list(self.endpoints.values()):
                _advance(self, endpoint)
            return original(self, *args, **kwargs)

    return list_endpoints


# -- endpoint configs ------------------------------------------------------------------------------------


def _response_create_endpoint_config(self: Any) -> Any:
    """CreateEndpointConfig keeping the whole request ("CreateEndpointConfig" API reference)."""
    params = self.params.original_dict() if hasattr(self.params, "original_dict") else self.params
    request = copy.deepcopy(dict(params))
    name = request.get("EndpointConfigName") or ""
    if len(name) > _CONFIG_NAME_MAX:
        raise _invalid(

                f"1 validation error detected: Value '{name}' at 'endpointConfigName' failed to satisfy "
                f"constraint: Member must have length less than or equal to {_CONFIG_NAME_MAX}"

        )
    if not _CONFIG_NAME_PATTERN.match(name):
        raise _invalid(

                f"1 validation error detected: Value '{name}' at 'endpointConfigName' failed to satisfy "
                f"constraint: Member must satisfy regular expression pattern: {_CONFIG_NAME_PATTERN.pattern}"

        )
    backend = self.sagemaker_backend
    with LOCK:
        if name in backend.endpoint_configs:
            arn = moto_seam.endpoint_config_arn(name, backend.account_id, backend.region_name)
            raise _invalid(f'Cannot create already existing endpoint configuration "{arn}".')
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
    return moto_seam.action_result({"EndpointConfigArn": config.endpoint_config_arn})


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


def _response_update_endpoint(self: Any) -> Any:
    arn = self.sagemaker_backend.update_endpoint(
        endpoint_name=moto_seam.request_param(self, "EndpointName"),
        endpoint_config_name=moto_seam.request_param(self, "EndpointConfigName"),
        retain_all_variant_properties=moto_seam.request_param(self, "RetainAllVariantProperties"),
        exclude_retained_variant_properties=moto_seam.request_param(self, "ExcludeRetainedVariantProperties"),
        deployment_config=moto_seam.request_param(self, "DeploymentConfig"),
        retain_deployment_config=moto_seam.request_param(self, "RetainDeploymentConfig"),
    )
    return moto_seam.action_result({"EndpointArn": arn})


def install() -> None:
    moto_seam.replace("sagemaker.DescribeEndpoint", lambda _: _describe_endpoint)
    moto_seam.replace("sagemaker.CreateEndpoint", lambda _: _create_endpoint)
    moto_seam.replace("sagemaker.UpdateEndpoint", lambda _: _update_endpoint)
    moto_seam.replace("sagemaker.UpdateEndpointWeightsAndCapacities", lambda _: _update_endpoint_weights_and_capacities)
    moto_seam.replace("sagemaker.ListEndpoints", _list_endpoints_advancing)
    moto_seam.replace("sagemaker.DescribeEndpointConfig", _describe_endpoint_config_wrapper)
    moto_seam.replace("sagemaker.UpdateEndpoint request", lambda _: _response_update_endpoint)
    moto_seam.replace("sagemaker.CreateEndpointConfig request", lambda _: _response_create_endpoint_config)
