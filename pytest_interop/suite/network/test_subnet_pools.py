"""networks-subnet-pools-CRUD (advisory): subnets carved from a pool never overlap.

Automation that asks a pool for subnets instead of choosing CIDRs relies on: each subnet
comes from the pool's prefixes, at the default or the asked prefix length, and no two
overlap; a pool in use cannot be deleted; a deleted pool is gone.
"""

from __future__ import annotations

import ipaddress
import random
from typing import Any

import pytest

from pytest_interop.suite.network.neutron import NeutronResources, neutron, unique_name


@pytest.mark.idempotent_id("688fd33d-e58d-4731-8aea-2fc29711f606")
def test_subnets_from_a_pool_fit_and_do_not_overlap(
    os_conn: Any, cloud: Any, neutron_resources: NeutronResources
) -> None:
    prefix = f"10.{random.randrange(128, 250)}.0.0/16"
    name = unique_name(cloud, "pool")
    pool = neutron_resources.create(
        "subnetpools",
        name=name,
        prefixes=[prefix],
        default_prefixlen=24,
        min_prefixlen=20,
        max_prefixlen=28,
    )
    assert [str(ipaddress.ip_network(p)) for p in pool["prefixes"]] == [prefix]
    assert int(pool["default_prefixlen"]) == 24
    listed = neutron(os_conn, "GET", f"/subnetpools?name={name}").json()["subnetpools"]
    assert [item["id"] for item in listed] == [pool["id"]]

    network = neutron_resources.create("networks", name=unique_name(cloud, "net"))
    default = neutron_resources.create(
        "subnets", network_id=network["id"], subnetpool_id=pool["id"], ip_version=4
    )
    small = neutron_resources.create(
        "subnets",
        network_id=network["id"],
        subnetpool_id=pool["id"],
        ip_version=4,
        prefixlen=27,
    )
    block = ipaddress.ip_network(prefix)
    carved = [ipaddress.ip_network(item["cidr"]) for item in (default, small)]
    assert all(cidr.subnet_of(block) for cidr in carved), f"{carved} not within {prefix}"
    assert carved[0].prefixlen == 24 and carved[1].prefixlen == 27
    assert not carved[0].overlaps(carved[1]), f"subnets {carved} overlap"
    assert default["subnetpool_id"] == pool["id"]

    renamed = neutron(
        os_conn, "PUT", f"/subnetpools/{pool['id']}", json={"subnetpool": {"name": name + "-b"}}
    )
    assert renamed.status_code == 200
    shown = neutron(os_conn, "GET", f"/subnetpools/{pool['id']}").json()["subnetpool"]
    assert shown["name"] == name + "-b"

    in_use = neutron(os_conn, "DELETE", f"/subnetpools/{pool['id']}")
    assert in_use.status_code == 409, f"deleting a pool in use answered {in_use.status_code}"
    for subnet in (small, default):
        assert neutron_resources.delete("subnets", subnet["id"]) == 204
    assert neutron_resources.delete("subnetpools", pool["id"]) == 204
    assert neutron(os_conn, "GET", f"/subnetpools/{pool['id']}").status_code == 404


@pytest.mark.idempotent_id("2680dcec-a295-41c4-ad0f-9e952d038c57")
def test_pool_refuses_a_prefix_length_out_of_range(
    cloud: Any, neutron_resources: NeutronResources
) -> None:
    pool = neutron_resources.create(
        "subnetpools",
        name=unique_name(cloud, "pool"),
        prefixes=[f"10.{random.randrange(128, 250)}.0.0/16"],
        default_prefixlen=24,
        min_prefixlen=20,
        max_prefixlen=28,
    )
    network = neutron_resources.create("networks", name=unique_name(cloud, "net"))
    refused = neutron_resources.create(
        "subnets",
        expect=400,
        network_id=network["id"],
        subnetpool_id=pool["id"],
        ip_version=4,
        prefixlen=30,
    )
    assert refused == {}, "a /30 was carved from a pool whose longest prefix is /28"
