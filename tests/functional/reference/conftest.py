"""A reference cloud per test module, driven by unmodified openstacksdk over HTTP."""

from __future__ import annotations

import secrets
import time
import warnings
from collections.abc import Iterator
from typing import Any

import openstack
import openstack.warnings
import pytest

from pytest_interop.reference import ReferenceCloud

FAST = {"boot_delay": 0.05, "action_delay": 0.02, "delete_delay": 0.0, "machines": False}


def connect(config: dict[str, Any]) -> openstack.connection.Connection:
    config = dict(config)
    config.pop("interop", None)
    return openstack.connect(**config)


@pytest.fixture(autouse=True)
def _quiet_sdk_deprecations() -> None:
    """openstacksdk's notes about its own future API; its service-version warnings stay on."""
    warnings.filterwarnings("ignore", category=openstack.warnings.OpenStackDeprecationWarning)
    warnings.filterwarnings("ignore", category=PendingDeprecationWarning, module="openstack")
    warnings.filterwarnings(
        "ignore", category=PendingDeprecationWarning, message=".*(deprecated|unnecesary).*"
    )


@pytest.fixture(scope="module")
def cloud() -> Iterator[ReferenceCloud]:
    with ReferenceCloud("default", **FAST) as reference:
        yield reference


@pytest.fixture(scope="module")
def conn(cloud: ReferenceCloud) -> Iterator[openstack.connection.Connection]:
    connection = connect(cloud.cloud_config())
    yield connection
    connection.close()


@pytest.fixture(scope="module")
def admin_conn(cloud: ReferenceCloud) -> Iterator[openstack.connection.Connection]:
    connection = connect(cloud.admin_cloud_config())
    yield connection
    connection.close()


@pytest.fixture(scope="module")
def other_conn(cloud: ReferenceCloud) -> Iterator[openstack.connection.Connection]:
    password = secrets.token_urlsafe(12)
    cloud.add_project_user("other", "other-user", password)
    connection = connect(cloud.project_cloud_config("other", "other-user", password))
    yield connection
    connection.close()


def boot(
    conn: openstack.connection.Connection,
    name: str,
    *,
    flavor: str = "small",
    wait: bool = True,
    **extra: Any,
) -> Any:
    image = conn.image.find_image("Ubuntu-22.04")
    network = conn.network.find_network("public")
    server = conn.compute.create_server(
        name=name,
        image_id=image.id,
        flavor_id=conn.compute.find_flavor(flavor).id,
        networks=[{"uuid": network.id}],
        **extra,
    )
    if wait:
        server = conn.compute.wait_for_server(server, wait=10, interval=0.05)
    return server


def wait_status(conn: openstack.connection.Connection, server: Any, status: str) -> Any:
    """Polls until the server shows ``status`` with no task in progress (fresh reads only)."""
    deadline = time.monotonic() + 10
    while True:
        current = conn.compute.get_server(server)
        if current.status == status and current.task_state is None:
            return current
        if time.monotonic() > deadline:
            raise AssertionError(f"server stayed {current.status}/{current.task_state}")
        time.sleep(0.02)
