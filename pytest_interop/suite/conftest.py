"""Fixtures shared by the must-pass tests (the plugin provides cloud, server, node, ...)."""

from __future__ import annotations

from typing import Any

import pytest

from pytest_interop.errors import NotApplicable


@pytest.fixture(scope="session")
def os_conn(cloud: Any) -> Any:
    """The openstacksdk connection of an OpenStack cloud, for API-level capabilities.

    On any other provider the test is *not applicable*: the capability is OpenStack's API.
    """
    if cloud.provider != "openstack":
        raise NotApplicable(f"an OpenStack API capability; {cloud.name} is {cloud.provider}")
    return cloud.native
