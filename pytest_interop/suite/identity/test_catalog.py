"""identity-v3-catalog: the catalog Keystone gives lists endpoints a client can call.

``GET /v3/auth/catalog`` is what a client reads to find the services of its project. The
test reads it with the connection's token, checks it agrees with the catalog in the token
itself, then calls every public endpoint in the cloud's region with that token: a catalog
that names an endpoint nobody answers at is no use to automation.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

# An endpoint is there for this token when it answers HTTP without refusing the token and
# without a server error: a resource, its version document, or a 404 for a root that is no
# resource of its own (Heat's /v1/{project_id} is one, on every Heat).
REFUSED = (401, 403)


def answered(status: int | str) -> bool:
    """Whether a status (or the name of the exception a request raised) shows the service
    there for the token."""
    return isinstance(status, int) and status not in REFUSED and status < 500


def _public_endpoints(catalog: list[dict[str, Any]], region: str | None) -> dict[str, str]:
    """Service type -> its public URL in ``region`` (any region when the cloud names none)."""
    out: dict[str, str] = {}
    for service in catalog:
        for endpoint in service.get("endpoints", ()):
            if endpoint.get("interface") != "public":
                continue
            if region and region not in (endpoint.get("region_id"), endpoint.get("region")):
                continue
            out.setdefault(service["type"], endpoint["url"])
    return out


@pytest.mark.idempotent_id("9728457f-9e95-4c11-a6ec-f78fc35e1621")
def test_catalog_endpoints_answer_a_client(
    os_conn: Any, keystone_v3_url: str, verify: Any, record_finding: Callable[[str, Any], None]
) -> None:
    from keystoneauth1 import session as ks_session

    answer = os_conn.session.get(f"{keystone_v3_url}/auth/catalog", raise_exc=False)
    assert answer.status_code == 200, f"GET /v3/auth/catalog answered {answer.status_code}"
    catalog = answer.json().get("catalog")
    assert isinstance(catalog, list) and catalog, "the catalog lists no services"

    region = os_conn.config.get_region_name()
    endpoints = _public_endpoints(catalog, region)
    assert "identity" in endpoints, f"the catalog has no public identity endpoint: {endpoints}"
    in_token = {
        s["type"] for s in os_conn.session.auth.get_access(os_conn.session).service_catalog.catalog
    }
    assert set(endpoints) <= in_token, (
        f"/auth/catalog names services the token's catalog lacks: {set(endpoints) - in_token}"
    )
    record_finding("catalog_services", sorted(endpoints))

    token = os_conn.session.get_token()
    plain = ks_session.Session(verify=verify)
    refused = {}
    for service_type, url in sorted(endpoints.items()):
        try:
            status = plain.get(
                url, headers={"X-Auth-Token": token, "Accept": "application/json"}, raise_exc=False
            ).status_code
        except Exception as exc:  # unreachable: the catalog names an endpoint that is not there
            status = type(exc).__name__
        if not answered(status):
            refused[service_type] = f"{url}: {status}"
    assert not refused, f"catalog endpoints a client cannot call: {refused}"
