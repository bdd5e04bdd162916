"""A server's life: create, stop/start, suspend/resume, lock, delete, seen from outside over SSH.

Capabilities: compute-servers-create, compute-servers-stop, compute-servers-suspend-resume
(advisory), compute-servers-lock, compute-servers-delete. Reads use the run's shared server;
the tests that change a server share one booted for this module, lent to one test at a time:
each hands it back running (stop -> start, suspend -> resume, lock -> unlock), and before each
test it is started again if off and checked, or replaced if a test failed on it or deleted it
(``module_server_fixtures``). The delete test comes last in the file: run in file order, it
deletes the module's server rather than a server of its own.
"""

from __future__ import annotations

import contextlib
import socket
import time
from collections.abc import Callable
from typing import Any

import paramiko
import pytest

from pytest_interop.clouds.base import Flavor, ResourceNotFound
from pytest_interop.fixtures import flavor_matches, module_server_fixtures

BOOT_ID_PATH = "/proc/sys/kernel/random/boot_id"
# A guest sees less RAM than its flavor: the kernel and firmware keep some. Real images with a
# crash kernel reserved can lose a few hundred MiB on small flavors, hence the generous floor.
GUEST_RAM_FLOOR = 0.6
PORT_PROBE_TIMEOUT = 3.0
SSH_STATE_TIMEOUT = 120.0  # a server reported off or gone stops answering within seconds


# --- what is seen from outside ------------------------------------------------------------------


def boot_id(node: Any) -> str:
    """The kernel's boot id: a fresh random value at every boot, the same while it runs."""
    value = node.run(["cat", BOOT_ID_PATH]).stdout.strip()
    assert value, f"{BOOT_ID_PATH} is empty"
    return value


def mem_total_mb(node: Any) -> int:
    for line in node.run(["cat", "/proc/meminfo"]).stdout.splitlines():
        if line.startswith("MemTotal:"):
            return int(line.split()[1]) // 1024
    raise AssertionError("/proc/meminfo has no MemTotal line")


def assert_guest_matches_flavor(node: Any, flavor: Flavor) -> None:
    cpus = int(node.run(["nproc"]).stdout.strip())
    assert cpus == flavor.vcpus, (
        f"the guest sees {cpus} CPUs; flavor {flavor.name} gives {flavor.vcpus}"
    )
    memory = mem_total_mb(node)
    assert GUEST_RAM_FLOOR * flavor.ram_mb <= memory <= flavor.ram_mb, (
        f"the guest sees {memory} MiB; flavor {flavor.name} gives {flavor.ram_mb} MiB"
    )


def reconnect(cloud: Any, server: Any, node: Any) -> bool:
    """Log in again after the guest restarted; False when its reachable address changed (EC2
    gives a new public IP at start unless it is an Elastic IP)."""
    again = cloud.reachable_address(server.id)
    kept = (again.ip, again.port) == (node.host, node.port)
    node.host, node.port = again.ip, again.port
    node.connect()
    return kept


def ssh_port_open(ip: str, port: int) -> bool:
    """Whether anything accepts TCP on the SSH port. An SSH greeting is answered with our own
    banner before closing, so the server sees a client leaving, not a broken handshake."""
    try:
        with socket.create_connection((ip, port), timeout=PORT_PROBE_TIMEOUT) as sock:
            with contextlib.suppress(OSError):
                if sock.recv(256).startswith(b"SSH-"):
                    sock.sendall(b"SSH-2.0-interop-probe\r\n")
                    sock.shutdown(socket.SHUT_WR)
                    while sock.recv(4096):  # read to the server's close: no reset
                        pass
            return True
    except OSError:
        return False


def wait_for(condition: Callable[[], bool], what: str, timeout: float = SSH_STATE_TIMEOUT) -> float:
    """Poll with a growing pause until condition() holds; returns the seconds it took."""
    started = time.monotonic()
    pause = 0.05
    while not condition():
        if time.monotonic() - started > timeout:
            raise AssertionError(f"{what}: not so after {timeout:.0f} s")
        time.sleep(pause)
        pause = min(pause * 2, 2.0)
    return round(time.monotonic() - started, 2)


module_server, server, node = module_server_fixtures()


# --- compute-servers-create ---------------------------------------------------------------------


@pytest.mark.idempotent_id("ba17905f-b174-400e-ace6-2a0cec30441e")
def test_created_server_is_active_with_the_image_flavor_and_key_asked_for(
    cloud, shared_server, record_finding
):
    server = cloud.get_server(shared_server.id)
    assert server.status == "ACTIVE"
    assert server.image_id == shared_server.image.id
    assert flavor_matches(server, shared_server.flavor), (
        f"server has flavor {server.flavor_id}, asked for {shared_server.flavor.name}"
    )
    if server.key_name is not None:  # Nova and EC2 report it; a provider may not
        assert server.key_name == shared_server.keypair.name
    listed = {item.id: item for item in cloud.list_servers()}
    assert shared_server.id in listed, "the new server is missing from the server list"
    assert listed[shared_server.id].status == "ACTIVE"
    record_finding("flavor", shared_server.flavor.name)
    record_finding("image", shared_server.image.name)


