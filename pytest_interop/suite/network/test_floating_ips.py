"""networks-l3-CRUD (advisory): floating IPs are allocated, associated, moved off and released.

Where servers boot with private addresses only (most OpenStack clouds), a floating IP is the
way in. What automation relies on: an address allocated from the external network, bound to
a server's port, makes that server reachable over SSH through it and through nothing else;
disassociated, it reaches nothing; released, it is gone. Private fixed addresses are never
connected to: that they are private is read from the API.
"""

from __future__ import annotations

import contextlib
import socket
import time
from typing import Any

import pytest

from pytest_interop.clouds.base import Reachable, ResourceNotFound
from pytest_interop.errors import NotApplicable
from pytest_interop.fixtures import BootedServer, connected_node
from pytest_interop.suite.network.neutron import (
    NeutronResources,
    neutron,
    private_only,
    random_cidr,
    server_ports,
    unique_name,
)

UNREACHABLE_WITHIN = 60.0  # seconds a disassociated address may take to stop answering


def _routed_port(
    cloud: Any, neutron_resources: NeutronResources, external: dict[str, Any]
) -> dict[str, Any]:
    """A port on a network of the test's own, routed to the external network."""
    network = neutron_resources.create("networks", name=unique_name(cloud, "net"))
    subnet = neutron_resources.create(
        "subnets", network_id=network["id"], cidr=random_cidr(), ip_version=4
    )
    router = neutron_resources.create(
        "routers",
        name=unique_name(cloud, "router"),
        external_gateway_info={"network_id": external["id"]},
    )
    os_conn = neutron_resources.os_conn
    path = f"/routers/{router['id']}"
    added = neutron(
        os_conn, "PUT", f"{path}/add_router_interface", json={"subnet_id": subnet["id"]}
    )
    assert added.status_code == 200, f"adding a router interface answered {added.status_code}"
    neutron_resources.on_teardown(
        lambda: neutron(
            os_conn, "PUT", f"{path}/remove_router_interface", json={"subnet_id": subnet["id"]}
        )
    )
    return neutron_resources.create("ports", network_id=network["id"])


def _floating_ip(os_conn: Any, ident: str) -> tuple[int, dict[str, Any]]:
    answer = neutron(os_conn, "GET", f"/floatingips/{ident}")
    return answer.status_code, answer.json()["floatingip"] if answer.status_code == 200 else {}


def _associate(os_conn: Any, ident: str, port_id: str | None) -> dict[str, Any]:
    answer = neutron(
        os_conn, "PUT", f"/floatingips/{ident}", json={"floatingip": {"port_id": port_id}}
    )
    verb = "associating" if port_id else "disassociating"
    assert answer.status_code == 200, f"{verb} a floating IP answered {answer.status_code}"
    return answer.json()["floatingip"]


@pytest.mark.idempotent_id("0d06cb55-2aea-4b00-9f45-40232aa73b2c")
def test_floating_ip_allocate_associate_disassociate_release(
    os_conn: Any,
    cloud: Any,
    neutron_resources: NeutronResources,
    external_network: dict[str, Any],
) -> None:
    port = _routed_port(cloud, neutron_resources, external_network)
    fip = neutron_resources.create("floatingips", floating_network_id=external_network["id"])
    assert fip["floating_network_id"] == external_network["id"]
    assert fip["floating_ip_address"], "an allocated floating IP has no address"
    assert fip["port_id"] is None and fip["fixed_ip_address"] is None

    bound = _associate(os_conn, fip["id"], port["id"])
    assert bound["port_id"] == port["id"]
    assert bound["fixed_ip_address"] == port["fixed_ips"][0]["ip_address"]
    assert bound["floating_ip_address"] == fip["floating_ip_address"], "the address changed"
    listed = neutron(os_conn, "GET", f"/floatingips?port_id={port['id']}").json()["floatingips"]
    assert [item["id"] for item in listed] == [fip["id"]]

    freed = _associate(os_conn, fip["id"], None)
    assert freed["port_id"] is None and freed["fixed_ip_address"] is None
    assert _floating_ip(os_conn, fip["id"])[1]["port_id"] is None
    assert neutron(os_conn, "GET", f"/floatingips?port_id={port['id']}").json()["floatingips"] == []

    assert neutron_resources.delete("floatingips", fip["id"]) == 204
    assert _floating_ip(os_conn, fip["id"])[0] == 404
    addresses = [
        item["floating_ip_address"]
        for item in neutron(os_conn, "GET", "/floatingips").json()["floatingips"]
    ]
    assert fip["floating_ip_address"] not in addresses, "a released address is still listed"


