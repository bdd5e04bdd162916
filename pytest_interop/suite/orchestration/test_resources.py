"""A stack's resources through Heat's API: listing and filtering them, showing one, marking
one unhealthy (and an update replacing it), hooks that pause a resource until cleared,
signals, and software configs delivered to a server.

Capabilities: stack-list-resources, stack-show-resource, stack-mark-resource-unhealthy,
stack-show-unhealthy-resource, stack-hook, stack-signal-resource, stack-software-config.
"""

from __future__ import annotations

import time

import pytest

from pytest_interop.suite.orchestration.conftest import heat_create, show, stack_path

VERSION = "2018-08-31"
CHAIN = f"""
heat_template_version: {VERSION}
resources:
  base:
    type: OS::Heat::Value
    properties: {{value: base}}
  derived:
    type: OS::Heat::Value
    properties:
      value:
        str_replace: {{template: x-B, params: {{B: {{get_attr: [base, value]}}}}}}
  after:
    type: OS::Heat::RandomString
    depends_on: derived
    properties: {{length: 16}}
outputs:
  random: {{value: {{get_attr: [after, value]}}}}
"""


def _resources(heat, stack_id: str, **filters) -> list[dict]:
    return heat.heat("resources.list", "GET", f"/stacks/{stack_id}/resources", **filters)[
        "resources"
    ]


@pytest.mark.idempotent_id("86067ea9-623b-4105-8f4e-5c15d719d159")
def test_resources_are_listed_with_what_requires_them_and_filtered(heat, stacks):
    stack = stacks.create(CHAIN)
    listed = {r["resource_name"]: r for r in _resources(heat, stack.id)}
    assert set(listed) == {"base", "derived", "after"}
    assert listed["base"]["required_by"] == ["derived"]
    assert listed["derived"]["required_by"] == ["after"]
    assert all(r["resource_status"] == "CREATE_COMPLETE" for r in listed.values())
    by_type = _resources(heat, stack.id, type="OS::Heat::RandomString")
    assert [r["resource_name"] for r in by_type] == ["after"]
    by_name = _resources(heat, stack.id, name="derived")
    assert [r["resource_name"] for r in by_name] == ["derived"]


@pytest.mark.idempotent_id("f6edd3b0-fc44-4247-980e-6ee9603b55cc")
def test_a_resource_is_shown_with_its_attributes(heat, stacks):
    stack = stacks.create(CHAIN)
    shown = heat.heat("resources.show", "GET", f"/stacks/{stack.id}/resources/derived")["resource"]
    assert shown["resource_type"] == "OS::Heat::Value"
    assert shown["attributes"]["value"] == "x-base"
    random = heat.heat("resources.show", "GET", f"/stacks/{stack.id}/resources/after")["resource"]
    assert random["physical_resource_id"]
    assert random["attributes"]["value"] == stack.outputs["random"]


def _mark(heat, stack_id: str, name: str, unhealthy: bool, reason: str) -> None:
    body = {"mark_unhealthy": unhealthy, "resource_status_reason": reason}
    heat.heat("resources.mark", "PATCH", f"/stacks/{stack_id}/resources/{name}", body)


@pytest.mark.idempotent_id("21f40c7e-17ee-443c-971f-9ba1265e429f")
def test_a_resource_marked_unhealthy_is_replaced_by_the_next_update(cloud, heat, stacks):
    stack = stacks.create(CHAIN)
    _mark(heat, stack.id, "after", True, "the tester says so")
    updated = cloud.update_stack(stack.id, CHAIN)
    assert updated.status == "UPDATE_COMPLETE", updated.status_reason
    assert updated.outputs["random"] != stack.outputs["random"], "the unhealthy one was kept"
    statuses = {r["resource_name"]: r["resource_status"] for r in _resources(heat, stack.id)}
    assert statuses["after"] in ("CREATE_COMPLETE", "UPDATE_COMPLETE")
    assert statuses["base"] == "CREATE_COMPLETE", "a healthy resource was touched"


@pytest.mark.idempotent_id("e77524f6-53b6-4686-8cd5-6a664ccdd027")
def test_an_unhealthy_resource_shows_check_failed_with_the_reason_until_cleared(heat, stacks):
    stack = stacks.create(CHAIN)
    _mark(heat, stack.id, "derived", True, "seen broken by the tester")
    path = f"/stacks/{stack.id}/resources/derived"
    shown = heat.heat("resources.show", "GET", path)["resource"]
    assert shown["resource_status"] == "CHECK_FAILED"
    assert shown["resource_status_reason"] == "seen broken by the tester"
    _mark(heat, stack.id, "derived", False, "fixed")
    assert heat.heat("resources.show", "GET", path)["resource"]["resource_status"] in (
        "CHECK_COMPLETE",
        "CREATE_COMPLETE",
    )


HOOKED = {"resource_registry": {"resources": {"derived": {"hooks": "pre-create"}}}}


