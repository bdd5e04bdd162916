"""sshd configuration parsing and authorized_keys rules, without a network."""

from __future__ import annotations

import io

import paramiko
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

from pytest_interop.reference.machines.filesystem import Filesystem
from pytest_interop.reference.machines.image import Account
from pytest_interop.reference.machines.sshd_policy import (
    SshdConfigError,
    find_authorized_key,
    load_settings,
)


def _key() -> paramiko.PKey:
    text = ed25519.Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.OpenSSH,
        serialization.NoEncryption(),
    )
    return paramiko.Ed25519Key.from_private_key(io.StringIO(text.decode()))


def _fs(config: str) -> Filesystem:
    fs = Filesystem()
    fs.put_file("/etc/ssh/sshd_config", config)
    return fs


def test_defaults_are_openssh_defaults():
    settings = load_settings(_fs("# nothing\n"))
    assert settings.password_authentication is True
    assert settings.permit_root_login == "prohibit-password"
    assert settings.root_may_use_keys and not settings.root_may_use_password


def test_first_value_wins_and_include_comes_first():
    fs = _fs(
        "Include /etc/ssh/sshd_config.d/*.conf\nPasswordAuthentication no\n"
        "PasswordAuthentication yes\npermitrootlogin = without-password\n"
        "Match User bob\nPasswordAuthentication yes\n"
    )
    fs.put_file("/etc/ssh/sshd_config.d/50-cloud-init.conf", "PasswordAuthentication yes\n")
    settings = load_settings(fs)
    assert settings.password_authentication is True  # the drop-in was read first
    assert settings.permit_root_login == "prohibit-password"
    fs.drop("/etc/ssh/sshd_config.d/50-cloud-init.conf")
    assert load_settings(fs).password_authentication is False


def test_keyword_value_separators():
    assert load_settings(_fs("PermitRootLogin=no\n")).permit_root_login == "no"
    assert load_settings(_fs("PermitRootLogin\tyes\n")).permit_root_login == "yes"


def test_invalid_values_are_rejected():
    with pytest.raises(SshdConfigError):
        load_settings(_fs("PermitRootLogin maybe\n"))
    with pytest.raises(SshdConfigError):
        load_settings(_fs("PasswordAuthentication perhaps\n"))
    with pytest.raises(SshdConfigError):
        load_settings(Filesystem())


def _home(fs: Filesystem, line: str, *, ssh_mode: int = 0o700, file_uid: int = 1000) -> Account:
    fs.put_dir("/home/u", uid=1000, gid=1000, mode=0o750)
    fs.put_dir("/home/u/.ssh", uid=1000, gid=1000, mode=ssh_mode)
    fs.put_file("/home/u/.ssh/authorized_keys", line + "\n", uid=file_uid, gid=1000, mode=0o600)
    return Account("u", 1000, 1000, "/home/u", "/bin/sh")


def test_authorized_key_matching_options_and_strict_modes():
    key, other = _key(), _key()
    public = f"{key.get_name()} {key.get_base64()}"
    fs = _fs("")
    settings = load_settings(fs)
    account = _home(fs, f'from="*",command="echo hi; exit 3" {public} comment')
    entry = find_authorized_key(fs, settings, account, key)
    assert entry is not None and entry.forced_command == "echo hi; exit 3"
    assert find_authorized_key(fs, settings, account, other) is None
    account = _home(fs, public, ssh_mode=0o777)
    assert find_authorized_key(fs, settings, account, key) is None  # StrictModes
    account = _home(fs, public, file_uid=2000)
    assert find_authorized_key(fs, settings, account, key) is None  # someone else's file
    fs.put_file("/etc/ssh/sshd_config", "StrictModes no\n")
    account = _home(fs, public, ssh_mode=0o777)
    assert find_authorized_key(fs, load_settings(fs), account, key) is not None
