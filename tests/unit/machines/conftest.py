from __future__ import annotations

from collections.abc import Iterator

import pytest

from pytest_interop.reference.machines import Machine, MachineHost
from pytest_interop.reference.machines.image import cred_for, find_account
from pytest_interop.reference.machines.shell import (
    BufferOutput,
    Process,
    StringInput,
    environment_for,
    run_script,
)


@pytest.fixture
def machine() -> Iterator[Machine]:
    host = MachineHost(2222)  # nothing listens: these tests run the shell without SSH
    yield host.create(
        "unit",
        hostname="unit-vm",
        login_user="ubuntu",
        authorized_keys=[
            "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFYcuVgKitsktDkH8ojwRPiLaGSnqpI5JH4eWEiW7mIU k"
        ],
        vcpus=2,
        ram_mb=2048,
        disk_gb=20,
        image_name="ubuntu-22.04",
    )
    host.close()


@pytest.fixture
def sh(machine):
    """Run a command line on the machine as a user: returns (status, stdout, stderr)."""

    def run(text: str, *, user: str = "ubuntu", stdin: str = "", pty: bool = False):
        account = find_account(machine.fs, user)
        out, err = BufferOutput(), BufferOutput()
        process = Process(
            machine,
            account,
            cred_for(machine.fs, account),
            account.home,
            environment_for(account),
            StringInput(stdin),
            out,
            err,
            has_pty=pty,
        )
        return run_script(process, text), out.value(), err.value()

    return run
