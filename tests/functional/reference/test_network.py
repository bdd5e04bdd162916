"""Neutron through openstacksdk on the floating-ip profile: networks, subnets, ports, routers,
floating IPs, security groups, subnet pools, extensions, errors."""

from __future__ import annotations

from collections.abc import Iterator

import openstack.exceptions as os_exc
import pytest

from pytest_interop.reference import ReferenceCloud
from tests.functional.reference.conftest import FAST, connect, wait_status


@pytest.fixture(scope="module")
def cloud() -> Iterator[ReferenceCloud]:
    with ReferenceCloud("floating-ip", **FAST) as reference:
        yield reference


def test_profile_networks(conn):
    networks = {net.name: net for net in conn.network.networks()}
    assert networks["public"].is_router_external and not networks["public"].is_shared
    private = networks["private"]
    assert private.project_id == conn.current_project_id
    (subnet,) = [conn.network.get_subnet(sid) for sid in private.subnet_ids]
    assert subnet.cidr == "10.0.0.0/24"
    routers = list(conn.network.routers())
    assert routers[0].external_gateway_info["network_id"] == networks["public"].id


def test_server_needs_a_floating_ip_to_be_reached(conn):
    private = conn.network.find_network("private")
    public = conn.network.find_network("public")
    image = conn.image.find_image("Ubuntu-22.04")
    assert image.os_admin_user is None and image.os_distro == "ubuntu"
    server = conn.compute.create_server(
        name="fip",
        image_id=image.id,
        flavor_id=conn.compute.find_flavor("small").id,
        networks=[{"uuid": private.id}],
    )
    server = wait_status(conn, server, "ACTIVE")
    (fixed,) = server.addresses["private"]
    assert fixed["addr"].startswith("10.0.0.") and fixed["OS-EXT-IPS:type"] == "fixed"
    (port,) = conn.network.ports(device_id=server.id)
    fip = conn.network.create_ip(floating_network_id=public.id)
    assert fip.floating_ip_address.startswith("127.") and fip.status == "DOWN"
    fip = conn.network.update_ip(fip, port_id=port.id)
    assert fip.fixed_ip_address == fixed["addr"] and fip.router_id
    addresses = conn.compute.get_server(server).addresses["private"]
    assert {"floating", "fixed"} == {entry["OS-EXT-IPS:type"] for entry in addresses}
    fip = conn.network.update_ip(fip, port_id=None)
    assert fip.port_id is None
    assert len(conn.compute.get_server(server).addresses["private"]) == 1
    conn.network.delete_ip(fip)
    with pytest.raises(os_exc.NotFoundException):
        conn.network.get_ip(fip.id)
    conn.compute.delete_server(server)


def test_floating_ip_needs_an_external_network_and_a_router(conn):
    private = conn.network.find_network("private")
    with pytest.raises(os_exc.BadRequestException):
        conn.network.create_ip(floating_network_id=private.id)
    isolated = conn.network.create_network(name="isolated")
    subnet = conn.network.create_subnet(network_id=isolated.id, cidr="10.9.0.0/24", ip_version=4)
    port = conn.network.create_port(network_id=isolated.id)
    assert port.fixed_ips[0]["ip_address"].startswith("10.9.0.")
    fip = conn.network.create_ip(floating_network_id=conn.network.find_network("public").id)
    with pytest.raises(os_exc.NotFoundException) as raised:
        conn.network.update_ip(fip, port_id=port.id)
    assert "not reachable" in str(raised.value)
    router = conn.network.create_router(
        name="r2", external_gateway_info={"network_id": conn.network.find_network("public").id}
    )
    conn.network.add_interface_to_router(router, subnet=subnet.id)
    conn.network.update_ip(fip, port_id=port.id)
    with pytest.raises(os_exc.ConflictException):
        conn.network.remove_interface_from_router(router, subnet=subnet.id)
    conn.network.delete_ip(fip)
    with pytest.raises(os_exc.ConflictException):
        conn.network.delete_router(router)
    conn.network.remove_interface_from_router(router, subnet=subnet.id)
    conn.network.delete_router(router)
    with pytest.raises(os_exc.ConflictException):
        conn.network.delete_network(isolated)
    conn.network.delete_port(port)
    conn.network.delete_network(isolated)
    with pytest.raises(os_exc.NotFoundException):
        conn.network.get_subnet(subnet.id)


