"""A machine booted from a snapshot gets the snapshotted disk, as a new instance."""

from __future__ import annotations

from pytest_interop.reference.machines import MachineHost

NEW_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOJZyaLZcm4v1Eg0qkC9hXgzWuPmFAPa5tSukDVcf1tW new"


def boot(host: MachineHost, server_id: str, key: str, disk=None):
    return host.create(
        server_id,
        hostname=server_id,
        login_user="ubuntu",
        authorized_keys=[key],
        vcpus=1,
        ram_mb=1024,
        disk_gb=10,
        image_name="ubuntu-22.04",
        disk=disk,
    )


def test_the_disk_comes_along_and_cloud_init_makes_the_instance_new(machine, sh):
    assert (
        sh("echo kept > data.txt && sudo sh -c 'echo tuned >> /etc/motd' && echo x > /tmp/t")[0]
        == 0
    )
    disk = machine.disk_contents()
    host = MachineHost(2222)
    try:
        copy = boot(host, "copy", NEW_KEY, disk)
        assert copy.fs.raw_read("/home/ubuntu/data.txt") == "kept\n"
        assert copy.fs.raw_read("/etc/motd").endswith("tuned\n")
        assert copy.fs.raw("/tmp/t") is None  # /tmp is not on the disk
        assert copy.hostname == "copy"  # a new instance's name, not the snapshot's
        own_keys = {
            path: copy.fs.raw_read(path) for path in copy.fs.all_paths() if "ssh_host_" in path
        }
        assert own_keys and all(machine.fs.raw_read(p) != key for p, key in own_keys.items())
        keys = copy.fs.raw_read("/home/ubuntu/.ssh/authorized_keys").splitlines()
        assert [k.split()[-1] for k in keys] == ["k", "new"]  # the old key stays, the new is added
    finally:
        host.close()
