"""objectstore-object-create, -get, -copy and -delete: what is stored is what comes back."""

from __future__ import annotations

import hashlib
import os

import pytest

from pytest_interop.clouds.base import Cloud, Container, ResourceNotFound


@pytest.mark.idempotent_id("31fe6627-61bd-4c53-9467-aecff83ee74c")
def test_stored_object_reads_back_with_its_metadata(cloud: Cloud, container: Container) -> None:
    data = os.urandom(64 * 1024)
    stored = cloud.put_object(
        container.name, "dir/blob.bin", data, content_type="application/x-test", metadata={"k": "v"}
    )
    assert cloud.get_object(container.name, "dir/blob.bin") == data
    head = cloud.head_object(container.name, "dir/blob.bin")
    assert head.size == len(data)
    assert head.content_type == "application/x-test"
    assert head.metadata.get("k") == "v", f"metadata came back as {dict(head.metadata)}"
    md5 = hashlib.md5(data, usedforsecurity=False).hexdigest()
    assert head.etag == md5 and stored.etag in (None, md5), "the ETag is not the data's MD5"


@pytest.mark.idempotent_id("c33471cd-e028-42d0-8a89-7cf29de7f5d0")
def test_overwrite_replaces_the_content(cloud: Cloud, container: Container) -> None:
    cloud.put_object(container.name, "note", b"first version, the longer one")
    cloud.put_object(container.name, "note", b"second")
    assert cloud.get_object(container.name, "note") == b"second"
    assert [(o.name, o.size) for o in cloud.list_objects(container.name)] == [("note", 6)]


@pytest.mark.idempotent_id("96c9fe3b-db89-4391-95f5-a25e3b626cab")
def test_range_get_returns_the_bytes_asked(cloud: Cloud, container: Container) -> None:
    data = bytes(range(256)) * 4
    cloud.put_object(container.name, "ranged", data)
    for first, last in ((0, 0), (10, 19), (1000, 1023), (512, 4096)):
        got = cloud.get_object(container.name, "ranged", byte_range=(first, last))
        assert got == data[first : last + 1], f"bytes {first}-{last} came back wrong"
    assert cloud.get_object(container.name, "ranged") == data


@pytest.mark.idempotent_id("3894f8a0-027d-4357-872a-0ef12de4c726")
def test_get_of_a_missing_object_is_not_found(cloud: Cloud, container: Container) -> None:
    with pytest.raises(ResourceNotFound):
        cloud.get_object(container.name, "never-stored")


@pytest.mark.idempotent_id("9d463c25-a1a8-4210-8dc5-a89c3ea4d2db")
def test_copy_has_the_same_content(cloud: Cloud, container: Container, make_container) -> None:
    data = os.urandom(10_000)
    cloud.put_object(container.name, "source", data, metadata={"origin": "interop"})
    other = make_container()
    copied = cloud.copy_object(container.name, "source", other.name, "copy")
    assert cloud.get_object(other.name, "copy") == data
    assert copied.size == len(data)
    assert copied.etag == cloud.head_object(container.name, "source").etag
    assert copied.metadata.get("origin") == "interop", "a copy lost the object's metadata"
    cloud.copy_object(container.name, "source", container.name, "same-container-copy")
    assert cloud.get_object(container.name, "same-container-copy") == data


@pytest.mark.idempotent_id("c86a7b4c-1a67-4dc9-b080-c43f64a255f6")
def test_copy_is_independent_of_its_source(cloud: Cloud, container: Container) -> None:
    cloud.put_object(container.name, "source", b"before")
    cloud.copy_object(container.name, "source", container.name, "copy")
    cloud.put_object(container.name, "source", b"after")
    cloud.delete_object(container.name, "source")
    assert cloud.get_object(container.name, "copy") == b"before"


@pytest.mark.idempotent_id("97618c62-a432-4ff1-b92a-5febb390ab76")
def test_deleted_object_is_gone(cloud: Cloud, container: Container) -> None:
    cloud.put_object(container.name, "doomed", b"bye")
    cloud.put_object(container.name, "survivor", b"stays")
    cloud.delete_object(container.name, "doomed")
    with pytest.raises(ResourceNotFound):
        cloud.get_object(container.name, "doomed")
    assert [o.name for o in cloud.list_objects(container.name)] == ["survivor"]
    assert cloud.get_object(container.name, "survivor") == b"stays"
    with pytest.raises(ResourceNotFound):
        cloud.delete_object(container.name, "doomed")
