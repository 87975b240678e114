"""What users install: a non-editable install of the project gives every command, run from outside the checkout.

The wheel is built from the checkout and installed into a folder of its own (its dependencies are the test
environment's); the command then runs with that folder first on the import path and the checkout nowhere on
it, so a module missing from the package, or code that reaches the checkout by its path, fails here.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
COMMANDS = ("start", "plan", "status", "history", "restore")


# What the wheel is built from: the build writes build/ and *.egg-info next to its sources, so it works on a
# copy, and two test workers building at once cannot meet in the checkout.
SOURCES = ("pyproject.toml", "endpoint_updater", "lambdas", "statemachine")


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    source, wheels, target = (tmp_path_factory.mktemp(name) for name in ("source", "wheel", "site"))
    for name in SOURCES:
        if (ROOT / name).is_dir():
            shutil.copytree(ROOT / name, source / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        else:
            shutil.copy2(ROOT / name, source / name)
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "--quiet"]
    subprocess.run([*pip, "wheel", "--no-deps", "--no-build-isolation", "--wheel-dir", str(wheels), str(source)],
                   check=True, cwd=wheels)
    (wheel,) = wheels.glob("endpoint_updater-*.whl")
    subprocess.run([*pip, "install", "--no-deps", "--target", str(target), str(wheel)], check=True, cwd=wheels)
    return target


def _run(installed: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith(("AWS_", "UPDATES_TABLE"))}
    env["PYTHONPATH"] = str(installed)
    return subprocess.run([str(installed / "bin" / "endpoint-updater"), *args], cwd=installed.parent, env=env,
                          capture_output=True, text=True, timeout=120)


def test_the_installed_package_holds_the_code_and_the_definition_without_the_checkout(installed: Path) -> None:
    # Given the installed package, run from outside the checkout
    probe = ("import json, endpoint_updater, lambdas.restore_scaling.handler as h, statemachine; "
             "print(json.dumps([endpoint_updater.__file__, h.__file__, statemachine.read_definition()[:1]]))")
    env = {**os.environ, "PYTHONPATH": str(installed)}
    out = subprocess.run([sys.executable, "-c", probe], cwd=installed.parent, env=env, capture_output=True,
                         text=True, check=True)

    # Then every module comes from the install, and the definition file is in it
    package, handler, first = json.loads(out.stdout)
    assert package.startswith(str(installed)) and handler.startswith(str(installed))
    assert first == "{"


@pytest.mark.parametrize("command", COMMANDS)
def test_every_installed_subcommand_answers_help(installed: Path, command: str) -> None:
    run = _run(installed, command, "--help")
    assert run.returncode == 0, run.stderr
    assert "Usage: endpoint-updater " + command in run.stdout


def test_the_installed_break_glass_restore_gives_its_documented_answer(installed: Path) -> None:
    # Given the installed command and the embedded emulator, where churn-prod was never updated
    run = _run(installed, "restore", "--local", "--endpoint", "churn-prod")

    # Then it answers in one line with the documented exit code for "nothing found" (4), not a traceback
    assert run.returncode == 4, run.stderr
    assert "Traceback" not in run.stderr
    assert "no update of endpoint churn-prod is recorded" in run.stderr
