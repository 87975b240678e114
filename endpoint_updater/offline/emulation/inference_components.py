"""SageMaker inference components, which moto 5.2.5 lacks, as far as the endpoint updater meets them.

The workflow refuses to update an endpoint that hosts inference components; the emulator has them so that the
refusal is tested against what AWS shows of such an endpoint:

* CreateEndpointConfig accepts a production variant without ``ModelName``: an endpoint for inference components
  names its models in the components, not in the config ("ProductionVariant" API reference, ModelName is
  optional; "Deploy models for real-time inference", SageMaker Developer Guide). moto 5.2.5 requires it.
* CreateInferenceComponent puts a component (its model, copy count) on an existing endpoint and variant; a
  name already used, an endpoint or a variant that does not exist is a ValidationException
  ("CreateInferenceComponent" API reference). It is InService at once.
* ListInferenceComponents filters on EndpointNameEquals, VariantNameEquals, NameContains and StatusEquals,
  newest first, in pages of MaxResults (default 10) ("ListInferenceComponents" API reference).
* Application Auto Scaling registers ``inference-component/<name>`` on
  ``sagemaker:inference-component:DesiredCopyCount`` ("Amazon SageMaker AI and Application Auto Scaling";
  ``emulation.autoscaling`` checks that the component exists).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from endpoint_updater.offline import moto_seam
from endpoint_updater.offline.emulation import clock
from endpoint_updater.offline.emulation.lock import LOCK

_COMPONENTS_ATTR = "_endpoint_updater_inference_components"
# "ListInferenceComponents" API reference: MaxResults 1 to 100, default 10.
_PAGE_DEFAULT = 10
_PAGE_MAX = 100


def _invalid(message: str) -> Exception:
    return moto_seam.sagemaker_validation_error(message)


def _components(backend: Any) -> dict[str, dict[str, Any]]:
    components: dict[str, dict[str, Any]] | None = getattr(backend, _COMPONENTS_ATTR, None)
    if components is None:
        components = {}
        setattr(backend, _COMPONENTS_ATTR, components)
    return components


def exists(account_id: str, region: str, name: str) -> bool:
    with LOCK:
        return name in _components(moto_seam.sagemaker_backend(account_id, region))


def _validate_production_variants_wrapper(original: Callable[..., None]) -> Callable[..., None]:
    @functools.wraps(original)
    def validate_production_variants(self: Any, production_variants: list[dict[str, Any]]) -> None:
        original(self, [v for v in production_variants or [] if "ModelName" in v])

    return validate_production_variants


def _response_create_inference_component(self: Any) -> Any:
    backend = self.sagemaker_backend
    name = moto_seam.request_param(self, "InferenceComponentName")
    endpoint_name = moto_seam.request_param(self, "EndpointName")
    variant_name = moto_seam.request_param(self, "VariantName")
    with LOCK:
        components = _components(backend)
        arn = f"arn:aws:sagemaker:{backend.region_name}:{backend.account_id}:inference-component/{name}"
        if name in components:
            raise _invalid(f'Cannot create already existing inference component "{arn}".')
        endpoint = backend.endpoints.get(endpoint_name)
        if endpoint is None:
            raise _invalid(f'Could not find endpoint "{endpoint_name}".')
        if variant_name and variant_name not in {v["VariantName"] for v in endpoint.production_variants}:
            raise _invalid(f'Could not find variant "{variant_name}" on endpoint "{endpoint_name}".')
        now = clock.utcnow()
        components[name] = {
            "InferenceComponentName": name, "InferenceComponentArn": arn,
            "EndpointName": endpoint_name, "EndpointArn": endpoint.arn,
            "VariantName": variant_name or endpoint.production_variants[0]["VariantName"],
            "InferenceComponentStatus": "InService", "CreationTime": now, "LastModifiedTime": now,
            "Specification": moto_seam.request_param(self, "Specification"),
            "RuntimeConfig": moto_seam.request_param(self, "RuntimeConfig"),
        }
    return moto_seam.action_result({"InferenceComponentArn": arn})


_SUMMARY_FIELDS = ("CreationTime", "InferenceComponentArn", "InferenceComponentName", "EndpointArn", "EndpointName",
                   "VariantName", "InferenceComponentStatus", "LastModifiedTime")
_FILTERS = {"EndpointNameEquals": "EndpointName", "VariantNameEquals": "VariantName",
            "StatusEquals": "InferenceComponentStatus"}


def _response_list_inference_components(self: Any) -> Any:
    page_size = int(moto_seam.request_param(self, "MaxResults") or _PAGE_DEFAULT)
    if not 1 <= page_size <= _PAGE_MAX:
        raise _invalid(f"Value '{page_size}' at 'maxResults' failed to satisfy constraint: Member must have value "
                       f"between 1 and {_PAGE_MAX}")
    with LOCK:
        found = list(_components(self.sagemaker_backend).values())
    for parameter, key in _FILTERS.items():
        wanted = moto_seam.request_param(self, parameter)
        if wanted:
            found = [c for c in found if c[key] == wanted]
    contains = moto_seam.request_param(self, "NameContains")
    if contains:
        found = [c for c in found if contains in c["InferenceComponentName"]]
    found.sort(key=lambda c: c["CreationTime"], reverse=moto_seam.request_param(self, "SortOrder") != "Ascending")
    start = int(moto_seam.request_param(self, "NextToken") or 0)
    body: dict[str, Any] = {"InferenceComponents": [{k: c[k] for k in _SUMMARY_FIELDS}
                                                    for c in found[start:start + page_size]]}
    if start + page_size < len(found):
        body["NextToken"] = str(start + page_size)
    return moto_seam.action_result(body)


def install() -> None:
    moto_seam.replace("sagemaker.production variants check", _validate_production_variants_wrapper)
    moto_seam.replace("sagemaker.CreateInferenceComponent request", lambda _: _response_create_inference_component)
    moto_seam.replace("sagemaker.ListInferenceComponents request", lambda _: _response_list_inference_components)
