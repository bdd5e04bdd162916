"""Volumes as disks: attach and detach through the compute API, seen inside the server.

Capabilities: volumes-v{2,3}-attach-detach, -readonly, -reserve, and compute-volume-attach.
The tests attach to one server booted for this module, one test at a time, and each detaches
what it attached: before every test the server is checked to have no volume attached, in the
compute API and in the guest (as right after its boot), and replaced if a test left one
(``module_server_fixtures``).
"""

from __future__ import annotations

import pytest

from pytest_interop.fixtures import BootedServer, module_server_fixtures
from pytest_interop.suite.volume.conftest import VolumeBox, guest_disks, wait_for_guest_disks

GIB = 1024**3


def attached_state(booted: BootedServer, node) -> tuple[list[str], list[str]]:
    """What an attach changes: the volumes the compute API lists, the guest's disks."""
    attached = sorted(a.volume_id for a in booted.cloud.list_server_volumes(booted.id))
    return attached, sorted(guest_disks(node))


module_server, server, node = module_server_fixtures(state=attached_state)


def attach_and_find_disk(box: VolumeBox, server, node, size_gb: int = 1) -> tuple[str, str]:
    """Attach a new volume; returns (volume id, the guest's name of the new disk)."""
    before = guest_disks(node)
    volume = box.volume(size_gb)
    attachment = box.cloud.attach_volume(server.id, volume.id)
    assert attachment.server_id == server.id
    after = wait_for_guest_disks(
        node, lambda disks: set(disks) - set(before), what="the attached volume to appear"
    )
    new = sorted(set(after) - set(before))
    assert len(new) == 1, f"one new disk expected, the guest shows {new}"
    assert after[new[0]] == size_gb * GIB, f"{new[0]} has {after[new[0]]} bytes"
    return volume.id, new[0]


def check_attach_write_detach(box: VolumeBox, server, node, record_finding) -> None:
    volume_id, disk = attach_and_find_disk(box, server, node, size_gb=2)
    record_finding("attached_disk_name", disk)
    volume = box.cloud.get_volume(volume_id)
    assert volume.status == "in-use"
    assert [a.server_id for a in volume.attachments] == [server.id]

    node.run(["dd", "if=/dev/zero", f"of=/dev/{disk}", "bs=1M", "count=1"], sudo=True)

    with pytest.raises(Exception) as refused:  # an attached volume cannot be deleted
        box.cloud.delete_volume(volume_id, wait=False)
    assert not isinstance(refused.value, AssertionError)
    assert box.cloud.get_volume(volume_id).status == "in-use"

    box.cloud.detach_volume(server.id, volume_id)
    wait_for_guest_disks(node, lambda disks: disk not in disks, what=f"{disk} to go")
    volume = box.cloud.get_volume(volume_id)
    assert volume.status == "available"
    assert not volume.attachments


def check_attach_once_and_again(box: VolumeBox, server, node) -> None:
    volume_id, disk = attach_and_find_disk(box, server, node)
    with pytest.raises(Exception) as refused:  # an in-use volume does not attach twice
        box.cloud.attach_volume(server.id, volume_id, timeout=30)
    assert not isinstance(refused.value, AssertionError)
    assert box.cloud.get_volume(volume_id).status == "in-use"
    box.cloud.detach_volume(server.id, volume_id)
    wait_for_guest_disks(node, lambda disks: disk not in disks, what=f"{disk} to go")

    before = guest_disks(node)
    box.cloud.attach_volume(server.id, volume_id)  # a detached volume attaches again
    after = wait_for_guest_disks(
        node, lambda disks: set(disks) - set(before), what="the volume to come back"
    )
    assert len(set(after) - set(before)) == 1
    box.cloud.detach_volume(server.id, volume_id)


@pytest.mark.idempotent_id("99a8b7b8-4eaa-44b8-8c48-e517ffad9c1a")
def test_v2_attached_volume_is_a_writable_disk_and_detach_removes_it(
    volumes_v2, server, node, record_finding
):
    check_attach_write_detach(volumes_v2, server, node, record_finding)


@pytest.mark.idempotent_id("2c894118-10d0-4795-b666-b4b5118c3352")
def test_v3_attached_volume_is_a_writable_disk_and_detach_removes_it(
    volumes_v3, server, node, record_finding
):
    check_attach_write_detach(volumes_v3, server, node, record_finding)


@pytest.mark.idempotent_id("0bf54342-0ddc-4d1b-b4b4-87b01326701a")
def test_v2_volume_attaches_once_and_again_after_detach(volumes_v2, server, node):
    check_attach_once_and_again(volumes_v2, server, node)


@pytest.mark.idempotent_id("42c9b0c0-443d-4f00-a8ac-bf7998c696be")
def test_v3_volume_attaches_once_and_again_after_detach(volumes_v3, server, node):
    check_attach_once_and_again(volumes_v3, server, node)


