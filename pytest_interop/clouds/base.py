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
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pytest_interop.clouds.deferred import DeferredDeletes
from pytest_interop.errors import InfrastructureError, NotApplicable
from pytest_interop.resources import CleanupSummary

if TYPE_CHECKING:
    from pytest_interop.clouds.dns import DnsFacet
    from pytest_interop.resources import LedgerRecord, ResourceLedger

DEFAULT_BOOT_TIMEOUT = 600.0
DEFAULT_ACTION_TIMEOUT = 300.0
DEFAULT_DELETE_TIMEOUT = 300.0


class ResourceNotFound(LookupError):
    """The cloud does not know the server, key pair or image asked for."""


class AccessDenied(PermissionError):
    """The cloud refused the request for want of permission (HTTP 401/403, S3 AccessDenied)."""


class QuotaExceeded(Exception):
    """The cloud refused a write that would go over a quota (Swift's 413)."""


class ContainerNotEmpty(Exception):
    """A container (bucket) still holds objects, so it cannot be deleted (HTTP 409)."""


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


@dataclass(frozen=True)
class VolumeAttachment:
    """A volume attached to a server, as the block-storage service records it."""

    server_id: str
    device: str | None  # the device the cloud named (/dev/vdb, /dev/sdf); the guest may differ
    attachment_id: str | None = None
    volume_id: str | None = None


@dataclass(frozen=True)
class Volume:
    """A block-storage volume (Cinder volume, EBS volume)."""

    id: str
    name: str | None
    status: str  # normalised: creating, available, in-use, attaching, detaching, deleting, error
    size_gb: int
    description: str | None = None
    availability_zone: str | None = None
    bootable: bool = False
    read_only: bool | None = None  # None where the provider has no read-only flag
    metadata: Mapping[str, str] = field(default_factory=dict)
    attachments: tuple[VolumeAttachment, ...] = ()
    source_image_id: str | None = None
    source_snapshot_id: str | None = None
    source_volume_id: str | None = None
    provider_status: str | None = None  # the cloud's own word


@dataclass(frozen=True)
class VolumeSnapshot:
    id: str
    name: str | None
    status: str  # normalised: creating, available, deleting, error
    volume_id: str
    size_gb: int
    metadata: Mapping[str, str] = field(default_factory=dict)
    provider_status: str | None = None


@dataclass(frozen=True)
class Container:
    """A Swift container or an S3 bucket."""

    name: str
    object_count: int | None = None  # None where the provider does not say
    bytes_used: int | None = None
    metadata: Mapping[str, str] = field(default_factory=dict)  # keys lower-case


@dataclass(frozen=True)
class StoredObject:
    """What a listing or a HEAD says about one object (never its data)."""

    name: str
    size: int
    etag: str | None = None
    content_type: str | None = None
    metadata: Mapping[str, str] = field(default_factory=dict)  # keys lower-case


class LargeObjectRefused(Exception):
    """The store refused to assemble a large object (a segment's etag or size is wrong)."""


@dataclass(frozen=True)
class Segment:
    """One uploaded segment of a large object: where it is, its etag and its size."""

    ref: str  # Swift: "container/object"; S3: the part number
    etag: str
    size: int


@dataclass(frozen=True)
class LargeUpload:
    """Segments uploaded for the large object ``container/name``, not yet assembled."""

    container: str
    name: str
    segments: tuple[Segment, ...]
    upload_id: str | None = None  # S3's multipart upload


@dataclass(frozen=True)
class StackResource:
    """One resource of a stack: its template name, type, what it made and its state."""

    name: str
    type: str
    physical_id: str
    status: str  # the provider's own words: CREATE_COMPLETE, UPDATE_COMPLETE, ...


@dataclass(frozen=True)
class Stack:
    """An orchestration stack (Heat, CloudFormation): status in the provider's words."""

    id: str
    name: str
    status: str
    status_reason: str
    outputs: Mapping[str, Any]
    tags: tuple[str, ...] = ()


STACK_POLL_SECONDS = 0.5


