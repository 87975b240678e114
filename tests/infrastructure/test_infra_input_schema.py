"""The deployed functions carry the published input schema that their validation reads."""

from __future__ import annotations

from pathlib import Path

from synthesized import Template, functions_by_folder

from infra import settings

PUBLISHED = settings.REPO_ROOT / "statemachine" / "input.schema.json"


def test_the_validation_function_asset_holds_the_published_schema(template: Template, cloud_assembly: Path) -> None:
    # Given the staged code asset of the function that validates the input
    _, function = functions_by_folder(template)["validate_and_snapshot"]
    staged = cloud_assembly / function["Metadata"]["aws:asset:path"]

    # When the schema file that endpoint_updater/core/request.py reads is looked up in it
    shipped = staged / "endpoint_updater" / "core" / "input.schema.json"

    # Then it is there, byte for byte the published statemachine/input.schema.json
    assert shipped.is_file()
    assert shipped.read_bytes() == PUBLISHED.read_bytes(), "run `make schema` to ship the published schema"
