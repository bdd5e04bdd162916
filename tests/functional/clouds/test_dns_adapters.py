"""The dns facet of both adapters against the embedded clouds: zones and record sets through
Designate (answered by the reference cloud's named) and Route 53 (moto), in the ledger and
found again by ``interop cleanup``."""

from __future__ import annotations

import pytest

from pytest_interop.clouds.aws import AwsCloud
from pytest_interop.clouds.base import ResourceNotFound
from pytest_interop.clouds.dns import DnsRefused, answers, query
from pytest_interop.clouds.openstack import OpenStackCloud
from pytest_interop.errors import NotApplicable
from pytest_interop.reference.aws import ReferenceAws
from pytest_interop.reference.cloud import ReferenceCloud
from pytest_interop.reference.dns import bind

from .conftest import live, openstack_spec

needs_named = pytest.mark.skipif(
    not bind.shutil.which("named", path="/usr/sbin:/usr/bin"), reason="BIND 9 is not installed"
)


@pytest.fixture(params=["default"])
def reference(request: pytest.FixtureRequest, reference_clouds) -> ReferenceCloud:
    from .conftest import reference_cloud_for

    return reference_cloud_for(reference_clouds, request.param)


@needs_named
def test_designate_zone_and_records_resolve_and_the_ledger_removes_them(
    os_cloud: OpenStackCloud, reference: ReferenceCloud
) -> None:
    facet = os_cloud.dns
    zone = facet.create_zone()
    assert zone.status == "ACTIVE" and zone.name.startswith("interop-")
    assert zone.name.endswith(".example.test.")
    created = facet.create_recordset(zone.id, f"www.{zone.name}", "A", ["192.0.2.5"], ttl=60)
    assert created.status == "ACTIVE"
    servers = facet.server_addresses(zone.id)
    assert answers(query(servers, f"www.{zone.name}", "A"), "A") == ["192.0.2.5"]
    with pytest.raises(DnsRefused):
        facet.create_recordset(zone.id, f"www.{zone.name}", "A", ["192.0.2.6"])
    assert live(reference, "dns_zones") == 1
    summary = os_cloud.cleanup_run()
    assert summary.ok and any("dns_zone" in line for line in summary.deleted)
    assert live(reference, "dns_zones") == 0
    with pytest.raises(ResourceNotFound):
        facet.get_zone(zone.id)


@needs_named
def test_designate_leftovers_are_found_by_tag_and_prefix(
    os_cloud: OpenStackCloud, reference: ReferenceCloud, run_id: str
) -> None:
    zone = os_cloud.dns.create_zone()
    os_cloud.ledger.mark_deleted("dns_zone", zone.id)  # as if the run had died: no record
    summary = os_cloud.cleanup_leftovers(run_id=run_id)
    assert any(zone.name in line for line in summary.deleted), summary
    assert live(reference, "dns_zones") == 0


def test_a_cloud_without_named_says_so_in_one_line(ledger, monkeypatch) -> None:
    from pytest_interop.reference.dns import models

    def missing() -> tuple[str, str]:
        raise bind.NamedUnavailable(f"BIND 9's named is not installed here; {bind.INSTALL_HINT}")

    monkeypatch.setattr(models, "find_tools", missing)
    with ReferenceCloud("default", machines=False) as reference:
        cloud = OpenStackCloud.from_spec(openstack_spec(reference), ledger)
        try:
            with pytest.raises(NotApplicable) as reason:
                _ = cloud.dns
            assert str(reason.value).count("\n") == 0
            assert "named is not installed" in str(reason.value)
            assert "apt-get install bind9" in str(reason.value)
            assert cloud.cleanup_leftovers(run_id="x").ok  # no DNS, nothing to sweep
        finally:
            cloud.close()


def test_route53_zones_and_records_and_the_ledger(
    aws_cloud: AwsCloud, reference_aws: ReferenceAws
) -> None:
    facet = aws_cloud.dns
    assert facet.serials_move is False
    zone = facet.create_zone(description="adapter test")
    name = f"www.{zone.name}"
    created = facet.create_recordset(zone.id, name, "TXT", ['"hello"'], ttl=60)
    assert facet.get_recordset(zone.id, created.id).records == ('"hello"',)
    facet.update_recordset(zone.id, created.id, ttl=120)
    assert facet.get_recordset(zone.id, created.id).ttl == 120
    with pytest.raises(DnsRefused):
        facet.create_recordset(zone.id, name, "TXT", ['"again"'])
    with pytest.raises(NotApplicable, match="answers no DNS queries"):
        facet.server_addresses(zone.id)
    assert "renamed" in (facet.update_zone(zone.id, description="renamed").description or "")
    assert reference_aws.counters()["hosted_zones"] == 1
    assert aws_cloud.cleanup_run().ok
    assert reference_aws.counters()["hosted_zones"] == 0


def test_route53_leftovers_are_found_by_tag_and_prefix(
    aws_cloud: AwsCloud, reference_aws: ReferenceAws, run_id: str
) -> None:
    zone = aws_cloud.dns.create_zone()
    aws_cloud.dns.create_recordset(zone.id, f"a.{zone.name}", "A", ["192.0.2.9"])
    aws_cloud.ledger.mark_deleted("dns_zone", zone.id)
    summary = aws_cloud.cleanup_leftovers(run_id=run_id)
    assert any(zone.name in line for line in summary.deleted), summary
    assert reference_aws.counters()["hosted_zones"] == 0
