"""Scalable-target tags survive an update: DeregisterScalableTarget deletes the target and its tags, so the
workflow captures them and registers the target again with them (issue 11, item 3).

Tag-based IAM conditions and cost allocation match on these tags; a target re-registered without them stops
matching, and the execution would still say SUCCEEDED.
"""

from __future__ import annotations

from typing import Any

import boto3

from endpoint_updater.core import scaling, store
from endpoint_updater.offline import emulation
from endpoint_updater.offline.runner import LocalRunner
from endpoint_updater.offline.scenario import ScalingSpec, attach_scaling, create_endpoint, scaling_state

ENDPOINT = "churn-prod"
RESOURCE = f"endpoint/{ENDPOINT}/variant/AllTraffic"
TAGS = {"cost-center": "cc-4711", "abac-team": "churn", "empty-value": ""}
NEW_MODEL = {"VariantChanges": [{"VariantName": "AllTraffic", "ModelName": "churn-v8"}]}


def target() -> dict[str, Any]:
    found = boto3.client("application-autoscaling").describe_scalable_targets(
        ServiceNamespace="sagemaker", ResourceIds=[RESOURCE])["ScalableTargets"]
    assert len(found) == 1
    return dict(found[0])


def live_tags() -> dict[str, str]:
    arn = target()["ScalableTargetARN"]
    return dict(boto3.client("application-autoscaling").list_tags_for_resource(ResourceARN=arn)["Tags"])


def tagged_endpoint() -> str:
    create_endpoint(ENDPOINT)
    attach_scaling(ENDPOINT, "AllTraffic", ScalingSpec(tags=TAGS))
    assert live_tags() == TAGS
    return str(target()["ScalableTargetARN"])


def test_target_tags_survive_an_update(runner: LocalRunner) -> None:
    # Given an autoscaled variant whose scalable target carries tags
    arn_before = tagged_endpoint()
    # When the model is updated
    execution = runner.run({"EndpointName": ENDPOINT, "PollIntervalSeconds": 1, **NEW_MODEL})
    # Then the target was deregistered and registered again (a new target, a new ARN), with the same tags
    assert execution.status == "SUCCEEDED", execution.cause
    assert target()["ScalableTargetARN"] != arn_before
    assert live_tags() == TAGS
    # And the snapshot stored for the update holds them
    snapshot = store.snapshot(ENDPOINT, execution.arn)
    assert snapshot["Targets"][0]["Tags"] == TAGS


def test_target_tags_survive_a_failed_update(runner: LocalRunner) -> None:
    # Given a tagged target, and an update that SageMaker rolls back
    arn_before = tagged_endpoint()
    before = scaling_state(ENDPOINT)
    emulation.configure_update(ENDPOINT, seconds=0.5, outcome="rollback", failure_reason="model container crashed")
    # When the update runs and fails
    execution = runner.run({"EndpointName": ENDPOINT, "PollIntervalSeconds": 1, **NEW_MODEL})
    # Then the scaling, tags included, is as before on the re-created target
    assert execution.status == "FAILED"
    assert execution.error == "EndpointUpdateRolledBack"
    assert target()["ScalableTargetARN"] != arn_before
    assert live_tags() == TAGS
    assert scaling_state(ENDPOINT) == before


def test_a_tag_lost_from_a_target_that_still_exists_is_put_back_and_verified(runner: LocalRunner) -> None:
    # Given a snapshot of a tagged target, and then one tag removed and another changed by hand, the target kept
    tagged_endpoint()
    snapshot = scaling.capture(ENDPOINT, ["AllTraffic"])
    autoscaling = boto3.client("application-autoscaling")
    arn = target()["ScalableTargetARN"]
    autoscaling.untag_resource(ResourceARN=arn, TagKeys=["cost-center"])
    autoscaling.tag_resource(ResourceARN=arn, Tags={"abac-team": "someone-else", "added-later": "yes"})
    assert scaling.differences(ENDPOINT, snapshot, {})
    # When the scaling is restored
    restored = scaling.restore(ENDPOINT, snapshot)
    # Then the same target is tagged again with the captured values; a tag added since is left alone
    assert restored.changes == [f"tagged {RESOURCE} sagemaker:variant:DesiredInstanceCount: abac-team, cost-center"]
    assert target()["ScalableTargetARN"] == arn
    assert live_tags() == {**TAGS, "added-later": "yes"}
    assert scaling.differences(ENDPOINT, snapshot, restored.policy_arns) == []


def test_a_snapshot_stored_before_tags_were_captured_still_restores(runner: LocalRunner) -> None:
    # Given a snapshot in the format stored before tags were captured (no Tags key), and the target gone
    tagged_endpoint()
    snapshot = scaling.capture(ENDPOINT, ["AllTraffic"])
    old_format = {**snapshot, "Targets": [{k: v for k, v in t.items() if k != "Tags"} for t in snapshot["Targets"]]}
    boto3.client("application-autoscaling").deregister_scalable_target(
        ServiceNamespace="sagemaker", ResourceId=RESOURCE, ScalableDimension="sagemaker:variant:DesiredInstanceCount")
    # When it is restored
    restored = scaling.restore(ENDPOINT, old_format)
    # Then the target, policies and scheduled action are back, and the verification passes without tags
    assert f"registered {RESOURCE} sagemaker:variant:DesiredInstanceCount" in restored.changes
    assert scaling.differences(ENDPOINT, old_format, restored.policy_arns) == []
    assert live_tags() == {}


def test_the_manual_calls_register_the_target_with_its_tags(runner: LocalRunner) -> None:
    tagged_endpoint()
    calls = scaling.manual_calls(scaling.capture(ENDPOINT, ["AllTraffic"]))
    assert '"Tags":{"abac-team":"churn","cost-center":"cc-4711","empty-value":""}' in calls[0]
