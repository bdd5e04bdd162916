"""Steps 4 to 6: request the node and wait for it, reach it from outside, log in with its key."""

from __future__ import annotations

import pytest

from pytest_interop.clouds import discovery
from pytest_interop.clouds.base import Cloud, KeyPair
from pytest_interop.errors import InfrastructureError
from pytest_interop.fixtures import BootedServer
from pytest_interop.nodes import NodeError
from pytest_interop.report.variance import NO, PARTIAL, YES

from .steps import (
    StepRecord,
    host_key_fingerprints,
    login,
    login_accounts,
    requested_node,
    ssh_banner,
)

# Where a login account comes from when the image itself says which one it is.
DECLARED_SOURCES = ("image property", "AMI owner")


@pytest.mark.idempotent_id("55094fcf-7bde-402b-8f1d-08f68ca067b0")
def test_request_node_and_wait(cloud: Cloud, keypair: KeyPair, record_finding) -> None:
    step = StepRecord(record_finding, "hybrid-node-request")
    with requested_node(cloud, keypair.name, wait=False) as requested:
        if requested.server.status == "ERROR":
            step.fail(NO, f"the cloud refused the node at once: {requested.server.status}")
        server = cloud.wait_for_server(requested.server.id, "ACTIVE")
        boot_seconds = requested.seconds_since_request()
        step.fact("boot_seconds", boot_seconds)
        listed = {s.id for s in cloud.list_servers()}
        if server.id not in listed:
            step.fail(NO, f"node {server.id} is ACTIVE but not in the server list")
        expected = {
            "image": (server.image_id, {requested.image.id}),
            "flavor": (server.flavor_id, {requested.flavor.id, requested.flavor.name}),
            "key": (server.key_name, {keypair.name}),
        }
        wrong = [f"{what} {got!r}" for what, (got, want) in expected.items() if got not in want]
        if wrong:
            step.fail(NO, f"node runs with another {', '.join(wrong)} than requested")
        reachable = cloud.reachable_address(server)
        try:
            banner, _ = ssh_banner(reachable.ip, reachable.port)
        except TimeoutError as error:
            step.fail(NO, f"ACTIVE after {boot_seconds} s, but SSH never answered: {error}")
        ssh_seconds = requested.seconds_since_request()
        step.fact("ssh_ready_seconds", ssh_seconds)
        step.fact("ssh_banner", banner[:60])
    step.answer(
        YES,
        f"ACTIVE with the requested image, flavor and key after {boot_seconds} s; SSH answered "
        f"after {ssh_seconds} s",
    )


@pytest.mark.idempotent_id("bcd41838-2dff-478a-a482-efc3bc968e9a")
def test_public_address_without_extra_steps(cloud: Cloud, keypair: KeyPair, record_finding) -> None:
    """The node's own addresses, before anything is allocated for it, must include one the
    tester reaches. A security group rule passed at boot does not count as an extra step: every
    cloud, AWS included, needs one; a floating or Elastic IP allocated afterwards does."""
    step = StepRecord(record_finding, "hybrid-node-public-address")
    with requested_node(cloud, keypair.name) as requested:
        at_boot = cloud.server_addresses(requested.server.id)
        step.fact("addresses_at_boot", [f"{a.ip} ({a.kind}, {a.network})" for a in at_boot])
        public = [
            a
            for a in at_boot
            if a.kind in ("fixed", "public") and discovery.is_publicly_reachable(a.ip)
        ]
        listed = ", ".join(f"{a.ip} on {a.network}" for a in at_boot)
        private = f"the node has only {listed}" if listed else "the node has no address"
        if not public:
            try:
                reachable = cloud.reachable_address(requested.server)
            except InfrastructureError as error:
                step.fail(NO, f"no public address at boot ({private}), and none to add: {error}")
            step.fact("reachable_via", reachable.via)
            extra = {"floating-ip": "a floating IP", "elastic-ip": "an Elastic IP"}.get(
                reachable.via, reachable.via
            )
            pool = cloud.findings.get("floating_network")
            step.fail(
                NO,
                f"no address reachable from outside at boot ({private}); {extra} was "
                f"needed{f' from network {pool!r}' if pool else ''} to reach it",
            )
        address = public[0]
        via = "public-ip" if address.kind == "public" else "public-fixed-address"
        step.fact("reachable_via", via)
        step.fact("public_address_version", address.version)
        try:
            ssh_banner(address.ip, cloud.ssh_port)
        except TimeoutError as error:
            step.fail(NO, f"public address {address.ip} at boot, but SSH never answered: {error}")
    step.answer(YES, f"public address at boot ({via} {address.ip}); SSH answers on it")


@pytest.mark.idempotent_id("f4c0b8e9-dd02-4df9-8f41-ad27939b0ee2")
def test_login_with_node_key(
    cloud: Cloud, shared_server: BootedServer, shared_keypair: KeyPair, record_finding
) -> None:
    step = StepRecord(record_finding, "hybrid-node-login")
    image = shared_server.image
    source = shared_server.findings.get("login_user_source") or "unknown"
    step.fact("login_user_discovered", image.login_user)
    step.fact("login_user_source", source)
    try:
        node = login(
            shared_server.reachable,
            shared_keypair.private_key_path or "",
            login_accounts(image),
            host_key_fingerprints(cloud, shared_server.id),
        )
    except NodeError as error:
        step.fail(NO, f"the node key logs in to no account: {error}")
    try:
        account = node.run(["id", "-un"]).stdout.strip()
        step.fact("login_user", account)
        step.fact("host_key_verified", bool(node.host_key_verified))
        if node.redirected_from:
            step.fact("login_redirects", dict(node.redirected_from))
    finally:
        node.close()
    if account != node.username:
        step.fail(NO, f"logged in as {node.username!r} but the session runs as {account!r}")
    if account != image.login_user:
        tried = ", ".join(node.tried_usernames)
        step.answer(
            PARTIAL,
            f"logged in as {account!r} only by trying accounts ({tried}); discovery said "
            f"{image.login_user!r}",
        )
    elif source == "override":
        step.answer(PARTIAL, f"logged in as {account!r}, the account the cloud's settings name")
    elif not source.startswith(DECLARED_SOURCES):
        step.answer(
            PARTIAL,
            f"logged in as {account!r}, an account guessed ({source}): the image does not name it",
        )
    else:
        step.answer(YES, f"logged in as {account!r}, the account the image names ({source})")
