"""Nova's image proxy (``/images`` before microversion 2.36) over the reference Glance."""

from __future__ import annotations

import time

import requests

from tests.functional.reference.conftest import boot


def test_server_snapshot_is_seen_and_deleted_through_nova(cloud, conn):
    server = boot(conn, "proxy-src")
    try:
        image = conn.compute.create_server_image(server, name="proxy-snap", wait=True)
        token = {"X-Auth-Token": conn.session.get_token()}
        base = f"{cloud.base_url}/compute/v2.1/images"
        deadline = time.monotonic() + 30
        while True:
            shown = requests.get(f"{base}/{image.id}", headers=token, timeout=5)
            assert shown.status_code == 200
            view = shown.json()["image"]
            if view["status"] == "ACTIVE" or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        assert view["status"] == "ACTIVE" and view["progress"] == 100
        assert view["server"]["id"] == server.id and view["name"] == "proxy-snap"
        assert {"id", "links", "minDisk", "minRam", "metadata", "created"} <= set(view)
        listed = requests.get(f"{base}/detail", headers=token, timeout=5).json()["images"]
        assert image.id in {item["id"] for item in listed}
        names = requests.get(base, headers=token, timeout=5).json()["images"]
        assert set(names[0]) == {"id", "name", "links"}
        newer = {**token, "OpenStack-API-Version": "compute 2.36"}
        assert requests.get(f"{base}/{image.id}", headers=newer, timeout=5).status_code == 404
        assert requests.delete(f"{base}/{image.id}", headers=token, timeout=5).status_code == 204
        assert requests.get(f"{base}/{image.id}", headers=token, timeout=5).status_code == 404
        assert conn.image.find_image(image.id) is None
    finally:
        conn.compute.delete_server(server)


def test_snapshot_metadata_given_wins_over_the_defaults(cloud, conn):
    server = boot(conn, "proxy-meta")
    try:
        image = conn.compute.create_server_image(
            server, name="meta-snap", metadata={"image_type": "test"}, wait=True
        )
        assert conn.image.get_image(image.id).properties["image_type"] == "test"
        conn.image.delete_image(image)
    finally:
        conn.compute.delete_server(server)
