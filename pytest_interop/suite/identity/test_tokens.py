"""identity-v3-tokens-create: password authentication gives a token the cloud's services take.

Each test authenticates anew from the cloud's configuration (a keystoneauth session of its
own), then uses the token the way automation does: as ``X-Auth-Token`` on a call to a
service found in the token's catalog. A revoked token is refused and a wrong password gets
401. Tokens and passwords never appear in messages: assertions compare status codes and ids.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest

# Services to call with the token, in order of preference: (service type, path to GET).
CATALOG_PROBES = (
    ("compute", "/flavors"),
    ("network", "/v2.0/networks?limit=1"),
    ("image", "/v2/images?limit=1"),
    ("object-store", ""),
    # Last: Keystone itself, so an identity-only cloud is tested too (the capability needs
    # nothing but identity).
    ("identity", "/v3/auth/catalog"),
)


def _catalog_probe(session: Any, os_conn: Any) -> tuple[str, str]:
    """A (service type, URL) from the session's own token catalog, to call with the token."""
    access = session.auth.get_access(session)
    catalog = access.service_catalog
    interface = os_conn.config.get_interface() or "public"
    region = os_conn.config.get_region_name()
    for service_type, path in CATALOG_PROBES:
        urls = catalog.get_urls(
            service_type=service_type, interface=interface, region_name=region
        ) or catalog.get_urls(service_type=service_type, interface=interface)
        if urls:
            base = urls[0].rstrip("/")
            if service_type == "network" and base.endswith("/v2.0"):
                path = path.removeprefix("/v2.0")
            if service_type == "image" and base.endswith("/v2"):
                path = path.removeprefix("/v2")
            if service_type == "identity" and base.endswith("/v3"):
                path = path.removeprefix("/v3")
            return service_type, base + path
    pytest.fail(
        f"the token's catalog has none of {[t for t, _ in CATALOG_PROBES]}: "
        f"{sorted(catalog.get_endpoints())}"
    )


def _call_with_token(url: str, token: str, verify: Any) -> int:
    """GET ``url`` with nothing but this token; the status code."""
    from keystoneauth1 import session as ks_session

    response = ks_session.Session(verify=verify).get(
        url, headers={"X-Auth-Token": token, "Accept": "application/json"}, raise_exc=False
    )
    return response.status_code


def _expires_at(access: Any) -> datetime:
    expires = access.expires
    return expires if expires.tzinfo else expires.replace(tzinfo=UTC)


@pytest.mark.idempotent_id("9a1e9009-9826-42c9-96e8-224cf2355bf1")
def test_password_token_is_accepted_by_a_catalog_service(
    os_conn: Any,
    password_session: Callable[..., Any],
    verify: Any,
    record_finding: Callable[[str, Any], None],
) -> None:
    session = password_session()
    token = session.get_token()
    assert token, "password authentication gave no token"
    access = session.auth.get_access(session)
    assert access.project_id == os_conn.current_project_id, "token scoped to another project"
    assert access.user_id == os_conn.current_user_id, "token issued to another user"
    assert _expires_at(access) > datetime.now(UTC), "the new token has already expired"
    assert access.has_service_catalog(), "a project-scoped token came without a catalog"

    service_type, url = _catalog_probe(session, os_conn)
    record_finding("token_probe_service", service_type)
    status = _call_with_token(url, token, verify)
    assert status in (200, 204), f"{service_type} at {url} refused a fresh token with {status}"
    # The same call without a token is refused: the token is what let it in.
    anonymous = _call_with_token(url, "", verify)
    assert anonymous == 401, f"{service_type} at {url} answered {anonymous} without a token"


@pytest.mark.idempotent_id("885795f0-7182-402f-a784-07e70cb098ae")
def test_revoked_token_is_refused(
    os_conn: Any, password_session: Callable[..., Any], keystone_v3_url: str, verify: Any
) -> None:
    from keystoneauth1 import session as ks_session

    session = password_session()
    token = session.get_token()
    service_type, url = _catalog_probe(session, os_conn)
    tokens_url = f"{keystone_v3_url}/auth/tokens"
    # Keystone knows the token (validated with the test connection's own token) ...
    known = os_conn.session.get(tokens_url, headers={"X-Subject-Token": token}, raise_exc=False)
    assert known.status_code == 200, f"Keystone did not validate a new token: {known.status_code}"
    assert known.json()["token"]["user"]["id"] == os_conn.current_user_id

    # ... the user revokes it ...
    plain = ks_session.Session(verify=verify)
    revoked = plain.delete(
        tokens_url, headers={"X-Auth-Token": token, "X-Subject-Token": token}, raise_exc=False
    )
    assert revoked.status_code == 204, f"revoking one's own token answered {revoked.status_code}"

    # ... and from then on Keystone no longer knows it, and no service takes it. The service
    # sees the token here for the first time, so no validation cache can hide the revocation.
    gone = os_conn.session.get(tokens_url, headers={"X-Subject-Token": token}, raise_exc=False)
    assert gone.status_code == 404, f"a revoked token still validates: {gone.status_code}"
    status = _call_with_token(url, token, verify)
    assert status == 401, f"{service_type} at {url} answered {status} to a revoked token"


def _password_body(auth_args: dict[str, Any], password: str) -> dict[str, Any]:
    user: dict[str, Any] = {"password": password}
    if auth_args.get("user_id"):
        user["id"] = auth_args["user_id"]
    else:
        user["name"] = auth_args["username"]
        if auth_args.get("user_domain_id"):
            user["domain"] = {"id": auth_args["user_domain_id"]}
        else:
            user["domain"] = {"name": auth_args.get("user_domain_name") or "Default"}
    return {"auth": {"identity": {"methods": ["password"], "password": {"user": user}}}}


@pytest.mark.idempotent_id("8b6ce6b9-e193-4d28-8dbf-04629716b1a4")
def test_wrong_password_gets_401(
    auth_args: dict[str, Any],
    password_session: Callable[..., Any],
    keystone_v3_url: str,
    verify: Any,
) -> None:
    from keystoneauth1 import exceptions as ks_exceptions
    from keystoneauth1 import session as ks_session

    wrong = "wrong-" + secrets.token_urlsafe(24)
    answer = ks_session.Session(verify=verify).post(
        f"{keystone_v3_url}/auth/tokens",
        json=_password_body(auth_args, wrong),
        raise_exc=False,
    )
    assert answer.status_code == 401, f"a wrong password got {answer.status_code}, not 401"
    assert "X-Subject-Token" not in answer.headers, "a wrong password was given a token"

    # A client library sees the same refusal, as an error and not as a token.
    with pytest.raises(ks_exceptions.Unauthorized) as refused:
        password_session(password=wrong).get_token()
    assert refused.value.http_status == 401
