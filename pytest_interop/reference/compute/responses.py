"""Nova v2.1 requests to model calls, model objects to Nova's JSON (by microversion)."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from werkzeug.wrappers import Request, Response

from pytest_interop.reference.compute import exceptions, multiple
from pytest_interop.reference.compute.models import Flavor, Keypair, Server
from pytest_interop.reference.core.wire import (
    RequestContext,
    empty_response,
    isotime,
    json_body,
    json_response,
    paginate,
    parse_isotime,
    parse_limit,
    truthy,
)

if TYPE_CHECKING:
    from pytest_interop.reference.state import CloudState

MIN_VERSION = (2, 1)
MAX_VERSION = (2, 79)
VERSION_UPDATED = "2013-07-23T11:33:21Z"


def _text(version: tuple[int, int]) -> str:
    return f"{version[0]}.{version[1]}"


def negotiate(request: Request) -> tuple[int, int]:
    """The microversion a request asks for (headers old and new), or Nova's 406."""
    raw = None
    header = request.headers.get("OpenStack-API-Version", "")
    for part in header.split(","):
        service, _, value = part.strip().partition(" ")
        if service.lower() == "compute" and value:
            raw = value.strip()
    if raw is None:
        raw = request.headers.get("X-OpenStack-Nova-API-Version")
    if not raw:
        return MIN_VERSION
    if raw.lower() == "latest":
        return MAX_VERSION
    match = re.fullmatch(r"(\d+)\.(\d+)", raw)
    if not match:
        raise exceptions.bad_request(f"Invalid format for API version: {raw}")
    version = (int(match.group(1)), int(match.group(2)))
    if not MIN_VERSION <= version <= MAX_VERSION:
        raise exceptions.NovaError(
            f"Version {raw} is not supported by the API. Minimum is {_text(MIN_VERSION)} and "
            f"maximum is {_text(MAX_VERSION)}.",
            406,
        )
    return version


# Attributes Nova's extensions added to a server; update and rebuild omit them before 2.75.
EXTENSION_PREFIXES = (
    "OS-EXT-AZ:",
    "OS-EXT-STS:",
    "OS-SRV-USG:",
    "OS-EXT-SRV-ATTR:",
    "os-extended-",
)


