"""What Heat says about templates, and whether it holds: resource types, their schemas and
generated templates, template versions and functions, validation, a stack's template.

Capabilities: stack-list-resource-types, stack-show-resource-type,
stack-resource-type-template, stack-list-template-versions, stack-list-template-functions,
stack-template. Where Heat describes something, the test uses it: a generated template is
created as a stack, a listed version validates, listed functions evaluate.
"""

from __future__ import annotations

import pytest

from pytest_interop.clouds.base import ResourceNotFound
from pytest_interop.suite.orchestration import templates

# every type the suite's templates use
USED_TYPES = {
    "OS::Nova::Server",
    "OS::Nova::KeyPair",
    "OS::Neutron::Net",
    "OS::Neutron::Subnet",
    "OS::Neutron::Port",
    "OS::Neutron::Router",
    "OS::Neutron::RouterInterface",
    "OS::Neutron::SecurityGroup",
    "OS::Neutron::FloatingIP",
    "OS::Heat::RandomString",
    "OS::Heat::Value",
    "OS::Heat::SoftwareConfig",
    "OS::Heat::WaitCondition",
    "OS::Heat::WaitConditionHandle",
}
USED_FUNCTIONS = {"get_param", "get_resource", "get_attr", "str_replace", "list_join", "str_split"}


def _refused(call) -> int:
    from openstack import exceptions as os_exceptions

    with pytest.raises(os_exceptions.HttpException) as refused:
        call()
    return int(refused.value.status_code)


@pytest.mark.idempotent_id("eb76963b-edd3-4542-bbe7-79b28f6257aa")
def test_resource_types_list_every_type_the_suite_uses(heat):
    listed = set(heat.heat("types.list", "GET", "/resource_types")["resource_types"])
    assert listed >= USED_TYPES, f"missing: {sorted(USED_TYPES - listed)}"
    assert not {t for t in listed if t.count("::") != 2}, "a type name is not A::B::C"


@pytest.mark.idempotent_id("d4ad70ee-15d7-4e86-bde3-33219d351962")
def test_a_resource_type_shows_the_properties_and_attributes_it_takes(heat):
    schema = heat.heat("types.show", "GET", "/resource_types/OS::Nova::Server")
    assert schema["resource_type"] == "OS::Nova::Server"
    properties = schema["properties"]
    assert properties["flavor"]["required"] is True
    assert properties["flavor"]["update_allowed"] is True  # a flavor change resizes
    assert properties["image"]["required"] is True
    assert "networks" in schema["attributes"]
    assert "first_address" in schema["attributes"]
    with pytest.raises(ResourceNotFound):
        heat.heat("types.show", "GET", "/resource_types/OS::No::Such")


@pytest.mark.idempotent_id("0ecb1ced-5569-4d01-8d03-ad9d47b7d2ea")
def test_a_resource_types_generated_template_makes_a_stack(heat, stacks):
    generated = heat.heat(
        "types.template",
        "GET",
        "/resource_types/OS::Heat::RandomString/template",
        template_type="hot",
    )
    assert set(generated["parameters"]) >= {"length"}
    assert generated["resources"]["OS::Heat::RandomString"]["type"] == "OS::Heat::RandomString"
    import yaml

    stack = stacks.create(yaml.safe_dump(generated), {"length": 20})
    assert stack.status == "CREATE_COMPLETE", stack.status_reason
    assert len(stack.outputs["value"]) == 20


@pytest.mark.idempotent_id("09f59318-398b-4394-82ab-ab6edb7d8bc9")
def test_each_listed_template_version_validates_a_template(heat):
    versions = heat.heat("versions.list", "GET", "/template_versions")["template_versions"]
    hot = [v["version"] for v in versions if v["type"] == "hot"]
    assert f"heat_template_version.{templates.HOT_VERSION}" in hot
    for version in hot:
        date = version.split(".", 1)[1]
        text = f"heat_template_version: {date}\nparameters:\n  p: {{type: string}}\n"
        answer = heat.heat("validate", "POST", "/validate", {"template": text})
        assert set(answer["Parameters"]) == {"p"}, version
    bad = {"template": "heat_template_version: 1999-01-01\n"}
    assert _refused(lambda: heat.heat("validate", "POST", "/validate", bad)) == 400


