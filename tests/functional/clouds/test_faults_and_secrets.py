"""Transient faults are retried, persistent ones are infrastructure errors; secrets never show."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest

from pytest_interop.clouds.aws import AwsCloud
from pytest_interop.clouds.openstack import OpenStackCloud
from pytest_interop.clouds.registry import CloudSpec
from pytest_interop.clouds.retry import RetryPolicy
from pytest_interop.errors import InfrastructureError
from pytest_interop.reference.cloud import ReferenceCloud
from tests.functional.clouds.conftest import openstack_spec

PATIENT = RetryPolicy(attempts=10, initial_delay=0.005, max_delay=0.02, max_retry_after=0.02)


@pytest.fixture
def faulty_cloud(request: pytest.FixtureRequest) -> Iterator[ReferenceCloud]:
    cloud = ReferenceCloud(profile="default", seed=11, **request.param)
    cloud.start()
    yield cloud
    cloud.stop()


@pytest.mark.parametrize(
    "faulty_cloud",
    [{"rate_limit_rate": 0.3, "retry_after": 1}, {"server_error_rate": 0.3}],
    indirect=True,
    ids=["429", "503"],
)
def test_transient_answers_are_retried(faulty_cloud):
    cloud = OpenStackCloud.from_spec(openstack_spec(faulty_cloud), None)
    cloud._retry = PATIENT
    try:
        for _ in range(8):
            assert {f.name for f in cloud.list_flavors()} == {"small", "medium", "large"}
    finally:
        cloud.close()
    calls = faulty_cloud.counters()["api_calls"]
    flavor_calls = sum(n for route, n in calls.items() if "flavors" in route)
    assert flavor_calls > 8  # some answers were faults, and were asked again


@pytest.mark.parametrize("faulty_cloud", [{"server_error_rate": 1.0}], indirect=True)
def test_a_broken_service_is_an_infrastructure_error_without_secrets(faulty_cloud):
    spec = openstack_spec(faulty_cloud)
    password = spec.settings["config"]["auth"]["password"]
    cloud = OpenStackCloud.from_spec(spec, None)
    cloud._retry = RetryPolicy(attempts=2, initial_delay=0.001, max_delay=0.002)
    try:
        with pytest.raises(InfrastructureError) as caught:
            cloud.list_servers()
        assert caught.value.call == "nova.servers.list"
        for text in (str(caught.value), repr(caught.value), repr(cloud), str(cloud.identity())):
            assert password not in text
        assert password not in repr(spec)
    finally:
        cloud.close()


def test_aws_errors_and_reprs_carry_no_secret_key():
    with socket.socket() as probe:  # a loopback port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    secret = "S3cretKeyThatMustNotLeak/abc"
    spec = CloudSpec(
        "aws-test",
        "aws",
        {
            "region": "us-east-1",
            "endpoint_url": f"http://127.0.0.1:{port}",
            "aws_access_key_id": "AKIDEXAMPLE",
            "aws_secret_access_key": secret,
        },
    )
    cloud = AwsCloud.from_spec(spec, None)
    cloud._retry = RetryPolicy(attempts=2, initial_delay=0.001, max_delay=0.002)
    with pytest.raises(InfrastructureError) as caught:
        cloud.list_servers()
    assert caught.value.call == "ec2.describe_instances"
    for text in (str(caught.value), repr(cloud), str(cloud.identity()), repr(spec)):
        assert secret not in text
