"""compute-servers-create-multiple: one request (``min_count``/``max_count``) boots a fleet.

Automation that scales out asks for several servers at once and relies on getting that many,
each a server of its own: a distinct name and address, reachable over SSH with the key, and
each removed when it is deleted. On AWS this is ``RunInstances`` with ``MinCount``/``MaxCount``.
"""

from __future__ import annotations

import contextlib
from typing import Any

import pytest

from pytest_interop.clouds.base import Cloud, KeyPair, ResourceNotFound
from pytest_interop.errors import NotApplicable
from pytest_interop.fixtures import BootedServer, connected_node

COUNT = 2


@pytest.mark.idempotent_id("a82ad766-30c9-4b56-8062-6f0b363753ba")
def test_min_max_count_boots_distinct_reachable_servers(
    cloud: Cloud, keypair: KeyPair, record_finding: Any
) -> None:
    image, flavor, network = cloud.boot_defaults()
    try:
        rule = cloud.allow_ssh()
    except NotApplicable:
        rule = None
    servers = cloud.create_servers(
        COUNT,
        image=image,
        flavor=flavor,
        network=network,
        key_name=keypair.name,
        security_rule=rule,
    )
    try:
        assert len(servers) == COUNT, f"asked for {COUNT} servers, got {len(servers)}"
        assert len({s.id for s in servers}) == COUNT, "the servers share an id"
        names = [s.name for s in servers]
        assert len(set(names)) == COUNT, f"the servers are not named apart: {names}"
        assert all(s.status == "ACTIVE" for s in servers)
        reachable = [cloud.reachable_address(s) for s in servers]
        addresses = [(r.ip, r.port) for r in reachable]
        assert len(set(addresses)) == COUNT, f"the servers share an address: {addresses}"
        record_finding("multiple_create_names", names)
        hostnames = set()
        for server, where in zip(servers, reachable, strict=True):
            booted = BootedServer(cloud, server, image, flavor, keypair, where)
            with connected_node(booted) as node:
                hostnames.add(node.run(["hostname"]).stdout.strip())
        assert len(hostnames) == COUNT, f"the guests share a hostname: {sorted(hostnames)}"
    finally:
        for server in servers:
            with contextlib.suppress(ResourceNotFound):
                cloud.delete_server(server.id)
    left = []
    for server in servers:
        try:
            still = cloud.get_server(server.id)
        except ResourceNotFound:
            continue
        if still.status not in ("DELETED",):
            left.append(f"{server.id}: {still.status}")
    assert not left, f"servers left after deleting each: {left}"
