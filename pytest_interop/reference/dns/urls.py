"""Designate's routes, under /dns (the catalog's endpoint; the API is /dns/v2)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pytest_interop.reference.core.routing import Route, route
from pytest_interop.reference.dns.responses import DnsResponses

if TYPE_CHECKING:
    from pytest_interop.reference.state import CloudState

SERVICE = "dns"


def routes(state: CloudState) -> list[Route]:
    api = DnsResponses(state)
    table = [
        ("/zones", "GET", api.list_zones, {}),
        ("/zones", "POST", api.create_zone, {}),
        ("/zones/<zone_id>", "GET", api.get_zone, {}),
        ("/zones/<zone_id>", "PATCH", api.update_zone, {}),
        ("/zones/<zone_id>", "DELETE", api.delete_zone, {}),
        ("/zones/<zone_id>/nameservers", "GET", api.nameservers, {}),
        ("/zones/<zone_id>/recordsets", "GET", api.list_recordsets, {}),
        ("/zones/<zone_id>/recordsets", "POST", api.create_recordset, {}),
        ("/zones/<zone_id>/recordsets/<recordset_id>", "GET", api.get_recordset, {}),
        ("/zones/<zone_id>/recordsets/<recordset_id>", "PUT", api.update_recordset, {}),
        ("/zones/<zone_id>/recordsets/<recordset_id>", "DELETE", api.delete_recordset, {}),
        ("/recordsets", "GET", api.list_recordsets, {}),
        ("/pools", "GET", api.list_pools, {"admin_only": True}),
        ("/pools/<pool_id>", "GET", api.get_pool, {"admin_only": True}),
        ("/quotas/<project_id>", "GET", api.get_quotas, {}),
        ("/quotas/<project_id>", "PATCH", api.update_quotas, {}),
        ("/quotas/<project_id>", "DELETE", api.reset_quotas, {}),
        ("/limits", "GET", api.limits, {}),
    ]
    found = [route(SERVICE, "/dns", "GET", api.versions, authenticated=False, faults=False)]
    found.extend(
        route(SERVICE, "/dns/v2" + path, methods, handler, **options)
        for path, methods, handler, options in table
    )
    return found
