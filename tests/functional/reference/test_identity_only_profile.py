"""A cloud that offers only identity passes the identity capabilities, and only those.

Must-pass tests need only what their capability needs: on the ``identity-only`` reference
profile (Keystone alone in the catalog, no other API served) the identity tests pass and
every other capability is *not applicable*, never failed or errored.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import requests

from pytest_interop.reference import ReferenceCloud


def test_identity_only_cloud_serves_and_lists_keystone_alone():
    with ReferenceCloud("identity-only", machines=False) as cloud:
        body = {
            "auth": {
                "identity": {
                    "methods": ["password"],
                    "password": {
                        "user": {
                            "name": "demo",
                            "domain": {"name": "Default"},
                            "password": cloud.cloud_config()["auth"]["password"],
                        }
                    },
                }
            }
        }
        issued = requests.post(f"{cloud.auth_url}/auth/tokens", json=body, timeout=5)
        assert issued.status_code == 201
        catalog = issued.json()["token"]["catalog"]
        assert [entry["type"] for entry in catalog] == ["identity"]
        token = {"X-Auth-Token": issued.headers["X-Subject-Token"]}
        flavors = requests.get(f"{cloud.base_url}/compute/v2.1/flavors", headers=token, timeout=5)
        assert flavors.status_code == 404


def test_guideline_run_passes_identity_and_nothing_else_applies(tmp_path: Path):
    report = tmp_path / "report.json"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "--guideline=2017.01",
            "--cloud=reference:identity-only",
            f"--interop-report={report}",
            f"--interop-journal-dir={tmp_path / 'journal'}",
            "-p",
            "no:cacheprovider",
            "-n",
            "0",
            "-q",
        ],
        cwd=Path(__file__).parents[3],  # the checkout: its conftest is a top-level one
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert report.exists(), result.stdout[-2000:] + result.stderr[-2000:]
    cloud = json.loads(report.read_text())["clouds"][0]
    results = {item["name"]: item["result"] for item in cloud["capabilities"]}
    identity = {name: r for name, r in results.items() if name.startswith("identity-")}
    others = {name: r for name, r in results.items() if not name.startswith("identity-")}
    assert identity and set(identity.values()) == {"passed"}, identity
    assert others and set(others.values()) == {"not_applicable"}, {
        name: r for name, r in others.items() if r != "not_applicable"
    }
    assert "error" not in result.stdout.splitlines()[-1], result.stdout[-1000:]
