"""The execution history limit: a request whose wait could outgrow it is refused before anything changes.

A Standard execution fails outright, with no Catch and so with no restore by the workflow, when its history
passes 25,000 events ("Step Functions service quotas": maximum execution history size). What grows with time
is the wait loops, one cycle per poll interval (Completion polling) or per safety interval (Completion events,
with every event lost). The figures below are those `statemachine.history` computes from the definition (a
test holds them equal): the functions' code does not carry the definition.
"""

from __future__ import annotations

HISTORY_LIMIT = 25_000
MARGIN = 2_500
"""Kept free for what the worst case does not count: a task's retries (up to 5 attempts of 3 or 4 events each,
per task) and the restore's."""
BUDGET = HISTORY_LIMIT - MARGIN

EVENTS_PER_CYCLE = {"events": 13, "polling": 9}
"""One cycle of the larger wait loop: a callback wait that times out (6), the safety-net check (5) and the
Choice (2); or a Wait (2), the check (5) and the Choice (2)."""
EVENTS_ONCE = 100
"""Every state run once, and the execution's start and end."""
EVENTS_PER_RAISE = {"events": 7, "polling": 7}
"""Each capacity raise after the first: the raise (5) and the Choice before its loop (2)."""
MAX_RAISES = 20
"""A capacity raise is one variant at a time: at most 10 production and 10 shadow variants
("CreateEndpointConfig" API reference: ProductionVariants and ShadowProductionVariants, 10 items each)."""

INTERVAL_FIELD = {"events": "SafetyIntervalSeconds", "polling": "PollIntervalSeconds"}


def _loop_runs() -> int:
    """Each raise's loop and the update's: each may end with a cycle shorter than the interval."""
    return MAX_RAISES + 1


def worst_case(timeout_seconds: int, interval_seconds: int, completion: str) -> int:
    """The most history events an execution can write: every wait lasts its interval except the last of each
    loop (cut at the deadline, or ended by the endpoint), and every wait of a loop is within TimeoutSeconds of
    the start (the check after the deadline ends it)."""
    cycles = timeout_seconds // interval_seconds + _loop_runs()
    return (EVENTS_ONCE + (MAX_RAISES - 1) * EVENTS_PER_RAISE[completion]
            + cycles * EVENTS_PER_CYCLE[completion])


def _most_full_cycles(completion: str) -> int:
    room = BUDGET - EVENTS_ONCE - (MAX_RAISES - 1) * EVENTS_PER_RAISE[completion]
    return room // EVENTS_PER_CYCLE[completion] - _loop_runs()


def largest_timeout(interval_seconds: int, completion: str) -> int:
    """The largest TimeoutSeconds whose worst case stays within BUDGET at this interval."""
    return (_most_full_cycles(completion) + 1) * interval_seconds - 1


def smallest_interval(timeout_seconds: int, completion: str) -> int:
    """The smallest interval whose worst case stays within BUDGET for this TimeoutSeconds."""
    return timeout_seconds // (_most_full_cycles(completion) + 1) + 1


def problem(timeout_seconds: int, interval_seconds: int, completion: str, interval_range: tuple[int, int],
            timeout_range: tuple[int, int]) -> str | None:
    """Why the combination is refused, naming the fields and what would be accepted; None when it is fine."""
    worst = worst_case(timeout_seconds, interval_seconds, completion)
    if worst <= BUDGET:
        return None
    field = INTERVAL_FIELD[completion]
    offers = []
    longest = min(largest_timeout(interval_seconds, completion), timeout_range[1])
    if longest >= timeout_range[0]:
        offers.append(f"TimeoutSeconds at most {longest} with this {field}")
    shortest = max(smallest_interval(timeout_seconds, completion), interval_range[0])
    if shortest <= interval_range[1]:
        offers.append(f"{field} at least {shortest} with this TimeoutSeconds")
    if completion == "polling":
        offers.append("Completion events (waits for SageMaker's events, with a poll every SafetyIntervalSeconds)")
    return (f"TimeoutSeconds, {field}: TimeoutSeconds {timeout_seconds} with {field} {interval_seconds} (Completion "
            f"{completion}) could write up to {worst} events to the execution's history, over the {BUDGET} allowed "
            f"(Step Functions fails an execution past {HISTORY_LIMIT}, with no restore by the workflow); give "
            + ", or ".join(offers))
