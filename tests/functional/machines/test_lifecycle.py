"""Power, reboot, resize, rebuild, disks and addresses of a machine, seen over SSH."""

from __future__ import annotations

import socket
import threading
from concurrent.futures import ThreadPoolExecutor

import paramiko
import pytest

from pytest_interop.nodes import parse_host_key_fingerprints, sha256_fingerprint
from pytest_interop.reference.machines import MachineHost
from tests.functional.machines.helpers import (
    RecordingPolicy,
    free_port,
    loopback_ip,
    new_key,
    run,
    ssh,
    threads_named,
)


def _boot_id(ip, port, key):
    client = ssh(ip, port, "ubuntu", key=key)
    try:
        return run(client, "cat /proc/sys/kernel/random/boot_id")[1].strip()
    finally:
        client.close()


def test_reboot_changes_boot_id_and_closes_sessions(make_machine, host, user_key):
    machine, ip = make_machine()
    client = ssh(ip, host.ssh_port, "ubuntu", key=user_key[0])
    before = run(client, "cat /proc/sys/kernel/random/boot_id")[1].strip()
    assert before == machine.boot_id
    run(client, "touch /tmp/scratch ~/kept")
    machine.reboot()
    with pytest.raises((paramiko.SSHException, EOFError, OSError)):
        run(client, "true")  # the session did not survive the reboot
    client.close()
    after = _boot_id(ip, host.ssh_port, user_key[0])
    assert after == machine.boot_id
    assert after != before
    client = ssh(ip, host.ssh_port, "ubuntu", key=user_key[0])
    try:
        assert run(client, "test -f ~/kept && test ! -e /tmp/scratch")[0] == 0
    finally:
        client.close()


def test_resize_changes_nproc_free_and_disk(make_machine, host, user_key):
    machine, ip = make_machine(vcpus=1, ram_mb=1024, disk_gb=10)
    port = host.ssh_port

    def facts():
        client = ssh(ip, port, "ubuntu", key=user_key[0])
        try:
            nproc = int(run(client, "nproc")[1])
            total = int(run(client, "free -m | grep Mem:")[1].split()[1])
            disk = run(client, "lsblk -b -d -n -o NAME,SIZE")[1].split()
            return nproc, total, disk
        finally:
            client.close()

    nproc, total, disk = facts()
    assert nproc == 1 and 900 < total <= 1024 and disk == ["vda", str(10 * 1024**3)]
    machine.resize(4, 8192, 40)
    nproc, total, disk = facts()
    assert nproc == 4 and 7800 < total <= 8192 and disk == ["vda", str(40 * 1024**3)]


def test_power_off_refuses_connections_and_power_on_restores(make_machine, host, user_key):
    machine, ip = make_machine()
    port = host.ssh_port
    first = machine.boot_id
    machine.power_off()
    with pytest.raises(ConnectionRefusedError), socket.create_connection((ip, port), timeout=2):
        pass
    machine.power_on()
    assert _boot_id(ip, port, user_key[0]) == machine.boot_id != first


def test_attach_and_detach_disk_show_in_lsblk(make_machine, host, user_key):
    machine, ip = make_machine()
    machine.attach_disk("/dev/vdb", 1)
    client = ssh(ip, host.ssh_port, "ubuntu", key=user_key[0])
    try:
        listing = run(client, "lsblk -b -d -n -o NAME,SIZE")[1]
        sizes = dict(line.split() for line in listing.splitlines())
        assert sizes == {"vda": str(20 * 1024**3), "vdb": str(1024**3)}
        assert run(client, "test -b /dev/vdb")[0] == 0
        assert "vdb" in run(client, "lsblk")[1]
        machine.detach_disk("vdb")
        assert "vdb" not in run(client, "lsblk -b -d -n -o NAME,SIZE")[1]
    finally:
        client.close()


