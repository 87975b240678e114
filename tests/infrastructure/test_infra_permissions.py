"""Each function's role grants exactly its rows of infra/permissions.py, scoped by the endpoint name pattern,
plus logging to its own log group and X-Ray tracing."""

from __future__ import annotations

from typing import Any

import pytest
from synthesized import (
    Statement,
    Template,
    as_list,
    functions_by_folder,
    referenced_id,
    role_statements,
    state_machine,
)

from infra import config, settings
from infra.permissions import (
    ANY_RESOURCE,
    ENDPOINT_NAME,
    LOGGING_ACTIONS,
    ON_FAILURE_ACTIONS,
    PERMISSIONS,
    RESOURCELESS_ACTIONS,
    TRACING_ACTIONS,
    actions_for,
    besides_calls,
    render,
)
from infra.settings import context_defaults
from statemachine import EVENT_FUNCTIONS, ROLLOUT_FUNCTIONS, TASK_FUNCTIONS

# The pattern cdk.json deploys with (the session's template is synthesized from cdk.json's context).
PATTERN = config.endpoint_name_pattern(context_defaults().get(config.ENDPOINT_NAME_PATTERN))
GUARDRAILS = config.guardrails(context_defaults().get)

ALL_FUNCTIONS = TASK_FUNCTIONS + EVENT_FUNCTIONS + ROLLOUT_FUNCTIONS
FOLDERS = pytest.mark.parametrize("folder", [task.folder for task in ALL_FUNCTIONS])
EVENT_FOLDERS = {task.folder for task in EVENT_FUNCTIONS}


def _statements(template: Template, folder: str) -> list[Statement]:
    _, function = functions_by_folder(template)[folder]
    return role_statements(template, referenced_id(function["Properties"]["Role"]))


def _without_variables(resource: Any) -> Any:
    """{"Fn::Sub": [text, variables]} as {"Fn::Sub": text}; the variables are checked on their own."""
    if isinstance(resource, dict) and isinstance(resource.get("Fn::Sub"), list):
        return {"Fn::Sub": resource["Fn::Sub"][0]}
    return resource


def _normalized(actions: Any, resources: Any, conditions: Any) -> tuple[Any, ...]:
    return (
        tuple(sorted(as_list(actions))),
        tuple(sorted(repr(_without_variables(resource)) for resource in as_list(resources))),
        repr(conditions or {}),
    )


# The state machine's name is known at synth time and written into the executions' ARN pattern.
STATE_MACHINE_NAME = f"{settings.STACK_ID}-Workflow"


def _rendered(resource: str) -> Any:
    if resource == ANY_RESOURCE:
        return resource
    return {"Fn::Sub": resource.replace("${StateMachineName}", STATE_MACHINE_NAME)}


def test_the_table_covers_exactly_the_task_functions() -> None:
    # Given the workflow's task folders
    folders = {task.folder for task in ALL_FUNCTIONS}

    # When the permissions table's keys are compared with them
    # Then every function has rows and no row belongs to a function that does not exist
    assert set(PERMISSIONS) == folders
    # (only the rollout's wave function calls no AWS API: it has no rows)
    assert {folder for folder in folders if not actions_for(folder)} == {"rollout_waves"}


@FOLDERS
def test_the_role_allows_exactly_the_table_actions_and_logging(
    function_roles: dict[str, set[str]], folder: str
) -> None:
    # Given the actions the synthesized role of the function allows
    allowed = function_roles[folder]

    # When they are compared with the table
    # Then they are the table's actions for that folder plus writing logs and traces (and, for a function
    # invoked asynchronously, sending a failed invocation to its on-failure queue), nothing more or less
    assert allowed == actions_for(folder) | set(besides_calls(folder))
    assert set(besides_calls(folder)) == LOGGING_ACTIONS | TRACING_ACTIONS | (
        ON_FAILURE_ACTIONS if folder in EVENT_FOLDERS else set())


Triple = tuple[str, str, str]


def _triples(actions: Any, resources: Any, conditions: Any) -> set[Triple]:
    """Each (action, resource, conditions) a statement or a grant allows, normalized alike."""
    _, rendered, condition = _normalized(actions, resources, conditions)
    return {(action, resource, condition) for action in as_list(actions) for resource in rendered}


