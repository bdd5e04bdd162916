"""Servers as real virtual machines, behind the same seam as the emulated ``MachineHost``.

``VmHost(ssh_port).create(...)`` boots a QEMU/KVM guest from the cached Debian image (with the
variant of the image's account and root policy), configured by cloud-init from a NoCloud seed,
and returns once cloud-init finished its first boot. ``listen(ip)`` forwards ``ip:ssh_port`` to
the guest's port 22 through QEMU's user network. Power actions go through QMP.
"""

from __future__ import annotations

import contextlib
import logging
import shutil
import subprocess
import threading
import time
from pathlib import Path
from typing import Any

from pytest_interop.reference.vm.image import GuestImage, Variant, ensure_image
from pytest_interop.reference.vm.qemu import (
    FINISHED,
    GuestError,
    GuestSpec,
    QemuGuest,
    kvm_problem,
)
from pytest_interop.reference.vm.seed import write_seed
from pytest_interop.reference.vm.supervisor import Supervisor

LOG = logging.getLogger(__name__)
BOOT_TIMEOUT = 600.0  # KVM boots in seconds; QEMU's emulator (tcg) takes minutes
SHUTDOWN_TIMEOUT = 30.0
DETACH_TIMEOUT = 20.0
MIN_DISK_GB = 2  # the image's file system; a larger flavor disk is grown by cloud-init


