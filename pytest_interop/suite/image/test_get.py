"""images-v2-get: an image's record says what was stored, and its data comes back unchanged.

Automation checks an image before booting from it: status, size and checksum must describe
the data uploaded, properties must be those given, and an unknown id must be a 404.
"""

from __future__ import annotations

import hashlib
import os
import uuid
from collections.abc import Callable
from typing import Any

import pytest

from pytest_interop.suite.image.conftest import glance


@pytest.mark.idempotent_id("b6d225b5-2bd1-4bba-9638-35929f1e5dfd")
def test_get_describes_the_uploaded_data(
    os_conn: Any, make_image: Callable[..., dict[str, Any]]
) -> None:
    data = os.urandom(3000)
    made = make_image(data=data, os_distro="ubuntu", min_disk=1, min_ram=64)
    answer = glance(os_conn, "GET", f"/images/{made['id']}")
    assert answer.status_code == 200, f"GET of an own image answered {answer.status_code}"
    image = answer.json()
    assert image["id"] == made["id"]
    assert image["name"] == made["name"]
    assert image["status"] == "active", f"an image with data is {image['status']}"
    assert image["size"] == len(data)
    assert image["checksum"] == hashlib.md5(data, usedforsecurity=False).hexdigest()
    if image.get("os_hash_algo"):  # multihash, Glance 17.0 (Rocky) and later
        expected = hashlib.new(image["os_hash_algo"], data).hexdigest()
        assert image["os_hash_value"] == expected
    assert image["os_distro"] == "ubuntu"
    assert (image["min_disk"], image["min_ram"]) == (1, 64)
    assert image["visibility"] == "private"
    assert image["owner"] == os_conn.current_project_id


@pytest.mark.idempotent_id("dc423857-4f46-4c35-88b0-0c707a551d24")
def test_downloaded_data_is_what_was_uploaded(
    os_conn: Any, make_image: Callable[..., dict[str, Any]]
) -> None:
    data = os.urandom(5000)
    made = make_image(data=data)
    answer = glance(os_conn, "GET", f"/images/{made['id']}/file")
    assert answer.status_code == 200, f"image download answered {answer.status_code}"
    assert answer.content == data, "the downloaded data differs from the uploaded data"


@pytest.mark.idempotent_id("7c1fa87c-5f59-49b8-9bd6-3474119797e7")
def test_get_of_the_bootable_image_matches_the_listing(os_conn: Any, cloud: Any) -> None:
    bootable = cloud.discover_image()
    answer = glance(os_conn, "GET", f"/images/{bootable.id}")
    assert answer.status_code == 200
    image = answer.json()
    assert image["name"] == bootable.name
    assert image["status"] == "active"
    assert image["disk_format"] and image["container_format"], "no formats on a bootable image"


@pytest.mark.idempotent_id("527f08b0-e3cd-4404-8fdc-1f38c135ac5e")
def test_get_of_an_unknown_image_is_404(os_conn: Any) -> None:
    answer = glance(os_conn, "GET", f"/images/{uuid.uuid4()}")
    assert answer.status_code == 404, f"an unknown image id answered {answer.status_code}"
