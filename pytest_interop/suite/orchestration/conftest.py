"""Orchestration fixtures: stacks that always go away, a node stack you log into, Heat's API.

``stacks`` makes stacks through the provider-neutral facet (Heat on OpenStack,
CloudFormation on AWS) and deletes what is left of them at teardown; the adapter's ledger
stays the backstop after an interrupt. ``heat`` is for capabilities that are Heat's own API
(resource types, template versions, hooks, software configs): not applicable elsewhere;
``cfn`` likewise for CloudFormation's own API (test_cloudformation), the variants on AWS.
"""

from __future__ import annotations

import contextlib
import secrets
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import pytest

from pytest_interop.clouds.base import Cloud, ResourceNotFound, Stack
from pytest_interop.errors import NotApplicable
from pytest_interop.fixtures import FALLBACK_USERS
from pytest_interop.suite.orchestration import templates


class StackBox:
    """Creates stacks on one cloud and deletes every one still there at the end."""

    def __init__(self, cloud: Cloud) -> None:
        self.cloud = cloud
        self._made: list[str] = []

    def create(
        self, template: str, parameters: Mapping[str, Any] | None = None, **options: Any
    ) -> Stack:
        wait = options.pop("wait", True)
        stack = self.cloud.create_stack(template, parameters, wait=False, **options)
        self._made.append(stack.id)
        return self.wait(stack.id) if wait else stack

    def wait(self, stack_id: str, timeout: float = 600) -> Stack:
        import time

        deadline = time.monotonic() + timeout
        while True:
            stack = self.cloud.get_stack(stack_id)
            if not stack.status.endswith("_IN_PROGRESS") or time.monotonic() > deadline:
                return stack
            time.sleep(0.3)

    def delete(self, stack_id: str) -> None:
        self.cloud.delete_stack(stack_id)
        with contextlib.suppress(ValueError):
            self._made.remove(stack_id)

    def close(self) -> None:
        errors = []
        for stack_id in reversed(self._made):
            try:
                self.cloud.delete_stack(stack_id)
            except ResourceNotFound:
                pass
            except Exception as exc:  # the ledger's clean-up retries it at the end of the run
                errors.append(f"stack {stack_id}: {type(exc).__name__}: {exc}")
        self._made.clear()
        if errors:
            raise AssertionError("orchestration clean-up left: " + ", ".join(errors))


@pytest.fixture
def stacks(cloud: Cloud) -> Iterator[StackBox]:
    cloud.template_dialect  # noqa: B018 - NotApplicable where the cloud has no orchestration
    box = StackBox(cloud)
    try:
        yield box
    finally:
        box.close()


# Heat-API tests whose capability CloudFormation does not have (the others have a
# CloudFormation variant: CLOUDFORMATION_VARIANT)
CLOUDFORMATION_LACKS = {
    "test_a_pre_create_hook_pauses_the_resource_until_it_is_cleared": "CloudFormation has no "
    "per-resource hooks that the stack's user clears with a signal",
    "test_a_resource_marked_unhealthy_is_replaced_by_the_next_update": "CloudFormation cannot "
    "mark a stack's resource unhealthy",
    "test_an_unhealthy_resource_shows_check_failed_with_the_reason_until_cleared": "CloudFormation"
    " cannot mark a stack's resource unhealthy",
    "test_a_software_config_is_delivered_to_a_server_and_its_deployment_reported": "CloudFormation"
    " has no software configs or deployments",
    "test_each_listed_template_version_validates_a_template": "CloudFormation has one template "
    "format version and no API that lists versions",
    "test_listed_template_functions_evaluate": "CloudFormation has no API that lists a template "
    "version's functions",
    "test_a_resource_types_generated_template_makes_a_stack": "CloudFormation generates no "
    "template from a resource type (its IaC generator scans existing resources instead)",
    "test_environment_parameters_set_what_the_template_defaults": "CloudFormation has no "
    "environments: parameters come with the request only",
    "test_stacks_are_found_by_tag_and_hidden_ones_are_not_listed": "CloudFormation has no "
    "hidden stacks, and lists stacks without filtering by tag",
}


