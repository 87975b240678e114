"""The emulated request-rate throttling: a token bucket per service, metering Describe calls only."""

import pytest

from endpoint_updater.offline import throttling
from endpoint_updater.offline.throttling import TokenBucket


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_full_bucket_allows_its_burst_then_refuses() -> None:
    # Given a bucket of 2 per second with a burst of 3, at rest
    clock = FakeClock()
    bucket = TokenBucket(rate=2.0, burst=3.0, clock=clock)
    # When 4 requests arrive at the same instant / Then the burst passes and the fourth is refused
    assert [bucket.take() for _ in range(4)] == [True, True, True, False]


def test_tokens_come_back_at_the_rate_and_never_beyond_the_burst() -> None:
    clock = FakeClock()
    bucket = TokenBucket(rate=2.0, burst=3.0, clock=clock)
    for _ in range(3):
        bucket.take()
    clock.now += 0.4  # 0.8 token: not enough
    assert not bucket.take()
    clock.now += 0.1  # 1.0 token
    assert bucket.take()
    assert not bucket.take()
    clock.now += 60  # an idle minute refills to the burst only
    assert [bucket.take() for _ in range(4)] == [True, True, True, False]


@pytest.mark.parametrize(("rate", "burst"), [(0, 1), (-1, 1), (1, 0.5)])
def test_a_bucket_that_could_never_allow_is_refused(rate: float, burst: float) -> None:
    with pytest.raises(ValueError):
        TokenBucket(rate=rate, burst=burst)


def test_only_describe_calls_of_the_metered_services_are_throttled_and_counted() -> None:
    clock = FakeClock()
    with throttling.enabled(rate=1.0, burst=1.0, clock=clock) as stats:
        assert not throttling.throttles("sagemaker", "DescribeEndpoint")
        assert throttling.throttles("sagemaker", "DescribeEndpoint")
        # one bucket per service: Application Auto Scaling still has its token
        assert not throttling.throttles("application-autoscaling", "DescribeScalableTargets")
        # not metered: writes, and other services
        assert not throttling.throttles("sagemaker", "UpdateEndpoint")
        assert not throttling.throttles("cloudwatch", "DescribeAlarms")
    assert stats.throttled == {"sagemaker:DescribeEndpoint": 1}
    assert stats.total_allowed == 2
    # Then, once the block ends, nothing is throttled any more
    assert not throttling.is_enabled()
    assert not throttling.throttles("sagemaker", "DescribeEndpoint")


def test_throttling_cannot_be_nested() -> None:
    with throttling.enabled(), pytest.raises(RuntimeError), throttling.enabled():
        pass
    assert not throttling.is_enabled()
