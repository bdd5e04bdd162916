"""The reference cloud's Designate v2, through openstacksdk's dns proxy, answered by its BIND 9.

Every resolution here is a real DNS query (dnspython) to the ``named`` the cloud started.
"""

from __future__ import annotations

import os
import time
from typing import Any

import dns.flags
import dns.message
import dns.query
import dns.rcode
import dns.rdatatype
import openstack
import pytest

from pytest_interop.reference import ReferenceCloud
from pytest_interop.reference.dns import bind, models

pytestmark = pytest.mark.skipif(
    not os.path.exists("/usr/sbin/named") and not bind.shutil.which("named"),
    reason="BIND 9 is not installed (apt-get install bind9 bind9-utils)",
)


def server_address(cloud: ReferenceCloud) -> tuple[str, int]:
    (address,) = cloud.cloud_config()["interop"]["name_servers"].values()
    host, port = address.rsplit(":", 1)
    return host, int(port)


def ask(cloud: ReferenceCloud, name: str, rdtype: str) -> dns.message.Message:
    host, port = server_address(cloud)
    return dns.query.udp(dns.message.make_query(name, rdtype), host, port=port, timeout=3)


def answer(cloud: ReferenceCloud, name: str, rdtype: str) -> list[str]:
    response = ask(cloud, name, rdtype)
    wanted = dns.rdatatype.from_text(rdtype)
    return sorted(r.to_text() for rrset in response.answer if rrset.rdtype == wanted for r in rrset)


def wait_active(conn: Any, zone: Any, recordset: Any = None) -> Any:
    deadline = time.monotonic() + 15
    while True:
        current = conn.dns.get_recordset(recordset, zone) if recordset else conn.dns.get_zone(zone)
        if current.status == "ACTIVE":
            return current
        assert current.status == "PENDING", current.status
        assert time.monotonic() < deadline, "still PENDING"
        time.sleep(0.02)


def wait_gone(fetch: Any) -> None:
    deadline = time.monotonic() + 15
    while True:
        try:
            fetch()
        except openstack.exceptions.NotFoundException:
            return
        assert time.monotonic() < deadline, "still there"
        time.sleep(0.02)


@pytest.fixture
def zone(conn: Any, request: pytest.FixtureRequest) -> Any:
    label = "".join(c if c.isalnum() else "-" for c in request.node.name.lower())[:60]
    name = f"{label.strip('-')}.example.test."
    created = conn.dns.create_zone(name=name, email="hostmaster@example.test", ttl=600)
    yield wait_active(conn, created)
    try:
        conn.dns.delete_zone(created)
    except openstack.exceptions.NotFoundException:
        return
    wait_gone(lambda: conn.dns.get_zone(created.id))


def test_catalog_lists_dns_and_named_serves_the_zone(cloud: ReferenceCloud, conn: Any) -> None:
    created = conn.dns.create_zone(name="served.example.test.", email="a@example.test")
    assert (created.status, created.action) == ("PENDING", "CREATE")
    assert conn.dns.get_endpoint().endswith("/dns/v2") or "/dns" in conn.dns.get_endpoint()
    zone = wait_active(conn, created)
    assert zone.action == "NONE"
    response = ask(cloud, "served.example.test.", "SOA")
    assert response.flags & dns.flags.AA
    (soa,) = response.answer[0]
    assert soa.serial == zone.serial
    assert soa.mname.to_text() == "ns1.reference.interop.test."
    assert answer(cloud, "served.example.test.", "NS") == ["ns1.reference.interop.test."]
    names = [n.hostname for n in conn.dns.zone_nameservers(zone)]
    assert names == ["ns1.reference.interop.test."]
    conn.dns.delete_zone(zone)
    wait_gone(lambda: conn.dns.get_zone(zone.id))
    assert ask(cloud, "served.example.test.", "SOA").rcode() == dns.rcode.REFUSED


