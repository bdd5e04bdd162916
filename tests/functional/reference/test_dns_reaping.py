"""The reference cloud's named dies with it: SIGTERM stops it and removes its files; SIGKILL of
the serving process takes named along, and the next name server sweeps the files left."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import openstack
import pytest
import yaml

from pytest_interop.reference.dns import bind

pytestmark = pytest.mark.skipif(
    not bind.shutil.which("named", path=os.environ.get("PATH", "") + ":/usr/sbin"),
    reason="BIND 9 is not installed (apt-get install bind9 bind9-utils)",
)


def _children(pid: int, comm: str) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        name = stat[stat.index("(") + 1 : stat.rindex(")")]
        ppid = int(stat[stat.rindex(")") + 2 :].split()[1])
        if ppid == pid and name == comm:
            found.append(int(entry.name))
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return state[state.rindex(")") + 2] != "Z"  # a zombie has ended


def _named_dir(pid: int, timeout: float = 10.0) -> Path:
    """The directory of named's config file, from its command line. Read again until it
    names one: right after the exec the command line can still be empty."""
    deadline = time.monotonic() + timeout
    while True:
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        if b"-c" in argv:
            return Path(argv[argv.index(b"-c") + 1].decode()).parent
        assert time.monotonic() < deadline, f"named {pid} runs without -c: {argv!r}"
        time.sleep(0.05)


def _serve_with_named() -> tuple[subprocess.Popen[str], int, Path]:
    """``interop reference serve``, made to start its named by one zone."""
    process = subprocess.Popen(
        [sys.executable, "-m", "pytest_interop.cli", "reference", "serve"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert process.stdout is not None
    text, deadline = "", time.monotonic() + 60
    while True:  # the clouds.yaml, up to the name servers' address in its interop block
        line = process.stdout.readline()
        assert line and time.monotonic() < deadline, "serve printed no clouds.yaml"
        text += line
        try:
            config = yaml.safe_load(text)["clouds"]["reference"]
        except (yaml.YAMLError, KeyError, TypeError):
            continue
        if isinstance(config, dict) and "name_servers" in (config.get("interop") or {}):
            break
    config.pop("interop")
    connection = openstack.connect(**config)
    connection.dns.create_zone(name="reaping.example.test.", email="a@example.test")
    connection.close()
    deadline = time.monotonic() + 30
    while not (named := _children(process.pid, "named")):
        assert time.monotonic() < deadline, "no named started"
        time.sleep(0.1)
    (pid,) = named
    return process, pid, _named_dir(pid)


def _wait_dead(pid: int) -> None:
    deadline = time.monotonic() + 30
    while _alive(pid):
        assert time.monotonic() < deadline, f"named {pid} outlived the reference cloud"
        time.sleep(0.1)


def test_sigterm_stops_named_and_removes_its_files() -> None:
    process, named, directory = _serve_with_named()
    assert directory.is_dir() and (directory / "named.conf").is_file()
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=60) == 0
    _wait_dead(named)
    assert not directory.exists()


def test_sigkill_takes_named_along_and_the_files_are_swept() -> None:
    process, named, directory = _serve_with_named()
    process.kill()
    process.wait(timeout=30)
    _wait_dead(named)  # PR_SET_PDEATHSIG
    assert directory.is_dir()  # nobody could remove it ...
    assert directory in bind.sweep_stale(directory.parent)  # ... until the next sweep
    assert not directory.exists()


def test_sigterm_of_a_guideline_run_leaves_no_named(tmp_path: Path) -> None:
    """The run's controller starts the reference cloud, and so named: a SIGTERM in the middle
    of the DNS tests still stops it and removes its files."""
    root = Path(__file__).resolve().parents[3]
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "pytest",
            "--guideline=dns.2020.06",
            "--cloud=reference",
            "-n",
            "0",
            "-p",
            "no:cacheprovider",
            f"--interop-report={tmp_path / 'report.json'}",
        ],
        cwd=root,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 120
        while not (named := _children(process.pid, "named")):
            assert process.poll() is None, "the run ended before named started"
            assert time.monotonic() < deadline, "no named started"
            time.sleep(0.05)
        (pid,) = named
        directory = _named_dir(pid)
        time.sleep(0.5)  # into the tests
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=120)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == 2, output[-2000:]  # interrupted
    _wait_dead(pid)
    assert not directory.exists()
