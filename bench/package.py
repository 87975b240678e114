"""Deployment package size: what the CDK asset of each function ships, and the layer it uses.

Each function's asset is lambdas/ cut down by infra.workflow.asset_excludes (its own folder and the shared
package, no bytecode). The zip is built here the way the CDK bundles a directory asset (deflated). The
Powertools layer is AWS's published layer, referenced by ARN: it is not bundled or uploaded by this
project, so its size (the aws_lambda_powertools package as installed here) is reported apart.
"""

from __future__ import annotations

import fnmatch
import importlib.util
import io
import zipfile
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from offline.runner import LAMBDAS_DIR
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


def asset_files(folder: str, excludes: list[str], root: Path = LAMBDAS_DIR) -> list[Path]:
    return sorted(path for path in root.rglob("*")
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
            zip_bytes=_zip_size(files, LAMBDAS_DIR), layer=settings.POWERTOOLS_LAYER_NAME,
            layer_bytes=layer_bytes))
    return sizes
