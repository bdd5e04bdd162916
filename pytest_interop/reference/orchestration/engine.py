"""Runs stack operations: create (with rollback), update (in place or replace, as each
property allows), delete, hooks, signals and mark-unhealthy.

Each operation runs on a thread of its own, resources one at a time in dependency order
(``depends_on`` and every ``get_resource``/``get_attr``); the API answers at once with the
stack IN_PROGRESS, as Heat's does.
"""

from __future__ import annotations

import fnmatch
import threading
import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from pytest_interop.reference.core.errors import ApiError
from pytest_interop.reference.core.wire import RequestContext, utc_now
from pytest_interop.reference.orchestration import exceptions, functions, template
from pytest_interop.reference.orchestration.exceptions import ResourceFailure
from pytest_interop.reference.orchestration.models import Resource, Stack
from pytest_interop.reference.orchestration.resource_types import Run

if TYPE_CHECKING:
    from pytest_interop.reference.orchestration.models import OrchestrationModel
    from pytest_interop.reference.state import CloudState

HOOK_POLL_SECONDS = 0.05
HOOKS = ("pre-create", "pre-update", "pre-delete")


@dataclass
class Plan:
    """A checked template with its environment and parameters, ready to run."""

    template: dict[str, Any]
    environment: dict[str, Any]
    parameters: dict[str, Any]  # as given
    files: dict[str, Any]
    version: str
    values: dict[str, Any]  # resolved
    conditions: dict[str, bool]
    order: list[str]  # resource names, dependencies first
    types: dict[str, str] = field(default_factory=dict)
    requires: dict[str, list[str]] = field(default_factory=dict)
    hooks: dict[str, set[str]] = field(default_factory=dict)


def _hooks(environment: dict[str, Any], name: str) -> set[str]:
    found: set[str] = set()
    registry = (environment.get("resource_registry") or {}).get("resources") or {}
    for pattern, entry in registry.items():
        if not isinstance(entry, dict) or not fnmatch.fnmatchcase(name, pattern):
            continue
        hooks = entry.get("hooks") or []
        for hook in [hooks] if isinstance(hooks, str) else hooks:
            if hook not in HOOKS:
                raise exceptions.invalid(f'Invalid hook type "{hook}" for resource {name}')
            found.add(hook)
    return found


def _order(requires: dict[str, list[str]]) -> list[str]:
    order: list[str] = []
    marks: dict[str, str] = {}

    def visit(name: str) -> None:
        if marks.get(name) == "done":
            return
        if marks.get(name) == "visiting":
            raise exceptions.invalid(f"Circular Dependency Found: {name}")
        marks[name] = "visiting"
        for dependency in requires[name]:
            visit(dependency)
        marks[name] = "done"
        order.append(name)

    for name in requires:
        visit(name)
    return order


