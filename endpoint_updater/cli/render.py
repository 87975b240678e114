"""What people see: the plan as a diff, an execution's status and its steps, with rich."""

from __future__ import annotations

import datetime as dt
import json
import re
from typing import Any

from rich.console import Console, Group
from rich.table import Table
from rich.text import Text

from endpoint_updater.cli.workflow import Step
from endpoint_updater.core.notification import requested_by

STATUS_STYLES = {"SUCCEEDED": "bold green", "FAILED": "bold red", "TIMED_OUT": "bold red", "ABORTED": "bold yellow",
                 "RUNNING": "bold cyan"}


def _flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    """Leaf values by path; variants are keyed by their VariantName, so a diff pairs the same variant."""
    if isinstance(value, dict):
        flat: dict[str, Any] = {}
        for key, item in value.items():
            flat.update(_flatten(item, f"{prefix}.{key}" if prefix else str(key)))
        return flat or {prefix: {}}
    if isinstance(value, list) and value and all(isinstance(v, dict) and "VariantName" in v for v in value):
        flat = {}
        for item in value:
            flat.update(_flatten({k: v for k, v in item.items() if k != "VariantName"},
                                 f"{prefix}[{item['VariantName']}]"))
        return flat
    if isinstance(value, list) and value and all(isinstance(v, dict) and set(v) == {"Key", "Value"} for v in value):
        return {f"{prefix}[{item['Key']}]": item["Value"] for item in value}
    return {prefix: value}


def _show(value: Any) -> str:
    if value is None:
        return ""
    return value if isinstance(value, str) else json.dumps(value)


def config_diff(current: dict[str, Any], new: dict[str, Any]) -> tuple[Table, int]:
    """The two configs side by side, field by field: what is added (+), removed (-) or changed (~), and
    how many fields stay as they are."""
    before, after = _flatten(current), _flatten(new)
    table = Table(title="Endpoint config: current and new", title_justify="left")
    table.add_column("", width=1)
    table.add_column("Field", overflow="fold")
    table.add_column(str(current.get("EndpointConfigName", "current")), overflow="fold")
    table.add_column(str(new.get("EndpointConfigName", "new")), overflow="fold")
    unchanged = 0
    for path in sorted(set(before) | set(after)):
        if path == "EndpointConfigName":
            continue
        old, fresh = before.get(path), after.get(path)
        if path not in before:
            marker, style = "+", "green"
        elif path not in after:
            marker, style = "-", "red"
        elif old != fresh:
            marker, style = "~", "yellow"
        else:
            unchanged += 1
            continue
        table.add_row(marker, Text(path), Text(_show(old)), Text(_show(fresh)), style=style)
    return table, unchanged


def plan(console: Console, plan: dict[str, Any]) -> None:
    endpoint = plan["EndpointName"]
    if plan.get("Refusal"):
        refusal = plan["Refusal"]
        console.print(Text(f"The workflow would refuse this update of {endpoint}: {refusal['Error']}",
                           style="bold red"))
        console.print(f"  {refusal['Cause']}")
        console.print("Nothing would be changed.")
        return
    console.print(Text(f"Plan for endpoint {endpoint} (nothing has been changed)", style="bold"))
    diff, unchanged = config_diff(plan["CurrentConfig"], plan["NewConfig"])
    console.print(diff)
    console.print(f"{unchanged} other fields are copied unchanged (--json shows both configs in full).")
    if plan.get("NewConfigSources"):
        console.print(sources_table(plan["NewConfigSources"]))
    deployment = plan.get("DeploymentConfigSource")
    if deployment:
        console.print(deployment_line(deployment))
    elif plan.get("DeploymentConfig"):
        console.print(f"UpdateEndpoint with DeploymentConfig: {json.dumps(plan['DeploymentConfig'])}")
    if plan.get("UpdateEndpoint"):
        flags = {k: v for k, v in plan["UpdateEndpoint"].items()
                 if k not in ("EndpointName", "EndpointConfigName", "DeploymentConfig")}
        console.print(f"UpdateEndpoint parameters: {json.dumps(flags)}")
        for reason in plan.get("UpdateEndpointReasons") or []:
            console.print(f"  {reason}")
    scaling = plan["ScalingToDeregisterAndRestore"]
    if scaling["Targets"]:
        table = Table(title="Scaling deregistered before the update, restored exactly after it (success or failure)",
                      title_justify="left")
        for column in ("Resource", "Min", "Max", "Policies", "Scheduled actions"):
            table.add_column(column, overflow="fold")
        for target in scaling["Targets"]:
            rid = target["ResourceId"]
            table.add_row(rid, str(target.get("MinCapacity")), str(target.get("MaxCapacity")),
                          "\n".join(f"{p['PolicyName']} ({p['PolicyType']})" for p in scaling["Policies"]
                                    if p["ResourceId"] == rid),
                          "\n".join(f"{a['ScheduledActionName']} {a.get('Schedule', '')}"
                                    for a in scaling["ScheduledActions"] if a["ResourceId"] == rid))
        console.print(table)
        if scaling["Alarms"]:
            console.print(f"Step-scaling alarms re-pointed at the re-created policies: {', '.join(scaling['Alarms'])}")
    else:
        console.print("No autoscaling registered: nothing to deregister or restore.")
    if plan["CapacityRaise"]:
        raises = ", ".join(f"{r['VariantName']} {r['From']} -> {r['To']}"
                           + (f" (asked {r['Requested']}: {r['Reason']})" if "Reason" in r else "")
                           for r in plan["CapacityRaise"])
        console.print(f"Capacity raised before the update, one variant at a time (DesiredInstanceCount): {raises}")
    elif plan.get("RaiseCapacity") is False:
        console.print("No capacity raise.")
    if plan.get("Completion"):
        console.print(completion_line(plan["Completion"]))


