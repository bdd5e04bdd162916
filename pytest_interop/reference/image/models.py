"""Glance's state and rules: images as the attribute dicts Glance shows, plus their data."""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pytest_interop.reference.core.wire import RequestContext, isotime, utc_now
from pytest_interop.reference.image import exceptions

if TYPE_CHECKING:
    from pytest_interop.reference.profiles import ImageSpec
    from pytest_interop.reference.state import CloudState

MAX_IMAGE_BYTES = 64 * 1024 * 1024
MAX_NAME = 255
READ_ONLY = frozenset(
    {
        "id",
        "status",
        "checksum",
        "size",
        "virtual_size",
        "created_at",
        "updated_at",
        "file",
        "self",
        "schema",
        "direct_url",
        "locations",
        "os_hash_algo",
        "os_hash_value",
        "owner",
    }
)
RESERVED = frozenset(
    {
        "id",
        "status",
        "checksum",
        "size",
        "virtual_size",
        "created_at",
        "updated_at",
        "file",
        "self",
        "schema",
        "direct_url",
        "os_hash_algo",
        "os_hash_value",
    }
)
VISIBILITIES = ("public", "private", "shared", "community")
DISK_FORMATS = ("ami", "ari", "aki", "vhd", "vhdx", "vmdk", "raw", "qcow2", "vdi", "iso", "ploop")
CONTAINER_FORMATS = ("ami", "ari", "aki", "bare", "ovf", "ova", "docker", "compressed")

# Login accounts by os_distro when an image does not say (what cloud images ship with).
DISTRO_LOGIN = {
    "ubuntu": "ubuntu",
    "debian": "debian",
    "centos": "centos",
    "rhel": "cloud-user",
    "fedora": "fedora",
    "cirros": "cirros",
    "opensuse": "opensuse",
    "amazon": "ec2-user",
}


@dataclass(frozen=True)
class GuestTraits:
    """What a server booted from an image looks like inside (not shown by the API)."""

    login_user: str
    root_login: str = "prohibit-password"
    sudo_requires_tty: bool = False


