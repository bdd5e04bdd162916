"""Volumes as records: create and delete, get, list, update, metadata, zones, extensions.

Capabilities: volumes-v{2,3}-create-delete, -get, -list, -update, -metadata,
-availability-zones, -extensions, and volumes-list-api-versions. Every behaviour has a v2 and
a v3 test (the same checks, through the catalog's v2 or v3 endpoint); on a cloud with one
block-storage API (EBS) both run the same calls.
"""

from __future__ import annotations

import re

import pytest

from pytest_interop.clouds.base import ResourceNotFound
from pytest_interop.suite.volume.conftest import (
    VolumeBox,
    cinder,
    metadata_without_run_tags,
    unique,
)

# --- create-delete ---------------------------------------------------------------------------


def check_create_and_delete(box: VolumeBox) -> None:
    volume = box.volume(1)
    assert volume.status == "available"
    assert volume.size_gb == 1
    assert not volume.attachments
    assert volume.id in {v.id for v in box.cloud.list_volumes()}

    box.cloud.delete_volume(volume.id)
    box.forget("volume", volume.id)
    with pytest.raises(ResourceNotFound):
        box.cloud.get_volume(volume.id)
    assert volume.id not in {v.id for v in box.cloud.list_volumes()}


def check_size_is_what_was_asked(box: VolumeBox) -> None:
    small, large = box.volume(1), box.volume(2)
    assert (small.size_gb, large.size_gb) == (1, 2)
    assert box.cloud.get_volume(large.id).size_gb == 2


@pytest.mark.idempotent_id("01706708-eb5b-4905-ac45-ac2ce20c28f5")
def test_v2_volume_is_created_available_and_deleted(volumes_v2):
    check_create_and_delete(volumes_v2)


@pytest.mark.idempotent_id("10ef09de-31d3-4577-a721-50030f1e2d79")
def test_v3_volume_is_created_available_and_deleted(volumes_v3):
    check_create_and_delete(volumes_v3)


@pytest.mark.idempotent_id("40c8d34a-1928-4950-81bd-8f95080a008d")
def test_v2_volume_has_the_size_asked_for(volumes_v2):
    check_size_is_what_was_asked(volumes_v2)


@pytest.mark.idempotent_id("8d869aed-8d97-4e46-83a1-ea8975d785c0")
def test_v3_volume_has_the_size_asked_for(volumes_v3):
    check_size_is_what_was_asked(volumes_v3)


# --- get -------------------------------------------------------------------------------------


def check_get(box: VolumeBox) -> None:
    name = unique("vol")
    created = box.volume(1, name=name, metadata={"purpose": "get"})
    fetched = box.cloud.get_volume(created.id)
    assert fetched.id == created.id
    assert fetched.name == name
    assert fetched.size_gb == 1
    assert fetched.status == "available"
    assert fetched.bootable is False
    assert metadata_without_run_tags(fetched.metadata) == {"purpose": "get"}
    assert fetched.availability_zone in box.cloud.volume_availability_zones()
    with pytest.raises(ResourceNotFound):
        box.cloud.get_volume(unique_missing_id(box))


def unique_missing_id(box: VolumeBox) -> str:
    if box.cloud.provider == "aws":
        return "vol-0123456789abcdef0"
    return "00000000-0000-4000-8000-000000000000"


@pytest.mark.idempotent_id("ce79df66-0166-41bb-9c8b-1377d0a6978a")
def test_v2_volume_get_shows_what_was_created(volumes_v2):
    check_get(volumes_v2)


@pytest.mark.idempotent_id("9df6ef3e-d4c2-466c-8b3b-f48c6c384754")
def test_v3_volume_get_shows_what_was_created(volumes_v3):
    check_get(volumes_v3)


# --- list ------------------------------------------------------------------------------------


def check_list_and_filters(box: VolumeBox) -> None:
    first, second = box.volume(1, name=unique("vol")), box.volume(1, name=unique("vol"))
    listed = {v.id: v for v in box.cloud.list_volumes()}
    assert {first.id, second.id} <= set(listed)
    assert listed[first.id].name == first.name
    by_name = box.cloud.list_volumes(name=first.name)
    assert [v.id for v in by_name] == [first.id]
    available = {v.id for v in box.cloud.list_volumes(status="available")}
    assert {first.id, second.id} <= available
    assert not {v.id for v in box.cloud.list_volumes(status="error")} & {first.id, second.id}


