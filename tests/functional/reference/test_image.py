"""Glance v2 through openstacksdk: list, paging, filters, create, upload, download, patch."""

from __future__ import annotations

import openstack.exceptions as os_exc
import pytest


def test_profile_images_carry_distro_and_login(conn):
    images = {image.name: image for image in conn.image.images()}
    ubuntu = images["Ubuntu-22.04"]
    assert ubuntu.os_distro == "ubuntu" and ubuntu.os_admin_user == "ubuntu"
    assert ubuntu.status == "active" and ubuntu.visibility == "public" and ubuntu.min_disk == 1


def test_create_upload_download_patch_delete(conn):
    data = b"reference image bytes" * 100
    image = conn.image.create_image(
        name="mine",
        data=data,
        disk_format="qcow2",
        container_format="bare",
        os_distro="fedora",
        min_ram=512,
        wait=True,
    )
    try:
        fetched = conn.image.get_image(image.id)
        assert fetched.status == "active" and fetched.size == len(data)
        assert fetched.owner == conn.current_project_id and fetched.min_ram == 512
        assert conn.image.download_image(fetched).content == data
        updated = conn.image.update_image(fetched, name="renamed", os_admin_user="fedora")
        assert updated.name == "renamed" and updated.os_admin_user == "fedora"
        response = conn.image.patch(
            f"/images/{image.id}",
            json=[{"op": "replace", "path": "/status", "value": "x"}],
            headers={"Content-Type": "application/openstack-images-v2.1-json-patch"},
        )
        assert response.status_code == 403
        wrong_type = conn.image.patch(f"/images/{image.id}", json=[])
        assert wrong_type.status_code == 415
    finally:
        conn.image.delete_image(image)
    with pytest.raises(os_exc.NotFoundException):
        conn.image.get_image(image.id)


def test_paging_and_filters(conn):
    created = [
        conn.image.create_image(
            name=f"paged-{i}",
            data=b"x",
            disk_format="raw",
            container_format="bare",
            allow_duplicates=True,
        )
        for i in range(5)
    ]
    try:
        raw = conn.image.get("/images?limit=2").json()
        assert len(raw["images"]) == 2 and "next" in raw
        all_ids = {image.id for image in conn.image.images(limit=2)}
        assert {image.id for image in created} <= all_ids
        assert [i.name for i in conn.image.images(name="paged-3")] == ["paged-3"]
        assert {i.name for i in conn.image.images(os_distro="ubuntu")} == {"Ubuntu-22.04"}
    finally:
        for image in created:
            conn.image.delete_image(image)


def test_private_images_are_per_project(conn, other_conn):
    image = conn.image.create_image(
        name="secret-image",
        data=b"x",
        disk_format="raw",
        container_format="bare",
        visibility="private",
    )
    try:
        assert "secret-image" not in [i.name for i in other_conn.image.images()]
        with pytest.raises(os_exc.NotFoundException):
            other_conn.image.get_image(image.id)
        with pytest.raises(os_exc.ForbiddenException):
            conn.image.create_image(
                name="pub",
                data=b"x",
                disk_format="raw",
                container_format="bare",
                visibility="public",
            )
    finally:
        conn.image.delete_image(image)


def test_over_long_name_and_bad_format_are_400(conn):
    too_long = conn.image.post("/images", json={"name": "n" * 256})
    assert too_long.status_code == 400
    bad_format = conn.image.post("/images", json={"name": "x", "disk_format": "floppy"})
    assert bad_format.status_code == 400
    assert conn.image.get("/images/nope").status_code == 404
