"""The orchestration facet of the OpenStack adapter: Heat's API v1 over openstacksdk's
orchestration proxy (its authenticated session, with the adapter's retries).

Stacks go into the ledger (kind ``stack``) before they are asked for; clean-up deletes them
before anything else, since a stack owns what it made. Requests are Heat's own JSON, so that
what the tests send is what Heat documents (tags as a comma-separated string, say).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from pytest_interop.clouds.base import ResourceNotFound, Stack, StackResource, settled_stack
from pytest_interop.errors import InfrastructureError, NotApplicable
from pytest_interop.resources import LedgerRecord

STACK_KIND = "stack"
POLL_SECONDS = 0.5


def _stack(item: Mapping[str, Any]) -> Stack:
    outputs = {o["output_key"]: o.get("output_value") for o in item.get("outputs") or []}
    return Stack(
        id=str(item["id"]),
        name=str(item.get("stack_name") or ""),
        status=str(item.get("stack_status") or ""),
        status_reason=str(item.get("stack_status_reason") or ""),
        outputs=outputs,
        tags=tuple(item.get("tags") or ()),
    )


class HeatFacet:
    """Mixin for :class:`~pytest_interop.clouds.openstack.OpenStackCloud` (uses its
    ``_conn``, ``_call`` and the ledger methods of :class:`~pytest_interop.clouds.base.Cloud`)."""

    _conn: Any
    _call: Callable[..., Any]
    track_intent: Callable[..., LedgerRecord | None]
    track_created: Callable[..., None]
    track_deleted: Callable[..., None]
    resource_name: Callable[[str], str]

    rollback_by_default = False  # Heat: disable_rollback is true unless asked
    template_dialect = "hot"

    def heat(self, call: str, method: str, path: str, body: Any = None, **params: Any) -> Any:
        """One Heat request; the answer's JSON (None for an empty one)."""
        from openstack import exceptions as os_exceptions

        try:
            proxy = self._conn.orchestration
            proxy.get_endpoint()
        except Exception as exc:  # no orchestration entry in the catalog
            raise NotApplicable(f"cloud has no orchestration endpoint: {exc}") from None

        def request() -> Any:
            response = proxy.request(
                path,
                method,
                json=body,
                params=params or None,
                raise_exc=False,
                headers={"Accept": "application/json"},
            )
            os_exceptions.raise_from_response(response)
            return response.json() if response.content else None

        return self._call(f"heat.{call}", request)

    # -- stacks ------------------------------------------------------------------------
    def _wait_stack(self, stack_id: str, timeout: float, *, gone_ok: bool = False) -> Stack | None:
        return settled_stack(
            self.get_stack, stack_id, timeout, call="heat.stacks.wait", gone_ok=gone_ok
        )

    def create_stack(
        self,
        template: str,
        parameters: Mapping[str, Any] | None = None,
        *,
        name: str | None = None,
        rollback: bool = False,
        tags: Sequence[str] = (),
        wait: bool = True,
        timeout: float = 600,
    ) -> Stack:
        name = name or self.resource_name(STACK_KIND)
        body: dict[str, Any] = {
            "stack_name": name,
            "template": template,  # Heat parses the text itself (dates stay strings)
            "parameters": dict(parameters or {}),
            "disable_rollback": not rollback,
        }
        if tags:
            body["tags"] = ",".join(tags)
        record = self.track_intent(STACK_KIND, name)
        answer = self.heat("stacks.create", "POST", "/stacks", body)
        stack_id = answer["stack"]["id"]
        self.track_created(record, stack_id)
        if not wait:
            return self.get_stack(stack_id)
        stack = self._wait_stack(stack_id, timeout)
        assert stack is not None
        return stack

    def get_stack(self, stack_id: str) -> Stack:
        item = self.heat("stacks.show", "GET", f"/stacks/{stack_id}")["stack"]
        if item.get("stack_status") == "DELETE_COMPLETE":
            raise ResourceNotFound(f"stack {stack_id} is deleted")
        return _stack(item)

    def list_stacks(self) -> list[Stack]:
        return [_stack(item) for item in self.heat("stacks.list", "GET", "/stacks")["stacks"]]

    def update_stack(
        self,
        stack_id: str,
        template: str,
        parameters: Mapping[str, Any] | None = None,
        *,
        wait: bool = True,
        timeout: float = 600,
    ) -> Stack:
        current = self.get_stack(stack_id)
        body = {"template": template, "parameters": dict(parameters or {})}
        self.heat("stacks.update", "PUT", f"/stacks/{current.name}/{stack_id}", body)
        if not wait:
            return self.get_stack(stack_id)
        deadline = time.monotonic() + timeout
        while self.get_stack(stack_id).status == current.status:  # until the update shows
            if time.monotonic() > deadline:
                break
            time.sleep(POLL_SECONDS / 5)
        stack = self._wait_stack(stack_id, max(1.0, deadline - time.monotonic()))
        assert stack is not None
        return stack

    def delete_stack(self, stack_id: str, *, wait: bool = True, timeout: float = 600) -> None:
        self.heat("stacks.delete", "DELETE", f"/stacks/{stack_id}")
        if wait:
            stack = self._wait_stack(stack_id, timeout, gone_ok=True)
            if stack is not None and stack.status != "DELETE_COMPLETE":
                raise InfrastructureError(
                    f"stack {stack.name} {stack.status}: {stack.status_reason}",
                    call="heat.stacks.delete",
                )
        self.track_deleted(STACK_KIND, stack_id)

    def stack_resources(self, stack_id: str) -> list[StackResource]:
        items = self.heat("resources.list", "GET", f"/stacks/{stack_id}/resources")["resources"]
        return [
            StackResource(
                name=item["resource_name"],
                type=item["resource_type"],
                physical_id=item.get("physical_resource_id") or "",
                status=item["resource_status"],
            )
            for item in items
        ]

    def stack_events(self, stack_id: str) -> list[dict[str, Any]]:
        items = self.heat("events.list", "GET", f"/stacks/{stack_id}/events")["events"]
        return [
            {
                "resource_name": item["resource_name"],
                "physical_id": item.get("physical_resource_id") or "",
                "status": f"{item['resource_action']}_{item['resource_status']}",
                "reason": item.get("resource_status_reason") or "",
            }
            for item in items
        ]

    def stack_resource_exists(self, resource: StackResource) -> bool:
        conn, ident = self._conn, resource.physical_id
        finders: dict[str, Callable[[], Any]] = {
            "OS::Nova::Server": lambda: conn.compute.find_server(ident, ignore_missing=True),
            "OS::Nova::KeyPair": lambda: conn.compute.find_keypair(ident, ignore_missing=True),
            "OS::Neutron::Net": lambda: conn.network.find_network(ident, ignore_missing=True),
            "OS::Neutron::Subnet": lambda: conn.network.find_subnet(ident, ignore_missing=True),
            "OS::Neutron::Port": lambda: conn.network.find_port(ident, ignore_missing=True),
            "OS::Neutron::Router": lambda: conn.network.find_router(ident, ignore_missing=True),
            "OS::Neutron::SecurityGroup": lambda: conn.network.find_security_group(
                ident, ignore_missing=True
            ),
            "OS::Neutron::FloatingIP": lambda: conn.network.find_ip(ident, ignore_missing=True),
            "OS::Cinder::Volume": lambda: conn.block_storage.find_volume(
                ident, ignore_missing=True
            ),
        }
        if resource.type not in finders:
            raise ValueError(f"{resource.type} makes nothing outside Heat to look for")
        if not ident:
            return False
        found = self._call(f"heat.exists.{resource.type}", finders[resource.type])
        return found is not None and getattr(found, "status", "") != "DELETED"

    def _delete_stack_if_there(self, record: LedgerRecord) -> bool:
        stack_id = record.resource_id or record.name
        if not stack_id:
            return False
        try:
            self.delete_stack(stack_id)
        except ResourceNotFound:
            return False
        return True
