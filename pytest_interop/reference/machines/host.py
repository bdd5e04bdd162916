"""All emulated servers of one reference cloud, sharing one SSH port on many loopback addresses."""

from __future__ import annotations

import threading
from collections.abc import Mapping

from pytest_interop.reference.machines.filesystem import Inode
from pytest_interop.reference.machines.machine import Machine
from pytest_interop.reference.machines.sshd import ThreadGroup

DEFAULT_MAX_CONNECTIONS = 256


class MachineHost:
    """Creates and keeps the machines of one reference cloud. Thread-safe."""

    def __init__(self, ssh_port: int, *, max_connections: int = DEFAULT_MAX_CONNECTIONS) -> None:
        if not 0 < ssh_port < 65536:
            raise ValueError("ssh_port must be a real port: every machine listens on the same one")
        self.ssh_port = ssh_port
        self._machines: dict[str, Machine] = {}
        self._lock = threading.Lock()
        self._connection_slots = threading.BoundedSemaphore(max_connections)
        self._closed = False
        self._background = ThreadGroup("machine-host")  # power actions the guests asked for

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
        disk: Mapping[str, Inode] | None = None,
    ) -> Machine:
        """A booted machine (not yet listening: call `listen(ip)`).

        password: sets the login user's password and `PasswordAuthentication yes` (cloud-init's
        ssh_pwauth); without it the image says `PasswordAuthentication no`.
        disable_root_keys: also put the keys in root's authorized_keys behind cloud-init's
        `disable_root` forced command ("Please login as the user ... rather than the user root",
        exit 142), as Ubuntu and Debian cloud images do.
        """
        with self._lock:
            if self._closed:
                raise RuntimeError("machine host is closed")
            if server_id in self._machines:
                raise ValueError(f"machine {server_id} exists")
        machine = Machine(
            self,
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
            password=password,
            disable_root_keys=disable_root_keys,
            disk=disk,
        )
        with self._lock:
            self._machines[server_id] = machine
        return machine

    def get(self, server_id: str) -> Machine:
        with self._lock:
            return self._machines[server_id]

    def machines(self) -> list[Machine]:
        with self._lock:
            return list(self._machines.values())

    def _forget(self, machine: Machine) -> None:
        with self._lock:
            if self._machines.get(machine.server_id) is machine:
                del self._machines[machine.server_id]

    def close(self) -> None:
        """Destroy every machine: listeners, sessions and their threads end before this returns."""
        with self._lock:
            self._closed = True
        for machine in self.machines():
            machine.destroy()
        self._background.join()

    def __enter__(self) -> MachineHost:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
