"""A machine's block devices: its root disk and the volumes attached to it, as lsblk and /dev
show them, and which of the attached volumes hold files that `mount` can show."""

from __future__ import annotations

from typing import Any

from pytest_interop.reference.machines.filesystem import DEVICE, Filesystem, Inode
from pytest_interop.reference.machines.volume_disks import DiskContent, Mounts

GIB = 1024**3
MIB = 1024**2
ROOT_PARTITION_GAP = 106 * MIB  # what the cloud image's boot and EFI partitions take
BlockDevice = tuple[str, int, str, str, str, bool]  # name, bytes, type, mountpoint, parent, ro


class AttachedDisks:
    """The volumes attached to one machine (not thread-safe: the machine's lock guards it)."""

    def __init__(self, machine: Any) -> None:
        self._sizes: dict[str, int] = {}  # disk name -> size in GB
        self._read_only: set[str] = set()
        self._contents: dict[str, DiskContent] = {}  # the attached volumes that hold files
        self.mounts = Mounts(machine)

    def attach(
        self, name: str, size_gb: int, *, read_only: bool, content: DiskContent | None
    ) -> None:
        if name in self._sizes or name.startswith("vda"):
            raise ValueError(f"{name} is already attached")
        self._sizes[name] = size_gb
        if read_only:
            self._read_only.add(name)
        if content is not None and content.holds_files():
            self._contents[name] = content

    def detach(self, name: str) -> None:
        if name not in self._sizes:
            raise KeyError(name)
        self.mounts.release(name)
        del self._sizes[name]
        self._contents.pop(name, None)
        self._read_only.discard(name)

    def release_mounts(self) -> None:
        """The guest's filesystem goes (rebuild, destroy): what was written under a mounted
        volume is written back to it first."""
        for name in list(self._contents):
            self.mounts.release(name)

    def content(self, name: str) -> DiskContent | None:
        return self._contents.get(name)

    def is_read_only(self, name: str) -> bool:
        return name in self._read_only

    def put_device_nodes(self, fs: Filesystem, root_gb: int) -> None:
        """/dev/vd*: the root disk and its partition, each attached disk and its partition."""
        for path in [p for p in fs.all_paths() if p.startswith("/dev/vd")]:
            fs.drop(path)
        for name, size, _kind, _mountpoint, _parent, read_only in self.block_devices(root_gb):
            fs.put_node(f"/dev/{name}", Inode(DEVICE, 0, 6, 0o660, size=size, read_only=read_only))

    def block_devices(self, root_gb: int) -> list[BlockDevice]:
        """(name, bytes, type, mountpoint, parent, read_only) for lsblk."""
        root = root_gb * GIB
        devices: list[BlockDevice] = [
            ("vda", root, "disk", "", "", False),
            ("vda1", root - ROOT_PARTITION_GAP, "part", "/", "vda", False),
        ]
        for name, size in sorted(self._sizes.items()):
            read_only = name in self._read_only
            devices.append((name, size * GIB, "disk", "", "", read_only))
            if name in self._contents:  # a volume with a filesystem: its one partition
                mountpoint = self.mounts.target_of(name) or ""
                devices.append((f"{name}1", size * GIB - MIB, "part", mountpoint, name, read_only))
        return devices
