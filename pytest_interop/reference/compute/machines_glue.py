"""The one place the compute model meets the SSH machines (``reference.machines``).

Until that package offers ``MachineHost``, servers are API-only: no SSH endpoint, and the
console log is a short boot log without host keys. Machine calls never raise into the API:
a machine failure is logged and the server goes on as the API says.
"""

from __future__ import annotations

import errno
import logging
import socket
from typing import TYPE_CHECKING, Any

from pytest_interop.reference.addresses import allocate_loopback, release_loopback
from pytest_interop.reference.compute.models import system_name

if TYPE_CHECKING:
    from pytest_interop.reference.state import CloudState

LOG = logging.getLogger(__name__)

try:  # the SSH helper's package; absent in API-only builds
    from pytest_interop.reference.machines import MachineHost
    from pytest_interop.reference.machines.volume_disks import (
        DISK_MAGIC,
        decode_disk,
        encode_disk,
        fresh_system_files,
    )
except ImportError:  # pragma: no cover - depends on what is installed
    MachineHost = None  # type: ignore[assignment,misc]


def machines_available() -> bool:
    return MachineHost is not None


def pick_ssh_port() -> int:
    """22 if this process may bind it on loopback, otherwise a free port."""
    probe_ip = allocate_loopback()
    try:
        for port in (22, 0):
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                try:
                    sock.bind((probe_ip if port == 22 else "127.0.0.1", port))
                except OSError as exc:
                    if exc.errno in (errno.EACCES, errno.EADDRINUSE, errno.EPERM):
                        continue
                    raise
                return sock.getsockname()[1]
    finally:
        release_loopback(probe_ip)
    raise OSError("no SSH port could be bound on loopback")


