"""Without BIND 9 the DNS add-on is never a silent pass: the run is not compliant, and each
DNS test says why in one line (not applicable: the reference cloud has no name server)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]


def test_the_dns_guideline_without_named_is_not_applicable_with_the_reason(tmp_path) -> None:
    report = tmp_path / "report.json"
    env = {**os.environ, "INTEROP_BIND_DIR": str(tmp_path / "no-bind-here")}
    result = subprocess.run(
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
            f"--interop-report={report}",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 1, result.stdout[-2000:]
    assert "reference: NOT COMPLIANT" in result.stdout
    data = json.loads(report.read_text())
    (cloud,) = data["clouds"]
    results = {c["name"]: c["result"] for c in cloud["capabilities"]}
    assert results == {"dns-record-crud": "not_applicable", "dns-zone-crud": "not_applicable"}
    messages = {o["message"] for o in data["outcomes"]}
    (message,) = messages
    assert "\n" not in message
    assert "named is not in INTEROP_BIND_DIR=" in message and "apt-get install bind9" in message
    assert cloud["resources"]["leaked"] == 0
