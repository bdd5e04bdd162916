"""Servers become real SSH endpoints on loopback through the machine glue."""

from __future__ import annotations

import io
import socket
from collections.abc import Iterator

import paramiko
import pytest

from pytest_interop.reference import ReferenceCloud
from pytest_interop.reference.compute.machines_glue import machines_available
from tests.functional.reference.conftest import connect, wait_status

pytestmark = pytest.mark.skipif(not machines_available(), reason="no reference.machines")
KNOBS = {"boot_delay": 0.05, "action_delay": 0.02, "delete_delay": 0.0}


def _ssh(address: str, port: int, user: str, private_key: str) -> paramiko.SSHClient:
    client = paramiko.SSHClient()
    client.set_missing_host_key_policy(paramiko.AutoAddPolicy())
    client.connect(
        address,
        port=port,
        username=user,
        timeout=5,
        banner_timeout=5,
        pkey=paramiko.RSAKey.from_private_key(io.StringIO(private_key)),
        allow_agent=False,
        look_for_keys=False,
    )
    return client


def _run(client: paramiko.SSHClient, command: str) -> str:
    _, stdout, _ = client.exec_command(command, timeout=5)
    return stdout.read().decode().strip()


def _refused(address: str, port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(2)
        return sock.connect_ex((address, port)) != 0


@pytest.fixture(scope="module")
def cloud() -> Iterator[ReferenceCloud]:
    with ReferenceCloud("default", **KNOBS) as reference:
        yield reference


def test_public_at_boot_server_is_reachable_and_follows_actions(cloud, conn):
    keypair = conn.compute.create_keypair(name="ssh-key")
    server = conn.compute.create_server(
        name="ssh-1",
        image_id=conn.image.find_image("Ubuntu-22.04").id,
        flavor_id=conn.compute.find_flavor("small").id,
        networks=[{"uuid": conn.network.find_network("public").id}],
        key_name="ssh-key",
    )
    server = wait_status(conn, server, "ACTIVE")
    address = server.addresses["public"][0]["addr"]
    port = cloud.cloud_config()["interop"]["ssh_port"]
    client = _ssh(address, port, "ubuntu", keypair.private_key)
    assert _run(client, "whoami") == "ubuntu"
    assert _run(client, "nproc") == "1"
    boot_id = _run(client, "cat /proc/sys/kernel/random/boot_id")
    client.close()
    console = conn.compute.get_server_console_output(server)["output"]
    assert "BEGIN SSH HOST KEY FINGERPRINTS" in console
    conn.compute.resize_server(server, conn.compute.find_flavor("medium").id)
    wait_status(conn, server, "VERIFY_RESIZE")
    conn.compute.confirm_server_resize(server)
    client = _ssh(address, port, "ubuntu", keypair.private_key)
    assert _run(client, "nproc") == "2"
    assert _run(client, "cat /proc/sys/kernel/random/boot_id") != boot_id
    client.close()
    conn.compute.stop_server(server)
    wait_status(conn, server, "SHUTOFF")
    assert _refused(address, port)
    conn.compute.delete_server(server)
    conn.compute.wait_for_delete(server, wait=10, interval=0.05)
    conn.compute.delete_keypair(keypair)


def test_floating_ip_profile_reaches_servers_only_through_floating_ips():
    with ReferenceCloud("floating-ip", **KNOBS) as cloud:
        conn = connect(cloud.cloud_config())
        keypair = conn.compute.create_keypair(name="fip-key")
        server = conn.compute.create_server(
            name="fip-ssh",
            image_id=conn.image.find_image("Ubuntu-22.04").id,
            flavor_id=conn.compute.find_flavor("small").id,
            networks=[{"uuid": conn.network.find_network("private").id}],
            key_name="fip-key",
        )
        server = wait_status(conn, server, "ACTIVE")
        port = cloud.cloud_config()["interop"]["ssh_port"]
        (nic,) = conn.network.ports(device_id=server.id)
        fip = conn.network.create_ip(floating_network_id=conn.network.find_network("public").id)
        address = fip.floating_ip_address
        assert _refused(address, port)  # allocated, not yet associated
        conn.network.update_ip(fip, port_id=nic.id)
        client = _ssh(address, port, "ubuntu", keypair.private_key)
        assert _run(client, "whoami") == "ubuntu"
        client.close()
        conn.network.update_ip(fip, port_id=None)
        assert _refused(address, port)
        conn.network.delete_ip(fip)
        conn.compute.delete_server(server)
        conn.close()


def test_rhel_profile_logs_in_as_cloud_user_and_blocks_root():
    with ReferenceCloud("rhel", **KNOBS) as cloud:
        conn = connect(cloud.cloud_config())
        keypair = conn.compute.create_keypair(name="rhel-key")
        image = conn.image.find_image("RHEL-9")
        assert image.os_admin_user == "cloud-user" and image.os_distro == "rhel"
        server = conn.compute.create_server(
            name="rhel",
            image_id=image.id,
            flavor_id=conn.compute.find_flavor("small").id,
            networks="auto",
            key_name="rhel-key",
        )
        server = wait_status(conn, server, "ACTIVE")
        address = server.addresses["public"][0]["addr"]
        port = cloud.ssh_port
        client = _ssh(address, port, "cloud-user", keypair.private_key)
        assert _run(client, "whoami") == "cloud-user"
        client.close()
        with pytest.raises(paramiko.AuthenticationException):
            _ssh(address, port, "root", keypair.private_key).close()
        rebuilt = conn.compute.rebuild_server(
            server, image=conn.image.find_image("CentOS-Stream-9").id
        )
        wait_status(conn, rebuilt, "ACTIVE")
        client = _ssh(address, port, "centos", keypair.private_key)
        assert _run(client, "whoami") == "centos"
        client.close()
        conn.compute.delete_server(server)
        conn.close()
