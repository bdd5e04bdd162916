"""dns-zone-crud: a zone is created, shown, listed, updated and deleted, and while it lives the
name servers the cloud lists serve it with authority (its NS and SOA)."""

from __future__ import annotations

import dns.flags
import pytest

from pytest_interop.clouds.base import ResourceNotFound
from pytest_interop.clouds.dns import DnsFacet, DnsZone, answers

from .conftest import served


@pytest.mark.idempotent_id("7c3f7a14-ef3d-48c5-90ed-f73fe9a303ae")
def test_create_and_delete_zone(dns_facet: DnsFacet) -> None:
    zone = dns_facet.create_zone()
    try:
        assert zone.status == "ACTIVE"
        assert zone.id in {z.id for z in dns_facet.list_zones()}
    finally:
        dns_facet.delete_zone(zone.id)
    with pytest.raises(ResourceNotFound):
        dns_facet.get_zone(zone.id)
    assert zone.id not in {z.id for z in dns_facet.list_zones()}


@pytest.mark.idempotent_id("a055e5a4-0e6b-4b9d-af04-b9f57b89a241")
def test_show_zone(dns_facet: DnsFacet, zone: DnsZone) -> None:
    shown = dns_facet.get_zone(zone.id)
    assert (shown.id, shown.name, shown.status) == (zone.id, zone.name, "ACTIVE")
    assert "pytest-interop DNS tests" in (shown.description or "")


@pytest.mark.idempotent_id("042abb84-aac2-4d43-ac19-552e4803440c")
def test_list_zones(dns_facet: DnsFacet, zone: DnsZone) -> None:
    other = dns_facet.create_zone()
    try:
        listed = {z.id: z.name for z in dns_facet.list_zones()}
        assert listed.get(zone.id) == zone.name
        assert listed.get(other.id) == other.name
    finally:
        dns_facet.delete_zone(other.id)


@pytest.mark.idempotent_id("e53a29df-25dd-49f2-bcd2-35ff0d68ad2e")
def test_update_zone(dns_facet: DnsFacet, zone: DnsZone) -> None:
    dns_facet.update_zone(zone.id, description="updated by pytest-interop")
    shown = dns_facet.get_zone(zone.id)
    assert "updated by pytest-interop" in (shown.description or "")
    assert shown.status == "ACTIVE" and shown.name == zone.name


@pytest.mark.idempotent_id("df7ceb28-2b14-4629-8cba-81ba2d618bab")
def test_zone_served_by_the_listed_name_servers(
    dns_facet: DnsFacet, zone: DnsZone, name_servers: list, record_finding
) -> None:
    """Every listed name server answers for the zone with authority: NS names the listed
    servers, and the SOA carries the serial the API shows."""
    listed = sorted(dns_facet.name_servers(zone.id))
    record_finding("dns_name_servers", listed)
    for server in name_servers:
        ns = served([server], zone.name, "NS", lambda r: bool(answers(r, "NS")))
        assert ns.flags & dns.flags.AA, f"{server} answers NS for {zone.name} without authority"
        assert answers(ns, "NS") == listed
        soa = served([server], zone.name, "SOA", lambda r: bool(answers(r, "SOA")))
        assert soa.flags & dns.flags.AA
        (record,) = soa.answer[0]
        assert record.mname.to_text() in listed
        if dns_facet.serials_move:
            assert record.serial == dns_facet.get_zone(zone.id).serial
