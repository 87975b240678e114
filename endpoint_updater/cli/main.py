"""The `endpoint-updater` command: start, plan, status, history, restore, rollout. `--json` for machines, rich text for
people.

Exit codes: 0 success; 1 the execution failed, timed out or was stopped; 2 bad flags or invalid input;
3 the workflow refused (or would refuse) the update, nothing changed; 4 stack, state machine or execution
not found; 5 AWS credentials, region, access or network; 6 the endpoint is busy (not InService, or another
update holds it); 7 an execution with this name already ran; 130 interrupted.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import json
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import click
from botocore.exceptions import BotoCoreError, ClientError
from rich.console import Console
from rich.live import Live

from endpoint_updater.cli import errors, render, rollout, workflow
from endpoint_updater.cli import request as inputs
from endpoint_updater.cli.errors import CliError
from endpoint_updater.core import clock, shapes
from endpoint_updater.core.request import DEFAULT_POLL_INTERVAL_SECONDS, DEFAULT_TIMEOUT_SECONDS
from endpoint_updater.names import CLI_STATE_MACHINE_ENV, TABLE_ENV, execution_arn

LOCAL_POLL_SECONDS = 0.1
AWS_POLL_SECONDS = 3.0


@dataclass
class Env:
    sfn: Any
    cloudformation: Any
    local_arn: str | None = None
    owned: bool = True
    """Whether the emulator (with --local) ends with this command."""
    sleep: Callable[[float], None] = time.sleep
    """How the command waits between two looks at an execution: the emulator's own clock with --local."""
    local_rollout_arn: str | None = None

    def state_machine(self, given: str | None) -> str:
        return self.local_arn or workflow.find_state_machine(self.cloudformation, given)

    def rollout_state_machine(self, given: str | None) -> str:
        return self.local_rollout_arn or rollout.find_state_machine(self.cloudformation, given)

    def execution_arn(self, execution: str, state_machine_arn: str | None) -> str:
        """An ARN as it is; a bare name within the state machine, which is looked up only then."""
        if execution.startswith("arn:"):
            return execution
        return execution_arn(self.state_machine(state_machine_arn), execution)


@contextlib.contextmanager
def environment(local: bool, region: str | None, profile: str | None) -> Iterator[Env]:
    """AWS as the caller's credentials reach it, or the embedded emulator with --local."""
    if local:
        from endpoint_updater.cli import local as emulator

        already_open = emulator.is_open()
        with emulator.session() as runner:
            yield Env(sfn=runner.sfn, cloudformation=None, local_arn=runner.state_machine_arn,
                      owned=not already_open, sleep=runner.sleep, local_rollout_arn=runner.rollout_state_machine_arn)
        return
    from endpoint_updater.core.aws import reset_clients

    saved = boto3.DEFAULT_SESSION
    with errors.aws_errors():
        # The workflow's own code (the plan) uses boto3's default session: give it the caller's profile and region.
        boto3.setup_default_session(profile_name=profile, region_name=region)
        reset_clients()
        try:
            yield Env(sfn=boto3.client("stepfunctions"), cloudformation=boto3.client("cloudformation"))
        finally:
            boto3.DEFAULT_SESSION = saved
            reset_clients()


class App(click.Group):
    """Every expected failure, usage errors included, is one line on stderr and an exit code."""

    def main(self, args: Any = None, prog_name: str | None = None, complete_var: str | None = None,
             standalone_mode: bool = True, **extra: Any) -> Any:
        try:
            code = super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        except click.UsageError as error:
            where = f" (see {error.ctx.command_path} --help)" if error.ctx is not None else ""
            fail(error.format_message() + where, error.exit_code)
        except click.ClickException as error:
            fail(error.format_message(), error.exit_code)
        except click.exceptions.Abort:
            fail("interrupted", errors.INTERRUPTED)
        sys.exit(code if isinstance(code, int) else errors.OK)


def fail(message: str, code: int) -> None:
    click.echo("endpoint-updater: error: " + " ".join(message.split()), err=True)
    sys.exit(code)


def handled(command: Callable[..., int]) -> Callable[..., int]:
    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> int:
        try:
            with errors.aws_errors():
                return command(*args, **kwargs)
        except CliError as error:
            fail(str(error), error.code)
        raise AssertionError("unreachable")

    return wrapper


