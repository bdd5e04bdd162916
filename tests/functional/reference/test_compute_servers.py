"""Nova servers through openstacksdk: boot, list, paging, update, actions, delete, errors."""

from __future__ import annotations

import openstack.exceptions as os_exc
import pytest

from tests.functional.reference.conftest import boot, wait_status


def test_boot_goes_active_with_a_reachable_fixed_address(conn):
    server = boot(conn, "boot-1")
    assert server.status == "ACTIVE"
    (entry,) = server.addresses["public"]
    assert entry["OS-EXT-IPS:type"] == "fixed"
    assert entry["addr"].startswith("127.")
    assert server.flavor["vcpus"] == 1  # embedded flavor at microversions >= 2.47
    conn.compute.delete_server(server)
    conn.compute.wait_for_delete(server, wait=10, interval=0.05)
    with pytest.raises(os_exc.NotFoundException):
        conn.compute.get_server(server.id)


def test_list_filters_and_paging(conn):
    servers = [boot(conn, f"page-{index}", wait=False) for index in range(5)]
    try:
        names = [s.name for s in conn.compute.servers(name="^page-")]
        assert sorted(names) == [f"page-{index}" for index in range(5)]
        paged = list(conn.compute.servers(details=False, name="^page-", limit=2, paginated=True))
        assert len({s.id for s in paged}) == 5
        raw = conn.compute.get("/servers?limit=2&name=^page-").json()
        assert len(raw["servers"]) == 2 and raw["servers_links"][0]["rel"] == "next"
        for server in servers:
            wait_status(conn, server, "ACTIVE")
        assert len(list(conn.compute.servers(status="ACTIVE", name="^page-"))) == 5
        assert list(conn.compute.servers(status="SHUTOFF", name="^page-")) == []
    finally:
        for server in servers:
            conn.compute.delete_server(server)


def test_update_name_and_description(conn):
    server = boot(conn, "rename-me")
    updated = conn.compute.update_server(server, name="renamed", description="why")
    assert (updated.name, updated.description) == ("renamed", "why")
    conn.compute.delete_server(server)


def test_stop_start_reboot_suspend_resume(conn):
    server = boot(conn, "actions")
    conn.compute.stop_server(server)
    wait_status(conn, server, "SHUTOFF")
    with pytest.raises(os_exc.ConflictException):
        conn.compute.stop_server(server)
    conn.compute.start_server(server)
    wait_status(conn, server, "ACTIVE")
    conn.compute.reboot_server(server, "SOFT")
    wait_status(conn, server, "ACTIVE")
    conn.compute.suspend_server(server)
    wait_status(conn, server, "SUSPENDED")
    conn.compute.resume_server(server)
    wait_status(conn, server, "ACTIVE")
    actions = [a.action for a in conn.compute.server_actions(server)]
    assert actions[:2] == ["resume", "suspend"] and actions[-1] == "create"
    one = conn.compute.get_server_action(
        actions_id := next(iter(conn.compute.server_actions(server))).request_id, server
    )
    assert one.request_id == actions_id and one.events
    conn.compute.delete_server(server)


def test_resize_confirm_and_revert(conn):
    server = boot(conn, "resize")
    conn.compute.resize_server(server, conn.compute.find_flavor("medium").id)
    server = wait_status(conn, server, "VERIFY_RESIZE")
    assert server.flavor["vcpus"] == 2
    conn.compute.revert_server_resize(server)
    server = wait_status(conn, server, "ACTIVE")
    assert server.flavor["vcpus"] == 1
    conn.compute.resize_server(server, conn.compute.find_flavor("large").id)
    wait_status(conn, server, "VERIFY_RESIZE")
    conn.compute.confirm_server_resize(server)
    server = wait_status(conn, server, "ACTIVE")
    assert server.flavor["original_name"] == "large"
    with pytest.raises(os_exc.BadRequestException):
        conn.compute.resize_server(server, conn.compute.find_flavor("large").id)
    conn.compute.delete_server(server)


def test_rebuild_and_create_image(conn):
    server = boot(conn, "rebuild")
    debian = conn.image.find_image("Debian-12")
    rebuilt = conn.compute.rebuild_server(server, image=debian.id, name="rebuilt")
    assert rebuilt.name == "rebuilt"
    server = wait_status(conn, server, "ACTIVE")
    assert server.image["id"] == debian.id
    image_id = conn.compute.create_server_image(
        server, "snap-1", metadata={"k": "v"}, wait=True, timeout=10
    )
    snapshot = conn.image.get_image(image_id)
    assert snapshot.status == "active" and snapshot.properties["k"] == "v"
    assert snapshot.os_distro == "debian"
    conn.image.delete_image(snapshot)
    conn.compute.delete_server(server)


def test_lock_refuses_changes_from_non_admin(conn, admin_conn):
    server = boot(conn, "locked")
    conn.compute.lock_server(server, locked_reason="hands off")
    assert conn.compute.get_server(server).is_locked
    with pytest.raises(os_exc.ConflictException):
        conn.compute.stop_server(server)
    with pytest.raises(os_exc.ConflictException):
        conn.compute.delete_server(server)
    with pytest.raises(os_exc.ConflictException):
        conn.compute.set_server_metadata(server, a="b")
    admin_conn.compute.stop_server(server.id)  # admin overrides the lock
    wait_status(conn, server, "SHUTOFF")
    conn.compute.unlock_server(server)
    conn.compute.delete_server(server)


def test_console_output(conn):
    server = boot(conn, "console")
    output = conn.compute.get_server_console_output(server)["output"]
    assert "Cloud-init" in output or "cloud-init" in output
    assert conn.compute.get_server_console_output(server, length=1)["output"].count("\n") <= 1
    conn.compute.delete_server(server)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"flavor_id": "nope"}, "Flavor nope could not be found"),
        ({"image_id": "nope"}, "Image nope could not be found"),
        ({"networks": [{"uuid": "nope"}]}, "Network nope could not be found"),
        ({"name": "x" * 256}, "too long"),
        ({"key_name": "missing"}, "Invalid key_name"),
    ],
)
def test_bad_boot_requests_are_400(conn, change, message):
    image = conn.image.find_image("Ubuntu-22.04")
    args = {
        "name": "bad",
        "image_id": image.id,
        "flavor_id": conn.compute.find_flavor("small").id,
        "networks": [{"uuid": conn.network.find_network("public").id}],
        **change,
    }
    with pytest.raises(os_exc.BadRequestException) as raised:
        conn.compute.create_server(**args)
    assert message in str(raised.value)


def test_missing_server_is_404_with_nova_body(conn):
    response = conn.compute.get("/servers/does-not-exist")
    assert response.status_code == 404
    assert response.json()["itemNotFound"]["code"] == 404


def test_microversion_headers(conn):
    response = conn.compute.get("/servers", microversion="2.79")
    assert response.headers["OpenStack-API-Version"] == "compute 2.79"
    too_new = conn.compute.get("/servers", headers={"OpenStack-API-Version": "compute 2.200"})
    assert too_new.status_code == 406
    old = conn.compute.get("/servers/detail", headers={"X-OpenStack-Nova-API-Version": "2.1"})
    assert old.headers["X-OpenStack-Nova-API-Version"] == "2.1"
