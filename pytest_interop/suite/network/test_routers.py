"""networks-l3-router (advisory): routers with interfaces on subnets and a gateway outside.

A tool that builds a private network routes it out itself: a router's interface takes the
subnet's gateway address; a router or subnet still in use cannot be deleted; the gateway to
the external network gets an address there; removing things undoes them.
"""

from __future__ import annotations

import ipaddress
from typing import Any

import pytest

from pytest_interop.suite.network.neutron import NeutronResources, neutron, random_cidr, unique_name


def _private_subnet(
    cloud: Any, neutron_resources: NeutronResources
) -> tuple[dict[str, Any], dict[str, Any]]:
    network = neutron_resources.create("networks", name=unique_name(cloud, "net"))
    subnet = neutron_resources.create(
        "subnets", network_id=network["id"], cidr=random_cidr(), ip_version=4
    )
    return network, subnet


def _interface(os_conn: Any, router_id: str, action: str, subnet_id: str) -> Any:
    return neutron(
        os_conn,
        "PUT",
        f"/routers/{router_id}/{action}_router_interface",
        json={"subnet_id": subnet_id},
    )


@pytest.mark.idempotent_id("f4dcbf18-b2bd-44df-8dca-455d7fef6a25")
def test_router_interface_takes_the_subnet_gateway(
    os_conn: Any, cloud: Any, neutron_resources: NeutronResources
) -> None:
    network, subnet = _private_subnet(cloud, neutron_resources)
    router = neutron_resources.create("routers", name=unique_name(cloud, "router"))
    assert router["external_gateway_info"] is None
    assert router["project_id"] == os_conn.current_project_id

    added = _interface(os_conn, router["id"], "add", subnet["id"])
    assert added.status_code == 200, f"adding an interface answered {added.status_code}"
    neutron_resources.on_teardown(lambda: _interface(os_conn, router["id"], "remove", subnet["id"]))
    info = added.json()
    assert info["subnet_id"] == subnet["id"] and info["id"] == router["id"]
    port = neutron(os_conn, "GET", f"/ports/{info['port_id']}").json()["port"]
    assert port["device_id"] == router["id"]
    assert port["device_owner"].startswith("network:router_interface")
    assert port["fixed_ips"][0]["ip_address"] == subnet["gateway_ip"]
    assert port["network_id"] == network["id"]

    busy = neutron(os_conn, "DELETE", f"/routers/{router['id']}")
    assert busy.status_code == 409, f"deleting a router with an interface: {busy.status_code}"
    busy_subnet = neutron(os_conn, "DELETE", f"/subnets/{subnet['id']}")
    assert busy_subnet.status_code == 409, (
        f"deleting a subnet behind a router answered {busy_subnet.status_code}"
    )

    renamed = neutron(
        os_conn, "PUT", f"/routers/{router['id']}", json={"router": {"name": "interop-renamed"}}
    )
    assert renamed.status_code == 200
    assert neutron(os_conn, "GET", f"/routers/{router['id']}").json()["router"]["name"] == (
        "interop-renamed"
    )

    removed = _interface(os_conn, router["id"], "remove", subnet["id"])
    assert removed.status_code == 200, f"removing the interface answered {removed.status_code}"
    assert neutron(os_conn, "GET", f"/ports/{info['port_id']}").status_code == 404
    assert neutron_resources.delete("routers", router["id"]) == 204
    assert neutron(os_conn, "GET", f"/routers/{router['id']}").status_code == 404


@pytest.mark.idempotent_id("f11bbda0-b9e4-4a69-8c5c-fea448516237")
def test_router_gateway_gets_an_external_address(
    os_conn: Any,
    cloud: Any,
    neutron_resources: NeutronResources,
    external_network: dict[str, Any],
) -> None:
    router = neutron_resources.create(
        "routers",
        name=unique_name(cloud, "router"),
        external_gateway_info={"network_id": external_network["id"]},
    )
    gateway = router["external_gateway_info"]
    assert gateway and gateway["network_id"] == external_network["id"]
    external_subnets = {
        item["id"]: ipaddress.ip_network(item["cidr"])
        for item in neutron(os_conn, "GET", f"/subnets?network_id={external_network['id']}").json()[
            "subnets"
        ]
    }
    fixed = gateway.get("external_fixed_ips") or []
    if fixed:  # hidden from non-admins on some clouds (policy); checked where shown
        entry = fixed[0]
        if entry["subnet_id"] in external_subnets:
            assert ipaddress.ip_address(entry["ip_address"]) in external_subnets[entry["subnet_id"]]

    cleared = neutron(
        os_conn, "PUT", f"/routers/{router['id']}", json={"router": {"external_gateway_info": {}}}
    )
    assert cleared.status_code == 200, f"clearing the gateway answered {cleared.status_code}"
    shown = neutron(os_conn, "GET", f"/routers/{router['id']}").json()["router"]
    assert not shown["external_gateway_info"], "the gateway is still set after clearing it"
    assert neutron_resources.delete("routers", router["id"]) == 204
