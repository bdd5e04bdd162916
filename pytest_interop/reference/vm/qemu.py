"""One QEMU/KVM process: how it is started, its QMP socket, and its serial console file.

The guest boots its kernel directly (``-kernel``/``-initrd``: no boot loader, no firmware
menu), its root disk is a qcow2 overlay, its NoCloud seed a CD-ROM, its network QEMU's user
mode (no host network changes; SSH forwards are added and removed on the running process).
``-no-shutdown`` keeps the process when the guest powers off, so a later start is a reset.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

QEMU = "qemu-system-x86_64"
# cloud-init's last line of each boot, printed on the console by its final stage
FINISHED = re.compile(rb"Cloud-init v\. \S+ finished at")
KERNEL_ARGS = "root=/dev/vda ro console=ttyS0,115200 net.ifnames=0 panic=-1"


# The host's CPU, less IA32_ARCH_CAPABILITIES: nested KVM (this project's machines, CI) refuses
# to set that MSR and QEMU aborts; a guest without it runs the same.
CPU = "host,-arch-capabilities"
ACCEL_ENV = "INTEROP_VM_ACCEL"  # "tcg": QEMU's own emulator where KVM cannot run (minutes/boot)


def accel() -> str:
    return "tcg" if os.environ.get(ACCEL_ENV) == "tcg" else "kvm"


class GuestError(RuntimeError):
    pass


def kvm_problem() -> str | None:
    """Why this machine cannot run the guests, or None if it can (with ``accel()``)."""
    if shutil.which(QEMU) is None:
        return f"{QEMU} is not installed (apt-get install qemu-system-x86)"
    if accel() == "tcg":
        return None  # QEMU's emulator runs anywhere, slowly
    try:
        fd = os.open("/dev/kvm", os.O_RDWR | os.O_CLOEXEC)
    except OSError as exc:
        return f"/dev/kvm is not usable ({exc.strerror})"
    os.close(fd)
    if Path("/sys/module/kvm_pvm").exists():
        # Measured: under KVM-PVM (nested, pagetable-based) Debian's kernel hangs after its
        # real-mode setup; the host's dmesg says "kvm-pvm: INTERNAL_ERROR in batch emul".
        return (
            "/dev/kvm is KVM-PVM (nested virtualization without VT-x/AMD-V), which does not "
            "boot an unmodified Debian kernel (INTEROP_VM_ACCEL=tcg emulates, slowly)"
        )
    return None


@dataclass
class GuestSpec:
    name: str
    directory: Path
    kernel: Path
    initrd: Path
    disk: Path
    seed: Path
    vcpus: int
    ram_mb: int


class Qmp:
    """A QMP client: one command at a time, events read and dropped (state is polled)."""

    def __init__(self, path: Path, timeout: float = 10.0) -> None:
        self._lock = threading.Lock()
        deadline = time.monotonic() + timeout
        while True:
            try:
                self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                self._sock.settimeout(timeout)
                self._sock.connect(str(path))
                break
            except OSError:
                self._sock.close()
                if time.monotonic() > deadline:
                    raise GuestError(f"QMP socket {path} did not open") from None
                time.sleep(0.02)
        self._reader = self._sock.makefile("rb")
        self._readline()  # the greeting
        self.command("qmp_capabilities")

    def _readline(self) -> dict[str, Any]:
        line = self._reader.readline()
        if not line:
            raise GuestError("QMP connection closed")
        return json.loads(line)

    def command(self, name: str, **arguments: Any) -> Any:
        message: dict[str, Any] = {"execute": name}
        if arguments:
            message["arguments"] = arguments
        with self._lock:
            self._sock.sendall(json.dumps(message).encode() + b"\n")
            while True:
                reply = self._readline()
                if "return" in reply:
                    return reply["return"]
                if "error" in reply:
                    raise GuestError(f"QMP {name}: {reply['error'].get('desc')}")

    def human(self, command_line: str) -> str:
        output = self.command("human-monitor-command", **{"command-line": command_line})
        if output.strip():
            raise GuestError(f"monitor {command_line!r}: {output.strip()}")
        return output

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self._reader.close()
            self._sock.close()


class QemuGuest:
    """A started QEMU process for ``spec``; ``spawn`` starts it (the supervisor's launcher)."""

    def __init__(self, spec: GuestSpec, spawn: Callable[..., subprocess.Popen]) -> None:
        self.spec = spec
        self.console_path = spec.directory / "console.log"
        qmp_path = spec.directory / "qmp.sock"
        with contextlib.suppress(FileNotFoundError):
            qmp_path.unlink()
        argv = [
            QEMU,
            "-name",
            f"guest={spec.name},debug-threads=off",
            "-machine",
            f"pc,accel={accel()}",
            "-cpu",
            CPU if accel() == "kvm" else "max",
            "-smp",
            str(spec.vcpus),
            "-m",
            str(spec.ram_mb),
            "-nodefaults",
            "-no-user-config",
            "-display",
            "none",
            "-kernel",
            str(spec.kernel),
            "-initrd",
            str(spec.initrd),
            "-append",
            KERNEL_ARGS,
            "-drive",
            f"file={spec.disk},if=none,id=root,format=qcow2,discard=unmap,cache=writeback",
            "-device",
            "virtio-blk-pci,drive=root,id=root-disk",
            "-drive",
            f"file={spec.seed},if=none,id=seed,media=cdrom,readonly=on,format=raw",
            "-device",
            "ide-cd,drive=seed",
            "-netdev",
            "user,id=net0",
            "-device",
            "virtio-net-pci,netdev=net0",
            "-device",
            "virtio-rng-pci",
            "-chardev",
            f"file,id=console,path={self.console_path},append=on",
            "-serial",
            "chardev:console",
            "-qmp",
            f"unix:{qmp_path},server=on,wait=off",
            "-pidfile",
            str(spec.directory / "qemu.pid"),
            "-no-shutdown",
        ]
        self._stderr = open(spec.directory / "qemu.stderr", "ab")  # noqa: SIM115
        self.process = spawn(argv, stdout=subprocess.DEVNULL, stderr=self._stderr)
        try:
            self.qmp = Qmp(qmp_path)
        except (GuestError, OSError):
            self.kill()
            raise GuestError(f"QEMU did not start: {self.stderr_tail()}") from None

    # what the guest says ------------------------------------------------------------------
    def console(self) -> bytes:
        try:
            return self.console_path.read_bytes()
        except FileNotFoundError:
            return b""

    def boots_finished(self) -> int:
        return len(FINISHED.findall(self.console()))

    def stderr_tail(self) -> str:
        with contextlib.suppress(OSError):
            return (self.spec.directory / "qemu.stderr").read_text(errors="replace")[-400:]
        return ""

    def alive(self) -> bool:
        return self.process.poll() is None

    def status(self) -> str:
        return str(self.qmp.command("query-status")["status"])

    def wait_booted(self, finished_before: int, timeout: float) -> float:
        """Wait until cloud-init finished one more boot; seconds waited."""
        started = time.monotonic()
        while self.boots_finished() <= finished_before:
            if not self.alive():
                raise GuestError(f"QEMU exited during boot: {self.stderr_tail()}")
            if time.monotonic() - started > timeout:
                raise GuestError(f"the guest did not finish booting in {timeout:.0f} s")
            time.sleep(0.05)
        return time.monotonic() - started

    def wait_status(self, wanted: str, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.alive() or self.status() == wanted:
                return True
            time.sleep(0.05)
        return False

    # actions ----------------------------------------------------------------------------
    def forward(self, address: str, port: int) -> None:
        self.qmp.human(f"hostfwd_add net0 tcp:{address}:{port}-:22")

    def unforward(self, address: str, port: int) -> None:
        with contextlib.suppress(GuestError):  # "host forwarding rule ... not found" is fine
            self.qmp.command(
                "human-monitor-command",
                **{"command-line": f"hostfwd_remove net0 tcp:{address}:{port}"},
            )

    def quit(self, timeout: float = 10.0) -> None:
        with contextlib.suppress(GuestError, OSError):
            self.qmp.command("quit")
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=timeout)
        self.kill()

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(timeout=10)
        if hasattr(self, "qmp"):
            self.qmp.close()
        self._stderr.close()

    def rss_bytes(self) -> int:
        with contextlib.suppress(OSError):
            for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
        return 0
