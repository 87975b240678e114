"""The exceptions the functions raise, and how a failure's cause reads.

Their class names are the contract with the state machine: Step Functions matches a Python Lambda's
error by the exception's class name (`ErrorEquals`), and the execution fails with that name.
"""

from __future__ import annotations

import json
from typing import overload


@overload
def cause_message(cause: str) -> str: ...


@overload
def cause_message(cause: None) -> None: ...


def cause_message(cause: str | None) -> str | None:
    """The message in a failure's cause, as people want to read it.

    Step Functions gives a Lambda function's error as the runtime's JSON (errorMessage, errorType,
    stackTrace...). Any other cause is returned as it is: plain text, JSON without an errorMessage, and a
    cause Step Functions cut at its length limit, which no longer parses.
    """
    if not cause:
        return cause
    try:
        parsed = json.loads(cause)
    except ValueError:
        return cause
    if isinstance(parsed, dict) and "errorMessage" in parsed:
        return str(parsed["errorMessage"])
    return cause


class UpdaterError(Exception):
    """Base class; never raised itself."""

    metric: str | None = None
    """A metric the function counts when it fails with this error (the stack alarms on it)."""


class InvalidInput(UpdaterError):
    """The request is malformed; the message names each field and its allowed values."""


class ChangeNotAllowed(UpdaterError):
    """The request asks for a change this deployment's guardrails do not allow; the message names each
    guardrail and the setting that controls it."""


class SnapshotRefused(UpdaterError):
    """A stored scaling snapshot names resources or alarms that are not its endpoint's: it was not applied."""

    metric = "SnapshotsRefused"


class EndpointNotFound(UpdaterError):
    """The endpoint does not exist."""


class EndpointNotInService(UpdaterError):
    """The endpoint must be InService before an update starts."""


class InferenceComponentsNotSupported(UpdaterError):
    """The endpoint hosts inference components (or a variant uses managed instance scaling): its models and
    their scaling live in the components, which the workflow does not capture or update; nothing was changed."""


class AwsTransientError(UpdaterError):
    """Throttling or a transient service fault that outlasted the SDK's own retries; the workflow retries."""


class AwsRequestFailed(UpdaterError):
    """An AWS call failed permanently (validation, missing resource, access denied...)."""


class EndpointConfigConflict(UpdaterError):
    """An endpoint config with the new name exists with other content."""


class EndpointUpdateFailed(UpdaterError):
    """The endpoint went to Failed (or was deleted) during the update."""


class EndpointUpdateRolledBack(UpdaterError):
    """The endpoint is InService again but on another config than the new one: the update was rolled back."""


class EndpointUpdateRollbackFailed(UpdaterError):
    """UpdateRollbackFailed: a mix of the old and the new config is serving."""


class CapacityRaiseFailed(UpdaterError):
    """The precautionary capacity raise did not take effect: the endpoint is InService again with a variant
    below the raised count (the raise was rolled back). Nothing after the raise was changed."""


class EndpointUpdateTimedOut(UpdaterError):
    """The update did not finish before the request's TimeoutSeconds."""


class ScalingRestoreFailed(UpdaterError):
    """The scaling configuration could not be restored to the snapshot; the message says how by hand."""


class EndpointUpdateInProgress(UpdaterError):
    """Another execution holds the endpoint's lock; the message names it."""


class ScalingRestorePending(UpdaterError):
    """An earlier update deregistered the endpoint's scaling and it was never restored; restore it first."""


class UpdateRecordNotFound(UpdaterError):
    """The updates table has no record for that endpoint and execution."""


class NothingToRestore(UpdaterError):
    """The break-glass restore found no update of the endpoint in the updates table."""


class LockLost(UpdaterError):
    """The endpoint's lock was taken back from this execution (it was stopped); it must change nothing more."""


class ExecutionNameConflict(UpdaterError):
    """A triggering event's execution name is taken by an execution with another input: not a duplicate of the
    event, so the update it asks for was not started."""


class ModelConflict(UpdaterError):
    """A model with the name the workflow gives a package's model exists and is made from something else."""


class RolloutTargetsNotFound(UpdaterError):
    """A rollout's Targets matched no endpoint; nothing was started."""
