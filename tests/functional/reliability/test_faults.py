"""A guideline run against a reference cloud that fails in small ways, and in big ones.

Small faults (a few 5xx and 429 answers, boots ending in ERROR) must change nothing: the
same verdicts as a fault-free run, and nothing left on the cloud. Faults big enough to break
a test must be reported as infrastructure errors naming the failing call, never as a
capability failure.
"""

from __future__ import annotations

import fnmatch
import itertools
import threading

import pytest

from pytest_interop.clouds.openstack import BOOT_ATTEMPTS
from pytest_interop.reference.faults import FaultInjector

from .conftest import (
    GUIDELINE_ID,
    SUITE_PATH,
    capability_results,
    load_report,
    run_pytest,
    write_suite,
)

SMALL_FAULTS = {
    "server_error_rate": 0.03,
    "rate_limit_rate": 0.02,
    "retry_after": 1,
    "boot_failure_rate": 0.1,
    "seed": 20261125,
}


class CountedFaults:
    """Wraps a cloud's fault injector: counts what it injected; forces the first faults,
    so that every kind of fault happens in the run whatever the random draws say."""

    def __init__(self, injector: FaultInjector) -> None:
        self.injector = injector
        self.api_outcome, self.boot_fails = injector.api_outcome, injector.boot_fails
        self.counts = {"server_error": 0, "rate_limited": 0, "boot_error": 0, "calls": 0}
        self._lock = threading.Lock()
        self._calls = itertools.count(1)
        self._boots = itertools.count(1)
        self._in_a_row = 0
        injector.api_outcome = self._api_outcome  # type: ignore[method-assign]
        injector.boot_fails = self._boot_fails  # type: ignore[method-assign]

    def _api_outcome(self) -> str:
        n = next(self._calls)
        forced = {5: "server_error", 9: "rate_limited", 20: "server_error"}.get(n)
        outcome = forced or self.api_outcome()
        with self._lock:
            self.counts["calls"] += 1
            if outcome != "ok":
                self.counts[outcome] += 1
        return outcome

    def _boot_fails(self) -> bool:
        fails = next(self._boots) == 1 or self.boot_fails()
        with self._lock:
            # "small": never as many in a row as the adapter tries (that is the next test)
            if fails and self._in_a_row == BOOT_ATTEMPTS - 1:
                fails = False
            self._in_a_row = self._in_a_row + 1 if fails else 0
            self.counts["boot_error"] += int(fails)
        return fails


def guideline_run(directory, cloud, *args: str):
    return run_pytest(
        directory,
        cloud.env(),
        f"--guideline={GUIDELINE_ID}",
        f"--cloud={cloud.name}",
        *args,
    )


def test_small_faults_give_the_same_verdicts_and_leave_nothing(pytester, outside):
    write_suite(pytester.path)
    calm = outside()
    calm_run = guideline_run(pytester.path, calm, "--interop-report=calm.json")
    assert calm_run.returncode == 0, calm_run.stdout + calm_run.stderr
    calm.stop()

    faulty = outside(**SMALL_FAULTS)
    faults = CountedFaults(faulty.cloud.state.faults)
    faulty_run = guideline_run(pytester.path, faulty, "--interop-report=faulty.json")
    assert faulty_run.returncode == 0, faulty_run.stdout + faulty_run.stderr

    # the faults happened: every kind at least once
    assert faults.counts["server_error"] >= 1
    assert faults.counts["rate_limited"] >= 1
    assert faults.counts["boot_error"] >= 1
    assert faulty.cloud.counters()["servers_failed"] == faults.counts["boot_error"]

    calm_report = load_report(pytester.path, "calm.json")
    faulty_report = load_report(pytester.path, "faulty.json")
    assert capability_results(faulty_report) == capability_results(calm_report)
    assert capability_results(calm_report)["cap-boot"] == "passed"
    assert capability_results(calm_report)["cap-huge"] == "failed"  # a real failure stays one
    assert [c["verdict"] for c in faulty_report["clouds"]] == ["compliant"]
    assert faulty_report["clouds"][0]["resources"]["leaked"] == 0
    assert faulty.leaked() == {}


def _rate_limit_every_boot(cloud) -> None:
    """POST /servers answers 429 (Retry-After: 0) every time; everything else is fine."""
    app = cloud._server.app
    inject = app._inject_faults

    def inject_faults(route):
        if "POST" in route.methods and route.template.endswith("/servers"):
            error = app._error(route.service, "This request was rate-limited.", 429)
            error.headers["Retry-After"] = "0"
            raise error
        inject(route)

    app._inject_faults = inject_faults


@pytest.mark.parametrize(
    ("knobs", "break_boots", "call"),
    [
        ({"boot_failure_rate": 1.0}, None, "nova.servers.get(* waiting for ACTIVE"),
        ({}, _rate_limit_every_boot, "nova.servers.create"),
    ],
    ids=["every-boot-ends-in-error", "every-boot-rate-limited"],
)
def test_faults_that_break_a_test_are_infrastructure_errors(
    pytester, outside, knobs, break_boots, call
):
    write_suite(pytester.path)
    cloud = outside(**knobs)
    if break_boots is not None:
        break_boots(cloud.cloud)
    result = guideline_run(pytester.path, cloud)
    assert result.returncode == 7, result.stdout + result.stderr  # inconclusive
    report = load_report(pytester.path)
    results = capability_results(report)
    assert results["cap-images"] == "passed"
    for capability in ("cap-boot", "cap-ssh", "cap-metadata"):
        assert results[capability] == "error", results
    booting = [o for o in report["outcomes"] if "test_images" not in o["nodeid"]]
    booting = [o for o in booting if "4096" not in o["nodeid"]]
    assert len(booting) == 3
    for outcome in booting:
        assert outcome["nodeid"].startswith(SUITE_PATH)
        assert outcome["outcome"] == "error"
        assert outcome["error_kind"] == "infrastructure"
        assert fnmatch.fnmatchcase(outcome["call"], call), outcome
        assert outcome["call"].split("(")[0] in outcome["message"]
    assert report["clouds"][0]["verdict"] == "inconclusive"
    assert cloud.leaked() == {}
