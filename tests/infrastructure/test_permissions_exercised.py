"""Each function's role, in the synthesized template, allows exactly what its code calls.

The calls are not listed by hand: the workflow is executed in the local runner, which records every
AWS call each handler makes. To them are added the permissions AWS checks behind some calls.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterator
from typing import Any

import pytest

from endpoint_updater.core import aws
from endpoint_updater.offline import emulation
from endpoint_updater.offline.runner import LocalRunner
from endpoint_updater.offline.scenario import (
    ScalingSpec,
    VariantSpec,
    approved_model_package,
    attach_scaling,
    create_endpoint,
    create_fleet,
    package_state_change_event,
)
from infra.permissions import (
    PERMISSIONS,
    TRANSACTION,
    UNREACHED_CALLS,
    authorized_as,
    behind_the_call,
    besides_calls,
)

# botocore's service ids, as they appear in its event names, to IAM service prefixes.
IAM_PREFIX = {"application-auto-scaling": "application-autoscaling", "sagemaker": "sagemaker",
              "cloudwatch": "cloudwatch", "dynamodb": "dynamodb", "sfn": "states", "sns": "sns"}


def endpoint_event(status: str, config: str) -> dict[str, Any]:
    """A "SageMaker Endpoint State Change" event of churn-prod, as the stack's rule delivers it."""
    return {"version": "0", "id": f"e-{status}-{config}", "source": "aws.sagemaker", "account": "123456789012",
            "detail-type": "SageMaker Endpoint State Change", "region": "us-east-1", "resources": [],
            "detail": {"EndpointName": "churn-prod", "EndpointConfigName": config, "EndpointStatus": status}}


