"""Expected failures, each a one-line message and a documented exit code."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    EndpointConnectionError,
    NoCredentialsError,
    NoRegionError,
    PartialCredentialsError,
    ProfileNotFound,
)

from endpoint_updater.core.aws import error_code
from endpoint_updater.core.errors import (
    ChangeNotAllowed,
    EndpointNotFound,
    EndpointNotInService,
    EndpointUpdateInProgress,
    InferenceComponentsNotSupported,
    InvalidInput,
    RolloutTargetsNotFound,
    ScalingRestorePending,
    UpdaterError,
)

# The exit codes, as docs/cli.md documents them.
OK = 0
FAILED = 1
"""The execution failed, timed out or was stopped (the workflow restored the scaling)."""
INVALID = 2
"""Bad flags or an invalid input: nothing was started."""
REFUSED = 3
"""The workflow refused (or would refuse) the update before changing anything."""
NOT_FOUND = 4
"""The stack, its state machine output or the execution does not exist."""
AWS = 5
"""No credentials or region, access denied, or AWS unreachable."""
BUSY = 6
"""The endpoint is not InService, or another update holds it."""
NAME_TAKEN = 7
"""An execution with this name already ran (names are kept 90 days): pass --name to run it again."""
INTERRUPTED = 130

# The workflow's refusals and the exit code each maps to; any other failure is FAILED. An execution (or a dry
# run's plan) names its error by the exception's class name, the same contract the state machine relies on.
REFUSAL_EXIT_CODES: dict[type[UpdaterError], int] = {
    InvalidInput: REFUSED,
    ChangeNotAllowed: REFUSED,
    EndpointNotFound: REFUSED,
    InferenceComponentsNotSupported: REFUSED,
    RolloutTargetsNotFound: REFUSED,
    EndpointNotInService: BUSY,
    EndpointUpdateInProgress: BUSY,
    ScalingRestorePending: BUSY,
}
ERROR_EXIT_CODES = {error.__name__: code for error, code in REFUSAL_EXIT_CODES.items()}

CREDENTIAL_CODES = frozenset({"ExpiredToken", "ExpiredTokenException", "UnrecognizedClientException",
                              "InvalidClientTokenId", "InvalidSignatureException", "SignatureDoesNotMatch",
                              "AccessDenied", "AccessDeniedException"})


class CliError(Exception):
    """An expected failure: printed as one line, the process exits with `code`."""

    def __init__(self, message: str, code: int) -> None:
        super().__init__(message)
        self.code = code


def exit_code_for(error_name: str | None) -> int:
    return ERROR_EXIT_CODES.get(error_name or "", FAILED)


@contextlib.contextmanager
def aws_errors() -> Iterator[None]:
    """AWS SDK failures that are the caller's setup, not a bug, as one-line CliErrors."""
    try:
        yield
    except (BotoCoreError, ClientError) as error:
        raise aws_failure(error) from error


def aws_failure(error: BotoCoreError | ClientError) -> CliError:
    """The one-line message and exit code of an AWS SDK failure, whichever command met it."""
    if isinstance(error, NoCredentialsError | PartialCredentialsError):
        return CliError("no AWS credentials found: set a profile (--profile or AWS_PROFILE) or "
                        f"AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY ({error})", AWS)
    if isinstance(error, NoRegionError):
        # boto3 reads the region from AWS_DEFAULT_REGION or the profile, not from AWS_REGION.
        return CliError("no AWS region: pass --region or set AWS_DEFAULT_REGION", AWS)
    if isinstance(error, ProfileNotFound):
        return CliError(f"{error}: check --profile or AWS_PROFILE", AWS)
    if isinstance(error, EndpointConnectionError):
        return CliError(f"cannot reach AWS: {error}", AWS)
    if isinstance(error, ClientError):
        code = error_code(error)
        message = str(error.response.get("Error", {}).get("Message", error))
        operation = getattr(error, "operation_name", "an AWS call")
        if code in CREDENTIAL_CODES:
            return CliError(f"AWS refused {operation}: {code}: {message}", AWS)
        return CliError(f"{operation} failed: {code}: {message}", AWS)
    return CliError(f"AWS SDK error: {error}", AWS)
