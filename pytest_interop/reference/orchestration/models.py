"""Stacks, their resources and events, software configs and deployments: Heat's state.

The engine (``engine.Engine``) runs the operations; this module holds what they change and
answers lookups, under the cloud's lock.
"""

from __future__ import annotations

import datetime as dt
import secrets
import threading
import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from pytest_interop.reference.core.wire import RequestContext, utc_now
from pytest_interop.reference.identity.models import TOKEN_LIFETIME, Token
from pytest_interop.reference.orchestration import exceptions

if TYPE_CHECKING:
    from pytest_interop.reference.state import CloudState

HIDDEN_TAGS = ("data-processing-cluster",)  # Heat's default hidden_stack_tags


@dataclass
class Event:
    id: str
    resource_name: str
    physical_id: str
    action: str
    status: str
    reason: str
    time: dt.datetime
    resource_type: str


@dataclass
class Resource:
    name: str
    type: str
    definition: dict[str, Any]  # the template's snippet, unresolved
    properties: dict[str, Any] = field(default_factory=dict)  # resolved
    physical_id: str | None = None
    action: str = "INIT"
    status: str = "COMPLETE"
    reason: str = ""
    data: dict[str, Any] = field(default_factory=dict)  # type-specific (keys, signals, ...)
    created: dt.datetime = field(default_factory=utc_now)
    updated: dt.datetime | None = None
    requires: list[str] = field(default_factory=list)
    hooks: set[str] = field(default_factory=set)  # pre-create, pre-update, ... still pending
    hook_cleared: threading.Event = field(default_factory=threading.Event)

    def physical_name(self, stack: Stack) -> str:
        """Heat's default name of what a resource makes: ``<stack>-<resource>-<random>``."""
        return f"{stack.name}-{self.name}-{secrets.token_hex(6)}"


@dataclass
class Stack:
    id: str
    name: str
    project_id: str
    user_id: str
    template: dict[str, Any]
    environment: dict[str, Any]
    parameters: dict[str, Any]  # as given
    files: dict[str, Any]
    tags: list[str]
    disable_rollback: bool
    timeout_mins: int | None
    created: dt.datetime = field(default_factory=utc_now)
    updated: dt.datetime | None = None
    deleted_at: dt.datetime | None = None
    action: str = "CREATE"
    status: str = "IN_PROGRESS"
    reason: str = "Stack CREATE started"
    resources: dict[str, Resource] = field(default_factory=dict)
    events: list[Event] = field(default_factory=list)
    values: dict[str, Any] = field(default_factory=dict)  # resolved parameters
    outputs: list[dict[str, Any]] = field(default_factory=list)
    busy: threading.Lock = field(default_factory=threading.Lock)

    @property
    def stack_status(self) -> str:
        return f"{self.action}_{self.status}"

    @property
    def hidden(self) -> bool:
        return any(tag in HIDDEN_TAGS for tag in self.tags)

    def resource_by_physical_id(self, physical_id: Any) -> Resource | None:
        return next(
            (r for r in self.resources.values() if r.physical_id and r.physical_id == physical_id),
            self.resources.get(str(physical_id)),
        )

    def add_event(self, resource: Resource | None, action: str, status: str, reason: str) -> None:
        self.events.append(
            Event(
                id=str(uuid.uuid4()),
                resource_name=resource.name if resource else self.name,
                physical_id=(resource.physical_id or "") if resource else self.id,
                action=action,
                status=status,
                reason=reason,
                time=utc_now(),
                resource_type=resource.type if resource else "OS::Heat::Stack",
            )
        )


@dataclass
class SoftwareConfig:
    id: str
    name: str
    project_id: str
    group: str
    config: str
    inputs: list[Any]
    outputs: list[Any]
    options: dict[str, Any]
    created: dt.datetime = field(default_factory=utc_now)


@dataclass
class SoftwareDeployment:
    id: str
    project_id: str
    config_id: str
    server_id: str
    action: str
    status: str
    status_reason: str
    input_values: dict[str, Any]
    output_values: dict[str, Any] = field(default_factory=dict)
    created: dt.datetime = field(default_factory=utc_now)
    updated: dt.datetime | None = None


