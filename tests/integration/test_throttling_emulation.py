"""Emulated throttling through boto3: a Describe call over the bucket's rate answers ThrottlingException."""

from __future__ import annotations

from collections.abc import Iterator

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from moto import mock_aws

from endpoint_updater.offline import emulation, throttling
from endpoint_updater.offline.scenario import create_endpoint

NO_RETRY = Config(retries={"total_max_attempts": 1})


class FrozenClock:
    def __call__(self) -> float:
        return 0.0


@pytest.fixture(autouse=True)
def aws() -> Iterator[None]:
    emulation.install()
    emulation.reset()
    with mock_aws():
        yield
    emulation.reset()


def test_a_describe_call_over_the_rate_is_throttled_as_aws_answers_it() -> None:
    # Given an endpoint, and a bucket that holds one request and never refills
    create_endpoint("churn-prod")
    sagemaker = boto3.client("sagemaker", region_name="us-east-1", config=NO_RETRY)
    with throttling.enabled(rate=1.0, burst=1.0, clock=FrozenClock()) as stats:
        # When DescribeEndpoint is called twice
        assert sagemaker.describe_endpoint(EndpointName="churn-prod")["EndpointStatus"] == "InService"
        with pytest.raises(ClientError) as caught:
            sagemaker.describe_endpoint(EndpointName="churn-prod")
        # Then the second answers ThrottlingException, a 400, and writes still go through
        assert caught.value.response["Error"]["Code"] == "ThrottlingException"
        assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
        sagemaker.update_endpoint_weights_and_capacities(
            EndpointName="churn-prod", DesiredWeightsAndCapacities=[{"VariantName": "AllTraffic",
                                                                     "DesiredInstanceCount": 3}])
    assert stats.throttled == {"sagemaker:DescribeEndpoint": 1}
    # And once the block ends the same call succeeds
    sagemaker.describe_endpoint(EndpointName="churn-prod")
