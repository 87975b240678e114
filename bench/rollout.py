"""A fleet rollout under the bench's emulated throttling: 200 endpoints, a canary, then waves.

Every update is an execution of the update state machine started by the rollout state machine, as deployed; the
Describe calls of SageMaker and Application Auto Scaling go through the same token buckets as the concurrency bench
(endpoint_updater/offline/throttling.py). Measured: the real time the run takes, the failures (the goal is none),
the state transitions per endpoint (the rollout's own, and its updates'), the Describe calls and throttled answers,
and the cost per endpoint against the same updates started one by one (each of the rollout's updates is exactly such
an update: what the rollout adds is its own transitions and function invocations).
"""

from __future__ import annotations

import collections
import time
from dataclasses import asdict, dataclass, field
from typing import Any

from bench import pricing
from endpoint_updater.offline import emulation, throttling
from endpoint_updater.offline.runner import Execution, LocalRunner
from endpoint_updater.offline.scenario import create_fleet

ENDPOINTS = 200
UPDATE_SECONDS = 3.0
CHANGE = {"VariantChanges": [{"VariantName": "AllTraffic", "ModelName": "churn-v8"}],
          "InitialPollDelaySeconds": 3, "PollIntervalSeconds": 1}
WAVES = {"CanarySize": 1, "BatchSize": 50, "MaxConcurrency": 10}
LAMBDA_EVENTS = ("LambdaFunctionScheduled",)
# Billed time per function invocation beyond its AWS calls (pricing.AWS_CALL_SECONDS each): the handler's own work.
INVOCATION_SECONDS = 0.02


@dataclass(frozen=True)
class RolloutBenchResult:
    endpoints: int
    waves: dict[str, Any]
    status: str
    outcomes: dict[str, int]
    failures: int
    real_seconds: float
    emulated_seconds: float
    rollout_transitions: int
    update_transitions: int
    transitions_per_endpoint: float
    rollout_transitions_per_endpoint: float
    rollout_invocations: int
    update_invocations: int
    describe_calls_allowed: int
    describe_calls_per_emulated_second: float
    throttled_answers: int
    task_retries: int
    cost_per_endpoint: float
    single_update_cost: float
    memory_mb: int
    failure_causes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _invocations(execution: Execution) -> int:
    return sum(1 for event in execution.events if event["type"] in LAMBDA_EVENTS)


def _retries(executions: list[Execution]) -> int:
    events = collections.Counter(e["type"] for execution in executions for e in execution.events)
    return events["LambdaFunctionFailed"] + events["TaskFailed"]


def run(endpoints: int = ENDPOINTS, memory_mb: int = 256, timeout: float = 3600,
        rate: float = throttling.DEFAULT_RATE_PER_SECOND,
        burst: float = throttling.DEFAULT_BURST) -> RolloutBenchResult:
    with LocalRunner() as runner:
        names = [f"fleet-{index:03d}" for index in range(endpoints)]
        create_fleet(names)
        for name in names:
            emulation.configure_update(name, seconds=UPDATE_SECONDS)
        real = time.perf_counter()
        with throttling.enabled(rate=rate, burst=burst, clock=runner.clock.monotonic) as stats:
            started = runner.clock.monotonic()
            execution = runner.wait(runner.start_rollout({"Targets": {"NamePattern": "fleet-*"}, "Change": CHANGE,
                                                          "Waves": WAVES}, name="bench-fleet"), timeout)
            emulated = runner.clock.monotonic() - started
        real = time.perf_counter() - real
        calls = collections.Counter(folder for folder, _ in runner.calls)
    children = execution.children
    outcomes = collections.Counter(r["Outcome"] for r in (execution.output or {}).get("Endpoints", []))
    rollout_invocations = _invocations(execution)
    update_invocations = sum(_invocations(child) for child in children)
    rollout_calls = sum(count for folder, count in calls.items() if folder.startswith("rollout_"))
    update_calls = sum(count for folder, count in calls.items() if not folder.startswith("rollout_"))
    update_transitions = sum(child.transitions for child in children)
    whole = pricing.cost(execution.transitions + update_transitions, rollout_invocations + update_invocations,
                         (rollout_invocations + update_invocations) * INVOCATION_SECONDS
                         + (rollout_calls + update_calls) * pricing.AWS_CALL_SECONDS, memory_mb)
    singles = pricing.cost(update_transitions, update_invocations,
                           update_invocations * INVOCATION_SECONDS + update_calls * pricing.AWS_CALL_SECONDS, memory_mb)
    failed = [child for child in children if child.status != "SUCCEEDED"]
    return RolloutBenchResult(
        endpoints=endpoints, waves=WAVES, status=execution.status, outcomes=dict(sorted(outcomes.items())),
        failures=endpoints - outcomes.get("SUCCEEDED", 0), real_seconds=round(real, 1),
        emulated_seconds=round(emulated, 1), rollout_transitions=execution.transitions,
        update_transitions=update_transitions,
        transitions_per_endpoint=round((execution.transitions + update_transitions) / endpoints, 1),
        rollout_transitions_per_endpoint=round(execution.transitions / endpoints, 1),
        rollout_invocations=rollout_invocations, update_invocations=update_invocations,
        describe_calls_allowed=stats.total_allowed,
        describe_calls_per_emulated_second=round(stats.total_allowed / emulated, 2) if emulated else 0.0,
        throttled_answers=stats.total_throttled, task_retries=_retries([execution, *children]),
        cost_per_endpoint=whole.total / endpoints, single_update_cost=singles.total / max(1, len(children)),
        memory_mb=memory_mb,
        failure_causes=sorted({f"{c.status} {c.error}: {(c.cause or '')[:200]}" for c in failed}),
    )
