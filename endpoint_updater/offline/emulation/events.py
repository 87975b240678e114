"""SageMaker's endpoint events, sent at the emulated moment an endpoint changes status, and their best-effort
delivery, with switches for its faults.

What SageMaker sends ("Events that Amazon SageMaker AI sends to Amazon EventBridge", SageMaker Developer Guide):

* "SageMaker Endpoint State Change" whenever an endpoint's status changes; detail: EndpointName, EndpointArn,
  EndpointConfigName, ProductionVariants, EndpointStatus in upper snake case (``IN_SERVICE``), CreationTime and
  LastModifiedTime in epoch milliseconds, Tags. No FailureReason.
* "SageMaker Endpoint Deployment State Change" during a deployment with guardrails (a DeploymentConfig), and
  for a capacity change on the current config: the same fields, plus PendingDeploymentSummary (the target
  config) and per-variant VariantStatus (Creating, Updating, ActivatingTraffic, Baking, Deleting) with a
  StatusMessage such as "Launching 3 instance(s)." (the page's two examples). The page warns that not every
  endpoint gets them ("Exclusions"); the workflow must not rely on them.
* The page also notes that SageMaker "may send multiple events to EventBridge for each state change".
  SageMaker's events are "best effort" ("Event delivery from AWS services", EventBridge User Guide: "in some
  rare cases an event might not be delivered"), and a rule's Lambda target is invoked asynchronously.

The envelope is EventBridge's ("Amazon EventBridge events": version, id, detail-type, source, account, time
in ISO 8601, region, resources). The samples on the SageMaker page disagree on ``time`` (one shows epoch
milliseconds as a string); EventBridge's own reference gives ISO 8601, used here.

Delivery (:class:`EndpointEvents`, one object, :data:`ENDPOINT_EVENTS`): every event the emulator sends is
recorded (:attr:`EndpointEvents.sent`); when a sink is set (the local runner: PutEvents on the default bus,
the stack's rule, the resume function) and a timer service exists (``emulation.clock.timers``), each event
reaches the sink after the switches have had their say, at its emulated delivery moment
(:attr:`EndpointEvents.delivered`). The switches draw from one seeded random generator, so a run with the
same seed and the same sequence of changes delivers the same stream.

The default delay is an assumption: AWS documents SageMaker's events only as "delivered to EventBridge in near
real time" (SageMaker Developer Guide, same page) and publishes no latency figure for them or for a rule's
asynchronous Lambda invocation. :data:`DEFAULT_DELAY_SECONDS` (uniform 0.5 to 1.5 s) stands for that "near
real time"; a test or the bench that needs another can set it.
"""

from __future__ import annotations

import copy
import datetime as dt
import logging
import random
import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from typing import Any

from endpoint_updater import names
from endpoint_updater.offline.emulation import clock
from endpoint_updater.offline.emulation.lock import LOCK

STATE_CHANGE = names.ENDPOINT_STATE_CHANGE
DEPLOYMENT_STATE_CHANGE = names.ENDPOINT_DEPLOYMENT_STATE_CHANGE
SOURCE = names.SAGEMAKER_SOURCE
DEFAULT_DELAY_SECONDS = (0.5, 1.5)
"""Uniform range of an event's delay from the change to its delivery (an assumption; see the module's doc)."""
DEFAULT_REORDER_WINDOW_SECONDS = 60.0
"""How long a held-back event waits for a later event of its endpoint to overtake it before it goes anyway."""

_log = logging.getLogger(__name__)
Sink = Callable[[dict[str, Any]], None]


def upper_snake(status: str) -> str:
    """DescribeEndpoint's EndpointStatus as the events spell it: ``UpdateRollbackFailed`` ->
    ``UPDATE_ROLLBACK_FAILED`` (the page's samples: ``IN_SERVICE``, ``UPDATING``)."""
    return "".join("_" + c if c.isupper() and i else c for i, c in enumerate(status)).upper()


def epoch_millis(moment: dt.datetime) -> int:
    aware = moment if moment.tzinfo is not None else moment.replace(tzinfo=dt.UTC)
    return int(aware.timestamp() * 1000)