# --- compute-volume-attach -------------------------------------------------------------------


@pytest.mark.idempotent_id("26e085b9-df82-4d36-be97-393601f2f2eb")
def test_compute_api_reports_the_attached_volume(volumes_v3, cloud, server, node):
    volume_id, disk = attach_and_find_disk(volumes_v3, server, node)
    listed = {a.volume_id: a for a in cloud.list_server_volumes(server.id)}
    assert volume_id in listed, f"the compute API lists {sorted(listed)}"
    assert listed[volume_id].device, "the compute API names no device"
    cloud.detach_volume(server.id, volume_id)
    wait_for_guest_disks(node, lambda disks: disk not in disks, what=f"{disk} to go")
    assert volume_id not in {a.volume_id for a in cloud.list_server_volumes(server.id)}


# --- readonly ----------------------------------------------------------------------------------


# What Linux answers a write to a read-only disk: EROFS when the open is refused, EPERM when
# the block layer refuses the write itself (blkdev_write_iter).
READ_ONLY_REFUSALS = ("Read-only file system", "Operation not permitted")


def check_readonly(box: VolumeBox, server, node) -> None:
    volume = box.volume(1)
    box.cloud.set_volume_read_only(volume.id, True)
    assert box.cloud.get_volume(volume.id).read_only is True

    before = guest_disks(node)
    box.cloud.attach_volume(server.id, volume.id)
    after = wait_for_guest_disks(node, lambda d: set(d) - set(before), what="the volume to appear")
    (disk,) = sorted(set(after) - set(before))
    assert box.cloud.get_volume(volume.id).read_only is True  # attaching keeps the flag
    # the attach mode reaches the guest: the kernel marks the disk read-only and refuses writes
    ro_flag = node.run(["lsblk", "-n", "-d", "-o", "RO", f"/dev/{disk}"]).stdout.strip()
    assert ro_flag == "1", f"lsblk shows RO={ro_flag!r} for the read-only volume {disk}"
    write = node.run(
        ["dd", "if=/dev/zero", f"of=/dev/{disk}", "bs=4k", "count=1", "conv=fsync"],
        sudo=True,
        check=False,
    )
    assert write.exit_status != 0, f"the guest wrote to the read-only volume {disk}"
    refusal = write.stdout + write.stderr  # with a pty (requiretty) both arrive as stdout
    assert any(reason in refusal for reason in READ_ONLY_REFUSALS), refusal[-300:]

    box.cloud.detach_volume(server.id, volume.id)
    wait_for_guest_disks(node, lambda d: disk not in d, what=f"{disk} to go")
    box.cloud.set_volume_read_only(volume.id, False)
    assert box.cloud.get_volume(volume.id).read_only is False


@pytest.mark.idempotent_id("c77e1694-17f9-44b5-8608-770178b6e51e")
def test_v2_readonly_flag_is_kept_through_attachment(volumes_v2, server, node):
    check_readonly(volumes_v2, server, node)


@pytest.mark.idempotent_id("e61e0c52-e85e-468b-9b4b-e1a020d1ef4d")
def test_v3_readonly_flag_is_kept_through_attachment(volumes_v3, server, node):
    check_readonly(volumes_v3, server, node)


# --- reserve -----------------------------------------------------------------------------------


def check_reserve(box: VolumeBox, server, node) -> None:
    volume = box.volume(1)
    box.cloud.reserve_volume(volume.id)
    reserved = box.cloud.get_volume(volume.id)
    assert reserved.status in ("attaching", "reserved"), reserved.status
    before = guest_disks(node)
    with pytest.raises(Exception) as refused:  # nobody else may attach a reserved volume
        box.cloud.attach_volume(server.id, volume.id, timeout=30)
    assert not isinstance(refused.value, AssertionError)
    assert guest_disks(node) == before

    box.cloud.unreserve_volume(volume.id)
    assert box.cloud.get_volume(volume.id).status == "available"
    box.cloud.attach_volume(server.id, volume.id)
    wait_for_guest_disks(node, lambda d: set(d) - set(before), what="the volume to appear")
    box.cloud.detach_volume(server.id, volume.id)


@pytest.mark.idempotent_id("73f2d99c-066c-40a4-9c91-351a312042ff")
def test_v2_reserved_volume_cannot_be_attached_until_unreserved(volumes_v2, server, node):
    check_reserve(volumes_v2, server, node)


@pytest.mark.idempotent_id("c6459556-707a-4cc3-9d33-8353a4432150")
def test_v3_reserved_volume_cannot_be_attached_until_unreserved(volumes_v3, server, node):
    check_reserve(volumes_v3, server, node)
