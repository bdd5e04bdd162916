"""Changing a server's metadata and name, and seeing the change wherever the server is read.

Capabilities: compute-servers-metadata-set, -update, -delete, -get, -list, and
compute-servers-update (rename). One server is booted for this module and changed by its tests;
each test works on keys of its own, so the order of the tests does not matter. The behaviour
(set, update, delete reflected in get and list) goes through the adapter and so runs on every
provider; Nova's own routes (replace-all, metadata items, rename) go through ``os_conn``.
"""

from __future__ import annotations

import contextlib
import secrets
import uuid
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote, urlencode

import pytest

from pytest_interop.clouds.base import Cloud, ResourceNotFound, Server

from .nova import nova, nova_json

BOOT_METADATA = {"interop-boot": "given at boot"}
MAX_NAME = 255


def key(label: str) -> str:
    """A metadata key no other test uses."""
    return f"interop-{label}-{secrets.token_hex(3)}"


def views(cloud: Cloud, server_id: str) -> dict[str, dict[str, str]]:
    """The server's metadata as each read shows it: the metadata call, get, list."""
    listed = next((s for s in cloud.list_servers() if s.id == server_id), None)
    assert listed is not None, f"server {server_id} is not listed"
    return {
        "metadata": dict(cloud.get_server_metadata(server_id)),
        "get": dict(cloud.get_server(server_id).metadata),
        "list": dict(listed.metadata),
    }


def assert_everywhere(cloud: Cloud, server_id: str, present: dict[str, str], absent=()) -> None:
    for where, metadata in views(cloud, server_id).items():
        wrong = {k: metadata.get(k) for k, v in present.items() if metadata.get(k) != v}
        assert not wrong, f"{where} shows {wrong}, expected {present}"
        still = [k for k in absent if k in metadata]
        assert not still, f"{where} still shows {still}"


@pytest.fixture(scope="module")
def changeable_server(cloud: Cloud) -> Iterator[Server]:
    """A server of this module's own (no login needed), booted with metadata."""
    server = cloud.create_server(cloud.resource_name("meta"), metadata=BOOT_METADATA)
    try:
        yield server
    finally:
        with contextlib.suppress(ResourceNotFound):
            cloud.delete_server(server.id)


# --- compute-servers-metadata-list ---------------------------------------------------------------


@pytest.mark.idempotent_id("4c102d76-d984-4cfb-9327-e6e4ab8d1690")
def test_metadata_list_holds_boot_and_later_keys(cloud, changeable_server):
    later = {key("list"): "set later"}
    cloud.set_server_metadata(changeable_server.id, later)
    seen = views(cloud, changeable_server.id)
    assert_everywhere(cloud, changeable_server.id, {**BOOT_METADATA, **later})
    assert seen["metadata"] == seen["get"] == seen["list"], f"the reads disagree: {seen}"


@pytest.mark.idempotent_id("904d725c-95a0-43a6-81e3-97759409acc0")
def test_metadata_route_lists_what_the_server_shows(os_conn, changeable_server):
    listed = nova_json(os_conn, "GET", f"/servers/{changeable_server.id}/metadata")["metadata"]
    shown = nova_json(os_conn, "GET", f"/servers/{changeable_server.id}")["server"]["metadata"]
    assert listed == shown, f"GET .../metadata gives {listed}, the server shows {shown}"
    assert BOOT_METADATA.items() <= listed.items(), f"the boot metadata is missing: {listed}"


# --- compute-servers-metadata-set ----------------------------------------------------------------


@pytest.mark.idempotent_id("612e3836-c638-43d4-a167-f0d096e3a559")
def test_set_metadata_is_reflected_in_get_and_list(cloud, changeable_server):
    added = {key("set-a"): "first", key("set-b"): "second value, with spaces"}
    cloud.set_server_metadata(changeable_server.id, added)
    assert_everywhere(cloud, changeable_server.id, {**BOOT_METADATA, **added})


