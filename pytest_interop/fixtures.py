"""pytest fixtures for must-pass tests, built on the plugin's session-scoped ``cloud`` fixture.

``cloud`` is parametrized per cloud and yields the adapter; everything here derives from it,
so each cloud gets its own key pairs and servers:

- ``keypair``: a key generated here (private key 0600 in the run's key directory), imported
  into the cloud, deleted afterwards;
- ``shared_server`` / ``shared_node``: one read-only server per run and cloud (and an SSH
  session to it per worker), for tests that only look;
- ``server`` / ``node``: a server (and SSH session) of the test's own, for tests that change it;
- ``record_finding``: ``record_finding(key, value)`` stores a finding for the report.

Everything created goes through the adapter's ledger too, so an interrupted run is still
cleaned up by ``cloud.cleanup_run()``.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import pytest

from pytest_interop.clouds.base import (
    Cloud,
    Flavor,
    Image,
    KeyPair,
    Reachable,
    ResourceNotFound,
    SecurityRule,
    Server,
)
from pytest_interop.errors import NotApplicable
from pytest_interop.findings import FINDINGS_KEY
from pytest_interop.sharing import SharedSlot, defer_to_session_end, shared_across_workers

# Accounts tried after the discovered one, most common first.
FALLBACK_USERS = ("ubuntu", "ec2-user", "cloud-user", "centos", "debian", "fedora", "cirros")
# Discovery facts worth carrying into every test's findings.
DISCOVERY_FINDINGS = (
    "image",
    "login_user",
    "login_user_source",
    "flavor",
    "network",
    "reachable_via",
    "boot_seconds",
)


@dataclass
class BootedServer:
    """A server booted for tests, with what it took to reach it."""

    cloud: Cloud
    server: Server
    image: Image
    flavor: Flavor
    keypair: KeyPair
    reachable: Reachable
    findings: dict[str, Any] = field(default_factory=dict)

    @property
    def id(self) -> str:
        return self.server.id

    def refresh(self) -> Server:
        self.server = self.cloud.get_server(self.server.id)
        return self.server


def _record(request: pytest.FixtureRequest, findings: dict[str, Any]) -> None:
    store = request.node.stash.setdefault(FINDINGS_KEY, {})
    store.update(findings)


@pytest.fixture
def record_finding(request: pytest.FixtureRequest) -> Callable[[str, Any], None]:
    """``record_finding(key, value)``: a fact this test observed, for the report."""

    def record(key: str, value: Any) -> None:
        _record(request, {key: value})

    return record


@contextlib.contextmanager
def private_key_dir(prefix: str) -> Iterator[Path]:
    """A 0700 directory for private keys, removed with what is in it."""
    # the pid in the name: a later run removes it if this process was killed (stale_dirs)
    directory = Path(tempfile.mkdtemp(prefix=f"{prefix}{os.getpid()}-"))
    directory.chmod(0o700)
    try:
        yield directory
    finally:
        shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture(scope="session")
def interop_key_dir() -> Iterator[Path]:
    """A 0700 directory for the run's private keys, removed at the end of the session."""
    with private_key_dir("interop-run-keys-") as directory:
        yield directory


@contextlib.contextmanager
def imported_keypair(cloud: Cloud, key_dir: Path) -> Iterator[KeyPair]:
    """Generate a key pair here, import its public half, and remove both afterwards."""
    from pytest_interop.nodes import generate_keypair, remove_private_key

    private_key_path, public_key = generate_keypair(key_dir)
    try:
        imported = cloud.import_keypair(public_key)
        try:
            yield replace(imported, private_key_path=str(private_key_path))
        finally:
            with contextlib.suppress(ResourceNotFound):
                cloud.delete_keypair(imported.name)
    finally:
        remove_private_key(private_key_path)


@contextlib.contextmanager
def booted_server(cloud: Cloud, keypair: KeyPair) -> Iterator[BootedServer]:
    """Boot with the discovered image, flavor and network; yield it reachable; delete it."""
    image = cloud.discover_image()
    flavor = cloud.discover_flavor(image)
    network = cloud.discover_network()
    rule: SecurityRule | None
    try:
        rule = cloud.allow_ssh()
    except NotApplicable:
        rule = None
    server = cloud.create_server(
        image=image, flavor=flavor, network=network, key_name=keypair.name, security_rule=rule
    )
    try:
        reachable = cloud.reachable_address(server)
        findings = {k: cloud.findings[k] for k in DISCOVERY_FINDINGS if k in cloud.findings}
        findings["reachable_via"] = reachable.via
        yield BootedServer(cloud, server, image, flavor, keypair, reachable, findings)
    finally:
        with contextlib.suppress(ResourceNotFound):
            cloud.delete_server(server.id)
        # The floating IP and the security group stay in the ledger until cleanup_run();
        # removing them here would race the server's own deletion on some clouds.


