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


# The service a test directory's capabilities are about, as the catalog names it.
SERVICE_OF_DIRECTORY = {
    "compute": "compute",
    "hybrid": "compute",
    "image": "image",
    "network": "network",
    "volume": "block-storage",
    "object": "object-store",
    "identity": "identity",
}


OFFERED: pytest.StashKey[dict[tuple[str, str], bool]] = pytest.StashKey()


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    """A test is *not applicable* on an OpenStack cloud whose catalog lacks its service.

    Checked before any fixture is set up (a shared server would otherwise fail first): an
    identity-only cloud passes the identity capabilities and is not failed on compute's.
    """
    from pytest_interop.plugin import _run

    service = SERVICE_OF_DIRECTORY.get(item.path.parent.name)
    name = getattr(getattr(item, "callspec", None), "params", {}).get("cloud")
    run = _run(item.config)
    if service is None or name is None or run is None:
        return
    offered = item.config.stash.setdefault(OFFERED, {})
    if (name, service) not in offered:
        cloud = run.connect(name, item.config.hook)
        offered[(name, service)] = cloud.provider != "openstack" or cloud.native.has_service(
            service
        )
    if not offered[(name, service)]:
        raise NotApplicable(f"{name}'s catalog lists no {service} service")