def completion_line(completion: dict[str, Any]) -> str:
    """How the execution will learn that each wait is over, and its worst-case history."""
    if completion["Path"] == "events":
        how = (f"Completion events: SageMaker's endpoint events end each wait; with no event, a DescribeEndpoint poll "
               f"after {completion['SafetyIntervalSeconds']} s decides (the safety net)")
    else:
        how = (f"Completion polling: a DescribeEndpoint poll every {completion['PollIntervalSeconds']} s, the first "
               f"after {completion['InitialPollDelaySeconds']} s")
    return (f"{how}. Worst-case history over TimeoutSeconds {completion['TimeoutSeconds']}: "
            f"{completion['WorstCaseHistoryEvents']:,} events ({completion['HistoryEventsPerCycle']} per wait cycle; "
            f"Step Functions' limit is {completion['HistoryLimit']:,}).")


def sources_table(sources: list[dict[str, Any]]) -> Table:
    """Where each property of each variant of the new config comes from."""
    table = Table(title="New config, variant by variant: where each value comes from", title_justify="left")
    for column in ("Variant", "Property", "Value", "From"):
        table.add_column(column, overflow="fold")
    for row in sources:
        source = row["Source"] + (f" ({row['LiveField']})" if row.get("LiveField") else "")
        style = {"request": "yellow", "live endpoint": "cyan"}.get(row["Source"], "")
        table.add_row(row["VariantName"], row["Property"], Text(_show(row["Value"])), source, style=style)
    return table


def deployment_line(source: dict[str, Any]) -> str:
    if source["Source"] == "none":
        return "Deployment config: none (the endpoint has no LastDeploymentConfig; SageMaker's default applies)"
    line = f"Deployment config: {source['Source']}: {json.dumps(source['DeploymentConfig'])}"
    if source.get("Replaces"):
        line += f" (replaces the endpoint's LastDeploymentConfig {json.dumps(source['Replaces'])})"
    return line


def status(console: Console, execution: dict[str, Any]) -> None:
    state = execution["status"]
    table = Table.grid(padding=(0, 2))
    table.add_column(style="bold")
    table.add_column(overflow="fold")
    table.add_row("Execution", execution["name"] or "")
    table.add_row("ARN", execution["executionArn"])
    table.add_row("Status", Text(state, style=STATUS_STYLES.get(state, "")))
    table.add_row("Started", execution["startDate"] or "")
    requester = requested_by(execution.get("input"))
    if requester:
        table.add_row("Requested by", requester)
    if execution.get("stopDate"):
        table.add_row("Stopped", execution["stopDate"])
        elapsed = dt.datetime.fromisoformat(execution["stopDate"]) - dt.datetime.fromisoformat(execution["startDate"])
        table.add_row("Duration", f"{elapsed.total_seconds():.1f} s")
    if execution.get("error"):
        table.add_row("Error", Text(execution["error"], style="red"))
        table.add_row("Cause", execution.get("cause") or "")
    output = execution.get("output")
    if isinstance(output, dict) and "NewConfigName" in output:
        table.add_row("Config", f"{output.get('PreviousConfigName')} -> {output['NewConfigName']}")
        for change in output.get("Changes") or []:
            table.add_row("Changed", f"{change['VariantName']}.{change['Field']}: {change['From']} -> {change['To']}")
    elif isinstance(output, dict) and "Refusal" in output:
        table.add_row("Dry run", "refused: " + output["Refusal"]["Error"] if output["Refusal"] else
                      f"would create {output['NewConfig']['EndpointConfigName']}")
    console.print(table)