class MachineGlue:
    """Creates, drives and destroys one machine per ACTIVE server."""

    def __init__(self, ssh_port: int, *, enabled: bool = True, backend: str = "emulated") -> None:
        self.ssh_port = ssh_port
        self.backend = backend
        if enabled and backend == "vm":  # real QEMU/KVM guests (reference.vm)
            from pytest_interop.reference.vm.machine import VmHost

            self._host: Any = VmHost(ssh_port)
        else:
            self._host = MachineHost(ssh_port) if (enabled and MachineHost) else None
        self._machines: dict[str, Any] = {}
        self._snapshot_disks: dict[str, Any] = {}  # image id -> the disk a snapshot took

    @property
    def enabled(self) -> bool:
        return self._host is not None

    def has(self, server_id: str) -> bool:
        return server_id in self._machines

    def create(
        self,
        server_id: str,
        *,
        hostname: str,
        login_user: str,
        authorized_keys: list[str],
        vcpus: int,
        ram_mb: int,
        disk_gb: int,
        image_name: str,
        root_login: str,
        sudo_requires_tty: bool,
        image_id: str | None = None,
        user_data: str | None = None,
        image_data: bytes | None = None,
    ) -> bool:
        """image_data: the image's bytes; an image uploaded from a volume holds its files."""
        if self._host is None:
            return True
        extra = {"user_data": user_data} if self.backend == "vm" else {}
        disk = self._snapshot_disks.get(image_id) if image_id else None
        if disk is None and self.backend != "vm":
            disk = decode_disk(image_data)
        try:
            machine = self._host.create(
                server_id,
                hostname=hostname,
                login_user=login_user,
                authorized_keys=authorized_keys,
                vcpus=vcpus,
                ram_mb=ram_mb,
                disk_gb=disk_gb,
                image_name=image_name,
                root_login=root_login,
                sudo_requires_tty=sudo_requires_tty,
                disk=disk,
                **extra,
            )
        except Exception:
            LOG.exception("reference cloud: machine for server %s could not be created", server_id)
            return False
        self._machines[server_id] = machine
        return True

    def _call(self, server_id: str, method: str, *args: Any, **options: Any) -> None:
        machine = self._machines.get(server_id)
        if machine is None:
            return
        try:
            getattr(machine, method)(*args, **options)
        except Exception:
            LOG.exception("reference cloud: machine %s of server %s failed", method, server_id)

    def listen(self, server_id: str, address: str) -> None:
        self._call(server_id, "listen", address)

    def unlisten(self, server_id: str, address: str) -> None:
        self._call(server_id, "unlisten", address)

    def run_user_data(self, server_id: str, text: str) -> None:
        self._call(server_id, "run_user_data", text)

    def power_off(self, server_id: str) -> None:
        self._call(server_id, "power_off")

    def power_on(self, server_id: str) -> None:
        self._call(server_id, "power_on")

    def suspend(self, server_id: str) -> None:
        self._call(server_id, "suspend")

    def pause(self, server_id: str) -> None:
        """A guest that can pause (a VM: its vCPUs stop) pauses; an emulated one powers off."""
        machine = self._machines.get(server_id)
        self._call(server_id, "pause" if hasattr(machine, "pause") else "power_off")

    def reboot(self, server_id: str) -> None:
        self._call(server_id, "reboot")

    def resize(self, server_id: str, vcpus: int, ram_mb: int, disk_gb: int) -> None:
        self._call(server_id, "resize", vcpus, ram_mb, disk_gb)

    def rebuild(
        self, server_id: str, image_name: str, login_user: str, authorized_keys: list[str]
    ) -> None:
        self._call(server_id, "rebuild", image_name, login_user, authorized_keys)

    def attach_disk(
        self,
        server_id: str,
        device: str,
        size_gb: int,
        *,
        read_only: bool = False,
        volume: VolumeFiles | None = None,
    ) -> None:
        """The volume's disk in the guest; read_only for a volume whose readonly flag is set.
        An emulated guest also sees the volume's files (a VM's disk is a blank one)."""
        extra = {"content": volume} if volume is not None and self.backend != "vm" else {}
        self._call(server_id, "attach_disk", device, size_gb, read_only=read_only, **extra)

    def detach_disk(self, server_id: str, device: str) -> None:
        self._call(server_id, "detach_disk", device)

    def take_snapshot(self, server_id: str, image_id: str) -> None:
        """Keep a copy of the server's disk as the image's: a server booted from it gets it."""
        machine = self._machines.get(server_id)
        if machine is not None:
            self._snapshot_disks[image_id] = machine.disk_contents()

    def snapshot_disk(self, image_id: str) -> Any:
        """The disk a server snapshot took for this image, if any."""
        return self._snapshot_disks.get(image_id)

    def forget_snapshot(self, image_id: str) -> None:
        self._snapshot_disks.pop(image_id, None)

    def destroy(self, server_id: str) -> None:
        machine = self._machines.pop(server_id, None)
        if machine is not None:
            try:
                machine.destroy()
            except Exception:
                LOG.exception("reference cloud: machine of server %s not destroyed", server_id)

    def console_log(self, server_id: str, hostname: str) -> str:
        machine = self._machines.get(server_id)
        if machine is not None:
            try:
                return str(machine.console_log())
            except Exception:
                LOG.exception("reference cloud: console log of server %s failed", server_id)
        return (
            f"[    0.000000] Linux version 5.15.0 (reference cloud)\n"
            f"Cloud-init v. 23.1 running 'init' for {hostname}\n"
            f"Cloud-init v. 23.1 finished. Datasource DataSourceOpenStack.\n"
        )

    def close(self) -> None:
        for server_id in list(self._machines):
            self.destroy(server_id)
        if self._host is not None:
            try:
                self._host.close()
            except Exception:
                LOG.exception("reference cloud: machine host did not close")


class VolumeFiles:
    """A Cinder volume's files, as an emulated guest that attaches it sees them
    (``reference.machines.volume_disks``): those its bytes hold once written through a mount,
    else, for a volume made from an image, that image's system; a blank volume holds none."""

    def __init__(self, state: CloudState, volume_id: str) -> None:
        self._state = state
        self._volume_id = volume_id

    def _volume(self) -> Any:
        return self._state.volume.volumes.get(self._volume_id)

    def holds_files(self) -> bool:
        with self._state.lock:
            volume = self._volume()
            if volume is None:
                return False
            return volume.data.startswith(DISK_MAGIC) or "image_id" in volume.image_metadata

    def files(self) -> Any:
        with self._state.lock:
            volume = self._volume()
            if volume is None:
                return None
            written = decode_disk(volume.data)
            if written is not None:
                return written
            image_id = volume.image_metadata.get("image_id")
            if image_id is None:
                return None
            taken = self._state.machines.snapshot_disk(image_id)
            if isinstance(taken, dict):  # an image snapshotted from an emulated server
                return dict(taken)
            made_from = volume.image_metadata  # the image's own record may be gone by now
            system = system_name(
                {"os_distro": made_from.get("os_distro"), "name": made_from.get("image_name")},
                image_id,
            )
            login_user = self._state.image.guest_traits(image_id).login_user
        return fresh_system_files(system, login_user)

    def save(self, files: Any) -> None:
        data = encode_disk(files)
        with self._state.lock:
            volume = self._volume()
            if volume is not None:
                volume.data = data
