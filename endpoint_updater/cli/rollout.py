"""`endpoint-updater rollout plan|start`: one change to many endpoints, in waves, through the rollout state machine.

The input is checked by the rollout's own validation (endpoint_updater/core/rollout.py, the same function and
messages as the rollout's first state) before anything is read or started. Exit codes are those of `start`:
0 every endpoint succeeded (or already ran the change); 1 the rollout, or an endpoint's update, failed, timed out
or was stopped, or the rollout stopped early (canary failed, failure budget spent); 2 invalid input; 3 an endpoint
was (or would be) refused and none failed, or Targets matched no endpoint; 6 the only refusals were busy
endpoints; 4, 5 and 7 as for `start`.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import time
from collections.abc import Callable, Iterator
from typing import Any

import click
from rich.console import Console
from rich.live import Live

from endpoint_updater.cli import errors, request, rollout_view, workflow
from endpoint_updater.cli.errors import CliError
from endpoint_updater.names import CLI_ROLLOUT_STATE_MACHINE_ENV, ROLLOUT_STATE_MACHINE_OUTPUT

NAME_PREFIX = "rollout"


def _core() -> Any:
    from endpoint_updater.core import rollout as core

    return core


@contextlib.contextmanager
def _quiet_logs() -> Iterator[None]:
    """The functions' shared logger writes JSON lines to stdout, where --json output goes: while the command runs
    the rollout's planning in this process, it logs warnings and errors only."""
    from endpoint_updater.core.observability import logger

    level = logger.log_level
    logger.setLevel(logging.WARNING)
    try:
        yield
    finally:
        logger.setLevel(level)


def rollout_input_options(command: Callable[..., Any]) -> Callable[..., Any]:
    whole = click.INT
    for option in reversed([
        click.option("--input", "input_file", metavar="FILE",
                     help="The rollout input as a JSON file ('-' for stdin); flags override its fields."),
        click.option("--endpoint", "endpoints", multiple=True, metavar="NAME",
                     help="Endpoints: an endpoint to update (repeat the flag for more)."),
        click.option("--name-pattern",
                     help="Targets.NamePattern: endpoints whose name matches, resolved at the start."),
        click.option("--tag", "tags", multiple=True, metavar="KEY=VALUE",
                     help="Targets.Tags: endpoints that carry this tag (repeat: all of them)."),
        click.option("--variant", help="The variant that --model, --instance-type, --instance-count change."),
        click.option("--model", help="The variant's new ModelName."),
        click.option("--instance-type", help="The variant's new InstanceType."),
        click.option("--instance-count", type=whole, help="The variant's new InitialInstanceCount."),
        click.option("--canary-size", type=whole, help="Waves.CanarySize: endpoints in the first wave."),
        click.option("--batch-size", type=whole, help="Waves.BatchSize: endpoints in each later wave."),
        click.option("--batch-percent", type=whole, help="Waves.BatchPercent: percent of the targets per later wave."),
        click.option("--max-concurrency", type=whole, help="Waves.MaxConcurrency: updates at once within a wave."),
        click.option("--bake-seconds", type=whole, help="Waves.BakeSeconds: wait between two waves."),
        click.option("--tolerated-failures", type=whole,
                     help="ToleratedFailureCount: failures tolerated; once more fail, no new update starts."),
        click.option("--tolerated-failure-percent", type=whole,
                     help="ToleratedFailurePercentage: the same, in percent."),
        click.option("--poll-interval", type=whole, help="Change.PollIntervalSeconds of each update."),
    ]):
        command = option(command)
    return command


