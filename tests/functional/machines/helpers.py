"""Helpers shared by the machine and node tests: loopback addresses, ports, keys, raw logins."""

from __future__ import annotations

import io
import itertools
import os
import socket
import threading
from collections.abc import Iterator

import paramiko
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

# A /16 of loopback per process, so that parallel xdist workers do not meet on an address.
_NETWORK = 100 + os.getpid() % 100
_counter = itertools.count(1)
_counter_lock = threading.Lock()


def loopback_ip() -> str:
    with _counter_lock:
        number = next(_counter)
    return f"127.{_NETWORK}.{number // 250}.{number % 250 + 1}"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def new_key() -> tuple[paramiko.PKey, str]:
    """A fresh ed25519 key for a client, and its authorized_keys line."""
    private = ed25519.Ed25519PrivateKey.generate()
    text = private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.OpenSSH,
        serialization.NoEncryption(),
    ).decode()
    key = paramiko.Ed25519Key.from_private_key(io.StringIO(text))
    return key, f"{key.get_name()} {key.get_base64()} test@client"


class RecordingPolicy(paramiko.MissingHostKeyPolicy):
    """Accepts any host key and remembers it (tests compare it with the console log)."""

    def __init__(self) -> None:
        self.seen: list[paramiko.PKey] = []

    def missing_host_key(
        self, client: paramiko.SSHClient, hostname: str, key: paramiko.PKey
    ) -> None:
        self.seen.append(key)


def ssh(
    ip: str,
    port: int,
    username: str,
    *,
    key: paramiko.PKey | None = None,
    password: str | None = None,
    policy: paramiko.MissingHostKeyPolicy | None = None,
) -> paramiko.SSHClient:
    client = paramiko.SSHClient()
    client.set_missing_host_key_policy(policy or RecordingPolicy())
    try:
        client.connect(
            ip,
            port,
            username=username,
            pkey=key,
            password=password,
            look_for_keys=False,
            allow_agent=False,
            timeout=5,
            banner_timeout=5,
            auth_timeout=5,
        )
    except BaseException:
        client.close()
        raise
    return client


def run(
    client: paramiko.SSHClient, command: str, *, get_pty: bool = False, stdin: str | None = None
) -> tuple[int, str, str]:
    channel = client.get_transport().open_session(timeout=5)
    try:
        if get_pty:
            channel.get_pty()
        channel.settimeout(10)
        channel.exec_command(command)
        if stdin:
            channel.sendall(stdin.encode())
        channel.shutdown_write()
        out = channel.makefile("rb").read().decode()
        err = channel.makefile_stderr("rb").read().decode()
        return channel.recv_exit_status(), out, err
    finally:
        channel.close()


def threads_named(prefix: str) -> Iterator[threading.Thread]:
    return (t for t in threading.enumerate() if t.name.startswith(prefix))
