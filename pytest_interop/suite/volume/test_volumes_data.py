"""What volumes carry: snapshots, clones, volumes made from an image, and uploads to an image.

Capabilities: volumes-v{2,3}-snapshot-create-delete, -clone, -copy-image-to-volume, and
volumes-v{2,3}-upload. Content is compared where the cloud lets the tester read a volume's bytes
back, which is an upload to the image service: two volumes of the same size uploaded the same
way give images with the same checksum exactly when they hold the same bytes. The v3 upload
test also writes a file into the volume's filesystem (mounted in a server of the test's own)
and reads it back in a server booted from the uploaded image: what a user who customises a
boot volume and turns it into an image depends on. (2017.01's v2 test keeps its one boot.)
"""

from __future__ import annotations

import pytest

from pytest_interop.clouds.base import Cloud, Image, ResourceNotFound
from pytest_interop.errors import NotApplicable
from pytest_interop.fixtures import BootedServer, booted_server, connected_node
from pytest_interop.suite.volume.conftest import (
    VolumeBox,
    guest_disks,
    metadata_without_run_tags,
    unique,
    wait_for_guest_disks,
)

UPLOAD_MARKER = "/etc/interop-upload-marker"  # where cloud-init and first boot leave files be
FILESYSTEMS = ("ext4", "ext3", "ext2", "xfs", "btrfs")


def content_checksum(box: VolumeBox, volume_id: str) -> str | None:
    """The checksum of the volume's bytes, read back through an upload to an image."""
    image = box.upload(volume_id)
    checksum = box.cloud.image_checksum(image.id)
    box.cloud.delete_image(image.id)
    box.forget("image", image.id)
    return checksum


def comparable_content(box: VolumeBox) -> bool:
    """Whether this cloud can show a volume's bytes: Cinder uploads to Glance, EBS does not."""
    return box.cloud.provider == "openstack"


def image_volume(box: VolumeBox, cloud: Cloud) -> tuple[Image, object]:
    image = cloud.discover_image()
    size = max(1, image.min_disk_gb)
    return image, box.volume(size, image=image)


# --- snapshot-create-delete ----------------------------------------------------------------------


def check_snapshot_lifecycle(box: VolumeBox) -> None:
    volume = box.volume(1, metadata={"kind": "source"})
    snapshot = box.snapshot(volume.id, name=unique("snap"), metadata={"why": "backup"})
    assert snapshot.status == "available"
    assert snapshot.volume_id == volume.id
    assert snapshot.size_gb == volume.size_gb
    fetched = box.cloud.get_volume_snapshot(snapshot.id)
    assert fetched.name == snapshot.name
    assert metadata_without_run_tags(fetched.metadata) == {"why": "backup"}
    assert snapshot.id in {s.id for s in box.cloud.list_volume_snapshots()}
    assert box.cloud.get_volume(volume.id).status == "available"  # the source is untouched

    box.cloud.delete_volume_snapshot(snapshot.id)
    box.forget("snapshot", snapshot.id)
    with pytest.raises(ResourceNotFound):
        box.cloud.get_volume_snapshot(snapshot.id)
    assert snapshot.id not in {s.id for s in box.cloud.list_volume_snapshots()}
    assert box.cloud.get_volume(volume.id).status == "available"


def check_restore_from_snapshot(box: VolumeBox, cloud: Cloud) -> None:
    """A volume made from a snapshot has its size (or more) and the source's bytes."""
    _image, source = image_volume(box, cloud)
    snapshot = box.snapshot(source.id)
    restored = box.volume(None, snapshot=snapshot.id)
    assert restored.size_gb == snapshot.size_gb
    assert restored.source_snapshot_id == snapshot.id
    bigger = box.volume(snapshot.size_gb + 1, snapshot=snapshot.id)
    assert bigger.size_gb == snapshot.size_gb + 1
    if comparable_content(box):
        assert content_checksum(box, restored.id) == content_checksum(box, source.id)


@pytest.mark.idempotent_id("553583d3-e347-4e75-9218-c11c9319fa28")
def test_v2_snapshot_is_created_listed_and_deleted(volumes_v2):
    check_snapshot_lifecycle(volumes_v2)


@pytest.mark.idempotent_id("326fbf4a-1313-4da3-9ccc-d3b6eb375142")
def test_v3_snapshot_is_created_listed_and_deleted(volumes_v3):
    check_snapshot_lifecycle(volumes_v3)


@pytest.mark.idempotent_id("119470ba-b86c-4a4b-b6f4-17835147e16a")
def test_v2_volume_from_snapshot_carries_size_and_content(volumes_v2, cloud):
    check_restore_from_snapshot(volumes_v2, cloud)


@pytest.mark.idempotent_id("9b9f2b52-36e4-483a-a59d-f296a3f3bddc")
def test_v3_volume_from_snapshot_carries_size_and_content(volumes_v3, cloud):
    check_restore_from_snapshot(volumes_v3, cloud)


