"""CloudFormation API answers the reference AWS endpoint gives as AWS does, where moto's differ:

- ValidateTemplate lists the template's parameters (key, default, NoEcho, description), and
  refuses, as CloudFormation does, only a template's format errors (an unrecognised resource
  type, a Ref or Fn::GetAtt to nothing) with "Template format error: ..." (moto answers no
  parameters, runs cfn-lint, refuses its warnings too, and words the refusal "Stack with id
  ... does not exist"); CreateChangeSet refuses the same templates (moto accepts any);
- ListTypes and DescribeType (``aws_cloudformation_types``); wait conditions
  (``aws_cloudformation_wait``);
- a stack's create leaves an event for each resource (CREATE_IN_PROGRESS, then
  CREATE_COMPLETE, in the order they were made) between the stack's own two events (moto
  records the stack's events only).

:func:`install` applies them; :func:`remove` undoes them.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

_installed: dict[str, Any] = {}


PSEUDO = (
    "AWS::AccountId",
    "AWS::NoValue",
    "AWS::NotificationARNs",
    "AWS::Partition",
    "AWS::Region",
    "AWS::StackId",
    "AWS::StackName",
    "AWS::URLSuffix",
)


def _document(body: str) -> dict[str, Any]:
    import json

    import yaml
    from moto.cloudformation.exceptions import ValidationError
    from moto.cloudformation.utils import yaml_tag_constructor

    try:
        document = json.loads(body)
    except ValueError:
        loader = type("Loader", (yaml.SafeLoader,), {})
        loader.add_multi_constructor("", yaml_tag_constructor)
        try:
            document = yaml.load(body, Loader=loader)  # SafeLoader, plus the short-form tags
        except yaml.YAMLError as error:
            raise ValidationError(message=f"Template format error: {error}") from None
    if not isinstance(document, dict):
        raise ValidationError(message="Template format error: not a JSON or YAML mapping")
    return document


def _references(value: Any) -> Iterator[str]:
    """Each name a Ref or Fn::GetAtt in ``value`` points at."""
    if isinstance(value, dict):
        for key, inner in value.items():
            if key == "Ref" and isinstance(inner, str):
                yield inner
            elif key == "Fn::GetAtt":
                yield str(inner[0] if isinstance(inner, list) else str(inner).split(".")[0])
            else:
                yield from _references(inner)
    elif isinstance(value, list):
        for inner in value:
            yield from _references(inner)


def check_format(body: str) -> dict[str, Any]:
    """The template, or moto's ValidationError for what CloudFormation calls a format error."""
    from moto.cloudformation.exceptions import ValidationError
    from moto.cloudformation.parsing import NULL_MODELS, get_model_map

    document = _document(body)
    resources = document.get("Resources") or {}
    known = set(get_model_map()) | set(NULL_MODELS) | {"AWS::CloudFormation::Stack"}
    types = {str(spec.get("Type")) for spec in resources.values()}
    unknown = sorted(t for t in types if t not in known and not t.startswith("Custom::"))
    if unknown:
        raise ValidationError(
            message=f"Template format error: Unrecognized resource types: [{', '.join(unknown)}]"
        )
    names = set(resources) | set(document.get("Parameters") or {}) | set(PSEUDO)
    missing = sorted(set(_references([resources, document.get("Outputs")])) - names)
    if missing:
        raise ValidationError(
            message="Template format error: Unresolved resource dependencies "
            f"[{', '.join(missing)}] in the Resources block of the template"
        )
    return document


def _template_parameters(document: dict[str, Any]) -> list[dict[str, Any]]:
    parameters = document.get("Parameters") or {}
    answer = []
    for key, spec in parameters.items():
        item: dict[str, Any] = {
            "ParameterKey": key,
            "NoEcho": str(spec.get("NoEcho", False)).lower() == "true",
        }
        if "Default" in spec:
            item["DefaultValue"] = str(spec["Default"])
        if "Description" in spec:
            item["Description"] = str(spec["Description"])
        answer.append(item)
    return answer


def _validate_template(original: Any) -> Any:
    def validate_template(self: Any) -> Any:
        from moto.core.responses import ActionResult

        body = self._get_param("TemplateBody")
        if self._get_param("TemplateURL"):
            body = self._get_stack_from_s3_url(self._get_param("TemplateURL"))
        document = check_format(body)
        result = {
            "Description": document.get("Description") or "",
            "Parameters": _template_parameters(document),
            "Capabilities": [],
            "DeclaredTransforms": [],
        }
        return ActionResult(result)

    return validate_template


def _create_change_set(original: Any) -> Any:
    def create_change_set(self: Any) -> Any:
        body = self._get_param("TemplateBody")
        if body:
            check_format(body)
        return original(self)

    return create_change_set


def _resource_events(original: Any) -> Any:
    def create_resources(stack: Any) -> None:
        from pytest_interop.reference import aws_cloudformation, aws_cloudformation_wait

        stack.interop_rollback = aws_cloudformation.on_failure["mode"] == "ROLLBACK"
        before = len(stack.events)
        original(stack)
        if stack.status not in ("CREATE_COMPLETE", "CREATE_IN_PROGRESS"):
            return  # a failed create writes its own resource events (aws_cloudformation)
        finished = stack.events[before:]
        del stack.events[before:]
        for name, resource in stack.resource_map._parsed_resources.items():
            if name not in stack.resource_map._resource_json_map or resource is None:
                continue
            if isinstance(resource, str):
                continue
            kind = stack.resource_map._resource_json_map[name].get("Type", "")
            done = resource.is_created()  # a wait condition is in progress until signalled
            for status in ("CREATE_IN_PROGRESS", "CREATE_COMPLETE")[: 2 if done else 1]:
                aws_cloudformation._resource_event(stack, name, resource, status, "")
                stack.events[-1].resource_type = kind
        stack.events.extend(finished)
        aws_cloudformation_wait.waits_of(stack)

    return create_resources


def install() -> None:
    from moto.cloudformation.models import Stack as FakeStack
    from moto.cloudformation.responses import CloudFormationResponse

    from pytest_interop.reference import aws_cloudformation_types, aws_cloudformation_wait

    aws_cloudformation_types.install()  # ListTypes, DescribeType
    aws_cloudformation_wait.install()  # wait conditions and their handles

    if "validate" not in _installed:
        _installed["validate"] = CloudFormationResponse.validate_template
        CloudFormationResponse.validate_template = _validate_template(  # type: ignore[method-assign]
            CloudFormationResponse.validate_template
        )
    if "change_set" not in _installed:
        _installed["change_set"] = CloudFormationResponse.create_change_set
        CloudFormationResponse.create_change_set = _create_change_set(  # type: ignore[method-assign]
            CloudFormationResponse.create_change_set
        )
    if "events" not in _installed:
        _installed["events"] = FakeStack.create_resources
        FakeStack.create_resources = _resource_events(FakeStack.create_resources)  # type: ignore[method-assign]


def remove() -> None:
    from moto.cloudformation.models import Stack as FakeStack
    from moto.cloudformation.responses import CloudFormationResponse

    from pytest_interop.reference import aws_cloudformation_types, aws_cloudformation_wait

    aws_cloudformation_types.remove()
    aws_cloudformation_wait.remove()

    if "events" in _installed:
        FakeStack.create_resources = _installed.pop("events")  # type: ignore[method-assign]
    if "change_set" in _installed:
        CloudFormationResponse.create_change_set = _installed.pop("change_set")  # type: ignore[method-assign]
    if "validate" in _installed:
        CloudFormationResponse.validate_template = _installed.pop("validate")  # type: ignore[method-assign]
