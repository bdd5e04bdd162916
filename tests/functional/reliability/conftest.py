"""A small must-pass-like suite, a synthetic guideline over it, and reference clouds outside
the run under test (so an outer test can read their counters, inject faults and send signals).

The inner runs are subprocesses (``python -m pytest``): signals, SIGTERM handlers and log
handlers then stay theirs.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from pytest_interop.reference import ReferenceCloud

FAST = {"boot_delay": 0.05, "action_delay": 0.02, "delete_delay": 0.02}
GUIDELINE_ID = "2099.05"
SUITE_PATH = "tests/interop/test_small.py"

IDS = {
    "images": "a1000000-0000-4000-8000-000000000001",
    "boot": "a1000000-0000-4000-8000-000000000002",
    "ssh": "a1000000-0000-4000-8000-000000000003",
    "metadata": "a1000000-0000-4000-8000-000000000004",
    "huge": "a1000000-0000-4000-8000-000000000005",
}

# Behavioural tests in the style of tests/interop, through the plugin's fixtures.
SMALL_SUITE = f'''
import pytest

@pytest.mark.idempotent_id("{IDS["images"]}")
def test_images_are_listed(cloud):
    assert cloud.list_images()

@pytest.mark.idempotent_id("{IDS["boot"]}")
def test_server_boots_active(server, record_finding):
    record_finding("status", server.server.status)
    assert server.server.status == "ACTIVE"

@pytest.mark.idempotent_id("{IDS["ssh"]}")
def test_server_answers_over_ssh(node):
    assert node.run(["echo", "hello"]).stdout == "hello\\n"

@pytest.mark.idempotent_id("{IDS["metadata"]}")
def test_metadata_round_trips(cloud, server):
    cloud.set_server_metadata(server.id, {{"role": "web"}})
    assert cloud.get_server_metadata(server.id)["role"] == "web"

@pytest.mark.idempotent_id("{IDS["huge"]}")
def test_a_flavor_with_4096_vcpus(cloud):
    assert any(f.vcpus >= 4096 for f in cloud.list_flavors()), "no such flavor"
'''

REQUIRED = {
    "cap-images": "test_images_are_listed",
    "cap-boot": "test_server_boots_active",
    "cap-ssh": "test_server_answers_over_ssh",
    "cap-metadata": "test_metadata_round_trips",
}
ADVISORY = {"cap-huge": "test_a_flavor_with_4096_vcpus"}
ID_OF = {
    "test_images_are_listed": IDS["images"],
    "test_server_boots_active": IDS["boot"],
    "test_server_answers_over_ssh": IDS["ssh"],
    "test_metadata_round_trips": IDS["metadata"],
    "test_a_flavor_with_4096_vcpus": IDS["huge"],
}


def small_guideline(
    required: dict[str, str] | None = None,
    advisory: dict[str, str] | None = None,
    id_of: dict[str, str] | None = None,
    suite_path: str = SUITE_PATH,
) -> dict[str, Any]:
    """A guideline (pytest-interop schema) whose capabilities each name one test."""
    required = REQUIRED if required is None else required
    advisory = ADVISORY if advisory is None else advisory
    id_of = ID_OF if id_of is None else id_of
    capabilities = {
        name: {
            "achievements": ["works"],
            "admin": False,
            "description": name,
            "project": "nova",
            "required_since": "2099.01",
            "tests": {f"{suite_path}::{test}": {"idempotent_id": id_of[test]}},
        }
        for name, test in {**required, **advisory}.items()
    }
    return {
        "metadata": {
            "id": GUIDELINE_ID,
            "schema": "2.0",
            "interop_schema": "pytest-interop/1",
            "source": "reliability tests",
            "scoring": {
                "cutoff_score": 1,
                "criteria": {"works": {"name": "works", "description": "w", "weight": 100}},
            },
            "os_trademark_approval": {
                "target_approval": GUIDELINE_ID,
                "replaces": "2099.01",
                "releases": [],
                "status": "draft",
            },
        },
        "platforms": {"Small": {"description": "small", "components": [{"name": "compute"}]}},
        "components": {
            "compute": {
                "capabilities": {
                    "required": sorted(required),
                    "advisory": sorted(advisory),
                    "deprecated": [],
                    "removed": [],
                }
            }
        },
        "capabilities": capabilities,
        "test_repositories": {
            "pytest-interop": {"repository": "https://example.invalid", "versions": ">=0.1"}
        },
    }


def write_suite(
    directory: Path,
    suite: str = SMALL_SUITE,
    guideline: dict[str, Any] | None = None,
    suite_path: str = SUITE_PATH,
) -> None:
    (directory / "guidelines").mkdir(exist_ok=True)
    (directory / "guidelines" / f"{GUIDELINE_ID}.json").write_text(
        json.dumps(guideline or small_guideline(suite_path=suite_path))
    )
    target = directory / suite_path
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(suite)
    (directory / "pytest.ini").write_text("[pytest]\naddopts = -p no:cacheprovider\n")


def load_report(directory: Path, name: str = "interop-report.json") -> dict[str, Any]:
    return json.loads((directory / name).read_text())


def capability_results(report: dict[str, Any]) -> dict[str, str]:
    (cloud,) = report["clouds"]
    return {c["name"]: c["result"] for c in cloud["capabilities"]}


def leftovers(cloud: ReferenceCloud) -> dict[str, dict[str, int]]:
    """What lives on the cloud, tokens aside: compare with the same before a run."""
    live = cloud.counters()["live"]
    live.pop("tokens", None)
    return {kind: {p: n for p, n in per.items() if n} for kind, per in live.items()}


def wait_for(condition: Callable[[], Any], timeout: float = 30.0, interval: float = 0.05) -> Any:
    """Poll until ``condition()`` is truthy (bounded); the last value otherwise."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(interval)


