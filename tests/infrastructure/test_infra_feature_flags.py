"""cdk.json sets every feature flag the installed aws-cdk-lib recommends (what `cdk init` writes for a new app),
or lists it under "//flagsLeftOff" with the reason it is left off.

The recommended flags are read from the installed aws-cdk-lib itself (recommended-feature-flags.json in the
JavaScript package the Python distribution carries), so upgrading aws-cdk-lib makes these tests name every
flag it adds until cdk.json decides on it.

A flag left off may stay out of "context" (the library's default applies, and the CDK command line counts it
as unconfigured) or be set there to the value kept; either way "//flagsLeftOff" says why.
"""

from __future__ import annotations

import json
import tarfile
from importlib import metadata
from typing import Any

import pytest

from infra import settings

# The sibling key of "context" in cdk.json that lists the recommended flags deliberately not at their recommended
# value, flag -> reason. JSON has no comments: the CDK command line ignores top-level keys it does not know (it
# synthesizes with this one present), and the leading "//" marks it as a note for readers, not a setting.
LEFT_OFF_KEY = "//flagsLeftOff"
RECOMMENDED_FLAGS_FILE = "package/recommended-feature-flags.json"


def _installed_recommended_flags() -> dict[str, Any]:
    """The recommended feature flags of the installed aws-cdk-lib, read from its bundled JavaScript package."""
    version = metadata.version("aws-cdk-lib")
    tarballs = [file for file in metadata.files("aws-cdk-lib") or []
                if file.name == f"aws-cdk-lib@{version}.jsii.tgz"]
    assert len(tarballs) == 1, f"aws-cdk-lib {version} carries no single jsii tarball: {tarballs}"
    with tarfile.open(str(tarballs[0].locate()), "r:gz") as tarball:
        member = tarball.extractfile(RECOMMENDED_FLAGS_FILE)
        assert member is not None, f"{RECOMMENDED_FLAGS_FILE} is not a file in aws-cdk-lib {version}"
        flags: dict[str, Any] = json.load(member)
    return flags


@pytest.fixture(scope="module")
def recommended() -> dict[str, Any]:
    flags = _installed_recommended_flags()
    # A sanity check of the reading: many flags, all of them CDK flags
    assert len(flags) > 50
    assert all(flag.startswith("@aws-cdk") for flag in flags)
    return flags


@pytest.fixture(scope="module")
def cdk_json() -> dict[str, Any]:
    document: dict[str, Any] = json.loads(settings.CDK_JSON.read_text(encoding="utf-8"))
    return document


def test_every_recommended_flag_is_set_or_left_off_with_a_reason(
    recommended: dict[str, Any], cdk_json: dict[str, Any]
) -> None:
    # Given the flags the installed aws-cdk-lib recommends, and cdk.json's context and flags left off
    context, left_off = cdk_json["context"], cdk_json.get(LEFT_OFF_KEY, {})

    # When the flags that cdk.json decides nothing about are collected
    undecided = {flag: value for flag, value in recommended.items() if flag not in context and flag not in left_off}

    # Then there is none: a new flag is either set in "context" (with its recommended value) or listed with
    # the reason it is left off
    assert undecided == {}, (
        f"aws-cdk-lib {metadata.version('aws-cdk-lib')} recommends feature flags that cdk.json neither sets in "
        f'"context" nor lists in "{LEFT_OFF_KEY}" with a reason: {json.dumps(undecided, indent=2)}'
    )


def test_every_flag_set_has_its_recommended_value_unless_left_off(
    recommended: dict[str, Any], cdk_json: dict[str, Any]
) -> None:
    # Given the recommended flags that cdk.json's context sets
    context, left_off = cdk_json["context"], cdk_json.get(LEFT_OFF_KEY, {})
    set_flags = {flag: context[flag] for flag in recommended if flag in context}

    # When their values are compared with the recommended ones
    different = {flag: {"set": value, "recommended": recommended[flag]} for flag, value in set_flags.items()
                 if value != recommended[flag] and flag not in left_off}

    # Then each has the value a new app gets, or is listed with the reason it keeps another
    assert different == {}


def test_every_flag_left_off_is_recommended_not_at_its_recommended_value_and_has_a_reason(
    recommended: dict[str, Any], cdk_json: dict[str, Any]
) -> None:
    # Given the flags cdk.json lists as left off, and its context
    left_off, context = cdk_json.get(LEFT_OFF_KEY, {}), cdk_json["context"]
    assert isinstance(left_off, dict)

    # When they are compared with the recommended flags and the context
    # Then each is a flag the installed aws-cdk-lib recommends (not a stale entry), is not set to the
    # recommended value after all, and says why it is left off
    assert {flag for flag in left_off if flag not in recommended} == set()
    assert {flag for flag in left_off if flag in context and context[flag] == recommended.get(flag)} == set()
    assert {flag for flag, reason in left_off.items() if not (isinstance(reason, str) and reason.strip())} == set()
