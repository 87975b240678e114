"""The functions run with the AWS SDK the tests run with: one layer of the pinned boto3 and botocore, built at
synth from the installed distributions (infra/sdk_layer.py), attached to every function."""

from __future__ import annotations

import importlib.metadata
import re
import sys
import zipfile
from pathlib import Path

import boto3
import botocore
import pytest
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from synthesized import Template, functions_by_folder, resources_of_type

from infra import sdk_layer, settings

LAMBDA_PYTHON = "3.12"


def the_layer(template: Template) -> tuple[str, dict]:
    layers = resources_of_type(template, "AWS::Lambda::LayerVersion")
    assert len(layers) == 1, sorted(layers)
    return next(iter(layers.items()))


def staged_zip(template: Template, cloud_assembly: Path) -> zipfile.ZipFile:
    _, layer = the_layer(template)
    return zipfile.ZipFile(cloud_assembly / layer["Metadata"]["aws:asset:path"])


def version_in(archive: zipfile.ZipFile, module: str) -> str:
    text = archive.read(f"python/{module}/__init__.py").decode()
    match = re.search(r"^__version__ = ['\"]([^'\"]+)['\"]", text, re.MULTILINE)
    assert match, module
    return match.group(1)


def test_every_function_carries_the_one_sdk_layer_after_powertools(template: Template) -> None:
    # Given the stack's own layer and its functions
    layer_id, layer = the_layer(template)

    # When each function's layers are read
    functions = functions_by_folder(template).items()
    layers = {folder: function["Properties"]["Layers"] for folder, (_, function) in functions}

    # Then every function (task and event-invoked) ends with it, so its files win over any earlier layer's
    assert len(layers) == 18
    assert {folder: ls[-1] for folder, ls in layers.items()} == {folder: {"Ref": layer_id} for folder in layers}
    # And the layer is built for the functions' runtime and architecture
    assert layer["Properties"]["CompatibleRuntimes"] == [settings.RUNTIME.name]
    assert layer["Properties"]["CompatibleArchitectures"] == ["arm64"]


def test_the_deployed_botocore_is_the_one_the_tests_run_with(template: Template, cloud_assembly: Path) -> None:
    # Given the staged zip of the layer, as it is uploaded
    with staged_zip(template, cloud_assembly) as archive:
        # When the versions of the SDK it holds are read
        deployed = {"botocore": version_in(archive, "botocore"), "boto3": version_in(archive, "boto3")}

    # Then they are the versions this test process imports, and the ones requirements.txt pins
    assert deployed == {"botocore": botocore.__version__, "boto3": boto3.__version__}
    pins = sdk_layer.pinned_versions()
    assert deployed == {"botocore": pins["botocore"], "boto3": pins["boto3"]}


def test_the_layer_is_pure_python_with_bytecode_only_for_the_runtime(template: Template,
                                                                     cloud_assembly: Path) -> None:
    # Given the staged zip of the layer
    with staged_zip(template, cloud_assembly) as archive:
        names = archive.namelist()
        wheels = {name: archive.read(name).decode() for name in names if name.endswith(".dist-info/WHEEL")}
        compiled = {name: archive.read(name)[4:8] for name in names if name.endswith(".pyc")}

    # When its entries are inspected
    native = [name for name in names if name.endswith(sdk_layer.NATIVE_SUFFIXES)]
    tags = {name: re.findall(r"^Tag: (\S+)$", text, re.MULTILINE) for name, text in wheels.items()}
    runtime_tag = "cpython-" + LAMBDA_PYTHON.replace(".", "")

    # Then everything is under python/ (on Lambda's search path), with no native code; bytecode, if any, is the
    # runtime Python's, hash-based and never checked against the sources' times (flags 0b01, PEP 552)
    assert names and all(name.startswith("python/") for name in names)
    assert native == []
    assert all(re.search(rf"/__pycache__/[^/]+\.{runtime_tag}\.pyc$", name) for name in compiled), sorted(compiled)
    assert set(compiled.values()) <= {(1).to_bytes(4, "little")}
    assert len(wheels) == len(settings.SDK_DISTRIBUTIONS)
    assert all(t and all(tag.endswith("-none-any") for tag in t) for t in tags.values()), tags


def _needs(name: str) -> set[str]:
    """`name` and what it requires to run (no extras), installed here."""
    needed, todo = set(), [name]
    while todo:
        current = sdk_layer.canonical(todo.pop())
        if current in needed:
            continue
        needed.add(current)
        for text in importlib.metadata.requires(current) or []:
            requirement = Requirement(text)
            environment = {"extra": "", "python_version": LAMBDA_PYTHON}
            if requirement.marker is None or requirement.marker.evaluate(environment):
                todo.append(requirement.name)
    return needed


