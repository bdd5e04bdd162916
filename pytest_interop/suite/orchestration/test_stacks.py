"""Stacks as Heat's API shows them: show, list, delete, environments, outputs, tags, events,
preview and update by patch.

Capabilities: stack-show, stack-list, stack-delete, stack-environment-parameter,
stack-output, stack-tag, stack-event, stack-preview, stack-update. Templates use
``OS::Heat::Value`` and ``OS::Heat::RandomString``: what is checked is Heat's own
behaviour, so no server is booted.
"""

from __future__ import annotations

import pytest

from pytest_interop.clouds.base import ResourceNotFound
from pytest_interop.suite.orchestration import templates
from pytest_interop.suite.orchestration.conftest import heat_create, show, stack_path, unique

VERSION = "2018-08-31"
EMPTY = f"heat_template_version: {VERSION}\ndescription: nothing in it\n"
VALUES = f"""
heat_template_version: {VERSION}
description: values and a random string
parameters:
  word: {{type: string, default: from-template}}
  count: {{type: number, default: 2}}
resources:
  first:
    type: OS::Heat::Value
    properties: {{value: {{get_param: word}}}}
  second:
    type: OS::Heat::Value
    properties:
      value: {{list_join: ['+', [{{get_attr: [first, value]}}, {{get_param: word}}]]}}
  random:
    type: OS::Heat::RandomString
    depends_on: first
    properties: {{length: 12}}
outputs:
  word:
    description: the parameter's value as the stack saw it
    value: {{get_param: word}}
  joined: {{value: {{get_attr: [second, value]}}}}
  replaced:
    value:
      str_replace:
        template: "count=N word=W"
        params: {{N: {{get_param: count}}, W: {{get_attr: [first, value]}}}}
  random_length: {{value: {{str_split: ['x', {{get_attr: [random, value]}}]}}}}
"""


@pytest.mark.idempotent_id("e43ab725-4f8d-4457-b391-ebac5800be9c")
def test_empty_stack_is_shown_with_its_name_status_and_parameters(heat, stacks):
    stack = stacks.create(EMPTY)
    shown = show(heat, stack.id)
    assert shown["stack_name"] == stack.name
    assert shown["stack_status"] == "CREATE_COMPLETE"
    assert shown["description"] == "nothing in it"
    assert shown["parameters"]["OS::stack_id"] == stack.id
    assert shown["parameters"]["OS::stack_name"] == stack.name
    by_name = heat.heat("stacks.show", "GET", f"/stacks/{stack.name}")["stack"]
    assert by_name["id"] == stack.id


@pytest.mark.idempotent_id("db503472-3be4-4ec7-8f3f-56ba0788465b")
def test_stack_is_listed_until_it_is_deleted(cloud, stacks):
    stack = stacks.create(templates.minimal(cloud))
    listed = {s.id: s for s in cloud.list_stacks()}
    assert listed[stack.id].name == stack.name
    assert listed[stack.id].status == "CREATE_COMPLETE"
    stacks.delete(stack.id)
    assert stack.id not in {s.id for s in cloud.list_stacks()}


@pytest.mark.idempotent_id("d9792c05-7824-4b69-997b-d8f4146f7a00")
def test_deleted_empty_stack_is_gone(cloud, stacks):
    stack = stacks.create(templates.minimal(cloud))
    stacks.delete(stack.id)
    with pytest.raises(ResourceNotFound):
        cloud.get_stack(stack.id)


@pytest.mark.idempotent_id("22a63a1e-08f0-45a2-aa96-22f74e7dfdfe")
def test_environment_parameters_set_what_the_template_defaults(heat, stacks):
    environment = {"parameters": {"word": "from-environment"}}
    stack = heat_create(stacks, {"template": VALUES, "environment": environment})
    assert stack["stack_status"] == "CREATE_COMPLETE", stack["stack_status_reason"]
    outputs = {o["output_key"]: o["output_value"] for o in stack["outputs"]}
    assert outputs["word"] == "from-environment"
    kept = heat.heat("stacks.environment", "GET", f"{stack_path(stack)}/environment")
    assert kept["parameters"] == {"word": "from-environment"}
    given = heat_create(
        stacks,
        {"template": VALUES, "environment": environment, "parameters": {"word": "given"}},
    )
    assert {o["output_key"]: o["output_value"] for o in given["outputs"]}["word"] == "given"


@pytest.mark.idempotent_id("d469c03a-77a8-4222-8ea4-81480a87498e")
def test_outputs_are_computed_from_parameters_and_attributes(heat, stacks):
    stack = stacks.create(VALUES, {"word": "w1", "count": 5})
    assert stack.outputs["joined"] == "w1+w1"
    assert stack.outputs["replaced"] == "count=5 word=w1"
    listed = heat.heat("outputs.list", "GET", f"/stacks/{stack.id}/outputs")["outputs"]
    assert {o["output_key"] for o in listed} == {"word", "joined", "replaced", "random_length"}
    one = heat.heat("outputs.show", "GET", f"/stacks/{stack.id}/outputs/word")["output"]
    assert (one["output_value"], one["description"]) == (
        "w1",
        "the parameter's value as the stack saw it",
    )


