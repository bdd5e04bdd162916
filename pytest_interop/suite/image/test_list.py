"""images-v2-index and images-v2-list: listing images, with filters and pages as documented.

Automation finds its image by listing: the plain listing must show the user's own images
and the cloud's public ones; filters (name, visibility, tag, formats) must narrow it; and
``limit``/``marker`` pages must walk a long list without losing or repeating an image.
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Callable
from typing import Any

import pytest

from pytest_interop.suite.image.conftest import glance

# The fields every image in a listing carries (Glance v2 image schema, required part).
LISTED_FIELDS = ("id", "name", "status", "visibility", "self", "file", "schema", "tags")


def _list(os_conn: Any, query: str = "") -> dict[str, Any]:
    answer = glance(os_conn, "GET", f"/images{query}")
    assert answer.status_code == 200, f"GET /v2/images{query} answered {answer.status_code}"
    return answer.json()


def _ids(page: dict[str, Any]) -> list[str]:
    return [image["id"] for image in page["images"]]


def _relative(next_link: str) -> str:
    """Glance's ``next`` is /v2/images?...; the proxy's endpoint already ends in /v2."""
    return next_link.split("/images", 1)[1]


def _list_all(os_conn: Any, query: str = "") -> list[dict[str, Any]]:
    """Every image of a listing, following ``next`` links; fails on an endless walk."""
    images: list[dict[str, Any]] = []
    page = _list(os_conn, query)
    for _ in range(100):
        images += page["images"]
        if not page.get("next"):
            return images
        page = _list(os_conn, _relative(page["next"]))
    pytest.fail(f"more than 100 pages for /v2/images{query}")


@pytest.mark.idempotent_id("25ee3ab0-9baf-4983-acc6-2323c764d622")
def test_plain_listing_shows_own_and_public_images(
    os_conn: Any, cloud: Any, make_image: Callable[..., dict[str, Any]]
) -> None:
    mine = make_image()
    bootable = cloud.discover_image()  # the public image servers boot from
    listed = {image["id"]: image for image in _list_all(os_conn)}
    assert mine["id"] in listed, "the user's own new image is missing from the listing"
    assert bootable.id in listed, f"the bootable image {bootable.name} is missing"
    for image_id in (mine["id"], bootable.id):
        missing = [key for key in LISTED_FIELDS if key not in listed[image_id]]
        assert not missing, f"image {image_id} is listed without {missing}"
    assert listed[mine["id"]]["name"] == mine["name"]
    assert listed[mine["id"]]["visibility"] == "private"
    assert listed[mine["id"]]["status"] == "queued"  # no data uploaded


@pytest.mark.idempotent_id("7efb4cef-5a10-4432-b473-30471739c96c")
def test_limit_and_marker_page_without_loss_or_repeat(
    os_conn: Any, make_image: Callable[..., dict[str, Any]]
) -> None:
    tag = f"interop-page-{secrets.token_hex(4)}"
    made = {make_image(tags=[tag])["id"] for _ in range(3)}

    first = _list(os_conn, f"?tag={tag}&limit=2")
    assert len(first["images"]) == 2, f"limit=2 gave {len(first['images'])} images"
    assert first.get("next"), "a first page of 2 out of 3 has no next link"

    marker = first["images"][-1]["id"]
    rest = _list(os_conn, f"?tag={tag}&limit=2&marker={marker}")
    assert len(rest["images"]) == 1, f"the page after the marker has {len(rest['images'])}"
    assert not rest.get("next"), "the last page still has a next link"

    walked = [image["id"] for image in _list_all(os_conn, f"?tag={tag}&limit=1")]
    assert len(walked) == len(set(walked)), "paging repeated an image"
    assert set(walked) == made, "paging with limit=1 did not return exactly the tagged images"
    assert set(_ids(first)) | set(_ids(rest)) == made


@pytest.mark.idempotent_id("cb1e839c-819f-43be-82b5-ad5a83c16875")
def test_unknown_marker_is_refused(os_conn: Any) -> None:
    answer = glance(os_conn, "GET", f"/images?marker={uuid.uuid4()}")
    assert answer.status_code == 400, f"an unknown marker answered {answer.status_code}"


@pytest.mark.idempotent_id("dea879bd-7a48-4dfe-bea1-790279156822")
def test_filter_by_name_returns_only_that_image(
    os_conn: Any, make_image: Callable[..., dict[str, Any]]
) -> None:
    wanted, other = make_image(), make_image()
    found = _ids(_list(os_conn, f"?name={wanted['name']}"))
    assert found == [wanted["id"]], f"name filter gave {found}"
    assert other["id"] not in found


@pytest.mark.idempotent_id("d666f06c-f79a-4d49-8b6e-64131949de79")
def test_filter_by_visibility(os_conn: Any, make_image: Callable[..., dict[str, Any]]) -> None:
    mine = make_image(visibility="private")
    public = _list_all(os_conn, "?visibility=public")
    private = _list_all(os_conn, "?visibility=private")
    assert all(image["visibility"] == "public" for image in public), "public filter leaked"
    assert all(image["visibility"] == "private" for image in private), "private filter leaked"
    assert mine["id"] in {image["id"] for image in private}
    assert mine["id"] not in {image["id"] for image in public}
    assert mine["id"] in {image["id"] for image in _list_all(os_conn, "?visibility=all")}


@pytest.mark.idempotent_id("0b098c28-59b2-4f12-ad8d-f2bd18f7b9a4")
def test_filter_by_tag_and_formats(os_conn: Any, make_image: Callable[..., dict[str, Any]]) -> None:
    tag = f"interop-format-{secrets.token_hex(4)}"
    raw = make_image(tags=[tag], disk_format="raw", container_format="bare")
    qcow = make_image(tags=[tag], disk_format="qcow2", container_format="bare")
    assert set(_ids(_list(os_conn, f"?tag={tag}"))) == {raw["id"], qcow["id"]}
    assert _ids(_list(os_conn, f"?tag={tag}&disk_format=qcow2")) == [qcow["id"]]
    assert _ids(_list(os_conn, f"?tag={tag}&disk_format=raw")) == [raw["id"]]
    assert _ids(_list(os_conn, f"?tag={tag}&container_format=ova")) == []
