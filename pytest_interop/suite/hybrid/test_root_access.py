"""Steps 7 and 8: take the node over with the tool's own root key, then drop the node key.

The tool does what automation does on any cloud: append its key to root's authorized_keys and
turn PasswordAuthentication off, through sudo as the image's account. It does not rewrite the
image's PermitRootLogin: an image that blocks root login is exactly the difference between
clouds that these steps show (RHEL-family images ship ``PermitRootLogin no``).
"""

from __future__ import annotations

import secrets
from pathlib import Path

import pytest

from pytest_interop.clouds.base import Cloud, KeyPair, ResourceNotFound
from pytest_interop.fixtures import BootedServer
from pytest_interop.nodes import Node, NodeError, temporary_keypair
from pytest_interop.report.variance import NO, PARTIAL, YES

from .steps import (
    StepRecord,
    install_root_key,
    login,
    offered_auth_methods,
    set_password,
    set_password_authentication,
    try_root_login,
    why_root_refused,
)

# Methods through which sshd would take a password (keyboard-interactive asks via PAM).
PASSWORD_METHODS = {"password", "keyboard-interactive"}


def _root_uid(root: Node) -> str:
    try:
        return root.run(["id", "-u"]).stdout.strip()
    finally:
        root.close()


@pytest.mark.idempotent_id("6e502def-ab4f-418f-a87e-b10d8cd1b40c")
def test_root_key_and_password_off(
    cloud: Cloud, server: BootedServer, node: Node, interop_key_dir: Path, record_finding
) -> None:
    step = StepRecord(record_finding, "hybrid-root-key-password-off")
    step.fact("login_user", node.username)
    reachable = server.reachable
    # A password of the login account's own, so that "refused" means sshd refuses passwords,
    # not that the account had none. It is never logged, and the server is deleted after.
    password = secrets.token_urlsafe(18)
    with temporary_keypair(interop_key_dir) as (tool_key, tool_public):
        try:
            set_password(node, node.username or "", password)
            set_password_authentication(node, True)
            control = node.try_password_login(node.username or "", password)
            install_root_key(node, tool_public)
            set_password_authentication(node, False)
        except NodeError as error:
            step.fail(NO, f"could not set the node up as root through sudo: {error}")
        step.fact("sudo_needs_tty", bool(node.sudo_needs_tty))
        step.fact("password_login_before", "accepted" if control else "refused")
        offered = offered_auth_methods(reachable.ip, reachable.port, node.username or "")
        step.fact("auth_methods_offered", offered)
        accepted = node.try_password_login(node.username or "", password)
        password_off = not accepted and not PASSWORD_METHODS & set(offered)
        step.fact("password_login_after", "accepted" if accepted else "refused")
        root, error = try_root_login(reachable, tool_key, node.expected_fingerprints)
        uid = _root_uid(root) if root is not None else None
    step.fact("root_login", "accepted" if uid == "0" else "refused")
    password_state = (
        f"password login refused (sshd offers {', '.join(offered) or 'nothing'})"
        if password_off
        else f"password login still possible (accepted: {accepted}; sshd offers "
        f"{', '.join(offered)})"
    )
    if uid == "0" and password_off:
        step.answer(YES, f"root logs in with the tool's key; {password_state}")
        return
    if uid is None:
        why = why_root_refused(node, error) if error is not None else "unknown"
        step.fact("root_refused_because", why)
        result = PARTIAL if password_off else NO
        step.fail(
            result,
            f"root login with the tool's key refused: {why}; the key is installed, "
            f"{password_state}",
        )
    if uid != "0":
        step.fail(NO, f"the root key logs in to a session of uid {uid}, not root")
    step.fail(PARTIAL, f"root logs in with the tool's key, but {password_state}")


@pytest.mark.idempotent_id("3fefa79b-0c26-4e0e-b10d-c66f580bd39a")
def test_remove_node_key_root_login_remains(
    cloud: Cloud,
    server: BootedServer,
    node: Node,
    keypair: KeyPair,
    interop_key_dir: Path,
    record_finding,
) -> None:
    step = StepRecord(record_finding, "hybrid-keypair-remove")
    reachable = server.reachable
    with temporary_keypair(interop_key_dir) as (tool_key, tool_public):
        try:
            install_root_key(node, tool_public)
        except NodeError as error:
            step.fail(NO, f"could not install the tool's root key through sudo: {error}")
        cloud.delete_keypair(keypair.name)
        still_listed = keypair.name in {pair.name for pair in cloud.list_keypairs()}
        try:
            cloud.get_keypair(keypair.name)
            still_readable = True
        except ResourceNotFound:
            still_readable = False
        if still_listed or still_readable:
            step.fail(NO, f"key pair {keypair.name} is still there after it was deleted")
        status = cloud.get_server(server.id).status
        step.fact("server_status_after", status)
        if status != "ACTIVE":
            step.fail(NO, f"the node went {status} when its key pair was removed")
        root, error = try_root_login(reachable, tool_key, node.expected_fingerprints)
        uid = _root_uid(root) if root is not None else None
    step.fact("root_login", "accepted" if uid == "0" else "refused")
    if uid is None:
        why = why_root_refused(node, error) if error is not None else "unknown"
        step.fact("root_refused_because", why)
        again = login(
            reachable,
            server.keypair.private_key_path or "",
            [node.username or ""],
            node.expected_fingerprints,
            login_grace=0,
        )
        again.close()
        step.fail(
            PARTIAL,
            f"root login with the tool's key refused: {why}; the key pair is removed and the "
            f"node runs on, but only {node.username!r} with the node key gets in",
        )
    if uid != "0":
        step.fail(NO, f"the root key logs in to a session of uid {uid}, not root")
    step.answer(YES, "key pair removed from the cloud; root still logs in with the tool's key")
