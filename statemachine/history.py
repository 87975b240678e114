"""How many history events an execution of the definition can write, read from the definition itself.

A Standard execution fails outright, with no Catch, when its history passes 25,000 events ("Step Functions
service quotas", execution history). Each state writes the events the "HistoryEvent" API reference lists for
its type (`EVENTS_PER_STATE`). What grows with an update's duration is the wait loops: one cycle per poll
interval (polling) or per safety interval (events, with every event lost). `endpoint_updater.core.history`
holds the figures validation uses (the functions' code does not carry the definition); a test holds them
equal to what this module computes.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from statemachine import all_states, read_definition

CALLBACK_SUFFIX = ".waitForTaskToken"

# "HistoryEvent" API reference (Step Functions), the event types each state writes when it runs once:
# - a Task calling a Lambda function by its ARN: TaskStateEntered, LambdaFunctionScheduled,
#   LambdaFunctionStarted, LambdaFunctionSucceeded (or Failed, TimedOut), TaskStateExited;
# - a Task of a service integration waiting for a task token: TaskStateEntered, TaskScheduled, TaskStarted,
#   TaskSubmitted, TaskSucceeded (or TaskFailed, TaskTimedOut), TaskStateExited;
# - Wait, Choice, Pass, Succeed: <Type>StateEntered, <Type>StateExited;
# - Parallel: ParallelStateEntered, ParallelStateStarted, ParallelStateSucceeded (or Failed), ParallelStateExited;
# - Fail: FailStateEntered (the execution's end is counted apart).
LAMBDA_TASK_EVENTS = 5
CALLBACK_TASK_EVENTS = 6
EVENTS_PER_STATE = {"Wait": 2, "Choice": 2, "Pass": 2, "Succeed": 2, "Parallel": 4, "Fail": 1}
EXECUTION_EVENTS = 2
"""ExecutionStarted, and ExecutionSucceeded (or Failed, TimedOut, Aborted)."""

# The two ways to wait, chosen by the request's Completion (statemachine/input.schema.json).
COMPLETION_FIELD = "$.Request.Completion"
MODES = ("events", "polling")
# The Choice before each loop, and the state each loop's later entries start from.
LOOPS = {"Capacity": "HowToWaitForCapacity", "Update": "HowToWaitForUpdate"}
RAISE_STATE = "RaiseCapacity"


def events_of(state: dict[str, Any]) -> int:
    """The history events one run of `state` writes (its branches' states apart)."""
    if state["Type"] == "Task":
        return CALLBACK_TASK_EVENTS if state["Resource"].endswith(CALLBACK_SUFFIX) else LAMBDA_TASK_EVENTS
    return EVENTS_PER_STATE[state["Type"]]


@dataclass(frozen=True)
class Loop:
    phase: str
    mode: str
    entry: tuple[str, ...]
    """The states from the Choice that picks the path to the first state of the cycle."""
    cycle: tuple[str, ...]
    """The states one cycle enters while the endpoint is still busy (with `events`, every event lost)."""
    events_per_cycle: int


def _next_while_busy(states: dict[str, Any], name: str, mode: str) -> str:
    """Where the loop goes from `name` while the endpoint is busy: a callback wait times out (its Catch on
    States.Timeout), a Choice takes the rule on Completion for `mode` or its Default (the rules on a finished
    check lead out of the loop)."""
    state = states[name]
    if state["Type"] == "Task" and state["Resource"].endswith(CALLBACK_SUFFIX):
        return str(next(c["Next"] for c in state["Catch"] if c["ErrorEquals"] == ["States.Timeout"]))
    if state["Type"] == "Choice":
        for rule in state["Choices"]:
            if rule.get("Variable") == COMPLETION_FIELD and rule["StringEquals"] == mode:
                return str(rule["Next"])
        return str(state["Default"])
    return str(state["Next"])


def loop(states: dict[str, Any], phase: str, mode: str) -> Loop:
    """Follow the definition from the phase's HowToWait Choice until a state repeats: that is the cycle."""
    path: list[str] = []
    name = LOOPS[phase]
    while name not in path:
        path.append(name)
        name = _next_while_busy(states, name, mode)
    start = path.index(name)
    cycle = tuple(path[start:])
    return Loop(phase, mode, tuple(path[:start]), cycle, sum(events_of(states[n]) for n in cycle))


@dataclass(frozen=True)
class Figures:
    """What validation needs, for each Completion mode."""

    events_per_cycle: dict[str, int]
    """The larger of the update's and the capacity raise's cycle, per mode."""
    once: int
    """Every state of the definition run once, and the execution's own events: more than any run of the
    definition writes outside its wait loops (it never takes both paths of a Choice)."""
    per_raise: dict[str, int]
    """What each capacity raise after the first adds besides its cycles: the raise and the Choice before the
    loop."""


def figures(definition: dict[str, Any] | None = None) -> Figures:
    definition = definition or json.loads(read_definition())
    states = all_states(definition["States"])
    loops = {(phase, mode): loop(states, phase, mode) for phase in LOOPS for mode in MODES}
    return Figures(
        events_per_cycle={mode: max(loops[phase, mode].events_per_cycle for phase in LOOPS) for mode in MODES},
        once=EXECUTION_EVENTS + sum(events_of(state) for state in states.values()),
        per_raise={mode: events_of(states[RAISE_STATE]) + sum(events_of(states[n])
                                                               for n in loops["Capacity", mode].entry)
                   for mode in MODES},
    )
