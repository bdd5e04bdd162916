"""Nova's routes, under /compute (the catalog names /compute/v2.1)."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial, wraps
from typing import TYPE_CHECKING

from werkzeug.wrappers import Request, Response

from pytest_interop.reference.compute.images import ComputeImageResponses
from pytest_interop.reference.compute.responses import ComputeResponses, negotiate
from pytest_interop.reference.compute.volume_attachments import VolumeAttachmentResponses
from pytest_interop.reference.core.routing import Route, route
from pytest_interop.reference.core.wire import RequestContext

if TYPE_CHECKING:
    from pytest_interop.reference.state import CloudState

SERVICE = "compute"
PREFIX = "/compute/v2.1"


def _versioned(handler: Callable[..., Response]) -> Callable[..., Response]:
    """Reads the microversion headers into the context before the handler runs."""

    @wraps(handler)
    def wrapper(ctx: RequestContext, request: Request, **values: str) -> Response:
        ctx.microversion = negotiate(request)
        return handler(ctx, request, **values)

    return wrapper


def routes(state: CloudState) -> list[Route]:
    api = ComputeResponses(state)
    volumes = VolumeAttachmentResponses(state)
    images = ComputeImageResponses(state, api)
    v = _versioned
    table = [
        (PREFIX + "/flavors", "GET", v(api.list_flavors)),
        (PREFIX + "/flavors/detail", "GET", v(partial(api.list_flavors, detail=True))),
        (PREFIX + "/flavors/<flavor_id>", "GET", v(api.get_flavor)),
        (PREFIX + "/flavors/<flavor_id>/os-extra_specs", "GET", v(api.flavor_extra_specs)),
        (PREFIX + "/servers", "GET", v(api.list_servers)),
        (PREFIX + "/servers", "POST", v(api.create_server)),
        (PREFIX + "/servers/detail", "GET", v(partial(api.list_servers, detail=True))),
        (PREFIX + "/servers/<server_id>", "GET", v(api.get_server)),
        (PREFIX + "/servers/<server_id>", "PUT", v(api.update_server)),
        (PREFIX + "/servers/<server_id>", "DELETE", v(api.delete_server)),
        (PREFIX + "/servers/<server_id>/action", "POST", v(api.server_action)),
        (PREFIX + "/servers/<server_id>/os-instance-actions", "GET", v(api.list_actions)),
        (
            PREFIX + "/servers/<server_id>/os-instance-actions/<request_id>",
            "GET",
            v(api.get_action),
        ),
        (PREFIX + "/servers/<server_id>/metadata", "GET", v(api.get_metadata)),
        (PREFIX + "/servers/<server_id>/metadata", ("PUT", "POST"), v(api.set_metadata)),
        (PREFIX + "/servers/<server_id>/metadata/<key>", "GET", v(api.get_metadata_item)),
        (PREFIX + "/servers/<server_id>/metadata/<key>", "PUT", v(api.set_metadata_item)),
        (PREFIX + "/servers/<server_id>/metadata/<key>", "DELETE", v(api.delete_metadata_item)),
        (PREFIX + "/servers/<server_id>/tags", "GET", v(api.list_tags)),
        (PREFIX + "/servers/<server_id>/tags", "PUT", v(api.replace_tags)),
        (PREFIX + "/servers/<server_id>/tags", "DELETE", v(api.delete_tags)),
        (PREFIX + "/servers/<server_id>/tags/<tag>", "GET", v(api.check_tag)),
        (PREFIX + "/servers/<server_id>/tags/<tag>", "PUT", v(api.add_tag)),
        (PREFIX + "/servers/<server_id>/tags/<tag>", "DELETE", v(api.remove_tag)),
        (PREFIX + "/servers/<server_id>/ips", "GET", v(api.server_ips)),
        (PREFIX + "/servers/<server_id>/os-interface", "GET", v(api.list_interfaces)),
        (PREFIX + "/servers/<server_id>/os-security-groups", "GET", v(api.server_security_groups)),
        (PREFIX + "/servers/<server_id>/os-volume_attachments", "GET", v(volumes.list_attachments)),
        (PREFIX + "/servers/<server_id>/os-volume_attachments", "POST", v(volumes.attach)),
        (
            PREFIX + "/servers/<server_id>/os-volume_attachments/<volume_id>",
            "GET",
            v(volumes.get_attachment),
        ),
        (
            PREFIX + "/servers/<server_id>/os-volume_attachments/<volume_id>",
            "DELETE",
            v(volumes.detach),
        ),
        (PREFIX + "/os-keypairs", "GET", v(api.list_keypairs)),
        (PREFIX + "/os-keypairs", "POST", v(api.create_keypair)),
        (PREFIX + "/os-keypairs/<name>", "GET", v(api.get_keypair)),
        (PREFIX + "/os-keypairs/<name>", "DELETE", v(api.delete_keypair)),
        (PREFIX + "/os-quota-sets/<project_id>", "GET", v(api.get_quotas)),
        (PREFIX + "/os-quota-sets/<project_id>", "PUT", v(api.update_quotas)),
        (PREFIX + "/os-quota-sets/<project_id>/detail", "GET", v(api.get_quota_detail)),
        (PREFIX + "/os-quota-sets/<project_id>/defaults", "GET", v(api.get_quota_defaults)),
        (PREFIX + "/os-availability-zone", "GET", v(api.availability_zones)),
        (
            PREFIX + "/os-availability-zone/detail",
            "GET",
            v(partial(api.availability_zones, detail=True)),
        ),
        (PREFIX + "/limits", "GET", v(api.limits)),
        (PREFIX + "/images", "GET", v(images.list_images)),
        (PREFIX + "/images/detail", "GET", v(partial(images.list_images, detail=True))),
        (PREFIX + "/images/<image_id>", "GET", v(images.get_image)),
        (PREFIX + "/images/<image_id>", "DELETE", v(images.delete_image)),
        (PREFIX + "/images/<image_id>/metadata", "GET", v(images.get_metadata)),
    ]
    return [
        route(SERVICE, "/compute", "GET", api.versions, authenticated=False, faults=False),
        route(SERVICE, PREFIX, "GET", api.version, authenticated=False, faults=False),
        *(route(SERVICE, path, methods, handler) for path, methods, handler in table),
    ]
