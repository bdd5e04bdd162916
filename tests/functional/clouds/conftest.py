"""Reference clouds and adapters for the adapter tests: real HTTP and SSH on loopback."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest

from pytest_interop.clouds.aws import AwsCloud
from pytest_interop.clouds.openstack import OpenStackCloud
from pytest_interop.clouds.registry import CloudSpec
from pytest_interop.clouds.retry import RetryPolicy
from pytest_interop.reference.aws import ReferenceAws
from pytest_interop.reference.cloud import ReferenceCloud
from pytest_interop.resources import ResourceLedger

FAST = {"boot_delay": 0.05, "action_delay": 0.02, "delete_delay": 0.02}
FAST_RETRY = RetryPolicy(attempts=4, initial_delay=0.01, max_delay=0.05, max_retry_after=0.05)

_reference_clouds: dict[str, ReferenceCloud] = {}


@pytest.fixture(scope="session")
def reference_clouds() -> Iterator[dict[str, ReferenceCloud]]:
    """Reference clouds by profile, started on first use, stopped at the end."""
    yield _reference_clouds
    for cloud in _reference_clouds.values():
        cloud.stop()
    _reference_clouds.clear()


def reference_cloud_for(clouds: dict[str, ReferenceCloud], profile: str) -> ReferenceCloud:
    if profile not in clouds:
        cloud = ReferenceCloud(profile=profile, **FAST)
        cloud.start()
        clouds[profile] = cloud
    return clouds[profile]


@pytest.fixture
def run_id() -> str:
    return f"t{secrets.token_hex(3)}"


@pytest.fixture
def ledger(tmp_path: Path, run_id: str) -> Iterator[ResourceLedger]:
    book = ResourceLedger(run_id, "under-test", tmp_path / "journal.jsonl")
    yield book
    book.close()


@pytest.fixture(params=["default", "floating-ip"])
def reference(request: pytest.FixtureRequest, reference_clouds) -> ReferenceCloud:
    return reference_cloud_for(reference_clouds, request.param)


def openstack_spec(reference: ReferenceCloud) -> CloudSpec:
    return CloudSpec("reference", "openstack", {"config": reference.cloud_config()})


@pytest.fixture
def os_cloud(reference: ReferenceCloud, ledger: ResourceLedger) -> Iterator[OpenStackCloud]:
    cloud = OpenStackCloud.from_spec(openstack_spec(reference), ledger)
    cloud._retry = FAST_RETRY
    yield cloud
    cloud.cleanup_run()
    cloud.close()


@pytest.fixture(scope="module")
def reference_aws() -> Iterator[ReferenceAws]:
    # Module scope: moto's state is per process, so only one endpoint may run at a time.
    endpoint = ReferenceAws()
    endpoint.start()
    yield endpoint
    endpoint.stop()


def aws_spec(endpoint: ReferenceAws, **overrides: str) -> CloudSpec:
    settings = endpoint.settings()
    settings["interop"] = {**settings["interop"], **overrides}
    return CloudSpec("reference-aws", "aws", settings)


@pytest.fixture
def aws_cloud(reference_aws: ReferenceAws, ledger: ResourceLedger) -> Iterator[AwsCloud]:
    # A named instance type spares each test paging through moto's 1,400 types;
    # test_discovery_on_aws covers the search itself.
    cloud = AwsCloud.from_spec(aws_spec(reference_aws, flavor="t3.micro"), ledger)
    cloud._retry = FAST_RETRY
    yield cloud
    cloud.cleanup_run()
    cloud.close()


def live(reference: ReferenceCloud, kind: str) -> int:
    """Live resources of one kind in the tester's project."""
    counts = reference.counters()["live"].get(kind, {})
    projects = reference.counters()["projects"]
    demo = [pid for pid, name in projects.items() if name != "admin"]
    return sum(counts.get(pid, 0) for pid in demo)
