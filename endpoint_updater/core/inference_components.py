"""Endpoints that host inference components, which the workflow refuses before changing anything.

On such an endpoint the models live in the inference components, not in the endpoint config: the config's
variants name no model, ManagedInstanceScaling (which exists only for them) scales the instances, and
Application Auto Scaling scales each component's copies (`inference-component/<name>` on
`sagemaker:inference-component:DesiredCopyCount`), which the variant snapshot does not hold. A variant scaled
to zero instances even reports a DesiredInstanceCount of 0, which a copied config cannot carry
(InitialInstanceCount is at least 1). Updating them means UpdateInferenceComponent, not a new endpoint config
("Deploy models for real-time inference", "Scale an endpoint to zero instances", SageMaker Developer Guide;
"ProductionVariantManagedInstanceScaling", "ListInferenceComponents" API references).

Each sign is checked, so a partly configured endpoint is refused too: a variant with ManagedInstanceScaling
(DescribeEndpoint or the config), a config variant without ModelName, any component listed for the endpoint.
"""

from __future__ import annotations

from typing import Any

from endpoint_updater.core.aws import paginate
from endpoint_updater.core.errors import InferenceComponentsNotSupported

WHAT_INSTEAD = ("update its inference components with UpdateInferenceComponent (a new Specification or "
                "RuntimeConfig) instead; their copy-count scaling (inference-component/<name>) stays registered "
                "then. Nothing was changed")


def _variants(document: dict[str, Any]) -> list[dict[str, Any]]:
    return [v for key in ("ProductionVariants", "ShadowProductionVariants") for v in document.get(key) or []]


def check(endpoint: str, description: dict[str, Any], config: dict[str, Any] | None = None) -> None:
    """Raise InferenceComponentsNotSupported for an endpoint that hosts inference components, or whose
    variants use managed instance scaling. Reads ListInferenceComponents (EndpointNameEquals); `config`, the
    endpoint's config when already read, adds the config's own signs."""
    reasons: list[str] = []
    managed = sorted({v["VariantName"] for v in _variants(description) + _variants(config or {})
                      if v.get("ManagedInstanceScaling")})
    if managed:
        reasons.append(f"variant(s) {', '.join(managed)} use ManagedInstanceScaling, which only endpoints that host "
                       "inference components have")
    modelless = sorted(v["VariantName"] for v in _variants(config or {}) if not v.get("ModelName"))
    if modelless:
        reasons.append(f"the endpoint config's variant(s) {', '.join(modelless)} name no model: the models are in "
                       "inference components")
    components = sorted(c["InferenceComponentName"] for c in paginate(
        "sagemaker", "list_inference_components", "InferenceComponents", EndpointNameEquals=endpoint))
    if components:
        shown = ", ".join(components[:10]) + (f" and {len(components) - 10} more" if len(components) > 10 else "")
        reasons.append(f"it hosts inference components ({shown}), scaled as inference-component/<name> on "
                       "sagemaker:inference-component:DesiredCopyCount, which this workflow does not capture")
    if reasons:
        raise InferenceComponentsNotSupported(
            f"endpoint {endpoint} cannot be updated by this workflow: " + "; ".join(reasons)
            + f". To change the models it serves, {WHAT_INSTEAD}")
