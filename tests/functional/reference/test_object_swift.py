"""The reference cloud's Swift over HTTP: catalog, /info, listings, containers, objects, versions.

Driven with the token of unmodified openstacksdk and raw ``requests`` calls, as swiftclient
would make them.
"""

from __future__ import annotations

from collections.abc import Iterator

import openstack
import pytest
import requests

from pytest_interop.reference.object import exceptions
from pytest_interop.reference.object.models import Caller, acl_allows, version_name
from pytest_interop.reference.object.responses import parse_range
from tests.functional.reference.swift_client import Swift


@pytest.fixture(scope="module")
def swift(conn: openstack.connection.Connection) -> Iterator[Swift]:
    yield Swift(conn)


@pytest.fixture
def box(swift: Swift, request: pytest.FixtureRequest) -> Iterator[str]:
    name = f"box-{request.node.name[:40]}".replace("[", "-").replace("]", "")
    assert swift("PUT", name).status_code == 201
    yield name
    swift("POST", name, headers={"X-Remove-Versions-Location": "x"})
    listing = swift("GET", name, params={"format": "json"})
    for entry in listing.json() if listing.status_code == 200 else []:
        swift("DELETE", f"{name}/{entry['name']}")
    swift("DELETE", name)


# -- catalog and /info ----------------------------------------------------------------------
def test_catalog_names_the_projects_own_account(cloud, conn, other_conn) -> None:
    mine = conn.object_store.get_endpoint()
    theirs = other_conn.object_store.get_endpoint()
    assert mine.startswith(f"{cloud.base_url}/object/v1/AUTH_")
    assert mine.endswith(conn.current_project_id)
    assert theirs.endswith(other_conn.current_project_id) and theirs != mine


def test_info_is_public_and_lists_the_middlewares(cloud) -> None:
    answer = requests.get(f"{cloud.base_url}/object/info", timeout=10)
    assert answer.status_code == 200
    info = answer.json()
    assert {"swift", "tempurl", "container_quotas", "account_quotas", "versioned_writes"} <= set(
        info
    )
    assert "sha256" in info["tempurl"]["allowed_digests"]
    assert "x-history-location" in info["versioned_writes"]["allowed_flags"]


def test_sdk_reads_info(conn) -> None:
    assert conn.object_store.get_info().swift["max_file_size"] > 0


# -- accounts -------------------------------------------------------------------------------
def test_account_listing_formats_and_paging(swift: Swift) -> None:
    names = ["page-a", "page-b", "page-c", "zzz"]
    for name in names:
        swift("PUT", name)
    try:
        plain = swift("GET", params={"prefix": "page-"})
        assert plain.status_code == 200 and plain.text.split() == names[:3]
        assert plain.headers["Content-Type"].startswith("text/plain")
        listed = swift("GET", params={"format": "json", "prefix": "page-", "limit": 2})
        assert [e["name"] for e in listed.json()] == ["page-a", "page-b"]
        after = swift("GET", params={"format": "json", "prefix": "page-", "marker": "page-b"})
        assert [e["name"] for e in after.json()] == ["page-c"]
        ending = swift("GET", params={"format": "json", "end_marker": "page-b", "prefix": "page"})
        assert [e["name"] for e in ending.json()] == ["page-a"]
        empty = swift("GET", params={"prefix": "nothing-"})
        assert empty.status_code == 204
        assert swift("GET", params={"limit": "10001"}).status_code == 412
        head = swift("HEAD")
        assert int(head.headers["X-Account-Container-Count"]) >= 4
    finally:
        for name in names:
            swift("DELETE", name)


def test_account_metadata_set_and_remove(swift: Swift) -> None:
    assert swift("POST", headers={"X-Account-Meta-Colour": "blue"}).status_code == 204
    assert swift("HEAD").headers["X-Account-Meta-Colour"] == "blue"
    swift("POST", headers={"X-Remove-Account-Meta-Colour": "x"})
    assert "X-Account-Meta-Colour" not in swift("HEAD").headers


def test_account_of_another_project_is_forbidden(swift: Swift, other_conn) -> None:
    theirs = Swift(other_conn)
    assert swift("GET", account=theirs.account).status_code == 403
    assert (
        swift("POST", account=theirs.account, headers={"X-Account-Meta-A": "b"}).status_code == 403
    )


def test_requests_without_a_valid_token_are_unauthorised(swift: Swift) -> None:
    assert requests.get(swift.endpoint, timeout=10).status_code == 401
    bad = requests.get(swift.endpoint, headers={"X-Auth-Token": "nope"}, timeout=10)
    assert bad.status_code == 401


