"""The behavioural interface every cloud adapter implements, and its value objects.

Tests are written once against :class:`Cloud`; each provider maps the operations to its
SDK. An operation a provider lacks raises :class:`~pytest_interop.errors.NotApplicable`
(the default here), which the report shows as *not applicable*, never as a pass.

Every operation that creates something goes through the adapter's
:class:`~pytest_interop.resources.ResourceLedger`, so :meth:`Cloud.cleanup_run` can remove it
in reverse order. Discovery choices (image, login account, flavor, network, the way a server
became reachable) are recorded in :attr:`Cloud.findings`, a plain dict the report can carry.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pytest_interop.errors import NotApplicable

if TYPE_CHECKING:
    from pytest_interop.resources import CleanupSummary, ResourceLedger

DEFAULT_BOOT_TIMEOUT = 600.0
DEFAULT_ACTION_TIMEOUT = 300.0
DEFAULT_DELETE_TIMEOUT = 300.0


class ResourceNotFound(LookupError):
    """The cloud does not know the server, key pair or image asked for."""


@dataclass(frozen=True)
class Image:
    id: str
    name: str
    login_user: str | None = None  # discovered account; None when unknown
    os_distro: str | None = None
    min_disk_gb: int = 0
    min_ram_mb: int = 0
    properties: Mapping[str, Any] = field(default_factory=dict)
    status: str = "active"


@dataclass(frozen=True)
class Flavor:
    id: str
    name: str
    vcpus: int
    ram_mb: int
    disk_gb: int


@dataclass(frozen=True)
class Network:
    id: str
    name: str
    external: bool = False
    shared: bool = False


@dataclass(frozen=True)
class KeyPair:
    """A key pair as the cloud knows it. The private key stays in a 0600 file, never here."""

    name: str
    fingerprint: str
    public_key: str
    private_key_path: str | None = None


@dataclass(frozen=True)
class Address:
    ip: str
    kind: str  # "fixed" | "floating" | "public" | "elastic"
    version: int = 4
    network: str | None = None


@dataclass(frozen=True)
class Server:
    id: str
    name: str
    status: str  # normalised: ACTIVE, BUILD, SHUTOFF, REBOOT, RESIZE, VERIFY_RESIZE, ERROR, DELETED
    image_id: str | None = None
    flavor_id: str | None = None  # OpenStack flavor id/name, AWS instance type
    key_name: str | None = None
    addresses: tuple[Address, ...] = ()
    metadata: Mapping[str, str] = field(default_factory=dict)
    locked: bool | None = None  # None where the provider has no lock
    created_at: str | None = None  # ISO 8601, as the cloud reports it
    provider_status: str | None = None  # the cloud's own word (AWS "running", ...)


@dataclass(frozen=True)
class Reachable:
    """An address the tester can SSH to, and how it became reachable (a variance finding)."""

    ip: str
    port: int
    via: str  # "public-fixed-address" | "floating-ip" | "elastic-ip" | "public-ip"


@dataclass(frozen=True)
class SecurityRule:
    """The rule that lets the tester reach servers over SSH, and the group holding it."""

    group_id: str
    group_name: str
    port: int
    remote: str  # CIDR


class Cloud:
    """One cloud, reached through its provider's SDK.

    Subclasses set ``provider`` and implement the facets the provider has. The default of
    every operation is *not applicable*. Server operations take a server id; ``wait=True``
    (the default) returns once the server reached the state the operation leads to, or
    raises :class:`~pytest_interop.errors.InfrastructureError` after ``timeout`` seconds.
    """

    provider: str = "unknown"
    resize_needs_confirmation: bool = False

    def __init__(self, name: str, ledger: ResourceLedger | None = None) -> None:
        self.name = name
        self.ledger = ledger
        self.ssh_port = 22
        # Discovery choices and reachability outcomes: key -> JSON-able value.
        self.findings: dict[str, Any] = {}
        self._key_dir: Path | None = None
        self._boot_defaults: tuple[Image, Flavor, Network | None] | None = None

    def __repr__(self) -> str:
        # Only the name and provider: settings may hold credentials.
        return f"<{type(self).__name__} {self.name!r} provider={self.provider}>"

    # -- identity ----------------------------------------------------------------------
    @property
    def native(self) -> Any:
        """The provider's own SDK client, for provider-specific tests."""
        raise NotApplicable(f"{self.provider} exposes no native client")

    def identity(self) -> dict[str, Any]:
        """What the report says about this cloud: provider, region, endpoint; never secrets."""
        return {"name": self.name, "provider": self.provider}

    def close(self) -> None:
        """Release connections and the private-key directory; resources are the ledger's job."""
        if self._key_dir is not None:
            shutil.rmtree(self._key_dir, ignore_errors=True)
            self._key_dir = None

    def _lacks(self, facet: str) -> NotApplicable:
        return NotApplicable(f"{self.provider} cloud {self.name!r} has no {facet}")

    @property
    def key_dir(self) -> Path:
        """A 0700 directory, private to this adapter, for private keys; removed by close()."""
        if self._key_dir is None:
            self._key_dir = Path(tempfile.mkdtemp(prefix="interop-keys-"))
            self._key_dir.chmod(0o700)
        return self._key_dir

    def write_private_key(self, name: str, material: str) -> str:
        """Store a cloud-generated private key in a new 0600 file; returns its path."""
        path = self.key_dir / f"{name}.pem"
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            os.fchmod(descriptor, 0o600)  # whatever the umask said
            os.write(descriptor, material.encode())
        finally:
            os.close(descriptor)
        return str(path)

    def resource_name(self, kind: str) -> str:
        """A name carrying the run's prefix (``interop-<run_id>-<kind>-<n>``)."""
        if self.ledger is None:
            raise RuntimeError("this adapter has no ledger; pass one to from_spec()")
        return self.ledger.new_name(kind)

    # -- key pairs ---------------------------------------------------------------------
    def create_keypair(self, name: str | None = None) -> KeyPair:
        """Let the cloud generate a key pair; its private key goes to a 0600 file."""
        raise self._lacks("key pair generation")

    def import_keypair(self, public_key: str, name: str | None = None) -> KeyPair:
        raise self._lacks("key pair import")

    def get_keypair(self, name: str) -> KeyPair:
        raise self._lacks("key pairs")

    def list_keypairs(self) -> list[KeyPair]:
        raise self._lacks("key pairs")

    def delete_keypair(self, name: str) -> None:
        raise self._lacks("key pairs")

    # -- images, flavors, networks -----------------------------------------------------
    def list_images(self) -> list[Image]:
        raise self._lacks("images")

    def get_image(self, image_id: str) -> Image:
        raise self._lacks("images")

    def list_flavors(self) -> list[Flavor]:
        raise self._lacks("flavors")

    def get_flavor(self, flavor_id: str) -> Flavor:
        raise self._lacks("flavors")

    def list_networks(self) -> list[Network]:
        raise self._lacks("networks")

    # -- discovery (each choice overridable in settings and recorded as a finding) ------
    def discover_image(self) -> Image:
        """A Linux image with its login account."""
        raise self._lacks("image discovery")

    def discover_flavor(self, image: Image | None = None) -> Flavor:
        """The smallest flavor (instance type) that fits the image."""
        raise self._lacks("flavor discovery")

    def discover_network(self) -> Network | None:
        """The network to boot on; None where the cloud picks one itself."""
        raise self._lacks("network discovery")

    def boot_defaults(self) -> tuple[Image, Flavor, Network | None]:
        """The image, flavor and network a plain boot uses: discovered once per adapter."""
        if self._boot_defaults is None:
            image = self.discover_image()
            self._boot_defaults = (image, self.discover_flavor(image), self.discover_network())
        return self._boot_defaults

    # -- servers -----------------------------------------------------------------------
    def create_server(
        self,
        name: str | None = None,
        *,
        image: Image | str | None = None,
        flavor: Flavor | str | None = None,
        network: Network | str | None = None,
        key_name: str | None = None,
        metadata: Mapping[str, str] | None = None,
        security_rule: SecurityRule | None = None,
        wait: bool = True,
        timeout: float = DEFAULT_BOOT_TIMEOUT,
    ) -> Server:
        """Boot a server (discovered image, flavor and network unless given), ledgered."""
        raise self._lacks("servers")

    def wait_for_server(
        self, server_id: str, status: str = "ACTIVE", *, timeout: float = DEFAULT_BOOT_TIMEOUT
    ) -> Server:
        raise self._lacks("servers")

    def get_server(self, server_id: str) -> Server:
        raise self._lacks("servers")

    def list_servers(self) -> list[Server]:
        raise self._lacks("servers")

    def delete_server(
        self, server_id: str, *, wait: bool = True, timeout: float = DEFAULT_DELETE_TIMEOUT
    ) -> None:
        raise self._lacks("servers")

    def get_server_metadata(self, server_id: str) -> dict[str, str]:
        raise self._lacks("server metadata")

    def set_server_metadata(self, server_id: str, metadata: Mapping[str, str]) -> dict[str, str]:
        """Add or replace the given keys; returns the server's whole metadata."""
        raise self._lacks("server metadata")

    def delete_server_metadata(self, server_id: str, keys: Sequence[str]) -> None:
        raise self._lacks("server metadata")

    def reboot_server(
        self,
        server_id: str,
        *,
        hard: bool = False,
        wait: bool = True,
        timeout: float = DEFAULT_ACTION_TIMEOUT,
    ) -> Server:
        raise self._lacks("server reboot")

    def stop_server(
        self, server_id: str, *, wait: bool = True, timeout: float = DEFAULT_ACTION_TIMEOUT
    ) -> Server:
        raise self._lacks("server stop")

    def start_server(
        self, server_id: str, *, wait: bool = True, timeout: float = DEFAULT_ACTION_TIMEOUT
    ) -> Server:
        raise self._lacks("server start")

    def resize_server(
        self,
        server_id: str,
        flavor: Flavor | str,
        *,
        wait: bool = True,
        timeout: float = DEFAULT_ACTION_TIMEOUT,
    ) -> Server:
        """Resize; where ``resize_needs_confirmation`` the server ends in VERIFY_RESIZE."""
        raise self._lacks("server resize")

    def confirm_resize(
        self, server_id: str, *, wait: bool = True, timeout: float = DEFAULT_ACTION_TIMEOUT
    ) -> Server:
        raise self._lacks("resize confirmation")

    def revert_resize(
        self, server_id: str, *, wait: bool = True, timeout: float = DEFAULT_ACTION_TIMEOUT
    ) -> Server:
        raise self._lacks("resize revert")

    def rebuild_server(
        self,
        server_id: str,
        image: Image | str | None = None,
        *,
        wait: bool = True,
        timeout: float = DEFAULT_BOOT_TIMEOUT,
    ) -> Server:
        raise self._lacks("server rebuild")

    def lock_server(self, server_id: str) -> None:
        raise self._lacks("server lock")

    def unlock_server(self, server_id: str) -> None:
        raise self._lacks("server lock")

    def console_log(self, server_id: str) -> str:
        raise self._lacks("console log")

    # -- addresses and reachability ------------------------------------------------------
    def server_addresses(self, server_id: str) -> list[Address]:
        raise self._lacks("server addresses")

    def reachable_address(self, server: Server | str) -> Reachable:
        """An address the tester can SSH to: a public fixed one, else a floating/elastic IP.

        Never returns a private (RFC 1918) fixed address. Records ``reachable_via``.
        """
        raise self._lacks("reachable addresses")

    def allow_ssh(self, remote: str = "0.0.0.0/0") -> SecurityRule:
        """A ledgered security group (rule) that admits SSH from ``remote``."""
        raise self._lacks("security groups")

    # -- clean-up ------------------------------------------------------------------------
    def cleanup_run(self) -> CleanupSummary:
        """Remove everything this adapter's ledger recorded, newest first."""
        raise self._lacks("clean-up")

    def cleanup_leftovers(
        self, *, run_id: str | None = None, older_than_seconds: float | None = None
    ) -> CleanupSummary:
        """Remove resources of crashed runs that carry our run-id tag and name prefix."""
        raise self._lacks("clean-up")
