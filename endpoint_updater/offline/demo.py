"""`make demo`: two updates of an emulated autoscaled endpoint, run by the real workflow on this machine.

The first changes the model and succeeds; the second is rolled back by (emulated) SageMaker, and the
workflow fails it and restores the scaling. Exits non-zero if either does not end as it should.
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
    endpoint_state,
    scaling_state,
)

ENDPOINT = "churn-prod"
VARIANTS = (VariantSpec(name="AllTraffic", model="churn-v7", count=2),
            VariantSpec(name="Canary", model="churn-v7", count=1, weight=0.1))
UPDATE_SECONDS = 2.0


def prepare_endpoint() -> None:
    """The demo's endpoint (also `endpoint-updater --local`'s): two variants, autoscaling on AllTraffic,
    and updates that take UPDATE_SECONDS and succeed."""
    create_endpoint(ENDPOINT, VARIANTS)
    attach_scaling(ENDPOINT, "AllTraffic", ScalingSpec(min_capacity=1, max_capacity=6))
    emulation.configure_update(ENDPOINT, seconds=UPDATE_SECONDS)


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

    say("\n" + ("demo finished as expected" if ok else "DEMO DID NOT END AS EXPECTED"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
