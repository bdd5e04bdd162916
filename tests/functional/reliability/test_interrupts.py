"""Ctrl-C and SIGTERM in the middle of a guideline run.

The run under test is a subprocess; the outer test watches the reference cloud's counters
and sends the signal when the run is where it should be (a boot under way, a delete under
way). Afterwards: pytest's exit code (2), a partial report marked interrupted, and nothing
left on the cloud, or, after a second signal, left only for ``interop cleanup --run-id``.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys

import pytest

from pytest_interop.report.json_report import validate_report

from .conftest import (
    GUIDELINE_ID,
    SIGNALS,
    finish,
    load_report,
    small_guideline,
    start_pytest,
    wait_for,
    write_suite,
)

BOOT_ID = "b2000000-0000-4000-8000-000000000001"
LIST_ID = "b2000000-0000-4000-8000-000000000002"
SUITE = f'''
import pytest

@pytest.mark.idempotent_id("{LIST_ID}")
def test_images_are_listed(cloud):
    assert cloud.list_images()

@pytest.mark.idempotent_id("{BOOT_ID}")
def test_server_boots_active(server):
    assert server.server.status == "ACTIVE"
'''
GUIDELINE = small_guideline(
    required={"cap-images": "test_images_are_listed", "cap-boot": "test_server_boots_active"},
    advisory={},
    id_of={"test_images_are_listed": LIST_ID, "test_server_boots_active": BOOT_ID},
)
DELETE_CALL = "compute DELETE /compute/v2.1/servers/{server_id}"
INTERRUPTED = pytest.ExitCode.INTERRUPTED


def booting(cloud) -> int:
    """Servers the cloud has (in BUILD: the boots are slow here)."""
    return sum(cloud.counters()["live"]["servers"].values())


def calls(cloud, which: str) -> int:
    return cloud.counters()["api_calls"].get(which, 0)


def start_run(pytester, cloud):
    write_suite(pytester.path, SUITE, GUIDELINE)
    return start_pytest(
        pytester.path,
        cloud.env(),
        f"--guideline={GUIDELINE_ID}",
        f"--cloud={cloud.name}",
        "-v",
    )


def signal_when(process, condition, signum, what: str) -> None:
    reached = wait_for(lambda: condition() or process.poll() is not None, timeout=60)
    if not reached or process.poll() is not None:
        process.kill()
        out, err = process.communicate()
        raise AssertionError(f"the run ended (or hung) before {what}:\n{out}\n{err}")
    process.send_signal(signum)


def assert_interrupted_report(pytester, code: int, out: str, err: str) -> dict:
    assert code == INTERRUPTED, out + err
    report = load_report(pytester.path)
    assert validate_report(report) == []
    assert report["interrupted"] is True
    results = {c["name"]: c["result"] for c in report["clouds"][0]["capabilities"]}
    assert results["cap-images"] == "passed"  # what ran before the signal counts
    assert "Traceback" not in err
    return report


@pytest.mark.parametrize("signame", ["SIGINT", "SIGTERM"])
def test_a_signal_during_a_boot_removes_the_server(pytester, outside, signame):
    cloud = outside(boot_delay=60)  # the boot stays in BUILD until the signal
    process = start_run(pytester, cloud)
    signal_when(process, lambda: booting(cloud.cloud), SIGNALS[signame], "the boot")
    code, out, err = finish(process)
    report = assert_interrupted_report(pytester, code, out, err)
    assert report["clouds"][0]["resources"]["leaked"] == 0
    assert cloud.leaked() == {}


@pytest.mark.parametrize("signame", ["SIGINT", "SIGTERM"])
def test_a_signal_during_teardown_still_cleans_up(pytester, outside, signame):
    cloud = outside(delete_delay=2)  # the teardown waits for the server to go
    process = start_run(pytester, cloud)
    signal_when(process, lambda: calls(cloud.cloud, DELETE_CALL), SIGNALS[signame], "teardown")
    code, out, err = finish(process)
    assert_interrupted_report(pytester, code, out, err)
    assert cloud.leaked() == {}


def test_a_second_signal_leaves_the_rest_to_interop_cleanup(pytester, outside):
    cloud = outside(boot_delay=60, delete_delay=3)
    process = start_run(pytester, cloud)
    signal_when(process, lambda: booting(cloud.cloud), SIGNALS["SIGINT"], "boot")
    # the first signal started the clean-up; interrupt it while it waits for the delete
    signal_when(process, lambda: calls(cloud.cloud, DELETE_CALL), SIGNALS["SIGINT"], "clean-up")
    code, out, err = finish(process)
    report = assert_interrupted_report(pytester, code, out, err)
    run_id = report["run_id"]
    expected = f"interop cleanup --cloud {cloud.name} --run-id {run_id}"
    assert expected in out
    assert report["clouds"][0]["resources"].get("left", 0) >= 1
    # the server's deletion, already asked for, completes on the cloud's side; what came
    # before it in the ledger (the SSH security group) is what the clean-up left
    assert wait_for(lambda: not cloud.leaked(settle=0).get("servers"), timeout=10)
    assert cloud.leaked(settle=0), "the interrupted clean-up should have left something"

    cleanup = subprocess.run(
        [sys.executable, "-m", "pytest_interop.cli", *expected.split()[1:]],
        cwd=pytester.path,
        env=cloud.env(),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert cleanup.returncode == 0, cleanup.stdout + cleanup.stderr
    assert re.search(r"[1-9]\d* deleted", cleanup.stdout), cleanup.stdout
    assert cloud.leaked() == {}
    assert json.dumps(report).count(run_id) >= 1


def test_sigterm_to_a_parallel_run_cleans_up_in_every_process(pytester, outside):
    """As a CI runner cancelling a job does: SIGTERM to the whole process group."""
    cloud = outside(boot_delay=60)
    write_suite(pytester.path, SUITE, GUIDELINE)
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "pytest",
            f"--guideline={GUIDELINE_ID}",
            f"--cloud={cloud.name}",
            "-n",
            "2",
        ],
        cwd=pytester.path,
        env=cloud.env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        reached = wait_for(lambda: booting(cloud.cloud) or process.poll() is not None, timeout=60)
        assert reached and process.poll() is None, "the run ended before the boot"
        os.killpg(process.pid, signal.SIGTERM)
        code, out, err = finish(process)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
    report = assert_interrupted_report(pytester, code, out, err)
    assert report["clouds"][0]["resources"]["leaked"] == 0
    assert cloud.leaked() == {}
