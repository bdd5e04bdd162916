"""The CloudFormation variants of the tests of Heat's own API (``test_stacks``,
``test_resources``, ``test_templates``): the same capability, asked of CloudFormation's API.

Capabilities: stack-show (DescribeStacks), stack-event (DescribeStackEvents),
stack-list-resource-types (ListTypes), stack-show-resource-type (DescribeType),
stack-signal-resource (a wait condition handle signalled over HTTP, no credentials),
stack-list-resources (ListStackResources, DescribeStackResources), stack-show-resource
(DescribeStackResource), stack-template (ValidateTemplate, GetTemplate), stack-preview (a
change set of type CREATE). The templates make SSM parameters: cheap, and what one holds is
read back from SSM itself, so no instance is booted. Where CloudFormation answers otherwise
than Heat, a finding says how.
"""

from __future__ import annotations

import pytest

from pytest_interop.suite.orchestration.conftest import unique

CHAIN = """
AWSTemplateFormatVersion: '2010-09-09'
Description: a chain of three parameters
Parameters:
  word: {Type: String, Default: x, Description: what the first one holds}
  size: {Type: Number, Default: 3}
  secret: {Type: String, NoEcho: true, Default: hidden}
Resources:
  base:
    Type: AWS::SSM::Parameter
    Properties:
      Name: {"Fn::Sub": "${AWS::StackName}-base"}
      Type: String
      Value: {Ref: word}
  derived:
    Type: AWS::SSM::Parameter
    Properties:
      Name: {"Fn::Sub": "${AWS::StackName}-derived"}
      Type: String
      Value: {"Fn::Sub": "${word}-${base}-${size}"}
  after:
    Type: AWS::SSM::Parameter
    DependsOn: derived
    Properties:
      Name: {"Fn::Sub": "${AWS::StackName}-after"}
      Type: String
      Value: {Ref: secret}
Outputs:
  derived: {Value: {Ref: derived}}
"""


def _ssm_value(cloud, name: str) -> str:
    ssm = cloud._session.client("ssm", endpoint_url=cloud.endpoint_url)
    return str(ssm.get_parameter(Name=name)["Parameter"]["Value"])


@pytest.mark.idempotent_id("5b0f3a43-0d6e-4d83-9d57-1f0c1a7e3b21")
def test_cfn_stack_is_shown_with_its_name_status_description_and_parameters(
    cfn, stacks, record_finding
):
    stack = stacks.create(CHAIN, {"word": "shown"})
    shown = cfn.cloudformation("describe_stacks", StackName=stack.id)["Stacks"][0]
    assert (shown["StackName"], shown["StackStatus"]) == (stack.name, "CREATE_COMPLETE")
    assert shown["Description"] == "a chain of three parameters"
    given = {p["ParameterKey"]: p["ParameterValue"] for p in shown["Parameters"]}
    assert given["word"] == "shown"
    by_name = cfn.cloudformation("describe_stacks", StackName=stack.name)["Stacks"][0]
    assert by_name["StackId"] == stack.id
    record_finding(
        "stack_show_parameters",
        "CloudFormation shows the parameters given; Heat also shows OS::stack_id and "
        "OS::stack_name among them",
    )


@pytest.mark.idempotent_id("0a7c6e52-95c1-4f2e-8d7b-4c1f6a2e9d13")
def test_cfn_events_tell_each_resource_going_in_progress_then_complete(cfn, stacks):
    stack = stacks.create(CHAIN)
    events = cfn.cloudformation("describe_stack_events", StackName=stack.id)["StackEvents"]
    events = list(reversed(events))  # CloudFormation lists the newest first
    by_resource: dict[str, list[str]] = {}
    for event in events:
        by_resource.setdefault(event["LogicalResourceId"], []).append(event["ResourceStatus"])
    for name in ("base", "derived", "after"):
        assert by_resource[name] == ["CREATE_IN_PROGRESS", "CREATE_COMPLETE"], by_resource
    assert by_resource[stack.name][0] == "CREATE_IN_PROGRESS"
    assert by_resource[stack.name][-1] == "CREATE_COMPLETE"
    order = [e["LogicalResourceId"] for e in events if e["ResourceStatus"] == "CREATE_COMPLETE"]
    assert order.index("base") < order.index("derived") < order.index("after")
    assert order[-1] == stack.name, "the stack completed before its resources"
    made = next(e for e in events if e["LogicalResourceId"] == "derived")
    assert made["ResourceType"] == "AWS::SSM::Parameter"
    assert made["StackId"] == stack.id


