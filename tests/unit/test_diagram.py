"""The README's state machine diagram is generated from the ASL file and kept up to date."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from statemachine import all_states, diagram, read_definition, read_rollout_definition

README = Path(__file__).resolve().parents[2] / "README.md"


def test_the_readme_diagram_is_what_the_script_generates_now() -> None:
    document = README.read_text()
    assert diagram.replaced(document) == document, "the README's diagram is out of date: run `make diagram`"


def test_the_diagram_shows_every_state_and_every_transition() -> None:
    definition = json.loads(read_definition())
    text = diagram.mermaid(definition)
    states = all_states(definition["States"])
    for name, state in states.items():
        assert any(line.strip().startswith(name) for line in text.splitlines()), name
        for target in [state.get("Next"), state.get("Default"), *[c["Next"] for c in state.get("Choices", [])]]:
            if target:
                assert any(line.strip().startswith(f"{name} -") and line.endswith(f" {target}")
                           for line in text.splitlines()), (name, target)


def test_check_mode_fails_on_a_stale_diagram(tmp_path: Path) -> None:
    stale = tmp_path / "README.md"
    stale.write_text(f"# x\n{diagram.START_MARKER}\n```mermaid\nflowchart TD\n```\n{diagram.END_MARKER}\n")
    assert diagram.main(["--check", str(stale)]) == 1
    assert diagram.main(["--write", str(stale)]) == 0
    assert diagram.main(["--check", str(stale)]) == 0
    assert "IsDryRun" in stale.read_text()


def _every_state(states: dict[str, Any]) -> dict[str, Any]:
    found = dict(states)
    for state in states.values():
        for inner in [*state.get("Branches", []), *([state["ItemProcessor"]] if "ItemProcessor" in state else [])]:
            found.update(_every_state(inner["States"]))
    return found


def test_the_readme_holds_the_rollout_diagram_generated_from_its_asl_file() -> None:
    # Given the README / When its rollout diagram's markers are looked for
    document = README.read_text()
    start, end = document.find(diagram.ROLLOUT_START_MARKER), document.find(diagram.ROLLOUT_END_MARKER)
    # Then they are there, and between them is what the script draws from statemachine/rollout.asl.json now
    assert 0 <= start < end
    assert document[start:end + len(diagram.ROLLOUT_END_MARKER)] == diagram.section(
        diagram.ROLLOUT_START_MARKER, diagram.ROLLOUT_END_MARKER, read_rollout_definition)


def test_the_rollout_diagram_shows_the_map_and_the_states_inside_it() -> None:
    # Given the rollout definition, whose waves are a Map state
    definition = json.loads(read_rollout_definition())
    text = diagram.mermaid(definition)
    lines = [line.strip() for line in text.splitlines()]
    # When it is drawn / Then every state is a node, those of each Map inside its subgraph, with every transition
    for name, state in _every_state(definition["States"]).items():
        assert any(line.startswith(name) for line in lines), name
        for target in [state.get("Next"), state.get("Default"), *[c["Next"] for c in state.get("Choices", [])],
                       *[c["Next"] for c in state.get("Catch", [])]]:
            if target:
                assert any(line.startswith(f"{name} -") and line.endswith(f" {target}") for line in lines), \
                    (name, target)
    maps = [name for name, state in definition["States"].items() if state["Type"] == "Map"]
    assert maps and all(f'subgraph {name}["{name} (Map)"]' in lines for name in maps)
    # And no edge label holds a double quote inside it, which would end Mermaid's label early
    assert all(line.count('"') in (0, 2) for line in lines if "-->|" in line or "-.->|" in line)


def test_check_mode_fails_on_a_stale_rollout_diagram(tmp_path: Path) -> None:
    stale = tmp_path / "README.md"
    stale.write_text(f"# x\n{diagram.ROLLOUT_START_MARKER}\n```mermaid\nflowchart TD\n```\n"
                     f"{diagram.ROLLOUT_END_MARKER}\n")
    assert diagram.main(["--check", str(stale)]) == 1
    assert diagram.main(["--write", str(stale)]) == 0
    assert diagram.main(["--check", str(stale)]) == 0
    assert "RunWave" in stale.read_text()


def _leaves(rule: dict[str, Any]) -> list[dict[str, Any]]:
    if "And" in rule or "Or" in rule:
        return [leaf for part in rule.get("And", rule.get("Or", [])) for leaf in _leaves(part)]
    if "Not" in rule:
        return _leaves(rule["Not"])
    return [rule]


def test_every_choice_rule_is_drawn_with_its_comparison() -> None:
    # Given every comparison of every Choice rule of both state machines
    leaves = [leaf for text in (read_definition(), read_rollout_definition())
              for state in _every_state(json.loads(text)["States"]).values()
              for rule in state.get("Choices", []) for leaf in _leaves(rule)]

    # When each is written as the diagram writes it
    # Then none is shown as its bare variable: the comparison (IsString, StringMatches...) is always said
    assert leaves
    bare = [leaf for leaf in leaves if diagram._condition(leaf) == str(leaf["Variable"]).removeprefix("$.")]
    assert bare == []
