"""A corpus of bad inputs: each must be refused by the first state, before anything changes, with an error that
names the field and what is allowed.

Each input runs through the first state's own function (ValidateAndSnapshot) against the emulated account, as a dry
run (a dry run refuses what a real start refuses; tests/workflow/test_refusals.py runs real starts end to end). The
file only uses what main has too, so it also measures an older checkout:

    git archive main | tar -x -C /tmp/main-src
    PYTHONPATH=/tmp/main-src .venv/bin/python tests/integration/test_bad_input_corpus.py

prints how many of the corpus that code refuses cleanly, and which ones it does not.
"""

from __future__ import annotations

import datetime as dt
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import pytest

from endpoint_updater.core import validation
from endpoint_updater.core.errors import UpdaterError
from endpoint_updater.offline.runner import LocalRunner
from endpoint_updater.offline.scenario import VariantSpec, attach_scaling, create_endpoint, endpoint_state

MIXED = "churn-prod"  # AllTraffic (2 x ml.m5.large, autoscaled) and a Serverless variant
SOLO = "solo-prod"  # AllTraffic, 4 x ml.m5.large
SERVERLESS = "sless-prod"  # one serverless variant
INF1 = "inf-prod"  # AllTraffic, 2 x ml.inf1.xlarge
ENDPOINTS = {
    MIXED: (VariantSpec(name="AllTraffic"), VariantSpec(name="Serverless", serverless=True)),
    SOLO: (VariantSpec(name="AllTraffic", count=4),),
    SERVERLESS: (VariantSpec(name="AllTraffic", serverless=True),),
    INF1: (VariantSpec(name="AllTraffic", instance_type="ml.inf1.xlarge"),),
}
START = "2026-11-29T12:00:00Z"
# A refusal longer than this is not read; the review saw a 3 KB one.
READABLE = 2000
ARN = "arn:aws:sagemaker:us-east-1:123456789012:model-package/churn/3"
BIG = "a" * 100_000
INF = float("inf")
NAN = float("nan")


@dataclass(frozen=True)
class Bad:
    id: str
    input: Any
    names: str
    """What the refusal must name: the field (its last part is enough for an older wording) or the endpoint."""


def variant(endpoint: str = MIXED, name: str = "AllTraffic", **fields: Any) -> dict[str, Any]:
    return {"EndpointName": endpoint, "VariantChanges": [{"VariantName": name, **fields}]}


def deployment(config: dict[str, Any], endpoint: str = SOLO) -> dict[str, Any]:
    return {"EndpointName": endpoint, "VariantChanges": [{"VariantName": "AllTraffic", "ModelName": "churn-v8"}],
            "DeploymentConfig": config}


def routing(kind: str, endpoint: str = SOLO, **sizes: Any) -> dict[str, Any]:
    return deployment({"BlueGreenUpdatePolicy": {"TrafficRoutingConfiguration": {
        "Type": kind, "WaitIntervalInSeconds": 60, **sizes}}}, endpoint)


def rolling(endpoint: str = SOLO, **policy: Any) -> dict[str, Any]:
    return deployment({"RollingUpdatePolicy": {"MaximumBatchSize": {"Type": "INSTANCE_COUNT", "Value": 1},
                                               "WaitIntervalInSeconds": 60, **policy}}, endpoint)


def size(kind: str, value: Any) -> dict[str, Any]:
    return {"Type": kind, "Value": value}


def rollback(alarms: Any) -> dict[str, Any]:
    return deployment({"AutoRollbackConfiguration": {"Alarms": alarms}})


def layouts(count: int) -> list[dict[str, Any]]:
    """`count` partition layouts, each as long as the API allows (32 types of 32 characters): about 1 KB each."""
    return [{"AcceleratorPartitionTypes": ["mig-1g.10gb+abcdefghijklmnopqrst"] * 32} for _ in range(count)]


