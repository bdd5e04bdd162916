"""Neutron v2.0 requests to model calls, model dicts to Neutron's JSON."""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from werkzeug.wrappers import Request, Response

from pytest_interop.reference.core.wire import (
    RequestContext,
    empty_response,
    json_body,
    json_response,
    paginate,
    parse_limit,
)
from pytest_interop.reference.network import exceptions
from pytest_interop.reference.network.models import KINDS

if TYPE_CHECKING:
    from pytest_interop.reference.state import CloudState

EXTENSIONS = [
    ("router", "Neutron L3 Router"),
    ("external-net", "Neutron external network"),
    ("security-group", "security-group"),
    ("quotas", "Quota management support"),
    ("subnet_allocation", "Subnet Allocation"),
    ("extraroute", "Neutron Extra Route"),
    ("ext-gw-mode", "Neutron L3 Configurable external gateway mode"),
    ("binding", "Port Binding"),
    ("port-security", "Port Security"),
    ("standard-attr-description", "standard-attr-description"),
    ("standard-attr-timestamp", "Resource timestamps"),
    ("standard-attr-revisions", "Resource revision numbers"),
    ("project-id", "project_id field enabled"),
    ("net-mtu", "Network MTU"),
    ("availability_zone", "Availability Zone"),
    ("allowed-address-pairs", "Allowed Address Pairs"),
    ("extra_dhcp_opt", "Neutron Extra DHCP options"),
    ("pagination", "Pagination support"),
    ("sorting", "Sorting support"),
    ("filter-validation", "Filter parameters validation"),
]


