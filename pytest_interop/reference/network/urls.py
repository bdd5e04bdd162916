"""Neutron's routes, under /network."""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING

from pytest_interop.reference.core.routing import Route, route
from pytest_interop.reference.network.models import KINDS
from pytest_interop.reference.network.responses import NetworkResponses

if TYPE_CHECKING:
    from pytest_interop.reference.state import CloudState

SERVICE = "network"
PREFIX = "/network/v2.0"


def routes(state: CloudState) -> list[Route]:
    api = NetworkResponses(state)
    table = [
        route(SERVICE, "/network", "GET", api.versions, authenticated=False, faults=False),
        route(SERVICE, PREFIX, "GET", api.resources),
        route(SERVICE, f"{PREFIX}/extensions", "GET", api.extensions),
        route(SERVICE, f"{PREFIX}/extensions/<alias>", "GET", api.extension),
        route(SERVICE, f"{PREFIX}/quotas/<project_id>", "GET", api.quotas),
        route(
            SERVICE,
            f"{PREFIX}/routers/<ident>/add_router_interface",
            "PUT",
            api.add_router_interface,
        ),
        route(
            SERVICE,
            f"{PREFIX}/routers/<ident>/remove_router_interface",
            "PUT",
            api.remove_router_interface,
        ),
    ]
    for kind in KINDS:
        collection = f"{PREFIX}/{kind}"
        member = f"{collection}/<ident>"
        table += [
            route(SERVICE, collection, "GET", partial(api.list_resources, kind=kind)),
            route(SERVICE, collection, "POST", partial(api.create_resource, kind=kind)),
            route(SERVICE, member, "GET", partial(api.get_resource, kind=kind)),
            route(SERVICE, member, "PUT", partial(api.update_resource, kind=kind)),
            route(SERVICE, member, "DELETE", partial(api.delete_resource, kind=kind)),
        ]
    return table
