"""The installed package declares every third-party distribution its code imports.

The packaging tests install the wheel without its dependencies (the test environment has them); this test is
what keeps `pip install .` on a fresh machine from missing one: every module that the installed packages
import from outside the standard library and the project must come from a distribution that pyproject.toml's
`dependencies` names.
"""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
INSTALLED = ("endpoint_updater", "lambdas", "statemachine")


def _normalized(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _declared() -> set[str]:
    dependencies = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["dependencies"]
    return {_normalized(re.split(r"[\[<>=!~; ]", spec, maxsplit=1)[0]) for spec in dependencies}


def _imported_top_levels() -> dict[str, str]:
    """Top-level module -> the first file importing it, for every absolute import of the installed code."""
    found: dict[str, str] = {}
    for package in INSTALLED:
        for path in sorted((ROOT / package).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                names = [alias.name for alias in node.names] if isinstance(node, ast.Import) else \
                    [node.module] if isinstance(node, ast.ImportFrom) and node.module and not node.level else []
                for name in names:
                    found.setdefault(name.split(".")[0], str(path.relative_to(ROOT)))
    return found


def test_every_third_party_import_of_the_installed_code_is_a_declared_dependency() -> None:
    # Given the modules the installed code imports, less the standard library and the project's own
    third_party = {module: where for module, where in _imported_top_levels().items()
                   if module not in sys.stdlib_module_names and module not in INSTALLED}
    distributions = packages_distributions()

    # When each is traced to the distribution that provides it
    missing = {module: where for module, where in third_party.items()
               if not {_normalized(d) for d in distributions.get(module, [])} & _declared()}

    # Then each is declared (a module no distribution provides here is missing too)
    assert third_party, "the installed code imports no third-party module: the scan found nothing"
    assert not missing, f"imported but not in pyproject.toml's dependencies: {missing}"
