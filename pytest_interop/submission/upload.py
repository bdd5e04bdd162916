"""``interop submission upload BUNDLE --to URL``: send a bundle to a results service.

The bundle travels as a gzip-compressed tar of its directory (what the service unpacks and
verifies); the service answers 201 with the stored submission or a 4xx with its reason.
"""

from __future__ import annotations

import io
import json
import os
import tarfile
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pytest_interop.errors import ConfigurationError
from pytest_interop.submission.manifest import MANIFEST_NAME

UPLOAD_PATH = "/api/v1/submissions"
TIMEOUT = 120.0


def pack(bundle: str | os.PathLike[str]) -> bytes:
    """The bundle directory as tar.gz bytes, entries relative to it, in a stable order."""
    root = Path(bundle)
    if not (root / MANIFEST_NAME).is_file():
        raise ConfigurationError(
            f"{root}: not a submission bundle (no {MANIFEST_NAME}); "
            "write one with `interop submission create`"
        )
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for path in sorted(root.rglob("*")):
            if path.is_file() and not path.is_symlink():
                archive.add(path, arcname=path.relative_to(root).as_posix(), recursive=False)
    return buffer.getvalue()


def upload_url(base: str) -> str:
    if not base.startswith(("http://", "https://")):
        raise ConfigurationError(f"--to {base}: give the service's http:// or https:// URL")
    base = base.rstrip("/")
    return base if base.endswith(UPLOAD_PATH) else base + UPLOAD_PATH


@dataclass
class UploadAnswer:
    status: int
    body: dict[str, Any]

    @property
    def accepted(self) -> bool:
        return self.status == 201


def post(url: str, data: bytes, timeout: float = TIMEOUT) -> UploadAnswer:
    request = urllib.request.Request(
        url, data=data, method="POST", headers={"Content-Type": "application/gzip"}
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return UploadAnswer(response.status, json.loads(response.read() or b"{}"))
    except urllib.error.HTTPError as exc:
        raw = exc.read()
        try:
            body = json.loads(raw)
        except ValueError:
            body = {"error": raw.decode("utf-8", "replace")[:500] or exc.reason}
        return UploadAnswer(exc.code, body if isinstance(body, dict) else {"error": str(body)})
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise ConfigurationError(
            f"--to {url}: cannot reach the results service ({reason})"
        ) from None


def upload(bundle: str | os.PathLike[str], to: str) -> UploadAnswer:
    return post(upload_url(to), pack(bundle))
