"""Running the command line in-process, and reading what it may have changed."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import boto3
from botocore.stub import Stubber
from click.testing import CliRunner

from endpoint_updater.cli.main import main
from endpoint_updater.offline.scenario import endpoint_state, scaling_state

ENDPOINT = "churn-prod"


@dataclass
class Run:
    code: int
    stdout: str
    stderr: str

    def json(self) -> Any:
        return json.loads(self.stdout)


def invoke(*args: str) -> Run:
    result = CliRunner().invoke(main, list(args), prog_name="endpoint-updater", env={"COLUMNS": "200"})
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return Run(result.exit_code, result.stdout, result.stderr)


def stubbed_cloudformation() -> tuple[Any, Stubber]:
    cloudformation = boto3.client("cloudformation", region_name="eu-west-1", aws_access_key_id="x",
                                  aws_secret_access_key="x")
    return cloudformation, Stubber(cloudformation)


def world() -> dict[str, Any]:
    """Everything an update could change: the scaling, the endpoint and the endpoint configs."""
    sagemaker = boto3.client("sagemaker")
    return {"scaling": scaling_state(ENDPOINT), "endpoint": endpoint_state(ENDPOINT),
            "configs": sorted(c["EndpointConfigName"] for c in sagemaker.list_endpoint_configs()["EndpointConfigs"])}


def one_line_error(run: Run) -> str:
    """The run failed with exactly one line on stderr, no traceback."""
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1, run.stderr
    assert lines[0].startswith("endpoint-updater: error: "), lines[0]
    assert "Traceback" not in run.stderr + run.stdout
    return lines[0]
