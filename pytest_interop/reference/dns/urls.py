"""Designate's routes, under /dns (the catalog's endpoint; the API is /dns/v2)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pytest_interop.reference.core.routing import Route, route
from pytest_interop.reference.dns.responses import DnsResponses
from pytest_interop.reference.dns.tasks import ZoneTasks

if TYPE_CHECKING:
    from pytest_interop.reference.state import CloudState

SERVICE = "dns"


def routes(state: CloudState) -> list[Route]:
    api = DnsResponses(state)
    tasks = ZoneTasks(state)
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
        ("/zones/<zone_id>/tasks/export", "POST", tasks.create_export, {}),
        ("/zones/tasks/imports", "POST", tasks.create_import, {}),
        ("/zones/tasks/imports", "GET", tasks.list_imports, {}),
        ("/zones/tasks/imports/<task_id>", "GET", tasks.get_import, {}),
        ("/zones/tasks/imports/<task_id>", "DELETE", tasks.delete_import, {}),
    ]
    # Designate's path is .../exports/...; openstacksdk's ZoneExport says .../export/...
    for exports in ("/zones/tasks/exports", "/zones/tasks/export"):
        table += [
            (exports, "GET", tasks.list_exports, {}),
            (f"{exports}/<task_id>", "GET", tasks.get_export, {}),
            (f"{exports}/<task_id>", "DELETE", tasks.delete_export, {}),
            (f"{exports}/<task_id>/export", "GET", tasks.export_text, {}),
        ]
    found = [route(SERVICE, "/dns", "GET", api.versions, authenticated=False, faults=False)]
    found.extend(
        route(SERVICE, "/dns/v2" + path, methods, handler, **options)
        for path, methods, handler, options in table
    )
    return found