# --- clone -------------------------------------------------------------------------------------


def check_clone(box: VolumeBox, cloud: Cloud) -> None:
    _image, source = image_volume(box, cloud)
    clone = box.volume(None, source_volume=source.id)
    assert clone.source_volume_id == source.id
    assert clone.size_gb == source.size_gb
    assert clone.bootable == source.bootable
    assert box.cloud.get_volume(source.id).status == "available"
    if comparable_content(box):
        blank = box.volume(source.size_gb)
        clone_sum = content_checksum(box, clone.id)
        assert clone_sum == content_checksum(box, source.id), "the clone's bytes differ"
        assert clone_sum != content_checksum(box, blank.id), "the clone is blank"


def check_clone_size_rules(box: VolumeBox) -> None:
    source = box.volume(2)
    bigger = box.volume(3, source_volume=source.id)
    assert bigger.size_gb == 3
    with pytest.raises(Exception) as refused:
        box.volume(1, source_volume=source.id)
    assert not isinstance(refused.value, AssertionError)


@pytest.mark.idempotent_id("89877dc1-34d3-46d2-9973-ef7bbe46f12d")
def test_v2_clone_carries_the_source_content(volumes_v2, cloud):
    check_clone(volumes_v2, cloud)


@pytest.mark.idempotent_id("22f390b4-cf73-489a-9620-e3966093a9a5")
def test_v3_clone_carries_the_source_content(volumes_v3, cloud):
    check_clone(volumes_v3, cloud)


@pytest.mark.idempotent_id("6814fbd0-4936-44db-ba2e-94904f9b77bf")
def test_v2_clone_may_grow_and_may_not_shrink(volumes_v2):
    check_clone_size_rules(volumes_v2)


@pytest.mark.idempotent_id("1459e6ec-2d2d-4c98-9a83-5c052eed4550")
def test_v3_clone_may_grow_and_may_not_shrink(volumes_v3):
    check_clone_size_rules(volumes_v3)


# --- copy-image-to-volume ------------------------------------------------------------------------


def check_image_to_volume(box: VolumeBox, cloud: Cloud, record_finding) -> None:
    image, volume = image_volume(box, cloud)
    record_finding("volume_source_image", image.name)
    assert volume.status == "available"
    assert volume.bootable is True, "a volume made from an image must be bootable"
    assert volume.source_image_id == image.id
    assert volume.size_gb >= max(1, image.min_disk_gb)
    if comparable_content(box):
        blank = box.volume(volume.size_gb)
        assert content_checksum(box, volume.id) != content_checksum(box, blank.id), (
            "the volume made from an image holds no more than a blank one"
        )


@pytest.mark.idempotent_id("1142be42-98e6-40f6-958d-d8b7049d15d9")
def test_v2_volume_from_image_is_bootable_and_holds_the_image(volumes_v2, cloud, record_finding):
    check_image_to_volume(volumes_v2, cloud, record_finding)


@pytest.mark.idempotent_id("445eaac4-b961-442a-8277-141ac4bd499c")
def test_v3_volume_from_image_is_bootable_and_holds_the_image(volumes_v3, cloud, record_finding):
    check_image_to_volume(volumes_v3, cloud, record_finding)


# --- volumes-v2-upload, volumes-v3-upload ----------------------------------------------------


def check_upload_makes_an_image(box: VolumeBox, cloud: Cloud) -> None:
    volume = box.volume(1, name=unique("upload"))
    name = unique("uploaded")
    image = box.upload(volume.id, image_name=name)
    assert image.status == "active"
    assert image.name == name
    assert cloud.get_image(image.id).id == image.id
    assert image.min_disk_gb in (0, volume.size_gb)
    assert box.cloud.get_volume(volume.id).status == "available"  # back to usable


def root_partition(node, disk: str) -> tuple[str, str]:
    """(name, filesystem type) of the disk's largest partition holding a filesystem."""
    listing = node.run(["lsblk", "-l", "-n", "-b", "-o", "NAME,TYPE,FSTYPE,SIZE", f"/dev/{disk}"])
    found = []
    for line in listing.stdout.splitlines():
        fields = line.split()
        if len(fields) == 4 and fields[1] in ("part", "disk") and fields[2] in FILESYSTEMS:
            found.append((int(fields[3]), fields[0], fields[2]))
    assert found, f"the volume made from an image shows no filesystem: {listing.stdout!r}"
    _size, name, filesystem = max(found)
    return name, filesystem


