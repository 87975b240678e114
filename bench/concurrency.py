"""Many endpoints at once: concurrent executions, each on its own endpoint, under emulated throttling.

The Describe calls of SageMaker and Application Auto Scaling go through one token bucket per service
(endpoint_updater/offline/throttling.py: 5 requests/s sustained, burst 10, per account and Region). Time is compressed
(1 s poll interval, 3 s updates, against 28 s and minutes on AWS), so the executions here ask for Describe
calls roughly 30 times faster than the same number of updates would on AWS: the throttling is far harsher
than production's at the same rate.

Time is the runner's emulated clock, the token buckets' included: the executions' Wait states take no real
time, and the buckets refill at their rate per emulated second, as they would per second on AWS.
"""

from __future__ import annotations

import collections
from dataclasses import asdict, dataclass, field
from typing import Any

from endpoint_updater.offline import emulation, throttling
from endpoint_updater.offline.runner import LocalRunner
from endpoint_updater.offline.scenario import attach_scaling, create_endpoint

UPDATE_SECONDS = 3.0
REQUEST = {"VariantChanges": [{"VariantName": "AllTraffic", "ModelName": "churn-v8"}],
           "Completion": "polling", "InitialPollDelaySeconds": 3, "PollIntervalSeconds": 1, "TimeoutSeconds": 600}
SIZES = (1, 10, 50)


@dataclass(frozen=True)
class ConcurrencyResult:
    executions: int
    elapsed_seconds: float
    """From the first StartExecution to the last execution's end, on the emulated clock."""
    succeeded: int
    failures: int
    throttled_answers: int
    """ThrottlingException answers the emulator gave (each one a retry by botocore or by the state machine)."""
    describe_calls_allowed: int
    lambda_errors_retried: int
    """Task invocations that failed and were retried by the state machine's Retry (LambdaFunctionFailed)."""
    transitions: int
    failure_causes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def run(executions: int, rate: float = throttling.DEFAULT_RATE_PER_SECOND,
        burst: float = throttling.DEFAULT_BURST, timeout: float = 900) -> ConcurrencyResult:
    with LocalRunner() as runner:
        names = [f"bench-{index:03d}" for index in range(executions)]
        for name in names:
            create_endpoint(name)
            attach_scaling(name, "AllTraffic")
            emulation.configure_update(name, seconds=UPDATE_SECONDS)
        with throttling.enabled(rate=rate, burst=burst, clock=runner.clock.monotonic) as stats:
            started = runner.clock.monotonic()
            arns = [runner.start({"EndpointName": name, **REQUEST}, name=f"bench-{name}") for name in names]
            pending = set(arns)

            def all_ended() -> bool:
                for arn in list(pending):
                    if runner.sfn.describe_execution(executionArn=arn)["status"] != "RUNNING":
                        pending.discard(arn)
                return not pending

            if not runner.clock.wait_for(all_ended, timeout):
                raise TimeoutError(f"{len(pending)} executions still running after {timeout} s")
            elapsed = runner.clock.monotonic() - started
        finished = [runner.describe(arn) for arn in arns]
    events = collections.Counter(event["type"] for execution in finished for event in execution.events)
    failed = [e for e in finished if e.status != "SUCCEEDED"]
    return ConcurrencyResult(
        executions=executions,
        elapsed_seconds=elapsed,
        succeeded=len(finished) - len(failed),
        failures=len(failed),
        throttled_answers=stats.total_throttled,
        describe_calls_allowed=stats.total_allowed,
        lambda_errors_retried=events["LambdaFunctionFailed"] + events["TaskFailed"],
        transitions=sum(e.transitions for e in finished),
        failure_causes=sorted({f"{e.status} {e.error}: {(e.cause or '')[:200]}" for e in failed}),
    )