class Engine:
    def __init__(self, state: CloudState, model: OrchestrationModel) -> None:
        self.state = state
        self.model = model
        self._threads: set[threading.Thread] = set()
        self._runs: dict[str, Run] = {}  # stack id -> its running operation
        self._stopping = threading.Event()
        self._lock = threading.Lock()

    # planning --------------------------------------------------------------------------
    def plan(
        self,
        ctx: RequestContext,
        body: dict[str, Any],
        *,
        strict: bool = True,
        base: Stack | None = None,
    ) -> Plan:
        if body.get("template_url"):
            raise exceptions.bad_request(
                "template_url is not fetched by the reference cloud; send the template itself"
            )
        if "template" in body:
            raw = template.load(body["template"])
        elif base is not None:
            raw = base.template
        else:
            raise exceptions.bad_request("No template specified")
        environment = template.load(body.get("environment") or {}, "environment")
        parameters = dict(body.get("parameters") or {})
        if base is not None and body.get("_patch"):
            environment = {**base.environment, **environment}
            parameters = {**base.parameters, **parameters}
        version = template.check(raw)
        values = template.resolve_parameters(raw, parameters, environment, strict=strict)
        scope = functions.Scope(version, values, pseudo=self._pseudo(ctx, body, base))
        conditions = functions.evaluate_conditions(raw.get("conditions") or {}, scope)
        aliases = environment.get("resource_registry") or {}
        resources = raw.get("resources") or {}
        requires: dict[str, list[str]] = {}
        types: dict[str, str] = {}
        hooks: dict[str, set[str]] = {}
        for name, definition in resources.items():
            if "condition" in definition and not functions.condition(
                definition["condition"], scope
            ):
                continue
            kind = aliases.get(definition["type"], definition["type"])
            if not isinstance(kind, str) or kind not in self.model.types:
                raise exceptions.invalid(
                    f"Failed to validate: resources.{name}: The Resource Type "
                    f"({definition['type']}) could not be found."
                )
            properties = definition.get("properties") or {}
            if not isinstance(properties, dict):
                raise exceptions.invalid(f'resources.{name}: "properties" must be a map')
            resource_type = self.model.types[kind]
            if kind != "OS::Heat::None":
                unknown = sorted(set(properties) - set(resource_type.properties))
                if unknown:
                    raise exceptions.invalid(
                        f"Property error: resources.{name}.properties: Unknown Property "
                        f"{unknown[0]}"
                    )
            depends = definition.get("depends_on") or []
            depends = [depends] if isinstance(depends, str) else list(depends)
            needed = functions.references(properties) | set(depends)
            for other in sorted(needed):
                if other not in resources:
                    raise exceptions.invalid(
                        f'The specified reference "{other}" (in {name}) is incorrect.'
                    )
            requires[name] = sorted(needed)
            types[name] = kind
            hooks[name] = _hooks(environment, name)
        for name in list(requires):  # a dependency switched off by its condition is no edge
            requires[name] = [d for d in requires[name] if d in requires]
        order = _order(requires)
        for key, output in (raw.get("outputs") or {}).items():
            if not isinstance(output, dict) or "value" not in output:
                raise exceptions.invalid(f"Each output definition must contain a value key ({key})")
        return Plan(
            raw,
            environment,
            parameters,
            dict(body.get("files") or {}),
            version,
            values,
            conditions,
            order,
            types,
            requires,
            hooks,
        )

    @staticmethod
    def _pseudo(ctx: RequestContext, body: dict[str, Any], base: Stack | None) -> dict[str, str]:
        return {
            "OS::stack_name": base.name if base else str(body.get("stack_name") or ""),
            "OS::stack_id": base.id if base else "None",
            "OS::project_id": ctx.project_id,
        }

    def scope(self, stack: Stack, run: Run | None, plan: Plan | None = None) -> functions.Scope:
        version = (
            plan.version
            if plan
            else template.canonical_version(stack.template["heat_template_version"])
        )
        values = plan.values if plan else stack.values

        def ref(name: str) -> Any:
            resource = stack.resources.get(name)
            if resource is None:
                return None
            return self.model.types[resource.type].reference(resource)

        def attr(name: str, attribute: str, path: list[Any]) -> Any:
            resource = stack.resources.get(name)
            if resource is None:
                return None
            value = self.model.types[resource.type].attribute(run, resource, attribute)
            return functions._walk(value, path, attribute)

        names = frozenset(plan.order if plan else stack.resources)
        pseudo = {
            "OS::stack_name": stack.name,
            "OS::stack_id": stack.id,
            "OS::project_id": stack.project_id,
        }
        scope = functions.Scope(
            version,
            values,
            pseudo=pseudo,
            resource_ref=ref,
            resource_attr=attr,
            known_resources=names,
        )
        conditions = (plan.template if plan else stack.template).get("conditions") or {}
        functions.evaluate_conditions(conditions, scope)
        return scope

    # operations ------------------------------------------------------------------------
    def owner(self, stack: Stack) -> RequestContext:
        return RequestContext(
            base_url=self.state.base_url,
            user_id=stack.user_id,
            project_id=stack.project_id,
            roles=("member",),
        )

    def create(self, ctx: RequestContext, body: dict[str, Any]) -> Stack:
        name = body.get("stack_name")
        if not isinstance(name, str) or not name or not (name[0].isalpha()) or len(name) > 255:
            raise exceptions.bad_request(
                f'Invalid stack name {name} must contain only alphanumeric or "_-." characters, '
                "must start with alpha and must be 255 characters or less."
            )
        plan = self.plan(ctx, body)
        tags = body.get("tags") or []
        tags = [t for t in tags.split(",") if t] if isinstance(tags, str) else list(tags)
        with self.state.lock:
            if any(
                s.name == name and not s.deleted_at and s.project_id == ctx.project_id
                for s in self.model.stacks.values()
            ):
                raise exceptions.conflict(f"The Stack ({name}) already exists.")
            stack = Stack(
                id=str(uuid.uuid4()),
                name=name,
                project_id=ctx.project_id,
                user_id=ctx.user_id,
                template=plan.template,
                environment=plan.environment,
                parameters=plan.parameters,
                files=plan.files,
                tags=tags,
                disable_rollback=bool(body.get("disable_rollback", True)),
                timeout_mins=body.get("timeout_mins"),
            )
            stack.values = plan.values
            self.model.stacks[stack.id] = stack
            stack.add_event(None, "CREATE", "IN_PROGRESS", "Stack CREATE started")
        self._start(stack, lambda run: self._run_create(run, stack, plan))
        return stack

    def update(self, ctx: RequestContext, stack: Stack, body: dict[str, Any], patch: bool) -> None:
        plan = self.plan(ctx, {**body, "_patch": patch}, base=stack)
        with self.state.lock:
            if stack.status == "IN_PROGRESS" or stack.deleted_at:
                raise exceptions.conflict(
                    f"Updating a stack when it is {stack.stack_status}: wait until it is done.",
                    "ActionInProgress",
                )
            if "tags" in body:
                tags = body.get("tags") or []
                stack.tags = [t for t in tags.split(",") if t] if isinstance(tags, str) else tags
            if "disable_rollback" in body:
                stack.disable_rollback = bool(body["disable_rollback"])
            stack.action, stack.status, stack.reason = (
                "UPDATE",
                "IN_PROGRESS",
                "Stack UPDATE started",
            )
            stack.add_event(None, "UPDATE", "IN_PROGRESS", "Stack UPDATE started")
        self._start(stack, lambda run: self._run_update(run, stack, plan))

    def delete(self, ctx: RequestContext, stack: Stack) -> None:
        with self.state.lock:
            if stack.deleted_at:
                raise exceptions.stack_not_found(stack.name)
            running = self._runs.get(stack.id)
        if running is not None:  # Heat cancels a create or update that a delete overtakes
            running.cancelled.set()
        self._start(stack, lambda run: self._run_delete(run, stack))

    def _start(self, stack: Stack, operation: Any) -> None:
        def body() -> None:
            with stack.busy:
                run = Run(self.state, self.owner(stack), stack)
                with self._lock:
                    self._runs[stack.id] = run
                try:
                    operation(run)
                except Exception as exc:  # a bug: the stack says so rather than hanging
                    with self.state.lock:
                        stack.status, stack.reason = "FAILED", f"{type(exc).__name__}: {exc}"
                finally:
                    with self._lock:
                        if self._runs.get(stack.id) is run:
                            del self._runs[stack.id]
                        self._threads.discard(threading.current_thread())

        thread = threading.Thread(target=body, name=f"heat-{stack.name}", daemon=True)
        with self._lock:
            self._threads.add(thread)
        thread.start()

    # resources -------------------------------------------------------------------------
    def _set(self, stack: Stack, resource: Resource, action: str, status: str, reason: str) -> None:
        with self.state.lock:
            resource.action, resource.status, resource.reason = action, status, reason
            resource.updated = utc_now()
            stack.add_event(resource, action, status, reason)

    def _hook(self, run: Run, stack: Stack, resource: Resource, hook: str, action: str) -> None:
        if hook not in resource.hooks:
            return
        resource.hook_cleared.clear()
        with self.state.lock:
            stack.add_event(
                resource, action, "IN_PROGRESS", f"{action} paused until Hook {hook} is cleared"
            )
        while not resource.hook_cleared.wait(HOOK_POLL_SECONDS):
            if run.cancelled.is_set() or self._stopping.is_set():
                raise ResourceFailure(f"{action} cancelled while Hook {hook} was pending")
        with self.state.lock:
            resource.hooks.discard(hook)
            stack.add_event(resource, action, "IN_PROGRESS", f"Hook {hook} is cleared")

    def _properties(self, run: Run, stack: Stack, resource: Resource, plan: Plan | None) -> dict:
        scope = self.scope(stack, run, plan)
        try:
            raw = functions.resolve(resource.definition.get("properties") or {}, scope)
        except ApiError as error:
            raise ResourceFailure(error.message) from None
        resource_type = self.model.types[resource.type]
        resource_type.check_properties(raw)
        return resource_type.with_defaults(raw)

    def _create_resource(self, run: Run, stack: Stack, resource: Resource, plan: Plan) -> None:
        try:
            self._hook(run, stack, resource, "pre-create", "CREATE")
            self._set(stack, resource, "CREATE", "IN_PROGRESS", "state changed")
            resource.properties = self._properties(run, stack, resource, plan)
            self.model.types[resource.type].create(run, resource)
        except ResourceFailure as failure:
            reason = f"resources.{resource.name}: {failure}"
            self._set(stack, resource, "CREATE", "FAILED", reason)
            raise ResourceFailure(reason) from None
        self._set(stack, resource, "CREATE", "COMPLETE", "state changed")

    def _delete_resource(self, run: Run, stack: Stack, resource: Resource) -> None:
        if resource.action == "INIT" or (resource.action, resource.status) == (
            "DELETE",
            "COMPLETE",
        ):
            return
        self._set(stack, resource, "DELETE", "IN_PROGRESS", "state changed")
        try:
            self.model.types[resource.type].delete(run, resource)
        except ResourceFailure as failure:
            self._set(stack, resource, "DELETE", "FAILED", f"resources.{resource.name}: {failure}")
            raise
        self._set(stack, resource, "DELETE", "COMPLETE", "state changed")

    def _new_resource(self, stack: Stack, plan: Plan, name: str) -> Resource:
        return Resource(
            name=name,
            type=plan.types[name],
            definition=plan.template["resources"][name],
            requires=plan.requires[name],
            hooks=set(plan.hooks[name]),
        )

    # create ----------------------------------------------------------------------------
    def _run_create(self, run: Run, stack: Stack, plan: Plan) -> None:
        with self.state.lock:
            for name in plan.order:
                stack.resources[name] = self._new_resource(stack, plan, name)
        try:
            for name in plan.order:
                if run.cancelled.is_set():
                    raise ResourceFailure("Stack CREATE cancelled")
                self._create_resource(run, stack, stack.resources[name], plan)
        except ResourceFailure as failure:
            self._finish(stack, "CREATE", "FAILED", f"Resource CREATE failed: {failure}")
            if not stack.disable_rollback and not run.cancelled.is_set():
                self._rollback_create(run, stack)
            return
        self._finish(stack, "CREATE", "COMPLETE", "Stack CREATE completed successfully")

    def _rollback_create(self, run: Run, stack: Stack) -> None:
        self._finish(stack, "ROLLBACK", "IN_PROGRESS", "Stack ROLLBACK started")
        try:
            self._delete_all(run, stack)
        except ResourceFailure as failure:
            self._finish(stack, "ROLLBACK", "FAILED", f"Resource DELETE failed: {failure}")
            return
        self._finish(stack, "ROLLBACK", "COMPLETE", "Stack ROLLBACK completed successfully")

    def _finish(self, stack: Stack, action: str, status: str, reason: str) -> None:
        with self.state.lock:
            stack.action, stack.status, stack.reason = action, status, reason
            if action != "CREATE":
                stack.updated = utc_now()
            stack.add_event(None, action, status, reason)

    # update ----------------------------------------------------------------------------
    def _run_update(self, run: Run, stack: Stack, plan: Plan) -> None:
        previous = Plan(
            stack.template,
            stack.environment,
            stack.parameters,
            stack.files,
            template.canonical_version(stack.template["heat_template_version"]),
            stack.values,
            {},
            list(stack.resources),
            {n: r.type for n, r in stack.resources.items()},
            {n: r.requires for n, r in stack.resources.items()},
            {n: set() for n in stack.resources},
        )
        try:
            self._apply(run, stack, plan)
        except ResourceFailure as failure:
            self._finish(stack, "UPDATE", "FAILED", f"Resource UPDATE failed: {failure}")
            if stack.disable_rollback or run.cancelled.is_set():
                return
            self._finish(stack, "ROLLBACK", "IN_PROGRESS", "Stack ROLLBACK started")
            try:
                self._apply(run, stack, previous)
            except ResourceFailure as again:
                self._finish(stack, "ROLLBACK", "FAILED", f"Resource UPDATE failed: {again}")
                return
            self._finish(stack, "ROLLBACK", "COMPLETE", "Stack ROLLBACK completed successfully")
            return
        self._finish(stack, "UPDATE", "COMPLETE", "Stack UPDATE completed successfully")

    def _apply(self, run: Run, stack: Stack, plan: Plan) -> None:
        """Bring the stack's resources to the plan: create, update in place, replace, delete."""
        with self.state.lock:
            stack.template, stack.environment = plan.template, plan.environment
            stack.parameters, stack.files, stack.values = plan.parameters, plan.files, plan.values
        for name in plan.order:
            if run.cancelled.is_set():
                raise ResourceFailure("Stack UPDATE cancelled")
            current = stack.resources.get(name)
            if current is None or current.action == "INIT":
                fresh = self._new_resource(stack, plan, name)
                with self.state.lock:
                    stack.resources[name] = fresh
                self._create_resource(run, stack, fresh, plan)
                continue
            self._update_resource(run, stack, current, plan)
        removed = [n for n in reversed(list(stack.resources)) if n not in plan.order]
        for name in removed:
            self._delete_resource(run, stack, stack.resources[name])
            with self.state.lock:
                del stack.resources[name]
        with self.state.lock:  # the stack's resources in the plan's order
            stack.resources = {n: stack.resources[n] for n in plan.order}

    def _update_resource(self, run: Run, stack: Stack, current: Resource, plan: Plan) -> None:
        name = current.name
        resource_type = self.model.types[plan.types[name]]
        candidate = self._new_resource(stack, plan, name)
        try:
            new_props = self._properties(run, stack, candidate, plan)
        except ResourceFailure as failure:
            raise ResourceFailure(f"resources.{name}: {failure}") from None
        unhealthy = current.status == "FAILED"
        replace = (
            unhealthy
            or current.type != candidate.type
            or resource_type.needs_replace(current.properties, new_props)
        )
        current.definition, current.requires = candidate.definition, candidate.requires
        current.hooks |= candidate.hooks
        if not replace and new_props == current.properties:
            return
        self._hook(run, stack, current, "pre-update", "UPDATE")
        if replace:
            self._replace(run, stack, current, candidate, plan)
            return
        old = current.properties
        self._set(stack, current, "UPDATE", "IN_PROGRESS", "state changed")
        current.properties = new_props
        try:
            resource_type.update(run, current, old)
        except ResourceFailure as failure:
            reason = f"resources.{name}: {failure}"
            self._set(stack, current, "UPDATE", "FAILED", reason)
            raise ResourceFailure(reason) from None
        self._set(stack, current, "UPDATE", "COMPLETE", "state changed")

    def _replace(self, run: Run, stack: Stack, old: Resource, new: Resource, plan: Plan) -> None:
        """Heat's replacement: the new resource is made first, the old one removed after."""
        new.hooks = set()
        with self.state.lock:
            stack.resources[new.name] = new
        try:
            self._create_resource(run, stack, new, plan)
        except ResourceFailure:
            self._delete_resource(run, stack, new)
            with self.state.lock:
                stack.resources[old.name] = old
            raise
        self._delete_resource(run, stack, old)

    # delete ----------------------------------------------------------------------------
    def _delete_all(self, run: Run, stack: Stack) -> None:
        for name in reversed(list(stack.resources)):
            self._delete_resource(run, stack, stack.resources[name])

    def _run_delete(self, run: Run, stack: Stack) -> None:
        self._finish(stack, "DELETE", "IN_PROGRESS", "Stack DELETE started")
        try:
            self._delete_all(run, stack)
        except ResourceFailure as failure:
            self._finish(stack, "DELETE", "FAILED", f"Resource DELETE failed: {failure}")
            return
        self._finish(stack, "DELETE", "COMPLETE", "Stack DELETE completed successfully")
        with self.state.lock:
            stack.deleted_at = utc_now()

    # signals and checks ----------------------------------------------------------------
    def signal(self, ctx: RequestContext, stack: Stack, resource: Resource, data: Any) -> None:
        hook = data.get("unset_hook") if isinstance(data, dict) else None
        if hook is not None:
            if hook not in HOOKS:
                raise exceptions.invalid(f'Invalid hook type "{hook}" for {resource.name}')
            if hook not in resource.hooks:
                raise exceptions.invalid(
                    f'The "{hook}" hook is not defined on {resource.type} "{resource.name}"'
                )
            resource.hook_cleared.set()
            return
        resource_type = self.model.types[resource.type]
        if not resource_type.signalable:
            raise exceptions.bad_request(
                f"Signal resource during {resource.action} is not supported.",
                "ResourceActionNotSupported",
            )
        run = Run(self.state, self.owner(stack), stack)
        try:
            with self.state.lock:
                resource_type.signal(run, resource, data)
                count = len(resource.data.get("signals", {}))
                stack.add_event(resource, "SIGNAL", "COMPLETE", f"Signal {count} received")
        except ResourceFailure as failure:
            raise exceptions.bad_request(str(failure)) from None

    def mark_unhealthy(self, stack: Stack, resource: Resource, mark: bool, reason: str) -> None:
        with self.state.lock:
            if resource.status == "IN_PROGRESS":
                raise exceptions.conflict(
                    f"Resource {resource.name} is in progress: it cannot be marked.",
                    "ActionInProgress",
                )
            if mark:
                reason = reason or "state changed by resource_mark_unhealthy api"
                resource.action, resource.status, resource.reason = "CHECK", "FAILED", reason
                stack.add_event(resource, "CHECK", "FAILED", reason)
            elif (resource.action, resource.status) == ("CHECK", "FAILED"):
                reason = reason or "state changed by resource_mark_unhealthy api"
                resource.action, resource.status, resource.reason = "CHECK", "COMPLETE", reason
                stack.add_event(resource, "CHECK", "COMPLETE", reason)
            resource.updated = utc_now()

    # outputs ---------------------------------------------------------------------------
    def outputs(self, stack: Stack) -> list[dict[str, Any]]:
        run = Run(self.state, self.owner(stack), stack)
        scope = self.scope(stack, run)
        found = []
        for key, output in (stack.template.get("outputs") or {}).items():
            if "condition" in output and not functions.condition(output["condition"], scope):
                continue
            entry: dict[str, Any] = {
                "output_key": key,
                "description": output.get("description", "No description given"),
            }
            try:
                entry["output_value"] = functions.resolve(output.get("value"), scope)
            except ApiError as error:
                entry["output_value"] = None
                entry["output_error"] = error.message
            found.append(entry)
        return found

    def close(self) -> None:
        self._stopping.set()
        with self._lock:
            for run in self._runs.values():
                run.cancelled.set()
            threads = list(self._threads)
        for thread in threads:
            thread.join(timeout=10)
