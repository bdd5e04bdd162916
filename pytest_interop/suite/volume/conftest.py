"""Block-storage fixtures: the cloud through Cinder v2 or v3, and volumes that always go away.

``volumes_v2`` / ``volumes_v3`` give a :class:`VolumeBox` over ``cloud.using_volume_api(n)``;
on a cloud with one block-storage API (EBS) both are the same adapter. Everything a box makes
(volumes, snapshots, uploaded images) is deleted at teardown, newest first, attached volumes
detached first, the deletes on a deleting thread (the next test does not wait for them); the
adapter's ledger stays the backstop after a failed delete or an interrupt.
"""

from __future__ import annotations

import contextlib
import secrets
from collections.abc import Iterator, Mapping
from typing import Any

import pytest

from pytest_interop.clouds.base import Cloud, Image, ResourceNotFound, Volume, VolumeSnapshot
from pytest_interop.errors import NotApplicable


class VolumeBox:
    """Creates volumes, snapshots and images through one block-storage API, and removes them."""

    def __init__(self, cloud: Cloud, version: str) -> None:
        self.cloud = cloud
        self.version = version
        self._made: list[tuple[str, str]] = []  # (kind, id), oldest first

    def volume(self, size_gb: int | None = 1, **options: Any) -> Volume:
        volume = self.cloud.create_volume(size_gb, **options)
        self._made.append(("volume", volume.id))
        return volume

    def snapshot(self, volume_id: str, **options: Any) -> VolumeSnapshot:
        snapshot = self.cloud.create_volume_snapshot(volume_id, **options)
        self._made.append(("snapshot", snapshot.id))
        return snapshot

    def upload(self, volume_id: str, **options: Any) -> Image:
        image = self.cloud.upload_volume_to_image(volume_id, **options)
        self._made.append(("image", image.id))
        return image

    def forget(self, kind: str, ident: str) -> None:
        """The test deleted it itself."""
        with contextlib.suppress(ValueError):
            self._made.remove((kind, ident))

    def close(self) -> None:
        """Detach what is attached (a module server's next test must not see it), then leave
        the deletes to a deleting thread, newest first (:meth:`Cloud.delete_later`)."""
        made, self._made = list(reversed(self._made)), []
        for kind, ident in made:
            if kind != "volume":
                continue
            with contextlib.suppress(Exception):  # the delete says what is wrong, if anything
                for attachment in self.cloud.get_volume(ident).attachments:
                    self.cloud.detach_volume(attachment.server_id, ident)
        if made:
            self.cloud.delete_later(
                f"block storage {', '.join(i for _, i in made)}", lambda: self._delete(made)
            )

    def _delete(self, made: list[tuple[str, str]]) -> None:
        errors: list[str] = []
        for kind, ident in made:
            try:
                if kind == "image":
                    self.cloud.delete_image(ident)
                elif kind == "snapshot":
                    self.cloud.delete_volume_snapshot(ident)
                else:
                    self.cloud.delete_volume(ident)
            except ResourceNotFound:
                continue
            except Exception as exc:  # the ledger's clean-up retries it at the end of the run
                errors.append(f"{kind} {ident}: {type(exc).__name__}")
        if errors:
            raise RuntimeError("block-storage clean-up left: " + ", ".join(errors))


def _box(cloud: Cloud, version: str) -> Iterator[VolumeBox]:
    box = VolumeBox(cloud.using_volume_api(version), version)
    try:
        yield box
    finally:
        box.close()


@pytest.fixture
def volumes_v2(cloud: Cloud) -> Iterator[VolumeBox]:
    yield from _box(cloud, "2")


@pytest.fixture
def volumes_v3(cloud: Cloud) -> Iterator[VolumeBox]:
    yield from _box(cloud, "3")


def unique(prefix: str) -> str:
    return f"interop-{prefix}-{secrets.token_hex(4)}"


def cinder(box: VolumeBox, method: str, path: str, **kwargs: Any) -> Any:
    """A plain Cinder request on the box's API version (OpenStack only); the raw response."""
    if box.cloud.provider != "openstack":
        raise NotApplicable(f"a Cinder API capability; {box.cloud.name} is {box.cloud.provider}")
    return box.cloud.native.block_storage.request(path, method, raise_exc=False, **kwargs)


# --- inside the server ----------------------------------------------------------------------


def guest_disks(node: Any) -> dict[str, int]:
    """Whole disks the guest sees: name -> bytes (``lsblk``)."""
    output = node.run(["lsblk", "-b", "-d", "-n", "-o", "NAME,SIZE,TYPE"]).stdout
    disks: dict[str, int] = {}
    for line in output.splitlines():
        fields = line.split()
        if len(fields) >= 3 and fields[2] == "disk":
            disks[fields[0]] = int(fields[1])
    return disks


def wait_for_guest_disks(
    node: Any, condition: Any, *, timeout: float = 120.0, what: str = ""
) -> dict[str, int]:
    """Poll lsblk until ``condition(disks)``: the guest learns of a hot-plug a moment later."""
    from pytest_interop.clouds.retry import wait_until

    return wait_until(
        f"lsblk in the guest{': ' + what if what else ''}",
        lambda: guest_disks(node),
        done=condition,
        timeout=timeout,
        interval=0.1,
        describe=lambda disks: f"disks {sorted(disks)}",
    )


def metadata_without_run_tags(metadata: Mapping[str, str]) -> dict[str, str]:
    return {k: v for k, v in metadata.items() if not k.startswith("interop-")}