@pytest.mark.idempotent_id("c9cbdba1-8ef6-459f-891b-feeb9b2119bb")
def test_a_pre_create_hook_pauses_the_resource_until_it_is_cleared(heat, stacks):
    stack = heat_create(stacks, {"template": CHAIN, "environment": HOOKED}, wait=False)
    path = stack_path(stack)
    deadline = time.monotonic() + 60
    while True:
        events = heat.heat("events.list", "GET", f"{path}/events")["events"]
        reasons = [e["resource_status_reason"] for e in events if e["resource_name"] == "derived"]
        if any("paused until Hook pre-create is cleared" in r for r in reasons):
            break
        assert time.monotonic() < deadline, "the hook never paused the resource"
        time.sleep(0.3)
    time.sleep(1)  # paused means paused: nothing moves while the hook is set
    assert show(heat, stack["id"])["stack_status"] == "CREATE_IN_PROGRESS"
    statuses = {r["resource_name"]: r["resource_status"] for r in _resources(heat, stack["id"])}
    assert statuses["base"] == "CREATE_COMPLETE"
    assert statuses.get("after", "INIT_COMPLETE") == "INIT_COMPLETE"
    heat.heat(
        "resources.signal", "POST", f"{path}/resources/derived/signal", {"unset_hook": "pre-create"}
    )
    assert stacks.wait(stack["id"]).status == "CREATE_COMPLETE"


SIGNALLED = f"""
heat_template_version: {VERSION}
resources:
  handle: {{type: OS::Heat::WaitConditionHandle}}
  wait:
    type: OS::Heat::WaitCondition
    properties: {{handle: {{get_resource: handle}}, timeout: 120, count: 2}}
outputs:
  data: {{value: {{get_attr: [wait, data]}}}}
"""


@pytest.mark.idempotent_id("8f1b8563-7a38-4348-8546-b1b68faa0a5b")
def test_signals_to_a_handle_complete_its_wait_condition(heat, stacks):
    stack = heat_create(stacks, {"template": SIGNALLED}, wait=False)
    signal = f"{stack_path(stack)}/resources/handle/signal"
    deadline = time.monotonic() + 60
    while True:
        statuses = {r["resource_name"]: r["resource_status"] for r in _resources(heat, stack["id"])}
        if statuses.get("handle") == "CREATE_COMPLETE":
            break
        assert time.monotonic() < deadline, statuses
        time.sleep(0.2)
    heat.heat("resources.signal", "POST", signal, {"status": "SUCCESS", "id": "a", "data": "1"})
    time.sleep(0.5)
    assert show(heat, stack["id"])["stack_status"] == "CREATE_IN_PROGRESS", "one of two is enough?"
    heat.heat("resources.signal", "POST", signal, {"status": "SUCCESS", "id": "b", "data": "2"})
    done = stacks.wait(stack["id"])
    assert done.status == "CREATE_COMPLETE", done.status_reason
    assert done.outputs["data"] == {"a": "1", "b": "2"}


SOFTWARE = f"""
heat_template_version: {VERSION}
resources:
  config:
    type: OS::Heat::SoftwareConfig
    properties:
      group: script
      inputs: [{{name: greeting}}]
      outputs: [{{name: result}}]
      config: |
        #!/bin/sh
        echo "$greeting" > /tmp/greeting
outputs:
  config_id: {{value: {{get_resource: config}}}}
"""


@pytest.mark.idempotent_id("37f1e55a-fc2d-4f10-851a-b63977fc5128")
def test_a_software_config_is_delivered_to_a_server_and_its_deployment_reported(
    heat, stacks, shared_server
):
    stack = stacks.create(SOFTWARE)
    config_id = stack.outputs["config_id"]
    config = heat.heat("configs.show", "GET", f"/software_configs/{config_id}")["software_config"]
    assert config["group"] == "script" and "echo" in config["config"]
    body = {
        "config_id": config_id,
        "server_id": shared_server.id,
        "action": "CREATE",
        "status": "IN_PROGRESS",
        "input_values": {"greeting": "hello-deploy"},
    }
    deployment = heat.heat("deployments.create", "POST", "/software_deployments", body)[
        "software_deployment"
    ]
    try:
        metadata = heat.heat(
            "deployments.metadata", "GET", f"/software_deployments/metadata/{shared_server.id}"
        )["metadata"]
        delivered = [m for m in metadata if m["id"] == config_id]
        assert delivered, "the server's metadata does not carry the config"
        inputs = {i["name"]: i.get("value") for i in delivered[0]["inputs"]}
        assert inputs["greeting"] == "hello-deploy"
        assert inputs["deploy_server_id"] == shared_server.id
        report = {"status": "COMPLETE", "output_values": {"result": "ok"}}
        path = f"/software_deployments/{deployment['id']}"
        heat.heat("deployments.update", "PUT", path, report)
        shown = heat.heat("deployments.show", "GET", path)["software_deployment"]
        assert (shown["status"], shown["output_values"]) == ("COMPLETE", {"result": "ok"})
    finally:
        heat.heat("deployments.delete", "DELETE", f"/software_deployments/{deployment['id']}")
    listed = heat.heat(
        "deployments.list", "GET", "/software_deployments", server_id=shared_server.id
    )["software_deployments"]
    assert deployment["id"] not in {d["id"] for d in listed}