@pytest.mark.idempotent_id("c3e1d7f4-6b2a-4f0e-9a85-2d7b3e9f1c40")
def test_cfn_resources_are_listed_and_found_by_name(cfn, stacks, record_finding):
    stack = stacks.create(CHAIN)
    listed = cfn.cloudformation("list_stack_resources", StackName=stack.id)
    summaries = {r["LogicalResourceId"]: r for r in listed["StackResourceSummaries"]}
    assert set(summaries) == {"base", "derived", "after"}
    assert all(r["ResourceStatus"] == "CREATE_COMPLETE" for r in summaries.values())
    assert {r["ResourceType"] for r in summaries.values()} == {"AWS::SSM::Parameter"}
    for name, summary in summaries.items():  # what each made is there, under that id
        assert _ssm_value(cfn, summary["PhysicalResourceId"]), name
    found = cfn.cloudformation(
        "describe_stack_resources", StackName=stack.id, LogicalResourceId="derived"
    )["StackResources"]
    assert [r["LogicalResourceId"] for r in found] == ["derived"]
    record_finding(
        "resource_list",
        "CloudFormation lists no required_by and filters by logical id only; Heat also "
        "filters by type and names what requires each resource",
    )


@pytest.mark.idempotent_id("8d2f4b6a-1e3c-4a7d-b5f9-6c0e2a4d8b17")
def test_cfn_a_resource_is_shown_with_what_it_made(cfn, stacks, record_finding):
    stack = stacks.create(CHAIN, {"word": "w1", "size": 5})
    shown = cfn.cloudformation(
        "describe_stack_resource", StackName=stack.id, LogicalResourceId="derived"
    )["StackResourceDetail"]
    assert shown["ResourceType"] == "AWS::SSM::Parameter"
    assert shown["ResourceStatus"] == "CREATE_COMPLETE"
    assert shown["StackId"] == stack.id
    base = _ssm_value(cfn, f"{stack.name}-base")
    assert (
        _ssm_value(cfn, shown["PhysicalResourceId"])
        == f"w1-{stack.name}-base-5"
        == (f"{base}-{stack.name}-base-5")
    )
    assert stack.outputs["derived"] == shown["PhysicalResourceId"]
    record_finding(
        "resource_show",
        "CloudFormation shows a resource without its attributes (Fn::GetAtt values); Heat "
        "shows them",
    )


@pytest.mark.idempotent_id("4e9a2c71-3b5d-4f86-a0c2-7d1e5b3f9a28")
def test_cfn_validation_reports_parameters_and_refuses_bad_templates(cfn):
    import botocore.exceptions as bce

    answer = cfn.cloudformation("validate_template", TemplateBody=CHAIN)
    assert answer["Description"] == "a chain of three parameters"
    parameters = {p["ParameterKey"]: p for p in answer["Parameters"]}
    assert set(parameters) == {"word", "size", "secret"}
    assert parameters["word"]["DefaultValue"] == "x"
    assert parameters["word"]["Description"] == "what the first one holds"
    assert parameters["size"]["DefaultValue"] == "3"
    assert parameters["secret"]["NoEcho"] is True and parameters["word"]["NoEcho"] is False
    unknown_type = CHAIN.replace("AWS::SSM::Parameter", "AWS::No::Such", 1)
    bad_reference = CHAIN.replace("Value: {Ref: word}", "Value: {Ref: nothing}")
    for broken in (unknown_type, bad_reference):
        with pytest.raises(bce.ClientError) as refused:
            cfn.cloudformation("validate_template", TemplateBody=broken)
        assert refused.value.response["Error"]["Code"] == "ValidationError"
        assert "Template format error" in str(refused.value)


@pytest.mark.idempotent_id("b7d3f1e9-2a4c-4c6b-8e0d-5f9a1c3e7b42")
def test_cfn_a_stacks_template_reads_back_as_sent(cfn, stacks):
    text = CHAIN.replace("a chain of three", "ünïcode, a chain of three")
    stack = stacks.create(text, {"word": "välue"})
    assert stack.status == "CREATE_COMPLETE", stack.status_reason
    kept = cfn.cloudformation("get_template", StackName=stack.id)["TemplateBody"]
    assert kept == text