@pytest.mark.idempotent_id("2a63d0a2-1ac3-4c91-9d63-d7cd57f03c97")
def test_created_server_can_be_logged_into_with_its_key(shared_server, shared_node, record_finding):
    account = shared_node.run(["id", "-un"]).stdout.strip()
    assert account == shared_node.username
    # The key pair's public key is the one the image installed for that account.
    key_blob = paramiko.PKey.from_path(shared_server.keypair.private_key_path).get_base64()
    authorized = shared_node.run(["cat", ".ssh/authorized_keys"]).stdout
    assert key_blob in authorized, "the key pair's public key is not in ~/.ssh/authorized_keys"
    record_finding("login_user", account)
    record_finding("reachable_via", shared_server.reachable.via)
    record_finding("host_key_verified", bool(shared_node.host_key_verified))


@pytest.mark.idempotent_id("2a26c344-7dd7-4dc8-844c-7307f502dd12")
def test_created_server_has_the_cpus_and_memory_of_its_flavor(shared_server, shared_node):
    assert_guest_matches_flavor(shared_node, shared_server.flavor)


# --- compute-servers-stop -----------------------------------------------------------------------


@pytest.mark.idempotent_id("d725da21-c9ea-45ed-8617-eeb2a76d3d96")
def test_stop_shuts_the_server_off_and_start_brings_ssh_back(cloud, server, node, record_finding):
    ip, port = server.reachable.ip, server.reachable.port
    first_boot = boot_id(node)

    stopped = cloud.stop_server(server.id)
    assert stopped.status == "SHUTOFF"
    record_finding(
        "ssh_closed_after_stop_seconds",
        wait_for(lambda: not ssh_port_open(ip, port), "SSH closed after stop"),
    )
    assert cloud.get_server(server.id).status == "SHUTOFF"

    started = cloud.start_server(server.id)
    assert started.status == "ACTIVE"
    record_finding("address_kept_across_stop", reconnect(cloud, server, node))
    assert boot_id(node) != first_boot, "start did not boot the guest again"


# --- compute-servers-suspend-resume (advisory) --------------------------------------------------


@pytest.mark.idempotent_id("d66f67ee-b5e2-41e9-a471-8a61b4cdea16")
def test_suspend_closes_ssh_and_resume_restores_the_running_guest(
    cloud, server, node, os_conn, record_finding
):
    ip, port = server.reachable.ip, server.reachable.port
    running_boot = boot_id(node)

    os_conn.compute.suspend_server(server.id)
    assert cloud.wait_for_server(server.id, "SUSPENDED").status == "SUSPENDED"
    wait_for(lambda: not ssh_port_open(ip, port), "SSH closed while suspended")

    os_conn.compute.resume_server(server.id)
    assert cloud.wait_for_server(server.id, "ACTIVE").status == "ACTIVE"
    node.connect()
    # Suspend saves the guest's memory; resume continues the same boot, unlike stop/start.
    assert boot_id(node) == running_boot, "resume booted the guest afresh instead of resuming"
    record_finding("resume_keeps_boot", True)


# --- compute-servers-lock -----------------------------------------------------------------------


@pytest.mark.idempotent_id("c25aa965-a8c7-46c3-b097-ba13bcc55d1b")
def test_locked_server_refuses_changes_by_a_non_admin_user(cloud, server, node, os_conn):
    from openstack import exceptions as os_exceptions

    running_boot = boot_id(node)
    cloud.lock_server(server.id)
    try:
        assert cloud.get_server(server.id).locked is True
        attempts = {
            "stop": lambda: os_conn.compute.stop_server(server.id),
            "hard reboot": lambda: os_conn.compute.reboot_server(server.id, "HARD"),
            "delete": lambda: os_conn.compute.delete_server(server.id, ignore_missing=False),
            "metadata update": lambda: os_conn.compute.set_server_metadata(
                server.id, interop_locked="changed"
            ),
        }
        for action, attempt in attempts.items():
            with pytest.raises(os_exceptions.ConflictException):
                attempt()
                pytest.fail(f"{action} of a locked server was accepted")
        current = cloud.get_server(server.id)
        assert current.status == "ACTIVE" and current.locked is True
        assert "interop_locked" not in current.metadata
        # Nothing happened to the guest either: same boot, same session.
        assert boot_id(node) == running_boot
    finally:
        cloud.unlock_server(server.id)


@pytest.mark.idempotent_id("bc2ab0dc-d976-46df-94ba-4abc0e89d3c4")
def test_unlock_clears_the_lock_and_restores_actions(cloud, server):
    cloud.lock_server(server.id)
    try:
        assert cloud.get_server(server.id).locked is True
    finally:
        cloud.unlock_server(server.id)
    assert cloud.get_server(server.id).locked is False
    assert cloud.stop_server(server.id).status == "SHUTOFF"


# --- compute-servers-delete ---------------------------------------------------------------------


@pytest.mark.idempotent_id("d457185e-434a-435b-90ce-46788a9f811d")
def test_deleted_server_is_gone_from_the_api_and_the_network(cloud, server, node, record_finding):
    ip, port = server.reachable.ip, server.reachable.port
    assert boot_id(node)  # reachable before
    node.close()

    cloud.delete_server(server.id)
    with pytest.raises(ResourceNotFound):
        cloud.get_server(server.id)
    assert server.id not in {item.id for item in cloud.list_servers()}
    record_finding(
        "ssh_closed_after_delete_seconds",
        wait_for(lambda: not ssh_port_open(ip, port), "SSH closed after delete"),
    )
