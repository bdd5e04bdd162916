"""pytest fixtures for must-pass tests, built on the plugin's session-scoped ``cloud`` fixture.

``cloud`` is parametrized per cloud and yields the adapter; everything here derives from it,
so each cloud gets its own key pairs and servers:

- ``keypair``: a key generated here (private key 0600 in the run's key directory), imported
  into the cloud, deleted afterwards;
- ``shared_server`` / ``shared_node``: one read-only server per run and cloud (and an SSH
  session to it per worker), for tests that only look;
- ``server`` / ``node``: a server (and SSH session) of the test's own, for tests that change it;
- :class:`ModuleServer` / :func:`module_server_fixtures`: one server for a module's tests that
  change it and hand it back as they found it (stop -> start, attach -> detach), lent to one
  test at a time, put back to its boot state or replaced before the next (Tempest's server per
  test class);
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
from pytest_interop.clouds.retry import wait_until
from pytest_interop.errors import NotApplicable
from pytest_interop.findings import FINDINGS_KEY
from pytest_interop.sharing import SharedSlot, defer_to_session_end, shared_across_workers

_CALL_FAILED = pytest.StashKey[bool]()
STATE_SETTLE_S = 30.0  # how long a module server may take to show its boot state again

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
        cloud.delete_later(f"server {server.id}", lambda: _delete_server(cloud, server.id))
        # The floating IP and the security group stay in the ledger until cleanup_run();
        # removing them here would race the server's own deletion on some clouds.


def _delete_server(cloud: Cloud, server_id: str) -> None:
    with contextlib.suppress(ResourceNotFound):
        cloud.delete_server(server_id)


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


# --- a server per module, lent to one test at a time -----------------------------------------


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]):
    """Remember whether a test's call failed: a module server it used is then replaced."""
    report: pytest.TestReport = yield
    if report.when == "call":
        item.stash[_CALL_FAILED] = report.failed
    return report


def flavor_matches(server: Server, flavor: Flavor) -> bool:
    """Nova names the flavor by id before microversion 2.47 and by name after it."""
    return server.flavor_id in (flavor.id, flavor.name)


