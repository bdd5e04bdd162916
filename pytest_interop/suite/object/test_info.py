"""objectstore-info-request: the cluster says what it allows (/info), and allows it."""

from __future__ import annotations

from typing import Any

import pytest

from pytest_interop.clouds.base import Cloud, Container


@pytest.mark.idempotent_id("cb545e85-c388-4d74-a70e-011d605c76e0")
def test_info_describes_the_cluster(cloud: Cloud, record_finding: Any) -> None:
    info = cloud.object_store_info()
    swift = info.get("swift")
    assert isinstance(swift, dict), f"/info has no 'swift' section: {sorted(info)}"
    assert swift.get("version"), "/info names no Swift version"
    for limit in ("max_file_size", "container_listing_limit", "max_object_name_length"):
        value = swift.get(limit)
        assert isinstance(value, int) and value > 0, f"/info swift.{limit} is {value!r}"
    record_finding("swift_version", swift["version"])
    record_finding("object_middleware", sorted(key for key in info if key != "swift"))


@pytest.mark.idempotent_id("adfc4b3d-d62c-4b98-a18e-70cdec8c5e1d")
def test_advertised_name_length_is_accepted(cloud: Cloud, container: Container) -> None:
    limit = cloud.object_store_info()["swift"]["max_object_name_length"]
    longest = "n" * min(limit, 1024)  # 1024 is Swift's default; longer ones are rare
    cloud.put_object(container.name, longest, b"the longest name")
    assert cloud.get_object(container.name, longest) == b"the longest name"
    assert [o.name for o in cloud.list_objects(container.name)] == [longest]
