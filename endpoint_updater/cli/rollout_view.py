"""A rollout as people see it: its waves and endpoints, from its output when it has ended, from its history
while it runs, as a table on a terminal or one line per change in a log."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from rich.console import Group
from rich.table import Table
from rich.text import Text

from endpoint_updater.cli.render import STATUS_STYLES
from endpoint_updater.core.errors import cause_message

RUNNING = "RUNNING"
PENDING = "PENDING"
OUTCOME_STYLES = {**STATUS_STYLES, "REFUSED": "bold magenta", "SKIPPED": "dim", "NOT_STARTED": "yellow",
                  PENDING: "dim", RUNNING: "cyan"}
# The outcomes that mean an update was attempted and did not end on the new config.
FAILED_OUTCOMES = frozenset({"FAILED", "ABORTED", "TIMED_OUT"})


@dataclass
class Row:
    """One endpoint of a rollout: its wave and where its update is."""

    endpoint: str
    wave: int | None = None
    outcome: str = PENDING
    execution_arn: str | None = None
    old_config: str | None = None
    new_config: str | None = None
    error: str | None = None
    cause: str | None = None

    def line(self) -> str:
        """One line for a log that is not a terminal."""
        wave = f"wave {self.wave}" if self.wave is not None else "wave ?"
        text = f"  {wave:<8} {self.endpoint:<40} {self.outcome}"
        if self.error:
            text += f"  {self.error}: {self.cause or ''}".rstrip(": ")
        return text


@dataclass
class View:
    """The rollout's rows, in wave order, and why it stopped, if it stopped early."""

    rows: list[Row] = field(default_factory=list)
    stopped_because: str | None = None

    def row(self, endpoint: str) -> Row:
        for row in self.rows:
            if row.endpoint == endpoint:
                return row
        row = Row(endpoint)
        self.rows.append(row)
        return row

    def waves(self) -> dict[int | None, Counter[str]]:
        totals: dict[int | None, Counter[str]] = {}
        for row in self.rows:
            totals.setdefault(row.wave, Counter())[row.outcome] += 1
        return totals


def stopped_because(output: dict[str, Any]) -> str | None:
    """The output's StoppedBecause ({Reason, Wave, Message}) as one line."""
    stopped = output.get("StoppedBecause")
    if not isinstance(stopped, dict):
        return None if stopped is None else str(stopped)
    wave = f" in wave {stopped['Wave']}" if stopped.get("Wave") is not None else ""
    return f"{stopped.get('Reason')}{wave}: {stopped.get('Message')}"


def from_output(output: dict[str, Any]) -> View:
    """The view of an ended rollout (or a dry run), from its output (the rollout's report)."""
    view = View(stopped_because=stopped_because(output))
    for entry in output.get("Endpoints") or []:
        _apply(view.row(entry["EndpointName"]), entry)
    return view


def _apply(row: Row, entry: dict[str, Any]) -> None:
    """An endpoint's record of the report onto its row."""
    row.wave = entry.get("Wave")
    row.outcome = entry.get("Outcome") or PENDING
    row.execution_arn = entry.get("ExecutionArn") or row.execution_arn
    row.old_config = entry.get("OldConfigName") or row.old_config
    row.new_config = entry.get("NewConfigName") or row.new_config
    row.error = entry.get("Error") or (row.error if row.outcome == RUNNING else None)
    row.cause = cause_message(entry.get("Cause")) if entry.get("Cause") else row.cause


def _json(text: Any) -> Any:
    if not isinstance(text, str):
        return text
    try:
        return json.loads(text)
    except ValueError:
        return text


def _details(event: dict[str, Any]) -> dict[str, Any]:
    return next((value for key, value in event.items() if key.endswith("EventDetails")), {})


