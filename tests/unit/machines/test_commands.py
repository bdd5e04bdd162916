"""Commands of the emulated machine, run without SSH."""

from __future__ import annotations

import pytest

from pytest_interop.reference.machines.commands import posix_regex


def test_sed_basic_regex_edits_sshd_config(sh):
    command = (
        "sudo sed -i -e 's/^#\\?PasswordAuthentication.*/PasswordAuthentication no/' "
        "-e 's/^#\\?PermitRootLogin .*/PermitRootLogin yes/' /etc/ssh/sshd_config"
    )
    assert sh(command)[0] == 0
    config = sh("cat /etc/ssh/sshd_config")[1]
    assert "\nPasswordAuthentication no\n" in config
    assert "\nPermitRootLogin yes\n" in config
    assert "#PermitRootLogin" not in config


@pytest.mark.parametrize(
    ("script", "text", "output"),
    [
        ("s/a/b/", "aaa\n", "baa\n"),
        ("s/a/b/g", "aaa\n", "bbb\n"),
        ("s/\\(x\\)\\(y\\)/\\2\\1/", "xy\n", "yx\n"),
        ("s/a+/X/", "a+a\n", "Xa\n"),  # + is literal in a basic regex
        ("s|/|_|g", "/a/b\n", "_a_b\n"),
        ("s/o/[&]/g", "foo\n", "f[o][o]\n"),
        ("/^#/d", "#c\nkeep\n", "keep\n"),
        ("2d", "1\n2\n3\n", "1\n3\n"),
        ("$a\\last", "1\n", "1\nlast\n"),
        ("s/[[:space:]]*$//", "x   \n", "x\n"),
    ],
)
def test_sed_scripts(sh, script, text, output):
    assert sh(f"sed '{script}'", stdin=text)[1] == output


def test_sed_extended_and_errors(sh):
    assert sh("sed -E 's/(a|b)+/X/'", stdin="abab-c\n")[1] == "X-c\n"
    assert sh("sed 'q'", stdin="x\n")[0] == 1
    status, _, err = sh("sed -i 's/a/b/' /etc/hostname")
    assert status == 4 and "Permission denied" in err


def test_posix_regex_translation():
    assert posix_regex("^#\\?Pass", extended=False) == "^#?Pass"
    assert posix_regex("a|b", extended=False) == "a\\|b"
    assert posix_regex("a|b", extended=True) == "a|b"
    assert posix_regex("[[:digit:]]+", extended=True) == "[0-9]+"


def test_grep_options(sh):
    passwd = "/etc/passwd"
    assert sh(f"grep -c x {passwd}")[1] == "4\n"
    assert sh(f"grep -q '^root:' {passwd}")[0] == 0
    assert sh(f"grep -q '^nobody-else' {passwd}")[0] == 1
    assert sh("grep -q x /missing")[0] == 2
    assert sh("grep -E '^(root|ubuntu):' /etc/passwd | cut -d: -f1")[1] == "root\nubuntu\n"
    assert sh("grep -Ev 'nologin|bash' /etc/passwd")[0] == 1
    assert sh("grep -i ROOT /etc/passwd")[1].startswith("root:")
    assert sh("grep -x -F 'a.c'", stdin="abc\na.c\n")[1] == "a.c\n"


def test_permissions_and_sudo(sh, machine):
    assert sh("cat /etc/shadow")[0] == 1
    assert sh("sudo cat /etc/shadow")[0] == 0
    assert sh("mkdir /etc/x")[2] == "mkdir: cannot create directory '/etc/x': Permission denied\n"
    assert sh("chown root ~/.bashrc")[0] == 1
    assert sh("sudo chown root:root /home/ubuntu/.bashrc && stat -c '%U:%G' ~/.bashrc")[1] == (
        "root:root\n"
    )
    assert sh("touch /root/x")[0] == 1
    assert sh("sudo touch /root/x && sudo test -f /root/x")[0] == 0
    assert sh("test -f /root/x")[0] == 1  # cannot even look inside /root
    assert sh("chmod u=rwx,go= ~/.ssh && stat -c %a ~/.ssh")[1] == "700\n"
    assert sh("chmod 644 /etc/passwd")[2].endswith("Operation not permitted\n")
    assert sh("rm -f /etc/hostname")[0] == 1
    assert sh("rm -f ~/nothing")[0] == 0


