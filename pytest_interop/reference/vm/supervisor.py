"""Nothing left behind: QEMU processes die with the reference cloud, and a reaper cleans the rest.

Every guest process is started by one long-lived launcher thread with ``PR_SET_PDEATHSIG``
(SIGKILL): Linux sends that signal when the *thread* that forked the child ends, so the thread
lives as long as the host, and a SIGKILL of the whole process (controller or worker) takes every
guest with it. Each host keeps its files in a run directory named after it (pid and start time);
the next host to start removes the directories of hosts that are gone, killing any QEMU process
whose command line still names them (belt and braces: PDEATHSIG cannot fire for a guest that
was mid-fork when its owner died).
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import queue
import secrets
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from concurrent.futures import Future
from pathlib import Path

RUNS_ENV = "INTEROP_VM_RUNS"
PR_SET_PDEATHSIG = 1
OWNER_FILE = "owner"


def runs_root() -> Path:
    configured = os.environ.get(RUNS_ENV)
    return Path(configured) if configured else Path(tempfile.gettempdir()) / "pytest-interop-vms"


def _start_time(pid: int) -> str | None:
    """The kernel's start time of ``pid`` (/proc/pid/stat field 22): pids are reused, this not."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return stat.rsplit(")", 1)[1].split()[19]


def _die_with_parent() -> None:  # runs in the child between fork and exec
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() == 1:  # the parent died before prctl: do not outlive it
        os._exit(1)


def pids_naming(path: Path) -> list[int]:
    """Processes whose command line mentions ``path`` (our QEMUs name their run directory)."""
    needle = str(path).encode()
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError):
            if needle in (entry / "cmdline").read_bytes():
                found.append(int(entry.name))
    return [pid for pid in found if pid != os.getpid()]


def reap(root: Path | None = None) -> list[Path]:
    """Remove the run directories of hosts that are no longer alive; kill their guests."""
    root = root or runs_root()
    removed: list[Path] = []
    if not root.is_dir():
        return removed
    for run in root.iterdir():
        if not run.is_dir():
            continue
        try:
            pid_text, started = (run / OWNER_FILE).read_text().split()
            alive = _start_time(int(pid_text)) == started
        except (OSError, ValueError):
            alive = False
            # a directory younger than a few seconds may be one being set up right now
            with contextlib.suppress(OSError):
                alive = time.time() - run.stat().st_mtime < 10
        if alive:
            continue
        for pid in pids_naming(run):
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL)
        shutil.rmtree(run, ignore_errors=True)
        removed.append(run)
    return removed


class Supervisor:
    """The run directory of one host and the launcher of its processes."""

    def __init__(self, root: Path | None = None) -> None:
        self.root = root or runs_root()
        self.root.mkdir(parents=True, exist_ok=True)
        self.reaped = reap(self.root)
        self.directory = self.root / f"{os.getpid()}-{secrets.token_hex(4)}"
        self.directory.mkdir()
        started = _start_time(os.getpid())
        (self.directory / OWNER_FILE).write_text(f"{os.getpid()} {started}\n")
        self._requests: queue.Queue[tuple[list[str], dict, Future] | None] = queue.Queue()
        self._processes: list[subprocess.Popen] = []
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._launch, name="vm-launcher", daemon=True)
        self._thread.start()

    def _launch(self) -> None:
        while True:
            request = self._requests.get()
            if request is None:
                return
            argv, options, future = request
            try:
                process = subprocess.Popen(
                    argv,
                    stdin=subprocess.DEVNULL,
                    preexec_fn=_die_with_parent,  # one launcher thread: see above
                    start_new_session=True,  # a ^C in the terminal reaches us, not the guests
                    **options,
                )
            except BaseException as exc:  # handed to the caller
                future.set_exception(exc)
                continue
            with self._lock:
                self._processes.append(process)
            future.set_result(process)

    def spawn(self, argv: list[str], **options: object) -> subprocess.Popen:
        future: Future = Future()
        self._requests.put((argv, dict(options), future))
        return future.result(timeout=30)

    def new_directory(self, name: str) -> Path:
        path = self.directory / name
        path.mkdir(parents=True, exist_ok=True)
        return path

    def close(self) -> None:
        """Kill what is still running, and remove the run directory."""
        self._requests.put(None)
        self._thread.join(timeout=5)
        with self._lock:
            processes, self._processes = self._processes, []
        for process in processes:
            if process.poll() is None:
                process.kill()
        for process in processes:
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=10)
        for pid in pids_naming(self.directory):
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL)
        shutil.rmtree(self.directory, ignore_errors=True)
