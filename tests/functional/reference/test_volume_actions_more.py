"""Cinder behaviour Tempest's volume tests rely on, through openstacksdk's block-storage API."""

from __future__ import annotations

import time

import pytest


def _wait(conn, volume_id: str, status: str) -> dict:
    deadline = time.monotonic() + 20
    while True:
        body = conn.block_storage.get(f"/volumes/{volume_id}").json()["volume"]
        if body["status"] == status or time.monotonic() > deadline:
            return body
        time.sleep(0.1)


@pytest.fixture
def volume(conn):
    made = conn.block_storage.post("/volumes", json={"volume": {"size": 1}}).json()["volume"]
    _wait(conn, made["id"], "available")
    yield made
    conn.block_storage.delete(f"/volumes/{made['id']}")


def test_snapshot_metadata_items(conn, volume):
    bs = conn.block_storage
    body = {"snapshot": {"volume_id": volume["id"], "metadata": {"a": "1"}}}
    created = bs.post("/snapshots", json=body).json()["snapshot"]
    assert not [k for k in created if k.startswith("os-extended-")]  # create omits them
    sid = created["id"]
    deadline = time.monotonic() + 20
    while bs.get(f"/snapshots/{sid}").json()["snapshot"]["status"] != "available":
        assert time.monotonic() < deadline
        time.sleep(0.1)
    assert bs.get(f"/snapshots/{sid}/metadata/a").json() == {"meta": {"a": "1"}}
    assert bs.put(f"/snapshots/{sid}/metadata/b", json={"meta": {"b": "2"}}).status_code == 200
    assert bs.get(f"/snapshots/{sid}/metadata").json()["metadata"] == {"a": "1", "b": "2"}
    assert bs.delete(f"/snapshots/{sid}/metadata/a").status_code == 200
    assert bs.get(f"/snapshots/{sid}/metadata/a").status_code == 404
    bs.delete(f"/snapshots/{sid}")
    while bs.get(f"/snapshots/{sid}").status_code != 404:
        assert time.monotonic() < deadline + 20
        time.sleep(0.1)


def test_bootable_flag_and_cinder_side_attach(conn, volume):
    bs = conn.block_storage
    action = f"/volumes/{volume['id']}/action"
    assert bs.post(action, json={"os-set_bootable": {"bootable": True}}).status_code == 200
    assert bs.get(f"/volumes/{volume['id']}").json()["volume"]["bootable"] == "true"
    server = conn.compute.create_server(
        name="cinder-attach",
        image_id=conn.image.find_image("Ubuntu-22.04").id,
        flavor_id=conn.compute.find_flavor("small").id,
        networks=[{"uuid": conn.network.find_network("public").id}],
    )
    try:
        attach = {"os-attach": {"instance_uuid": server.id, "mountpoint": "/dev/vdb"}}
        assert bs.post(action, json=attach).status_code == 202
        assert _wait(conn, volume["id"], "in-use")["attachments"][0]["server_id"] == server.id
        assert bs.post(action, json={"os-detach": {}}).status_code == 202
        assert _wait(conn, volume["id"], "available")["attachments"] == []
    finally:
        conn.compute.delete_server(server)


def test_unknown_type_empty_id_and_full_page(conn, volume):
    bs = conn.block_storage
    unknown = bs.post("/volumes", json={"volume": {"size": 1, "volume_type": "nope"}})
    assert unknown.status_code == 404
    assert bs.get("/volumes/").status_code == 404
    assert bs.delete("/volumes/").status_code == 404
    page = bs.get("/volumes?limit=1").json()
    assert len(page["volumes"]) == 1 and page["volumes_links"][0]["rel"] == "next"
