"""Swift's routes, under /object: ``/object/info`` and ``/object/v1/AUTH_<project_id>/...``."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pytest_interop.reference.core.routing import Route, route
from pytest_interop.reference.object.responses import ObjectResponses

if TYPE_CHECKING:
    from pytest_interop.reference.state import CloudState

SERVICE = "object"
PREFIX = "/object/v1/<account>"
CONTAINER = f"{PREFIX}/<container>"
OBJECT = f"{CONTAINER}/<path:obj>"


def routes(state: CloudState) -> list[Route]:
    api = ObjectResponses(state)
    # Swift authorises each request itself: a token, a temp URL signature or a container ACL.
    open_route = {"authenticated": False}
    return [
        route(SERVICE, "/object/info", "GET", api.info, authenticated=False, faults=False),
        route(SERVICE, PREFIX, ("GET", "HEAD"), api.account_get, **open_route),
        route(SERVICE, PREFIX, "POST", api.account_post, **open_route),
        route(SERVICE, CONTAINER, ("GET", "HEAD"), api.container_get, **open_route),
        route(SERVICE, CONTAINER, "PUT", api.container_put, **open_route),
        route(SERVICE, CONTAINER, "POST", api.container_post, **open_route),
        route(SERVICE, CONTAINER, "DELETE", api.container_delete, **open_route),
        route(SERVICE, OBJECT, ("GET", "HEAD"), api.object_get, **open_route),
        route(SERVICE, OBJECT, "PUT", api.object_put, **open_route),
        route(SERVICE, OBJECT, "COPY", api.object_copy, **open_route),
        route(SERVICE, OBJECT, "POST", api.object_post, **open_route),
        route(SERVICE, OBJECT, "DELETE", api.object_delete, **open_route),
    ]
