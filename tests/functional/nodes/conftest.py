from __future__ import annotations

from collections.abc import Iterator

import pytest

from pytest_interop.reference.machines import Machine, MachineHost
from tests.functional.machines.helpers import free_port, loopback_ip, new_key


@pytest.fixture
def host() -> Iterator[MachineHost]:
    machine_host = MachineHost(free_port())
    yield machine_host
    machine_host.close()


@pytest.fixture
def user_key():
    return new_key()


@pytest.fixture
def make_machine(host: MachineHost, user_key):
    """Create a listening machine; keyword arguments go to MachineHost.create."""
    counter = iter(range(1, 10_000))

    def make(**options) -> tuple[Machine, str]:
        number = next(counter)
        settings = {
            "hostname": f"vm-{number}",
            "login_user": "ubuntu",
            "authorized_keys": [user_key[1]],
            "vcpus": 2,
            "ram_mb": 2048,
            "disk_gb": 20,
            "image_name": "ubuntu-22.04",
        }
        settings.update(options)
        machine = host.create(f"server-{number}", **settings)
        ip = loopback_ip()
        machine.listen(ip)
        return machine, ip

    return make
