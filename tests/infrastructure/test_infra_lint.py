"""cfn-lint finds no error in the synthesized template."""

from __future__ import annotations

from pathlib import Path

from cfnlint.api import ManualArgs, lint

from infra import settings

# The regions the stack is meant for: every commercial region with the public Powertools layer; a few
# representative ones keep the run short.
REGIONS = ["us-east-1", "eu-west-1", "ap-southeast-2"]


def test_cfn_lint_finds_no_error(cloud_assembly: Path) -> None:
    # Given the synthesized template
    template = cloud_assembly / f"{settings.STACK_ID}.template.json"

    # When cfn-lint checks it for the stack's regions
    matches = lint(template.read_text(), config=ManualArgs(regions=REGIONS))

    # Then it reports no error (E); warnings are informational
    errors = [f"{match.rule.id} {match.message} ({'/'.join(map(str, match.path))})" for match in matches
              if match.rule.id.startswith("E")]
    assert errors == []