def check_paging(box: VolumeBox) -> None:
    # Page over this test's own volumes only: other tests' volumes come and go meanwhile,
    # and one deleted while it is our marker would end the walk with a 404.
    name = unique("paged")
    made = {box.volume(1, name=name).id for _ in range(3)}
    seen: list[str] = []
    path = f"/volumes/detail?limit=1&name={name}"
    for _ in range(100):
        response = cinder(box, "GET", path)
        assert response.status_code == 200, response.text
        body = response.json()
        assert len(body["volumes"]) <= 1
        seen.extend(item["id"] for item in body["volumes"])
        nexts = [link["href"] for link in body.get("volumes_links", []) if link["rel"] == "next"]
        if not nexts:
            break
        path = "/volumes/detail?" + nexts[0].split("?", 1)[1]
    assert len(seen) == len(set(seen)), "a page repeated a volume"
    assert set(seen) == made
    summary = cinder(box, "GET", "/volumes").json()["volumes"]
    assert made <= {item["id"] for item in summary}
    assert all(set(item) >= {"id", "name", "links"} for item in summary)


@pytest.mark.idempotent_id("e7e9b7bb-3297-4f3a-82fa-1bebdfc1918f")
def test_v2_volume_list_shows_the_projects_volumes_and_filters(volumes_v2):
    check_list_and_filters(volumes_v2)


@pytest.mark.idempotent_id("b488ba85-e2d6-44ca-91a9-acf4ef4147de")
def test_v3_volume_list_shows_the_projects_volumes_and_filters(volumes_v3):
    check_list_and_filters(volumes_v3)


@pytest.mark.idempotent_id("2ee7a8a8-7975-4baa-af85-6dc00e6e818f")
def test_v2_volume_list_pages_with_limit_and_marker(volumes_v2):
    check_paging(volumes_v2)


@pytest.mark.idempotent_id("d71899d4-36a8-4a44-a237-8e24d98bcf39")
def test_v3_volume_list_pages_with_limit_and_marker(volumes_v3):
    check_paging(volumes_v3)


# --- update ----------------------------------------------------------------------------------


def check_rename(box: VolumeBox) -> None:
    volume = box.volume(1)
    new_name = unique("renamed")
    updated = box.cloud.update_volume(volume.id, name=new_name)
    assert updated.name == new_name
    assert box.cloud.get_volume(volume.id).name == new_name
    assert [v.id for v in box.cloud.list_volumes(name=new_name)] == [volume.id]
    assert box.cloud.get_volume(volume.id).size_gb == 1  # an update changes nothing else


def check_description(box: VolumeBox) -> None:
    volume = box.volume(1)
    box.cloud.update_volume(volume.id, description="first words")
    box.cloud.update_volume(volume.id, description="second words")
    assert box.cloud.get_volume(volume.id).description == "second words"


@pytest.mark.idempotent_id("c5119a85-1465-4f5c-b8dc-2b7817e72cf2")
def test_v2_volume_rename_is_seen_by_get_and_list(volumes_v2):
    check_rename(volumes_v2)


@pytest.mark.idempotent_id("cf123828-68bf-4ed0-9ee4-007246a2fae2")
def test_v3_volume_rename_is_seen_by_get_and_list(volumes_v3):
    check_rename(volumes_v3)


@pytest.mark.idempotent_id("626bb1f0-e0f3-4349-b5c6-b3da36ef0a5c")
def test_v2_volume_description_update_is_kept(volumes_v2):
    check_description(volumes_v2)


@pytest.mark.idempotent_id("e76dc6ef-a5cb-4730-9646-af82e5f65ced")
def test_v3_volume_description_update_is_kept(volumes_v3):
    check_description(volumes_v3)


# --- metadata --------------------------------------------------------------------------------


def check_metadata(box: VolumeBox) -> None:
    volume = box.volume(1, metadata={"tier": "gold"})
    cloud = box.cloud
    assert metadata_without_run_tags(cloud.get_volume_metadata(volume.id)) == {"tier": "gold"}

    merged = cloud.set_volume_metadata(volume.id, {"owner": "ops", "tier": "silver"})
    assert metadata_without_run_tags(merged) == {"owner": "ops", "tier": "silver"}
    assert metadata_without_run_tags(cloud.get_volume(volume.id).metadata) == {
        "owner": "ops",
        "tier": "silver",
    }

    cloud.delete_volume_metadata(volume.id, ["owner"])
    assert metadata_without_run_tags(cloud.get_volume_metadata(volume.id)) == {"tier": "silver"}
    other = box.volume(1)
    assert "tier" not in cloud.get_volume_metadata(other.id), "metadata leaked to another volume"


