"""Swift large objects: dynamic (DLO, by name prefix) and static (SLO, checked manifest).

A mixin of :class:`~pytest_interop.clouds.openstack.OpenStackCloud` beside ``SwiftFacet``;
segments are plain objects in the same container, so the container's clean-up takes them.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from pytest_interop.clouds.base import LargeObjectRefused, LargeUpload, Segment


class SwiftLargeObjects:
    large_object_min_segment = 1  # Swift's SLO min_segment_size is 1 byte since Liberty
    checks_segment_size = True  # an SLO manifest gives each segment's size_bytes

    _swift: Any
    _path: Any

    def upload_segments(self, container: str, name: str, parts: Sequence[bytes]) -> LargeUpload:
        segments = []
        for number, part in enumerate(parts, start=1):
            segment_name = f"{name}/{number:08d}"
            response = self._swift(
                "objects.create",
                "PUT",
                self._path(container, segment_name),
                headers={"Content-Type": "application/octet-stream"},
                data=part,
            )
            etag = str(response.headers.get("ETag", "")).strip('"')
            segments.append(Segment(f"{container}/{segment_name}", etag, len(part)))
        return LargeUpload(container, name, tuple(segments))

    def complete_large_object(
        self, upload: LargeUpload, segments: Sequence[Segment] | None = None
    ) -> None:
        from openstack import exceptions as os_exceptions

        manifest = [
            {"path": f"/{s.ref}", "etag": s.etag, "size_bytes": s.size}
            for s in (upload.segments if segments is None else segments)
        ]
        try:
            self._swift(
                "objects.slo_manifest",
                "PUT",
                self._path(upload.container, upload.name),
                headers={"Content-Type": "application/json"},
                data=json.dumps(manifest).encode(),
                params={"multipart-manifest": "put"},
            )
        except os_exceptions.HttpException as exc:
            if int(exc.status_code or 0) == 400:
                raise LargeObjectRefused(
                    f"swift.objects.slo_manifest: refused with 400 ({exc.details or ''})"
                ) from None
            raise

    def put_prefix_manifest(self, container: str, name: str, segment_prefix: str) -> None:
        self._swift(
            "objects.dlo_manifest",
            "PUT",
            self._path(container, name),
            headers={"X-Object-Manifest": f"{container}/{segment_prefix}"},
            data=b"",
        )
