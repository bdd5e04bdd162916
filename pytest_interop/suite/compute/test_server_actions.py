"""Server actions a user's automation relies on, checked inside the guest over SSH.

Capabilities: compute-servers-reboot, compute-servers-resize, compute-servers-rebuild,
compute-instance-actions-list, compute-instance-actions-get. The tests that act on a server
share one booted for this module, lent to one test at a time and put back before the next as
it was booted (a confirmed resize resized back, a rebuild rebuilt with the boot image), or
replaced if a test failed on it (``module_server_fixtures``); so the instance-action tests
judge the actions they make, newer than those listed before. The instance-action reads that
need no action use the run's shared server.
"""

from __future__ import annotations

import dataclasses
import secrets
from typing import Any

import pytest

from pytest_interop.clouds import discovery
from pytest_interop.clouds.base import Cloud, Flavor, Image
from pytest_interop.errors import NotApplicable
from pytest_interop.fixtures import connected_node, flavor_matches, module_server_fixtures
from pytest_interop.resources import NAME_PREFIX
from pytest_interop.suite.compute.test_server_lifecycle import (
    assert_guest_matches_flavor,
    boot_id,
    mem_total_mb,
    reconnect,
)

# Survives a reboot, not a rebuild (a fresh disk from the image); writable without sudo.
DISK_MARKER = "/var/tmp/interop-rebuild-marker"

module_server, server, node = module_server_fixtures()


# --- compute-servers-reboot ---------------------------------------------------------------------


def reboot_and_check(cloud, server, node, *, hard: bool) -> None:
    before = boot_id(node)
    marker = secrets.token_hex(8)
    node.write_file(DISK_MARKER, marker)

    rebooted = cloud.reboot_server(server.id, hard=hard)
    assert rebooted.status == "ACTIVE"
    node.connect()  # the session did not survive; the host key must still be the same one
    assert boot_id(node) != before, f"{'hard' if hard else 'soft'} reboot kept boot id {before}"
    # A reboot restarts the guest on the same disk.
    assert node.read_file(DISK_MARKER).strip() == marker
    assert cloud.get_server(server.id).status == "ACTIVE"


@pytest.mark.idempotent_id("4ecf6f9c-2351-4166-82f9-8097d3423b18")
def test_soft_reboot_boots_the_guest_again_and_it_comes_back(cloud, server, node):
    reboot_and_check(cloud, server, node, hard=False)


@pytest.mark.idempotent_id("839e8796-579a-4ded-9a34-56170c452e0e")
def test_hard_reboot_boots_the_guest_again_and_it_comes_back(cloud, server, node):
    reboot_and_check(cloud, server, node, hard=True)


# --- compute-servers-resize ---------------------------------------------------------------------


def bigger_flavor(cloud: Cloud, current: Flavor) -> Flavor:
    """The smallest flavor with more CPUs or memory and no less of anything (disks never shrink)."""
    bigger = [
        flavor
        for flavor in cloud.list_flavors()
        if flavor.vcpus >= current.vcpus
        and flavor.ram_mb >= current.ram_mb
        and flavor.disk_gb >= current.disk_gb
        and (flavor.vcpus > current.vcpus or flavor.ram_mb > current.ram_mb)
    ]
    if not bigger:
        raise NotApplicable(f"no flavor bigger than {current.name} to resize to")
    return min(bigger, key=lambda f: (f.vcpus, f.ram_mb, f.disk_gb, f.name))


def assert_guest_grew(node, old: Flavor, new: Flavor, old_memory_mb: int) -> None:
    assert_guest_matches_flavor(node, new)
    if new.ram_mb > old.ram_mb:
        assert mem_total_mb(node) > old_memory_mb


@pytest.mark.idempotent_id("e0fcf6ac-e2b0-4adc-8e4f-d02b5e40701e")
def test_resize_to_a_bigger_flavor_shows_inside_and_confirm_keeps_it(
    cloud, server, node, record_finding
):
    old = server.flavor
    new = bigger_flavor(cloud, old)
    old_memory = mem_total_mb(node)
    record_finding("resize_to", new.name)

    resized = cloud.resize_server(server.id, new)
    record_finding("address_kept_across_resize", reconnect(cloud, server, node))
    if cloud.resize_needs_confirmation:
        assert resized.status == "VERIFY_RESIZE"
        assert_guest_grew(node, old, new, old_memory)  # it already runs on the new flavor
        confirmed = cloud.confirm_resize(server.id)
        assert confirmed.status == "ACTIVE"
    else:
        assert resized.status == "ACTIVE"
    assert flavor_matches(cloud.get_server(server.id), new)
    assert_guest_grew(node, old, new, old_memory)


