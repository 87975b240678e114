"""The workflow definition and the Lambda functions its tasks call.

`endpoint_update.asl.json` is the single source of truth: the CDK stack deploys it as it is, with
definition substitutions for the function ARNs, and the local runner executes the same file after
substituting the same placeholders with `render`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

DEFINITION_PATH = Path(__file__).with_name("endpoint_update.asl.json")

# `${Name}` with a strict name: JSONPath such as "Payload.$": "$" must not be mistaken for a placeholder.
_PLACEHOLDER = re.compile(r"\$\{([A-Za-z][A-Za-z0-9]*)\}")


@dataclass(frozen=True)
class TaskFunction:
    """One Lambda function of the workflow: its name in the definition and its code folder."""

    key: str
    """Used in the placeholder `${<key>FunctionArn}` and as the CDK construct id."""
    folder: str
    """The folder under lambdas/ whose handler.py holds `handler`."""
    description: str

    @property
    def placeholder(self) -> str:
        return f"{self.key}FunctionArn"

    @property
    def module(self) -> str:
        """The handler's module, as the functions' code and the installed package both hold it."""
        return f"lambdas.{self.folder}.handler"

    @property
    def handler(self) -> str:
        return f"{self.module}.handler"


TASK_FUNCTIONS: tuple[TaskFunction, ...] = (
    TaskFunction("ValidateAndSnapshot", "validate_and_snapshot",
                 "Step 1: validate the request and the endpoint, capture the scaling configuration."),
    TaskFunction("CreateModel", "create_model",
                 "Step 1c: create the SageMaker Model of an approved model package, like the variant's current one."),
    TaskFunction("DeregisterScaling", "deregister_scaling",
                 "Step 2: deregister the endpoint's scalable targets."),
    TaskFunction("RaiseCapacity", "raise_capacity",
                 "Step 2b: raise the autoscaled variants' instance counts as a precaution."),
    TaskFunction("CheckEndpoint", "check_endpoint",
                 "Step 3 and 6: DescribeEndpoint once; done, still busy, or failed."),
    TaskFunction("CreateEndpointConfig", "create_endpoint_config",
                 "Steps 4 and 5: create the new endpoint config from the current one."),
    TaskFunction("UpdateEndpoint", "update_endpoint",
                 "Step 6: UpdateEndpoint with the new config."),
    TaskFunction("RestoreScaling", "restore_scaling",
                 "Step 7: restore and verify the scaling configuration, on success and on failure."),
)


# Functions around the workflow rather than in it: invoked by EventBridge rules.
EVENT_FUNCTIONS: tuple[TaskFunction, ...] = (
    TaskFunction("RecoverScaling", "recover_scaling",
                 "Restore the scaling of an execution that was stopped, timed out or failed without restoring it."),
    TaskFunction("StartUpdate", "start_update",
                 "Start one execution per triggering event, named after the event."),
    TaskFunction("NotifyUpdate", "notify_update",
                 "Publish the end-of-update message: endpoint, old and new config, outcome, reason, link."),
)


def all_states(states: dict[str, Any]) -> dict[str, Any]:
    """Every state by name, those inside Parallel branches included."""
    found = dict(states)
    for state in states.values():
        for branch in state.get("Branches", []):
            found.update(all_states(branch["States"]))
    return found


def read_definition() -> str:
    return DEFINITION_PATH.read_text(encoding="utf-8")


def placeholders(text: str) -> set[str]:
    return set(_PLACEHOLDER.findall(text))


def render(text: str, values: dict[str, str]) -> str:
    """Substitute `${Name}` placeholders as CloudFormation's DefinitionSubstitutions would.

    Every placeholder must have a value and every value a placeholder, so that the local runner
    and the stack cannot drift apart silently.
    """
    missing = placeholders(text) - values.keys()
    unused = values.keys() - placeholders(text)
    if missing or unused:
        raise ValueError(f"definition substitutions mismatch: missing {sorted(missing)}, unused {sorted(unused)}")
    return _PLACEHOLDER.sub(lambda m: values[m.group(1)], text)


# -- fleet rollouts -------------------------------------------------------------------------------------
# A second state machine, deployed by the same app: every endpoint update it makes is an execution of the
# update state machine above (placeholder `${UpdateStateMachineArn}`), started from a Map state.
ROLLOUT_DEFINITION_PATH = Path(__file__).with_name("rollout.asl.json")
ROLLOUT_SCHEMA_PATH = Path(__file__).with_name("rollout.input.schema.json")
UPDATE_STATE_MACHINE_PLACEHOLDER = "UpdateStateMachineArn"

ROLLOUT_FUNCTIONS: tuple[TaskFunction, ...] = (
    TaskFunction("RolloutPlan", "rollout_plan",
                 "Rollout: validate the request and resolve the target endpoints."),
    TaskFunction("RolloutPreflight", "rollout_preflight",
                 "Rollout: plan one endpoint as its update's first step would; to update, refused or skipped."),
    TaskFunction("RolloutWaves", "rollout_waves",
                 "Rollout: make the waves and the failure budget from every endpoint's preflight."),
    TaskFunction("RolloutGate", "rollout_gate",
                 "Rollout: before each endpoint's update, check that the failure budget is not spent."),
    TaskFunction("RolloutTally", "rollout_tally",
                 "Rollout: after each wave, record the outcomes, count failures, decide whether to go on."),
)


def read_rollout_definition() -> str:
    return ROLLOUT_DEFINITION_PATH.read_text(encoding="utf-8")
