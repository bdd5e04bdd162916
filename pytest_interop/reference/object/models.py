"""Swift's state and rules: per-project accounts, containers, objects, ACLs, quotas, versions.

Everything here is testable without HTTP: callers are :class:`Caller` values, answers are the
stored objects or a :mod:`~pytest_interop.reference.object.exceptions` error. Metadata keys are
kept lower-case without their ``X-<Kind>-Meta-`` prefix (``temp-url-key``, ``quota-bytes``).
"""

from __future__ import annotations

import hashlib
import threading
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from pytest_interop.reference.object import exceptions

if TYPE_CHECKING:
    from pytest_interop.reference.state import CloudState

ACCOUNT_PREFIX = "AUTH_"
MAX_FILE_SIZE = 64 * 1024 * 1024  # /info says so; in memory, so smaller than Swift's 5 GiB
MAX_NAME_LENGTH = 256
MAX_OBJECT_NAME_LENGTH = 1024
LISTING_LIMIT = 10000
MAX_META_COUNT = 90
QUOTA_KEYS = ("quota-bytes", "quota-count")
ACCOUNT_QUOTA_KEY = "quota-bytes"
VERSION_MODES = ("stack", "history")  # X-Versions-Location, X-History-Location


@dataclass(frozen=True)
class Caller:
    """Who makes a request: a token's project and user, or nobody (a temp URL, anonymous)."""

    project_id: str = ""
    project_name: str = ""
    user_id: str = ""
    user_name: str = ""
    reseller_admin: bool = False  # the cloud's admin role: every account, and account quotas

    @property
    def anonymous(self) -> bool:
        return not self.project_id


@dataclass
class StoredObject:
    data: bytes
    content_type: str
    timestamp: float
    metadata: dict[str, str] = field(default_factory=dict)
    # A large object's manifest: ("dlo", "container/prefix") or ("slo", [segments]).
    manifest: tuple[str, object] | None = None
    delete_at: float | None = None  # X-Delete-At: gone from then on (Swift's expirer)

    @property
    def etag(self) -> str:
        return hashlib.md5(self.data, usedforsecurity=False).hexdigest()

    @property
    def size(self) -> int:
        return len(self.data)

    def clone(self, timestamp: float) -> StoredObject:
        return StoredObject(
            self.data, self.content_type, timestamp, dict(self.metadata), self.manifest
        )


@dataclass
class Container:
    name: str
    created: float
    metadata: dict[str, str] = field(default_factory=dict)
    read_acl: str = ""
    write_acl: str = ""
    versions_location: str = ""
    versions_mode: str = ""  # "stack" | "history" while versions_location is set
    objects: dict[str, StoredObject] = field(default_factory=dict)

    @property
    def object_count(self) -> int:
        return len(self.objects)

    @property
    def bytes_used(self) -> int:
        return sum(obj.size for obj in self.objects.values())


@dataclass
class Account:
    project_id: str
    created: float
    metadata: dict[str, str] = field(default_factory=dict)
    containers: dict[str, Container] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return f"{ACCOUNT_PREFIX}{self.project_id}"

    @property
    def object_count(self) -> int:
        return sum(c.object_count for c in self.containers.values())

    @property
    def bytes_used(self) -> int:
        return sum(c.bytes_used for c in self.containers.values())


def acl_allows(acl: str, caller: Caller, *, listing: bool = False) -> bool:
    """Does a container ACL (``X-Container-Read``/``-Write``) admit ``caller``?

    Entries as Swift's keystoneauth reads them: ``<project>:<user>`` by id or name, ``*``
    for any; ``.r:*`` admits anyone to objects, and with ``.rlistings`` to the listing too.
    """
    entries = [entry.strip() for entry in acl.split(",") if entry.strip()]
    referrer = any(entry in (".r:*", ".referrer:*") for entry in entries)
    if referrer and (not listing or ".rlistings" in entries):
        return True
    if caller.anonymous:
        return False
    for entry in entries:
        if entry.startswith(".") or ":" not in entry:
            continue
        project, _, user = entry.partition(":")
        if project in ("*", caller.project_id, caller.project_name) and user in (
            "*",
            caller.user_id,
            caller.user_name,
        ):
            return True
    return False


