"""Building the new endpoint config from the current one: a pure function, tested without AWS."""

import re

from endpoint_updater.core.endpoint_config import build, new_config_name

NAME = re.compile(r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$")
EXECUTION = "arn:aws:states:us-east-1:123456789012:execution:endpoint-updater:run-1"
START = "2026-11-26T23:57:26.123Z"

CURRENT = {
    "EndpointConfigName": "churn-prod-v7",
    "EndpointConfigArn": "arn:aws:sagemaker:us-east-1:123456789012:endpoint-config/churn-prod-v7",
    "CreationTime": "2026-01-01T00:00:00+00:00",
    "ProductionVariants": [
        {"VariantName": "AllTraffic", "ModelName": "churn-v7", "InitialInstanceCount": 2,
         "InstanceType": "ml.m5.large", "InitialVariantWeight": 1.0, "VolumeSizeInGB": 30},
        {"VariantName": "Serverless", "ModelName": "churn-v7",
         "ServerlessConfig": {"MemorySizeInMB": 2048, "MaxConcurrency": 5, "ProvisionedConcurrency": 1}},
    ],
    "DataCaptureConfig": {"EnableCapture": True, "InitialSamplingPercentage": 10,
                          "DestinationS3Uri": "s3://bucket/capture", "CaptureOptions": [{"CaptureMode": "Input"}]},
    "KmsKeyId": "alias/churn",
    "SomeFieldAddedLater": {"Kept": True},
}
DESCRIPTION = {
    "ProductionVariants": [
        {"VariantName": "AllTraffic", "CurrentInstanceCount": 5, "DesiredInstanceCount": 5},
        {"VariantName": "Serverless", "DesiredServerlessConfig": {"MemorySizeInMB": 2048, "MaxConcurrency": 5,
                                                                  "ProvisionedConcurrency": 3}},
    ],
}


def test_name_is_valid_unique_per_execution_and_stable_on_retry() -> None:
    first = new_config_name("churn-prod", EXECUTION, START)
    assert NAME.match(first) and first.startswith("churn-prod-20261126235726-")
    assert new_config_name("churn-prod", EXECUTION, START) == first
    assert new_config_name("churn-prod", EXECUTION + "x", START) != first


def test_name_of_a_long_endpoint_fits_in_63_characters() -> None:
    name = new_config_name("a" * 40 + "-" + "b" * 22, EXECUTION, START)
    assert len(name) <= 63 and NAME.match(name)


def test_copy_keeps_every_field_and_drops_only_output_only_ones() -> None:
    params, _ = build(CURRENT, DESCRIPTION, [], "new-config", [])
    assert params["EndpointConfigName"] == "new-config"
    assert "EndpointConfigArn" not in params and "CreationTime" not in params
    for field in ("DataCaptureConfig", "KmsKeyId", "SomeFieldAddedLater"):
        assert params[field] == CURRENT[field]
    assert params["ProductionVariants"][0]["VolumeSizeInGB"] == 30


def test_instance_count_comes_from_the_endpoints_desired_count() -> None:
    params, changes = build(CURRENT, DESCRIPTION, [], "new-config", [])
    assert params["ProductionVariants"][0]["InitialInstanceCount"] == 5
    assert {"VariantName": "AllTraffic", "Field": "InitialInstanceCount", "From": 2, "To": 5} in changes


def test_serverless_variant_keeps_its_live_provisioned_concurrency_and_gets_no_count() -> None:
    params, _ = build(CURRENT, DESCRIPTION, [], "new-config", [])
    serverless = params["ProductionVariants"][1]
    assert serverless["ServerlessConfig"]["ProvisionedConcurrency"] == 3
    assert "InitialInstanceCount" not in serverless and "InstanceType" not in serverless


def test_requested_changes_are_applied_to_the_named_variant_only() -> None:
    changes = [{"VariantName": "AllTraffic", "ModelName": "churn-v8", "InstanceType": "ml.c5.2xlarge"}]
    params, applied = build(CURRENT, DESCRIPTION, changes, "new-config", [])
    assert params["ProductionVariants"][0]["ModelName"] == "churn-v8"
    assert params["ProductionVariants"][0]["InstanceType"] == "ml.c5.2xlarge"
    assert params["ProductionVariants"][1]["ModelName"] == "churn-v7"
    assert {"VariantName": "AllTraffic", "Field": "ModelName", "From": "churn-v7", "To": "churn-v8"} in applied


def test_the_current_config_is_not_modified() -> None:
    build(CURRENT, DESCRIPTION, [{"VariantName": "AllTraffic", "ModelName": "x"}], "new-config", [])
    assert CURRENT["ProductionVariants"][0]["ModelName"] == "churn-v7"
    assert CURRENT["ProductionVariants"][1]["ServerlessConfig"]["ProvisionedConcurrency"] == 1


def test_tags_are_copied_except_reserved_ones() -> None:
    tags = [{"Key": "team", "Value": "churn"}, {"Key": "aws:cloudformation:stack-name", "Value": "s"}]
    params, _ = build(CURRENT, DESCRIPTION, [], "new-config", tags)
    assert params["Tags"] == [{"Key": "team", "Value": "churn"}]
