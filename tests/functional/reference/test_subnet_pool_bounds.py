"""Subnet pools refuse prefix lengths outside their bounds, as Neutron does (400)."""

from __future__ import annotations

from collections.abc import Iterator

import openstack.exceptions as os_exc
import pytest

from pytest_interop.reference import ReferenceCloud
from tests.functional.reference.conftest import FAST


@pytest.fixture(scope="module")
def cloud() -> Iterator[ReferenceCloud]:
    with ReferenceCloud("default", **FAST) as reference:
        yield reference


def test_prefix_length_outside_the_pool_bounds_is_refused(conn):
    pool = conn.network.create_subnet_pool(
        name="bounded",
        prefixes=["10.120.0.0/16"],
        default_prefixlen=24,
        min_prefixlen=20,
        max_prefixlen=28,
    )
    network = conn.network.create_network(name="bounded-net")
    try:
        for prefixlen in (30, 18):
            with pytest.raises(os_exc.BadRequestException):
                conn.network.create_subnet(
                    network_id=network.id,
                    subnetpool_id=pool.id,
                    ip_version=4,
                    prefixlen=prefixlen,
                )
        inside = conn.network.create_subnet(
            network_id=network.id, subnetpool_id=pool.id, ip_version=4, prefixlen=28
        )
        assert inside.cidr.endswith("/28")
        conn.network.delete_subnet(inside)
    finally:
        conn.network.delete_network(network)
        conn.network.delete_subnet_pool(pool)
