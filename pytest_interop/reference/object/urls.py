"""Swift's routes, under /object: ``/object/info`` and ``/object/v1/AUTH_<project_id>/...``."""

from __future__ import annotations

import dataclasses
import functools
import time
import uuid
from typing import TYPE_CHECKING

from werkzeug.wrappers import Request, Response

from pytest_interop.reference.core.errors import ApiError
from pytest_interop.reference.core.routing import Handler, Route, route
from pytest_interop.reference.core.wire import RequestContext
from pytest_interop.reference.object.responses import ObjectResponses

if TYPE_CHECKING:
    from pytest_interop.reference.state import CloudState

SERVICE = "object"
PREFIX = "/object/v1/<account>"
CONTAINER = f"{PREFIX}/<container>"
OBJECT = f"{CONTAINER}/<path:obj>"


def _swift_headers(handler: Handler) -> Handler:
    """Headers every Swift response carries, errors included: a transaction id (also as
    X-Openstack-Request-Id), a Content-Type (Swift's text/html on empty answers) and the
    Content-Length."""

    @functools.wraps(handler)
    def wrapped(ctx: RequestContext, request: Request, **values: str) -> Response:
        try:
            response = handler(ctx, request, **values)
        except ApiError as exc:
            response = exc.response()
        trans_id = f"tx{uuid.uuid4().hex[:21]}-{int(time.time()):010x}"
        response.headers["X-Trans-Id"] = trans_id
        response.headers["X-Openstack-Request-Id"] = trans_id
        if "Content-Type" not in response.headers:
            response.headers["Content-Type"] = "text/html; charset=UTF-8"
        if "Content-Length" not in response.headers and not response.is_streamed:
            response.headers["Content-Length"] = str(len(response.get_data()))
        return response

    return wrapped


def routes(state: CloudState) -> list[Route]:
    return [
        dataclasses.replace(item, handler=_swift_headers(item.handler)) for item in _routes(state)
    ]


def _routes(state: CloudState) -> list[Route]:
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
