"""The OpenStack adapter retries boots that end in ERROR: delete, boot again, bounded."""

from __future__ import annotations

import itertools

import pytest

from pytest_interop.clouds.openstack import BOOT_ATTEMPTS, OpenStackCloud
from pytest_interop.clouds.registry import CloudSpec
from pytest_interop.clouds.retry import RetryPolicy
from pytest_interop.errors import InfrastructureError
from pytest_interop.reference import ReferenceCloud
from pytest_interop.resources import ResourceLedger

from .conftest import FAST, wait_for

FAST_RETRY = RetryPolicy(attempts=4, initial_delay=0.01, max_delay=0.05, max_retry_after=0.05)


@pytest.fixture
def reference():
    cloud = ReferenceCloud(machines=False, **FAST)
    cloud.start()
    yield cloud
    cloud.stop()


@pytest.fixture
def adapter(reference, tmp_path):
    ledger = ResourceLedger("t-boot-retry", "reference", tmp_path / "journal.jsonl")
    spec = CloudSpec("reference", "openstack", {"config": reference.cloud_config()})
    cloud = OpenStackCloud.from_spec(spec, ledger)
    cloud._retry = FAST_RETRY
    yield cloud
    cloud.cleanup_run()
    cloud.close()
    ledger.close()


def live_servers(reference: ReferenceCloud) -> int:
    return sum(reference.counters()["live"]["servers"].values())


def fail_first_boots(reference: ReferenceCloud, how_many: int) -> None:
    boots = itertools.count(1)
    reference.state.faults.boot_fails = lambda: next(boots) <= how_many


def test_a_boot_in_error_is_deleted_and_booted_again(reference, adapter):
    fail_first_boots(reference, BOOT_ATTEMPTS - 1)
    server = adapter.create_server()
    assert server.status == "ACTIVE"
    assert adapter.findings["boot_retries"] == BOOT_ATTEMPTS - 1
    counters = reference.counters()
    assert counters["servers_failed"] == BOOT_ATTEMPTS - 1
    assert wait_for(lambda: live_servers(reference) == 1, timeout=5)  # the ERROR ones went
    assert [r.resource_id for r in adapter.ledger.live()] == [server.id]


def test_boots_that_keep_ending_in_error_are_an_infrastructure_error(reference, adapter):
    fail_first_boots(reference, 100)
    with pytest.raises(InfrastructureError) as raised:
        adapter.create_server()
    assert "went to ERROR" in str(raised.value)
    assert raised.value.call.startswith("nova.servers.get(")
    assert reference.counters()["servers_failed"] == BOOT_ATTEMPTS  # bounded
    assert len(adapter.ledger.live()) == 1  # the last one, left for clean-up
    adapter.cleanup_run()
    assert wait_for(lambda: live_servers(reference) == 0, timeout=5)


def test_a_boot_timeout_is_not_retried(adapter):
    slow = ReferenceCloud(machines=False, **{**FAST, "boot_delay": 30})
    slow.start()
    try:
        spec = CloudSpec("slow", "openstack", {"config": slow.cloud_config()})
        cloud = OpenStackCloud.from_spec(spec, adapter.ledger)
        cloud._retry = FAST_RETRY
        with pytest.raises(InfrastructureError, match="still BUILD"):
            cloud.create_server(timeout=0.5)
        assert slow.counters()["api_calls"]["compute POST /compute/v2.1/servers"] == 1
        cloud.cleanup_run()
        cloud.close()
    finally:
        slow.stop()
