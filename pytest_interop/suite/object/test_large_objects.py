"""objectstore-dlo-support, objectstore-slo-support: large objects made of segments.

Backups and images larger than one object are stored as segments and a manifest; what a
user relies on is that reading the manifest gives back the whole thing, in order. A dynamic
large object (DLO) reads the segments that carry its prefix at the time of the read, so a
segment added later shows; a static one (SLO) names each segment with its etag and size, and
a manifest whose etag or size does not match a segment is refused rather than stored.

On AWS the SLO tests run on S3 multipart uploads (parts with ETags, checked when the upload
is completed; S3 takes no part sizes); S3 has no DLO, so that test is not applicable there.
"""

from __future__ import annotations

import dataclasses
import os

import pytest

from pytest_interop.clouds.base import Cloud, Container, LargeObjectRefused


def _parts(cloud: Cloud, count: int = 3) -> list[bytes]:
    """Distinct random segments; the last shorter, as a real file's tail is."""
    size = max(getattr(cloud, "large_object_min_segment", 1), 4096)
    return [os.urandom(size) for _ in range(count - 1)] + [os.urandom(size // 3 + 1)]


@pytest.mark.idempotent_id("9db9d8cb-4b14-4719-9a07-73513940d19d")
def test_dlo_manifest_reads_back_as_its_segments_in_order(
    cloud: Cloud, container: Container
) -> None:
    parts = _parts(cloud)
    # Uploaded out of order: a DLO orders its segments by name, not by upload time.
    for index in (2, 0, 1):
        cloud.put_object(container.name, f"backup/seg-{index:04d}", parts[index])
    cloud.put_prefix_manifest(container.name, "backup.tar", "backup/seg-")
    whole = cloud.get_object(container.name, "backup.tar")
    assert len(whole) == sum(map(len, parts)), f"the manifest reads {len(whole)} bytes"
    assert whole == b"".join(parts), "the manifest does not read as its segments in order"

    more = os.urandom(1000)
    cloud.put_object(container.name, "backup/seg-0003", more)
    assert cloud.get_object(container.name, "backup.tar") == b"".join([*parts, more]), (
        "a segment added under the prefix is not part of the object read afterwards"
    )


@pytest.mark.idempotent_id("1c6e9d2c-0afa-4bad-b4c5-fcdefe6da657")
def test_slo_manifest_reads_back_as_its_segments(cloud: Cloud, container: Container) -> None:
    parts = _parts(cloud)
    upload = cloud.upload_segments(container.name, "image.raw", parts)
    assert [s.size for s in upload.segments] == [len(p) for p in parts]
    cloud.complete_large_object(upload)
    whole = cloud.get_object(container.name, "image.raw")
    assert whole == b"".join(parts), "the static large object does not read as its segments"
    first, last = len(parts[0]) - 10, len(parts[0]) + 9  # a range across a segment boundary
    assert (
        cloud.get_object(container.name, "image.raw", byte_range=(first, last))
        == (whole[first : last + 1])
    ), "a range across two segments reads other bytes"


@pytest.mark.idempotent_id("f50b08f4-d183-4957-ae0c-2e33d0f28719")
def test_slo_refuses_a_segment_with_a_wrong_etag_or_size(
    cloud: Cloud, container: Container
) -> None:
    parts = _parts(cloud, count=2)
    upload = cloud.upload_segments(container.name, "wrong-etag", parts)
    wrong = list(upload.segments)
    wrong[0] = dataclasses.replace(wrong[0], etag="0" * 32)
    with pytest.raises(LargeObjectRefused):
        cloud.complete_large_object(upload, wrong)
    names = {o.name for o in cloud.list_objects(container.name)}
    assert "wrong-etag" not in names, "a manifest with a wrong etag was stored anyway"

    if getattr(cloud, "checks_segment_size", False):
        upload = cloud.upload_segments(container.name, "wrong-size", parts)
        wrong = list(upload.segments)
        wrong[-1] = dataclasses.replace(wrong[-1], size=wrong[-1].size + 1)
        with pytest.raises(LargeObjectRefused):
            cloud.complete_large_object(upload, wrong)
        names = {o.name for o in cloud.list_objects(container.name)}
        assert "wrong-size" not in names, "a manifest with a wrong size was stored anyway"