@pytest.mark.idempotent_id("861ca675-f000-411a-855d-8fca339e0a09")
def test_revert_resize_restores_the_old_flavor_inside_and_out(cloud, server, node):
    if not cloud.resize_needs_confirmation:
        raise NotApplicable(f"{cloud.provider}: a resize is final, there is nothing to revert")
    old = server.flavor
    new = bigger_flavor(cloud, old)
    old_memory = mem_total_mb(node)

    assert cloud.resize_server(server.id, new).status == "VERIFY_RESIZE"
    node.connect()
    assert_guest_grew(node, old, new, old_memory)

    reverted = cloud.revert_resize(server.id)
    assert reverted.status == "ACTIVE"
    assert flavor_matches(reverted, old), f"after revert the flavor is {reverted.flavor_id}"
    node.connect()
    assert_guest_matches_flavor(node, old)


# --- compute-servers-rebuild --------------------------------------------------------------------


def another_image(cloud: Cloud, current: Image, flavor: Flavor) -> Image:
    """A different active Linux image the flavor fits, with a known login account; the current
    image when there is none (a rebuild with the same image still gives a fresh disk).

    Our own snapshots (named with the run prefix) and snapshots in general are left out: other
    tests create and delete them concurrently.
    """

    def fits(image: Image) -> bool:
        return (not flavor.disk_gb or image.min_disk_gb <= flavor.disk_gb) and (
            image.min_ram_mb <= flavor.ram_mb
        )

    candidates = [
        image
        for image in cloud.list_images()
        if image.id != current.id
        and image.status == "active"
        and discovery.is_linux(image)
        and not image.name.startswith(NAME_PREFIX)
        and image.properties.get("image_type") != "snapshot"
        and fits(image)
    ]
    known = [image for image in candidates if discovery.login_user_for(image)[0]]
    if not known:
        return current
    chosen, _ = discovery.with_login_user(min(known, key=lambda image: image.name))
    return chosen


def os_release(node) -> dict[str, str]:
    """/etc/os-release as a dict (ID, ID_LIKE, VERSION_ID, ...), quotes removed."""
    fields = {}
    for line in node.read_file("/etc/os-release").splitlines():
        key, sep, value = line.partition("=")
        if sep:
            fields[key.strip()] = value.strip().strip('"')
    assert fields.get("ID"), "/etc/os-release has no ID"
    return fields


def os_release_id(node) -> str:
    return os_release(node)["ID"]


@pytest.mark.idempotent_id("3f2f4adf-6ebf-4572-b3b8-2397d94905e9")
def test_rebuild_changes_the_image_keeps_the_addresses_and_the_key_logs_in(
    cloud, server, node, record_finding
):
    new_image = another_image(cloud, server.image, server.flavor)
    record_finding("rebuild_image_changed", new_image.id != server.image.id)
    addresses_before = sorted(a.ip for a in cloud.server_addresses(server.id))
    system_before = os_release(node)
    node.write_file(DISK_MARKER, secrets.token_hex(8))
    node.close()

    rebuilt = cloud.rebuild_server(server.id, new_image)
    assert rebuilt.status == "ACTIVE"
    assert rebuilt.image_id == new_image.id
    assert sorted(a.ip for a in rebuilt.addresses) == addresses_before
    assert cloud.reachable_address(server.id).ip == server.reachable.ip

    # A rebuilt server is a new install: new host keys, and maybe a new login account.
    after = dataclasses.replace(server, image=new_image, findings={})
    with connected_node(after) as fresh:
        record_finding("login_user_before_rebuild", node.username)
        record_finding("login_user_after_rebuild", fresh.username)
        assert fresh.run(["test", "-e", DISK_MARKER], check=False).exit_status != 0, (
            "a file written before the rebuild is still there: the disk was not replaced"
        )
        system_after = os_release(fresh)
        expected = discovery.normalise_distro(new_image.os_distro)
        if expected and expected != discovery.normalise_distro(server.image.os_distro):
            # The image says it is another distribution: the guest must now run that one.
            family = {system_after["ID"], *system_after.get("ID_LIKE", "").split()}
            assert expected in family, (
                f"rebuilt with {new_image.name} ({expected}) but the guest runs "
                f"{system_after.get('PRETTY_NAME', system_after['ID'])}"
            )
            version = ("ID", "VERSION_ID")
            assert [system_after.get(k) for k in version] != [
                system_before.get(k) for k in version
            ], "the guest runs the same system as before the rebuild"
        record_finding("system_before_rebuild", system_before.get("PRETTY_NAME"))
        record_finding("system_after_rebuild", system_after.get("PRETTY_NAME"))