@pytest.mark.idempotent_id("e2c8a4f6-7d1b-4e3a-9c5f-0b6d2e8a4c19")
def test_cfn_preview_is_a_change_set_that_makes_nothing(cfn, stacks, record_finding):
    import botocore.exceptions as bce

    name = unique("preview")
    record = cfn.track_intent("stack", name)  # a CREATE change set makes an empty stack
    made = cfn.cloudformation(
        "create_change_set",
        StackName=name,
        ChangeSetName=name,
        ChangeSetType="CREATE",
        TemplateBody=CHAIN,
        Parameters=[{"ParameterKey": "word", "ParameterValue": "seen"}],
    )
    cfn.track_created(record, made["StackId"])
    stacks._made.append(made["StackId"])
    change_set = cfn.cloudformation("describe_change_set", ChangeSetName=made["Id"])
    assert change_set["Status"] == "CREATE_COMPLETE"
    changes = {
        c["ResourceChange"]["LogicalResourceId"]: c["ResourceChange"] for c in change_set["Changes"]
    }
    assert set(changes) == {"base", "derived", "after"}
    assert {c["Action"] for c in changes.values()} == {"Add"}
    assert changes["derived"]["ResourceType"] == "AWS::SSM::Parameter"
    stack = cfn.get_stack(made["StackId"])
    assert stack.status == "REVIEW_IN_PROGRESS"
    ssm = cfn._session.client("ssm", endpoint_url=cfn.endpoint_url)
    with pytest.raises(bce.ClientError):
        ssm.get_parameter(Name=f"{name}-base")
    broken = CHAIN.replace("AWS::SSM::Parameter", "AWS::No::Such", 1)
    name = unique("preview")
    record = cfn.track_intent("stack", name)
    with pytest.raises(bce.ClientError) as refused:
        made = cfn.cloudformation(
            "create_change_set",
            StackName=name,
            ChangeSetName="broken",
            ChangeSetType="CREATE",
            TemplateBody=broken,
        )
        cfn.track_created(record, made["StackId"])  # accepted: deleted at the end all the same
        stacks._made.append(made["StackId"])
    assert refused.value.response["Error"]["Code"] == "ValidationError"
    record_finding(
        "preview",
        "CloudFormation previews with a change set: it names each resource and its action, "
        "not the resolved properties Heat's preview shows, and leaves a REVIEW_IN_PROGRESS "
        "stack to delete",
    )


# every type the suite's CloudFormation templates use (templates_cfn, templates, this module)
USED_TYPES = {
    "AWS::EC2::Instance",
    "AWS::EC2::KeyPair",
    "AWS::EC2::SecurityGroup",
    "AWS::EC2::Volume",
    "AWS::EC2::VolumeAttachment",
    "AWS::SSM::Parameter",
    "AWS::CloudFormation::WaitConditionHandle",
}


@pytest.mark.idempotent_id("a5c9e1d3-8f2b-4d6a-b0e4-3c7f9a1d5e82")
def test_cfn_resource_types_list_every_type_the_suite_uses(cfn):
    listed: set[str] = set()
    arguments = {"Visibility": "PUBLIC", "Type": "RESOURCE", "MaxResults": 50}
    while True:
        page = cfn.cloudformation("list_types", **arguments)
        listed |= {t["TypeName"] for t in page["TypeSummaries"]}
        if not page.get("NextToken"):
            break
        arguments["NextToken"] = page["NextToken"]
    assert listed >= USED_TYPES, f"missing: {sorted(USED_TYPES - listed)}"
    assert not {t for t in listed if t.count("::") != 2}, "a type name is not A::B::C"
    ec2 = cfn.cloudformation(
        "list_types", Visibility="PUBLIC", Type="RESOURCE", Filters={"TypeNamePrefix": "AWS::EC2::"}
    )["TypeSummaries"]
    assert ec2 and all(t["TypeName"].startswith("AWS::EC2::") for t in ec2)


@pytest.mark.idempotent_id("f1b7d3a9-4c6e-4e2b-8a5d-9e3c1f7b2a64")
def test_cfn_a_resource_type_shows_the_properties_and_attributes_it_takes(cfn, record_finding):
    import json

    import botocore.exceptions as bce

    answer = cfn.cloudformation("describe_type", Type="RESOURCE", TypeName="AWS::EC2::Instance")
    assert answer["TypeName"] == "AWS::EC2::Instance"
    schema = json.loads(answer["Schema"])
    assert schema["typeName"] == "AWS::EC2::Instance"
    # what the node template gives, and the attribute its output reads
    assert {"ImageId", "InstanceType", "KeyName", "SecurityGroups", "UserData"} <= set(
        schema["properties"]
    )
    assert "/properties/PublicIp" in schema["readOnlyProperties"]
    # what the update tests rely on: a new image replaces the instance, a new type does not
    create_only = set(schema.get("createOnlyProperties") or [])
    assert "/properties/ImageId" in create_only
    assert "/properties/InstanceType" not in create_only
    with pytest.raises(bce.ClientError) as refused:
        cfn.cloudformation("describe_type", Type="RESOURCE", TypeName="AWS::No::Such")
    assert refused.value.response["Error"]["Code"] == "TypeNotFoundException"
    record_finding(
        "resource_type_schema",
        "CloudFormation describes a type with its JSON provider schema (read-only and "
        "create-only property lists); Heat with per-property required and update_allowed "
        "flags and a separate attribute list",
    )