def test_sudo_rules(sh, machine):
    assert sh("sudo -u nobody whoami")[1] == "nobody\n"
    assert sh("sudo -u nosuch id")[2] == "sudo: unknown user nosuch\n"
    assert sh("sudo frob")[0:3:2] == (1, "sudo: frob: command not found\n")
    assert sh("sudo")[0] == 1
    sh("sudo rm /etc/sudoers.d/90-cloud-init-users")
    status, _, err = sh("sudo -n true")
    assert status == 1 and err == "sudo: a password is required\n"
    assert sh("sudo -n true", user="root")[0] == 0  # root needs no rule


def test_requiretty_from_sudoers(sh):
    sh("echo 'Defaults requiretty' | sudo tee -a /etc/sudoers")
    assert sh("sudo true")[2] == "sudo: sorry, you must have a tty to run sudo\n"
    assert sh("sudo true", pty=True)[0] == 0


def test_hardware_facts(sh, machine):
    assert sh("nproc")[1] == "2\n"
    total = int(sh("free -m")[1].splitlines()[1].split()[1])
    assert 1900 < total < 2048
    machine.attach_disk("vdc", 3)
    assert sh("lsblk -b -d -n -o NAME,SIZE /dev/vdc")[1].split() == ["vdc", str(3 * 1024**3)]
    assert sh("lsblk -n -o NAME,TYPE")[1].split() == [
        "vda",
        "disk",
        "└─vda1",
        "part",
        "vdc",
        "disk",
    ]
    assert sh("uname -n")[1] == "unit-vm\n"
    assert sh("hostname -s")[1] == "unit-vm\n"


def test_id_forms(sh):
    assert sh("id")[1] == "uid=1000(ubuntu) gid=1000(ubuntu) groups=1000(ubuntu),4(adm),27(sudo)\n"
    assert sh("id -G")[1] == "1000 4 27\n"
    assert sh("id -gn root")[1] == "root\n"
    assert sh("id nosuch")[0] == 1


def test_systemctl(sh, machine):
    assert sh("systemctl is-active ssh")[1] == "active\n"
    assert sh("sudo systemctl restart nosuch")[0] == 5
    assert sh("systemctl reload sshd")[0] == 1
    assert sh("sudo systemctl reload sshd.service")[0] == 0


def test_printf_and_echo(sh):
    assert sh("printf '%05.1f|%-3s|%x\\n' 3.14159 a 255")[1] == "003.1|a  |ff\n"
    assert sh("printf 'no newline'")[1] == "no newline"
    assert sh("echo -n a; echo -e 'b\\tc'")[1] == "ab\tc\n"
    assert sh("echo 'a\\nb'")[1] == "a\\nb\n"


@pytest.mark.parametrize(
    ("line", "output"),
    [
        # escapes in an argument are data for %s and %c, as in dash and bash
        ("printf '%s' 'a\\nb'", "a\\nb"),
        ("printf '%s|%s\\n' 'x\\ty' 'z\\\\'", "x\\ty|z\\\\\n"),
        ("printf '%c' '\\n'", "\\"),
        ("printf '%s\\n' 'a\\cb' next", "a\\cb\nnext\n"),
        # ... and read in the format, and in a %b argument
        ("printf 'a\\tb\\n'", "a\tb\n"),
        ("printf '%b|' 'a\\nb'", "a\nb|"),
        ("printf '%b' 'x\\cy' z", "x"),
        ("printf 'a\\cb%s' z", "a\\cbz"),  # \c stops only in %b
        ("printf '%s-' a b c", "a-b-c-"),
        ("printf '100%%\\n'", "100%\n"),
    ],
)
def test_printf_reads_escapes_in_the_format_only(sh, line, output):
    assert sh(line)[:2] == (0, output)