def common_options(command: Callable[..., Any]) -> Callable[..., Any]:
    for option in reversed([
        click.option("--json", "as_json", is_flag=True, help="Print JSON for machines instead of text."),
        click.option("--local", is_flag=True,
                     help="Run against the embedded emulator (the demo's endpoint churn-prod), no AWS account."),
        click.option("--region", help="AWS region (default: AWS_DEFAULT_REGION or the profile's)."),
        click.option("--profile", help="AWS profile (default: AWS_PROFILE)."),
    ]):
        command = option(command)
    return command


def input_options(command: Callable[..., Any]) -> Callable[..., Any]:
    whole = click.INT
    for option in reversed([
        click.option("--input", "input_file", metavar="FILE",
                     help="The workflow input as a JSON file ('-' for stdin); flags override its fields."),
        click.option("--endpoint", help="EndpointName: the endpoint to update."),
        click.option("--variant", help="The variant that --model, --instance-type, --instance-count change."),
        click.option("--model", help="The variant's new ModelName."),
        click.option("--instance-type", help="The variant's new InstanceType, e.g. ml.c5.2xlarge."),
        click.option("--instance-count", type=whole, help="The variant's new InitialInstanceCount."),
        click.option("--capacity-add", type=whole, help="CapacityIncrease.Add: instances to add before updating."),
        click.option("--capacity-percent", type=whole, help="CapacityIncrease.Percent: percent to add, rounded up."),
        click.option("--poll-interval", type=whole,
                     help=f"PollIntervalSeconds (default {DEFAULT_POLL_INTERVAL_SECONDS}; "
                          f"{inputs.LOCAL_POLL_INTERVAL_SECONDS} with --local)."),
        click.option("--timeout", type=whole,
                     help=f"TimeoutSeconds: how long to wait for the update (default {DEFAULT_TIMEOUT_SECONDS})."),
    ]):
        command = option(command)
    return command


def build_request(options: dict[str, Any], local: bool, dry_run: bool = False) -> dict[str, Any]:
    raw = inputs.read_input_file(options["input_file"]) if options["input_file"] else {}
    given = inputs.from_flags(raw, endpoint=options["endpoint"], variant=options["variant"], model=options["model"],
                              instance_type=options["instance_type"], instance_count=options["instance_count"],
                              capacity_add=options["capacity_add"], capacity_percent=options["capacity_percent"],
                              poll_interval=options["poll_interval"], timeout=options["timeout"], dry_run=dry_run)
    if local:
        given.setdefault("PollIntervalSeconds", inputs.LOCAL_POLL_INTERVAL_SECONDS)
    return inputs.validated(given)


def poll_seconds(local: bool) -> float:
    """How often a command following an execution looks at it."""
    return LOCAL_POLL_SECONDS if local else AWS_POLL_SECONDS


def announce_started(started: dict[str, Any], console: Console, as_json: bool, emulator_ends: bool, kind: str) -> None:
    """A start without --wait: the StartExecution answer as JSON, or its name and ARN. `emulator_ends`: the
    command's own local emulator ends with it, so the `kind` ("execution", "rollout") it started will not finish."""
    if as_json:
        print_json(started)
    else:
        label = "" if kind == "execution" else f"{kind} "
        console.print(f"Started {label}{started['name']}\n{started['executionArn']}")
    if emulator_ends:
        click.echo("endpoint-updater: note: the local emulator ends with this command; "
                   f"add --wait to follow the {kind} to its end", err=True)


def print_json(value: Any) -> None:
    click.echo(json.dumps(value, indent=2, default=str))


@click.group(cls=App, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 110})
@click.version_option(package_name="endpoint-updater")
def main() -> None:
    """Update a SageMaker endpoint that uses Application Auto Scaling, with the endpoint-updater workflow.

    \b
    Exit codes: 0 success; 1 the execution failed, timed out or was stopped; 2 bad flags or invalid input;
    3 the update was (or would be) refused, nothing changed; 4 stack, state machine or execution not found;
    5 AWS credentials, region, access or network; 6 endpoint busy; 7 execution name already used.
    """


