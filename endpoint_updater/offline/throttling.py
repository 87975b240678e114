"""Emulated API throttling: a token bucket per service, as AWS meters control-plane requests.

AWS throttles each service's API per account and per Region, with its own bucket per service (AWS
Knowledge Center, "Why are my Auto Scaling API calls throttled?": Amazon EC2 Auto Scaling, AWS Auto
Scaling and Application Auto Scaling "have their own API throttle buckets"). A request over the rate is
answered with the common error ``ThrottlingException`` (HTTP 400, "Common Errors" in each API reference),
which botocore retries and then raises.

AWS does not publish the request rates of SageMaker's or Application Auto Scaling's Describe operations.
The default modelled here is deliberately tight: a sustained 5 requests per second with a burst of 10 per
service. SageMaker's own Python SDK moved its DescribeEndpoint poll from every 5 s to every 30 s after
its canaries were throttled (sagemaker-python-sdk pull request 1204), so the real budget shared by
everything in an account is single-digit requests per second. Describe calls are the ones metered here:
they are the calls a workflow repeats while it polls.

Use :func:`enabled` around the code under load; ``offline.emulation.faults`` consults :func:`throttles`
for every request that reaches moto.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from endpoint_updater.offline import moto_seam

__all__ = [
    "DEFAULT_BURST",
    "DEFAULT_RATE_PER_SECOND",
    "THROTTLED_SERVICES",
    "ThrottlingStats",
    "TokenBucket",
    "enabled",
    "is_enabled",
    "throttles",
]

DEFAULT_RATE_PER_SECOND = 5.0
DEFAULT_BURST = 10.0
THROTTLED_SERVICES = frozenset({"sagemaker", "application-autoscaling"})
THROTTLED_PREFIX = "Describe"
ERROR_CODE = "ThrottlingException"
ERROR_MESSAGE = "Rate exceeded"


class TokenBucket:
    """`rate` tokens a second, at most `burst` saved up; each request takes one or is refused."""

    def __init__(self, rate: float, burst: float, clock: Callable[[], float] = time.monotonic) -> None:
        if rate <= 0:
            raise ValueError("rate must be > 0")
        if burst < 1:
            raise ValueError("burst must be >= 1")
        self.rate = rate
        self.burst = burst
        self._clock = clock
        self._tokens = burst
        self._last = clock()
        self._lock = threading.Lock()

    def take(self) -> bool:
        with self._lock:
            now = self._clock()
            self._tokens = min(self.burst, self._tokens + (now - self._last) * self.rate)
            self._last = now
            if self._tokens >= 1:
                self._tokens -= 1
                return True
            return False


@dataclass
class ThrottlingStats:
    """What the buckets did while enabled: requests let through and refused, per "service:Operation"."""

    allowed: dict[str, int] = field(default_factory=dict)
    throttled: dict[str, int] = field(default_factory=dict)

    @property
    def total_throttled(self) -> int:
        return sum(self.throttled.values())

    @property
    def total_allowed(self) -> int:
        return sum(self.allowed.values())


class _Throttle:
    def __init__(self, rate: float, burst: float, services: frozenset[str], clock: Callable[[], float]) -> None:
        self.buckets = {service: TokenBucket(rate, burst, clock) for service in services}
        self.stats = ThrottlingStats()
        self.lock = threading.Lock()


_active: _Throttle | None = None


def is_enabled() -> bool:
    return _active is not None


def throttles(service: str, operation: str) -> bool:
    """Whether this request is refused with ThrottlingException (always False unless :func:`enabled`)."""
    throttle = _active
    if throttle is None or not operation.startswith(THROTTLED_PREFIX):
        return False
    bucket = throttle.buckets.get(service)
    if bucket is None:
        return False
    allowed = bucket.take()
    key = f"{service}:{operation}"
    with throttle.lock:
        counts = throttle.stats.allowed if allowed else throttle.stats.throttled
        counts[key] = counts.get(key, 0) + 1
    return not allowed


@contextlib.contextmanager
def enabled(
    rate: float = DEFAULT_RATE_PER_SECOND, burst: float = DEFAULT_BURST,
    services: frozenset[str] = THROTTLED_SERVICES, clock: Callable[[], float] = time.monotonic,
) -> Iterator[ThrottlingStats]:
    """Throttle the Describe calls of `services` (one bucket each) until the block ends; yields the counts."""
    global _active
    if _active is not None:
        raise RuntimeError("throttling is already enabled")
    moto_seam.allow_error_code(ERROR_CODE)
    throttle = _Throttle(rate, burst, services, clock)
    _active = throttle
    try:
        yield throttle.stats
    finally:
        _active = None