def test_chpasswd_and_passwd_lock(sh, machine):
    from pytest_interop.reference.machines.image import password_matches, stored_password

    assert sh("echo 'ubuntu:pw1' | sudo chpasswd")[0] == 0
    assert password_matches(stored_password(machine.fs, "ubuntu"), "pw1")
    assert sh("sudo passwd -l ubuntu")[0] == 0
    assert not password_matches(stored_password(machine.fs, "ubuntu"), "pw1")
    assert sh("echo 'ubuntu:x' | chpasswd")[0] == 1


def test_grep_file_name_prefixes(sh):
    files = "/etc/hostname /etc/os-release"
    assert sh(f"grep unit-vm {files}")[1] == "/etc/hostname:unit-vm\n"
    assert sh(f"grep -h unit-vm {files}")[1] == "unit-vm\n"
    assert sh("grep -H unit-vm /etc/hostname")[1] == "/etc/hostname:unit-vm\n"


def test_read_only_disk_shows_ro_and_refuses_writes(sh, machine):
    machine.attach_disk("/dev/vdb", 1, read_only=True)
    machine.attach_disk("/dev/vdc", 1)
    assert sh("lsblk -n -o NAME,RO")[1].split() == [
        "vda",
        "0",
        "└─vda1",
        "0",
        "vdb",
        "1",
        "vdc",
        "0",
    ]
    header, *rows = sh("lsblk -d")[1].splitlines()
    ro_column = header.split().index("RO")
    assert {row.split()[0]: row.split()[ro_column] for row in rows} == {
        "vda": "0",
        "vdb": "1",
        "vdc": "0",
    }
    for line in (
        "sudo dd if=/dev/zero of=/dev/vdb bs=1M count=1",
        "echo data | sudo tee /dev/vdb",
        "sudo sh -c 'echo data > /dev/vdb'",
        "sudo sh -c 'echo data >> /dev/vdb'",
    ):
        status, _, stderr = sh(line)
        assert status != 0, line
        assert "Read-only file system" in stderr, line
    assert sh("sudo dd if=/dev/vdb of=/dev/null bs=1M count=1")[0] == 0  # reading is fine
    assert sh("sudo dd if=/dev/zero of=/dev/vdc bs=1M count=1")[0] == 0
    assert sh("echo data | sudo tee /dev/vdc")[0] == 0
    # a user without access is refused by permissions first, as on Linux
    assert "Permission denied" in sh("dd if=/dev/zero of=/dev/vdb bs=1M count=1")[2]


def test_read_only_flag_goes_with_the_disk_on_detach(sh, machine):
    machine.attach_disk("vdb", 1, read_only=True)
    machine.detach_disk("vdb")
    machine.attach_disk("vdb", 1)
    assert sh("lsblk -n -o NAME,RO /dev/vdb")[1].split() == ["vdb", "0"]
    assert sh("sudo dd if=/dev/zero of=/dev/vdb bs=1M count=1")[0] == 0


@pytest.mark.parametrize(
    ("command", "text", "output"),
    [
        ("cut -f1 -d.", "123.45 0.00\n", "123\n"),
        ("cut -d' ' -f2", "a b c\n", "b\n"),
        ("cut -d: -f1,3-", "a:b:c:d\nnone\n", "a:c:d\nnone\n"),
        ("cut -c2-3", "abcd\n", "bc\n"),
    ],
)
def test_cut_fields_and_characters(sh, command, text, output):
    assert sh(command, stdin=text)[1] == output


def test_cut_reads_proc_uptime_as_tempest_does(sh):
    status, out, _ = sh("cut -f1 -d. /proc/uptime")
    assert status == 0 and out.strip().isdigit()
    assert sh("cut /proc/uptime")[0] == 1
