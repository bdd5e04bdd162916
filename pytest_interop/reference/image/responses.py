"""Glance v2 requests to model calls, model dicts to Glance's JSON."""

from __future__ import annotations

import copy
import hashlib
import json
from typing import TYPE_CHECKING
from urllib.parse import urlencode

from werkzeug.wrappers import Request, Response

from pytest_interop.reference.core.wire import (
    RequestContext,
    empty_response,
    json_body,
    json_response,
    paginate,
    parse_limit,
)
from pytest_interop.reference.image import exceptions
from pytest_interop.reference.image.models import MAX_IMAGE_BYTES

if TYPE_CHECKING:
    from pytest_interop.reference.state import CloudState

PATCH_TYPE = "application/openstack-images-v2.1-json-patch"
# The draft format Glance still takes: {"replace": "/name", "value": ...}
PATCH_TYPE_V20 = "application/openstack-images-v2.0-json-patch"


def _from_v20(operation: object) -> object:
    if isinstance(operation, dict):
        for op in ("add", "replace", "remove"):
            if op in operation and "op" not in operation:
                converted = {"op": op, "path": operation[op]}
                if "value" in operation:
                    converted["value"] = operation["value"]
                return converted
    return operation


SUPPORTED = ("2.0", "2.1", "2.2", "2.3", "2.4", "2.5", "2.6", "2.7", "2.8", "2.9")


class ImageResponses:
    def __init__(self, state: CloudState) -> None:
        self.state = state

    @property
    def model(self):
        return self.state.image

    def versions(self, ctx: RequestContext, request: Request) -> Response:
        versions = [
            {
                "id": f"v{number}",
                "status": "CURRENT" if number == SUPPORTED[-1] else "SUPPORTED",
                "links": [{"rel": "self", "href": f"{ctx.base_url}/image/v2/"}],
            }
            for number in reversed(SUPPORTED)
        ]
        return json_response({"versions": versions}, status=300)

    def schema(self, ctx: RequestContext, request: Request, name: str) -> Response:
        properties = {
            key: {"type": ["null", "string"]}
            for key in (
                "id",
                "name",
                "status",
                "visibility",
                "checksum",
                "os_hash_algo",
                "os_hash_value",
                "container_format",
                "disk_format",
                "owner",
                "created_at",
                "updated_at",
                "self",
                "file",
                "schema",
                "os_distro",
                "os_admin_user",
            )
        }
        properties.update(
            {
                key: {"type": ["null", "integer"]}
                for key in ("size", "virtual_size", "min_disk", "min_ram")
            }
        )
        properties["tags"] = {"type": "array", "items": {"type": "string"}}
        properties["protected"] = {"type": "boolean"}
        schema = {
            "name": "image",
            "properties": properties,
            "additionalProperties": {"type": "string"},
        }
        if name == "images":
            schema = {
                "name": "images",
                "properties": {"images": {"type": "array", "items": schema}},
            }
        return json_response(schema)

    def list_images(self, ctx: RequestContext, request: Request) -> Response:
        filters = {key: value for key, value in request.args.items()}
        images = self.model.list(ctx, filters)
        sort_key = request.args.get("sort_key", "created_at")
        reverse = request.args.get("sort_dir", "desc") == "desc"
        images.sort(
            key=lambda image: (str(image.get(sort_key) or ""), image["id"]), reverse=reverse
        )
        limit = parse_limit(request, exceptions.bad_request)
        with self.state.lock:
            page = paginate(
                images,
                limit=limit,
                marker=request.args.get("marker"),
                key=lambda image: image["id"],
                marker_missing=lambda m: exceptions.bad_request(
                    f"Invalid marker. Image {m} could not be found."
                ),
            )
            body = {
                "images": copy.deepcopy(page.items),
                "first": "/v2/images",
                "schema": "/v2/schemas/images",
            }
        if page.has_more and page.items:
            params = {key: value for key, value in request.args.items() if key != "marker"}
            params["marker"] = page.items[-1]["id"]
            body["next"] = f"/v2/images?{urlencode(params)}"
        return json_response(body)

    def get_image(self, ctx: RequestContext, request: Request, image_id: str) -> Response:
        with self.state.lock:
            return json_response(copy.deepcopy(self.model.get(ctx, image_id)))

    def create_image(self, ctx: RequestContext, request: Request) -> Response:
        body = json_body(request, exceptions.bad_request)
        with self.state.lock:
            image = copy.deepcopy(self.model.create(ctx, body))
        return json_response(
            image, status=201, headers={"Location": f"{ctx.base_url}/image/v2/images/{image['id']}"}
        )

    def update_image(self, ctx: RequestContext, request: Request, image_id: str) -> Response:
        if request.mimetype not in (PATCH_TYPE, PATCH_TYPE_V20):
            raise exceptions.GlanceError(
                f"Unsupported Content-Type; use {PATCH_TYPE}",
                415,
                headers={"Accept-Patch": PATCH_TYPE},
            )
        try:
            operations = json.loads(request.get_data() or b"null")
        except ValueError:
            raise exceptions.bad_request("Malformed JSON in request body.") from None
        if not isinstance(operations, list):
            raise exceptions.bad_request("Request body must be a JSON array of operation objects.")
        if request.mimetype == PATCH_TYPE_V20:
            operations = [_from_v20(item) for item in operations]
        with self.state.lock:
            return json_response(copy.deepcopy(self.model.patch(ctx, image_id, operations)))

    def delete_image(self, ctx: RequestContext, request: Request, image_id: str) -> Response:
        self.model.delete(ctx, image_id)
        return empty_response()

    def upload(self, ctx: RequestContext, request: Request, image_id: str) -> Response:
        if (request.content_length or 0) > MAX_IMAGE_BYTES:
            raise exceptions.GlanceError("Image exceeds the storage quota", 413)
        self.model.upload(ctx, image_id, request.get_data())
        return empty_response()

    def download(self, ctx: RequestContext, request: Request, image_id: str) -> Response:
        data = self.model.download(ctx, image_id)
        if data is None:
            return empty_response()
        response = Response(data, status=200, content_type="application/octet-stream")
        response.headers["Content-MD5"] = hashlib.md5(data, usedforsecurity=False).hexdigest()
        return response

    def deactivate(self, ctx: RequestContext, request: Request, image_id: str) -> Response:
        self.model.set_active(ctx, image_id, active=False)
        return empty_response()

    def reactivate(self, ctx: RequestContext, request: Request, image_id: str) -> Response:
        self.model.set_active(ctx, image_id, active=True)
        return empty_response()

    def add_tag(self, ctx: RequestContext, request: Request, image_id: str, tag: str) -> Response:
        self.model.add_tag(ctx, image_id, tag)
        return empty_response()

    def remove_tag(
        self, ctx: RequestContext, request: Request, image_id: str, tag: str
    ) -> Response:
        self.model.remove_tag(ctx, image_id, tag)
        return empty_response()
