"""SageMaker's endpoint events from the emulator (offline/emulation/events.py), and the switches of their delivery.

No workflow here: an emulated account, the emulator's manual clock (its timers run as it advances), and a sink
that records what is delivered and when. Event shapes follow "Events that Amazon SageMaker AI sends to Amazon
EventBridge" (SageMaker Developer Guide).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.config import Config
from moto import mock_aws

from endpoint_updater.offline import emulation
from endpoint_updater.offline.emulation import events
from endpoint_updater.offline.scenario import VariantSpec, create_endpoint

REGION = "us-east-1"
ENDPOINT = "churn-prod"
NO_RETRY = Config(retries={"total_max_attempts": 1})
UPDATE_SECONDS = 600.0


@pytest.fixture(autouse=True)
def aws() -> Iterator[None]:
    emulation.install()
    emulation.reset()
    with mock_aws():
        yield
    emulation.reset()


@pytest.fixture
def sm() -> Any:
    return boto3.client("sagemaker", region_name=REGION, config=NO_RETRY)


@pytest.fixture
def manual() -> Iterator[emulation.ManualClock]:
    with emulation.manual_clock() as clock:
        yield clock


class Recorder:
    """A sink: each delivered event with the emulated moment it arrived, relative to the start."""

    def __init__(self, clock: emulation.ManualClock) -> None:
        self.clock = clock
        self.start = clock()
        self.got: list[tuple[float, dict[str, Any]]] = []

    def __call__(self, event: dict[str, Any]) -> None:
        self.got.append((self.clock() - self.start, event))

    def statuses(self) -> list[str]:
        return [e["detail"]["EndpointStatus"] for _, e in self.got if e["detail-type"] == events.STATE_CHANGE]


@pytest.fixture
def delivered(manual: emulation.ManualClock) -> Iterator[Recorder]:
    recorder = Recorder(manual)
    with emulation.ENDPOINT_EVENTS.deliver_to(recorder):
        yield recorder


def new_config(sm: Any, name: str, count: int = 3) -> str:
    sm.create_endpoint_config(EndpointConfigName=name, ProductionVariants=[
        {"VariantName": "AllTraffic", "ModelName": "churn-v8", "InstanceType": "ml.m5.large",
         "InitialInstanceCount": count, "InitialVariantWeight": 1.0}])
    return name


def sent(detail_type: str = events.STATE_CHANGE) -> list[events.Sent]:
    return [s for s in emulation.ENDPOINT_EVENTS.sent_for(ENDPOINT) if s.event["detail-type"] == detail_type]


def statuses_sent() -> list[str]:
    return [s.event["detail"]["EndpointStatus"] for s in sent()]


def updates(sm: Any, manual: emulation.ManualClock, count: int, seconds: float = UPDATE_SECONDS,
            gap: float = 5.0) -> None:
    """`count` successful updates of `seconds` each, one after the other, `gap` seconds apart."""
    emulation.configure_update(ENDPOINT, seconds=seconds)
    for number in range(count):
        sm.update_endpoint(EndpointName=ENDPOINT, EndpointConfigName=new_config(sm, f"churn-prod-config-u{number}"))
        manual.advance(seconds + gap)


# -- what SageMaker sends, and when ------------------------------------------------------------------------


def test_an_update_sends_updating_at_once_and_in_service_at_the_moment_it_ends_with_nobody_looking(
        sm: Any, manual: emulation.ManualClock) -> None:
    # Given an endpoint whose updates take 600 s
    create_endpoint(ENDPOINT)
    emulation.configure_update(ENDPOINT, seconds=UPDATE_SECONDS)
    new = new_config(sm, "churn-prod-config-2")
    start = manual()

    # When an update starts, and the clock passes its end without any DescribeEndpoint
    sm.update_endpoint(EndpointName=ENDPOINT, EndpointConfigName=new)
    manual.advance(UPDATE_SECONDS + 100)

    # Then UPDATING went out at the call and IN_SERVICE (on the new config) at the update's end, not later
    changes = sent()[-2:]
    assert [(c.event["detail"]["EndpointStatus"], c.at - start) for c in changes] == [
        ("UPDATING", 0.0), ("IN_SERVICE", UPDATE_SECONDS)]
    assert changes[-1].event["detail"]["EndpointConfigName"] == new


def test_an_endpoint_state_change_has_the_shape_of_the_documented_sample(sm: Any,
                                                                         manual: emulation.ManualClock) -> None:
    # Given an endpoint created with tags, and a failed update (which has a FailureReason in DescribeEndpoint)
    config = create_endpoint("churn-untagged")
    sm.create_endpoint(EndpointName=ENDPOINT, EndpointConfigName=config, Tags=[{"Key": "team", "Value": "churn"}])
    emulation.configure_update(ENDPOINT, seconds=10, outcome="fail", failure_reason="health check")
    sm.update_endpoint(EndpointName=ENDPOINT, EndpointConfigName=new_config(sm, "churn-prod-config-2"))

    # When it ends
    manual.advance(10)
    event = sent()[-1].event

    # Then the event is the page's sample: EventBridge's envelope, the status in upper snake case, dates in
    # epoch milliseconds, tags as a map, and no FailureReason
    described = sm.describe_endpoint(EndpointName=ENDPOINT)
    assert set(event) == {"version", "id", "detail-type", "source", "account", "time", "region", "resources",
                          "detail"}
    assert (event["source"], event["detail-type"], event["region"]) == ("aws.sagemaker", events.STATE_CHANGE, REGION)
    assert event["resources"] == [described["EndpointArn"]]
    assert dt.datetime.strptime(event["time"], "%Y-%m-%dT%H:%M:%SZ")
    assert event["detail"] == {
        "EndpointName": ENDPOINT, "EndpointArn": described["EndpointArn"],
        "EndpointConfigName": config,
        "ProductionVariants": [{"VariantName": "AllTraffic", "CurrentWeight": 1.0, "DesiredWeight": 1.0,
                                "CurrentInstanceCount": 2, "DesiredInstanceCount": 2}],
        "EndpointStatus": "FAILED",
        "CreationTime": int(described["CreationTime"].timestamp() * 1000),
        "LastModifiedTime": int(described["LastModifiedTime"].timestamp() * 1000),
        "Tags": {"team": "churn"},
    }
    assert "FailureReason" not in event["detail"] and described["FailureReason"] == "health check"


@pytest.mark.parametrize(("outcome", "last", "config"), [
    ("succeed", "IN_SERVICE", "churn-prod-config-2"),
    ("rollback", "IN_SERVICE", "churn-prod-config-1"),
    ("silent_rollback", "IN_SERVICE", "churn-prod-config-1"),
    ("fail", "FAILED", "churn-prod-config-1"),
    ("rollback_failed", "UPDATE_ROLLBACK_FAILED", "churn-prod-config-1"),
])
def test_each_outcome_of_an_update_ends_with_its_status_and_the_config_that_serves(
        sm: Any, manual: emulation.ManualClock, outcome: str, last: str, config: str) -> None:
    create_endpoint(ENDPOINT)
    emulation.configure_update(ENDPOINT, seconds=30, outcome=outcome)

    sm.update_endpoint(EndpointName=ENDPOINT, EndpointConfigName=new_config(sm, "churn-prod-config-2"))
    manual.advance(30)

    assert statuses_sent() == ["CREATING", "IN_SERVICE", "UPDATING", last]
    # an event announcing InService on the OLD config is what a rollback looks like: only the name tells
    assert sent()[-1].event["detail"]["EndpointConfigName"] == config


def test_a_stuck_update_sends_updating_and_nothing_more(sm: Any, manual: emulation.ManualClock) -> None:
    create_endpoint(ENDPOINT)
    emulation.configure_update(ENDPOINT, outcome="stuck")

    sm.update_endpoint(EndpointName=ENDPOINT, EndpointConfigName=new_config(sm, "churn-prod-config-2"))
    manual.advance(86_400)

    assert statuses_sent() == ["CREATING", "IN_SERVICE", "UPDATING"]


def test_a_guarded_update_also_sends_the_deployment_state_changes_at_its_start_and_end(
        sm: Any, manual: emulation.ManualClock) -> None:
    # Given a blue/green canary update of 300 s
    create_endpoint(ENDPOINT)
    emulation.configure_update(ENDPOINT, seconds=300)
    deployment = {"BlueGreenUpdatePolicy": {"TrafficRoutingConfiguration": {
        "Type": "CANARY", "CanarySize": {"Type": "INSTANCE_COUNT", "Value": 1}, "WaitIntervalInSeconds": 60}}}
    start = manual()

    # When it runs to its end
    sm.update_endpoint(EndpointName=ENDPOINT, EndpointConfigName=new_config(sm, "churn-prod-config-2", count=3),
                       DeploymentConfig=deployment)
    manual.advance(300)

    # Then a deployment event announced its target config (each new variant Creating) at the start, and one the
    # endpoint as it ended
    first, last = sent(events.DEPLOYMENT_STATE_CHANGE)
    assert (first.at - start, last.at - start) == (0.0, 300.0)
    summary = first.event["detail"]["PendingDeploymentSummary"]
    assert summary["EndpointConfigName"] == "churn-prod-config-2"
    (variant,) = summary["ProductionVariants"]
    assert (variant["VariantName"], variant["DesiredInstanceCount"]) == ("AllTraffic", 3)
    assert [(s["Status"], s["StatusMessage"]) for s in variant["VariantStatus"]] == [
        ("Creating", "Launching 3 instance(s).")]
    assert first.event["detail"]["EndpointStatus"] == "UPDATING"
    assert (last.event["detail"]["EndpointStatus"], last.event["detail"]["EndpointConfigName"]) == (
        "IN_SERVICE", "churn-prod-config-2")
    assert "PendingDeploymentSummary" not in last.event["detail"]


def test_an_update_without_guardrails_sends_no_deployment_state_change(sm: Any, manual: emulation.ManualClock) -> None:
    create_endpoint(ENDPOINT)
    sm.update_endpoint(EndpointName=ENDPOINT, EndpointConfigName=new_config(sm, "churn-prod-config-2"))
    manual.advance(UPDATE_SECONDS)

    assert sent(events.DEPLOYMENT_STATE_CHANGE) == []


@pytest.mark.parametrize(("outcome", "after"), [("succeed", ["IN_SERVICE"]),
                                                ("rollback", ["ROLLING_BACK", "IN_SERVICE"])])
def test_a_capacity_change_sends_updating_its_scaling_out_then_how_it_ended(
        sm: Any, manual: emulation.ManualClock, outcome: str, after: list[str]) -> None:
    # Given an endpoint whose capacity changes take 120 s
    create_endpoint(ENDPOINT, (VariantSpec(count=2),))
    emulation.configure_capacity_change(ENDPOINT, seconds=120, outcome=outcome)
    start = manual()

    # When one variant's count is raised to 3
    sm.update_endpoint_weights_and_capacities(EndpointName=ENDPOINT, DesiredWeightsAndCapacities=[
        {"VariantName": "AllTraffic", "DesiredInstanceCount": 3}])
    manual.advance(120)

    # Then UPDATING at once, with a deployment event saying the variant scales out to 3, then the end at 120 s
    changes = sent()[2:]
    assert [(c.event["detail"]["EndpointStatus"], c.at - start) for c in changes] == [
        ("UPDATING", 0.0)] + [(status, 120.0) for status in after]
    (deployment,) = sent(events.DEPLOYMENT_STATE_CHANGE)
    (variant,) = deployment.event["detail"]["ProductionVariants"]
    assert (variant["CurrentInstanceCount"], variant["DesiredInstanceCount"]) == (2, 3)
    assert [(s["Status"], s["StatusMessage"]) for s in variant["VariantStatus"]] == [
        ("Updating", "Scaling out desired instance count to 3.")]
    final = changes[-1].event["detail"]["ProductionVariants"][0]["CurrentInstanceCount"]
    assert final == (3 if outcome == "succeed" else 2)


def test_a_forced_status_sends_its_change_and_the_same_status_again_sends_nothing(
        sm: Any, manual: emulation.ManualClock) -> None:
    create_endpoint(ENDPOINT)

    emulation.set_endpoint_status(ENDPOINT, "SystemUpdating")
    emulation.set_endpoint_status(ENDPOINT, "SystemUpdating")
    emulation.set_endpoint_status(ENDPOINT, "InService")

    assert statuses_sent() == ["CREATING", "IN_SERVICE", "SYSTEM_UPDATING", "IN_SERVICE"]


def test_upper_snake_case_for_every_documented_status() -> None:
    assert {s: events.upper_snake(s) for s in emulation.ENDPOINT_STATUSES} == {
        "OutOfService": "OUT_OF_SERVICE", "Creating": "CREATING", "Updating": "UPDATING",
        "SystemUpdating": "SYSTEM_UPDATING", "RollingBack": "ROLLING_BACK", "InService": "IN_SERVICE",
        "Deleting": "DELETING", "Failed": "FAILED", "UpdateRollbackFailed": "UPDATE_ROLLBACK_FAILED"}


# -- the switches of the delivery ----------------------------------------------------------------------------


def test_by_default_every_event_arrives_once_within_the_near_real_time_delay_in_order_when_apart(
        sm: Any, manual: emulation.ManualClock, delivered: Recorder) -> None:
    create_endpoint(ENDPOINT)
    manual.advance(10)
    updates(sm, manual, 3)
    manual.advance(10)

    low, high = events.DEFAULT_DELAY_SECONDS
    deliveries = emulation.ENDPOINT_EVENTS.delivered
    assert len(deliveries) == 8 and all(low <= d.delay <= high for d in deliveries)
    assert sorted(d.event["id"] for d in deliveries) == sorted(s.event["id"] for s in emulation.ENDPOINT_EVENTS.sent)
    # CREATING and IN_SERVICE are sent at one moment, and may arrive either way round (nothing orders them);
    # events sent seconds apart arrive in the order they were sent
    assert delivered.statuses()[2:] == ["UPDATING", "IN_SERVICE"] * 3
    assert sorted(delivered.statuses()[:2]) == ["CREATING", "IN_SERVICE"]


def test_delivery_off_sends_the_events_but_delivers_none(sm: Any, manual: emulation.ManualClock,
                                                         delivered: Recorder) -> None:
    emulation.configure_endpoint_events(delivery=False)
    create_endpoint(ENDPOINT)
    updates(sm, manual, 2)
    manual.advance(10)

    assert delivered.got == []
    assert [s.fate for s in emulation.ENDPOINT_EVENTS.sent] == ["undelivered"] * 6


def test_a_fixed_delay_delivers_each_event_exactly_that_long_after_its_change(
        sm: Any, manual: emulation.ManualClock, delivered: Recorder) -> None:
    emulation.configure_endpoint_events(delay=7.5)
    create_endpoint(ENDPOINT)
    updates(sm, manual, 2, seconds=100)
    manual.advance(10)

    assert [at for at, _ in delivered.got] == [7.5, 7.5, 7.5, 107.5, 112.5, 212.5]
    assert {d.delay for d in emulation.ENDPOINT_EVENTS.delivered} == {7.5}


def test_a_delay_range_stays_in_its_range_and_spreads_over_it(sm: Any, manual: emulation.ManualClock,
                                                              delivered: Recorder) -> None:
    emulation.configure_endpoint_events(delay=(2.0, 30.0), seed=3)
    create_endpoint(ENDPOINT)
    updates(sm, manual, 20, seconds=100)
    manual.advance(60)

    delays = [d.delay for d in emulation.ENDPOINT_EVENTS.delivered]
    assert len(delays) == 42 and all(2.0 <= d <= 30.0 for d in delays)
    assert min(delays) < 8 and max(delays) > 24


@pytest.mark.parametrize("loss", [0.0, 0.3, 1.0])
def test_loss_drops_that_share_of_the_events_and_delivers_the_others_once(
        sm: Any, manual: emulation.ManualClock, delivered: Recorder, loss: float) -> None:
    emulation.configure_endpoint_events(loss=loss, seed=11)
    create_endpoint(ENDPOINT)
    updates(sm, manual, 50)
    manual.advance(10)

    fates = [s.fate for s in emulation.ENDPOINT_EVENTS.sent]
    lost = fates.count("lost")
    assert len(fates) == 102
    assert len(delivered.got) == 102 - lost
    assert fates.count("delivered") == 102 - lost
    assert {0.0: lost == 0, 0.3: 20 <= lost <= 42, 1.0: lost == 102}[loss]
    delivered_ids = [e["id"] for _, e in delivered.got]
    assert len(set(delivered_ids)) == len(delivered_ids)


def test_duplication_delivers_that_share_of_the_events_twice_each_copy_with_its_own_delay(
        sm: Any, manual: emulation.ManualClock, delivered: Recorder) -> None:
    emulation.configure_endpoint_events(duplication=0.5, seed=5)
    create_endpoint(ENDPOINT)
    updates(sm, manual, 50)
    manual.advance(10)

    duplicated = {s.event["id"] for s in emulation.ENDPOINT_EVENTS.sent if s.fate == "duplicated"}
    copies = [d for d in emulation.ENDPOINT_EVENTS.delivered if d.event["id"] in duplicated]
    assert 30 <= len(duplicated) <= 72
    assert len(delivered.got) == 102 + len(duplicated)
    assert len(copies) == 2 * len(duplicated)
    assert sorted(d.copy for d in copies) == [0] * len(duplicated) + [1] * len(duplicated)


def test_every_event_duplicated(sm: Any, manual: emulation.ManualClock, delivered: Recorder) -> None:
    emulation.configure_endpoint_events(duplication=1.0)
    create_endpoint(ENDPOINT)
    updates(sm, manual, 1)
    manual.advance(10)

    assert sorted(delivered.statuses()) == sorted(["CREATING", "IN_SERVICE", "UPDATING", "IN_SERVICE"] * 2)


def test_reordering_delivers_a_later_event_before_an_earlier_one(sm: Any, manual: emulation.ManualClock,
                                                                 delivered: Recorder) -> None:
    # Given the first event of an update held back (fixed 1 s delays)
    create_endpoint(ENDPOINT)
    manual.advance(10)
    emulation.configure_endpoint_events(reordering=1.0, delay=1.0, reorder_window=3600)
    emulation.configure_update(ENDPOINT, seconds=UPDATE_SECONDS)
    start = manual()

    # When the update starts (UPDATING, held), then, before it ends, the switch is off for the rest
    sm.update_endpoint(EndpointName=ENDPOINT, EndpointConfigName=new_config(sm, "churn-prod-config-2"))
    manual.advance(100)
    emulation.ENDPOINT_EVENTS.switches = events.Switches(delay=1.0)
    manual.advance(UPDATE_SECONDS)

    # Then the update's end (IN_SERVICE) arrives first, and UPDATING right after it
    assert delivered.statuses()[-2:] == ["IN_SERVICE", "UPDATING"]
    assert [round(at - (start - delivered.start), 6) for at, _ in delivered.got[-2:]] == [
        UPDATE_SECONDS + 1.0, UPDATE_SECONDS + 1.0 + 1.0]
    assert [d.reordered for d in emulation.ENDPOINT_EVENTS.delivered[-2:]] == [False, True]


def test_a_held_event_with_no_later_one_goes_after_the_window(sm: Any, manual: emulation.ManualClock,
                                                              delivered: Recorder) -> None:
    create_endpoint(ENDPOINT)
    manual.advance(10)
    emulation.configure_endpoint_events(reordering=1.0, delay=1.0, reorder_window=45)
    start = manual()

    emulation.set_endpoint_status(ENDPOINT, "SystemUpdating")
    manual.advance(100)

    assert [(s, round(at - (start - delivered.start), 6)) for s, (at, _) in
            zip(delivered.statuses(), delivered.got, strict=True)][-1] == ("SYSTEM_UPDATING", 46.0)


def test_partial_reordering_swaps_some_pairs_and_delivers_everything(sm: Any, manual: emulation.ManualClock,
                                                                      delivered: Recorder) -> None:
    emulation.configure_endpoint_events(reordering=0.2, seed=2, reorder_window=30)
    create_endpoint(ENDPOINT)
    updates(sm, manual, 50)
    manual.advance(60)

    sent_order = [s.event["id"] for s in emulation.ENDPOINT_EVENTS.sent]
    got_order = [e["id"] for _, e in delivered.got]
    reordered = [d for d in emulation.ENDPOINT_EVENTS.delivered if d.reordered]
    assert sorted(got_order) == sorted(sent_order)
    assert 5 <= len(reordered) <= 40
    # each one held back arrives after an event SageMaker sent later
    for held in reordered:
        position = got_order.index(held.event["id"])
        assert any(sent_order.index(other) > sent_order.index(held.event["id"]) for other in got_order[:position])


def test_the_same_seed_gives_the_same_stream_and_another_seed_another(sm: Any, manual: emulation.ManualClock,
                                                                       delivered: Recorder) -> None:
    def stream(seed: int, number: int) -> list[tuple[str, str, float]]:
        emulation.ENDPOINT_EVENTS.delivered.clear()
        emulation.configure_endpoint_events(loss=0.2, duplication=0.2, reordering=0.2, seed=seed)
        emulation.configure_update(ENDPOINT, seconds=60)
        for step in range(20):
            sm.update_endpoint(EndpointName=ENDPOINT,
                               EndpointConfigName=new_config(sm, f"churn-prod-config-s{number}-{step}"))
            manual.advance(60)
        manual.advance(120)
        return [(d.event["detail"]["EndpointStatus"], d.event["detail"]["EndpointConfigName"][-4:],
                 round(d.delay, 6)) for d in emulation.ENDPOINT_EVENTS.delivered]

    create_endpoint(ENDPOINT)
    manual.advance(10)
    first, again, other = stream(7, 1), stream(7, 2), stream(8, 3)

    assert [x[0] for x in first] == [x[0] for x in again] and [x[2] for x in first] == [x[2] for x in again]
    assert [x[2] for x in first] != [x[2] for x in other]


@pytest.mark.parametrize(("switches", "message"), [
    ({"loss": 1.5}, "loss must be a share from 0 to 1"),
    ({"duplication": -0.1}, "duplication must be a share from 0 to 1"),
    ({"reordering": "often"}, "reordering must be a share from 0 to 1"),
    ({"delay": -1}, r"delay must be seconds >= 0 or a \(low, high\) range"),
    ({"delay": (3, 1)}, r"delay must be seconds >= 0 or a \(low, high\) range"),
    ({"delivery": "yes"}, "delivery must be True or False"),
    ({"lost": 0.1}, r"unknown switch\(es\) \['lost'\]; the switches are \['delay', 'delivery'"),
])
def test_a_bad_switch_is_refused_naming_it_and_what_it_allows_and_nothing_changes(
        switches: dict[str, Any], message: str) -> None:
    before = emulation.ENDPOINT_EVENTS.switches
    with pytest.raises(ValueError, match=message):
        emulation.configure_endpoint_events(**switches)
    assert emulation.ENDPOINT_EVENTS.switches == before


def test_without_a_timer_service_events_are_sent_but_not_delivered(sm: Any) -> None:
    # Given no clock with timers (plain real time, as in the emulator's other tests) but a sink
    got: list[dict[str, Any]] = []
    with emulation.ENDPOINT_EVENTS.deliver_to(got.append):
        create_endpoint(ENDPOINT)
    # Then the changes are recorded as sent, and nothing is delivered (no moment to deliver them at)
    assert statuses_sent() == ["CREATING", "IN_SERVICE"] and got == []
