"""The fault matrix: every step after the snapshot crossed with every way it can go wrong, on the real ASL file.

Each cell runs one update with a capacity raise of two autoscaled variants (one raise each, the second after
the first is confirmed) and asserts the end state:
- the scaling equals the snapshot taken before the update (targets, policies, scheduled actions, alarms);
- the endpoint's lock is released and nothing is left marked unrestored;
- the endpoint runs the new config when the update succeeded, the old one otherwise. Once SageMaker has
  accepted UpdateEndpoint, nothing can cancel that update: a run stopped or failed after that point ends with
  the endpoint on the new config, which is what the cell then expects (`UPDATE_SENT`).

A stopped or timed-out execution runs no Catch: its scaling comes back through the recovery function, which
the runner invokes with the "Step Functions Execution Status Change" event, as the stack's rule does.
The matrix is printed at the end of the run (tests/workflow/conftest.py).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from endpoint_updater.core import store
from endpoint_updater.offline import emulation
from endpoint_updater.offline.runner import LocalRunner
from endpoint_updater.offline.scenario import (
    ScalingSpec,
    VariantSpec,
    approved_model_package,
    attach_scaling,
    create_endpoint,
    endpoint_state,
    scaling_state,
)

ENDPOINT = "churn-prod"
# The polling path: its wait states are the ones named below (the callback waits have cells of their own).
REQUEST = {"EndpointName": ENDPOINT, "Completion": "polling", "PollIntervalSeconds": 1, "TimeoutSeconds": 600,
           "CapacityIncrease": {"Add": 1},
           "VariantChanges": [{"VariantName": "AllTraffic", "ModelName": "churn-v8"}]}


@dataclass(frozen=True)
class Step:
    name: str
    folder: str
    """The function whose invocation arms the fault (the fault is meant for that invocation's own calls)."""
    service: str
    operation: str
    transient_code: str
    skip: int = 0
    """Invocations of `folder` to let pass first (RaiseCapacity runs once per variant; CheckEndpoint runs for
    each variant's raise, then for the update)."""
    wait_state: str | None = None
    """For a polling step, the Wait state during which the operator stops it or the timeout hits."""
    update_sent: bool = False
    """Whether UpdateEndpoint has been accepted by the time the fault strikes (at UpdateEndpoint itself, only
    when the step still runs: a stop or a timeout lets the running invocation finish)."""


STEPS = (
    Step("CreateModel", "create_model", "sagemaker", "CreateModel", "ThrottlingException"),
    Step("DeregisterScaling", "deregister_scaling", "application-autoscaling", "DeregisterScalableTarget",
         "ConcurrentUpdateException"),
    Step("RaiseCapacity", "raise_capacity", "sagemaker", "UpdateEndpointWeightsAndCapacities", "ThrottlingException"),
    Step("CheckCapacity", "check_endpoint", "sagemaker", "DescribeEndpoint", "ThrottlingException",
         wait_state="WaitForCapacity"),
    Step("RaiseCapacity#2", "raise_capacity", "sagemaker", "UpdateEndpointWeightsAndCapacities",
         "ThrottlingException", skip=1),
    Step("CheckCapacity#2", "check_endpoint", "sagemaker", "DescribeEndpoint", "ThrottlingException", skip=1),
    Step("CreateEndpointConfig", "create_endpoint_config", "sagemaker", "CreateEndpointConfig", "ThrottlingException"),
    Step("UpdateEndpoint", "update_endpoint", "sagemaker", "UpdateEndpoint", "ThrottlingException", update_sent=True),
    Step("CheckUpdate", "check_endpoint", "sagemaker", "DescribeEndpoint", "ThrottlingException", skip=2,
         wait_state="WaitBeforeFirstPoll", update_sent=True),
    Step("RestoreScaling", "restore_scaling", "application-autoscaling", "RegisterScalableTarget",
         "ConcurrentUpdateException", update_sent=True),
)
FAULTS = ("transient error", "permanent AWS error", "handler crash", "stopped", "timed out")


@dataclass(frozen=True)
class Expected:
    status: str
    config: str  # "new" or "old"


def expected(step: Step, fault: str) -> Expected:
    if fault == "transient error":
        return Expected("SUCCEEDED", "new")
    if step.name == "RestoreScaling" and fault in ("permanent AWS error", "handler crash"):
        # The restore retries any error: the update itself had succeeded.
        return Expected("SUCCEEDED", "new")
    status = {"permanent AWS error": "FAILED", "handler crash": "FAILED", "stopped": "ABORTED",
              "timed out": "TIMED_OUT"}[fault]
    sent = step.update_sent and (step.name != "UpdateEndpoint" or fault in ("stopped", "timed out"))
    return Expected(status, "new" if sent else "old")


def arm(runner: LocalRunner, step: Step, fault: str, execution: list[str]) -> Callable[[dict[str, Any]], None]:
    def inject(_: dict[str, Any]) -> None:
        if fault == "transient error":  # more failures in a row than the SDK's own 2 attempts
            emulation.inject_fault(step.service, step.operation, step.transient_code, "try again", times=3)
        elif fault == "permanent AWS error":
            emulation.inject_fault(step.service, step.operation, "ValidationException", "refused", times=1)
        elif fault == "handler crash":
            runner.crash(step.folder, RuntimeError(f"{step.folder} crashed"))
        elif fault == "stopped":
            runner.stop(execution[0])
        else:
            runner.time_out(execution[0])

    return inject


def wait_until_settled(runner: LocalRunner, timeout: float = 15.0) -> dict[str, Any]:
    """The endpoint once SageMaker has finished what it was asked (an accepted update runs to its end)."""
    deadline = runner.clock.monotonic() + timeout
    while (state := endpoint_state(ENDPOINT))["EndpointStatus"] == "Updating":
        assert runner.clock.monotonic() < deadline, "endpoint still Updating"
        runner.sleep(0.05)
    return state


@pytest.mark.parametrize("fault", FAULTS)
@pytest.mark.parametrize("step", STEPS, ids=lambda step: step.name)
def test_fault_matrix_cell(runner: LocalRunner, step: Step, fault: str, fault_matrix: Any) -> None:
    # Given two autoscaled variants (with partly suspended targets) and a fault armed for one step
    old_config = create_endpoint(ENDPOINT, (VariantSpec(count=2), VariantSpec(name="Canary", count=1)))
    for variant in ("AllTraffic", "Canary"):
        attach_scaling(ENDPOINT, variant, ScalingSpec(max_capacity=6, suspended={
            "DynamicScalingInSuspended": True, "DynamicScalingOutSuspended": False,
            "ScheduledScalingSuspended": False}))
    before = scaling_state(ENDPOINT)
    emulation.configure_update(ENDPOINT, seconds=0.3)
    emulation.configure_capacity_change(ENDPOINT, seconds=0)
    request: dict[str, Any] = REQUEST
    if step.name == "CreateModel":  # the step runs for a model package only
        package = approved_model_package("churn-models")
        request = {**{k: v for k, v in REQUEST.items() if k != "VariantChanges"},
                   "ModelPackage": {"ModelPackageArn": package, "VariantName": "AllTraffic"}}
    execution: list[str] = []
    if step.wait_state is not None and fault in ("stopped", "timed out"):
        action = None
    else:
        runner.before_invoke(step.folder, arm(runner, step, fault, execution), skip=step.skip)
        action = "armed"

    # When the update runs (and, for a polling step, is stopped or times out while it waits)
    execution.append(runner.start(request))
    if action is None:
        assert step.wait_state is not None
        runner.wait_for_state(execution[0], step.wait_state)
        arm(runner, step, fault, execution)({})
    ended = runner.wait(execution[0])

    # Then it ends as expected, with the scaling as captured, the lock released, and the right config
    want = expected(step, fault)
    settled = wait_until_settled(runner)
    lock = store.read_lock(ENDPOINT)
    config = "old" if settled["EndpointConfigName"] == old_config else "new"
    fault_matrix.record(STEPS.index(step), step.name, FAULTS.index(fault), fault,
                        f"{ended.status}, {'restored' if scaling_state(ENDPOINT) == before else 'NOT RESTORED'}, "
                        f"{'released' if lock.holder is lock.unrestored is None else 'LOCKED'}, {config} config")
    assert ended.status == want.status, ended.cause
    assert scaling_state(ENDPOINT) == before
    assert (lock.holder, lock.unrestored) == (None, None)
    assert config == want.config
    assert settled["EndpointStatus"] == "InService"
    if want.status in ("ABORTED", "TIMED_OUT"):
        assert ended.recovery is not None and ended.recovery["Recovered"] is (step.name != "RestoreScaling")
    # And the update's record says so, and expires as an audit trail only now that the scaling is back
    record = store.read_update(ENDPOINT, execution[0])
    assert record["Phase"] == "ScalingRestored"
    assert record["ExpiresAt"] > runner.clock.utcnow().timestamp() + 29 * 86400