class ImageModel:
    def __init__(self, state: CloudState) -> None:
        self.state = state
        self.images: dict[str, dict[str, Any]] = {}
        self.data: dict[str, bytes] = {}
        self.traits: dict[str, GuestTraits] = {}

    def visible(self, ctx: RequestContext, image: dict[str, Any]) -> bool:
        return (
            ctx.is_admin
            or image["owner"] == ctx.project_id
            or image["visibility"] in ("public", "community")
        )

    def get(self, ctx: RequestContext, ident: str) -> dict[str, Any]:
        with self.state.lock:
            image = self.images.get(ident)
            if image is None or not self.visible(ctx, image):
                raise exceptions.not_found(ident)
            return image

    def list(self, ctx: RequestContext, filters: dict[str, str]) -> list[dict[str, Any]]:
        with self.state.lock:
            images = [image for image in self.images.values() if self.visible(ctx, image)]
        visibility = filters.get("visibility")
        if visibility and visibility != "all":
            images = [image for image in images if image["visibility"] == visibility]
        elif not visibility:
            images = [
                image
                for image in images
                if image["visibility"] != "community" or image["owner"] == ctx.project_id
            ]
        if filters.get("os_hidden", "false").lower() != "true":
            images = [image for image in images if not image.get("os_hidden")]
        for key, wanted in filters.items():
            if key in (
                "visibility",
                "os_hidden",
                "limit",
                "marker",
                "sort_key",
                "sort_dir",
                "sort",
                "member_status",
            ):
                continue
            if key == "tag":
                images = [image for image in images if wanted in image["tags"]]
                continue
            if key in ("name", "id") and wanted.startswith("in:"):
                # Glance's ``in:`` operator (a comma-separated list), e.g. ``id=in:a,b``
                names = set(wanted[3:].split(","))
                images = [image for image in images if image.get(key) in names]
                continue
            images = [
                image
                for image in images
                if str(image.get(key)) == wanted
                or (
                    isinstance(image.get(key), bool)
                    and str(image.get(key)).lower() == wanted.lower()
                )
            ]
        return images

    def _validate(self, fields: dict[str, Any]) -> None:
        name = fields.get("name")
        if name is not None and (not isinstance(name, str) or len(name) > MAX_NAME):
            raise exceptions.bad_request(
                "Provided object does not match schema 'image': name is too long"
            )
        if fields.get("visibility") not in (None, *VISIBILITIES):
            raise exceptions.bad_request(f"Invalid visibility value: {fields.get('visibility')}")
        if fields.get("disk_format") not in (None, *DISK_FORMATS):
            raise exceptions.bad_request(
                f"Invalid value '{fields.get('disk_format')}' for parameter 'disk_format'"
            )
        if fields.get("container_format") not in (None, *CONTAINER_FORMATS):
            raise exceptions.bad_request(
                f"Invalid value '{fields.get('container_format')}' for parameter 'container_format'"
            )
        for key in ("min_disk", "min_ram"):
            value = fields.get(key)
            if value is not None and (not isinstance(value, int) or value < 0):
                raise exceptions.bad_request(f"{key} must be a non-negative integer")
        for key, value in fields.items():
            if len(key) > 255 or (isinstance(value, str) and len(value) > 65535):
                raise exceptions.bad_request(f"Property {key[:40]} is too long")

    def create(
        self, ctx: RequestContext, body: dict[str, Any], *, traits: GuestTraits | None = None
    ) -> dict[str, Any]:
        for key in RESERVED & body.keys():
            if key != "id":
                raise exceptions.forbidden(f"Attribute '{key}' is read-only.")
        self._validate(body)
        visibility = body.get("visibility", "shared")
        if visibility == "public" and not ctx.is_admin:
            raise exceptions.forbidden("You are not authorized to complete publicize_image action.")
        now = isotime(utc_now())
        with self.state.lock:
            ident = body.get("id") or str(uuid.uuid4())
            if ident in self.images:
                raise exceptions.conflict(f"Image with identifier {ident} already exists!")
            image: dict[str, Any] = {
                "id": ident,
                "name": body.get("name"),
                "status": "queued",
                "visibility": visibility,
                "protected": bool(body.get("protected", False)),
                "os_hidden": bool(body.get("os_hidden", False)),
                "checksum": None,
                "os_hash_algo": None,
                "os_hash_value": None,
                "container_format": body.get("container_format"),
                "disk_format": body.get("disk_format"),
                "size": None,
                "virtual_size": None,
                "min_disk": body.get("min_disk", 0),
                "min_ram": body.get("min_ram", 0),
                "owner": ctx.project_id,
                "created_at": now,
                "updated_at": now,
                "tags": list(body.get("tags", [])),
                "file": f"/v2/images/{ident}/file",
                "self": f"/v2/images/{ident}",
                "schema": "/v2/schemas/image",
            }
            for key, value in body.items():
                if key not in image and key != "tags":
                    image[key] = value
            self.images[ident] = image
            self.traits[ident] = traits or self.traits_from_properties(image)
            return image

    @staticmethod
    def traits_from_properties(image: dict[str, Any]) -> GuestTraits:
        login = image.get("os_admin_user") or DISTRO_LOGIN.get(
            str(image.get("os_distro", "")).lower(), "ubuntu"
        )
        return GuestTraits(login_user=login)

    def guest_traits(self, image_id: str) -> GuestTraits:
        with self.state.lock:
            return self.traits.get(image_id) or self.traits_from_properties(
                self.images.get(image_id, {})
            )

    def upload(self, ctx: RequestContext, ident: str, data: bytes) -> None:
        with self.state.lock:
            image = self._owned(ctx, ident)
            if image["status"] not in ("queued", "saving"):
                raise exceptions.conflict(
                    f"Image status transition from {image['status']} to saving is not allowed"
                )
            self._store(image, data)

    def _store(self, image: dict[str, Any], data: bytes) -> None:
        if len(data) > MAX_IMAGE_BYTES:
            raise exceptions.GlanceError("Image exceeds the storage quota", 413)
        self.data[image["id"]] = data
        image.update(
            status="active",
            size=len(data),
            virtual_size=None,
            checksum=hashlib.md5(data, usedforsecurity=False).hexdigest(),
            os_hash_algo="sha512",
            os_hash_value=hashlib.sha512(data).hexdigest(),
            updated_at=isotime(utc_now()),
        )

    def download(self, ctx: RequestContext, ident: str) -> bytes | None:
        with self.state.lock:
            image = self.get(ctx, ident)
            if image["status"] == "deactivated" and not ctx.is_admin:
                raise exceptions.forbidden(
                    "The requested image has been deactivated. Image data download is forbidden."
                )
            return self.data.get(image["id"])

    def _owned(self, ctx: RequestContext, ident: str) -> dict[str, Any]:
        image = self.get(ctx, ident)
        if not ctx.is_admin and image["owner"] != ctx.project_id:
            raise exceptions.forbidden("You are not permitted to modify this image.")
        return image

    def patch(self, ctx: RequestContext, ident: str, operations: list[dict]) -> dict[str, Any]:
        with self.state.lock:
            image = self._owned(ctx, ident)
            changed = dict(image)
            for operation in operations:
                op = operation.get("op")
                path = str(operation.get("path", ""))
                if not path.startswith("/") or path.count("/") != 1:
                    raise exceptions.bad_request(
                        f"Invalid JSON pointer for this resource: '{path}'"
                    )
                key = path[1:]
                if key in READ_ONLY:
                    raise exceptions.forbidden(f"Attribute '{key}' is read-only.")
                if op in ("add", "replace"):
                    if "value" not in operation:
                        raise exceptions.bad_request("Operation objects must contain 'value'.")
                    if op == "replace" and key not in changed:
                        raise exceptions.GlanceError(f"Property {key} does not exist.", 409)
                    changed[key] = operation["value"]
                elif op == "remove":
                    if key in (
                        "name",
                        "visibility",
                        "protected",
                        "min_disk",
                        "min_ram",
                        "tags",
                        "container_format",
                        "disk_format",
                        "os_hidden",
                    ):
                        raise exceptions.forbidden(f"Attribute '{key}' is reserved.")
                    if key not in changed:
                        raise exceptions.GlanceError(f"Property {key} does not exist.", 409)
                    del changed[key]
                else:
                    raise exceptions.bad_request(
                        f'Operation objects must contain exactly one member named "add", '
                        f'"remove", or "replace": {op!r}'
                    )
            self._validate({key: changed.get(key) for key in changed})
            if (
                changed.get("visibility") == "public"
                and image["visibility"] != "public"
                and not ctx.is_admin
            ):
                raise exceptions.forbidden(
                    "You are not authorized to complete publicize_image action."
                )
            image.clear()
            image.update(changed, updated_at=isotime(utc_now()))
            return image

    def set_active(self, ctx: RequestContext, ident: str, *, active: bool) -> None:
        """Deactivate (data can no longer be downloaded by non-admins) or reactivate."""
        with self.state.lock:
            image = self._owned(ctx, ident)
            wanted, allowed = ("active", "deactivated") if active else ("deactivated", "active")
            if image["status"] not in (wanted, allowed):
                raise exceptions.forbidden(
                    f"Not allowed to {'reactivate' if active else 'deactivate'} an image in "
                    f"status '{image['status']}'"
                )
            image["status"] = wanted
            image["updated_at"] = isotime(utc_now())

    def add_tag(self, ctx: RequestContext, ident: str, tag: str) -> None:
        with self.state.lock:
            image = self._owned(ctx, ident)
            if tag not in image["tags"]:
                image["tags"].append(tag)

    def remove_tag(self, ctx: RequestContext, ident: str, tag: str) -> None:
        with self.state.lock:
            image = self._owned(ctx, ident)
            if tag not in image["tags"]:
                raise exceptions.not_found(tag)
            image["tags"].remove(tag)

    def delete(self, ctx: RequestContext, ident: str) -> None:
        with self.state.lock:
            image = self._owned(ctx, ident)
            if image["protected"]:
                raise exceptions.forbidden(f"Image {ident} is protected and cannot be deleted.")
            del self.images[ident]
            self.data.pop(ident, None)
            self.traits.pop(ident, None)
        self.state.machines.forget_snapshot(ident)

    # provisioning and snapshots -------------------------------------------------------
    def provision(self, admin_ctx: RequestContext, spec: ImageSpec) -> dict[str, Any]:
        properties: dict[str, Any] = {
            "name": spec.name,
            "visibility": "public",
            "container_format": "bare",
            "disk_format": "qcow2",
            "min_disk": spec.min_disk,
            "min_ram": spec.min_ram,
            "os_distro": spec.os_distro,
            "os_version": spec.os_version,
            "hw_disk_bus": "virtio",
        }
        if spec.os_admin_user:
            properties["os_admin_user"] = spec.os_admin_user
        traits = GuestTraits(spec.login_user, spec.root_login, spec.sudo_requires_tty)
        image = self.create(admin_ctx, properties, traits=traits)
        seed = hashlib.sha256(spec.name.encode()).digest()
        self._store(image, (seed * (spec.size // len(seed) + 1))[: spec.size])
        return image

    def create_snapshot(
        self,
        ctx: RequestContext,
        name: str,
        source_image_id: str,
        server_id: str,
        metadata: dict[str, str],
    ) -> dict[str, Any]:
        with self.state.lock:
            source = self.images.get(source_image_id, {})
            properties = {
                key: value
                for key, value in source.items()
                if key
                in (
                    "os_distro",
                    "os_version",
                    "os_admin_user",
                    "container_format",
                    "disk_format",
                    "min_disk",
                    "min_ram",
                )
            }
            properties.update(
                image_type="snapshot",
                instance_uuid=server_id,
                base_image_ref=source_image_id,
                owner_project_name=ctx.project_name,
                user_id=ctx.user_id,
            )
            properties.update(metadata)  # the caller's metadata wins, as in Nova
            properties.update(name=name, visibility="private")
            image = self.create(ctx, properties, traits=self.traits.get(source_image_id))
            image["status"] = "saving"
            return image

    def finish_snapshot(self, image_id: str, source_image_id: str) -> None:
        with self.state.lock:
            image = self.images.get(image_id)
            if image is not None:
                self._store(image, self.data.get(source_image_id, b""))