@pytest.mark.idempotent_id("1229ee5d-b53e-4892-9486-eeb8e1024d5b")
def test_v2_volume_metadata_set_update_delete(volumes_v2):
    check_metadata(volumes_v2)


@pytest.mark.idempotent_id("f626ac4e-87f6-402d-a8d1-35f4e807d83d")
def test_v3_volume_metadata_set_update_delete(volumes_v3):
    check_metadata(volumes_v3)


# --- availability zones ------------------------------------------------------------------------


def check_zones(box: VolumeBox) -> None:
    zones = box.cloud.volume_availability_zones()
    assert zones, "no volume availability zone is available"
    volume = box.volume(1, availability_zone=zones[0])
    assert box.cloud.get_volume(volume.id).availability_zone == zones[0]
    with pytest.raises(Exception) as refused:
        box.volume(1, availability_zone="interop-no-such-zone")
    assert not isinstance(refused.value, ResourceNotFound | AssertionError)


@pytest.mark.idempotent_id("00c78738-6cc4-43f4-9531-0d25b939bcf8")
def test_v2_volume_lands_in_a_listed_zone_and_a_bogus_zone_is_refused(volumes_v2):
    check_zones(volumes_v2)


@pytest.mark.idempotent_id("d3d66598-d69d-43c6-b9d2-30a8387645db")
def test_v3_volume_lands_in_a_listed_zone_and_a_bogus_zone_is_refused(volumes_v3):
    check_zones(volumes_v3)


# --- extensions ------------------------------------------------------------------------------


def check_extensions(box: VolumeBox) -> None:
    response = cinder(box, "GET", "/extensions")
    assert response.status_code == 200, response.text
    extensions = response.json()["extensions"]
    assert extensions, "the extension list is empty"
    for extension in extensions:
        assert extension["alias"] and extension["name"], extension
        assert "description" in extension and "updated" in extension, extension
    aliases = [extension["alias"] for extension in extensions]
    assert len(aliases) == len(set(aliases)), "an extension alias is listed twice"


@pytest.mark.idempotent_id("b30f1f88-78e7-4ed3-8113-1e0dac0fb188")
def test_v2_volume_extensions_are_listed(volumes_v2):
    check_extensions(volumes_v2)


@pytest.mark.idempotent_id("28066762-0e11-4855-82e3-a4a6a979ddf5")
def test_v3_volume_extensions_are_listed(volumes_v3):
    check_extensions(volumes_v3)


# --- volumes-list-api-versions -------------------------------------------------------------------


@pytest.mark.idempotent_id("ae113b77-9c19-45d5-9d62-c0ca81c063e4")
def test_volume_api_versions_are_listed_and_reachable(os_conn, record_finding):
    endpoint = os_conn.block_storage.get_endpoint()
    # The unversioned root: the endpoint without its version (and project) segments.
    root = re.sub(r"/v[0-9][^/]*(/.*)?$", "/", endpoint.rstrip("/"))
    session = os_conn.session
    response = session.get(root, raise_exc=False, authenticated=False)
    assert response.status_code in (200, 300), response.text
    versions = response.json()["versions"]
    by_id = {version["id"]: version for version in versions}
    assert any(v.startswith("v3") for v in by_id), f"no v3 in {sorted(by_id)}"
    current = [v for v in versions if v["status"] == "CURRENT"]
    assert len(current) == 1, f"expected one CURRENT version, got {versions}"
    v3 = next(version for key, version in by_id.items() if key.startswith("v3"))
    assert v3["min_version"] and v3["version"], "v3 must name its microversion range"
    low = tuple(int(p) for p in v3["min_version"].split("."))
    high = tuple(int(p) for p in v3["version"].split("."))
    assert low <= high
    record_finding("volume_api_versions", sorted(by_id))
    record_finding("volume_v3_microversions", f"{v3['min_version']}-{v3['version']}")
    for version in versions:
        links = [link["href"] for link in version.get("links", []) if link.get("rel") == "self"]
        assert links, f"{version['id']} has no self link"
        answer = session.get(links[0], raise_exc=False, authenticated=False)
        assert answer.status_code in (200, 300), f"{links[0]} answered {answer.status_code}"
