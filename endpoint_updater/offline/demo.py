"""`make demo`: two updates of an emulated autoscaled endpoint, run by the real workflow on this machine, then a
rollout to a fleet of five.

The first update changes the model and succeeds; the second is rolled back by (emulated) SageMaker, and the
workflow fails it and restores the scaling. The rollout updates five endpoints in three waves (a canary, then two
at a time); one endpoint of the second wave fails, and the failure budget (none tolerated) keeps the last wave
from starting. Exits non-zero if anything does not end as it should.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Callable
from typing import Any

import boto3

from endpoint_updater.offline import emulation
from endpoint_updater.offline.runner import Execution, LocalRunner
from endpoint_updater.offline.scenario import (
    ScalingSpec,
    VariantSpec,
    attach_scaling,
    create_endpoint,
    create_fleet,
    endpoint_state,
    scaling_state,
)

ENDPOINT = "churn-prod"
VARIANTS = (VariantSpec(name="AllTraffic", model="churn-v7", count=2),
            VariantSpec(name="Canary", model="churn-v7", count=1, weight=0.1))
UPDATE_SECONDS = 2.0
FLEET = tuple(f"churn-tenant-{index}" for index in range(1, 6))
FAILING_TENANT = FLEET[2]


def prepare_endpoint() -> None:
    """The demo's endpoint (also `endpoint-updater --local`'s): two variants, autoscaling on AllTraffic,
    and updates that take UPDATE_SECONDS and succeed."""
    create_endpoint(ENDPOINT, VARIANTS)
    attach_scaling(ENDPOINT, "AllTraffic", ScalingSpec(min_capacity=1, max_capacity=6))
    emulation.configure_update(ENDPOINT, seconds=UPDATE_SECONDS)


def prepare_fleet() -> None:
    """The rollout's endpoints: each like the demo's, autoscaled, tagged with its team."""
    create_fleet(FLEET, VARIANTS, scaled=["AllTraffic"], spec=ScalingSpec(min_capacity=1, max_capacity=6),
                 endpoint_tags={"team": "churn"})
    for name in FLEET:
        emulation.configure_update(name, seconds=UPDATE_SECONDS)


def say(text: str = "") -> None:
    print(text, flush=True)


def show_scaling(title: str, state: dict[str, Any]) -> None:
    say(f"  {title}:")
    for kind, items in state.items():
        for item in items:
            say(f"    {kind:<18} {json.dumps(item, sort_keys=True, default=str)}")
        if not items:
            say(f"    {kind:<18} (none)")


def show_config(name: str) -> None:
    config = boto3.client("sagemaker").describe_endpoint_config(EndpointConfigName=name)
    say(f"  endpoint config {name}:")
    for variant in config["ProductionVariants"]:
        say(f"    {variant['VariantName']:<11} model {variant['ModelName']}, {variant.get('InstanceType')} "
            f"x {variant.get('InitialInstanceCount')}, weight {variant.get('InitialVariantWeight')}")


def follow() -> Callable[[dict[str, Any]], None]:
    """Print each state as the execution enters it, and each failure as it happens."""
    started = time.monotonic()

    def on_event(event: dict[str, Any]) -> None:
        elapsed = f"[{time.monotonic() - started:5.1f}s]"
        if event["type"].endswith("StateEntered"):
            say(f"    {elapsed} {event['stateEnteredEventDetails']['name']}")
        elif event["type"].endswith("Failed") and event["type"] != "ExecutionFailed":
            details: dict[str, Any] = next((v for k, v in event.items() if k.endswith("EventDetails")), {})
            if details.get("error"):
                say(f"    {elapsed}   ! {details['error']}")

    return on_event


def run(runner: LocalRunner, request: dict[str, Any]) -> tuple[Execution, float]:
    say(f"  input: {json.dumps(request)}")
    started = time.monotonic()
    execution = runner.wait(runner.start(request), timeout=120, on_event=follow())
    return execution, time.monotonic() - started


def rollout(runner: LocalRunner) -> bool:
    """Five endpoints in three waves; the third endpoint fails, and no failure is tolerated."""
    from endpoint_updater.cli import rollout_view

    say(f"\n3. Roll churn-v8 out to {len(FLEET)} endpoints: a canary, then two at a time, no failure tolerated;")
    say(f"   SageMaker rolls back the update of {FAILING_TENANT}")
    prepare_fleet()
    emulation.configure_update(FAILING_TENANT, seconds=UPDATE_SECONDS, outcome="rollback",
                               failure_reason="The primary container for production variant AllTraffic did not "
                                              "pass the ping health check.")
    before = {name: scaling_state(name) for name in FLEET}
    configs = {name: endpoint_state(name)["EndpointConfigName"] for name in FLEET}
    request = {"Endpoints": list(FLEET),
               "Change": {"VariantChanges": [{"VariantName": "AllTraffic", "ModelName": "churn-v8"}],
                          "PollIntervalSeconds": 1},
               "Waves": {"CanarySize": 1, "BatchSize": 2, "MaxConcurrency": 2},
               "ToleratedFailureCount": 0}
    say(f"  input: {json.dumps(request)}")
    started = time.monotonic()
    arn = runner.start_rollout(request)
    shown: dict[str, str] = {}

    def on_event(_: dict[str, Any]) -> None:
        for row in rollout_view.from_history(runner.history(arn)).rows:
            if shown.get(row.endpoint) != row.outcome:
                shown[row.endpoint] = row.outcome
                say(f"    [{time.monotonic() - started:5.1f}s] {row.line().strip()}")

    execution = runner.wait(arn, timeout=300, on_event=on_event)
    say(f"  rollout {execution.status} in {time.monotonic() - started:.1f} s")
    output = execution.output if isinstance(execution.output, dict) else {}
    view = rollout_view.from_output(output)
    for row in view.rows:
        say(row.line())
    for line in rollout_view.totals(view):
        say(f"  {line}")
    say(f"  stopped because: {view.stopped_because}")
    outcomes = {row.endpoint: row.outcome for row in view.rows}
    expected = {FLEET[0]: "SUCCEEDED", FLEET[1]: "SUCCEEDED", FAILING_TENANT: "FAILED",
                FLEET[3]: "NOT_STARTED", FLEET[4]: "NOT_STARTED"}
    restored = all(scaling_state(name) == before[name] for name in FLEET)
    untouched = all(endpoint_state(name)["EndpointConfigName"] == configs[name] for name in FLEET[2:])
    say(f"  every endpoint's scaling as before: {restored}; the failed and the unstarted ones on their old config: "
        f"{untouched}")
    return outcomes == expected and restored and untouched and bool(view.stopped_because)


def main() -> int:
    # The handlers' metrics are CloudWatch embedded-metric lines on stdout; they would interleave with the
    # demo's own output, which shows the same outcomes.
    os.environ.setdefault("POWERTOOLS_METRICS_DISABLED", "true")
    say("endpoint-updater demo: the workflow's ASL file, executed on this machine against emulated AWS")
    say("(moto, extended by offline/emulation.py); no AWS account is used.\n")
    ok = True
    # Real time, so that a person can follow the states as they come.
    with LocalRunner(real_time=True) as runner:
        prepare_endpoint()
        old_config = endpoint_state(ENDPOINT)["EndpointConfigName"]
        say(f"Endpoint {ENDPOINT}, InService on {old_config}, with autoscaling on AllTraffic")
        show_config(old_config)
        before = scaling_state(ENDPOINT)
        show_scaling("scaling before the update", before)

        say("\n1. Update the model of AllTraffic to churn-v8, with a precautionary raise of one instance")
        execution, seconds = run(runner, {
            "EndpointName": ENDPOINT, "VariantChanges": [{"VariantName": "AllTraffic", "ModelName": "churn-v8"}],
            "CapacityIncrease": {"Add": 1}, "PollIntervalSeconds": 1})
        after = scaling_state(ENDPOINT)
        say(f"  {execution.status} in {seconds:.1f} s, {execution.transitions} state transitions")
        if execution.status == "SUCCEEDED":
            say(f"  {execution.output['PreviousConfigName']} -> {execution.output['NewConfigName']}")
            for change in execution.output["Changes"]:
                say(f"    {change['VariantName']}.{change['Field']}: {change['From']} -> {change['To']}")
            show_config(endpoint_state(ENDPOINT)["EndpointConfigName"])
        else:
            say(f"  {execution.error}: {execution.cause}")
        show_scaling("scaling after the update", after)
        say(f"  scaling after == before: {after == before}")
        ok &= execution.status == "SUCCEEDED" and after == before

        say("\n2. Update AllTraffic to churn-v9; SageMaker rolls the update back to the previous config")
        emulation.configure_update(ENDPOINT, seconds=UPDATE_SECONDS, outcome="rollback",
                                   failure_reason="The primary container for production variant AllTraffic "
                                                  "did not pass the ping health check.")
        current = endpoint_state(ENDPOINT)["EndpointConfigName"]
        execution, seconds = run(runner, {
            "EndpointName": ENDPOINT, "VariantChanges": [{"VariantName": "AllTraffic", "ModelName": "churn-v9"}],
            "PollIntervalSeconds": 1})
        after_failure = scaling_state(ENDPOINT)
        say(f"  {execution.status} in {seconds:.1f} s: {execution.error}")
        say(f"  cause: {execution.cause}")
        say(f"  the endpoint still runs {endpoint_state(ENDPOINT)['EndpointConfigName']}")
        say(f"  scaling after the failure == before: {after_failure == before}")
        ok &= (execution.status == "FAILED" and after_failure == before
               and endpoint_state(ENDPOINT)["EndpointConfigName"] == current)

        ok &= rollout(runner)

    say("\n" + ("demo finished as expected" if ok else "DEMO DID NOT END AS EXPECTED"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
