"""The README's state machine diagram is generated from the ASL file and kept up to date."""

from __future__ import annotations

import json
from pathlib import Path

from statemachine import all_states, diagram, read_definition

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