class Outside:
    """A reference cloud started by the outer test, named in a clouds.yaml for the inner run."""

    def __init__(self, directory: Path, cloud_name: str = "outside", **knobs: Any) -> None:
        self.cloud = ReferenceCloud(profile=knobs.pop("profile", "default"), **knobs)
        self.cloud.start()
        self.name = cloud_name
        self.clouds_yaml = directory / "clouds.yaml"
        self.write_config(self.cloud.cloud_config(cloud_name))
        self.baseline = leftovers(self.cloud)

    def write_config(self, config: dict[str, Any], **more: dict[str, Any]) -> None:
        clouds = {self.name: config, **more}
        self.clouds_yaml.write_text(yaml.safe_dump({"clouds": clouds}, sort_keys=False))

    def env(self, **extra: str) -> dict[str, str]:
        env = dict(os.environ)
        env.pop("PYTEST_XDIST_WORKER", None)
        env.pop("PYTEST_CURRENT_TEST", None)
        env["OS_CLIENT_CONFIG_FILE"] = str(self.clouds_yaml)
        env.update(extra)
        return env

    def leaked(self, settle: float = 10) -> dict[str, dict[str, int]]:
        """What the run left, after the cloud finished its own (asynchronous) deletions."""
        wait_for(lambda: leftovers(self.cloud) == self.baseline, timeout=settle)
        now = leftovers(self.cloud)
        return {k: v for k, v in now.items() if v != self.baseline.get(k, {})}

    def stop(self) -> None:
        self.cloud.stop()


@pytest.fixture
def outside(tmp_path: Path) -> Iterator[Callable[..., Outside]]:
    """``outside(**knobs)``: start a reference cloud for an inner run (stopped at the end)."""
    started: list[Outside] = []

    def start(**knobs: Any) -> Outside:
        knobs = {**FAST, **knobs}
        one = Outside(tmp_path, **knobs)
        started.append(one)
        return one

    yield start
    for one in started:
        one.stop()


def inner_pytest_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "pytest", *args]


def run_pytest(
    directory: Path, env: dict[str, str], *args: str, timeout: float = 240
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        inner_pytest_command(*args),
        cwd=directory,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def start_pytest(directory: Path, env: dict[str, str], *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        inner_pytest_command(*args),
        cwd=directory,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def finish(process: subprocess.Popen[str], timeout: float = 120) -> tuple[int, str, str]:
    try:
        out, err = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        out, err = process.communicate()
        raise AssertionError(f"the run did not end after the signal:\n{out}\n{err}") from None
    return process.returncode, out, err


SIGNALS = {"SIGINT": signal.SIGINT, "SIGTERM": signal.SIGTERM}
