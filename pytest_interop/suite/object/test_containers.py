"""objectstore-container-create, -delete, -list and -metadata: containers as users use them."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from pytest_interop.clouds.base import Cloud, Container, ContainerNotEmpty, ResourceNotFound


@pytest.mark.idempotent_id("91543bc0-a6fe-4d34-9927-09cf49844c5e")
def test_created_container_is_empty_and_keeps_metadata(
    cloud: Cloud, make_container: Callable[..., Container]
) -> None:
    made = make_container(metadata={"purpose": "interop"})
    found = cloud.get_container(made.name)
    assert found.name == made.name
    assert found.metadata.get("purpose") == "interop", f"metadata is {dict(found.metadata)}"
    assert cloud.list_objects(made.name) == [], "a new container is not empty"
    if found.object_count is not None:
        assert (found.object_count, found.bytes_used) == (0, 0)
    cloud.put_object(made.name, "first", b"stored")
    assert cloud.get_object(made.name, "first") == b"stored"


@pytest.mark.idempotent_id("b5423319-bcb9-417c-874f-8c93200334c4")
def test_deleted_container_is_gone(cloud: Cloud, make_container: Callable[..., Container]) -> None:
    made = make_container()
    cloud.delete_container(made.name)
    with pytest.raises(ResourceNotFound):
        cloud.get_container(made.name)
    with pytest.raises(ResourceNotFound):
        cloud.put_object(made.name, "late", b"no container to hold me")


@pytest.mark.idempotent_id("70906fbd-a7d1-4084-8672-3df0fb1272b8")
def test_container_with_objects_is_not_deleted(cloud: Cloud, container: Container) -> None:
    cloud.put_object(container.name, "keep-me", b"still here")
    with pytest.raises(ContainerNotEmpty):
        cloud.delete_container(container.name)
    assert cloud.get_object(container.name, "keep-me") == b"still here"
    cloud.delete_object(container.name, "keep-me")
    cloud.delete_container(container.name)
    with pytest.raises(ResourceNotFound):
        cloud.get_container(container.name)


@pytest.mark.idempotent_id("9e404d41-81cb-4311-8ef5-cbcdcfebc5ed")
def test_listing_shows_objects_with_sizes(cloud: Cloud, container: Container) -> None:
    contents = {"a/1": b"x" * 3, "a/2": b"y" * 5, "b/1": b""}
    for name, data in contents.items():
        cloud.put_object(container.name, name, data)
    listed = cloud.list_objects(container.name)
    assert [o.name for o in listed] == sorted(contents), "the listing is not the objects, sorted"
    assert {o.name: o.size for o in listed} == {k: len(v) for k, v in contents.items()}
    found = cloud.get_container(container.name)
    if found.object_count is not None:
        assert (found.object_count, found.bytes_used) == (3, 8)


@pytest.mark.idempotent_id("a19f80db-7d4b-415e-b5c0-bd516179ac6c")
def test_listing_filters_by_prefix_and_pages(cloud: Cloud, container: Container) -> None:
    names = ["log/1", "log/2", "log/3", "log/4", "pic/1"]
    for name in names:
        cloud.put_object(container.name, name, name.encode())
    assert [o.name for o in cloud.list_objects(container.name, prefix="log/")] == names[:4]
    page = cloud.list_objects(container.name, prefix="log/", limit=2)
    assert [o.name for o in page] == ["log/1", "log/2"]
    after = cloud.list_objects(container.name, prefix="log/", limit=2, marker=page[-1].name)
    assert [o.name for o in after] == ["log/3", "log/4"], "the marker does not continue the page"


@pytest.mark.idempotent_id("d61d12de-7dec-4b54-81a0-063ecbaa7cde")
def test_container_metadata_set_update_delete(cloud: Cloud, container: Container) -> None:
    assert cloud.set_container_metadata(container.name, {"owner": "ops", "tier": "gold"}) == {
        **cloud.get_container(container.name).metadata
    }
    cloud.set_container_metadata(container.name, {"tier": "silver"})
    metadata = cloud.get_container(container.name).metadata
    assert (metadata.get("owner"), metadata.get("tier")) == ("ops", "silver"), (
        f"an update did not keep or replace keys: {dict(metadata)}"
    )
    cloud.delete_container_metadata(container.name, ["owner"])
    metadata = cloud.get_container(container.name).metadata
    assert "owner" not in metadata and metadata.get("tier") == "silver", dict(metadata)
