"""networks-l2-CRUD: networks, subnets and ports behave as automation expects.

A tool that builds its own network relies on: what it created reads back as created and
changes as asked; filters find exactly it; a subnet hands out addresses from its pool and
never the same one twice; a network in use cannot be deleted; deleted means 404.
"""

from __future__ import annotations

import ipaddress
from typing import Any

import pytest

from pytest_interop.suite.network.neutron import NeutronResources, neutron, random_cidr, unique_name


def _get(os_conn: Any, collection: str, ident: str) -> tuple[int, dict[str, Any]]:
    answer = neutron(os_conn, "GET", f"/{collection}/{ident}")
    body = answer.json() if answer.status_code == 200 else {}
    return answer.status_code, body


def _list_ids(os_conn: Any, collection: str, query: str) -> list[str]:
    answer = neutron(os_conn, "GET", f"/{collection}?{query}")
    assert answer.status_code == 200, f"GET /{collection}?{query} answered {answer.status_code}"
    return [item["id"] for item in answer.json()[collection.replace("-", "_")]]


@pytest.mark.idempotent_id("602059b1-aef1-48c9-8560-983361f0ca4d")
def test_network_create_get_update_list_delete(
    os_conn: Any, cloud: Any, neutron_resources: NeutronResources
) -> None:
    name = unique_name(cloud, "net")
    created = neutron_resources.create("networks", name=name, admin_state_up=True)
    assert created["name"] == name
    assert created["project_id"] == os_conn.current_project_id
    assert created["shared"] is False and created["router:external"] is False
    assert created["admin_state_up"] is True

    status, shown = _get(os_conn, "networks", created["id"])
    assert status == 200 and shown["network"]["name"] == name

    renamed = unique_name(cloud, "net-renamed")
    answer = neutron(
        os_conn,
        "PUT",
        f"/networks/{created['id']}",
        json={"network": {"name": renamed, "description": "interop update"}},
    )
    assert answer.status_code == 200, f"network update answered {answer.status_code}"
    network = _get(os_conn, "networks", created["id"])[1]["network"]
    assert (network["name"], network["description"]) == (renamed, "interop update")

    assert _list_ids(os_conn, "networks", f"name={renamed}") == [created["id"]]
    assert _list_ids(os_conn, "networks", f"name={name}") == []
    assert created["id"] in _list_ids(os_conn, "networks", f"id={created['id']}")

    assert neutron_resources.delete("networks", created["id"]) == 204
    assert _get(os_conn, "networks", created["id"])[0] == 404
    assert _list_ids(os_conn, "networks", f"name={renamed}") == []
    assert neutron_resources.delete("networks", created["id"]) == 404


@pytest.mark.idempotent_id("21495278-bf70-4a48-8c2f-5d1f1c89ec13")
def test_subnet_create_get_update_list_delete(
    os_conn: Any, cloud: Any, neutron_resources: NeutronResources
) -> None:
    network = neutron_resources.create("networks", name=unique_name(cloud, "net"))
    cidr = random_cidr()
    subnet = neutron_resources.create(
        "subnets",
        name=unique_name(cloud, "subnet"),
        network_id=network["id"],
        cidr=cidr,
        ip_version=4,
    )
    block = ipaddress.ip_network(cidr)
    assert subnet["cidr"] == cidr and subnet["ip_version"] == 4
    assert subnet["network_id"] == network["id"]
    # Neutron's defaults: the first host is the gateway, the rest is the allocation pool.
    assert subnet["gateway_ip"] == str(block.network_address + 1)
    pools = subnet["allocation_pools"]
    assert pools and all(ipaddress.ip_address(p["start"]) in block for p in pools)
    assert all(ipaddress.ip_address(p["end"]) in block for p in pools)

    assert subnet["id"] in _get(os_conn, "networks", network["id"])[1]["network"]["subnets"]
    assert _list_ids(os_conn, "subnets", f"network_id={network['id']}") == [subnet["id"]]

    answer = neutron(
        os_conn,
        "PUT",
        f"/subnets/{subnet['id']}",
        json={"subnet": {"name": "interop-renamed", "dns_nameservers": ["192.0.2.53"]}},
    )
    assert answer.status_code == 200, f"subnet update answered {answer.status_code}"
    shown = _get(os_conn, "subnets", subnet["id"])[1]["subnet"]
    assert shown["name"] == "interop-renamed"
    assert shown["dns_nameservers"] == ["192.0.2.53"]

    bad = neutron(
        os_conn,
        "POST",
        "/subnets",
        json={"subnet": {"network_id": network["id"], "cidr": "10.1.2.300/24", "ip_version": 4}},
    )
    assert bad.status_code == 400, f"an invalid CIDR answered {bad.status_code}"

    assert neutron_resources.delete("subnets", subnet["id"]) == 204
    assert _get(os_conn, "subnets", subnet["id"])[0] == 404
    assert _get(os_conn, "networks", network["id"])[1]["network"]["subnets"] == []