def _routed_project_network(os_conn: Any, external: dict[str, Any]) -> str:
    """The project's own network whose subnet a router connects to ``external``.

    Chosen here rather than by the adapter's discovery: a floating IP needs exactly this,
    and networks that concurrent tests create (``interop-`` names) are never it.
    """
    from pytest_interop.resources import NAME_PREFIX

    project = os_conn.current_project_id
    routers = neutron(os_conn, "GET", f"/routers?project_id={project}").json()["routers"]
    gateways = {
        router["id"]
        for router in routers
        if (router.get("external_gateway_info") or {}).get("network_id") == external["id"]
    }
    networks = neutron(os_conn, "GET", f"/networks?project_id={project}").json()["networks"]
    for network in sorted(networks, key=lambda n: n["name"]):
        if network["name"].startswith(NAME_PREFIX) or not network["subnets"]:
            continue
        ports = neutron(os_conn, "GET", f"/ports?network_id={network['id']}").json()["ports"]
        if any(port["device_id"] in gateways for port in ports):
            return str(network["id"])
    raise NotApplicable("no project network is routed to the external network")


def _tcp_answers(ip: str, port: int, timeout: float = 3.0) -> bool:
    try:
        with socket.create_connection((ip, port), timeout=timeout):
            return True
    except OSError:
        return False


def _wait_unreachable(ip: str, port: int, within: float) -> bool:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if not _tcp_answers(ip, port):
            return True
        time.sleep(0.5)
    return False


@pytest.mark.idempotent_id("aa1952a7-aa7d-436f-9a1c-e68f5d993d82")
def test_server_is_reachable_only_through_its_floating_ip(
    os_conn: Any,
    cloud: Any,
    keypair: Any,
    neutron_resources: NeutronResources,
    external_network: dict[str, Any],
    record_finding: Any,
) -> None:
    image = cloud.discover_image()
    flavor = cloud.discover_flavor(image)
    network = _routed_project_network(os_conn, external_network)
    try:
        rule = cloud.allow_ssh()
    except NotApplicable:
        rule = None
    server = cloud.create_server(
        image=image, flavor=flavor, network=network, key_name=keypair.name, security_rule=rule
    )
    try:
        fixed = list(server.addresses)
        assert fixed, "the server has no address"
        if not private_only(fixed):
            raise NotApplicable(
                "servers get a public address at boot here; a floating IP is not the way in"
            )
        record_finding("fixed_addresses_private", True)
        ports = server_ports(os_conn, server.id)
        assert ports, "the server has no port"

        fip = neutron_resources.create("floatingips", floating_network_id=external_network["id"])
        address = fip["floating_ip_address"]
        _associate(os_conn, fip["id"], ports[0]["id"])
        record_finding("reachable_via", "floating-ip")
        record_finding("floating_ip", address)

        booted = BootedServer(
            cloud, server, image, flavor, keypair, Reachable(address, cloud.ssh_port, "floating-ip")
        )
        with connected_node(booted, timeout=120) as node:
            hostname = node.run(["cat", "/etc/hostname"]).stdout.strip()
            record_finding("ssh_login_user", node.username)
        seen = {a.ip for a in cloud.get_server(server.id).addresses if a.kind == "floating"}
        assert address in seen, "the server's addresses do not show its floating IP"
        # Our server answers there: its hostname comes from the name we gave it.
        assert hostname and hostname.split(".")[0] in server.name.lower(), (
            f"{address} reached a machine called {hostname!r}, not {server.name}"
        )

        _associate(os_conn, fip["id"], None)
        assert _wait_unreachable(address, cloud.ssh_port, UNREACHABLE_WITHIN), (
            f"{address} still answers on SSH after it was disassociated"
        )
        assert neutron_resources.delete("floatingips", fip["id"]) == 204
        assert _floating_ip(os_conn, fip["id"])[0] == 404
    finally:
        with contextlib.suppress(ResourceNotFound):
            cloud.delete_server(server.id)
