"""identity-v3-tokens-validate: a validated token carries the scope it was issued with.

Services validate the tokens clients send them (``GET /v3/auth/tokens`` with
``X-Subject-Token``); what they learn decides what the client may do. A token issued for a
project must validate as that project, user, roles and expiry, and an unknown token must not
validate at all. Tokens never appear in messages.
"""

from __future__ import annotations

import secrets
from typing import Any

import pytest

from pytest_interop.suite.identity.test_tokens import _password_body


def _scope(token: dict[str, Any]) -> dict[str, Any]:
    return {
        "user": token["user"]["id"],
        "project": token.get("project", {}).get("id"),
        "project_domain": token.get("project", {}).get("domain", {}).get("id"),
        "roles": sorted(role["id"] for role in token.get("roles", ())),
        "expires_at": token["expires_at"],
    }


@pytest.mark.idempotent_id("ee74fc39-e444-44e2-86c9-4f20011bcf3e")
def test_validated_token_carries_the_scope_it_was_issued_with(
    os_conn: Any, auth_args: dict[str, Any], keystone_v3_url: str, verify: Any
) -> None:
    from keystoneauth1 import session as ks_session

    tokens_url = f"{keystone_v3_url}/auth/tokens"
    body = _password_body(auth_args, auth_args["password"])
    body["auth"]["scope"] = {"project": {"id": os_conn.current_project_id}}
    issued = ks_session.Session(verify=verify).post(tokens_url, json=body, raise_exc=False)
    assert issued.status_code == 201, f"issuing a project token answered {issued.status_code}"
    token = issued.headers["X-Subject-Token"]
    issued_scope = _scope(issued.json()["token"])
    assert issued_scope["project"] == os_conn.current_project_id
    assert issued_scope["roles"], "a project-scoped token carries no role"

    validated = os_conn.session.get(tokens_url, headers={"X-Subject-Token": token}, raise_exc=False)
    assert validated.status_code == 200, f"a new token did not validate: {validated.status_code}"
    assert validated.headers.get("X-Subject-Token") == token, "validation answered another token"
    assert _scope(validated.json()["token"]) == issued_scope, (
        "the validated token's user, project, roles or expiry differ from the issued one's"
    )
    # The token's owner may validate it with the token itself, as a client checks its own.
    own = ks_session.Session(verify=verify).head(
        tokens_url, headers={"X-Auth-Token": token, "X-Subject-Token": token}, raise_exc=False
    )
    assert own.status_code in (200, 204), f"HEAD validation of one's own token: {own.status_code}"


@pytest.mark.idempotent_id("aa2f6bd6-5734-41c5-8d7b-99c7bac8b891")
def test_unknown_token_does_not_validate(os_conn: Any, keystone_v3_url: str) -> None:
    made_up = "gAAAAA" + secrets.token_urlsafe(96)
    answer = os_conn.session.get(
        f"{keystone_v3_url}/auth/tokens", headers={"X-Subject-Token": made_up}, raise_exc=False
    )
    assert answer.status_code in (401, 404), f"a made-up token validated: {answer.status_code}"
