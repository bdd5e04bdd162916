"""The reference cloud's fault knobs without writing Python (issue 17): ``interop reference
serve --fault ...``, ``--interop-reference-fault`` and the ini ``interop_reference_faults``."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys

import pytest
import requests
import yaml

from pytest_interop.errors import ConfigurationError
from pytest_interop.reference.fault_options import parse_faults

from .conftest import GUIDELINE_ID, capability_results, load_report, run_pytest, write_suite


def test_knobs_parse_by_short_and_field_names():
    knobs = parse_faults(
        ["5xx=0.4", "429=0.2", "boot-failure=0.5", "seed=7", "boot_delay=0.05", "retry-after=0"],
        "--fault",
    )
    assert knobs == {
        "server_error_rate": 0.4,
        "rate_limit_rate": 0.2,
        "boot_failure_rate": 0.5,
        "seed": 7,
        "boot_delay": 0.05,
        "retry_after": 0,
    }
    for bad, message in [
        ("5xx", "KNOB=VALUE"),
        ("wobble=1", "KNOB=VALUE"),
        ("5xx=lots", "not a number"),
        ("seed=1.5", "not an integer"),
        ("boot-failure=1.5", "between 0 and 1"),
    ]:
        with pytest.raises(ConfigurationError, match=message):
            parse_faults([bad], "--fault")


def test_serve_with_faults_answers_503():
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    process = subprocess.Popen(
        [sys.executable, "-m", "pytest_interop.cli", "reference", "serve", "--fault", "5xx=1"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        banner = process.stderr.readline()  # written once the clouds.yaml is out
        assert "faults server_error_rate=1.0" in banner, banner
        base = re.search(r"at (http://[0-9.:]+)", banner).group(1)
        response = requests.get(f"{base}/compute/v2.1/flavors", timeout=10)
        assert response.status_code == 503
    finally:
        process.send_signal(signal.SIGINT)
        out, _ = process.communicate(timeout=30)
    assert "auth_url" in yaml.safe_load(out)["clouds"]["reference"]["auth"]


@pytest.mark.parametrize("how", ["option", "ini"])
def test_a_run_on_the_embedded_cloud_with_failed_boots_is_inconclusive(pytester, how):
    write_suite(pytester.path)
    args = [f"--guideline={GUIDELINE_ID}", "--cloud=reference"]
    knobs = ["boot-failure=1", "boot-delay=0.02", "seed=3"]
    if how == "option":
        args += [f"--interop-reference-fault={knob}" for knob in knobs]
    else:
        ini = pytester.path / "pytest.ini"
        ini.write_text(ini.read_text() + f"interop_reference_faults = {' '.join(knobs)}\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    result = run_pytest(pytester.path, env, *args)
    assert result.returncode == 7, result.stdout[-3000:] + result.stderr[-3000:]
    results = capability_results(load_report(pytester.path))
    assert results["cap-images"] == "passed"
    assert results["cap-boot"] == "error"


def test_a_bad_knob_stops_the_run_with_one_line(pytester):
    write_suite(pytester.path)
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    result = run_pytest(
        pytester.path,
        env,
        f"--guideline={GUIDELINE_ID}",
        "--cloud=reference",
        "--interop-reference-fault=5xx=7",
    )
    assert result.returncode == 4
    errors = [line for line in result.stderr.splitlines() if line.startswith("ERROR: ")]
    assert errors == [
        "ERROR: --interop-reference-fault: server_error_rate must be between 0 and 1, not 7.0"
    ]
