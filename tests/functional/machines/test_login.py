"""Logging in to reference-cloud machines with a real paramiko client: what sshd allows."""

from __future__ import annotations

import paramiko
import pytest

from pytest_interop.nodes import parse_host_key_fingerprints, sha256_fingerprint
from tests.functional.machines.helpers import RecordingPolicy, new_key, run, ssh


def test_login_with_injected_key_as_image_user(make_machine, host, user_key):
    machine, ip = make_machine()
    client = ssh(ip, host.ssh_port, "ubuntu", key=user_key[0])
    try:
        assert run(client, "id -un") == (0, "ubuntu\n", "")
        assert run(client, "whoami; hostname")[1] == f"ubuntu\n{machine.hostname}\n"
    finally:
        client.close()


def test_wrong_key_and_unknown_user_are_refused(make_machine, host, user_key):
    _, ip = make_machine()
    other_key, _ = new_key()
    with pytest.raises(paramiko.AuthenticationException):
        ssh(ip, host.ssh_port, "ubuntu", key=other_key)
    with pytest.raises(paramiko.AuthenticationException):
        ssh(ip, host.ssh_port, "nosuchuser", key=user_key[0])


def test_host_key_matches_console_log_fingerprints(make_machine, host, user_key):
    machine, ip = make_machine()
    policy = RecordingPolicy()
    ssh(ip, host.ssh_port, "ubuntu", key=user_key[0], policy=policy).close()
    log = machine.console_log()
    printed = parse_host_key_fingerprints(log)
    assert len(printed) >= 2
    assert sha256_fingerprint(policy.seen[0].asbytes()) in printed
    assert "-----BEGIN SSH HOST KEY KEYS-----" in log
    assert f"root@{machine.hostname} (ED25519)" in log


def test_root_login_refused_until_key_added_and_permit_root_login_reloaded(
    make_machine, host, user_key
):
    _, ip = make_machine(root_login="no")
    port = host.ssh_port
    with pytest.raises(paramiko.AuthenticationException):
        ssh(ip, port, "root", key=user_key[0])
    client = ssh(ip, port, "ubuntu", key=user_key[0])
    try:
        status, _, _ = run(
            client,
            "sudo mkdir -p /root/.ssh && sudo chmod 700 /root/.ssh && "
            "sudo tee -a /root/.ssh/authorized_keys >/dev/null && "
            "sudo chmod 600 /root/.ssh/authorized_keys",
            stdin=user_key[1] + "\n",
        )
        assert status == 0
        # the key is there, but PermitRootLogin no still blocks root entirely
        with pytest.raises(paramiko.AuthenticationException):
            ssh(ip, port, "root", key=user_key[0])
        edit = (
            "sudo sed -i 's/^#\\?PermitRootLogin.*/PermitRootLogin prohibit-password/' "
            "/etc/ssh/sshd_config"
        )
        assert run(client, edit)[0] == 0
        with pytest.raises(paramiko.AuthenticationException):  # not reloaded yet
            ssh(ip, port, "root", key=user_key[0])
        assert run(client, "sudo systemctl reload ssh")[0] == 0
    finally:
        client.close()
    root = ssh(ip, port, "root", key=user_key[0])
    try:
        assert run(root, "id -u") == (0, "0\n", "")
    finally:
        root.close()


def test_password_login_until_password_authentication_no_is_reloaded(make_machine, host, user_key):
    _, ip = make_machine(password="correct horse")
    port = host.ssh_port
    ssh(ip, port, "ubuntu", password="correct horse").close()
    with pytest.raises(paramiko.AuthenticationException):
        ssh(ip, port, "ubuntu", password="wrong")
    client = ssh(ip, port, "ubuntu", key=user_key[0])
    try:
        edit = (
            "sudo sed -i 's/^#\\?PasswordAuthentication.*/PasswordAuthentication no/' "
            "/etc/ssh/sshd_config"
        )
        assert run(client, edit)[0] == 0
        ssh(ip, port, "ubuntu", password="correct horse").close()  # edited, not yet reloaded
        assert run(client, "sudo systemctl reload sshd")[0] == 0
    finally:
        client.close()
    with pytest.raises(paramiko.AuthenticationException):
        ssh(ip, port, "ubuntu", password="correct horse")
    ssh(ip, port, "ubuntu", key=user_key[0]).close()  # keys still work


def test_without_password_no_password_login(make_machine, host):
    _, ip = make_machine()
    with pytest.raises(paramiko.AuthenticationException):
        ssh(ip, host.ssh_port, "ubuntu", password="")


def test_invalid_config_reload_fails_and_keeps_old_settings(make_machine, host, user_key):
    _, ip = make_machine()
    client = ssh(ip, host.ssh_port, "ubuntu", key=user_key[0])
    try:
        run(client, "echo 'PermitRootLogin maybe' | sudo tee /etc/ssh/sshd_config.d/00-bad.conf")
        status, _, err = run(client, "sudo systemctl reload ssh")
        assert status == 1
        assert "failed" in err
    finally:
        client.close()
    ssh(ip, host.ssh_port, "ubuntu", key=user_key[0]).close()


def test_strict_modes_refuse_group_writable_ssh_directory(make_machine, host, user_key):
    _, ip = make_machine()
    client = ssh(ip, host.ssh_port, "ubuntu", key=user_key[0])
    try:
        assert run(client, "chmod 777 ~/.ssh")[0] == 0
        with pytest.raises(paramiko.AuthenticationException):
            ssh(ip, host.ssh_port, "ubuntu", key=user_key[0])
        assert run(client, "chmod 700 ~/.ssh")[0] == 0
    finally:
        client.close()
    ssh(ip, host.ssh_port, "ubuntu", key=user_key[0]).close()


def test_forced_command_in_root_authorized_keys(make_machine, host, user_key):
    machine, ip = make_machine()
    forced = 'no-pty,command="echo Please login as the user ubuntu;exit 142" ' + user_key[1]
    machine.fs.put_dir("/root/.ssh", mode=0o700)
    machine.fs.put_file("/root/.ssh/authorized_keys", forced + "\n", mode=0o600)
    root = ssh(ip, host.ssh_port, "root", key=user_key[0])
    try:
        assert run(root, "id -u") == (142, "Please login as the user ubuntu\n", "")
    finally:
        root.close()


def test_cloud_init_disable_root_answers_with_the_login_user(make_machine, host, user_key):
    _, ip = make_machine(disable_root_keys=True)
    root = ssh(ip, host.ssh_port, "root", key=user_key[0])
    try:
        status, out, _ = run(root, "id -u")
        assert status == 142
        assert out == 'Please login as the user "ubuntu" rather than the user "root".\n\n'
    finally:
        root.close()
