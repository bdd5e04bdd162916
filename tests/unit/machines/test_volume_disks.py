"""An attached volume's files in the emulated guest: mount, write, umount, and the bytes."""

from __future__ import annotations

from pytest_interop.reference.machines.filesystem import DIR, FILE, Inode
from pytest_interop.reference.machines.volume_disks import (
    decode_disk,
    encode_disk,
    fresh_system_files,
)

KEY = "AAAAC3NzaC1lZDI1NTE5AAAAIFYcuVgKitsktDkH8ojwRPiLaGSnqp"


class Volume:
    """A volume's bytes, as the reference Cinder keeps them."""

    def __init__(self, files=None) -> None:
        self.data = encode_disk(files) if files is not None else b"blank"

    def holds_files(self) -> bool:
        return decode_disk(self.data) is not None

    def files(self):
        return decode_disk(self.data)

    def save(self, files) -> None:
        self.data = encode_disk(files)


def test_encoding_round_trips_and_other_bytes_hold_no_files():
    files = {"/": Inode(DIR, 0, 0, 0o755), "/etc/motd": Inode(FILE, 0, 0, 0o644, "hi\n")}
    assert decode_disk(encode_disk(files)) == files
    assert decode_disk(b"QFI\xfb qcow2 bytes") is None
    assert decode_disk(b"") is None


def test_a_written_file_is_in_the_volume_after_umount(sh, machine):
    volume = Volume(fresh_system_files("ubuntu-22.04", "ubuntu"))
    machine.attach_disk("vdb", 2, content=volume)
    assert sh("lsblk -l -n -o NAME,TYPE,FSTYPE /dev/vdb")[1].split() == [
        "vdb",
        "disk",
        "vdb1",
        "part",
        "ext4",
    ]
    assert sh("mount /dev/vdb1 /mnt")[0] == 1  # only root mounts
    assert sh("sudo mount /dev/vdb1 /mnt")[0] == 0
    assert "/mnt" in sh("lsblk -l -n -o NAME,MOUNTPOINT /dev/vdb")[1]
    assert "ubuntu" in sh("cat /mnt/etc/os-release")[1].lower()
    assert sh("echo kept | sudo tee /mnt/etc/marker")[0] == 0
    status, _, error = sh("sudo mkdir -p /srv && sudo mount /dev/vdb1 /srv")
    assert (status, error) == (32, "mount: /srv: /dev/vdb1 already mounted on /mnt.\n")
    assert sh("sudo umount /mnt")[0] == 0
    assert sh("cat /mnt/etc/marker")[0] == 1  # gone from the guest with the mount
    assert sh("sudo umount /mnt")[2] == "umount: /mnt: not mounted.\n"
    assert volume.files()["/etc/marker"].data == "kept\n"


def test_detach_keeps_what_was_written_and_shows_the_mount_point_again(sh, machine):
    volume = Volume(fresh_system_files("debian-12", "debian"))
    sh("sudo mkdir -p /srv/data && echo under | sudo tee /srv/data/hidden")
    machine.attach_disk("vdb", 1, content=volume)
    assert sh("sudo mount /dev/vdb1 /srv/data && cat /srv/data/hidden")[0] == 1
    sh("echo on-volume | sudo tee /srv/data/root/note")
    machine.detach_disk("vdb")
    assert sh("cat /srv/data/hidden")[1] == "under\n"
    assert volume.files()["/root/note"].data == "on-volume\n"


def test_blank_and_read_only_volumes(sh, machine):
    blank = Volume()
    machine.attach_disk("vdb", 1, content=blank)
    assert sh("lsblk -l -n -o NAME /dev/vdb")[1].split() == ["vdb"]  # no partition
    status, _, error = sh("sudo mount /dev/vdb1 /mnt")
    assert status == 32 and "does not exist" in error
    before = Volume(fresh_system_files("ubuntu-22.04", "ubuntu"))
    data = before.data
    machine.attach_disk("vdc", 1, read_only=True, content=before)
    status, _, error = sh("sudo mount /dev/vdc1 /mnt")
    assert status == 0 and "write-protected, mounted read-only" in error
    sh("echo lost | sudo tee /mnt/etc/lost && sudo umount /mnt")
    assert before.data == data  # a write-protected volume keeps its bytes


def test_a_server_booted_from_the_uploaded_bytes_has_the_files(machine):
    from pytest_interop.reference.machines import MachineHost

    files = fresh_system_files("ubuntu-22.04", "ubuntu")
    files["/etc/marker"] = Inode(FILE, 0, 0, 0o644, "from the volume\n")
    host = MachineHost(2223)
    try:
        booted = host.create(
            "from-upload",
            hostname="up",
            login_user="ubuntu",
            authorized_keys=[f"ssh-ed25519 {KEY} k"],
            vcpus=1,
            ram_mb=512,
            disk_gb=5,
            image_name="ubuntu-22.04",
            root_login="prohibit-password",
            sudo_requires_tty=False,
            password=None,
            disk=decode_disk(encode_disk(files)),
        )
        assert booted.fs.raw_read("/etc/marker") == "from the volume\n"
        assert KEY in (booted.fs.raw_read("/home/ubuntu/.ssh/authorized_keys") or "")
    finally:
        host.close()
