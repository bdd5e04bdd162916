"""The emulated sh: quoting, expansion, control flow, redirections."""

from __future__ import annotations

import shlex

import pytest


@pytest.mark.parametrize(
    ("line", "output"),
    [
        ("echo 'a  b' \"c  d\" e\\ f", "a  b c  d e f\n"),
        ("echo '$HOME' \"$HOME\" $HOME", "$HOME /home/ubuntu /home/ubuntu\n"),
        ('echo "$(echo inner)" `echo back`', "inner back\n"),
        ('x=1; y="$x 2"; echo $y ${y} ${unset:-default}', "1 2 1 2 default\n"),
        ("echo $(echo a b   c)", "a b c\n"),
        ("echo \"$(printf 'a b   c')\"", "a b   c\n"),
        ("echo ~ ~root", "/home/ubuntu /root\n"),
        ("echo a; echo b && echo c || echo d", "a\nb\nc\n"),
        ("false && echo no; false || echo yes", "yes\n"),
        ("! false && echo negated", "negated\n"),
        ("if grep -q ubuntu /etc/passwd; then echo found; else echo missing; fi", "found\n"),
        ("if false; then echo 1; elif true; then echo 2; fi", "2\n"),
        ("for n in 1 2 3; do echo n$n; done", "n1\nn2\nn3\n"),
        ("{ echo a; echo b; } | grep -c .", "2\n"),
        ("(cd /etc && pwd); pwd", "/etc\n/home/ubuntu\n"),
        ("echo $((2 * (3 + 4)))", "14\n"),
        ("echo one # a comment", "one\n"),
        ("sh -c 'echo $0 $1' name arg", "name arg\n"),
        ("echo err >&2 2>/dev/null; echo out", "out\n"),
        ("cat /nonexistent 2>&1 | grep -c 'No such'", "1\n"),
    ],
)
def test_shell_semantics(sh, line, output):
    assert sh(line)[1] == output


def test_shlex_join_protects_every_metacharacter(sh, machine):
    hostile = [
        "$(touch /tmp/a)",
        "`touch /tmp/b`",
        "; touch /tmp/c",
        "| touch /tmp/d",
        "&& x",
        "'\"",
        "\\",
        "*",
        "~",
    ]
    status, out, _ = sh(shlex.join(["echo", *hostile]))
    assert status == 0
    assert out == " ".join(hostile) + "\n"
    assert [p for p in machine.fs.all_paths() if p.startswith("/tmp/")] == []


def test_syntax_errors_are_status_2(sh):
    assert sh("echo 'unterminated")[0] == 2
    assert sh("if true; then echo x")[0] == 2
    assert sh("echo ok )")[0] == 2


def test_exit_and_status_variable(sh):
    assert sh("false; echo $?")[1] == "1\n"
    assert sh("exit 3; echo never") == (3, "", "")


def test_redirections_respect_permissions(sh, machine):
    status, _, err = sh("echo x > /etc/new")
    assert status == 2 and err == "sh: 1: cannot create /etc/new: Permission denied\n"
    assert sh("echo a > ~/f; echo b >> ~/f; cat < ~/f")[1] == "a\nb\n"
    assert sh("cat < /missing")[0] == 2
    assert machine.fs.raw("/home/ubuntu/f").uid == 1000


def test_glob(sh):
    # the user's shell cannot read /etc/sudoers.d, so the pattern reaches sudo unexpanded
    assert sh("sudo ls /etc/sudoers.d/*")[0] == 2
    assert sh("sudo sh -c 'ls /etc/sudoers.d/*'")[1] == "/etc/sudoers.d/90-cloud-init-users\n"
    assert sh("echo /etc/ssh/ssh_host_*_key.pub")[1] == (
        "/etc/ssh/ssh_host_ecdsa_key.pub /etc/ssh/ssh_host_ed25519_key.pub\n"
    )
    assert sh("echo /nothing/*")[1] == "/nothing/*\n"
    assert sh("echo '/etc/*'")[1] == "/etc/*\n"


def test_here_documents(sh, machine):
    script = (
        "sudo tee /etc/motd >/dev/null <<'EOF'\n"
        "literal $HOME `id`\n"
        "EOF\n"
        "cat <<EOF\n"
        "home is $HOME\n"
        "EOF\n"
        "cat <<-END; echo after\n"
        "\t\tindented\n"
        "\tEND\n"
    )
    assert sh(script) == (0, "home is /home/ubuntu\nindented\nafter\n", "")
    assert machine.fs.raw_read("/etc/motd") == "literal $HOME `id`\n"


def test_while_until_and_read(sh):
    assert sh("n=0; while [ $n -lt 3 ]; do echo $n; n=$((n+1)); done")[1] == "0\n1\n2\n"
    assert sh("n=0; until [ $n -eq 2 ]; do n=$((n+1)); done; echo $n")[1] == "2\n"
    script = 'while read -r name shell; do echo "$name uses $shell"; done'
    assert sh(script, stdin="a /bin/sh\nb /bin/bash\n")[1] == "a uses /bin/sh\nb uses /bin/bash\n"
    assert sh("while true; do :; done")[0] == 1  # stopped, not hung
