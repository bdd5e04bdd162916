"""compute-images-create: a server's snapshot becomes an active image that boots a server.

Nova's createImage is an OpenStack API (``os_conn``); booting from the snapshot and logging
into the new server go through the behavioural interface, as a user's automation would. The
two tests snapshot one server booted for this module, lent to one at a time and started again
after the stopped-server test (``module_server_fixtures``); the server booted from a snapshot
is a boot of its own.
"""

from __future__ import annotations

import contextlib
import secrets
import time
from collections.abc import Iterator
from typing import Any

import pytest

from pytest_interop.clouds import discovery
from pytest_interop.clouds.base import Cloud, ResourceNotFound
from pytest_interop.errors import NotApplicable
from pytest_interop.fixtures import BootedServer, connected_node, module_server_fixtures
from pytest_interop.suite.compute.test_server_actions import os_release_id

SNAPSHOT_TIMEOUT = 900.0  # a snapshot uploads the whole disk to the image service

module_server, server, node = module_server_fixtures()


def wait_for_image_status(os_conn: Any, image_id: str, status: str, timeout: float) -> Any:
    """Poll the image with a growing pause; fail at once when it is killed or deleted."""
    started = time.monotonic()
    pause = 0.05
    while True:
        image = os_conn.image.get_image(image_id)
        if image.status == status:
            return image
        assert image.status not in ("killed", "deleted", "deactivated"), (
            f"snapshot {image_id} went to {image.status}"
        )
        if time.monotonic() - started > timeout:
            raise AssertionError(f"snapshot {image_id} still {image.status} after {timeout:.0f} s")
        time.sleep(pause)
        pause = min(pause * 2, 5.0)


@contextlib.contextmanager
def snapshot_of(os_conn: Any, cloud: Cloud, server_id: str, **metadata: str) -> Iterator[str]:
    """Snapshot the server; yield the image id; delete the image afterwards."""
    name = cloud.resource_name("snapshot")
    # Ledgered like the adapter's own creations: an interrupted run's clean-up removes it.
    record = cloud.track_intent("image", name)
    image = os_conn.compute.create_server_image(server_id, name, metadata=metadata or None)
    cloud.track_created(record, image.id)
    try:
        yield image.id
    finally:
        with contextlib.suppress(Exception):
            os_conn.image.delete_image(image.id, ignore_missing=True)
            cloud.track_deleted("image", image.id)


@contextlib.contextmanager
def booted_from(cloud: Cloud, booted: BootedServer, image_id: str) -> Iterator[BootedServer]:
    """A server booted from image_id with the original's flavor, network and key; deleted after."""
    try:
        rule = cloud.allow_ssh()
    except NotApplicable:
        rule = None
    image, _ = discovery.with_login_user(cloud.get_image(image_id))
    if not image.login_user:  # the snapshot lost the account properties: use the original's
        image = discovery.with_login_user(image, booted.image.login_user)[0]
    server = cloud.create_server(
        image=image_id,
        flavor=booted.flavor,
        network=cloud.discover_network(),
        key_name=booted.keypair.name,
        security_rule=rule,
    )
    try:
        reachable = cloud.reachable_address(server)
        yield BootedServer(cloud, server, image, booted.flavor, booted.keypair, reachable)
    finally:
        with contextlib.suppress(ResourceNotFound):
            cloud.delete_server(server.id)


@pytest.mark.idempotent_id("e63a7a11-3c45-4b18-9422-d4b787f469d8")
def test_snapshot_becomes_an_active_image_that_boots_a_reachable_server(
    cloud, os_conn, server, node, record_finding
):
    distro = os_release_id(node)
    marker = secrets.token_hex(6)
    # Written before the snapshot, flushed: a snapshot is the server's disk, not its image's.
    node.write_file("interop-snapshot-marker", marker)
    node.run(["sync"])
    started = time.monotonic()
    with snapshot_of(os_conn, cloud, server.id, interop_marker=marker) as image_id:
        snapshot = wait_for_image_status(os_conn, image_id, "active", SNAPSHOT_TIMEOUT)
        record_finding("snapshot_seconds", round(time.monotonic() - started, 2))
        assert image_id in {image.id for image in cloud.list_images()}
        # The metadata given to createImage becomes image properties.
        assert cloud.get_image(image_id).properties.get("interop_marker") == marker
        record_finding("snapshot_image_type", (snapshot.properties or {}).get("image_type"))
        # The server goes on as before once its snapshot is taken.
        assert cloud.wait_for_server(server.id, "ACTIVE", timeout=300).status == "ACTIVE"

        with booted_from(cloud, server, image_id) as copy:
            assert copy.server.status == "ACTIVE"
            assert copy.server.image_id == image_id
            with connected_node(copy) as copy_node:
                record_finding("snapshot_login_user", copy_node.username)
                assert os_release_id(copy_node) == distro, "the snapshot boots another system"
                assert copy_node.run(["hostname"]).stdout.strip()
                carried = copy_node.run(["cat", "interop-snapshot-marker"], check=False)
                assert carried.stdout.strip() == marker, (
                    "a file written before the snapshot is not on the server booted from it "
                    f"({carried.stderr.strip() or carried.stdout.strip()!r})"
                )


@pytest.mark.idempotent_id("746fd58d-e531-45c7-a769-999c1be47d31")
def test_snapshot_of_a_stopped_server_becomes_active_and_leaves_it_stopped(cloud, os_conn, server):
    assert cloud.stop_server(server.id).status == "SHUTOFF"
    with snapshot_of(os_conn, cloud, server.id) as image_id:
        wait_for_image_status(os_conn, image_id, "active", SNAPSHOT_TIMEOUT)
        image = cloud.get_image(image_id)
        assert image.status == "active"
        assert cloud.wait_for_server(server.id, "SHUTOFF", timeout=300).status == "SHUTOFF"