CORPUS = [
    # The whole input
    Bad("not-an-object", ["churn-prod"], "JSON object"),
    Bad("no-endpoint-name", {}, "EndpointName"),
    Bad("unknown-field", {"EndpointName": MIXED, "Endpoint": MIXED}, "Endpoint"),
    Bad("unknown-field-with-junk", {"EndpointName": MIXED, "Extra": {"a": [1, 2]}}, "Extra"),
    Bad("input-over-16-kb", {"EndpointName": MIXED, "VariantChanges": [
        {"VariantName": "AllTraffic", "AcceleratorPartitionLayouts": layouts(32)}]}, "the input"),
    Bad("endpoint-unknown", {"EndpointName": "no-such-endpoint"}, "no-such-endpoint"),
    # EndpointName
    Bad("endpoint-name-number", {"EndpointName": 7}, "EndpointName"),
    Bad("endpoint-name-empty", {"EndpointName": ""}, "EndpointName"),
    Bad("endpoint-name-underscore", {"EndpointName": "churn_prod"}, "EndpointName"),
    Bad("endpoint-name-64", {"EndpointName": "e" * 64}, "EndpointName"),
    Bad("endpoint-name-72-hyphens", {"EndpointName": "a" + "-" * 70 + "b"}, "EndpointName"),
    Bad("endpoint-name-newline", {"EndpointName": MIXED + "\n"}, "EndpointName"),
    Bad("endpoint-name-leading-hyphen", {"EndpointName": "-churn"}, "EndpointName"),
    Bad("endpoint-name-100-kb", {"EndpointName": BIG}, "EndpointName"),
    Bad("endpoint-name-null", {"EndpointName": None}, "EndpointName"),
    # VariantChanges
    Bad("changes-an-object", {"EndpointName": MIXED, "VariantChanges": {"VariantName": "AllTraffic"}},
        "VariantChanges"),
    Bad("change-a-string", {"EndpointName": MIXED, "VariantChanges": ["AllTraffic"]}, "VariantChanges"),
    Bad("change-without-variant-name", {"EndpointName": MIXED, "VariantChanges": [{"ModelName": "churn-v8"}]},
        "VariantName"),
    Bad("variant-name-number", variant(name=123, ModelName="churn-v8"), "VariantName"),  # type: ignore[arg-type]
    Bad("variant-name-empty", variant(name="", ModelName="churn-v8"), "VariantName"),
    Bad("variant-name-64", variant(name="v" * 64, ModelName="churn-v8"), "VariantName"),
    Bad("variant-name-underscore", variant(name="All_Traffic", ModelName="churn-v8"), "VariantName"),
    Bad("variant-unknown", variant(name="Nope", ModelName="churn-v8"), "VariantName"),
    Bad("variant-twice", {"EndpointName": MIXED, "VariantChanges": [
        {"VariantName": "AllTraffic", "ModelName": "churn-v8"},
        {"VariantName": "AllTraffic", "ModelName": "churn-v9"}]}, "VariantName"),
    Bad("variant-changes-nothing", variant(), "VariantChanges[0]"),
    Bad("variant-field-unknown", variant(Modle="churn-v8"), "Modle"),
    Bad("changes-21", {"EndpointName": MIXED, "VariantChanges": [
        {"VariantName": f"AllTraffic{i}", "ModelName": "churn-v8"} for i in range(21)]}, "VariantChanges"),
    # InitialInstanceCount
    Bad("count-true", variant(InitialInstanceCount=True), "InitialInstanceCount"),
    Bad("count-false", variant(InitialInstanceCount=False), "InitialInstanceCount"),
    Bad("count-0", variant(InitialInstanceCount=0), "InitialInstanceCount"),
    Bad("count-negative", variant(InitialInstanceCount=-1), "InitialInstanceCount"),
    Bad("count-string", variant(InitialInstanceCount="3"), "InitialInstanceCount"),
    Bad("count-fraction", variant(InitialInstanceCount=2.5), "InitialInstanceCount"),
    Bad("count-float-whole", variant(InitialInstanceCount=2.0), "InitialInstanceCount"),
    Bad("count-null", variant(InitialInstanceCount=None), "InitialInstanceCount"),
    Bad("count-a-billion", variant(InitialInstanceCount=1_000_000_000), "InitialInstanceCount"),
    Bad("count-1001", variant(InitialInstanceCount=1001), "InitialInstanceCount"),
    Bad("count-on-serverless", variant(name="Serverless", InitialInstanceCount=2), "InitialInstanceCount"),
    # InitialVariantWeight
    Bad("weight-negative", variant(InitialVariantWeight=-1), "InitialVariantWeight"),
    Bad("weight-string", variant(InitialVariantWeight="x"), "InitialVariantWeight"),
    Bad("weight-infinity", variant(InitialVariantWeight=INF), "InitialVariantWeight"),
    Bad("weight-minus-infinity", variant(InitialVariantWeight=-INF), "InitialVariantWeight"),
    Bad("weight-nan", variant(InitialVariantWeight=NAN), "InitialVariantWeight"),
    Bad("weight-true", variant(InitialVariantWeight=True), "InitialVariantWeight"),
    # InstanceType
    Bad("instance-type-unknown", variant(InstanceType="ml.m5.huge"), "InstanceType"),
    Bad("instance-type-empty", variant(InstanceType=""), "InstanceType"),
    Bad("instance-type-no-prefix", variant(InstanceType="m5.large"), "InstanceType"),
    Bad("instance-type-number", variant(InstanceType=5), "InstanceType"),
    Bad("instance-type-100-kb", variant(InstanceType=BIG), "InstanceType"),
    Bad("instance-type-on-serverless", variant(name="Serverless", InstanceType="ml.m5.large"), "InstanceType"),
    # ModelName
    Bad("model-missing", variant(ModelName="churn-v99"), "ModelName"),
    Bad("model-empty", variant(ModelName=""), "ModelName"),
    Bad("model-number", variant(ModelName=123), "ModelName"),
    Bad("model-100-kb", variant(ModelName=BIG), "ModelName"),
    Bad("model-64", variant(ModelName="m" * 64), "ModelName"),
    Bad("model-underscore", variant(ModelName="churn_v8"), "ModelName"),
    Bad("model-trailing-hyphen", variant(ModelName="churn-"), "ModelName"),
    # ServerlessConfig
    Bad("serverless-on-instances", variant(ServerlessConfig={"MemorySizeInMB": 2048, "MaxConcurrency": 5}),
        "ServerlessConfig"),
    Bad("serverless-memory-above", variant(name="Serverless", ServerlessConfig={
        "MemorySizeInMB": 10240, "MaxConcurrency": 5}), "MemorySizeInMB"),
    Bad("serverless-memory-below", variant(name="Serverless", ServerlessConfig={
        "MemorySizeInMB": 100, "MaxConcurrency": 5}), "MemorySizeInMB"),
    Bad("serverless-concurrency-above", variant(name="Serverless", ServerlessConfig={
        "MemorySizeInMB": 2048, "MaxConcurrency": 201}), "MaxConcurrency"),
    Bad("serverless-concurrency-missing", variant(name="Serverless", ServerlessConfig={"MemorySizeInMB": 2048}),
        "MaxConcurrency"),
    Bad("serverless-provisioned-true", variant(name="Serverless", ServerlessConfig={
        "MemorySizeInMB": 2048, "MaxConcurrency": 5, "ProvisionedConcurrency": True}), "ProvisionedConcurrency"),
    Bad("serverless-unknown-member", variant(name="Serverless", ServerlessConfig={
        "MemorySizeInMB": 2048, "MaxConcurrency": 5, "Memory": 1}), "Memory"),
    # The other ProductionVariant fields
    Bad("volume-0", variant(VolumeSizeInGB=0), "VolumeSizeInGB"),
    Bad("volume-513", variant(VolumeSizeInGB=513), "VolumeSizeInGB"),
    Bad("download-timeout-59", variant(ModelDataDownloadTimeoutInSeconds=59), "ModelDataDownloadTimeoutInSeconds"),
    Bad("download-timeout-3601", variant(ModelDataDownloadTimeoutInSeconds=3601),
        "ModelDataDownloadTimeoutInSeconds"),
    Bad("startup-timeout-3601", variant(ContainerStartupHealthCheckTimeoutInSeconds=3601),
        "ContainerStartupHealthCheckTimeoutInSeconds"),
    Bad("provision-timeout-299", variant(VariantInstanceProvisionTimeoutInSeconds=299),
        "VariantInstanceProvisionTimeoutInSeconds"),
    Bad("provision-timeout-3601", variant(VariantInstanceProvisionTimeoutInSeconds=3601),
        "VariantInstanceProvisionTimeoutInSeconds"),
    Bad("ssm-access-string", variant(EnableSSMAccess="yes"), "EnableSSMAccess"),
    Bad("accelerator-type-unknown", variant(AcceleratorType="ml.eia9.huge"), "AcceleratorType"),
    Bad("ami-version-unknown", variant(InferenceAmiVersion="al2-bogus"), "InferenceAmiVersion"),
    Bad("routing-strategy-unknown", variant(RoutingConfig={"RoutingStrategy": "FASTEST"}), "RoutingStrategy"),
    Bad("core-dump-no-destination", variant(CoreDumpConfig={"KmsKeyId": "k"}), "DestinationS3Uri"),
    Bad("core-dump-ftp", variant(CoreDumpConfig={"DestinationS3Uri": "ftp://bucket/dumps"}), "DestinationS3Uri"),
    Bad("instance-pools-empty", variant(InstancePools=[]), "InstancePools"),
    Bad("instance-pools-6", variant(InstancePools=[{"InstanceType": "ml.m5.large", "Priority": 1}] * 6),
        "InstancePools"),
    Bad("managed-scaling-status", variant(ManagedInstanceScaling={"Status": "ON"}), "Status"),
    Bad("capacity-reservation-preference", variant(CapacityReservationConfig={
        "CapacityReservationPreference": "maybe"}), "CapacityReservationPreference"),
    Bad("partition-layouts-33", variant(AcceleratorPartitionLayouts=layouts(33)), "AcceleratorPartitionLayouts"),
    # CapacityIncrease
    Bad("capacity-add-0", {"EndpointName": MIXED, "CapacityIncrease": {"Add": 0}}, "Add"),
    Bad("capacity-add-1001", {"EndpointName": MIXED, "CapacityIncrease": {"Add": 1001}}, "Add"),
    Bad("capacity-add-true", {"EndpointName": MIXED, "CapacityIncrease": {"Add": True}}, "Add"),
    Bad("capacity-percent-fraction", {"EndpointName": MIXED, "CapacityIncrease": {"Percent": 1.5}}, "Percent"),
    Bad("capacity-both", {"EndpointName": MIXED, "CapacityIncrease": {"Add": 1, "Percent": 5}}, "CapacityIncrease"),
    Bad("capacity-empty", {"EndpointName": MIXED, "CapacityIncrease": {}}, "CapacityIncrease"),
    Bad("capacity-other-key", {"EndpointName": MIXED, "CapacityIncrease": {"Instances": 1}}, "CapacityIncrease"),
    Bad("capacity-a-number", {"EndpointName": MIXED, "CapacityIncrease": 1}, "CapacityIncrease"),
    # Timing
    Bad("poll-interval-0", {"EndpointName": MIXED, "PollIntervalSeconds": 0}, "PollIntervalSeconds"),
    Bad("poll-interval-string", {"EndpointName": MIXED, "PollIntervalSeconds": "30"}, "PollIntervalSeconds"),
    Bad("poll-interval-true", {"EndpointName": MIXED, "PollIntervalSeconds": True}, "PollIntervalSeconds"),
    Bad("poll-interval-infinity", {"EndpointName": MIXED, "PollIntervalSeconds": INF}, "PollIntervalSeconds"),
    Bad("timeout-above-a-day", {"EndpointName": MIXED, "TimeoutSeconds": 86401}, "TimeoutSeconds"),
    Bad("timeout-0", {"EndpointName": MIXED, "TimeoutSeconds": 0}, "TimeoutSeconds"),
    Bad("first-poll-negative", {"EndpointName": MIXED, "InitialPollDelaySeconds": -1}, "InitialPollDelaySeconds"),
    Bad("first-poll-3601", {"EndpointName": MIXED, "InitialPollDelaySeconds": 3601}, "InitialPollDelaySeconds"),
    Bad("first-poll-fraction", {"EndpointName": MIXED, "InitialPollDelaySeconds": 1.5}, "InitialPollDelaySeconds"),
    # DryRun
    Bad("dry-run-string", {"EndpointName": MIXED, "DryRun": "yes"}, "DryRun"),
    Bad("dry-run-number", {"EndpointName": MIXED, "DryRun": 1}, "DryRun"),
    # ModelPackage
    Bad("package-a-string", {"EndpointName": MIXED, "ModelPackage": ARN}, "ModelPackage"),
    Bad("package-no-variant", {"EndpointName": MIXED, "ModelPackage": {"ModelPackageArn": ARN}}, "ModelPackage"),
    Bad("package-arn-unversioned", {"EndpointName": MIXED, "ModelPackage": {
        "ModelPackageArn": ARN.rsplit("/", 1)[0], "VariantName": "AllTraffic"}}, "ModelPackageArn"),
    Bad("package-arn-newline", {"EndpointName": MIXED, "ModelPackage": {
        "ModelPackageArn": ARN + "\n", "VariantName": "AllTraffic"}}, "ModelPackageArn"),
    Bad("package-variant-64", {"EndpointName": MIXED, "ModelPackage": {
        "ModelPackageArn": ARN, "VariantName": "v" * 64}}, "VariantName"),
    Bad("package-and-model-name", {**variant(ModelName="churn-v8"), "ModelPackage": {
        "ModelPackageArn": ARN, "VariantName": "AllTraffic"}}, "ModelPackage.VariantName"),
    Bad("package-unknown-key", {"EndpointName": MIXED, "ModelPackage": {
        "ModelPackageArn": ARN, "VariantName": "AllTraffic", "Version": 3}}, "ModelPackage"),
    # DeploymentConfig: the API shape
    Bad("deployment-a-string", deployment("CANARY"), "DeploymentConfig"),  # type: ignore[arg-type]
    Bad("deployment-unknown-key", deployment({"Canary": {}}), "Canary"),
    Bad("blue-green-unknown-member", deployment({"BlueGreenUpdatePolicy": {"Bogus": 1}}), "Bogus"),
    Bad("blue-green-no-routing", deployment({"BlueGreenUpdatePolicy": {"TerminationWaitInSeconds": 60}}),
        "TrafficRoutingConfiguration"),
    Bad("routing-type-unknown", routing("FAST"), "Type"),
    Bad("routing-wait-3601", deployment({"BlueGreenUpdatePolicy": {"TrafficRoutingConfiguration": {
        "Type": "ALL_AT_ONCE", "WaitIntervalInSeconds": 3601}}}), "WaitIntervalInSeconds"),
    Bad("routing-wait-negative", deployment({"BlueGreenUpdatePolicy": {"TrafficRoutingConfiguration": {
        "Type": "ALL_AT_ONCE", "WaitIntervalInSeconds": -1}}}), "WaitIntervalInSeconds"),
    Bad("routing-wait-true", deployment({"BlueGreenUpdatePolicy": {"TrafficRoutingConfiguration": {
        "Type": "ALL_AT_ONCE", "WaitIntervalInSeconds": True}}}), "WaitIntervalInSeconds"),
    Bad("termination-wait-3601", deployment({"BlueGreenUpdatePolicy": {"TrafficRoutingConfiguration": {
        "Type": "ALL_AT_ONCE", "WaitIntervalInSeconds": 60}, "TerminationWaitInSeconds": 3601}}),
        "TerminationWaitInSeconds"),
    Bad("execution-timeout-599", deployment({"BlueGreenUpdatePolicy": {"TrafficRoutingConfiguration": {
        "Type": "ALL_AT_ONCE", "WaitIntervalInSeconds": 60}, "MaximumExecutionTimeoutInSeconds": 599}}),
        "MaximumExecutionTimeoutInSeconds"),
    Bad("execution-timeout-28801", deployment({"BlueGreenUpdatePolicy": {"TrafficRoutingConfiguration": {
        "Type": "ALL_AT_ONCE", "WaitIntervalInSeconds": 60}, "MaximumExecutionTimeoutInSeconds": 28801}}),
        "MaximumExecutionTimeoutInSeconds"),
    Bad("canary-size-type-unknown", routing("CANARY", CanarySize=size("PERCENT", 10)), "CanarySize"),
    Bad("canary-size-0", routing("CANARY", CanarySize=size("INSTANCE_COUNT", 0)), "CanarySize"),
    Bad("canary-size-string", routing("CANARY", CanarySize=size("INSTANCE_COUNT", "1")), "CanarySize"),
    Bad("rolling-no-wait", deployment({"RollingUpdatePolicy": {"MaximumBatchSize": size("INSTANCE_COUNT", 1)}}),
        "WaitIntervalInSeconds"),
    Bad("rolling-no-batch", deployment({"RollingUpdatePolicy": {"WaitIntervalInSeconds": 60}}), "MaximumBatchSize"),
    Bad("alarms-empty", rollback([]), "Alarms"),
    Bad("alarms-11", rollback([{"AlarmName": f"alarm-{i}"} for i in range(11)]), "Alarms"),
    Bad("alarm-name-empty", rollback([{"AlarmName": ""}]), "AlarmName"),
    Bad("alarm-name-256", rollback([{"AlarmName": "a" * 256}]), "AlarmName"),
    Bad("alarm-name-blank", rollback([{"AlarmName": "   "}]), "AlarmName"),
    # DeploymentConfig: the deployment guardrails rules
    Bad("both-update-policies", deployment({
        "BlueGreenUpdatePolicy": {"TrafficRoutingConfiguration": {"Type": "ALL_AT_ONCE", "WaitIntervalInSeconds": 0}},
        "RollingUpdatePolicy": {"MaximumBatchSize": size("INSTANCE_COUNT", 1), "WaitIntervalInSeconds": 60}}),
        "DeploymentConfig"),
    Bad("canary-without-size", routing("CANARY"), "CanarySize"),
    Bad("canary-percent-60", routing("CANARY", CanarySize=size("CAPACITY_PERCENT", 60)), "CanarySize"),
    Bad("canary-3-of-4", routing("CANARY", CanarySize=size("INSTANCE_COUNT", 3)), "CanarySize"),
    Bad("linear-without-size", routing("LINEAR"), "LinearStepSize"),
    Bad("linear-percent-5", routing("LINEAR", LinearStepSize=size("CAPACITY_PERCENT", 5)), "LinearStepSize"),
    Bad("linear-3-of-4", routing("LINEAR", LinearStepSize=size("INSTANCE_COUNT", 3)), "LinearStepSize"),
    Bad("all-at-once-with-canary-size", routing("ALL_AT_ONCE", CanarySize=size("CAPACITY_PERCENT", 10)),
        "CanarySize"),
    Bad("linear-with-canary-size", routing("LINEAR", LinearStepSize=size("CAPACITY_PERCENT", 25),
                                           CanarySize=size("CAPACITY_PERCENT", 10)), "CanarySize"),
    Bad("rolling-on-multi-variant", rolling(MIXED), "RollingUpdatePolicy"),
    Bad("rolling-on-serverless", deployment({"RollingUpdatePolicy": {
        "MaximumBatchSize": size("CAPACITY_PERCENT", 50), "WaitIntervalInSeconds": 60}}, SERVERLESS),
        "RollingUpdatePolicy"),
    Bad("rolling-batch-percent-60", rolling(MaximumBatchSize=size("CAPACITY_PERCENT", 60)), "MaximumBatchSize"),
    Bad("rolling-batch-percent-4", rolling(MaximumBatchSize=size("CAPACITY_PERCENT", 4)), "MaximumBatchSize"),
    Bad("rolling-batch-3-of-4", rolling(MaximumBatchSize=size("INSTANCE_COUNT", 3)), "MaximumBatchSize"),
    Bad("rolling-batch-true", rolling(MaximumBatchSize=size("INSTANCE_COUNT", True)), "MaximumBatchSize"),
    Bad("rollback-batch-5-of-4", rolling(RollbackMaximumBatchSize=size("INSTANCE_COUNT", 5)),
        "RollbackMaximumBatchSize"),
    Bad("rollback-batch-percent-101", rolling(RollbackMaximumBatchSize=size("CAPACITY_PERCENT", 101)),
        "RollbackMaximumBatchSize"),
    Bad("canary-on-inf1", routing("CANARY", INF1, CanarySize=size("INSTANCE_COUNT", 1)), "Inf1"),
    Bad("rolling-on-inf1", rolling(INF1), "Inf1"),
]


