"""The MANIFEST of a submission bundle: the sha256 of every file, in ``sha256sum`` format.

One line per file, ``<64 hex digits><two spaces><path>``, paths relative to the bundle with
``/`` separators, sorted; ``sha256sum -c MANIFEST`` checks it too. MANIFEST and its
signature are the only files it does not list.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

MANIFEST_NAME = "MANIFEST"
SIGNATURE_NAME = "MANIFEST.sig"
UNLISTED = frozenset({MANIFEST_NAME, SIGNATURE_NAME})
_LINE = re.compile(r"^(?P<digest>[0-9a-f]{64})  (?P<path>[^\n]+)$")


class ManifestError(Exception):
    """A MANIFEST that cannot be parsed; the text names the line."""


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 16), b""):
            digest.update(chunk)
    return digest.hexdigest()


def bundle_files(bundle: Path) -> list[str]:
    """Every entry under ``bundle`` (files, and anything else that is not a directory) except
    MANIFEST and its signature, as sorted relative POSIX paths."""
    found = []
    for path in bundle.rglob("*"):
        if path.is_dir() and not path.is_symlink():
            continue
        relative = path.relative_to(bundle).as_posix()
        if relative not in UNLISTED:
            found.append(relative)
    return sorted(found)


def compute_digests(bundle: Path) -> dict[str, str]:
    return {name: file_sha256(bundle / name) for name in bundle_files(bundle)}


def render_manifest(digests: Mapping[str, str]) -> str:
    for name in digests:
        _check_path(name)
    return "".join(f"{digests[name]}  {name}\n" for name in sorted(digests))


def _check_path(name: str) -> None:
    pure = PurePosixPath(name)
    if pure.is_absolute() or ".." in pure.parts or "\n" in name or "\\" in name or not name:
        raise ManifestError(f"unsafe path {name!r} in MANIFEST")


def parse_manifest(text: str) -> dict[str, str]:
    digests: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        match = _LINE.match(line)
        if not match:
            raise ManifestError(f"MANIFEST line {number} is not '<sha256>  <path>'")
        name = match["path"]
        _check_path(name)
        if name in digests:
            raise ManifestError(f"MANIFEST line {number}: {name} is listed twice")
        digests[name] = match["digest"]
    return digests


@dataclass
class DigestCheck:
    """How a bundle's files compare with its MANIFEST."""

    changed: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    unexpected: list[str] = field(default_factory=list)
    not_regular: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not (self.changed or self.missing or self.unexpected or self.not_regular)

    def problems(self) -> list[str]:
        return (
            [f"{name}: sha256 differs from MANIFEST (file changed)" for name in self.changed]
            + [f"{name}: listed in MANIFEST but missing" for name in self.missing]
            + [f"{name}: not listed in MANIFEST (file added)" for name in self.unexpected]
            + [f"{name}: not a regular file" for name in self.not_regular]
        )


def check_digests(bundle: Path, listed: Mapping[str, str]) -> DigestCheck:
    result = DigestCheck()
    present = set(bundle_files(bundle))
    for name in sorted(present - set(listed)):
        result.unexpected.append(name)
    for name, digest in sorted(listed.items()):
        path = bundle / name
        if name not in present:
            result.missing.append(name)
        elif path.is_symlink() or not path.is_file():
            result.not_regular.append(name)
        elif file_sha256(path) != digest:
            result.changed.append(name)
    return result
