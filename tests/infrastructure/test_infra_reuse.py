"""Another CDK app can instantiate the workflow with its own settings; the stack reads its own from context."""

from __future__ import annotations

from typing import Any

import pytest
from synthesized import Template, as_list, functions_by_folder, referenced_id, resources_of_type, role_statements

from infra import config, settings


def _resources_granted(template: Template) -> set[str]:
    return {
        str(resource)
        for _, function in functions_by_folder(template).values()
        for statement in role_statements(template, referenced_id(function["Properties"]["Role"]))
        for resource in as_list(statement["Resource"])
    }


def _template(stack: Any) -> Template:
    from aws_cdk.assertions import Template as CdkTemplate

    document: Template = CdkTemplate.from_stack(stack).to_json()
    return document


def test_another_app_instantiates_the_workflow_with_its_own_settings() -> None:
    # Given another app's own stack, and the workflow construct imported from this project
    import aws_cdk as cdk
    from aws_cdk import aws_logs as logs

    from infra.workflow import EndpointUpdateWorkflow, WorkflowProps

    app = cdk.App()
    stack = cdk.Stack(app, "MlPlatform", env=cdk.Environment(account="111122223333", region="eu-west-1"))

    # When it instantiates two workflows with their own settings, one per team
    churn = EndpointUpdateWorkflow(stack, "ChurnUpdates", props=WorkflowProps(
        powertools_layer_version=40, endpoint_name_pattern="churn-*", log_retention=logs.RetentionDays.ONE_YEAR))
    EndpointUpdateWorkflow(stack, "FraudUpdates", props=WorkflowProps(
        powertools_layer_version=40, endpoint_name_pattern="fraud-*"))
    template = _template(stack)

    # Then the template holds both state machines and both sets of functions, in that app's region
    assert len(resources_of_type(template, "AWS::StepFunctions::StateMachine")) == 2
    functions = resources_of_type(template, "AWS::Lambda::Function").values()
    # 12 per workflow: 9 task functions, recovery, start and resume (no notification function without a topic)
    assert len(functions) == 24
    assert {function["Properties"]["Layers"][0] for function in functions} == {
        "arn:aws:lambda:eu-west-1:017000801446:layer:AWSLambdaPowertoolsPythonV3-python312-arm64:40"}
    # And each workflow's roles name only its own endpoints
    churn_roles = {stack.get_logical_id(function.role.node.default_child)  # type: ignore[union-attr,arg-type]
                   for function in churn.functions.values()}
    churn_resources = {
        str(resource) for role_id in churn_roles for statement in role_statements(template, role_id)
        for resource in as_list(statement["Resource"])}
    assert any(":endpoint/churn-*" in resource for resource in churn_resources)
    assert not any("fraud-" in resource for resource in churn_resources)
    assert not any(resource.endswith(":endpoint/*'}") for resource in churn_resources)
    # And the log retention is that app's choice, with no topic since none was given
    retentions = {group["Properties"]["RetentionInDays"] for group in
                  resources_of_type(template, "AWS::Logs::LogGroup").values()}
    assert 365 in retentions
    assert churn.notification_topic is None
    assert resources_of_type(template, "AWS::SNS::Topic") == {}


def test_the_props_refuse_a_malformed_pattern_naming_the_setting() -> None:
    # Given the workflow's props
    from infra.workflow import WorkflowProps

    # When they are made with an endpoint name pattern that no endpoint name can match
    # Then they are refused with the setting's name and what it allows
    with pytest.raises(ValueError, match=r"endpointNamePattern.*letters, digits and hyphens"):
        WorkflowProps(powertools_layer_version=40, endpoint_name_pattern="churn prod")
    with pytest.raises(ValueError, match="powertoolsLayerVersion"):
        WorkflowProps(powertools_layer_version=0)


def test_the_stack_scopes_its_roles_by_the_pattern_in_context() -> None:
    # Given `-c endpointNamePattern=churn-*`
    import aws_cdk as cdk

    from infra.stack import EndpointUpdaterStack

    app = cdk.App(context={**settings.context_defaults(), config.ENDPOINT_NAME_PATTERN: "churn-*"})

    # When the stack is synthesized (cdk-nag included)
    resources = _resources_granted(_template(EndpointUpdaterStack(app, "Given")))

    # Then endpoints and created configs are granted only under that pattern
    assert any("endpoint/churn-*" in resource for resource in resources)
    assert any("endpoint-config/churn-*-*" in resource for resource in resources)
    assert not any("endpoint/*" in resource for resource in resources)


@pytest.mark.parametrize("pattern", ["churn prod", "-churn", "churn_prod", "x" * 64, 7])
def test_a_malformed_pattern_in_context_stops_the_synthesis(pattern: Any) -> None:
    # Given a context pattern that is not an endpoint name with wildcards
    import aws_cdk as cdk

    from infra.stack import EndpointUpdaterStack

    app = cdk.App(context={**settings.context_defaults(), config.ENDPOINT_NAME_PATTERN: pattern})

    # When the stack is built
    # Then it stops with one line naming the setting
    with pytest.raises(ValueError, match=r"context value 'endpointNamePattern' must be an endpoint name"):
        EndpointUpdaterStack(app, "Given")
