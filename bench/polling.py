"""How soon a polling policy notices that an update has finished, and what the polls cost.

A policy polls first `initial_delay` seconds after UpdateEndpoint returns, then every `interval` seconds,
at most `max_polls` times. An update of `duration` seconds is noticed by the first poll at or after
`duration`. Everything here is arithmetic on whole seconds: no clock, no AWS.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

# Per poll in the state machine: WaitBeforeFirstPoll or WaitForUpdate, CheckUpdate, IsUpdateComplete.
TRANSITIONS_PER_POLL = 3
# The simulated range of update durations: 3 to 60 minutes, every second.
SHORTEST_UPDATE_SECONDS = 3 * 60
LONGEST_UPDATE_SECONDS = 60 * 60


@dataclass(frozen=True)
class Policy:
    name: str
    initial_delay: int
    interval: int
    max_polls: int | None = None
    """None: polls until the workflow's own deadline, which the simulated range never reaches."""

    def poll_times(self) -> Iterable[int]:
        count = 0
        while self.max_polls is None or count < self.max_polls:
            yield self.initial_delay + count * self.interval
            count += 1


# botocore's SageMaker waiter "EndpointInService": the first DescribeEndpoint at once, then every 30 s,
# 120 attempts in all (botocore/data/sagemaker/2017-07-24/waiters-2.json).
BOTO3_WAITER = Policy("boto3 waiter (0 s, then every 30 s)", initial_delay=0, interval=30, max_polls=120)
# The workflow before InitialPollDelaySeconds existed: one PollIntervalSeconds before the first poll.
PREVIOUS_DEFAULT = Policy("previous default (30 s, then every 30 s)", initial_delay=30, interval=30)


@dataclass(frozen=True)
class Detection:
    duration: int
    noticed_at: int | None
    """None when the policy gives up (runs out of polls) before the update ends."""
    polls: int

    @property
    def delay(self) -> int | None:
        return None if self.noticed_at is None else self.noticed_at - self.duration

    @property
    def transitions(self) -> int:
        return TRANSITIONS_PER_POLL * self.polls


def detect(policy: Policy, duration: int) -> Detection:
    """When `policy` notices an update that ends `duration` seconds after UpdateEndpoint, and after how many polls."""
    if duration < 0:
        raise ValueError("duration must be >= 0")
    if duration <= policy.initial_delay:
        return Detection(duration, policy.initial_delay, 1)
    polls = 1 + math.ceil((duration - policy.initial_delay) / policy.interval)
    if policy.max_polls is not None and polls > policy.max_polls:
        return Detection(duration, None, policy.max_polls)
    return Detection(duration, policy.initial_delay + (polls - 1) * policy.interval, polls)


@dataclass(frozen=True)
class Summary:
    policy: Policy
    mean_delay: float
    max_delay: int
    mean_polls: float
    mean_transitions: float
    gave_up: int
    """Durations the policy never noticed (the waiter's 120 attempts run out)."""


def summarize(policy: Policy, durations: Sequence[int], common: Sequence[int] | None = None) -> Summary:
    """Means over `common` (the durations every compared policy notices; default: all of `durations`)."""
    detections = [detect(policy, d) for d in durations]
    over = set(common if common is not None else durations)
    counted = [d for d in detections if d.duration in over and d.delay is not None]
    if not counted:
        raise ValueError(f"{policy.name}: notices none of the durations")
    delays = [d.delay for d in counted if d.delay is not None]
    return Summary(
        policy=policy,
        mean_delay=sum(delays) / len(delays),
        max_delay=max(delays),
        mean_polls=sum(d.polls for d in counted) / len(counted),
        mean_transitions=sum(d.transitions for d in counted) / len(counted),
        gave_up=sum(1 for d in detections if d.noticed_at is None),
    )


def simulated_durations(step: int = 1) -> list[int]:
    return list(range(SHORTEST_UPDATE_SECONDS, LONGEST_UPDATE_SECONDS + 1, step))


def noticed_by_all(policies: Sequence[Policy], durations: Sequence[int]) -> list[int]:
    return [d for d in durations if all(detect(p, d).noticed_at is not None for p in policies)]


def choose_default(
    durations: Sequence[int],
    baseline: Policy = BOTO3_WAITER,
    initial_delays: Iterable[int] = range(0, SHORTEST_UPDATE_SECONDS + 1, 30),
    intervals: Iterable[int] = range(10, 61),
) -> Policy:
    """The candidate with the smallest mean detection delay among those that spend, on average, no more
    polls than `baseline`; ties go to fewer polls, then to the longer interval.

    The initial delay is capped at the shortest simulated update: a longer one would make every update
    that ends sooner (or fails early) wait for it.
    """
    shortest = min(durations)
    candidates = [Policy(f"{d} s, then every {i} s", d, i)
                  for d in initial_delays if d <= shortest for i in intervals]
    common = noticed_by_all([baseline], durations)
    budget = summarize(baseline, durations, common).mean_polls
    best: tuple[float, float, int, Policy] | None = None
    for policy in candidates:
        summary = summarize(policy, durations, common)
        if summary.mean_polls > budget:
            continue
        key = (summary.mean_delay, summary.mean_polls, -policy.interval, policy)
        if best is None or key[:3] < best[:3]:
            best = key
    if best is None:
        raise ValueError("no candidate policy polls as little as the baseline")
    return best[3]
