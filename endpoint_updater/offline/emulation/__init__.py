"""Extends moto 5.2.5 where it lacks the AWS APIs or behaviours the endpoint updater depends on.

Everything here is patched into moto at class (or module) level by :func:`install`, through
``offline.moto_seam`` (the one place that names moto's internals), so it applies to every account and
region backend, to every boto3 client created anywhere in the process, and to the Lambda handlers that the
Step Functions interpreter runs on background threads. Use it inside::

    moto.mock_aws(config={"stepfunctions": {"execute_state_machine": True}, "lambda": {"use_docker": False}})

One module per service, each citing the AWS documentation page (titles as published) of every behaviour it
emulates:

- ``sagemaker``: UpdateEndpoint and its outcomes (what it retains, its deployment config's auto-rollback
  alarms), DescribeEndpoint as AWS shows it, UpdateEndpointWeightsAndCapacities (one variant's capacity per
  call; a change that rolls back), endpoint configs that round-trip every field;
- ``autoscaling``: Application Auto Scaling's deregistration, registration, policies and scheduled actions
  as AWS applies them to SageMaker variants;
- ``inference_components``: endpoints that host inference components, and the components themselves;
- ``cloudwatch``: the alarms Application Auto Scaling creates, deletes and lists for a policy;
- ``faults``: injected AWS errors and emulated throttling, at moto's request-handling layer;
- ``events``: SageMaker's endpoint events, sent as each status change happens, and their best-effort delivery
  with switches (loss, duplication, delay, reordering);
- ``clock``: the emulator's time (real, the local runner's emulated time, or held by a test), and its timers.
"""

from __future__ import annotations

from endpoint_updater.offline import moto_seam
from endpoint_updater.offline.emulation import autoscaling, cloudwatch, events, faults, inference_components, sagemaker
from endpoint_updater.offline.emulation.clock import ManualClock, manual_clock, time_source, timers
from endpoint_updater.offline.emulation.events import (
    ENDPOINT_EVENTS,
    EndpointEvents,
    Switches,
    configure_endpoint_events,
)
from endpoint_updater.offline.emulation.faults import inject_fault
from endpoint_updater.offline.emulation.lock import LOCK
from endpoint_updater.offline.emulation.sagemaker import (
    CAPACITY_OUTCOMES,
    DEFAULT_CAPACITY_SECONDS,
    DEFAULT_UPDATE_SECONDS,
    ENDPOINT_STATUSES,
    UPDATE_OUTCOMES,
    configure_capacity_change,
    configure_update,
    set_endpoint_status,
    update_requests,
)

__all__ = [
    "CAPACITY_OUTCOMES",
    "DEFAULT_CAPACITY_SECONDS",
    "DEFAULT_UPDATE_SECONDS",
    "ENDPOINT_EVENTS",
    "ENDPOINT_STATUSES",
    "UPDATE_OUTCOMES",
    "EndpointEvents",
    "ManualClock",
    "Switches",
    "configure_capacity_change",
    "configure_endpoint_events",
    "configure_update",
    "inject_fault",
    "install",
    "manual_clock",
    "reset",
    "set_endpoint_status",
    "time_source",
    "timers",
    "update_requests",
]

_installed = False


def install() -> None:
    """Patch moto (idempotent). Call before or inside ``mock_aws``; patches stay for the process."""
    global _installed
    with LOCK:
        if _installed:
            return
        moto_seam.check()
        sagemaker.install()
        autoscaling.install()
        inference_components.install()
        cloudwatch.install()
        faults.install()
        _installed = True


def reset() -> None:
    """Forget configured behaviours and injected faults (moto's own state is reset by ``mock_aws``)."""
    with LOCK:
        sagemaker.reset()
        events.reset()
        faults.reset()
