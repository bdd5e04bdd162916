"""What the emulated sshd allows: its configuration as last (re)loaded, and authorized_keys rules.

The rules are OpenSSH's: first value of a keyword wins, `Include` is followed, `Match` blocks
end the global section; keys are read from AuthorizedKeysFile under the user's home, refused when
StrictModes finds the file or its directories writable by others.
"""

from __future__ import annotations

import fnmatch
import posixpath
import re
import shlex
from dataclasses import dataclass

import paramiko

from pytest_interop.reference.machines.filesystem import DIR, Filesystem, normalize
from pytest_interop.reference.machines.image import Account

ROOT_LOGIN_VALUES = {"yes", "no", "prohibit-password", "without-password", "forced-commands-only"}
KEY_TYPES = (
    "ssh-ed25519",
    "ssh-rsa",
    "ssh-dss",
    "ecdsa-sha2-nistp256",
    "ecdsa-sha2-nistp384",
    "ecdsa-sha2-nistp521",
    "sk-ssh-ed25519@openssh.com",
    "sk-ecdsa-sha2-nistp256@openssh.com",
)


class SshdConfigError(ValueError):
    """A configuration `sshd -t` would reject; a reload with it fails and keeps the old one."""


@dataclass(frozen=True)
class SshdSettings:
    password_authentication: bool = True
    pubkey_authentication: bool = True
    permit_root_login: str = "prohibit-password"
    authorized_keys_files: tuple[str, ...] = (".ssh/authorized_keys", ".ssh/authorized_keys2")
    strict_modes: bool = True

    @property
    def root_may_use_keys(self) -> bool:
        return self.permit_root_login != "no"

    @property
    def root_may_use_password(self) -> bool:
        return self.permit_root_login == "yes"


def _config_lines(fs: Filesystem, path: str, depth: int = 0) -> list[list[str]]:
    if depth > 8:
        raise SshdConfigError(f"{path}: Include nested too deeply")
    text = fs.raw_read(path)
    if text is None:
        if depth == 0:
            raise SshdConfigError(f"{path}: No such file or directory")
        return []
    lines: list[list[str]] = []
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        # "Keyword value", "Keyword=value" and "Keyword = value" are all valid
        parts = re.split(r"\s*=\s*|\s+", line, maxsplit=1)
        words = [parts[0], *parts[1].split()] if len(parts) > 1 else parts
        if words[0].lower() == "match":
            break  # what follows Match applies to some connections; we keep the global part
        if words[0].lower() == "include":
            for pattern in words[1:]:
                full = pattern if pattern.startswith("/") else posixpath.join("/etc/ssh", pattern)
                for match in sorted(p for p in fs.all_paths() if fnmatch.fnmatch(p, full)):
                    lines.extend(_config_lines(fs, match, depth + 1))
            continue
        lines.append(words)
    return lines


def _yes_no(keyword: str, value: str) -> bool:
    if value.lower() not in ("yes", "no"):
        raise SshdConfigError(f'unsupported option "{value}" for {keyword}')
    return value.lower() == "yes"


def load_settings(fs: Filesystem) -> SshdSettings:
    """Parse /etc/ssh/sshd_config as sshd does when it starts or reloads."""
    seen: dict[str, list[str]] = {}
    for words in _config_lines(fs, "/etc/ssh/sshd_config"):
        seen.setdefault(words[0].lower(), words[1:])  # first obtained value wins
    settings = SshdSettings()
    values: dict[str, object] = {}
    if "passwordauthentication" in seen:
        values["password_authentication"] = _yes_no(
            "PasswordAuthentication", (seen["passwordauthentication"] or [""])[0]
        )
    if "pubkeyauthentication" in seen:
        values["pubkey_authentication"] = _yes_no(
            "PubkeyAuthentication", (seen["pubkeyauthentication"] or [""])[0]
        )
    if "strictmodes" in seen:
        values["strict_modes"] = _yes_no("StrictModes", (seen["strictmodes"] or [""])[0])
    if "permitrootlogin" in seen:
        value = (seen["permitrootlogin"] or [""])[0].lower()
        if value not in ROOT_LOGIN_VALUES:
            raise SshdConfigError(f'unsupported option "{value}" for PermitRootLogin')
        values["permit_root_login"] = "prohibit-password" if value == "without-password" else value
    if seen.get("authorizedkeysfile"):
        values["authorized_keys_files"] = tuple(seen["authorizedkeysfile"])
    return SshdSettings(**{**settings.__dict__, **values})


@dataclass(frozen=True)
class AuthorizedKey:
    forced_command: str | None


def _split_options(line: str) -> tuple[str, str]:
    """Split an authorized_keys line into its options and the rest (type, key, comment)."""
    in_quote = False
    index = 0
    while index < len(line):
        char = line[index]
        if char == "\\" and in_quote:
            index += 2  # \" inside a quoted option value does not end it
            continue
        if char == '"':
            in_quote = not in_quote
        elif char in " \t" and not in_quote:
            return line[:index], line[index:].strip()
        index += 1
    return line, ""


def _forced_command(options: str) -> str | None:
    lexer = shlex.shlex(options, posix=True, punctuation_chars=False)
    lexer.whitespace = ","
    lexer.whitespace_split = True
    for option in lexer:
        if option.lower().startswith("command="):
            return option.split("=", 1)[1]
    return None


def _securely_owned(fs: Filesystem, path: str, account: Account) -> bool:
    """StrictModes: the file and each directory up to the home must be the user's or root's
    and writable by nobody else."""
    current = path
    while True:
        inode = fs.raw(current)
        if inode is None:
            return False
        if inode.uid not in (0, account.uid) or inode.mode & 0o022:
            return False
        if current in (normalize(account.home), "/"):
            return True
        current = posixpath.dirname(current)


def find_authorized_key(
    fs: Filesystem, settings: SshdSettings, account: Account, key: paramiko.PKey
) -> AuthorizedKey | None:
    """The matching authorized_keys entry for key, or None."""
    wanted = (key.get_name(), key.get_base64())
    for pattern in settings.authorized_keys_files:
        if pattern.lower() == "none":
            continue
        path = pattern.replace("%h", account.home).replace("%u", account.name).replace("%%", "%")
        path = normalize(path if path.startswith("/") else posixpath.join(account.home, path))
        inode = fs.raw(path)
        if inode is None or inode.kind == DIR:
            continue
        if settings.strict_modes and not _securely_owned(fs, path, account):
            continue
        for raw in inode.content().splitlines():
            line = raw.strip()
            if not line or line.startswith("#"):
                continue
            options = ""
            if not line.startswith(KEY_TYPES):
                options, line = _split_options(line)
            fields = line.split()
            if len(fields) >= 2 and (fields[0], fields[1]) == wanted:
                return AuthorizedKey(_forced_command(options) if options else None)
    return None