# -- containers ------------------------------------------------------------------------------
def test_container_create_update_delete(swift: Swift) -> None:
    assert swift("PUT", "life", headers={"X-Container-Meta-A": "1"}).status_code == 201
    assert swift("PUT", "life", headers={"X-Container-Meta-B": "2"}).status_code == 202
    head = swift("HEAD", "life")
    assert (head.headers["X-Container-Meta-A"], head.headers["X-Container-Meta-B"]) == ("1", "2")
    assert swift("POST", "life", headers={"X-Container-Meta-A": ""}).status_code == 204
    assert "X-Container-Meta-A" not in swift("HEAD", "life").headers
    swift("PUT", "life/obj", data=b"x")
    assert swift("DELETE", "life").status_code == 409
    swift("DELETE", "life/obj")
    assert swift("DELETE", "life").status_code == 204
    assert swift("DELETE", "life").status_code == 404
    assert swift("HEAD", "life").status_code == 404
    assert swift("POST", "life", headers={"X-Container-Meta-A": "1"}).status_code == 404


def test_container_names_and_quota_values_are_checked(swift: Swift, box: str) -> None:
    assert swift("PUT", "x" * 257).status_code == 400
    bad = swift("POST", box, headers={"X-Container-Meta-Quota-Bytes": "lots"})
    assert bad.status_code == 400
    too_many = {f"X-Container-Meta-K{i}": "v" for i in range(91)}
    assert swift("POST", box, headers=too_many).status_code == 400
    assert not [h for h in swift("HEAD", box).headers if h.startswith("X-Container-Meta-K")]


def test_object_listing_with_prefix_delimiter_and_counts(swift: Swift, box: str) -> None:
    for name in ("a/1", "a/2", "b", "c/d/e"):
        swift("PUT", f"{box}/{name}", data=name.encode())
    listing = swift("GET", box, params={"format": "json"}).json()
    assert [e["name"] for e in listing] == ["a/1", "a/2", "b", "c/d/e"]
    assert listing[0]["bytes"] == 3 and len(listing[0]["hash"]) == 32
    folded = swift("GET", box, params={"format": "json", "delimiter": "/"}).json()
    assert [e.get("subdir") or e["name"] for e in folded] == ["a/", "b", "c/"]
    reverse = swift("GET", box, params={"reverse": "true"}).text.split()
    assert reverse == ["c/d/e", "b", "a/2", "a/1"]
    head = swift("HEAD", box)
    assert (head.headers["X-Container-Object-Count"], head.headers["X-Container-Bytes-Used"]) == (
        "4",
        "12",
    )


# -- objects ----------------------------------------------------------------------------------
def test_object_put_get_head_post(swift: Swift, box: str) -> None:
    put = swift(
        "PUT",
        f"{box}/doc.txt",
        data=b"hello",
        headers={"Content-Type": "text/plain", "X-Object-Meta-Who": "me"},
    )
    assert put.status_code == 201 and put.headers["ETag"] == "5d41402abc4b2a76b9719d911017c592"
    got = swift("GET", f"{box}/doc.txt")
    assert got.content == b"hello" and got.headers["X-Object-Meta-Who"] == "me"
    assert got.headers["Content-Type"].startswith("text/plain")
    head = swift("HEAD", f"{box}/doc.txt")
    assert head.headers["Content-Length"] == "5" and head.content == b""
    assert swift("POST", f"{box}/doc.txt", headers={"X-Object-Meta-New": "1"}).status_code == 202
    after = swift("HEAD", f"{box}/doc.txt").headers
    assert after["X-Object-Meta-New"] == "1" and "X-Object-Meta-Who" not in after
    wrong = swift("PUT", f"{box}/bad", data=b"abc", headers={"ETag": "0" * 32})
    assert wrong.status_code == 422
    assert swift("GET", f"{box}/bad").status_code == 404


def test_range_requests(swift: Swift, box: str) -> None:
    swift("PUT", f"{box}/digits", data=b"0123456789")
    middle = swift("GET", f"{box}/digits", headers={"Range": "bytes=2-4"})
    assert middle.status_code == 206 and middle.content == b"234"
    assert middle.headers["Content-Range"] == "bytes 2-4/10"
    assert swift("GET", f"{box}/digits", headers={"Range": "bytes=7-"}).content == b"789"
    assert swift("GET", f"{box}/digits", headers={"Range": "bytes=-3"}).content == b"789"
    assert swift("GET", f"{box}/digits", headers={"Range": "bytes=8-100"}).content == b"89"
    assert swift("GET", f"{box}/digits", headers={"Range": "bytes=20-30"}).status_code == 416
    several = swift("GET", f"{box}/digits", headers={"Range": "bytes=0-1,4-5"})
    assert several.status_code == 200 and several.content == b"0123456789"


def test_parse_range_edge_cases() -> None:
    assert parse_range(None, 10) is None
    assert parse_range("bytes=5-2", 10) is None  # not a valid range: the whole object
    assert parse_range("items=1-2", 10) is None
    assert parse_range("bytes=0-0", 10) == (0, 0)
    with pytest.raises(exceptions.SwiftError):
        parse_range("bytes=-5", 0)


