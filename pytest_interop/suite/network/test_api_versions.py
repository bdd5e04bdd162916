"""networks-list-api-versions (advisory): a client finds Neutron's API version from its root.

The catalog's network endpoint answers, without a token, with the versions it serves; v2.0
is current and its self link leads to the v2.0 API, which lists the core collections.
"""

from __future__ import annotations

from typing import Any

import pytest

CORE_COLLECTIONS = ("networks", "subnets", "ports")


def _root(os_conn: Any) -> str:
    endpoint = os_conn.session.get_endpoint(
        service_type="network",
        interface=os_conn.config.get_interface() or "public",
        region_name=os_conn.config.get_region_name(),
    )
    assert endpoint, "the catalog has no network endpoint"
    endpoint = endpoint.rstrip("/")
    return endpoint.removesuffix("/v2.0")


@pytest.mark.idempotent_id("f7c697db-3a0c-481e-85f7-d8986ead2741")
def test_root_lists_v2_as_current(os_conn: Any) -> None:
    root = _root(os_conn)
    answer = os_conn.session.get(root, authenticated=False, raise_exc=False)
    assert answer.status_code in (200, 300), f"GET {root} without a token: {answer.status_code}"
    versions = answer.json().get("versions")
    assert isinstance(versions, list) and versions, f"no versions at {root}"
    v2 = [item for item in versions if item.get("id") == "v2.0"]
    assert v2, f"v2.0 is not among {[item.get('id') for item in versions]}"
    assert v2[0]["status"].upper() in ("CURRENT", "SUPPORTED", "STABLE"), v2[0]
    links = [link["href"] for link in v2[0].get("links", []) if link.get("rel") == "self"]
    assert links and links[0].rstrip("/").endswith("/v2.0"), f"v2.0 self link: {links}"


@pytest.mark.idempotent_id("f85b211d-cdaf-4598-8f25-07560fe60a3f")
def test_v2_lists_the_core_collections(os_conn: Any) -> None:
    root = _root(os_conn)
    answer = os_conn.session.get(f"{root}/v2.0", raise_exc=False)
    assert answer.status_code == 200, f"GET {root}/v2.0 answered {answer.status_code}"
    collections = {item.get("collection") for item in answer.json().get("resources", [])}
    missing = [name for name in CORE_COLLECTIONS if name not in collections]
    assert not missing, f"the v2.0 document does not list {missing}"
