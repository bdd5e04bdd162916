"""``GET /admin/counters`` (admin token only): API calls by route, boots, live resources."""

from __future__ import annotations

from typing import TYPE_CHECKING

from werkzeug.wrappers import Request, Response

from pytest_interop.reference.core.routing import Route, route
from pytest_interop.reference.core.wire import RequestContext, json_response

if TYPE_CHECKING:
    from pytest_interop.reference.state import CloudState

SERVICE = "admin"


def routes(state: CloudState) -> list[Route]:
    def counters(ctx: RequestContext, request: Request) -> Response:
        return json_response(state.counters_snapshot())

    return [route(SERVICE, "/admin/counters", "GET", counters, admin_only=True, faults=False)]
