"""S3 multipart uploads as large objects with checked segments (Swift's SLO).

A mixin of :class:`~pytest_interop.clouds.aws.AwsCloud` beside ``S3Facet``. Completing an
upload names each part by number and ETag, and S3 refuses a wrong ETag (``InvalidPart``)
as Swift refuses a wrong segment etag; it takes no part sizes. S3 has nothing like a
dynamic (name-prefix) manifest, so ``put_prefix_manifest`` stays not applicable.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from typing import Any

from pytest_interop.clouds.base import LargeObjectRefused, LargeUpload, Segment
from pytest_interop.errors import NotApplicable

REFUSED_CODES = ("InvalidPart", "InvalidPartOrder", "EntityTooSmall")


class S3LargeObjects:
    large_object_min_segment = 5 * 1024**2  # S3's least part size (but for the last)
    checks_segment_size = False

    _s3: Any
    _s3_call: Any

    def upload_segments(self, container: str, name: str, parts: Sequence[bytes]) -> LargeUpload:
        started = self._s3_call(
            "create_multipart_upload",
            lambda: self._s3.create_multipart_upload(Bucket=container, Key=name),
        )
        upload_id = started["UploadId"]
        segments = []
        try:
            for number, part in enumerate(parts, start=1):
                answer = self._s3_call(
                    "upload_part",
                    lambda n=number, p=part: self._s3.upload_part(
                        Bucket=container, Key=name, UploadId=upload_id, PartNumber=n, Body=p
                    ),
                )
                segments.append(Segment(str(number), answer["ETag"].strip('"'), len(part)))
        except BaseException:
            self._abort(container, name, upload_id)
            raise
        return LargeUpload(container, name, tuple(segments), upload_id)

    def _abort(self, container: str, name: str, upload_id: str) -> None:
        with contextlib.suppress(Exception):
            self._s3.abort_multipart_upload(Bucket=container, Key=name, UploadId=upload_id)

    def complete_large_object(
        self, upload: LargeUpload, segments: Sequence[Segment] | None = None
    ) -> None:
        parts = [
            {"PartNumber": int(s.ref), "ETag": f'"{s.etag}"'}
            for s in (upload.segments if segments is None else segments)
        ]
        try:
            self._s3_call(
                "complete_multipart_upload",
                lambda: self._s3.complete_multipart_upload(
                    Bucket=upload.container,
                    Key=upload.name,
                    UploadId=upload.upload_id,
                    MultipartUpload={"Parts": parts},
                ),
            )
        except Exception as exc:
            code = getattr(exc, "response", {}).get("Error", {}).get("Code")
            if code in REFUSED_CODES:
                self._abort(upload.container, upload.name, str(upload.upload_id))
                raise LargeObjectRefused(f"s3.complete_multipart_upload: {code}") from None
            raise

    def put_prefix_manifest(self, container: str, name: str, segment_prefix: str) -> None:
        raise NotApplicable(
            "S3 has no manifest that reads a name prefix's objects as one (Swift DLO); its "
            "large objects are multipart uploads, the SLO test's mapping"
        )
