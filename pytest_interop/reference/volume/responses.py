"""Cinder v2/v3 requests to model calls, model objects to Cinder's JSON."""

from __future__ import annotations

import ast
import json
import re
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from werkzeug.wrappers import Request, Response

from pytest_interop.reference.core.wire import (
    RequestContext,
    empty_response,
    isotime,
    json_body,
    json_response,
    paginate,
    parse_limit,
    truthy,
)
from pytest_interop.reference.volume import exceptions
from pytest_interop.reference.volume.models import (
    DEFAULT_QUOTAS,
    VOLUME_TYPE,
    Snapshot,
    Volume,
    copy_volume,
    parse_bool,
)

if TYPE_CHECKING:
    from pytest_interop.reference.state import CloudState

MIN_MICROVERSION = (3, 0)
MAX_MICROVERSION = (3, 27)  # Ocata, what clouds of guideline 2017.01 ran
VERSION_UPDATED = {"v2.0": "2014-06-28T12:20:21Z", "v3.0": "2016-02-08T12:20:21Z"}
EXTENSIONS = (
    ("os-availability-zone", "AvailabilityZones", "Describe Availability Zones."),
    ("os-hosts", "Hosts", "Admin-only host administration."),
    ("os-extended-snapshot-attributes", "ExtendedSnapshotAttributes", "Extended attributes."),
    ("os-quota-sets", "Quotas", "Quota management support."),
    ("os-vol-host-attr", "VolumeHostAttribute", "Expose host as an attribute of a volume."),
    ("os-vol-image-meta", "VolumeImageMetadata", "Show image metadata of volumes."),
    ("os-vol-tenant-attr", "VolumeTenantAttribute", "Expose the internal project_id."),
    ("os-volume-actions", "VolumeActions", "Enable volume actions."),
    ("os-admin-actions", "AdminActions", "Enable admin actions."),
)
SORT_KEYS = ("created_at", "updated_at", "id", "name", "size", "status", "availability_zone")


def _text(version: tuple[int, int]) -> str:
    return f"{version[0]}.{version[1]}"


def negotiate(request: Request, api: str) -> tuple[int, int]:
    """The v3 microversion a request asks for (``OpenStack-API-Version: volume 3.x``)."""
    if api != "v3":
        return (2, 0)
    raw = None
    for part in request.headers.get("OpenStack-API-Version", "").split(","):
        service, _, value = part.strip().partition(" ")
        if service.lower() in ("volume", "block-storage") and value:
            raw = value.strip()
    if not raw:
        return MIN_MICROVERSION
    if raw.lower() == "latest":
        return MAX_MICROVERSION
    match = re.fullmatch(r"(\d+)\.(\d+)", raw)
    if not match:
        raise exceptions.bad_request(f"Invalid format for API version: {raw}")
    version = (int(match.group(1)), int(match.group(2)))
    if not MIN_MICROVERSION <= version <= MAX_MICROVERSION:
        raise exceptions.CinderError(
            f"Version {raw} is not supported by the API. Minimum is "
            f"{_text(MIN_MICROVERSION)} and maximum is {_text(MAX_MICROVERSION)}.",
            406,
        )
    return version


def _metadata_filter(raw: str) -> dict[str, str]:
    """Cinder reads ``metadata={'k': 'v'}`` as a Python or JSON literal."""
    for parse in (json.loads, ast.literal_eval):
        try:
            value = parse(raw)
        except (ValueError, SyntaxError):
            continue
        if isinstance(value, dict):
            return {str(k): str(v) for k, v in value.items()}
    raise exceptions.bad_request(f"Invalid metadata filter: {raw}")


