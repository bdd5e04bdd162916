"""dns-record-crud through the API: record sets of every common type are created, shown,
listed, updated and deleted, and a conflicting one is refused."""

from __future__ import annotations

import pytest

from pytest_interop.clouds.base import ResourceNotFound
from pytest_interop.clouds.dns import DnsFacet, DnsRefused, DnsZone

# type -> (record data as given, as the API and DNS give it back)
RECORDS = {
    "A": ["192.0.2.10", "192.0.2.11"],
    "AAAA": ["2001:db8::10"],
    "CNAME": ["target.example.org."],
    "TXT": ['"interop record"'],
    "MX": ["10 mail.example.org."],
}


def _name(zone: DnsZone, rdtype: str) -> str:
    return f"{rdtype.lower()}-rec.{zone.name}"


@pytest.mark.idempotent_id("7160a35f-02a6-4f71-87fe-d02a3f519eb2")
def test_create_all_recordset_types(dns_facet: DnsFacet, zone: DnsZone) -> None:
    for rdtype, records in RECORDS.items():
        created = dns_facet.create_recordset(zone.id, _name(zone, rdtype), rdtype, records, ttl=300)
        assert created.status == "ACTIVE"
        shown = dns_facet.get_recordset(zone.id, created.id)
        assert (shown.name, shown.type) == (_name(zone, rdtype), rdtype)
        assert sorted(shown.records) == sorted(records)


@pytest.mark.idempotent_id("ee3d9ff6-a17e-44f2-ad12-9f119cf68bcb")
def test_list_recordsets(dns_facet: DnsFacet, zone: DnsZone) -> None:
    created = dns_facet.create_recordset(zone.id, f"www.{zone.name}", "A", ["192.0.2.20"])
    listed = {(r.name, r.type): r for r in dns_facet.list_recordsets(zone.id)}
    assert (zone.name, "SOA") in listed and (zone.name, "NS") in listed
    assert listed[(f"www.{zone.name}", "A")].id == created.id


@pytest.mark.idempotent_id("ab032865-47f3-4a5d-aea9-2579ce414843")
def test_show_recordset(dns_facet: DnsFacet, zone: DnsZone) -> None:
    created = dns_facet.create_recordset(zone.id, f"show.{zone.name}", "TXT", ['"shown"'], ttl=120)
    shown = dns_facet.get_recordset(zone.id, created.id)
    assert (shown.id, shown.zone_id, shown.ttl, shown.records) == (
        created.id,
        zone.id,
        120,
        ('"shown"',),
    )


@pytest.mark.idempotent_id("37d90686-d849-4bba-9be6-d1af04da6851")
def test_update_recordset(dns_facet: DnsFacet, zone: DnsZone) -> None:
    created = dns_facet.create_recordset(zone.id, f"upd.{zone.name}", "A", ["192.0.2.30"], ttl=300)
    dns_facet.update_recordset(zone.id, created.id, records=["192.0.2.31", "192.0.2.32"], ttl=600)
    shown = dns_facet.get_recordset(zone.id, created.id)
    assert sorted(shown.records) == ["192.0.2.31", "192.0.2.32"]
    assert shown.ttl == 600


@pytest.mark.idempotent_id("51452dca-d4dc-4bf0-9596-c997d843e759")
def test_update_recordset_one_field(dns_facet: DnsFacet, zone: DnsZone) -> None:
    created = dns_facet.create_recordset(zone.id, f"one.{zone.name}", "A", ["192.0.2.40"], ttl=300)
    dns_facet.update_recordset(zone.id, created.id, ttl=900)
    shown = dns_facet.get_recordset(zone.id, created.id)
    assert (shown.ttl, shown.records) == (900, ("192.0.2.40",))


@pytest.mark.idempotent_id("46406ac2-3184-4737-aa67-4cbdce7e5d3b")
def test_delete_recordset(dns_facet: DnsFacet, zone: DnsZone) -> None:
    created = dns_facet.create_recordset(zone.id, f"del.{zone.name}", "A", ["192.0.2.50"])
    dns_facet.delete_recordset(zone.id, created.id)
    with pytest.raises(ResourceNotFound):
        dns_facet.get_recordset(zone.id, created.id)
    assert created.id not in {r.id for r in dns_facet.list_recordsets(zone.id)}


@pytest.mark.idempotent_id("132c155e-666e-4054-9054-7552b72339b3")
def test_duplicate_recordset_is_refused(dns_facet: DnsFacet, zone: DnsZone) -> None:
    name = f"dup.{zone.name}"
    dns_facet.create_recordset(zone.id, name, "A", ["192.0.2.60"])
    with pytest.raises(DnsRefused):
        dns_facet.create_recordset(zone.id, name, "A", ["192.0.2.61"])
    assert [r.records for r in dns_facet.list_recordsets(zone.id) if r.name == name] == [
        ("192.0.2.60",)
    ]