def steps_table(steps: list[Step], now: dt.datetime, title: str | None = None) -> Table:
    table = Table(title=title, title_justify="left")
    table.add_column("#", justify="right")
    table.add_column("State")
    table.add_column("Type")
    table.add_column("Start", justify="right")
    table.add_column("Duration", justify="right")
    table.add_column("Outcome", overflow="fold")
    origin = steps[0].started if steps else now
    for index, step in enumerate(steps, 1):
        table.add_row(str(index), step.name, "Callback" if step.callback else step.type,
                      f"+{(step.started - origin).total_seconds():.1f}s",
                      f"{step.seconds(now):.1f}s", outcome(step))
    return table


def outcome(step: Step) -> Text:
    if step.callback and step.ended is None:
        return Text("waiting for SageMaker's event", style="cyan")
    if step.ended is None:
        return Text("running", style="cyan")
    if step.safety_net:
        return Text("no event within the safety interval: a poll decides", style="yellow")
    if step.error:
        return Text(f"{step.error}: {step.cause or ''}".rstrip(": "), style="red")
    if step.failures:
        return Text(f"ok after {len(step.failures)} failed attempt(s): {', '.join(step.failures)}", style="yellow")
    if step.callback:
        return Text("resumed: the endpoint's change ended", style="green")
    return Text("ok", style="green")


def step_line(step: Step, origin: dt.datetime) -> str:
    """One line per state entered, for logs that are not a terminal (a pipeline's)."""
    note = "  (waiting for SageMaker's event)" if step.callback else ""
    return f"  +{(step.started - origin).total_seconds():6.1f}s  {step.name}{note}"


def summary(execution: dict[str, Any]) -> Group:
    parts: list[Any] = []
    state = execution["status"]
    seconds = ""
    if execution.get("stopDate") and execution.get("startDate"):
        elapsed = dt.datetime.fromisoformat(execution["stopDate"]) - dt.datetime.fromisoformat(execution["startDate"])
        seconds = f" in {elapsed.total_seconds():.1f} s"
    parts.append(Text(f"{state}{seconds}", style=STATUS_STYLES.get(state, "")))
    parts.append(Text(execution["executionArn"]))
    output = execution.get("output")
    if isinstance(output, dict) and "NewConfigName" in output:
        parts.append(Text(f"{output['EndpointName']}: {output.get('PreviousConfigName')} -> "
                          f"{output['NewConfigName']}"))
        for change in output.get("Changes") or []:
            parts.append(Text(f"  {change['VariantName']}.{change['Field']}: {change['From']} -> {change['To']}"))
        restored = output.get("ScalingRestored")
        if restored:
            parts.append(Text("Scaling restored and verified: " + ", ".join(
                f"{re.sub(r'(?<!^)(?=[A-Z])', ' ', kind).lower()} {count}" for kind, count in restored.items())))
    if execution.get("error"):
        parts.append(Text(f"{execution['error']}: {execution.get('cause') or ''}", style="red"))
    return Group(*parts)


def restore_preview(console: Console, report: dict[str, Any]) -> None:
    """A break-glass restore with nothing pending: what restoring the snapshot would change, live against
    snapshot, and that nothing was changed."""
    endpoint, execution, differences = report["EndpointName"], report["Execution"], report["Differences"]
    if not differences:
        console.print(f"No restore is pending for {endpoint}, and its scaling is as the snapshot of {execution} "
                      "captured it: nothing to change.", highlight=False)
        return
    table = Table(title=f"Restoring the snapshot of {execution} would change", title_justify="left")
    table.add_column("Kind")
    table.add_column("Name", overflow="fold")
    table.add_column("Field", overflow="fold")
    table.add_column("Live (kept)", overflow="fold")
    table.add_column("Snapshot (would be written)", overflow="fold")
    for entry in differences:
        live, snapshot = entry["Live"], entry["Snapshot"]
        table.add_row(entry["Kind"], Text(entry["Name"]), Text(entry["Field"] or ""),
                      Text("(absent)" if live is None else _show(live)),
                      Text("(absent)" if snapshot is None else _show(snapshot)))
    console.print(f"No restore is pending for {endpoint}: its last update restored its scaling, and what differs "
                  "now was changed since.", highlight=False)
    console.print(table)
    console.print(f"Nothing was changed. To write the snapshot back anyway: endpoint-updater restore --endpoint "
                  f"{endpoint} --force", highlight=False)
