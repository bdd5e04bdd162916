"""Cinder's routes, under /volume: v3 and v2, with or without the project id in the path.

The catalog names ``/volume/v3`` and ``/volume/v2`` (Cinder's project-id-less URLs); the
``/volume/v{2,3}/{project_id}/...`` form that older clients build is served too.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial, wraps
from typing import TYPE_CHECKING

from werkzeug.wrappers import Request, Response

from pytest_interop.reference.core.routing import Route, route
from pytest_interop.reference.core.wire import RequestContext
from pytest_interop.reference.volume import exceptions
from pytest_interop.reference.volume.responses import VolumeResponses, negotiate

if TYPE_CHECKING:
    from pytest_interop.reference.state import CloudState

SERVICE = "volume"
APIS = ("v3", "v2")


def _bound(handler: Callable[..., Response], api: str) -> Callable[..., Response]:
    """Checks the path's project id, reads the microversion, names the API version."""

    @wraps(handler)
    def wrapper(ctx: RequestContext, request: Request, **values: str) -> Response:
        project_id = values.pop("project_id", None)
        if project_id is not None and project_id != ctx.project_id and not ctx.is_admin:
            raise exceptions.forbidden("The project in the URL is not the token's project.")
        version = negotiate(request, api)
        response = handler(ctx, request, api, **values)
        if api == "v3":
            response.headers["OpenStack-API-Version"] = f"volume {version[0]}.{version[1]}"
            response.headers["Vary"] = "OpenStack-API-Version"
        return response

    return wrapper


def routes(state: CloudState) -> list[Route]:
    api = VolumeResponses(state)
    table = [
        ("/volumes", "GET", api.list_volumes),
        ("/volumes", "POST", api.create_volume),
        ("/volumes/detail", "GET", partial(api.list_volumes, detail=True)),
        ("/volumes/<volume_id>", "GET", api.get_volume),
        ("/volumes/<volume_id>", "PUT", api.update_volume),
        ("/volumes/<volume_id>", "DELETE", api.delete_volume),
        ("/volumes/<volume_id>/action", "POST", api.volume_action),
        ("/volumes/<volume_id>/metadata", "GET", api.get_metadata),
        ("/volumes/<volume_id>/metadata", ("POST", "PUT"), api.set_metadata),
        ("/volumes/<volume_id>/metadata/<key>", "GET", api.get_metadata_item),
        ("/volumes/<volume_id>/metadata/<key>", "PUT", api.set_metadata_item),
        ("/volumes/<volume_id>/metadata/<key>", "DELETE", api.delete_metadata_item),
        ("/snapshots", "GET", api.list_snapshots),
        ("/snapshots", "POST", api.create_snapshot),
        ("/snapshots/detail", "GET", partial(api.list_snapshots, detail=True)),
        ("/snapshots/<snapshot_id>", "GET", api.get_snapshot),
        ("/snapshots/<snapshot_id>", "PUT", api.update_snapshot),
        ("/snapshots/<snapshot_id>", "DELETE", api.delete_snapshot),
        ("/snapshots/<snapshot_id>/metadata", "GET", api.get_snapshot_metadata),
        ("/snapshots/<snapshot_id>/metadata", ("POST", "PUT"), api.set_snapshot_metadata),
        ("/snapshots/<snapshot_id>/metadata/<key>", "GET", api.get_snapshot_metadata_item),
        ("/snapshots/<snapshot_id>/metadata/<key>", "PUT", api.set_snapshot_metadata_item),
        ("/snapshots/<snapshot_id>/metadata/<key>", "DELETE", api.delete_snapshot_metadata_item),
        ("/os-availability-zone", "GET", api.availability_zones),
        ("/extensions", "GET", api.extensions),
        ("/os-quota-sets/<target>", "GET", api.get_quotas),
        ("/os-quota-sets/<target>", "PUT", api.update_quotas),
        ("/os-quota-sets/<target>/defaults", "GET", api.get_quota_defaults),
        ("/limits", "GET", api.limits),
    ]
    found = [
        route(SERVICE, "/volume", "GET", api.versions, authenticated=False, faults=False),
    ]
    for version in APIS:
        found.append(
            route(
                SERVICE,
                f"/volume/{version}",
                "GET",
                partial(api.version, api=version),
                authenticated=False,
                faults=False,
            )
        )
        for prefix in (f"/volume/{version}", f"/volume/{version}/<project_id>"):
            found.extend(
                route(SERVICE, prefix + path, methods, _bound(handler, version))
                for path, methods, handler in table
            )
    return found
