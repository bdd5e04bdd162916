"""Designate's zones and recordsets, and the worker that puts them on the name server.

A change is accepted PENDING and given a new zone serial (Designate's: the time, or one more
than the last). The worker sends it to ``named`` (:mod:`.bind`) and asks ``named`` for the
zone's SOA; once the serial served is the zone's, the zone and the recordsets changed up to
that serial are ACTIVE, and deleted ones are gone, as Designate's worker does when it polls
its pool's name servers. A failed sync is tried again with the whole zone; a server that
refuses the change every time leaves the zone in ERROR.

``named`` starts on the first DNS request, from the worker's thread, which lives as long as
the model: ``named`` dies with that thread (``PR_SET_PDEATHSIG``), never with a request's.
"""

from __future__ import annotations

import logging
import re
import threading
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from pytest_interop.reference.core.wire import RequestContext, utc_now
from pytest_interop.reference.dns import exceptions
from pytest_interop.reference.dns.bind import NamedServer, NamedUnavailable, find_tools, pick_port

if TYPE_CHECKING:
    import datetime as dt

    from pytest_interop.reference.state import CloudState

LOG = logging.getLogger(__name__)

NS_HOSTNAME = "ns1.reference.interop.test."
POOL_ID = "794ccc2c-d751-44fe-b57f-8894c9f5c842"  # the id of Designate's default pool
DEFAULT_QUOTAS = {
    "zones": 10,
    "zone_recordsets": 500,
    "zone_records": 500,
    "recordset_records": 20,
    "api_export_size": 1000,
}
DEFAULT_TTL = 3600
MAX_TTL = 2147483647
SOA_TIMERS = (3600, 600, 86400, 3600)  # refresh, retry, expire, minimum
TYPES = frozenset(
    {"A", "AAAA", "CNAME", "MX", "TXT", "SRV", "NS", "PTR", "SPF", "SSHFP", "CAA", "NAPTR"}
)
SERVE_TIMEOUT = 15.0
SYNC_ATTEMPTS = 3
SYNC_RETRY_DELAY = 0.5  # seconds, times the attempt
_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
_ZONE_NAME = re.compile(rf"(?:{_LABEL}\.)+")
_RECORD_NAME = re.compile(rf"(?:\*\.)?(?:(?:{_LABEL}|_[a-z0-9-]{{1,62}})\.)+")


@dataclass
class Zone:
    id: str
    project_id: str
    name: str
    email: str
    ttl: int
    description: str | None
    serial: int
    created_at: dt.datetime
    status: str = "PENDING"
    action: str = "CREATE"
    updated_at: dt.datetime | None = None
    version: int = 1
    served: bool = False  # named has the zone (addzone done)
    dirty: set[tuple[str, str]] = field(default_factory=set)  # RRsets to send


@dataclass
class RecordSet:
    id: str
    zone_id: str
    project_id: str
    name: str
    type: str
    records: list[str]
    ttl: int | None
    description: str | None
    created_at: dt.datetime
    serial: int  # the zone serial that carries this recordset's last change
    status: str = "PENDING"
    action: str = "CREATE"
    updated_at: dt.datetime | None = None
    version: int = 1
    managed: bool = False  # SOA and apex NS: the service's, not the user's


def _absolute(text: Any, what: str, *, zone: bool = False) -> str:
    """A host name (letters, digits, hyphens; ``_`` labels and a leading ``*`` in records)."""
    if not isinstance(text, str) or not text.endswith(".") or text == ".":
        raise exceptions.invalid(f"{what} must be a fully qualified name ending in a dot")
    pattern = _ZONE_NAME if zone else _RECORD_NAME
    if len(text) > 255 or not pattern.fullmatch(text.lower()):
        raise exceptions.invalid(f"{what} {text!r} is not a valid DNS name")
    return text.lower()


def _ttl(value: Any, what: str = "ttl") -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_TTL:
        raise exceptions.invalid(f"{what} must be an integer from 0 to {MAX_TTL}")
    return value


