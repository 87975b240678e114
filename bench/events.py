"""How soon the workflow learns that an update has ended, with SageMaker's endpoint events against polling, and
what its waiting costs; measured by running the real definition in the local runner.

Each sample is one update of the emulated endpoint, `duration` seconds of Updating, run end to end (validation,
snapshot, deregistration, UpdateEndpoint, the wait, the restore). Idle time is free on the runner's emulated
clock, so an hour's update takes a second or two of real time.

* detection delay: from the endpoint's final status (its LastModifiedTime, which the emulator sets at the
  moment the update ends) to the moment the workflow left its wait (the history's timestamp of the first state
  after the wait loop: EndpointUpdated, or the Catch's RestoreScaling when the update failed);
* transitions: states entered by the whole execution, and those of the wait loop alone (the states polling
  spends: HowToWaitForUpdate, WaitBeforeFirstPoll, WaitForUpdate, WaitForUpdateEvent, CheckUpdate,
  IsUpdateComplete);
* outcome: the execution's status and error against what the update's outcome calls for.

The events' delivery is the emulator's (offline/emulation/events.py): its default delay (uniform 0.5 to 1.5 s)
is an assumption, AWS documenting only "near real time"; the detection delay with events delivered measures
the workflow's own share on top of it.
"""

from __future__ import annotations

import datetime as dt
import math
import random
import statistics
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from bench import polling, pricing
from endpoint_updater.offline import emulation
from endpoint_updater.offline.runner import Execution, LocalRunner
from endpoint_updater.offline.scenario import attach_scaling, create_endpoint

# The states of the update's wait, on either path.
WAIT_STATES = frozenset({"HowToWaitForUpdate", "WaitBeforeFirstPoll", "WaitForUpdate", "WaitForUpdateEvent",
                         "CheckUpdate", "IsUpdateComplete"})
LAMBDA_EVENTS = frozenset({"TaskScheduled", "LambdaFunctionScheduled"})
# What each emulated outcome must end as: the execution's status and error (the check's error names).
EXPECTED: dict[str, tuple[str, str | None]] = {
    "succeed": ("SUCCEEDED", None),
    "silent_rollback": ("FAILED", "EndpointUpdateRolledBack"),
    "rollback": ("FAILED", "EndpointUpdateRolledBack"),
    "fail": ("FAILED", "EndpointUpdateFailed"),
    "rollback_failed": ("FAILED", "EndpointUpdateRollbackFailed"),
}
FAULTY = {"loss": 0.1, "duplication": 0.1, "reordering": 0.1}
"""The faulty delivery of the issue's goal: 10% lost, 10% duplicated, and reordered events."""
FAULTY_UPDATES = 200
SEED = 13
CHECK_ALLOWANCE_SECONDS = 5.0
"""What the safety-net check itself may add to a safety interval (its invocation, in emulated time)."""
BATCH = 10
"""Executions run at once (each on its own endpoint): the clock jumps only when all of them are idle."""


@dataclass(frozen=True)
class Scenario:
    name: str
    completion: str
    switches: dict[str, Any] = field(default_factory=dict)


POLLING = Scenario("polling (180 s, then every 28 s)", "polling")
EVENTS = Scenario("events delivered", "events")
LOST = Scenario("events 100% lost (safety net only)", "events", {"loss": 1.0})
MIXED = Scenario("events 10% lost, 10% duplicated, 10% reordered", "events", FAULTY)


@dataclass(frozen=True)
class Sample:
    duration: int
    outcome: str
    status: str
    error: str | None
    cause: str | None
    """The execution's cause, kept when the outcome is wrong."""
    correct: bool
    detection_delay: float | None
    transitions: int
    wait_transitions: int
    lambda_invocations: int

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Summary:
    scenario: str
    updates: int
    wrong_outcomes: int
    mean_delay: float
    p99_delay: float
    max_delay: float
    mean_transitions: float
    mean_wait_transitions: float
    transitions_at_60_min: float
    wait_transitions_at_60_min: float
    cost_at_60_min: float
    """Step Functions transitions and Lambda requests of a 60-minute update (mean of the longest samples)."""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def durations(count: int, seed: int = SEED) -> list[int]:
    """`count` update durations spread over 3 to 60 minutes (whole seconds, each in its own slice of the
    range, so that polling's sawtooth is sampled at every phase)."""
    rng = random.Random(seed)
    low, high = polling.SHORTEST_UPDATE_SECONDS, polling.LONGEST_UPDATE_SECONDS
    width = (high - low) / count
    return [min(high, int(low + width * i + rng.uniform(0, width))) for i in range(count)] if count > 1 else [high]