def latest_report(events: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The rollout's report as its last step that exited left it: the plan's (every endpoint, its wave, PENDING or
    why it is refused or skipped), then each tally's (the outcomes of the waves done)."""
    for event in reversed(events):
        if event["type"].endswith("StateExited"):
            output = _json(_details(event).get("output"))
            if isinstance(output, dict) and isinstance(output.get("Report"), dict):
                return dict(output["Report"])
    return None


def from_history(events: list[dict[str, Any]], planned: list[dict[str, Any]] | None = None) -> View:
    """The view of a running rollout: its latest report (or `planned`, {EndpointName, Wave} records), then each
    endpoint update the history shows started (a `startExecution.sync` task), RUNNING until its task ends
    SUCCEEDED or FAILED; an outcome the report has settled (a tally) stands.

    A task's events are chained by previousEventId to the TaskScheduled that names the child's input; the
    events of one Map iteration follow each other that way, so concurrent iterations do not mix (Step Functions
    API reference, HistoryEvent: previousEventId)."""
    view = View()
    report = latest_report(events)
    records = (report or {}).get("Endpoints") or planned or []
    for entry in records:
        _apply(view.row(entry["EndpointName"]), entry)
    if report is not None:
        view.stopped_because = stopped_because(report)
    by_id = {event.get("id"): event for event in events}
    scheduled: dict[Any, Row] = {}
    for event in events:
        kind, details = event["type"], _details(event)
        if kind == "TaskScheduled" and str(details.get("resource", "")).startswith("startExecution"):
            parameters = _json(details.get("parameters")) or {}
            child_input = _json(parameters.get("Input")) or {}
            endpoint = child_input.get("EndpointName") if isinstance(child_input, dict) else None
            if endpoint:
                started = view.row(str(endpoint))
                started.outcome = RUNNING
                scheduled[event.get("id")] = started
            continue
        if not kind.startswith("Task") or kind == "TaskScheduled":
            continue
        row = _scheduled_row(event, by_id, scheduled)
        if row is None:
            continue
        if kind == "TaskSubmitted":
            submitted = _json(details.get("output")) or {}
            row.execution_arn = submitted.get("ExecutionArn") if isinstance(submitted, dict) else None
        elif kind == "TaskSucceeded":
            row.outcome = "SUCCEEDED"
            _child(row, _json(details.get("output")))
        elif kind in ("TaskFailed", "TaskTimedOut", "TaskAborted"):
            row.outcome = "FAILED"
            row.error = details.get("error")
            child = _json(details.get("cause"))
            if isinstance(child, dict):
                _child(row, child)
            else:
                row.cause = cause_message(details.get("cause"))
    for entry in records:
        if entry.get("Outcome") not in (None, PENDING, "PLANNED"):
            _apply(view.row(entry["EndpointName"]), entry)
    return view


def _scheduled_row(event: dict[str, Any], by_id: dict[Any, dict[str, Any]], scheduled: dict[Any, Row]) -> Row | None:
    seen = 0
    previous = event.get("previousEventId")
    # A task's events follow its TaskScheduled within a few links; the bound keeps a broken chain cheap.
    while previous in by_id and seen < 8:
        if previous in scheduled:
            return scheduled[previous]
        previous = by_id[previous].get("previousEventId")
        seen += 1
    return None


def _child(row: Row, described: Any) -> None:
    """What the child execution's DescribeExecution says (a .sync:2 task's output, or its failure's cause)."""
    if not isinstance(described, dict):
        return
    row.execution_arn = described.get("ExecutionArn") or row.execution_arn
    if described.get("Status"):
        row.outcome = str(described["Status"])
    output = _json(described.get("Output"))
    if isinstance(output, dict):
        row.old_config = output.get("PreviousConfigName") or row.old_config
        row.new_config = output.get("NewConfigName") or row.new_config
    if described.get("Error"):
        row.error = str(described["Error"])
        row.cause = cause_message(described.get("Cause"))


def table(view: View, title: str | None = None) -> Table:
    """Waves and endpoints, with their outcome, configs and error."""
    result = Table(title=title, title_justify="left")
    for column in ("Wave", "Endpoint", "Outcome", "Config", "Error"):
        result.add_column(column, overflow="fold")
    for row in sorted(view.rows, key=lambda r: (r.wave is None, r.wave or 0)):
        config = f"{row.old_config} -> {row.new_config}" if row.new_config else (row.old_config or "")
        error = f"{row.error}: {row.cause or ''}".rstrip(": ") if row.error else ""
        result.add_row("" if row.wave is None else str(row.wave), Text(row.endpoint),
                       Text(row.outcome, style=OUTCOME_STYLES.get(row.outcome, "")), Text(config),
                       Text(error, style="red" if error else ""))
    return result


def totals(view: View) -> list[str]:
    """One line per wave: how many endpoints ended how."""
    lines = []
    for wave, counts in sorted(view.waves().items(), key=lambda item: (item[0] is None, item[0] or 0)):
        name = "no wave" if wave is None else f"wave {wave}"
        lines.append(f"{name}: " + ", ".join(f"{count} {outcome.lower()}" for outcome, count in sorted(counts.items())))
    return lines


def summary(execution: dict[str, Any]) -> Group:
    """An ended rollout: its status, the table, the totals per wave and why it stopped early."""
    state = execution["status"]
    parts: list[Any] = [Text(f"Rollout {execution['name']}: {state}", style=STATUS_STYLES.get(state, "")),
                        Text(execution["executionArn"])]
    output = execution.get("output")
    if isinstance(output, dict):
        view = from_output(output)
        parts.append(table(view))
        parts.extend(Text(line) for line in totals(view))
        if view.stopped_because:
            parts.append(Text(f"Stopped: {view.stopped_because}", style="bold yellow"))
    if execution.get("error"):
        parts.append(Text(f"{execution['error']}: {execution.get('cause') or ''}", style="red"))
    return Group(*parts)
