"""What the hybrid node-allocation tests share: recording a step's answer, and the moves an
automation tool makes on any cloud (boot and wait, wait for SSH, log in, install a root key).

Every test records its step's answer before it asserts, so that a failure still carries the
finding the variance table is made of (``pytest_interop.report.variance``).
"""

from __future__ import annotations

import contextlib
import socket
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

import paramiko
import pytest

from pytest_interop.clouds.base import (
    Cloud,
    Flavor,
    Image,
    Network,
    Reachable,
    ResourceNotFound,
    SecurityRule,
    Server,
)
from pytest_interop.errors import NotApplicable
from pytest_interop.fixtures import FALLBACK_USERS
from pytest_interop.nodes import Node, NodeError, parse_host_key_fingerprints
from pytest_interop.report.variance import (
    FINDING_PREFIX,
    NO,
    PARTIAL,
    REASON_KEY,
    RESULT_KEY,
    STEP_BY_CAPABILITY,
    STEP_KEY,
    YES,
)

SSH_WAIT_SECONDS = 300.0
DROP_IN = "/etc/ssh/sshd_config.d/00-pytest-interop.conf"


class StepRecord:
    """The answer of one step on this cloud, recorded as findings under stable keys."""

    def __init__(self, record_finding: Callable[[str, Any], None], capability: str) -> None:
        step = STEP_BY_CAPABILITY[capability]
        self._record = record_finding
        self._record(STEP_KEY, f"{step.number} {step.title}")

    def fact(self, key: str, value: Any) -> None:
        self._record(FINDING_PREFIX + key, value)

    def answer(self, result: str, reason: str) -> None:
        assert result in (YES, NO, PARTIAL)
        self._record(RESULT_KEY, result)
        self._record(REASON_KEY, reason)

    def fail(self, result: str, reason: str) -> NoReturn:
        """Record NO or PARTIAL with the reason, and fail the test with the same words."""
        self.answer(result, reason)
        pytest.fail(f"{result}: {reason}", pytrace=False)


def allow_ssh(cloud: Cloud) -> SecurityRule | None:
    """The rule letting the tester in; clouds without security groups need none."""
    try:
        return cloud.allow_ssh()
    except NotApplicable:
        return None


@dataclass
class RequestedNode:
    server: Server
    image: Image
    flavor: Flavor
    network: Network | None
    requested_at: float  # time.monotonic() when the request was sent

    def seconds_since_request(self) -> float:
        return round(time.monotonic() - self.requested_at, 2)


@contextlib.contextmanager
def requested_node(cloud: Cloud, key_name: str, *, wait: bool = True) -> Iterator[RequestedNode]:
    """Boot with the picked image, flavor and network and the node key; delete at the end.

    With ``wait=False`` the server is yielded as the request returned it (the caller waits).
    """
    image, flavor, network = cloud.boot_defaults()
    rule = allow_ssh(cloud)
    started = time.monotonic()
    server = cloud.create_server(
        image=image,
        flavor=flavor,
        network=network,
        key_name=key_name,
        security_rule=rule,
        wait=wait,
    )
    try:
        yield RequestedNode(server, image, flavor, network, started)
    finally:
        with contextlib.suppress(ResourceNotFound):
            cloud.delete_server(server.id)


def ssh_banner(ip: str, port: int, *, timeout: float = SSH_WAIT_SECONDS) -> tuple[str, float]:
    """Wait until SSH answers on ip:port with a completed key exchange; (the server's version
    string, seconds waited). Raises TimeoutError naming the last error. No credential is sent."""
    started = time.monotonic()
    delay = 0.05
    while True:
        try:
            return _handshake(ip, port), time.monotonic() - started
        except (OSError, EOFError, paramiko.SSHException) as error:
            last = f"{type(error).__name__}: {error}"
        if time.monotonic() - started > timeout:
            raise TimeoutError(f"no SSH on {ip}:{port} after {timeout:.0f} s ({last})")
        time.sleep(delay)
        delay = min(delay * 2, 2.0)


def _handshake(ip: str, port: int) -> str:
    sock = socket.create_connection((ip, port), timeout=10)
    transport = paramiko.Transport(sock)
    try:
        transport.start_client(timeout=10)
        return transport.remote_version
    finally:
        transport.close()


def offered_auth_methods(ip: str, port: int, username: str) -> list[str]:
    """The authentication methods sshd offers username, from a `none` attempt (no secret sent)."""
    deadline = time.monotonic() + 10
    while True:  # right after a reload sshd re-executes itself and resets new connections
        try:
            return _offered_auth_methods(ip, port, username)
        except (OSError, EOFError, paramiko.SSHException):
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def _offered_auth_methods(ip: str, port: int, username: str) -> list[str]:
    sock = socket.create_connection((ip, port), timeout=10)
    transport = paramiko.Transport(sock)
    try:
        transport.start_client(timeout=10)
        try:
            transport.auth_none(username)
        except paramiko.BadAuthenticationType as refused:
            return sorted(refused.allowed_types)
        return ["none"]  # logged in without any credential
    finally:
        transport.close()


