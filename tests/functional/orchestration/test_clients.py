"""Heat's own clients against ``interop reference serve``: openstacksdk's orchestration proxy
and python-heatclient create, show and delete stacks, and the stack's server is a real
reference server (Nova lists it while the stack lives, not after)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import openstack
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[3]
TEMPLATE = """
heat_template_version: 2018-08-31
parameters:
  image: {type: string}
  flavor: {type: string}
  word: {type: string, default: default-word}
resources:
  key:
    type: OS::Nova::KeyPair
    properties: {name: {list_join: ['-', [{get_param: 'OS::stack_name'}, key]]}}
  server:
    type: OS::Nova::Server
    properties:
      image: {get_param: image}
      flavor: {get_param: flavor}
      key_name: {get_resource: key}
  value:
    type: OS::Heat::Value
    properties: {value: {str_replace: {template: w=W, params: {W: {get_param: word}}}}}
outputs:
  value: {value: {get_attr: [value, value]}}
  server: {value: {get_resource: server}}
"""


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """``interop reference serve`` in a process of its own; its clouds.yaml entry."""
    process = subprocess.Popen(
        [sys.executable, "-c", "from pytest_interop.cli import main; main()", "reference", "serve"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        cwd=ROOT,
    )
    try:
        lines: list[str] = []
        while not lines or not lines[-1].strip().startswith("profile:"):
            line = process.stdout.readline() if process.stdout else ""
            assert line, process.stderr.read() if process.stderr else "no output"
            lines.append(line)
        config = yaml.safe_load("".join(lines))["clouds"]["reference"]
        config.pop("interop", None)
        yield config
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 0


def _boot_choices(conn: Any) -> tuple[str, str]:
    image = next(i for i in conn.image.images() if i.name.startswith("Ubuntu"))
    flavor = min(conn.compute.flavors(), key=lambda f: f.ram)
    return image.id, flavor.id


def _wait(read: Any, until: set[str], timeout: float = 120) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        item = read()
        status = getattr(item, "stack_status", None) or getattr(item, "status", None)
        if status in until:
            return item
        assert time.monotonic() < deadline, f"still {status}"
        time.sleep(0.2)


def test_openstacksdk_orchestration_proxy_creates_shows_and_deletes_a_stack(served):
    conn = openstack.connect(**served)
    image, flavor = _boot_choices(conn)
    template = yaml.load(TEMPLATE, Loader=_NoDates)
    stack = conn.orchestration.create_stack(
        name="sdk-stack", template=template, parameters={"image": image, "flavor": flavor}
    )
    done = conn.orchestration.wait_for_status(
        stack, status="CREATE_COMPLETE", failures=["CREATE_FAILED"], interval=0.2, wait=120
    )
    found = conn.orchestration.find_stack("sdk-stack")
    assert found.id == done.id
    outputs = {
        o["output_key"]: o["output_value"] for o in conn.orchestration.get_stack(done).outputs
    }
    assert outputs["value"] == "w=default-word"
    names = {r.name: r for r in conn.orchestration.resources(done)}
    assert set(names) == {"key", "server", "value"}
    server = conn.compute.get_server(outputs["server"])
    assert server.status == "ACTIVE" and server.key_name == "sdk-stack-key"
    assert conn.orchestration.get_stack_template(done)["resources"]["value"]["type"] == (
        "OS::Heat::Value"
    )
    conn.orchestration.delete_stack(done)
    conn.orchestration.wait_for_delete(done, interval=0.2, wait=120)
    assert conn.compute.find_server(outputs["server"]) is None
    assert conn.compute.find_keypair("sdk-stack-key") is None
    conn.close()


def test_python_heatclient_creates_shows_and_deletes_a_stack(served, tmp_path):
    from heatclient import client as heat_client
    from heatclient.common import template_utils
    from heatclient.exc import HTTPNotFound

    conn = openstack.connect(**served)
    image, flavor = _boot_choices(conn)
    path = tmp_path / "stack.yaml"
    path.write_text(TEMPLATE)
    files, template = template_utils.get_template_contents(template_file=str(path))
    heat = heat_client.Client("1", session=conn.session, region_name=served["region_name"])
    created = heat.stacks.create(
        stack_name="heatclient-stack",
        template=template,
        files=files,
        parameters={"image": image, "flavor": flavor, "word": "from-heatclient"},
        tags="a,b",
    )
    stack_id = created["stack"]["id"]
    stack = _wait(lambda: heat.stacks.get(stack_id), {"CREATE_COMPLETE", "CREATE_FAILED"})
    assert stack.stack_status == "CREATE_COMPLETE", stack.stack_status_reason
    assert stack.tags == ["a", "b"]
    outputs = {o["output_key"]: o["output_value"] for o in stack.outputs}
    assert outputs["value"] == "w=from-heatclient"
    assert [s.id for s in heat.stacks.list()] == [stack_id]
    resources = {r.resource_name: r for r in heat.resources.list(stack_id)}
    assert resources["server"].physical_resource_id == outputs["server"]
    events = list(heat.events.list(stack_id))
    assert events[-1].resource_status == "COMPLETE"
    heat.stacks.delete(stack_id)

    def gone() -> Any:
        try:
            return heat.stacks.get(stack_id)
        except HTTPNotFound:
            return type("Gone", (), {"stack_status": "DELETE_COMPLETE"})()

    assert _wait(gone, {"DELETE_COMPLETE", "DELETE_FAILED"}).stack_status == "DELETE_COMPLETE"
    assert conn.compute.find_server(outputs["server"]) is None
    assert heat.stacks.list() is not None and not list(heat.stacks.list())
    conn.close()


class _NoDates(yaml.SafeLoader):
    """As Heat reads a template: ``2018-08-31`` stays a string."""


_NoDates.yaml_implicit_resolvers = {
    key: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for key, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