def _grants(template: Template, folder: str) -> set[Triple]:
    """What the role's statements allow, logging, tracing and the on-failure destination left aside."""
    return {
        triple
        for statement in _statements(template, folder)
        for triple in _triples(statement["Action"], statement["Resource"], statement.get("Condition"))
        if triple[0] not in LOGGING_ACTIONS | TRACING_ACTIONS | ON_FAILURE_ACTIONS
    }


def _table_grants(folder: str) -> set[Triple]:
    """What the function's rows of the table allow, rendered for the stack's pattern."""
    return {
        triple
        for grant in render(PERMISSIONS[folder], PATTERN, GUARDRAILS)
        for triple in _triples(
            list(grant.actions),
            [_rendered(resource) for resource in grant.resources],
            {
                operator: {key: list(value) if isinstance(value, tuple) else value for key, value in values.items()}
                for operator, values in grant.conditions.items()
            },
        )
    }


@FOLDERS
def test_the_role_grants_exactly_the_table_rows_with_their_resources_and_conditions(
    template: Template, folder: str
) -> None:
    # Given each action the role allows on each resource under its conditions, logging and tracing left aside
    deployed = _grants(template, folder)

    # When it is compared with the table's rows for the function, rendered for the stack's pattern
    expected = _table_grants(folder)

    # Then the role allows each row's actions on the row's resources under the row's conditions, nothing else
    assert deployed == expected
    assert {statement["Effect"] for statement in _statements(template, folder)} == {"Allow"}


@FOLDERS
def test_the_policy_is_minimized_grants_on_any_resource_share_one_statement_with_tracing(
    template: Template, folder: str
) -> None:
    # Given the role's statements, and the table's rows that grant on Resource "*" (the resourceless Describe*)
    statements = _statements(template, folder)
    grants = render(PERMISSIONS[folder], PATTERN, GUARDRAILS)
    on_any = {action for grant in grants if ANY_RESOURCE in grant.resources for action in grant.actions}

    # When the statements on Resource "*" are collected
    on_any_resource = [statement for statement in statements if statement["Resource"] == ANY_RESOURCE]

    # Then, as @aws-cdk/aws-iam:minimizePolicies writes a policy, the statements with the same literal resource
    # and no condition are one: the table's "*" row and X-Ray tracing share it, actions sorted
    assert len(on_any_resource) == 1
    assert "Condition" not in on_any_resource[0]
    assert on_any_resource[0]["Action"] == sorted(on_any | TRACING_ACTIONS)
    # And every other row keeps a statement of its own (each Fn::Sub resource is a distinct value at synthesis,
    # so no two rows are merged), with one more statement for logging and, for a function invoked
    # asynchronously, one for its on-failure queue
    rows_elsewhere = [grant for grant in grants if ANY_RESOURCE not in grant.resources]
    assert len(statements) == len(rows_elsewhere) + 2 + (folder in EVENT_FOLDERS)


def test_every_policy_lists_each_statement_s_actions_once_and_in_order(template: Template) -> None:
    # Given every statement of every IAM policy of the stack (the functions' roles and the state machine's)
    statements = [
        statement
        for policy in template["Resources"].values()
        if policy["Type"] == "AWS::IAM::Policy"
        for statement in as_list(policy["Properties"]["PolicyDocument"]["Statement"])
    ]

    # When their actions are read
    actions = [as_list(statement["Action"]) for statement in statements]

    # Then each statement lists its actions sorted and without repeats, as @aws-cdk/aws-iam:minimizePolicies
    # writes them (the order the constructs added them in is not kept)
    assert statements
    assert all(listed == sorted(set(listed)) for listed in actions)


@FOLDERS
def test_no_action_is_a_wildcard(function_roles: dict[str, set[str]], folder: str) -> None:
    # Given the actions the role allows
    # When they are searched for wildcards
    wildcards = {action for action in function_roles[folder] if "*" in action}

    # Then there is none
    assert wildcards == set()


@FOLDERS
def test_resource_star_is_granted_only_for_actions_that_support_no_resource_type(
    template: Template, folder: str
) -> None:
    # Given the role's statements
    statements = _statements(template, folder)

    # When the actions granted on Resource "*" are collected
    on_any_resource = {
        action
        for statement in statements
        if ANY_RESOURCE in as_list(statement["Resource"])
        for action in as_list(statement["Action"])
    }

    # Then they are all Application Auto Scaling Describe* or X-Ray actions, which have no resource type
    assert on_any_resource <= RESOURCELESS_ACTIONS | TRACING_ACTIONS


