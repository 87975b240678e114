"""Application Auto Scaling for SageMaker variants, on moto's backend.

* DeregisterScalableTarget deletes the target's scaling policies and scheduled actions
  ("DeregisterScalableTarget" API reference).
* DescribeScalingPolicies matches ResourceId exactly, honours PolicyNames, pages by 10 and lists each policy's
  ``Alarms`` ("DescribeScalingPolicies" API reference).
* PutScalingPolicy keeps the ARN of an existing policy and gives a re-created policy a new ARN.
* RegisterScalableTarget checks the SageMaker endpoint and variant, defaults RoleARN to the service-linked role
  ("Amazon SageMaker AI and Application Auto Scaling", "Service-linked roles for Application Auto Scaling"),
  round-trips SuspendedState, updates an existing target in place and moves the variant's
  DesiredInstanceCount into [MinCapacity, MaxCapacity] ("RegisterScalableTarget" API reference).
* The SageMaker dimensions moto lacks: serverless provisioned concurrency and inference-component copy count
  ("Amazon SageMaker AI and Application Auto Scaling").
* PutScalingPolicy / PutScheduledAction / DeleteScalingPolicy / DeleteScheduledAction /
  DeregisterScalableTarget on a missing object answer ObjectNotFoundException ("ObjectNotFoundException").
* Scalable-target tags, which moto 5.2.5 ignores (it drops RegisterScalableTarget's ``Tags`` and lacks
  ListTagsForResource, TagResource and UntagResource): RegisterScalableTarget tags the target it creates and
  leaves an existing target's tags alone ("RegisterScalableTarget" API reference, Tags: "Use this parameter to
  tag the scalable target when it is created. To tag an existing scalable target, use the TagResource
  operation"; read the safer way, since the docs do not say what Tags do on an existing target); the tags go
  with the target when it is deregistered (the target is deleted); TagResource adds or replaces, UntagResource
  removes, ListTagsForResource reads them by ScalableTargetARN, and an unknown ARN is
  ResourceNotFoundException ("TagResource", "UntagResource", "ListTagsForResource" API references; "Tagging
  support for Application Auto Scaling" user guide). Keys are 1 to 128 characters, values up to 256 (TagKey,
  TagValue in the botocore model).
* RegisterScalableTarget for an inference component (``inference-component/<name>``) needs the component to
  exist ("Amazon SageMaker AI and Application Auto Scaling").

What deleting a policy does to its alarms is CloudWatch's side (``emulation.cloudwatch``).
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from typing import Any

from endpoint_updater.offline import moto_seam
from endpoint_updater.offline.emulation import cloudwatch, sagemaker
from endpoint_updater.offline.emulation.lock import LOCK
from endpoint_updater.offline.emulation.sagemaker import SAGEMAKER_NAMESPACE

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
# "DescribeScalingPolicies" API reference: MaxResults between 1 and 10, default 10.
_POLICY_PAGE_MAX = 10


def _invalid(message: str) -> Exception:
    """Application Auto Scaling "ValidationException", as moto answers it."""
    return moto_seam.autoscaling_validation_error(message)


class ObjectNotFoundException(moto_seam.json_error_class()):  # type: ignore[misc]
    """Application Auto Scaling "ObjectNotFoundException" (API reference, Errors)."""

    def __init__(self, message: str) -> None:
        super().__init__("ObjectNotFoundException", message)


class ResourceNotFoundException(moto_seam.json_error_class()):  # type: ignore[misc]
    """Application Auto Scaling "ResourceNotFoundException" (ListTagsForResource, TagResource, UntagResource)."""

    def __init__(self, message: str) -> None:
        super().__init__("ResourceNotFoundException", message)


def partition(region: str) -> str:
    if region.startswith("cn-"):
        return "aws-cn"
    if region.startswith("us-gov-"):
        return "aws-us-gov"
    return "aws"


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
    if parts[0] == "inference-component":
        from endpoint_updater.offline.emulation import inference_components

        if not inference_components.exists(backend.account_id, backend.region_name, "/".join(parts[1:])):
            raise _invalid(f"Inference component {'/'.join(parts[1:])} does not exist: cannot register {resource_id}.")
        return
    if parts[0] != "endpoint":
        return
    if len(parts) != 4 or parts[2] != "variant":
        raise _invalid(f"Unsupported resource ID for SageMaker: {resource_id}")
    endpoint_name, variant_name = parts[1], parts[3]
    sagemaker_backend = moto_seam.sagemaker_backend(backend.account_id, backend.region_name)
    endpoint = sagemaker_backend.endpoints.get(endpoint_name)
    if endpoint is None:
        raise _invalid(f"Endpoint {endpoint_name} does not exist: cannot register {resource_id}.")
    sagemaker.state_of(sagemaker_backend, endpoint)
    variant = next((v for v in endpoint.production_variants if v["VariantName"] == variant_name), None)
    if variant is None:
        raise _invalid(
            f"Variant {variant_name} does not exist on endpoint {endpoint_name}: cannot register {resource_id}."
        )
    serverless = "DesiredServerlessConfig" in variant
    if dimension == INSTANCE_COUNT_DIMENSION and serverless:
        raise _invalid(
            f"Variant {variant_name} is serverless: use {PROVISIONED_CONCURRENCY_DIMENSION}, not {dimension}."
        )
    if dimension == PROVISIONED_CONCURRENCY_DIMENSION and not serverless:
        raise _invalid(f"Variant {variant_name} is not serverless: {dimension} does not apply.")


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
        with LOCK:
            existing = self.targets.get(dimension, {}).get(r_id)
            if namespace == SAGEMAKER_NAMESPACE:
                _validate_sagemaker_resource(self, r_id, dimension)
            if existing is None and (min_capacity is None or max_capacity is None):
                raise _invalid(
                    "MinCapacity and MaxCapacity are required to register a new scalable target."
                )
            effective_min = min_capacity if min_capacity is not None else existing.min_capacity
            effective_max = max_capacity if max_capacity is not None else existing.max_capacity
            if effective_min is not None and effective_max is not None and effective_min > effective_max:
                raise _invalid(
                    f"Minimum capacity {effective_min} cannot be greater than maximum capacity {effective_max}."
                )
            if existing is None and role_arn is None and namespace == SAGEMAKER_NAMESPACE:
                role_arn = SAGEMAKER_SERVICE_LINKED_ROLE.format(
                    partition=partition(self.region_name), account=self.account_id
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
                sagemaker.clamp_desired_instance_count(
                    self.account_id, self.region_name, parts[1], parts[3], target.min_capacity, target.max_capacity
                )
            return target

    return register_scalable_target


def _deregister_scalable_target(self: Any, namespace: str, r_id: str, dimension: str) -> None:
    """DeregisterScalableTarget deletes the target's policies and scheduled actions."""
    with LOCK:
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
                cloudwatch.forget_policy(policy)
                del self.policies[key]
        self.scheduled_actions = [
            a
            for a in self.scheduled_actions
            if (a.service_namespace, a.resource_id, a.scalable_dimension) != (namespace, r_id, dimension)
        ]
        del self.targets[dimension][r_id]


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
        with LOCK:
            _require_target(self, service_namespace, resource_id, scalable_dimension)
            key = moto_seam.scaling_policy_key(
                service_namespace, resource_id, scalable_dimension, policy_name
            )
            old = self.policies.get(key)
            policy = original(
                self, policy_name, service_namespace, resource_id, scalable_dimension, policy_body, policy_type
            )
            if old is not None:
                # An update keeps the policy (and its ARN); only a re-created policy gets a new ARN.
                cloudwatch.delete_created_alarms(old)
                cloudwatch.delete_created_alarms(policy)
                moto_seam.keep_policy_identity(policy, old)
                policy.create_alarms()
            return policy

    return put_scaling_policy