def from_flags(raw: dict[str, Any], options: dict[str, Any]) -> dict[str, Any]:
    """The rollout input: the file's fields (if any), overridden by the flags given."""
    result = dict(raw)
    if options["endpoints"]:
        result["Endpoints"] = list(options["endpoints"])
    if options["name_pattern"] is not None or options["tags"]:
        # A file's Targets that is not an object is replaced; the validation would refuse it anyway.
        targets = dict(result["Targets"]) if isinstance(result.get("Targets"), dict) else {}
        if options["name_pattern"] is not None:
            targets["NamePattern"] = options["name_pattern"]
        if options["tags"]:
            targets["Tags"] = dict(_tag(text) for text in options["tags"])
        result["Targets"] = targets
    change = dict(result["Change"]) if isinstance(result.get("Change"), dict) else result.get("Change")
    variant_change = {key: value for key, value in (("ModelName", options["model"]),
                                                    ("InstanceType", options["instance_type"]),
                                                    ("InitialInstanceCount", options["instance_count"]))
                      if value is not None}
    if variant_change and options["variant"] is None:
        raise CliError("--model, --instance-type and --instance-count change one variant: name it with --variant",
                       errors.INVALID)
    if options["variant"] is not None:
        if not variant_change:
            raise CliError(f"--variant {options['variant']}: say what to change with --model, --instance-type or "
                           "--instance-count", errors.INVALID)
        change = dict(change) if isinstance(change, dict) else {}
        listed = [c for c in change.get("VariantChanges") or [] if isinstance(c, dict)]
        others = [c for c in listed if c.get("VariantName") != options["variant"]]
        mine = next((c for c in listed if c.get("VariantName") == options["variant"]), {})
        change["VariantChanges"] = [*others, {**mine, "VariantName": options["variant"], **variant_change}]
    if options["poll_interval"] is not None:
        change = dict(change) if isinstance(change, dict) else {}
        change["PollIntervalSeconds"] = options["poll_interval"]
    if change is not None:
        result["Change"] = change
    waves = {key: options[option] for key, option in (("CanarySize", "canary_size"), ("BatchSize", "batch_size"),
                                                      ("BatchPercent", "batch_percent"),
                                                      ("MaxConcurrency", "max_concurrency"),
                                                      ("BakeSeconds", "bake_seconds"))
             if options[option] is not None}
    if waves:
        result["Waves"] = {**(result["Waves"] if isinstance(result.get("Waves"), dict) else {}), **waves}
    if options["tolerated_failures"] is not None and options["tolerated_failure_percent"] is not None:
        raise CliError("--tolerated-failures and --tolerated-failure-percent: give one of them", errors.INVALID)
    if options["tolerated_failures"] is not None:
        result.pop("ToleratedFailurePercentage", None)
        result["ToleratedFailureCount"] = options["tolerated_failures"]
    if options["tolerated_failure_percent"] is not None:
        result.pop("ToleratedFailureCount", None)
        result["ToleratedFailurePercentage"] = options["tolerated_failure_percent"]
    if "Endpoints" not in result and "Targets" not in result:
        raise CliError("no endpoints: pass --endpoint NAME (repeatable), --name-pattern, --tag KEY=VALUE, or --input "
                       "FILE with Endpoints or Targets", errors.INVALID)
    return result


def _tag(text: str) -> tuple[str, str]:
    key, sep, value = text.partition("=")
    if not sep or not key:
        raise CliError(f"--tag {text!r}: give KEY=VALUE", errors.INVALID)
    return key, value


def build_rollout(options: dict[str, Any], local: bool, dry_run: bool = False) -> dict[str, Any]:
    """The rollout input, checked by the rollout's own validation (core/rollout.py's parse_rollout, as its first
    state checks it) before anything is read or started."""
    from endpoint_updater.core.errors import InvalidInput

    raw = request.read_input_file(options["input_file"]) if options["input_file"] else {}
    given = from_flags(raw, options)
    if dry_run:
        given["DryRun"] = True
    if local and isinstance(given.get("Change"), dict):
        given["Change"].setdefault("PollIntervalSeconds", request.LOCAL_POLL_INTERVAL_SECONDS)
    try:
        _core().parse_rollout(given)
    except InvalidInput as error:
        raise CliError(str(error), errors.INVALID) from error
    return given


