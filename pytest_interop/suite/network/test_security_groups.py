"""networks-security-groups-CRUD: groups and rules, and the rule that lets SSH in.

Automation opens SSH by adding a group with an ingress rule for port 22. It relies on: a new
group starts with egress rules only; a rule reads back as created and is found by filters;
the same rule twice is refused (409); a deleted rule or group is gone (404); and a server
that is reachable over SSH carries a group admitting port 22.
"""

from __future__ import annotations

from typing import Any

import pytest

from pytest_interop.errors import NotApplicable
from pytest_interop.suite.network.neutron import (
    NeutronResources,
    neutron,
    server_ports,
    unique_name,
)

SSH_RULE = {
    "direction": "ingress",
    "ethertype": "IPv4",
    "protocol": "tcp",
    "port_range_min": 22,
    "port_range_max": 22,
    "remote_ip_prefix": "0.0.0.0/0",
}


def _rules_of(os_conn: Any, group_id: str) -> list[dict[str, Any]]:
    answer = neutron(os_conn, "GET", f"/security-group-rules?security_group_id={group_id}")
    assert answer.status_code == 200
    return answer.json()["security_group_rules"]


@pytest.mark.idempotent_id("8382d6ab-4a48-41bb-81c3-b5f863a87dde")
def test_group_and_rule_create_get_update_list_delete(
    os_conn: Any, cloud: Any, neutron_resources: NeutronResources
) -> None:
    name = unique_name(cloud, "sg")
    group = neutron_resources.create("security-groups", name=name)
    assert group["name"] == name
    assert group["project_id"] == os_conn.current_project_id
    initial = _rules_of(os_conn, group["id"])
    assert initial, "a new group has no default rules"
    assert all(rule["direction"] == "egress" for rule in initial), "a new group admits ingress"

    rule = neutron_resources.create(
        "security-group-rules", security_group_id=group["id"], **SSH_RULE
    )
    for key, value in SSH_RULE.items():
        assert rule[key] == value, f"the rule's {key} is {rule[key]!r}, not {value!r}"
    shown = neutron(os_conn, "GET", f"/security-group-rules/{rule['id']}")
    assert shown.status_code == 200
    assert shown.json()["security_group_rule"]["security_group_id"] == group["id"]
    assert rule["id"] in [item["id"] for item in _rules_of(os_conn, group["id"])]
    in_group = neutron(os_conn, "GET", f"/security-groups/{group['id']}").json()
    assert rule["id"] in [item["id"] for item in in_group["security_group"]["security_group_rules"]]

    duplicate = neutron_resources.create(
        "security-group-rules", expect=409, security_group_id=group["id"], **SSH_RULE
    )
    assert duplicate == {}
    backwards = neutron_resources.create(
        "security-group-rules",
        expect=400,
        security_group_id=group["id"],
        **{**SSH_RULE, "port_range_min": 23, "port_range_max": 22},
    )
    assert backwards == {}

    answer = neutron(
        os_conn,
        "PUT",
        f"/security-groups/{group['id']}",
        json={"security_group": {"description": "interop: ssh only"}},
    )
    assert answer.status_code == 200
    listed = neutron(os_conn, "GET", f"/security-groups?name={name}").json()["security_groups"]
    assert [(item["id"], item["description"]) for item in listed] == [
        (group["id"], "interop: ssh only")
    ]

    assert neutron_resources.delete("security-group-rules", rule["id"]) == 204
    assert neutron(os_conn, "GET", f"/security-group-rules/{rule['id']}").status_code == 404
    assert neutron_resources.delete("security-groups", group["id"]) == 204
    assert neutron(os_conn, "GET", f"/security-groups/{group['id']}").status_code == 404
    assert _rules_of(os_conn, group["id"]) == [], "a deleted group left its rules behind"


def _admits_ssh(rule: dict[str, Any]) -> bool:
    if rule["direction"] != "ingress" or rule.get("ethertype", "IPv4") != "IPv4":
        return False
    if rule.get("protocol") not in (None, "tcp", "6", 6):
        return False
    low, high = rule.get("port_range_min"), rule.get("port_range_max")
    return (low is None or low <= 22) and (high is None or high >= 22)


@pytest.mark.idempotent_id("1a6f7fd4-377e-4720-b0a3-379fe2198bea")
def test_reachable_server_has_a_group_admitting_ssh(
    os_conn: Any, shared_server: Any, shared_node: Any, record_finding: Any
) -> None:
    # The server is reachable: a command runs over SSH ...
    assert shared_node.run(["true"]).exit_status == 0
    # ... and the API shows why: one of its ports' groups admits TCP 22 from outside.
    ports = server_ports(os_conn, shared_server.id)
    assert ports, "the server has no port"
    groups = {group for port in ports for group in port["security_groups"]}
    if not groups and not any(port.get("port_security_enabled", True) for port in ports):
        raise NotApplicable("port security is off on the server's ports: no groups apply")
    admitting = [
        rule for group in sorted(groups) for rule in _rules_of(os_conn, group) if _admits_ssh(rule)
    ]
    assert admitting, f"none of the server's groups {sorted(groups)} admits SSH"
    record_finding("ssh_rule_remote", admitting[0].get("remote_ip_prefix") or "any")
