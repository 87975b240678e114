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

REPO_ROOT = Path(__file__).resolve().parent.parent
CDK_JSON = REPO_ROOT / "cdk.json"
DEFAULT_OUTDIR = REPO_ROOT / "cdk.out"

STACK_ID = "EndpointUpdater"
STACK_DESCRIPTION = "endpoint-updater: safely update a SageMaker endpoint that uses Application Auto Scaling."
SERVICE_NAME = "endpoint-updater"
NOTIFICATION_DISPLAY_NAME = "Endpoint updater"

# The code of every function is the lambdas/ directory cut down to the function's own folder plus the
# shared package that every handler imports.
LAMBDAS_DIR = REPO_ROOT / "lambdas"
SHARED_PACKAGE = "updater"

RUNTIME = lambda_.Runtime.PYTHON_3_12
ARCHITECTURE = lambda_.Architecture.ARM_64
MEMORY_MB = 256
TIMEOUT = Duration.seconds(60)
# Restoring re-creates every policy, scheduled action and alarm action of every variant, then reads them
# back to verify: more calls, each retried with backoff by the SDK.
TIMEOUT_BY_FOLDER: dict[str, Duration] = {"restore_scaling": Duration.seconds(300),
                                           "recover_scaling": Duration.seconds(300)}

# The updates table. Its key schema and attribute names are the functions' (lambdas/updater/store.py); a
# template test checks that they agree.
TABLE_PARTITION_KEY = "EndpointName"
TABLE_SORT_KEY = "Record"
TABLE_TTL_ATTRIBUTE = "ExpiresAt"
TABLE_REMOVAL_POLICY = RemovalPolicy.RETAIN
TABLE_ENV = "UPDATES_TABLE_NAME"
RETENTION_ENV = "RECORD_RETENTION_DAYS"
STATE_MACHINE_ENV = "STATE_MACHINE_ARN"
# "Step Functions Execution Status Change" statuses after which the recovery function runs.
RECOVERED_STATUSES = ("ABORTED", "TIMED_OUT", "FAILED")
ENDED_STATUSES = ("SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED")
TOPIC_ENV = "NOTIFICATION_TOPIC_ARN"

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


def powertools_layer_arn(region: str, version: int) -> str:
    return f"arn:aws:lambda:{region}:{POWERTOOLS_LAYER_ACCOUNT}:layer:{POWERTOOLS_LAYER_NAME}:{version}"


def context_defaults() -> dict[str, Any]:
    """The "context" of cdk.json, so that `python app.py` sees the same values as the CDK command line."""
    context = json.loads(CDK_JSON.read_text(encoding="utf-8")).get("context", {})
    if not isinstance(context, dict):
        raise ValueError(f"{CDK_JSON}: 'context' must be an object")
    return context