@pytest.mark.idempotent_id("44d3c5f6-1ee8-4af9-8381-bc44d0d543c8")
def test_ports_get_distinct_addresses_from_the_subnet(
    os_conn: Any, cloud: Any, neutron_resources: NeutronResources
) -> None:
    network = neutron_resources.create("networks", name=unique_name(cloud, "net"))
    cidr = random_cidr()
    subnet = neutron_resources.create("subnets", network_id=network["id"], cidr=cidr, ip_version=4)
    block = ipaddress.ip_network(cidr)
    first = neutron_resources.create("ports", network_id=network["id"], name="interop-a")
    second = neutron_resources.create("ports", network_id=network["id"], name="interop-b")
    addresses = [port["fixed_ips"][0]["ip_address"] for port in (first, second)]
    assert all(ipaddress.ip_address(a) in block for a in addresses), addresses
    assert addresses[0] != addresses[1], "two ports got the same address"
    assert subnet["gateway_ip"] not in addresses, "a port got the gateway's address"
    assert first["fixed_ips"][0]["subnet_id"] == subnet["id"]
    assert first["mac_address"] != second["mac_address"]

    wanted = str(block.network_address + 200)
    pinned = neutron_resources.create(
        "ports", network_id=network["id"], fixed_ips=[{"ip_address": wanted}]
    )
    assert pinned["fixed_ips"][0]["ip_address"] == wanted, "the requested address was not given"
    taken = neutron_resources.create(
        "ports", expect=409, network_id=network["id"], fixed_ips=[{"ip_address": wanted}]
    )
    assert taken == {}

    answer = neutron(os_conn, "PUT", f"/ports/{first['id']}", json={"port": {"name": "renamed"}})
    assert answer.status_code == 200
    assert _get(os_conn, "ports", first["id"])[1]["port"]["name"] == "renamed"
    listed = _list_ids(os_conn, "ports", f"network_id={network['id']}")
    assert {first["id"], second["id"], pinned["id"]} <= set(listed)

    in_use = neutron(os_conn, "DELETE", f"/networks/{network['id']}")
    assert in_use.status_code == 409, f"deleting a network with ports answered {in_use.status_code}"

    for port in (first, second, pinned):
        assert neutron_resources.delete("ports", port["id"]) == 204
        assert _get(os_conn, "ports", port["id"])[0] == 404
    # The freed address can be taken again.
    again = neutron_resources.create(
        "ports", network_id=network["id"], fixed_ips=[{"ip_address": wanted}]
    )
    assert again["fixed_ips"][0]["ip_address"] == wanted
    assert neutron_resources.delete("ports", again["id"]) == 204
    assert neutron_resources.delete("networks", network["id"]) == 204
    assert _get(os_conn, "subnets", subnet["id"])[0] == 404, "a deleted network kept its subnet"
