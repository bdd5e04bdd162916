"""The distribution alone runs a guideline: build the wheel, install it into a fresh virtualenv
and run from an empty directory, with no checkout on the path (issue 14's first promise)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]


def _run(argv: list[str], cwd: Path, timeout: int = 600) -> subprocess.CompletedProcess[str]:
    # No PYTHONPATH and no virtualenv of the checkout: only what the wheel installed is seen.
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    return subprocess.run(
        argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )


@pytest.fixture
def installed(tmp_path_factory) -> Path:
    """A fresh virtualenv holding the wheel built from this checkout, and nothing else of it."""
    dist = tmp_path_factory.mktemp("dist")
    built = _run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(dist), str(ROOT)],
        cwd=dist,
    )
    assert built.returncode == 0, built.stderr
    (wheel,) = dist.glob("pytest_interop-*.whl")
    env_dir = tmp_path_factory.mktemp("venv")
    venv.create(env_dir, with_pip=True)
    done = _run([str(env_dir / "bin" / "pip"), "install", "-q", str(wheel)], cwd=dist)
    assert done.returncode == 0, done.stderr
    return env_dir / "bin"


def test_the_installed_wheel_lists_and_runs_its_guidelines_from_an_empty_directory(
    installed, tmp_path
):
    # One test, so that a distributed run builds and installs the wheel once.
    where = _run(
        [str(installed / "python"), "-c", "import pytest_interop; print(pytest_interop.__file__)"],
        cwd=tmp_path,
    )
    assert where.returncode == 0, where.stderr
    assert not Path(where.stdout.strip()).is_relative_to(ROOT)  # the installed copy
    listed = _run([str(installed / "interop"), "guideline", "list"], cwd=tmp_path)
    assert listed.returncode == 0, listed.stderr
    ids = {line.split()[0] for line in listed.stdout.splitlines()[1:] if line.strip()}
    assert {"2017.01", "2020.06", "hybrid.2017.01"} <= ids

    done = _run(
        [
            str(installed / "pytest"),
            "--guideline=hybrid.2017.01",
            "--cloud=reference",
            "-n",
            "2",
            "-p",
            "no:cacheprovider",
        ],
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert "COMPLIANT" in done.stdout
    report = json.loads((tmp_path / "interop-report.json").read_text())
    (cloud,) = report["clouds"]
    assert cloud["name"] == "reference" and cloud["verdict"] == "compliant"
    assert cloud["resources"]["leaked"] == 0
    assert {o["outcome"] for o in report["outcomes"]} == {"passed"}