# -- running one input through the first state ------------------------------------------------------------

def deploy_endpoints() -> None:
    for name, variants in ENDPOINTS.items():
        create_endpoint(name, variants)
    attach_scaling(MIXED, "AllTraffic")


def what_changes() -> dict[str, Any]:
    """Everything a refused input must leave as it was."""
    sagemaker = boto3.client("sagemaker")
    return {"endpoints": {name: endpoint_state(name) for name in ENDPOINTS},
            "configs": sorted(c["EndpointConfigName"] for c in sagemaker.list_endpoint_configs()["EndpointConfigs"]),
            "models": sorted(m["ModelName"] for m in sagemaker.list_models()["Models"]),
            "targets": boto3.client("application-autoscaling").describe_scalable_targets(
                ServiceNamespace="sagemaker")["ScalableTargets"],
            "updates": boto3.client("dynamodb").scan(TableName=runner_table())["Items"]}


def runner_table() -> str:
    from endpoint_updater.offline.runner import UPDATES_TABLE_NAME

    return UPDATES_TABLE_NAME


def refusal(bad: Bad, index: int) -> tuple[str, str] | None:
    """The first state's refusal of `bad` (error name, message), or None when it accepts it. A dry run, when the
    input leaves room for one: it refuses what a start refuses, and takes no lock."""
    raw = bad.input
    if isinstance(raw, dict) and "DryRun" not in raw:
        raw = {**raw, "DryRun": True}
    arn = f"arn:aws:states:us-east-1:123456789012:execution:endpoint-updater:corpus-{index}"
    start = (dt.datetime.fromisoformat(START.replace("Z", "+00:00")) + dt.timedelta(seconds=index)).isoformat()
    try:
        state = validation.validate_and_snapshot(raw, arn, start)
    except UpdaterError as error:
        return type(error).__name__, str(error)
    except Exception as error:
        return type(error).__name__, str(error)
    found = (state.get("Plan") or {}).get("Refusal")
    if found:
        return str(found["Error"]), str(found["Cause"])
    if not (isinstance(raw, dict) and raw.get("DryRun") is True):
        from endpoint_updater.core import store

        store.release(str(raw.get("EndpointName")), arn, restored=True)
    return None


