"""objectstore-container-acl: a read grant lets another tenant read, and nothing more.

The other tenant is the cloud's configured peer (``cloud.peer()``: tempest's alt project).
"""

from __future__ import annotations

import pytest

from pytest_interop.clouds.base import AccessDenied, Cloud, Container


@pytest.mark.idempotent_id("f944b4fb-73d0-4c82-a847-1bf8f5203221")
def test_read_acl_lets_the_other_project_read(cloud: Cloud, container: Container) -> None:
    other = cloud.peer()
    account = cloud.object_account()
    cloud.put_object(container.name, "report.txt", b"shared bytes")
    with pytest.raises(AccessDenied):
        other.get_object(container.name, "report.txt", account=account)
    cloud.grant_container_read(container.name, other)
    assert other.get_object(container.name, "report.txt", account=account) == b"shared bytes"
    listed = other.list_objects(container.name, account=account)
    assert [o.name for o in listed] == ["report.txt"], "the grantee cannot list the container"


@pytest.mark.idempotent_id("47fbd40c-8716-4c86-9713-4b4f38e4d49a")
def test_read_acl_refuses_the_other_project_writes(cloud: Cloud, container: Container) -> None:
    other = cloud.peer()
    account = cloud.object_account()
    cloud.put_object(container.name, "report.txt", b"original")
    cloud.grant_container_read(container.name, other)
    assert other.get_object(container.name, "report.txt", account=account) == b"original"
    with pytest.raises(AccessDenied):
        other.put_object(container.name, "report.txt", b"overwritten", account=account)
    with pytest.raises(AccessDenied):
        other.put_object(container.name, "planted.txt", b"new", account=account)
    with pytest.raises(AccessDenied):
        other.delete_object(container.name, "report.txt", account=account)
    assert cloud.get_object(container.name, "report.txt") == b"original"
    assert [o.name for o in cloud.list_objects(container.name)] == ["report.txt"]