def _delete_scaling_policy(
    self: Any, policy_name: str, service_namespace: str, resource_id: str, scalable_dimension: str
) -> None:
    with LOCK:
        key = moto_seam.scaling_policy_key(
            service_namespace, resource_id, scalable_dimension, policy_name
        )
        policy = self.policies.get(key)
        if policy is None:
            raise ObjectNotFoundException(
                f"No scaling policy found for service namespace: {service_namespace}, resource ID: {resource_id}, "
                f"scalable dimension: {scalable_dimension}, policy name: {policy_name}"
            )
        cloudwatch.forget_policy(policy)
        del self.policies[key]


def _response_describe_scaling_policies(self: Any) -> str:
    """DescribeScalingPolicies with exact ResourceId/ScalableDimension matching, PolicyNames and pages of at
    most 10 ("DescribeScalingPolicies" API reference)."""
    params = json.loads(self.body or "{}")
    moto_seam.validate_autoscaling_request(self)
    max_results = params.get("MaxResults") or _POLICY_PAGE_MAX
    if not 1 <= int(max_results) <= _POLICY_PAGE_MAX:
        raise _invalid(
            f"1 validation error detected: Value '{max_results}' at 'maxResults' failed to satisfy constraint: "
            f"Member must have value less than or equal to {_POLICY_PAGE_MAX}"
        )
    backend = self.applicationautoscaling_backend
    with LOCK:
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
        body: dict[str, Any] = {"ScalingPolicies": [moto_seam.policy_description(p) for p in page]}
    if next_token:
        body["NextToken"] = next_token
    return json.dumps(body)