@pytest.mark.idempotent_id("86e4190e-6c11-484a-b22b-f95d0f6710ca")
def test_replace_metadata_drops_the_keys_not_given(os_conn, cloud, changeable_server):
    dropped, kept, new = key("dropped"), key("kept"), key("new")
    cloud.set_server_metadata(changeable_server.id, {dropped: "goes", kept: "stays"})
    current = cloud.get_server_metadata(changeable_server.id)
    wanted = {k: v for k, v in current.items() if k != dropped} | {new: "arrives"}
    answer = nova_json(
        os_conn, "PUT", f"/servers/{changeable_server.id}/metadata", json={"metadata": wanted}
    )["metadata"]
    assert answer == wanted, f"replacing with {wanted} answered {answer}"
    assert_everywhere(cloud, changeable_server.id, wanted, absent=[dropped])


@pytest.mark.idempotent_id("30fa044e-82bb-4d99-8736-ae6b09d3ce90")
def test_set_metadata_item(os_conn, cloud, changeable_server):
    item, other = key("item"), key("other")
    cloud.set_server_metadata(changeable_server.id, {other: "untouched"})
    path = f"/servers/{changeable_server.id}/metadata/{quote(item)}"
    answer = nova_json(os_conn, "PUT", path, json={"meta": {item: "one item"}})
    assert answer == {"meta": {item: "one item"}}, f"PUT {path} answered {answer}"
    assert_everywhere(cloud, changeable_server.id, {item: "one item", other: "untouched"})
    # The key in the body must be the key in the path.
    mismatch = nova(os_conn, "PUT", path, json={"meta": {key("elsewhere"): "x"}})
    assert mismatch.status_code == 400, f"a body/URI key mismatch answered {mismatch.status_code}"


# --- compute-servers-metadata-update -------------------------------------------------------------


@pytest.mark.idempotent_id("5debdcd8-4051-493d-91d4-85a86a2fe9bc")
def test_update_changes_values_and_keeps_other_keys(cloud, changeable_server):
    changed, unchanged, added = key("changed"), key("unchanged"), key("added")
    cloud.set_server_metadata(changeable_server.id, {changed: "before", unchanged: "same"})
    cloud.set_server_metadata(changeable_server.id, {changed: "after", added: "new"})
    expected = {**BOOT_METADATA, changed: "after", unchanged: "same", added: "new"}
    assert_everywhere(cloud, changeable_server.id, expected)


@pytest.mark.idempotent_id("d68d6fda-04d5-4142-8cf6-362ef8a382e4")
def test_update_route_answers_the_whole_metadata(os_conn, cloud, changeable_server):
    changed, unchanged = key("route-changed"), key("route-unchanged")
    cloud.set_server_metadata(changeable_server.id, {changed: "before", unchanged: "same"})
    answer = nova_json(
        os_conn,
        "POST",
        f"/servers/{changeable_server.id}/metadata",
        json={"metadata": {changed: "after"}},
    )["metadata"]
    current = cloud.get_server_metadata(changeable_server.id)
    assert answer == current, f"POST .../metadata answered {answer}; the server now has {current}"
    assert {**BOOT_METADATA, changed: "after", unchanged: "same"}.items() <= answer.items()


# --- compute-servers-metadata-delete -------------------------------------------------------------


@pytest.mark.idempotent_id("ec105462-09e7-48e3-86b5-2a81a93a7b77")
def test_delete_removes_only_that_key(cloud, changeable_server):
    removed, kept = key("removed"), key("kept")
    cloud.set_server_metadata(changeable_server.id, {removed: "goes", kept: "stays"})
    cloud.delete_server_metadata(changeable_server.id, [removed])
    assert_everywhere(
        cloud, changeable_server.id, {**BOOT_METADATA, kept: "stays"}, absent=[removed]
    )


@pytest.mark.idempotent_id("45026fd1-ab7d-4485-9592-1db02dc22a41")
def test_deleted_metadata_item_is_not_found(os_conn, cloud, changeable_server):
    removed = key("gone")
    cloud.set_server_metadata(changeable_server.id, {removed: "short-lived"})
    path = f"/servers/{changeable_server.id}/metadata/{quote(removed)}"
    response = nova(os_conn, "DELETE", path)
    assert response.status_code == 204, f"DELETE {path} answered {response.status_code}"
    for method in ("GET", "DELETE"):
        again = nova(os_conn, method, path)
        assert again.status_code == 404, (
            f"{method} of a deleted metadata item answered {again.status_code}, not 404"
        )