def percentile(values: Sequence[float], share: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    # nearest rank: the smallest value with at least `share` of the values at or below it
    rank = max(0, min(len(ordered) - 1, math.ceil(share * len(ordered)) - 1))
    return ordered[rank]


def _seconds(moment: Any) -> float:
    if isinstance(moment, dt.datetime):
        aware = moment if moment.tzinfo is not None else moment.replace(tzinfo=dt.UTC)
        return aware.timestamp()
    return float(moment)


def detection_delay(execution: Execution, endpoint: str) -> float | None:
    """Seconds from the endpoint's final status to the first state after the wait loop."""
    final = [s for s in emulation.ENDPOINT_EVENTS.sent_for(endpoint)
             if s.event["detail-type"] == emulation.events.STATE_CHANGE
             and s.event["detail"]["EndpointStatus"] != "UPDATING"]
    if not final:
        return None
    ended = final[-1].event["detail"]["LastModifiedTime"] / 1000
    entered = [e for e in execution.events if e["type"].endswith("StateEntered")]
    names = [e["stateEnteredEventDetails"]["name"] for e in entered]
    if "UpdateEndpoint" not in names:
        return None
    after = names.index("UpdateEndpoint") + 1
    for event, name in zip(entered[after:], names[after:], strict=True):
        if name not in WAIT_STATES:
            return _seconds(event["timestamp"]) - ended
    return None


def run(scenario: Scenario, samples: Sequence[tuple[int, str]], seed: int = SEED) -> list[Sample]:
    """One update per (duration, outcome), each on its own endpoint, `BATCH` at a time, in one fresh runner."""
    results: list[Sample] = []
    with LocalRunner() as runner:
        runner.endpoint_events.configure(seed=seed, **scenario.switches)
        for first in range(0, len(samples), BATCH):
            batch = [(f"bench-{number}", duration, outcome)
                     for number, (duration, outcome) in enumerate(samples[first:first + BATCH], start=first)]
            # Every endpoint of the batch first: moto's own dictionaries are not meant to change under a
            # running execution's handlers (the workflow never creates what another execution reads).
            for endpoint, duration, outcome in batch:
                create_endpoint(endpoint)
                attach_scaling(endpoint, "AllTraffic")
                emulation.configure_update(endpoint, seconds=duration, outcome=outcome)
            started = []
            for endpoint, duration, outcome in batch:
                request = {"EndpointName": endpoint, "Completion": scenario.completion,
                           "VariantChanges": [{"VariantName": "AllTraffic", "ModelName": "churn-v8"}]}
                started.append((endpoint, duration, outcome, runner.start(request)))
            for endpoint, duration, outcome, arn in started:
                execution = runner.wait(arn, timeout=600)
                status, error = EXPECTED[outcome]
                results.append(Sample(
                    duration=duration, outcome=outcome, status=execution.status, error=execution.error,
                    cause=None if (execution.status, execution.error) == (status, error) else execution.cause,
                    correct=(execution.status, execution.error) == (status, error),
                    detection_delay=detection_delay(execution, endpoint),
                    transitions=execution.transitions,
                    wait_transitions=sum(1 for n in execution.states_entered if n in WAIT_STATES),
                    lambda_invocations=sum(1 for e in execution.events if e["type"] in LAMBDA_EVENTS)))
    return results


def cost(transitions: float, invocations: float) -> float:
    """Step Functions transitions and Lambda requests, plus each invocation billed for one AWS call's time
    (pricing.AWS_CALL_SECONDS at 256 MB): the part of an update's price that its wait changes."""
    return pricing.cost(round(transitions), round(invocations), invocations * pricing.AWS_CALL_SECONDS, 256).total


def summarize(scenario: Scenario, samples: Sequence[Sample]) -> Summary:
    delays = [s.detection_delay for s in samples if s.detection_delay is not None]
    longest = [s for s in samples if s.duration >= polling.LONGEST_UPDATE_SECONDS - 5 * 60] or \
        [max(samples, key=lambda s: s.duration)]
    at_60 = statistics.fmean(s.transitions for s in longest)
    return Summary(
        scenario=scenario.name, updates=len(samples), wrong_outcomes=sum(1 for s in samples if not s.correct),
        mean_delay=statistics.fmean(delays) if delays else float("nan"), p99_delay=percentile(delays, 0.99),
        max_delay=max(delays, default=float("nan")),
        mean_transitions=statistics.fmean(s.transitions for s in samples),
        mean_wait_transitions=statistics.fmean(s.wait_transitions for s in samples),
        transitions_at_60_min=at_60,
        wait_transitions_at_60_min=statistics.fmean(s.wait_transitions for s in longest),
        cost_at_60_min=cost(at_60, statistics.fmean(s.lambda_invocations for s in longest)))


def mixed_samples(count: int = FAULTY_UPDATES, seed: int = SEED) -> list[tuple[int, str]]:
    """`count` updates of 3 to 60 minutes, four in five successful, the others each way an update fails."""
    rng = random.Random(seed)
    failures = sorted(o for o in EXPECTED if o != "succeed")
    return [(duration, "succeed" if rng.random() < 0.8 else rng.choice(failures))
            for duration in durations(count, seed)]


@dataclass(frozen=True)
class Measured:
    safety_seconds: int
    summaries: list[Summary]
    samples: dict[str, list[Sample]]

    def summary(self, scenario: Scenario) -> Summary:
        return next(s for s in self.summaries if s.scenario == scenario.name)


def measure(per_scenario: int = 20, faulty_updates: int = FAULTY_UPDATES, seed: int = SEED) -> Measured:
    """Every scenario: `per_scenario` successful updates spread over 3 to 60 minutes for polling, events
    delivered and events lost; `faulty_updates` updates of every outcome under the faulty delivery."""
    from endpoint_updater.core.request import DEFAULT_SAFETY_INTERVAL_SECONDS

    spread = [(d, "succeed") for d in durations(per_scenario, seed)]
    plan = [(POLLING, spread), (EVENTS, spread), (LOST, spread), (MIXED, mixed_samples(faulty_updates, seed))]
    samples = {scenario.name: run(scenario, chosen, seed) for scenario, chosen in plan}
    summaries = [summarize(scenario, samples[scenario.name]) for scenario, _ in plan]
    return Measured(DEFAULT_SAFETY_INTERVAL_SECONDS, summaries, samples)
