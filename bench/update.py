"""One update in the local runner: transitions, Lambda invocations, elapsed time, overhead, and its price.

Elapsed time is read on the runner's emulated clock: the handlers' work as it happens, plus the Wait states
and Retry intervals, which take no real time locally. It is what the update would take in real time.
"""

from __future__ import annotations

import itertools
import time
from collections import defaultdict
from dataclasses import asdict, dataclass
from typing import Any

from bench import pricing
from endpoint_updater.offline import emulation
from endpoint_updater.offline.runner import Execution, LocalRunner
from endpoint_updater.offline.scenario import attach_scaling, create_endpoint

ENDPOINT = "bench-endpoint"
NEW_MODEL = [{"VariantName": "AllTraffic", "ModelName": "churn-v8"}]
UPDATE_SECONDS = 5.0
"""The emulated SageMaker update: the endpoint is Updating this long (the only busy time of the run)."""
POLL_INTERVAL_SECONDS = 1
# The first poll comes before the update ends, so that the run shows several poll cycles.
INITIAL_POLL_DELAY_SECONDS = 2
# The states that a poll enters; everything else in the happy path is the fixed cost of an update.
POLLING_STATES = frozenset({"WaitBeforeFirstPoll", "WaitForUpdate", "CheckUpdate", "IsUpdateComplete"})
LAMBDA_EVENTS = frozenset({"TaskScheduled", "LambdaFunctionScheduled"})
CLIENT_NAMES = {"application-auto-scaling": "application-autoscaling"}
"""botocore's event names call some services by another name than boto3.client() does."""


class TimedRunner(LocalRunner):
    """The local runner, also timing each handler invocation (the Lambda duration AWS would bill)."""

    def __init__(self, region: str = "us-east-1") -> None:
        super().__init__(region)
        self.durations: list[tuple[str, float]] = []

    def _invoke(self, backend: Any, function_name: str, qualifier: str | None, body: Any, headers: Any,
                response_headers: dict[str, str]) -> bytes:
        started = time.perf_counter()
        try:
            return super()._invoke(backend, function_name, qualifier, body, headers, response_headers)
        finally:
            name = function_name.split(":function:")[-1].split(":")[0]
            self.durations.append((self.functions[name].folder, time.perf_counter() - started))


@dataclass(frozen=True)
class UpdateResult:
    status: str
    update_seconds: float
    elapsed_seconds: float
    """From StartExecution to the end, on the emulated clock."""
    overhead_seconds: float
    transitions: int
    polls: int
    transitions_without_polls: int
    transitions_per_poll_cycle: int | None
    """The most states entered from one CheckUpdate to the next (None with a single poll)."""
    lambda_invocations: int
    aws_calls: int
    lambda_local_seconds: float
    poll_local_seconds: float
    """Of lambda_local_seconds, the CheckUpdate invocations'."""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class UpdateCost:
    memory_mb: int
    billed_seconds_estimate: float
    """Handler time here + AWS_CALL_SECONDS per AWS call + every function's measured cold start (INIT)."""
    gb_seconds: float
    step_functions: float
    lambda_requests: float
    lambda_duration: float
    total: float
    prices_as_of: str = pricing.PRICES_AS_OF

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def price(result: UpdateResult, memory_mb: int, cold_start_seconds: float, polls: int | None = None) -> UpdateCost:
    """The measured update's price or, with `polls`, the same update with that many polls instead (each poll
    one CheckEndpoint invocation of one DescribeEndpoint, as long as the measured ones)."""
    polls = result.polls if polls is None else polls
    per_poll_local = result.poll_local_seconds / result.polls if result.polls else 0.0
    fixed_local = result.lambda_local_seconds - result.poll_local_seconds
    billed = (fixed_local + (result.aws_calls - result.polls) * pricing.AWS_CALL_SECONDS
              + polls * (per_poll_local + pricing.AWS_CALL_SECONDS) + cold_start_seconds)
    transitions = result.transitions_without_polls + 3 * polls
    invocations = result.lambda_invocations - result.polls + polls
    cost = pricing.cost(transitions, invocations, billed, memory_mb)
    return UpdateCost(memory_mb=memory_mb, billed_seconds_estimate=billed, gb_seconds=cost.lambda_gb_seconds,
                      step_functions=cost.step_functions, lambda_requests=cost.lambda_requests,
                      lambda_duration=cost.lambda_duration, total=cost.total)


def lambda_invocations(execution: Execution) -> int:
    return sum(1 for event in execution.events if event["type"] in LAMBDA_EVENTS)


def polls(execution: Execution) -> int:
    return execution.states_entered.count("CheckUpdate")


def longest_poll_cycle(execution: Execution) -> int | None:
    checks = [index for index, name in enumerate(execution.states_entered) if name == "CheckUpdate"]
    return max((b - a for a, b in itertools.pairwise(checks)), default=None)


def run_one_update() -> tuple[UpdateResult, dict[str, set[str]]]:
    """The happy path once; also returns the boto3 clients each function used (for the cold-start bench),
    from a second update that raises capacity, so that every function runs."""
    runner = TimedRunner()
    with runner:
        create_endpoint(ENDPOINT)
        attach_scaling(ENDPOINT, "AllTraffic")
        emulation.configure_update(ENDPOINT, seconds=UPDATE_SECONDS)
        started = runner.clock.monotonic()
        execution = runner.run({"EndpointName": ENDPOINT, "VariantChanges": NEW_MODEL, "Completion": "polling",
                                "TimeoutSeconds": 600,
                                "InitialPollDelaySeconds": INITIAL_POLL_DELAY_SECONDS,
                                "PollIntervalSeconds": POLL_INTERVAL_SECONDS}, timeout=120)
        elapsed = runner.clock.monotonic() - started
        calls = len(runner.calls)
        local = sum(seconds for _, seconds in runner.durations)
        poll_local = sum(seconds for folder, seconds in runner.durations if folder == "check_endpoint")

        emulation.configure_update(ENDPOINT, seconds=0.1)
        covering = runner.run({"EndpointName": ENDPOINT, "VariantChanges": [
            {"VariantName": "AllTraffic", "ModelName": "churn-v9"}], "CapacityIncrease": {"Add": 1},
            "PollIntervalSeconds": 1}, timeout=120)
        if covering.status != "SUCCEEDED":
            raise RuntimeError(f"the covering update ended {covering.status}: {covering.cause}")
        clients: dict[str, set[str]] = defaultdict(set)
        for folder, call in runner.calls:
            service = call.split(":", 1)[0]
            clients[folder].add(CLIENT_NAMES.get(service, service))

    poll_count = polls(execution)
    result = UpdateResult(
        status=execution.status,
        update_seconds=UPDATE_SECONDS,
        elapsed_seconds=elapsed,
        overhead_seconds=elapsed - UPDATE_SECONDS,
        transitions=execution.transitions,
        polls=poll_count,
        transitions_without_polls=sum(1 for name in execution.states_entered if name not in POLLING_STATES),
        transitions_per_poll_cycle=longest_poll_cycle(execution),
        lambda_invocations=lambda_invocations(execution),
        aws_calls=calls,
        lambda_local_seconds=local,
        poll_local_seconds=poll_local,
    )
    return result, dict(clients)
