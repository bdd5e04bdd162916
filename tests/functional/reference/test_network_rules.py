"""Neutron's checks of security group rules, and a port's fixed IPs replaced by an update."""

from __future__ import annotations

import openstack.exceptions as os_exc
import pytest


@pytest.fixture
def group(conn):
    made = conn.network.create_security_group(name="rules-check")
    yield made
    conn.network.delete_security_group(made)


@pytest.mark.parametrize(
    ("protocol", "low", "high", "message"),
    [
        ("tcp", -16, 80, "Invalid value for port -16"),
        ("tcp", 80, 79, "port_range_min must be <= port_range_max"),
        ("tcp", None, 6, "port_range_min must be <= port_range_max"),
        ("tcp", 80, 65536, "Invalid value for port 65536"),
        ("icmp", 1, 256, "Invalid value for ICMP code"),
        ("icmp", 300, 1, "Invalid value for ICMP type"),
        ("icmp", None, 6, "ICMP type (port-range-min) is missing"),
        ("bad_protocol_name", None, None, "not supported"),
    ],
)
def test_bad_rules_are_refused(conn, group, protocol, low, high, message):
    with pytest.raises(os_exc.BadRequestException) as refused:
        conn.network.create_security_group_rule(
            security_group_id=group.id,
            direction="ingress",
            protocol=protocol,
            port_range_min=low,
            port_range_max=high,
        )
    assert message in str(refused.value)


def test_icmp_type_and_code_and_unknown_remote_group(conn, group):
    rule = conn.network.create_security_group_rule(
        security_group_id=group.id,
        direction="ingress",
        protocol="icmp",
        port_range_min=8,
        port_range_max=0,
    )
    assert (rule.port_range_min, rule.port_range_max) == (8, 0)
    with pytest.raises(os_exc.NotFoundException):
        conn.network.create_security_group_rule(
            security_group_id=group.id,
            direction="ingress",
            remote_group_id="3b4a5c6d-0000-4000-8000-000000000000",
        )


def test_port_update_replaces_its_fixed_ips(conn):
    network = conn.network.create_network(name="fixed-ips")
    first = conn.network.create_subnet(network_id=network.id, cidr="10.61.0.0/24", ip_version=4)
    second = conn.network.create_subnet(network_id=network.id, cidr="10.62.0.0/24", ip_version=4)
    try:
        port = conn.network.create_port(network_id=network.id)
        assert [ip["subnet_id"] for ip in port.fixed_ips] == [first.id]
        kept = port.fixed_ips[0]
        updated = conn.network.update_port(
            port, fixed_ips=[kept, {"subnet_id": second.id}], name="two"
        )
        assert updated.name == "two"
        assert [ip["subnet_id"] for ip in updated.fixed_ips] == [first.id, second.id]
        assert updated.fixed_ips[0]["ip_address"] == kept["ip_address"]
        moved = conn.network.update_port(port, fixed_ips=[{"subnet_id": second.id}])
        assert [ip["subnet_id"] for ip in moved.fixed_ips] == [second.id]
        conn.network.delete_port(port)
    finally:
        conn.network.delete_network(network)
