"""Deleted key pairs and servers on the embedded AWS endpoint: as EC2 and the interface say."""

from __future__ import annotations

from typing import Any

import boto3
import botocore.exceptions
import pytest

from pytest_interop.clouds.aws import AwsCloud
from pytest_interop.clouds.base import ResourceNotFound
from pytest_interop.nodes import generate_keypair
from pytest_interop.reference.aws import ReferenceAws


def _ec2(endpoint: ReferenceAws) -> Any:
    settings = endpoint.settings()
    return boto3.client(
        "ec2",
        region_name=settings["region"],
        endpoint_url=settings["endpoint_url"],
        aws_access_key_id=settings["aws_access_key_id"],
        aws_secret_access_key=settings["aws_secret_access_key"],
    )


def test_endpoint_refuses_a_launch_with_an_unknown_key_pair(reference_aws: ReferenceAws) -> None:
    ec2 = _ec2(reference_aws)
    image = ec2.describe_images(Owners=["amazon"])["Images"][0]["ImageId"]
    before = reference_aws.counters()["live_instances"]
    with pytest.raises(botocore.exceptions.ClientError) as refused:
        ec2.run_instances(ImageId=image, MinCount=1, MaxCount=1, KeyName="no-such-key")
    error = refused.value.response
    assert error["Error"]["Code"] == "InvalidKeyPair.NotFound"
    assert "no-such-key" in error["Error"]["Message"]
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert reference_aws.counters()["live_instances"] == before


def test_a_launch_with_an_existing_key_pair_still_boots(reference_aws: ReferenceAws) -> None:
    ec2 = _ec2(reference_aws)
    image = ec2.describe_images(Owners=["amazon"])["Images"][0]["ImageId"]
    ec2.create_key_pair(KeyName="present-key")
    try:
        answer = ec2.run_instances(ImageId=image, MinCount=1, MaxCount=1, KeyName="present-key")
        instance = answer["Instances"][0]
        assert instance["KeyName"] == "present-key"
        ec2.terminate_instances(InstanceIds=[instance["InstanceId"]])
    finally:
        ec2.delete_key_pair(KeyName="present-key")


def test_adapter_refuses_a_boot_with_a_deleted_key_pair(aws_cloud: AwsCloud, tmp_path) -> None:
    _, public_key = generate_keypair(tmp_path)
    name = aws_cloud.import_keypair(public_key).name
    aws_cloud.delete_keypair(name)
    with pytest.raises(ResourceNotFound, match=name):
        aws_cloud.create_server(key_name=name, wait=False)
    assert not [s for s in aws_cloud.list_servers() if s.key_name == name]


def test_a_deleted_server_is_gone(aws_cloud: AwsCloud, reference_aws: ReferenceAws) -> None:
    server = aws_cloud.create_server()
    kept = aws_cloud.create_server()
    aws_cloud.delete_server(server.id)
    # EC2 still describes it (terminated), as real EC2 does for about an hour...
    described = _ec2(reference_aws).describe_instances(InstanceIds=[server.id])
    assert described["Reservations"][0]["Instances"][0]["State"]["Name"] == "terminated"
    # ...but to the interface it is gone.
    with pytest.raises(ResourceNotFound):
        aws_cloud.get_server(server.id)
    listed = {s.id for s in aws_cloud.list_servers()}
    assert server.id not in listed and kept.id in listed
    assert aws_cloud.get_server(kept.id).status == "ACTIVE"
    # A delete waits until the instance is gone to the interface.
    aws_cloud.delete_server(kept.id)
    with pytest.raises(ResourceNotFound):
        aws_cloud.get_server(kept.id)