def canonical_rdata(rdtype: str, text: str) -> str:
    """Record data as named is sent it: names made absolute; 400 when it does not parse."""
    import dns.name
    import dns.rdata
    import dns.rdataclass
    import dns.rdatatype

    if not isinstance(text, str) or not text.strip():
        raise exceptions.invalid("records must be non-empty strings")
    try:
        rdata = dns.rdata.from_text(
            dns.rdataclass.IN,
            dns.rdatatype.from_text(rdtype),
            text.strip(),
            dns.name.root,
            relativize=False,
        )
    except Exception as exc:
        raise exceptions.invalid(f"invalid {rdtype} record {text!r}: {exc}") from None
    return rdata.to_text()


def email_to_rname(email: str) -> str:
    local, _, domain = email.partition("@")
    return f"{local.replace('.', chr(92) + '.')}.{domain.rstrip('.')}."


class DnsModel:
    """Zones and recordsets of every project, and their way to the name server."""

    def __init__(self, state: CloudState) -> None:
        self.state = state
        self.zones: dict[str, Zone] = {}
        self.recordsets: dict[str, RecordSet] = {}
        self.quotas: dict[str, dict[str, int]] = {}
        self.unavailable: str | None = None
        self.server: NamedServer | None = None
        self.port = 0
        try:
            find_tools()
            self.port = pick_port("127.0.0.1")
        except NamedUnavailable as exc:
            self.unavailable = str(exc)
        self._work = threading.Condition()
        self._queue: list[str] = []
        self._worker: threading.Thread | None = None
        self._ready = threading.Event()
        self._closing = False

    # -- the name server ------------------------------------------------------------------
    @property
    def name_servers(self) -> dict[str, str]:
        """Each listed name server's hostname -> the address it answers on."""
        return {NS_HOSTNAME: f"127.0.0.1:{self.port}"} if self.port else {}

    def require_server(self) -> None:
        """Start named (on the worker's thread) if it is not running; 503 when it cannot."""
        if self.unavailable:
            raise exceptions.unavailable(self.unavailable)
        with self._work:
            if self._worker is None and not self._closing:
                self._worker = threading.Thread(target=self._run, name="reference-dns", daemon=True)
                self._worker.start()
        self._ready.wait(30)
        if self.unavailable:
            raise exceptions.unavailable(self.unavailable)
        if self.server is None:
            raise exceptions.unavailable("named did not start in 30 s")

    def _run(self) -> None:
        try:
            server = NamedServer(port=self.port)
            server.start()
        except NamedUnavailable as exc:
            self.unavailable = str(exc)
            self._ready.set()
            return
        except Exception as exc:  # whatever it is, the API must say it, not hang
            self.unavailable = f"named did not start: {type(exc).__name__}: {exc}"
            self._ready.set()
            return
        self.server = server
        self._ready.set()
        try:
            while True:
                with self._work:
                    while not self._queue and not self._closing:
                        self._work.wait()
                    if self._closing:
                        return
                    zone_id = self._queue.pop(0)
                self._sync_or_mark_error(zone_id)
        finally:
            server.stop()
            self.server = None

    def _sync_or_mark_error(self, zone_id: str) -> None:
        """Sync the zone, trying again whole after a failure (named busy, an update lost),
        as Designate's worker retries its backend; ERROR only when every attempt failed."""
        for attempt in range(1, SYNC_ATTEMPTS + 1):
            try:
                self._sync(zone_id, whole=attempt > 1)
                return
            except Exception:
                LOG.warning(
                    "reference dns: syncing zone %s failed (attempt %d of %d)",
                    zone_id,
                    attempt,
                    SYNC_ATTEMPTS,
                    exc_info=True,
                )
            if self._closing:
                break
            time.sleep(SYNC_RETRY_DELAY * attempt)
        self._mark_error(zone_id)

    def _enqueue(self, zone_id: str) -> None:
        with self._work:
            if zone_id not in self._queue:
                self._queue.append(zone_id)
                self._work.notify()

    def close(self) -> None:
        with self._work:
            self._closing = True
            self._work.notify_all()
            worker = self._worker
        if worker is not None:
            worker.join(timeout=20)

    # -- zone text ----------------------------------------------------------------------
    def soa_rdata(self, zone: Zone) -> str:
        refresh, retry, expire, minimum = SOA_TIMERS
        return (
            f"{NS_HOSTNAME} {email_to_rname(zone.email)} {zone.serial} "
            f"{refresh} {retry} {expire} {minimum}"
        )

    def rrsets_of(self, zone_id: str) -> list[RecordSet]:
        return [r for r in self.recordsets.values() if r.zone_id == zone_id]

    def _served_rrset(self, zone: Zone, key: tuple[str, str]) -> tuple[str, str, int, list[str]]:
        name, rdtype = key
        for recordset in self.rrsets_of(zone.id):
            if (recordset.name, recordset.type) == key and recordset.action != "DELETE":
                ttl = recordset.ttl if recordset.ttl is not None else zone.ttl
                return name, rdtype, ttl, [canonical_rdata(rdtype, r) for r in recordset.records]
        return name, rdtype, zone.ttl, []

    def zone_text(self, zone: Zone, *, pending: bool = True) -> str:
        """The zone as a master file: SOA, NS, then every recordset (export, addzone)."""
        lines = [f"$ORIGIN {zone.name}", f"$TTL {zone.ttl}"]
        for recordset in sorted(self.rrsets_of(zone.id), key=lambda r: (r.type != "SOA", r.name)):
            if recordset.action == "DELETE" or (not pending and recordset.status != "ACTIVE"):
                continue
            ttl = recordset.ttl if recordset.ttl is not None else zone.ttl
            for record in recordset.records:
                rdata = canonical_rdata(recordset.type, record)
                lines.append(f"{recordset.name} {ttl} IN {recordset.type} {rdata}")
        return "\n".join(lines) + "\n"

    # -- the worker's side --------------------------------------------------------------
    def _sync(self, zone_id: str, *, whole: bool = False) -> None:
        """Bring named to the zone as the API has it: the changed RRsets as one update, or,
        for a new zone or when ``whole`` (a failed attempt left named behind), the zone
        served again from its full text, as Designate's backends do when out of sync."""
        server = self.server
        assert server is not None
        with self.state.lock:
            zone = self.zones.get(zone_id)
            if zone is None:
                return
            target, name = zone.serial, zone.name
            payload: Any = None
            if zone.action == "DELETE":
                step = "delete"
            elif whole or not zone.served:
                step, payload = "add", self.zone_text(zone)
                zone.dirty.clear()
            else:
                step = "update"
                payload = (
                    (zone.ttl, self.soa_rdata(zone)),
                    [self._served_rrset(zone, key) for key in sorted(zone.dirty)],
                )
                zone.dirty.clear()
        if step == "update":
            server.update(name, *payload)
        else:
            if step == "delete" or whole:  # whole: named may hold the zone, or half of it
                server.delete_zone(name)
            if step == "add":
                server.add_zone(name, payload)
        with self.state.lock:
            if step == "add" and zone_id in self.zones:
                self.zones[zone_id].served = True
        self._await_served(zone_id, name, target, gone=step == "delete")

    def _await_served(self, zone_id: str, name: str, target: int, *, gone: bool) -> None:
        server = self.server
        assert server is not None
        deadline = time.monotonic() + SERVE_TIMEOUT
        while True:
            serial = server.served_serial(name)
            if (serial is None) if gone else (serial is not None and serial >= target):
                break
            if time.monotonic() > deadline:
                raise RuntimeError(f"named serves {name} at serial {serial}, not {target}")
            time.sleep(0.02)
        with self.state.lock:
            zone = self.zones.get(zone_id)
            if zone is None:
                return
            if gone:
                del self.zones[zone_id]
                for recordset in self.rrsets_of(zone_id):
                    del self.recordsets[recordset.id]
                return
            for recordset in self.rrsets_of(zone_id):
                if recordset.status == "PENDING" and recordset.serial <= target:
                    if recordset.action == "DELETE":
                        del self.recordsets[recordset.id]
                        continue
                    recordset.status, recordset.action = "ACTIVE", "NONE"
            if zone.serial <= target and zone.action != "DELETE":
                zone.status, zone.action = "ACTIVE", "NONE"

    def _mark_error(self, zone_id: str) -> None:
        with self.state.lock:
            zone = self.zones.get(zone_id)
            if zone is None:
                return
            zone.status = "ERROR"
            for recordset in self.rrsets_of(zone_id):
                if recordset.status == "PENDING":
                    recordset.status = "ERROR"

    # -- the API's side ---------------------------------------------------------------
    def quota(self, project_id: str) -> dict[str, int]:
        return {**DEFAULT_QUOTAS, **self.quotas.get(project_id, {})}

    def _next_serial(self, zone: Zone) -> int:
        return max(int(time.time()), zone.serial + 1)

    def _touch(self, zone: Zone, action: str = "UPDATE") -> int:
        zone.serial = self._next_serial(zone)
        zone.version += 1
        zone.updated_at = utc_now()
        zone.status = "PENDING"
        if zone.action in ("NONE", "UPDATE") or action == "DELETE":
            zone.action = action
        soa = next((r for r in self.rrsets_of(zone.id) if r.type == "SOA" and r.managed), None)
        if soa is not None:
            soa.records = [self.soa_rdata(zone)]
            soa.ttl = zone.ttl
        return zone.serial

    def visible_zone(
        self, ctx: RequestContext, zone_id: str, *, all_projects: bool = False
    ) -> Zone:
        zone = self.zones.get(zone_id)
        if zone is None or not self._may_see(ctx, zone.project_id, all_projects):
            raise exceptions.zone_not_found()
        return zone

    @staticmethod
    def _may_see(ctx: RequestContext, project_id: str, all_projects: bool) -> bool:
        return project_id == ctx.project_id or (all_projects and ctx.is_admin)

    def list_zones(self, ctx: RequestContext, *, all_projects: bool = False) -> list[Zone]:
        found = [z for z in self.zones.values() if self._may_see(ctx, z.project_id, all_projects)]
        return sorted(found, key=lambda z: (z.created_at, z.id))

    def create_zone(
        self,
        ctx: RequestContext,
        name: Any,
        email: Any,
        ttl: Any = None,
        description: Any = None,
        records: Iterable[tuple[str, str, int | None, list[str]]] = (),
    ) -> Zone:
        name = _absolute(name, "name", zone=True)
        if not isinstance(email, str) or "@" not in email.strip("@"):
            raise exceptions.invalid("email must be an e-mail address")
        ttl = _ttl(ttl) if ttl is not None else DEFAULT_TTL
        if description is not None and not isinstance(description, str):
            raise exceptions.invalid("description must be a string")
        with self.state.lock:
            if any(z.name == name for z in self.zones.values()):
                raise exceptions.duplicate("Zone")
            owned = [z for z in self.zones.values() if z.project_id == ctx.project_id]
            if len(owned) >= self.quota(ctx.project_id)["zones"]:
                raise exceptions.over_quota("zones")
            now = utc_now()
            zone = Zone(
                id=str(uuid.uuid4()),
                project_id=ctx.project_id,
                name=name,
                email=email,
                ttl=ttl,
                description=description,
                serial=int(time.time()),
                created_at=now,
            )
            self.zones[zone.id] = zone
            self._add_recordset(zone, name, "SOA", [self.soa_rdata(zone)], ttl, managed=True)
            self._add_recordset(zone, name, "NS", [NS_HOSTNAME], ttl, managed=True)
            try:
                for record_name, rdtype, record_ttl, data in records:
                    self.create_recordset(ctx, zone.id, record_name, rdtype, data, record_ttl)
            except exceptions.DesignateError:
                self._forget_zone(zone.id)
                raise
            zone.status, zone.action = "PENDING", "CREATE"
        self._enqueue(zone.id)
        return zone

    def _forget_zone(self, zone_id: str) -> None:
        self.zones.pop(zone_id, None)
        for recordset in self.rrsets_of(zone_id):
            del self.recordsets[recordset.id]

    def _add_recordset(
        self,
        zone: Zone,
        name: str,
        rdtype: str,
        records: list[str],
        ttl: int | None,
        description: str | None = None,
        *,
        managed: bool = False,
    ) -> RecordSet:
        recordset = RecordSet(
            id=str(uuid.uuid4()),
            zone_id=zone.id,
            project_id=zone.project_id,
            name=name,
            type=rdtype,
            records=list(records),
            ttl=ttl,
            description=description,
            created_at=utc_now(),
            serial=zone.serial,
            managed=managed,
        )
        self.recordsets[recordset.id] = recordset
        return recordset

    def update_zone(self, ctx: RequestContext, zone_id: str, changes: dict[str, Any]) -> Zone:
        unknown = set(changes) - {"email", "ttl", "description"}
        if unknown:
            raise exceptions.invalid(f"cannot update {', '.join(sorted(unknown))} of a zone")
        with self.state.lock:
            zone = self.visible_zone(ctx, zone_id)
            if zone.action == "DELETE":
                raise exceptions.bad_request("The zone is being deleted")
            if "email" in changes:
                email = changes["email"]
                if not isinstance(email, str) or "@" not in email.strip("@"):
                    raise exceptions.invalid("email must be an e-mail address")
                zone.email = email
            if "ttl" in changes:
                zone.ttl = _ttl(changes["ttl"]) or DEFAULT_TTL
            if "description" in changes:
                zone.description = changes["description"]
            self._touch(zone)
            # The SOA and every RRset with the zone's TTL change on the server.
            zone.dirty.update((r.name, r.type) for r in self.rrsets_of(zone.id) if r.type != "SOA")
        self._enqueue(zone.id)
        return zone

    def delete_zone(self, ctx: RequestContext, zone_id: str) -> Zone:
        with self.state.lock:
            zone = self.visible_zone(ctx, zone_id)
            self._touch(zone, "DELETE")
            zone.action = "DELETE"
        self._enqueue(zone.id)
        return zone

    # recordsets -------------------------------------------------------------------------
    def visible_recordset(self, ctx: RequestContext, zone_id: str, recordset_id: str) -> RecordSet:
        self.visible_zone(ctx, zone_id)
        recordset = self.recordsets.get(recordset_id)
        if recordset is None or recordset.zone_id != zone_id:
            raise exceptions.recordset_not_found()
        return recordset

    def create_recordset(
        self,
        ctx: RequestContext,
        zone_id: str,
        name: Any,
        rdtype: Any,
        records: Any,
        ttl: Any = None,
        description: Any = None,
    ) -> RecordSet:
        with self.state.lock:
            zone = self.visible_zone(ctx, zone_id)
            if zone.action == "DELETE":
                raise exceptions.bad_request("The zone is being deleted")
            name = _absolute(name, "name")
            if not isinstance(rdtype, str) or rdtype.upper() not in TYPES:
                raise exceptions.invalid(f"type must be one of {', '.join(sorted(TYPES))}")
            rdtype = rdtype.upper()
            if name != zone.name and not name.endswith("." + zone.name):
                raise exceptions.DesignateError(
                    "RecordSet is not contained within it's parent zone",
                    400,
                    "invalid_recordset_location",
                )
            if rdtype == "NS" and name == zone.name:
                raise exceptions.bad_request("The zone's own NS records are managed")
            self._check_records(zone, rdtype, records)
            ttl = _ttl(ttl)
            existing = [
                r for r in self.rrsets_of(zone.id) if r.name == name and r.action != "DELETE"
            ]
            if any(r.type == rdtype for r in existing):
                raise exceptions.duplicate("RecordSet")
            if existing and (rdtype == "CNAME" or any(r.type == "CNAME" for r in existing)):
                raise exceptions.invalid(
                    "CNAME recordsets may not share a name with any other records"
                )
            if rdtype == "CNAME" and name == zone.name:
                raise exceptions.invalid("CNAME recordsets may not be created at the zone apex")
            user_sets = [r for r in self.rrsets_of(zone.id) if not r.managed]
            if len(user_sets) >= self.quota(zone.project_id)["zone_recordsets"]:
                raise exceptions.over_quota("zone_recordsets")
            self._touch(zone)
            recordset = self._add_recordset(
                zone, name, rdtype, list(records), ttl, description or None
            )
            zone.dirty.add((name, rdtype))
        self._enqueue(zone.id)
        return recordset

    def _check_records(self, zone: Zone, rdtype: str, records: Any) -> None:
        if not isinstance(records, list) or not records:
            raise exceptions.invalid("records must be a non-empty list of strings")
        if len(records) > self.quota(zone.project_id)["recordset_records"]:
            raise exceptions.over_quota("recordset_records")
        if rdtype == "CNAME" and len(records) > 1:
            raise exceptions.invalid("a CNAME recordset has exactly one record")
        for record in records:
            canonical_rdata(rdtype, record)
        total = sum(len(r.records) for r in self.rrsets_of(zone.id) if not r.managed)
        if total + len(records) > self.quota(zone.project_id)["zone_records"]:
            raise exceptions.over_quota("zone_records")

    def update_recordset(
        self, ctx: RequestContext, zone_id: str, recordset_id: str, changes: dict[str, Any]
    ) -> RecordSet:
        unknown = set(changes) - {"records", "ttl", "description"}
        if unknown:
            raise exceptions.invalid(f"cannot update {', '.join(sorted(unknown))} of a recordset")
        with self.state.lock:
            zone = self.visible_zone(ctx, zone_id)
            recordset = self.visible_recordset(ctx, zone_id, recordset_id)
            if recordset.managed:
                raise exceptions.forbidden("Managed records may not be updated")
            if recordset.action == "DELETE":
                raise exceptions.bad_request("The recordset is being deleted")
            if "records" in changes:
                self._check_records(zone, recordset.type, changes["records"])
            ttl = _ttl(changes["ttl"]) if "ttl" in changes else recordset.ttl
            if "records" in changes:
                recordset.records = list(changes["records"])
            recordset.ttl = ttl
            if "description" in changes:
                recordset.description = changes["description"]
            recordset.serial = self._touch(zone)
            recordset.status, recordset.action = "PENDING", "UPDATE"
            recordset.version += 1
            recordset.updated_at = utc_now()
            zone.dirty.add((recordset.name, recordset.type))
        self._enqueue(zone.id)
        return recordset

    def delete_recordset(self, ctx: RequestContext, zone_id: str, recordset_id: str) -> RecordSet:
        with self.state.lock:
            zone = self.visible_zone(ctx, zone_id)
            recordset = self.visible_recordset(ctx, zone_id, recordset_id)
            if recordset.managed:
                raise exceptions.forbidden("Managed records may not be deleted")
            recordset.serial = self._touch(zone)
            recordset.status, recordset.action = "PENDING", "DELETE"
            recordset.updated_at = utc_now()
            zone.dirty.add((recordset.name, recordset.type))
        self._enqueue(zone.id)
        return recordset

    def live_counts(self) -> dict[str, dict[str, int]]:
        zones: dict[str, int] = {}
        for zone in self.zones.values():
            zones[zone.project_id] = zones.get(zone.project_id, 0) + 1
        # named's side: the zone files it holds (delzone -clean removes a zone's file)
        server = self.server
        served = server.zone_count() if server is not None else 0
        return {"dns_zones": zones, "dns_served_zones": {"all": served}}