def settled_stack(
    get_stack: Callable[[str], Stack],
    stack_id: str,
    timeout: float,
    *,
    call: str,
    gone_ok: bool = False,
) -> Stack | None:
    """The stack once no operation is in progress on it (Heat and CloudFormation both say
    ``*_IN_PROGRESS``); None if it is gone and ``gone_ok``; InfrastructureError at the deadline."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            stack = get_stack(stack_id)
        except ResourceNotFound:
            if gone_ok:
                return None
            raise
        if not stack.status.endswith("_IN_PROGRESS"):
            return stack
        if time.monotonic() > deadline:
            raise InfrastructureError(
                f"stack {stack.name} still {stack.status} after {timeout:.0f}s", call=call
            )
        time.sleep(STACK_POLL_SECONDS)


@dataclass(frozen=True)
class TemporaryUrl:
    """A URL that works without credentials until ``expires_at`` (epoch seconds)."""

    url: str
    method: str
    expires_at: float

    def __repr__(self) -> str:  # the signature is a credential while it lasts
        return f"TemporaryUrl(method={self.method!r}, expires_at={self.expires_at})"


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
        self.deferred = DeferredDeletes()  # shared with the sibling views (a shallow copy)

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
        self.deferred.finish(cancel=True)
        if self._key_dir is not None:
            shutil.rmtree(self._key_dir, ignore_errors=True)
            self._key_dir = None

    def _lacks(self, facet: str) -> NotApplicable:
        return NotApplicable(f"{self.provider} cloud {self.name!r} has no {facet}")

    @property
    def key_dir(self) -> Path:
        """A 0700 directory, private to this adapter, for private keys; removed by close()."""
        if self._key_dir is None:
            # the pid in the name: a later run removes it if this process is killed
            self._key_dir = Path(tempfile.mkdtemp(prefix=f"interop-keys-{os.getpid()}-"))
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

    # -- the ledger, for what the adapter (or a test) creates itself ----------------------
    def track_intent(self, kind: str, name: str | None, **detail: Any) -> LedgerRecord | None:
        """Journal that ``kind`` called ``name`` is about to be made (None without a ledger)."""
        return self.ledger.intend(kind, name, **detail) if self.ledger is not None else None

    def track_created(self, record: LedgerRecord | None, resource_id: str, **detail: Any) -> None:
        if record is not None and self.ledger is not None:
            self.ledger.record_created(record, resource_id, **detail)

    def track_deleted(self, kind: str, resource_id: str) -> None:
        """Something tracked was deleted outside clean-up: nothing left for it to remove."""
        if self.ledger is not None:
            self.ledger.mark_deleted(kind, resource_id)

    def delete_later(self, label: str, job: Callable[[], None]) -> None:
        """Run a fixture's tear-down deletes (``job``, in its order) on a deleting thread, so
        the next test need not wait for them; :meth:`cleanup_run` waits for them first."""
        self.deferred.submit(label, job)

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

    def boot_choices(
        self,
        image: Image | str | None,
        flavor: Flavor | str | None,
        network: Network | str | None,
    ) -> tuple[Image | str, Flavor | str, Network | str | None]:
        """What a boot uses: the caller's choices, discovery for the ones not given."""
        if image is None and flavor is None and network is None:
            return self.boot_defaults()
        if image is None:
            image = self.discover_image()
        if flavor is None:
            flavor = self.discover_flavor(image if isinstance(image, Image) else None)
        if network is None:
            network = self.discover_network()
        return image, flavor, network

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

    def create_servers(
        self,
        count: int,
        name: str | None = None,
        *,
        image: Image | str | None = None,
        flavor: Flavor | str | None = None,
        network: Network | str | None = None,
        key_name: str | None = None,
        security_rule: SecurityRule | None = None,
        timeout: float = DEFAULT_BOOT_TIMEOUT,
    ) -> list[Server]:
        """Boot ``count`` servers with one request (all or none), each named apart; wait
        until every one is ACTIVE. Every server goes through the ledger."""
        raise self._lacks("multiple create")

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
        """Remove everything this adapter's ledger recorded, newest first, once the deferred
        deletes are through (what they could not delete is still live in the ledger)."""
        self.deferred.finish()
        if self.ledger is None:
            return CleanupSummary()
        return self.ledger.cleanup(self.delete_record)

    def delete_record(self, record: LedgerRecord) -> bool:
        """Delete what ``record`` names: True if deleted, False if already gone."""
        raise self._lacks("clean-up")

    def cleanup_leftovers(
        self, *, run_id: str | None = None, older_than_seconds: float | None = None
    ) -> CleanupSummary:
        """Remove resources of crashed runs that carry our run-id tag and name prefix."""
        raise self._lacks("clean-up")

    # -- block storage -------------------------------------------------------------------
    def using_volume_api(self, version: str) -> Cloud:
        """This cloud through block-storage API ``version`` ("2", "3"); same ledger.

        Providers with one block-storage API (EBS) return themselves.
        """
        raise self._lacks(f"block-storage API v{version}")

    def volume_availability_zones(self) -> list[str]:
        raise self._lacks("volume availability zones")

    def create_volume(
        self,
        size_gb: int | None = None,
        name: str | None = None,
        *,
        image: Image | str | None = None,
        snapshot: VolumeSnapshot | str | None = None,
        source_volume: Volume | str | None = None,
        description: str | None = None,
        metadata: Mapping[str, str] | None = None,
        availability_zone: str | None = None,
        wait: bool = True,
        timeout: float = DEFAULT_ACTION_TIMEOUT,
    ) -> Volume:
        """A ledgered volume: blank, or from an image, a snapshot or another volume (a clone).

        ``size_gb`` may be None when a source gives the size.
        """
        raise self._lacks("volumes")

    def wait_for_volume(
        self, volume_id: str, status: str = "available", *, timeout: float = DEFAULT_ACTION_TIMEOUT
    ) -> Volume:
        raise self._lacks("volumes")

    def get_volume(self, volume_id: str) -> Volume:
        raise self._lacks("volumes")

    def list_volumes(self, **filters: str) -> list[Volume]:
        """The project's volumes; ``name``/``status`` filters where the provider has them."""
        raise self._lacks("volumes")

    def update_volume(
        self, volume_id: str, *, name: str | None = None, description: str | None = None
    ) -> Volume:
        raise self._lacks("volume update")

    def delete_volume(
        self, volume_id: str, *, wait: bool = True, timeout: float = DEFAULT_DELETE_TIMEOUT
    ) -> None:
        raise self._lacks("volumes")

    def get_volume_metadata(self, volume_id: str) -> dict[str, str]:
        raise self._lacks("volume metadata")

    def set_volume_metadata(self, volume_id: str, metadata: Mapping[str, str]) -> dict[str, str]:
        """Add or replace the given keys; returns the volume's whole metadata."""
        raise self._lacks("volume metadata")

    def delete_volume_metadata(self, volume_id: str, keys: Sequence[str]) -> None:
        raise self._lacks("volume metadata")

    def create_volume_snapshot(
        self,
        volume_id: str,
        name: str | None = None,
        *,
        force: bool = False,
        metadata: Mapping[str, str] | None = None,
        wait: bool = True,
        timeout: float = DEFAULT_ACTION_TIMEOUT,
    ) -> VolumeSnapshot:
        """A ledgered snapshot; ``force`` allows it while the volume is attached."""
        raise self._lacks("volume snapshots")

    def get_volume_snapshot(self, snapshot_id: str) -> VolumeSnapshot:
        raise self._lacks("volume snapshots")

    def list_volume_snapshots(self) -> list[VolumeSnapshot]:
        raise self._lacks("volume snapshots")

    def delete_volume_snapshot(
        self, snapshot_id: str, *, wait: bool = True, timeout: float = DEFAULT_DELETE_TIMEOUT
    ) -> None:
        raise self._lacks("volume snapshots")

    def attach_volume(
        self,
        server_id: str,
        volume_id: str,
        device: str | None = None,
        *,
        wait: bool = True,
        timeout: float = DEFAULT_ACTION_TIMEOUT,
    ) -> VolumeAttachment:
        """Attach through the compute API; with ``wait`` returns once the volume is in use."""
        raise self._lacks("volume attachment")

    def detach_volume(
        self,
        server_id: str,
        volume_id: str,
        *,
        wait: bool = True,
        timeout: float = DEFAULT_ACTION_TIMEOUT,
    ) -> None:
        raise self._lacks("volume attachment")

    def list_server_volumes(self, server_id: str) -> list[VolumeAttachment]:
        """The volumes attached to a server, as the compute API reports them."""
        raise self._lacks("volume attachment")

    def set_volume_read_only(self, volume_id: str, read_only: bool) -> None:
        raise self._lacks("a read-only volume flag")

    def reserve_volume(self, volume_id: str) -> None:
        raise self._lacks("volume reservation")

    def unreserve_volume(self, volume_id: str) -> None:
        raise self._lacks("volume reservation")

    def upload_volume_to_image(
        self,
        volume_id: str,
        image_name: str | None = None,
        *,
        disk_format: str = "raw",
        force: bool = False,
        wait: bool = True,
        timeout: float = DEFAULT_ACTION_TIMEOUT,
    ) -> Image:
        """A ledgered image made of the volume's content; with ``wait`` once it is active."""
        raise self._lacks("volume upload to an image")

    def image_checksum(self, image_id: str) -> str | None:
        """The image's content checksum as the image service reports it (None if unknown)."""
        raise self._lacks("image checksums")

    def delete_image(self, image_id: str) -> None:
        raise self._lacks("image deletion")

    # -- object storage (Swift containers / S3 buckets) ------------------------------------
    # ``account`` (where accepted) names another tenant's storage account, as its owner's
    # ``object_account()`` gives it: how a peer reaches a container shared with it.
    def object_store_info(self) -> dict[str, Any]:
        """The object store's capability document (Swift's ``/info``)."""
        raise self._lacks("object storage capability discovery")

    def object_account(self) -> str:
        """This cloud's storage account, as ACLs and other tenants name it."""
        raise self._lacks("object storage")

    def create_container(
        self, name: str | None = None, *, metadata: Mapping[str, str] | None = None
    ) -> Container:
        """A new container (bucket), ledgered: clean-up removes it with its objects."""
        raise self._lacks("object storage")

    def list_containers(
        self, *, prefix: str | None = None, limit: int | None = None, marker: str | None = None
    ) -> list[Container]:
        """The account's containers in name order (``marker``: start after this name)."""
        raise self._lacks("object storage")

    def get_container(self, name: str) -> Container:
        """The container with its counts and metadata; ResourceNotFound when absent."""
        raise self._lacks("object storage")

    def set_container_metadata(self, name: str, metadata: Mapping[str, str]) -> dict[str, str]:
        """Add or replace the given keys; returns the container's whole metadata."""
        raise self._lacks("container metadata")

    def delete_container_metadata(self, name: str, keys: Sequence[str]) -> None:
        raise self._lacks("container metadata")

    def delete_container(self, name: str, *, purge: bool = False) -> None:
        """Delete a container; ContainerNotEmpty while it holds objects, unless ``purge``."""
        raise self._lacks("object storage")

    def _delete_container_record(self, name: str) -> bool:
        """Clean-up of a ledgered container: purge it; False when it was already gone."""
        try:
            self.delete_container(name, purge=True)
        except ResourceNotFound:
            return False
        return True

    def list_objects(
        self,
        container: str,
        *,
        prefix: str | None = None,
        limit: int | None = None,
        marker: str | None = None,
        account: str | None = None,
    ) -> list[StoredObject]:
        raise self._lacks("object storage")

    def put_object(
        self,
        container: str,
        name: str,
        data: bytes,
        *,
        content_type: str | None = None,
        metadata: Mapping[str, str] | None = None,
        account: str | None = None,
    ) -> StoredObject:
        """Store ``data``; QuotaExceeded or AccessDenied when the cloud refuses it."""
        raise self._lacks("object storage")

    def get_object(
        self,
        container: str,
        name: str,
        *,
        byte_range: tuple[int, int] | None = None,
        account: str | None = None,
    ) -> bytes:
        """The object's bytes; ``byte_range`` (first, last), inclusive as in HTTP Range."""
        raise self._lacks("object storage")

    def head_object(self, container: str, name: str) -> StoredObject:
        raise self._lacks("object storage")

    def copy_object(
        self, container: str, name: str, to_container: str, to_name: str
    ) -> StoredObject:
        """A server-side copy; returns what the copy looks like."""
        raise self._lacks("object copy")

    def delete_object(self, container: str, name: str, *, account: str | None = None) -> None:
        raise self._lacks("object storage")

    def enable_versioning(self, container: str) -> None:
        """Keep overwritten versions of the container's objects."""
        raise self._lacks("object versioning")

    def object_versions(self, container: str, name: str) -> list[bytes]:
        """The kept (non-current) versions of an object's data, newest first."""
        raise self._lacks("object versioning")

    def temporary_url(
        self, container: str, name: str, *, method: str = "GET", seconds: int = 60
    ) -> TemporaryUrl:
        """A URL that lets anyone ``method`` the object for ``seconds`` (Swift temp URL,
        S3 presigned URL)."""
        raise self._lacks("temporary URLs")

    def peer(self) -> Cloud:
        """An adapter for another tenant (project, account) of the same cloud, for sharing
        tests; NotApplicable when none is configured."""
        raise self._lacks("second tenant")

    def grant_container_read(self, container: str, grantee: Cloud) -> None:
        """Let ``grantee`` (another tenant) list and read the container, and no more."""
        raise self._lacks("container access control")

    def set_container_quota(
        self, container: str, *, max_bytes: int | None = None, max_objects: int | None = None
    ) -> None:
        """Cap the container's bytes and/or object count; None leaves a cap unset."""
        raise self._lacks("container quotas")

    def require_account_quotas(self) -> None:
        """NotApplicable, with the reason, where the provider has no account quotas at all."""
        raise self._lacks("account quotas")

    def set_account_quota(self, max_bytes: int | None) -> None:
        """Cap the whole account's bytes (None removes the cap); set by the cloud's admin."""
        raise self._lacks("account quotas")

    # -- large objects (segments assembled by the store) -----------------------------------
    def upload_segments(self, container: str, name: str, parts: Sequence[bytes]) -> LargeUpload:
        """Upload ``parts`` as the segments of the large object ``container/name``."""
        raise self._lacks("large objects")

    def complete_large_object(
        self, upload: LargeUpload, segments: Sequence[Segment] | None = None
    ) -> None:
        """Assemble the object from ``segments`` (default: the upload's, in order), each
        checked against its etag and size (Swift SLO, S3 multipart); LargeObjectRefused when
        the store refuses them."""
        raise self._lacks("large objects with checked segments")

    def put_prefix_manifest(self, container: str, name: str, segment_prefix: str) -> None:
        """Make ``container/name`` read as the concatenation of the objects named
        ``segment_prefix``... in ``container``, in name order (Swift DLO)."""
        raise self._lacks("large objects assembled by name prefix")

    # -- DNS (zones and record sets: pytest_interop.clouds.dns) ---------------------------
    @property
    def dns(self) -> DnsFacet:
        """The cloud's DNS service; NotApplicable, with the reason, where it has none."""
        raise self._lacks("DNS service")

    # -- orchestration (Heat, CloudFormation) ----------------------------------------------
    @property
    def template_dialect(self) -> str:
        """The template language stacks are written in: ``hot`` or ``cfn``."""
        raise self._lacks("orchestration")

    @property
    def rollback_by_default(self) -> bool:
        """Whether a failed create is rolled back when the request does not say."""
        raise self._lacks("orchestration")

    def create_stack(
        self,
        template: str,
        parameters: Mapping[str, Any] | None = None,
        *,
        name: str | None = None,
        rollback: bool = False,
        tags: Sequence[str] = (),
        wait: bool = True,
        timeout: float = 600,
    ) -> Stack:
        """Create a stack; with ``wait``, return it once no longer in progress (it may have
        failed or rolled back: its status says so)."""
        raise self._lacks("orchestration")

    def get_stack(self, stack_id: str) -> Stack:
        raise self._lacks("orchestration")

    def list_stacks(self) -> list[Stack]:
        raise self._lacks("orchestration")

    def update_stack(
        self,
        stack_id: str,
        template: str,
        parameters: Mapping[str, Any] | None = None,
        *,
        wait: bool = True,
        timeout: float = 600,
    ) -> Stack:
        raise self._lacks("orchestration")

    def delete_stack(self, stack_id: str, *, wait: bool = True, timeout: float = 600) -> None:
        raise self._lacks("orchestration")

    def stack_resources(self, stack_id: str) -> list[StackResource]:
        raise self._lacks("orchestration")

    def stack_events(self, stack_id: str) -> list[dict[str, Any]]:
        """Oldest first: ``resource_name``, ``physical_id``, ``status``, ``reason``."""
        raise self._lacks("orchestration")

    def stack_resource_exists(self, resource: StackResource) -> bool:
        """Whether what a stack resource made still exists, asked of the service that made
        it (the server, the key pair, the network), not of the orchestration service."""
        raise self._lacks("orchestration")
