"""Glance's routes, under /image."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pytest_interop.reference.core.routing import Route, route
from pytest_interop.reference.image.responses import ImageResponses

if TYPE_CHECKING:
    from pytest_interop.reference.state import CloudState

SERVICE = "image"
PREFIX = "/image/v2"


def routes(state: CloudState) -> list[Route]:
    api = ImageResponses(state)
    return [
        route(SERVICE, "/image", "GET", api.versions, authenticated=False, faults=False),
        route(SERVICE, "/image/versions", "GET", api.versions, authenticated=False, faults=False),
        route(SERVICE, PREFIX, "GET", api.versions, authenticated=False, faults=False),
        route(SERVICE, f"{PREFIX}/schemas/<name>", "GET", api.schema),
        route(SERVICE, f"{PREFIX}/images", "GET", api.list_images),
        route(SERVICE, f"{PREFIX}/images", "POST", api.create_image),
        route(SERVICE, f"{PREFIX}/images/<image_id>", "GET", api.get_image),
        route(SERVICE, f"{PREFIX}/images/<image_id>", "PATCH", api.update_image),
        route(SERVICE, f"{PREFIX}/images/<image_id>", "DELETE", api.delete_image),
        route(SERVICE, f"{PREFIX}/images/<image_id>/file", "PUT", api.upload),
        route(SERVICE, f"{PREFIX}/images/<image_id>/file", "GET", api.download),
        route(SERVICE, f"{PREFIX}/images/<image_id>/actions/deactivate", "POST", api.deactivate),
        route(SERVICE, f"{PREFIX}/images/<image_id>/actions/reactivate", "POST", api.reactivate),
        route(SERVICE, f"{PREFIX}/images/<image_id>/tags/<tag>", "PUT", api.add_tag),
        route(SERVICE, f"{PREFIX}/images/<image_id>/tags/<tag>", "DELETE", api.remove_tag),
    ]