def envelope(detail_type: str, detail: dict[str, Any], account: str, region: str,
             moment: dt.datetime) -> dict[str, Any]:
    """An event as EventBridge gives it to a target ("Amazon EventBridge events")."""
    return {"version": "0", "id": str(uuid.uuid4()), "detail-type": detail_type, "source": SOURCE,
            "account": account, "time": moment.replace(tzinfo=None).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "region": region, "resources": [detail["EndpointArn"]], "detail": detail}


@dataclass(frozen=True)
class Switches:
    """How the emulated EventBridge delivers SageMaker's endpoint events.

    delivery: False sends nothing anywhere (an account whose events never reach the rule).
    loss: the share of events never delivered (each event drawn once).
    duplication: the share of delivered events delivered twice (each copy with its own delay).
    delay: seconds from the change to the delivery: a number (fixed) or a (low, high) uniform range.
    reordering: the share of deliveries held back until the next event of the same endpoint has been
        delivered (then delivered after it), or `reorder_window` seconds when no later event comes.
    seed: the random generator's seed; every configuration starts it again.
    """

    delivery: bool = True
    loss: float = 0.0
    duplication: float = 0.0
    delay: float | tuple[float, float] = DEFAULT_DELAY_SECONDS
    reordering: float = 0.0
    reorder_window: float = DEFAULT_REORDER_WINDOW_SECONDS
    seed: int = 0

    def __post_init__(self) -> None:
        for name in ("loss", "duplication", "reordering"):
            value = getattr(self, name)
            if not isinstance(value, int | float) or isinstance(value, bool) or not 0 <= value <= 1:
                raise ValueError(f"{name} must be a share from 0 to 1, not {value!r}")
        delay = self.delay
        low, high = (delay, delay) if isinstance(delay, int | float) and not isinstance(delay, bool) else (
            delay if isinstance(delay, tuple) and len(delay) == 2 else (None, None))
        if not all(isinstance(x, int | float) and not isinstance(x, bool) for x in (low, high)) \
                or low < 0 or high < low:  # type: ignore[operator]
            raise ValueError(f"delay must be seconds >= 0 or a (low, high) range with 0 <= low <= high, not {delay!r}")
        if not isinstance(self.reorder_window, int | float) or self.reorder_window < 0:
            raise ValueError(f"reorder_window must be seconds >= 0, not {self.reorder_window!r}")
        if not isinstance(self.delivery, bool):
            raise ValueError(f"delivery must be True or False, not {self.delivery!r}")


@dataclass(frozen=True)
class Sent:
    """An event SageMaker sent, and the emulated moment (``clock.now()``) it sent it."""

    event: dict[str, Any]
    at: float
    fate: str
    """"delivered", "lost", "undelivered" (delivery off, or no sink or timer service), or "duplicated"."""


@dataclass(frozen=True)
class Delivered:
    """A delivery of an event to the sink: when it was sent and when it arrived (``clock.now()``)."""

    event: dict[str, Any]
    sent_at: float
    at: float
    copy: int
    """0 for the first copy of an event, 1 for its duplicate."""
    reordered: bool

    @property
    def delay(self) -> float:
        return self.at - self.sent_at


@dataclass
class _Held:
    event: dict[str, Any]
    sent_at: float
    copy: int
    delay: float
    released: bool = False


