"""Volumes that hold files: an attached volume's filesystem, `mount` and `umount` in the guest.

A bootable volume (made from an image, or a copy of one) holds a root filesystem; a blank one
holds none. The files travel inside the volume's bytes (`encode_disk`), so that what the volume
service already does with bytes (clone, snapshot, checksum, upload to an image) carries them:
a file written under a mounted volume is in the image uploaded from it, and a server booted
from that image finds it.
"""

from __future__ import annotations

import json
import posixpath
from dataclasses import replace
from typing import TYPE_CHECKING, Any, Protocol

from pytest_interop.reference.machines.commands import command, parse_options
from pytest_interop.reference.machines.filesystem import DEVICE, DIR, FILE, Filesystem, Inode
from pytest_interop.reference.machines.image import build_image, distro_for

if TYPE_CHECKING:
    from pytest_interop.reference.machines.shell import Process

DISK_MAGIC = b"reference-cloud-disk/1\n"
Files = dict[str, Inode]


class DiskContent(Protocol):
    """What backs an attached volume: its files (None when blank) and where changes go."""

    def holds_files(self) -> bool: ...

    def files(self) -> Files | None: ...

    def save(self, files: Files) -> None: ...


def encode_disk(files: Files) -> bytes:
    """A volume's bytes holding these files (directories and regular files, with owners)."""
    entries = [
        [path, inode.kind, inode.uid, inode.gid, inode.mode, inode.data]
        for path, inode in sorted(files.items())
        if inode.kind in (DIR, FILE) and inode.provider is None
    ]
    return DISK_MAGIC + json.dumps(entries, separators=(",", ":")).encode()


def decode_disk(data: bytes | None) -> Files | None:
    """The files a volume's (or an image's) bytes hold; None for any other bytes."""
    if not data or not data.startswith(DISK_MAGIC):
        return None
    try:
        entries = json.loads(data[len(DISK_MAGIC) :])
        return {
            str(path): Inode(str(kind), int(uid), int(gid), int(mode), str(text))
            for path, kind, uid, gid, mode, text in entries
        }
    except (ValueError, TypeError):
        return None


def fresh_system_files(image_name: str, login_user: str) -> Files:
    """The root filesystem of a volume made from a stock image: the image's system, as laid
    down before its first boot (no host keys, no authorized keys yet)."""
    fs = Filesystem()
    build_image(
        fs,
        distro=distro_for(image_name),
        hostname="localhost",
        login_user=login_user,
        authorized_keys=[],
        password=None,
        root_login="prohibit-password",
        sudo_requires_tty=False,
        host_public_lines=[],
    )
    return fs.disk_contents()


class Mounts:
    """The machine's mount table for attached volumes (the root disk is always on /)."""

    def __init__(self, machine: Any) -> None:
        self._machine = machine
        # target -> (device name, its content or None when read-only, the nodes the mount
        # hides, the target's own inode)
        self._mounted: dict[str, tuple[str, DiskContent | None, Files, Inode]] = {}

    def target_of(self, device: str) -> str | None:
        return next((t for t, (name, *_) in self._mounted.items() if name == device), None)

    def is_mounted(self, target: str) -> bool:
        return target in self._mounted

    def table(self) -> list[tuple[str, str]]:
        return [(name, target) for target, (name, *_) in sorted(self._mounted.items())]

    def mount(
        self, device: str, content: DiskContent, target: str, *, read_only: bool = False
    ) -> None:
        """read_only: a write-protected disk; what is changed under it is not kept."""
        files = content.files()
        if files is None:
            raise ValueError("wrong fs type, bad option, bad superblock")
        fs = self._machine.fs
        with fs.lock:
            prefix = target.rstrip("/") + "/"
            hidden = {p: fs.raw(p) for p in fs.all_paths() if p.startswith(prefix)}
            for path in hidden:
                fs.drop(path)
            covered = fs.raw(target)
            root = files.get("/") or Inode(DIR, 0, 0, 0o755)
            fs.put_node(target, replace(root))
            for path, inode in files.items():
                if path != "/":
                    fs.put_node(prefix + path.lstrip("/"), replace(inode))
            self._mounted[target] = (device, None if read_only else content, hidden, covered)

    def unmount(self, target: str) -> None:
        """Write the files back to the volume, and show again what the mount hid."""
        _device, content, hidden, covered = self._mounted.pop(target)
        fs = self._machine.fs
        with fs.lock:
            prefix = target.rstrip("/") + "/"
            files: Files = {"/": replace(fs.raw(target) or covered)}
            for path in [p for p in fs.all_paths() if p.startswith(prefix)]:
                inode = fs.raw(path)
                fs.drop(path)
                if inode is not None and inode.kind != DEVICE:
                    files["/" + path[len(prefix) :]] = replace(inode)
            fs.put_node(target, covered)
            for path, inode in hidden.items():
                fs.put_node(path, inode)
        if content is not None:
            content.save(files)

    def release(self, device: str) -> None:
        """The disk goes (detach, rebuild, destroy): what was written under it is kept."""
        target = self.target_of(device)
        if target is not None:
            self.unmount(target)


@command("mount")
def cmd_mount(process: Process, argv: list[str]) -> int:
    flags, operands = parse_options(argv[1:], with_value="ot")
    machine = process.machine
    if not operands:
        process.stdout.write("/dev/vda1 on / type ext4 (rw,relatime)\n")
        for name, target in machine.disks.mounts.table():
            process.stdout.write(f"/dev/{name}1 on {target} type ext4 (rw,relatime)\n")
        return 0
    if not process.cred.is_root:
        process.error("mount: only root can do that.")
        return 1
    if len(operands) != 2:
        process.error("mount: bad usage")
        return 1
    source, target = operands[0], posixpath.normpath(process.path(operands[1]))
    fs_type = flags.get("t")
    if fs_type not in (None, "auto", "ext4"):
        process.error(f"mount: {target}: unknown filesystem type '{fs_type}'.")
        return 32
    partition = posixpath.basename(source)
    disk = partition.removesuffix("1")
    disks = machine.disks
    content = disks.content(disk) if partition != disk else None
    target_inode = process.fs.raw(target)
    if target_inode is None or target_inode.kind != DIR:
        process.error(f"mount: {target}: mount point does not exist.")
        return 32
    if content is None:
        process.error(f"mount: {target}: special device {source} does not exist.")
        return 32
    mounted_on = disks.mounts.target_of(disk)
    if mounted_on is not None:
        process.error(f"mount: {target}: {source} already mounted on {mounted_on}.")
        return 32
    read_only = disks.is_read_only(disk)
    try:
        disks.mounts.mount(disk, content, target, read_only=read_only)
    except ValueError as error:
        process.error(f"mount: {target}: {error} on {source}.")
        return 32
    if read_only:
        process.error(f"mount: {target}: WARNING: source write-protected, mounted read-only.")
    return 0


@command("umount")
def cmd_umount(process: Process, argv: list[str]) -> int:
    _flags, operands = parse_options(argv[1:])
    if not process.cred.is_root:
        process.error("umount: only root can do that.")
        return 1
    mounts = process.machine.disks.mounts
    status = 0
    for operand in operands:
        if operand.startswith("/dev/"):  # the partition, not the mount point
            target = mounts.target_of(posixpath.basename(operand).removesuffix("1"))
        else:
            target = posixpath.normpath(process.path(operand))
        if target is None or not mounts.is_mounted(target):
            process.error(f"umount: {operand}: not mounted.")
            status = 32
            continue
        mounts.unmount(target)
    return status
