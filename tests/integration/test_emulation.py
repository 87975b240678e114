"""The emulated AWS behaviours (offline/emulation.py) and the scenario helpers (offline/scenario.py), through boto3.

Each test: Given an emulated account, When a call is made, Then AWS's documented behaviour is observed.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from moto import mock_aws

from endpoint_updater.offline import emulation
from endpoint_updater.offline.scenario import (
    ScalingSpec,
    VariantSpec,
    attach_scaling,
    create_endpoint,
    endpoint_state,
    scaling_state,
)

REGION = "us-east-1"
ENDPOINT = "churn-prod"
NAMESPACE = "sagemaker"
DIMENSION = "sagemaker:variant:DesiredInstanceCount"
NO_RETRY = Config(retries={"total_max_attempts": 1})
FAST = 0.05


def resource(variant: str = "AllTraffic", endpoint: str = ENDPOINT) -> str:
    return f"endpoint/{endpoint}/variant/{variant}"


def target(variant: str = "AllTraffic", endpoint: str = ENDPOINT) -> dict[str, str]:
    return {"ServiceNamespace": NAMESPACE, "ResourceId": resource(variant, endpoint), "ScalableDimension": DIMENSION}


_SESSIONS: list[boto3.Session] = []


@pytest.fixture(autouse=True)
def aws() -> Iterator[None]:
    emulation.install()
    emulation.reset()
    with mock_aws(config={"stepfunctions": {"execute_state_machine": True}, "lambda": {"use_docker": False}}):
        # One boto3 session for the whole module (mock_aws resets the default one): loading the service models
        # again for every test costs about 0.3 s. Its credentials are the fake ones mock_aws sets.
        if not _SESSIONS:
            _SESSIONS.append(boto3.Session())
        boto3.DEFAULT_SESSION = _SESSIONS[0]
        yield
    emulation.reset()


@pytest.fixture
def sm() -> Any:
    return boto3.client("sagemaker", region_name=REGION, config=NO_RETRY)


@pytest.fixture
def aas() -> Any:
    return boto3.client("application-autoscaling", region_name=REGION, config=NO_RETRY)


@pytest.fixture
def cw() -> Any:
    return boto3.client("cloudwatch", region_name=REGION, config=NO_RETRY)


def new_config(sm: Any, name: str, *variants: dict[str, Any], **extra: Any) -> str:
    sm.create_endpoint_config(EndpointConfigName=name, ProductionVariants=list(variants), **extra)
    return name


def variant(name: str = "AllTraffic", model: str = "churn-v8", instance_type: str = "ml.m5.large",
            count: int = 2, **extra: Any) -> dict[str, Any]:
    return {"VariantName": name, "ModelName": model, "InstanceType": instance_type, "InitialInstanceCount": count,
            "InitialVariantWeight": 1.0, **extra}


def with_model(sm: Any, name: str) -> str:
    sm.create_model(ModelName=name, ExecutionRoleArn="arn:aws:iam::123456789012:role/sagemaker-execution",
                    PrimaryContainer={"Image": "123456789012.dkr.ecr.us-east-1.amazonaws.com/churn:latest"})
    return name


def wait_until(sm: Any, predicate: Callable[[dict[str, Any]], bool], timeout: float = 5.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        described: dict[str, Any] = sm.describe_endpoint(EndpointName=ENDPOINT)
        if predicate(described) or time.monotonic() > deadline:
            return described
        time.sleep(0.02)


def settled(sm: Any, timeout: float = 5.0) -> dict[str, Any]:
    return wait_until(sm, lambda d: d["EndpointStatus"] != "Updating", timeout)


def error_of(call: Callable[[], Any]) -> dict[str, str]:
    with pytest.raises(ClientError) as raised:
        call()
    return dict(raised.value.response["Error"])


# ---------------------------------------------------------------------------------------------------------
# SageMaker UpdateEndpoint
# ---------------------------------------------------------------------------------------------------------


def test_while_updating_the_endpoint_shows_the_old_config_and_the_pending_deployment(sm: Any) -> None:
    old = create_endpoint(ENDPOINT)
    new = new_config(sm, "churn-prod-config-2", variant(count=3))
    emulation.configure_update(ENDPOINT, seconds=5)

    sm.update_endpoint(EndpointName=ENDPOINT, EndpointConfigName=new)
    described = sm.describe_endpoint(EndpointName=ENDPOINT)

    assert described["EndpointStatus"] == "Updating"
    assert described["EndpointConfigName"] == old
    pending = described["PendingDeploymentSummary"]
    assert pending["EndpointConfigName"] == new
    assert pending["ProductionVariants"] == [
        {"VariantName": "AllTraffic", "DesiredWeight": 1.0, "DesiredInstanceCount": 3, "InstanceType": "ml.m5.large"}
    ]
    assert isinstance(pending["StartTime"], dt.datetime)


def test_a_successful_update_deploys_the_new_config(sm: Any) -> None:
    create_endpoint(ENDPOINT, (VariantSpec(), VariantSpec(name="Canary", count=1, weight=0.5)))
    before = sm.describe_endpoint(EndpointName=ENDPOINT)
    new = new_config(sm, "churn-prod-config-2", variant(count=3, InitialVariantWeight=0.8))
    emulation.configure_update(ENDPOINT, seconds=FAST)

    sm.update_endpoint(EndpointName=ENDPOINT, EndpointConfigName=new)
    after = settled(sm)

    assert after["EndpointStatus"] == "InService"
    assert after["EndpointConfigName"] == new
    assert after["ProductionVariants"] == [{"VariantName": "AllTraffic", "CurrentWeight": 0.8, "DesiredWeight": 0.8,
                                            "CurrentInstanceCount": 3, "DesiredInstanceCount": 3}]
    assert "PendingDeploymentSummary" not in after and "FailureReason" not in after
    assert after["LastModifiedTime"] > before["LastModifiedTime"]


def test_an_endpoint_never_configured_succeeds_after_half_a_second(sm: Any) -> None:
    create_endpoint(ENDPOINT)
    new = new_config(sm, "churn-prod-config-2", variant(model="churn-v7", count=1))

    with emulation.manual_clock() as clock:
        sm.update_endpoint(EndpointName=ENDPOINT, EndpointConfigName=new)
        clock.advance(emulation.DEFAULT_UPDATE_SECONDS - 0.01)
        almost = sm.describe_endpoint(EndpointName=ENDPOINT)
        clock.advance(0.01)
        after = sm.describe_endpoint(EndpointName=ENDPOINT)

    assert almost["EndpointStatus"] == "Updating"
    assert after["EndpointStatus"] == "InService" and after["EndpointConfigName"] == new


@pytest.mark.parametrize(
    ("outcome", "status", "has_reason"),
    [("fail", "Failed", True), ("rollback", "InService", True), ("silent_rollback", "InService", False),
     ("rollback_failed", "UpdateRollbackFailed", True)],
)
def test_a_failed_update_leaves_the_old_config(sm: Any, outcome: str, status: str, has_reason: bool) -> None:
    old = create_endpoint(ENDPOINT)
    new = new_config(sm, "churn-prod-config-2", variant(model="churn-v7", count=3))
    emulation.configure_update(ENDPOINT, seconds=FAST, outcome=outcome)

    sm.update_endpoint(EndpointName=ENDPOINT, EndpointConfigName=new)
    after = settled(sm)

    assert after["EndpointStatus"] == status
    assert after["EndpointConfigName"] == old
    assert bool(after.get("FailureReason")) is has_reason
    assert "PendingDeploymentSummary" not in after
    assert after["ProductionVariants"][0]["DesiredInstanceCount"] == 2


def test_the_configured_failure_reason_is_reported(sm: Any) -> None:
    create_endpoint(ENDPOINT)
    new = new_config(sm, "churn-prod-config-2", variant(model="churn-v7"))
    emulation.configure_update(ENDPOINT, seconds=FAST, outcome="fail", failure_reason="model container crashed")

    sm.update_endpoint(EndpointName=ENDPOINT, EndpointConfigName=new)

    assert settled(sm)["FailureReason"] == "model container crashed"


def test_a_stuck_update_stays_updating(sm: Any) -> None:
    create_endpoint(ENDPOINT)
    new = new_config(sm, "churn-prod-config-2", variant(model="churn-v7"))
    emulation.configure_update(ENDPOINT, seconds=0, outcome="stuck")

    sm.update_endpoint(EndpointName=ENDPOINT, EndpointConfigName=new)
    time.sleep(0.2)

    assert sm.describe_endpoint(EndpointName=ENDPOINT)["EndpointStatus"] == "Updating"


def test_an_endpoint_that_is_not_in_service_cannot_be_updated(sm: Any) -> None:
    create_endpoint(ENDPOINT)
    new = new_config(sm, "churn-prod-config-2", variant(model="churn-v7"))
    emulation.configure_update(ENDPOINT, seconds=5)
    sm.update_endpoint(EndpointName=ENDPOINT, EndpointConfigName=new)

    error = error_of(lambda: sm.update_endpoint(EndpointName=ENDPOINT, EndpointConfigName=new))

    assert error["Code"] == "ValidationException"
    assert error["Message"].startswith("Cannot update in-progress endpoint")


def test_a_failed_endpoint_cannot_be_updated(sm: Any) -> None:
    create_endpoint(ENDPOINT)
    new = new_config(sm, "churn-prod-config-2", variant(model="churn-v7"))
    emulation.set_endpoint_status(ENDPOINT, "Failed", "broken")

    error = error_of(lambda: sm.update_endpoint(EndpointName=ENDPOINT, EndpointConfigName=new))

    assert error["Code"] == "ValidationException"
    assert sm.describe_endpoint(EndpointName=ENDPOINT)["FailureReason"] == "broken"


def test_an_update_to_a_missing_config_is_refused(sm: Any) -> None:
    create_endpoint(ENDPOINT)

    error = error_of(lambda: sm.update_endpoint(EndpointName=ENDPOINT, EndpointConfigName="nope"))

    assert error["Code"] == "ValidationException" and "nope" in error["Message"]
    assert sm.describe_endpoint(EndpointName=ENDPOINT)["EndpointStatus"] == "InService"


@pytest.mark.parametrize(
    "new_variants",
    [[variant(instance_type="ml.m5.xlarge")], [variant(name="Other")]],
    ids=["instance-type-changed", "variant-removed"],
)
def test_an_update_that_breaks_an_autoscaled_variant_is_refused(sm: Any, new_variants: list[dict[str, Any]]) -> None:
    old = create_endpoint(ENDPOINT)
    attach_scaling(ENDPOINT, "AllTraffic")
    new = new_config(sm, "churn-prod-config-2", *new_variants)

    error = error_of(lambda: sm.update_endpoint(EndpointName=ENDPOINT, EndpointConfigName=new))

    assert error["Code"] == "ValidationException" and "AllTraffic" in error["Message"]
    described = sm.describe_endpoint(EndpointName=ENDPOINT)
    assert described["EndpointStatus"] == "InService" and described["EndpointConfigName"] == old


def test_changing_only_the_model_of_an_autoscaled_variant_is_allowed(sm: Any) -> None:
    create_endpoint(ENDPOINT, (VariantSpec(), VariantSpec(name="Canary", count=1)))
    attach_scaling(ENDPOINT, "AllTraffic")
    new = new_config(sm, "churn-prod-config-2", variant(), variant(name="Canary", instance_type="ml.c5.large"))
    emulation.configure_update(ENDPOINT, seconds=FAST)

    sm.update_endpoint(EndpointName=ENDPOINT, EndpointConfigName=new)

    assert settled(sm)["EndpointConfigName"] == new


def test_an_autoscaled_variant_can_change_once_deregistered(sm: Any, aas: Any) -> None:
    create_endpoint(ENDPOINT)
    attach_scaling(ENDPOINT, "AllTraffic")
    new = new_config(sm, "churn-prod-config-2", variant(instance_type="ml.m5.xlarge"))
    emulation.configure_update(ENDPOINT, seconds=FAST)

    aas.deregister_scalable_target(**target())
    sm.update_endpoint(EndpointName=ENDPOINT, EndpointConfigName=new)

    assert settled(sm)["EndpointConfigName"] == new


def test_retained_variant_properties_keep_the_current_instance_count_and_weight(sm: Any) -> None:
    create_endpoint(ENDPOINT, (VariantSpec(count=2, weight=0.7),))
    emulation.configure_capacity_change(ENDPOINT, seconds=FAST)
    sm.update_endpoint_weights_and_capacities(
        EndpointName=ENDPOINT, DesiredWeightsAndCapacities=[{"VariantName": "AllTraffic", "DesiredInstanceCount": 4}])
    settled(sm)
    new = new_config(sm, "churn-prod-config-2", variant(count=1))
    emulation.configure_update(ENDPOINT, seconds=FAST)

    sm.update_endpoint(EndpointName=ENDPOINT, EndpointConfigName=new, RetainAllVariantProperties=True,
                       ExcludeRetainedVariantProperties=[{"VariantPropertyType": "DesiredWeight"}])
    after = settled(sm)

    assert after["EndpointConfigName"] == new
    assert after["ProductionVariants"][0]["DesiredInstanceCount"] == 4
    assert after["ProductionVariants"][0]["DesiredWeight"] == 1.0


def test_the_deployment_config_is_accepted_and_reported(sm: Any) -> None:
    create_endpoint(ENDPOINT)
    deployment = {
        "BlueGreenUpdatePolicy": {"TrafficRoutingConfiguration": {
            "Type": "CANARY", "WaitIntervalInSeconds": 60, "CanarySize": {"Type": "CAPACITY_PERCENT", "Value": 10}}},
        "AutoRollbackConfiguration": {"Alarms": [{"AlarmName": "churn-prod-errors"}]},
    }
    new = new_config(sm, "churn-prod-config-2", variant(model="churn-v7"))
    third = new_config(sm, "churn-prod-config-3", variant(model="churn-v7", count=3))
    emulation.configure_update(ENDPOINT, seconds=FAST)

    sm.update_endpoint(EndpointName=ENDPOINT, EndpointConfigName=new, DeploymentConfig=deployment)
    assert settled(sm)["LastDeploymentConfig"] == deployment
    sm.update_endpoint(EndpointName=ENDPOINT, EndpointConfigName=third, RetainDeploymentConfig=True)

    assert settled(sm)["LastDeploymentConfig"] == deployment


def moved_live(sm: Any, **changes: dict[str, Any]) -> None:
    emulation.configure_capacity_change(ENDPOINT, seconds=0)
    sm.update_endpoint_weights_and_capacities(
        EndpointName=ENDPOINT, DesiredWeightsAndCapacities=[{"VariantName": n, **c} for n, c in changes.items()])


def test_without_retain_the_new_configs_weight_and_count_replace_the_live_ones(sm: Any) -> None:
    # Given a variant moved live to weight 0.2 and 4 instances
    create_endpoint(ENDPOINT, (VariantSpec(count=2, weight=0.7),))
    moved_live(sm, AllTraffic={"DesiredWeight": 0.2, "DesiredInstanceCount": 4})
    new = new_config(sm, "churn-prod-config-2", variant(count=1))
    emulation.configure_update(ENDPOINT, seconds=FAST)
    # When the endpoint is updated without RetainAllVariantProperties (its default is false)
    sm.update_endpoint(EndpointName=ENDPOINT, EndpointConfigName=new)
    # Then the new config's InitialVariantWeight and InitialInstanceCount apply
    after = settled(sm)["ProductionVariants"][0]
    assert (after["DesiredWeight"], after["DesiredInstanceCount"]) == (1.0, 1)


def test_retain_keeps_live_weights_of_every_variant_unless_excluded(sm: Any) -> None:
    # Given two variants moved live
    create_endpoint(ENDPOINT, (VariantSpec(), VariantSpec(name="Canary", count=1)))
    moved_live(sm, AllTraffic={"DesiredWeight": 0.9}, Canary={"DesiredWeight": 0.1, "DesiredInstanceCount": 3})
    new = new_config(sm, "churn-prod-config-2", variant(count=1), variant(name="Canary", count=1))
    emulation.configure_update(ENDPOINT, seconds=FAST)
    # When updated with Retain, excluding only the instance count
    sm.update_endpoint(EndpointName=ENDPOINT, EndpointConfigName=new, RetainAllVariantProperties=True,
                       ExcludeRetainedVariantProperties=[{"VariantPropertyType": "DesiredInstanceCount"}])
    # Then the weights are the live ones and the counts the new config's
    after = {v["VariantName"]: v for v in settled(sm)["ProductionVariants"]}
    assert {n: (v["DesiredWeight"], v["DesiredInstanceCount"]) for n, v in after.items()} == {
        "AllTraffic": (0.9, 1), "Canary": (0.1, 1)}


def test_retain_keeps_shadow_variant_weights_and_the_endpoints_data_capture(sm: Any) -> None:
    # Given an endpoint with a shadow variant at weight 0.5 and data capture sampling 20%
    with_model(sm, "churn-v7")
    capture = {"EnableCapture": True, "InitialSamplingPercentage": 20, "DestinationS3Uri": "s3://capture/",
               "CaptureOptions": [{"CaptureMode": "Input"}]}
    new_config(sm, "with-shadow", variant(model="churn-v7"), DataCaptureConfig=capture,
               ShadowProductionVariants=[variant(name="Shadow", model="churn-v7", count=1, InitialVariantWeight=0.5)])
    sm.create_endpoint(EndpointName=ENDPOINT, EndpointConfigName="with-shadow")
    other = {**capture, "InitialSamplingPercentage": 50}
    shadow = variant(name="Shadow", model="churn-v7", count=1, InitialVariantWeight=1.0)
    retained = new_config(sm, "retained", variant(model="churn-v7"), DataCaptureConfig=other,
                          ShadowProductionVariants=[shadow])
    replaced = new_config(sm, "replaced", variant(model="churn-v7"), DataCaptureConfig=other,
                          ShadowProductionVariants=[shadow])
    emulation.configure_update(ENDPOINT, seconds=FAST)
    # When updated with Retain, then without
    sm.update_endpoint(EndpointName=ENDPOINT, EndpointConfigName=retained, RetainAllVariantProperties=True)
    with_retain = settled(sm)
    sm.update_endpoint(EndpointName=ENDPOINT, EndpointConfigName=replaced)
    without = settled(sm)
    # Then Retain kept the shadow's weight and the sampling; without it, the new config's apply
    assert with_retain["ShadowProductionVariants"][0]["DesiredWeight"] == 0.5
    assert with_retain["DataCaptureConfig"]["CurrentSamplingPercentage"] == 20
    assert without["ShadowProductionVariants"][0]["DesiredWeight"] == 1.0
    assert without["DataCaptureConfig"]["CurrentSamplingPercentage"] == 50


def test_an_update_with_neither_deployment_config_nor_retain_leaves_no_last_deployment_config(sm: Any) -> None:
    create_endpoint(ENDPOINT)
    deployment = {"BlueGreenUpdatePolicy": {"TrafficRoutingConfiguration": {"Type": "ALL_AT_ONCE",
                                                                            "WaitIntervalInSeconds": 0}}}
    new = new_config(sm, "churn-prod-config-2", variant(model="churn-v7"))
    third = new_config(sm, "churn-prod-config-3", variant(model="churn-v8"))
    emulation.configure_update(ENDPOINT, seconds=FAST)
    sm.update_endpoint(EndpointName=ENDPOINT, EndpointConfigName=new, DeploymentConfig=deployment)
    assert settled(sm)["LastDeploymentConfig"] == deployment

    sm.update_endpoint(EndpointName=ENDPOINT, EndpointConfigName=third)

    assert "LastDeploymentConfig" not in settled(sm)


def test_an_auto_rollback_alarm_in_alarm_rolls_the_update_back(sm: Any, cw: Any) -> None:
    # Given an endpoint whose last deployment config has an auto-rollback alarm, now in ALARM
    create_endpoint(ENDPOINT)
    cw.put_metric_alarm(AlarmName="churn-prod-errors", Namespace="AWS/SageMaker", MetricName="Invocation5XXErrors",
                        Statistic="Sum", Period=60, EvaluationPeriods=1, Threshold=1.0,
                        ComparisonOperator="GreaterThanOrEqualToThreshold")
    deployment = {"AutoRollbackConfiguration": {"Alarms": [{"AlarmName": "churn-prod-errors"}]}}
    new = new_config(sm, "churn-prod-config-2", variant(model="churn-v7"))
    third = new_config(sm, "churn-prod-config-3", variant(model="churn-v8"))
    emulation.configure_update(ENDPOINT, seconds=FAST)
    sm.update_endpoint(EndpointName=ENDPOINT, EndpointConfigName=new, DeploymentConfig=deployment)
    assert settled(sm)["EndpointConfigName"] == new
    cw.set_alarm_state(AlarmName="churn-prod-errors", StateValue="ALARM", StateReason="errors")
    # When the next update retains that deployment config
    sm.update_endpoint(EndpointName=ENDPOINT, EndpointConfigName=third, RetainDeploymentConfig=True)
    after = settled(sm)
    # Then it is rolled back: InService on the previous config, with the alarm in the FailureReason
    assert (after["EndpointStatus"], after["EndpointConfigName"]) == ("InService", new)
    assert "churn-prod-errors" in after["FailureReason"]


def test_update_requests_are_recorded_as_sent(sm: Any) -> None:
    create_endpoint(ENDPOINT)
    new = new_config(sm, "churn-prod-config-2", variant(model="churn-v7"))
    emulation.configure_update(ENDPOINT, seconds=FAST)
    sm.update_endpoint(EndpointName=ENDPOINT, EndpointConfigName=new, RetainAllVariantProperties=True)
    assert emulation.update_requests(ENDPOINT) == [
        {"EndpointName": ENDPOINT, "EndpointConfigName": new, "RetainAllVariantProperties": True}]
    emulation.reset()
    assert emulation.update_requests(ENDPOINT) == []


# ---------------------------------------------------------------------------------------------------------
# SageMaker DescribeEndpoint variants, UpdateEndpointWeightsAndCapacities, set_endpoint_status
# ---------------------------------------------------------------------------------------------------------


def test_describe_endpoint_shows_instance_serverless_and_shadow_variants(sm: Any) -> None:
    with_model(sm, "churn-v7")
    shadow = variant(name="Shadow", model="churn-v7", count=1)
    new_config(sm, "with-shadow", variant(model="churn-v7", count=2),
               {"VariantName": "Serverless", "ModelName": "churn-v7",
                "ServerlessConfig": {"MemorySizeInMB": 2048, "MaxConcurrency": 5}},
               ShadowProductionVariants=[shadow])

    sm.create_endpoint(EndpointName=ENDPOINT, EndpointConfigName="with-shadow")
    described = sm.describe_endpoint(EndpointName=ENDPOINT)

    instance, serverless = described["ProductionVariants"]
    assert instance == {"VariantName": "AllTraffic", "CurrentWeight": 1.0, "DesiredWeight": 1.0,
                        "CurrentInstanceCount": 2, "DesiredInstanceCount": 2}
    assert serverless["CurrentServerlessConfig"] == serverless["DesiredServerlessConfig"] == {
        "MemorySizeInMB": 2048, "MaxConcurrency": 5}
    assert "CurrentInstanceCount" not in serverless and "DesiredInstanceCount" not in serverless
    assert [v["VariantName"] for v in described["ShadowProductionVariants"]] == ["Shadow"]


def test_describe_endpoint_summarises_data_capture(sm: Any) -> None:
    create_endpoint(ENDPOINT)

    capture = sm.describe_endpoint(EndpointName=ENDPOINT)["DataCaptureConfig"]

    assert capture == {"EnableCapture": True, "CaptureStatus": "Started", "CurrentSamplingPercentage": 20,
                       "DestinationS3Uri": "s3://churn-prod-capture/"}


def test_a_capacity_change_keeps_the_endpoint_updating_then_applies_only_the_count(sm: Any) -> None:
    create_endpoint(ENDPOINT, (VariantSpec(count=2, weight=0.6),))
    emulation.configure_capacity_change(ENDPOINT, seconds=0.2)

    with emulation.manual_clock() as clock:
        sm.update_endpoint_weights_and_capacities(
            EndpointName=ENDPOINT,
            DesiredWeightsAndCapacities=[{"VariantName": "AllTraffic", "DesiredInstanceCount": 5}])
        during = sm.describe_endpoint(EndpointName=ENDPOINT)
        clock.advance(0.2)
        after = sm.describe_endpoint(EndpointName=ENDPOINT)

    assert during["EndpointStatus"] == "Updating"
    assert during["ProductionVariants"][0]["CurrentInstanceCount"] == 2
    assert during["ProductionVariants"][0]["DesiredInstanceCount"] == 5
    assert after["EndpointStatus"] == "InService"
    assert after["ProductionVariants"][0] == {"VariantName": "AllTraffic", "CurrentWeight": 0.6, "DesiredWeight": 0.6,
                                              "CurrentInstanceCount": 5, "DesiredInstanceCount": 5}


def test_a_capacity_change_is_refused_while_updating(sm: Any) -> None:
    create_endpoint(ENDPOINT)
    emulation.set_endpoint_status(ENDPOINT, "Updating")

    error = error_of(lambda: sm.update_endpoint_weights_and_capacities(
        EndpointName=ENDPOINT, DesiredWeightsAndCapacities=[{"VariantName": "AllTraffic", "DesiredInstanceCount": 3}]))

    assert error["Code"] == "ValidationException"
    assert sm.describe_endpoint(EndpointName=ENDPOINT)["ProductionVariants"][0]["DesiredInstanceCount"] == 2


def test_a_forced_status_holds_until_changed_and_unknown_endpoints_are_reported(sm: Any) -> None:
    create_endpoint(ENDPOINT)

    emulation.set_endpoint_status(ENDPOINT, "SystemUpdating")
    time.sleep(FAST)

    assert sm.describe_endpoint(EndpointName=ENDPOINT)["EndpointStatus"] == "SystemUpdating"
    with pytest.raises(LookupError):
        emulation.set_endpoint_status("missing", "InService")
    with pytest.raises(ValueError):
        emulation.set_endpoint_status(ENDPOINT, "Sleeping")


def test_configuration_errors_are_refused() -> None:
    with pytest.raises(ValueError):
        emulation.configure_update(ENDPOINT, outcome="explode")
    with pytest.raises(ValueError):
        emulation.inject_fault("sagemaker", "UpdateEndpoint", "ThrottlingException", times=0)


# ---------------------------------------------------------------------------------------------------------
# SageMaker endpoint configs
# ---------------------------------------------------------------------------------------------------------


def test_an_endpoint_config_round_trips_every_field(sm: Any) -> None:
    with_model(sm, "churn-v7")
    request: dict[str, Any] = {
        "EndpointConfigName": "full-config",
        "ProductionVariants": [
            variant(model="churn-v7", VolumeSizeInGB=32, ModelDataDownloadTimeoutInSeconds=600,
                    ContainerStartupHealthCheckTimeoutInSeconds=300, EnableSSMAccess=True,
                    RoutingConfig={"RoutingStrategy": "LEAST_OUTSTANDING_REQUESTS"},
                    ManagedInstanceScaling={"Status": "ENABLED", "MinInstanceCount": 1, "MaxInstanceCount": 4}),
            {"VariantName": "Serverless", "ModelName": "churn-v7",
             "ServerlessConfig": {"MemorySizeInMB": 2048, "MaxConcurrency": 5, "ProvisionedConcurrency": 2}},
        ],
        "DataCaptureConfig": {"EnableCapture": True, "InitialSamplingPercentage": 50,
                              "DestinationS3Uri": "s3://capture/", "CaptureOptions": [{"CaptureMode": "Input"}]},
        "KmsKeyId": "arn:aws:kms:us-east-1:123456789012:key/abc",
        "AsyncInferenceConfig": {"OutputConfig": {"S3OutputPath": "s3://async/"}},
        "ExplainerConfig": {"ClarifyExplainerConfig": {"ShapConfig": {"ShapBaselineConfig": {"MimeType": "text/csv"}}}},
        "ShadowProductionVariants": [variant(name="Shadow", model="churn-v7", count=1)],
        "ExecutionRoleArn": "arn:aws:iam::123456789012:role/sagemaker-execution",
        "VpcConfig": {"SecurityGroupIds": ["sg-1"], "Subnets": ["subnet-1"]},
        "EnableNetworkIsolation": True,
    }

    arn = sm.create_endpoint_config(**request, Tags=[{"Key": "team", "Value": "churn"}])["EndpointConfigArn"]
    described = sm.describe_endpoint_config(EndpointConfigName="full-config")

    assert {k: v for k, v in described.items() if k in request} == request
    assert described["EndpointConfigArn"] == arn
    assert arn == "arn:aws:sagemaker:us-east-1:123456789012:endpoint-config/full-config"
    assert isinstance(described["CreationTime"], dt.datetime)
    assert "Tags" not in described
    assert sm.list_tags(ResourceArn=arn)["Tags"] == [{"Key": "team", "Value": "churn"}]


@pytest.mark.parametrize("name", ["x" * 64, "-leading-dash", "under_score", ""])
def test_an_invalid_endpoint_config_name_is_refused(sm: Any, name: str) -> None:
    with_model(sm, "churn-v7")

    error = error_of(lambda: new_config(sm, name, variant(model="churn-v7")))

    assert error["Code"] == "ValidationException"


def test_a_63_character_endpoint_config_name_is_accepted(sm: Any) -> None:
    with_model(sm, "churn-v7")
    name = "a-" + "b" * 61

    new_config(sm, name, variant(model="churn-v7"))

    assert sm.describe_endpoint_config(EndpointConfigName=name)["EndpointConfigName"] == name


def test_an_existing_endpoint_config_cannot_be_created_again(sm: Any) -> None:
    with_model(sm, "churn-v7")
    new_config(sm, "twice", variant(model="churn-v7", count=1))

    error = error_of(lambda: new_config(sm, "twice", variant(model="churn-v7", count=5)))

    assert error["Code"] == "ValidationException"
    assert error["Message"].startswith("Cannot create already existing endpoint configuration")
    kept = sm.describe_endpoint_config(EndpointConfigName="twice")["ProductionVariants"][0]
    assert kept["InitialInstanceCount"] == 1


# ---------------------------------------------------------------------------------------------------------
# Application Auto Scaling
# ---------------------------------------------------------------------------------------------------------


def alarms_by_name(cw: Any) -> dict[str, dict[str, Any]]:
    return {a["AlarmName"]: a for a in cw.describe_alarms()["MetricAlarms"]}


def policies(aas: Any, variant: str = "AllTraffic") -> dict[str, dict[str, Any]]:
    found = aas.describe_scaling_policies(ServiceNamespace=NAMESPACE, ResourceId=resource(variant))
    return {p["PolicyType"]: p for p in found["ScalingPolicies"]}


def test_deregistering_deletes_policies_scheduled_actions_and_target_tracking_alarms(aas: Any, cw: Any) -> None:
    create_endpoint(ENDPOINT)
    attach_scaling(ENDPOINT, "AllTraffic")
    step_arn = policies(aas)["StepScaling"]["PolicyARN"]
    assert any(name.startswith("TargetTracking-") for name in alarms_by_name(cw))

    aas.deregister_scalable_target(**target())

    assert aas.describe_scaling_policies(ServiceNamespace=NAMESPACE)["ScalingPolicies"] == []
    assert aas.describe_scheduled_actions(ServiceNamespace=NAMESPACE)["ScheduledActions"] == []
    alarms = alarms_by_name(cw)
    assert list(alarms) == ["churn-prod-AllTraffic-invocations-burst"]
    assert step_arn not in alarms["churn-prod-AllTraffic-invocations-burst"]["AlarmActions"]
    assert alarms["churn-prod-AllTraffic-invocations-burst"]["AlarmActions"] == [
        "arn:aws:sns:us-east-1:123456789012:churn-prod-alerts"]


def test_deleting_a_step_policy_keeps_its_alarm_without_the_action(aas: Any, cw: Any) -> None:
    create_endpoint(ENDPOINT)
    attach_scaling(ENDPOINT, "AllTraffic", ScalingSpec(target_tracking=False))

    aas.delete_scaling_policy(PolicyName="AllTraffic-burst-step", **target())

    alarm = alarms_by_name(cw)["churn-prod-AllTraffic-invocations-burst"]
    assert alarm["AlarmActions"] == ["arn:aws:sns:us-east-1:123456789012:churn-prod-alerts"]


def test_deleting_a_target_tracking_policy_deletes_the_alarms_it_created(aas: Any, cw: Any) -> None:
    create_endpoint(ENDPOINT)
    attach_scaling(ENDPOINT, "AllTraffic", ScalingSpec(step_scaling=False))
    created = {a["AlarmName"] for a in policies(aas)["TargetTrackingScaling"]["Alarms"]}
    assert len(created) == 2 and created <= set(alarms_by_name(cw))

    aas.delete_scaling_policy(PolicyName="AllTraffic-invocations-target", **target())

    assert not created & set(alarms_by_name(cw))


def test_scaling_policies_list_their_alarms(aas: Any, cw: Any) -> None:
    create_endpoint(ENDPOINT)

    attach_scaling(ENDPOINT, "AllTraffic")
    found = policies(aas)

    assert [a["AlarmName"] for a in found["StepScaling"]["Alarms"]] == ["churn-prod-AllTraffic-invocations-burst"]
    tracking = sorted(a["AlarmName"] for a in found["TargetTrackingScaling"]["Alarms"])
    assert len(tracking) == 2
    assert tracking[0].startswith(f"TargetTracking-{resource()}-AlarmHigh-")
    assert tracking[1].startswith(f"TargetTracking-{resource()}-AlarmLow-")
    high = alarms_by_name(cw)[tracking[0]]
    assert (high["Namespace"], high["MetricName"], high["Threshold"]) == ("AWS/SageMaker", "InvocationsPerInstance", 70)


def test_describe_scaling_policies_matches_the_resource_id_exactly(aas: Any) -> None:
    create_endpoint(ENDPOINT, (VariantSpec(name="Blue"), VariantSpec(name="BlueGreen")))
    attach_scaling(ENDPOINT, "Blue", ScalingSpec(step_scaling=False))
    attach_scaling(ENDPOINT, "BlueGreen", ScalingSpec(step_scaling=False))

    found = aas.describe_scaling_policies(ServiceNamespace=NAMESPACE, ResourceId=resource("BlueGreen"))

    assert [p["ResourceId"] for p in found["ScalingPolicies"]] == [resource("BlueGreen")]


def test_describe_scaling_policies_filters_by_name_and_pages_by_ten(aas: Any) -> None:
    create_endpoint(ENDPOINT)
    aas.register_scalable_target(**target(), MinCapacity=1, MaxCapacity=4)
    for i in range(12):
        aas.put_scaling_policy(**target(), PolicyName=f"p{i:02}", PolicyType="StepScaling",
                               StepScalingPolicyConfiguration={"AdjustmentType": "ChangeInCapacity",
                                                               "StepAdjustments": [{"ScalingAdjustment": 1}]})

    first = aas.describe_scaling_policies(ServiceNamespace=NAMESPACE)
    named = aas.describe_scaling_policies(ServiceNamespace=NAMESPACE, PolicyNames=["p03", "p11"])
    every = [p["PolicyName"] for page in aas.get_paginator("describe_scaling_policies").paginate(
        ServiceNamespace=NAMESPACE) for p in page["ScalingPolicies"]]

    assert len(first["ScalingPolicies"]) == 10 and first["NextToken"]
    assert [p["PolicyName"] for p in named["ScalingPolicies"]] == ["p03", "p11"]
    assert every == [f"p{i:02}" for i in range(12)]


def test_a_recreated_policy_gets_a_new_arn_and_an_updated_one_keeps_it(aas: Any) -> None:
    create_endpoint(ENDPOINT)
    aas.register_scalable_target(**target(), MinCapacity=1, MaxCapacity=4)
    body = {"PolicyName": "tt", "PolicyType": "TargetTrackingScaling", "TargetTrackingScalingPolicyConfiguration": {
        "TargetValue": 70.0,
        "PredefinedMetricSpecification": {"PredefinedMetricType": "SageMakerVariantInvocationsPerInstance"}}}
    first = aas.put_scaling_policy(**target(), **body)["PolicyARN"]

    body["TargetTrackingScalingPolicyConfiguration"]["TargetValue"] = 50.0
    updated = aas.put_scaling_policy(**target(), **body)["PolicyARN"]
    aas.delete_scaling_policy(PolicyName="tt", **target())
    recreated = aas.put_scaling_policy(**target(), **body)["PolicyARN"]

    assert updated == first
    assert recreated != first
    assert policies(aas)["TargetTrackingScaling"]["TargetTrackingScalingPolicyConfiguration"]["TargetValue"] == 50.0


def test_updating_a_target_tracking_policy_replaces_its_alarms(aas: Any, cw: Any) -> None:
    create_endpoint(ENDPOINT)
    attach_scaling(ENDPOINT, "AllTraffic", ScalingSpec(step_scaling=False))
    before = {a["AlarmName"] for a in policies(aas)["TargetTrackingScaling"]["Alarms"]}

    aas.put_scaling_policy(**target(), PolicyName="AllTraffic-invocations-target", PolicyType="TargetTrackingScaling",
                           TargetTrackingScalingPolicyConfiguration={"TargetValue": 30.0, "DisableScaleIn": True,
                               "PredefinedMetricSpecification": {
                                   "PredefinedMetricType": "SageMakerVariantInvocationsPerInstance"}})
    after = {a["AlarmName"] for a in policies(aas)["TargetTrackingScaling"]["Alarms"]}

    assert len(after) == 1 and not before & after
    assert {n for n in alarms_by_name(cw) if n.startswith("TargetTracking-")} == after


@pytest.mark.parametrize(("endpoint", "variant_name"), [("missing", "AllTraffic"), (ENDPOINT, "Missing")])
def test_registering_a_missing_endpoint_or_variant_is_refused(aas: Any, endpoint: str, variant_name: str) -> None:
    create_endpoint(ENDPOINT)

    error = error_of(lambda: aas.register_scalable_target(**target(variant_name, endpoint), MinCapacity=1,
                                                          MaxCapacity=2))

    assert error["Code"] == "ValidationException"
    assert aas.describe_scalable_targets(ServiceNamespace=NAMESPACE)["ScalableTargets"] == []


def test_a_target_without_role_uses_the_service_linked_role_and_round_trips_suspended_state(aas: Any) -> None:
    create_endpoint(ENDPOINT)
    suspended = {"DynamicScalingInSuspended": True, "DynamicScalingOutSuspended": False,
                 "ScheduledScalingSuspended": True}

    aas.register_scalable_target(**target(), MinCapacity=1, MaxCapacity=4, SuspendedState=suspended)
    registered = aas.describe_scalable_targets(ServiceNamespace=NAMESPACE)["ScalableTargets"][0]

    assert registered["RoleARN"] == (
        "arn:aws:iam::123456789012:role/aws-service-role/sagemaker.application-autoscaling.amazonaws.com/"
        "AWSServiceRoleForApplicationAutoScaling_SageMakerEndpoint")
    assert registered["SuspendedState"] == suspended


def test_registering_an_existing_target_updates_it_in_place(aas: Any) -> None:
    create_endpoint(ENDPOINT)
    first = aas.register_scalable_target(**target(), MinCapacity=1, MaxCapacity=4)["ScalableTargetARN"]

    second = aas.register_scalable_target(**target(), MaxCapacity=8)["ScalableTargetARN"]
    targets = aas.describe_scalable_targets(ServiceNamespace=NAMESPACE)["ScalableTargets"]

    assert second == first
    assert [(t["MinCapacity"], t["MaxCapacity"]) for t in targets] == [(1, 8)]


@pytest.mark.parametrize(("count", "minimum", "maximum", "expected"), [(2, 3, 6, 3), (5, 1, 4, 4), (2, 1, 4, 2)])
def test_registering_moves_the_instance_count_into_the_range(
    sm: Any, aas: Any, count: int, minimum: int, maximum: int, expected: int
) -> None:
    create_endpoint(ENDPOINT, (VariantSpec(count=count),))

    aas.register_scalable_target(**target(), MinCapacity=minimum, MaxCapacity=maximum)
    described = sm.describe_endpoint(EndpointName=ENDPOINT)

    assert described["EndpointStatus"] == "InService"
    assert described["ProductionVariants"][0]["DesiredInstanceCount"] == expected
    assert described["ProductionVariants"][0]["CurrentInstanceCount"] == expected


def test_a_serverless_variant_registers_provisioned_concurrency(aas: Any) -> None:
    create_endpoint(ENDPOINT, (VariantSpec(name="Serverless", serverless=True),))
    concurrency = {**target("Serverless"), "ScalableDimension": "sagemaker:variant:DesiredProvisionedConcurrency"}

    aas.register_scalable_target(**concurrency, MinCapacity=1, MaxCapacity=5)
    refused = error_of(lambda: aas.register_scalable_target(**target("Serverless"), MinCapacity=1, MaxCapacity=5))

    dimensions = [t["ScalableDimension"] for t in aas.describe_scalable_targets(
        ServiceNamespace=NAMESPACE)["ScalableTargets"]]
    assert dimensions == ["sagemaker:variant:DesiredProvisionedConcurrency"]
    assert refused["Code"] == "ValidationException"


@pytest.mark.parametrize("operation", ["policy", "scheduled_action"])
def test_scaling_an_unregistered_target_is_refused(aas: Any, operation: str) -> None:
    create_endpoint(ENDPOINT)

    if operation == "policy":
        error = error_of(lambda: aas.put_scaling_policy(
            **target(), PolicyName="p", PolicyType="StepScaling",
            StepScalingPolicyConfiguration={"AdjustmentType": "ChangeInCapacity",
                                            "StepAdjustments": [{"ScalingAdjustment": 1}]}))
    else:
        error = error_of(lambda: aas.put_scheduled_action(
            **target(), ScheduledActionName="a", Schedule="rate(1 hour)",
            ScalableTargetAction={"MinCapacity": 1}))

    assert error["Code"] == "ObjectNotFoundException"


@pytest.mark.parametrize("operation", ["deregister", "delete_policy", "delete_scheduled_action"])
def test_removing_a_missing_object_answers_object_not_found(aas: Any, operation: str) -> None:
    create_endpoint(ENDPOINT)
    aas.register_scalable_target(**target("AllTraffic"), MinCapacity=1, MaxCapacity=2)
    calls = {
        "deregister": lambda: aas.deregister_scalable_target(**target("Other")),
        "delete_policy": lambda: aas.delete_scaling_policy(PolicyName="nope", **target()),
        "delete_scheduled_action": lambda: aas.delete_scheduled_action(ScheduledActionName="nope", **target()),
    }

    assert error_of(calls[operation])["Code"] == "ObjectNotFoundException"


def test_scheduled_actions_round_trip(aas: Any) -> None:
    create_endpoint(ENDPOINT)
    aas.register_scalable_target(**target(), MinCapacity=1, MaxCapacity=4)
    start, end = dt.datetime(2030, 1, 1, 8, tzinfo=dt.UTC), dt.datetime(2030, 6, 30, 18, tzinfo=dt.UTC)

    aas.put_scheduled_action(**target(), ScheduledActionName="weekday", Schedule="cron(0 8 ? * MON-FRI *)",
                             Timezone="Europe/Paris", StartTime=start, EndTime=end,
                             ScalableTargetAction={"MinCapacity": 2, "MaxCapacity": 4})
    action = aas.describe_scheduled_actions(ServiceNamespace=NAMESPACE)["ScheduledActions"][0]

    assert (action["Schedule"], action["Timezone"]) == ("cron(0 8 ? * MON-FRI *)", "Europe/Paris")
    assert (action["StartTime"], action["EndTime"]) == (start, end)
    assert action["ScalableTargetAction"] == {"MinCapacity": 2, "MaxCapacity": 4}


# ---------------------------------------------------------------------------------------------------------
# CloudWatch
# ---------------------------------------------------------------------------------------------------------


def test_metric_alarms_round_trip(cw: Any) -> None:
    cw.put_metric_alarm(AlarmName="errors", Namespace="AWS/SageMaker", MetricName="Invocation5XXErrors",
                        Dimensions=[{"Name": "EndpointName", "Value": ENDPOINT}], Statistic="Sum", Period=60,
                        EvaluationPeriods=3, Threshold=5.0, ComparisonOperator="GreaterThanOrEqualToThreshold",
                        AlarmActions=["arn:aws:sns:us-east-1:123456789012:alerts"], TreatMissingData="notBreaching")

    alarm = cw.describe_alarms(AlarmNames=["errors"])["MetricAlarms"][0]

    assert (alarm["MetricName"], alarm["Threshold"], alarm["EvaluationPeriods"]) == ("Invocation5XXErrors", 5.0, 3)
    assert alarm["AlarmActions"] == ["arn:aws:sns:us-east-1:123456789012:alerts"]
    assert alarm["Dimensions"] == [{"Name": "EndpointName", "Value": ENDPOINT}]
    assert alarm["TreatMissingData"] == "notBreaching"


# ---------------------------------------------------------------------------------------------------------
# Fault injection, install, reset, threads
# ---------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("service", "operation", "code", "call"),
    [
        ("sagemaker", "DescribeEndpoint", "ThrottlingException",
         lambda c: c.describe_endpoint(EndpointName=ENDPOINT)),
        ("application-autoscaling", "DescribeScalableTargets", "ConcurrentUpdateException",
         lambda c: c.describe_scalable_targets(ServiceNamespace=NAMESPACE)),
        ("cloudwatch", "DescribeAlarms", "ThrottlingException", lambda c: c.describe_alarms()),
        ("sagemaker", "UpdateEndpoint", "ValidationException",
         lambda c: c.update_endpoint(EndpointName=ENDPOINT, EndpointConfigName="churn-prod-config-1")),
    ],
)
def test_an_injected_fault_answers_the_next_calls_with_its_code(
    service: str, operation: str, code: str, call: Callable[[Any], Any]
) -> None:
    create_endpoint(ENDPOINT)
    client = boto3.client(service, region_name=REGION, config=NO_RETRY)
    emulation.inject_fault(service, operation, code, "injected", times=2)

    errors = [error_of(lambda: call(client)) for _ in range(2)]

    assert [(e["Code"], e["Message"]) for e in errors] == [(code, "injected")] * 2
    assert call(client)["ResponseMetadata"]["HTTPStatusCode"] == 200  # the third call reaches the emulator


def test_faults_queue_in_order_and_only_hit_their_operation(sm: Any) -> None:
    create_endpoint(ENDPOINT)
    emulation.inject_fault("sagemaker", "DescribeEndpoint", "ThrottlingException")
    emulation.inject_fault("sagemaker", "DescribeEndpoint", "InternalFailure")

    sm.describe_endpoint_config(EndpointConfigName="churn-prod-config-1")
    codes = [error_of(lambda: sm.describe_endpoint(EndpointName=ENDPOINT))["Code"] for _ in range(2)]

    assert codes == ["ThrottlingException", "InternalFailure"]
    assert sm.describe_endpoint(EndpointName=ENDPOINT)["EndpointStatus"] == "InService"


def test_reset_forgets_faults_and_configured_behaviours(sm: Any) -> None:
    create_endpoint(ENDPOINT)
    new = new_config(sm, "churn-prod-config-2", variant(model="churn-v7"))
    emulation.inject_fault("sagemaker", "UpdateEndpoint", "ThrottlingException")
    emulation.configure_update(ENDPOINT, outcome="fail", seconds=FAST)

    emulation.reset()
    sm.update_endpoint(EndpointName=ENDPOINT, EndpointConfigName=new)

    after = settled(sm)
    assert after["EndpointStatus"] == "InService" and after["EndpointConfigName"] == new


def test_install_is_idempotent() -> None:
    from moto.core.responses import BaseResponse
    from moto.sagemaker.models import SageMakerModelBackend

    patched = (BaseResponse.call_action, SageMakerModelBackend.list_endpoints)

    emulation.install()

    assert (BaseResponse.call_action, SageMakerModelBackend.list_endpoints) == patched
    # wrapped once, around moto's own functions
    assert BaseResponse.call_action.__wrapped__.__module__ == "moto.core.responses"  # type: ignore[attr-defined]
    assert SageMakerModelBackend.list_endpoints.__wrapped__.__module__ == "moto.sagemaker.models"  # type: ignore[attr-defined]


def test_updates_driven_from_background_threads_are_consistent(sm: Any) -> None:
    create_endpoint(ENDPOINT)
    new = new_config(sm, "churn-prod-config-2", variant(model="churn-v7", count=3))
    emulation.configure_update(ENDPOINT, seconds=0.1)
    seen: list[tuple[str, str]] = []
    errors: list[BaseException] = []

    def poll() -> None:
        client = boto3.client("sagemaker", region_name=REGION, config=NO_RETRY)
        try:
            for _ in range(20):
                d = client.describe_endpoint(EndpointName=ENDPOINT)
                seen.append((d["EndpointStatus"], d["EndpointConfigName"]))
                time.sleep(0.01)
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=poll) for _ in range(4)]
    for thread in threads:
        thread.start()
    sm.update_endpoint(EndpointName=ENDPOINT, EndpointConfigName=new)
    for thread in threads:
        thread.join()

    assert not errors
    assert set(seen) <= {("InService", "churn-prod-config-1"), ("Updating", "churn-prod-config-1"),
                         ("InService", new)}
    assert settled(sm)["EndpointConfigName"] == new


# ---------------------------------------------------------------------------------------------------------
# offline.scenario
# ---------------------------------------------------------------------------------------------------------


def test_scaling_state_before_deregistration_equals_the_state_after_a_correct_restore(aas: Any, cw: Any) -> None:
    create_endpoint(ENDPOINT, (VariantSpec(), VariantSpec(name="Canary", count=1)))
    attach_scaling(ENDPOINT, "AllTraffic", ScalingSpec(min_capacity=2, max_capacity=6,
                                                       suspended={"DynamicScalingInSuspended": True}))
    before = scaling_state(ENDPOINT)
    described = {
        "target": aas.describe_scalable_targets(ServiceNamespace=NAMESPACE)["ScalableTargets"][0],
        "policies": aas.describe_scaling_policies(ServiceNamespace=NAMESPACE)["ScalingPolicies"],
        "actions": aas.describe_scheduled_actions(ServiceNamespace=NAMESPACE)["ScheduledActions"],
    }
    alarm = alarms_by_name(cw)["churn-prod-AllTraffic-invocations-burst"]

    aas.deregister_scalable_target(**target())
    deregistered = scaling_state(ENDPOINT)
    t = described["target"]
    aas.register_scalable_target(**target(), MinCapacity=t["MinCapacity"], MaxCapacity=t["MaxCapacity"],
                                 RoleARN=t["RoleARN"], SuspendedState=t["SuspendedState"])
    for p in described["policies"]:
        config = {k: p[k] for k in ("StepScalingPolicyConfiguration", "TargetTrackingScalingPolicyConfiguration")
                  if k in p}
        arn = aas.put_scaling_policy(**target(), PolicyName=p["PolicyName"], PolicyType=p["PolicyType"],
                                     **config)["PolicyARN"]
        if p["PolicyType"] == "StepScaling":
            actions = [a for a in alarm["AlarmActions"] if a != p["PolicyARN"]] + [arn]
            cw.put_metric_alarm(**{k: alarm[k] for k in (
                "AlarmName", "Namespace", "MetricName", "Dimensions", "Statistic", "Period", "EvaluationPeriods",
                "Threshold", "ComparisonOperator")}, AlarmActions=actions)
    for a in described["actions"]:
        aas.put_scheduled_action(**target(), **{k: a[k] for k in (
            "ScheduledActionName", "Schedule", "Timezone", "StartTime", "EndTime", "ScalableTargetAction")})

    assert before["targets"] and before["policies"] and before["scheduled_actions"] and before["alarms"]
    assert deregistered == {"targets": [], "policies": [], "scheduled_actions": [], "alarms": []}
    assert scaling_state(ENDPOINT) == before


def test_scaling_state_sees_an_alarm_that_was_not_pointed_back_at_the_policy(aas: Any) -> None:
    create_endpoint(ENDPOINT)
    attach_scaling(ENDPOINT, "AllTraffic", ScalingSpec(target_tracking=False, scheduled_action=False))
    before = scaling_state(ENDPOINT)
    step = policies(aas)["StepScaling"]

    aas.deregister_scalable_target(**target())
    aas.register_scalable_target(**target(), MinCapacity=1, MaxCapacity=4)
    aas.put_scaling_policy(**target(), PolicyName=step["PolicyName"], PolicyType="StepScaling",
                           StepScalingPolicyConfiguration=step["StepScalingPolicyConfiguration"])

    after = scaling_state(ENDPOINT)
    assert after["policies"] == before["policies"]
    assert after != before and after["alarms"] == []


def test_create_endpoint_builds_an_in_service_endpoint_with_tagged_config(sm: Any) -> None:
    config = create_endpoint(ENDPOINT, (VariantSpec(), VariantSpec(name="Serverless", model="churn-v8",
                                                                    serverless=True)), tags={"team": "churn"})

    described = sm.describe_endpoint_config(EndpointConfigName=config)
    state = endpoint_state(ENDPOINT)

    assert state["EndpointStatus"] == "InService" and state["EndpointConfigName"] == config
    assert state["Variants"]["AllTraffic"]["DesiredInstanceCount"] == 2
    assert "DesiredInstanceCount" not in state["Variants"]["Serverless"]
    assert described["DataCaptureConfig"]["EnableCapture"] is True
    assert sm.list_tags(ResourceArn=described["EndpointConfigArn"])["Tags"] == [{"Key": "team", "Value": "churn"}]
    assert {m["ModelName"] for m in sm.list_models()["Models"]} == {"churn-v7", "churn-v8", "churn-v9", "churn-v10",
                                                                     "churn-v11"}


def test_endpoint_state_reports_the_pending_config_and_failure(sm: Any) -> None:
    create_endpoint(ENDPOINT)
    new = new_config(sm, "churn-prod-config-2", variant(model="churn-v7"))
    emulation.configure_update(ENDPOINT, seconds=0.2, outcome="rollback", failure_reason="health check")

    with emulation.manual_clock() as clock:
        sm.update_endpoint(EndpointName=ENDPOINT, EndpointConfigName=new)
        during = endpoint_state(ENDPOINT)
        clock.advance(0.2)
        after = endpoint_state(ENDPOINT)

    assert (during["EndpointStatus"], during["PendingEndpointConfigName"]) == ("Updating", new)
    assert after == {"EndpointStatus": "InService", "EndpointConfigName": "churn-prod-config-1",
                     "FailureReason": "health check", "PendingEndpointConfigName": None,
                     "Variants": {"AllTraffic": {"CurrentInstanceCount": 2, "DesiredInstanceCount": 2,
                                                 "CurrentWeight": 1.0, "DesiredWeight": 1.0}}}


def test_a_manual_clock_holds_an_update_until_advanced_and_wall_time_comes_back_after(sm: Any) -> None:
    create_endpoint(ENDPOINT)
    new = new_config(sm, "churn-prod-config-2", variant(model="churn-v7"))
    emulation.configure_update(ENDPOINT, seconds=FAST)

    with emulation.manual_clock():
        sm.update_endpoint(EndpointName=ENDPOINT, EndpointConfigName=new)
        time.sleep(FAST * 4)
        held = sm.describe_endpoint(EndpointName=ENDPOINT)["EndpointStatus"]
    released = settled(sm)

    assert held == "Updating"
    assert (released["EndpointStatus"], released["EndpointConfigName"]) == ("InService", new)
