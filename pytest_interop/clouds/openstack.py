"""The OpenStack adapter: the behavioural interface over openstacksdk's proxies.

Connections come from openstacksdk's own configuration (a clouds.yaml name, resolved on the
worker) or from a full cloud config dict (the reference cloud's). An ``interop`` key in either
carries our settings: ``ssh_port`` and discovery overrides (``image``, ``flavor``, ``network``,
``login_user``). Servers carry the run id in their metadata; floating IPs and security groups
in their description; key pairs, which have neither, in their name.
"""

from __future__ import annotations

import contextlib
import re
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, TypeVar

from pytest_interop.clouds import discovery
from pytest_interop.clouds.base import (
    DEFAULT_ACTION_TIMEOUT,
    DEFAULT_BOOT_TIMEOUT,
    DEFAULT_DELETE_TIMEOUT,
    Address,
    Cloud,
    Flavor,
    Image,
    KeyPair,
    Network,
    QuotaExceeded,
    Reachable,
    ResourceNotFound,
    SecurityRule,
    Server,
    Volume,
    VolumeAttachment,
    VolumeSnapshot,
)
from pytest_interop.clouds.dns import DNS_KINDS, DnsFacet
from pytest_interop.clouds.openstack_large_objects import SwiftLargeObjects
from pytest_interop.clouds.openstack_object import CONTAINER_KIND, SwiftFacet
from pytest_interop.clouds.openstack_orchestration import STACK_KIND, HeatFacet
from pytest_interop.clouds.retry import Failure, RetryPolicy, parse_retry_after, wait_until
from pytest_interop.errors import ConfigurationError, InfrastructureError, NotApplicable
from pytest_interop.redaction import Secrets, secret_values
from pytest_interop.resources import (
    CREATED_AT_KEY,
    NAME_PREFIX,
    TAG_KEY,
    CleanupSummary,
    LedgerRecord,
    ResourceLedger,
    run_prefix,
    run_started_at,
)

T = TypeVar("T")

# Boots that end in ERROR are deleted and tried again, up to this many boots in all.
BOOT_ATTEMPTS = 3


def _renew_the_token_after_every_401(connection: Any) -> None:
    """Make keystoneauth fetch a token and retry after every 401, not only after the first.

    keystoneauth retries a request that got a 401 only if invalidating its plugin dropped a
    token. When two threads (a test and a deleting thread, :mod:`.deferred`) get a 401 for
    the same expired token, the second finds it already dropped and is handed the 401. So
    invalidation always says it did something: the second thread fetches the token the first
    one renewed, or a new one, and tries once more. Wrong credentials still fail, at the
    token request.
    """
    auth = getattr(getattr(connection, "session", None), "auth", None)
    if auth is None or getattr(auth, "_interop_renews", False):
        return  # no plugin (a preset token), or a sibling view's shared plugin already done
    invalidate = auth.invalidate

    def always_renew() -> bool:
        invalidate()
        return True

    auth.invalidate = always_renew
    auth._interop_renews = True


def _classify(exc: BaseException) -> Failure:
    from keystoneauth1 import exceptions as ks_exceptions
    from openstack import exceptions as os_exceptions

    if isinstance(exc, os_exceptions.HttpException):
        status = exc.status_code or 0
        if status == 429 or status >= 500:
            response = getattr(exc, "response", None)
            header = response.headers.get("Retry-After") if response is not None else None
            return Failure(True, parse_retry_after(header))
        return Failure(False)
    if isinstance(exc, ks_exceptions.HttpError):  # e.g. a 503 to a (re-)authentication
        status = exc.http_status or 0
        if status == 429 or status >= 500:
            response = getattr(exc, "response", None)
            header = response.headers.get("Retry-After") if response is not None else None
            return Failure(True, parse_retry_after(header))
        return Failure(False)
    if isinstance(
        exc,
        ks_exceptions.ConnectFailure
        | ks_exceptions.ConnectTimeout
        | ks_exceptions.RetriableConnectionFailure
        | ConnectionError,
    ):
        return Failure(True)
    try:
        import requests

        if isinstance(exc, requests.ConnectionError):
            return Failure(True)
    except ImportError:  # pragma: no cover - requests comes with keystoneauth1
        pass
    return Failure(False)


def _exception_chain(exc: BaseException | None) -> Iterator[BaseException]:
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        yield exc
        exc = exc.__cause__ or exc.__context__


_ROOT_REASON = re.compile(r"\[(?:SSL: [A-Z_]+|SSL|Errno -?\d+)\][^'\")(]*")


def _first_line(exc: BaseException, secrets: Sequence[str]) -> str:
    """The root reason urllib3 buried in the message ([Errno 111] ..., [SSL: ...] ...)."""
    from pytest_interop.clouds.retry import redact

    text = str(exc).strip()
    root = _ROOT_REASON.search(text)
    lines = text.splitlines()
    reason = root.group(0).strip() if root else (lines[0] if lines else type(exc).__name__)
    return redact(reason, secrets)[:300]


def _is_not_found(exc: BaseException) -> bool:
    from openstack import exceptions as os_exceptions

    return isinstance(exc, os_exceptions.NotFoundException)


def _status_code(exc: BaseException) -> int:
    return int(getattr(exc, "status_code", 0) or 0)


def _tag_text(run_id: str) -> str:
    """What a description carries where the resource has no metadata or tags."""
    return f"{TAG_KEY}={run_id} {CREATED_AT_KEY}={int(time.time())}"


def _parse_tag_text(text: str | None) -> dict[str, str]:
    found: dict[str, str] = {}
    for word in (text or "").split():
        key, sep, value = word.partition("=")
        if sep and key in (TAG_KEY, CREATED_AT_KEY):
            found[key] = value
    return found


def _epoch(text: str | None) -> float | None:
    if not text:
        return None
    from datetime import UTC, datetime

    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


