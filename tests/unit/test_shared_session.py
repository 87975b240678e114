"""One botocore session for the X-Ray SDK's clients and the functions' own: endpoint data loaded once."""

from collections.abc import Iterator

import boto3
import botocore.session
import pytest

from endpoint_updater.core.aws import botocore_session_shared


@pytest.fixture
def no_default_session() -> Iterator[None]:
    saved = boto3.DEFAULT_SESSION
    boto3.DEFAULT_SESSION = None
    yield
    boto3.DEFAULT_SESSION = saved


def test_sessions_made_in_the_block_are_the_default_sessions(no_default_session: None) -> None:
    # Given no boto3 default session yet, as in a fresh execution environment
    make_session = botocore.session.get_session
    # When a library makes botocore sessions inside the block, as the X-Ray SDK does at import
    with botocore_session_shared():
        made = [botocore.session.get_session() for _ in range(2)]
    # Then both are the session boto3's default session is built on, so they share its loaded data
    assert boto3.DEFAULT_SESSION is not None
    default = boto3.DEFAULT_SESSION._session
    assert made[0] is default and made[1] is default
    assert default.get_component("data_loader") is made[0].get_component("data_loader")
    # And outside the block, botocore makes new sessions again
    assert botocore.session.get_session is make_session
    assert botocore.session.get_session() is not default


def test_an_existing_default_session_is_left_alone(no_default_session: None) -> None:
    # Given a default session made before (the command line's profile and region, a test's emulator)
    boto3.setup_default_session(region_name="eu-west-1")
    existing = boto3.DEFAULT_SESSION
    # When the block runs
    with botocore_session_shared():
        made = botocore.session.get_session()
    # Then the default session is the same one and sessions made in the block are new ones
    assert boto3.DEFAULT_SESSION is existing
    assert existing is not None and made is not existing._session
