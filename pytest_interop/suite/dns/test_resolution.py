"""dns-record-crud as a resolver sees it: a record set created through the API is answered
by the zone's listed name servers with the data given; an update changes the answer (and the
SOA serial, where the service moves it); a deleted one is gone (NXDOMAIN, or NODATA while the
name holds other types); and a server's address put in DNS leads to that server over SSH."""

from __future__ import annotations

import ipaddress

import dns.rcode
import pytest

from pytest_interop.clouds.dns import DnsFacet, DnsZone, answers
from pytest_interop.fixtures import BootedServer
from pytest_interop.nodes import Node

from .conftest import served
from .test_recordsets import RECORDS


def _soa_serial(response) -> int:
    return int(response.answer[0][0].serial)


@pytest.mark.idempotent_id("5923750c-a909-429c-891e-19008d4e7b3a")
def test_created_records_resolve(
    dns_facet: DnsFacet, zone: DnsZone, name_servers: list, record_finding
) -> None:
    for rdtype, records in RECORDS.items():
        name = f"{rdtype.lower()}-dns.{zone.name}"
        dns_facet.create_recordset(zone.id, name, rdtype, records, ttl=60)
        expected = sorted(records)
        response = served(
            name_servers, name, rdtype, lambda r, t=rdtype, e=expected: answers(r, t) == e
        )
        assert response.rcode() == dns.rcode.NOERROR
        assert response.answer[0].ttl == 60
    record_finding("dns_types_resolved", sorted(RECORDS))


@pytest.mark.idempotent_id("59303042-2ae7-4258-9146-15eccbafe7fc")
def test_update_changes_the_answer_and_the_serial(
    dns_facet: DnsFacet, zone: DnsZone, name_servers: list, record_finding
) -> None:
    name = f"moving.{zone.name}"
    created = dns_facet.create_recordset(zone.id, name, "A", ["192.0.2.70"], ttl=60)
    served(name_servers, name, "A", lambda r: answers(r, "A") == ["192.0.2.70"])
    before = _soa_serial(served(name_servers, zone.name, "SOA", lambda r: bool(r.answer)))
    dns_facet.update_recordset(zone.id, created.id, records=["192.0.2.71"])
    served(name_servers, name, "A", lambda r: answers(r, "A") == ["192.0.2.71"], record_finding)
    after = _soa_serial(served(name_servers, zone.name, "SOA", lambda r: bool(r.answer)))
    record_finding("dns_soa_serial_moves", after > before)
    if dns_facet.serials_move:
        assert after > before, f"the SOA serial stayed {before} after the update"
        assert after == dns_facet.get_zone(zone.id).serial


@pytest.mark.idempotent_id("aa5b5087-b207-42ba-a7ec-9ebaaf3ca7fd")
def test_deleted_records_are_gone(dns_facet: DnsFacet, zone: DnsZone, name_servers: list) -> None:
    name = f"going.{zone.name}"
    a = dns_facet.create_recordset(zone.id, name, "A", ["192.0.2.80"], ttl=60)
    txt = dns_facet.create_recordset(zone.id, name, "TXT", ['"stays a while"'], ttl=60)
    served(name_servers, name, "TXT", lambda r: bool(answers(r, "TXT")))
    dns_facet.delete_recordset(zone.id, a.id)
    served(
        name_servers,
        name,
        "A",
        lambda r: r.rcode() == dns.rcode.NOERROR and not answers(r, "A"),  # NODATA
    )
    dns_facet.delete_recordset(zone.id, txt.id)
    served(name_servers, name, "TXT", lambda r: r.rcode() == dns.rcode.NXDOMAIN)


@pytest.mark.idempotent_id("c8abf0e4-162b-45c3-a36a-44f7a1631b5b")
def test_server_address_in_dns_leads_to_the_server(
    dns_facet: DnsFacet,
    zone: DnsZone,
    name_servers: list,
    shared_server: BootedServer,
    shared_node: Node,
    record_finding,
) -> None:
    """Automation names its node: the address it reaches the server at, put in DNS, resolves
    and leads over SSH to the same server (its host key and host name)."""
    address = shared_server.reachable.ip
    rdtype = "AAAA" if ipaddress.ip_address(address).version == 6 else "A"
    name = f"node.{zone.name}"
    dns_facet.create_recordset(zone.id, name, rdtype, [address], ttl=60)
    response = served(name_servers, name, rdtype, lambda r: bool(answers(r, rdtype)))
    (resolved,) = answers(response, rdtype)
    assert ipaddress.ip_address(resolved) == ipaddress.ip_address(address)
    assert shared_node.host_key_fingerprint, "the shared node's host key is unknown"
    node = Node(
        resolved,
        shared_server.reachable.port,
        private_key_path=shared_server.keypair.private_key_path or "",
        usernames=[shared_node.username or "root"],
        host_key_fingerprints=[shared_node.host_key_fingerprint],
        timeout=120,
    )
    try:
        node.connect()
        by_name = node.run(["hostname"]).stdout.strip()
    finally:
        node.close()
    assert by_name == shared_node.run(["hostname"]).stdout.strip()
    record_finding("dns_node_name", name)
