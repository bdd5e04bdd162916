"""Network fixtures: a per-test tracker of Neutron resources, and the external network."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from pytest_interop.errors import NotApplicable
from pytest_interop.suite.network.neutron import NeutronResources, neutron


@pytest.fixture
def neutron_resources(os_conn: Any, cloud: Any) -> Iterator[NeutronResources]:
    resources = NeutronResources(os_conn, cloud)
    try:
        yield resources
    finally:
        resources.close()
    if resources.leaked:
        raise RuntimeError(f"network resources left behind: {', '.join(resources.leaked)}")


@pytest.fixture
def external_network(os_conn: Any) -> dict[str, Any]:
    """The cloud's external network (source of floating IPs and router gateways)."""
    answer = neutron(os_conn, "GET", "/networks?router:external=True")
    assert answer.status_code == 200
    networks = sorted(answer.json()["networks"], key=lambda n: n["name"])
    if not networks:
        raise NotApplicable("the cloud has no external network (no floating IPs, no gateways)")
    return networks[0]
