"""Deployment package size: what the CDK asset of each function ships, and the layer it uses.

Each function's asset is the repository cut down by infra.workflow.asset_excludes (its own folder under
lambdas/ and the shared package, no bytecode). The zip is built here the way the CDK bundles a directory
asset (deflated). The Powertools layer is AWS's published layer, referenced by ARN: it is not bundled or
uploaded by this project, so its size (the aws_lambda_powertools package as installed here) is reported apart.
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
from statemachine import TASK_FUNCTIONS


@dataclass(frozen=True)
class PackageSize:
    function: str
    files: int
    own_bytes: int
    """Uncompressed: the function's folder plus the shared package."""
    zip_bytes: int
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
    from infra import settings
    from infra.workflow import asset_excludes

    layer_bytes = _installed_size("aws_lambda_powertools")
    sizes = []
    for task in TASK_FUNCTIONS:
        files = asset_files(task.folder, asset_excludes(task.folder))
        sizes.append(PackageSize(
            function=task.folder, files=len(files), own_bytes=sum(p.stat().st_size for p in files),
            zip_bytes=_zip_size(files, REPO_ROOT), layer=settings.POWERTOOLS_LAYER_NAME,
            layer_bytes=layer_bytes))
    return sizes
