"""The object-storage facet of the OpenStack adapter: Swift over the session of openstacksdk.

Swift's behaviours (ACL headers, quotas, versions locations, ranges, another account's URL)
are headers and paths more than SDK resources, so requests go through the object-store
proxy's authenticated session (``Proxy.request``), with the adapter's retries. Another
tenant (``interop.peer_auth``) and the reseller admin (``interop.admin_auth``) come from the
cloud's ``interop`` settings, as tempest's alt and admin credentials did.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import secrets
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any
from urllib.parse import quote, urlparse

from pytest_interop.clouds.base import (
    AccessDenied,
    Container,
    ContainerNotEmpty,
    QuotaExceeded,
    ResourceNotFound,
    StoredObject,
    TemporaryUrl,
)
from pytest_interop.errors import NotApplicable
from pytest_interop.redaction import Secret, secret_values
from pytest_interop.resources import CREATED_AT_KEY, NAME_PREFIX, TAG_KEY

CONTAINER_KIND = "container"
LISTING_PAGE = 1000
VERSIONS_SUFFIX = "-versions"
_META = "x-container-meta-"
_OBJECT_META = "x-object-meta-"
_RUN_TAGS = (TAG_KEY, CREATED_AT_KEY)  # container metadata of ours, not the user's


def _meta(headers: Mapping[str, str], prefix: str) -> dict[str, str]:
    return {
        name.lower()[len(prefix) :]: value
        for name, value in headers.items()
        if name.lower().startswith(prefix)
    }


def _int(value: str | None) -> int | None:
    return int(value) if value not in (None, "") else None


def version_prefix(name: str) -> str:
    """Where Swift's versioned_writes keeps an object's old versions in the archive."""
    return f"{len(name):03x}{name}/"


class SwiftFacet:
    """Mixin for :class:`~pytest_interop.clouds.openstack.OpenStackCloud` (uses its
    ``_conn``, ``_call``, ``_intend``, ``_created``, ``_forget``, ``_interop``, ``_secrets``)."""

    _conn: Any
    _interop: dict[str, Any]
    _secrets: list[str]
    _peer: Any = None
    _admin_conn: Any = None
    _swift_info: dict[str, Any] | None = None

    # -- plumbing ------------------------------------------------------------------------
    def _swift_endpoint(self) -> str:
        try:
            endpoint = self._conn.object_store.get_endpoint()
        except Exception as exc:  # no object-store entry in the catalog
            raise NotApplicable(
                f"cloud {self.name!r} has no object-store endpoint: {exc}"
            ) from None
        if not endpoint:
            raise NotApplicable(f"cloud {self.name!r} has no object-store endpoint")
        return endpoint.rstrip("/")

    def _account_url(self, account: str | None) -> str:
        endpoint = self._swift_endpoint()
        if account is None:
            return endpoint
        return f"{endpoint.rsplit('/', 1)[0]}/{account}"

    def _swift(
        self,
        call: str,
        method: str,
        path: str = "",
        *,
        account: str | None = None,
        headers: Mapping[str, str] | None = None,
        data: bytes | None = None,
        params: Mapping[str, Any] | None = None,
        connection: Any = None,
        url: str | None = None,
    ) -> Any:
        """One Swift request; 4xx answers become the interface's exceptions."""
        from openstack import exceptions as os_exceptions

        url = self._account_url(account) + (f"/{path}" if path else "") if url is None else url
        proxy = (connection or self._conn).object_store

        def send() -> Any:
            response = proxy.request(
                url,
                method,
                headers=dict(headers or {}),
                data=data,
                params=dict(params or {}),
                raise_exc=False,
            )
            if response.status_code >= 400:
                os_exceptions.raise_from_response(response)
            return response

        try:
            return self._call(f"swift.{call}", send)
        except os_exceptions.HttpException as exc:
            status = int(exc.status_code or 0)
            if status in (401, 403):
                raise AccessDenied(f"swift.{call}: refused with {status}") from None
            if status == 413:
                raise QuotaExceeded(f"swift.{call}: refused with 413 (quota)") from None
            if status == 409 and call == "containers.delete":
                raise ContainerNotEmpty(f"swift.{call}: the container is not empty") from None
            raise

    @staticmethod
    def _path(container: str, name: str | None = None) -> str:
        path = quote(container, safe="")
        return f"{path}/{quote(name)}" if name is not None else path

    def _listing(self, call: str, path: str, account: str | None, **params: Any) -> list[dict]:
        wanted = params.pop("limit", None)
        entries: list[dict] = []
        marker = params.pop("marker", None)
        while True:
            page_limit = (
                LISTING_PAGE if wanted is None else min(LISTING_PAGE, wanted - len(entries))
            )
            query = {k: v for k, v in params.items() if v is not None}
            query.update(format="json", limit=page_limit)
            if marker:
                query["marker"] = marker
            response = self._swift(call, "GET", path, account=account, params=query)
            page = response.json() if response.status_code == 200 and response.content else []
            entries.extend(page)
            if len(page) < page_limit or (wanted is not None and len(entries) >= wanted):
                return entries
            marker = page[-1].get("name") or page[-1].get("subdir")

    # -- discovery and accounts ------------------------------------------------------------
    def object_store_info(self) -> dict[str, Any]:
        if self._swift_info is None:
            base = self._swift_endpoint()
            parsed = urlparse(base)
            # /v1/AUTH_x -> /info, wherever the service is mounted (as swiftclient does)
            mount = parsed.path.split("/v1", 1)[0]
            url = f"{parsed.scheme}://{parsed.netloc}{mount}/info"
            self._swift_info = dict(self._swift("info", "GET", url=url).json())
        return dict(self._swift_info)

    def object_account(self) -> str:
        return self._swift_endpoint().rsplit("/", 1)[1]

    # -- containers ------------------------------------------------------------------------
    @staticmethod
    def _container(name: str, headers: Mapping[str, str]) -> Container:
        metadata = _meta(headers, _META)
        return Container(
            name=name,
            object_count=_int(headers.get("X-Container-Object-Count")),
            bytes_used=_int(headers.get("X-Container-Bytes-Used")),
            metadata={k: v for k, v in metadata.items() if k not in _RUN_TAGS},
        )

    def create_container(
        self, name: str | None = None, *, metadata: Mapping[str, str] | None = None
    ) -> Container:
        name = name or self.resource_name(CONTAINER_KIND)
        headers = {f"X-Container-Meta-{key}": value for key, value in (metadata or {}).items()}
        ledger = getattr(self, "ledger", None)
        if ledger is not None:  # what cleanup_leftovers recognises a crashed run's containers by
            headers[f"X-Container-Meta-{TAG_KEY}"] = ledger.run_id
            headers[f"X-Container-Meta-{CREATED_AT_KEY}"] = str(int(time.time()))
        record = self.track_intent(CONTAINER_KIND, name)
        self._swift("containers.create", "PUT", self._path(name), headers=headers)
        self.track_created(record, name)
        return self.get_container(name)

    def list_containers(
        self, *, prefix: str | None = None, limit: int | None = None, marker: str | None = None
    ) -> list[Container]:
        entries = self._listing(
            "containers.list", "", None, prefix=prefix, limit=limit, marker=marker
        )
        return [
            Container(entry["name"], int(entry.get("count", 0)), int(entry.get("bytes", 0)))
            for entry in entries
        ]

    def get_container(self, name: str) -> Container:
        response = self._swift("containers.head", "HEAD", self._path(name))
        return self._container(name, response.headers)

    def set_container_metadata(self, name: str, metadata: Mapping[str, str]) -> dict[str, str]:
        headers = {f"X-Container-Meta-{key}": value for key, value in metadata.items()}
        self._swift("containers.update", "POST", self._path(name), headers=headers)
        return dict(self.get_container(name).metadata)

    def delete_container_metadata(self, name: str, keys: Sequence[str]) -> None:
        headers = {f"X-Remove-Container-Meta-{key}": "x" for key in keys}
        self._swift("containers.update", "POST", self._path(name), headers=headers)

    def delete_container(self, name: str, *, purge: bool = False) -> None:
        if purge:
            # Stop versioning first: deleting would otherwise restore or archive versions.
            self._swift(
                "containers.update",
                "POST",
                self._path(name),
                headers={"X-Remove-Versions-Location": "x", "X-Remove-History-Location": "x"},
            )
            for entry in self._listing("objects.list", self._path(name), None):
                with contextlib.suppress(ResourceNotFound):
                    self.delete_object(name, entry["name"])
        self._swift("containers.delete", "DELETE", self._path(name))
        self.track_deleted(CONTAINER_KIND, name)

    # -- objects ---------------------------------------------------------------------------
    @staticmethod
    def _object(name: str, headers: Mapping[str, str]) -> StoredObject:
        return StoredObject(
            name=name,
            size=int(headers.get("Content-Length") or 0),
            etag=(headers.get("ETag") or "").strip('"') or None,
            content_type=headers.get("Content-Type"),
            metadata=_meta(headers, _OBJECT_META),
        )

    def list_objects(
        self,
        container: str,
        *,
        prefix: str | None = None,
        limit: int | None = None,
        marker: str | None = None,
        account: str | None = None,
    ) -> list[StoredObject]:
        entries = self._listing(
            "objects.list",
            self._path(container),
            account,
            prefix=prefix,
            limit=limit,
            marker=marker,
        )
        return [
            StoredObject(
                entry["name"],
                int(entry.get("bytes", 0)),
                entry.get("hash"),
                entry.get("content_type"),
            )
            for entry in entries
            if "name" in entry
        ]

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
        headers = {f"X-Object-Meta-{key}": value for key, value in (metadata or {}).items()}
        headers["Content-Type"] = content_type or "application/octet-stream"
        response = self._swift(
            "objects.create",
            "PUT",
            self._path(container, name),
            account=account,
            headers=headers,
            data=data,
        )
        etag = (response.headers.get("ETag") or "").strip('"') or None
        return StoredObject(name, len(data), etag, headers["Content-Type"], dict(metadata or {}))

    def get_object(
        self,
        container: str,
        name: str,
        *,
        byte_range: tuple[int, int] | None = None,
        account: str | None = None,
    ) -> bytes:
        headers = {"Range": f"bytes={byte_range[0]}-{byte_range[1]}"} if byte_range else {}
        response = self._swift(
            "objects.get", "GET", self._path(container, name), account=account, headers=headers
        )
        return bytes(response.content)

    def head_object(self, container: str, name: str) -> StoredObject:
        response = self._swift("objects.head", "HEAD", self._path(container, name))
        return self._object(name, response.headers)

    def copy_object(
        self, container: str, name: str, to_container: str, to_name: str
    ) -> StoredObject:
        self._swift(
            "objects.copy",
            "PUT",
            self._path(to_container, to_name),
            headers={"X-Copy-From": f"/{self._path(container, name)}", "Content-Length": "0"},
            data=b"",
        )
        return self.head_object(to_container, to_name)

    def delete_object(self, container: str, name: str, *, account: str | None = None) -> None:
        self._swift("objects.delete", "DELETE", self._path(container, name), account=account)

    # -- versions --------------------------------------------------------------------------
    def enable_versioning(self, container: str) -> None:
        """An archive container, named in the container's ``X-Versions-Location``."""
        archive = f"{container}{VERSIONS_SUFFIX}"
        self.create_container(archive)
        self._swift(
            "containers.update",
            "POST",
            self._path(container),
            headers={"X-Versions-Location": quote(archive, safe="")},
        )

    def object_versions(self, container: str, name: str) -> list[bytes]:
        headers = self._swift("containers.head", "HEAD", self._path(container)).headers
        archive = headers.get("X-Versions-Location") or headers.get("X-History-Location")
        if not archive:
            return []
        entries = self._listing(
            "objects.list", self._path(archive), None, prefix=version_prefix(name)
        )
        names = sorted((entry["name"] for entry in entries), reverse=True)
        return [self.get_object(archive, version) for version in names]

    # -- temporary URLs ----------------------------------------------------------------------
    def _temp_url_key(self) -> str:
        """The account's Temp-URL key; set once when the account has none.

        Every worker of a run derives the same key (from the run id and the credentials),
        so concurrent first uses do not overwrite each other's key.
        """
        headers = self._swift("account.head", "HEAD").headers
        key = headers.get("X-Account-Meta-Temp-Url-Key")
        if key:
            return key
        ledger = getattr(self, "ledger", None)
        if ledger is not None:
            # Secret: masked in a traceback's locals, as the passwords it is made from
            material = Secret(
                "\0".join([ledger.run_id, self.object_account(), *sorted(self._secrets)])
            )
            key = hashlib.sha256(material.encode()).hexdigest()
        else:
            key = secrets.token_hex(32)
        self._swift("account.update", "POST", headers={"X-Account-Meta-Temp-Url-Key": key})
        stored = self._swift("account.head", "HEAD").headers.get("X-Account-Meta-Temp-Url-Key")
        return stored or key

    def _temp_url_digest(self) -> tuple[str, Any]:
        try:
            allowed = self.object_store_info().get("tempurl", {}).get("allowed_digests") or []
        except Exception:  # no /info: sha1 is what every Swift accepts
            allowed = []
        if "sha256" in allowed:
            return "sha256", hashlib.sha256
        return "sha1", hashlib.sha1

    def temporary_url(
        self, container: str, name: str, *, method: str = "GET", seconds: int = 60
    ) -> TemporaryUrl:
        key = self._temp_url_key()
        _, digest = self._temp_url_digest()
        endpoint = urlparse(self._swift_endpoint())
        expires = int(time.time() + seconds)
        # Swift checks the signature against the decoded path; the URL carries it quoted.
        signed_path = f"{endpoint.path}/{container}/{name}"
        body = f"{method.upper()}\n{expires}\n{signed_path}"
        signature = hmac.new(key.encode(), body.encode(), digest).hexdigest()
        url = (
            f"{endpoint.scheme}://{endpoint.netloc}{endpoint.path}/{self._path(container, name)}"
            f"?temp_url_sig={signature}&temp_url_expires={expires}"
        )
        return TemporaryUrl(url, method.upper(), float(expires))

    # -- other tenants: sharing and quotas -------------------------------------------------
    def _connect_as(self, auth: Mapping[str, Any]) -> Any:
        import openstack.connection

        config = self._conn.config
        self._secrets.extend(sorted(secret_values(dict(auth))))
        return openstack.connection.Connection(
            auth=dict(auth),
            region_name=config.get_region_name(),
            identity_api_version="3",
            interface=config.config.get("interface") or "public",
        )

    def peer(self) -> Any:
        if self._peer is None:
            auth = self._interop.get("peer_auth")
            if not auth:
                raise NotApplicable(
                    f"cloud {self.name!r} configures no second project (interop.peer_auth)"
                )
            connection = self._connect_as(auth)
            # The peer's own account quota is set by the same admin.
            settings = {"admin_auth": self._interop.get("admin_auth")}
            self._peer = type(self)(f"{self.name}/peer", connection, ledger=None, settings=settings)
        return self._peer

    def grant_container_read(self, container: str, grantee: Any) -> None:
        project_id = grantee.native.current_project_id
        self._swift(
            "containers.update",
            "POST",
            self._path(container),
            headers={"X-Container-Read": f"{project_id}:*"},
        )

    def set_container_quota(
        self, container: str, *, max_bytes: int | None = None, max_objects: int | None = None
    ) -> None:
        headers = {}
        if max_bytes is not None:
            headers["X-Container-Meta-Quota-Bytes"] = str(max_bytes)
        if max_objects is not None:
            headers["X-Container-Meta-Quota-Count"] = str(max_objects)
        self._swift("containers.update", "POST", self._path(container), headers=headers)

    def require_account_quotas(self) -> None:
        """Swift has them (the account_quotas middleware); whether they work is the test's."""

    def set_account_quota(self, max_bytes: int | None) -> None:
        """Set by the reseller admin on this account (Swift's account_quotas middleware)."""
        if self._admin_conn is None:
            auth = self._interop.get("admin_auth")
            if not auth:
                raise NotApplicable(
                    "Swift account quotas are set by a reseller admin; cloud "
                    f"{self.name!r} configures none (interop.admin_auth)"
                )
            self._admin_conn = self._connect_as(auth)
        headers = (
            {"X-Account-Meta-Quota-Bytes": str(max_bytes)}
            if max_bytes is not None
            else {"X-Remove-Account-Meta-Quota-Bytes": "x"}
        )
        self._swift(
            "account.quota",
            "POST",
            account=self.object_account(),
            headers=headers,
            connection=self._admin_conn,
        )

    # -- clean-up ----------------------------------------------------------------------------
    def _container_leftovers(
        self,
        ours: Callable[[Mapping[str, str], str | None, float | None], bool],
        attempt: Callable[[str, Callable[[], bool]], None],
    ) -> None:
        """Containers of crashed runs (their run tag says so), for cleanup_leftovers."""
        try:
            names = [c.name for c in self.list_containers(prefix=NAME_PREFIX)]
        except NotApplicable:
            return
        for name in names:
            try:
                headers = self._swift("containers.head", "HEAD", self._path(name)).headers
            except ResourceNotFound:
                continue
            tags = _meta(headers, _META)
            created = float(headers.get("X-Timestamp") or 0) or None
            if ours(tags, name, created):
                attempt(f"container {name}", lambda n=name: self._delete_container_record(n))

    def close(self) -> None:
        try:
            for other in (self._peer, self._admin_conn):
                if other is not None:
                    other.close()
            self._peer = self._admin_conn = None
        finally:
            super().close()  # type: ignore[misc]
