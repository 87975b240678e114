"""Deployment package size: what the CDK asset of each function ships, and the layers it uses.

Each function's asset is the repository cut down by infra.workflow.asset_excludes (its own folder under
lambdas/ and the shared package, no bytecode). The zip is built here the way the CDK bundles a directory
asset (deflated). The SDK layer (infra/sdk_layer.py: the pinned boto3, botocore and their dependencies) is the
stack's own, one zip shared by every function: it counts in each function's deployed size (Lambda's 250 MB
unzipped limit covers the function and its layers). The Powertools layer is AWS's published layer, referenced
by ARN: it is not bundled or uploaded by this project, so its size (the aws_lambda_powertools package as
installed here) is reported apart.
"""

from __future__ import annotations

import fnmatch
import importlib.util
import io
import zipfile
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from infra.settings import FUNCTION_CODE, REPO_ROOT
from statemachine import EVENT_FUNCTIONS, TASK_FUNCTIONS


@dataclass(frozen=True)
class PackageSize:
    function: str
    files: int
    own_bytes: int
    """Uncompressed: the function's folder plus the shared package."""
    zip_bytes: int
    sdk_layer_bytes: int
    """The stack's SDK layer, uncompressed (the same layer for every function)."""
    sdk_layer_zip_bytes: int
    deployed_bytes: int
    """Uncompressed: the function's code plus the SDK layer, what counts towards Lambda's 250 MB."""
    deployed_zip_bytes: int
    """The function's zip plus the SDK layer's zip."""
    layer: str
    layer_bytes: int
    """Not bundled: the published Powertools layer, as installed locally (uncompressed)."""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _matches(pattern: str, relative: str) -> bool:
    parts = relative.split("/")
    prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    if pattern.startswith("**/"):
        tail = pattern[3:]
        return any(fnmatch.fnmatchcase(part, tail) for part in parts) or fnmatch.fnmatchcase(relative, tail)
    return any(fnmatch.fnmatchcase(prefix, pattern) for prefix in prefixes)


def included(relative: str, excludes: list[str]) -> bool:
    """Glob excludes as the CDK applies them to an asset directory: the last matching pattern wins,
    `!` re-includes, and a pattern that matches a folder matches everything in it."""
    keep = True
    for pattern in excludes:
        negated = pattern.startswith("!")
        if _matches(pattern[1:] if negated else pattern, relative):
            keep = negated
    return keep


def asset_files(folder: str, excludes: list[str], root: Path = REPO_ROOT) -> list[Path]:
    """The files the excludes keep, among the paths they name (the rest of the tree is never walked)."""
    candidates: set[Path] = set()
    for kept in (f"lambdas/{folder}", *FUNCTION_CODE):
        path = root / kept
        candidates |= set(path.rglob("*")) if path.is_dir() else {path}
    return sorted(path for path in candidates
                  if path.is_file() and included(path.relative_to(root).as_posix(), excludes))


def _zip_size(files: list[Path], root: Path) -> int:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for path in files:
            archive.write(path, path.relative_to(root).as_posix())
    return len(buffer.getvalue())


def _installed_size(package: str) -> int:
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        return 0
    root = Path(next(iter(spec.submodule_search_locations)))
    return sum(p.stat().st_size for p in root.rglob("*") if p.is_file() and "__pycache__" not in p.parts)


def measure() -> list[PackageSize]:
    """Every function's package: the workflow's tasks and the event-invoked functions."""
    from infra import sdk_layer, settings
    from infra.workflow import asset_excludes

    layer_bytes = _installed_size("aws_lambda_powertools")
    sdk_zip = sdk_layer.build()
    with zipfile.ZipFile(sdk_zip) as archive:
        sdk_bytes = sum(entry.file_size for entry in archive.infolist())
    sdk_zip_bytes = sdk_zip.stat().st_size
    sizes = []
    for task in TASK_FUNCTIONS + EVENT_FUNCTIONS:
        files = asset_files(task.folder, asset_excludes(task.folder))
        own, zipped = sum(p.stat().st_size for p in files), _zip_size(files, REPO_ROOT)
        sizes.append(PackageSize(
            function=task.folder, files=len(files), own_bytes=own, zip_bytes=zipped,
            sdk_layer_bytes=sdk_bytes, sdk_layer_zip_bytes=sdk_zip_bytes, deployed_bytes=own + sdk_bytes,
            deployed_zip_bytes=zipped + sdk_zip_bytes, layer=settings.POWERTOOLS_LAYER_NAME,
            layer_bytes=layer_bytes))
    return sizes
