"""objectstore-container-quotas and -account-quotas: a quota stops the upload that exceeds it."""

from __future__ import annotations

import secrets
from collections.abc import Iterator

import pytest

from pytest_interop.clouds.base import Cloud, Container, QuotaExceeded


@pytest.mark.idempotent_id("f9252e16-5e4b-4f92-bd32-595a97ecc438")
def test_container_byte_quota_stops_the_upload(cloud: Cloud, container: Container) -> None:
    cloud.set_container_quota(container.name, max_bytes=10)
    cloud.put_object(container.name, "fits", b"123456")
    with pytest.raises(QuotaExceeded):
        cloud.put_object(container.name, "too-much", b"123456")
    assert [o.name for o in cloud.list_objects(container.name)] == ["fits"]
    cloud.put_object(container.name, "still-fits", b"1234")  # exactly up to the cap
    assert cloud.get_object(container.name, "still-fits") == b"1234"


@pytest.mark.idempotent_id("fb804a1b-5c14-465c-a9fe-48eff3267dfe")
def test_container_count_quota_stops_the_upload(cloud: Cloud, container: Container) -> None:
    cloud.set_container_quota(container.name, max_objects=2)
    cloud.put_object(container.name, "one", b"1")
    cloud.put_object(container.name, "two", b"2")
    with pytest.raises(QuotaExceeded):
        cloud.put_object(container.name, "three", b"3")
    assert [o.name for o in cloud.list_objects(container.name)] == ["one", "two"]


@pytest.fixture
def quota_tenant(cloud: Cloud) -> Iterator[Cloud]:
    """The peer tenant, whose account no other test writes to: a cap on the tester's own
    account would refuse the uploads of tests running beside this one."""
    cloud.require_account_quotas()
    other = cloud.peer()
    yield other
    other.set_account_quota(None)


@pytest.mark.idempotent_id("b2727c37-ef8e-44b7-910b-4a821473837a")
def test_account_quota_stops_the_upload(quota_tenant: Cloud) -> None:
    holder = quota_tenant.create_container(f"interop-quota-{secrets.token_hex(4)}")
    try:
        used = sum(c.bytes_used or 0 for c in quota_tenant.list_containers())
        quota_tenant.set_account_quota(used + 10)
        quota_tenant.put_object(holder.name, "fits", b"123456")
        with pytest.raises(QuotaExceeded):
            quota_tenant.put_object(holder.name, "too-much", b"123456")
        assert [o.name for o in quota_tenant.list_objects(holder.name)] == ["fits"]
        quota_tenant.set_account_quota(None)
        quota_tenant.put_object(holder.name, "after", b"123456")  # no cap, no refusal
    finally:
        quota_tenant.set_account_quota(None)
        quota_tenant.delete_container(holder.name, purge=True)
