"""The object-storage facet of both adapters against the embedded clouds (Swift, moto's S3)."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from collections.abc import Iterator

import pytest

from pytest_interop.clouds import openstack_object
from pytest_interop.clouds.aws import AwsCloud
from pytest_interop.clouds.base import (
    AccessDenied,
    ContainerNotEmpty,
    QuotaExceeded,
    ResourceNotFound,
)
from pytest_interop.clouds.openstack import OpenStackCloud
from pytest_interop.clouds.registry import CloudSpec
from pytest_interop.errors import NotApplicable
from pytest_interop.reference.aws import ReferenceAws
from pytest_interop.reference.cloud import ReferenceCloud
from pytest_interop.resources import TAG_KEY, ResourceLedger
from tests.functional.clouds.conftest import FAST_RETRY, aws_spec, live, reference_cloud_for


def fetch(url: str, method: str = "GET", data: bytes | None = None) -> tuple[int, bytes]:
    headers = {"Content-Type": "application/octet-stream"} if data is not None else {}
    request = urllib.request.Request(url, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


@pytest.fixture
def swift_reference(reference_clouds) -> ReferenceCloud:
    return reference_cloud_for(reference_clouds, "default")


def swift_cloud(reference: ReferenceCloud, ledger: ResourceLedger, **drop: bool) -> OpenStackCloud:
    config = reference.cloud_config()
    for key in drop:
        config["interop"].pop(key)
    cloud = OpenStackCloud.from_spec(
        CloudSpec("reference", "openstack", {"config": config}), ledger
    )
    cloud._retry = FAST_RETRY
    return cloud


@pytest.fixture
def swift(swift_reference: ReferenceCloud, ledger: ResourceLedger) -> Iterator[OpenStackCloud]:
    cloud = swift_cloud(swift_reference, ledger)
    yield cloud
    cloud.cleanup_run()
    cloud.close()


# -- OpenStack (Swift) ----------------------------------------------------------------------------
def test_swift_errors_become_interface_exceptions(swift: OpenStackCloud) -> None:
    with pytest.raises(ResourceNotFound):
        swift.get_container("no-such-container")
    box = swift.create_container()
    with pytest.raises(ResourceNotFound):
        swift.get_object(box.name, "missing")
    swift.put_object(box.name, "o", b"1234")
    with pytest.raises(ContainerNotEmpty):
        swift.delete_container(box.name)
    swift.set_container_quota(box.name, max_bytes=5)
    with pytest.raises(QuotaExceeded):
        swift.put_object(box.name, "p", b"12")
    with pytest.raises(AccessDenied) as denied:
        swift.peer().put_object(box.name, "x", b"x", account=swift.object_account())
    assert swift.native.session.get_token() not in str(denied.value)


def test_swift_containers_and_versions_go_with_the_ledger(
    swift: OpenStackCloud, swift_reference: ReferenceCloud
) -> None:
    before = live(swift_reference, "containers")
    box = swift.create_container(metadata={"a": "1"})
    swift.enable_versioning(box.name)
    for data in (b"1", b"2", b"3"):
        swift.put_object(box.name, "o", data)
    assert swift.object_versions(box.name, "o") == [b"2", b"1"]
    assert live(swift_reference, "containers") == before + 2  # the container and its archive
    summary = swift.cleanup_run()
    assert len(summary.deleted) == 2 and not summary.leaked
    assert live(swift_reference, "containers") == before
    assert live(swift_reference, "objects") == 0


def test_swift_listings_page_through_the_service(
    swift: OpenStackCloud, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(openstack_object, "LISTING_PAGE", 2)
    box = swift.create_container()
    names = [f"obj-{i}" for i in range(5)]
    for name in names:
        swift.put_object(box.name, name, name.encode())
    assert [o.name for o in swift.list_objects(box.name)] == names
    assert [o.name for o in swift.list_objects(box.name, limit=3)] == names[:3]
    assert [o.name for o in swift.list_objects(box.name, marker="obj-1", limit=3)] == names[2:5]
    assert box.name in [c.name for c in swift.list_containers(prefix=box.name)]


def test_swift_temp_url_key_is_the_runs_and_an_existing_key_is_kept(
    swift_reference: ReferenceCloud, ledger: ResourceLedger
) -> None:
    first, second = swift_cloud(swift_reference, ledger), swift_cloud(swift_reference, ledger)
    try:
        first._swift("account.update", "POST", headers={"X-Remove-Account-Meta-Temp-Url-Key": "x"})
        box = first.create_container()
        first.put_object(box.name, "o", b"data")
        url_one = first.temporary_url(box.name, "o", seconds=30)
        url_two = second.temporary_url(box.name, "o", seconds=30)  # reads the stored key
        assert fetch(url_one.url) == (200, b"data") and fetch(url_two.url) == (200, b"data")
        assert "temp_url_sig" not in repr(url_one)
        first._swift("account.update", "POST", headers={"X-Account-Meta-Temp-Url-Key": "mine"})
        assert fetch(url_one.url)[0] == 401  # signed with the old key
        assert fetch(second.temporary_url(box.name, "o").url) == (200, b"data")
        stored = first._swift("account.head", "HEAD").headers["X-Account-Meta-Temp-Url-Key"]
        assert stored == "mine", "the adapter replaced a key the account already had"
    finally:
        first._swift("account.update", "POST", headers={"X-Remove-Account-Meta-Temp-Url-Key": "x"})
        first.cleanup_run()
        first.close()
        second.close()


def test_swift_names_that_need_quoting(swift: OpenStackCloud) -> None:
    box = swift.create_container()
    name = "dir with space/ünïcode?&.txt"
    swift.put_object(box.name, name, b"quoted")
    assert [o.name for o in swift.list_objects(box.name)] == [name]
    assert swift.get_object(box.name, name, byte_range=(0, 1)) == b"qu"
    assert fetch(swift.temporary_url(box.name, name).url) == (200, b"quoted")
    swift.copy_object(box.name, name, box.name, f"{name}.copy")
    assert swift.get_object(box.name, f"{name}.copy") == b"quoted"


def test_swift_without_peer_or_admin_is_not_applicable(
    swift_reference: ReferenceCloud, ledger: ResourceLedger
) -> None:
    cloud = swift_cloud(swift_reference, ledger, peer_auth=True, admin_auth=True)
    try:
        with pytest.raises(NotApplicable, match="peer_auth"):
            cloud.peer()
        with pytest.raises(NotApplicable, match="reseller admin"):
            cloud.set_account_quota(10)
        cloud.require_account_quotas()  # Swift has them
    finally:
        cloud.close()


def test_swift_peer_and_admin_secrets_are_redacted(swift: OpenStackCloud) -> None:
    auth = swift._interop["peer_auth"]
    swift.peer()
    swift.set_account_quota(None)
    assert auth["password"] in swift._secrets
    assert swift._interop["admin_auth"]["password"] in swift._secrets
    assert auth["password"] not in repr(swift.peer())


def test_swift_info_comes_from_the_service_mount(swift: OpenStackCloud) -> None:
    info = swift.object_store_info()
    assert info["swift"]["version"] and "tempurl" in info
    assert swift.object_account() == f"AUTH_{swift.native.current_project_id}"


# -- AWS (S3 on moto) -----------------------------------------------------------------------------
def test_s3_round_trip_and_errors(aws_cloud: AwsCloud) -> None:
    box = aws_cloud.create_container(metadata={"team": "ops"})
    assert box.name == box.name.lower()
    assert dict(box.metadata) == {"team": "ops"}, "run tags must not show as metadata"
    aws_cloud.put_object(box.name, "o", b"0123456789", metadata={"k": "v"})
    assert aws_cloud.get_object(box.name, "o", byte_range=(3, 5)) == b"345"
    assert aws_cloud.head_object(box.name, "o").metadata == {"k": "v"}
    aws_cloud.copy_object(box.name, "o", box.name, "c")
    assert aws_cloud.get_object(box.name, "c") == b"0123456789"
    aws_cloud.set_container_metadata(box.name, {"tier": "1"})
    aws_cloud.delete_container_metadata(box.name, ["team"])
    assert dict(aws_cloud.get_container(box.name).metadata) == {"tier": "1"}
    with pytest.raises(ContainerNotEmpty):
        aws_cloud.delete_container(box.name)
    aws_cloud.delete_object(box.name, "c")
    with pytest.raises(ResourceNotFound):
        aws_cloud.delete_object(box.name, "c")
    with pytest.raises(ResourceNotFound):
        aws_cloud.get_container("interop-no-such-bucket")
    assert [o.name for o in aws_cloud.list_objects(box.name)] == ["o"]


def test_s3_versions_and_clean_up(aws_cloud: AwsCloud, reference_aws: ReferenceAws) -> None:
    box = aws_cloud.create_container()
    aws_cloud.enable_versioning(box.name)
    for data in (b"1", b"2", b"3"):
        aws_cloud.put_object(box.name, "o", data)
    assert aws_cloud.object_versions(box.name, "o") == [b"2", b"1"]
    assert reference_aws.counters()["buckets"] >= 1
    summary = aws_cloud.cleanup_run()
    assert summary.deleted and not summary.leaked
    assert box.name not in [c.name for c in aws_cloud.list_containers()]


def test_s3_refuses_anonymous_tampered_and_expired_requests(aws_cloud: AwsCloud) -> None:
    box = aws_cloud.create_container()
    aws_cloud.put_object(box.name, "open", b"ok")
    aws_cloud.put_object(box.name, "closed", b"secret")
    url = aws_cloud.temporary_url(box.name, "open", seconds=30)
    assert fetch(url.url) == (200, b"ok")
    status, body = fetch(url.url.replace("/open?", "/closed?"))
    assert status == 403 and b"SignatureDoesNotMatch" in body
    status, body = fetch(url.url.split("?", 1)[0])
    assert status == 403 and b"AccessDenied" in body
    put = aws_cloud.temporary_url(box.name, "new", method="PUT", seconds=30)
    assert fetch(put.url, "PUT", b"uploaded")[0] == 200
    assert aws_cloud.get_object(box.name, "new") == b"uploaded"
    short = aws_cloud.temporary_url(box.name, "open", seconds=1)
    deadline = time.time() + 10
    while (answer := fetch(short.url))[0] == 200 and time.time() < deadline:
        time.sleep(0.2)
    assert answer[0] == 403 and b"Request has expired" in answer[1]
    assert time.time() >= short.expires_at


def test_s3_not_applicable_facets_say_why(aws_cloud: AwsCloud) -> None:
    for action, reason in (
        (aws_cloud.object_store_info, "no capability document"),
        (lambda: aws_cloud.set_container_quota("b", max_bytes=1), "no bucket quotas"),
        (aws_cloud.require_account_quotas, "no account storage quota"),
        (lambda: aws_cloud.set_account_quota(1), "no account storage quota"),
        (aws_cloud.peer, "no second AWS account"),
        (lambda: aws_cloud.temporary_url("b", "o", method="DELETE"), "not DELETE"),
    ):
        with pytest.raises(NotApplicable, match=reason):
            action()


def test_s3_sharing_writes_a_policy_for_the_peer_account(
    reference_aws: ReferenceAws, ledger: ResourceLedger
) -> None:
    peer = {"aws_access_key_id": "111122223333", "aws_secret_access_key": "peer-secret-value"}
    cloud = AwsCloud.from_spec(aws_spec(reference_aws, peer=peer), ledger)  # type: ignore[arg-type]
    cloud._retry = FAST_RETRY
    try:
        box = cloud.create_container()
        other = cloud.peer()
        cloud.grant_container_read(box.name, other)
        policy = json.loads(cloud._s3.get_bucket_policy(Bucket=box.name)["Policy"])
        principals = {s["Principal"]["AWS"] for s in policy["Statement"]}
        assert principals == {f"arn:aws:iam::{other.object_account()}:root"}
        actions = {a for s in policy["Statement"] for a in s["Action"]}
        assert actions == {"s3:GetObject", "s3:ListBucket"}, "a read grant must not allow writes"
        assert "peer-secret-value" in cloud._secrets
    finally:
        cloud.cleanup_run()
        cloud.close()


# -- crashed runs ---------------------------------------------------------------------------------
def test_leftover_containers_of_a_crashed_run_are_found_by_their_tag(
    swift_reference: ReferenceCloud, tmp_path, ledger: ResourceLedger
) -> None:
    crashed = ResourceLedger("crashedrun1", "reference", tmp_path / "crashed.jsonl")
    victim = swift_cloud(swift_reference, crashed)
    sweeper = swift_cloud(swift_reference, ledger)
    try:
        left = victim.create_container()
        victim.put_object(left.name, "o", b"left behind")
        assert TAG_KEY not in victim.get_container(left.name).metadata  # ours, not the user's
        mine = sweeper.create_container("interop-not-a-run-container", metadata={})
        sweeper._swift(
            "containers.update",
            "POST",
            mine.name,
            headers={f"X-Remove-Container-Meta-{TAG_KEY}": "x"},
        )
        summary = sweeper.cleanup_leftovers(run_id="crashedrun1")
        assert summary.deleted == [f"container {left.name}"] and not summary.leaked
        with pytest.raises(ResourceNotFound):
            sweeper.get_container(left.name)
        assert sweeper.cleanup_leftovers(older_than_seconds=0).deleted == []  # untagged stays
        sweeper.get_container(mine.name)
    finally:
        crashed.close()
        victim.close()
        sweeper.cleanup_run()
        sweeper.close()


def test_leftover_buckets_of_a_crashed_run_are_found_by_their_tag(
    reference_aws: ReferenceAws, tmp_path, ledger: ResourceLedger
) -> None:
    crashed = ResourceLedger("crashedrun2", "reference-aws", tmp_path / "crashed.jsonl")
    victim = AwsCloud.from_spec(aws_spec(reference_aws), crashed)
    sweeper = AwsCloud.from_spec(aws_spec(reference_aws), ledger)
    try:
        left = victim.create_container()
        victim.enable_versioning(left.name)
        victim.put_object(left.name, "o", b"1")
        victim.put_object(left.name, "o", b"2")
        summary = sweeper.cleanup_leftovers(run_id="crashedrun2")
        assert f"container {left.name}" in summary.deleted and not summary.leaked
        assert left.name not in [c.name for c in sweeper.list_containers()]
    finally:
        crashed.close()
        victim.close()
        sweeper.close()