def version_name(name: str, timestamp: float) -> str:
    """The archive name Swift gives an old version: length prefix, name, timestamp."""
    return f"{len(name):03x}{name}/{timestamp:016.5f}"


def parse_quota(value: str, what: str) -> int:
    try:
        quota = int(value)
    except ValueError:
        raise exceptions.bad_request(f"Invalid {what}: {value!r} is not an integer.") from None
    if quota < 0:
        raise exceptions.bad_request(f"Invalid {what}: {value!r} is negative.")
    return quota


class ObjectModel:
    def __init__(self, state: CloudState) -> None:
        self.state = state
        self.accounts: dict[str, Account] = {}
        self._clock_lock = threading.Lock()
        self._last_timestamp = 0.0

    # -- plumbing ------------------------------------------------------------------------
    def now(self) -> float:
        """A strictly increasing timestamp, so versions of one object never collide."""
        with self._clock_lock:
            moment = max(time.time(), self._last_timestamp + 0.00001)
            self._last_timestamp = moment
            return moment

    def project_of(self, account_name: str) -> str:
        if not account_name.startswith(ACCOUNT_PREFIX):
            raise exceptions.not_found()
        return account_name[len(ACCOUNT_PREFIX) :]

    def _owner(self, caller: Caller, account: str) -> bool:
        return caller.reseller_admin or (
            not caller.anonymous and caller.project_id == self.project_of(account)
        )

    def _account(self, account: str, *, create: bool) -> Account:
        """The account of a project; made on its owner's first request (account_autocreate)."""
        project_id = self.project_of(account)
        found = self.accounts.get(project_id)
        if found is not None:
            return found
        if not create or project_id not in self.state.identity.projects:
            raise exceptions.not_found()
        found = self.accounts[project_id] = Account(project_id, self.now())
        return found

    def _deny(self, caller: Caller) -> exceptions.SwiftError:
        return exceptions.unauthorized() if caller.anonymous else exceptions.forbidden()

    def _require_owner(self, caller: Caller, account: str) -> Account:
        if not self._owner(caller, account):
            raise self._deny(caller)
        return self._account(account, create=True)

    def _container(self, acct: Account, name: str) -> Container:
        found = acct.containers.get(name)
        if found is None:
            raise exceptions.not_found()
        return found

    def _readable(
        self, caller: Caller, account: str, container: str, *, listing: bool
    ) -> Container:
        if self._owner(caller, account):
            return self._container(self._account(account, create=True), container)
        acct = self.accounts.get(self.project_of(account))
        found = acct.containers.get(container) if acct is not None else None
        if found is None or not acl_allows(found.read_acl, caller, listing=listing):
            raise self._deny(caller)
        return found

    def _writable(self, caller: Caller, account: str, container: str) -> tuple[Account, Container]:
        if self._owner(caller, account):
            acct = self._account(account, create=True)
            return acct, self._container(acct, container)
        acct = self.accounts.get(self.project_of(account))
        found = acct.containers.get(container) if acct is not None else None
        if acct is None or found is None or not acl_allows(found.write_acl, caller):
            raise self._deny(caller)
        return acct, found

    # -- accounts ------------------------------------------------------------------------
    def get_account(self, caller: Caller, account: str) -> Account:
        with self.state.lock:
            return self._require_owner(caller, account)

    def update_account(self, caller: Caller, account: str, updates: dict[str, str | None]) -> None:
        """Set (value) or remove (None or "") account metadata; quotas are the admin's."""
        with self.state.lock:
            acct = self._require_owner(caller, account)
            if ACCOUNT_QUOTA_KEY in updates:
                if not caller.reseller_admin:
                    raise exceptions.forbidden("Only a reseller admin may set account quotas.")
                value = updates[ACCOUNT_QUOTA_KEY]
                if value:
                    parse_quota(value, "X-Account-Meta-Quota-Bytes")
            _apply(acct.metadata, updates)

    # -- containers ----------------------------------------------------------------------
    def put_container(
        self, caller: Caller, account: str, name: str, settings: ContainerSettings
    ) -> bool:
        """Create (True) or update (False) a container."""
        if not name or "/" in name or len(name) > MAX_NAME_LENGTH:
            raise exceptions.bad_request(f"Invalid container name {name!r}.")
        with self.state.lock:
            acct = self._require_owner(caller, account)
            found = acct.containers.get(name)
            created = found is None
            if found is None:
                found = Container(name, self.now())
            settings.apply(found)
            acct.containers[name] = found
            return created

    def get_container(
        self, caller: Caller, account: str, name: str, *, listing: bool = True
    ) -> Container:
        with self.state.lock:
            return self._readable(caller, account, name, listing=listing)

    def update_container(
        self, caller: Caller, account: str, name: str, settings: ContainerSettings
    ) -> None:
        with self.state.lock:
            acct = self._require_owner(caller, account)
            settings.apply(self._container(acct, name))

    def delete_container(self, caller: Caller, account: str, name: str) -> None:
        with self.state.lock:
            acct = self._require_owner(caller, account)
            found = self._container(acct, name)
            if found.objects:
                raise exceptions.conflict(
                    "There was a conflict when trying to complete your request."
                )
            del acct.containers[name]

    # -- objects -------------------------------------------------------------------------
    def get_object(
        self, caller: Caller | None, account: str, container: str, name: str
    ) -> StoredObject:
        """``caller`` None: a request already authorised by a temp URL."""
        with self.state.lock:
            if caller is None:
                acct = self.accounts.get(self.project_of(account))
                found = acct.containers.get(container) if acct is not None else None
                if found is None:
                    raise exceptions.not_found()
            else:
                found = self._readable(caller, account, container, listing=False)
            obj = found.objects.get(name)
            if obj is not None and obj.delete_at is not None and obj.delete_at <= time.time():
                del found.objects[name]  # expired: reads find it gone, as Swift's do
                obj = None
            if obj is None:
                raise exceptions.not_found()
            return obj

    def set_expiry(
        self, caller: Caller, account: str, container: str, name: str, delete_at: float | None
    ) -> None:
        with self.state.lock:
            _, found = self._writable(caller, account, container)
            obj = found.objects.get(name)
            if obj is None:
                raise exceptions.not_found()
            obj.delete_at = delete_at

    def put_object(
        self,
        caller: Caller | None,
        account: str,
        container: str,
        name: str,
        obj: StoredObject,
    ) -> StoredObject:
        """Store ``obj`` (quotas checked, the old version archived where versioning is on)."""
        if not name or len(name) > MAX_OBJECT_NAME_LENGTH:
            raise exceptions.bad_request("Invalid object name.")
        if obj.size > MAX_FILE_SIZE:
            raise exceptions.too_large("Your request is too large.")
        with self.state.lock:
            acct, found = self._target(caller, account, container)
            self._check_quotas(acct, found, obj.size)
            obj.timestamp = self.now()
            self._archive(acct, found, name)
            found.objects[name] = obj
            return obj

    def copy_object(
        self,
        caller: Caller,
        source: tuple[str, str, str],
        destination: tuple[str, str, str],
        metadata: dict[str, str] | None = None,
        content_type: str | None = None,
    ) -> StoredObject:
        """Copy (account, container, object) to another; fresh metadata replaces or merges."""
        with self.state.lock:
            original = self.get_object(caller, *source)
            copied = original.clone(0.0)
            copied.metadata.update(metadata or {})
            if content_type:
                copied.content_type = content_type
            return self.put_object(caller, *destination, copied)

    def update_object(
        self, caller: Caller, account: str, container: str, name: str, metadata: dict[str, str]
    ) -> None:
        """POST: the given metadata replaces the object's metadata (Swift's fast-POST)."""
        with self.state.lock:
            _, found = self._writable(caller, account, container)
            obj = found.objects.get(name)
            if obj is None:
                raise exceptions.not_found()
            obj.metadata = dict(metadata)

    def delete_object(self, caller: Caller, account: str, container: str, name: str) -> None:
        with self.state.lock:
            acct, found = self._writable(caller, account, container)
            if found.versions_location and found.versions_mode == "stack":
                if self._restore_previous(acct, found, name):
                    return
            elif found.versions_location and name in found.objects:
                self._archive(acct, found, name)
            if found.objects.pop(name, None) is None:
                raise exceptions.not_found()

    # -- rules -----------------------------------------------------------------------------
    def _target(
        self, caller: Caller | None, account: str, container: str
    ) -> tuple[Account, Container]:
        if caller is None:  # temp URL: the signature authorised the write
            acct = self.accounts.get(self.project_of(account))
            found = acct.containers.get(container) if acct is not None else None
            if acct is None or found is None:
                raise exceptions.not_found()
            return acct, found
        return self._writable(caller, account, container)

    @staticmethod
    def _check_quotas(acct: Account, found: Container, size: int) -> None:
        quota_bytes = found.metadata.get("quota-bytes")
        if quota_bytes and found.bytes_used + size > int(quota_bytes):
            raise exceptions.too_large()
        quota_count = found.metadata.get("quota-count")
        if quota_count and found.object_count + 1 > int(quota_count):
            raise exceptions.too_large()
        account_quota = acct.metadata.get(ACCOUNT_QUOTA_KEY)
        if account_quota and acct.bytes_used + size > int(account_quota):
            raise exceptions.too_large()

    def _archive_container(self, acct: Account, found: Container) -> Container:
        archive = acct.containers.get(found.versions_location)
        if archive is None:
            raise exceptions.precondition_failed(
                f"The versions container {found.versions_location!r} does not exist."
            )
        return archive

    def _archive(self, acct: Account, found: Container, name: str) -> None:
        """Keep the current version of ``name`` in the versions container, if any."""
        current = found.objects.get(name)
        if current is None or not found.versions_location:
            return
        archive = self._archive_container(acct, found)
        archive.objects[version_name(name, current.timestamp)] = current.clone(current.timestamp)

    def _restore_previous(self, acct: Account, found: Container, name: str) -> bool:
        """Stack mode DELETE: the newest archived version becomes current again."""
        archive = self._archive_container(acct, found)
        prefix = f"{len(name):03x}{name}/"
        versions = sorted(key for key in archive.objects if key.startswith(prefix))
        if not versions:
            return False
        found.objects[name] = archive.objects.pop(versions[-1])
        return True

    # -- temporary URLs ----------------------------------------------------------------------
    def temp_url_keys(self, account: str, container: str) -> list[str]:
        """The account's and the container's Temp-URL keys (either may sign)."""
        with self.state.lock:
            acct = self.accounts.get(self.project_of(account))
            if acct is None:
                return []
            keys = [acct.metadata.get("temp-url-key"), acct.metadata.get("temp-url-key-2")]
            found = acct.containers.get(container)
            if found is not None:
                keys += [found.metadata.get("temp-url-key"), found.metadata.get("temp-url-key-2")]
            return [key for key in keys if key]

    def live_counts(self) -> dict[str, dict[str, int]]:
        with self.state.lock:
            return {
                "containers": {p: len(a.containers) for p, a in self.accounts.items()},
                "objects": {p: a.object_count for p, a in self.accounts.items()},
            }


@dataclass
class ContainerSettings:
    """What a container PUT or POST asks to change, read from its headers."""

    metadata: dict[str, str | None] = field(default_factory=dict)
    read_acl: str | None = None
    write_acl: str | None = None
    versions: tuple[str, str] | None = None  # (mode, location); ("", "") removes

    def validate(self) -> None:
        for key in QUOTA_KEYS:
            value = self.metadata.get(key)
            if value:
                parse_quota(value, f"X-Container-Meta-{key.title()}")

    def apply(self, container: Container) -> None:
        self.validate()
        merged = dict(container.metadata)
        _apply(merged, self.metadata)
        if len(merged) > MAX_META_COUNT:
            raise exceptions.bad_request("Too many metadata items.")
        container.metadata = merged
        if self.read_acl is not None:
            container.read_acl = self.read_acl
        if self.write_acl is not None:
            container.write_acl = self.write_acl
        if self.versions is not None:
            container.versions_mode, container.versions_location = self.versions
            if not container.versions_location:
                container.versions_mode = ""


def _apply(metadata: dict[str, str], updates: dict[str, str | None]) -> None:
    for key, value in updates.items():
        if value:
            metadata[key] = value
        else:
            metadata.pop(key, None)
