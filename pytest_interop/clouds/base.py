"""The behavioural interface every cloud adapter implements, and its value objects.

Tests are written once against :class:`Cloud`; each provider maps the operations to its
SDK. An operation a provider lacks raises :class:`~pytest_interop.errors.NotApplicable`
(the default here), which the report shows as *not applicable*, never as a pass.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from pytest_interop.errors import NotApplicable


@dataclass(frozen=True)
class Image:
    id: str
    name: str
    login_user: str | None = None  # discovered account; None when unknown
    os_distro: str | None = None
    min_disk_gb: int = 0
    min_ram_mb: int = 0
    properties: Mapping[str, Any] = field(default_factory=dict)


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
    status: str
    image_id: str | None = None
    flavor_id: str | None = None
    key_name: str | None = None
    addresses: tuple[Address, ...] = ()
    metadata: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Reachable:
    """An address the tester can SSH to, and how it became reachable (a variance finding)."""

    ip: str
    port: int
    via: str  # "public-fixed-address" | "floating-ip" | "elastic-ip" | "public-ip"


class Cloud:
    """One cloud, reached through its provider's SDK.

    Subclasses set ``provider`` and implement the facets the provider has. The default of
    every operation is *not applicable*.
    """

    provider: str = "unknown"

    def __init__(self, name: str) -> None:
        self.name = name

    # -- identity ----------------------------------------------------------------------
    @property
    def native(self) -> Any:
        """The provider's own SDK client, for provider-specific tests."""
        raise NotApplicable(f"{self.provider} exposes no native client")

    def identity(self) -> dict[str, Any]:
        """What the report says about this cloud: provider, region, endpoint; never secrets."""
        return {"name": self.name, "provider": self.provider}

    def close(self) -> None:
        """Release connections; resources are the ledger's job."""

    def _lacks(self, facet: str) -> NotApplicable:
        return NotApplicable(f"{self.provider} cloud {self.name!r} has no {facet}")

    # -- key pairs ---------------------------------------------------------------------
    def create_keypair(self, name: str) -> KeyPair:
        raise self._lacks("key pair generation")

    def import_keypair(self, name: str, public_key: str) -> KeyPair:
        raise self._lacks("key pair import")

    def list_keypairs(self) -> list[KeyPair]:
        raise self._lacks("key pairs")

    def delete_keypair(self, name: str) -> None:
        raise self._lacks("key pairs")

    # -- discovery ---------------------------------------------------------------------
    def list_images(self) -> list[Image]:
        raise self._lacks("images")

    def list_flavors(self) -> list[Flavor]:
        raise self._lacks("flavors")

    def list_networks(self) -> list[Network]:
        raise self._lacks("networks")

    # -- servers -----------------------------------------------------------------------
    def get_server(self, server_id: str) -> Server:
        raise self._lacks("servers")

    def list_servers(self) -> list[Server]:
        raise self._lacks("servers")

    def delete_server(self, server_id: str, *, wait: bool = True) -> None:
        raise self._lacks("servers")

    def console_log(self, server_id: str) -> str:
        raise self._lacks("console log")