@pytest.mark.idempotent_id("dddadf08-e550-4bea-8a1a-49dcc4cab41b")
def test_listed_template_functions_evaluate(heat, stacks):
    path = f"/template_versions/heat_template_version.{templates.HOT_VERSION}/functions"
    listed = {
        f["functions"] for f in heat.heat("functions.list", "GET", path)["template_functions"]
    }
    assert listed >= USED_FUNCTIONS, f"missing: {sorted(USED_FUNCTIONS - listed)}"
    conditions = heat.heat("functions.list", "GET", path, condition_functions="true")
    assert {"equals", "not"} <= {f["functions"] for f in conditions["template_functions"]}
    text = f"""
heat_template_version: {templates.HOT_VERSION}
parameters:
  words: {{type: comma_delimited_list, default: "a,b,c"}}
conditions:
  three: {{equals: [{{length: 3}}, {{length: 3}}]}}
  not_three: {{not: three}}
resources:
  value:
    type: OS::Heat::Value
    properties: {{value: {{list_join: ['-', {{get_param: words}}]}}}}
outputs:
  joined: {{value: {{get_attr: [value, value]}}}}
  split: {{value: {{str_split: ['-', {{get_attr: [value, value]}}, 1]}}}}
  replaced: {{value: {{str_replace: {{template: "x=X", params: {{X: {{get_resource: value}}}}}}}}}}
  chosen: {{value: {{if: [not_three, wrong, right]}}}}
"""
    stack = stacks.create(text)
    assert stack.status == "CREATE_COMPLETE", stack.status_reason
    assert stack.outputs["joined"] == "a-b-c"
    assert stack.outputs["split"] == "b"
    assert stack.outputs["replaced"].startswith("x=") and len(stack.outputs["replaced"]) > 2
    assert stack.outputs["chosen"] == "right"


VALIDATED = f"""
heat_template_version: {templates.HOT_VERSION}
description: to be validated
parameter_groups:
  - label: sizes
    parameters: [size]
parameters:
  size: {{type: number, default: 3, description: how many}}
  name: {{type: string, description: required, no default}}
resources:
  value:
    type: OS::Heat::Value
    properties: {{value: {{get_param: name}}}}
"""


@pytest.mark.idempotent_id("e0ce2ae7-59fa-444b-8ce0-8e46c3c9b1f4")
def test_validation_reports_parameters_and_refuses_bad_templates(heat):
    answer = heat.heat("validate", "POST", "/validate", {"template": VALIDATED})
    assert answer["Description"] == "to be validated"
    size, name = answer["Parameters"]["size"], answer["Parameters"]["name"]
    assert (size["Type"], size["Default"], size["Description"]) == ("Number", 3, "how many")
    assert name["Type"] == "String" and "Default" not in name
    assert answer["ParameterGroups"][0]["parameters"] == ["size"]
    given = heat.heat(
        "validate", "POST", "/validate", {"template": VALIDATED, "parameters": {"size": 7}}
    )
    assert given["Parameters"]["size"]["Value"] == 7
    unknown_type = {"template": VALIDATED.replace("OS::Heat::Value", "OS::No::Such")}
    assert _refused(lambda: heat.heat("validate", "POST", "/validate", unknown_type)) == 400
    bad_reference = {"template": VALIDATED.replace("get_param: name", "get_resource: nothing")}
    assert _refused(lambda: heat.heat("validate", "POST", "/validate", bad_reference)) == 400


@pytest.mark.idempotent_id("1b1508e7-4701-43fe-82ca-17d987346c9e")
def test_a_stacks_template_reads_back_as_sent(heat, stacks):
    import yaml

    text = VALIDATED.replace("no default", "given")
    stack = stacks.create(text, {"name": "ünïcode-välue"})
    assert stack.status == "CREATE_COMPLETE", stack.status_reason
    kept = heat.heat("stacks.template", "GET", f"/stacks/{stack.name}/{stack.id}/template")
    sent = yaml.load(text, Loader=templates.NoDates)
    assert kept == sent