class NetworkResponses:
    def __init__(self, state: CloudState) -> None:
        self.state = state

    @property
    def model(self):
        return self.state.network

    def versions(self, ctx: RequestContext, request: Request) -> Response:
        return json_response(
            {
                "versions": [
                    {
                        "id": "v2.0",
                        "status": "CURRENT",
                        "links": [{"rel": "self", "href": f"{ctx.base_url}/network/v2.0/"}],
                    }
                ]
            }
        )

    def resources(self, ctx: RequestContext, request: Request) -> Response:
        return json_response(
            {
                "resources": [
                    {
                        "name": singular,
                        "collection": collection,
                        "links": [
                            {"rel": "self", "href": f"{ctx.base_url}/network/v2.0/{collection}"}
                        ],
                    }
                    for collection, (singular, _) in KINDS.items()
                ]
            }
        )

    def extensions(self, ctx: RequestContext, request: Request) -> Response:
        return json_response(
            {
                "extensions": [
                    {
                        "alias": alias,
                        "name": name,
                        "description": name,
                        "updated": "2016-01-01T00:00:00-00:00",
                        "links": [],
                    }
                    for alias, name in EXTENSIONS
                ]
            }
        )

    def extension(self, ctx: RequestContext, request: Request, alias: str) -> Response:
        for known, name in EXTENSIONS:
            if known == alias:
                return json_response(
                    {
                        "extension": {
                            "alias": alias,
                            "name": name,
                            "description": name,
                            "updated": "2016-01-01T00:00:00-00:00",
                            "links": [],
                        }
                    }
                )
        raise exceptions.NeutronError(
            f"Extension with alias {alias} does not exist", 404, kind="ExtensionNotFound"
        )

    # generic collection handlers ------------------------------------------------------
    def list_resources(self, ctx: RequestContext, request: Request, kind: str) -> Response:
        filters = {key: request.args.getlist(key) for key in request.args}
        items = self.model.list(ctx, kind, filters)
        limit = parse_limit(request, exceptions.bad_request)
        marker = request.args.get("marker")
        with self.state.lock:
            page = paginate(
                items,
                limit=limit,
                marker=marker,
                key=lambda item: item["id"],
                marker_missing=lambda m: exceptions.not_found(KINDS[kind][1], m),
            )
            body: dict[str, Any] = {
                kind.replace("-", "_"): [self._show(kind, item, request) for item in page.items]
            }
        links = []
        if page.has_more and page.items:
            params = {key: value for key, value in request.args.items() if key != "marker"}
            params["marker"] = page.items[-1]["id"]
            links.append(
                {"rel": "next", "href": f"{ctx.base_url}/network/v2.0/{kind}?{urlencode(params)}"}
            )
        if limit is not None:
            body[f"{kind.replace('-', '_')}_links"] = links
        return json_response(body)

    @staticmethod
    def _show(kind: str, resource: dict[str, Any], request: Request) -> dict[str, Any]:
        shown = copy.deepcopy(resource)
        fields = request.args.getlist("fields")
        if fields:
            shown = {key: value for key, value in shown.items() if key in fields}
        return shown

    def get_resource(
        self, ctx: RequestContext, request: Request, kind: str, ident: str
    ) -> Response:
        with self.state.lock:
            resource = self.model.get(ctx, kind, ident)
            return json_response({KINDS[kind][0]: self._show(kind, resource, request)})

    def _body(self, request: Request, kind: str) -> dict[str, Any]:
        singular = KINDS[kind][0]
        body = json_body(request, exceptions.bad_request)
        item = body.get(singular)
        if not isinstance(item, dict):
            raise exceptions.bad_request(
                f"Failed to parse request. Resource body '{singular}' is missing"
            )
        return dict(item)

    def create_resource(self, ctx: RequestContext, request: Request, kind: str) -> Response:
        creators = {
            "networks": self.model.create_network,
            "subnets": self.model.create_subnet,
            "ports": self.model.create_port,
            "routers": self.model.create_router,
            "floatingips": self.model.create_floating_ip,
            "security-groups": self.model.create_security_group,
            "security-group-rules": self.model.create_security_group_rule,
            "subnetpools": self.model.create_subnetpool,
        }
        body = json_body(request, exceptions.bad_request)
        singular = KINDS[kind][0]
        plural_key = kind.replace("-", "_")
        if plural_key in body and isinstance(body[plural_key], list):  # bulk create
            with self.state.lock:
                created = [creators[kind](ctx, dict(item)) for item in body[plural_key]]
                return json_response({plural_key: copy.deepcopy(created)}, status=201)
        item = body.get(singular)
        if not isinstance(item, dict):
            raise exceptions.bad_request(
                f"Failed to parse request. Resource body '{singular}' is missing"
            )
        with self.state.lock:
            resource = creators[kind](ctx, dict(item))
            return json_response({singular: copy.deepcopy(resource)}, status=201)

    def update_resource(
        self, ctx: RequestContext, request: Request, kind: str, ident: str
    ) -> Response:
        updaters = {
            "networks": self.model.update_network,
            "subnets": self.model.update_subnet,
            "ports": self.model.update_port,
            "routers": self.model.update_router,
            "floatingips": self.model.update_floating_ip,
            "security-groups": self.model.update_security_group,
            "subnetpools": self.model.update_subnetpool,
        }
        if kind not in updaters:
            raise exceptions.NeutronError("The method is not allowed.", 405)
        body = self._body(request, kind)
        with self.state.lock:
            resource = updaters[kind](ctx, ident, body)
            return json_response({KINDS[kind][0]: copy.deepcopy(resource)})

    def delete_resource(
        self, ctx: RequestContext, request: Request, kind: str, ident: str
    ) -> Response:
        deleters = {
            "networks": self.model.delete_network,
            "subnets": self.model.delete_subnet,
            "ports": self.model.delete_port,
            "routers": self.model.delete_router,
            "floatingips": self.model.delete_floating_ip,
            "security-groups": self.model.delete_security_group,
            "security-group-rules": self.model.delete_security_group_rule,
            "subnetpools": self.model.delete_subnetpool,
        }
        deleters[kind](ctx, ident)
        return empty_response()

    def add_router_interface(self, ctx: RequestContext, request: Request, ident: str) -> Response:
        body = json_body(request, exceptions.bad_request)
        return json_response(self.model.add_router_interface(ctx, ident, body))

    def remove_router_interface(
        self, ctx: RequestContext, request: Request, ident: str
    ) -> Response:
        body = json_body(request, exceptions.bad_request)
        return json_response(self.model.remove_router_interface(ctx, ident, body))

    def quotas(self, ctx: RequestContext, request: Request, project_id: str) -> Response:
        if project_id != ctx.project_id and not ctx.is_admin:
            raise exceptions.NeutronError("Not authorized.", 403, kind="HTTPForbidden")
        return json_response({"quota": dict(self.model.quotas)})  # enforced: quotas.py
