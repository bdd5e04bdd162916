"""Bad input, one case per test: one clear line naming the file or option and the fix,
pytest's usage-error exit code (4) or the ``interop`` command's (2), no traceback, and no
report (not even half of one).

Unknown guideline ids, targets, clouds and reference profiles and malformed guideline JSON
are covered in tests/unit/plugin/test_guideline_run.py.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys

import pytest

from .conftest import (
    GUIDELINE_ID,
    capability_results,
    load_report,
    run_pytest,
    small_guideline,
    write_suite,
)

USAGE = pytest.ExitCode.USAGE_ERROR


def guideline_run(directory, cloud, *args: str):
    return run_pytest(
        directory, cloud.env(), f"--guideline={GUIDELINE_ID}", f"--cloud={cloud.name}", *args
    )


def assert_one_clear_line(directory, result, *fragments: str) -> str:
    assert result.returncode == USAGE, result.stdout + result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("ERROR: ")]
    assert len(errors) == 1, result.stderr
    for fragment in fragments:
        assert fragment in errors[0], errors[0]
    assert "Traceback" not in result.stderr + result.stdout
    assert not (directory / "interop-report.json").exists()
    assert not list(directory.glob(".interop-report.json*"))
    return errors[0]


def free_loopback_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_schema_invalid_guideline_names_the_file_and_the_field(pytester, outside):
    guideline = small_guideline()
    del guideline["capabilities"]["cap-boot"]["tests"]
    write_suite(pytester.path, guideline=guideline)
    result = guideline_run(pytester.path, outside())
    assert_one_clear_line(pytester.path, result, f"{GUIDELINE_ID}.json", "tests")


def test_clouds_yaml_with_a_syntax_error(pytester, outside):
    write_suite(pytester.path)
    cloud = outside()
    cloud.clouds_yaml.write_text("clouds:\n  outside: {auth: [\n")
    result = guideline_run(pytester.path, cloud)
    assert_one_clear_line(
        pytester.path, result, "--cloud=outside", str(cloud.clouds_yaml), "not valid YAML", "line"
    )


def test_auth_keys_that_do_not_fit_the_auth_type(pytester, outside):
    write_suite(pytester.path)
    cloud = outside()
    config = cloud.cloud.cloud_config(cloud.name)
    config["auth"]["application_credential_secret"] = "appcred-Zq81-secret"
    cloud.write_config(config)
    result = guideline_run(pytester.path, cloud)
    assert_one_clear_line(pytester.path, result, "--cloud=outside", "auth_type", "clouds.yaml")
    assert "appcred-Zq81-secret" not in result.stdout + result.stderr


def test_wrong_password_stops_the_run_before_any_test(pytester, outside):
    write_suite(pytester.path)
    cloud = outside()
    config = cloud.cloud.cloud_config(cloud.name)
    config["auth"]["password"] = "not-the-password-Zq81"
    cloud.write_config(config)
    result = guideline_run(pytester.path, cloud)
    line = assert_one_clear_line(pytester.path, result, "--cloud=outside", "401", "password")
    assert "not-the-password-Zq81" not in result.stdout + result.stderr + line
    assert cloud.cloud.counters()["servers_booted"] == 0


def test_unreachable_auth_url(pytester, outside):
    write_suite(pytester.path)
    cloud = outside()
    config = cloud.cloud.cloud_config(cloud.name)
    url = f"http://127.0.0.1:{free_loopback_port()}/identity/v3"
    config["auth"]["auth_url"] = url
    cloud.write_config(config)
    result = guideline_run(pytester.path, cloud)
    assert_one_clear_line(
        pytester.path, result, "--cloud=outside", url, "cannot connect", "auth_url"
    )


def test_tls_failure_to_a_plain_http_endpoint(pytester, outside):
    write_suite(pytester.path)
    cloud = outside()
    config = cloud.cloud.cloud_config(cloud.name)
    config["auth"]["auth_url"] = cloud.cloud.auth_url.replace("http://", "https://")
    cloud.write_config(config)
    result = guideline_run(pytester.path, cloud)
    assert_one_clear_line(pytester.path, result, "--cloud=outside", "TLS failed", "cacert")


def test_an_image_named_in_the_settings_that_is_not_there(pytester, outside):
    write_suite(pytester.path)
    cloud = outside()
    config = cloud.cloud.cloud_config(cloud.name)
    config["interop"]["flavor"] = "m9.galactic"
    cloud.write_config(config)
    result = guideline_run(pytester.path, cloud)
    assert_one_clear_line(
        pytester.path, result, "--cloud=outside", "cannot run here", "m9.galactic"
    )


def test_a_cloud_without_a_linux_image_cannot_run_the_boot_tests(pytester, outside):
    """Not a usage error (the cloud is fine): the boot tests say why they cannot run here."""
    write_suite(pytester.path)
    cloud = outside()
    with cloud.cloud.state.lock:
        for image in cloud.cloud.state.image.images.values():
            image["status"] = "deactivated"
    result = guideline_run(pytester.path, cloud)
    # only infrastructure errors: inconclusive (7), the run could not test the boot tests
    assert result.returncode == 7, result.stdout + result.stderr
    report = load_report(pytester.path)
    assert report["clouds"][0]["verdict"] == "inconclusive"
    results = capability_results(report)
    assert results["cap-images"] == "passed"
    assert results["cap-boot"] == "error"
    (boot,) = [o for o in report["outcomes"] if "test_server_boots_active" in o["nodeid"]]
    assert boot["error_kind"] == "infrastructure"
    assert boot["call"] == "images.list"
    assert "cannot run here: no active Linux image" in boot["message"]
    assert cloud.leaked() == {}


def test_a_token_that_expires_mid_run_is_renewed(pytester, outside):
    write_suite(pytester.path)
    cloud = outside(token_lifetime=0.3)
    result = guideline_run(pytester.path, cloud)
    assert result.returncode == 0, result.stdout + result.stderr
    assert capability_results(load_report(pytester.path))["cap-ssh"] == "passed"
    issued = cloud.cloud.counters()["api_calls"]["identity POST /identity/v3/auth/tokens"]
    assert issued >= 4  # the check, the run's first token, and renewals after 401s


CLEANUP_ARGS = ["--cloud", "outside", "--run-id", "x"]


def run_cleanup_command(pytester, cloud) -> subprocess.CompletedProcess[str]:
    """`interop cleanup --cloud outside --run-id x` in a process of its own."""
    return subprocess.run(
        [sys.executable, "-m", "pytest_interop.cli", "cleanup", *CLEANUP_ARGS],
        cwd=pytester.path,
        env=cloud.env(),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_cleanup_command_with_a_broken_clouds_yaml_exits_2(pytester, outside):
    cloud = outside()
    cloud.clouds_yaml.write_text("clouds:\n  outside: {auth: [\n")
    result = run_cleanup_command(pytester, cloud)
    assert result.returncode == 2, result.stdout + result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "not valid YAML" in lines[0], result.stderr
    assert lines[0].startswith("interop: error: --cloud=outside:")


def test_cleanup_command_with_a_wrong_password_exits_2(pytester, outside):
    cloud = outside()
    config = cloud.cloud.cloud_config(cloud.name)
    config["auth"]["password"] = "not-the-password-Zq81"
    cloud.write_config(config)
    result = run_cleanup_command(pytester, cloud)
    assert result.returncode == 2, result.stdout + result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "401" in lines[0], result.stderr
    assert "Traceback" not in result.stderr
    assert json.dumps(lines).count("not-the-password") == 0
