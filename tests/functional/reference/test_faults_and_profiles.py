"""Injected faults (429 with Retry-After, 503, failed boots, slow deletes) and profiles."""

from __future__ import annotations

import requests

from pytest_interop.reference import ReferenceCloud
from pytest_interop.reference.profiles import PROFILES
from tests.functional.reference.conftest import FAST, boot, connect, wait_status


def _token(cloud: ReferenceCloud) -> str:
    config = cloud.cloud_config()["auth"]
    body = {
        "auth": {
            "identity": {
                "methods": ["password"],
                "password": {
                    "user": {
                        "name": config["username"],
                        "domain": {"name": "Default"},
                        "password": config["password"],
                    }
                },
            }
        }
    }
    return requests.post(f"{cloud.auth_url}/auth/tokens", json=body, timeout=5).headers[
        "X-Subject-Token"
    ]


def test_rate_limits_and_server_errors_are_seeded():
    outcomes = []
    for _ in range(2):
        with ReferenceCloud(
            rate_limit_rate=0.3, server_error_rate=0.2, seed=7, machines=False
        ) as cloud:
            headers = {"X-Auth-Token": _token(cloud)}
            run = []
            for _ in range(30):
                response = requests.get(
                    f"{cloud.base_url}/compute/v2.1/flavors", headers=headers, timeout=5
                )
                run.append(response.status_code)
                if response.status_code == 429:
                    assert response.headers["Retry-After"] == "1"
                    assert response.json()["overLimit"]["retryAfter"] == "1"
                if response.status_code == 503:
                    assert response.json()["serviceUnavailable"]["code"] == 503
            outcomes.append(run)
    assert outcomes[0] == outcomes[1]
    assert {200, 429, 503} <= set(outcomes[0])


def test_failed_boots_end_in_error_with_a_fault():
    with ReferenceCloud(boot_failure_rate=1.0, **FAST) as cloud:
        conn = connect(cloud.cloud_config())
        server = boot(conn, "doomed", wait=False)
        server = wait_status(conn, server, "ERROR")
        assert "No valid host" in server.fault["message"]
        assert cloud.counters()["servers_failed"] == 1
        conn.compute.delete_server(server)


def test_slow_delete_lingers_as_deleting():
    knobs = {**FAST, "slow_delete_rate": 1.0, "slow_delete_delay": 0.5}
    with ReferenceCloud(**knobs) as cloud:
        conn = connect(cloud.cloud_config())
        server = boot(conn, "slow")
        conn.compute.delete_server(server)
        assert conn.compute.get_server(server).task_state == "deleting"
        conn.compute.wait_for_delete(server, wait=10, interval=0.05)


def test_profiles_are_documented_and_distinct():
    assert {"default", "floating-ip", "rhel", "devstack"} <= set(PROFILES)
    for profile in PROFILES.values():
        assert len(profile.description) > 40
        assert all(image.os_distro for image in profile.images)
    assert not PROFILES["default"].floating_ip_required
    assert PROFILES["floating-ip"].floating_ip_required
    rhel_users = {image.login_user for image in PROFILES["rhel"].images}
    assert rhel_users == {"cloud-user", "centos"}
    assert all(
        image.root_login == "no" and image.sudo_requires_tty for image in PROFILES["rhel"].images
    )


def test_unknown_profile_or_knob_is_a_configuration_error():
    import pytest

    from pytest_interop.errors import ConfigurationError

    with pytest.raises(ConfigurationError):
        ReferenceCloud("nope")
    with pytest.raises(ConfigurationError):
        ReferenceCloud(latency_typo=1)
    with pytest.raises(ConfigurationError):
        ReferenceCloud(host="0.0.0.0")


def test_api_latency_knob_delays_service_calls_only():
    import time

    with ReferenceCloud(api_latency=0.2, machines=False) as cloud:
        token = _token(cloud)  # token requests carry no injected latency
        start = time.monotonic()
        response = requests.get(
            f"{cloud.base_url}/compute/v2.1/flavors", headers={"X-Auth-Token": token}, timeout=5
        )
        assert response.status_code == 200
        assert time.monotonic() - start >= 0.2


def test_quotas_knob_changes_the_defaults():
    with ReferenceCloud(quotas={"instances": 50}, machines=False) as cloud:
        conn = connect(cloud.cloud_config())
        quota = conn.compute.get_quota_set(conn.current_project_id)
        assert quota.instances == 50 and quota.cores == 20
        conn.close()