class OpenStackCloud(SwiftFacet, SwiftLargeObjects, HeatFacet, Cloud):
    provider = "openstack"
    resize_needs_confirmation = True
    _volume_api = "3"  # the Cinder API version block-storage calls use; see using_volume_api

    def __init__(
        self,
        name: str,
        connection: Any,
        *,
        ledger: ResourceLedger | None = None,
        settings: Mapping[str, Any] | None = None,
        retry: RetryPolicy | None = None,
    ) -> None:
        super().__init__(name, ledger)
        self._conn = connection
        _renew_the_token_after_every_401(connection)
        self._retry = retry or RetryPolicy()
        self._interop: dict[str, Any] = dict(settings or {})
        self.ssh_port = int(self._interop.get("ssh_port") or 22)
        self._secrets = Secrets(sorted(secret_values(connection.config.config)))

    @classmethod
    def from_spec(cls, spec: Any, ledger: ResourceLedger | None) -> OpenStackCloud:
        import openstack.connection

        settings = dict(spec.settings)
        if "config" in settings:
            config = dict(settings["config"])
            interop = dict(config.pop("interop", None) or {})
            connection = openstack.connection.Connection(**config)
        elif "cloud" in settings:
            connection = openstack.connection.Connection(
                cloud=settings["cloud"], region_name=settings.get("region_name")
            )
            interop = dict(connection.config.config.get("interop") or {})
        else:
            raise ConfigurationError(
                f"--cloud={spec.name}: openstack settings need 'cloud' or 'config'"
            )
        interop.update(settings.get("interop") or {})
        return cls(spec.name, connection, ledger=ledger, settings=interop)

    # -- plumbing --------------------------------------------------------------------------
    def _call(self, call: str, fn: Callable[[], T]) -> T:
        try:
            return self._retry.call(call, fn, classify=_classify, secrets=self._secrets)
        except InfrastructureError:
            raise
        except Exception as exc:
            if _is_not_found(exc):
                raise ResourceNotFound(f"{call}: not found") from None
            status = _status_code(exc)
            if status >= 500:
                raise InfrastructureError(f"{call} failed with {status}", call=call) from None
            raise

    def _tag_text(self) -> str:
        return _tag_text(self.ledger.run_id) if self.ledger is not None else ""

    @property
    def native(self) -> Any:
        return self._conn

    def identity(self) -> dict[str, Any]:
        config = self._conn.config
        auth = config.config.get("auth") or {}
        return {
            "name": self.name,
            "provider": self.provider,
            "region": config.get_region_name(),
            "auth_url": auth.get("auth_url"),
            "project": auth.get("project_name") or auth.get("project_id"),
            "profile": self._interop.get("profile"),
        }

    def close(self) -> None:
        try:
            self._conn.close()
        finally:
            super().close()

    def check(self) -> None:
        """Authenticate once, before any test runs; ConfigurationError with the fix if not.

        A wrong password, an unreachable or mis-typed auth URL and a TLS failure are the
        user's to fix, and would otherwise fail every test alike: one attempt each. A 5xx
        or 429 is retried a little, then left to the run's own retries and reports.
        """
        from keystoneauth1 import exceptions as ks_exceptions

        auth_url = (self._conn.config.config.get("auth") or {}).get("auth_url") or "?"
        where = f"--cloud={self.name} (auth_url {auth_url})"
        check_policy = RetryPolicy(attempts=3, initial_delay=0.2, max_delay=1.0)
        try:
            check_policy.call(
                "keystone.tokens.issue",
                self._conn.session.get_token,
                classify=lambda e: (
                    _classify(e) if isinstance(e, ks_exceptions.HttpError) else Failure(False)
                ),
            )
        except InfrastructureError:
            return
        except ks_exceptions.ClientException as exc:
            # discovery wraps the connection error it met: look down the chain
            chain = list(_exception_chain(exc))
            tls = next((e for e in chain if isinstance(e, ks_exceptions.SSLError)), None)
            down = next((e for e in chain if isinstance(e, ks_exceptions.ConnectionError)), None)
            if any(isinstance(e, ks_exceptions.Unauthorized) for e in chain):
                problem = "the cloud refused the credentials (401)"
                fix = "fix the password, application credential or project in clouds.yaml"
            elif tls is not None:
                problem = f"TLS failed ({_first_line(tls, self._secrets)})"
                fix = "point `cacert` at the cloud's CA bundle in clouds.yaml, or fix auth_url"
            elif down is not None:
                problem = f"cannot connect ({_first_line(down, self._secrets)})"
                fix = "check auth_url in clouds.yaml and that the cloud is reachable from here"
            else:
                problem = f"authentication failed ({_first_line(exc, self._secrets)})"
                fix = "check the auth section of this cloud in clouds.yaml"
            raise ConfigurationError(f"{where}: {problem}; {fix}") from None
        self._check_overrides(where)

    def _check_overrides(self, where: str) -> None:
        """An image or flavor named in the settings must exist, or no boot can run here."""
        if not (self._override("image") or self._override("flavor")):
            return
        try:
            image = self.discover_image()
            self.discover_flavor(image)
        except ConfigurationError as exc:
            names = self.list_flavors() if "flavor" in str(exc) else self.list_images()
            known = ", ".join(sorted(item.name for item in names)) or "none"
            raise ConfigurationError(
                f"{where}: cannot run here: {exc}; name one of: {known}"
            ) from None

    # -- key pairs -------------------------------------------------------------------------
    @staticmethod
    def _keypair(item: Any, path: str | None = None) -> KeyPair:
        return KeyPair(item.name, item.fingerprint or "", (item.public_key or "").strip(), path)

    def create_keypair(self, name: str | None = None) -> KeyPair:
        """Let Nova generate the key; since microversion 2.92 it will not, so generate it here."""
        from openstack import exceptions as os_exceptions

        name = name or self.resource_name("keypair")
        record = self.track_intent("keypair", name)
        try:
            created = self._call(
                "nova.keypairs.create", lambda: self._conn.compute.create_keypair(name=name)
            )
        except os_exceptions.BadRequestException:
            if record is not None and self.ledger is not None:
                self.ledger.record_abandoned(record)
            return self._generate_and_import(name)
        self.track_created(record, name)
        self.findings["keypair_generated_by"] = "cloud"
        path = self.write_private_key(name, created.private_key) if created.private_key else None
        return self._keypair(created, path)

    def _generate_and_import(self, name: str) -> KeyPair:
        from pytest_interop.nodes import generate_keypair

        private_key_path, public_key = generate_keypair(self.key_dir)
        imported = self.import_keypair(public_key, name)
        self.findings["keypair_generated_by"] = "client"
        return KeyPair(
            imported.name, imported.fingerprint, imported.public_key, str(private_key_path)
        )

    def import_keypair(self, public_key: str, name: str | None = None) -> KeyPair:
        name = name or self.resource_name("keypair")
        record = self.track_intent("keypair", name)
        created = self._call(
            "nova.keypairs.create",
            lambda: self._conn.compute.create_keypair(name=name, public_key=public_key.strip()),
        )
        self.track_created(record, name)
        return self._keypair(created)

    def get_keypair(self, name: str) -> KeyPair:
        return self._keypair(
            self._call("nova.keypairs.get", lambda: self._conn.compute.get_keypair(name))
        )

    def list_keypairs(self) -> list[KeyPair]:
        items = self._call("nova.keypairs.list", lambda: list(self._conn.compute.keypairs()))
        return [self._keypair(item) for item in items]

    def delete_keypair(self, name: str) -> None:
        self._call(
            "nova.keypairs.delete",
            lambda: self._conn.compute.delete_keypair(name, ignore_missing=False),
        )
        self.track_deleted("keypair", name)

    # -- images, flavors, networks ---------------------------------------------------------
    @staticmethod
    def _image(item: Any) -> Image:
        properties = dict(item.properties or {})
        for key in ("os_admin_user", "os_distro", "os_type", "os_version"):
            value = getattr(item, key, None)
            if value:
                properties[key] = value
        return Image(
            id=item.id,
            name=item.name or item.id,
            os_distro=item.os_distro,
            min_disk_gb=int(item.min_disk or 0),
            min_ram_mb=int(item.min_ram or 0),
            properties=properties,
            status=(item.status or "active").lower(),
        )

    def list_images(self) -> list[Image]:
        items = self._call("glance.images.list", lambda: list(self._conn.image.images()))
        return [self._image(item) for item in items]

    def get_image(self, image_id: str) -> Image:
        return self._image(
            self._call("glance.images.get", lambda: self._conn.image.get_image(image_id))
        )

    @staticmethod
    def _flavor(item: Any) -> Flavor:
        return Flavor(item.id, item.name, int(item.vcpus), int(item.ram), int(item.disk))

    def list_flavors(self) -> list[Flavor]:
        items = self._call(
            "nova.flavors.list", lambda: list(self._conn.compute.flavors(details=True))
        )
        return [self._flavor(item) for item in items]

    def get_flavor(self, flavor_id: str) -> Flavor:
        return self._flavor(
            self._call("nova.flavors.get", lambda: self._conn.compute.get_flavor(flavor_id))
        )

    def _raw_networks(self) -> list[Any]:
        return self._call("neutron.networks.list", lambda: list(self._conn.network.networks()))

    def list_networks(self) -> list[Network]:
        return [
            Network(n.id, n.name, bool(n.is_router_external), bool(n.is_shared))
            for n in self._raw_networks()
        ]

    # -- discovery -------------------------------------------------------------------------
    def _override(self, key: str) -> str | None:
        return discovery.override_of({"interop": self._interop}, key)

    def discover_image(self) -> Image:
        choice, source = discovery.choose_image(
            self.list_images(),
            override=self._override("image"),
            login_user=self._override("login_user"),
        )
        image = choice.value
        self.findings.update(
            image=image.name,
            image_id=image.id,
            image_choice=choice.reason,
            login_user=image.login_user,
            login_user_source=source,
        )
        return image

    def discover_flavor(self, image: Image | None = None) -> Flavor:
        choice = discovery.choose_flavor(
            self.list_flavors(), image, override=self._override("flavor")
        )
        self.findings.update(flavor=choice.value.name, flavor_choice=choice.reason)
        return choice.value

    def discover_network(self) -> Network | None:
        # Networks that tests create (our name prefix) or that have no subnet are never
        # where servers boot: concurrent workers would otherwise pick a test's network.
        raw = [
            n
            for n in self._raw_networks()
            if not (n.name or "").startswith(NAME_PREFIX) and (n.subnet_ids or n.is_router_external)
        ]
        project = self._conn.current_project_id
        networks = [
            Network(n.id, n.name, bool(n.is_router_external), bool(n.is_shared)) for n in raw
        ]
        choice = discovery.choose_network(
            networks,
            override=self._override("network"),
            project_networks={n.id for n in raw if n.project_id == project},
        )
        self.findings.update(
            network=choice.value.name if choice.value else None, network_choice=choice.reason
        )
        return choice.value

    # -- servers ---------------------------------------------------------------------------
    @staticmethod
    def _server(item: Any) -> Server:
        addresses: list[Address] = []
        for network, entries in (item.addresses or {}).items():
            for entry in entries:
                kind = "floating" if entry.get("OS-EXT-IPS:type") == "floating" else "fixed"
                addresses.append(
                    Address(entry["addr"], kind, int(entry.get("version", 4)), network)
                )
        flavor = item.flavor or {}
        flavor_id = (
            flavor.get("id") or flavor.get("original_name") or flavor.get("name")
            if isinstance(flavor, Mapping)
            else getattr(flavor, "id", None) or getattr(flavor, "name", None)
        )
        image = item.image or {}
        image_id = image.get("id") if isinstance(image, Mapping) else getattr(image, "id", None)
        return Server(
            id=item.id,
            name=item.name,
            status=item.status or "UNKNOWN",
            image_id=image_id,
            flavor_id=flavor_id,
            key_name=item.key_name,
            addresses=tuple(addresses),
            metadata=dict(item.metadata or {}),
            locked=item.is_locked,
            created_at=item.created_at,
            provider_status=item.status,
        )

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
        image, flavor, network = self.boot_choices(image, flavor, network)
        name = name or self.resource_name("server")
        tags = {CREATED_AT_KEY: str(int(time.time()))}
        if self.ledger is not None:
            tags[TAG_KEY] = self.ledger.run_id
        attrs: dict[str, Any] = {
            "name": name,
            "image_id": image.id if isinstance(image, Image) else image,
            "flavor_id": flavor.id if isinstance(flavor, Flavor) else flavor,
            "metadata": {**tags, **(metadata or {})},
        }
        if network is not None:
            attrs["networks"] = [{"uuid": network.id if isinstance(network, Network) else network}]
        if key_name:
            attrs["key_name"] = key_name
        if security_rule is not None:
            attrs["security_groups"] = [{"name": security_rule.group_name}]
        started = time.monotonic()
        for attempt in range(1, BOOT_ATTEMPTS + 1):
            record = self.track_intent("server", name)
            created = self._call(
                "nova.servers.create", lambda: self._conn.compute.create_server(**attrs)
            )
            self.track_created(record, created.id)
            if not wait:
                return self._server(created)
            try:
                server = self.wait_for_server(created.id, "ACTIVE", timeout=timeout)
            except InfrastructureError:
                # A boot that ended in ERROR (no valid host, a failed spawn) is the cloud's
                # hiccup, not the capability's: remove it and boot again, a bounded number
                # of times. A timeout or an API failure is not retried here.
                if attempt == BOOT_ATTEMPTS or self.get_server(created.id).status != "ERROR":
                    raise
                self.delete_server(created.id)
                self.findings["boot_retries"] = attempt
                continue
            self.findings["boot_seconds"] = round(time.monotonic() - started, 2)
            return server
        raise AssertionError("unreachable: the loop returns or raises")  # pragma: no cover

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
        """One Nova request with ``min_count = max_count = count``; every server ACTIVE.

        Nova answers with the first server only; the others are found by the names it
        gives them (``<name>-<n>``), which carry the run's unique prefix.
        """
        image, flavor, network = self.boot_choices(image, flavor, network)
        name = name or self.resource_name("server")
        tags = {CREATED_AT_KEY: str(int(time.time()))}
        if self.ledger is not None:
            tags[TAG_KEY] = self.ledger.run_id
        attrs: dict[str, Any] = {
            "name": name,
            "image_id": image.id if isinstance(image, Image) else image,
            "flavor_id": flavor.id if isinstance(flavor, Flavor) else flavor,
            "metadata": tags,
            "min_count": count,
            "max_count": count,
        }
        if network is not None:
            attrs["networks"] = [{"uuid": network.id if isinstance(network, Network) else network}]
        if key_name:
            attrs["key_name"] = key_name
        if security_rule is not None:
            attrs["security_groups"] = [{"name": security_rule.group_name}]
        records = [self.track_intent("server", f"{name}-{n}") for n in range(1, count + 1)]
        first = self._call(
            "nova.servers.create_multiple", lambda: self._conn.compute.create_server(**attrs)
        )
        pattern = f"^{re.escape(name)}(-[0-9]+)?$"
        found = self._call(
            "nova.servers.list",
            lambda: list(self._conn.compute.servers(name=pattern)),
        )
        ids = sorted({first.id, *(item.id for item in found)})
        for record, server_id in zip(records, ids, strict=False):
            self.track_created(record, server_id)
        return [self.wait_for_server(server_id, "ACTIVE", timeout=timeout) for server_id in ids]

    def _fault(self, server_id: str) -> str:
        try:
            item = self._conn.compute.get_server(server_id)
        except Exception:
            return ""
        fault = item.fault or {}
        return str(fault.get("message") or "") if isinstance(fault, Mapping) else ""

    def wait_for_server(
        self, server_id: str, status: str = "ACTIVE", *, timeout: float = DEFAULT_BOOT_TIMEOUT
    ) -> Server:
        def failed(server: Server) -> str | None:
            if server.status == "ERROR" and status != "ERROR":
                fault = self._fault(server_id)
                return f"server {server_id} went to ERROR" + (f": {fault}" if fault else "")
            return None

        return wait_until(
            f"nova.servers.get({server_id}) waiting for {status}",
            lambda: self.get_server(server_id),
            done=lambda s: s.status == status,
            failed=failed,
            timeout=timeout,
            describe=lambda s: s.status,
        )

    def get_server(self, server_id: str) -> Server:
        return self._server(
            self._call("nova.servers.get", lambda: self._conn.compute.get_server(server_id))
        )

    def list_servers(self) -> list[Server]:
        items = self._call(
            "nova.servers.list", lambda: list(self._conn.compute.servers(details=True))
        )
        return [self._server(item) for item in items]

    def _wait_gone(self, server_id: str, timeout: float) -> None:
        def gone() -> bool:
            try:
                self.get_server(server_id)
            except ResourceNotFound:
                return True
            return False

        wait_until(
            f"nova.servers.delete({server_id}) waiting for the server to go",
            gone,
            done=bool,
            timeout=timeout,
            describe=lambda _: "present",
        )

    def delete_server(
        self, server_id: str, *, wait: bool = True, timeout: float = DEFAULT_DELETE_TIMEOUT
    ) -> None:
        self._call(
            "nova.servers.delete",
            lambda: self._conn.compute.delete_server(server_id, ignore_missing=False),
        )
        if wait:
            self._wait_gone(server_id, timeout)
        self.track_deleted("server", server_id)

    def get_server_metadata(self, server_id: str) -> dict[str, str]:
        item = self._call(
            "nova.servers.metadata.get",
            lambda: self._conn.compute.fetch_server_metadata(server_id),
        )
        return dict(item.metadata or {})

    def set_server_metadata(self, server_id: str, metadata: Mapping[str, str]) -> dict[str, str]:
        self._call(
            "nova.servers.metadata.set",
            lambda: self._conn.compute.set_server_metadata(server_id, **dict(metadata)),
        )
        # openstacksdk keeps only the keys sent; the whole metadata is what callers need.
        return self.get_server_metadata(server_id)

    def delete_server_metadata(self, server_id: str, keys: Sequence[str]) -> None:
        self._call(
            "nova.servers.metadata.delete",
            lambda: self._conn.compute.delete_server_metadata(server_id, list(keys)),
        )

    def _act(
        self,
        call: str,
        fn: Callable[[], Any],
        server_id: str,
        status: str,
        wait: bool,
        timeout: float,
    ) -> Server:
        self._call(call, fn)
        if wait:
            return self.wait_for_server(server_id, status, timeout=timeout)
        return self.get_server(server_id)

    def reboot_server(
        self,
        server_id: str,
        *,
        hard: bool = False,
        wait: bool = True,
        timeout: float = DEFAULT_ACTION_TIMEOUT,
    ) -> Server:
        kind = "HARD" if hard else "SOFT"
        return self._act(
            "nova.servers.action.reboot",
            lambda: self._conn.compute.reboot_server(server_id, kind),
            server_id,
            "ACTIVE",
            wait,
            timeout,
        )

    def stop_server(
        self, server_id: str, *, wait: bool = True, timeout: float = DEFAULT_ACTION_TIMEOUT
    ) -> Server:
        return self._act(
            "nova.servers.action.os-stop",
            lambda: self._conn.compute.stop_server(server_id),
            server_id,
            "SHUTOFF",
            wait,
            timeout,
        )

    def start_server(
        self, server_id: str, *, wait: bool = True, timeout: float = DEFAULT_ACTION_TIMEOUT
    ) -> Server:
        return self._act(
            "nova.servers.action.os-start",
            lambda: self._conn.compute.start_server(server_id),
            server_id,
            "ACTIVE",
            wait,
            timeout,
        )

    def resize_server(
        self,
        server_id: str,
        flavor: Flavor | str,
        *,
        wait: bool = True,
        timeout: float = DEFAULT_ACTION_TIMEOUT,
    ) -> Server:
        flavor_id = flavor.id if isinstance(flavor, Flavor) else flavor
        return self._act(
            "nova.servers.action.resize",
            lambda: self._conn.compute.resize_server(server_id, flavor_id),
            server_id,
            "VERIFY_RESIZE",
            wait,
            timeout,
        )

    def confirm_resize(
        self, server_id: str, *, wait: bool = True, timeout: float = DEFAULT_ACTION_TIMEOUT
    ) -> Server:
        return self._act(
            "nova.servers.action.confirmResize",
            lambda: self._conn.compute.confirm_server_resize(server_id),
            server_id,
            "ACTIVE",
            wait,
            timeout,
        )

    def revert_resize(
        self, server_id: str, *, wait: bool = True, timeout: float = DEFAULT_ACTION_TIMEOUT
    ) -> Server:
        return self._act(
            "nova.servers.action.revertResize",
            lambda: self._conn.compute.revert_server_resize(server_id),
            server_id,
            "ACTIVE",
            wait,
            timeout,
        )

    def rebuild_server(
        self,
        server_id: str,
        image: Image | str | None = None,
        *,
        wait: bool = True,
        timeout: float = DEFAULT_BOOT_TIMEOUT,
    ) -> Server:
        if image is None:
            image = self.get_server(server_id).image_id
        image_id = image.id if isinstance(image, Image) else image
        return self._act(
            "nova.servers.action.rebuild",
            lambda: self._conn.compute.rebuild_server(server_id, image_id),
            server_id,
            "ACTIVE",
            wait,
            timeout,
        )

    def lock_server(self, server_id: str) -> None:
        self._call("nova.servers.action.lock", lambda: self._conn.compute.lock_server(server_id))

    def unlock_server(self, server_id: str) -> None:
        self._call(
            "nova.servers.action.unlock", lambda: self._conn.compute.unlock_server(server_id)
        )

    def console_log(self, server_id: str) -> str:
        answer = self._call(
            "nova.servers.action.os-getConsoleOutput",
            lambda: self._conn.compute.get_server_console_output(server_id),
        )
        return str(answer.get("output") or "")

    # -- addresses and reachability --------------------------------------------------------
    def server_addresses(self, server_id: str) -> list[Address]:
        return list(self.get_server(server_id).addresses)

    def reachable_address(self, server: Server | str) -> Reachable:
        server_id = server if isinstance(server, str) else server.id
        current = self.get_server(server_id)
        external_names = {n.name for n in self.list_networks() if n.external}
        floating = [a for a in current.addresses if a.kind == "floating"]
        for address in floating:
            if discovery.is_publicly_reachable(address.ip):
                self.findings["reachable_via"] = "floating-ip"
                return Reachable(address.ip, self.ssh_port, "floating-ip")
        for address in current.addresses:
            # A fixed address is used only when it is public: never an RFC 1918 one, even
            # on a network that calls itself external.
            if address.kind == "fixed" and discovery.is_publicly_reachable(address.ip):
                self.findings["reachable_via"] = "public-fixed-address"
                self.findings["public_network_external"] = address.network in external_names
                return Reachable(address.ip, self.ssh_port, "public-fixed-address")
        ip = self._attach_floating_ip(server_id)
        self.findings["reachable_via"] = "floating-ip"
        return Reachable(ip, self.ssh_port, "floating-ip")

    def _attach_floating_ip(self, server_id: str) -> str:
        external = discovery.choose_external_network(self.list_networks())
        if external is None:
            raise InfrastructureError(
                f"server {server_id} has no public address and the cloud has no external "
                "network for a floating IP",
                call="neutron.floatingips.create",
            )
        ports = self._call(
            "neutron.ports.list", lambda: list(self._conn.network.ports(device_id=server_id))
        )
        if not ports:
            raise InfrastructureError(f"server {server_id} has no port", call="neutron.ports.list")
        record = self.track_intent("floating_ip", None, server_id=server_id)
        created = self._call(
            "neutron.floatingips.create",
            lambda: self._conn.network.create_ip(
                floating_network_id=external.id,
                port_id=ports[0].id,
                description=self._tag_text(),
            ),
        )
        self.track_created(record, created.id, address=created.floating_ip_address)
        ip = created.floating_ip_address
        if not discovery.is_publicly_reachable(ip):
            raise InfrastructureError(
                f"floating IP {ip} is not reachable from here", call="neutron.floatingips.create"
            )
        self.findings["floating_network"] = external.name
        return ip

    def allow_ssh(self, remote: str = "0.0.0.0/0") -> SecurityRule:
        # One group per adapter and remote, shared by its servers: a group per server
        # would pass Neutron's default quota of 10 with a few workers.
        made = self.__dict__.setdefault("_ssh_rules", {})
        if remote in made:
            return made[remote]
        made[remote] = rule = self._allow_ssh(remote)
        return rule

    def _allow_ssh(self, remote: str) -> SecurityRule:
        name = self.resource_name("ssh")
        record = self.track_intent("security_group", name)
        group = self._call(
            "neutron.security_groups.create",
            lambda: self._conn.network.create_security_group(
                name=name, description=self._tag_text()
            ),
        )
        self.track_created(record, group.id)
        self._call(
            "neutron.security_group_rules.create",
            lambda: self._conn.network.create_security_group_rule(
                security_group_id=group.id,
                direction="ingress",
                ethertype="IPv4",
                protocol="tcp",
                port_range_min=22,
                port_range_max=22,
                remote_ip_prefix=remote,
            ),
        )
        return SecurityRule(group.id, name, 22, remote)

    # -- block storage (Cinder, through the catalog's v3 or v2 endpoint) -------------------
    def using_volume_api(self, version: str) -> OpenStackCloud:
        """A sibling adapter whose block-storage calls go to Cinder ``v<version>``.

        It shares this adapter's session (token), ledger and findings.
        """
        import copy

        import openstack.connection

        version = str(version).removeprefix("v").split(".")[0]
        if version not in ("2", "3"):
            raise ConfigurationError(f"no Cinder API v{version}")
        if version == self._volume_api:
            return self
        siblings = self.__dict__.setdefault("_volume_siblings", {})
        if version not in siblings:
            region = copy.copy(self._conn.config)
            region.config = dict(self._conn.config.config, block_storage_api_version=version)
            sibling = OpenStackCloud(
                self.name,
                openstack.connection.Connection(config=region),
                ledger=self.ledger,
                settings=self._interop,
                retry=self._retry,
            )
            sibling._volume_api = version
            sibling.findings = self.findings
            sibling._key_dir = None
            siblings[version] = sibling
        return siblings[version]

    def _cinder(self, call: str, method: str, path: str, body: Any = None) -> Any:
        """One Cinder request on the chosen API version; the answer's JSON (or None)."""
        from openstack import exceptions as os_exceptions

        def request() -> Any:
            response = self._conn.block_storage.request(
                path, method, json=body, raise_exc=False, headers={"Accept": "application/json"}
            )
            os_exceptions.raise_from_response(response)
            return response.json() if response.content else None

        try:
            return self._call(f"cinder.{call}", request)
        except os_exceptions.HttpException as exc:
            if _status_code(exc) == 413:
                raise QuotaExceeded(f"cinder.{call}: over quota: {exc.details}") from None
            raise

    @staticmethod
    def _volume(item: Mapping[str, Any]) -> Volume:
        metadata = dict(item.get("metadata") or {})
        readonly = metadata.pop("readonly", None)
        metadata.pop("attached_mode", None)
        attachments = tuple(
            VolumeAttachment(
                str(entry.get("server_id") or ""),
                entry.get("device"),
                entry.get("attachment_id"),
                item["id"],
            )
            for entry in item.get("attachments") or []
        )
        image_metadata = item.get("volume_image_metadata") or {}
        return Volume(
            id=item["id"],
            name=item.get("name"),
            status=str(item.get("status") or "").lower(),
            size_gb=int(item.get("size") or 0),
            description=item.get("description"),
            availability_zone=item.get("availability_zone"),
            bootable=str(item.get("bootable")).lower() == "true",
            read_only=None if readonly is None else str(readonly).lower() == "true",
            metadata=metadata,
            attachments=attachments,
            source_image_id=image_metadata.get("image_id"),
            source_snapshot_id=item.get("snapshot_id"),
            source_volume_id=item.get("source_volid"),
            provider_status=item.get("status"),
        )

    @staticmethod
    def _snapshot(item: Mapping[str, Any]) -> VolumeSnapshot:
        return VolumeSnapshot(
            id=item["id"],
            name=item.get("name"),
            status=str(item.get("status") or "").lower(),
            volume_id=item.get("volume_id") or "",
            size_gb=int(item.get("size") or 0),
            metadata=dict(item.get("metadata") or {}),
            provider_status=item.get("status"),
        )

    def volume_availability_zones(self) -> list[str]:
        body = self._cinder("availability_zones.list", "GET", "/os-availability-zone")
        return [
            zone["zoneName"]
            for zone in body.get("availabilityZoneInfo", [])
            if (zone.get("zoneState") or {}).get("available", True)
        ]

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
        name = name or self.resource_name("volume")
        tags = {CREATED_AT_KEY: str(int(time.time()))}
        if self.ledger is not None:
            tags[TAG_KEY] = self.ledger.run_id
        spec: dict[str, Any] = {"name": name, "metadata": {**tags, **(metadata or {})}}
        if size_gb is not None:
            spec["size"] = size_gb
        if description is not None:
            spec["description"] = description
        if availability_zone is not None:
            spec["availability_zone"] = availability_zone
        if image is not None:
            spec["imageRef"] = image.id if isinstance(image, Image) else image
        if snapshot is not None:
            spec["snapshot_id"] = snapshot.id if isinstance(snapshot, VolumeSnapshot) else snapshot
        if source_volume is not None:
            spec["source_volid"] = (
                source_volume.id if isinstance(source_volume, Volume) else source_volume
            )
        record = self.track_intent("volume", name)
        body = self._cinder("volumes.create", "POST", "/volumes", {"volume": spec})
        volume = self._volume(body["volume"])
        self.track_created(record, volume.id)
        if not wait:
            return volume
        return self.wait_for_volume(volume.id, "available", timeout=timeout)

    def wait_for_volume(
        self, volume_id: str, status: str = "available", *, timeout: float = DEFAULT_ACTION_TIMEOUT
    ) -> Volume:
        return wait_until(
            f"cinder.volumes.get({volume_id}) waiting for {status}",
            lambda: self.get_volume(volume_id),
            done=lambda v: v.status == status,
            failed=lambda v: (
                f"volume {volume_id} went to {v.status}"
                if v.status.startswith("error") and status != v.status
                else None
            ),
            timeout=timeout,
            describe=lambda v: v.status,
        )

    def get_volume(self, volume_id: str) -> Volume:
        return self._volume(self._cinder("volumes.get", "GET", f"/volumes/{volume_id}")["volume"])

    def list_volumes(self, **filters: str) -> list[Volume]:
        from urllib.parse import urlencode

        query = f"?{urlencode(filters)}" if filters else ""
        found: list[Volume] = []
        path = f"/volumes/detail{query}"
        while path:
            body = self._cinder("volumes.list", "GET", path)
            found.extend(self._volume(item) for item in body.get("volumes", []))
            path = ""
            for link in body.get("volumes_links") or []:
                if link.get("rel") == "next":
                    href = link["href"]
                    path = "/volumes/detail" + href[href.index("?") :] if "?" in href else ""
        return found

    def update_volume(
        self, volume_id: str, *, name: str | None = None, description: str | None = None
    ) -> Volume:
        change: dict[str, Any] = {}
        if name is not None:
            change["name"] = name
        if description is not None:
            change["description"] = description
        body = self._cinder("volumes.update", "PUT", f"/volumes/{volume_id}", {"volume": change})
        return self._volume(body["volume"])

    def _wait_volume_gone(self, call: str, fetch: Callable[[], Any], timeout: float) -> None:
        def gone() -> bool:
            try:
                fetch()
            except ResourceNotFound:
                return True
            return False

        wait_until(call, gone, done=bool, timeout=timeout, describe=lambda _: "present")

    def delete_volume(
        self, volume_id: str, *, wait: bool = True, timeout: float = DEFAULT_DELETE_TIMEOUT
    ) -> None:
        self._cinder("volumes.delete", "DELETE", f"/volumes/{volume_id}")
        if wait:
            self._wait_volume_gone(
                f"cinder.volumes.delete({volume_id}) waiting for the volume to go",
                lambda: self.get_volume(volume_id),
                timeout,
            )
        self.track_deleted("volume", volume_id)

    def get_volume_metadata(self, volume_id: str) -> dict[str, str]:
        body = self._cinder("volumes.metadata.get", "GET", f"/volumes/{volume_id}/metadata")
        return dict(body.get("metadata") or {})

    def set_volume_metadata(self, volume_id: str, metadata: Mapping[str, str]) -> dict[str, str]:
        body = self._cinder(
            "volumes.metadata.set",
            "POST",
            f"/volumes/{volume_id}/metadata",
            {"metadata": dict(metadata)},
        )
        return dict(body.get("metadata") or {})

    def delete_volume_metadata(self, volume_id: str, keys: Sequence[str]) -> None:
        for key in keys:
            self._cinder(
                "volumes.metadata.delete", "DELETE", f"/volumes/{volume_id}/metadata/{key}"
            )

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
        name = name or self.resource_name("snapshot")
        spec: dict[str, Any] = {"volume_id": volume_id, "name": name, "force": force}
        spec["description"] = self._tag_text()
        if metadata:
            spec["metadata"] = dict(metadata)
        record = self.track_intent("volume_snapshot", name)
        body = self._cinder("snapshots.create", "POST", "/snapshots", {"snapshot": spec})
        snapshot = self._snapshot(body["snapshot"])
        self.track_created(record, snapshot.id)
        if not wait:
            return snapshot
        return wait_until(
            f"cinder.snapshots.get({snapshot.id}) waiting for available",
            lambda: self.get_volume_snapshot(snapshot.id),
            done=lambda s: s.status == "available",
            failed=lambda s: f"snapshot went to {s.status}" if s.status == "error" else None,
            timeout=timeout,
            describe=lambda s: s.status,
        )

    def get_volume_snapshot(self, snapshot_id: str) -> VolumeSnapshot:
        body = self._cinder("snapshots.get", "GET", f"/snapshots/{snapshot_id}")
        return self._snapshot(body["snapshot"])

    def list_volume_snapshots(self) -> list[VolumeSnapshot]:
        body = self._cinder("snapshots.list", "GET", "/snapshots/detail")
        return [self._snapshot(item) for item in body.get("snapshots", [])]

    def delete_volume_snapshot(
        self, snapshot_id: str, *, wait: bool = True, timeout: float = DEFAULT_DELETE_TIMEOUT
    ) -> None:
        self._cinder("snapshots.delete", "DELETE", f"/snapshots/{snapshot_id}")
        if wait:
            self._wait_volume_gone(
                f"cinder.snapshots.delete({snapshot_id}) waiting for the snapshot to go",
                lambda: self.get_volume_snapshot(snapshot_id),
                timeout,
            )
        self.track_deleted("volume_snapshot", snapshot_id)

    def attach_volume(
        self,
        server_id: str,
        volume_id: str,
        device: str | None = None,
        *,
        wait: bool = True,
        timeout: float = DEFAULT_ACTION_TIMEOUT,
    ) -> VolumeAttachment:
        attrs: dict[str, Any] = {"volume_id": volume_id}
        if device:
            attrs["device"] = device
        created = self._call(
            "nova.volume_attachments.create",
            lambda: self._conn.compute.create_volume_attachment(server_id, **attrs),
        )
        attachment = VolumeAttachment(server_id, created.device, None, volume_id)
        if wait:
            volume = wait_until(
                f"cinder.volumes.get({volume_id}) waiting for in-use on {server_id}",
                lambda: self.get_volume(volume_id),
                done=lambda v: (
                    v.status == "in-use" and any(a.server_id == server_id for a in v.attachments)
                ),
                failed=lambda v: f"volume went to {v.status}" if "error" in v.status else None,
                timeout=timeout,
                describe=lambda v: v.status,
            )
            for seen in volume.attachments:
                if seen.server_id == server_id:
                    attachment = VolumeAttachment(
                        server_id, seen.device or attachment.device, seen.attachment_id, volume_id
                    )
        return attachment

    def detach_volume(
        self,
        server_id: str,
        volume_id: str,
        *,
        wait: bool = True,
        timeout: float = DEFAULT_ACTION_TIMEOUT,
    ) -> None:
        self._call(
            "nova.volume_attachments.delete",
            lambda: self._conn.compute.delete_volume_attachment(
                server_id, volume_id, ignore_missing=False
            ),
        )
        if wait:
            wait_until(
                f"cinder.volumes.get({volume_id}) waiting for the detach from {server_id}",
                lambda: self.get_volume(volume_id),
                done=lambda v: (
                    v.status in ("available", "in-use")
                    and all(a.server_id != server_id for a in v.attachments)
                ),
                timeout=timeout,
                describe=lambda v: v.status,
            )

    def list_server_volumes(self, server_id: str) -> list[VolumeAttachment]:
        items = self._call(
            "nova.volume_attachments.list",
            lambda: list(self._conn.compute.volume_attachments(server_id)),
        )
        return [
            VolumeAttachment(
                server_id, item.device, getattr(item, "attachment_id", None), item.volume_id
            )
            for item in items
        ]

    def _volume_action(self, call: str, volume_id: str, action: dict[str, Any]) -> Any:
        return self._cinder(call, "POST", f"/volumes/{volume_id}/action", action)

    def set_volume_read_only(self, volume_id: str, read_only: bool) -> None:
        self._volume_action(
            "volumes.update_readonly_flag",
            volume_id,
            {"os-update_readonly_flag": {"readonly": bool(read_only)}},
        )

    def reserve_volume(self, volume_id: str) -> None:
        self._volume_action("volumes.reserve", volume_id, {"os-reserve": {}})

    def unreserve_volume(self, volume_id: str) -> None:
        self._volume_action("volumes.unreserve", volume_id, {"os-unreserve": {}})

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
        image_name = image_name or self.resource_name("image")
        record = self.track_intent("image", image_name)
        body = self._volume_action(
            "volumes.upload_image",
            volume_id,
            {
                "os-volume_upload_image": {
                    "image_name": image_name,
                    "force": force,
                    "disk_format": disk_format,
                    "container_format": "bare",
                }
            },
        )
        image_id = body["os-volume_upload_image"]["image_id"]
        self.track_created(record, image_id)
        if not wait:
            return self.get_image(image_id)
        wait_until(
            f"glance.images.get({image_id}) waiting for active",
            lambda: self._call("glance.images.get", lambda: self._conn.image.get_image(image_id)),
            done=lambda item: item.status == "active",
            failed=lambda item: (
                f"image went to {item.status}" if item.status in ("killed", "deleted") else None
            ),
            timeout=timeout,
            describe=lambda item: item.status,
        )
        self.wait_for_volume(volume_id, "in-use" if force else "available", timeout=timeout)
        return self.get_image(image_id)

    def image_checksum(self, image_id: str) -> str | None:
        item = self._call("glance.images.get", lambda: self._conn.image.get_image(image_id))
        return item.checksum or item.hash_value or None

    def delete_image(self, image_id: str) -> None:
        self._call(
            "glance.images.delete",
            lambda: self._conn.image.delete_image(image_id, ignore_missing=False),
        )
        self.track_deleted("image", image_id)

    def _delete_volume_if_there(self, volume_id: str) -> bool:
        try:
            volume = self.get_volume(volume_id)
        except ResourceNotFound:
            return False
        for attachment in volume.attachments:
            if attachment.server_id:
                # the server may have gone meanwhile, and taken its attachment with it
                with contextlib.suppress(ResourceNotFound):
                    self.detach_volume(attachment.server_id, volume_id)
        if volume.status in ("creating", "attaching", "detaching", "uploading", "extending"):
            wait_until(
                f"cinder.volumes.get({volume_id}) waiting to settle before delete",
                lambda: self.get_volume(volume_id),
                done=lambda v: v.status in ("available", "error", "in-use"),
                timeout=DEFAULT_ACTION_TIMEOUT,
                describe=lambda v: v.status,
            )
        try:
            self.delete_volume(volume_id)
        except ResourceNotFound:
            return False
        return True

    def _delete_snapshot_if_there(self, snapshot_id: str) -> bool:
        try:
            self.delete_volume_snapshot(snapshot_id)
        except ResourceNotFound:
            return False
        return True

    def _delete_image_if_there(self, image_id: str) -> bool:
        try:
            self.delete_image(image_id)
        except ResourceNotFound:
            return False
        except Exception as exc:
            if _status_code(exc) != 403:
                raise
            # Protected: a test that protects an image was stopped before it unprotected it.
            self._call(
                "glance.images.update",
                lambda: self._conn.image.update_image(image_id, is_protected=False),
            )
            self.delete_image(image_id)
        return True

    def _delete_block_record(self, record: LedgerRecord) -> bool:
        """A volume, snapshot or uploaded image of a ledger record, by id or else by name."""
        resource_id = record.resource_id
        if not resource_id and record.name and record.kind != "image":
            kind = "volumes" if record.kind == "volume" else "snapshots"
            body = self._cinder(f"{kind}.list", "GET", f"/{kind}/detail")
            named = [item["id"] for item in body.get(kind, []) if item.get("name") == record.name]
            resource_id = named[0] if named else None
        if not resource_id:
            return False
        if record.kind == "volume":
            return self._delete_volume_if_there(resource_id)
        if record.kind == "volume_snapshot":
            return self._delete_snapshot_if_there(resource_id)
        return self._delete_image_if_there(resource_id)

    def _volume_leftovers(self, ours: Callable[..., bool], attempt: Callable[..., None]) -> None:
        """Snapshots (tagged in their description), then volumes (tagged in their metadata)."""
        snapshots = self._cinder("snapshots.list", "GET", "/snapshots/detail")
        for item in snapshots.get("snapshots", []):
            if ours(_parse_tag_text(item.get("description")), item.get("name"), None):
                attempt(
                    f"volume_snapshot {item.get('name')} ({item['id']})",
                    lambda i=item["id"]: self._delete_snapshot_if_there(i),
                )
        for volume in self.list_volumes():
            if ours(dict(volume.metadata), volume.name, None):
                attempt(
                    f"volume {volume.name} ({volume.id})",
                    lambda i=volume.id: self._delete_volume_if_there(i),
                )

    # -- clean-up --------------------------------------------------------------------------
    def _server_ids_named(self, name: str) -> list[str]:
        items = self._call(
            "nova.servers.list", lambda: list(self._conn.compute.servers(name=f"^{name}$"))
        )
        return [item.id for item in items if item.name == name]

    def _delete_server_if_there(self, server_id: str) -> bool:
        try:
            self._call(
                "nova.servers.delete",
                lambda: self._conn.compute.delete_server(server_id, ignore_missing=False),
            )
        except ResourceNotFound:
            return False
        self._wait_gone(server_id, DEFAULT_DELETE_TIMEOUT)
        return True

    def _delete_keypair_if_there(self, name: str) -> bool:
        try:
            self._call(
                "nova.keypairs.delete",
                lambda: self._conn.compute.delete_keypair(name, ignore_missing=False),
            )
        except ResourceNotFound:
            return False
        return True

    def _delete_floating_ip_if_there(self, ip_id: str) -> bool:
        try:
            self._call(
                "neutron.floatingips.delete",
                lambda: self._conn.network.delete_ip(ip_id, ignore_missing=False),
            )
        except ResourceNotFound:
            return False
        return True

    def _delete_security_group_if_there(self, group_id: str) -> bool:
        deadline = time.monotonic() + 120
        while True:
            try:
                self._call(
                    "neutron.security_groups.delete",
                    lambda: self._conn.network.delete_security_group(
                        group_id, ignore_missing=False
                    ),
                )
                return True
            except ResourceNotFound:
                return False
            except Exception as exc:
                # 409: ports of servers being deleted still use the group
                if _status_code(exc) != 409 or time.monotonic() > deadline:
                    raise
                time.sleep(1)

    def _floating_ips_of_run(self, run_id: str) -> list[Any]:
        items = self._call("neutron.floatingips.list", lambda: list(self._conn.network.ips()))
        return [item for item in items if _parse_tag_text(item.description).get(TAG_KEY) == run_id]

    def delete_record(self, record: LedgerRecord) -> bool:
        """Delete what one ledger record names; False when it was already gone."""
        if record.kind == "server":
            # By id, and by name too: a boot retried after a 5xx may have made two, and an
            # intent without an id (the run died before the answer) is only known by name.
            ids = self._server_ids_named(record.name) if record.name else []
            if record.resource_id and record.resource_id not in ids:
                ids.insert(0, record.resource_id)
            return any([self._delete_server_if_there(i) for i in ids])
        if record.kind == "keypair":
            return bool(record.name) and self._delete_keypair_if_there(record.name)
        if record.kind == "floating_ip":
            if record.resource_id:
                return self._delete_floating_ip_if_there(record.resource_id)
            return False  # an un-answered create: cleanup_leftovers finds it by its tag
        if record.kind == "security_group":
            group_id = record.resource_id
            if not group_id and record.name:
                groups = self._call(
                    "neutron.security_groups.list",
                    lambda: list(self._conn.network.security_groups(name=record.name)),
                )
                group_id = groups[0].id if groups else None
            return bool(group_id) and self._delete_security_group_if_there(group_id)
        if record.kind == CONTAINER_KIND:
            return bool(record.resource_id) and self._delete_container_record(record.resource_id)
        if record.kind == STACK_KIND:
            return self._delete_stack_if_there(record)
        if record.kind in ("volume", "volume_snapshot", "image"):
            return self._delete_block_record(record)
        if record.kind in DNS_KINDS:
            return self.dns.delete_ledger_record(record)
        raise InfrastructureError(f"no way to delete a {record.kind}", call="cleanup")

    # -- DNS (Designate: pytest_interop.clouds.openstack_dns) ---------------------------------
    @property
    def dns(self) -> DnsFacet:
        from pytest_interop.clouds.openstack_dns import DesignateDns

        reason = self._interop.get("dns_unavailable")
        if reason:
            raise NotApplicable(f"cloud {self.name!r} serves no DNS: {reason}")
        if getattr(self, "_dns", None) is None:
            try:
                endpoint = self._conn.dns.get_endpoint()
            except Exception:
                endpoint = None
            if not endpoint:
                raise NotApplicable(f"cloud {self.name!r} has no dns (Designate) endpoint")
            self._dns = DesignateDns(self)
        return self._dns

    def cleanup_leftovers(
        self, *, run_id: str | None = None, older_than_seconds: float | None = None
    ) -> CleanupSummary:
        """Delete what carries our tag and name prefix: one run's, or any run's older ones.

        Key pairs carry no tag; their name (``interop-<run_id>-``) is the tag. With an age
        only, a key pair goes when its ``created_at`` is known and old enough.
        """
        if run_id is None and older_than_seconds is None:
            raise ConfigurationError("cleanup needs a run id or an age; it touches nothing else")
        cutoff = time.time() - older_than_seconds if older_than_seconds is not None else None
        prefix = run_prefix(run_id) if run_id else NAME_PREFIX

        def ours(tags: Mapping[str, str], name: str | None, created: float | None) -> bool:
            if TAG_KEY not in tags or (run_id is not None and tags[TAG_KEY] != run_id):
                return False
            if name is not None and not name.startswith(prefix):
                return False
            return old_enough(tags, created if created is not None else run_started_at(name))

        def old_enough(tags: Mapping[str, str], created: float | None) -> bool:
            if cutoff is None:
                return True
            stamp = tags.get(CREATED_AT_KEY, "")
            when = float(stamp) if stamp.isdigit() else created
            return when is not None and when <= cutoff

        summary = CleanupSummary()

        def attempt(label: str, action: Callable[[], bool]) -> None:
            try:
                (summary.deleted if action() else summary.already_gone).append(label)
            except Exception as exc:
                summary.leaked.append(f"{label}: {type(exc).__name__}: {exc}")

        def listed(service: str, call: str, fn: Callable[[], list]) -> list:
            # Only the services the catalog lists: an identity-only cloud has nothing else.
            return self._call(call, fn) if self._conn.has_service(service) else []

        for item in listed(
            "network", "neutron.floatingips.list", lambda: list(self._conn.network.ips())
        ):
            tags = _parse_tag_text(item.description)
            if ours(tags, None, _epoch(item.created_at)):
                attempt(
                    f"floating_ip {item.floating_ip_address} ({item.id})",
                    lambda i=item.id: self._delete_floating_ip_if_there(i),
                )
        servers = listed(
            "compute", "nova.servers.list", lambda: list(self._conn.compute.servers(details=True))
        )
        for item in servers:
            if ours(dict(item.metadata or {}), item.name, _epoch(item.created_at)):
                attempt(
                    f"server {item.name} ({item.id})",
                    lambda i=item.id: self._delete_server_if_there(i),
                )
        for item in listed(
            "compute", "nova.keypairs.list", lambda: list(self._conn.compute.keypairs())
        ):
            if not item.name.startswith(prefix):
                continue
            if cutoff is not None:
                # Nova lists key pairs without a creation time: the run id in the name has one
                created = _epoch(getattr(item, "created_at", None)) or run_started_at(item.name)
                if created is None:
                    summary.skipped.append(
                        f"keypair {item.name}: no creation time, and no run id in its name "
                        "to age it by; remove it with --run-id RUN_ID"
                    )
                    continue
                if not old_enough({}, created):
                    continue
            attempt(f"keypair {item.name}", lambda n=item.name: self._delete_keypair_if_there(n))
        groups = listed(
            "network",
            "neutron.security_groups.list",
            lambda: list(self._conn.network.security_groups()),
        )
        for item in groups:
            tags = _parse_tag_text(item.description)
            if ours(tags, item.name, _epoch(item.created_at)):
                attempt(
                    f"security_group {item.name} ({item.id})",
                    lambda g=item.id: self._delete_security_group_if_there(g),
                )
        if self._conn.has_service("block-storage"):
            self._volume_leftovers(ours, attempt)
        if self._conn.has_service("object-store"):
            self._container_leftovers(ours, attempt)
        with contextlib.suppress(NotApplicable):  # a cloud without DNS has no zones of ours
            self.dns.leftovers(ours, attempt)
        return summary