class ModuleServer:
    """One server (and SSH session) for the tests of a module that change a server and hand
    it back: lent to one test at a time, checked before each.

    Before a test gets it, the server is put back to its boot state where a test left it
    otherwise by design (started if off, unlocked, resized back to its flavor, rebuilt back
    to its image) and checked: ACTIVE, the boot flavor and image, unlocked, a command
    answered over SSH, and ``state(booted, node)`` (say, the volumes attached and the guest's
    disks) equal to what it was right after the boot. A server a test failed on, or that
    does not pass the check, is deleted and another booted: one failure does not spoil the
    tests after it. ``replacements`` counts those boots.
    """

    def __init__(
        self,
        cloud: Cloud,
        key_dir: Path,
        state: Callable[[BootedServer, Any], Any] | None = None,
    ) -> None:
        self.cloud = cloud
        self.key_dir = key_dir
        self.state = state
        self.boot_state: Any = None
        self.replacements = 0
        self.booted: BootedServer | None = None
        self.node: Any = None
        self.spoilt = False
        self._server_stack = contextlib.ExitStack()
        self._node_stack = contextlib.ExitStack()

    # -- life of the current server ------------------------------------------------------
    def boot(self) -> None:
        stack = contextlib.ExitStack()
        with stack:
            pair = stack.enter_context(imported_keypair(self.cloud, self.key_dir))
            booted = stack.enter_context(booted_server(self.cloud, pair))
            self._server_stack = stack.pop_all()
        self.booted = booted
        self.spoilt = False
        self._connect()
        if self.state is not None:
            self.boot_state = self.state(booted, self.node)

    def _connect(self) -> None:
        assert self.booted is not None
        self._node_stack.close()
        stack = contextlib.ExitStack()
        with stack:
            self.booted.reachable = self.cloud.reachable_address(self.booted.id)
            self.node = stack.enter_context(connected_node(self.booted))
            self._node_stack = stack.pop_all()

    def discard(self) -> None:
        booted, self.booted = self.booted, None
        self._node_stack.close()
        self.node = None
        if booted is not None:
            with contextlib.suppress(Exception):  # a locked server refuses its delete
                if self.cloud.get_server(booted.id).locked:
                    self.cloud.unlock_server(booted.id)
        self._server_stack.close()  # deletes the server and its key pair

    def close(self) -> None:
        self.discard()

    # -- lending -------------------------------------------------------------------------
    def lend(self) -> BootedServer:
        """The server, as booted and reachable; another one if it cannot be made so."""
        if self.booted is not None and not self.spoilt:
            try:
                self._restore()
                return self.booted
            except Exception:
                pass  # the test after a broken server gets a new one
        if self.booted is not None:
            self.discard()
            self.replacements += 1
        self.boot()
        assert self.booted is not None
        return self.booted

    def give_back(self, failed: bool) -> None:
        if failed:
            self.spoilt = True

    def _restore(self) -> None:
        booted, cloud = self.booted, self.cloud
        assert booted is not None
        current = cloud.get_server(booted.id)
        reconnect = False
        if current.locked:
            cloud.unlock_server(booted.id)
        if current.status == "SHUTOFF":
            current = cloud.start_server(booted.id)
            reconnect = True
        if current.status == "ACTIVE" and not flavor_matches(current, booted.flavor):
            current = cloud.resize_server(booted.id, booted.flavor)
            if cloud.resize_needs_confirmation:
                current = cloud.confirm_resize(booted.id)
            reconnect = True
        if current.status == "ACTIVE" and current.image_id != booted.image.id:
            current = cloud.rebuild_server(booted.id, booted.image)
            reconnect = True  # a new install: new host keys
        if current.status != "ACTIVE":
            raise RuntimeError(f"the module server is {current.status}")
        if current.locked or not flavor_matches(current, booted.flavor):
            raise RuntimeError("the module server could not be put back")
        if current.image_id != booted.image.id:
            raise RuntimeError("the module server could not be rebuilt back")
        booted.server = current
        if reconnect or not self._answers():
            self._connect()
        if self.state is not None:
            self._wait_for_boot_state()

    def _wait_for_boot_state(self, timeout: float = STATE_SETTLE_S) -> None:
        """A guest learns of a detach a moment after the API: give it that moment."""
        booted, state = self.booted, self.state
        assert booted is not None and state is not None
        wait_until(
            "the module server as it was booted",
            lambda: state(booted, self.node),
            done=lambda now: now == self.boot_state,
            timeout=timeout,
            interval=0.05,
            max_interval=2.0,
        )

    def _answers(self) -> bool:
        node = self.node
        if node is None or not node.connected:
            return False  # closed by the test, or the guest restarted
        try:
            return node.run(["true"], check=False, timeout=30).exit_status == 0
        except Exception:
            return False


def module_server_fixtures(
    state: Callable[[BootedServer, Any], Any] | None = None,
) -> tuple[Any, Any, Any]:
    """``module_server`` (module-scoped :class:`ModuleServer`), ``server`` and ``node`` fixtures
    for a test module whose tests change a server and hand it back; assign them in the module:

        module_server, server, node = module_server_fixtures()
    """

    @pytest.fixture(scope="module", name="module_server")
    def module_server(cloud: Cloud, interop_key_dir: Path) -> Iterator[ModuleServer]:
        lender = ModuleServer(cloud, interop_key_dir, state)
        try:
            lender.boot()
            yield lender
        finally:
            lender.close()

    @pytest.fixture(name="server")
    def lent_server(
        module_server: ModuleServer, request: pytest.FixtureRequest
    ) -> Iterator[BootedServer]:
        booted = module_server.lend()
        _record(request, booted.findings)
        yield booted
        module_server.give_back(request.node.stash.get(_CALL_FAILED, False))

    @pytest.fixture(name="node")
    def lent_node(
        server: BootedServer, module_server: ModuleServer, request: pytest.FixtureRequest
    ) -> Any:
        _record(request, server.findings)
        return module_server.node

    return module_server, lent_server, lent_node