# --- compute-instance-actions-list / -get -------------------------------------------------------


@pytest.mark.idempotent_id("a1492cd9-2eeb-4641-a14c-5611bbde2708")
def test_actions_list_shows_the_create_by_this_user(os_conn, shared_server):
    actions = list(os_conn.compute.server_actions(shared_server.id))
    creates = [item for item in actions if item.action == "create"]
    assert len(creates) == 1, f"expected one create action, got {[a.action for a in actions]}"
    create = creates[0]
    assert create.request_id
    assert create.start_time
    assert create.user_id == os_conn.current_user_id
    assert create.project_id == os_conn.current_project_id


def actions_since(os_conn, server_id: str, before: list[Any]) -> list[Any]:
    """The server's actions newer than ``before`` (the list as read earlier, newest first),
    checking that the older ones are still listed, unchanged and after the new ones."""
    now = list(os_conn.compute.server_actions(server_id))
    new = now[: len(now) - len(before)]
    older = [(a.action, a.request_id) for a in now[len(new) :]]
    assert older == [(a.action, a.request_id) for a in before], (
        f"the actions listed before ({[a.action for a in before]}) are not the oldest now "
        f"({[a.action for a in now]})"
    )
    return new


@pytest.mark.idempotent_id("b2f7f3e6-f470-42fb-ac33-6694245cc787")
def test_actions_list_records_each_action_newest_first(cloud, os_conn, server):
    before = list(os_conn.compute.server_actions(server.id))
    assert [a.action for a in before][-1:] == ["create"], "the oldest action is not the create"
    cloud.reboot_server(server.id)
    cloud.stop_server(server.id)
    cloud.start_server(server.id)

    names = [a.action for a in actions_since(os_conn, server.id, before)] + ["create"]
    expected = ["start", "stop", "reboot", "create"]
    positions = [names.index(name) if name in names else -1 for name in expected]
    assert -1 not in positions, f"actions listed: {names}; expected {expected} among them"
    assert positions == sorted(positions), f"not newest first: {names}"
    assert names.count("reboot") == 1


@pytest.mark.idempotent_id("30fcdc45-56b0-44c7-b54a-4094de2b8631")
def test_action_get_returns_the_action_of_a_request(cloud, os_conn, server):
    before = list(os_conn.compute.server_actions(server.id))
    cloud.reboot_server(server.id, hard=True)
    new = actions_since(os_conn, server.id, before)
    listed = [item for item in new if item.action == "reboot"]
    assert len(listed) == 1
    request_id = listed[0].request_id

    action = os_conn.compute.get_server_action(request_id, server.id, ignore_missing=False)
    assert action.action == "reboot"
    assert action.request_id == request_id
    assert action.user_id == os_conn.current_user_id
    assert action.project_id == os_conn.current_project_id
    for event in action.events or []:  # shown to non-admins from microversion 2.51
        assert event.event and event.start_time


@pytest.mark.idempotent_id("6441e5cc-4fca-4dc3-95ad-1b58fbc03eb2")
def test_action_get_of_an_unknown_request_is_not_found(os_conn, shared_server):
    from openstack import exceptions as os_exceptions

    with pytest.raises(os_exceptions.NotFoundException):
        os_conn.compute.get_server_action(
            f"req-{secrets.token_hex(16)}", shared_server.id, ignore_missing=False
        )
