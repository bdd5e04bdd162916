"""Heat's routes, under /orchestration/v1/<project_id>, as the catalog names the endpoint.

A stack is addressed by name or id (``/stacks/<ref>``) or by both (``/stacks/<name>/<id>``);
both forms answer directly, where Heat's API redirects the first to the second.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import TYPE_CHECKING

from werkzeug.wrappers import Request, Response

from pytest_interop.reference.core.routing import Route, route
from pytest_interop.reference.core.wire import RequestContext
from pytest_interop.reference.orchestration import exceptions
from pytest_interop.reference.orchestration.responses import OrchestrationResponses
from pytest_interop.reference.orchestration.responses_software import SoftwareResponses

if TYPE_CHECKING:
    from pytest_interop.reference.state import CloudState

SERVICE = "orchestration"
PREFIX = "/orchestration/v1/<project_id>"


def _scoped(handler: Callable[..., Response]) -> Callable[..., Response]:
    @wraps(handler)
    def wrapper(ctx: RequestContext, request: Request, **values: str) -> Response:
        project_id = values.pop("project_id")
        if project_id != ctx.project_id and not ctx.is_admin:
            raise exceptions.HeatError("The project in the URL is not the token's project.", 403)
        return handler(ctx, request, **values)

    return wrapper


def routes(state: CloudState) -> list[Route]:
    api = OrchestrationResponses(state)
    software = SoftwareResponses(state)
    stack_paths = [
        ("", ("GET",), api.show_stack),
        ("", ("PUT", "PATCH"), api.update_stack),
        ("", ("DELETE",), api.delete_stack),
        ("/template", "GET", api.stack_template),
        ("/environment", "GET", api.stack_environment),
        ("/files", "GET", api.stack_files),
        ("/outputs", "GET", api.list_outputs),
        ("/outputs/<output_key>", "GET", api.show_output),
        ("/resources", "GET", api.list_resources),
        ("/resources/<resource_name>", "GET", api.show_resource),
        ("/resources/<resource_name>", "PATCH", api.mark_unhealthy),
        ("/resources/<resource_name>/metadata", "GET", api.resource_metadata),
        ("/resources/<resource_name>/signal", "POST", api.signal_resource),
        ("/resources/<resource_name>/events", "GET", api.list_events),
        ("/resources/<resource_name>/events/<event_id>", "GET", api.show_event),
        ("/events", "GET", api.list_events),
    ]
    table = [
        ("", "GET", api.versions),  # the catalog's endpoint itself: the version document
        ("/stacks", "GET", api.list_stacks),
        ("/stacks", "POST", api.create_stack),
        ("/stacks/preview", "POST", api.preview_stack),
        ("/validate", "POST", api.validate),
        ("/build_info", "GET", api.build_info),
        ("/template_versions", "GET", api.template_versions),
        ("/template_versions/<version>/functions", "GET", api.template_functions),
        ("/resource_types", "GET", api.list_resource_types),
        ("/resource_types/<type_name>", "GET", api.show_resource_type),
        ("/resource_types/<type_name>/template", "GET", api.resource_type_template),
        ("/software_configs", "GET", software.list_configs),
        ("/software_configs", "POST", software.create_config),
        ("/software_configs/<config_id>", "GET", software.show_config),
        ("/software_configs/<config_id>", "DELETE", software.delete_config),
        ("/software_deployments", "GET", software.list_deployments),
        ("/software_deployments", "POST", software.create_deployment),
        ("/software_deployments/metadata/<server_id>", "GET", software.deployment_metadata),
        ("/software_deployments/<deployment_id>", "GET", software.show_deployment),
        ("/software_deployments/<deployment_id>", "PUT", software.update_deployment),
        ("/software_deployments/<deployment_id>", "DELETE", software.delete_deployment),
    ]
    for suffix, methods, handler in stack_paths:
        table.append((f"/stacks/<stack_ref>{suffix}", methods, handler))
        table.append((f"/stacks/<stack_ref>/<stack_id>{suffix}", methods, handler))
    found = [
        route(SERVICE, "/orchestration", "GET", api.versions, authenticated=False, faults=False),
        route(SERVICE, "/orchestration/v1", "GET", api.versions, authenticated=False, faults=False),
    ]
    found += [
        route(SERVICE, PREFIX + path, methods, _scoped(handler)) for path, methods, handler in table
    ]
    return found
