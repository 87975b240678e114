"""The emulator's scalable-target tags and inference components, as the AWS references describe them (moto 5.2.5
drops RegisterScalableTarget's Tags and has neither the tagging calls nor inference components)."""

from __future__ import annotations

import boto3
import pytest
from botocore.exceptions import ClientError

from endpoint_updater.offline.runner import LocalRunner
from endpoint_updater.offline.scenario import ScalingSpec, attach_scaling, create_endpoint

TARGET = {"ServiceNamespace": "sagemaker", "ResourceId": "endpoint/churn-prod/variant/AllTraffic",
          "ScalableDimension": "sagemaker:variant:DesiredInstanceCount"}


def arn() -> str:
    found = boto3.client("application-autoscaling").describe_scalable_targets(
        ServiceNamespace="sagemaker", ResourceIds=[TARGET["ResourceId"]])["ScalableTargets"]
    return str(found[0]["ScalableTargetARN"])


def tags(resource_arn: str) -> dict[str, str]:
    return dict(boto3.client("application-autoscaling").list_tags_for_resource(ResourceARN=resource_arn)["Tags"])


def test_register_tags_a_new_target_and_leaves_an_existing_ones_tags_alone(runner: LocalRunner) -> None:
    create_endpoint()
    attach_scaling("churn-prod", "AllTraffic", ScalingSpec(tags={"a": "1"}))
    first = arn()
    assert tags(first) == {"a": "1"}
    # Registering the existing target again with other Tags updates it but does not tag it
    boto3.client("application-autoscaling").register_scalable_target(**TARGET, MaxCapacity=5, Tags={"b": "2"})
    assert arn() == first and tags(first) == {"a": "1"}


def test_tag_untag_and_deregister(runner: LocalRunner) -> None:
    create_endpoint()
    attach_scaling("churn-prod", "AllTraffic", ScalingSpec(tags={"a": "1", "b": "2"}))
    autoscaling = boto3.client("application-autoscaling")
    first = arn()
    autoscaling.tag_resource(ResourceARN=first, Tags={"b": "3", "c": "4"})
    autoscaling.untag_resource(ResourceARN=first, TagKeys=["a"])
    assert tags(first) == {"b": "3", "c": "4"}
    # Deregistering deletes the target, and its tags with it: a new registration is a new, untagged target
    autoscaling.deregister_scalable_target(**TARGET)
    with pytest.raises(ClientError) as gone:
        tags(first)
    assert gone.value.response["Error"]["Code"] == "ResourceNotFoundException"
    autoscaling.register_scalable_target(**TARGET, MinCapacity=1, MaxCapacity=4)
    assert arn() != first and tags(arn()) == {}


def test_tag_limits_are_checked(runner: LocalRunner) -> None:
    create_endpoint()
    attach_scaling("churn-prod", "AllTraffic", ScalingSpec(tags={}))
    with pytest.raises(ClientError) as refused:
        boto3.client("application-autoscaling").tag_resource(ResourceARN=arn(), Tags={"k" * 129: "v"})
    assert refused.value.response["Error"]["Code"] == "ValidationException"


def test_inference_components_are_listed_per_endpoint_in_pages(runner: LocalRunner) -> None:
    sagemaker = boto3.client("sagemaker")
    create_endpoint()
    sagemaker.create_endpoint_config(EndpointConfigName="ic-config", ProductionVariants=[
        {"VariantName": "AllTraffic", "InstanceType": "ml.g4dn.xlarge", "InitialInstanceCount": 1}])
    sagemaker.create_endpoint(EndpointName="llm", EndpointConfigName="ic-config")
    described = sagemaker.describe_endpoint_config(EndpointConfigName="ic-config")
    assert "ModelName" not in described["ProductionVariants"][0]
    for i in range(12):
        sagemaker.create_inference_component(
            InferenceComponentName=f"llm-{i}", EndpointName="llm", VariantName="AllTraffic",
            Specification={"ModelName": "churn-v7"}, RuntimeConfig={"CopyCount": 1})
    pages = list(sagemaker.get_paginator("list_inference_components").paginate(EndpointNameEquals="llm"))
    assert [len(p["InferenceComponents"]) for p in pages] == [10, 2]
    assert sagemaker.list_inference_components(EndpointNameEquals="churn-prod")["InferenceComponents"] == []
    with pytest.raises(ClientError) as duplicate:
        sagemaker.create_inference_component(InferenceComponentName="llm-0", EndpointName="llm",
                                             Specification={"ModelName": "churn-v7"}, RuntimeConfig={"CopyCount": 1})
    assert duplicate.value.response["Error"]["Code"] == "ValidationException"
    # A component's copies scale as inference-component/<name>; one that does not exist cannot be registered
    autoscaling = boto3.client("application-autoscaling")
    copies = {"ServiceNamespace": "sagemaker", "ScalableDimension": "sagemaker:inference-component:DesiredCopyCount"}
    autoscaling.register_scalable_target(**copies, ResourceId="inference-component/llm-0", MinCapacity=0, MaxCapacity=2)
    with pytest.raises(ClientError):
        autoscaling.register_scalable_target(**copies, ResourceId="inference-component/nope", MinCapacity=0,
                                             MaxCapacity=2)