def test_the_layer_holds_exactly_boto3_and_what_it_needs_each_fit_for_the_runtime() -> None:
    # Given the distributions of the layer and what boto3 needs on Python 3.12
    # When they are compared
    # Then they are the same set, and each one supports the functions' Python
    assert {sdk_layer.canonical(name) for name in settings.SDK_DISTRIBUTIONS} == _needs("boto3")
    assert settings.RUNTIME.name == f"python{LAMBDA_PYTHON}"
    for name in settings.SDK_DISTRIBUTIONS:
        supported = importlib.metadata.metadata(name)["Requires-Python"] or ""
        assert LAMBDA_PYTHON in SpecifierSet(supported), (name, supported)


def test_requirements_pin_every_sdk_distribution_exactly_at_the_installed_version() -> None:
    # Given requirements.txt, which the virtual environment installs
    pins = sdk_layer.pinned_versions()

    # When the pins are compared with the installed distributions
    installed = {name: importlib.metadata.version(name) for name in pins}

    # Then each one is pinned (name==version) and installed at exactly that version
    assert set(pins) == set(settings.SDK_DISTRIBUTIONS)
    assert pins == installed


def test_a_synth_with_another_installed_botocore_fails_and_says_what_to_do(tmp_path: Path) -> None:
    # Given pins that differ from what is installed
    pins = {**sdk_layer.pinned_versions(), "botocore": "1.0.0"}

    # When the layer is built
    with pytest.raises(sdk_layer.SdkLayerError) as refused:
        sdk_layer.build(pins, build_dir=tmp_path)

    # Then the synth stops, naming the distribution, both versions and the fix; nothing is built
    message = str(refused.value)
    assert f"botocore {botocore.__version__} is installed, 1.0.0 pinned" in message
    assert "make .venv/.installed" in message
    assert list(tmp_path.iterdir()) == []


def test_requirements_that_do_not_pin_botocore_exactly_are_refused(tmp_path: Path) -> None:
    # Given a requirements file where botocore comes only as boto3's dependency, and urllib3 with a range
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("boto3==1.44.5\ns3transfer==0.19.3\njmespath==1.1.0\npython-dateutil==2.9.0.post0\n"
                            "six==1.17.0\nurllib3>=2\n")

    # When the pins are read
    with pytest.raises(sdk_layer.SdkLayerError) as refused:
        sdk_layer.pinned_versions(requirements)

    # Then both are named
    assert "not pinned: botocore, urllib3" in str(refused.value)


def test_the_layer_is_built_once_per_set_of_pins_and_the_same_bytes_each_time(tmp_path: Path) -> None:
    # Given the pinned versions
    pins = sdk_layer.pinned_versions()

    # When the layer is built twice into one folder, and once into another
    first = sdk_layer.build(pins, build_dir=tmp_path / "a", python=None)
    modified = first.stat().st_mtime_ns
    again = sdk_layer.build(pins, build_dir=tmp_path / "a", python=None)
    elsewhere = sdk_layer.build(pins, build_dir=tmp_path / "b", python=None)

    # Then the second build reuses the first zip, and a fresh build has the same bytes (a stable asset hash)
    assert again == first and again.stat().st_mtime_ns == modified
    assert elsewhere.read_bytes() == first.read_bytes()
    assert sdk_layer.cache_key({**pins, "botocore": "1.0.0"}) != sdk_layer.cache_key(pins)
    assert sdk_layer.cache_key(pins, bytecode=False) != sdk_layer.cache_key(pins)
    # And it holds every file of the distributions but their installed bytecode (the development Python's)
    with zipfile.ZipFile(first) as archive:
        names = set(archive.namelist())
    assert "python/botocore/data/sagemaker/2017-07-24/service-2.json.gz" in names
    assert not [name for name in names if name.endswith(".pyc")]


def test_bytecode_is_compiled_only_by_an_interpreter_of_the_runtime_version(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given an interpreter of another Python version named as the one to compile with, and none on the PATH
    monkeypatch.setenv(sdk_layer.RUNTIME_PYTHON_ENV, sys.executable)
    monkeypatch.setattr(sdk_layer.shutil, "which", lambda _: None)

    # When the compiler of the layer's bytecode is looked for
    # Then this one is not taken unless it is the runtime's version
    expected = sys.executable if sys.version_info[:2] == (3, 12) else None
    assert sdk_layer.runtime_python() == expected
