"""Injected faults and emulated throttling, at moto's request-handling layer.

:func:`inject_fault` makes the next calls of an operation answer with an AWS error code. The answer is made
where moto handles every request (``BaseResponse.call_action``), so botocore parses a real ``ClientError``:
codes such as ThrottlingException are AWS "Common Errors", valid for every service. The same place asks
``offline.throttling`` whether a request is over its rate.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from endpoint_updater.offline import moto_seam, throttling
from endpoint_updater.offline.emulation.lock import LOCK


@dataclass
class _Fault:
    code: str
    message: str
    remaining: int


_faults: dict[tuple[str, str], list[_Fault]] = {}


class InjectedError(moto_seam.service_error_class()):  # type: ignore[misc]
    """A serializable error with any code, for fault injection."""


def inject_fault(
    service: str, operation: str, code: str, message: str = "injected by the emulator", *, times: int = 1
) -> None:
    """Make the next ``times`` calls of ``operation`` on ``service`` answer with the AWS error ``code``.

    ``service`` is the boto3 client name (``sagemaker``, ``application-autoscaling``, ``cloudwatch``),
    ``operation`` the API name (``UpdateEndpoint``). botocore raises ``ClientError`` with
    ``Error.Code == code``. Faults of the same operation queue up in call order. Note that botocore itself
    retries throttling and 5xx errors unless the client is configured not to.
    """
    if times < 1:
        raise ValueError("times must be >= 1")
    with LOCK:
        moto_seam.allow_error_code(code)
        _faults.setdefault((service, operation), []).append(_Fault(code, message, times))


def reset() -> None:
    with LOCK:
        _faults.clear()


def _take_fault(service: str, operation: str) -> _Fault | None:
    with LOCK:
        queue = _faults.get((service, operation))
        if not queue:
            return None
        fault = queue[0]
        fault.remaining -= 1
        if fault.remaining <= 0:
            queue.pop(0)
        return fault


def _call_action_wrapper(original: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(original)
    def call_action(self: Any) -> Any:
        if _faults or throttling.is_enabled():
            try:
                operation = moto_seam.request_operation(self)
            except Exception:  # an unroutable request: let moto answer it
                operation = None
            service = moto_seam.request_service(self)
            fault = _take_fault(service, operation) if operation else None
            if fault is None and operation and throttling.throttles(service, operation):
                fault = _Fault(throttling.ERROR_CODE, throttling.ERROR_MESSAGE, 0)
            if fault is not None:
                return moto_seam.error_answer(self, InjectedError(fault.code, fault.message))
        return original(self)

    return call_action


def install() -> None:
    moto_seam.replace("every service.request handling", _call_action_wrapper)