class ComputeResponses:
    def __init__(self, state: CloudState) -> None:
        self.state = state

    @property
    def model(self):
        return self.state.compute

    # versions --------------------------------------------------------------------------
    def _versions(self, ctx: RequestContext) -> list[dict]:
        return [
            {
                "id": "v2.0",
                "status": "SUPPORTED",
                "version": "",
                "min_version": "",
                "updated": "2011-01-21T11:33:21Z",
                "links": [{"rel": "self", "href": f"{ctx.base_url}/compute/v2/"}],
            },
            {
                "id": "v2.1",
                "status": "CURRENT",
                "version": _text(MAX_VERSION),
                "min_version": _text(MIN_VERSION),
                "updated": VERSION_UPDATED,
                "links": [{"rel": "self", "href": f"{ctx.base_url}/compute/v2.1/"}],
            },
        ]

    def versions(self, ctx: RequestContext, request: Request) -> Response:
        return json_response({"versions": self._versions(ctx)})

    def version(self, ctx: RequestContext, request: Request) -> Response:
        version = dict(self._versions(ctx)[1])
        version["media-types"] = [
            {
                "base": "application/json",
                "type": "application/vnd.openstack.compute+json;version=2.1",
            }
        ]
        return json_response({"version": version})

    # helpers ---------------------------------------------------------------------------
    def _link(self, ctx: RequestContext, kind: str, ident: Any) -> list[dict]:
        return [
            {"rel": "self", "href": f"{ctx.base_url}/compute/v2.1/{kind}/{ident}"},
            {"rel": "bookmark", "href": f"{ctx.base_url}/compute/{kind}/{ident}"},
        ]

    def _respond(
        self,
        ctx: RequestContext,
        body: Any,
        status: int = 200,
        headers: dict[str, str] | None = None,
    ) -> Response:
        version = _text(ctx.microversion)
        all_headers = {
            "OpenStack-API-Version": f"compute {version}",
            "X-OpenStack-Nova-API-Version": version,
            "Vary": "OpenStack-API-Version, X-OpenStack-Nova-API-Version",
            **(headers or {}),
        }
        if body is None:
            return empty_response(status, all_headers)
        return json_response(body, status, all_headers)

    def _paged(
        self, ctx: RequestContext, request: Request, items: list, key: Any, collection: str
    ) -> tuple[list, list[dict]]:
        limit = parse_limit(request, exceptions.bad_request)
        marker = request.args.get("marker")
        page = paginate(
            items,
            limit=limit,
            marker=marker,
            key=key,
            marker_missing=lambda m: exceptions.bad_request(f"marker [{m}] not found"),
        )
        links = []
        if page.has_more and page.items:
            params = {k: v for k, v in request.args.items() if k != "marker"}
            params["marker"] = key(page.items[-1])
            links.append(
                {
                    "rel": "next",
                    "href": f"{ctx.base_url}/compute/v2.1/{collection}?{urlencode(params)}",
                }
            )
        return page.items, links

    # flavors ---------------------------------------------------------------------------
    def _flavor(self, ctx: RequestContext, flavor: Flavor, *, detail: bool) -> dict:
        body: dict[str, Any] = {
            "id": flavor.id,
            "name": flavor.name,
            "links": self._link(ctx, "flavors", flavor.id),
        }
        if ctx.microversion >= (2, 55):
            body["description"] = flavor.description
        if detail:
            body.update(
                {
                    "vcpus": flavor.vcpus,
                    "ram": flavor.ram,
                    "disk": flavor.disk,
                    "OS-FLV-EXT-DATA:ephemeral": flavor.ephemeral,
                    "swap": flavor.swap or "",
                    "rxtx_factor": 1.0,
                    "OS-FLV-DISABLED:disabled": False,
                    "os-flavor-access:is_public": flavor.is_public,
                }
            )
            if ctx.microversion >= (2, 61):
                body["extra_specs"] = dict(flavor.extra_specs)
        return body

    def list_flavors(
        self, ctx: RequestContext, request: Request, *, detail: bool = False
    ) -> Response:
        flavors = sorted(self.model.flavors.values(), key=lambda item: (item.ram, item.id))
        if request.args.get("minRam"):
            flavors = [f for f in flavors if f.ram >= int(request.args["minRam"])]
        if request.args.get("minDisk"):
            flavors = [f for f in flavors if f.disk >= int(request.args["minDisk"])]
        items, links = self._paged(ctx, request, flavors, lambda f: f.id, "flavors")
        body: dict[str, Any] = {"flavors": [self._flavor(ctx, f, detail=detail) for f in items]}
        if links:
            body["flavors_links"] = links
        return self._respond(ctx, body)

    def get_flavor(self, ctx: RequestContext, request: Request, flavor_id: str) -> Response:
        return self._respond(
            ctx, {"flavor": self._flavor(ctx, self.model.get_flavor(flavor_id), detail=True)}
        )

    def flavor_extra_specs(self, ctx: RequestContext, request: Request, flavor_id: str) -> Response:
        return self._respond(
            ctx, {"extra_specs": dict(self.model.get_flavor(flavor_id).extra_specs)}
        )

    # servers ---------------------------------------------------------------------------
    def _addresses(self, server: Server) -> dict[str, list[dict]]:
        network = self.state.network
        addresses: dict[str, list[dict]] = {}
        for port_id in server.port_ids:
            port = network.store["ports"].get(port_id)
            if port is None:
                continue
            net = network.store["networks"].get(port["network_id"], {})
            entries = addresses.setdefault(net.get("name") or port["network_id"], [])
            for ip in port["fixed_ips"]:
                entries.append(
                    {
                        "version": 6 if ":" in ip["ip_address"] else 4,
                        "addr": ip["ip_address"],
                        "OS-EXT-IPS:type": "fixed",
                        "OS-EXT-IPS-MAC:mac_addr": port["mac_address"],
                    }
                )
            for fip in network.floating_ips_of_port(port_id):
                entries.append(
                    {
                        "version": 4,
                        "addr": fip["floating_ip_address"],
                        "OS-EXT-IPS:type": "floating",
                        "OS-EXT-IPS-MAC:mac_addr": port["mac_address"],
                    }
                )
        return addresses

    def _server(self, ctx: RequestContext, server: Server) -> dict[str, Any]:
        version = ctx.microversion
        image_link = {
            "id": server.image_id,
            "links": [
                {"rel": "bookmark", "href": f"{ctx.base_url}/compute/images/{server.image_id}"}
            ],
        }
        flavor = server.flavor
        if version >= (2, 47):
            flavor_body: dict[str, Any] = {
                "vcpus": flavor.vcpus,
                "ram": flavor.ram,
                "disk": flavor.disk,
                "ephemeral": flavor.ephemeral,
                "swap": flavor.swap,
                "original_name": flavor.name,
                "extra_specs": dict(flavor.extra_specs),
            }
        else:
            flavor_body = {
                "id": flavor.id,
                "links": [
                    {"rel": "bookmark", "href": f"{ctx.base_url}/compute/flavors/{flavor.id}"}
                ],
            }
        body: dict[str, Any] = {
            "id": server.id,
            "name": server.name,
            "status": server.status,
            "tenant_id": server.project_id,
            "user_id": server.user_id,
            "metadata": dict(server.metadata),
            "hostId": server.host_id,
            "image": image_link,
            "flavor": flavor_body,
            "created": isotime(server.created),
            "updated": isotime(server.updated),
            "addresses": self._addresses(server),
            "accessIPv4": server.access_ipv4,
            "accessIPv6": server.access_ipv6,
            "links": self._link(ctx, "servers", server.id),
            "OS-DCF:diskConfig": "MANUAL",
            "OS-EXT-AZ:availability_zone": server.availability_zone,
            "config_drive": server.config_drive,
            "key_name": server.key_name,
            "OS-SRV-USG:launched_at": (
                server.launched_at.strftime("%Y-%m-%dT%H:%M:%S.%f") if server.launched_at else None
            ),
            "OS-SRV-USG:terminated_at": None,
            "OS-EXT-STS:task_state": server.task_state,
            "OS-EXT-STS:vm_state": server.vm_state,
            "OS-EXT-STS:power_state": server.power_state,
            "os-extended-volumes:volumes_attached": [
                # delete_on_termination from 2.3 on
                {"id": volume.id, **({"delete_on_termination": False} if version >= (2, 3) else {})}
                for volume, _ in self.state.volume.attachments_of(server.id)
            ],
            "security_groups": [{"name": name} for name in server.security_groups],
        }
        if server.status in ("BUILD", "ACTIVE"):
            body["progress"] = 0 if server.status == "BUILD" else 100
        if server.fault is not None and server.status == "ERROR":
            body["fault"] = {**server.fault, "created": isotime(server.fault["created"])}
        if ctx.is_admin:
            body.update(
                {
                    "OS-EXT-SRV-ATTR:host": "reference-compute",
                    "OS-EXT-SRV-ATTR:instance_name": f"instance-{server.id[:8]}",
                    "OS-EXT-SRV-ATTR:hypervisor_hostname": "reference-compute",
                }
            )
        if version >= (2, 9):
            body["locked"] = server.locked
        if version >= (2, 19):
            body["description"] = server.description
        if version >= (2, 26):
            body["tags"] = list(server.tags)
        if version >= (2, 63):
            body["trusted_image_certificates"] = None
        if version >= (2, 73):
            body["locked_reason"] = server.locked_reason
        return body

    def _filtered_servers(self, ctx: RequestContext, request: Request) -> list[Server]:
        args = request.args
        all_projects = truthy(args.get("all_tenants")) or truthy(args.get("all_projects"))
        servers = self.model.list_servers(
            ctx,
            all_projects=all_projects,
            project_id=args.get("project_id") or args.get("tenant_id"),
        )
        if args.get("name"):
            try:
                pattern = re.compile(args["name"])
            except re.error:
                raise exceptions.bad_request(f"Invalid name filter: {args['name']}") from None
            servers = [s for s in servers if pattern.search(s.name)]
        if args.get("reservation_id"):
            servers = [s for s in servers if s.reservation_id == args["reservation_id"]]
        if args.get("status"):
            wanted = {item.upper() for item in args.getlist("status")}
            servers = [s for s in servers if s.status in wanted]
        if args.get("image"):
            servers = [s for s in servers if s.image_id == args["image"]]
        if args.get("flavor"):
            servers = [s for s in servers if s.flavor.id == args["flavor"]]
        if args.get("key_name"):
            servers = [s for s in servers if s.key_name == args["key_name"]]
        for key in ("ip", "ip6"):  # a regular expression over the servers' addresses
            if args.get(key):
                try:
                    pattern = re.compile(args[key])
                except re.error:
                    raise exceptions.bad_request(f"Invalid {key} filter: {args[key]}") from None
                servers = [
                    s
                    for s in servers
                    if any(
                        pattern.search(address["addr"])
                        for addresses in self._addresses(s).values()
                        for address in addresses
                        if address.get("version") == (4 if key == "ip" else 6)
                        and address.get("OS-EXT-IPS:type") == "fixed"  # Nova: fixed IPs only
                    )
                ]
        since = args.get("changes-since") or args.get("changes_since")
        if since:
            moment = parse_isotime(since)
            if moment is None:
                raise exceptions.bad_request(
                    f"Invalid input for field/attribute changes-since. Value: {since}."
                )
            servers = [s for s in servers if s.updated >= moment]
        if "changes-since" not in args:
            servers = [s for s in servers if not s.deleted or s.task_state == "deleting"]
        return servers

    def list_servers(
        self, ctx: RequestContext, request: Request, *, detail: bool = False
    ) -> Response:
        with self.state.lock:
            servers = self._filtered_servers(ctx, request)
            items, links = self._paged(
                ctx, request, servers, lambda s: s.id, "servers/detail" if detail else "servers"
            )
            if detail:
                rendered = [self._server(ctx, s) for s in items]
            else:
                rendered = [
                    {"id": s.id, "name": s.name, "links": self._link(ctx, "servers", s.id)}
                    for s in items
                ]
        body: dict[str, Any] = {"servers": rendered}
        if links:
            body["servers_links"] = links
        return self._respond(ctx, body)

    def get_server(self, ctx: RequestContext, request: Request, server_id: str) -> Response:
        with self.state.lock:
            return self._respond(
                ctx, {"server": self._server(ctx, self.model.get_server(ctx, server_id))}
            )

    def create_server(self, ctx: RequestContext, request: Request) -> Response:
        body = json_body(request, exceptions.bad_request)
        spec = body.get("server")
        if not isinstance(spec, dict):
            raise exceptions.bad_request("Invalid input for field/attribute server.")
        if ctx.microversion >= (2, 37) and "networks" not in spec:
            raise exceptions.bad_request(
                "Invalid input for field/attribute server. Value: 'networks' is a required property"
            )
        servers = multiple.create_servers(self.model, ctx, spec)
        if truthy(spec.get("return_reservation_id")):
            return self._respond(ctx, {"reservation_id": servers[0].reservation_id}, 202)
        server = servers[0]
        result = {
            "id": server.id,
            "links": self._link(ctx, "servers", server.id),
            "OS-DCF:diskConfig": "MANUAL",
            "security_groups": [{"name": name} for name in server.security_groups],
            "adminPass": server.admin_password,
        }
        return self._respond(
            ctx,
            {"server": result},
            202,
            {"Location": f"{ctx.base_url}/compute/v2.1/servers/{server.id}"},
        )

    def update_server(self, ctx: RequestContext, request: Request, server_id: str) -> Response:
        body = json_body(request, exceptions.bad_request).get("server")
        if not isinstance(body, dict):
            raise exceptions.bad_request("Invalid input for field/attribute server.")
        allowed = {"name", "accessIPv4", "accessIPv6", "OS-DCF:diskConfig"}
        if ctx.microversion >= (2, 19):
            allowed.add("description")
        unexpected = set(body) - allowed
        if unexpected:
            raise exceptions.bad_request(
                "Invalid input for field/attribute server. Additional "
                f"properties are not allowed ({sorted(unexpected)} "
                "were unexpected)"
            )
        access = {
            version: self.model.check_access_ip(body[f"accessIPv{version}"], version)
            for version in (4, 6)
            if f"accessIPv{version}" in body
        }
        with self.state.lock:
            server = self.model.get_server(ctx, server_id)
            if "name" in body:
                server.name = self.model.check_name(body["name"])
            if "description" in body:
                description = body["description"]
                if description is not None and (
                    not isinstance(description, str) or len(description) > 255
                ):
                    raise exceptions.bad_request("Invalid input for field/attribute description.")
                server.description = description
            server.access_ipv4 = access.get(4, server.access_ipv4)
            server.access_ipv6 = access.get(6, server.access_ipv6)
            return self._respond(ctx, {"server": self._changed_server(ctx, server)})

    def _changed_server(self, ctx: RequestContext, server: Server) -> dict[str, Any]:
        """The server as update and rebuild answer: before 2.75, without the attributes of
        Nova's old extensions (availability zone, key name, states, usage, volumes, ...)."""
        body = self._server(ctx, server)
        if ctx.microversion < (2, 75):
            for key in [k for k in body if k.startswith(EXTENSION_PREFIXES)]:
                del body[key]
            for key in ("config_drive", "key_name", "security_groups", "fault"):
                body.pop(key, None)
            body["addresses"] = {
                name: [{"version": a["version"], "addr": a["addr"]} for a in addresses]
                for name, addresses in body["addresses"].items()
            }
        return body

    def delete_server(self, ctx: RequestContext, request: Request, server_id: str) -> Response:
        self.model.delete(ctx, server_id)
        return self._respond(ctx, None, 204)

    def server_action(self, ctx: RequestContext, request: Request, server_id: str) -> Response:
        body = json_body(request, exceptions.bad_request)
        if len(body) != 1:
            raise exceptions.bad_request("There is no such action or too many actions.")
        action, args = next(iter(body.items()))
        args = args if isinstance(args, dict) else {}
        model = self.model
        simple = {
            "os-stop": model.stop,
            "os-start": model.start,
            "suspend": model.suspend,
            "resume": model.resume,
            "pause": model.pause,
            "unpause": model.unpause,
            "confirmResize": model.confirm_resize,
            "revertResize": model.revert_resize,
        }
        if action in simple:
            simple[action](ctx, server_id)
            return self._respond(ctx, None, 204 if action == "confirmResize" else 202)
        if action == "reboot":
            model.reboot(ctx, server_id, str(args.get("type", "SOFT")).upper())
            return self._respond(ctx, None, 202)
        if action == "resize":
            model.resize(ctx, server_id, args.get("flavorRef"))
            return self._respond(ctx, None, 202)
        if action == "rebuild":
            server = model.rebuild(ctx, server_id, args)
            with self.state.lock:
                rendered = self._changed_server(ctx, server)
            rendered["adminPass"] = server.admin_password
            return self._respond(ctx, {"server": rendered}, 202)
        if action == "lock":
            reason = args.get("locked_reason") if ctx.microversion >= (2, 73) else None
            model.lock(ctx, server_id, reason)
            return self._respond(ctx, None, 202)
        if action == "unlock":
            model.unlock(ctx, server_id)
            return self._respond(ctx, None, 202)
        if action == "createImage":
            image = model.create_image(ctx, server_id, args.get("name"), args.get("metadata"))
            location = f"{ctx.base_url}/image/v2/images/{image['id']}"
            if ctx.microversion >= (2, 45):
                return self._respond(ctx, {"image_id": image["id"]}, 202)
            return self._respond(ctx, None, 202, {"Location": location})
        if action in ("addSecurityGroup", "removeSecurityGroup"):
            model.change_security_group(
                ctx, server_id, args.get("name"), add=action == "addSecurityGroup"
            )
            return self._respond(ctx, None, 202)
        if action == "os-getConsoleOutput":
            return self._console(ctx, server_id, args.get("length"))
        raise exceptions.bad_request(f"There is no such action: {action}")

    def _console(self, ctx: RequestContext, server_id: str, length: Any) -> Response:
        with self.state.lock:
            server = self.model.get_server(ctx, server_id)
            if server.status not in (
                "ACTIVE",
                "SHUTOFF",
                "VERIFY_RESIZE",
                "REBOOT",
                "HARD_REBOOT",
                "PAUSED",
                "SUSPENDED",
            ):
                raise exceptions.conflict(
                    f"Cannot 'get_console_output' instance {server.id} "
                    f"while it is in vm_state {server.vm_state}"
                )
            name = server.name
        text = self.state.machines.console_log(server_id, name)
        if length is not None:
            try:
                count = int(length)
            except (TypeError, ValueError):
                raise exceptions.bad_request("Invalid input for field/attribute length.") from None
            if count >= 0:
                lines = text.splitlines(keepends=True)
                text = "".join(lines[-count:]) if count else ""
        return self._respond(ctx, {"output": text})

    # instance actions -----------------------------------------------------------------
    def _action(self, ctx: RequestContext, server_id: str, action: Any, *, events: bool) -> dict:
        body = {
            "action": action.action,
            "instance_uuid": server_id,
            "request_id": action.request_id,
            "user_id": action.user_id,
            "project_id": action.project_id,
            "start_time": isotime(action.start_time),
            "message": action.message,
        }
        if ctx.microversion >= (2, 58):
            body["updated_at"] = isotime(action.updated_at)
        if events:
            body["events"] = [
                {
                    "event": f"compute_{action.action}",
                    "start_time": isotime(action.start_time),
                    "finish_time": isotime(action.finish_time or action.start_time),
                    "result": action.result,
                    "traceback": None,
                }
            ]
        return body

    def list_actions(self, ctx: RequestContext, request: Request, server_id: str) -> Response:
        with self.state.lock:
            server = self.model.get_server(ctx, server_id)
            actions = [
                self._action(ctx, server.id, a, events=False) for a in reversed(server.actions)
            ]
        return self._respond(ctx, {"instanceActions": actions})

    def get_action(
        self, ctx: RequestContext, request: Request, server_id: str, request_id: str
    ) -> Response:
        with self.state.lock:
            server = self.model.get_server(ctx, server_id)
            for action in server.actions:
                if action.request_id == request_id:
                    return self._respond(
                        ctx, {"instanceAction": self._action(ctx, server.id, action, events=True)}
                    )
        raise exceptions.not_found(
            f"Action {request_id} on instance {server_id} could not be found."
        )

    # metadata --------------------------------------------------------------------------
    def get_metadata(self, ctx: RequestContext, request: Request, server_id: str) -> Response:
        with self.state.lock:
            return self._respond(
                ctx, {"metadata": dict(self.model.get_server(ctx, server_id).metadata)}
            )

    def set_metadata(self, ctx: RequestContext, request: Request, server_id: str) -> Response:
        metadata = json_body(request, exceptions.bad_request).get("metadata")
        replace = request.method == "PUT"
        result = self.model.set_metadata(ctx, server_id, metadata, replace=replace)
        return self._respond(ctx, {"metadata": result})

    def get_metadata_item(
        self, ctx: RequestContext, request: Request, server_id: str, key: str
    ) -> Response:
        with self.state.lock:
            metadata = self.model.get_server(ctx, server_id).metadata
            if key not in metadata:
                raise exceptions.not_found("Metadata item was not found")
            return self._respond(ctx, {"meta": {key: metadata[key]}})

    def set_metadata_item(
        self, ctx: RequestContext, request: Request, server_id: str, key: str
    ) -> Response:
        meta = json_body(request, exceptions.bad_request).get("meta")
        if not isinstance(meta, dict) or len(meta) != 1:
            raise exceptions.bad_request("Request body contains too many items")
        if key not in meta:
            raise exceptions.bad_request("Request body and URI mismatch")
        self.model.set_metadata(ctx, server_id, meta, replace=False)
        return self._respond(ctx, {"meta": meta})

    def delete_metadata_item(
        self, ctx: RequestContext, request: Request, server_id: str, key: str
    ) -> Response:
        self.model.delete_metadata_item(ctx, server_id, key)
        return self._respond(ctx, None, 204)

    # tags, addresses, interfaces, security groups ---------------------------------------
    def _require(self, ctx: RequestContext, version: tuple[int, int]) -> None:
        if ctx.microversion < version:
            raise exceptions.not_found("The resource could not be found.")

    def list_tags(self, ctx: RequestContext, request: Request, server_id: str) -> Response:
        self._require(ctx, (2, 26))
        with self.state.lock:
            return self._respond(ctx, {"tags": list(self.model.get_server(ctx, server_id).tags)})

    def replace_tags(self, ctx: RequestContext, request: Request, server_id: str) -> Response:
        self._require(ctx, (2, 26))
        tags = json_body(request, exceptions.bad_request).get("tags")
        return self._respond(ctx, {"tags": self.model.set_tags(ctx, server_id, tags)})

    def delete_tags(self, ctx: RequestContext, request: Request, server_id: str) -> Response:
        self._require(ctx, (2, 26))
        self.model.remove_tag(ctx, server_id, None)
        return self._respond(ctx, None, 204)

    def check_tag(
        self, ctx: RequestContext, request: Request, server_id: str, tag: str
    ) -> Response:
        self._require(ctx, (2, 26))
        with self.state.lock:
            if tag not in self.model.get_server(ctx, server_id).tags:
                raise exceptions.not_found(f"Tag {tag} could not be found for instance {server_id}")
        return self._respond(ctx, None, 204)

    def add_tag(self, ctx: RequestContext, request: Request, server_id: str, tag: str) -> Response:
        self._require(ctx, (2, 26))
        created = self.model.add_tag(ctx, server_id, tag)
        location = f"{ctx.base_url}/compute/v2.1/servers/{server_id}/tags/{tag}"
        return self._respond(ctx, None, 201 if created else 204, {"Location": location})

    def remove_tag(
        self, ctx: RequestContext, request: Request, server_id: str, tag: str
    ) -> Response:
        self._require(ctx, (2, 26))
        self.model.remove_tag(ctx, server_id, tag)
        return self._respond(ctx, None, 204)

    def server_ips(self, ctx: RequestContext, request: Request, server_id: str) -> Response:
        with self.state.lock:
            server = self.model.get_server(ctx, server_id)
            addresses = {
                name: [{"version": e["version"], "addr": e["addr"]} for e in entries]
                for name, entries in self._addresses(server).items()
            }
        return self._respond(ctx, {"addresses": addresses})

    def list_interfaces(self, ctx: RequestContext, request: Request, server_id: str) -> Response:
        with self.state.lock:
            server = self.model.get_server(ctx, server_id)
            ports = [self.state.network.store["ports"].get(pid) for pid in server.port_ids]
            attachments = [
                {
                    "port_id": port["id"],
                    "net_id": port["network_id"],
                    "mac_addr": port["mac_address"],
                    "port_state": port["status"],
                    "fixed_ips": [dict(ip) for ip in port["fixed_ips"]],
                }
                for port in ports
                if port is not None
            ]
        return self._respond(ctx, {"interfaceAttachments": attachments})

    def server_security_groups(
        self, ctx: RequestContext, request: Request, server_id: str
    ) -> Response:
        with self.state.lock:
            server = self.model.get_server(ctx, server_id)
            groups = [
                {
                    "id": sg["id"],
                    "name": sg["name"],
                    "description": sg["description"],
                    "tenant_id": sg["project_id"],
                    "rules": [],
                }
                for sg in self.state.network.list(ctx, "security-groups", {})
                if sg["name"] in server.security_groups
            ]
        return self._respond(ctx, {"security_groups": groups})

    # key pairs -------------------------------------------------------------------------
    def _keypair(self, ctx: RequestContext, keypair: Keypair, *, full: bool) -> dict:
        body: dict[str, Any] = {
            "name": keypair.name,
            "public_key": keypair.public_key,
            "fingerprint": keypair.fingerprint,
        }
        if ctx.microversion >= (2, 2):
            body["type"] = keypair.type
        if full:
            body.update(
                {
                    "user_id": keypair.user_id,
                    "id": keypair.id,
                    "deleted": False,
                    "created_at": isotime(keypair.created_at),
                    "updated_at": None,
                    "deleted_at": None,
                }
            )
        return body

    def list_keypairs(self, ctx: RequestContext, request: Request) -> Response:
        keypairs = self.model.list_keypairs(ctx, request.args.get("user_id"))
        items, links = self._paged(ctx, request, keypairs, lambda k: k.name, "os-keypairs")
        body: dict[str, Any] = {
            "keypairs": [{"keypair": self._keypair(ctx, k, full=False)} for k in items]
        }
        if links:
            body["keypairs_links"] = links
        return self._respond(ctx, body)

    def create_keypair(self, ctx: RequestContext, request: Request) -> Response:
        spec = json_body(request, exceptions.bad_request).get("keypair")
        if not isinstance(spec, dict):
            raise exceptions.bad_request("Invalid input for field/attribute keypair.")
        keypair, private_key = self.model.create_keypair(ctx, spec)
        body = self._keypair(ctx, keypair, full=False)
        body["user_id"] = keypair.user_id
        if private_key is not None:
            body["private_key"] = private_key
        return self._respond(ctx, {"keypair": body}, 201 if ctx.microversion >= (2, 2) else 200)

    def get_keypair(self, ctx: RequestContext, request: Request, name: str) -> Response:
        keypair = self.model.get_keypair(ctx, name, request.args.get("user_id"))
        return self._respond(ctx, {"keypair": self._keypair(ctx, keypair, full=True)})

    def delete_keypair(self, ctx: RequestContext, request: Request, name: str) -> Response:
        self.model.delete_keypair(ctx, name, request.args.get("user_id"))
        return self._respond(ctx, None, 204 if ctx.microversion >= (2, 2) else 202)

    # quotas, zones, limits ---------------------------------------------------------------
    def _quota_body(self, ctx: RequestContext, project_id: str, values: dict[str, Any]) -> dict:
        body = {"id": project_id, **values}
        if ctx.microversion < (2, 57):
            body.update(
                {
                    "injected_files": 5,
                    "injected_file_content_bytes": 10240,
                    "injected_file_path_bytes": 255,
                }
            )
        if ctx.microversion < (2, 36):
            body.update(
                {
                    "fixed_ips": -1,
                    "floating_ips": 10,
                    "security_groups": 10,
                    "security_group_rules": 20,
                }
            )
        return body

    def _quota_project(self, ctx: RequestContext, project_id: str) -> str:
        if project_id != ctx.project_id and not ctx.is_admin:
            raise exceptions.forbidden(
                "Policy doesn't allow os_compute_api:os-quota-sets:show to be performed."
            )
        return project_id

    def get_quotas(self, ctx: RequestContext, request: Request, project_id: str) -> Response:
        self._quota_project(ctx, project_id)
        limits = self.model.quota_limits(project_id)
        return self._respond(ctx, {"quota_set": self._quota_body(ctx, project_id, limits)})

    def get_quota_detail(self, ctx: RequestContext, request: Request, project_id: str) -> Response:
        self._quota_project(ctx, project_id)
        limits = self.model.quota_limits(project_id)
        usage = self.model.quota_usage(project_id)
        detail = {
            key: {"limit": limits[key], "in_use": usage.get(key, 0), "reserved": 0}
            for key in limits
        }
        return self._respond(ctx, {"quota_set": {"id": project_id, **detail}})

    def get_quota_defaults(
        self, ctx: RequestContext, request: Request, project_id: str
    ) -> Response:
        return self._respond(
            ctx, {"quota_set": self._quota_body(ctx, project_id, dict(self.model.default_quotas))}
        )

    def update_quotas(self, ctx: RequestContext, request: Request, project_id: str) -> Response:
        values = json_body(request, exceptions.bad_request).get("quota_set")
        if not isinstance(values, dict):
            raise exceptions.bad_request("Invalid input for field/attribute quota_set.")
        values = {k: v for k, v in values.items() if k not in ("force", "id")}
        self.model.set_quotas(ctx, project_id, values)
        limits = self.model.quota_limits(project_id)
        return self._respond(ctx, {"quota_set": self._quota_body(ctx, project_id, limits)})

    def availability_zones(
        self, ctx: RequestContext, request: Request, *, detail: bool = False
    ) -> Response:
        zones = [
            {"zoneName": name, "zoneState": {"available": True}, "hosts": None}
            for name in self.state.profile.availability_zones
        ]
        return self._respond(ctx, {"availabilityZoneInfo": zones})

    def limits(self, ctx: RequestContext, request: Request) -> Response:
        limits = self.model.quota_limits(ctx.project_id)
        usage = self.model.quota_usage(ctx.project_id)
        absolute = {
            "maxTotalInstances": limits["instances"],
            "maxTotalCores": limits["cores"],
            "maxTotalRAMSize": limits["ram"],
            "maxTotalKeypairs": limits["key_pairs"],
            "maxServerMeta": limits["metadata_items"],
            "maxServerGroups": limits["server_groups"],
            "maxServerGroupMembers": limits["server_group_members"],
            "totalInstancesUsed": usage["instances"],
            "totalCoresUsed": usage["cores"],
            "totalRAMUsed": usage["ram"],
            "totalServerGroupsUsed": 0,
        }
        return self._respond(ctx, {"limits": {"absolute": absolute, "rate": []}})
