"""Reaching a server over SSH (paramiko): wait for it, log in, check its host key, run commands.

Libcloud's deploy idea: wait until SSH answers, find the account the image logs in with, then run
steps. Host keys are checked against the fingerprints cloud-init printed to the console log
when the cloud shows them; otherwise the node records that it could not check. Commands given
as argument lists are quoted with `shlex.join`, so strings a cloud supplied (names, metadata)
cannot inject shell syntax.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import logging
import os
import re
import secrets
import shlex
import socket
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import paramiko
import tenacity
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

from pytest_interop.errors import InteropError

log = logging.getLogger(__name__)

FINGERPRINTS_BEGIN = "-----BEGIN SSH HOST KEY FINGERPRINTS-----"
FINGERPRINTS_END = "-----END SSH HOST KEY FINGERPRINTS-----"
KEYS_BEGIN = "-----BEGIN SSH HOST KEY KEYS-----"
KEYS_END = "-----END SSH HOST KEY KEYS-----"
STDERR_TAIL_CHARS = 500
NEEDS_TTY_MARKER = "must have a tty"
# Logins tried by run() when a session cannot start on a connection the server already closed.
SESSION_START_ATTEMPTS = 3
# What images answer when a key is accepted for an account they do not want used (cloud-init's
# disable_root, some AMIs): the key works, every command prints this and exits.
LOGIN_REDIRECT = re.compile(r"Please login as the user \W?([a-z_][a-z0-9_.-]*)\W? rather than")


# --- errors -----------------------------------------------------------------------------------


class NodeError(InteropError):
    """A failure reaching or using a server over SSH. Messages never carry key material."""


class SSHUnreachable(NodeError):
    def __init__(self, host: str, port: int, reason: str) -> None:
        super().__init__(f"SSH on {host}:{port} not reachable: {reason}")
        self.host, self.port, self.reason = host, port, reason


class LoginFailed(NodeError):
    """No account let the key in. `redirected` names the account an image asked for instead
    ("Please login as the user X"), when one did."""

    def __init__(
        self, host: str, port: int, tried: Sequence[str], redirected: str | None = None
    ) -> None:
        message = f"no account accepted the key on {host}:{port}; tried {', '.join(tried)}"
        if redirected:
            message += f"; the image asks to log in as {redirected}"
        super().__init__(message)
        self.host, self.port, self.tried, self.redirected = host, port, tuple(tried), redirected


class HostKeyMismatch(NodeError):
    def __init__(self, host: str, port: int, seen: str, expected: Sequence[str]) -> None:
        super().__init__(
            f"host key of {host}:{port} is {seen}, not one the console log printed "
            f"({', '.join(expected) or 'the key seen at first connection'})"
        )
        self.host, self.port, self.seen, self.expected = host, port, seen, tuple(expected)


class CommandFailed(NodeError):
    def __init__(
        self, argv: Sequence[str] | str, exit_status: int | None, stderr_tail: str
    ) -> None:
        shown = argv if isinstance(argv, str) else shlex.join(argv)
        status = "timed out" if exit_status is None else f"exited {exit_status}"
        super().__init__(f"`{shown}` {status}: {stderr_tail.strip()}")
        self.argv, self.exit_status, self.stderr_tail = argv, exit_status, stderr_tail


class CommandTimeout(CommandFailed):
    """The command did not finish in time; its channel was closed."""

    def __init__(self, argv: Sequence[str] | str, stderr_tail: str) -> None:
        super().__init__(argv, None, stderr_tail)


@dataclass(frozen=True)
class CommandResult:
    exit_status: int
    stdout: str
    stderr: str

    @property
    def ok(self) -> bool:
        return self.exit_status == 0


# --- fingerprints and key pairs -------------------------------------------------------------------


def sha256_fingerprint(public_blob: bytes) -> str:
    digest = hashlib.sha256(public_blob).digest()
    return "SHA256:" + base64.b64encode(digest).decode("ascii").rstrip("=")


def md5_fingerprint(public_blob: bytes) -> str:
    digest = hashlib.md5(public_blob).hexdigest()
    return "MD5:" + ":".join(digest[i : i + 2] for i in range(0, 32, 2))


_MD5 = re.compile(r"\b((?:[0-9a-fA-F]{2}:){15}[0-9a-fA-F]{2})\b")
_SHA256 = re.compile(r"\b(SHA256:[A-Za-z0-9+/]{43})=?")


def normalize_fingerprint(text: str) -> str:
    """'SHA256:xxx' (no padding) or 'MD5:aa:bb:..' (lower case), from the ways they are written."""
    text = text.strip()
    if text.upper().startswith("MD5:"):
        text = text[4:]
    if _MD5.fullmatch(text):
        return "MD5:" + text.lower()
    if text.startswith("SHA256:"):
        return text.rstrip("=")
    return "SHA256:" + text.rstrip("=")


def _last_block(lines: list[str], begin: str, end: str) -> list[str] | None:
    starts = [i for i, line in enumerate(lines) if begin in line]
    if not starts:
        return None
    start = starts[-1]
    stop = next((i for i in range(start + 1, len(lines)) if end in lines[i]), len(lines))
    return lines[start + 1 : stop]


def parse_host_key_fingerprints(console_log: str) -> list[str]:
    """Host key fingerprints cloud-init printed, from the *last* block (a rebuild prints new keys).

    Reads the FINGERPRINTS block (SHA256 or legacy MD5 lines, with or without syslog prefixes);
    when only the KEYS block is there, computes SHA256 fingerprints from the keys. Empty if none.
    """
    lines = console_log.splitlines()
    block = _last_block(lines, FINGERPRINTS_BEGIN, FINGERPRINTS_END)
    found: list[str] = []
    if block is not None:
        for line in block:
            sha = _SHA256.search(line)
            md5 = _MD5.search(line)
            if sha:
                found.append(sha.group(1))
            elif md5:
                found.append("MD5:" + md5.group(1).lower())
        if found:
            return found
    keys = _last_block(lines, KEYS_BEGIN, KEYS_END) or []
    for line in keys:
        match = re.search(r"\b(ssh-\S+|ecdsa-\S+)\s+([A-Za-z0-9+/]+={0,2})", line)
        if match:
            try:
                found.append(sha256_fingerprint(base64.b64decode(match.group(2))))
            except ValueError:
                continue
    return found


def generate_keypair(directory: str | os.PathLike[str]) -> tuple[Path, str]:
    """A new ed25519 key pair: the private key written 0600 (created with that mode, never wider),
    and the public key in OpenSSH form. Remove the file with `remove_private_key` at the end."""
    private = ed25519.Ed25519PrivateKey.generate()
    pem = private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.OpenSSH,
        serialization.NoEncryption(),
    )
    public = private.public_key().public_bytes(
        serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH
    )
    path = Path(directory) / f"interop-{secrets.token_hex(6)}"
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.fchmod(descriptor, 0o600)  # whatever the umask said
        os.write(descriptor, pem)
    finally:
        os.close(descriptor)
    return path, public.decode("ascii") + " pytest-interop"


def remove_private_key(path: str | os.PathLike[str]) -> None:
    """Delete a generated private key; a missing file is fine."""
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)


@contextlib.contextmanager
def temporary_keypair(directory: str | os.PathLike[str]) -> Iterator[tuple[Path, str]]:
    """generate_keypair for a with-block: the private key is deleted when the block ends."""
    path, public = generate_keypair(directory)
    try:
        yield path, public
    finally:
        remove_private_key(path)


# --- the node -----------------------------------------------------------------------------------


class _Unreachable(Exception):
    pass


class _NotAccepted(Exception):
    pass


class _SessionNotStarted(Exception):
    """The connection failed before a command was sent: safe to log in again and retry."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class _HostKeyPolicy(paramiko.MissingHostKeyPolicy):
    def __init__(self, node: Node) -> None:
        self.node = node

    def missing_host_key(
        self, client: paramiko.SSHClient, hostname: str, key: paramiko.PKey
    ) -> None:
        self.node._check_host_key(key)