@pytest.mark.parametrize(
    ("rdtype", "records", "served"),
    [
        ("A", ["192.0.2.10", "192.0.2.11"], ["192.0.2.10", "192.0.2.11"]),
        ("AAAA", ["2001:db8::7"], ["2001:db8::7"]),
        ("CNAME", ["target.example.org."], ["target.example.org."]),
        ("TXT", ['"v=spf1 -all"'], ['"v=spf1 -all"']),
        ("MX", ["10 mail.example.org."], ["10 mail.example.org."]),
    ],
)
def test_record_types_resolve(
    cloud: ReferenceCloud, conn: Any, zone: Any, rdtype: str, records: list, served: list
) -> None:
    name = f"rec.{zone.name}"
    recordset = conn.dns.create_recordset(zone, name=name, type=rdtype, records=records, ttl=60)
    assert (recordset.status, recordset.action) == ("PENDING", "CREATE")
    wait_active(conn, zone, recordset)
    assert answer(cloud, name, rdtype) == served
    listed = [(r.name, r.type) for r in conn.dns.recordsets(zone)]
    assert (zone.name, "SOA") in listed and (zone.name, "NS") in listed
    assert (name, rdtype) in listed


def test_an_update_named_refuses_is_served_by_adding_the_zone_again(
    cloud: ReferenceCloud, conn: Any, zone: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """named refusing (or losing) one dynamic update does not leave the API ahead of it: the
    zone is served again whole and the record set still goes ACTIVE and resolves."""
    server = cloud.state.dns.server  # this cloud's named only: other clouds may sync meanwhile
    assert server is not None
    refused: list[str] = []

    def refuse_once(zone_name: str, soa: Any, changes: Any) -> None:
        refused.append(zone_name)
        monkeypatch.undo()
        raise RuntimeError(f"named refused the update of {zone_name}: REFUSED")

    monkeypatch.setattr(server, "update", refuse_once)
    name = f"again.{zone.name}"
    recordset = conn.dns.create_recordset(zone, name=name, type="A", records=["192.0.2.77"])
    wait_active(conn, zone, recordset)
    assert refused == [zone.name]
    assert answer(cloud, name, "A") == ["192.0.2.77"]


def test_a_sync_that_keeps_failing_leaves_the_zone_and_its_record_sets_in_error(
    cloud: ReferenceCloud, conn: Any, zone: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each failed attempt is tried again whole; when every attempt fails, ERROR (not ACTIVE
    with named behind, nor PENDING for ever)."""
    server = cloud.state.dns.server
    assert server is not None
    attempts: list[str] = []

    def refuse(*args: Any) -> None:
        attempts.append(args[0])
        raise RuntimeError("named refused: REFUSED")

    monkeypatch.setattr(models, "SYNC_RETRY_DELAY", 0.01)
    monkeypatch.setattr(server, "update", refuse)
    monkeypatch.setattr(server, "add_zone", refuse)
    recordset = conn.dns.create_recordset(
        zone, name=f"lost.{zone.name}", type="A", records=["192.0.2.78"]
    )
    deadline = time.monotonic() + 15
    while conn.dns.get_recordset(recordset, zone).status == "PENDING":
        assert time.monotonic() < deadline, "still PENDING"
        time.sleep(0.02)
    assert conn.dns.get_recordset(recordset, zone).status == "ERROR"
    assert conn.dns.get_zone(zone).status == "ERROR"
    assert attempts == [zone.name] * models.SYNC_ATTEMPTS


def test_a_zone_served_again_at_once_is_served_from_its_new_file() -> None:
    """``delzone -clean`` removes the old zone file after it returns: adding the zone again
    straight away must not lose the new file to it."""
    server = bind.NamedServer()
    server.start()
    try:
        for serial in range(1, 41):
            name = f"again-{serial}.example.test."
            text = (
                f"{name} 300 IN SOA ns1.example.test. a.example.test. {serial} 1 1 1 1\n"
                f"{name} 300 IN NS ns1.example.test.\n"
            )
            server.add_zone(name, text)
            server.delete_zone(name)
            server.add_zone(name, text.replace(f" {serial} 1", f" {serial + 100} 1"))
            deadline = time.monotonic() + 5
            while server.served_serial(name) != serial + 100:
                assert time.monotonic() < deadline, f"{name} not served again"
                time.sleep(0.01)
    finally:
        server.stop()


def test_update_changes_answer_and_raises_serial(
    cloud: ReferenceCloud, conn: Any, zone: Any
) -> None:
    name = f"www.{zone.name}"
    recordset = conn.dns.create_recordset(zone, name=name, type="A", records=["192.0.2.1"])
    wait_active(conn, zone, recordset)
    before = conn.dns.get_zone(zone).serial
    updated = conn.dns.update_recordset(recordset, records=["192.0.2.2"], ttl=120)
    assert (updated.status, updated.action) == ("PENDING", "UPDATE")
    wait_active(conn, zone, recordset)
    after = wait_active(conn, zone).serial
    assert after > before
    assert answer(cloud, name, "A") == ["192.0.2.2"]
    assert ask(cloud, name, "A").answer[0].ttl == 120
    assert ask(cloud, zone.name, "SOA").answer[0][0].serial == after


def test_delete_gives_nxdomain_and_nodata(cloud: ReferenceCloud, conn: Any, zone: Any) -> None:
    name = f"gone.{zone.name}"
    a = conn.dns.create_recordset(zone, name=name, type="A", records=["192.0.2.3"])
    txt = conn.dns.create_recordset(zone, name=name, type="TXT", records=['"x"'])
    wait_active(conn, zone, txt)
    conn.dns.delete_recordset(a, zone)
    wait_gone(lambda: conn.dns.get_recordset(a, zone))
    nodata = ask(cloud, name, "A")
    assert nodata.rcode() == dns.rcode.NOERROR and not nodata.answer
    conn.dns.delete_recordset(txt, zone)
    wait_gone(lambda: conn.dns.get_recordset(txt, zone))
    assert ask(cloud, name, "TXT").rcode() == dns.rcode.NXDOMAIN


def test_zone_update_email_and_ttl_reach_the_soa(
    cloud: ReferenceCloud, conn: Any, zone: Any
) -> None:
    updated = conn.dns.update_zone(zone, email="dns@example.test", ttl=900)
    assert updated.status == "PENDING"
    current = wait_active(conn, zone)
    soa = ask(cloud, zone.name, "SOA").answer[0]
    assert soa.ttl == 900
    assert soa[0].rname.to_text() == "dns.example.test."
    assert soa[0].serial == current.serial


def test_refusals(conn: Any, zone: Any) -> None:
    with pytest.raises(openstack.exceptions.ConflictException):
        conn.dns.create_zone(name=zone.name, email="a@example.test")
    with pytest.raises(openstack.exceptions.BadRequestException):
        conn.dns.create_zone(name="no-dot.example.test", email="a@example.test")
    with pytest.raises(openstack.exceptions.BadRequestException):
        conn.dns.create_recordset(zone, name="x.elsewhere.test.", type="A", records=["192.0.2.1"])
    with pytest.raises(openstack.exceptions.BadRequestException):
        conn.dns.create_recordset(zone, name=f"x.{zone.name}", type="A", records=["not-an-ip"])
    conn.dns.create_recordset(zone, name=f"c.{zone.name}", type="CNAME", records=["t.example."])
    with pytest.raises(openstack.exceptions.BadRequestException):
        conn.dns.create_recordset(zone, name=f"c.{zone.name}", type="A", records=["192.0.2.1"])
    with pytest.raises(openstack.exceptions.ConflictException):
        conn.dns.create_recordset(zone, name=f"c.{zone.name}", type="CNAME", records=["u."])
    soa = next(r for r in conn.dns.recordsets(zone) if r.type == "SOA")
    with pytest.raises(openstack.exceptions.ForbiddenException):
        conn.dns.delete_recordset(soa, zone)


def test_projects_see_only_their_zones(conn: Any, other_conn: Any, zone: Any) -> None:
    assert zone.id in [z.id for z in conn.dns.zones()]
    assert zone.id not in [z.id for z in other_conn.dns.zones()]
    with pytest.raises(openstack.exceptions.NotFoundException):
        other_conn.dns.get_zone(zone.id)


def test_quotas_pools_and_limits(conn: Any, admin_conn: Any, other_conn: Any) -> None:
    project = other_conn.current_project_id
    assert conn.dns.get_quota(conn.current_project_id).zones == 10
    admin_conn.dns.update_quota(project, zones=1)
    try:
        first = other_conn.dns.create_zone(name="quota-one.example.test.", email="a@b.test")
        with pytest.raises(openstack.exceptions.HttpException) as refused:
            other_conn.dns.create_zone(name="quota-two.example.test.", email="a@b.test")
        assert refused.value.status_code == 413
        other_conn.dns.delete_zone(first)
        wait_gone(lambda: other_conn.dns.get_zone(first.id))
    finally:
        admin_conn.dns.delete_quota(project)
    pools = admin_conn.dns.get("/pools").json()["pools"]
    assert pools[0]["ns_records"] == [{"hostname": "ns1.reference.interop.test.", "priority": 1}]
    assert conn.dns.get("/pools").status_code == 403
    assert conn.dns.get("/limits").json()["max_zones"] == 10


def test_named_is_stopped_and_its_files_removed() -> None:
    with ReferenceCloud("default", machines=False) as reference:
        config = dict(reference.cloud_config())
        config.pop("interop")
        connection = openstack.connect(**config)
        zone = connection.dns.create_zone(name="life.example.test.", email="a@example.test")
        wait_active(connection, zone)
        server = reference.state.dns.server
        assert server is not None and server.alive()
        process, directory = server.process, server.directory
        assert directory is not None and any((directory / "zones").glob("life.example.test.*zone"))
        connection.close()
    assert process is not None and process.poll() is not None
    assert not directory.exists()


def test_without_named_dns_is_unavailable_with_the_reason(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from pytest_interop.reference.dns import models

    def missing() -> tuple[str, str]:
        raise bind.NamedUnavailable(f"BIND 9's named is not installed here; {bind.INSTALL_HINT}")

    monkeypatch.setattr(models, "find_tools", missing)
    with ReferenceCloud("default", machines=False) as reference:
        interop = reference.cloud_config()["interop"]
        assert "name_servers" not in interop
        assert interop["dns_unavailable"].startswith("BIND 9's named is not installed")
        assert "dns" not in [s.type for s in reference.state.catalog_services()]


def test_export_then_import_serves_the_same_records(cloud: ReferenceCloud, conn: Any) -> None:
    zone = wait_active(
        conn, conn.dns.create_zone(name="moving.example.test.", email="ops@example.test", ttl=900)
    )
    www = conn.dns.create_recordset(
        zone, name="www.moving.example.test.", type="A", records=["192.0.2.44"], ttl=60
    )
    mail = conn.dns.create_recordset(
        zone, name="moving.example.test.", type="MX", records=["10 mx.example.org."]
    )
    wait_active(conn, zone, www), wait_active(conn, zone, mail)
    # openstacksdk's create_zone_export cannot fill its own path (zone_id is no URI field)
    task = conn.dns.post(f"/zones/{zone.id}/tasks/export", json={}).json()
    assert task["status"] == "COMPLETE"
    assert conn.dns.get_zone_export(task["id"]).zone_id == zone.id
    text = conn.dns.get(f"/zones/tasks/exports/{task['id']}/export").text
    assert "www.moving.example.test. 60 IN A 192.0.2.44" in text
    assert "$ORIGIN moving.example.test." in text
    conn.dns.delete_zone(zone)
    wait_gone(lambda: conn.dns.get_zone(zone.id))
    assert answer(cloud, "www.moving.example.test.", "A") == []

    answered = conn.dns.post(
        "/zones/tasks/imports", data=text, headers={"Content-Type": "text/dns"}
    ).json()
    assert answered["status"] == "COMPLETE", answered["message"]
    imported = wait_active(conn, conn.dns.get_zone(answered["zone_id"]))
    assert (imported.name, imported.email, imported.ttl) == (
        "moving.example.test.",
        "ops@example.test",
        900,
    )
    for name, rdtype, served in [
        ("www.moving.example.test.", "A", ["192.0.2.44"]),
        ("moving.example.test.", "MX", ["10 mx.example.org."]),
    ]:
        deadline = time.monotonic() + 10
        while answer(cloud, name, rdtype) != served:
            assert time.monotonic() < deadline, f"{name} {rdtype} not served after the import"
            time.sleep(0.05)
    refused = conn.dns.post(
        "/zones/tasks/imports", data="not a zone", headers={"Content-Type": "text/dns"}
    ).json()
    assert refused["status"] == "ERROR" and refused["message"]
    conn.dns.delete_zone(imported)
    wait_gone(lambda: conn.dns.get_zone(imported.id))


def test_named_that_cannot_bind_its_port_is_reported() -> None:
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as taken:
        taken.bind(("127.0.0.1", 0))
        server = bind.NamedServer(port=taken.getsockname()[1])
        port = taken.getsockname()[1]
        with pytest.raises(bind.NamedUnavailable, match=f"127.0.0.1#{port}") as refused:
            server.start()
    assert "\n" not in str(refused.value) and "fail" in str(refused.value)
    assert server.process is None and server.directory is None
