"""identity-v3-api-discovery: a client finds Keystone v3 from the auth URL alone.

What a client's version discovery relies on: the auth URL answers without a token with a
version document naming v3, its status and a self link; the root document lists v3 among
the versions; and the v3 self link itself answers with the same version.
"""

from __future__ import annotations

from typing import Any

import pytest

from pytest_interop.suite.identity.versions import (
    USABLE_STATUSES,
    is_v3,
    self_link,
    unversioned,
    version_entries,
)


def _get_document(url: str, verify: Any) -> tuple[int, dict[str, Any]]:
    from keystoneauth1 import session as ks_session

    response = ks_session.Session(verify=verify).get(
        url, raise_exc=False, headers={"Accept": "application/json"}
    )
    try:
        body = response.json()
    except ValueError:
        body = {}
    return response.status_code, body if isinstance(body, dict) else {}


def _check_v3_entry(entry: dict[str, Any]) -> None:
    assert str(entry.get("status", "")).lower() in USABLE_STATUSES, entry
    link = self_link(entry)
    assert link, f"the v3 entry has no self link: {entry}"
    assert link.startswith(("http://", "https://")), link
    media = [m.get("type", "") for m in entry.get("media-types") or [] if isinstance(m, dict)]
    if media:
        assert any("identity-v3" in m or m == "application/json" for m in media), media


@pytest.mark.idempotent_id("39c1599d-d584-45c4-8247-9aa8e1b8a559")
def test_auth_url_answers_unauthenticated_with_v3(auth_url: str, verify: Any) -> None:
    status, document = _get_document(auth_url, verify)
    # 200 for a versioned auth URL, 300 (Multiple Choices) for Keystone's root
    assert status in (200, 300), f"GET {auth_url} without a token answered {status}"
    entries = [entry for entry in version_entries(document) if is_v3(entry)]
    assert entries, f"the document at the auth URL names no v3 version: {document}"
    _check_v3_entry(entries[0])


@pytest.mark.idempotent_id("928f082f-8459-4c8c-b808-3f79c5058eda")
def test_root_document_lists_v3_among_versions(auth_url: str, verify: Any) -> None:
    root = unversioned(auth_url)
    status, document = _get_document(root, verify)
    assert status in (200, 300), f"GET {root} answered {status}"
    versions = document.get("versions")
    values = versions.get("values") if isinstance(versions, dict) else versions
    assert isinstance(values, list) and values, f"no version list at {root}: {document}"
    ids = [str(entry.get("id")) for entry in values if isinstance(entry, dict)]
    v3 = [entry for entry in values if isinstance(entry, dict) and is_v3(entry)]
    assert v3, f"v3 is not among the versions {ids}"
    _check_v3_entry(v3[0])


@pytest.mark.idempotent_id("a4129fea-a184-41ea-bc9f-f3bff4db9690")
def test_v3_self_link_describes_itself(keystone_v3_url: str, verify: Any) -> None:
    status, document = _get_document(keystone_v3_url, verify)
    assert status == 200, f"GET {keystone_v3_url} answered {status}"
    version = document.get("version")
    assert isinstance(version, dict), f"no version document at {keystone_v3_url}: {document}"
    assert is_v3(version), version
    _check_v3_entry(version)
    assert self_link(version).rstrip("/") == keystone_v3_url.rstrip("/")
