"""Helpers for the plugin's pytester tests: a synthetic guideline and suite."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

MEMORY_CLOUD = (Path(__file__).parent / "memory_cloud.py").read_text()

IDS = {
    "create": "0b6d1c9e-3f0a-4b8e-9a51-2c7d4e6f8a01",
    "flagged": "1c7e2d0f-4a1b-4c9f-8b62-3d8e5f7a9b02",
    "lock": "2d8f3e1a-5b2c-4da0-9c73-4e9f6a8b0c03",
    "renamed": "3e9a4f2b-6c3d-4eb1-8d84-5fa07b9c1d04",
    "advisory": "4fab5a3c-7d4e-4fc2-9e95-6ab18cad2e05",
    "removed": "5abc6b4d-8e5f-40d3-8fa6-7bc29dbe3f06",
    "missing": "6bcd7c5e-9f60-41e4-90b7-8cd3aecf4a07",
    "infra": "7cde8d6f-a071-42f5-a1c8-9de4bfd05b08",
}

SUITE = f'''
import pytest

@pytest.mark.idempotent_id("{IDS["create"]}")
def test_create(cloud, record_finding):
    server = cloud.boot("create")
    record_finding("server_status", server.status)
    assert server.status == "ACTIVE"

@pytest.mark.idempotent_id("{IDS["flagged"]}")
def test_flagged_but_broken(cloud):
    assert False, "flagged tests fail without counting"

@pytest.mark.idempotent_id("{IDS["lock"]}")
def test_lock(cloud):
    cloud.lock_server("srv")

@pytest.mark.idempotent_id("{IDS["renamed"]}")
def test_new_name(cloud):
    pass

@pytest.mark.idempotent_id("{IDS["advisory"]}")
def test_advisory_fails(cloud):
    assert 1 == 2

@pytest.mark.idempotent_id("{IDS["removed"]}")
def test_removed(cloud):
    raise AssertionError("a removed capability must not run")

@pytest.mark.idempotent_id("{IDS["infra"]}")
def test_infra(cloud):
    cloud.boot("infra")

def test_not_in_any_guideline():
    raise AssertionError("not selected")
'''

NODE = "tests/interop/test_synth.py::"


def _tests(*names: str, flagged: bool = False) -> dict:
    tests = {}
    for name in names:
        key = {"test_create": "create", "test_flagged_but_broken": "flagged"}.get(name, name)
        entry = {"idempotent_id": IDS[key]}
        if flagged:
            entry["flagged"] = {"reason": "known broken", "action": "fix", "date": "2099-01-02"}
        tests[NODE + name] = entry
    return tests


def synthetic_guideline() -> dict:
    capability = {"achievements": ["deployed"], "admin": False, "description": "x", "project": "p"}

    def cap(tests: dict) -> dict:
        return {**capability, "required_since": "2098.01", "tests": tests}

    return {
        "metadata": {
            "id": "2099.01",
            "schema": "2.0",
            "interop_schema": "pytest-interop/1",
            "source": "synthetic",
            "scoring": {
                "cutoff_score": 10,
                "criteria": {"deployed": {"name": "Deployed", "description": "d", "weight": 100}},
            },
            "os_trademark_approval": {
                "target_approval": "2099.01",
                "replaces": "2098.01",
                "releases": [],
                "status": "draft",
            },
        },
        "platforms": {
            "Synthetic Platform": {
                "description": "all",
                "components": [{"name": "compute"}, {"name": "extra"}],
            },
            "Synthetic Compute": {"description": "compute", "components": [{"name": "compute"}]},
        },
        "components": {
            "compute": {
                "capabilities": {
                    "required": ["cap-create", "cap-renamed"],
                    "advisory": ["cap-advisory", "cap-missing"],
                    "deprecated": [],
                    "removed": ["cap-removed"],
                }
            },
            "extra": {
                "capabilities": {
                    "required": ["cap-lock"],
                    "advisory": ["cap-infra"],
                    "deprecated": [],
                    "removed": [],
                }
            },
        },
        "capabilities": {
            "cap-create": cap(
                {**_tests("test_create"), **_tests("test_flagged_but_broken", flagged=True)}
            ),
            "cap-renamed": cap({NODE + "test_old_name": {"idempotent_id": IDS["renamed"]}}),
            "cap-lock": cap({NODE + "test_lock": {"idempotent_id": IDS["lock"]}}),
            "cap-advisory": cap({NODE + "test_advisory_fails": {"idempotent_id": IDS["advisory"]}}),
            "cap-missing": cap({NODE + "test_gone": {"idempotent_id": IDS["missing"]}}),
            "cap-removed": cap({NODE + "test_removed": {"idempotent_id": IDS["removed"]}}),
            "cap-infra": cap({NODE + "test_infra": {"idempotent_id": IDS["infra"]}}),
        },
        "test_repositories": {
            "pytest-interop": {"repository": "https://example.invalid", "versions": ">=0.1"}
        },
    }


@pytest.fixture
def synth(pytester: pytest.Pytester) -> pytest.Pytester:
    """A pytester dir with the synthetic guideline, suite and in-memory clouds."""
    pytester.makepyfile(memory_cloud=MEMORY_CLOUD)
    pytester.syspathinsert()
    (pytester.path / "guidelines").mkdir()
    (pytester.path / "guidelines" / "2099.01.json").write_text(
        json.dumps(synthetic_guideline(), indent=1)
    )
    suite = pytester.path / "tests" / "interop"
    suite.mkdir(parents=True)
    (suite / "test_synth.py").write_text(SUITE)
    pytester.makeini("[pytest]\naddopts = -p memory_cloud -p no:cacheprovider\n")
    return pytester


def load_report(pytester: pytest.Pytester, name: str = "interop-report.json") -> dict:
    return json.loads((pytester.path / name).read_text())
