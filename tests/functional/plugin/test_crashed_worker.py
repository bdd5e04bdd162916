"""A worker that dies mid-test: its tests are errors, its servers are found and removed."""

from __future__ import annotations

import json

import pytest

from pytest_interop.reference import ReferenceCloud

from .conftest import outside_cloud

CRASHING_SUITE = """
import os
import pytest

@pytest.mark.idempotent_id("9d0c7a3e-1b2f-4c5d-8e6f-7a8b9c0d1e2f")
def test_boots_then_the_worker_dies(server):
    os._exit(3)  # as a worker killed by the OOM killer would

def test_other_worker_carries_on(cloud):
    assert cloud.list_images()
"""


@pytest.fixture
def external_cloud(tmp_path, monkeypatch):
    with outside_cloud(tmp_path, monkeypatch) as cloud:
        yield cloud


def live_servers(cloud: ReferenceCloud) -> int:
    return sum(cloud.counters()["live"].get("servers", {}).values())


def test_a_crashed_workers_servers_are_removed_at_the_end(pytester, external_cloud):
    pytester.makepyfile(test_crash=CRASHING_SUITE)
    result = pytester.runpytest_subprocess(
        "--cloud=outside", "-n", "2", "-p", "no:cacheprovider", "--max-worker-restart=0"
    )
    assert external_cloud.counters()["servers_booted"] == 1
    assert live_servers(external_cloud) == 0
    outcomes = result.parseoutcomes()
    assert outcomes.get("failed", 0) + outcomes.get("error", 0) >= 1
    assert "worker" in result.stdout.str()


def test_the_report_counts_what_the_sweep_removed(pytester, external_cloud):
    guideline = {
        "metadata": {
            "id": "2099.02",
            "schema": "2.0",
            "interop_schema": "pytest-interop/1",
            "source": "test",
            "scoring": {
                "cutoff_score": 1,
                "criteria": {"d": {"name": "d", "description": "d", "weight": 100}},
            },
            "os_trademark_approval": {
                "target_approval": "2099.02",
                "replaces": "2099.01",
                "releases": [],
                "status": "draft",
            },
        },
        "platforms": {"P": {"description": "p", "components": [{"name": "compute"}]}},
        "components": {
            "compute": {
                "capabilities": {
                    "required": ["cap"],
                    "advisory": [],
                    "deprecated": [],
                    "removed": [],
                }
            }
        },
        "capabilities": {
            "cap": {
                "achievements": ["d"],
                "admin": False,
                "description": "c",
                "project": "nova",
                "required_since": "2099.01",
                "tests": {
                    "tests/interop/test_crash.py::test_boots_then_the_worker_dies": {
                        "idempotent_id": "9d0c7a3e-1b2f-4c5d-8e6f-7a8b9c0d1e2f"
                    }
                },
            }
        },
        "test_repositories": {"pytest-interop": {"repository": "x", "versions": ">=0.1"}},
    }
    (pytester.path / "guidelines").mkdir()
    (pytester.path / "guidelines" / "2099.02.json").write_text(json.dumps(guideline))
    (pytester.path / "tests" / "interop").mkdir(parents=True)
    (pytester.path / "tests" / "interop" / "test_crash.py").write_text(CRASHING_SUITE)
    result = pytester.runpytest_subprocess(
        "--guideline=2099.02",
        "--cloud=outside",
        "-n",
        "2",
        "-p",
        "no:cacheprovider",
        "--max-worker-restart=0",
    )
    assert result.ret == 1
    report = json.loads((pytester.path / "interop-report.json").read_text())
    (cloud,) = report["clouds"]
    assert cloud["verdict"] == "not compliant"
    assert cloud["capabilities"][0]["result"] in ("failed", "error")
    assert cloud["resources"]["swept"] >= 1
    assert live_servers(external_cloud) == 0
