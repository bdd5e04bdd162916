"""Nothing left behind: a guest process dies with the process that started it, even on SIGKILL,
and the next start reaps whatever a dead owner left (processes naming its directory, files)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from pytest_interop.reference.vm.supervisor import OWNER_FILE, Supervisor, pids_naming, reap

pytestmark = pytest.mark.skipif(
    subprocess.run(["which", "qemu-system-x86_64"], capture_output=True).returncode != 0,
    reason="needs qemu-system-x86 (apt-get install qemu-system-x86)",
)

# A QEMU process that runs no guest (no machine, vCPUs never started): cheap to start.
IDLE_QEMU = "qemu-system-x86_64 -machine none -nodefaults -display none -S -pidfile {dir}/q.pid"


def _gone(pid: int, timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        status = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        if status == "Z":  # a zombie of a dead parent waits for init: it runs no more
            return True
        time.sleep(0.05)
    return False


def test_sigkill_of_the_owner_takes_its_qemu_along_and_the_next_start_cleans_up(tmp_path):
    owner = subprocess.Popen(
        [
            sys.executable,
            "-c",
            textwrap.dedent(
                f"""
                import sys, time
                from pathlib import Path
                from pytest_interop.reference.vm.supervisor import Supervisor
                sup = Supervisor(Path({str(tmp_path)!r}))
                guest = sup.new_directory("guest")
                process = sup.spawn({IDLE_QEMU!r}.format(dir=guest).split())
                print(sup.directory, process.pid, flush=True)
                time.sleep(300)
                """
            ),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert owner.stdout is not None
    run_directory, qemu_pid = owner.stdout.readline().split()
    assert Path(run_directory).is_dir()
    assert Path(f"/proc/{qemu_pid}/cmdline").read_bytes().startswith(b"qemu-system-x86_64")
    owner.send_signal(signal.SIGKILL)
    owner.wait(timeout=10)
    assert _gone(int(qemu_pid)), "QEMU outlived the process that started it"
    assert Path(run_directory).is_dir()  # SIGKILL leaves the files: the next start reaps them
    successor = Supervisor(tmp_path)
    try:
        assert Path(run_directory) in successor.reaped
        assert not Path(run_directory).exists()
        assert successor.directory.is_dir()
    finally:
        successor.close()
    assert list(tmp_path.iterdir()) == []


def test_the_reaper_kills_a_leftover_process_that_names_a_dead_owners_directory(tmp_path):
    leftover_dir = tmp_path / "12345-deadbeef"
    leftover_dir.mkdir()
    (leftover_dir / OWNER_FILE).write_text(f"{os.getpid()} 0\n")  # our pid, another start time
    stray = subprocess.Popen(
        [sys.executable, "-c", "import time; time.sleep(300)", str(leftover_dir)],
        start_new_session=True,
    )
    deadline = time.monotonic() + 10
    while pids_naming(leftover_dir) != [stray.pid] and time.monotonic() < deadline:
        time.sleep(0.02)  # until the child has exec'd: its command line names the directory
    assert pids_naming(leftover_dir) == [stray.pid]
    assert reap(tmp_path) == [leftover_dir]
    assert stray.wait(timeout=10) == -signal.SIGKILL
    assert not leftover_dir.exists()


def test_a_live_owner_is_left_alone_and_close_removes_everything(tmp_path):
    supervisor = Supervisor(tmp_path)
    process = supervisor.spawn(IDLE_QEMU.format(dir=supervisor.new_directory("g")).split())
    assert reap(tmp_path) == []  # the owner (this process) is alive
    assert process.poll() is None
    supervisor.close()
    assert process.poll() is not None
    assert not supervisor.directory.exists()
