"""Nova server tags, addresses, interfaces and security groups; Glance deactivation;
Keystone's project listing policy."""

from __future__ import annotations

import openstack.exceptions as os_exc
import pytest

from tests.functional.reference.conftest import boot


def test_server_tags(conn):
    server = boot(conn, "tagged", tags=["a"])
    try:
        conn.compute.add_tag_to_server(server, "b")
        assert sorted(conn.compute.get_server(server).tags) == ["a", "b"]
        conn.compute.remove_tag_from_server(server, "a")
        assert conn.compute.get_server(server).tags == ["b"]
        latest = {"microversion": "2.79"}
        replaced = conn.compute.put(
            f"/servers/{server.id}/tags", json={"tags": ["x", "y"]}, **latest
        )
        assert replaced.json() == {"tags": ["x", "y"]}
        assert conn.compute.get(f"/servers/{server.id}/tags/z", **latest).status_code == 404
        bad = conn.compute.put(f"/servers/{server.id}/tags/{'t' * 61}", **latest)
        assert bad.status_code == 400
        old = conn.compute.get(f"/servers/{server.id}/tags", microversion="2.25")
        assert old.status_code == 404
    finally:
        conn.compute.delete_server(server)


def test_ips_interfaces_and_security_groups(conn):
    server = boot(conn, "wired")
    try:
        ips = conn.compute.get(f"/servers/{server.id}/ips").json()["addresses"]
        assert ips["public"][0]["addr"] == server.addresses["public"][0]["addr"]
        (interface,) = conn.compute.server_interfaces(server)
        assert interface.port_id and interface.net_id == conn.network.find_network("public").id
        group = conn.network.create_security_group(name="web")
        conn.compute.add_security_group_to_server(server, group)
        assert {"default", "web"} == {
            g["name"] for g in conn.compute.get_server(server).security_groups
        }
        port = conn.network.get_port(interface.port_id)
        assert group.id in port.security_group_ids
        with pytest.raises(os_exc.ConflictException):
            conn.network.delete_security_group(group)
        conn.compute.remove_security_group_from_server(server, group)
        conn.network.delete_security_group(group)
    finally:
        conn.compute.delete_server(server)


def test_image_deactivate_blocks_download(conn, admin_conn):
    image = conn.image.create_image(
        name="to-deactivate", data=b"abc", disk_format="raw", container_format="bare"
    )
    try:
        conn.image.deactivate_image(image)
        assert conn.image.get_image(image).status == "deactivated"
        assert conn.image.get(f"/images/{image.id}/file").status_code == 403
        assert admin_conn.image.download_image(image).content == b"abc"
        conn.image.reactivate_image(image)
        assert conn.image.download_image(image).content == b"abc"
    finally:
        conn.image.delete_image(image)


def test_project_listing_follows_keystone_policy(conn, admin_conn):
    assert conn.identity.get("/projects").status_code == 403
    assert [p["name"] for p in conn.identity.get("/auth/projects").json()["projects"]] == ["demo"]
    assert {"admin", "demo"} <= {p.name for p in admin_conn.identity.projects()}