class OrchestrationModel:
    def __init__(self, state: CloudState) -> None:
        from pytest_interop.reference.orchestration.engine import Engine
        from pytest_interop.reference.orchestration.resource_types import registry

        self.state = state
        self.stacks: dict[str, Stack] = {}
        self.software_configs: dict[str, SoftwareConfig] = {}
        self.software_deployments: dict[str, SoftwareDeployment] = {}
        self.types = registry()
        self.engine = Engine(state, self)

    # lookups -------------------------------------------------------------------------
    def find(self, ctx: RequestContext, ref: str, stack_id: str | None = None) -> Stack:
        """A live (or, by id, deleted) stack of the caller's project by name or id."""
        with self.state.lock:
            stack = self.stacks.get(stack_id or ref)
            if stack is None and stack_id is None:
                named = [s for s in self.stacks.values() if s.name == ref and not s.deleted_at]
                stack = named[0] if named else None
            if stack is None or (stack.project_id != ctx.project_id and not ctx.is_admin):
                raise exceptions.stack_not_found(ref if stack_id is None else f"{ref}/{stack_id}")
            if stack_id is not None and stack.name != ref and ref != stack.id:
                raise exceptions.stack_not_found(f"{ref}/{stack_id}")
            if stack.deleted_at and stack_id is None and ref == stack.name:
                raise exceptions.stack_not_found(ref)
            return stack

    def resource(self, stack: Stack, name: str) -> Resource:
        resource = stack.resources.get(name)
        if resource is None:
            raise exceptions.resource_not_found(name, stack.name)
        return resource

    def list(self, ctx: RequestContext, *, all_projects: bool = False) -> list[Stack]:
        with self.state.lock:
            return sorted(
                (
                    s
                    for s in self.stacks.values()
                    if not s.deleted_at and (s.project_id == ctx.project_id or all_projects)
                ),
                key=lambda s: s.created,
                reverse=True,
            )

    def resource_url(self, stack: Stack, resource_name: str) -> str:
        return (
            f"{self.state.base_url}/orchestration/v1/{stack.project_id}/stacks/"
            f"{stack.name}/{stack.id}/resources/{resource_name}"
        )

    def stack_user_token(self, ctx: RequestContext) -> str:
        """A token of the stack's owner for a handle, as Heat's stack-domain user has one."""
        identity = self.state.identity
        with self.state.lock:
            user = identity.users[ctx.user_id]
            project = identity.projects[ctx.project_id]
            now = utc_now()
            token = Token(
                id="gAAAA" + secrets.token_urlsafe(48),
                user=user,
                project=project,
                roles=identity.roles_of(user, project),
                issued_at=now,
                expires_at=now + TOKEN_LIFETIME,
            )
            identity.tokens[token.id] = token
            return token.id

    # software configs and deployments -----------------------------------------------
    def create_software_config(self, ctx: RequestContext, body: dict[str, Any]) -> SoftwareConfig:
        for key, kind in (("inputs", list), ("outputs", list), ("options", dict)):
            if body.get(key) is not None and not isinstance(body[key], kind):
                raise exceptions.bad_request(f"{key} must be a {kind.__name__}")
        config = SoftwareConfig(
            id=str(uuid.uuid4()),
            name=str(body.get("name") or ""),
            project_id=ctx.project_id,
            group=str(body.get("group") or "Heat::Ungrouped"),
            config=str(body.get("config") or ""),
            inputs=list(body.get("inputs") or []),
            outputs=list(body.get("outputs") or []),
            options=dict(body.get("options") or {}),
        )
        with self.state.lock:
            self.software_configs[config.id] = config
        return config

    def software_config(self, ctx: RequestContext, config_id: str) -> SoftwareConfig:
        with self.state.lock:
            config = self.software_configs.get(config_id)
            if config is None or config.project_id != ctx.project_id:
                raise exceptions.not_found(
                    f"Software config with id {config_id} not found", "NotFound"
                )
            return config

    def create_deployment(self, ctx: RequestContext, body: dict[str, Any]) -> SoftwareDeployment:
        config = self.software_config(ctx, str(body.get("config_id") or ""))
        server_id = str(body.get("server_id") or "")
        with self.state.lock:
            server = self.state.compute.servers.get(server_id)
            if server is None or server.project_id != ctx.project_id:
                raise exceptions.bad_request(f"The server ({server_id}) could not be found.")
            deployment = SoftwareDeployment(
                id=str(uuid.uuid4()),
                project_id=ctx.project_id,
                config_id=config.id,
                server_id=server_id,
                action=str(body.get("action") or "INIT"),
                status=str(body.get("status") or "COMPLETE"),
                status_reason=str(body.get("status_reason") or ""),
                input_values=dict(body.get("input_values") or {}),
            )
            self.software_deployments[deployment.id] = deployment
            return deployment

    def deployment(self, ctx: RequestContext, deployment_id: str) -> SoftwareDeployment:
        with self.state.lock:
            deployment = self.software_deployments.get(deployment_id)
            if deployment is None or deployment.project_id != ctx.project_id:
                raise exceptions.not_found(
                    f"Software deployment with id {deployment_id} not found", "NotFound"
                )
            return deployment

    def update_deployment(
        self, ctx: RequestContext, deployment_id: str, body: dict[str, Any]
    ) -> SoftwareDeployment:
        with self.state.lock:
            deployment = self.deployment(ctx, deployment_id)
            if body.get("config_id"):
                deployment.config_id = self.software_config(ctx, body["config_id"]).id
            for key in ("action", "status", "status_reason"):
                if body.get(key) is not None:
                    setattr(deployment, key, str(body[key]))
            if isinstance(body.get("input_values"), dict):
                deployment.input_values = dict(body["input_values"])
            if isinstance(body.get("output_values"), dict):
                deployment.output_values = dict(body["output_values"])
            deployment.updated = utc_now()
            return deployment

    def server_metadata(self, ctx: RequestContext, server_id: str) -> list[dict[str, Any]]:
        """What a server's agent reads: each deployment's config, with its input values."""
        with self.state.lock:
            found = []
            for deployment in self.software_deployments.values():
                if deployment.server_id != server_id or deployment.project_id != ctx.project_id:
                    continue
                config = self.software_configs.get(deployment.config_id)
                if config is None:
                    continue
                inputs = [
                    {**item, "value": deployment.input_values.get(item.get("name"))}
                    for item in config.inputs
                    if isinstance(item, dict)
                ]
                inputs.append({"name": "deploy_server_id", "value": server_id})
                inputs.append({"name": "deploy_action", "value": deployment.action})
                found.append(
                    {
                        "id": deployment.config_id,
                        "name": config.name,
                        "group": config.group,
                        "config": config.config,
                        "options": config.options,
                        "inputs": inputs,
                        "outputs": config.outputs,
                        "creation_time": deployment.created,
                        "updated_time": deployment.updated,
                    }
                )
            return sorted(found, key=lambda item: item["creation_time"])

    # counters and shutdown ------------------------------------------------------------
    def live_counts(self) -> dict[str, dict[str, int]]:
        with self.state.lock:
            stacks: dict[str, int] = {}
            for stack in self.stacks.values():
                if not stack.deleted_at:
                    stacks[stack.project_id] = stacks.get(stack.project_id, 0) + 1
            configs: dict[str, int] = {}
            for config in self.software_configs.values():
                configs[config.project_id] = configs.get(config.project_id, 0) + 1
            deployments: dict[str, int] = {}
            for deployment in self.software_deployments.values():
                deployments[deployment.project_id] = deployments.get(deployment.project_id, 0) + 1
        return {
            "stacks": stacks,
            "software_configs": configs,
            "software_deployments": deployments,
        }

    def close(self) -> None:
        self.engine.close()
