"""The polling simulation's arithmetic (bench/polling.py), and that the request's defaults are its choice."""

import pytest

from bench.polling import (
    BOTO3_WAITER,
    Policy,
    choose_default,
    detect,
    noticed_by_all,
    simulated_durations,
    summarize,
)
from endpoint_updater.core.request import DEFAULT_INITIAL_POLL_DELAY_SECONDS, DEFAULT_POLL_INTERVAL_SECONDS


def test_the_waiter_polls_at_once_then_every_30_seconds() -> None:
    # Given an update that ends 185 s after UpdateEndpoint
    found = detect(BOTO3_WAITER, 185)
    # Then the waiter's polls at 0, 30, ..., 180 see it busy and the 8th, at 210 s, sees it done
    assert (found.noticed_at, found.delay, found.polls, found.transitions) == (210, 25, 8, 24)


def test_an_update_that_ends_on_a_poll_is_noticed_by_that_poll() -> None:
    found = detect(Policy("p", initial_delay=180, interval=28), 180 + 2 * 28)
    assert (found.noticed_at, found.delay, found.polls) == (236, 0, 3)


def test_an_update_shorter_than_the_initial_delay_waits_for_the_first_poll() -> None:
    found = detect(Policy("p", initial_delay=180, interval=28), 60)
    assert (found.noticed_at, found.delay, found.polls) == (180, 120, 1)


def test_the_waiter_gives_up_after_120_attempts() -> None:
    # Its last attempt is at 119 * 30 = 3570 s: an update that ends at 3571 s is never seen
    assert detect(BOTO3_WAITER, 3570).noticed_at == 3570
    gave_up = detect(BOTO3_WAITER, 3571)
    assert (gave_up.noticed_at, gave_up.delay, gave_up.polls) == (None, None, 120)


def test_a_negative_duration_is_refused() -> None:
    with pytest.raises(ValueError, match="duration"):
        detect(BOTO3_WAITER, -1)


def test_means_are_taken_over_the_durations_every_policy_notices() -> None:
    # Given durations of 0, 10 and 20 s and a policy polling at 0, 10, 20 ...
    policy = Policy("every 10 s", initial_delay=0, interval=10)
    durations = [0, 5, 10, 3575]
    common = noticed_by_all([BOTO3_WAITER, policy], durations)
    summary = summarize(policy, durations, common)
    # Then 3575 s (missed by the waiter) is left out of the means: delays 0, 5, 0; polls 1, 2, 2
    assert common == [0, 5, 10]
    assert summary.mean_delay == pytest.approx(5 / 3)
    assert summary.max_delay == 5
    assert summary.mean_polls == pytest.approx(5 / 3)
    assert summary.mean_transitions == pytest.approx(5.0)
    assert summary.gave_up == 0
    assert summarize(BOTO3_WAITER, durations).gave_up == 1


def test_the_choice_polls_no_more_than_the_waiter_and_notices_sooner() -> None:
    durations = simulated_durations(step=5)
    chosen = choose_default(durations, initial_delays=[0, 90, 180, 600], intervals=range(20, 41))
    common = noticed_by_all([BOTO3_WAITER], durations)
    ours, waiter = summarize(chosen, durations, common), summarize(BOTO3_WAITER, durations, common)
    assert ours.mean_polls <= waiter.mean_polls
    assert ours.mean_delay <= waiter.mean_delay
    # A first delay longer than the shortest update is never chosen
    assert chosen.initial_delay <= durations[0]


def test_the_request_defaults_are_the_simulations_choice() -> None:
    # The "Polling policy" numbers of docs/benchmarks.md come from this choice; re-run `make bench` when it changes.
    chosen = choose_default(simulated_durations())
    assert (chosen.initial_delay, chosen.interval) == (DEFAULT_INITIAL_POLL_DELAY_SECONDS,
                                                       DEFAULT_POLL_INTERVAL_SECONDS)
