"""cloud-init's part of a first boot that a template relies on: the instance's user data.

A user-data script (``#!...``) runs once, as root, after the first boot, its output in
``/var/log/cloud-init-output.log`` as cloud-init keeps it; anything else (``#cloud-config``,
MIME multipart) is stored in ``/var/lib/cloud/instance/user-data.txt`` and left alone, which
the log says.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pytest_interop.reference.machines.image import cred_for, find_account
from pytest_interop.reference.machines.shell import (
    BufferOutput,
    Process,
    StringInput,
    environment_for,
    run_script,
)

if TYPE_CHECKING:
    from pytest_interop.reference.machines.machine import Machine

USER_DATA_PATH = "/var/lib/cloud/instance/user-data.txt"
OUTPUT_LOG = "/var/log/cloud-init-output.log"


def run_user_data(machine: Machine, text: str) -> int | None:
    """Store the user data; run it when it is a script. Returns the script's status."""
    fs = machine.fs
    fs.put_file(USER_DATA_PATH, text, mode=0o600)
    if not text.startswith("#!"):
        _log(machine, "user data is not a script: stored, not run\n")
        return None
    root = find_account(fs, "root")
    if root is None:  # an image without root cannot run anything as root
        _log(machine, "no root account: user data not run\n")
        return None
    output = BufferOutput()
    process = Process(
        machine=machine,
        account=root,
        cred=cred_for(fs, root),
        cwd="/",
        env=environment_for(root),
        stdin=StringInput(""),
        stdout=output,
        stderr=output,
        positional=["/var/lib/cloud/instance/scripts/part-001"],
    )
    status = run_script(process, text)
    _log(machine, output.value())
    if status:
        _log(machine, f"scripts-user: part-001 failed with exit status {status}\n")
    return status


def _log(machine: Machine, text: str) -> None:
    fs = machine.fs
    previous = fs.raw_read(OUTPUT_LOG) or ""
    fs.put_file(OUTPUT_LOG, previous + text, mode=0o640)
