"""objectstore-object-versioned: a versioned container keeps what an overwrite replaced."""

from __future__ import annotations

import pytest

from pytest_interop.clouds.base import Cloud, Container


@pytest.mark.idempotent_id("0d82e33b-7f9e-4f99-a98a-915e22a41f95")
def test_versioned_container_keeps_the_old_versions(cloud: Cloud, container: Container) -> None:
    cloud.enable_versioning(container.name)
    for content in (b"version one", b"version two", b"version three"):
        cloud.put_object(container.name, "doc", content)
    assert cloud.get_object(container.name, "doc") == b"version three"
    assert cloud.object_versions(container.name, "doc") == [b"version two", b"version one"]
    assert [o.name for o in cloud.list_objects(container.name)] == ["doc"], (
        "old versions must not show up as objects of the container"
    )


@pytest.mark.idempotent_id("58d39ab9-b740-4497-bac8-6c0c0fe17b9d")
def test_versions_are_per_object(cloud: Cloud, container: Container) -> None:
    cloud.enable_versioning(container.name)
    cloud.put_object(container.name, "a", b"a1")
    cloud.put_object(container.name, "ab", b"ab1")
    cloud.put_object(container.name, "a", b"a2")
    assert cloud.object_versions(container.name, "a") == [b"a1"]
    assert cloud.object_versions(container.name, "ab") == []