def _qemu_img(*args: str) -> None:
    done = subprocess.run(["qemu-img", *args], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise GuestError(f"qemu-img {args[0]} failed: {done.stderr.strip()[-300:]}")


class VmMachine:
    """One server's guest: its overlay, seed, QEMU process and forwarded addresses."""

    def __init__(
        self,
        host: VmHost,
        server_id: str,
        *,
        hostname: str,
        login_user: str,
        authorized_keys: list[str],
        vcpus: int,
        ram_mb: int,
        disk_gb: int,
        root_login: str,
        sudo_requires_tty: bool,
        user_data: str | None,
        disk: Path | None,
    ) -> None:
        self.host = host
        self.server_id = server_id
        self.hostname = hostname
        self.vcpus, self.ram_mb, self.disk_gb = vcpus, ram_mb, max(disk_gb, MIN_DISK_GB)
        self.variant = Variant(login_user, root_login, sudo_requires_tty)
        self.user_data = user_data
        self.directory = host.supervisor.new_directory(server_id)
        self._lock = threading.RLock()
        self._ips: set[str] = set()
        self._forwarded = False
        self._generation = 0  # a rebuild or snapshot starts a new overlay file
        self.guest: QemuGuest | None = None
        self.boot_seconds: list[float] = []
        try:
            self._new_disk(disk)
            self._write_seed(authorized_keys)
            self._launch()
        except BaseException:  # a guest that did not boot leaves no process and no files
            self._shutdown_fast()
            shutil.rmtree(self.directory, ignore_errors=True)
            raise

    # disks and seed ---------------------------------------------------------------------
    def _new_disk(self, base: Path | None) -> None:
        base = base or self.host.image_disk(self.variant)
        self._generation += 1
        self.disk = self.directory / f"disk{self._generation}.qcow2"
        _qemu_img(
            "create", "-q", "-f", "qcow2", "-b", str(base), "-F", "qcow2",
            str(self.disk), f"{self.disk_gb}G",
        )  # fmt: skip

    def _write_seed(self, authorized_keys: list[str]) -> None:
        self.seed = write_seed(
            self.directory / "seed.iso",
            instance_id=self.server_id,
            hostname=self.hostname,
            public_keys=authorized_keys,
            user_data=self.user_data,
        )

    # the process ------------------------------------------------------------------------
    def _launch(self) -> None:
        image = self.host.image
        spec = GuestSpec(
            name=self.server_id,
            directory=self.directory,
            kernel=image.kernel,
            initrd=image.initrd,
            disk=self.disk,
            seed=self.seed,
            vcpus=self.vcpus,
            ram_mb=self.ram_mb,
        )
        before = self._finished_boots()
        self.guest = QemuGuest(spec, self.host.supervisor.spawn)
        self._wait_boot(before)

    def _finished_boots(self) -> int:
        """Boots cloud-init finished so far: the console file outlives each QEMU process."""
        with contextlib.suppress(FileNotFoundError):
            return len(FINISHED.findall((self.directory / "console.log").read_bytes()))
        return 0

    def _wait_boot(self, before: int) -> None:
        assert self.guest is not None
        self.boot_seconds.append(self.guest.wait_booted(before, BOOT_TIMEOUT))
        self._forward()

    def _forward(self) -> None:
        assert self.guest is not None
        for ip in sorted(self._ips):
            self.guest.forward(ip, self.host.ssh_port)
        self._forwarded = True

    def _unforward(self) -> None:
        if self.guest is not None and self._forwarded:
            for ip in sorted(self._ips):
                self.guest.unforward(ip, self.host.ssh_port)
        self._forwarded = False

    def _shutdown(self) -> None:
        """A clean power-off (ACPI), then the process ends; killed if the guest ignores it."""
        guest = self.guest
        if guest is None:
            return
        self._unforward()
        if guest.alive():
            with contextlib.suppress(GuestError, OSError):
                if guest.status() == "paused":
                    guest.qmp.command("cont")
                guest.qmp.command("system_powerdown")
                guest.wait_status("shutdown", SHUTDOWN_TIMEOUT)
        guest.quit()
        self.guest = None

    # the seam ---------------------------------------------------------------------------
    def listen(self, ip: str) -> None:
        with self._lock:
            if ip in self._ips:
                return
            self._ips.add(ip)
            if self._forwarded and self.guest is not None:
                self.guest.forward(ip, self.host.ssh_port)

    def unlisten(self, ip: str) -> None:
        with self._lock:
            if ip not in self._ips:
                return
            if self._forwarded and self.guest is not None:
                self.guest.unforward(ip, self.host.ssh_port)
            self._ips.discard(ip)

    def listen_ips(self) -> list[str]:
        return sorted(self._ips)

    def console_log(self) -> str:
        path = self.directory / "console.log"
        with contextlib.suppress(FileNotFoundError):
            return path.read_bytes().decode(errors="replace").replace("\r\n", "\n")
        return ""

    def power_off(self) -> None:
        with self._lock:
            self._shutdown()

    def power_on(self) -> None:
        with self._lock:
            if self.guest is not None and self.guest.alive():
                if self.guest.status() == "paused":  # resume: the same boot goes on
                    self.guest.qmp.command("cont")
                    self._forward()
                    return
                if self._forwarded:
                    return  # already running
                self.guest.quit()
            self._launch()

    def suspend(self) -> None:
        """Stop the vCPUs (QMP ``stop``); ``power_on`` continues the same boot."""
        with self._lock:
            if self.guest is None:
                return
            self._unforward()
            self.guest.qmp.command("stop")

    pause = suspend

    def reboot(self) -> None:
        with self._lock:
            self._shutdown()
            self._launch()

    def resize(self, vcpus: int, ram_mb: int, disk_gb: int) -> None:
        with self._lock:
            was_on = self.guest is not None
            self._shutdown()
            self.vcpus, self.ram_mb = vcpus, ram_mb
            if disk_gb > self.disk_gb:
                self.disk_gb = disk_gb
                _qemu_img("resize", "-q", str(self.disk), f"{disk_gb}G")
            if was_on:
                self._launch()

    def rebuild(
        self,
        image_name: str,
        login_user: str,
        authorized_keys: list[str],
        password: str | None = None,
    ) -> None:
        with self._lock:
            self._shutdown()
            self.variant = Variant(
                login_user, self.variant.root_login, self.variant.sudo_requires_tty
            )
            self._new_disk(None)
            self._write_seed(authorized_keys)
            self._launch()

    def attach_disk(self, device: str, size_gb: int, *, read_only: bool = False) -> None:
        name = Path(device).name
        with self._lock:
            if self.guest is None:
                raise GuestError("the guest is off: volumes are hot-plugged into running guests")
            path = self.directory / f"volume-{name}.raw"
            if not path.exists():
                with open(path, "wb") as handle:
                    handle.truncate(size_gb * 2**30)  # sparse: the guest writes what it uses
            self.guest.qmp.command(
                "blockdev-add",
                driver="raw",
                **{"node-name": f"vol-{name}", "read-only": read_only},
                file={"driver": "file", "filename": str(path)},
            )
            self.guest.qmp.command(
                "device_add", driver="virtio-blk-pci", drive=f"vol-{name}", id=f"dev-{name}"
            )

    def detach_disk(self, device: str) -> None:
        name = Path(device).name
        with self._lock:
            if self.guest is None:
                return
            with contextlib.suppress(GuestError):
                self.guest.qmp.command("device_del", id=f"dev-{name}")
            deadline = time.monotonic() + DETACH_TIMEOUT
            while time.monotonic() < deadline:
                present = {
                    item["name"]
                    for item in self.guest.qmp.command("qom-list", path="/machine/peripheral")
                }
                if f"dev-{name}" not in present:
                    break
                time.sleep(0.05)
            with contextlib.suppress(GuestError):
                self.guest.qmp.command("blockdev-del", **{"node-name": f"vol-{name}"})
            with contextlib.suppress(FileNotFoundError):
                (self.directory / f"volume-{name}.raw").unlink()

    def disk_contents(self) -> Path:
        """The disk as it is now, frozen into a file a new server can boot from."""
        with self._lock:
            frozen = self.host.snapshot_path()
            if self.guest is not None:
                current = self.disk
                self._generation += 1
                self.disk = self.directory / f"disk{self._generation}.qcow2"
                # the running overlay becomes read-only, and the new one its writable top
                self.guest.qmp.command(
                    "blockdev-snapshot-sync",
                    device="root",
                    **{"snapshot-file": str(self.disk), "format": "qcow2"},
                )
                frozen.hardlink_to(current)  # outlives the server's directory
            else:
                _qemu_img("convert", "-q", "-O", "qcow2", str(self.disk), str(frozen))
            return frozen

    def destroy(self) -> None:
        with self._lock:
            self._shutdown_fast()
            self.host.forget(self)
            shutil.rmtree(self.directory, ignore_errors=True)

    def _shutdown_fast(self) -> None:
        """Deleting a server pulls its plug: no clean shutdown to wait for."""
        if self.guest is not None:
            self._unforward()
            self.guest.quit(timeout=5)
            self.guest = None

    def rss_bytes(self) -> int:
        return self.guest.rss_bytes() if self.guest else 0


class VmHost:
    """The guests of one reference cloud; all forward the same SSH port on their addresses."""

    def __init__(self, ssh_port: int, *, image: GuestImage | None = None) -> None:
        problem = kvm_problem()
        if problem:
            raise GuestError(problem)
        self.ssh_port = ssh_port
        self.image = image or ensure_image()
        self.supervisor = Supervisor()
        self._machines: dict[str, VmMachine] = {}
        self._lock = threading.Lock()
        self._snapshots = 0

    def image_disk(self, variant: Variant) -> Path:
        return self.image.variant_disk(variant)

    def snapshot_path(self) -> Path:
        with self._lock:
            self._snapshots += 1
            return self.supervisor.new_directory("snapshots") / f"snapshot{self._snapshots}.qcow2"

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
        root_login: str = "prohibit-password",
        sudo_requires_tty: bool = False,
        password: str | None = None,
        disable_root_keys: bool = False,
        disk: Any = None,
        user_data: str | None = None,
    ) -> VmMachine:
        """A booted guest (call ``listen(ip)`` to reach it). ``image_name`` is not needed: the
        variant (account, root policy) is what distinguishes one image from another here."""
        machine = VmMachine(
            self,
            server_id,
            hostname=hostname,
            login_user=login_user,
            authorized_keys=authorized_keys,
            vcpus=vcpus,
            ram_mb=ram_mb,
            disk_gb=disk_gb,
            root_login=root_login,
            sudo_requires_tty=sudo_requires_tty,
            user_data=user_data,
            disk=disk if isinstance(disk, Path) else None,
        )
        with self._lock:
            self._machines[server_id] = machine
        return machine

    def forget(self, machine: VmMachine) -> None:
        with self._lock:
            if self._machines.get(machine.server_id) is machine:
                del self._machines[machine.server_id]

    def machines(self) -> list[VmMachine]:
        with self._lock:
            return list(self._machines.values())

    def close(self) -> None:
        for machine in self.machines():
            with contextlib.suppress(Exception):
                machine.destroy()
        self.supervisor.close()

    def __enter__(self) -> VmHost:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
