"""docs/settings-and-permissions.md's per-function permissions table and wildcard reasons are generated from
infra/permissions.py (`make docs-tables`), and the table is every role of the synthesized template."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from synthesized import Template, as_list, functions_by_folder, referenced_id, resources_of_type, role_statements

from infra import config, permissions, settings
from infra.permissions import ANY_RESOURCE, PERMISSIONS, Grant, render, shown
from infra.settings import context_defaults
from statemachine import EVENT_FUNCTIONS, ROLLOUT_FUNCTIONS, TASK_FUNCTIONS

SETTINGS_PAGE = settings.REPO_ROOT / "docs" / "settings-and-permissions.md"
# The settings the session's template is synthesized with (cdk.json's context).
PATTERN = config.endpoint_name_pattern(context_defaults().get(config.ENDPOINT_NAME_PATTERN))
GUARDRAILS = config.guardrails(context_defaults().get)
STATE_MACHINE_NAME = f"{settings.STACK_ID}-Workflow"
FOLDERS = [task.folder for task in TASK_FUNCTIONS + EVENT_FUNCTIONS + ROLLOUT_FUNCTIONS]

Conditions = dict[str, dict[str, Any]]
Row = tuple[list[str], list[str], Conditions]
Triple = tuple[str, str, str]


def _conditions(cell: str) -> Conditions:
    """The Condition cell ("Operator key `value` or `value`; ...") as a policy's Condition block."""
    conditions: Conditions = {}
    for part in filter(None, cell.split("; ")):
        operator, key, values = part.split(" ", 2)
        found = re.findall(r"`([^`]+)`", values)
        conditions.setdefault(operator, {})[key] = found[0] if len(found) == 1 else tuple(found)
    return conditions


def page_table(page: str) -> dict[str, list[Row]]:
    """The page's per-function table: folder -> its rows as (actions, resources as shown, conditions)."""
    lines = page.splitlines()
    (header,) = [index for index, line in enumerate(lines) if line.startswith("| Function | Actions | Resources |")]
    table: dict[str, list[Row]] = {}
    folder = ""
    for line in lines[header + 2:]:
        if not line.startswith("|"):
            break
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        folder = cells[0].strip("`") or folder
        table.setdefault(folder, []).append((
            [action.strip() for action in cells[1].split(",")],
            re.findall(r"`([^`]+)`", cells[2]),
            _conditions(cells[3]) if len(cells) > 3 else {},
        ))
    return table


def _normalized(conditions: Any) -> str:
    return repr(sorted((operator, key, tuple(sorted(as_list(list(value) if isinstance(value, tuple) else value))))
                       for operator, values in (conditions or {}).items() for key, value in values.items()))


def _page_triples(rows: list[Row]) -> set[Triple]:
    """Each (action, resource, conditions) of a function's rows, the placeholders filled in from the stack's
    settings."""
    return {
        (action, resource.replace("<state machine>", STATE_MACHINE_NAME), _normalized(grant.conditions))
        for actions, resources, conditions in rows
        for grant in render((Grant(actions=tuple(actions), resources=tuple(resources), conditions=conditions),),
                            PATTERN, GUARDRAILS)
        for action in grant.actions
        for resource in grant.resources
    }


def _role_triples(template: Template, folder: str) -> set[Triple]:
    """Each (action, resource, conditions) the function's synthesized role allows, the resource written as the
    page does."""
    function_id, function = functions_by_folder(template)[folder]
    log_group = referenced_id(function["Properties"]["LoggingConfig"]["LogGroup"])
    on_failure = {
        referenced_id(invoke["Properties"]["DestinationConfig"]["OnFailure"]["Destination"])
        for invoke in resources_of_type(template, "AWS::Lambda::EventInvokeConfig").values()
        if invoke["Properties"]["FunctionName"] == {"Ref": function_id}
    }
    queues = {queue_id for queue_id in resources_of_type(template, "AWS::SQS::Queue")
              if "UndeliveredEvents" in queue_id}

    def written(resource: Any) -> str:
        if resource == ANY_RESOURCE:
            return resource
        if isinstance(resource, dict) and "Fn::Sub" in resource:
            return shown(as_list(resource["Fn::Sub"])[0])
        target = referenced_id(resource)
        if target == log_group:
            return shown(permissions.OWN_LOG_GROUP)
        if target in on_failure and target in queues:
            return shown(permissions.ON_FAILURE_QUEUE)
        raise AssertionError(f"the role of {folder} grants on {resource!r}, which the page cannot name")

    return {
        (action, written(resource), _normalized(statement.get("Condition")))
        for statement in role_statements(template, referenced_id(function["Properties"]["Role"]))
        for action in as_list(statement["Action"])
        for resource in as_list(statement["Resource"])
    }