# Heat-API tests whose capability test_cloudformation asks of CloudFormation's API instead
CLOUDFORMATION_VARIANT = {
    "test_empty_stack_is_shown_with_its_name_status_and_parameters": "test_cfn_stack_is_shown_"
    "with_its_name_status_description_and_parameters",
    "test_events_tell_each_resource_going_in_progress_then_complete": "test_cfn_events_tell_"
    "each_resource_going_in_progress_then_complete",
    "test_resources_are_listed_with_what_requires_them_and_filtered": "test_cfn_resources_are_"
    "listed_and_found_by_name",
    "test_a_resource_is_shown_with_its_attributes": "test_cfn_a_resource_is_shown_with_"
    "what_it_made",
    "test_validation_reports_parameters_and_refuses_bad_templates": "test_cfn_validation_"
    "reports_parameters_and_refuses_bad_templates",
    "test_a_stacks_template_reads_back_as_sent": "test_cfn_a_stacks_template_reads_back_as_sent",
    "test_preview_resolves_the_template_and_makes_nothing": "test_cfn_preview_is_a_change_"
    "set_that_makes_nothing",
    "test_signals_to_a_handle_complete_its_wait_condition": "test_cfn_signals_to_a_handle_"
    "complete_its_wait_condition",
    "test_resource_types_list_every_type_the_suite_uses": "test_cfn_resource_types_list_every_"
    "type_the_suite_uses",
    "test_a_resource_type_shows_the_properties_and_attributes_it_takes": "test_cfn_a_resource_"
    "type_shows_the_properties_and_attributes_it_takes",
}


@pytest.fixture
def heat(cloud: Cloud, request: pytest.FixtureRequest) -> Cloud:
    """The cloud, for Heat's own API (``cloud.heat(call, method, path, body)``)."""
    if cloud.provider != "openstack":
        lacks = CLOUDFORMATION_LACKS.get(request.node.originalname)
        if lacks and cloud.provider == "aws":
            raise NotApplicable(lacks)
        variant = CLOUDFORMATION_VARIANT.get(request.node.originalname)
        if variant and cloud.provider == "aws":
            raise NotApplicable(f"Heat's API; on CloudFormation test_cloudformation.py::{variant}")
        raise NotApplicable(
            f"a capability of Heat's API; its {cloud.provider} variant is not written yet"
        )
    return cloud


@pytest.fixture
def cfn(cloud: Cloud, request: pytest.FixtureRequest) -> Cloud:
    """The cloud, for CloudFormation's own API (``cloud.cloudformation(call, **arguments)``)."""
    if cloud.provider != "aws":
        heat_test = next(
            (h for h, c in CLOUDFORMATION_VARIANT.items() if c == request.node.originalname), ""
        )
        raise NotApplicable(f"CloudFormation's API; on {cloud.provider} the Heat test {heat_test}")
    return cloud


def unique(prefix: str = "interop") -> str:
    return f"{prefix}-{secrets.token_hex(4)}"


@dataclass
class NodeStack:
    """A stack with a key pair, a network and a server, and how to log into it."""

    stack: Stack
    parameters: dict[str, Any]
    login_users: list[str]
    key_path: str

    @property
    def address(self) -> str:
        return str(self.stack.outputs["address"])


def node_stack(box: StackBox, **options: Any) -> NodeStack:
    """Boot the node template (``templates.node``) and check it came up."""
    cloud = box.cloud
    spec = templates.node(cloud, **options)
    stack = box.create(spec.template, spec.parameters, rollback=False)
    assert stack.status == "CREATE_COMPLETE", f"{stack.status}: {stack.status_reason}"
    key_path = spec.key_path
    if key_path is None:
        key = stack.outputs.get("private_key") or ""
        assert key.startswith("-----BEGIN"), "the stack's key pair output carries no private key"
        key_path = cloud.write_private_key(f"{stack.name}-{secrets.token_hex(3)}", key)
    users = [spec.login_user] if spec.login_user else []
    return NodeStack(stack, dict(spec.parameters), [*users, *FALLBACK_USERS], key_path)


@contextlib.contextmanager
def logged_in(cloud: Cloud, node: NodeStack, address: str | None = None) -> Iterator[Any]:
    from pytest_interop.nodes import Node

    session = Node(
        address or node.address,
        cloud.ssh_port,
        private_key_path=node.key_path,
        usernames=node.login_users,
        timeout=300,
    )
    try:
        session.connect()
        yield session
    finally:
        session.close()


def heat_create(box: StackBox, body: dict[str, Any], *, wait: bool = True) -> dict[str, Any]:
    """A stack made with Heat's own request body (environment, files, ...); tracked like the
    facet's, in the ledger and the box. Returns the stack as Heat shows it."""
    cloud = box.cloud
    body = {"stack_name": cloud.resource_name("stack"), **body}
    record = cloud.track_intent("stack", body["stack_name"])
    answer = cloud.heat("stacks.create", "POST", "/stacks", body)
    stack_id = answer["stack"]["id"]
    cloud.track_created(record, stack_id)
    box._made.append(stack_id)
    if wait:
        box.wait(stack_id)
    return show(cloud, stack_id)


def show(cloud: Cloud, stack_id: str) -> dict[str, Any]:
    return cloud.heat("stacks.show", "GET", f"/stacks/{stack_id}")["stack"]


def stack_path(stack: dict[str, Any]) -> str:
    return f"/stacks/{stack['stack_name']}/{stack['id']}"
