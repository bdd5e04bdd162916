"""The DNS facet of the behavioural interface: zones, record sets, and their name servers.

``cloud.dns`` gives a :class:`DnsFacet` (Designate on OpenStack, Route 53 on AWS) or raises
:class:`~pytest_interop.errors.NotApplicable` with the reason the cloud has none. Zones and
record sets go through the adapter's ledger (kinds :data:`ZONE_KIND`, :data:`RECORD_KIND`);
``resolve`` asks a zone's listed name servers with a real DNS query (dnspython).
"""

from __future__ import annotations

import socket
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pytest_interop.clouds.base import ResourceNotFound
from pytest_interop.errors import InfrastructureError

if TYPE_CHECKING:
    import dns.message

    from pytest_interop.clouds.base import Cloud
    from pytest_interop.resources import LedgerRecord

ZONE_KIND = "dns_zone"
RECORD_KIND = "dns_recordset"
DNS_KINDS = (ZONE_KIND, RECORD_KIND)
ZONE_DOMAIN = "example.test."  # RFC 6761: never delegated, so no real zone is shadowed
EMAIL = "hostmaster@example.test"
DEFAULT_WAIT = 120.0


class DnsRefused(Exception):
    """The DNS service refused a change as invalid or conflicting (HTTP 400/409)."""


@dataclass(frozen=True)
class DnsZone:
    id: str
    name: str  # absolute, with the trailing dot
    status: str  # normalised: ACTIVE, PENDING, ERROR
    serial: int | None = None
    email: str | None = None
    ttl: int | None = None
    description: str | None = None


@dataclass(frozen=True)
class DnsRecordSet:
    id: str
    zone_id: str
    name: str
    type: str
    records: tuple[str, ...]
    ttl: int | None
    status: str  # normalised: ACTIVE, PENDING, ERROR


class DnsFacet:
    """Provider-neutral DNS operations; ``wait=True`` returns once the change is live."""

    #: whether the SOA serial moves with each change (Designate: yes; Route 53: always 1)
    serials_move = True

    def __init__(self, cloud: Cloud) -> None:
        self.cloud = cloud

    def new_zone_name(self) -> str:
        """A zone name carrying the run's prefix, under :data:`ZONE_DOMAIN`."""
        return f"{self.cloud.resource_name('zone').lower()}.{ZONE_DOMAIN}"

    # zones
    def create_zone(
        self,
        name: str | None = None,
        *,
        email: str = EMAIL,
        ttl: int | None = None,
        description: str | None = None,
        wait: bool = True,
    ) -> DnsZone:
        raise NotImplementedError

    def get_zone(self, zone_id: str) -> DnsZone:
        raise NotImplementedError

    def list_zones(self) -> list[DnsZone]:
        raise NotImplementedError

    def update_zone(
        self,
        zone_id: str,
        *,
        email: str | None = None,
        ttl: int | None = None,
        description: str | None = None,
        wait: bool = True,
    ) -> DnsZone:
        raise NotImplementedError

    def delete_zone(self, zone_id: str, *, wait: bool = True) -> None:
        raise NotImplementedError

    def name_servers(self, zone_id: str) -> list[str]:
        """The host names of the name servers the cloud lists for the zone."""
        raise NotImplementedError

    def server_addresses(self, zone_id: str) -> list[tuple[str, int]]:
        """Where the listed name servers answer (address, port); NotApplicable if nowhere
        this tester can reach."""
        return [resolve_host(name) for name in self.name_servers(zone_id)]

    # record sets
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
        raise NotImplementedError

    def get_recordset(self, zone_id: str, recordset_id: str) -> DnsRecordSet:
        raise NotImplementedError

    def list_recordsets(self, zone_id: str) -> list[DnsRecordSet]:
        raise NotImplementedError

    def update_recordset(
        self,
        zone_id: str,
        recordset_id: str,
        *,
        records: Sequence[str] | None = None,
        ttl: int | None = None,
        wait: bool = True,
    ) -> DnsRecordSet:
        raise NotImplementedError

    def delete_recordset(self, zone_id: str, recordset_id: str, *, wait: bool = True) -> None:
        raise NotImplementedError

    # clean-up
    def delete_ledger_record(self, record: LedgerRecord) -> bool:
        """A zone (by id, else by name) or a record set; False when already gone."""
        try:
            if record.kind == ZONE_KIND:
                zone_id = record.resource_id
                if not zone_id and record.name:
                    named = [z.id for z in self.list_zones() if z.name == record.name]
                    zone_id = named[0] if named else None
                if not zone_id:
                    return False
                self.delete_zone(zone_id)
                return True
            if not record.resource_id:
                return False  # its zone's deletion takes it along
            zone_id, _, recordset_id = record.resource_id.partition("/")
            self.delete_recordset(zone_id, recordset_id)
            return True
        except ResourceNotFound:
            return False

    def leftovers(self, ours: Any, attempt: Any) -> None:
        raise NotImplementedError


def resolve_host(hostname: str, port: int = 53) -> tuple[str, int]:
    """A name server's address, by the system's resolver (IPv4 first)."""
    try:
        infos = socket.getaddrinfo(hostname.rstrip("."), port, type=socket.SOCK_DGRAM)
    except socket.gaierror as exc:
        raise InfrastructureError(
            f"the listed name server {hostname} has no address here: {exc}", call="dns.resolve"
        ) from None
    infos.sort(key=lambda info: info[0] != socket.AF_INET)
    return infos[0][4][0], port


def query(
    servers: Sequence[tuple[str, int]], name: str, rdtype: str, *, timeout: float = 3.0
) -> dns.message.Message:
    """Ask the first server that answers (UDP, TCP if truncated); non-recursive, as a
    resolver asks an authoritative server."""
    import dns.exception
    import dns.flags
    import dns.message
    import dns.query

    last: Exception | None = None
    for host, port in servers:
        message = dns.message.make_query(name, rdtype)
        message.flags &= ~dns.flags.RD
        try:
            response = dns.query.udp(message, host, port=port, timeout=timeout)
            if response.flags & dns.flags.TC:
                response = dns.query.tcp(message, host, port=port, timeout=timeout)
            return response
        except (dns.exception.DNSException, OSError) as exc:
            last = exc
    raise InfrastructureError(f"no listed name server answered for {name}: {last}", call="dns")


def answers(response: dns.message.Message, rdtype: str) -> list[str]:
    """The answer section's records of ``rdtype``, as text, sorted."""
    import dns.rdatatype

    wanted = dns.rdatatype.from_text(rdtype)
    return sorted(r.to_text() for rrset in response.answer if rrset.rdtype == wanted for r in rrset)


def wait_for(check: Any, what: str, timeout: float = DEFAULT_WAIT, interval: float = 0.1) -> Any:
    """Poll ``check()`` until it returns something truthy; InfrastructureError on timeout."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise InfrastructureError(f"{what}: not done after {timeout:.0f}s", call="dns.wait")
        time.sleep(interval)