def test_the_settings_page_shows_the_generated_table_and_wildcard_reasons() -> None:
    # Given the settings page as committed
    page = SETTINGS_PAGE.read_text(encoding="utf-8")

    # When its permissions table and wildcard list are generated again from infra/permissions.py
    generated = permissions.replaced(page)

    # Then the page already holds them
    assert page == generated, ("docs/settings-and-permissions.md's permissions table or wildcard reasons differ "
                               "from infra/permissions.py: run `make docs-tables` and commit the page")


def test_the_page_table_holds_every_action_of_every_role(function_roles: dict[str, set[str]]) -> None:
    # Given the page's table, and the actions of each function's role in the synthesized template
    table = page_table(SETTINGS_PAGE.read_text(encoding="utf-8"))

    # When the table's actions are collected per function
    shown_actions = {folder: {action for actions, _, _ in rows for action in actions} for folder, rows in table.items()}

    # Then each function's row lists exactly the actions of its role, logging, tracing and the on-failure
    # destination included, and the table has a row for every function and no other
    assert shown_actions == function_roles
    assert set(table) == set(FOLDERS)


@pytest.mark.parametrize("folder", FOLDERS)
def test_the_page_table_holds_each_role_s_actions_on_their_resources_under_their_conditions(
    template: Template, folder: str
) -> None:
    # Given the page's rows for the function, the placeholders filled in from the stack's settings
    rows = page_table(SETTINGS_PAGE.read_text(encoding="utf-8"))[folder]

    # When they are compared with what the function's synthesized role allows, each resource written as the
    # page writes it
    # Then they allow the same actions on the same resources under the same conditions
    assert _page_triples(rows) == _role_triples(template, folder)


def test_the_table_shows_the_builder_s_grants_besides_the_permissions() -> None:
    # Given the generated table
    table = page_table(permissions.permissions_table())

    # When each function's rows are read
    # Then every function writes its own log group and traces, and only the functions EventBridge invokes send
    # to the on-failure queue
    for folder, rows in table.items():
        pairs = {(action, resource) for actions, resources, _ in rows for action in actions for resource in resources}
        assert {("logs:PutLogEvents", "the function's log group"), ("xray:PutTraceSegments", "*")} <= pairs
        on_failure = ("sqs:SendMessage", "the UndeliveredEvents queue") in pairs
        assert on_failure == (folder in {task.folder for task in EVENT_FUNCTIONS}), folder
    assert set(table) == set(PERMISSIONS)


def test_the_wildcard_list_names_every_wildcard_with_its_reason_as_markdown_text() -> None:
    # Given the generated list of wildcards
    listed = permissions.wildcard_list()

    # When its entries are read
    entries = dict(re.findall(r"^- `([^`]+)`: (.*)$", listed, flags=re.MULTILINE))

    # Then every wildcard resource of the table is there once, X-Ray's "*" with it, and the reasons' <names>
    # and * are escaped, so that Markdown shows them rather than taking them for HTML tags or emphasis
    wild = {shown(resource) for grants in PERMISSIONS.values() for grant in grants for resource in grant.resources
            if "*" in resource or "<" in resource}
    assert set(entries) == wild | {ANY_RESOURCE}
    assert len(entries) == len(listed.splitlines())
    assert entries[ANY_RESOURCE].startswith(permissions.TRACING_REASON)
    assert "\\<endpoint>" in entries["endpoint-config/<endpointNamePattern>-*"]
    assert not re.search(r"(?<!\\)[<*]", "".join(entries.values()))


def test_an_unnamed_stack_variable_is_refused() -> None:
    # Given a resource made of a stack variable the page has no name for
    # When it is shown
    # Then the generation stops, naming the resource, rather than print a CloudFormation variable
    with pytest.raises(ValueError, match=r"UnknownArn"):
        shown("${UnknownArn}")


def test_check_mode_fails_on_a_stale_page_and_write_mode_fixes_it(tmp_path: Path) -> None:
    # Given a page whose generated sections are stale, and one without markers
    stale = tmp_path / "settings.md"
    stale.write_text("# x\n\n" + "\n".join(f"{start}\n| old |\n{end}\n" for start, end in
                                           (permissions.TABLE_MARKERS, permissions.WILDCARD_MARKERS)))
    unmarked = tmp_path / "unmarked.md"
    unmarked.write_text("# x\n")

    # When the page is checked, written, and checked again
    # Then the first check fails, the second passes with the table and the list in place, and a page without
    # markers is an error, left unchanged
    assert permissions.main(["--check", str(stale)]) == 1
    assert permissions.main(["--write", str(stale)]) == 0
    assert permissions.main(["--check", str(stale)]) == 0
    assert "| `recover_scaling` |" in stale.read_text() and "- `model-package/*`: " in stale.read_text()
    assert permissions.main(["--write", str(unmarked)]) == 2
    assert unmarked.read_text() == "# x\n"