SIGNALLED = """
AWSTemplateFormatVersion: '2010-09-09'
Description: a wait condition that needs two signals
Resources:
  handle: {Type: AWS::CloudFormation::WaitConditionHandle}
  wait:
    Type: AWS::CloudFormation::WaitCondition
    Properties: {Handle: {Ref: handle}, Timeout: 120, Count: 2}
Outputs:
  data: {Value: {"Fn::GetAtt": [wait, Data]}}
"""


def _signal(url: str, status: str, unique: str, data: str) -> int:
    """A PUT to a handle's presigned URL, as a guest sends it: no credentials."""
    import json
    import urllib.request

    body = json.dumps({"Status": status, "UniqueId": unique, "Data": data, "Reason": unique})
    request = urllib.request.Request(url, data=body.encode(), method="PUT")
    request.add_header("Content-Type", "")
    with urllib.request.urlopen(request, timeout=30) as answer:
        return int(answer.status)


@pytest.mark.idempotent_id("3d6b9f2e-1a7c-4e5d-8b0f-c2a4e6d8f1b3")
def test_cfn_signals_to_a_handle_complete_its_wait_condition(cfn, stacks):
    import json
    import time

    stack = stacks.create(SIGNALLED, wait=False)
    deadline = time.monotonic() + 60
    while True:
        resources = cfn.cloudformation("list_stack_resources", StackName=stack.id)
        made = {r["LogicalResourceId"]: r for r in resources["StackResourceSummaries"]}
        if made.get("handle", {}).get("ResourceStatus") == "CREATE_COMPLETE":
            break
        assert time.monotonic() < deadline, made
        time.sleep(0.2)
    url = made["handle"]["PhysicalResourceId"]
    assert url.startswith("http"), f"a handle's physical id is its presigned URL, not {url!r}"
    assert _signal(url, "SUCCESS", "a", "1") == 200
    time.sleep(0.5)
    assert cfn.get_stack(stack.id).status == "CREATE_IN_PROGRESS", "one of two is enough?"
    assert _signal(url, "SUCCESS", "b", "2") == 200
    done = stacks.wait(stack.id)
    assert done.status == "CREATE_COMPLETE", done.status_reason
    assert json.loads(done.outputs["data"]) == {"a": "1", "b": "2"}


@pytest.mark.idempotent_id("7a2e4c6f-9b1d-4f3a-a5c7-e0b2d4f6a8c1")
def test_cfn_a_failure_signal_fails_and_rolls_back_the_stack(cfn, stacks, record_finding):
    stack = stacks.create(SIGNALLED, wait=False, rollback=True)
    resource = cfn.cloudformation(
        "describe_stack_resource", StackName=stack.id, LogicalResourceId="handle"
    )["StackResourceDetail"]
    assert _signal(resource["PhysicalResourceId"], "FAILURE", "x", "broken") == 200
    done = stacks.wait(stack.id)
    assert done.status == "ROLLBACK_COMPLETE", f"{done.status}: {done.status_reason}"
    events = cfn.cloudformation("describe_stack_events", StackName=stack.id)["StackEvents"]
    failed = [e for e in events if e["ResourceStatus"] == "CREATE_FAILED"]
    assert any(e["LogicalResourceId"] == "wait" for e in failed), failed
    record_finding("wait_condition_failure", "one FAILURE signal fails the create")


@pytest.mark.idempotent_id("c8e0a2b4-6d1f-4a3c-9e5b-7f1d3a5c9e02")
def test_cfn_an_unsignalled_wait_condition_times_out_and_rolls_back(cfn, stacks):
    template = SIGNALLED.replace("Timeout: 120", "Timeout: 2")
    stack = stacks.create(template, rollback=True)
    assert stack.status == "ROLLBACK_COMPLETE", f"{stack.status}: {stack.status_reason}"
    events = cfn.cloudformation("describe_stack_events", StackName=stack.id)["StackEvents"]
    reasons = [
        e.get("ResourceStatusReason") or "" for e in events if e["LogicalResourceId"] == "wait"
    ]
    assert any("timed out" in r.lower() for r in reasons), reasons