@FOLDERS
def test_the_function_writes_logs_to_its_own_log_group_only(template: Template, folder: str) -> None:
    # Given the function, its log group and its role's statements
    _, function = functions_by_folder(template)[folder]
    log_group_id = referenced_id(function["Properties"]["LoggingConfig"]["LogGroup"])
    statements = _statements(template, folder)

    # When the statements granting logs actions are collected
    logging = [
        statement
        for statement in statements
        if any(action.startswith("logs:") for action in as_list(statement["Action"]))
    ]

    # Then there is one, for creating streams and putting events into that log group only
    assert len(logging) == 1
    assert set(as_list(logging[0]["Action"])) == LOGGING_ACTIONS
    assert as_list(logging[0]["Resource"]) == [{"Fn::GetAtt": [log_group_id, "Arn"]}]


def test_the_stack_resources_in_the_table_are_the_stacks_own(template: Template) -> None:
    # Given every Fn::Sub variable the functions' roles use
    variables: dict[str, Any] = {}
    for folder in [task.folder for task in ALL_FUNCTIONS]:
        for statement in _statements(template, folder):
            for resource in as_list(statement["Resource"]):
                if isinstance(resource, dict) and isinstance(resource.get("Fn::Sub"), list):
                    variables.update(resource["Fn::Sub"][1])

    # When they are resolved against the template
    (table_id,) = [k for k, r in template["Resources"].items() if r["Type"] == "AWS::DynamoDB::Table"]
    _, machine = state_machine(template)

    # Then the table is the stack's updates table and the executions are those of its state machine
    assert variables["UpdatesTableArn"] == {"Fn::GetAtt": [table_id, "Arn"]}
    assert machine["Properties"]["StateMachineName"] == STATE_MACHINE_NAME
    assert variables["StateMachineArn"]["Fn::Join"][1][-1].endswith(":" + machine["Properties"]["StateMachineName"])


def test_rendering_scopes_endpoint_names_and_created_configs_by_the_pattern() -> None:
    # Given a pattern with capitals
    pattern = "Churn-*"

    # When the table is rendered for it
    resources = {resource for grants in PERMISSIONS.values() for grant in render(grants, pattern)
                 for resource in grant.resources}

    # Then no placeholder is left, endpoints and created configs carry the pattern in both spellings
    # (SageMaker ARNs are lower case), and no endpoint or created config is granted beyond it
    assert not [resource for resource in resources if ENDPOINT_NAME in resource]
    sagemaker = "arn:${AWS::Partition}:sagemaker:${AWS::Region}:${AWS::AccountId}"
    for name in ("Churn-*", "churn-*"):
        assert f"{sagemaker}:endpoint/{name}" in resources
        assert f"{sagemaker}:endpoint-config/{name}-*" in resources
    assert f"{sagemaker}:endpoint/*" not in resources


def test_scalable_target_writes_are_limited_to_sagemaker_variants(template: Template) -> None:
    # Given every statement of every function's role that writes scalable targets
    writes = {"application-autoscaling:RegisterScalableTarget", "application-autoscaling:DeregisterScalableTarget",
              "application-autoscaling:PutScalingPolicy", "application-autoscaling:PutScheduledAction"}
    statements = [statement for task in ALL_FUNCTIONS for statement in _statements(template, task.folder)
                  if writes & set(as_list(statement["Action"]))]

    # When their conditions are read
    conditions = [statement.get("Condition") for statement in statements]

    # Then each is limited to the SageMaker namespace and its variant dimensions
    assert len(statements) == 3  # deregister, restore, recover
    assert conditions == [{"StringEquals": {
        "application-autoscaling:service-namespace": "sagemaker",
        "application-autoscaling:scalable-dimension": ["sagemaker:variant:DesiredInstanceCount",
                                                       "sagemaker:variant:DesiredProvisionedConcurrency"],
    }}] * 3


def test_a_wildcard_resource_without_a_reason_is_refused() -> None:
    # Given a grant on a wildcard resource that the table does not explain
    from infra.permissions import Grant, wildcards

    grant = Grant(actions=("sagemaker:DeleteModel",), resources=("arn:aws:sagemaker:eu-west-1:1:model/*",))

    # When its acknowledgement reasons are asked for
    # Then the stack refuses to be built rather than acknowledge a wildcard without a reason
    with pytest.raises(ValueError, match="without a reason in WILDCARD_REASONS"):
        wildcards((grant,), "*")