def test_rebuild_gives_fresh_disk_new_host_keys_and_login(make_machine, host, user_key):
    machine, ip = make_machine()
    port = host.ssh_port
    old_fingerprints = machine.host_key_fingerprints()
    old_boot = machine.boot_id
    client = ssh(ip, port, "ubuntu", key=user_key[0])
    run(client, "touch ~/old-file")
    client.close()
    new_user_key = new_key()
    machine.rebuild("centos-stream-9", "cloud-user", [new_user_key[1]])
    assert machine.boot_id != old_boot
    printed = parse_host_key_fingerprints(machine.console_log())
    assert printed == machine.host_key_fingerprints()
    assert not set(printed) & set(old_fingerprints)
    with pytest.raises(paramiko.AuthenticationException):
        ssh(ip, port, "ubuntu", key=user_key[0])
    policy = RecordingPolicy()
    client = ssh(ip, port, "cloud-user", key=new_user_key[0], policy=policy)
    try:
        assert sha256_fingerprint(policy.seen[0].asbytes()) in printed
        assert run(client, "id -un; test -e ~/old-file || echo fresh")[1] == "cloud-user\nfresh\n"
        assert "CentOS" in run(client, "cat /etc/os-release")[1]
        # RHEL-family images name the unit sshd only
        assert run(client, "sudo systemctl reload ssh")[0] == 5
        assert run(client, "sudo systemctl reload sshd")[0] == 0
    finally:
        client.close()


def test_listen_rules(host, make_machine, user_key):
    machine, ip = make_machine()
    other = host.create(
        "other",
        hostname="other",
        login_user="ubuntu",
        authorized_keys=[],
        vcpus=1,
        ram_mb=512,
        disk_gb=1,
        image_name="ubuntu",
    )
    with pytest.raises(OSError):
        other.listen(ip)  # taken by the first machine
    with pytest.raises(ValueError):
        other.listen("10.0.0.5")
    second_ip = loopback_ip()
    machine.listen(second_ip)
    ssh(second_ip, host.ssh_port, "ubuntu", key=user_key[0]).close()
    machine.unlisten(second_ip)
    with (
        pytest.raises(ConnectionRefusedError),
        socket.create_connection((second_ip, host.ssh_port), timeout=2),
    ):
        pass
    with pytest.raises(KeyError):
        host.get("nope")
    assert host.get("other") is other


def test_fifty_concurrent_sessions_across_machines(make_machine, host, user_key):
    addresses = [make_machine()[1] for _ in range(5)]
    port = host.ssh_port
    barrier = threading.Barrier(50, timeout=30)

    def session(number: int) -> str:
        client = ssh(addresses[number % 5], port, "ubuntu", key=user_key[0])
        try:
            barrier.wait()  # all 50 connected at once
            status, out, _ = run(client, f"echo {number} | sudo tee /tmp/n-{number}")
            assert status == 0
            return out.strip()
        finally:
            client.close()

    with ThreadPoolExecutor(max_workers=50) as pool:
        results = list(pool.map(session, range(50)))
    assert results == [str(n) for n in range(50)]


def test_close_ends_every_thread_and_socket():
    host = MachineHost(free_port())
    key, public = new_key()
    ip = loopback_ip()
    machine = host.create(
        "leak-check",
        hostname="leaky",
        login_user="ubuntu",
        authorized_keys=[public],
        vcpus=1,
        ram_mb=512,
        disk_gb=1,
        image_name="ubuntu",
    )
    machine.listen(ip)
    client = ssh(ip, host.ssh_port, "ubuntu", key=key)
    channel = client.get_transport().open_session()
    channel.exec_command("echo ready; cat")  # a session blocked reading stdin at close
    channel.settimeout(5)
    assert channel.recv(6) == b"ready\n"  # so the session thread is running
    channel.sendall(b"partial input, no EOF")
    sftp = client.open_sftp()
    sftp.listdir(".")  # the SFTP subsystem's thread is running
    server_threads = [
        *threads_named("machine-leak-check"),  # accept loop, exec session
        *machine.threads._threads,  # exec session, SFTP subsystem
        *machine._transports,  # paramiko's transport thread
    ]
    assert len(set(server_threads)) == 4
    host.close()
    client.close()
    assert not [t for t in server_threads if t.is_alive()]
    assert not list(threads_named("machine-leak-check"))
    with (
        pytest.raises(ConnectionRefusedError),
        socket.create_connection((ip, host.ssh_port), timeout=2),
    ):
        pass


