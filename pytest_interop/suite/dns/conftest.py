"""Fixtures of the DNS tests: the cloud's DNS facet, a zone of the test's own, its servers."""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from pytest_interop.clouds.base import Cloud, ResourceNotFound
from pytest_interop.clouds.dns import DnsFacet, DnsZone, answers, query

# From an ACTIVE change to every listed server answering with it (seconds).
SERVE_TIMEOUT = float(os.environ.get("INTEROP_DNS_SERVE_TIMEOUT", "120"))


@pytest.fixture(scope="session")
def dns_facet(cloud: Cloud) -> DnsFacet:
    """The cloud's DNS service; the test is not applicable (with the reason) where it has none."""
    return cloud.dns


@pytest.fixture
def zone(dns_facet: DnsFacet) -> Iterator[DnsZone]:
    created = dns_facet.create_zone(description="a zone of the pytest-interop DNS tests")
    try:
        yield created
    finally:
        with contextlib.suppress(ResourceNotFound):
            dns_facet.delete_zone(created.id)


@pytest.fixture
def name_servers(dns_facet: DnsFacet, zone: DnsZone) -> list[tuple[str, int]]:
    """Where the zone's listed name servers answer; not applicable where none is reachable."""
    return dns_facet.server_addresses(zone.id)


def served(
    servers: list[tuple[str, int]],
    name: str,
    rdtype: str,
    until: Callable[[Any], bool],
    record_finding: Callable[[str, Any], None] | None = None,
) -> Any:
    """Ask every listed server until each answer satisfies ``until``; the last answers.

    An ACTIVE change may take a moment to reach every server of a real cloud; the time it
    took is a finding (``dns_serve_seconds``).
    """
    start = time.monotonic()
    while True:
        responses = [query([server], name, rdtype) for server in servers]
        if all(until(r) for r in responses):
            if record_finding is not None:
                record_finding("dns_serve_seconds", round(time.monotonic() - start, 2))
            return responses[0]
        if time.monotonic() - start > SERVE_TIMEOUT:
            wrong = [answers(r, rdtype) or r.rcode() for r in responses if not until(r)]
            raise AssertionError(
                f"{name} {rdtype}: the listed name servers still answer {wrong} "
                f"{SERVE_TIMEOUT:.0f}s after the change went ACTIVE"
            )
        time.sleep(0.2)