class VolumeResponses:
    def __init__(self, state: CloudState) -> None:
        self.state = state

    @property
    def model(self):
        return self.state.volume

    # versions -----------------------------------------------------------------------------
    def _version_doc(self, ctx: RequestContext, api: str) -> dict[str, Any]:
        current = api == "v3"
        return {
            "id": f"{api}.0",
            "status": "CURRENT" if current else "DEPRECATED",
            "version": _text(MAX_MICROVERSION) if current else "",
            "min_version": _text(MIN_MICROVERSION) if current else "",
            "updated": VERSION_UPDATED[f"{api}.0"],
            "links": [{"rel": "self", "href": f"{ctx.base_url}/volume/{api}/"}],
            "media-types": [
                {
                    "base": "application/json",
                    "type": f"application/vnd.openstack.volume+json;version={api[1]}",
                }
            ],
        }

    def versions(self, ctx: RequestContext, request: Request) -> Response:
        docs = [self._version_doc(ctx, api) for api in ("v3", "v2")]
        return json_response({"versions": docs}, status=300)

    def version(self, ctx: RequestContext, request: Request, api: str) -> Response:
        return json_response({"versions": [self._version_doc(ctx, api)]})

    # views ----------------------------------------------------------------------------------
    @staticmethod
    def _link(ctx: RequestContext, api: str, kind: str, ident: str) -> list[dict[str, str]]:
        return [
            {"rel": "self", "href": f"{ctx.base_url}/volume/{api}/{kind}/{ident}"},
            {"rel": "bookmark", "href": f"{ctx.base_url}/volume/{kind}/{ident}"},
        ]

    def _volume(self, ctx: RequestContext, api: str, volume: Volume) -> dict[str, Any]:
        metadata = dict(volume.metadata)
        if volume.read_only is not None:
            metadata["readonly"] = "True" if volume.read_only else "False"
        if volume.attachments:
            metadata["attached_mode"] = volume.attachments[0].mode
        body: dict[str, Any] = {
            "id": volume.id,
            "name": volume.name,
            "description": volume.description,
            "status": volume.status,
            "size": volume.size,
            "availability_zone": volume.availability_zone,
            "created_at": isotime(volume.created),
            "updated_at": isotime(volume.updated),
            "attachments": [
                {
                    "id": volume.id,
                    "attachment_id": attachment.attachment_id,
                    "volume_id": volume.id,
                    "server_id": attachment.server_id,
                    "host_name": attachment.host_name,
                    "device": attachment.device,
                    "attached_at": isotime(attachment.attached_at),
                }
                for attachment in volume.attachments
            ],
            "bootable": "true" if volume.bootable else "false",
            "encrypted": False,
            "multiattach": False,
            "metadata": metadata,
            "snapshot_id": volume.snapshot_id,
            "source_volid": volume.source_volid,
            "user_id": volume.user_id,
            "volume_type": VOLUME_TYPE,
            "replication_status": None,
            "consistencygroup_id": None,
            "migration_status": None,
            "links": self._link(ctx, api, "volumes", volume.id),
        }
        if volume.image_metadata:
            body["volume_image_metadata"] = dict(volume.image_metadata)
        if ctx.is_admin:
            body["os-vol-tenant-attr:tenant_id"] = volume.project_id
            body["os-vol-host-attr:host"] = "reference-volume@lvm#lvm"
        return body

    def _snapshot(
        self, ctx: RequestContext, snapshot: Snapshot, *, extended: bool = True
    ) -> dict[str, Any]:
        """``extended``: the extension's attributes, in show and list; create and update
        answer without them (Tempest's schemas check both)."""
        body: dict[str, Any] = {
            "id": snapshot.id,
            "name": snapshot.name,
            "description": snapshot.description,
            "status": snapshot.status,
            "size": snapshot.size,
            "volume_id": snapshot.volume_id,
            "metadata": dict(snapshot.metadata),
            "created_at": isotime(snapshot.created),
            "updated_at": isotime(snapshot.updated),
            "os-extended-snapshot-attributes:progress": (
                "100%" if snapshot.status == "available" else "0%"
            ),
            "os-extended-snapshot-attributes:project_id": snapshot.project_id,
        }
        if not extended:
            body = {k: v for k, v in body.items() if not k.startswith("os-extended-")}
        return body

    # volumes --------------------------------------------------------------------------------
    def _sorted_page(
        self,
        ctx: RequestContext,
        request: Request,
        api: str,
        items: list[Any],
        kind: str,
        missing: Any,
    ) -> tuple[list[Any], dict[str, Any]]:
        sort = request.args.get("sort")
        keys: list[tuple[str, str]] = []
        if sort:
            for part in sort.split(","):
                key, _, direction = part.strip().partition(":")
                keys.append((key, direction or "desc"))
        else:
            keys.append(
                (request.args.get("sort_key", "created_at"), request.args.get("sort_dir", "desc"))
            )
        for key, direction in keys:
            if key not in SORT_KEYS:
                raise exceptions.bad_request(f"Invalid sort key: {key}")
            if direction not in ("asc", "desc"):
                raise exceptions.bad_request(f"Invalid sort direction: {direction}")
        for key, direction in reversed([*keys, ("id", keys[-1][1])]):
            attribute = {"created_at": "created", "updated_at": "updated"}.get(key, key)
            items.sort(
                key=lambda item, a=attribute: (
                    getattr(item, a) is None,
                    str(getattr(item, a)) if a != "size" else getattr(item, a),
                ),
                reverse=direction == "desc",
            )
        limit = parse_limit(request, exceptions.bad_request)
        page = paginate(
            items,
            limit=limit,
            marker=request.args.get("marker"),
            key=lambda item: item.id,
            marker_missing=missing,
        )
        links: dict[str, Any] = {}
        # Cinder links the next page whenever a page is full, even the last one
        if page.items and (page.has_more or (limit is not None and len(page.items) == limit)):
            params = {key: value for key, value in request.args.items() if key != "marker"}
            params["marker"] = page.items[-1].id
            href = f"{ctx.base_url}/volume/{api}/{kind}"
            if request.path.rstrip("/").endswith("/detail"):
                href += "/detail"
            links = {f"{kind}_links": [{"rel": "next", "href": f"{href}?{urlencode(params)}"}]}
        return page.items, links

    def list_volumes(
        self, ctx: RequestContext, request: Request, api: str, detail: bool = False
    ) -> Response:
        args = request.args
        volumes = self.model.list_volumes(ctx, all_projects=truthy(args.get("all_tenants")))
        with self.state.lock:
            for key in ("name", "status", "availability_zone"):
                if key in args:
                    volumes = [v for v in volumes if str(getattr(v, key)) == args[key]]
            if "bootable" in args:
                wanted = parse_bool(args["bootable"], "bootable")
                volumes = [v for v in volumes if v.bootable == wanted]
            if "metadata" in args:
                wanted_metadata = _metadata_filter(args["metadata"])
                volumes = [
                    v
                    for v in volumes
                    if all(v.metadata.get(k) == val for k, val in wanted_metadata.items())
                ]
            page, links = self._sorted_page(
                ctx,
                request,
                api,
                volumes,
                "volumes",
                lambda m: exceptions.CinderError(f"Marker {m} could not be found.", 400),
            )
            if detail:
                items = [self._volume(ctx, api, volume) for volume in page]
            else:
                items = [
                    {
                        "id": volume.id,
                        "name": volume.name,
                        "links": self._link(ctx, api, "volumes", volume.id),
                    }
                    for volume in page
                ]
        return json_response({"volumes": items, **links})

    def get_volume(self, ctx: RequestContext, request: Request, api: str, volume_id: str):
        with self.state.lock:
            volume = copy_volume(self.model.get_volume(ctx, volume_id))
        return json_response({"volume": self._volume(ctx, api, volume)})

    def create_volume(self, ctx: RequestContext, request: Request, api: str) -> Response:
        body = json_body(request, exceptions.bad_request)
        if not isinstance(body.get("volume"), dict):
            raise exceptions.bad_request("Missing required element 'volume' in request body.")
        with self.state.lock:
            volume = copy_volume(self.model.create_volume(ctx, body["volume"]))
            rendered = self._volume(ctx, api, volume)
        # Cinder copies an image's metadata once the volume is built, not in this answer
        rendered.pop("volume_image_metadata", None)
        return json_response({"volume": rendered}, status=202)

    def update_volume(self, ctx: RequestContext, request: Request, api: str, volume_id: str):
        body = json_body(request, exceptions.bad_request)
        if "volume" not in body:
            raise exceptions.bad_request("Missing required element 'volume' in request body.")
        with self.state.lock:
            volume = copy_volume(self.model.update_volume(ctx, volume_id, body["volume"]))
            rendered = self._volume(ctx, api, volume)
        rendered.pop("volume_image_metadata", None)  # as Cinder's update answers
        return json_response({"volume": rendered})

    def delete_volume(self, ctx: RequestContext, request: Request, api: str, volume_id: str):
        self.model.delete_volume(ctx, volume_id, cascade=truthy(request.args.get("cascade")))
        return empty_response(202)

    # metadata -------------------------------------------------------------------------------
    def get_metadata(self, ctx: RequestContext, request: Request, api: str, volume_id: str):
        with self.state.lock:
            return json_response({"metadata": dict(self.model.get_volume(ctx, volume_id).metadata)})

    def set_metadata(self, ctx: RequestContext, request: Request, api: str, volume_id: str):
        body = json_body(request, exceptions.bad_request)
        if "metadata" not in body:
            raise exceptions.bad_request("Malformed request body: 'metadata' is required.")
        replace = request.method == "PUT"
        metadata = self.model.set_metadata(ctx, volume_id, body["metadata"], replace=replace)
        return json_response({"metadata": metadata})

    def get_metadata_item(
        self, ctx: RequestContext, request: Request, api: str, volume_id: str, key: str
    ) -> Response:
        with self.state.lock:
            metadata = self.model.get_volume(ctx, volume_id).metadata
            if key not in metadata:
                raise exceptions.CinderError(f"Metadata item was not found: {key}", 404)
            return json_response({"meta": {key: metadata[key]}})

    def set_metadata_item(
        self, ctx: RequestContext, request: Request, api: str, volume_id: str, key: str
    ) -> Response:
        body = json_body(request, exceptions.bad_request)
        meta = body.get("meta")
        if not isinstance(meta, dict) or len(meta) != 1:
            raise exceptions.bad_request("Request body contains too many items.")
        if key not in meta:
            raise exceptions.bad_request("Request body and URI mismatch.")
        self.model.set_metadata(ctx, volume_id, meta, replace=False)
        return json_response({"meta": meta})

    def delete_metadata_item(
        self, ctx: RequestContext, request: Request, api: str, volume_id: str, key: str
    ) -> Response:
        self.model.delete_metadata_item(ctx, volume_id, key)
        return empty_response(200)

    # actions --------------------------------------------------------------------------------
    def volume_action(self, ctx: RequestContext, request: Request, api: str, volume_id: str):
        body = json_body(request, exceptions.bad_request)
        if len(body) != 1:
            raise exceptions.bad_request("Exactly one action must be given.")
        action, argument = next(iter(body.items()))
        argument = argument if isinstance(argument, dict) else {}
        model = self.model
        if action == "os-reserve":
            model.reserve(ctx, volume_id)
        elif action == "os-unreserve":
            model.unreserve(ctx, volume_id)
        elif action == "os-update_readonly_flag":
            if "readonly" not in argument:
                raise exceptions.bad_request("Must specify readonly in request.")
            model.set_read_only(ctx, volume_id, argument["readonly"])
        elif action == "os-extend":
            model.extend(ctx, volume_id, argument.get("new_size"))
        elif action == "os-attach":
            model.cinder_attach(
                ctx, volume_id, argument.get("instance_uuid"), argument.get("mountpoint")
            )
        elif action == "os-set_bootable":
            if "bootable" not in argument:
                raise exceptions.bad_request("Must specify bootable in request.")
            model.set_bootable(ctx, volume_id, argument["bootable"])
            return empty_response(200)
        elif action == "os-detach":
            model.cinder_detach(ctx, volume_id, argument.get("attachment_id"))
        elif action == "os-volume_upload_image":
            with self.state.lock:
                result = model.upload_to_image(ctx, volume_id, argument)
                result["updated_at"] = isotime(result["updated_at"])
            return json_response({"os-volume_upload_image": result}, status=202)
        else:
            raise exceptions.bad_request(f"There is no such action: {action}")
        return empty_response(202)

    # snapshots ------------------------------------------------------------------------------
    def list_snapshots(
        self, ctx: RequestContext, request: Request, api: str, detail: bool = False
    ) -> Response:
        args = request.args
        snapshots = self.model.list_snapshots(ctx, all_projects=truthy(args.get("all_tenants")))
        with self.state.lock:
            for key in ("name", "status", "volume_id"):
                if key in args:
                    snapshots = [s for s in snapshots if str(getattr(s, key)) == args[key]]
            page, links = self._sorted_page(
                ctx,
                request,
                api,
                snapshots,
                "snapshots",
                lambda m: exceptions.CinderError(f"Marker {m} could not be found.", 400),
            )
            items = [self._snapshot(ctx, snapshot) for snapshot in page]
            if not detail:
                keep = ("id", "name", "description", "status", "size", "volume_id", "metadata")
                keep += ("created_at", "updated_at")
                items = [{key: item[key] for key in keep} for item in items]
        return json_response({"snapshots": items, **links})

    def get_snapshot(self, ctx: RequestContext, request: Request, api: str, snapshot_id: str):
        with self.state.lock:
            snapshot = self.model.get_snapshot(ctx, snapshot_id)
            return json_response({"snapshot": self._snapshot(ctx, snapshot)})

    def create_snapshot(self, ctx: RequestContext, request: Request, api: str) -> Response:
        body = json_body(request, exceptions.bad_request)
        if not isinstance(body.get("snapshot"), dict):
            raise exceptions.bad_request("Missing required element 'snapshot' in request body.")
        with self.state.lock:
            snapshot = self.model.create_snapshot(ctx, body["snapshot"])
            return json_response(
                {"snapshot": self._snapshot(ctx, snapshot, extended=False)}, status=202
            )

    def update_snapshot(self, ctx: RequestContext, request: Request, api: str, snapshot_id: str):
        body = json_body(request, exceptions.bad_request)
        with self.state.lock:
            snapshot = self.model.update_snapshot(ctx, snapshot_id, body.get("snapshot"))
            return json_response({"snapshot": self._snapshot(ctx, snapshot, extended=False)})

    def delete_snapshot(self, ctx: RequestContext, request: Request, api: str, snapshot_id: str):
        self.model.delete_snapshot(ctx, snapshot_id)
        return empty_response(202)

    def get_snapshot_metadata(
        self, ctx: RequestContext, request: Request, api: str, snapshot_id: str
    ) -> Response:
        with self.state.lock:
            snapshot = self.model.get_snapshot(ctx, snapshot_id)
            return json_response({"metadata": dict(snapshot.metadata)})

    def set_snapshot_metadata(
        self, ctx: RequestContext, request: Request, api: str, snapshot_id: str
    ) -> Response:
        body = json_body(request, exceptions.bad_request)
        metadata = self.model.set_snapshot_metadata(
            ctx, snapshot_id, body.get("metadata"), replace=request.method == "PUT"
        )
        return json_response({"metadata": metadata})

    def get_snapshot_metadata_item(
        self, ctx: RequestContext, request: Request, api: str, snapshot_id: str, key: str
    ) -> Response:
        with self.state.lock:
            metadata = self.model.get_snapshot(ctx, snapshot_id).metadata
            if key not in metadata:
                raise exceptions.CinderError(f"Metadata item was not found: {key}", 404)
            return json_response({"meta": {key: metadata[key]}})

    def set_snapshot_metadata_item(
        self, ctx: RequestContext, request: Request, api: str, snapshot_id: str, key: str
    ) -> Response:
        meta = json_body(request, exceptions.bad_request).get("meta")
        if not isinstance(meta, dict) or len(meta) != 1:
            raise exceptions.bad_request("Request body contains too many items.")
        if key not in meta:
            raise exceptions.bad_request("Request body and URI mismatch.")
        self.model.set_snapshot_metadata(ctx, snapshot_id, meta, replace=False)
        return json_response({"meta": meta})

    def delete_snapshot_metadata_item(
        self, ctx: RequestContext, request: Request, api: str, snapshot_id: str, key: str
    ) -> Response:
        with self.state.lock:
            snapshot = self.model.get_snapshot(ctx, snapshot_id)
            if key not in snapshot.metadata:
                raise exceptions.CinderError(f"Metadata item was not found: {key}", 404)
            remaining = {k: v for k, v in snapshot.metadata.items() if k != key}
            self.model.set_snapshot_metadata(ctx, snapshot_id, remaining, replace=True)
        return empty_response(200)

    # zones, extensions, quotas, limits -------------------------------------------------------
    def availability_zones(self, ctx: RequestContext, request: Request, api: str) -> Response:
        zones = [{"zoneName": "nova", "zoneState": {"available": True}}]
        return json_response({"availabilityZoneInfo": zones})

    def extensions(self, ctx: RequestContext, request: Request, api: str) -> Response:
        items = [
            {
                "alias": alias,
                "name": name,
                "description": description,
                "namespace": f"https://docs.openstack.org/volume/ext/{alias}/api/v1",
                "updated": "2013-01-01T00:00:00+00:00",
                "links": [],
            }
            for alias, name, description in EXTENSIONS
        ]
        return json_response({"extensions": items})

    def _check_project(self, ctx: RequestContext, project_id: str) -> None:
        if not ctx.is_admin and project_id != ctx.project_id:
            raise exceptions.forbidden("Policy doesn't allow volume_extension:quotas:show.")

    def get_quotas(self, ctx: RequestContext, request: Request, api: str, target: str):
        self._check_project(ctx, target)
        limits = self.model.quota_limits(target)
        if truthy(request.args.get("usage")):
            usage = self.model.quota_usage(target)
            quota_set: dict[str, Any] = {
                key: {"limit": limits[key], "in_use": usage[key], "reserved": 0, "allocated": 0}
                for key in DEFAULT_QUOTAS
            }
        else:
            quota_set = dict(limits)
        return json_response({"quota_set": {"id": target, **quota_set}})

    def get_quota_defaults(self, ctx: RequestContext, request: Request, api: str, target: str):
        self._check_project(ctx, target)
        return json_response({"quota_set": {"id": target, **self.model.default_quotas}})

    def update_quotas(self, ctx: RequestContext, request: Request, api: str, target: str):
        body = json_body(request, exceptions.bad_request)
        self.model.set_quotas(ctx, target, body.get("quota_set"))
        return json_response({"quota_set": self.model.quota_limits(target)})

    def limits(self, ctx: RequestContext, request: Request, api: str) -> Response:
        limits = self.model.quota_limits(ctx.project_id)
        usage = self.model.quota_usage(ctx.project_id)
        absolute = {
            "maxTotalVolumes": limits["volumes"],
            "maxTotalSnapshots": limits["snapshots"],
            "maxTotalVolumeGigabytes": limits["gigabytes"],
            "totalVolumesUsed": usage["volumes"],
            "totalSnapshotsUsed": usage["snapshots"],
            "totalGigabytesUsed": usage["gigabytes"],
        }
        return json_response({"limits": {"rate": [], "absolute": absolute}})