class Node:
    """A server you can SSH into, with the node's private key and the accounts to try."""

    def __init__(
        self,
        host: str,
        port: int,
        *,
        private_key_path: str | os.PathLike[str],
        usernames: Sequence[str],
        host_key_fingerprints: Sequence[str] | None = None,
        timeout: float = 300,
        connect_timeout: float = 10,
        login_grace: float = 30,
        follow_login_redirects: bool = True,
    ) -> None:
        if not usernames:
            raise ValueError("at least one username to try")
        self.host = host
        self.port = port
        self.private_key_path = Path(private_key_path)
        self.usernames = list(dict.fromkeys(usernames))
        self.expected_fingerprints = [normalize_fingerprint(f) for f in host_key_fingerprints or []]
        self.timeout = timeout
        self.connect_timeout = connect_timeout
        self.login_grace = login_grace
        self.follow_login_redirects = follow_login_redirects
        self.username: str | None = None
        self.host_key_verified: bool | None = None
        self.host_key_fingerprint: str | None = None
        self.sudo_needs_tty: bool | None = None
        self.tried_usernames: list[str] = []
        self.redirected_from: dict[str, str] = {}  # account -> account its image asked for
        self._pinned_key: bytes | None = None
        self._client: paramiko.SSHClient | None = None
        self._key: paramiko.PKey | None = None
        self._connect_lock = threading.Lock()  # one reconnect at a time when threads share a node

    def __repr__(self) -> str:
        return f"Node({self.host}:{self.port}, user={self.username!r})"

    def __enter__(self) -> Node:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- host keys ---
    def _check_host_key(self, key: paramiko.PKey) -> None:
        blob = key.asbytes()
        seen = sha256_fingerprint(blob)
        self.host_key_fingerprint = seen
        if self._pinned_key is not None:
            if blob != self._pinned_key:
                raise HostKeyMismatch(self.host, self.port, seen, self.expected_fingerprints)
            return
        if self.expected_fingerprints:
            if seen not in self.expected_fingerprints and (
                md5_fingerprint(blob) not in self.expected_fingerprints
            ):
                raise HostKeyMismatch(self.host, self.port, seen, self.expected_fingerprints)
            self.host_key_verified = True
        else:  # nothing printed to check against: recorded, not trusted
            self.host_key_verified = False
        self._pinned_key = blob

    # --- connecting ---
    def _private_key(self) -> paramiko.PKey:
        if self._key is None:
            self._key = paramiko.PKey.from_path(self.private_key_path)
        return self._key

    def _open_client(self, username: str, *, password: str | None = None) -> paramiko.SSHClient:
        """One SSH connection as username. Raises _Unreachable, _NotAccepted or HostKeyMismatch."""
        # Loaded before connecting: a missing or unreadable key file is no network trouble
        # to retry for minutes, but a mistake to report at once.
        pkey = None if password is not None else self._private_key()
        client = paramiko.SSHClient()
        client.set_missing_host_key_policy(_HostKeyPolicy(self))
        try:
            client.connect(
                self.host,
                self.port,
                username=username,
                pkey=pkey,
                password=password,
                timeout=self.connect_timeout,
                banner_timeout=self.connect_timeout,
                auth_timeout=self.connect_timeout,
                look_for_keys=False,
                allow_agent=False,
            )
        except HostKeyMismatch:
            client.close()
            raise
        except paramiko.AuthenticationException as error:
            client.close()
            raise _NotAccepted(type(error).__name__) from None
        except (OSError, EOFError, paramiko.SSHException) as error:
            client.close()
            raise _Unreachable(_describe(error)) from None
        return client

    def connect(self) -> str:
        """Wait for SSH (backoff up to `timeout`), log in trying each account (the one that worked
        before first), and return the account. Auth failures are retried for `login_grace`
        seconds, since cloud-init may install the key after sshd starts."""
        self.close()
        started = time.monotonic()
        last_unreachable = "no attempt made"

        def attempt() -> str:
            nonlocal last_unreachable
            order = [u for u in [self.username] if u] + [
                u for u in self.usernames if u != self.username
            ]
            for username in order:
                if username not in self.tried_usernames:
                    self.tried_usernames.append(username)
                try:
                    self._client = self._open_client(username)
                except _Unreachable as error:
                    last_unreachable = str(error)
                    raise
                except _NotAccepted:
                    log.debug("%s:%s refused the key for %s", self.host, self.port, username)
                    continue
                try:
                    suggested = self._login_redirect(self._client)
                except BaseException:
                    self.close()
                    raise
                if suggested is None:
                    self.username = username
                    return username
                # the key was accepted but the image only tells us which account to use
                self.close()
                self.redirected_from[username] = suggested
                if self.follow_login_redirects and suggested not in order:
                    order.append(suggested)
                    self.usernames.append(suggested)
            raise _NotAccepted(",".join(order))

        def should_retry(state: tenacity.RetryCallState) -> bool:
            error = state.outcome.exception() if state.outcome else None
            if isinstance(error, _Unreachable):
                return True
            if isinstance(error, _NotAccepted):
                return time.monotonic() - started < self.login_grace
            return False

        retrying = tenacity.Retrying(
            retry=should_retry,
            wait=tenacity.wait_exponential(multiplier=0.2, min=0.1, max=5),
            stop=tenacity.stop_after_delay(self.timeout),
            reraise=True,
        )
        try:
            return retrying(attempt)
        except _Unreachable:
            raise SSHUnreachable(self.host, self.port, last_unreachable) from None
        except _NotAccepted:
            redirected = next(iter(self.redirected_from.values()), None)
            raise LoginFailed(self.host, self.port, self.tried_usernames, redirected) from None

    def _login_redirect(self, client: paramiko.SSHClient) -> str | None:
        """The account a 'Please login as the user X' forced command names, or None."""
        transport = client.get_transport()
        if transport is None:
            return None
        try:
            channel = transport.open_session(timeout=self.connect_timeout)
            try:
                channel.exec_command("true")
                channel.shutdown_write()
                stdout, _ = self._collect(channel, "true", time.monotonic() + 30)
            finally:
                channel.close()
        except (OSError, EOFError, paramiko.SSHException) as error:
            raise _Unreachable(_describe(error)) from None
        match = LOGIN_REDIRECT.search(stdout.decode("utf-8", "replace"))
        return match.group(1) if match else None

    def _transport(self) -> paramiko.Transport:
        with self._connect_lock:
            transport = self._client.get_transport() if self._client else None
            if transport is None or not transport.is_active():
                self.connect()
                transport = self._client.get_transport() if self._client else None
                if transport is None:
                    raise SSHUnreachable(self.host, self.port, "no transport after login")
            return transport

    # --- commands ---
    def run(
        self,
        argv: Sequence[str] | str,
        *,
        sudo: bool = False,
        check: bool = True,
        get_pty: bool = False,
        input: str | None = None,
        timeout: float = 60,
    ) -> CommandResult:
        """Run a command. A list is quoted with shlex.join (no injection); a str is sent as the
        caller's own shell text. `sudo=True` runs it as root with `sudo -n`; when sudo insists
        on a tty (RHEL's requiretty), it is run again with a pty and `sudo_needs_tty` is set."""
        if isinstance(argv, str):
            command = f"sudo -n sh -c {shlex.quote(argv)}" if sudo else argv
        else:
            if not argv:
                raise ValueError("empty command")
            command = ("sudo -n -- " if sudo else "") + shlex.join(argv)
        use_pty = get_pty or (sudo and bool(self.sudo_needs_tty))
        result = self._execute(command, argv, use_pty, input, timeout)
        if sudo and not use_pty and result.exit_status != 0 and NEEDS_TTY_MARKER in result.stderr:
            self.sudo_needs_tty = use_pty = True
            result = self._execute(command, argv, True, input, timeout)
        elif sudo and self.sudo_needs_tty is None and result.exit_status == 0 and not get_pty:
            self.sudo_needs_tty = False
        if check and result.exit_status != 0:
            # with a pty both streams arrive as stdout
            tail = (result.stdout if use_pty else result.stderr)[-STDERR_TAIL_CHARS:]
            raise CommandFailed(argv, result.exit_status, tail)
        return result

    def _execute(
        self,
        command: str,
        argv: Sequence[str] | str,
        get_pty: bool,
        input: str | None,
        timeout: float,
    ) -> CommandResult:
        if get_pty and input is not None:
            # A pty echoes what is typed and does not pass on end-of-file, so input reaches the
            # command through a pipe instead: base64 in the command text, decoded on the server.
            encoded = base64.b64encode(input.encode()).decode("ascii")
            command = f"printf %s {encoded} | base64 -d | {command}"
            input = None
        # A server that rebooted closed its side, but the client's transport can still report
        # is_active() until its reader thread sees the EOF; the session open then fails. The
        # command never started, so log in again (connect() waits, up to `timeout`) and retry.
        reason = "no attempt made"
        for attempt in range(1, SESSION_START_ATTEMPTS + 1):
            transport = self._transport()
            try:
                return self._execute_once(transport, command, argv, get_pty, input, timeout)
            except _SessionNotStarted as error:
                reason = error.reason
                log.debug(
                    "%s:%s: session did not start (attempt %d): %s",
                    self.host,
                    self.port,
                    attempt,
                    reason,
                )
                self._forget_transport(transport)
        raise SSHUnreachable(self.host, self.port, f"no session could be started: {reason}")

    def _execute_once(
        self,
        transport: paramiko.Transport,
        command: str,
        argv: Sequence[str] | str,
        get_pty: bool,
        input: str | None,
        timeout: float,
    ) -> CommandResult:
        """One try on this transport. _SessionNotStarted when the connection failed before the
        command could start; SSHUnreachable when it was lost while the command ran (not
        retried: the command may have had effects)."""
        try:
            channel = transport.open_session(timeout=self.connect_timeout)
        except paramiko.ChannelException as error:  # the server refused a live transport
            raise SSHUnreachable(self.host, self.port, _describe(error)) from None
        except (OSError, EOFError, paramiko.SSHException) as error:
            raise _SessionNotStarted(_describe(error)) from None
        try:
            try:
                if get_pty:
                    channel.get_pty(width=200)
                channel.exec_command(command)
            except (OSError, EOFError, paramiko.SSHException) as error:
                if not transport.is_active():  # a dying connection, not a refused request
                    raise _SessionNotStarted(_describe(error)) from None
                raise SSHUnreachable(
                    self.host, self.port, f"command refused: {_describe(error)}"
                ) from None
            deadline = time.monotonic() + timeout
            try:
                if input:
                    channel.sendall(input.encode())
                channel.shutdown_write()
                stdout, stderr = self._collect(channel, argv, deadline)
                remaining = max(0.0, deadline - time.monotonic())
                if not channel.status_event.wait(remaining):
                    raise CommandTimeout(argv, stderr.decode(errors="replace")[-STDERR_TAIL_CHARS:])
            except (OSError, EOFError, paramiko.SSHException) as error:
                raise SSHUnreachable(
                    self.host, self.port, f"connection lost: {_describe(error)}"
                ) from None
            if channel.exit_status < 0 and not transport.is_active():
                # paramiko marks the channels of a dead transport closed, with no exit status
                raise SSHUnreachable(self.host, self.port, "connection lost while the command ran")
            status = channel.exit_status if channel.exit_status >= 0 else 255
        finally:
            channel.close()
        out = stdout.decode("utf-8", "replace")
        err = stderr.decode("utf-8", "replace")
        if get_pty:
            out = out.replace("\r\n", "\n")
        return CommandResult(status, out, err)

    def _forget_transport(self, transport: paramiko.Transport) -> None:
        """Close the client that owns transport, unless another thread already replaced it."""
        with self._connect_lock:
            if self._client is not None and self._client.get_transport() is transport:
                self.close()

    @staticmethod
    def _collect(
        channel: paramiko.Channel, argv: Sequence[str] | str, deadline: float
    ) -> tuple[bytes, bytes]:
        stdout, stderr = bytearray(), bytearray()
        channel.settimeout(0.05)
        while True:
            try:
                data: bytes | None = channel.recv(65536)
            except TimeoutError:
                data = None
            if data:
                stdout += data
            while channel.recv_stderr_ready():
                stderr += channel.recv_stderr(65536)
            if data == b"":
                break
            if time.monotonic() > deadline:
                raise CommandTimeout(argv, stderr.decode(errors="replace")[-STDERR_TAIL_CHARS:])
        channel.settimeout(None)
        while channel.recv_stderr_ready():
            stderr += channel.recv_stderr(65536)
        return bytes(stdout), bytes(stderr)

    # --- files, through the shell (no SFTP needed on the server) ---
    def write_file(
        self,
        path: str,
        content: str,
        *,
        sudo: bool = False,
        append: bool = False,
        mode: str | None = None,
    ) -> None:
        """Write content to path with `tee`, then `chmod mode` if given. tee's copy of the
        content goes to /dev/null, so a failure's message cannot carry the content."""
        tee = shlex.join(["tee", "-a", path] if append else ["tee", path]) + " >/dev/null"
        self.run(tee, sudo=sudo, input=content)
        if mode is not None:
            self.run(["chmod", mode, path], sudo=sudo)

    def read_file(self, path: str, *, sudo: bool = False) -> str:
        return self.run(["cat", path], sudo=sudo).stdout

    # --- other logins ---
    def login_as(self, username: str) -> Node:
        """Another session, as exactly username, with the same key and the same host key; one
        try of the login itself (LoginFailed at once if refused, with `redirected` set when the
        image only answers "Please login as the user X")."""
        other = Node(
            self.host,
            self.port,
            private_key_path=self.private_key_path,
            usernames=[username],
            host_key_fingerprints=self.expected_fingerprints,
            timeout=self.timeout,
            connect_timeout=self.connect_timeout,
            login_grace=0,
            follow_login_redirects=False,
        )
        other._pinned_key = self._pinned_key
        other.host_key_verified = self.host_key_verified
        other.connect()
        return other

    def try_password_login(self, username: str, password: str) -> bool:
        """Whether the server accepts this password for username (one try; the password is
        never logged or kept)."""
        deadline = time.monotonic() + self.connect_timeout
        while True:
            try:
                client = self._open_client(username, password=password)
            except _NotAccepted:
                return False
            except _Unreachable as error:
                # A reloaded sshd re-executes itself: a connection made meanwhile is reset
                # before the banner (seen on real guests, right after `systemctl reload ssh`).
                if time.monotonic() < deadline:
                    time.sleep(0.2)
                    continue
                raise SSHUnreachable(self.host, self.port, str(error)) from None
            client.close()
            return True

    @property
    def connected(self) -> bool:
        """Whether the SSH session is up (a close, or a guest that restarted, ends it)."""
        transport = self._client.get_transport() if self._client is not None else None
        return transport is not None and transport.is_active()

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None


def _describe(error: BaseException) -> str:
    """An error's kind and message, without anything a server could have echoed at length."""
    text = str(error) or type(error).__name__
    if isinstance(error, socket.timeout | TimeoutError):
        text = "timed out"
    return f"{type(error).__name__}: {text}"[:200]
