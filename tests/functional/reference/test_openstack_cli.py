"""The ``openstack`` CLI (python-openstackclient) against a served reference cloud.

The way the README shows: a clouds.yaml as ``interop reference serve`` prints it, and
``OS_CLOUD`` naming its entry. Each command is the real CLI in a subprocess, over HTTP.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from pytest_interop.reference import ReferenceCloud

FAST = {"boot_delay": 0.05, "action_delay": 0.02, "delete_delay": 0.0, "machines": False}


def _openstack_executable() -> str:
    beside = Path(sys.executable).with_name("openstack")
    found = str(beside) if beside.exists() else shutil.which("openstack")
    if not found:
        pytest.fail("no `openstack` command: python-openstackclient is in the dev extra")
    return found


@pytest.fixture(scope="module")
def osc(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """``osc(*args)``: run ``openstack ARGS`` against a reference cloud; JSON when -f json."""
    workdir = tmp_path_factory.mktemp("osc")
    executable = _openstack_executable()
    with ReferenceCloud("default", **FAST) as cloud:
        clouds_yaml = workdir / "clouds.yaml"
        clouds_yaml.write_text(cloud.clouds_yaml())
        env = {k: v for k, v in os.environ.items() if not k.startswith("OS_")}
        env.update({"OS_CLIENT_CONFIG_FILE": str(clouds_yaml), "OS_CLOUD": "reference"})

        def run(*args: str) -> Any:
            done = subprocess.run(
                [executable, *args],
                cwd=workdir,
                env=env,
                capture_output=True,
                text=True,
                timeout=120,
            )
            assert done.returncode == 0, f"openstack {' '.join(args)}: {done.stderr[-1500:]}"
            return json.loads(done.stdout) if "json" in args and done.stdout else done.stdout

        def fails(*args: str) -> str:
            done = subprocess.run(
                [executable, *args], cwd=workdir, env=env, capture_output=True, text=True
            )
            assert done.returncode != 0, f"openstack {' '.join(args)} succeeded"
            return done.stderr

        run.fails = fails  # type: ignore[attr-defined]
        run.workdir = workdir  # type: ignore[attr-defined]
        run.cloud = cloud  # type: ignore[attr-defined]
        yield run


def test_token_issue(osc):
    token = osc("token", "issue", "-f", "json")
    conn_config = osc.cloud.cloud_config()
    assert token["id"] and token["project_id"] and token["user_id"]
    assert conn_config["auth"]["password"] not in json.dumps(token)


def test_images_networks_subnets_ports(osc):
    images = osc("image", "list", "-f", "json")
    assert {"Ubuntu-22.04", "Debian-12"} <= {image["Name"] for image in images}
    shown = osc("image", "show", "Ubuntu-22.04", "-f", "json")
    assert shown["name"] == "Ubuntu-22.04" and shown["status"] == "active"
    networks = {net["Name"]: net for net in osc("network", "list", "-f", "json")}
    assert {"public", "ext-net"} <= set(networks)
    subnets = osc("subnet", "list", "-f", "json")
    assert networks["public"]["ID"] in {subnet["Network"] for subnet in subnets}
    assert isinstance(osc("port", "list", "-f", "json"), list)


def test_server_create_list_show_delete(osc):
    name = f"cli-{uuid.uuid4().hex[:8]}"
    created = osc(
        "server", "create", "--image", "Ubuntu-22.04", "--flavor", "small",
        "--network", "public", "--wait", name, "-f", "json",
    )  # fmt: skip
    assert created["status"] == "ACTIVE"
    listed = {row["Name"]: row for row in osc("server", "list", "-f", "json")}
    assert listed[name]["Image"] == "Ubuntu-22.04" and listed[name]["Flavor"] == "small"
    shown = osc("server", "show", name, "-f", "json")
    assert shown["id"] == created["id"] and "public" in json.dumps(shown["addresses"])
    ports = osc("port", "list", "--server", created["id"], "-f", "json")
    assert len(ports) == 1
    osc("server", "delete", "--wait", name)
    assert name not in {row["Name"] for row in osc("server", "list", "-f", "json")}


def test_volume_create_list_delete(osc):
    name = f"cli-vol-{uuid.uuid4().hex[:8]}"
    created = osc("volume", "create", "--size", "1", name, "-f", "json")
    assert created["size"] == 1
    listed = {row["Name"]: row for row in osc("volume", "list", "-f", "json")}
    assert listed[name]["Status"] == "available"
    osc("volume", "delete", name)
    assert name not in {row["Name"] for row in osc("volume", "list", "-f", "json")}


def test_container_object_create_list_save(osc):
    container = f"cli-c-{uuid.uuid4().hex[:8]}"
    source = osc.workdir / "hello.txt"
    source.write_bytes(b"hello from the openstack CLI\n")
    osc("container", "create", container, "-f", "json")
    assert container in {row["Name"] for row in osc("container", "list", "-f", "json")}
    osc("object", "create", container, "hello.txt", "-f", "json")
    assert [row["Name"] for row in osc("object", "list", container, "-f", "json")] == ["hello.txt"]
    saved = osc.workdir / "saved.txt"
    osc("object", "save", container, "hello.txt", "--file", str(saved))
    assert saved.read_bytes() == source.read_bytes()
    osc("object", "delete", container, "hello.txt")
    osc("container", "delete", container)
    assert container not in {row["Name"] for row in osc("container", "list", "-f", "json")}


def test_admin_entry_creates_a_project_and_a_member_cannot(osc):
    name = f"cli-proj-{uuid.uuid4().hex[:8]}"
    created = osc("--os-cloud", "reference-admin", "project", "create", name, "-f", "json")
    assert created["name"] == name and created["domain_id"] == "default"
    listed = osc("--os-cloud", "reference-admin", "project", "list", "-f", "json")
    assert name in {row["Name"] for row in listed}
    refused = osc.fails("project", "create", f"{name}-member")
    assert "403" in refused or "not authorized" in refused
    osc("--os-cloud", "reference-admin", "project", "delete", name)
