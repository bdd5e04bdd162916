"""pytest_interop.nodes against real SSH machines of the reference cloud."""

from __future__ import annotations

import os
import posixpath
import stat
import threading
import time

import pytest

from pytest_interop.nodes import (
    CommandFailed,
    CommandTimeout,
    HostKeyMismatch,
    LoginFailed,
    Node,
    SSHUnreachable,
    generate_keypair,
    parse_host_key_fingerprints,
    remove_private_key,
    temporary_keypair,
)
from tests.functional.machines.helpers import free_port, loopback_ip
from tests.functional.nodes.stale_proxy import StaleConnectionProxy


@pytest.fixture
def keypair(tmp_path):
    path, public = generate_keypair(tmp_path)
    yield path, public
    remove_private_key(path)


@pytest.fixture
def machine(make_machine, keypair):
    return make_machine(authorized_keys=[keypair[1]])


def node_for(host, ip, keypair, usernames, **options) -> Node:
    options.setdefault("timeout", 10)
    options.setdefault("connect_timeout", 5)
    options.setdefault("login_grace", 0)
    return Node(ip, host.ssh_port, private_key_path=keypair[0], usernames=usernames, **options)


def test_generated_private_key_is_0600_even_with_a_loose_umask(tmp_path):
    old = os.umask(0)
    try:
        path, public = generate_keypair(tmp_path)
    finally:
        os.umask(old)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert public.startswith("ssh-ed25519 ")
    assert "PRIVATE KEY" not in public
    remove_private_key(path)
    assert not path.exists()
    remove_private_key(path)  # already gone: fine


def test_connect_discovers_account_and_verifies_host_key(host, machine, keypair):
    m, ip = machine
    fingerprints = parse_host_key_fingerprints(m.console_log())
    with node_for(
        host, ip, keypair, ["centos", "ec2-user", "ubuntu"], host_key_fingerprints=fingerprints
    ) as node:
        assert node.connect() == "ubuntu"
        assert node.host_key_verified is True
        assert node.host_key_fingerprint in fingerprints
        assert node.tried_usernames == ["centos", "ec2-user", "ubuntu"]
        assert node.run(["id", "-un"]).stdout == "ubuntu\n"


def test_without_fingerprints_records_that_host_key_was_not_verified(host, machine, keypair):
    _, ip = machine
    with node_for(host, ip, keypair, ["ubuntu"]) as node:
        assert node.host_key_verified is None
        node.connect()
        assert node.host_key_verified is False


def test_host_key_mismatch(host, make_machine, machine, keypair):
    _, ip = machine
    other, _ = make_machine()
    wrong = parse_host_key_fingerprints(other.console_log())
    node = node_for(host, ip, keypair, ["ubuntu"], host_key_fingerprints=wrong)
    with pytest.raises(HostKeyMismatch) as caught:
        node.connect()
    assert caught.value.seen not in wrong


def test_wrong_key_gives_login_failed_with_accounts_tried(host, make_machine, keypair):
    _, ip = make_machine()  # the machine holds another key
    node = node_for(host, ip, keypair, ["ubuntu", "root"])
    with pytest.raises(LoginFailed) as caught:
        node.connect()
    assert caught.value.tried == ("ubuntu", "root")


def test_a_missing_key_file_fails_at_once_not_after_the_timeout(host, machine, tmp_path):
    _, ip = machine
    node = Node(
        ip, host.ssh_port, private_key_path=tmp_path / "gone", usernames=["ubuntu"], timeout=5
    )
    # Not SSHUnreachable after the timeout: the file's absence is said as it is.
    with pytest.raises(FileNotFoundError, match="gone"):
        node.connect()


def test_unreachable_when_nothing_listens(keypair):
    node = Node(
        loopback_ip(),
        free_port(),
        private_key_path=keypair[0],
        usernames=["ubuntu"],
        timeout=0.5,
        connect_timeout=0.5,
    )
    with pytest.raises(SSHUnreachable):
        node.connect()