@pytest.fixture(scope="module")
def calls() -> Iterator[dict[str, set[str]]]:
    """Every (function, action) seen over a successful update with a capacity raise and a throttled
    UpdateEndpoint, a rolled-back update, an update refused because another holds the endpoint, a stopped
    update recovered by the status-change rule, an update requested by an event, and an approved model package
    deployed (and delivered again); every ended execution is notified. The updates wait for SageMaker's events
    (Completion "events", the default): the await function finds one update over and another rolled back at
    its own look, the resume function is handed the endpoint's event of a success and of a rollback; the
    stopped update polls (Completion "polling") for its capacity raise and its update.

    A transaction is authorized as its items' kinds: they are read from each TransactWriteItems request."""
    by_function: dict[str, set[str]] = defaultdict(set)
    transactions: list[list[str]] = []

    def transaction_items(request: Any, **_: Any) -> None:
        transactions.append([next(iter(item)) for item in json.loads(request.body)["TransactItems"]])

    deployments = {"churn-models": {"EndpointName": "churn-prod", "VariantName": "AllTraffic",
                                    "PollIntervalSeconds": 1}}
    with LocalRunner(model_package_deployments=deployments) as runner:
        # First in line, before the emulator answers the request.
        aws.client("dynamodb").meta.events.register_first("before-send.dynamodb.TransactWriteItems",
                                                          transaction_items)
        create_endpoint("churn-prod", (VariantSpec(),), tags={"team": "churn"})
        attach_scaling("churn-prod", "AllTraffic", ScalingSpec(max_capacity=6))
        emulation.inject_fault("sagemaker", "UpdateEndpoint", "ThrottlingException", times=2)
        change = {"VariantChanges": [{"VariantName": "AllTraffic", "ModelName": "churn-v8"}]}
        # Polled (the check function's calls), a capacity raise first.
        first = runner.run({"EndpointName": "churn-prod", **change, "CapacityIncrease": {"Add": 1},
                            "Completion": "polling", "PollIntervalSeconds": 1, "TimeoutSeconds": 600})
        assert first.status == "SUCCEEDED", first.cause
        # Over before the await function looks: it sends the outcome itself.
        emulation.configure_update("churn-prod", seconds=0)
        assert runner.run({"EndpointName": "churn-prod", **change}).status == "SUCCEEDED"
        emulation.configure_update("churn-prod", seconds=0, outcome="rollback")
        second = runner.run({"EndpointName": "churn-prod", **change, "PollIntervalSeconds": 1})
        assert second.error == "EndpointUpdateRolledBack", second.cause
        # Over while the wait goes on (its safety net an hour away): the endpoint's event resumes it. The emulator
        # may have delivered SageMaker's own event through the runner's rule already; this one is then a late
        # duplicate that finds nothing waiting.
        for outcome, status in (("succeed", "SUCCEEDED"), ("rollback", "FAILED")):
            emulation.configure_update("churn-prod", seconds=60, outcome=outcome)
            waiting = runner.start({"EndpointName": "churn-prod", **change, "SafetyIntervalSeconds": 3600})
            runner.wait_for_state(waiting, "WaitForUpdateEvent")
            runner.sleep(120)
            config = aws.client("sagemaker").describe_endpoint(EndpointName="churn-prod")["EndpointConfigName"]
            resumed = runner.deliver("resume_update", endpoint_event("IN_SERVICE", config))
            assert resumed["Resumed"] is True or resumed["Reason"].startswith("no execution waits"), resumed
            execution = runner.wait(waiting)
            assert execution.status == status, execution.cause
            assert "CheckUpdate" not in execution.states_entered, "the safety net ended the wait, not the event"
        # Polling: a confirmed capacity raise, then at least one poll of the update, which is still going on.
        emulation.configure_update("churn-prod", seconds=600)
        holder = runner.start({"EndpointName": "churn-prod", **change, "Completion": "polling",
                               "CapacityIncrease": {"Add": 1}, "InitialPollDelaySeconds": 10,
                               "PollIntervalSeconds": 10})
        runner.wait_for_state(holder, "WaitForUpdate")
        refused = runner.run({"EndpointName": "churn-prod", **change, "PollIntervalSeconds": 1})
        assert refused.error == "EndpointUpdateInProgress", refused.cause
        runner.stop(holder)
        assert runner.wait(holder).recovery["Recovered"] is True
        event = runner.status_change_event(holder)
        event["detail"]["input"] = None  # left out of events whose input is large
        assert runner.deliver("recover_scaling", event)["Recovered"] is False
        emulation.set_endpoint_status("churn-prod", "InService")
        started = runner.deliver("start_update", {
            "id": "e-1", "source": "ml.platform", "detail-type": "Endpoint Update Requested",
            "detail": {"EndpointName": "churn-prod", **change, "PollIntervalSeconds": 1}})
        assert runner.wait(started["ExecutionArn"]).status == "SUCCEEDED"
        approval = package_state_change_event(approved_model_package("churn-models"))
        assert runner.wait(runner.deliver("start_update", approval)["ExecutionArn"]).status == "SUCCEEDED"
        # A second delivery finds the name taken and compares the inputs.
        assert runner.deliver("start_update", approval)["Started"] is False
        # A rollout to endpoints chosen by tags: its plan lists them and reads their tags, each wave's later updates
        # look at the earlier ones, the tally describes a failed one.
        create_fleet(("churn-tenant-a", "churn-tenant-b"), endpoint_tags={"team": "churn"})
        for name in ("churn-tenant-a", "churn-tenant-b"):
            emulation.configure_update(name, seconds=0.2, outcome="rollback")
        rollout = runner.run_rollout({"Targets": {"NamePattern": "churn-tenant-*", "Tags": {"team": "churn"}},
                                      "Change": {**change, "PollIntervalSeconds": 1},
                                      "Waves": {"CanarySize": 0, "BatchSize": 2, "MaxConcurrency": 1},
                                      "ToleratedFailureCount": 2})
        assert rollout.status == "SUCCEEDED", rollout.cause
        recorded = iter(transactions)
        for folder, call in runner.calls:
            service, operation = call.split(":")
            action = f"{IAM_PREFIX[service]}:{operation}"
            by_function[folder].update(authorized_as(action, next(recorded) if action == TRANSACTION else ()))
        assert next(recorded, None) is None, "a transaction outside the functions' calls"
    yield dict(by_function)


def needed(actions: set[str]) -> set[str]:
    return actions | behind_the_call(actions)


def test_every_function_was_exercised(calls: dict[str, set[str]], function_roles: dict[str, set[str]]) -> None:
    # (but those that call no AWS API: the permissions table gives them no row)
    assert set(calls) == set(function_roles) - {folder for folder, grants in PERMISSIONS.items() if not grants}


def test_the_calls_no_scenario_reaches_are_those_the_code_cannot_make(calls: dict[str, set[str]]) -> None:
    # Given the calls the code holds on a path a function never takes (infra/permissions.py, each with its reason)
    # When they are compared with the calls the scenarios made / Then none was made
    assert {folder: set(unreached) & calls.get(folder, set()) for folder, unreached in UNREACHED_CALLS.items()} == \
        {folder: set() for folder in UNREACHED_CALLS}


def test_each_role_allows_every_call_its_function_makes(calls: dict[str, set[str]],
                                                        function_roles: dict[str, set[str]]) -> None:
    missing = {folder: needed(actions) - function_roles[folder] for folder, actions in calls.items()}
    assert {folder: gap for folder, gap in missing.items() if gap} == {}


def test_no_role_allows_an_action_its_function_never_needs(calls: dict[str, set[str]],
                                                           function_roles: dict[str, set[str]]) -> None:
    extra = {folder: allowed - needed(calls.get(folder, set())) - set(besides_calls(folder))
             for folder, allowed in function_roles.items()}
    assert {folder: more for folder, more in extra.items() if more} == {}