def execution_name(rollout: dict[str, Any]) -> str:
    """`rollout-<32 hex of the canonical input>`: the same rollout gets the same name, so starting it again while it
    runs returns the running one (StartExecution is idempotent on name and input) rather than a second rollout."""
    return f"{NAME_PREFIX}-{hashlib.sha256(request.canonical_json(rollout).encode()).hexdigest()[:32]}"


def find_state_machine(cloudformation: Any, given: str | None) -> str:
    """--state-machine-arn, else $ENDPOINT_UPDATER_ROLLOUT_STATE_MACHINE_ARN, else the stack's output."""
    return workflow.find_state_machine(cloudformation, given, ROLLOUT_STATE_MACHINE_OUTPUT,
                                       CLI_ROLLOUT_STATE_MACHINE_ENV)


def exit_code(outcomes: list[dict[str, Any]], status: str = "SUCCEEDED") -> int:
    """The family of `start`: a failure first, then a refusal, else success."""
    if status != "SUCCEEDED":
        return errors.FAILED
    if any(entry.get("Outcome") in rollout_view.FAILED_OUTCOMES | {"NOT_STARTED"} for entry in outcomes):
        return errors.FAILED
    refused = [errors.exit_code_for(entry.get("Error")) for entry in outcomes if entry.get("Outcome") == "REFUSED"]
    if not refused:
        return errors.OK
    # A refusal whose class is no known refusal is still a refusal: nothing was changed on that endpoint.
    codes = {errors.REFUSED if code == errors.FAILED else code for code in refused}
    return errors.REFUSED if errors.REFUSED in codes else min(codes)


def outcome_code(execution: dict[str, Any]) -> int:
    if execution["status"] == "FAILED" and errors.exit_code_for(execution.get("error")) != errors.FAILED:
        # The rollout itself was refused before it started anything (its input, or targets that match nothing).
        return errors.exit_code_for(execution.get("error"))
    output = execution.get("output")
    outcomes = output.get("Endpoints") or [] if isinstance(output, dict) else []
    return exit_code(outcomes, execution["status"])


def follow(sfn: Any, arn: str, console: Console, interval: float,
           sleep: Callable[[float], None] = time.sleep) -> dict[str, Any]:
    """Poll until the rollout ends: a live table of waves and endpoints on a terminal, one line per change of an
    endpoint's outcome otherwise."""
    shown: dict[str, str] = {}
    live = Live(console=console, auto_refresh=False, transient=False) if console.is_terminal else None
    try:
        with live or contextlib.nullcontext():
            while True:
                execution = workflow.describe(sfn, arn)
                ended = execution["status"] in workflow.TERMINAL
                output = execution.get("output")
                view = (rollout_view.from_output(output) if ended and isinstance(output, dict)
                        else rollout_view.from_history(workflow.history(sfn, arn)))
                if live is not None:
                    live.update(rollout_view.table(view, title=f"Rollout {execution['name']}: "
                                                               f"{execution['status']}"), refresh=True)
                else:
                    for row in view.rows:
                        if shown.get(row.endpoint) != row.outcome:
                            console.print(row.line(), highlight=False, markup=False)
                            shown[row.endpoint] = row.outcome
                if ended:
                    return execution
                sleep(interval)
    except KeyboardInterrupt:
        raise CliError(f"stopped following; the rollout goes on: {arn}", errors.INTERRUPTED) from None