def test_connect_waits_for_a_server_that_boots_later(host, machine, keypair):
    m, ip = machine
    m.power_off()
    node = node_for(host, ip, keypair, ["ubuntu"], timeout=30)
    booted = threading.Timer(0.3, m.power_on)
    booted.start()
    try:
        assert node.connect() == "ubuntu"
        assert node.run("cat /proc/sys/kernel/random/boot_id").stdout.strip() == m.boot_id
    finally:
        booted.join()
        node.close()


def test_argv_is_quoted_against_injection(host, machine, keypair):
    _, ip = machine
    hostile = "$(touch /tmp/pwned); `touch /tmp/pwned2` && touch /tmp/pwned3 #"
    with node_for(host, ip, keypair, ["ubuntu"]) as node:
        node.connect()
        node.run(["mkdir", "-p", posixpath.dirname("/tmp/" + hostile)])
        node.run(["touch", "/tmp/" + hostile])
        result = node.run(["echo", hostile, "'", '"'])
        assert result.stdout == f"{hostile} ' \"\n"
        assert node.run(["test", "-e", "/tmp/pwned"], check=False).exit_status == 1
        assert node.run(["test", "-e", "/tmp/pwned2"], check=False).exit_status == 1
        assert node.run(["test", "-e", "/tmp/pwned3"], check=False).exit_status == 1
        # a caller's own shell text is sent as is
        node.run("touch /tmp/$(echo pwned)")
        assert node.run(["test", "-e", "/tmp/pwned"], check=False).ok


def test_command_failed_carries_status_and_stderr_but_not_input(host, machine, keypair):
    _, ip = machine
    with node_for(host, ip, keypair, ["ubuntu"]) as node:
        node.connect()
        with pytest.raises(CommandFailed) as caught:
            node.run(["tee", "/etc/secret-file"], input="TOPSECRET-INPUT\n")
        error = caught.value
        assert error.exit_status == 1
        assert "Permission denied" in error.stderr_tail
        assert "TOPSECRET" not in str(error)
        assert error.argv == ["tee", "/etc/secret-file"]
        result = node.run(["tee", "/etc/secret-file"], input="ok\n", sudo=True)
        assert result.ok and node.sudo_needs_tty is False
        assert node.run("false", check=False).exit_status == 1


def test_sudo_falls_back_to_a_pty_when_requiretty(host, make_machine, keypair):
    _, ip = make_machine(
        authorized_keys=[keypair[1]],
        sudo_requires_tty=True,
        login_user="cloud-user",
        image_name="rhel-9",
    )
    with node_for(host, ip, keypair, ["ubuntu", "cloud-user"]) as node:
        assert node.connect() == "cloud-user"
        result = node.run(["id", "-u"], sudo=True)
        assert result.stdout == "0\n"
        assert node.sudo_needs_tty is True
        assert node.run(["whoami"], sudo=True).stdout == "root\n"


def test_root_account_with_tool_key_and_password_login_off(host, make_machine, keypair):
    """The node-allocation flow's step 7: add root with the tool's key, turn password login off."""
    _, ip = make_machine(authorized_keys=[keypair[1]], password="hunter2", root_login="no")
    with node_for(host, ip, keypair, ["ubuntu"]) as node:
        node.connect()
        assert node.try_password_login("ubuntu", "hunter2") is True
        assert node.try_password_login("ubuntu", "wrong") is False
        with pytest.raises(LoginFailed):
            node.login_as("root")
        node.run(["mkdir", "-p", "-m", "700", "/root/.ssh"], sudo=True)
        node.write_file(
            "/root/.ssh/authorized_keys", keypair[1] + "\n", sudo=True, append=True, mode="600"
        )
        assert node.read_file("/root/.ssh/authorized_keys", sudo=True) == keypair[1] + "\n"
        with pytest.raises(CommandFailed):
            node.read_file("/root/.ssh/authorized_keys")
        for setting in ("PermitRootLogin prohibit-password", "PasswordAuthentication no"):
            keyword = setting.split()[0]
            node.run(
                ["sed", "-i", f"s/^#\\?{keyword}.*/{setting}/", "/etc/ssh/sshd_config"], sudo=True
            )
        node.run(["systemctl", "reload", "ssh"], sudo=True)
        with node.login_as("root") as root:
            assert root.run(["id", "-u"]).stdout == "0\n"
            assert root.host_key_fingerprint == node.host_key_fingerprint
        assert node.try_password_login("ubuntu", "hunter2") is False