@main.command()
@input_options
@click.option("--dry-run", is_flag=True, help="DryRun: the execution only validates and ends with the plan.")
@click.option("--name", help="The execution's name (default: derived from the input, the same for the same request).")
@click.option("--state-machine-arn", help=f"Default: ${CLI_STATE_MACHINE_ENV}, else the stack's output.")
@click.option("--wait", is_flag=True, help="Follow the execution state by state; exit with its outcome.")
@common_options
@handled
def start(dry_run: bool, name: str | None, state_machine_arn: str | None, wait: bool, as_json: bool, local: bool,
          region: str | None, profile: str | None, **options: Any) -> int:
    """Start an update (StartExecution), from flags or an input file."""
    request = build_request(options, local, dry_run)
    name = inputs.check_name(name) if name is not None else inputs.execution_name(request)
    console = Console(stderr=as_json)
    with environment(local, region, profile) as env:
        started = workflow.start(env.sfn, env.state_machine(state_machine_arn), name, inputs.canonical_json(request))
        if not wait:
            announce_started(started, console, as_json, local and env.owned, "execution")
            return errors.OK
        if not as_json:
            console.print(f"Started {started['name']} on {request['EndpointName']}")
        execution = follow(env.sfn, started["executionArn"], console, poll_seconds(local), env.sleep)
    if as_json:
        print_json(execution)
    else:
        console.print(render.summary(execution))
    return outcome_code(execution)


def outcome_code(execution: dict[str, Any]) -> int:
    status = execution["status"]
    if status == "SUCCEEDED":
        output = execution.get("output")
        if isinstance(output, dict) and output.get("DryRun") and output.get("Refusal"):
            return errors.exit_code_for(output["Refusal"]["Error"])
        return errors.OK
    if status == "FAILED":
        return errors.exit_code_for(execution.get("error"))
    return errors.FAILED


def follow(sfn: Any, arn: str, console: Console, interval: float,
           sleep: Callable[[float], None] = time.sleep) -> dict[str, Any]:
    """Poll until the execution ends: a live table on a terminal, one line per state otherwise."""
    shown = 0
    live = Live(console=console, auto_refresh=False, transient=False) if console.is_terminal else None
    try:
        with live or contextlib.nullcontext():
            while True:
                execution = workflow.describe(sfn, arn)
                steps = workflow.steps(workflow.history(sfn, arn))
                now = clock.now()
                if live is not None:
                    live.update(render.steps_table(steps, now), refresh=True)
                elif steps:
                    for step in steps[shown:]:
                        console.print(render.step_line(step, steps[0].started), highlight=False)
                    shown = len(steps)
                if execution["status"] in workflow.TERMINAL:
                    if live is None:
                        for step in steps:
                            if step.error:
                                console.print(f"  {step.name} failed: {step.error}: {step.cause or ''}",
                                              highlight=False, markup=False)
                    return execution
                sleep(interval)
    except KeyboardInterrupt:
        raise CliError(f"stopped following; the execution goes on: {arn}", errors.INTERRUPTED) from None


@main.command()
@input_options
@common_options
@handled
def plan(as_json: bool, local: bool, region: str | None, profile: str | None, **options: Any) -> int:
    """Show what an update would do, changing nothing: configs side by side, scaling, capacity, refusals."""
    from endpoint_updater.core import endpoint_config
    from endpoint_updater.core import plan as planner
    from endpoint_updater.core.aws import translated_errors
    from endpoint_updater.core.errors import AwsRequestFailed, AwsTransientError
    from endpoint_updater.core.request import parse_request

    request = parse_request(build_request(options, local), shapes.variant_fields())
    now = clock.now()
    # The real name carries the execution's start time and ARN; this one shows its form.
    new_name = endpoint_config.new_config_name(request.EndpointName, "plan", now.isoformat())
    with environment(local, region, profile):
        try:
            with translated_errors():
                result = planner.dry_run(request, new_name)
        except (AwsRequestFailed, AwsTransientError) as error:
            raise CliError(str(error), errors.AWS) from error
    if as_json:
        print_json(result)
    else:
        render.plan(Console(), result)
    return errors.exit_code_for(result["Refusal"]["Error"]) if result["Refusal"] else errors.OK


