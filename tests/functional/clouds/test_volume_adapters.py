"""The block-storage facet of both adapters against the reference cloud and its AWS endpoint."""

from __future__ import annotations

from pathlib import Path

import pytest

from pytest_interop.clouds.base import QuotaExceeded, ResourceNotFound
from pytest_interop.errors import NotApplicable
from pytest_interop.nodes import generate_keypair
from tests.functional.clouds.conftest import live
from tests.functional.clouds.test_aws_adapter import _ssh


def cinder_calls(reference, version: str) -> int:
    calls = reference.counters()["api_calls"]
    return sum(count for key, count in calls.items() if f"/volume/{version}/" in key)


def test_openstack_volume_round_trip_through_v2_and_v3(os_cloud, reference):
    before_v2 = cinder_calls(reference, "v2")
    v2 = os_cloud.using_volume_api("2")
    assert os_cloud.using_volume_api("2") is v2 and os_cloud.using_volume_api("3") is os_cloud
    volume = v2.create_volume(1, metadata={"k": "v"})
    assert cinder_calls(reference, "v2") > before_v2  # the sibling really speaks v2
    assert os_cloud.get_volume(volume.id).metadata["k"] == "v"  # and v3 sees the same volume
    renamed = os_cloud.update_volume(volume.id, name="renamed", description="words")
    assert (renamed.name, renamed.description) == ("renamed", "words")
    assert [v.id for v in v2.list_volumes(name="renamed")] == [volume.id]
    os_cloud.set_volume_read_only(volume.id, True)
    assert v2.get_volume(volume.id).read_only is True
    assert "readonly" not in v2.get_volume(volume.id).metadata
    snapshot = v2.create_volume_snapshot(volume.id)
    restored = os_cloud.create_volume(snapshot=snapshot)
    assert restored.source_snapshot_id == snapshot.id and restored.size_gb == 1
    image = os_cloud.upload_volume_to_image(restored.id)
    assert image.status == "active" and os_cloud.image_checksum(image.id)
    os_cloud.delete_image(image.id)
    with pytest.raises(ResourceNotFound):
        os_cloud.get_volume("00000000-0000-4000-8000-000000000000")
    with pytest.raises(QuotaExceeded):
        os_cloud.create_volume(5000)
    assert "nova" in os_cloud.volume_availability_zones()


def test_openstack_cleanup_detaches_and_removes_volumes_snapshots_images(os_cloud, reference):
    server = os_cloud.create_server()
    volume = os_cloud.create_volume(1)
    attachment = os_cloud.attach_volume(server.id, volume.id)
    assert attachment.device == "/dev/vdb" and attachment.volume_id == volume.id
    assert [a.volume_id for a in os_cloud.list_server_volumes(server.id)] == [volume.id]
    other = os_cloud.create_volume(1)
    os_cloud.create_volume_snapshot(other.id)
    os_cloud.upload_volume_to_image(other.id, wait=False)
    assert live(reference, "volumes") >= 2
    summary = os_cloud.cleanup_run()
    assert summary.ok, summary.leaked
    assert live(reference, "volumes") == 0
    assert live(reference, "volume_snapshots") == 0
    assert live(reference, "servers") == 0