def test_security_groups_and_rules(conn):
    default = conn.network.find_security_group("default")
    assert len(default.security_group_rules) == 4
    group = conn.network.create_security_group(name="ssh", description="ssh in")
    rule = conn.network.create_security_group_rule(
        security_group_id=group.id,
        direction="ingress",
        protocol="tcp",
        port_range_min=22,
        port_range_max=22,
        remote_ip_prefix="0.0.0.0/0",
        ethertype="IPv4",
    )
    assert rule.security_group_id == group.id
    with pytest.raises(os_exc.ConflictException):
        conn.network.create_security_group_rule(
            security_group_id=group.id,
            direction="ingress",
            protocol="tcp",
            port_range_min=22,
            port_range_max=22,
            remote_ip_prefix="0.0.0.0/0",
            ethertype="IPv4",
        )
    with pytest.raises(os_exc.BadRequestException):
        conn.network.create_security_group_rule(security_group_id=group.id, direction="sideways")
    rules = [r.id for r in conn.network.security_group_rules(security_group_id=group.id)]
    assert rule.id in rules and len(rules) == 3
    conn.network.delete_security_group_rule(rule)
    conn.network.delete_security_group(group)
    with pytest.raises(os_exc.NotFoundException):
        conn.network.get_security_group(group.id)


def test_subnet_pools_and_paging(conn):
    pool = conn.network.create_subnet_pool(
        name="pool", prefixes=["10.100.0.0/16"], default_prefixlen=24
    )
    network = conn.network.create_network(name="pooled")
    subnet = conn.network.create_subnet(network_id=network.id, subnetpool_id=pool.id, ip_version=4)
    assert subnet.cidr == "10.100.0.0/24"
    networks = [conn.network.create_network(name=f"paged-{i}") for i in range(4)]
    raw = conn.network.get("/networks?limit=2").json()
    assert len(raw["networks"]) == 2 and raw["networks_links"][0]["rel"] == "next"
    names = [n.name for n in conn.network.networks(limit=2)]
    assert {f"paged-{i}" for i in range(4)} <= set(names)
    assert [n.name for n in conn.network.networks(name="paged-2")] == ["paged-2"]
    for item in networks:
        conn.network.delete_network(item)
    conn.network.delete_subnet(subnet)
    conn.network.delete_network(network)
    conn.network.delete_subnet_pool(pool)


def test_errors_and_extensions(conn):
    response = conn.network.get("/networks/nope")
    assert response.status_code == 404
    assert response.json()["NeutronError"]["type"] == "NetworkNotFound"
    with pytest.raises(os_exc.BadRequestException):
        conn.network.create_network(name="x" * 256)
    with pytest.raises(os_exc.ForbiddenException):
        conn.network.create_network(name="ext", is_router_external=True)
    aliases = {ext.alias for ext in conn.network.extensions()}
    assert {"router", "external-net", "security-group", "subnet_allocation"} <= aliases


def test_devstack_profile_flavors_and_images():
    with ReferenceCloud("devstack", **FAST) as devstack:
        connection = connect(devstack.cloud_config())
        names = {flavor.name for flavor in connection.compute.flavors()}
        assert {"m1.tiny", "m1.small", "m1.medium"} <= names
        images = {image.name: image for image in connection.image.images()}
        cirros = images["cirros-0.6.2-x86_64-disk"]
        assert cirros.os_distro == "cirros" and cirros.os_admin_user is None
        assert {"public", "private"} <= {n.name for n in connection.network.networks()}
        connection.close()


def test_booting_on_a_precreated_port_keeps_the_port_after_delete(conn):
    private = conn.network.find_network("private")
    port = conn.network.create_port(network_id=private.id, name="keep-me")
    server = conn.compute.create_server(
        name="on-port",
        image_id=conn.image.find_image("Ubuntu-22.04").id,
        flavor_id=conn.compute.find_flavor("small").id,
        networks=[{"port": port.id}],
    )
    server = wait_status(conn, server, "ACTIVE")
    assert conn.network.get_port(port.id).device_id == server.id
    with pytest.raises(os_exc.ConflictException):
        conn.compute.create_server(
            name="same-port",
            image_id=conn.image.find_image("Ubuntu-22.04").id,
            flavor_id=conn.compute.find_flavor("small").id,
            networks=[{"port": port.id}],
        )
    conn.compute.delete_server(server)
    conn.compute.wait_for_delete(server, wait=10, interval=0.05)
    kept = conn.network.get_port(port.id)
    assert kept.device_id == "" and kept.device_owner == ""
    conn.network.delete_port(kept)