@pytest.mark.idempotent_id("72da095a-975d-4b71-9de3-6431fc567e77")
def test_an_update_that_adds_a_resource_adds_its_output(cloud, stacks, record_finding):
    stack = stacks.create(templates.minimal(cloud))
    assert stack.outputs == {}
    template, expected = templates.added_output(cloud)
    updated = cloud.update_stack(stack.id, template)
    assert updated.status == "UPDATE_COMPLETE", updated.status_reason
    assert set(updated.outputs) == {"later"}
    assert str(updated.outputs["later"]).startswith(expected)
    record_finding("output_added_by_update", "shown after the update")


@pytest.mark.idempotent_id("66311966-0811-41ae-8dcd-59919bfb0e05")
def test_stacks_are_found_by_tag_and_hidden_ones_are_not_listed(heat, stacks):
    tag = unique("tag")
    tagged = stacks.create(EMPTY, tags=[tag, "interop"])
    assert set(heat.get_stack(tagged.id).tags) >= {tag, "interop"}
    stacks.create(EMPTY)
    found = heat.heat("stacks.list", "GET", "/stacks", tags=tag)["stacks"]
    assert [s["id"] for s in found] == [tagged.id]
    hidden = stacks.create(EMPTY, tags=["data-processing-cluster", tag])
    listed = {s["id"] for s in heat.heat("stacks.list", "GET", "/stacks")["stacks"]}
    assert hidden.id not in listed
    with_hidden = heat.heat("stacks.list", "GET", "/stacks", show_hidden="true")["stacks"]
    assert hidden.id in {s["id"] for s in with_hidden}


@pytest.mark.idempotent_id("7ae73dbd-9371-4ffd-ae9b-494aae13d934")
def test_events_tell_each_resource_going_in_progress_then_complete(heat, stacks):
    stack = stacks.create(VALUES)
    events = heat.heat("events.list", "GET", f"/stacks/{stack.id}/events")["events"]
    by_resource: dict[str, list[str]] = {}
    for event in events:
        key = f"{event['resource_action']}_{event['resource_status']}"
        by_resource.setdefault(event["resource_name"], []).append(key)
    for name in ("first", "second", "random"):
        assert by_resource[name] == ["CREATE_IN_PROGRESS", "CREATE_COMPLETE"], by_resource
    assert by_resource[stack.name][-1] == "CREATE_COMPLETE"
    order = [e["resource_name"] for e in events if e["resource_status"] == "COMPLETE"]
    assert order.index("first") < order.index("second")
    one = next(e for e in events if e["resource_name"] == "second")
    path = f"/stacks/{stack.id}/resources/second/events/{one['id']}"
    assert heat.heat("events.show", "GET", path)["event"]["id"] == one["id"]


@pytest.mark.idempotent_id("f9a81b2f-d923-486c-8029-0c41a564f59a")
def test_preview_resolves_the_template_and_makes_nothing(heat, stacks):
    name = unique("preview")
    body = {"stack_name": name, "template": VALUES, "parameters": {"word": "seen"}}
    preview = heat.heat("stacks.preview", "POST", "/stacks/preview", body)["stack"]
    resources = {r["resource_name"]: r for r in preview["resources"]}
    assert set(resources) == {"first", "second", "random"}
    assert resources["first"]["properties"]["value"] == "seen"
    assert resources["random"]["resource_type"] == "OS::Heat::RandomString"
    assert name not in {s.name for s in heat.list_stacks()}
    from openstack import exceptions as os_exceptions

    broken = {"stack_name": name, "template": VALUES.replace("OS::Heat::Value", "OS::No::Such")}
    with pytest.raises(os_exceptions.HttpException) as refused:
        heat.heat("stacks.preview", "POST", "/stacks/preview", broken)
    assert refused.value.status_code == 400


@pytest.mark.idempotent_id("14d600fa-73df-4845-a443-ee8f228d4425")
def test_patch_update_keeps_the_template_and_changes_what_the_parameter_feeds(heat, stacks):
    stack = stacks.create(VALUES, {"word": "before"})
    random_before = stack.outputs["random_length"]
    heat.heat(
        "stacks.patch",
        "PATCH",
        f"/stacks/{stack.name}/{stack.id}",
        {"parameters": {"word": "after"}},
    )
    updated = stacks.wait(stack.id)
    for _ in range(50):
        if updated.status != "CREATE_COMPLETE":
            break
        updated = stacks.wait(stack.id)
    assert updated.status == "UPDATE_COMPLETE", updated.status_reason
    assert updated.outputs["joined"] == "after+after"
    assert updated.outputs["random_length"] == random_before, "an unrelated resource changed"