def _put_scheduled_action_wrapper(original: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(original)
    def put_scheduled_action(self: Any, service_namespace: str, schedule: str, timezone: str,
                             scheduled_action_name: str, resource_id: str, scalable_dimension: str,
                             *args: Any, **kwargs: Any) -> Any:
        with LOCK:
            _require_target(self, service_namespace, resource_id, scalable_dimension)
            return original(self, service_namespace, schedule, timezone, scheduled_action_name, resource_id,
                            scalable_dimension, *args, **kwargs)

    return put_scheduled_action


def _delete_scheduled_action(
    self: Any, service_namespace: str, scheduled_action_name: str, resource_id: str, scalable_dimension: str
) -> None:
    with LOCK:
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
            actual = moto_seam.resource_type(r_id)
            if namespace == SAGEMAKER_NAMESPACE and actual == resource_type:
                return True
            raise _invalid("Unsupported service namespace, resource type or scalable dimension")
        return original(namespace, r_id, dimension)

    return _target_params_are_valid


def _validate_params_wrapper(original: Callable[..., None]) -> Callable[..., None]:
    @functools.wraps(original)
    def _validate_params(self: Any) -> None:
        if moto_seam.request_param(self, "ScalableDimension") in _EXTRA_DIMENSIONS:
            if moto_seam.request_param(self, "ServiceNamespace") != SAGEMAKER_NAMESPACE:
                raise _invalid("Unsupported service namespace, resource type or scalable dimension")
            return
        original(self)

    return _validate_params


# -- tags -------------------------------------------------------------------------------------------------

_TAGS_ATTR = "_endpoint_updater_tags"
_TAG_KEY_MAX = 128
_TAG_VALUE_MAX = 256


def target_tags(target: Any) -> dict[str, str]:
    tags: dict[str, str] = getattr(target, _TAGS_ATTR, None) or {}
    setattr(target, _TAGS_ATTR, tags)
    return tags


def _checked_tags(tags: Any) -> dict[str, str]:
    if not isinstance(tags, dict):
        raise _invalid("Tags must be a map of tag keys to tag values.")
    for key, value in tags.items():
        if not 1 <= len(key) <= _TAG_KEY_MAX:
            raise _invalid(f"Tag key '{key}' must be 1 to {_TAG_KEY_MAX} characters long.")
        if len(value) > _TAG_VALUE_MAX:
            raise _invalid(f"The value of tag '{key}' must be at most {_TAG_VALUE_MAX} characters long.")
    return dict(tags)


def _target_by_arn(backend: Any, arn: str) -> Any:
    for targets in backend.targets.values():
        for target in targets.values():
            if target.arn == arn:
                return target
    raise ResourceNotFoundException(f"No scalable target found for ARN {arn}")


def _register_scalable_target_request_wrapper(original: Callable[..., str]) -> Callable[..., str]:
    @functools.wraps(original)
    def register_scalable_target(self: Any) -> str:
        tags = moto_seam.request_param(self, "Tags")
        backend = self.applicationautoscaling_backend
        dimension = moto_seam.request_param(self, "ScalableDimension")
        r_id = moto_seam.request_param(self, "ResourceId")
        with LOCK:
            checked = _checked_tags(tags) if tags is not None else None
            created = backend.targets.get(dimension, {}).get(r_id) is None
            answer = original(self)
            if created and checked:
                target_tags(backend.targets[dimension][r_id]).update(checked)
        return answer

    return register_scalable_target


def _response_list_tags_for_resource(self: Any) -> str:
    with LOCK:
        target = _target_by_arn(self.applicationautoscaling_backend, moto_seam.request_param(self, "ResourceARN"))
        return json.dumps({"Tags": dict(target_tags(target))})


def _response_tag_resource(self: Any) -> str:
    tags = _checked_tags(moto_seam.request_param(self, "Tags") or {})
    with LOCK:
        target = _target_by_arn(self.applicationautoscaling_backend, moto_seam.request_param(self, "ResourceARN"))
        target_tags(target).update(tags)
    return json.dumps({})


def _response_untag_resource(self: Any) -> str:
    keys = moto_seam.request_param(self, "TagKeys") or []
    with LOCK:
        target = _target_by_arn(self.applicationautoscaling_backend, moto_seam.request_param(self, "ResourceARN"))
        for key in keys:
            target_tags(target).pop(key, None)
    return json.dumps({})


def install() -> None:
    moto_seam.replace("autoscaling.RegisterScalableTarget", _register_scalable_target_wrapper)
    moto_seam.replace("autoscaling.DeregisterScalableTarget", lambda _: _deregister_scalable_target)
    moto_seam.replace("autoscaling.PutScalingPolicy", _put_scaling_policy_wrapper)
    moto_seam.replace("autoscaling.DeleteScalingPolicy", lambda _: _delete_scaling_policy)
    moto_seam.replace("autoscaling.PutScheduledAction", _put_scheduled_action_wrapper)
    moto_seam.replace("autoscaling.DeleteScheduledAction", lambda _: _delete_scheduled_action)
    moto_seam.replace("autoscaling.target parameters check", _target_params_are_valid_wrapper)
    moto_seam.replace("autoscaling.DescribeScalingPolicies request", lambda _: _response_describe_scaling_policies)
    moto_seam.replace("autoscaling.request parameters check", _validate_params_wrapper)
    moto_seam.replace("autoscaling.RegisterScalableTarget request", _register_scalable_target_request_wrapper)
    moto_seam.replace("autoscaling.ListTagsForResource request", lambda _: _response_list_tags_for_resource)
    moto_seam.replace("autoscaling.TagResource request", lambda _: _response_tag_resource)
    moto_seam.replace("autoscaling.UntagResource request", lambda _: _response_untag_resource)
