"""identity-v3-tokens-delete: a deleted token is refused by every service, others are not.

A user who deletes (revokes) a token, as after a leak, relies on every service of the
catalog refusing it from then on, and on their other tokens going on working. Tokens never
appear in messages.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from pytest_interop.suite.identity.test_catalog import _public_endpoints, answered


def _status(session: Any, url: str, token: str) -> int:
    return session.get(
        url, headers={"X-Auth-Token": token, "Accept": "application/json"}, raise_exc=False
    ).status_code


# A path per service type that needs a token (a version document would answer anyone).
PROTECTED = {
    "compute": "/flavors",
    "network": "/v2.0/networks",
    "image": "/v2/images",
    "volumev3": "/volumes",
    "block-storage": "/volumes",
    "object-store": "",
    "identity": "/v3/auth/catalog",  # Keystone itself: an identity-only cloud is checked too
}


@pytest.mark.idempotent_id("a967cff2-be15-4227-b530-25c101b44c23")
def test_deleted_token_is_refused_by_every_catalog_service(
    os_conn: Any,
    password_session: Callable[..., Any],
    keystone_v3_url: str,
    verify: Any,
    record_finding: Callable[[str, Any], None],
) -> None:
    from keystoneauth1 import session as ks_session

    session = password_session()
    token = session.get_token()
    access = session.auth.get_access(session)
    endpoints = _public_endpoints(access.service_catalog.catalog, os_conn.config.get_region_name())
    urls = {}
    for service_type, base in endpoints.items():
        if service_type in PROTECTED:
            path = PROTECTED[service_type]
            if service_type == "network" and base.rstrip("/").endswith("/v2.0"):
                path = path.removeprefix("/v2.0")
            if service_type == "image" and base.rstrip("/").endswith("/v2"):
                path = path.removeprefix("/v2")
            if service_type == "identity" and base.rstrip("/").endswith("/v3"):
                path = path.removeprefix("/v3")
            urls[service_type] = base.rstrip("/") + path
    assert urls, f"the token's catalog has none of {sorted(PROTECTED)}"
    record_finding("services_checked", sorted(urls))
    plain = ks_session.Session(verify=verify)
    before = {t: _status(plain, u, token) for t, u in urls.items()}
    assert all(answered(s) for s in before.values()), f"a fresh token was refused: {before}"

    tokens_url = f"{keystone_v3_url}/auth/tokens"
    deleted = plain.delete(
        tokens_url, headers={"X-Auth-Token": token, "X-Subject-Token": token}, raise_exc=False
    )
    assert deleted.status_code == 204, f"deleting one's own token answered {deleted.status_code}"

    after = {t: _status(plain, u, token) for t, u in urls.items()}
    accepted = {t: s for t, s in after.items() if s != 401}
    assert not accepted, f"services that still take the deleted token: {accepted}"
    head = os_conn.session.head(tokens_url, headers={"X-Subject-Token": token}, raise_exc=False)
    assert head.status_code == 404, f"the deleted token still validates: {head.status_code}"
    # The user's other token (the test connection's) is untouched.
    other = {t: _status(plain, u, os_conn.session.get_token()) for t, u in urls.items()}
    assert all(answered(s) for s in other.values()), f"another token was refused too: {other}"