def test_copy_with_copy_method_and_x_copy_from(swift: Swift, box: str) -> None:
    swift("PUT", f"{box}/src", data=b"payload", headers={"X-Object-Meta-Tag": "t"})
    copied = swift("COPY", f"{box}/src", headers={"Destination": f"{box}/dst1"})
    assert copied.status_code == 201 and copied.headers["X-Copied-From"] == f"{box}/src"
    assert swift("GET", f"{box}/dst1").content == b"payload"
    assert swift("HEAD", f"{box}/dst1").headers["X-Object-Meta-Tag"] == "t"
    put = swift("PUT", f"{box}/dst2", headers={"X-Copy-From": f"/{box}/src"}, data=b"")
    assert put.status_code == 201 and swift("GET", f"{box}/dst2").content == b"payload"
    assert swift("COPY", f"{box}/src").status_code == 412
    missing = swift("COPY", f"{box}/nothing", headers={"Destination": f"{box}/x"})
    assert missing.status_code == 404


# -- versions -----------------------------------------------------------------------------------
def test_stack_mode_keeps_and_restores_versions(swift: Swift, box: str) -> None:
    archive = f"{box}-archive"
    swift("PUT", archive)
    try:
        assert swift("POST", box, headers={"X-Versions-Location": archive}).status_code == 204
        assert swift("HEAD", box).headers["X-Versions-Location"] == archive
        for content in (b"v1", b"v2", b"v3"):
            swift("PUT", f"{box}/o", data=content)
        kept = swift("GET", archive, params={"format": "json"}).json()
        assert [e["name"][:6] for e in kept] == ["001o/1", "001o/1"]
        assert [swift("GET", f"{archive}/{e['name']}").content for e in kept] == [b"v1", b"v2"]
        swift("DELETE", f"{box}/o")  # the newest kept version comes back
        assert swift("GET", f"{box}/o").content == b"v2"
        swift("DELETE", f"{box}/o")
        swift("DELETE", f"{box}/o")
        assert swift("GET", f"{box}/o").status_code == 404
        assert swift("DELETE", f"{box}/o").status_code == 404
    finally:
        swift("POST", box, headers={"X-Remove-Versions-Location": "x"})
        for entry in swift("GET", archive, params={"format": "json"}).json() or []:
            swift("DELETE", f"{archive}/{entry['name']}")
        swift("DELETE", archive)


def test_history_mode_archives_on_delete(swift: Swift, box: str) -> None:
    archive = f"{box}-history"
    swift("PUT", archive)
    try:
        swift("POST", box, headers={"X-History-Location": archive})
        swift("PUT", f"{box}/o", data=b"only")
        swift("DELETE", f"{box}/o")
        assert swift("GET", f"{box}/o").status_code == 404
        kept = swift("GET", archive, params={"format": "json"}).json()
        assert len(kept) == 1 and swift("GET", f"{archive}/{kept[0]['name']}").content == b"only"
    finally:
        swift("POST", box, headers={"X-Remove-History-Location": "x"})
        for entry in swift("GET", archive, params={"format": "json"}).json() or []:
            swift("DELETE", f"{archive}/{entry['name']}")
        swift("DELETE", archive)


def test_versions_settings_are_checked(swift: Swift, box: str) -> None:
    both = swift("POST", box, headers={"X-Versions-Location": "a", "X-History-Location": "b"})
    assert both.status_code == 400
    swift("POST", box, headers={"X-Versions-Location": "no-such-archive"})
    swift("PUT", f"{box}/o", data=b"1")
    assert swift("PUT", f"{box}/o", data=b"2").status_code == 412  # nowhere to keep v1
    swift("POST", box, headers={"X-Remove-Versions-Location": "x"})
    assert "X-Versions-Location" not in swift("HEAD", box).headers


def test_version_names_sort_in_time_order() -> None:
    assert version_name("o", 1700000000.5) == "001o/1700000000.50000"
    assert version_name("o", 1700000000.5) < version_name("o", 1700000001.25)
    assert version_name("ab", 1.0).startswith("002ab/")


# -- ACL rules (model level) -----------------------------------------------------------------
def test_acl_matching() -> None:
    peer = Caller(project_id="p2", project_name="peer", user_id="u2", user_name="bob")
    nobody = Caller()
    assert acl_allows("p2:*", peer) and acl_allows("peer:bob", peer) and acl_allows("*:u2", peer)
    assert not acl_allows("p3:*", peer) and not acl_allows("p2:someone", peer)
    assert not acl_allows("p2:*", nobody)
    assert acl_allows(".r:*", nobody) and not acl_allows(".r:*", nobody, listing=True)
    assert acl_allows(".r:*,.rlistings", nobody, listing=True)
    assert not acl_allows("", peer)
