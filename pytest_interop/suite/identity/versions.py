"""Reading Keystone's version discovery documents (both the root and the v3 shapes)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit, urlunsplit

PASSWORD_AUTH_TYPES = ("password", "v3password")
# Keystone version statuses a client may rely on (lower-cased).
USABLE_STATUSES = ("stable", "current", "supported")


def version_entries(document: dict[str, Any]) -> list[dict[str, Any]]:
    """The version entries of a discovery document, whichever shape it has."""
    if isinstance(document.get("version"), dict):
        return [document["version"]]
    versions = document.get("versions")
    if isinstance(versions, dict):
        versions = versions.get("values")
    return [item for item in versions or [] if isinstance(item, dict)]


def self_link(entry: dict[str, Any]) -> str | None:
    for link in entry.get("links") or []:
        if isinstance(link, dict) and link.get("rel") == "self" and link.get("href"):
            return str(link["href"])
    return None


def is_v3(entry: dict[str, Any]) -> bool:
    return str(entry.get("id", "")).startswith("v3")


def unversioned(url: str) -> str:
    """The auth URL without a trailing /v3 (or /v2.0): Keystone's root document."""
    parts = urlsplit(url)
    path = parts.path.rstrip("/")
    last = path.rsplit("/", 1)[-1]
    if last in ("v3", "v2.0"):
        path = path[: -len(last) - 1]
    return urlunsplit(parts._replace(path=path or "/"))
