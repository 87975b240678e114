"""The functions' AWS SDK: a Lambda layer holding exactly the boto3 and botocore the project pins and tests with.

botocore parses every response with its own service model and drops the fields that model does not know, and
the SDK in the Lambda runtime is whatever version AWS ships for that runtime in that region. A ProductionVariant
field added to the API after that version (InferenceAmiVersion, CapacityReservationConfig, ...) would be missing
from DescribeEndpointConfig's answer, so the copied config would silently lose it; and the validation reads the
same model (ProductionVariant members, the instance types). With this layer the deployed functions parse with
the model the tests use.

The layer is built at synth without Docker and without the network: the installed distributions of the SDK
(all pure Python, py3-none-any wheels) are copied from the running environment into a zip, after checking with
importlib.metadata that each one is the version requirements.txt pins. The zip is kept under build/, keyed by
the pinned versions, so that later syntheses (one per test worker) reuse it.

Bytecode: /opt is read-only in Lambda, so a layer without .pyc files has botocore compiled from source at every
cold start (about twice the import time). When an interpreter of the runtime's Python version is found
($SDK_LAYER_PYTHON, this interpreter, or `python3.12` on the PATH), the layer carries bytecode compiled by it,
hash-based and unchecked (valid whatever the files' times after extraction); otherwise the synth says so and
ships the sources only.

Lambda puts a layer's `python/` folder on the search path ahead of the runtime's own libraries ("Working with
layers for Python Lambda functions" and "Dependency search path and runtime-included libraries", Lambda
Developer Guide), so the functions import this SDK, not the runtime's.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import os
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path, PurePosixPath

from aws_cdk import Stack
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from infra import settings

REQUIREMENTS = settings.REPO_ROOT / "requirements.txt"
BUILD_DIR = settings.REPO_ROOT / "build" / "sdk-layer"
# Bump when the layout of the zip changes, so that a cached zip of the old layout is not reused.
LAYOUT = "2"
RUNTIME_PYTHON_ENV = "SDK_LAYER_PYTHON"
# A zip entry's time: fixed, so that the same distributions give the same bytes (and the same asset hash).
ZIP_TIME = (1980, 1, 1, 0, 0, 0)
CONSTRUCT_ID = "SdkLayer"
# Native code is platform specific: it does not belong in a layer built on another machine. The installed
# bytecode is the development Python's, not the runtime's: it is left out (and compiled again, see above).
NATIVE_SUFFIXES = (".so", ".pyd", ".dylib", ".dll")
_PIN = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*(\[[^\]]*\])?\s*==\s*([^\s;#]+)\s*(#.*)?$")


class SdkLayerError(Exception):
    """The SDK layer cannot be built as pinned; the message says what differs and how to fix it."""


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def pinned_versions(requirements: Path = REQUIREMENTS,
                    distributions: tuple[str, ...] = settings.SDK_DISTRIBUTIONS) -> dict[str, str]:
    """The exact version requirements.txt pins for each distribution of the layer."""
    pins: dict[str, str] = {}
    for line in requirements.read_text(encoding="utf-8").splitlines():
        match = _PIN.match(line)
        if match:
            pins[canonical(match.group(1))] = match.group(3)
    missing = [name for name in distributions if canonical(name) not in pins]
    if missing:
        raise SdkLayerError(
            f"{requirements.name} must pin every distribution of the functions' SDK layer exactly (name==version); "
            f"not pinned: {', '.join(missing)}")
    return {name: pins[canonical(name)] for name in distributions}


def check_installed(pins: dict[str, str]) -> None:
    """Refuse to build from installed distributions that are not the pinned ones."""
    problems = []
    for name, pinned in pins.items():
        try:
            installed = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            problems.append(f"{name} is not installed ({pinned} pinned)")
            continue
        if installed != pinned:
            problems.append(f"{name} {installed} is installed, {pinned} pinned")
    if problems:
        raise SdkLayerError(
            "the functions' SDK layer is copied from the installed distributions, which must be the versions "
            f"{REQUIREMENTS.name} pins: {'; '.join(problems)}. Install the pins (`make .venv/.installed`, or "
            "`pip install -r requirements.txt`) and synthesize again.")


def _pure_python(name: str, distribution: importlib.metadata.Distribution) -> None:
    wheel = distribution.read_text("WHEEL") or ""
    tags = [line.split(":", 1)[1].strip() for line in wheel.splitlines() if line.startswith("Tag:")]
    if "Root-Is-Purelib: true" not in wheel or not tags or not all(tag.endswith("-none-any") for tag in tags):
        raise SdkLayerError(f"{name} is not a pure-Python wheel (tags {tags}); the SDK layer is built without "
                            "Docker and must hold no platform-specific code")


def layer_entries(pins: dict[str, str]) -> list[tuple[str, Path]]:
    """(path in the zip, installed file) for every file of the pinned distributions, under python/."""
    entries: dict[str, Path] = {}
    for name in pins:
        distribution = importlib.metadata.distribution(name)
        _pure_python(name, distribution)
        for file in distribution.files or []:
            relative = PurePosixPath(file.as_posix())
            # ".." is outside site-packages (console scripts); the bytecode is the development Python's.
            if ".." in relative.parts or "__pycache__" in relative.parts or relative.suffix == ".pyc":
                continue
            if relative.suffix in NATIVE_SUFFIXES:
                raise SdkLayerError(f"{name} installs native code ({relative}); the SDK layer must be pure Python")
            entries[f"python/{relative}"] = Path(str(distribution.locate_file(file)))
    return sorted(entries.items())


def runtime_version() -> str:
    return settings.RUNTIME.name.removeprefix("python")


def runtime_python() -> str | None:
    """An interpreter of the runtime's Python version (e.g. 3.12), to compile the layer's bytecode with."""
    version = runtime_version()
    here = f"{sys.version_info.major}.{sys.version_info.minor}"
    candidates = [os.environ.get(RUNTIME_PYTHON_ENV), sys.executable if here == version else None,
                  shutil.which(f"python{version}")]
    for candidate in filter(None, candidates):
        try:
            found = subprocess.run([candidate, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
                                   capture_output=True, text=True, timeout=60, check=False)
        except OSError:
            continue
        if found.returncode == 0 and found.stdout.strip() == version:
            return candidate
    return None


def cache_key(pins: dict[str, str], bytecode: bool = True) -> str:
    text = "\n".join([LAYOUT, f"bytecode={bytecode and runtime_version()}",
                      *(f"{name}=={version}" for name, version in sorted(pins.items()))])
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def build(pins: dict[str, str] | None = None, build_dir: Path = BUILD_DIR, python: str | None = "") -> Path:
    """The layer's zip for the pinned SDK: built once per set of pinned versions, then reused.

    `python` compiles the bytecode: "" finds an interpreter of the runtime's version, None ships sources only.
    """
    pins = pinned_versions() if pins is None else pins
    check_installed(pins)
    if python == "":
        python = runtime_python()
    archive = build_dir / f"sdk-{cache_key(pins, bytecode=python is not None)}.zip"
    if archive.is_file():
        return archive
    if python is None:
        print(f"warning: no Python {runtime_version()} found (set {RUNTIME_PYTHON_ENV}): the functions' SDK layer "
              "ships without bytecode, and each cold start compiles botocore", file=sys.stderr)
    build_dir.mkdir(parents=True, exist_ok=True)
    # Staged and written aside, then renamed into place, so that parallel syntheses never read a half-made zip.
    staging = Path(tempfile.mkdtemp(dir=build_dir, prefix=".partial-"))
    partial = staging.with_suffix(".zip")
    try:
        for name, source in layer_entries(pins):
            (staging / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, staging / name)
        if python is not None:
            subprocess.run([python, "-m", "compileall", "-q", "-j", "0", "--invalidation-mode", "unchecked-hash",
                            "-d", "/opt/python", str(staging / "python")], check=True, timeout=600)
        files = sorted(path for path in staging.rglob("*") if path.is_file())
        with zipfile.ZipFile(partial, "w", compression=zipfile.ZIP_DEFLATED) as out:
            for path in files:
                info = zipfile.ZipInfo(path.relative_to(staging).as_posix(), date_time=ZIP_TIME)
                info.compress_type = zipfile.ZIP_DEFLATED
                info.external_attr = 0o644 << 16
                out.writestr(info, path.read_bytes())
        os.replace(partial, archive)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
        partial.unlink(missing_ok=True)
    return archive


def unpacked(archive: Path) -> Path:
    """The layer's content as Lambda extracts it under /opt (the folder holding python/), for the bench."""
    target = archive.with_suffix("")
    if not (target / "python").is_dir():
        staging = Path(tempfile.mkdtemp(dir=archive.parent, prefix=".partial-"))
        with zipfile.ZipFile(archive) as content:
            content.extractall(staging)
        try:
            staging.rename(target)
        except OSError:  # another process unpacked it meanwhile
            shutil.rmtree(staging, ignore_errors=True)
    return target


def layer(scope: Construct) -> lambda_.ILayerVersion:
    """The one SDK layer of `scope`'s stack, created under `scope` on first use: every function of the stack (the
    workflow's, the rollout's) shares it."""
    for construct in Stack.of(scope).node.find_all():
        if construct.node.id == CONSTRUCT_ID and isinstance(construct, lambda_.LayerVersion):
            return construct
    pins = pinned_versions()
    return lambda_.LayerVersion(
        scope,
        CONSTRUCT_ID,
        code=lambda_.Code.from_asset(str(build(pins))),
        compatible_runtimes=[settings.RUNTIME],
        compatible_architectures=[settings.ARCHITECTURE],
        description="endpoint-updater: the AWS SDK the functions are tested with: "
                    + ", ".join(f"{name} {version}" for name, version in pins.items()),
    )
