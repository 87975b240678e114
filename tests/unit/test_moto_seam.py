"""The seam to moto's private internals checks the installed moto before anything is patched."""

from __future__ import annotations

import pytest

from endpoint_updater.offline import moto_seam
from endpoint_updater.offline.moto_seam import MOTO_VERSION, MotoChanged


def test_the_installed_moto_is_the_pinned_one_and_has_every_private_name_the_seam_uses() -> None:
    assert moto_seam.installed_version() == MOTO_VERSION == "5.2.5"
    moto_seam.check()


def test_a_missing_private_name_is_named_with_the_expected_and_the_installed_version() -> None:
    missing = ("moto.stepfunctions.parser.utils", "TMP_THREADS_RENAMED")
    with pytest.raises(MotoChanged) as caught:
        moto_seam.check(installed="5.3.0", required=(*moto_seam.REQUIRED, missing))
    message = str(caught.value)
    assert "moto.stepfunctions.parser.utils.TMP_THREADS_RENAMED" in message
    assert "installed moto 5.3.0" in message
    assert f"written against moto {MOTO_VERSION}" in message


def test_a_missing_module_is_named_too() -> None:
    with pytest.raises(MotoChanged, match=r"moto\.no_such_service\.models\.Backend is not in the installed moto"):
        moto_seam.check(required=(("moto.no_such_service.models", "Backend"),))


def test_another_version_is_refused_even_when_every_name_is_there() -> None:
    with pytest.raises(MotoChanged) as caught:
        moto_seam.check(installed="5.3.0")
    assert "moto 5.3.0 is installed" in str(caught.value)
    assert f"written against moto {MOTO_VERSION}" in str(caught.value)

