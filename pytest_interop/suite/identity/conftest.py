"""Identity fixtures: the auth URL, Keystone's v3 endpoint, and fresh password sessions.

Secrets (the password and every token) stay inside keystoneauth objects and request
headers: nothing here prints, records or puts them in an assertion message.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from pytest_interop.errors import NotApplicable
from pytest_interop.suite.identity.versions import (
    PASSWORD_AUTH_TYPES,
    is_v3,
    self_link,
    unversioned,
    version_entries,
)


@pytest.fixture(scope="session")
def verify(os_conn: Any) -> Any:
    """The TLS settings the cloud's own configuration uses (CA bundle or True/False)."""
    verify_arg, _cert = os_conn.config.get_requests_verify_args()
    return verify_arg


@pytest.fixture(scope="session")
def auth_args(os_conn: Any) -> dict[str, Any]:
    """The cloud's password-auth arguments; tests that need a password are n/a otherwise."""
    auth_type = os_conn.config.config.get("auth_type") or "password"
    if auth_type not in PASSWORD_AUTH_TYPES:
        raise NotApplicable(f"the cloud authenticates with {auth_type!r}, not a password")
    args = dict(os_conn.config.get_auth_args())
    if not args.get("auth_url") or not args.get("password"):
        raise NotApplicable("the cloud configuration has no auth_url and password")
    return args


@pytest.fixture(scope="session")
def auth_url(os_conn: Any) -> str:
    url = (os_conn.config.config.get("auth") or {}).get("auth_url")
    if not url:
        raise NotApplicable("the cloud configuration names no auth_url")
    return str(url)


@pytest.fixture(scope="session")
def keystone_v3_url(os_conn: Any, auth_url: str, verify: Any) -> str:
    """Keystone's v3 base URL, found by version discovery from the auth URL."""
    from keystoneauth1 import session as ks_session

    plain = ks_session.Session(verify=verify)
    for url in (auth_url, unversioned(auth_url)):
        response = plain.get(url, raise_exc=False, headers={"Accept": "application/json"})
        if response.status_code not in (200, 300):
            continue
        for entry in version_entries(response.json()):
            link = self_link(entry)
            if is_v3(entry) and link:
                return link.rstrip("/")
    pytest.fail(f"no v3 version document at {auth_url} or {unversioned(auth_url)}")


@pytest.fixture
def password_session(auth_args: dict[str, Any], verify: Any) -> Callable[..., Any]:
    """``password_session(**overrides)``: a new keystoneauth session, its own token.

    Built from the cloud's configuration, not from the test's connection, so each call
    authenticates anew; overrides replace auth arguments (a wrong password, ...).
    """
    from keystoneauth1 import loading
    from keystoneauth1 import session as ks_session

    def build(**overrides: Any) -> Any:
        loader = loading.get_plugin_loader("password")
        plugin = loader.load_from_options(**{**auth_args, **overrides})
        return ks_session.Session(auth=plugin, verify=verify)

    return build
