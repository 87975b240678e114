"""`python -m bench`: run every benchmark, print the table, write bench/results/bench.json and the plot."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import logging
import os
import platform
import sys
import time
from pathlib import Path
from typing import Any

from bench import coldstart, concurrency, package, plot, polling, pricing, rollout, update
from bench import events as event_bench
from endpoint_updater.offline import throttling

RESULTS = Path(__file__).resolve().parent / "results"
GOAL_COLD_START_RATIO = 1.5
GOAL_TRANSITIONS_WITHOUT_POLLS = 40
GOAL_TRANSITIONS_PER_POLL = 3
GOAL_FAILURES_AT_50 = 0
GOAL_ROLLOUT_FAILURES = 0
TYPICAL_UPDATE_MINUTES = (10, 30, 60)
# Issue 13's goals, for updates of 3 to 60 minutes.
GOAL_EVENT_MEAN_DELAY = 2.0
GOAL_EVENT_P99_DELAY = 5.0
GOAL_EVENT_TRANSITIONS_AT_60 = 30
GOAL_EVENT_COST_RATIO_AT_60 = 5.0


def _goal(name: str, met: bool, measured: str, target: str, margin: str) -> dict[str, Any]:
    return {"goal": name, "met": met, "measured": measured, "target": target, "margin": margin}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--runs", type=int, default=15, help="cold-start samples per function (median)")
    parser.add_argument("--sizes", type=int, nargs="*", default=list(concurrency.SIZES),
                        help="concurrent executions per run")
    parser.add_argument("--event-samples", type=int, default=20,
                        help="updates per scenario of the events section (polling, delivered, lost)")
    parser.add_argument("--faulty-updates", type=int, default=event_bench.FAULTY_UPDATES,
                        help="updates under the faulty delivery (10%% lost, duplicated, reordered)")
    parser.add_argument("--rollout-endpoints", type=int, default=rollout.ENDPOINTS,
                        help="endpoints in the fleet rollout (0: skip it)")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    # The functions' metrics are CloudWatch embedded-metric lines on stdout; they would interleave with the table.
    os.environ.setdefault("POWERTOOLS_METRICS_DISABLED", "true")
    os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
    logging.getLogger("moto.stepfunctions.parser").setLevel(logging.CRITICAL)
    started = time.perf_counter()

    from infra import settings

    say("one update in the local runner ...")
    one, clients = update.run_one_update()
    say("cold starts ...")
    cold = coldstart.measure(clients, runs=args.runs, sdk=coldstart.sdk_layer_path())
    functions_cold = [c for c in cold if c.function != coldstart.BARE]
    cold_total = sum(c.median_seconds for c in functions_cold)
    cost = update.price(one, settings.MEMORY_MB, cold_total)
    say("package sizes ...")
    sizes = package.measure()
    say("polling simulation ...")
    durations = polling.simulated_durations()
    default = polling.choose_default(durations)
    typical = {minutes: update.price(one, settings.MEMORY_MB, cold_total,
                                     polls=polling.detect(default, minutes * 60).polls).to_dict()
               for minutes in TYPICAL_UPDATE_MINUTES}
    from endpoint_updater.core.request import DEFAULT_INITIAL_POLL_DELAY_SECONDS, DEFAULT_POLL_INTERVAL_SECONDS
    configured = polling.Policy(
        f"project default ({DEFAULT_INITIAL_POLL_DELAY_SECONDS} s, then every {DEFAULT_POLL_INTERVAL_SECONDS} s)",
        DEFAULT_INITIAL_POLL_DELAY_SECONDS, DEFAULT_POLL_INTERVAL_SECONDS)
    policies = [polling.BOTO3_WAITER, polling.PREVIOUS_DEFAULT, configured]
    common = polling.noticed_by_all(policies, durations)
    summaries = [polling.summarize(p, durations, common) for p in policies]
    plot_path = args.out / "polling.png"
    plot.draw(policies, durations, plot_path)
    say(f"events: {3 * args.event_samples} updates (polling, delivered, lost), {args.faulty_updates} under a "
        "faulty delivery ...")
    measured = event_bench.measure(args.event_samples, args.faulty_updates)
    event_plot = args.out / "events.png"
    plot.draw_events([(scenario.name, [(s.duration, s.detection_delay) for s in measured.samples[scenario.name]
                                       if s.detection_delay is not None])
                      for scenario in (event_bench.POLLING, event_bench.EVENTS, event_bench.LOST)],
                     measured.safety_seconds, event_plot)
    runs = []
    for size in args.sizes:
        say(f"{size} concurrent update(s) ...")
        runs.append(concurrency.run(size))

    fleet = None
    if args.rollout_endpoints:
        say(f"a rollout of {args.rollout_endpoints} endpoints ...")
        fleet = rollout.run(args.rollout_endpoints, memory_mb=settings.MEMORY_MB)

    waiter, _, ours = summaries
    worst = max(functions_cold, key=lambda c: c.ratio_to_bare)
    at_50 = next((r for r in runs if r.executions == 50), None)
    goals = [
        _goal("cold start <= 1.5 x bare boto3 handler", worst.ratio_to_bare <= GOAL_COLD_START_RATIO,
              f"worst {worst.function} {worst.ratio_to_bare:.2f}x", f"<= {GOAL_COLD_START_RATIO}x",
              f"{GOAL_COLD_START_RATIO - worst.ratio_to_bare:+.2f}x headroom"),
        _goal("happy path without polling <= 40 transitions",
              one.transitions_without_polls <= GOAL_TRANSITIONS_WITHOUT_POLLS,
              f"{one.transitions_without_polls}", f"<= {GOAL_TRANSITIONS_WITHOUT_POLLS}",
              f"{GOAL_TRANSITIONS_WITHOUT_POLLS - one.transitions_without_polls} to spare"),
        _goal("each poll cycle <= 3 transitions",
              one.transitions_per_poll_cycle is not None
              and one.transitions_per_poll_cycle <= GOAL_TRANSITIONS_PER_POLL,
              f"{one.transitions_per_poll_cycle}", f"<= {GOAL_TRANSITIONS_PER_POLL}",
              "measured between successive CheckUpdate entries"),
        _goal("default notices no later than the 30 s waiter, at no more polls (means over 3-60 min)",
              ours.mean_delay <= waiter.mean_delay and ours.mean_polls <= waiter.mean_polls,
              f"delay {ours.mean_delay:.1f} s vs {waiter.mean_delay:.1f} s; polls {ours.mean_polls:.1f} vs "
              f"{waiter.mean_polls:.1f}", "delay <= waiter's, polls <= waiter's",
              f"{waiter.mean_delay - ours.mean_delay:.1f} s earlier, {waiter.mean_polls - ours.mean_polls:.1f} "
              "fewer polls"),
        _goal("50 concurrent updates, zero failures", at_50 is not None and at_50.failures == GOAL_FAILURES_AT_50,
              "not run" if at_50 is None else f"{at_50.failures} failures", "0",
              "" if at_50 is None else f"{at_50.succeeded}/50 succeeded"),
        _goal(f"a rollout of {rollout.ENDPOINTS} endpoints under throttling, zero failures",
              fleet is not None and fleet.endpoints == rollout.ENDPOINTS and fleet.failures == GOAL_ROLLOUT_FAILURES,
              "not run" if fleet is None else f"{fleet.failures} failures of {fleet.endpoints}", "0",
              "" if fleet is None else f"{fleet.throttled_answers} throttled answers absorbed by retries"),
    ]
    goals += event_goals(measured)
    results = {
        "generated": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": {"cores": os.cpu_count(), "python": sys.version.split()[0], "platform": platform.platform()},
        "bench_seconds": round(time.perf_counter() - started, 1),
        "cold_start": [c.to_dict() for c in cold],
        "package": [s.to_dict() for s in sizes],
        "one_update": one.to_dict(),
        "cost": cost.to_dict(),
        "cost_by_update_minutes_at_default_polling": typical,
        "prices": {"step_functions_standard_per_transition": pricing.STEP_FUNCTIONS_STANDARD_PER_TRANSITION,
                   "lambda_per_request": pricing.LAMBDA_PER_REQUEST,
                   "lambda_arm64_per_gb_second": pricing.LAMBDA_ARM64_PER_GB_SECOND,
                   "assumed_seconds_per_aws_call": pricing.AWS_CALL_SECONDS, "as_of": pricing.PRICES_AS_OF},
        "polling": {
            "durations_seconds": [durations[0], durations[-1]],
            "chosen_by_simulation": {"initial_delay": default.initial_delay, "interval": default.interval},
            "configured_default": {"initial_delay": configured.initial_delay, "interval": configured.interval},
            "policies": [{"policy": s.policy.name, "initial_delay": s.policy.initial_delay,
                          "interval": s.policy.interval, "mean_delay_seconds": s.mean_delay,
                          "max_delay_seconds": s.max_delay, "mean_polls": s.mean_polls,
                          "mean_transitions": s.mean_transitions, "durations_given_up": s.gave_up}
                         for s in summaries],
            "plot": str(plot_path.relative_to(Path.cwd()) if plot_path.is_relative_to(Path.cwd()) else plot_path),
        },
        "events": {
            "safety_interval_seconds": measured.safety_seconds,
            "delay_seconds": list(event_bench.emulation.events.DEFAULT_DELAY_SECONDS),
            "faulty_delivery": event_bench.FAULTY,
            "summaries": [s.to_dict() for s in measured.summaries],
            "samples": {name: [s.to_dict() for s in samples] for name, samples in measured.samples.items()},
            "plot": str(event_plot.relative_to(Path.cwd()) if event_plot.is_relative_to(Path.cwd()) else event_plot),
        },
        "concurrency": {"throttling": {"rate_per_second": throttling.DEFAULT_RATE_PER_SECOND,
                                       "burst": throttling.DEFAULT_BURST,
                                       "services": sorted(throttling.THROTTLED_SERVICES),
                                       "operations": throttling.THROTTLED_PREFIX + "*"},
                        "update_seconds": concurrency.UPDATE_SECONDS, "request": concurrency.REQUEST,
                        "runs": [r.to_dict() for r in runs]},
        "rollout": None if fleet is None else {**fleet.to_dict(), "change": rollout.CHANGE,
                                               "update_seconds": rollout.UPDATE_SECONDS},
        "goals": goals,
    }
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "bench.json").write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    print(render(results, default))
    if default.initial_delay != configured.initial_delay or default.interval != configured.interval:
        print(f"\nNOTE: the simulation now chooses {default.initial_delay} s then every {default.interval} s; "
              "endpoint_updater/core/request.py has other defaults.")
    return 0 if all(g["met"] for g in goals) else 1


def event_goals(measured: event_bench.Measured) -> list[dict[str, Any]]:
    polled = measured.summary(event_bench.POLLING)
    delivered = measured.summary(event_bench.EVENTS)
    lost = measured.summary(event_bench.LOST)
    mixed = measured.summary(event_bench.MIXED)
    safety = measured.safety_seconds
    wait_at_60 = delivered.wait_transitions_at_60_min
    ratio = polled.cost_at_60_min / delivered.cost_at_60_min
    return [
        _goal("events delivered: mean detection delay <= 2 s", delivered.mean_delay <= GOAL_EVENT_MEAN_DELAY,
              f"{delivered.mean_delay:.2f} s (polling {polled.mean_delay:.1f} s)", f"<= {GOAL_EVENT_MEAN_DELAY} s",
              f"{GOAL_EVENT_MEAN_DELAY - delivered.mean_delay:+.2f} s"),
        _goal("events delivered: p99 detection delay <= 5 s", delivered.p99_delay <= GOAL_EVENT_P99_DELAY,
              f"{delivered.p99_delay:.2f} s", f"<= {GOAL_EVENT_P99_DELAY} s",
              f"{GOAL_EVENT_P99_DELAY - delivered.p99_delay:+.2f} s"),
        _goal("events delivered: waiting transitions of a 60-minute update <= 30",
              wait_at_60 <= GOAL_EVENT_TRANSITIONS_AT_60,
              f"{wait_at_60:.0f} waiting ({delivered.transitions_at_60_min:.0f} in all; polling "
              f"{polled.wait_transitions_at_60_min:.0f} waiting)", f"<= {GOAL_EVENT_TRANSITIONS_AT_60}",
              f"{GOAL_EVENT_TRANSITIONS_AT_60 - wait_at_60:.0f} to spare"),
        _goal("cost of a 60-minute update drops >= 5x", ratio >= GOAL_EVENT_COST_RATIO_AT_60,
              f"${polled.cost_at_60_min:.6f} -> ${delivered.cost_at_60_min:.6f} ({ratio:.1f}x)",
              f">= {GOAL_EVENT_COST_RATIO_AT_60:.0f}x", f"{ratio - GOAL_EVENT_COST_RATIO_AT_60:+.1f}x"),
        _goal("events 100% lost: delay within the safety interval, 0 failed updates",
              lost.max_delay <= safety + event_bench.CHECK_ALLOWANCE_SECONDS and lost.wrong_outcomes == 0,
              f"max {lost.max_delay:.0f} s, {lost.wrong_outcomes} failed of {lost.updates}",
              f"<= {safety} s (+{event_bench.CHECK_ALLOWANCE_SECONDS:.0f} s for the check), 0",
              f"{safety - lost.max_delay:+.0f} s"),
        _goal(f"{mixed.updates} updates, 10% lost + 10% duplicated + reordered: 0 wrong outcomes",
              mixed.wrong_outcomes == 0, f"{mixed.wrong_outcomes} wrong of {mixed.updates}", "0",
              f"max delay {mixed.max_delay:.0f} s"),
    ]


def say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _table(headers: list[str], rows: list[list[Any]]) -> str:
    cells = [headers, *[[str(c) for c in row] for row in rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def render(results: dict[str, Any], default: polling.Policy) -> str:
    out = [f"endpoint-updater bench, {results['generated']}, {results['machine']['cores']} cores, "
           f"Python {results['machine']['python']}", ""]
    sizes = {s["function"]: s for s in results["package"]}
    cold_by_function = {c["function"]: c for c in results["cold_start"]}
    names = [*cold_by_function, *(name for name in sizes if name not in cold_by_function)]
    any_size = next(iter(sizes.values()))
    out.append("1. Cold start (median of fresh interpreters; the functions import the SDK from its layer) and "
               "deployment package")
    out.append(f"   SDK layer, shared by every function: {any_size['sdk_layer_bytes'] / 2**20:.1f} MiB "
               f"({any_size['sdk_layer_zip_bytes'] / 2**20:.1f} MiB zipped); Powertools layer, AWS's, not "
               f"bundled: {any_size['layer_bytes'] / 2**20:.1f} MiB")

    def row(name: str) -> list[str]:
        c, size = cold_by_function.get(name), sizes.get(name)
        timing = ([",".join(c["clients"]), f"{c['median_seconds'] * 1000:.0f} ms", f"{c['ratio_to_bare']:.2f}",
                   f"{c['median_cpu_seconds'] * 1000:.0f} ms", f"{c['cpu_ratio_to_bare']:.2f}"]
                  if c is not None else ["(not invoked in the update run)", "-", "-", "-", "-"])
        package = ([f"{size['own_bytes'] / 1024:.1f} KiB", f"{size['zip_bytes'] / 1024:.1f} KiB",
                    f"{size['deployed_bytes'] / 2**20:.1f} MiB", f"{size['deployed_zip_bytes'] / 2**20:.1f} MiB"]
                   if size is not None else ["-", "-", "-", "-"])
        return [name, *timing, *package]

    out.append(_table(
        ["function", "clients", "cold start", "x bare", "cpu", "x bare", "own code", "zip", "code + SDK layer",
         "zipped"],
        [row(name) for name in names]))
    one, cost = results["one_update"], results["cost"]
    out += ["", f"2. One update in the local runner (emulated update {one['update_seconds']:.0f} s, first poll "
            f"after {update.INITIAL_POLL_DELAY_SECONDS} s, then every {update.POLL_INTERVAL_SECONDS} s)"]
    out.append(_table(["metric", "value"], [
        ["status", one["status"]],
        ["state transitions", f"{one['transitions']} ({one['transitions_without_polls']} without polling, "
                              f"{one['polls']} polls, <= {one['transitions_per_poll_cycle']} per poll cycle)"],
        ["Lambda invocations", one["lambda_invocations"]],
        ["AWS calls by the handlers", one["aws_calls"]],
        ["elapsed (emulated clock)", f"{one['elapsed_seconds']:.2f} s"],
        ["overhead (elapsed - emulated busy)", f"{one['overhead_seconds']:.2f} s"],
        ["Step Functions Standard", f"${cost['step_functions']:.6f}"],
        [f"Lambda (requests + {cost['gb_seconds']:.2f} GB-s at {cost['memory_mb']} MB)",
         f"${cost['lambda_requests'] + cost['lambda_duration']:.6f}"],
        ["total, this run", f"${cost['total']:.6f}"],
        *[[f"total, a {minutes} min update at the default polling",
           f"${priced['total']:.6f} ({priced['step_functions'] / priced['total']:.0%} Step Functions)"]
          for minutes, priced in results["cost_by_update_minutes_at_default_polling"].items()],
    ]))
    poll = results["polling"]
    out += ["", f"3. Noticing completion, updates of {poll['durations_seconds'][0] // 60} to "
            f"{poll['durations_seconds'][1] // 60} min (every second); simulation's choice: "
            f"{default.initial_delay} s, then every {default.interval} s"]
    out.append(_table(["policy", "mean delay", "max delay", "mean polls", "mean transitions", "gives up"], [
        [p["policy"], f"{p['mean_delay_seconds']:.1f} s", f"{p['max_delay_seconds']} s", f"{p['mean_polls']:.1f}",
         f"{p['mean_transitions']:.1f}", p["durations_given_up"]] for p in poll["policies"]]))
    out.append(f"plot: {poll['plot']}")
    conc = results["concurrency"]
    thr = conc["throttling"]
    out += ["", f"4. Concurrent updates, Describe* throttled at {thr['rate_per_second']:g}/s (burst "
            f"{thr['burst']:g}) per service"]
    out.append(_table(["executions", "elapsed (emulated)", "succeeded", "failures", "throttled answers", "task retries",
                       "transitions (+retries)"], [
        [r["executions"], f"{r['elapsed_seconds']:.1f} s", r["succeeded"], r["failures"], r["throttled_answers"],
         r["lambda_errors_retried"], r["transitions"] + r["lambda_errors_retried"]] for r in conc["runs"]]))
    ev = results["events"]
    out += ["", f"5. Noticing completion with SageMaker's events (safety interval {ev['safety_interval_seconds']} s; "
            f"events delivered {ev['delay_seconds'][0]:g} to {ev['delay_seconds'][1]:g} s after the change, an "
            "assumption), updates of 3 to 60 min run in the local runner"]
    out.append(_table(["scenario", "updates", "wrong", "mean delay", "p99 delay", "max delay", "transitions",
                       "waiting", "60 min: transitions", "60 min: waiting", "60 min: cost"], [
        [s["scenario"], s["updates"], s["wrong_outcomes"], f"{s['mean_delay']:.1f} s", f"{s['p99_delay']:.1f} s",
         f"{s['max_delay']:.1f} s", f"{s['mean_transitions']:.1f}", f"{s['mean_wait_transitions']:.1f}",
         f"{s['transitions_at_60_min']:.0f}", f"{s['wait_transitions_at_60_min']:.0f}",
         f"${s['cost_at_60_min']:.6f}"] for s in ev["summaries"]]))
    out.append(f"plot: {ev['plot']}")
    fleet = results.get("rollout")
    if fleet:
        out += ["", f"6. A rollout of {fleet['endpoints']} endpoints (waves {fleet['waves']}), same throttling"]
        out.append(_table(["metric", "value"], [
            ["status, outcomes", f"{fleet['status']}, {fleet['outcomes']}"],
            ["failures", fleet["failures"]],
            ["wall time (real), elapsed (emulated)",
             f"{fleet['real_seconds']:.0f} s, {fleet['emulated_seconds']:.0f} s"],
            ["state transitions per endpoint", f"{fleet['transitions_per_endpoint']} "
                                               f"({fleet['rollout_transitions_per_endpoint']} the rollout's own)"],
            ["Describe calls allowed, per emulated second", f"{fleet['describe_calls_allowed']}, "
                                                            f"{fleet['describe_calls_per_emulated_second']}"],
            ["throttled answers, task retries", f"{fleet['throttled_answers']}, {fleet['task_retries']}"],
            ["cost per endpoint: in the rollout, one update alone",
             f"${fleet['cost_per_endpoint']:.6f}, ${fleet['single_update_cost']:.6f} (the rollout adds "
             f"${fleet['cost_per_endpoint'] - fleet['single_update_cost']:.6f} per endpoint)"],
        ]))
    out += ["", "Goals"]
    out.append(_table(["goal", "met", "measured", "margin"], [
        [g["goal"], "met" if g["met"] else "MISSED", g["measured"], g["margin"]] for g in results["goals"]]))
    out.append(f"\nbench took {results['bench_seconds']:.0f} s")
    return "\n".join(out)


if __name__ == "__main__":
    sys.exit(main())
