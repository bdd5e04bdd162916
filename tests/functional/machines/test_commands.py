"""Commands the must-pass tests run, over a real SSH exec channel."""

from __future__ import annotations

import shlex

import pytest

from tests.functional.machines.helpers import run, ssh


@pytest.fixture
def session(make_machine, host, user_key):
    machine, ip = make_machine()
    client = ssh(ip, host.ssh_port, "ubuntu", key=user_key[0])
    yield machine, client
    client.close()


def test_identity_and_sudo(session):
    _, client = session
    assert run(client, "id -u; id -un; whoami") == (0, "1000\nubuntu\nubuntu\n", "")
    assert run(client, "sudo -n id -u") == (0, "0\n", "")
    assert run(client, "sudo -u ubuntu whoami")[1] == "ubuntu\n"
    assert run(client, "sudo sh -c 'whoami; echo $HOME'")[1] == "root\n/root\n"


def test_normal_user_cannot_write_etc_or_read_root(session):
    _, client = session
    status, _, err = run(client, "echo x > /etc/motd")
    assert status == 2 and "Permission denied" in err
    status, _, err = run(client, "echo x | tee -a /etc/motd")
    assert status == 1 and err == "tee: /etc/motd: Permission denied\n"
    status, _, err = run(client, "cat /root/.bashrc")
    assert status == 1 and "Permission denied" in err
    # `sudo echo > file` redirects as the user, exactly as a real shell does
    assert run(client, "sudo echo x > /etc/motd")[0] == 2
    assert run(client, "echo x | sudo tee -a /etc/motd >/dev/null && cat /etc/motd") == (
        0,
        "x\n",
        "",
    )


def test_unknown_command_is_127_on_stderr(session):
    _, client = session
    assert run(client, "frobnicate --now") == (127, "", "sh: 1: frobnicate: not found\n")


def test_quoted_metacharacters_are_not_interpreted(session):
    machine, client = session
    name = "$(touch pwned); x `touch pwned2` && touch pwned3 | ;"
    status, _, _ = run(client, "cd /tmp && touch " + shlex.quote(name) + " && ls")
    assert status == 0
    assert machine.fs.raw(f"/tmp/{name}") is not None
    for leaked in ("/tmp/pwned", "/tmp/pwned2", "/tmp/pwned3"):
        assert machine.fs.raw(leaked) is None
    # the same text unquoted *is* run by the emulated shell: the check above can fail
    run(client, "cd /tmp && touch $(echo pwned); true")
    assert machine.fs.raw("/tmp/pwned") is not None


def test_sshd_config_edit_with_sed_and_grep(session):
    machine, client = session
    assert machine.sshd_settings.password_authentication is False  # no password: image default
    command = (
        "sudo sed -i 's/^#\\?PasswordAuthentication.*/PasswordAuthentication yes/' "
        "/etc/ssh/sshd_config && grep -E '^PasswordAuthentication' /etc/ssh/sshd_config"
    )
    assert run(client, command) == (0, "PasswordAuthentication yes\n", "")
    assert run(client, "grep -q '^PermitRootLogin prohibit-password' /etc/ssh/sshd_config")[0] == 0
    assert run(client, "grep -q nothing-like-this /etc/ssh/sshd_config")[0] == 1
    assert run(client, "systemctl reload ssh")[0] == 1  # needs root
    assert machine.sshd_settings.password_authentication is False  # edited, not reloaded
    assert run(client, "sudo service ssh reload")[0] == 0
    assert machine.sshd_settings.password_authentication is True


def test_stdin_pipes_and_lists(session):
    _, client = session
    assert run(client, "cat", stdin="hello\n") == (0, "hello\n", "")
    assert run(client, "tee ~/a.txt | grep -c l", stdin="l1\nx\nl2\n")[1] == "2\n"
    assert run(client, "false || echo fallback; false && echo never; echo end")[1] == (
        "fallback\nend\n"
    )
    assert run(client, "printf '%s=%d\\n' a 1 b 2")[1] == "a=1\nb=2\n"
    assert run(client, "mkdir -p ~/d/e && chmod 700 ~/d && stat -c %a ~/d")[1] == "700\n"


def test_system_facts(session):
    machine, client = session
    assert run(client, "nproc")[1] == "2\n"
    assert run(client, "hostname")[1] == f"{machine.hostname}\n"
    assert run(client, "uname -s")[1] == "Linux\n"
    assert "ID=ubuntu" in run(client, "cat /etc/os-release")[1]
    assert run(client, "cat /proc/sys/kernel/random/boot_id")[1] == machine.boot_id + "\n"
    assert run(client, "sudo grep NOPASSWD /etc/sudoers.d/90-cloud-init-users")[1] == (
        "ubuntu ALL=(ALL) NOPASSWD:ALL\n"
    )


def test_sudo_requiretty(make_machine, host, user_key):
    _, ip = make_machine(sudo_requires_tty=True, image_name="centos-stream-9", login_user="centos")
    client = ssh(ip, host.ssh_port, "centos", key=user_key[0])
    try:
        assert run(client, "sudo -n id -u") == (
            1,
            "",
            "sudo: sorry, you must have a tty to run sudo\n",
        )
        status, out, _ = run(client, "sudo -n id -u", get_pty=True)
        assert status == 0 and out == "0\r\n"
    finally:
        client.close()


def test_pty_echoes_input(session, host):
    _, client = session
    status, out, _ = run(client, "cat", get_pty=True, stdin="typed\n")
    assert status == 0 and out == "typed\r\ntyped\r\n"


def test_sftp_with_the_users_permissions(session, host):
    machine, client = session
    sftp = client.open_sftp()
    try:
        with sftp.open("notes.txt", "w") as remote:
            remote.write(b"hello over sftp\n")
        assert machine.fs.raw_read("/home/ubuntu/notes.txt") == "hello over sftp\n"
        assert machine.fs.raw("/home/ubuntu/notes.txt").uid == 1000
        sftp.chmod("notes.txt", 0o600)
        assert sftp.stat("notes.txt").st_mode & 0o777 == 0o600
        assert "notes.txt" in sftp.listdir(".")
        with sftp.open("/etc/hostname") as remote:
            assert remote.read() == f"{machine.hostname}\n".encode()
        with pytest.raises(PermissionError):
            sftp.open("/etc/passwd", "w")
        with pytest.raises(PermissionError):
            sftp.listdir("/root")
        with pytest.raises(FileNotFoundError):
            sftp.stat("/nope")
        sftp.mkdir("dir")
        sftp.rename("notes.txt", "dir/notes.txt")
        assert sftp.listdir("dir") == ["notes.txt"]
        sftp.remove("dir/notes.txt")
        sftp.rmdir("dir")
        assert run(client, "ls ~")[1] == ""
    finally:
        sftp.close()