@main.command()
@click.argument("execution")
@click.option("--state-machine-arn", help="To find an execution given by name (default: as for start).")
@common_options
@handled
def status(execution: str, state_machine_arn: str | None, as_json: bool, local: bool, region: str | None,
           profile: str | None) -> int:
    """One execution's status, error and cause, and what it changed. EXECUTION: its ARN or name."""
    with environment(local, region, profile) as env:
        arn = env.execution_arn(execution, state_machine_arn)
        described = workflow.describe(env.sfn, arn)
    if as_json:
        print_json(described)
    else:
        render.status(Console(), described)
    return errors.OK


@main.command()
@click.argument("execution")
@click.option("--state-machine-arn", help="To find an execution given by name (default: as for start).")
@common_options
@handled
def history(execution: str, state_machine_arn: str | None, as_json: bool, local: bool, region: str | None,
            profile: str | None) -> int:
    """One execution's steps, with timings and failures. EXECUTION: its ARN or name."""
    with environment(local, region, profile) as env:
        arn = env.execution_arn(execution, state_machine_arn)
        described = workflow.describe(env.sfn, arn)
        steps = workflow.steps(workflow.history(env.sfn, arn))
    origin = steps[0].started if steps else clock.now()
    if as_json:
        print_json({"execution": described, "steps": [step.as_json(origin) for step in steps]})
    else:
        console = Console()
        now = dt.datetime.fromisoformat(described["stopDate"]) if described.get("stopDate") else clock.now()
        console.print(render.steps_table(steps, now, title=f"{described['name']}: {described['status']}"))
    return errors.OK


@main.command()
@click.option("--endpoint", required=True, help="EndpointName: the endpoint whose scaling to restore.")
@click.option("--execution", help="The ARN of the update whose snapshot to restore (default: the unrestored one, "
                                  "else the last one).")
@click.option("--table", help=f"The updates table (default: ${TABLE_ENV}, else the stack's output).")
@click.option("--force", is_flag=True, help="Restore even while an update of the endpoint runs (it loses its lock), "
                                            "or when no restore is pending (reverting what was changed by hand since).")
@common_options
@handled
def restore(endpoint: str, execution: str | None, table: str | None, force: bool, as_json: bool, local: bool,
            region: str | None, profile: str | None) -> int:
    """Break-glass: restore an endpoint's scaling from the snapshot stored in the updates table.

    With no restore pending (the last update restored its scaling), it only shows what a restore would change
    against the live scaling and changes nothing (exit 3 if anything differs, 0 if nothing does); --force
    restores then.
    """
    from endpoint_updater.core import breakglass
    from endpoint_updater.core.errors import (
        AwsRequestFailed,
        AwsTransientError,
        EndpointUpdateInProgress,
        NothingToRestore,
        UpdateRecordNotFound,
        UpdaterError,
    )

    with environment(local, region, profile) as env:
        try:
            if not local:
                workflow.use_updates_table(env.cloudformation, table)
            report = breakglass.restore_endpoint(endpoint, execution, force)
        except EndpointUpdateInProgress as error:
            raise CliError(str(error), errors.BUSY) from error
        except (NothingToRestore, UpdateRecordNotFound) as error:
            raise CliError(str(error), errors.NOT_FOUND) from error
        except (AwsRequestFailed, AwsTransientError) as error:
            # AWS could not be reached or refused the caller before the restore could end: the same exit code
            # as every other command's AWS failure. A restore that ran and could not converge is
            # ScalingRestoreFailed, below.
            cause = error.__cause__
            if isinstance(cause, BotoCoreError | ClientError):
                raise errors.aws_failure(cause) from error
            raise CliError(f"{type(error).__name__}: {str(error).splitlines()[0]}", errors.AWS) from error
        except UpdaterError as error:
            raise CliError(f"{type(error).__name__}: {str(error).splitlines()[0]}", errors.FAILED) from error
    if not report["Restored"]:
        if as_json:
            print_json(report)
        else:
            render.restore_preview(Console(), report)
        # Refused, nothing changed: the same meaning as exit code 3 everywhere else.
        return errors.REFUSED if report["Differences"] else errors.OK
    if as_json:
        print_json(report)
    else:
        changes = report["Changes"]
        click.echo(f"Scaling of {endpoint} restored from the snapshot of {report['Execution']}: "
                   + (f"{len(changes)} change(s): " + "; ".join(changes) if changes else "it was already as captured"))
    return errors.OK


rollout.register(main)


def run() -> None:
    """The console script's entry point."""
    main()


if __name__ == "__main__":
    run()