def write_into_volume(box: VolumeBox, cloud: Cloud, keypair, volume_id: str, text: str) -> None:
    """Attach the volume to a server of the test's own, mount its root filesystem, write
    UPLOAD_MARKER there, unmount and detach: as a user customises a volume before an upload."""
    with booted_server(cloud, keypair) as writer, connected_node(writer) as node:
        before = guest_disks(node)
        box.cloud.attach_volume(writer.id, volume_id)
        after = wait_for_guest_disks(
            node, lambda disks: set(disks) - set(before), what="the volume to appear"
        )
        (disk,) = sorted(set(after) - set(before))
        partition, filesystem = root_partition(node, disk)
        mountpoint = "/mnt/interop-upload"
        same_image = ["-o", "nouuid"] if filesystem == "xfs" else []  # the writer's root's UUID
        node.run(["mkdir", "-p", mountpoint], sudo=True)
        node.run(["mount", *same_image, f"/dev/{partition}", mountpoint], sudo=True)
        try:
            node.run(["tee", mountpoint + UPLOAD_MARKER], sudo=True, input=text + "\n")
            node.run(["sync"], sudo=True)
        finally:
            node.run(["umount", mountpoint], sudo=True)
        box.cloud.detach_volume(writer.id, volume_id)
        wait_for_guest_disks(node, lambda disks: disk not in disks, what=f"{disk} to go")


def check_uploaded_image_boots(
    box: VolumeBox, cloud: Cloud, keypair, record_finding, *, written: bool = False
) -> None:
    """A bootable volume uploaded to an image boots a server that logs in and runs the
    system the volume held (its os-release names the source image's distribution); with
    `written`, a file written into the volume first is on the booted server's disk."""
    source_image, volume = image_volume(box, cloud)
    token = unique("written-to-the-volume")
    if written:
        if not comparable_content(box):
            box.upload(volume.id)  # before a server is booted to write: EBS says it cannot
        write_into_volume(box, cloud, keypair, volume.id, token)
    if comparable_content(box):
        blank = box.volume(volume.size_gb)
        assert content_checksum(box, volume.id) != content_checksum(box, blank.id), (
            "the image uploaded from a bootable volume holds no more than a blank volume's"
        )
    uploaded = box.upload(volume.id)
    image = cloud.get_image(uploaded.id)
    flavor = cloud.discover_flavor(image)
    try:
        rule = cloud.allow_ssh()
    except NotApplicable:
        rule = None
    server = cloud.create_server(
        image=image,
        flavor=flavor,
        network=cloud.discover_network(),
        key_name=keypair.name,
        security_rule=rule,
    )
    try:
        reachable = cloud.reachable_address(server)
        booted = BootedServer(cloud, server, image, flavor, keypair, reachable)
        with connected_node(booted) as node:
            assert node.run(["true"]).ok
            record_finding("uploaded_image_login", booted.findings.get("ssh_login_user"))
            release = node.run(["cat", "/etc/os-release"]).stdout
            distro = {
                k: v.strip('"')
                for k, _, v in (line.partition("=") for line in release.splitlines())
            }.get("ID")
            record_finding("uploaded_image_distro", distro)
            if source_image.os_distro:
                assert distro == source_image.os_distro, (
                    f"the server booted from the upload runs {distro!r}, the volume held "
                    f"{source_image.os_distro!r}"
                )
            if written:
                found = node.run(["cat", UPLOAD_MARKER], check=False)
                assert found.exit_status == 0, (
                    f"{UPLOAD_MARKER}, written to the volume before its upload, is not on the "
                    f"disk of the server booted from the image: {found.stderr.strip()}"
                )
                assert found.stdout.strip() == token, (
                    f"{UPLOAD_MARKER} holds {found.stdout.strip()!r}, {token!r} was written"
                )
    finally:
        cloud.delete_server(server.id)


@pytest.mark.idempotent_id("fed7b0b0-a648-4fdd-bf1f-ec59c8497d9b")
def test_v2_upload_makes_an_active_image_of_the_volume(volumes_v2, cloud):
    check_upload_makes_an_image(volumes_v2, cloud)


@pytest.mark.idempotent_id("c56d483d-cdfe-4502-9a60-dd22155faaa9")
def test_v3_upload_makes_an_active_image_of_the_volume(volumes_v3, cloud):
    check_upload_makes_an_image(volumes_v3, cloud)


@pytest.mark.idempotent_id("fa2c8abf-70c6-41b0-a243-8cbff63d7a36")
def test_v2_image_uploaded_from_a_bootable_volume_boots_and_logs_in(
    volumes_v2, cloud, keypair, record_finding
):
    check_uploaded_image_boots(volumes_v2, cloud, keypair, record_finding)


@pytest.mark.idempotent_id("bcadc4ee-2603-4393-8f1a-ff9d6751760e")
def test_v3_image_uploaded_from_a_bootable_volume_boots_and_holds_what_was_written(
    volumes_v3, cloud, keypair, record_finding
):
    check_uploaded_image_boots(volumes_v3, cloud, keypair, record_finding, written=True)
