"""Neutron v2.0 requests, and resources that are always removed.

Requests go through the connection's network proxy (a keystoneauth adapter on the catalog's
network endpoint) so the tests see the documented API and its status codes. Everything a
test creates through :class:`NeutronResources` is deleted at teardown, newest first, even
when the test failed; floating IPs and security groups are also written to the adapter's
ledger (the kinds it can delete), so an interrupted run's ``cleanup_run`` removes them.
"""

from __future__ import annotations

import contextlib
import random
import secrets
from collections.abc import Callable
from typing import Any

from pytest_interop.clouds import discovery

# Neutron collection -> the adapter ledger's kind for it, where the ledger can delete it.
LEDGER_KINDS = {"floatingips": "floating_ip", "security-groups": "security_group"}
# Neutron's JSON key for one resource of a collection.
SINGULAR = {
    "networks": "network",
    "subnets": "subnet",
    "ports": "port",
    "routers": "router",
    "floatingips": "floatingip",
    "security-groups": "security_group",
    "security-group-rules": "security_group_rule",
    "subnetpools": "subnetpool",
}


def unique_name(cloud: Any, kind: str) -> str:
    try:
        return str(cloud.resource_name(kind))
    except RuntimeError:  # an adapter without a ledger
        return f"interop-{kind}-{secrets.token_hex(4)}"


def random_cidr() -> str:
    """A /24 in 10.128-250.x: API data on an isolated network, never connected to."""
    return f"10.{random.randrange(128, 250)}.{random.randrange(256)}.0/24"


def neutron(os_conn: Any, method: str, path: str, **kwargs: Any) -> Any:
    """One Neutron v2.0 request; the response whatever its status."""
    return os_conn.network.request(path, method, raise_exc=False, **kwargs)


def run_tag(cloud: Any) -> str:
    """The run id text the adapter puts in descriptions, so leftover clean-up finds it."""
    from pytest_interop.resources import CREATED_AT_KEY, TAG_KEY

    ledger = getattr(cloud, "ledger", None)
    if ledger is None:
        return ""
    import time

    return f"{TAG_KEY}={ledger.run_id} {CREATED_AT_KEY}={int(time.time())}"


class NeutronResources:
    """Creates Neutron resources for one test and deletes all of them afterwards."""

    def __init__(self, os_conn: Any, cloud: Any) -> None:
        self.os_conn = os_conn
        self.cloud = cloud
        self._undo = contextlib.ExitStack()
        self.leaked: list[str] = []

    def create(self, collection: str, expect: int = 201, **attributes: Any) -> dict[str, Any]:
        """POST one resource; asserts the status and schedules its deletion."""
        singular = SINGULAR[collection]
        ledger_kind = LEDGER_KINDS.get(collection)
        ledger = getattr(self.cloud, "ledger", None)
        if ledger_kind and "description" not in attributes:
            attributes["description"] = run_tag(self.cloud)
        record = (
            ledger.intend(ledger_kind, attributes.get("name"))
            if ledger is not None and ledger_kind
            else None
        )
        answer = neutron(self.os_conn, "POST", f"/{collection}", json={singular: attributes})
        if answer.status_code != 201:
            if record is not None:
                ledger.record_abandoned(record)
            assert answer.status_code == expect, (
                f"POST /{collection} answered {answer.status_code}: {answer.text[:300]}"
            )
            return {}
        resource = answer.json()[singular]
        if record is not None:
            ledger.record_created(record, resource["id"])
        self._undo.callback(self.delete, collection, resource["id"], quiet=True)
        assert answer.status_code == expect, f"POST /{collection} created one unexpectedly"
        return resource

    def delete(self, collection: str, ident: str, *, quiet: bool = False) -> int:
        """DELETE one resource; 404 (already gone) counts as deleted. Returns the status."""
        answer = neutron(self.os_conn, "DELETE", f"/{collection}/{ident}")
        if answer.status_code in (204, 404):
            ledger = getattr(self.cloud, "ledger", None)
            if ledger is not None and collection in LEDGER_KINDS:
                ledger.mark_deleted(LEDGER_KINDS[collection], ident)
        elif quiet:
            self.leaked.append(f"{collection}/{ident}: {answer.status_code}")
        return answer.status_code

    def on_teardown(self, undo: Callable[[], Any]) -> None:
        """Run ``undo`` at teardown (before deleting what was created earlier)."""
        self._undo.callback(undo)

    def close(self) -> None:
        self._undo.close()


def server_ports(os_conn: Any, server_id: str) -> list[dict[str, Any]]:
    answer = neutron(os_conn, "GET", f"/ports?device_id={server_id}")
    assert answer.status_code == 200
    return answer.json()["ports"]


def private_only(addresses: Any) -> bool:
    """True when none of the addresses may be connected to from here (all private)."""
    return all(not discovery.is_publicly_reachable(a.ip) for a in addresses)