def clean(bad: Bad, refused: tuple[str, str] | None) -> bool:
    """Refused with a readable error that names what is wrong."""
    if refused is None:
        return False
    error, message = refused
    return (error in ("InvalidInput", "EndpointNotFound") and bad.names.split(".")[-1] in message
            and len(message) <= READABLE)


# -- the tests --------------------------------------------------------------------------------------------

def what_a_start_writes() -> dict[str, Any]:
    """The first things a start that got past the first state writes: the lock and snapshot, then a config."""
    return {"configs": boto3.client("sagemaker").list_endpoint_configs()["EndpointConfigs"],
            "updates": boto3.client("dynamodb").scan(TableName=runner_table())["Items"]}


@pytest.fixture(scope="module")
def account() -> Iterator[dict[str, Any]]:
    with LocalRunner():
        deploy_endpoints()
        before = what_changes()
        yield what_a_start_writes()
        # Checked once for the whole corpus: reading every endpoint and target after each input doubles its cost.
        assert what_changes() == before


def test_the_corpus_covers_the_review() -> None:
    assert len(CORPUS) >= 105
    assert len({bad.id for bad in CORPUS}) == len(CORPUS)


@pytest.mark.parametrize("index", range(len(CORPUS)), ids=[bad.id for bad in CORPUS])
def test_a_bad_input_is_refused_before_anything_changes(account: dict[str, Any], index: int) -> None:
    bad = CORPUS[index]
    refused = refusal(bad, index)
    assert clean(bad, refused), f"{bad.id}: {refused}"
    assert what_a_start_writes() == account


def main() -> int:
    """Measure the code on the path: how many of the corpus it refuses cleanly."""
    import logging

    logging.disable(logging.CRITICAL)
    accepted, unclear = [], []
    with LocalRunner():
        deploy_endpoints()
        before = what_changes()
        for index, bad in enumerate(CORPUS):
            refused = refusal(bad, index)
            if refused is None:
                accepted.append(bad.id)
            elif not clean(bad, refused):
                unclear.append(f"{bad.id} ({refused[0]}: {len(refused[1])} characters)")
        changed = what_changes() != before
    print(f"refused cleanly before any change: {len(CORPUS) - len(accepted) - len(unclear)} of {len(CORPUS)}")
    print(f"accepted ({len(accepted)}): {', '.join(accepted)}")
    print(f"refused without naming the field readably ({len(unclear)}): {', '.join(unclear)}")
    print(f"anything changed: {changed}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
