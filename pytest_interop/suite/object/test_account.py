"""objectstore-account-list: the account's listing shows its containers, in name order."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from pytest_interop.clouds.base import Cloud, Container


@pytest.mark.idempotent_id("b9dbbbfb-51c6-4a0d-b9b0-14d15b1b29ca")
def test_account_listing_shows_the_containers(
    cloud: Cloud, make_container: Callable[..., Container]
) -> None:
    first, second = make_container(), make_container()
    cloud.put_object(second.name, "one", b"12345")
    listed = {c.name: c for c in cloud.list_containers()}
    assert first.name in listed and second.name in listed, "a new container is not listed"
    if listed[second.name].object_count is not None:  # Swift says; S3 does not
        assert listed[second.name].object_count == 1
        assert listed[second.name].bytes_used == 5
    cloud.delete_container(first.name)
    assert first.name not in {c.name for c in cloud.list_containers()}, (
        "a deleted container is still listed"
    )


@pytest.mark.idempotent_id("804f5dd1-ed71-4c48-ba34-37765eceb49c")
def test_account_listing_filters_and_pages(
    cloud: Cloud, make_container: Callable[..., Container]
) -> None:
    # Names of this test's own (lower-case: bucket names), so other tests cannot interleave.
    prefix = cloud.resource_name("container").lower()
    made = [make_container(f"{prefix}-{letter}").name for letter in "cab"]
    everything = [c.name for c in cloud.list_containers(prefix=prefix)]
    assert everything == sorted(made), f"the prefix listing is {everything}, not sorted"
    page = [c.name for c in cloud.list_containers(prefix=prefix, limit=2)]
    assert page == everything[:2], "limit does not cut the listing"
    rest = [c.name for c in cloud.list_containers(prefix=prefix, marker=page[-1])]
    assert rest == everything[2:], "the marker does not continue after the page"