def test_aws_ebs_volumes_snapshots_and_not_applicable_reasons(aws_cloud):
    assert aws_cloud.using_volume_api("2") is aws_cloud
    volume = aws_cloud.create_volume(2, metadata={"tier": "gold"})
    assert (volume.status, volume.size_gb, volume.metadata["tier"]) == ("available", 2, "gold")
    assert volume.availability_zone in aws_cloud.volume_availability_zones()
    assert aws_cloud.update_volume(volume.id, name="renamed").name == "renamed"
    aws_cloud.set_volume_metadata(volume.id, {"owner": "ops"})
    aws_cloud.delete_volume_metadata(volume.id, ["tier"])
    assert "tier" not in aws_cloud.get_volume_metadata(volume.id)
    snapshot = aws_cloud.create_volume_snapshot(volume.id)
    assert (snapshot.status, snapshot.volume_id, snapshot.size_gb) == ("available", volume.id, 2)
    restored = aws_cloud.create_volume(snapshot=snapshot)
    assert restored.source_snapshot_id == snapshot.id
    from_ami = aws_cloud.create_volume(image=aws_cloud.discover_image())
    assert from_ami.bootable and from_ami.source_snapshot_id
    for call, reason in (
        (lambda: aws_cloud.set_volume_read_only(volume.id, True), "read-only"),
        (lambda: aws_cloud.reserve_volume(volume.id), "reservation"),
        (lambda: aws_cloud.create_volume(1, source_volume=volume.id), "snapshot"),
        (lambda: aws_cloud.upload_volume_to_image(volume.id), "AMI"),
        (lambda: aws_cloud.update_volume(volume.id, description="d"), "description"),
    ):
        with pytest.raises(NotApplicable, match=reason):
            call()
    aws_cloud.delete_volume(restored.id)
    with pytest.raises(ResourceNotFound):
        aws_cloud.get_volume(restored.id)


def test_aws_attached_ebs_volume_is_a_disk_in_lsblk_and_cleanup_removes_it(
    aws_cloud, reference_aws, tmp_path: Path
):
    private, public = generate_keypair(tmp_path)
    keypair = aws_cloud.import_keypair(public)
    image = aws_cloud.discover_image()
    server = aws_cloud.create_server(image=image, key_name=keypair.name)
    reach = aws_cloud.reachable_address(server)
    node = _ssh(
        reach, str(private), image.login_user or "ec2-user", aws_cloud.console_log(server.id)
    )
    try:
        volume = aws_cloud.create_volume(3)
        attachment = aws_cloud.attach_volume(server.id, volume.id)
        assert attachment.device == "/dev/sdf"
        assert volume.id in [a.volume_id for a in aws_cloud.list_server_volumes(server.id)]
        disks = node.run(["lsblk", "-b", "-d", "-n", "-o", "NAME,SIZE"]).stdout
        assert f"xvdf {3 * 1024**3}" in " ".join(disks.split()), disks
        second = aws_cloud.create_volume(1)
        with pytest.raises(Exception, match="VolumeInUse"):
            aws_cloud.attach_volume(server.id, volume.id)
        with pytest.raises(Exception, match="availability zone"):
            aws_cloud.create_volume(1, availability_zone="us-east-1z")
        assert aws_cloud.get_volume(second.id).status == "available"
        aws_cloud.detach_volume(server.id, volume.id)
        names = node.run(["lsblk", "-d", "-n", "-o", "NAME"]).stdout.split()
        assert "xvdf" not in names
        assert not [name for name in names if name.startswith("xvda")], "the root EBS volume"
        aws_cloud.attach_volume(server.id, volume.id)
        aws_cloud.create_volume_snapshot(volume.id)  # EBS snapshots an attached volume
    finally:
        node.close()
    summary = aws_cloud.cleanup_run()
    assert summary.ok, summary.leaked
    ours = [v for v in aws_cloud.list_volumes() if v.metadata.get("interop-run-id")]
    assert ours == []


def test_cleanup_leftovers_finds_tagged_volumes_and_snapshots(os_cloud, aws_cloud, run_id):
    for adapter in (os_cloud, aws_cloud):
        volume = adapter.create_volume(1)
        snapshot = adapter.create_volume_snapshot(volume.id)
        summary = adapter.cleanup_leftovers(run_id=run_id)
        assert summary.ok, summary.leaked
        assert any(snapshot.id in label for label in summary.deleted)
        assert any(volume.id in label for label in summary.deleted)
        with pytest.raises(ResourceNotFound):
            adapter.get_volume_snapshot(snapshot.id)