@contextlib.contextmanager
def connected_node(booted: BootedServer, *, timeout: float = 300) -> Iterator[Any]:
    """An SSH session to the server, host key checked against the console log when printed."""
    from pytest_interop.nodes import Node, parse_host_key_fingerprints

    try:
        fingerprints = parse_host_key_fingerprints(booted.cloud.console_log(booted.id))
    except NotApplicable:
        fingerprints = []
    users = [booted.image.login_user] if booted.image.login_user else []
    node = Node(
        booted.reachable.ip,
        booted.reachable.port,
        private_key_path=booted.keypair.private_key_path or "",
        usernames=[*users, *FALLBACK_USERS],
        host_key_fingerprints=fingerprints or None,
        timeout=timeout,
    )
    try:
        username = node.connect()
        booted.findings["ssh_login_user"] = username
        booted.findings["host_key_verified"] = bool(fingerprints) and bool(node.host_key_verified)
        yield node
    finally:
        node.close()


@pytest.fixture
def keypair(cloud: Cloud, interop_key_dir: Path) -> Iterator[KeyPair]:
    with imported_keypair(cloud, interop_key_dir) as pair:
        yield pair


@pytest.fixture(scope="session")
def shared_server(cloud: Cloud, request: pytest.FixtureRequest) -> Iterator[BootedServer]:
    """One server per run and cloud, for tests that do not change it: under xdist the first
    worker that needs it boots it and the others use it (``pytest_interop.sharing``)."""

    @contextlib.contextmanager
    def boot() -> Iterator[BootedServer]:
        # A key directory of its own: the server (and the key other workers log in with) may
        # outlive this worker's session fixtures, until the last other worker is done.
        with (
            private_key_dir("interop-shared-keys-") as key_dir,
            imported_keypair(cloud, key_dir) as pair,
            booted_server(cloud, pair) as booted,
        ):
            yield booted

    def describe(booted: BootedServer) -> dict[str, Any]:
        return {
            "server_id": booted.id,
            "image": {**asdict(booted.image), "properties": dict(booted.image.properties)},
            "flavor": asdict(booted.flavor),
            "keypair": asdict(booted.keypair),
            "reachable": asdict(booted.reachable),
            "findings": booted.findings,
        }

    def attach(description: dict[str, Any]) -> BootedServer:
        return BootedServer(
            cloud,
            cloud.get_server(description["server_id"]),
            Image(**description["image"]),
            Flavor(**description["flavor"]),
            KeyPair(**description["keypair"]),
            Reachable(**description["reachable"]),
            dict(description["findings"]),
        )

    slot = SharedSlot(shared_directory(cloud), "shared-server", worker_name())
    defer = defer_to_session_end(request.config)
    with shared_across_workers(slot, boot, describe, attach, defer=defer) as booted:
        yield booted


@pytest.fixture(scope="session")
def shared_keypair(shared_server: BootedServer) -> KeyPair:
    """The key pair the shared server was booted with."""
    return shared_server.keypair


def shared_directory(cloud: Cloud) -> Path:
    """Where this run's workers coordinate what they share on ``cloud``: beside its journals."""
    if cloud.ledger is None:
        return Path(tempfile.mkdtemp(prefix="interop-shared-"))
    journal = cloud.ledger.journal_path
    return journal.parent / f"shared.{journal.name.rsplit('.', 2)[0]}"  # <cloud>.<process>.jsonl


def worker_name() -> str:
    return os.environ.get("PYTEST_XDIST_WORKER", "main")


@pytest.fixture
def server(
    cloud: Cloud, keypair: KeyPair, request: pytest.FixtureRequest
) -> Iterator[BootedServer]:
    """A server of this test's own; its discovery findings go to the test's report."""
    with booted_server(cloud, keypair) as booted:
        _record(request, booted.findings)
        yield booted


@pytest.fixture(scope="session")
def shared_node(shared_server: BootedServer) -> Iterator[Any]:
    with connected_node(shared_server) as node:
        yield node


@pytest.fixture
def node(server: BootedServer, request: pytest.FixtureRequest) -> Iterator[Any]:
    with connected_node(server) as connected:
        _record(request, server.findings)
        yield connected
