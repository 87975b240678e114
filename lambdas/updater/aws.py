"""Small adapters over boto3: one cached client per service, and AWS errors turned into workflow errors."""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
from collections.abc import Iterator
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError, ConnectionError, HTTPClientError

from updater.errors import AwsRequestFailed, AwsTransientError

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