@dataclass
class EndpointEvents:
    """The one place the emulator's endpoint events go through (see the module's doc)."""

    switches: Switches = field(default_factory=Switches)
    sent: list[Sent] = field(default_factory=list)
    delivered: list[Delivered] = field(default_factory=list)
    _random: random.Random = field(default_factory=lambda: random.Random(0))
    _sink: Sink | None = None
    _held: dict[str, list[_Held]] = field(default_factory=dict)
    _lock: threading.RLock = field(default_factory=threading.RLock)

    def configure(self, **switches: Any) -> Switches:
        """Set some switches (the others keep their value) and start the random generator again from the
        seed. Raises ValueError naming a bad switch and what it allows, before anything changes."""
        unknown = sorted(set(switches) - set(Switches.__dataclass_fields__))
        if unknown:
            raise ValueError(f"unknown switch(es) {unknown}; the switches are "
                             f"{sorted(Switches.__dataclass_fields__)}")
        with self._lock:
            self.switches = replace(self.switches, **switches)
            self._random = random.Random(self.switches.seed)
            return self.switches

    def reset(self) -> None:
        with self._lock:
            self.switches = Switches()
            self._random = random.Random(0)
            self.sent.clear()
            self.delivered.clear()
            self._held.clear()

    @contextmanager
    def deliver_to(self, sink: Sink) -> Iterator[None]:
        """Deliver to `sink(event)` until the block ends (it runs on the timer service's thread)."""
        with self._lock:
            saved, self._sink = self._sink, sink
        try:
            yield
        finally:
            with self._lock:
                self._sink = saved

    def sent_for(self, endpoint_name: str) -> list[Sent]:
        with self._lock:
            return [s for s in self.sent if s.event["detail"]["EndpointName"] == endpoint_name]

    def delivered_for(self, endpoint_name: str) -> list[Delivered]:
        with self._lock:
            return [d for d in self.delivered if d.event["detail"]["EndpointName"] == endpoint_name]

    # -- sending -----------------------------------------------------------------------------------
    def send(self, event: dict[str, Any]) -> None:
        """SageMaker sends `event` now: record it, and schedule its deliveries as the switches decide."""
        with self._lock:
            now = clock.now()
            switches = self.switches
            if not switches.delivery or self._sink is None:
                self.sent.append(Sent(event, now, "undelivered"))
                return
            if self._random.random() < switches.loss:
                self.sent.append(Sent(event, now, "lost"))
                return
            copies = 2 if self._random.random() < switches.duplication else 1
            self.sent.append(Sent(event, now, "duplicated" if copies == 2 else "delivered"))
            endpoint = event["detail"]["EndpointName"]
            overtaken = [h for h in self._held.pop(endpoint, []) if not h.released]
            latest: float | None = None
            for number in range(copies):
                delay = self._delay()
                if self._random.random() < switches.reordering:
                    held = _Held(copy.deepcopy(event), now, number, delay)
                    self._held.setdefault(endpoint, []).append(held)
                    self._schedule_release(held, endpoint, switches.reorder_window)
                    continue
                latest = delay if latest is None else max(latest, delay)
                self._schedule(copy.deepcopy(event), now, number, delay, reordered=False)
            if latest is None:  # this one is held back too: the earlier ones wait with it for one that is not
                self._held[endpoint] = overtaken + self._held.get(endpoint, [])
                return
            # Events held back before this one arrive after it: "a later event delivered before an earlier one".
            for held in overtaken:
                held.released = True
                self._schedule(held.event, held.sent_at, held.copy, latest + held.delay, reordered=True)

    def _delay(self) -> float:
        delay = self.switches.delay
        if isinstance(delay, tuple):
            return self._random.uniform(*delay)
        return float(delay)

    def _schedule_release(self, held: _Held, endpoint: str, window: float) -> None:
        def release() -> None:
            with self._lock:
                if held.released:
                    return
                held.released = True
                waiting = self._held.get(endpoint, [])
                if held in waiting:
                    waiting.remove(held)
            self._deliver(held.event, held.sent_at, held.copy, reordered=False)

        if not clock.call_later(window + held.delay, release):
            held.released = True

    def _schedule(self, event: dict[str, Any], sent_at: float, number: int, delay: float, reordered: bool) -> None:
        if not clock.call_later(delay, lambda: self._deliver(event, sent_at, number, reordered)):
            _log.debug("no timer service: the endpoint event is not delivered")

    def _deliver(self, event: dict[str, Any], sent_at: float, number: int, reordered: bool) -> None:
        with self._lock:
            sink = self._sink
            if sink is None:
                return
            self.delivered.append(Delivered(event, sent_at, clock.now(), number, reordered))
        try:
            sink(event)
        except Exception:  # the sink (the runner) records its own failures; a timer thread must not die of one
            _log.exception("delivering an endpoint event failed")


ENDPOINT_EVENTS = EndpointEvents()


def configure_endpoint_events(**switches: Any) -> Switches:
    """``ENDPOINT_EVENTS.configure``: delivery, loss, duplication, delay, reordering, reorder_window, seed."""
    return ENDPOINT_EVENTS.configure(**switches)


def reset() -> None:
    with LOCK:
        ENDPOINT_EVENTS.reset()
