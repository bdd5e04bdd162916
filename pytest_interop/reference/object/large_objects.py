"""Swift's large objects in the reference cloud: DLO (``X-Object-Manifest``) and SLO
(``?multipart-manifest=put``).

A manifest is stored as an ordinary object carrying ``manifest``; a GET reads its segments
at that moment and answers their concatenation, as Swift's middlewares do. An SLO manifest
is checked when it is stored: every segment must exist, and a given etag or size must be
the segment's, or the PUT is refused with 400 and the list of errors.
"""

from __future__ import annotations

import hashlib
import json
from typing import TYPE_CHECKING, Any

from pytest_interop.reference.object import exceptions

if TYPE_CHECKING:
    from pytest_interop.reference.object.models import Caller, ObjectModel, StoredObject

DLO, SLO = "dlo", "slo"
MAX_SLO_SEGMENTS = 1000
INFO = {
    "slo": {"max_manifest_segments": MAX_SLO_SEGMENTS, "min_segment_size": 1},
    "dlo": {"max_segments": 10000},
}


def _split(path: str) -> tuple[str, str]:
    container, _, name = path.lstrip("/").partition("/")
    if not container or not name:
        raise exceptions.bad_request(f"Invalid segment path {path!r}: use /container/object")
    return container, name


def parse_slo_manifest(
    model: ObjectModel, caller: Caller | None, account: str, body: bytes
) -> list[dict[str, Any]]:
    """The checked segment list of an SLO PUT: [{container, name, etag, size}, ...]."""
    try:
        entries = json.loads(body or b"null")
    except ValueError:
        raise exceptions.bad_request("Manifest must be valid JSON.") from None
    if not isinstance(entries, list) or not entries or len(entries) > MAX_SLO_SEGMENTS:
        raise exceptions.bad_request(
            f"Manifest must be a list of 1 to {MAX_SLO_SEGMENTS} segments."
        )
    errors, segments = [], []
    for entry in entries:
        if not isinstance(entry, dict) or not isinstance(entry.get("path"), str):
            raise exceptions.bad_request("Each segment needs a path.")
        container, name = _split(entry["path"])
        try:
            found = model.get_object(caller, account, container, name)
        except exceptions.SwiftError:
            errors.append(f"{entry['path']}, 404 Not Found")
            continue
        etag, size = entry.get("etag"), entry.get("size_bytes")
        if etag is not None and str(etag).strip('"').lower() != found.etag:
            errors.append(f"{entry['path']}, Etag Mismatch")
        if size is not None and int(size) != found.size:
            errors.append(f"{entry['path']}, Size Mismatch")
        segments.append({"container": container, "name": name, "etag": found.etag})
    if errors:
        raise exceptions.bad_request("Errors:\n" + "\n".join(errors))
    return segments


def assemble(
    model: ObjectModel, caller: Caller | None, account: str, stored: StoredObject
) -> tuple[bytes, str]:
    """The bytes a GET of a manifest answers, and their ETag (quoted, as Swift sends it)."""
    kind, spec = stored.manifest or (None, None)
    parts: list[StoredObject] = []
    if kind == DLO:
        container, _, prefix = str(spec).partition("/")
        found = model.get_container(caller, account, container) if caller else None
        objects = found.objects if found is not None else {}
        parts = [objects[name] for name in sorted(objects) if name.startswith(prefix)]
    elif kind == SLO:
        for segment in spec:
            parts.append(model.get_object(caller, account, segment["container"], segment["name"]))
    data = b"".join(part.data for part in parts)
    etag = hashlib.md5(  # Swift's manifest ETag: the MD5 of the segments' ETags
        "".join(part.etag for part in parts).encode(), usedforsecurity=False
    ).hexdigest()
    return data, f'"{etag}"'
