"""Image fixtures: images of the test's own through Glance v2, always deleted afterwards.

Images are made with plain Glance v2 requests through the connection's image proxy (a
keystoneauth adapter on the catalog's image endpoint), so the tests see the documented
API and its status codes, not the SDK's conveniences. The adapter's ledger has no deleter
for images, so clean-up is this fixture's ``finally``.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator
from typing import Any

import pytest

PATCH_TYPE = "application/openstack-images-v2.1-json-patch"


def unique_name(cloud: Any, kind: str) -> str:
    """The run's prefix where the adapter has a ledger, else a random interop- name."""
    try:
        return str(cloud.resource_name(kind))
    except RuntimeError:
        return f"interop-{kind}-{secrets.token_hex(4)}"


def glance(os_conn: Any, method: str, path: str, **kwargs: Any) -> Any:
    """One Glance v2 request; the response whatever its status."""
    return os_conn.image.request(path, method, raise_exc=False, **kwargs)


def patch_image(os_conn: Any, image_id: str, operations: list[dict[str, Any]]) -> Any:
    return glance(
        os_conn,
        "PATCH",
        f"/images/{image_id}",
        json=operations,
        headers={"Content-Type": PATCH_TYPE},
    )


@pytest.fixture
def make_image(os_conn: Any, cloud: Any) -> Iterator[Callable[..., dict[str, Any]]]:
    """``make_image(data=None, **attributes)``: a new image (deleted at teardown) as a dict."""
    made: list[str] = []

    def make(data: bytes | None = None, **attributes: Any) -> dict[str, Any]:
        body = {
            "name": unique_name(cloud, "image"),
            "visibility": "private",
            "container_format": "bare",
            "disk_format": "raw",
            **attributes,
        }
        # Ledgered like the adapter's own creations: an interrupted run's clean-up removes it.
        record = cloud.track_intent("image", body["name"])
        answer = glance(os_conn, "POST", "/images", json=body)
        assert answer.status_code == 201, f"image create answered {answer.status_code}"
        image = answer.json()
        made.append(image["id"])
        cloud.track_created(record, image["id"])
        if data is not None:
            upload = glance(
                os_conn,
                "PUT",
                f"/images/{image['id']}/file",
                data=data,
                headers={"Content-Type": "application/octet-stream"},
            )
            assert upload.status_code == 204, f"image upload answered {upload.status_code}"
            image = glance(os_conn, "GET", f"/images/{image['id']}").json()
        return image

    try:
        yield make
    finally:
        leaked: list[str] = []
        for image_id in reversed(made):
            try:
                _delete_image(os_conn, image_id)
                cloud.track_deleted("image", image_id)
            except Exception as exc:  # one failure must not stop the other deletes
                leaked.append(f"{image_id} ({type(exc).__name__}: {exc})")
        if leaked:
            raise RuntimeError(f"images left behind: {', '.join(leaked)}")


def _delete_image(os_conn: Any, image_id: str) -> None:
    """Delete; a protected image is unprotected first. Already gone is fine."""
    answer = glance(os_conn, "DELETE", f"/images/{image_id}")
    if answer.status_code == 403:
        patch_image(os_conn, image_id, [{"op": "replace", "path": "/protected", "value": False}])
        answer = glance(os_conn, "DELETE", f"/images/{image_id}")
    if answer.status_code not in (204, 404):
        raise RuntimeError(f"image {image_id} not deleted: {answer.status_code}")