# --- compute-servers-metadata-get ----------------------------------------------------------------


@pytest.mark.idempotent_id("32019bd3-dafb-4997-865a-84cc99e16ec0")
def test_get_metadata_item_returns_its_value(os_conn, cloud, changeable_server):
    item = key("get")
    cloud.set_server_metadata(changeable_server.id, {item: "the value"})
    answer = nova_json(os_conn, "GET", f"/servers/{changeable_server.id}/metadata/{quote(item)}")
    assert answer == {"meta": {item: "the value"}}, f"GET of item {item} answered {answer}"
    boot_key, boot_value = next(iter(BOOT_METADATA.items()))
    answer = nova_json(
        os_conn, "GET", f"/servers/{changeable_server.id}/metadata/{quote(boot_key)}"
    )
    assert answer == {"meta": {boot_key: boot_value}}, f"the boot item reads {answer}"
    unknown = nova(os_conn, "GET", f"/servers/{changeable_server.id}/metadata/{key('never')}")
    assert unknown.status_code == 404, f"an unknown item answered {unknown.status_code}"


# --- compute-servers-update (rename) -------------------------------------------------------------


def names_matching(os_conn: Any, name: str) -> list[str]:
    query = urlencode({"name": f"^{name}$"})
    return [s["id"] for s in nova_json(os_conn, "GET", f"/servers?{query}")["servers"]]


@pytest.mark.idempotent_id("e6b2dde3-efc6-4f82-817f-cb50722e8d48")
def test_rename_is_reflected_in_get_list_and_filters(os_conn, cloud, changeable_server):
    before = cloud.get_server(changeable_server.id).name
    after = cloud.resource_name("renamed")
    answer = nova_json(
        os_conn, "PUT", f"/servers/{changeable_server.id}", json={"server": {"name": after}}
    )["server"]
    assert answer["name"] == after, f"the rename answered name {answer['name']!r}"
    assert cloud.get_server(changeable_server.id).name == after
    listed = {s.id: s.name for s in cloud.list_servers()}
    assert listed.get(changeable_server.id) == after, f"the list names it {listed}"
    assert names_matching(os_conn, after) == [changeable_server.id]
    assert changeable_server.id not in names_matching(os_conn, before), (
        "the old name still finds the server"
    )


@pytest.mark.idempotent_id("da91e172-d054-40d0-9dbe-fcd5a8f85ec7")
def test_rename_refuses_blank_and_over_long_names(os_conn, cloud, changeable_server):
    before = cloud.get_server(changeable_server.id).name
    for bad in ("", "n" * (MAX_NAME + 1)):
        response = nova(
            os_conn, "PUT", f"/servers/{changeable_server.id}", json={"server": {"name": bad}}
        )
        assert response.status_code == 400, (
            f"a rename to a {len(bad)}-character name answered {response.status_code}, not 400"
        )
    assert cloud.get_server(changeable_server.id).name == before, "a refused rename changed it"


@pytest.mark.idempotent_id("e93fa4d6-9fcc-4981-b34d-ab0ffc713291")
def test_rename_unknown_server_is_not_found(os_conn):
    response = nova(os_conn, "PUT", f"/servers/{uuid.uuid4()}", json={"server": {"name": "x"}})
    assert response.status_code == 404, (
        f"renaming an unknown server answered {response.status_code}"
    )


@pytest.mark.idempotent_id("9ed82063-7370-4f46-b6b8-706c8830c6fb")
def test_access_addresses_update_is_reflected(os_conn, changeable_server):
    # Documentation addresses (RFC 5737, RFC 3849): recorded by Nova, never connected to.
    wanted = {"accessIPv4": "192.0.2.10", "accessIPv6": "2001:db8::10"}
    answer = nova_json(os_conn, "PUT", f"/servers/{changeable_server.id}", json={"server": wanted})[
        "server"
    ]
    shown = nova_json(os_conn, "GET", f"/servers/{changeable_server.id}")["server"]
    for field, value in wanted.items():
        assert answer[field] == value, f"the update answered {field}={answer[field]!r}"
        assert shown[field] == value, f"the server shows {field}={shown[field]!r}, set {value}"