def test_guest_requested_reboot(make_machine, host, user_key):
    machine, ip = make_machine()
    first = machine.boot_id
    client = ssh(ip, host.ssh_port, "ubuntu", key=user_key[0])
    try:
        assert run(client, "reboot")[0] == 1  # only root may
        assert run(client, "sudo reboot")[0] == 0
    finally:
        client.close()
    host._background.join()
    assert _boot_id(ip, host.ssh_port, user_key[0]) == machine.boot_id != first


def test_connections_beyond_the_bound_are_refused(user_key):
    bounded = MachineHost(free_port(), max_connections=2)
    try:
        machine = bounded.create(
            "bounded",
            hostname="b",
            login_user="ubuntu",
            authorized_keys=[user_key[1]],
            vcpus=1,
            ram_mb=512,
            disk_gb=1,
            image_name="ubuntu",
        )
        ip = loopback_ip()
        machine.listen(ip)
        clients = [ssh(ip, bounded.ssh_port, "ubuntu", key=user_key[0]) for _ in range(2)]
        with pytest.raises((paramiko.SSHException, EOFError, OSError)):
            ssh(ip, bounded.ssh_port, "ubuntu", key=user_key[0])
        for client in clients:
            client.close()
    finally:
        bounded.close()


def test_interactive_shell(make_machine, host, user_key):
    _, ip = make_machine()
    client = ssh(ip, host.ssh_port, "ubuntu", key=user_key[0])
    try:
        channel = client.invoke_shell()
        channel.settimeout(5)
        channel.sendall(b"echo hello-from-shell\nexit\n")
        received = b""
        while True:
            data = channel.recv(4096)
            if not data:
                break
            received += data
        assert b"hello-from-shell\r\n" in received
        assert channel.recv_exit_status() == 0
    finally:
        client.close()


def test_rebuild_while_off_prints_new_keys_at_next_boot(make_machine, host, user_key):
    machine, ip = make_machine()
    machine.power_off()
    machine.rebuild("debian-12", "debian", [user_key[1]])
    assert not machine.powered_on
    machine.power_on()
    printed = parse_host_key_fingerprints(machine.console_log())
    assert printed == machine.host_key_fingerprints()
    policy = RecordingPolicy()
    client = ssh(ip, host.ssh_port, "debian", key=user_key[0], policy=policy)
    try:
        assert sha256_fingerprint(policy.seen[0].asbytes()) in printed
        assert "Debian" in run(client, "cat /etc/os-release")[1]
    finally:
        client.close()


def test_suspend_closes_ssh_and_resume_keeps_the_boot(make_machine, host, user_key):
    machine, ip = make_machine()
    client = ssh(ip, host.ssh_port, "ubuntu", key=user_key[0])
    try:
        before = run(client, "cat /proc/sys/kernel/random/boot_id; touch /tmp/kept")[1].strip()
    finally:
        client.close()
    machine.suspend()
    with pytest.raises(OSError):
        socket.create_connection((ip, host.ssh_port), timeout=2).close()
    machine.power_on()
    assert _boot_id(ip, host.ssh_port, user_key[0]) == before
    client = ssh(ip, host.ssh_port, "ubuntu", key=user_key[0])
    try:
        assert run(client, "test -f /tmp/kept && test -d /var/tmp")[0] == 0
    finally:
        client.close()
    machine.suspend()
    machine.power_off()  # a saved guest that is powered off boots afresh
    machine.power_on()
    assert _boot_id(ip, host.ssh_port, user_key[0]) not in ("", before)
