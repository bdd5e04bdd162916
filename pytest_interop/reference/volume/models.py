"""Cinder's state and rules: volumes, snapshots, quotas, and attachments made through Nova.

A volume's *content* is kept as bytes (an image's data when made from one, a copy of its source
when cloned or restored from a snapshot, empty when blank), so that an upload to an image shows
what the volume carried. Status changes that take time on a real cloud (creating, attaching,
deleting, uploading) finish on the scheduler after the fault settings' ``action_delay``.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from pytest_interop.reference.core.wire import RequestContext, utc_now
from pytest_interop.reference.volume import exceptions

if TYPE_CHECKING:
    from pytest_interop.reference.state import CloudState

GIB = 1024**3
# Cinder's defaults are 10 volumes and 10 snapshots; the reference cloud allows more so that
# parallel test workers (each test holds up to three volumes) do not run into each other.
DEFAULT_QUOTAS = {"volumes": 40, "gigabytes": 1000, "snapshots": 40}
AVAILABILITY_ZONE = "nova"
VOLUME_TYPE = "lvmdriver-1"
VOLUME_TYPE_ID = "2f2ec3b5-5e04-4c3c-8b34-8b26c7b3e1a1"  # the only type, by id
MAX_NAME = 255
MAX_METADATA_ITEMS = 128
DELETABLE = ("available", "error", "error_restoring", "error_extending")
# Image properties that are not copied into a volume's image metadata (Glance's own fields).
IMAGE_FIELDS_NOT_COPIED = frozenset(
    {"file", "self", "schema", "locations", "direct_url", "owner", "tags", "status", "visibility"}
    | {"created_at", "updated_at", "protected", "os_hidden", "os_hash_algo", "os_hash_value"}
)
IMAGE_METADATA_NOT_UPLOADED = frozenset(
    {"image_id", "image_name", "checksum", "size", "container_format", "disk_format"}
    | {"min_disk", "min_ram", "virtual_size", "id", "name"}
)


@dataclass
class Attachment:
    attachment_id: str
    server_id: str | None
    device: str
    attached_at: dt.datetime
    host_name: str | None = None
    mode: str = "rw"
    through_nova: bool = False  # made by Nova's attach (else by Cinder's os-attach)


@dataclass
class Volume:
    id: str
    project_id: str
    user_id: str
    size: int
    name: str | None
    description: str | None
    created: dt.datetime
    updated: dt.datetime
    status: str = "creating"
    availability_zone: str = AVAILABILITY_ZONE
    metadata: dict[str, str] = field(default_factory=dict)
    image_metadata: dict[str, str] = field(default_factory=dict)
    bootable: bool = False
    data: bytes = b""
    snapshot_id: str | None = None
    source_volid: str | None = None
    read_only: bool | None = None  # None until the flag was ever set
    attachments: list[Attachment] = field(default_factory=list)


@dataclass
class Snapshot:
    id: str
    project_id: str
    volume_id: str
    size: int
    name: str | None
    description: str | None
    created: dt.datetime
    updated: dt.datetime
    status: str = "creating"
    metadata: dict[str, str] = field(default_factory=dict)
    data: bytes = b""
    bootable: bool = False
    image_metadata: dict[str, str] = field(default_factory=dict)


def _check_text(value: Any, field_name: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or len(value) > MAX_NAME:
        raise exceptions.bad_request(f"Invalid input for field/attribute {field_name}.")
    return value


def check_metadata(metadata: Any) -> dict[str, str]:
    if not isinstance(metadata, dict):
        raise exceptions.bad_request("Malformed request body: metadata must be an object.")
    if len(metadata) > MAX_METADATA_ITEMS:
        raise exceptions.bad_request("Maximum number of metadata items exceeds 128.")
    for key, value in metadata.items():
        if not isinstance(key, str) or not key or len(key) > 255:
            raise exceptions.bad_request("Metadata property key blank or longer than 255.")
        if not isinstance(value, str) or len(value) > 255:
            raise exceptions.bad_request(
                f"Metadata property value for {key[:40]} must be a string of at most 255."
            )
    return dict(metadata)


def _positive_int(value: Any, field_name: str) -> int:
    if isinstance(value, bool):
        raise exceptions.bad_request(f"Invalid input for field/attribute {field_name}.")
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise exceptions.bad_request(
            f"Invalid input for field/attribute {field_name}. Value: {value}."
        ) from None
    if number < 1 or str(number) != str(value).strip():
        raise exceptions.bad_request(
            f"Invalid input for field/attribute {field_name}. Value: {value}. "
            f"{value} is less than the minimum of 1"
        )
    return number


def parse_bool(value: Any, field_name: str) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false", "1", "0"):
        return value.strip().lower() in ("true", "1")
    raise exceptions.bad_request(f"Invalid value for '{field_name}': {value!r}; expected a boolean")


class VolumeModel:
    def __init__(self, state: CloudState) -> None:
        self.state = state
        self.volumes: dict[str, Volume] = {}
        self.snapshots: dict[str, Snapshot] = {}
        self.default_quotas: dict[str, int] = dict(DEFAULT_QUOTAS)
        self.project_quotas: dict[str, dict[str, int]] = {}

    # plumbing ---------------------------------------------------------------------------
    def _later(self, task: Callable[[], None]) -> None:
        def run() -> None:
            with self.state.lock:
                task()

        self.state.scheduler.call_later(self.state.faults.settings.action_delay, run)

    @staticmethod
    def _visible(ctx: RequestContext, project_id: str) -> bool:
        return ctx.is_admin or project_id == ctx.project_id

    @staticmethod
    def _touch(item: Volume | Snapshot) -> None:
        item.updated = utc_now()

    # quotas -----------------------------------------------------------------------------
    def quota_limits(self, project_id: str) -> dict[str, int]:
        with self.state.lock:
            return {**self.default_quotas, **self.project_quotas.get(project_id, {})}

    def quota_usage(self, project_id: str) -> dict[str, int]:
        with self.state.lock:
            volumes = [v for v in self.volumes.values() if v.project_id == project_id]
            snapshots = [s for s in self.snapshots.values() if s.project_id == project_id]
            return {
                "volumes": len(volumes),
                "snapshots": len(snapshots),
                "gigabytes": sum(v.size for v in volumes) + sum(s.size for s in snapshots),
            }

    def set_quotas(self, ctx: RequestContext, project_id: str, values: Any) -> None:
        if not ctx.is_admin:
            raise exceptions.forbidden("Policy doesn't allow volume_extension:quotas:update.")
        if not isinstance(values, dict):
            raise exceptions.bad_request("Malformed request body: quota_set must be an object.")
        changes: dict[str, int] = {}
        for key, value in values.items():
            if key in ("id", "tenant_id"):
                continue
            if key not in DEFAULT_QUOTAS:
                raise exceptions.bad_request(f"Bad key(s) in quota set: {key}")
            try:
                number = int(value)
            except (TypeError, ValueError):
                raise exceptions.bad_request(f"Quota {key} must be an integer.") from None
            if number < -1:
                raise exceptions.bad_request(f"Quota {key} must be -1 or greater.")
            changes[key] = number
        with self.state.lock:
            self.project_quotas.setdefault(project_id, {}).update(changes)

    def _check_quota(self, project_id: str, **wanted: int) -> None:
        limits = self.quota_limits(project_id)
        usage = self.quota_usage(project_id)
        for resource, requested in wanted.items():
            limit = limits[resource]
            if requested and limit >= 0 and usage[resource] + requested > limit:
                raise exceptions.over_quota(resource, requested, usage[resource], limit)

    # volumes ----------------------------------------------------------------------------
    def get_volume(self, ctx: RequestContext, volume_id: str) -> Volume:
        with self.state.lock:
            volume = self.volumes.get(volume_id)
            if volume is None or not self._visible(ctx, volume.project_id):
                raise exceptions.volume_not_found(volume_id)
            return volume

    def list_volumes(self, ctx: RequestContext, *, all_projects: bool = False) -> list[Volume]:
        with self.state.lock:
            return [
                volume
                for volume in self.volumes.values()
                if volume.project_id == ctx.project_id or (ctx.is_admin and all_projects)
            ]

    def create_volume(self, ctx: RequestContext, body: dict[str, Any]) -> Volume:
        wanted_type = body.get("volume_type")
        if wanted_type not in (None, "", VOLUME_TYPE, VOLUME_TYPE_ID):
            raise exceptions.CinderError(f"Volume type {wanted_type} could not be found.", 404)
        sources = [key for key in ("imageRef", "snapshot_id", "source_volid") if body.get(key)]
        if len(sources) > 1:
            raise exceptions.bad_request(
                "Only one of imageRef, snapshot_id or source_volid may be given."
            )
        metadata = check_metadata(body.get("metadata") or {})
        name = _check_text(body.get("name", body.get("display_name")), "name")
        description = _check_text(
            body.get("description", body.get("display_description")), "description"
        )
        zone = body.get("availability_zone") or AVAILABILITY_ZONE
        if zone != AVAILABILITY_ZONE:
            raise exceptions.bad_request(f"Availability zone '{zone}' is invalid.")
        with self.state.lock:
            data, bootable, image_metadata = b"", False, {}
            snapshot_id = source_volid = None
            minimum = 1
            if "imageRef" in sources:
                image = self.state.image.get(ctx, str(body["imageRef"]))
                if image["status"] != "active":
                    raise exceptions.bad_request(
                        f"Image {image['id']} is not active (status {image['status']})."
                    )
                data = self.state.image.data.get(image["id"], b"")
                minimum = max(1, math.ceil(len(data) / GIB), int(image.get("min_disk") or 0))
                bootable = True
                image_metadata = {
                    key: str(value)
                    for key, value in image.items()
                    if key not in IMAGE_FIELDS_NOT_COPIED and value is not None
                }
                image_metadata["image_id"] = image["id"]
                image_metadata["image_name"] = str(image.get("name") or "")
            elif "snapshot_id" in sources:
                snapshot = self.get_snapshot(ctx, str(body["snapshot_id"]))
                if snapshot.status != "available":
                    raise exceptions.bad_request(
                        f"Invalid snapshot: Originating snapshot status must be one of "
                        f"'available' values (status {snapshot.status})."
                    )
                data, bootable = snapshot.data, snapshot.bootable
                image_metadata = dict(snapshot.image_metadata)
                minimum, snapshot_id = snapshot.size, snapshot.id
            elif "source_volid" in sources:
                source = self.get_volume(ctx, str(body["source_volid"]))
                if source.status not in ("available", "in-use"):
                    raise exceptions.invalid_volume(
                        f"Volume {source.id} status must be available or in-use, but current "
                        f"status is: {source.status}."
                    )
                data, bootable = source.data, source.bootable
                image_metadata = dict(source.image_metadata)
                minimum, source_volid = source.size, source.id
            if body.get("size") is None and sources:
                size = minimum
            else:
                size = _positive_int(body.get("size"), "size")
            if size < minimum:
                raise exceptions.bad_request(
                    f"Invalid input received: Volume size {size}GB cannot be smaller than the "
                    f"{'image' if 'imageRef' in sources else 'source'} size {minimum}GB."
                )
            self._check_quota(ctx.project_id, volumes=1, gigabytes=size)
            now = utc_now()
            volume = Volume(
                id=str(uuid.uuid4()),
                project_id=ctx.project_id,
                user_id=ctx.user_id,
                size=size,
                name=name,
                description=description,
                created=now,
                updated=now,
                metadata=metadata,
                image_metadata=image_metadata,
                bootable=bootable,
                data=data,
                snapshot_id=snapshot_id,
                source_volid=source_volid,
            )
            self.volumes[volume.id] = volume
            self._later(lambda: self._set_status(volume.id, "creating", "available"))
            return volume

    def _set_status(self, volume_id: str, expected: str, status: str) -> None:
        volume = self.volumes.get(volume_id)
        if volume is not None and volume.status == expected:
            volume.status = status
            self._touch(volume)

    def update_volume(self, ctx: RequestContext, volume_id: str, body: Any) -> Volume:
        if not isinstance(body, dict):
            raise exceptions.bad_request("Malformed request body: volume must be an object.")
        allowed = {"name", "description", "display_name", "display_description", "metadata"}
        unknown = set(body) - allowed
        if unknown:
            raise exceptions.bad_request(
                f"Additional properties are not allowed ({', '.join(sorted(unknown))})."
            )
        with self.state.lock:
            volume = self.get_volume(ctx, volume_id)
            if "name" in body or "display_name" in body:
                volume.name = _check_text(body.get("name", body.get("display_name")), "name")
            if "description" in body or "display_description" in body:
                volume.description = _check_text(
                    body.get("description", body.get("display_description")), "description"
                )
            if "metadata" in body:
                volume.metadata = check_metadata(body["metadata"])
            self._touch(volume)
            return volume

    def delete_volume(self, ctx: RequestContext, volume_id: str, *, cascade: bool = False) -> None:
        with self.state.lock:
            volume = self.get_volume(ctx, volume_id)
            if volume.status not in DELETABLE:
                raise exceptions.invalid_volume(
                    f"Volume status must be available or error or error_restoring or "
                    f"error_extending or error_managing and must not be migrating, attached, "
                    f"belong to a group, have snapshots or be disassociated from snapshots "
                    f"after volume transfer (status {volume.status})."
                )
            dependent = [s for s in self.snapshots.values() if s.volume_id == volume.id]
            if dependent and not cascade:
                raise exceptions.invalid_volume(
                    f"Volume {volume.id} still has {len(dependent)} dependent snapshots."
                )
            for snapshot in dependent:
                snapshot.status = "deleting"
            volume.status = "deleting"
            self._touch(volume)

            def finish() -> None:
                for snapshot in dependent:
                    self.snapshots.pop(snapshot.id, None)
                self.volumes.pop(volume.id, None)

            self._later(finish)

    def set_metadata(
        self, ctx: RequestContext, volume_id: str, metadata: Any, *, replace: bool
    ) -> dict[str, str]:
        checked = check_metadata(metadata)
        with self.state.lock:
            volume = self.get_volume(ctx, volume_id)
            merged = checked if replace else {**volume.metadata, **checked}
            volume.metadata = check_metadata(merged)
            self._touch(volume)
            return dict(volume.metadata)

    def delete_metadata_item(self, ctx: RequestContext, volume_id: str, key: str) -> None:
        with self.state.lock:
            volume = self.get_volume(ctx, volume_id)
            if key not in volume.metadata:
                raise exceptions.CinderError(f"Metadata item was not found: {key}", 404)
            del volume.metadata[key]
            self._touch(volume)

    # volume actions ---------------------------------------------------------------------
    def _require(self, volume: Volume, allowed: tuple[str, ...], action: str) -> None:
        if volume.status not in allowed:
            raise exceptions.invalid_volume(
                f"Volume status must be {' or '.join(allowed)} to {action}, but current status "
                f"is: {volume.status}."
            )

    def reserve(self, ctx: RequestContext, volume_id: str) -> None:
        with self.state.lock:
            volume = self.get_volume(ctx, volume_id)
            self._require(volume, ("available",), "reserve")
            volume.status = "attaching"
            self._touch(volume)

    def unreserve(self, ctx: RequestContext, volume_id: str) -> None:
        with self.state.lock:
            volume = self.get_volume(ctx, volume_id)
            if volume.status == "attaching":
                volume.status = "in-use" if volume.attachments else "available"
                self._touch(volume)

    def set_read_only(self, ctx: RequestContext, volume_id: str, value: Any) -> None:
        read_only = parse_bool(value, "readonly")
        with self.state.lock:
            volume = self.get_volume(ctx, volume_id)
            self._require(volume, ("available",), "update the readonly flag")
            volume.read_only = read_only
            self._touch(volume)

    def extend(self, ctx: RequestContext, volume_id: str, new_size: Any) -> None:
        size = _positive_int(new_size, "new_size")
        with self.state.lock:
            volume = self.get_volume(ctx, volume_id)
            self._require(volume, ("available",), "extend")
            if size <= volume.size:
                raise exceptions.bad_request(
                    f"New size for extend must be greater than current size. (current: "
                    f"{volume.size}, extended: {size})."
                )
            self._check_quota(volume.project_id, gigabytes=size - volume.size)
            volume.status = "extending"
            volume.size = size

            def finish() -> None:
                self._set_status(volume.id, "extending", "available")

            self._later(finish)

    def set_bootable(self, ctx: RequestContext, volume_id: str, bootable: Any) -> None:
        flag = parse_bool(bootable, "bootable")
        with self.state.lock:
            volume = self.get_volume(ctx, volume_id)
            volume.bootable = flag
            self._touch(volume)

    def cinder_attach(
        self, ctx: RequestContext, volume_id: str, server_id: str | None, mountpoint: Any
    ) -> None:
        """``os-attach``: Cinder's record of an attachment, made by whoever attached it."""
        if not isinstance(mountpoint, str) or not mountpoint.startswith("/"):
            raise exceptions.bad_request("Invalid input: mountpoint must be a device path.")
        with self.state.lock:
            volume = self.get_volume(ctx, volume_id)
            self._require(volume, ("available", "attaching"), "attach")
            volume.attachments.append(
                Attachment(
                    str(uuid.uuid4()),
                    server_id,
                    mountpoint,
                    utc_now(),
                    mode="ro" if volume.read_only else "rw",
                )
            )
            volume.status = "in-use"
            self._touch(volume)

    def cinder_detach(self, ctx: RequestContext, volume_id: str, attachment_id: Any) -> None:
        with self.state.lock:
            volume = self.get_volume(ctx, volume_id)
            if not volume.attachments:
                raise exceptions.invalid_volume("Volume is not attached.")
            keep = [a for a in volume.attachments if attachment_id not in (None, a.attachment_id)]
            if len(keep) == len(volume.attachments):
                raise exceptions.invalid_volume(f"Attachment {attachment_id} not found.")
            for attachment in volume.attachments:
                if attachment not in keep and attachment.through_nova:
                    raise exceptions.invalid_volume(
                        "Volume is attached to a server through Nova; detach it there."
                    )
            volume.attachments = keep
            volume.status = "in-use" if keep else "available"
            self._touch(volume)

    def _nova_servers(self) -> set[str]:
        return set(self.state.compute.servers)

    def upload_to_image(self, ctx: RequestContext, volume_id: str, body: Any) -> dict[str, Any]:
        if not isinstance(body, dict):
            raise exceptions.bad_request("Malformed request body.")
        image_name = body.get("image_name")
        if not isinstance(image_name, str) or not image_name:
            raise exceptions.bad_request("No image_name was specified in request.")
        force = parse_bool(body.get("force", False), "force")
        disk_format = body.get("disk_format") or "raw"
        container_format = body.get("container_format") or "bare"
        with self.state.lock:
            volume = self.get_volume(ctx, volume_id)
            allowed = ("available", "in-use") if force else ("available",)
            self._require(volume, allowed, "upload to an image")
            properties: dict[str, Any] = {
                key: value
                for key, value in volume.image_metadata.items()
                if key not in IMAGE_METADATA_NOT_UPLOADED
            }
            properties.update(
                name=image_name,
                disk_format=disk_format,
                container_format=container_format,
                visibility=body.get("visibility", "private"),
                protected=parse_bool(body.get("protected", False), "protected"),
                min_disk=volume.size,
            )
            image = self.state.image.create(ctx, properties)
            previous, data = volume.status, volume.data
            volume.status = "uploading"
            self._touch(volume)

            def finish() -> None:
                if image["id"] in self.state.image.images:
                    self.state.image.upload(ctx, image["id"], data)
                self._set_status(volume.id, "uploading", previous)

            self._later(finish)
            return {
                "id": volume.id,
                "updated_at": volume.updated,
                "status": "uploading",
                "display_description": volume.description,
                "size": volume.size,
                "volume_type": {"name": VOLUME_TYPE},
                "image_id": image["id"],
                "container_format": container_format,
                "disk_format": disk_format,
                "image_name": image_name,
            }

    # attachments made through Nova --------------------------------------------------------
    def attachments_of(self, server_id: str) -> list[tuple[Volume, Attachment]]:
        with self.state.lock:
            return [
                (volume, attachment)
                for volume in self.volumes.values()
                for attachment in volume.attachments
                if attachment.server_id == server_id
            ]

    def next_device(self, server_id: str) -> str:
        used = {attachment.device for _, attachment in self.attachments_of(server_id)}
        for letter in "bcdefghijklmnopqrstuvwxyz":
            if f"/dev/vd{letter}" not in used:
                return f"/dev/vd{letter}"
        raise exceptions.bad_request("No free device name left on the server.")

    def begin_nova_attach(
        self, ctx: RequestContext, server_id: str, volume_id: str, device: Any
    ) -> tuple[Volume, str]:
        """Reserve the volume for the server; the caller finishes with ``finish_nova_attach``."""
        with self.state.lock:
            volume = self.get_volume(ctx, volume_id)
            if any(a.server_id == server_id for a in volume.attachments):
                raise exceptions.CinderError(
                    f"volume {volume_id} is already attached to the instance {server_id}", 409
                )
            self._require(volume, ("available",), "attach")
            if device is None or device == "":
                chosen = self.next_device(server_id)
            elif not isinstance(device, str) or not device.startswith("/dev/"):
                raise exceptions.bad_request(f"The supplied device path ({device}) is invalid.")
            else:
                chosen = device
                if chosen in {a.device for _, a in self.attachments_of(server_id)}:
                    raise exceptions.bad_request(f"The supplied device path ({chosen}) is in use.")
            volume.status = "attaching"
            self._touch(volume)
            return volume, chosen

    def finish_nova_attach(self, volume_id: str, server_id: str, device: str) -> None:
        with self.state.lock:
            volume = self.volumes.get(volume_id)
            if volume is None or volume.status != "attaching":
                return
            volume.attachments.append(
                Attachment(
                    str(uuid.uuid4()),
                    server_id,
                    device,
                    utc_now(),
                    host_name="reference-compute",
                    mode="ro" if volume.read_only else "rw",
                    through_nova=True,
                )
            )
            volume.status = "in-use"
            self._touch(volume)

    def begin_nova_detach(self, ctx: RequestContext, server_id: str, volume_id: str) -> Attachment:
        with self.state.lock:
            volume = self.get_volume(ctx, volume_id)
            for attachment in volume.attachments:
                if attachment.server_id == server_id:
                    break
            else:
                raise exceptions.CinderError(
                    f"Volume {volume_id} is not attached to server {server_id}", 404
                )
            self._require(volume, ("in-use",), "detach")
            volume.status = "detaching"
            self._touch(volume)
            return attachment

    def finish_nova_detach(self, volume_id: str, server_id: str) -> None:
        with self.state.lock:
            volume = self.volumes.get(volume_id)
            if volume is None:
                return
            volume.attachments = [a for a in volume.attachments if a.server_id != server_id]
            volume.status = "in-use" if volume.attachments else "available"
            self._touch(volume)

    def server_deleted(self, server_id: str) -> None:
        """A deleted server lets go of its volumes, as Nova does on delete."""
        for volume, _ in self.attachments_of(server_id):
            self.finish_nova_detach(volume.id, server_id)

    # snapshots --------------------------------------------------------------------------
    def get_snapshot(self, ctx: RequestContext, snapshot_id: str) -> Snapshot:
        with self.state.lock:
            snapshot = self.snapshots.get(snapshot_id)
            if snapshot is None or not self._visible(ctx, snapshot.project_id):
                raise exceptions.snapshot_not_found(snapshot_id)
            return snapshot

    def list_snapshots(self, ctx: RequestContext, *, all_projects: bool = False) -> list[Snapshot]:
        with self.state.lock:
            return [
                snapshot
                for snapshot in self.snapshots.values()
                if snapshot.project_id == ctx.project_id or (ctx.is_admin and all_projects)
            ]

    def create_snapshot(self, ctx: RequestContext, body: dict[str, Any]) -> Snapshot:
        volume_id = body.get("volume_id")
        if "volume_id" in body and volume_id is None:  # null: looked up, and not found
            raise exceptions.volume_not_found("None")
        if not isinstance(volume_id, str) or not volume_id:
            raise exceptions.bad_request("Invalid input: 'volume_id' is a required property.")
        force = parse_bool(body.get("force", False), "force")
        metadata = check_metadata(body.get("metadata") or {})
        name = _check_text(body.get("name", body.get("display_name")), "name")
        description = _check_text(
            body.get("description", body.get("display_description")), "description"
        )
        with self.state.lock:
            volume = self.get_volume(ctx, volume_id)
            allowed = ("available", "in-use") if force else ("available",)
            self._require(volume, allowed, "snapshot")
            self._check_quota(ctx.project_id, snapshots=1, gigabytes=volume.size)
            now = utc_now()
            snapshot = Snapshot(
                id=str(uuid.uuid4()),
                project_id=ctx.project_id,
                volume_id=volume.id,
                size=volume.size,
                name=name,
                description=description,
                created=now,
                updated=now,
                metadata=metadata,
                data=volume.data,
                bootable=volume.bootable,
                image_metadata=dict(volume.image_metadata),
            )
            self.snapshots[snapshot.id] = snapshot

            def finish() -> None:
                if snapshot.status == "creating":
                    snapshot.status = "available"
                    self._touch(snapshot)

            self._later(finish)
            return snapshot

    def update_snapshot(self, ctx: RequestContext, snapshot_id: str, body: Any) -> Snapshot:
        if not isinstance(body, dict):
            raise exceptions.bad_request("Malformed request body: snapshot must be an object.")
        with self.state.lock:
            snapshot = self.get_snapshot(ctx, snapshot_id)
            if "name" in body or "display_name" in body:
                snapshot.name = _check_text(body.get("name", body.get("display_name")), "name")
            if "description" in body or "display_description" in body:
                snapshot.description = _check_text(
                    body.get("description", body.get("display_description")), "description"
                )
            self._touch(snapshot)
            return snapshot

    def set_snapshot_metadata(
        self, ctx: RequestContext, snapshot_id: str, metadata: Any, *, replace: bool
    ) -> dict[str, str]:
        checked = check_metadata(metadata)
        with self.state.lock:
            snapshot = self.get_snapshot(ctx, snapshot_id)
            snapshot.metadata = checked if replace else {**snapshot.metadata, **checked}
            self._touch(snapshot)
            return dict(snapshot.metadata)

    def delete_snapshot(self, ctx: RequestContext, snapshot_id: str) -> None:
        with self.state.lock:
            snapshot = self.get_snapshot(ctx, snapshot_id)
            if snapshot.status not in ("available", "error"):
                raise exceptions.bad_request(
                    f"Invalid snapshot: Snapshot status must be available or error "
                    f"(status {snapshot.status})."
                )
            snapshot.status = "deleting"
            self._touch(snapshot)
            self._later(lambda: self.snapshots.pop(snapshot.id, None))

    # counters -----------------------------------------------------------------------------
    def live_counts(self) -> dict[str, dict[str, int]]:
        with self.state.lock:
            counts: dict[str, dict[str, int]] = {"volumes": {}, "volume_snapshots": {}}
            for volume in self.volumes.values():
                counts["volumes"][volume.project_id] = (
                    counts["volumes"].get(volume.project_id, 0) + 1
                )
            for snapshot in self.snapshots.values():
                per = counts["volume_snapshots"]
                per[snapshot.project_id] = per.get(snapshot.project_id, 0) + 1
            return counts


def copy_volume(volume: Volume) -> Volume:
    """A detached copy for building a response outside the lock."""
    return dataclasses.replace(
        volume,
        metadata=dict(volume.metadata),
        image_metadata=dict(volume.image_metadata),
        attachments=list(volume.attachments),
    )
