"""A proposer's loop without a fork (CONTRIBUTING.md): a test in a folder of one's own, named in
a local copy of next.json, linted, then run against the reference cloud beside the shipped suite.
Run from a temporary directory, as a user outside the checkout would."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from pytest_interop import shipped

ROOT = Path(__file__).resolve().parents[3]
TEST_ID = "5b0f3c57-2a49-4d0e-9a53-8f0e6c1d2b7a"
NODE_ID = "my-tests/test_proposal.py::test_an_object_reads_back_byte_for_byte"
CAPABILITY = "objectstore-object-read-back"

PROPOSED_TEST = f'''
import pytest


@pytest.mark.idempotent_id("{TEST_ID}")
def test_an_object_reads_back_byte_for_byte(cloud):
    container = cloud.resource_name("container").lower()
    cloud.create_container(container)
    try:
        cloud.put_object(container, "blob", bytes(range(256)))
        assert cloud.get_object(container, "blob") == bytes(range(256))
    finally:
        cloud.delete_container(container, purge=True)
'''


def _tool(name: str) -> list[str]:
    script = Path(sys.executable).parent / name
    if script.exists():
        return [str(script)]
    return [sys.executable, "-m", "pytest" if name == "pytest" else "pytest_interop.cli"]


def _run(*argv: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    return subprocess.run(
        list(argv), cwd=cwd, env=env, capture_output=True, text=True, timeout=300, check=False
    )


@pytest.fixture
def proposal(tmp_path: Path) -> Path:
    """my-tests/ with the new test; guidelines/next.json: the shipped draft plus the capability
    that names it, advisory in the storage component, as a new capability enters."""
    (tmp_path / "my-tests").mkdir()
    (tmp_path / "my-tests" / "test_proposal.py").write_text(PROPOSED_TEST)
    draft = json.loads((shipped.GUIDELINES_DIR / "next.json").read_text())
    draft["capabilities"][CAPABILITY] = {
        **{k: v for k, v in draft["capabilities"]["objectstore-object-get"].items()},
        "description": "Proposal: an object reads back byte for byte",
        "tests": {NODE_ID: {"idempotent_id": TEST_ID}},
    }
    draft["capabilities"][CAPABILITY].pop("required_since", None)
    draft["components"]["os_powered_storage"]["capabilities"]["advisory"].append(CAPABILITY)
    (tmp_path / "guidelines").mkdir()
    (tmp_path / "guidelines" / "next.json").write_text(json.dumps(draft, indent=2))
    return tmp_path


def test_a_local_test_named_in_a_local_draft_lints_and_runs(proposal: Path) -> None:
    lint = [*_tool("interop"), "guideline", "lint", "next", "--suite-dir", "my-tests"]
    linted = _run(*lint, "--guideline-dir", "guidelines", cwd=proposal)
    assert linted.returncode == 0, linted.stdout + linted.stderr
    assert "guidelines/next.json: ok" in linted.stdout

    ran = _run(
        *_tool("pytest"),
        "--guideline=next",
        "--guideline-dir=guidelines",
        "--interop-suite=my-tests",
        "--target=OpenStack Powered Storage",
        "--cloud=reference",
        "-n",
        "2",
        "-p",
        "no:cacheprovider",
        cwd=proposal,
    )
    assert ran.returncode == 0, ran.stdout[-3000:] + ran.stderr[-2000:]
    report = json.loads((proposal / "interop-report.json").read_text())
    mine = [o for o in report["outcomes"] if o["nodeid"].startswith(NODE_ID)]
    assert [(o["outcome"], o["idempotent_id"]) for o in mine] == [("passed", TEST_ID)]
    shipped_ran = {o["nodeid"].split("::")[0] for o in report["outcomes"]}
    assert "pytest_interop/suite/object/test_objects.py" in shipped_ran


def test_lint_catches_a_draft_naming_the_local_test_by_a_wrong_id(proposal: Path) -> None:
    draft_path = proposal / "guidelines" / "next.json"
    draft = json.loads(draft_path.read_text())
    draft["capabilities"][CAPABILITY]["tests"] = {
        NODE_ID: {"idempotent_id": "00000000-0000-4000-8000-000000000000"}
    }
    draft_path.write_text(json.dumps(draft))
    lint = [*_tool("interop"), "guideline", "lint", "next", "--suite-dir", "my-tests"]
    linted = _run(*lint, "--guideline-dir", "guidelines", cwd=proposal)
    assert linted.returncode != 0
    assert NODE_ID in linted.stdout