def host_key_fingerprints(cloud: Cloud, server_id: str) -> list[str]:
    try:
        return parse_host_key_fingerprints(cloud.console_log(server_id))
    except NotApplicable:
        return []


def login(
    reachable: Reachable,
    private_key_path: str | Path,
    usernames: list[str],
    fingerprints: list[str],
    *,
    login_grace: float = 30,
) -> Node:
    """A connected Node (raises LoginFailed / SSHUnreachable)."""
    node = Node(
        reachable.ip,
        reachable.port,
        private_key_path=private_key_path,
        usernames=usernames,
        host_key_fingerprints=fingerprints or None,
        timeout=SSH_WAIT_SECONDS,
        login_grace=login_grace,
    )
    node.connect()
    return node


def login_accounts(image: Image) -> list[str]:
    """The discovered account first, then the common ones."""
    return [*([image.login_user] if image.login_user else []), *FALLBACK_USERS]


def install_root_key(node: Node, public_key: str) -> None:
    """What a tool does to get root access of its own: append its key to root's keys."""
    node.run(["mkdir", "-p", "/root/.ssh"], sudo=True)
    node.run(["chmod", "700", "/root/.ssh"], sudo=True)
    node.write_file("/root/.ssh/authorized_keys", public_key.strip() + "\n", sudo=True, append=True)
    node.run(["chown", "root:root", "/root/.ssh/authorized_keys"], sudo=True)
    node.run(["chmod", "600", "/root/.ssh/authorized_keys"], sudo=True)


def reload_sshd(node: Node) -> None:
    """Reload sshd under whichever unit name the distribution uses."""
    node.run(
        "systemctl reload sshd 2>/dev/null || systemctl reload ssh "
        "|| service ssh reload || service sshd reload",
        sudo=True,
    )


def set_password_authentication(node: Node, enabled: bool) -> None:
    """PasswordAuthentication in a drop-in read first (first value wins) and in sshd_config
    itself (for sshd builds without an Include), then reload."""
    value = "yes" if enabled else "no"
    node.run(["mkdir", "-p", "/etc/ssh/sshd_config.d"], sudo=True)
    node.write_file(DROP_IN, f"PasswordAuthentication {value}\n", sudo=True, mode="600")
    node.run(
        [
            "sed",
            "-i",
            "-E",
            f"s/^[#[:space:]]*PasswordAuthentication[[:space:]].*/PasswordAuthentication {value}/",
            "/etc/ssh/sshd_config",
        ],
        sudo=True,
    )
    reload_sshd(node)


def set_password(node: Node, username: str, password: str) -> None:
    node.run(["chpasswd"], sudo=True, input=f"{username}:{password}\n")


def root_login_policy(node: Node) -> str | None:
    """sshd's PermitRootLogin as configured (first value wins; drop-ins come first), or None."""
    files = "/etc/ssh/sshd_config.d/*.conf /etc/ssh/sshd_config"
    result = node.run(
        f"grep -hiE '^[[:space:]]*PermitRootLogin[[:space:]]' {files} 2>/dev/null",
        sudo=True,
        check=False,
    )
    for line in result.stdout.splitlines():
        words = line.split()
        if len(words) >= 2:
            return words[1]
    return None


def why_root_refused(node: Node, error: Exception) -> str:
    """Name the cause of a refused root login, as far as the node (logged in) shows it."""
    causes = []
    policy = root_login_policy(node)
    if policy is not None and policy.lower() == "no":
        causes.append("sshd has PermitRootLogin no (the image blocks root login)")
    elif policy is not None and policy.lower() == "forced-commands-only":
        causes.append("sshd has PermitRootLogin forced-commands-only")
    redirected = getattr(error, "redirected", None)
    if redirected:
        causes.append(f"root's keys only print 'Please login as {redirected}'")
    if not causes:
        shown = f"PermitRootLogin {policy}" if policy else "PermitRootLogin unset"
        causes.append(f"refused although sshd has {shown}: {error}")
    return "; ".join(causes)


def try_root_login(
    reachable: Reachable, key_path: str | Path, fingerprints: list[str]
) -> tuple[Node | None, Exception | None]:
    """Log in as root with the tool's key: (node, None) or (None, why)."""
    root = Node(
        reachable.ip,
        reachable.port,
        private_key_path=key_path,
        usernames=["root"],
        host_key_fingerprints=fingerprints or None,
        timeout=60,
        login_grace=0,  # authorized_keys are read at each login: no cloud-init delay to wait for
    )
    try:
        root.connect()
    except NodeError as error:
        root.close()
        if root.redirected_from:
            error.redirected = root.redirected_from.get("root")  # type: ignore[attr-defined]
        return None, error
    if root.username != "root":
        account = root.username
        root.close()
        return None, NodeError(f"the key was accepted only for {account!r}, not root")
    return root, None
