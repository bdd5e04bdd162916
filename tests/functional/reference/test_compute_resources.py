"""Nova key pairs, server metadata, quotas, availability zones through openstacksdk."""

from __future__ import annotations

import openstack.exceptions as os_exc
import paramiko
import pytest

from tests.functional.reference.conftest import boot

PUBLIC_KEY = None


def test_generated_keypair_returns_a_usable_private_key(conn):
    keypair = conn.compute.create_keypair(name="generated")
    try:
        assert keypair.private_key.startswith("-----BEGIN RSA PRIVATE KEY-----")
        import io

        key = paramiko.RSAKey.from_private_key(io.StringIO(keypair.private_key))
        assert keypair.public_key.split()[1] == key.get_base64()
        listed = [k.name for k in conn.compute.keypairs()]
        assert "generated" in listed
        fetched = conn.compute.get_keypair("generated")
        assert fetched.fingerprint == keypair.fingerprint and fetched.private_key is None
        with pytest.raises(os_exc.ConflictException):
            conn.compute.create_keypair(name="generated")
    finally:
        conn.compute.delete_keypair("generated")
    with pytest.raises(os_exc.NotFoundException):
        conn.compute.get_keypair("generated")


def test_imported_keypair_and_invalid_key(conn):
    public = f"ssh-ed25519 {paramiko.Ed25519Key.__name__}"  # not base64: invalid
    with pytest.raises(os_exc.BadRequestException):
        conn.compute.create_keypair(name="bad", public_key=public)
    key = paramiko.RSAKey.generate(1024)
    line = f"ssh-rsa {key.get_base64()} tester@example"
    imported = conn.compute.create_keypair(name="imported", public_key=line)
    assert imported.private_key is None and imported.fingerprint.count(":") == 15
    assert imported.type == "ssh"
    conn.compute.delete_keypair(imported)


def test_server_metadata_routes_and_limits(conn):
    server = boot(conn, "meta", metadata={"a": "1"})
    try:
        assert conn.compute.get_server_metadata(server).metadata == {"a": "1"}
        conn.compute.set_server_metadata(server, b="2")
        assert conn.compute.get_server_metadata(server).metadata == {"a": "1", "b": "2"}
        conn.compute.delete_server_metadata(server, ["a"])
        assert conn.compute.get_server_metadata(server).metadata == {"b": "2"}
        item = conn.compute.get(f"/servers/{server.id}/metadata/b").json()
        assert item == {"meta": {"b": "2"}}
        replaced = conn.compute.put(
            f"/servers/{server.id}/metadata", json={"metadata": {"c": "3"}}
        ).json()
        assert replaced == {"metadata": {"c": "3"}}
        assert conn.compute.get(f"/servers/{server.id}/metadata/b").status_code == 404
        too_long = conn.compute.post(
            f"/servers/{server.id}/metadata", json={"metadata": {"k" * 256: "v"}}
        )
        assert too_long.status_code == 400 and "badRequest" in too_long.json()
        too_many = conn.compute.post(
            f"/servers/{server.id}/metadata", json={"metadata": {f"k{i}": "v" for i in range(129)}}
        )
        assert too_many.status_code == 403 and "forbidden" in too_many.json()
    finally:
        conn.compute.delete_server(server)


def test_quota_enforced_on_boot(conn, admin_conn, cloud):
    project_id = conn.current_project_id
    quota = conn.compute.get_quota_set(project_id)
    assert quota.instances == 10 and quota.cores == 20
    defaults = conn.compute.get_quota_set_defaults(project_id)
    assert defaults.ram == 51200
    admin_conn.compute.update_quota_set(project_id, instances=1)
    try:
        server = boot(conn, "quota-1", wait=False)
        with pytest.raises(os_exc.ForbiddenException) as raised:
            boot(conn, "quota-2", wait=False)
        assert "Quota exceeded for instances" in str(raised.value)
        conn.compute.delete_server(server)
        conn.compute.wait_for_delete(server, wait=10, interval=0.05)
    finally:
        admin_conn.compute.update_quota_set(project_id, instances=10)
    with pytest.raises(os_exc.ForbiddenException):
        conn.compute.update_quota_set(project_id, instances=100)


def test_availability_zones_and_flavors(conn):
    zones = [zone.name for zone in conn.compute.availability_zones()]
    assert zones == ["nova"]
    flavors = {flavor.name: flavor for flavor in conn.compute.flavors()}
    assert flavors["medium"].vcpus == 2 and flavors["large"].ram == 4096
    assert conn.compute.get_flavor(flavors["small"].id).disk == 10
    with pytest.raises(os_exc.NotFoundException):
        conn.compute.get_flavor("nope")