def register(group: click.Group) -> None:
    """Add `rollout plan` and `rollout start` to the command line (main.py calls this once it is defined)."""
    from endpoint_updater.cli.main import (
        announce_started,
        common_options,
        environment,
        handled,
        poll_seconds,
        print_json,
    )

    @group.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 110})
    def rollout() -> None:
        """Update many endpoints with one change, in waves: a canary, then batches, stopping when too many fail.

        \b
        Exit codes: 0 every endpoint succeeded (or already ran the change); 1 the rollout or an endpoint's update
        failed, timed out or was stopped, or the rollout stopped early; 2 invalid input; 3 an endpoint was (or would
        be) refused and none failed, or Targets matched nothing; 6 only busy endpoints were refused; 4, 5, 7 as for
        start.
        """

    @rollout.command("plan")
    @rollout_input_options
    @click.option("--name", help="The rollout's execution name, as start would use it (default: derived from the "
                                 "input); it names the update executions unless the input gives RolloutName.")
    @click.option("--state-machine-arn", help=f"The rollout state machine (default: ${CLI_ROLLOUT_STATE_MACHINE_ENV}, "
                                              "else the stack's output).")
    @common_options
    @handled
    def plan(name: str | None, state_machine_arn: str | None, as_json: bool, local: bool, region: str | None,
             profile: str | None, **options: Any) -> int:
        """Resolve the targets and show each endpoint's wave and plan, or why it would be refused; changes nothing."""
        from endpoint_updater.core import clock
        from endpoint_updater.core.aws import translated_errors
        from endpoint_updater.core.errors import AwsRequestFailed, AwsTransientError, UpdaterError
        from endpoint_updater.names import execution_arn

        given = build_rollout(options, local, dry_run=True)
        name = request.check_name(name) if name is not None else execution_name(given)
        with environment(local, region, profile) as env:
            # What the rollout's first step would find: the updates of an earlier run of this rollout (by name), the
            # locks in the updates table.
            rollout_arn = env.rollout_state_machine(state_machine_arn)
            if not local:
                workflow.use_updates_table(env.cloudformation, None)
            try:
                with translated_errors(), _quiet_logs():
                    state = _core().plan(given, execution_arn(rollout_arn, name), clock.now().isoformat(),
                                         env.state_machine(None))
            except (AwsRequestFailed, AwsTransientError) as error:
                raise CliError(str(error), errors.AWS) from error
            except UpdaterError as error:
                raise CliError(f"{type(error).__name__}: {error}", errors.exit_code_for(type(error).__name__)) \
                    from error
        result = state["Report"]
        if as_json:
            print_json(result)
        else:
            console = Console()
            view = rollout_view.from_output(result)
            console.print(rollout_view.table(view, title="Rollout plan (nothing has been changed)"))
            for line in rollout_view.totals(view):
                console.print(line, highlight=False)
        return exit_code(result.get("Endpoints") or [])

    @rollout.command("start")
    @rollout_input_options
    @click.option("--dry-run", is_flag=True, help="DryRun: the rollout only plans every endpoint, changing nothing.")
    @click.option("--name", help="The rollout's execution name (default: derived from the input, the same for the "
                                 "same rollout: starting it again while it runs returns the running one).")
    @click.option("--state-machine-arn", help=f"The rollout state machine (default: ${CLI_ROLLOUT_STATE_MACHINE_ENV}, "
                                              "else the stack's output).")
    @click.option("--wait", is_flag=True, help="Follow the rollout wave by wave; exit with its outcome.")
    @common_options
    @handled
    def start(dry_run: bool, name: str | None, state_machine_arn: str | None, wait: bool, as_json: bool,
              local: bool, region: str | None, profile: str | None, **options: Any) -> int:
        """Start a rollout (StartExecution on the rollout state machine), from flags or an input file."""
        given = build_rollout(options, local, dry_run)
        name = request.check_name(name) if name is not None else execution_name(given)
        console = Console(stderr=as_json)
        with environment(local, region, profile) as env:
            arn = env.rollout_state_machine(state_machine_arn)
            started = workflow.start(env.sfn, arn, name, request.canonical_json(given))
            if not wait:
                announce_started(started, console, as_json, local and env.owned, "rollout")
                return errors.OK
            if not as_json:
                console.print(f"Started rollout {started['name']}")
            execution = follow(env.sfn, started["executionArn"], console, poll_seconds(local), env.sleep)
        if as_json:
            print_json(execution["output"] if isinstance(execution.get("output"), dict) else execution)
        else:
            console.print(rollout_view.summary(execution))
        return outcome_code(execution)
