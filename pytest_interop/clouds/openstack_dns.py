"""The DNS facet of the OpenStack adapter: Designate v2 through openstacksdk's ``dns`` proxy.

Designate accepts a change as PENDING and makes it ACTIVE once its name servers serve it;
``wait=True`` polls for that. A zone's description carries the run's tag, its name the run's
prefix, so ``interop cleanup`` finds both. Where the listed name servers answer is their
address in public DNS, unless the cloud's ``interop.name_servers`` settings map host names to
``address:port`` (the reference cloud does: its name server is on loopback).
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from pytest_interop.clouds.base import ResourceNotFound
from pytest_interop.clouds.dns import (
    DEFAULT_WAIT,
    EMAIL,
    RECORD_KIND,
    ZONE_KIND,
    DnsFacet,
    DnsRecordSet,
    DnsRefused,
    DnsZone,
    resolve_host,
    wait_for,
)
from pytest_interop.errors import InfrastructureError
from pytest_interop.resources import NAME_PREFIX, TAG_KEY

if TYPE_CHECKING:
    from pytest_interop.clouds.openstack import OpenStackCloud


def _zone(item: Any) -> DnsZone:
    return DnsZone(
        id=item.id,
        name=item.name,
        status=item.status or "PENDING",
        serial=item.serial,
        email=item.email,
        ttl=item.ttl,
        description=item.description,
    )


def _recordset(item: Any, zone_id: str) -> DnsRecordSet:
    return DnsRecordSet(
        id=item.id,
        zone_id=item.zone_id or zone_id,
        name=item.name,
        type=item.type,
        records=tuple(item.records or ()),
        ttl=item.ttl,
        status=item.status or "PENDING",
    )


class DesignateDns(DnsFacet):
    def __init__(self, cloud: OpenStackCloud) -> None:
        super().__init__(cloud)
        self.os = cloud
        self.proxy = cloud._conn.dns

    def _call(self, call: str, fn: Any) -> Any:
        from openstack import exceptions as os_exceptions

        try:
            return self.os._call(f"designate.{call}", fn)
        except (os_exceptions.BadRequestException, os_exceptions.ConflictException) as exc:
            raise DnsRefused(f"designate.{call}: {exc.status_code}: {exc.details}") from None

    def _wait_zone(self, zone_id: str, what: str) -> DnsZone:
        def active() -> DnsZone | None:
            zone = self.get_zone(zone_id)
            if zone.status == "ERROR":
                raise InfrastructureError(f"{what}: the zone went to ERROR", call="designate")
            return zone if zone.status == "ACTIVE" else None

        return wait_for(active, what, DEFAULT_WAIT)

    # -- zones ------------------------------------------------------------------------------
    def create_zone(
        self,
        name: str | None = None,
        *,
        email: str = EMAIL,
        ttl: int | None = None,
        description: str | None = None,
        wait: bool = True,
    ) -> DnsZone:
        name = name or self.new_zone_name()
        record = self.os.track_intent(ZONE_KIND, name)
        tag = self.os._tag_text()
        attrs: dict[str, Any] = {"name": name, "email": email}
        attrs["description"] = " ".join(filter(None, [description, tag])) or None
        if ttl is not None:
            attrs["ttl"] = ttl
        created = self._call("zones.create", lambda: self.proxy.create_zone(**attrs))
        self.os.track_created(record, created.id)
        return self._wait_zone(created.id, f"zone {name}") if wait else _zone(created)

    def get_zone(self, zone_id: str) -> DnsZone:
        return _zone(self._call("zones.get", lambda: self.proxy.get_zone(zone_id)))

    def list_zones(self) -> list[DnsZone]:
        return [_zone(z) for z in self._call("zones.list", lambda: list(self.proxy.zones()))]

    def update_zone(
        self,
        zone_id: str,
        *,
        email: str | None = None,
        ttl: int | None = None,
        description: str | None = None,
        wait: bool = True,
    ) -> DnsZone:
        changes = {"email": email, "ttl": ttl, "description": description}
        changes = {key: value for key, value in changes.items() if value is not None}
        updated = self._call("zones.update", lambda: self.proxy.update_zone(zone_id, **changes))
        return self._wait_zone(zone_id, f"zone {zone_id} update") if wait else _zone(updated)

    def delete_zone(self, zone_id: str, *, wait: bool = True) -> None:
        self._call("zones.delete", lambda: self.proxy.delete_zone(zone_id, ignore_missing=False))
        if wait:
            self._wait_gone(lambda: self.get_zone(zone_id), f"zone {zone_id} deletion")
        self.os.track_deleted(ZONE_KIND, zone_id)

    @staticmethod
    def _wait_gone(fetch: Any, what: str) -> None:
        def gone() -> bool:
            try:
                fetch()
            except ResourceNotFound:
                return True
            return False

        wait_for(gone, what, DEFAULT_WAIT)

    def name_servers(self, zone_id: str) -> list[str]:
        items = self._call("zones.nameservers", lambda: list(self.proxy.zone_nameservers(zone_id)))
        return [item.hostname for item in sorted(items, key=lambda i: i.priority or 0)]

    def server_addresses(self, zone_id: str) -> list[tuple[str, int]]:
        mapped = self.os._interop.get("name_servers") or {}
        found = []
        for hostname in self.name_servers(zone_id):
            if hostname in mapped:
                host, _, port = str(mapped[hostname]).rpartition(":")
                found.append((host, int(port)))
            else:
                found.append(resolve_host(hostname))
        return found

    # -- record sets -----------------------------------------------------------------------
    def _wait_recordset(self, zone_id: str, recordset_id: str, what: str) -> DnsRecordSet:
        def active() -> DnsRecordSet | None:
            current = self.get_recordset(zone_id, recordset_id)
            if current.status == "ERROR":
                raise InfrastructureError(f"{what}: the record set went to ERROR", call="designate")
            return current if current.status == "ACTIVE" else None

        return wait_for(active, what, DEFAULT_WAIT)

    def create_recordset(
        self,
        zone_id: str,
        name: str,
        rdtype: str,
        records: Sequence[str],
        *,
        ttl: int | None = None,
        wait: bool = True,
    ) -> DnsRecordSet:
        record = self.os.track_intent(RECORD_KIND, f"{name} {rdtype}", zone_id=zone_id)
        attrs: dict[str, Any] = {"name": name, "type": rdtype, "records": list(records)}
        if ttl is not None:
            attrs["ttl"] = ttl
        created = self._call(
            "recordsets.create", lambda: self.proxy.create_recordset(zone_id, **attrs)
        )
        self.os.track_created(record, f"{zone_id}/{created.id}")
        if wait:
            return self._wait_recordset(zone_id, created.id, f"record set {name} {rdtype}")
        return _recordset(created, zone_id)

    def get_recordset(self, zone_id: str, recordset_id: str) -> DnsRecordSet:
        item = self._call("recordsets.get", lambda: self.proxy.get_recordset(recordset_id, zone_id))
        return _recordset(item, zone_id)

    def list_recordsets(self, zone_id: str) -> list[DnsRecordSet]:
        items = self._call("recordsets.list", lambda: list(self.proxy.recordsets(zone_id)))
        return [_recordset(item, zone_id) for item in items]

    def update_recordset(
        self,
        zone_id: str,
        recordset_id: str,
        *,
        records: Sequence[str] | None = None,
        ttl: int | None = None,
        wait: bool = True,
    ) -> DnsRecordSet:
        current = self._call(
            "recordsets.get", lambda: self.proxy.get_recordset(recordset_id, zone_id)
        )
        changes: dict[str, Any] = {}
        if records is not None:
            changes["records"] = list(records)
        if ttl is not None:
            changes["ttl"] = ttl
        updated = self._call(
            "recordsets.update", lambda: self.proxy.update_recordset(current, **changes)
        )
        if wait:
            return self._wait_recordset(zone_id, recordset_id, f"record set {recordset_id}")
        return _recordset(updated, zone_id)

    def delete_recordset(self, zone_id: str, recordset_id: str, *, wait: bool = True) -> None:
        self._call(
            "recordsets.delete",
            lambda: self.proxy.delete_recordset(recordset_id, zone_id, ignore_missing=False),
        )
        if wait:
            self._wait_gone(
                lambda: self.get_recordset(zone_id, recordset_id), f"record set {recordset_id}"
            )
        self.os.track_deleted(RECORD_KIND, f"{zone_id}/{recordset_id}")

    # -- clean-up ---------------------------------------------------------------------------
    def leftovers(self, ours: Any, attempt: Any) -> None:
        from pytest_interop.clouds.openstack import _parse_tag_text

        for zone in self.list_zones():
            tags = _parse_tag_text(zone.description)
            # Designate lower-cases names: the run prefix is checked here, not by ``ours``
            if zone.name.startswith(NAME_PREFIX) and TAG_KEY in tags and ours(tags, None, None):
                attempt(
                    f"{ZONE_KIND} {zone.name} ({zone.id})",
                    lambda z=zone.id: self._delete_if_there(z),
                )

    def _delete_if_there(self, zone_id: str) -> bool:
        with contextlib.suppress(ResourceNotFound):
            self.delete_zone(zone_id)
            return True
        return False
