"""Small adapters over boto3: one cached client per service, and AWS errors turned into workflow errors."""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
from collections.abc import Iterator
from typing import Any

import boto3
import botocore.session
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError, ConnectionError, HTTPClientError

from endpoint_updater.core.errors import AwsRequestFailed, AwsTransientError

# Retried by the workflow (with backoff) once the SDK's own standard-mode retries are spent.
# ConcurrentUpdateException and InternalServiceException: Application Auto Scaling's API reference;
# ThrottlingException: SageMaker's; Throttling: CloudWatch's.
TRANSIENT_CODES = frozenset({
    "ThrottlingException", "Throttling", "ThrottledException", "TooManyRequestsException",
    "RequestLimitExceeded", "ConcurrentUpdateException", "InternalServiceException",
    "InternalFailure", "InternalServerError", "ServiceUnavailable",
})

_CONFIG = Config(retries={"mode": "standard"})
_clients: dict[str, Any] = {}


def client(service: str) -> Any:
    """The client for `service`, created on first use and kept for the life of the execution environment."""
    if service not in _clients:
        _clients[service] = boto3.client(service, config=_CONFIG)  # type: ignore[call-overload]
    return _clients[service]


@contextlib.contextmanager
def botocore_session_shared() -> Iterator[None]:
    """Within the block, code that makes its own botocore session gets the one our clients are made from.

    The X-Ray SDK (Powertools' Tracer imports it) creates two X-Ray clients at import, each from a botocore
    session of its own, for its centralized sampling (outside Lambda; in Lambda, Lambda decides sampling).
    Every new session loads and parses the endpoint and partition data again (1.3 MB of JSON) that our
    clients then load a third time. With boto3's default session built on the session those clients come
    from, the data is read once and the models stay cached for our clients. Only the SDK's explicit arguments
    (region, endpoint, anonymous credentials) shape its clients, so sharing changes none of them.
    """
    if boto3.DEFAULT_SESSION is not None:  # made already (tests, the command line): its data is loaded
        yield
        return
    shared = botocore.session.get_session()
    boto3.setup_default_session(botocore_session=shared)
    make_session = botocore.session.get_session
    botocore.session.get_session = lambda env_vars=None: shared
    try:
        yield
    finally:
        botocore.session.get_session = make_session


def reset_clients() -> None:
    """Forget cached clients (the local runner does this when it starts a new emulated account)."""
    _clients.clear()


def error_code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


@contextlib.contextmanager
def translated_errors() -> Iterator[None]:
    """Turn botocore errors into the workflow's error classes, so the state machine can route on them."""
    try:
        yield
    except ClientError as error:
        code = error_code(error)
        operation = getattr(error, "operation_name", "?")
        message = error.response.get("Error", {}).get("Message", str(error))
        if code in TRANSIENT_CODES:
            raise AwsTransientError(f"{operation}: {code}: {message}") from error
        raise AwsRequestFailed(f"{operation} failed with {code}: {message}") from error
    except (ConnectionError, HTTPClientError) as error:
        raise AwsTransientError(f"network error calling AWS: {error}") from error
    except BotoCoreError as error:
        raise AwsRequestFailed(f"AWS SDK error: {error}") from error


def paginate(service: str, operation: str, result_key: str, **params: Any) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    for page in client(service).get_paginator(operation).paginate(**params):
        items.extend(page.get(result_key, []))
    return items


def jsonable(value: Any) -> Any:
    """Describe* results as JSON-ready data: datetimes become ISO 8601 strings (which boto3 accepts back)."""
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: jsonable(v) for k, v in value.items() if k != "ResponseMetadata"}
    if isinstance(value, list):
        return [jsonable(v) for v in value]
    return value


@functools.cache
def input_members(service: str, operation: str) -> frozenset[str]:
    """The parameters an operation accepts, read from the SDK's service model."""
    model = client(service).meta.service_model.operation_model(operation)
    return frozenset(model.input_shape.members)
