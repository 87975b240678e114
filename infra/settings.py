"""Names and sizes of the deployed workflow, in one place.

Everything a reader might want to tune (runtime, memory, timeouts, log retention, the Powertools layer)
is here; the constructs only wire these values together.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs

from endpoint_updater import names

REPO_ROOT = Path(__file__).resolve().parent.parent
CDK_JSON = REPO_ROOT / "cdk.json"
DEFAULT_OUTDIR = REPO_ROOT / "cdk.out"

STACK_ID = names.STACK_NAME
STACK_DESCRIPTION = "endpoint-updater: safely update a SageMaker endpoint that uses Application Auto Scaling."
SERVICE_NAME = names.SERVICE_NAME
NOTIFICATION_DISPLAY_NAME = "Endpoint updater"

# The code of every function: its own folder under lambdas/ and the shared package every handler imports
# (endpoint_updater's names and core, not its command line or emulator), laid out as the installed package.
LAMBDAS_DIR = REPO_ROOT / "lambdas"
FUNCTION_CODE = ("lambdas/__init__.py", "endpoint_updater/__init__.py", "endpoint_updater/names.py",
                 "endpoint_updater/core")

RUNTIME = lambda_.Runtime.PYTHON_3_12
ARCHITECTURE = lambda_.Architecture.ARM_64
MEMORY_MB = 256
TIMEOUT = Duration.seconds(60)
# Restoring re-creates every policy, scheduled action and alarm action of every variant, then reads them
# back to verify: more calls, each retried with backoff by the SDK.
TIMEOUT_BY_FOLDER: dict[str, Duration] = {"restore_scaling": Duration.seconds(300),
                                           "recover_scaling": Duration.seconds(300)}

# The functions EventBridge invokes are invoked asynchronously: Lambda retries a failed invocation this many
# times (its default, at most 2) within this age (at most 6 hours), then sends it to the on-failure destination
# (Lambda Developer Guide, "Configuring error handling for asynchronous invocation").
ASYNC_RETRY_ATTEMPTS = 2
ASYNC_MAX_EVENT_AGE = Duration.hours(6)

# The updates table. Its key schema and attribute names are the functions' (endpoint_updater/core/store.py); a
# template test checks that they agree.
TABLE_PARTITION_KEY = "EndpointName"
TABLE_SORT_KEY = "Record"
TABLE_TTL_ATTRIBUTE = "ExpiresAt"
TABLE_REMOVAL_POLICY = RemovalPolicy.RETAIN
TABLE_ENV = names.TABLE_ENV
RETENTION_ENV = names.RETENTION_ENV
STATE_MACHINE_ENV = names.STATE_MACHINE_ENV
RECOVERED_STATUSES = names.RECOVERED_STATUSES
ENDED_STATUSES = names.ENDED_STATUSES
TOPIC_ENV = names.TOPIC_ENV

LOG_RETENTION = logs.RetentionDays.THREE_MONTHS
# The log groups are the audit trail of past updates: they outlive the stack unless deleted by hand.
LOG_REMOVAL_POLICY = RemovalPolicy.RETAIN

ENVIRONMENT: dict[str, str] = {
    "POWERTOOLS_SERVICE_NAME": SERVICE_NAME,
    "POWERTOOLS_LOG_LEVEL": "INFO",
    # boto3's "standard" mode retries throttling and transient errors with backoff; the state machine's
    # Retry covers what is left after these attempts.
    "AWS_RETRY_MODE": "standard",
    "AWS_MAX_ATTEMPTS": "5",
}

# Powertools for AWS Lambda (Python) V3, published by AWS as a public layer in the commercial regions
# (account 017000801446; the China and GovCloud partitions use other accounts and are not supported here).
# The layer name carries the Python version and the architecture and must match RUNTIME and ARCHITECTURE.
# The version is a context value ("powertoolsLayerVersion" in cdk.json, or `-c powertoolsLayerVersion=N`).
# cdk.json's 32 is a published version known to carry Powertools 3.28.0 (3.23.0 was 27); the handlers use
# only Logger, whose API is the same in the 3.37.0 the requirements pin for local runs. The layer that
# carries exactly a given release is named by the public SSM parameter
# /aws/service/powertools/python/arm64/python3.12/<release> in each region.
POWERTOOLS_LAYER_ACCOUNT = "017000801446"
POWERTOOLS_LAYER_NAME = "AWSLambdaPowertoolsPythonV3-python312-arm64"


# The AWS SDK the functions run with: these distributions at exactly the versions requirements.txt pins, in a
# layer of the stack's own (infra/sdk_layer.py), so that the deployed functions parse AWS's answers with the
# botocore model the tests use, not the runtime's. boto3 and what it needs, all pure Python.
SDK_DISTRIBUTIONS = ("boto3", "botocore", "s3transfer", "jmespath", "python-dateutil", "six", "urllib3")


def powertools_layer_arn(region: str, version: int) -> str:
    return f"arn:aws:lambda:{region}:{POWERTOOLS_LAYER_ACCOUNT}:layer:{POWERTOOLS_LAYER_NAME}:{version}"


def context_defaults() -> dict[str, Any]:
    """The "context" of cdk.json, so that `python app.py` sees the same values as the CDK command line."""
    context = json.loads(CDK_JSON.read_text(encoding="utf-8")).get("context", {})
    if not isinstance(context, dict):
        raise ValueError(f"{CDK_JSON}: 'context' must be an object")
    return context