def test_run_reconnects_after_reboot(host, machine, keypair):
    m, ip = machine
    with node_for(host, ip, keypair, ["ubuntu"]) as node:
        node.connect()
        first = node.run(["cat", "/proc/sys/kernel/random/boot_id"]).stdout
        m.reboot()
        second = node.run(["cat", "/proc/sys/kernel/random/boot_id"]).stdout
        assert first != second
        assert second.strip() == m.boot_id


def test_rebuilt_server_with_old_fingerprints_is_a_mismatch(host, machine, keypair):
    m, ip = machine
    old = parse_host_key_fingerprints(m.console_log())
    m.rebuild("ubuntu-24.04", "ubuntu", [keypair[1]])
    with pytest.raises(HostKeyMismatch):
        node_for(host, ip, keypair, ["ubuntu"], host_key_fingerprints=old).connect()
    new = parse_host_key_fingerprints(m.console_log())
    with node_for(host, ip, keypair, ["ubuntu"], host_key_fingerprints=new) as node:
        node.connect()
        assert node.host_key_verified is True


def test_cloud_supplied_strings_with_metacharacters_stay_data(host, make_machine, tmp_path):
    hostile_name = "vm-$(id)-`id`;id|id&&id"
    with temporary_keypair(tmp_path) as (path, public):
        m, ip = make_machine(hostname=hostile_name, authorized_keys=[public])
        keypair = (path, public)
        with node_for(host, ip, keypair, ["ubuntu"]) as node:
            node.connect()
            assert node.run(["hostname"]).stdout == hostile_name + "\n"
            assert node.run(["grep", "-c", "-F", hostile_name, "/etc/hostname"]).stdout == "1\n"
            metadata = {"role": "x'; touch /tmp/owned; echo '", "note": '"$(touch /tmp/owned2)"'}
            for key, value in metadata.items():
                node.run(["tee", f"/tmp/meta-{key}"], input=value)
                assert node.run(["cat", f"/tmp/meta-{key}"]).stdout == value
                node.run(["sh", "-c", 'printf "%s" "$1" > /tmp/arg', "sh", value])
                assert node.run(["cat", "/tmp/arg"]).stdout == value
            assert m.fs.raw("/tmp/owned") is None and m.fs.raw("/tmp/owned2") is None
    assert not path.exists()


def test_login_redirect_from_the_image_is_followed(host, make_machine, keypair):
    _, ip = make_machine(authorized_keys=[keypair[1]], disable_root_keys=True)
    with node_for(host, ip, keypair, ["root"]) as node:
        assert node.connect() == "ubuntu"
        assert node.redirected_from == {"root": "ubuntu"}
        assert node.tried_usernames == ["root", "ubuntu"]
        assert node.run(["whoami"]).stdout == "ubuntu\n"


def test_command_timeout(host, machine, keypair):
    _, ip = machine
    with node_for(host, ip, keypair, ["ubuntu"]) as node:
        node.connect()
        with pytest.raises(CommandTimeout) as caught:
            node.run(["sleep", "30"], timeout=0.3)
        assert caught.value.exit_status is None
        assert node.run(["true"]).ok  # the connection is still usable


def test_failed_write_file_does_not_carry_the_content(host, make_machine, keypair):
    _, ip = make_machine(authorized_keys=[keypair[1]], sudo_requires_tty=True)
    with node_for(host, ip, keypair, ["ubuntu"]) as node:
        node.connect()
        for sudo in (False, True):
            target = "/etc/ssh" if sudo else "/etc/secret.conf"  # a directory: even root fails
            with pytest.raises(CommandFailed) as caught:
                node.write_file(target, "SECRET-CONTENT-42\n", sudo=sudo)
            assert "SECRET-CONTENT-42" not in str(caught.value)
            assert caught.value.stderr_tail.strip()


