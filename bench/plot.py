"""The plots: polling (detection delay and polls against update duration, one line per policy) and events
(detection delay against update duration: polling, events, events lost)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from bench.polling import Policy, detect


def draw(policies: Sequence[Policy], durations: Sequence[int], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    minutes = [d / 60 for d in durations]
    figure, (delay_axis, polls_axis) = plt.subplots(2, 1, figsize=(10, 8), sharex=True)
    for policy in policies:
        detections = [detect(policy, d) for d in durations]
        # The delay is a sawtooth with the poll interval's period: show its mean over each minute of durations.
        bins: dict[int, list[int]] = {}
        for found in detections:
            if found.delay is not None:
                bins.setdefault(found.duration // 60, []).append(found.delay)
        # (a minute with fewer than half its durations, such as the range's last second, is left out)
        shown = sorted((b, v) for b, v in bins.items() if len(v) >= 30)
        line, = delay_axis.plot([b + 0.5 for b, _ in shown], [sum(v) / len(v) for _, v in shown],
                                linewidth=1.4, marker=".", label=policy.name)
        known = [x for v in bins.values() for x in v]
        delay_axis.axhline(sum(known) / len(known), color=line.get_color(), linestyle="--", linewidth=1.0)
        polls_axis.plot(minutes, [x.polls for x in detections], linewidth=1.2, label=policy.name,
                        color=line.get_color())
    delay_axis.set_ylabel("seconds from completion to notice\n(mean per minute; dashed: overall mean)")
    delay_axis.set_title("Noticing that an update has finished (equal delays overlap: waiter and previous default)")
    delay_axis.legend(loc="upper right", fontsize=8)
    polls_axis.set_ylabel("DescribeEndpoint polls until noticed\n(state transitions: 3 per poll)")
    polls_axis.set_xlabel("update duration (minutes)")
    polls_axis.legend(loc="upper left", fontsize=8)
    for axis in (delay_axis, polls_axis):
        axis.grid(True, alpha=0.3)
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=110)
    plt.close(figure)


def draw_events(series: Sequence[tuple[str, Sequence[tuple[int, float]]]], safety_seconds: int, path: Path) -> None:
    """Detection delay against update duration, one line per way of learning of the end (measured samples:
    (duration in seconds, delay in seconds))."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axis = plt.subplots(1, 1, figsize=(10, 5.5))
    for name, points in series:
        ordered = sorted(points)
        line, = axis.plot([d / 60 for d, _ in ordered], [delay for _, delay in ordered], linewidth=1.2,
                          marker=".", label=name)
        mean = sum(delay for _, delay in ordered) / len(ordered)
        axis.axhline(mean, color=line.get_color(), linestyle="--", linewidth=1.0)
    axis.axhline(safety_seconds, color="grey", linestyle=":", linewidth=1.0,
                 label=f"safety interval ({safety_seconds} s)")
    axis.set_yscale("symlog", linthresh=10)
    axis.set_ylim(0, safety_seconds * 1.3)
    axis.set_ylabel("seconds from completion to notice\n(dashed: mean; log scale above 10 s)")
    axis.set_xlabel("update duration (minutes)")
    axis.set_title("Noticing that an update has finished: polling against SageMaker's events")
    axis.legend(loc="upper center", bbox_to_anchor=(0.5, -0.15), ncol=4, fontsize=8)
    axis.grid(True, alpha=0.3)
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=110)
    plt.close(figure)
