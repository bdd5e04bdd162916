"""The embedded AWS endpoint under concurrent EC2 clients (as under pytest -n 4).

moto's in-memory backends are not thread-safe; the endpoint serves each request on its own
thread. Without serialisation, DescribeTags iterating a resource's tags while CreateTags and
DeleteTags change them raises "dictionary changed size during iteration" inside moto: a 500.
A tiny GIL switch interval makes the interleaving that -n 4 hits now and then happen at once.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import boto3
import botocore.config
import pytest

from pytest_interop.reference.aws import ReferenceAws

THREADS = 8


def _client(endpoint: ReferenceAws) -> Any:
    settings = endpoint.settings()
    return boto3.client(
        "ec2",
        region_name=settings["region"],
        endpoint_url=settings["endpoint_url"],
        aws_access_key_id=settings["aws_access_key_id"],
        aws_secret_access_key=settings["aws_secret_access_key"],
        # No retries: a 500 must show, not be hidden by botocore's retry of it.
        config=botocore.config.Config(retries={"total_max_attempts": 1, "mode": "standard"}),
    )


@pytest.fixture
def frequent_thread_switches() -> Iterator[None]:
    saved = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    yield
    sys.setswitchinterval(saved)


def _hammer(endpoint: ReferenceAws, worker: Any, rounds: int) -> list[str]:
    """Run ``worker(index, ec2)`` ``rounds`` times on THREADS threads at once; the failures."""
    errors: list[str] = []
    start = threading.Barrier(THREADS)

    def run(index: int, ec2: Any) -> None:
        start.wait()
        for _ in range(rounds):
            try:
                worker(index, ec2)
            except Exception as exc:  # collect rather than stop: the count tells the story
                errors.append(f"{type(exc).__name__}: {str(exc)[:200]}")

    clients = [_client(endpoint) for _ in range(THREADS)]
    with ThreadPoolExecutor(THREADS) as pool:
        list(pool.map(run, range(THREADS), clients))
    return errors


def test_concurrent_tag_writers_and_readers_get_no_server_errors(
    reference_aws: ReferenceAws, frequent_thread_switches: None
) -> None:
    ec2 = _client(reference_aws)
    volume = ec2.create_volume(Size=1, AvailabilityZone=f"{reference_aws.region}a")["VolumeId"]

    def worker(index: int, ec2: Any) -> None:
        if index % 2:
            keys = [f"k{index}-{i}" for i in range(10)]
            ec2.create_tags(Resources=[volume], Tags=[{"Key": k, "Value": "v"} for k in keys])
            ec2.delete_tags(Resources=[volume], Tags=[{"Key": k} for k in keys])
        else:
            ec2.describe_tags()
            ec2.describe_volumes()

    try:
        errors = _hammer(reference_aws, worker, rounds=60)
    finally:
        ec2.delete_volume(VolumeId=volume)
    assert not errors, f"{len(errors)} failed calls, first: {errors[:3]}"


def test_concurrent_launches_and_terminations_leave_no_machine(
    reference_aws: ReferenceAws,
) -> None:
    image = _client(reference_aws).describe_images(Owners=["amazon"])["Images"][0]["ImageId"]

    def worker(index: int, ec2: Any) -> None:
        if index % 2 or not index % 4:
            ec2.describe_instances()
            return
        answer = ec2.run_instances(ImageId=image, MinCount=1, MaxCount=1)
        ids = [i["InstanceId"] for i in answer["Instances"]]
        ec2.terminate_instances(InstanceIds=ids)

    errors = _hammer(reference_aws, worker, rounds=5)
    assert not errors, f"{len(errors)} failed calls, first: {errors[:3]}"
    counters = reference_aws.counters()
    assert counters["live_instances"] == 0
    assert counters["machines"] == 0