def test_input_with_a_pty_goes_through_a_pipe(host, make_machine, keypair):
    m, ip = make_machine(authorized_keys=[keypair[1]], sudo_requires_tty=True)
    content = "line one\n'quoted' $(not run) `nor this`\n"
    with node_for(host, ip, keypair, ["ubuntu"]) as node:
        node.connect()
        node.write_file("/etc/motd", content, sudo=True)
        assert node.sudo_needs_tty is True
        assert m.fs.raw_read("/etc/motd") == content
        assert node.run(["cat"], input=content, get_pty=True).stdout == content


def test_login_as_does_not_follow_a_redirect(host, make_machine, keypair):
    _, ip = make_machine(authorized_keys=[keypair[1]], disable_root_keys=True)
    with node_for(host, ip, keypair, ["ubuntu"]) as node:
        node.connect()
        with pytest.raises(LoginFailed) as caught:
            node.login_as("root")
        assert caught.value.redirected == "ubuntu"
        assert caught.value.tried == ("root",)


def test_run_reconnects_when_the_closed_connection_still_looks_active(host, machine, keypair):
    """The race behind a flaky reboot test: the server closed the connection, but the client's
    transport has not seen it and still reports active; run() must log in again, not fail."""
    m, ip = machine
    proxy = StaleConnectionProxy(loopback_ip(), free_port(), (ip, host.ssh_port))
    proxy_ip, proxy_port = proxy.address
    node = Node(
        proxy_ip,
        proxy_port,
        private_key_path=keypair[0],
        usernames=["ubuntu"],
        # Generous: the reconnect is an SSH handshake, slow when the suite loads both cores.
        timeout=30,
        connect_timeout=30,
        login_grace=0,
    )
    try:
        node.connect()
        first = node.run(["cat", "/proc/sys/kernel/random/boot_id"]).stdout
        proxy.wait_until_clients_are_quiet()
        m.reboot()
        assert proxy.upstream_closed.wait(5)
        assert node._client is not None and node._client.get_transport().is_active()
        second = node.run(["cat", "/proc/sys/kernel/random/boot_id"]).stdout
        assert first != second
        assert second.strip() == m.boot_id
    finally:
        node.close()
        proxy.close()


def test_connection_lost_while_a_command_runs_is_an_error_not_an_exit_status(
    host, machine, keypair
):
    """A command cut off with its connection has no exit status; it is not retried (it may
    have had effects) and the next command logs in again."""
    m, ip = machine
    proxy = StaleConnectionProxy(loopback_ip(), free_port(), (ip, host.ssh_port))
    node = Node(
        *proxy.address,
        private_key_path=keypair[0],
        usernames=["ubuntu"],
        timeout=10,
        connect_timeout=5,
        login_grace=0,
    )
    outcome: list[BaseException | object] = []

    def long_command() -> None:
        try:
            outcome.append(node.run("touch /tmp/started; sleep 30; touch /tmp/finished"))
        except BaseException as error:  # handed to the test thread
            outcome.append(error)

    try:
        node.connect()
        runner = threading.Thread(target=long_command)
        runner.start()
        for _ in range(400):  # the command is running once it touched the file
            if m.fs.raw("/tmp/started") is not None:
                break
            time.sleep(0.05)
        else:
            pytest.fail("the command did not start")
        proxy.drop_clients()
        runner.join(20)
        assert not runner.is_alive()
        (error,) = outcome
        assert isinstance(error, SSHUnreachable), error
        assert "while the command ran" in error.reason or "connection lost" in error.reason
        assert node.run(["cat", "/tmp/started"], check=False).exit_status == 0  # logs in again
        assert m.fs.raw("/tmp/finished") is None
    finally:
        node.close()
        proxy.close()
