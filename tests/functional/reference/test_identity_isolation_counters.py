"""Keystone tokens and catalog, per-project isolation, and the admin counters endpoint."""

from __future__ import annotations

import time

import openstack.exceptions as os_exc
import pytest
import requests

from tests.functional.reference.conftest import boot, connect


def test_version_documents(cloud):
    versions = requests.get(f"{cloud.base_url}/identity", timeout=5)
    assert versions.status_code == 300
    assert versions.json()["versions"]["values"][0]["id"].startswith("v3")
    version = requests.get(cloud.auth_url, timeout=5).json()["version"]
    assert version["links"][0]["href"] == f"{cloud.auth_url}/"
    compute = requests.get(f"{cloud.base_url}/compute", timeout=5).json()["versions"]
    assert compute[1]["version"] == "2.79" and compute[1]["min_version"] == "2.1"
    network = requests.get(f"{cloud.base_url}/network", timeout=5).json()["versions"]
    assert network[0]["id"] == "v2.0"
    image = requests.get(f"{cloud.base_url}/image", timeout=5).json()["versions"]
    assert image[0]["status"] == "CURRENT"


def test_token_issue_validate_revoke_and_catalog(cloud, conn):
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
            },
            "scope": {"project": {"name": "demo", "domain": {"id": "default"}}},
        }
    }
    issued = requests.post(f"{cloud.auth_url}/auth/tokens", json=body, timeout=5)
    assert issued.status_code == 201
    token = issued.headers["X-Subject-Token"]
    catalog = {entry["type"]: entry for entry in issued.json()["token"]["catalog"]}
    assert {"identity", "compute", "image", "network"} <= set(catalog)
    headers = {"X-Auth-Token": token, "X-Subject-Token": token}
    assert (
        requests.get(f"{cloud.auth_url}/auth/tokens", headers=headers, timeout=5).status_code == 200
    )
    assert (
        requests.head(f"{cloud.auth_url}/auth/tokens", headers=headers, timeout=5).status_code
        == 200
    )
    assert (
        requests.delete(f"{cloud.auth_url}/auth/tokens", headers=headers, timeout=5).status_code
        == 204
    )
    after = requests.get(
        f"{cloud.base_url}/compute/v2.1/servers", headers={"X-Auth-Token": token}, timeout=5
    )
    assert after.status_code == 401
    assert [p.name for p in conn.identity.user_projects(conn.current_user_id)] == ["demo"]


def test_bad_password_is_401_with_keystone_body(cloud):
    config = cloud.cloud_config()
    config["auth"]["password"] = "wrong"
    with pytest.raises(os_exc.SDKException) as raised:
        connect(config).authorize()
    assert "HTTP 401" in str(raised.value)
    body = {
        "auth": {
            "identity": {
                "methods": ["password"],
                "password": {
                    "user": {"name": "demo", "domain": {"name": "Default"}, "password": "wrong"}
                },
            }
        }
    }
    response = requests.post(f"{cloud.auth_url}/auth/tokens", json=body, timeout=5)
    assert response.json()["error"]["code"] == 401


def test_projects_are_isolated(conn, other_conn, admin_conn):
    server = boot(conn, "mine-only")
    try:
        assert server.id not in {s.id for s in other_conn.compute.servers()}
        with pytest.raises(os_exc.NotFoundException):
            other_conn.compute.get_server(server.id)
        with pytest.raises(os_exc.NotFoundException):
            other_conn.compute.delete_server(server.id, ignore_missing=False)
        assert server.id not in {s.id for s in admin_conn.compute.servers()}
        assert server.id in {s.id for s in admin_conn.compute.servers(all_projects=True)}
        private = other_conn.network.create_network(name="other-private")
        assert "other-private" not in {n.name for n in conn.network.networks()}
        other_conn.network.delete_network(private)
    finally:
        conn.compute.delete_server(server)


def _live_servers(cloud, project_id: str, expected: int) -> int:
    """Polls until earlier deletes (asynchronous, as in Nova) have finished."""
    deadline = time.monotonic() + 10
    while True:
        live = cloud.counters()["live"]["servers"].get(project_id, 0)
        if live == expected or time.monotonic() > deadline:
            return live
        time.sleep(0.02)


def test_counters_admin_only_and_consistent(cloud, conn, admin_conn):
    demo_id = conn.current_project_id
    assert _live_servers(cloud, demo_id, 0) == 0
    before = cloud.counters()
    server = boot(conn, "counted")
    response = admin_conn.session.get(f"{cloud.base_url}/admin/counters")
    counters = response.json()
    assert counters["servers_booted"] == before["servers_booted"] + 1
    assert counters["live"]["servers"][demo_id] == 1
    assert counters["api_calls"]["compute POST /compute/v2.1/servers"] >= 1
    assert counters["projects"][demo_id] == "demo"
    denied = conn.session.get(f"{cloud.base_url}/admin/counters", raise_exc=False)
    assert denied.status_code == 403
    conn.compute.delete_server(server)
    assert _live_servers(cloud, demo_id, 0) == 0


def test_cloud_config_and_clouds_yaml_work_with_openstacksdk(cloud, tmp_path, monkeypatch):
    import openstack
    import yaml

    direct = openstack.connect(**cloud.cloud_config())  # the interop key is tolerated
    assert {n.name for n in direct.network.networks()} == {"public", "ext-net"}
    assert int(direct.config.config["interop"]["ssh_port"]) == cloud.ssh_port
    document = yaml.safe_load(cloud.clouds_yaml("mine"))
    assert document["clouds"]["mine"]["auth"]["auth_url"] == cloud.auth_url
    path = tmp_path / "clouds.yaml"
    path.write_text(cloud.clouds_yaml())
    monkeypatch.setenv("OS_CLIENT_CONFIG_FILE", str(path))
    by_name = openstack.connect(cloud="reference")
    assert [f.name for f in by_name.compute.flavors()][:1] == ["small"]
    assert "password" not in repr(cloud) and cloud.cloud_config()["auth"]["password"] not in repr(
        cloud
    )
