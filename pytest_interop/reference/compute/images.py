"""Nova's image proxy, ``/images`` (up to microversion 2.35): Glance's images in Nova's view.

Clients of the 2.1 API (Tempest's compute image tests among them) wait for a server snapshot
and delete it here. Nova maps Glance's status to its own (saving -> SAVING, active -> ACTIVE)
and Glance's properties to ``metadata``; from 2.36 on the proxy answers 404.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from werkzeug.wrappers import Request, Response

from pytest_interop.reference.compute import exceptions
from pytest_interop.reference.core.errors import ApiError
from pytest_interop.reference.core.wire import RequestContext, empty_response, parse_limit

if TYPE_CHECKING:
    from pytest_interop.reference.compute.responses import ComputeResponses
    from pytest_interop.reference.state import CloudState

PROXY_REMOVED = (2, 36)
STATUS = {
    "queued": ("SAVING", 25),
    "saving": ("SAVING", 50),
    "importing": ("SAVING", 50),
    "uploading": ("SAVING", 50),
    "active": ("ACTIVE", 100),
    "deactivated": ("ACTIVE", 100),
    "killed": ("ERROR", 0),
    "deleted": ("DELETED", 0),
    "pending_delete": ("DELETED", 0),
}
# Glance's own fields; everything else is a property Nova shows as metadata
GLANCE_FIELDS = frozenset(
    {
        "id", "name", "status", "visibility", "protected", "os_hidden", "checksum",
        "os_hash_algo", "os_hash_value", "owner", "size", "virtual_size", "min_disk",
        "min_ram", "disk_format", "container_format", "created_at", "updated_at", "tags",
        "self", "file", "schema", "direct_url", "locations",
    }
)  # fmt: skip


class ComputeImageResponses:
    def __init__(self, state: CloudState, compute: ComputeResponses) -> None:
        self.state = state
        self.compute = compute

    def _check_version(self, ctx: RequestContext) -> None:
        if ctx.microversion >= PROXY_REMOVED:
            raise exceptions.NovaError("The resource could not be found.", 404)

    def _get(self, ctx: RequestContext, image_id: str) -> dict[str, Any]:
        try:
            return self.state.image.get(ctx, image_id)
        except ApiError:
            raise exceptions.NovaError("Image not found.", 404) from None

    def _view(self, ctx: RequestContext, image: dict[str, Any]) -> dict[str, Any]:
        status, progress = STATUS.get(image["status"], ("UNKNOWN", 0))
        base = f"{ctx.base_url}/compute"
        body: dict[str, Any] = {
            "id": image["id"],
            "name": image.get("name"),
            "status": status,
            "progress": progress,
            "minDisk": int(image.get("min_disk") or 0),
            "minRam": int(image.get("min_ram") or 0),
            "created": image["created_at"],
            "updated": image["updated_at"],
            "metadata": {
                k: v for k, v in image.items() if k not in GLANCE_FIELDS and v is not None
            },
            "OS-EXT-IMG-SIZE:size": image.get("size"),
            "links": [
                {"rel": "self", "href": f"{base}/v2.1/images/{image['id']}"},
                {"rel": "bookmark", "href": f"{base}/images/{image['id']}"},
                {
                    "rel": "alternate",
                    "type": "application/vnd.openstack.image",
                    "href": f"{ctx.base_url}/image/v2/images/{image['id']}",
                },
            ],
        }
        server_id = image.get("instance_uuid")
        if server_id:
            body["server"] = {
                "id": server_id,
                "links": [
                    {"rel": "self", "href": f"{base}/v2.1/servers/{server_id}"},
                    {"rel": "bookmark", "href": f"{base}/servers/{server_id}"},
                ],
            }
        return body

    def list_images(self, ctx: RequestContext, request: Request, detail: bool = False) -> Response:
        self._check_version(ctx)
        with self.state.lock:
            images = self.state.image.list(ctx, {})
            if request.args.get("name"):
                images = [i for i in images if i.get("name") == request.args["name"]]
            if request.args.get("status"):
                wanted = request.args["status"].upper()
                images = [i for i in images if STATUS.get(i["status"], ("",))[0] == wanted]
            limit = parse_limit(request, exceptions.bad_request)
            if limit is not None:
                images = images[:limit]
            views = [self._view(ctx, image) for image in images]
        if not detail:
            views = [{k: v[k] for k in ("id", "name", "links")} for v in views]
        return self.compute._respond(ctx, {"images": views})

    def get_image(self, ctx: RequestContext, request: Request, image_id: str) -> Response:
        self._check_version(ctx)
        with self.state.lock:
            return self.compute._respond(ctx, {"image": self._view(ctx, self._get(ctx, image_id))})

    def delete_image(self, ctx: RequestContext, request: Request, image_id: str) -> Response:
        self._check_version(ctx)
        self._get(ctx, image_id)
        try:
            self.state.image.delete(ctx, image_id)
        except ApiError as error:
            raise exceptions.NovaError(error.message, error.status) from None
        return empty_response(204)

    def get_metadata(self, ctx: RequestContext, request: Request, image_id: str) -> Response:
        self._check_version(ctx)
        with self.state.lock:
            view = self._view(ctx, self._get(ctx, image_id))
        return self.compute._respond(ctx, {"metadata": view["metadata"]})
