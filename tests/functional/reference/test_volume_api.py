"""The reference cloud's Cinder (v3 and v2) through plain HTTP with openstacksdk's session."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from pytest_interop.reference import ReferenceCloud
from tests.functional.reference.conftest import FAST


@pytest.fixture(scope="module")
def cloud() -> Iterator[ReferenceCloud]:
    with ReferenceCloud("default", **FAST) as reference:
        yield reference


def call(conn: Any, method: str, path: str, version: str = "v3", **kwargs: Any) -> Any:
    """One request to <base>/volume/<version><path>; the raw response."""
    url = conn.block_storage.get_endpoint().rstrip("/").rsplit("/", 1)[0] + f"/{version}{path}"
    return conn.session.request(url, method, raise_exc=False, **kwargs)


def wait_for(fetch: Callable[[], Any], done: Callable[[Any], bool], timeout: float = 10.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = fetch()
        if done(value) or time.monotonic() > deadline:
            return value
        time.sleep(0.02)


def volume_of(conn: Any, volume_id: str, version: str = "v3") -> dict[str, Any]:
    response = call(conn, "GET", f"/volumes/{volume_id}", version)
    assert response.status_code == 200, response.text
    return response.json()["volume"]


def new_volume(conn: Any, version: str = "v3", **spec: Any) -> dict[str, Any]:
    spec.setdefault("size", 1)
    response = call(conn, "POST", "/volumes", version, json={"volume": spec})
    assert response.status_code == 202, response.text
    volume = response.json()["volume"]
    assert volume["status"] == "creating"
    return wait_for(lambda: volume_of(conn, volume["id"]), lambda v: v["status"] == "available")


def gone(conn: Any, path: str) -> bool:
    return (
        wait_for(lambda: call(conn, "GET", path).status_code, lambda status: status == 404) == 404
    )


@pytest.fixture(autouse=True)
def _no_volumes_left(conn: Any) -> Iterator[None]:
    """What a test made goes afterwards, so that quotas and counters start from nothing."""
    yield
    for server in conn.compute.servers():
        conn.compute.delete_server(server)
    for volume in call(conn, "GET", "/volumes/detail").json()["volumes"]:
        path = f"/volumes/{volume['id']}"
        if volume["status"] == "attaching":  # reserved by the test
            call(conn, "POST", f"{path}/action", json={"os-unreserve": {}})
        wait_for(
            lambda p=path: call(conn, "GET", p).json(),
            lambda v: v["volume"]["status"] in ("available", "error"),
        )
        call(conn, "DELETE", f"{path}?cascade=true")
        assert gone(conn, path)


def test_versions_document_names_v3_current_and_v2_deprecated(cloud, conn):
    root = conn.session.get(f"{cloud.base_url}/volume", raise_exc=False, authenticated=False)
    assert root.status_code == 300
    versions = {v["id"]: v for v in root.json()["versions"]}
    assert versions["v3.0"]["status"] == "CURRENT"
    assert versions["v3.0"]["min_version"] == "3.0"
    assert versions["v2.0"]["status"] == "DEPRECATED"
    single = conn.session.get(f"{cloud.base_url}/volume/v2", authenticated=False)
    assert single.json()["versions"][0]["id"] == "v2.0"
    too_new = call(conn, "GET", "/volumes", headers={"OpenStack-API-Version": "volume 3.999"})
    assert too_new.status_code == 406
    ok = call(conn, "GET", "/volumes", headers={"OpenStack-API-Version": "volume 3.5"})
    assert ok.headers["OpenStack-API-Version"] == "volume 3.5"


def test_v2_and_v3_and_project_id_paths_see_the_same_volumes(conn):
    volume = new_volume(conn, name="paths")
    project_id = conn.current_project_id
    for path in ("/volumes/detail", f"/{project_id}/volumes/detail"):
        for version in ("v2", "v3"):
            ids = {v["id"] for v in call(conn, "GET", path, version).json()["volumes"]}
            assert volume["id"] in ids, (version, path)
    assert call(conn, "GET", "/someone-else/volumes").status_code == 403


def test_create_get_update_delete_and_errors(conn):
    volume = new_volume(conn, name="one", description="d", metadata={"a": "1"})
    assert (volume["size"], volume["bootable"], volume["name"]) == (1, "false", "one")
    assert volume["metadata"] == {"a": "1"}
    updated = call(conn, "PUT", f"/volumes/{volume['id']}", json={"volume": {"name": "two"}})
    assert updated.json()["volume"]["name"] == "two"
    assert (
        call(conn, "PUT", f"/volumes/{volume['id']}", json={"volume": {"size": 9}}).status_code
        == 400
    )
    for bad in (
        {"size": 0},
        {"size": "x"},
        {"size": 1, "name": "n" * 256},
        {"size": 1, "availability_zone": "mars"},
    ):
        assert call(conn, "POST", "/volumes", json={"volume": bad}).status_code == 400, bad
    missing = call(conn, "GET", "/volumes/00000000-0000-4000-8000-000000000000")
    assert missing.status_code == 404
    assert missing.json()["itemNotFound"]["code"] == 404
    assert call(conn, "DELETE", f"/volumes/{volume['id']}").status_code == 202
    assert gone(conn, f"/volumes/{volume['id']}")


def test_other_projects_neither_see_nor_touch_a_volume(conn, other_conn):
    volume = new_volume(conn)
    assert call(other_conn, "GET", f"/volumes/{volume['id']}").status_code == 404
    assert call(other_conn, "DELETE", f"/volumes/{volume['id']}").status_code == 404
    listed = call(other_conn, "GET", "/volumes").json()["volumes"]
    assert volume["id"] not in {v["id"] for v in listed}


def test_list_filters_sorts_and_pages(conn):
    made = [new_volume(conn, name=f"page-{n}", metadata={"set": "paging"}) for n in range(3)]
    ids = {v["id"] for v in made}
    by_meta = call(conn, "GET", "/volumes/detail?metadata={'set': 'paging'}").json()["volumes"]
    assert {v["id"] for v in by_meta} == ids
    by_name = call(conn, "GET", "/volumes?name=page-1").json()["volumes"]
    assert [v["name"] for v in by_name] == ["page-1"]
    ascending = call(conn, "GET", "/volumes/detail?metadata={'set': 'paging'}&sort=name:asc")
    assert [v["name"] for v in ascending.json()["volumes"]] == ["page-0", "page-1", "page-2"]
    first = call(conn, "GET", "/volumes/detail?metadata={'set': 'paging'}&limit=2&sort=name:asc")
    body = first.json()
    assert [v["name"] for v in body["volumes"]] == ["page-0", "page-1"]
    next_href = body["volumes_links"][0]["href"]
    second = conn.session.get(next_href, raise_exc=False).json()
    assert [v["name"] for v in second["volumes"]] == ["page-2"]
    assert "volumes_links" not in second
    assert call(conn, "GET", "/volumes?marker=nope").status_code == 400
    assert call(conn, "GET", "/volumes?sort=color:asc").status_code == 400


def test_metadata_api(conn):
    volume = new_volume(conn, metadata={"a": "1"})
    base = f"/volumes/{volume['id']}/metadata"
    assert call(conn, "POST", base, json={"metadata": {"b": "2"}}).json()["metadata"] == {
        "a": "1",
        "b": "2",
    }
    assert call(conn, "PUT", base, json={"metadata": {"c": "3"}}).json()["metadata"] == {"c": "3"}
    assert call(conn, "GET", f"{base}/c").json() == {"meta": {"c": "3"}}
    assert call(conn, "PUT", f"{base}/d", json={"meta": {"d": "4"}}).status_code == 200
    assert call(conn, "PUT", f"{base}/d", json={"meta": {"e": "4"}}).status_code == 400
    assert call(conn, "DELETE", f"{base}/c").status_code == 200
    assert call(conn, "GET", f"{base}/c").status_code == 404
    assert call(conn, "GET", base).json()["metadata"] == {"d": "4"}


def test_quotas_stop_volumes_and_gigabytes(cloud, conn, admin_conn):
    project_id = conn.current_project_id
    quota_path = f"/os-quota-sets/{project_id}"
    assert call(conn, "PUT", quota_path, json={"quota_set": {"volumes": 1}}).status_code == 403
    used = call(conn, "GET", f"{quota_path}?usage=true").json()["quota_set"]["volumes"]["in_use"]
    try:
        answer = call(
            admin_conn,
            "PUT",
            quota_path,
            json={"quota_set": {"volumes": used + 1, "gigabytes": used + 50}},
        )
        assert answer.status_code == 200, answer.text
        new_volume(conn)
        over = call(conn, "POST", "/volumes", json={"volume": {"size": 1}})
        assert over.status_code == 413
        assert "volumes" in over.json()["overLimit"]["message"]
        call(
            admin_conn, "PUT", quota_path, json={"quota_set": {"volumes": used + 5, "gigabytes": 3}}
        )
        too_big = call(conn, "POST", "/volumes", json={"volume": {"size": 1000}})
        assert too_big.status_code == 413
        assert "gigabytes" in too_big.json()["overLimit"]["message"]
        limits = call(conn, "GET", "/limits").json()["limits"]["absolute"]
        assert limits["maxTotalVolumeGigabytes"] == 3
    finally:
        defaults = call(conn, "GET", f"{quota_path}/defaults").json()["quota_set"]
        call(
            admin_conn,
            "PUT",
            quota_path,
            json={
                "quota_set": {"volumes": defaults["volumes"], "gigabytes": defaults["gigabytes"]}
            },
        )


def test_snapshots_restore_and_dependencies(conn):
    volume = new_volume(conn, size=2)
    created = call(
        conn, "POST", "/snapshots", json={"snapshot": {"volume_id": volume["id"], "name": "s"}}
    )
    assert created.status_code == 202
    snapshot = wait_for(
        lambda: call(conn, "GET", f"/snapshots/{created.json()['snapshot']['id']}").json()[
            "snapshot"
        ],
        lambda s: s["status"] == "available",
    )
    assert snapshot["size"] == 2
    blocked = call(conn, "DELETE", f"/volumes/{volume['id']}")
    assert blocked.status_code == 400 and "snapshots" in blocked.json()["badRequest"]["message"]
    small = call(
        conn, "POST", "/volumes", json={"volume": {"size": 1, "snapshot_id": snapshot["id"]}}
    )
    assert small.status_code == 400
    restored = new_volume(conn, snapshot_id=snapshot["id"], size=None)
    assert (restored["size"], restored["snapshot_id"]) == (2, snapshot["id"])
    listed = call(conn, "GET", "/snapshots/detail").json()["snapshots"]
    assert snapshot["id"] in {s["id"] for s in listed}
    assert call(conn, "DELETE", f"/volumes/{volume['id']}?cascade=true").status_code == 202
    assert gone(conn, f"/snapshots/{snapshot['id']}")


def test_image_volume_clone_and_upload_keep_the_bytes(cloud, conn):
    image = next(i for i in conn.image.images() if i.visibility == "public")
    volume = new_volume(conn, imageRef=image.id, size=None)
    assert volume["bootable"] == "true"
    assert volume["volume_image_metadata"]["image_id"] == image.id
    clone = new_volume(conn, source_volid=volume["id"], size=None)
    upload = call(
        conn,
        "POST",
        f"/volumes/{clone['id']}/action",
        json={"os-volume_upload_image": {"image_name": "from-clone", "disk_format": "qcow2"}},
    )
    assert upload.status_code == 202, upload.text
    image_id = upload.json()["os-volume_upload_image"]["image_id"]
    uploaded = wait_for(lambda: conn.image.get_image(image_id), lambda i: i.status == "active")
    assert uploaded.checksum == image.checksum
    assert uploaded.min_disk == clone["size"]
    assert uploaded.os_distro == image.os_distro  # the image metadata travels
    data = conn.image.download_image(image_id).content
    assert hashlib.md5(data, usedforsecurity=False).hexdigest() == image.checksum
    blank = new_volume(conn)
    blank_upload = call(
        conn,
        "POST",
        f"/volumes/{blank['id']}/action",
        json={"os-volume_upload_image": {"image_name": "blank"}},
    )
    blank_image = blank_upload.json()["os-volume_upload_image"]["image_id"]
    assert (
        wait_for(lambda: conn.image.get_image(blank_image), lambda i: i.status == "active").checksum
        != image.checksum
    )
    for made in (image_id, blank_image):
        conn.image.delete_image(made)


def test_readonly_reserve_and_extend_actions(conn):
    volume = new_volume(conn)
    action = f"/volumes/{volume['id']}/action"
    assert (
        call(
            conn, "POST", action, json={"os-update_readonly_flag": {"readonly": "maybe"}}
        ).status_code
        == 400
    )
    assert (
        call(conn, "POST", action, json={"os-update_readonly_flag": {"readonly": True}}).status_code
        == 202
    )
    assert volume_of(conn, volume["id"])["metadata"]["readonly"] == "True"
    assert call(conn, "POST", action, json={"os-reserve": {}}).status_code == 202
    assert volume_of(conn, volume["id"])["status"] == "attaching"
    assert call(conn, "POST", action, json={"os-reserve": {}}).status_code == 400
    assert (
        call(
            conn, "POST", action, json={"os-update_readonly_flag": {"readonly": False}}
        ).status_code
        == 400
    )
    assert call(conn, "POST", action, json={"os-unreserve": {}}).status_code == 202
    assert volume_of(conn, volume["id"])["status"] == "available"
    assert call(conn, "POST", action, json={"os-extend": {"new_size": 1}}).status_code == 400
    assert call(conn, "POST", action, json={"os-extend": {"new_size": 3}}).status_code == 202
    grown = wait_for(lambda: volume_of(conn, volume["id"]), lambda v: v["status"] == "available")
    assert grown["size"] == 3
    assert call(conn, "POST", action, json={"os-frobnicate": {}}).status_code == 400


def test_nova_attachments_name_devices_block_deletes_and_end_with_the_server(cloud, conn):
    image = next(i for i in conn.image.images() if i.visibility == "public")
    flavor = min(conn.compute.flavors(), key=lambda f: (f.ram, f.vcpus))
    server = conn.compute.create_server(
        name="att", image_id=image.id, flavor_id=flavor.id, networks="auto"
    )
    server = conn.compute.wait_for_server(server, wait=20)
    first, second, reserved = new_volume(conn), new_volume(conn), new_volume(conn)
    call(conn, "POST", f"/volumes/{reserved['id']}/action", json={"os-reserve": {}})
    nova = conn.compute
    devices = []
    for volume in (first, second):
        attachment = nova.create_volume_attachment(server, volume_id=volume["id"])
        devices.append(attachment.device)
        wait_for(lambda v=volume: volume_of(conn, v["id"]), lambda v: v["status"] == "in-use")
    assert devices == ["/dev/vdb", "/dev/vdc"]
    refused = conn.session.post(
        f"{nova.get_endpoint()}/servers/{server.id}/os-volume_attachments",
        json={"volumeAttachment": {"volumeId": reserved["id"]}},
        raise_exc=False,
    )
    assert refused.status_code == 400 and "badRequest" in refused.json()
    in_use = volume_of(conn, first["id"])
    assert in_use["attachments"][0]["server_id"] == server.id
    assert in_use["attachments"][0]["device"] == "/dev/vdb"
    assert call(conn, "DELETE", f"/volumes/{first['id']}").status_code == 400
    shown = nova.get_server(server.id)
    assert {v["id"] for v in shown.attached_volumes} == {first["id"], second["id"]}
    nova.delete_volume_attachment(server, first["id"])
    wait_for(lambda: volume_of(conn, first["id"]), lambda v: v["status"] == "available")
    assert [a.volume_id for a in nova.volume_attachments(server)] == [second["id"]]
    nova.delete_server(server)
    freed = wait_for(lambda: volume_of(conn, second["id"]), lambda v: v["status"] == "available")
    assert freed["attachments"] == []


def test_counters_show_live_volumes(cloud, conn):
    before = cloud.counters()["live"]["volumes"].get(conn.current_project_id, 0)
    volume = new_volume(conn)
    assert cloud.counters()["live"]["volumes"][conn.current_project_id] == before + 1
    call(conn, "DELETE", f"/volumes/{volume['id']}")
    assert gone(conn, f"/volumes/{volume['id']}")
    assert cloud.counters()["live"]["volumes"].get(conn.current_project_id, 0) == before
