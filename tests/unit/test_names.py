"""Names the workflow derives: executions from trigger events, models from model packages."""

from __future__ import annotations

import re

import pytest

from endpoint_updater.core.model_package import model_name
from endpoint_updater.core.trigger import execution_name
from endpoint_updater.names import execution_arn

EXECUTION_NAME = re.compile(r"^[0-9A-Za-z_-]{1,80}$")
MODEL_NAME = re.compile(r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$")


@pytest.mark.parametrize("endpoint", ["churn-prod", "e" * 63, "a.b c/d"])
def test_execution_names_are_valid_stable_and_differ_by_event(endpoint: str) -> None:
    name = execution_name("requested", "source/event-1", endpoint)
    assert EXECUTION_NAME.match(name), name
    assert name == execution_name("requested", "source/event-1", endpoint)
    assert name != execution_name("requested", "source/event-2", endpoint)


@pytest.mark.parametrize("group", ["churn-models", "g" * 63, "a-" * 31 + "b"])
def test_model_names_are_valid_model_names_and_differ_by_version(group: str) -> None:
    arn = f"arn:aws:sagemaker:us-east-1:123456789012:model-package/{group}/12"
    name = model_name(arn)
    assert MODEL_NAME.match(name), name
    assert name.endswith("-12-" + name.rsplit("-", 1)[1])
    assert name != model_name(arn.replace("/12", "/13"))


def test_an_execution_arn_is_its_state_machines_with_its_name() -> None:
    state_machine = "arn:aws:states:eu-west-1:123456789012:stateMachine:EndpointUpdater-StateMachine"
    assert execution_arn(state_machine, "run-1") == \
        "arn:aws:states:eu-west-1:123456789012:execution:EndpointUpdater-StateMachine:run-1"
