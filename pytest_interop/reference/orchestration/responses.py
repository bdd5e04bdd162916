"""Heat API v1 requests to engine and model calls, and their answers in Heat's JSON."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from werkzeug.wrappers import Request, Response

from pytest_interop.reference.core.wire import (
    RequestContext,
    empty_response,
    isotime,
    json_body,
    json_response,
    truthy,
)
from pytest_interop.reference.orchestration import exceptions, functions, template
from pytest_interop.reference.orchestration.models import Event, Resource, Stack

if TYPE_CHECKING:
    from pytest_interop.reference.state import CloudState

BUILD_INFO = {"api": {"revision": "reference"}, "engine": {"revision": "reference"}}
TEMPLATE_TYPES = ("hot", "cfn")


def _time(moment: Any) -> str | None:
    return isotime(moment) if moment else None


class OrchestrationResponses:
    def __init__(self, state: CloudState) -> None:
        self.state = state

    @property
    def model(self):
        return self.state.orchestration

    @property
    def engine(self):
        return self.state.orchestration.engine

    # links and views ---------------------------------------------------------------------
    def _base(self, ctx: RequestContext, project_id: str) -> str:
        return f"{ctx.base_url}/orchestration/v1/{project_id}"

    def _stack_url(self, ctx: RequestContext, stack: Stack) -> str:
        return f"{self._base(ctx, stack.project_id)}/stacks/{stack.name}/{stack.id}"

    def _stack(self, ctx: RequestContext, stack: Stack, *, detail: bool) -> dict[str, Any]:
        body: dict[str, Any] = {
            "id": stack.id,
            "stack_name": stack.name,
            "description": stack.template.get("description", "No description"),
            "creation_time": _time(stack.created),
            "updated_time": _time(stack.updated),
            "deletion_time": _time(stack.deleted_at),
            "stack_status": stack.stack_status,
            "stack_status_reason": stack.reason,
            "stack_owner": None,
            "stack_user_project_id": stack.project_id,
            "project": stack.project_id,
            "parent": None,
            "tags": list(stack.tags) or None,
            "links": [{"href": self._stack_url(ctx, stack), "rel": "self"}],
        }
        if detail:
            params = {key: _param_text(value) for key, value in stack.values.items()}
            params.update(
                {
                    "OS::stack_id": stack.id,
                    "OS::stack_name": stack.name,
                    "OS::project_id": stack.project_id,
                }
            )
            body.update(
                parameters=params,
                disable_rollback=stack.disable_rollback,
                timeout_mins=stack.timeout_mins,
                capabilities=[],
                notification_topics=[],
                template_description=stack.template.get("description", "No description"),
            )
        return body

    def _resource(
        self, ctx: RequestContext, stack: Stack, resource: Resource, *, detail: bool
    ) -> dict[str, Any]:
        required_by = [r.name for r in stack.resources.values() if resource.name in r.requires]
        url = f"{self._stack_url(ctx, stack)}/resources/{resource.name}"
        body: dict[str, Any] = {
            "resource_name": resource.name,
            "logical_resource_id": resource.name,
            "physical_resource_id": resource.physical_id or "",
            "resource_type": resource.type,
            "resource_status": f"{resource.action}_{resource.status}",
            "resource_status_reason": resource.reason,
            "creation_time": _time(resource.created),
            "updated_time": _time(resource.updated or resource.created),
            "required_by": required_by,
            "links": [
                {"href": url, "rel": "self"},
                {"href": self._stack_url(ctx, stack), "rel": "stack"},
            ],
        }
        if detail:
            resource_type = self.model.types[resource.type]
            run = self._run(stack)
            attributes = {}
            for name in resource_type.attributes:
                try:
                    attributes[name] = resource_type.attribute(run, resource, name)
                except Exception:  # an attribute the resource cannot give now reads as null
                    attributes[name] = None
            body.update(
                attributes=attributes,
                description=resource.definition.get("description", ""),
                metadata=resource.definition.get("metadata") or {},
            )
        return body

    def _run(self, stack: Stack):
        from pytest_interop.reference.orchestration.resource_types import Run

        return Run(self.state, self.engine.owner(stack), stack)

    def _event(self, ctx: RequestContext, stack: Stack, event: Event) -> dict[str, Any]:
        base = self._stack_url(ctx, stack)
        return {
            "id": event.id,
            "event_time": _time(event.time),
            "resource_name": event.resource_name,
            "logical_resource_id": event.resource_name,
            "physical_resource_id": event.physical_id,
            "resource_status": event.status,
            "resource_action": event.action,
            "resource_status_reason": event.reason,
            "resource_type": event.resource_type,
            "links": [
                {
                    "href": f"{base}/resources/{event.resource_name}/events/{event.id}",
                    "rel": "self",
                },
                {"href": f"{base}/resources/{event.resource_name}", "rel": "resource"},
                {"href": base, "rel": "stack"},
            ],
        }

    # versions and info -------------------------------------------------------------------
    def versions(self, ctx: RequestContext, request: Request) -> Response:
        doc = {
            "id": "v1.0",
            "status": "CURRENT",
            "links": [{"href": f"{ctx.base_url}/orchestration/v1/", "rel": "self"}],
        }
        return json_response({"versions": [doc]}, status=300)

    def build_info(self, ctx: RequestContext, request: Request) -> Response:
        return json_response(BUILD_INFO)

    # stacks ------------------------------------------------------------------------------
    def _lookup(self, ctx: RequestContext, stack_ref: str, stack_id: str | None) -> Stack:
        return self.model.find(ctx, stack_ref, stack_id)

    def list_stacks(self, ctx: RequestContext, request: Request) -> Response:
        args = request.args
        stacks = self.model.list(
            ctx, all_projects=truthy(args.get("global_tenant")) and ctx.is_admin
        )
        if not truthy(args.get("show_hidden")):
            stacks = [s for s in stacks if not s.hidden]
        tag_filters = {
            key: [t for t in args.get(key, "").split(",") if t]
            for key in ("tags", "tags_any", "not_tags", "not_tags_any")
        }
        if tag_filters["tags"]:
            stacks = [s for s in stacks if set(tag_filters["tags"]) <= set(s.tags)]
        if tag_filters["tags_any"]:
            stacks = [s for s in stacks if set(tag_filters["tags_any"]) & set(s.tags)]
        if tag_filters["not_tags"]:
            stacks = [s for s in stacks if not set(tag_filters["not_tags"]) <= set(s.tags)]
        if tag_filters["not_tags_any"]:
            stacks = [s for s in stacks if not set(tag_filters["not_tags_any"]) & set(s.tags)]
        for key, attribute in (("name", "name"), ("id", "id"), ("status", "status")):
            wanted = args.getlist(key)
            if wanted:
                stacks = [
                    s
                    for s in stacks
                    if getattr(s, attribute) in wanted
                    or (key == "status" and s.stack_status in wanted)
                ]
        limit = args.get("limit")
        if limit and limit.isdigit():
            stacks = stacks[: int(limit)]
        return json_response({"stacks": [self._stack(ctx, s, detail=False) for s in stacks]})

    def create_stack(self, ctx: RequestContext, request: Request) -> Response:
        body = json_body(request, exceptions.bad_request)
        stack = self.engine.create(ctx, body)
        link = {"href": self._stack_url(ctx, stack), "rel": "self"}
        return json_response({"stack": {"id": stack.id, "links": [link]}}, status=201)

    def preview_stack(self, ctx: RequestContext, request: Request) -> Response:
        body = json_body(request, exceptions.bad_request)
        if not isinstance(body.get("stack_name"), str) or not body["stack_name"]:
            raise exceptions.bad_request("No stack name specified")
        plan = self.engine.plan(ctx, body)
        preview = Stack(
            id="None",
            name=body["stack_name"],
            project_id=ctx.project_id,
            user_id=ctx.user_id,
            template=plan.template,
            environment=plan.environment,
            parameters=plan.parameters,
            files=plan.files,
            tags=[],
            disable_rollback=True,
            timeout_mins=None,
        )
        preview.values = plan.values
        resources = []
        for name in plan.order:
            resource = self.engine._new_resource(preview, plan, name)
            preview.resources[name] = resource
        scope = self.engine.scope(preview, None, plan)
        for name in plan.order:
            resource = preview.resources[name]
            try:
                properties = functions.resolve(resource.definition.get("properties") or {}, scope)
            except exceptions.HeatError as error:
                raise exceptions.invalid(f"resources.{name}: {error.message}") from None
            view = self._resource(ctx, preview, resource, detail=False)
            view.update(
                properties=properties,
                resource_identity={
                    "stack_name": preview.name,
                    "stack_id": "None",
                    "path": f"/resources/{name}",
                },
                resource_action="INIT",
                resource_status="COMPLETE",
                stack_name=preview.name,
                stack_identity={"stack_name": preview.name},
                metadata={},
                description="",
            )
            resources.append(view)
        view = self._stack(ctx, preview, detail=True)
        view.update(resources=resources, stack_status=None, stack_status_reason=None, id="None")
        return json_response({"stack": view})

    def show_stack(
        self, ctx: RequestContext, request: Request, stack_ref: str, stack_id: str | None = None
    ) -> Response:
        stack = self._lookup(ctx, stack_ref, stack_id)
        with self.state.lock:
            view = self._stack(ctx, stack, detail=True)
        if request.args.get("resolve_outputs", "true").lower() != "false":
            view["outputs"] = self.engine.outputs(stack)
        return json_response({"stack": view})

    def update_stack(
        self, ctx: RequestContext, request: Request, stack_ref: str, stack_id: str | None = None
    ) -> Response:
        stack = self._lookup(ctx, stack_ref, stack_id)
        body = json_body(request, exceptions.bad_request)
        self.engine.update(ctx, stack, body, patch=request.method == "PATCH")
        return empty_response(202)

    def delete_stack(
        self, ctx: RequestContext, request: Request, stack_ref: str, stack_id: str | None = None
    ) -> Response:
        stack = self._lookup(ctx, stack_ref, stack_id)
        self.engine.delete(ctx, stack)
        return empty_response(204)

    def stack_template(
        self, ctx: RequestContext, request: Request, stack_ref: str, stack_id: str | None = None
    ) -> Response:
        return json_response(self._lookup(ctx, stack_ref, stack_id).template)

    def stack_environment(
        self, ctx: RequestContext, request: Request, stack_ref: str, stack_id: str | None = None
    ) -> Response:
        environment = dict(self._lookup(ctx, stack_ref, stack_id).environment)
        for key in ("parameters", "parameter_defaults", "resource_registry"):
            environment.setdefault(key, {})
        return json_response(environment)

    def stack_files(
        self, ctx: RequestContext, request: Request, stack_ref: str, stack_id: str | None = None
    ) -> Response:
        return json_response(self._lookup(ctx, stack_ref, stack_id).files)

    def list_outputs(
        self, ctx: RequestContext, request: Request, stack_ref: str, stack_id: str | None = None
    ) -> Response:
        stack = self._lookup(ctx, stack_ref, stack_id)
        outputs = [
            {"output_key": key, "description": output.get("description", "No description given")}
            for key, output in (stack.template.get("outputs") or {}).items()
        ]
        return json_response({"outputs": outputs})

    def show_output(
        self,
        ctx: RequestContext,
        request: Request,
        stack_ref: str,
        output_key: str,
        stack_id: str | None = None,
    ) -> Response:
        stack = self._lookup(ctx, stack_ref, stack_id)
        for output in self.engine.outputs(stack):
            if output["output_key"] == output_key:
                return json_response({"output": output})
        raise exceptions.not_found(f"Specified output key {output_key} not found.", "NotFound")

    # resources ---------------------------------------------------------------------------
    def list_resources(
        self, ctx: RequestContext, request: Request, stack_ref: str, stack_id: str | None = None
    ) -> Response:
        stack = self._lookup(ctx, stack_ref, stack_id)
        args = request.args
        detail = truthy(args.get("with_detail"))
        with self.state.lock:
            found = [
                r
                for r in stack.resources.values()
                if r.action != "INIT" or stack.status == "IN_PROGRESS"
            ]
            filters = {
                "name": lambda r, v: r.name == v,
                "type": lambda r, v: r.type == v,
                "status": lambda r, v: r.status == v or f"{r.action}_{r.status}" == v,
                "action": lambda r, v: r.action == v,
                "id": lambda r, v: r.physical_id == v,
                "physical_resource_id": lambda r, v: r.physical_id == v,
            }
            for key, test in filters.items():
                values = args.getlist(key)
                if values:
                    found = [r for r in found if any(test(r, v) for v in values)]
            views = [self._resource(ctx, stack, r, detail=detail) for r in found]
        return json_response({"resources": views})

    def show_resource(
        self,
        ctx: RequestContext,
        request: Request,
        stack_ref: str,
        resource_name: str,
        stack_id: str | None = None,
    ) -> Response:
        stack = self._lookup(ctx, stack_ref, stack_id)
        resource = self.model.resource(stack, resource_name)
        return json_response({"resource": self._resource(ctx, stack, resource, detail=True)})

    def resource_metadata(
        self,
        ctx: RequestContext,
        request: Request,
        stack_ref: str,
        resource_name: str,
        stack_id: str | None = None,
    ) -> Response:
        stack = self._lookup(ctx, stack_ref, stack_id)
        resource = self.model.resource(stack, resource_name)
        return json_response({"metadata": resource.definition.get("metadata") or {}})

    def mark_unhealthy(
        self,
        ctx: RequestContext,
        request: Request,
        stack_ref: str,
        resource_name: str,
        stack_id: str | None = None,
    ) -> Response:
        stack = self._lookup(ctx, stack_ref, stack_id)
        resource = self.model.resource(stack, resource_name)
        body = json_body(request, exceptions.bad_request)
        mark = body.get("mark_unhealthy")
        if not isinstance(mark, bool):
            raise exceptions.bad_request('"mark_unhealthy" must be a boolean')
        reason = body.get("resource_status_reason") or ""
        self.engine.mark_unhealthy(stack, resource, mark, str(reason))
        return empty_response(200)

    def signal_resource(
        self,
        ctx: RequestContext,
        request: Request,
        stack_ref: str,
        resource_name: str,
        stack_id: str | None = None,
    ) -> Response:
        stack = self._lookup(ctx, stack_ref, stack_id)
        resource = self.model.resource(stack, resource_name)
        raw = request.get_data(cache=True)
        data = json_body(request, exceptions.bad_request) if raw.strip() else {}
        self.engine.signal(ctx, stack, resource, data)
        return empty_response(200)

    # events ------------------------------------------------------------------------------
    def list_events(
        self,
        ctx: RequestContext,
        request: Request,
        stack_ref: str,
        resource_name: str | None = None,
        stack_id: str | None = None,
    ) -> Response:
        stack = self._lookup(ctx, stack_ref, stack_id)
        args = request.args
        with self.state.lock:
            if resource_name is not None and resource_name != stack.name:
                self.model.resource(stack, resource_name)  # 404 for a resource it never had
            events = list(stack.events)
        if resource_name is not None:
            events = [e for e in events if e.resource_name == resource_name]
        for key, attribute in (
            ("resource_action", "action"),
            ("resource_status", "status"),
            ("resource_name", "resource_name"),
            ("resource_type", "resource_type"),
        ):
            wanted = args.getlist(key)
            if wanted:
                events = [e for e in events if getattr(e, attribute) in wanted]
        if args.get("sort_dir") == "desc":
            events.reverse()
        marker = args.get("marker")
        if marker:
            ids = [e.id for e in events]
            events = events[ids.index(marker) + 1 :] if marker in ids else events
        limit = args.get("limit")
        if limit and limit.isdigit():
            events = events[: int(limit)]
        return json_response({"events": [self._event(ctx, stack, e) for e in events]})

    def show_event(
        self,
        ctx: RequestContext,
        request: Request,
        stack_ref: str,
        resource_name: str,
        event_id: str,
        stack_id: str | None = None,
    ) -> Response:
        stack = self._lookup(ctx, stack_ref, stack_id)
        for event in stack.events:
            if event.id == event_id and event.resource_name == resource_name:
                return json_response({"event": self._event(ctx, stack, event)})
        raise exceptions.not_found(f"The Event ({event_id}) could not be found.")

    # templates and types -----------------------------------------------------------------
    def template_versions(self, ctx: RequestContext, request: Request) -> Response:
        return json_response({"template_versions": template.template_versions()})

    def template_functions(self, ctx: RequestContext, request: Request, version: str) -> Response:
        date = template.version_of_key(version)
        conditions = truthy(request.args.get("condition_functions"))
        listed = template.functions(date, conditions=conditions)
        return json_response(
            {
                "template_functions": [
                    {"functions": name, "description": text}
                    for name, text in sorted(listed.items())
                ]
            }
        )

    def validate(self, ctx: RequestContext, request: Request) -> Response:
        body = json_body(request, exceptions.bad_request)
        plan = self.engine.plan(ctx, body, strict=False)
        answer: dict[str, Any] = {
            "Description": plan.template.get("description", "No description"),
            "Parameters": template.describe_parameters(
                plan.template, plan.parameters, plan.environment
            ),
            "Environment": {
                "parameters": plan.environment.get("parameters") or {},
                "parameter_defaults": plan.environment.get("parameter_defaults") or {},
                "resource_registry": plan.environment.get("resource_registry") or {},
            },
        }
        if plan.template.get("parameter_groups"):
            groups = plan.template["parameter_groups"]
            declared = plan.template.get("parameters") or {}
            for group in groups:
                for name in group.get("parameters") or []:
                    if name not in declared:
                        raise exceptions.invalid(
                            f"The grouped parameter {name} does not reference a valid parameter."
                        )
            answer["ParameterGroups"] = groups
        return json_response(answer)

    def list_resource_types(self, ctx: RequestContext, request: Request) -> Response:
        names = sorted(self.model.types)
        wanted = request.args.get("name")
        if wanted:
            names = [n for n in names if wanted in n]
        if truthy(request.args.get("with_description")):
            listed: list[Any] = [
                {"resource_type": n, "description": self.model.types[n].description} for n in names
            ]
        else:
            listed = names
        return json_response({"resource_types": listed})

    def _type(self, name: str):
        resource_type = self.model.types.get(name)
        if resource_type is None:
            raise exceptions.not_found(
                f"The Resource Type ({name}) could not be found.", "EntityNotFound"
            )
        return resource_type

    def show_resource_type(self, ctx: RequestContext, request: Request, type_name: str) -> Response:
        return json_response(self._type(type_name).schema())

    def resource_type_template(
        self, ctx: RequestContext, request: Request, type_name: str
    ) -> Response:
        resource_type = self._type(type_name)
        kind = request.args.get("template_type", "cfn")
        if kind not in TEMPLATE_TYPES:
            raise exceptions.bad_request(f"Template type is not supported: {kind}")
        params = {
            name: {
                "type": _param_type(prop.type),
                "description": prop.description,
                **({"default": prop.default} if prop.default is not None else {}),
            }
            for name, prop in resource_type.properties.items()
            # an optional property without a default is left out: the template then works
            if prop.required or prop.default is not None
        }
        if kind == "hot":
            body: dict[str, Any] = {
                "heat_template_version": "2016-10-14",
                "description": f"Initial template of {type_name}",
                "parameters": params,
                "resources": {
                    type_name: {
                        "type": type_name,
                        "properties": {name: {"get_param": name} for name in params},
                    }
                },
                "outputs": {
                    name: {"description": text, "value": {"get_attr": [type_name, name]}}
                    for name, text in resource_type.attributes.items()
                },
            }
        else:
            body = {
                "HeatTemplateFormatVersion": "2012-12-12",
                "Description": f"Initial template of {type_name}",
                "Parameters": {
                    n: {"Type": _cfn_type(p["type"]), "Description": p["description"]}
                    for n, p in params.items()
                },
                "Resources": {
                    type_name: {
                        "Type": type_name,
                        "Properties": {name: {"Ref": name} for name in params},
                    }
                },
                "Outputs": {
                    name: {"Description": text, "Value": {"Fn::GetAtt": [type_name, name]}}
                    for name, text in resource_type.attributes.items()
                },
            }
        return json_response(body)


def _param_text(value: Any) -> str:
    import json

    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, list):
        return ",".join(str(v) for v in value)
    if isinstance(value, dict):
        return json.dumps(value)
    return str(value)


def _param_type(prop_type: str) -> str:
    return {
        "integer": "number",
        "number": "number",
        "boolean": "boolean",
        "list": "comma_delimited_list",
        "map": "json",
    }.get(prop_type, "string")


def _cfn_type(hot_type: str) -> str:
    return {
        "number": "Number",
        "comma_delimited_list": "CommaDelimitedList",
        "json": "Json",
        "boolean": "Boolean",
    }.get(hot_type, "String")
