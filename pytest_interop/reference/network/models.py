"""Neutron's state and rules. Resources are kept as the attribute dicts Neutron shows."""

from __future__ import annotations

import ipaddress
import random
import uuid
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from pytest_interop.reference.addresses import (
    REACHABLE_CIDR,
    allocate_loopback,
    release_loopback,
)
from pytest_interop.reference.core.wire import RequestContext, isotime, utc_now
from pytest_interop.reference.network import exceptions
from pytest_interop.reference.network.quotas import DEFAULT_QUOTAS, check_quota

if TYPE_CHECKING:
    from pytest_interop.reference.identity.models import Project
    from pytest_interop.reference.profiles import NetworkSpec
    from pytest_interop.reference.state import CloudState

KINDS = {
    # collection -> (singular, error kind)
    "networks": ("network", "Network"),
    "subnets": ("subnet", "Subnet"),
    "ports": ("port", "Port"),
    "routers": ("router", "Router"),
    "floatingips": ("floatingip", "FloatingIP"),
    "security-groups": ("security_group", "SecurityGroup"),
    "security-group-rules": ("security_group_rule", "SecurityGroupRule"),
    "subnetpools": ("subnetpool", "SubnetPool"),
}
MAX_NAME = 255
ROUTER_INTERFACE = "network:router_interface"
ROUTER_GATEWAY = "network:router_gateway"
FLOATING_IP_OWNER = "network:floatingip"


def _is_loopback_cidr(cidr: str) -> bool:
    return ipaddress.ip_network(cidr) == REACHABLE_CIDR


class NetworkModel:
    def __init__(self, state: CloudState) -> None:
        self.state = state
        self.store: dict[str, dict[str, dict[str, Any]]] = {kind: {} for kind in KINDS}
        self._next_host: dict[str, int] = {}  # subnet id -> next host index (private subnets)
        self._random = random.Random(state.faults.settings.seed)
        self.quotas = dict(DEFAULT_QUOTAS)  # enforced on what projects create (quotas.py)

    def _check_quota(self, project_id: str, name: str) -> None:
        check_quota(self.quotas, self.store, project_id, name)

    # generic -------------------------------------------------------------------------
    def _base(self, ctx_project: str, **fields: Any) -> dict[str, Any]:
        now = isotime(utc_now())
        resource = {
            "id": str(uuid.uuid4()),
            "tenant_id": ctx_project,
            "project_id": ctx_project,
            "description": "",
            "created_at": now,
            "updated_at": now,
            "revision_number": 0,
            "tags": [],
        }
        resource.update(fields)
        return resource

    def _touch(self, resource: dict[str, Any]) -> None:
        resource["updated_at"] = isotime(utc_now())
        resource["revision_number"] += 1

    def visible(self, ctx: RequestContext, kind: str, resource: dict[str, Any]) -> bool:
        if ctx.is_admin or resource.get("project_id") == ctx.project_id:
            return True
        if kind == "networks":
            return resource["shared"] or resource["router:external"]
        if kind == "subnets":
            network = self.store["networks"].get(resource["network_id"])
            return bool(network and (network["shared"] or network["router:external"]))
        if kind == "subnetpools":
            return resource["shared"]
        return False

    def get(self, ctx: RequestContext, kind: str, ident: str) -> dict[str, Any]:
        with self.state.lock:
            resource = self.store[kind].get(ident)
            if resource is None or not self.visible(ctx, kind, resource):
                raise exceptions.not_found(KINDS[kind][1], ident)
            return resource

    def list(self, ctx: RequestContext, kind: str, filters: dict[str, list[str]]) -> list[dict]:
        with self.state.lock:
            return [
                resource
                for resource in self.store[kind].values()
                if self.visible(ctx, kind, resource) and _matches(resource, filters)
            ]

    def _check_name(self, body: dict[str, Any]) -> None:
        for field in ("name", "description"):
            value = body.get(field)
            if value is not None and (not isinstance(value, str) or len(value) > MAX_NAME):
                raise exceptions.invalid_input(
                    f"'{str(value)[:40]}...' exceeds maximum length of {MAX_NAME}"
                    if isinstance(value, str)
                    else f"'{value}' is not a valid string"
                )

    def _owner(self, ctx: RequestContext, body: dict[str, Any]) -> str:
        owner = body.get("project_id") or body.get("tenant_id") or ctx.project_id
        if owner != ctx.project_id and not ctx.is_admin:
            raise exceptions.NeutronError(
                "Only admin can create resources for other projects.", 403, kind="HTTPForbidden"
            )
        return owner

    def _update(
        self, resource: dict[str, Any], body: dict[str, Any], allowed: Iterable[str]
    ) -> dict[str, Any]:
        self._check_name(body)
        for field, value in body.items():
            if field not in allowed:
                raise exceptions.bad_request(f"Cannot update read-only attribute {field}")
            resource[field] = value
        self._touch(resource)
        return resource

    # networks --------------------------------------------------------------------------
    def create_network(self, ctx: RequestContext, body: dict[str, Any]) -> dict[str, Any]:
        self._check_name(body)
        with self.state.lock:
            owner = self._owner(ctx, body)
            self._check_quota(owner, "network")
            external = bool(body.get("router:external", False))
            if (external or body.get("shared")) and not ctx.is_admin:
                raise exceptions.NeutronError(
                    "(rule:create_network:shared) is disallowed by policy",
                    403,
                    kind="PolicyNotAuthorized",
                )
            network = self._base(
                owner,
                name=body.get("name", ""),
                status="ACTIVE",
                admin_state_up=body.get("admin_state_up", True),
                shared=bool(body.get("shared", False)),
                **{"router:external": external},
                subnets=[],
                mtu=int(body.get("mtu", 1500)),
                port_security_enabled=body.get("port_security_enabled", True),
                availability_zones=["nova"],
                availability_zone_hints=[],
                is_default=False,
                ipv4_address_scope=None,
                ipv6_address_scope=None,
            )
            network["description"] = body.get("description", "")
            self.store["networks"][network["id"]] = network
            return network

    def update_network(self, ctx: RequestContext, ident: str, body: dict) -> dict:
        with self.state.lock:
            network = self._owned(ctx, "networks", ident)
            return self._update(
                network,
                body,
                ("name", "description", "admin_state_up", "mtu", "port_security_enabled"),
            )

    def delete_network(self, ctx: RequestContext, ident: str) -> None:
        with self.state.lock:
            network = self._owned(ctx, "networks", ident)
            in_use = [
                port
                for port in self.store["ports"].values()
                if port["network_id"] == ident and port["device_owner"] != "network:dhcp"
            ]
            if in_use:
                raise exceptions.conflict(
                    "NetworkInUse",
                    f"Unable to complete operation on network {ident}. There are one or more "
                    "ports still in use on the network.",
                )
            for subnet_id in list(network["subnets"]):
                self.store["subnets"].pop(subnet_id, None)
            del self.store["networks"][ident]

    def _owned(self, ctx: RequestContext, kind: str, ident: str) -> dict[str, Any]:
        resource = self.get(ctx, kind, ident)
        if not ctx.is_admin and resource.get("project_id") != ctx.project_id:
            # visible (shared) but not ours: Neutron hides it from changes as 404
            raise exceptions.not_found(KINDS[kind][1], ident)
        return resource

    # subnets ---------------------------------------------------------------------------
    def create_subnet(self, ctx: RequestContext, body: dict[str, Any]) -> dict[str, Any]:
        self._check_name(body)
        with self.state.lock:
            owner = self._owner(ctx, body)
            self._check_quota(owner, "subnet")
            network_id = body.get("network_id")
            if not network_id:
                raise exceptions.bad_request(
                    "Failed to parse request. Required attribute 'network_id' not specified"
                )
            network = self.get(ctx, "networks", network_id)
            if network["project_id"] != ctx.project_id and not ctx.is_admin:
                raise exceptions.not_found("Network", network_id)
            cidr_text = body.get("cidr")
            if not cidr_text and body.get("subnetpool_id"):
                cidr_text = self._carve_from_pool(ctx, body)
            try:
                cidr = ipaddress.ip_network(str(cidr_text), strict=True)
            except ValueError:
                raise exceptions.invalid_input(f"'{cidr_text}' is not a valid IP subnet") from None
            version = int(body.get("ip_version", cidr.version))
            if version != cidr.version:
                raise exceptions.invalid_input("ip_version does not match the cidr")
            for other_id in network["subnets"]:
                if ipaddress.ip_network(self.store["subnets"][other_id]["cidr"]).overlaps(cidr):
                    raise exceptions.invalid_input(
                        f"Requested subnet with cidr: {cidr} for network: {network_id} "
                        "overlaps with another subnet"
                    )
            hosts_start = cidr.network_address + 2
            hosts_end = (
                cidr.broadcast_address - 1 if cidr.version == 4 else cidr.network_address + 65535
            )
            gateway = body.get("gateway_ip", str(cidr.network_address + 1))
            subnet = self._base(
                owner,
                name=body.get("name", ""),
                network_id=network_id,
                cidr=str(cidr),
                ip_version=version,
                gateway_ip=gateway,
                enable_dhcp=body.get("enable_dhcp", True),
                allocation_pools=body.get("allocation_pools")
                or [{"start": str(hosts_start), "end": str(hosts_end)}],
                dns_nameservers=body.get("dns_nameservers", []),
                host_routes=body.get("host_routes", []),
                ipv6_ra_mode=None,
                ipv6_address_mode=None,
                subnetpool_id=body.get("subnetpool_id"),
                service_types=[],
                segment_id=None,
            )
            subnet["description"] = body.get("description", "")
            self.store["subnets"][subnet["id"]] = subnet
            network["subnets"].append(subnet["id"])
            self._touch(network)
            return subnet

    def _carve_from_pool(self, ctx: RequestContext, body: dict[str, Any]) -> str:
        pool = self.get(ctx, "subnetpools", body["subnetpool_id"])
        prefixlen = int(body.get("prefixlen", pool["default_prefixlen"]))
        # Neutron's Max/MinPrefixSubnetAllocationError: a 400, not a subnet out of bounds
        if prefixlen > pool["max_prefixlen"]:
            raise exceptions.bad_request(
                f"Unable to allocate subnet with prefix length {prefixlen}, maximum allowed "
                f"prefix is {pool['max_prefixlen']}"
            )
        if prefixlen < pool["min_prefixlen"]:
            raise exceptions.bad_request(
                f"Unable to allocate subnet with prefix length {prefixlen}, minimum allowed "
                f"prefix is {pool['min_prefixlen']}"
            )
        used = [
            ipaddress.ip_network(item["cidr"])
            for item in self.store["subnets"].values()
            if item.get("subnetpool_id") == pool["id"]
        ]
        for prefix in pool["prefixes"]:
            for candidate in ipaddress.ip_network(prefix).subnets(new_prefix=prefixlen):
                if not any(candidate.overlaps(item) for item in used):
                    return str(candidate)
        raise exceptions.conflict(
            "SubnetAllocationError", "Insufficient prefix space to allocate subnet size"
        )

    def update_subnet(self, ctx: RequestContext, ident: str, body: dict) -> dict:
        with self.state.lock:
            subnet = self._owned(ctx, "subnets", ident)
            return self._update(
                subnet,
                body,
                (
                    "name",
                    "description",
                    "enable_dhcp",
                    "dns_nameservers",
                    "host_routes",
                    "gateway_ip",
                ),
            )

    def delete_subnet(self, ctx: RequestContext, ident: str) -> None:
        with self.state.lock:
            subnet = self._owned(ctx, "subnets", ident)
            for port in self.store["ports"].values():
                if any(ip["subnet_id"] == ident for ip in port["fixed_ips"]):
                    raise exceptions.conflict(
                        "SubnetInUse",
                        f"Unable to complete operation on subnet {ident}: One or more ports "
                        "have an IP allocation from this subnet.",
                    )
            network = self.store["networks"][subnet["network_id"]]
            network["subnets"].remove(ident)
            del self.store["subnets"][ident]

    def _allocate_ip(self, subnet: dict[str, Any], requested: str | None = None) -> str:
        used = {
            ip["ip_address"]
            for port in self.store["ports"].values()
            for ip in port["fixed_ips"]
            if ip["subnet_id"] == subnet["id"]
        }
        used |= {fip["floating_ip_address"] for fip in self.store["floatingips"].values()}
        if requested:
            if requested in used:
                raise exceptions.conflict(
                    "IpAddressAlreadyAllocated",
                    f"IP address {requested} already allocated in subnet {subnet['id']}",
                )
            if ipaddress.ip_address(requested) not in ipaddress.ip_network(subnet["cidr"]):
                raise exceptions.invalid_input(
                    f"IP address {requested} is not a valid IP for the specified subnet."
                )
            return requested
        if _is_loopback_cidr(subnet["cidr"]):
            return allocate_loopback()
        pool = subnet["allocation_pools"][0]
        start, end = ipaddress.ip_address(pool["start"]), ipaddress.ip_address(pool["end"])
        candidate = start
        while candidate <= end:
            if str(candidate) not in used and str(candidate) != subnet["gateway_ip"]:
                return str(candidate)
            candidate += 1
        raise exceptions.conflict(
            "IpAddressGenerationFailure",
            f"No more IP addresses available on network {subnet['network_id']}.",
        )

    def _requested_ips(self, network: dict[str, Any], requested: Any) -> list[dict[str, str]]:
        """A port's ``fixed_ips`` as asked: by subnet, by address, or both."""
        if not isinstance(requested, list):
            raise exceptions.invalid_input("Invalid data format for fixed IP")
        subnets = [self.store["subnets"][sid] for sid in network["subnets"]]
        fixed_ips = []
        for item in requested:
            if not isinstance(item, dict):
                raise exceptions.invalid_input("Invalid data format for fixed IP")
            subnet_id = item.get("subnet_id") or next(
                (
                    s["id"]
                    for s in subnets
                    if item.get("ip_address")
                    and ipaddress.ip_address(item["ip_address"]) in ipaddress.ip_network(s["cidr"])
                ),
                None,
            )
            subnet = self.store["subnets"].get(subnet_id or "")
            if subnet is None or subnet["network_id"] != network["id"]:
                raise exceptions.invalid_input("Invalid fixed_ips for the network")
            fixed_ips.append(
                {
                    "subnet_id": subnet["id"],
                    "ip_address": self._allocate_ip(subnet, item.get("ip_address")),
                }
            )
        return fixed_ips

    @staticmethod
    def _release_ip(address: str) -> None:
        if ipaddress.ip_address(address) in REACHABLE_CIDR:
            release_loopback(address)

    # ports -----------------------------------------------------------------------------
    def create_port(
        self, ctx: RequestContext, body: dict[str, Any], *, internal: bool = False
    ) -> dict[str, Any]:
        self._check_name(body)
        with self.state.lock:
            owner = self._owner(ctx, body)
            network_id = body.get("network_id")
            if not network_id:
                raise exceptions.bad_request(
                    "Failed to parse request. Required attribute 'network_id' not specified"
                )
            network = self.get(ctx, "networks", network_id)
            if network["router:external"] and not (internal or ctx.is_admin or network["shared"]):
                raise exceptions.NeutronError(
                    "(rule:create_port) is disallowed by policy", 403, kind="PolicyNotAuthorized"
                )
            requested = body.get("fixed_ips")
            subnets = [self.store["subnets"][sid] for sid in network["subnets"]]
            if requested:
                fixed_ips = self._requested_ips(network, requested)
            else:
                fixed_ips = [
                    {"subnet_id": subnet["id"], "ip_address": self._allocate_ip(subnet)}
                    for subnet in subnets[:1]
                ]
            groups = body.get("security_groups")
            if groups is None:
                default = self.default_security_group(owner)
                groups = [default["id"]] if default else []
            for group_id in groups:
                self.get(ctx, "security-groups", group_id)
            device_owner = body.get("device_owner", "")
            port = self._base(
                owner,
                name=body.get("name", ""),
                network_id=network_id,
                mac_address=body.get("mac_address") or self._mac(),
                fixed_ips=fixed_ips,
                device_id=body.get("device_id", ""),
                device_owner=device_owner,
                status="ACTIVE" if device_owner else "DOWN",
                admin_state_up=body.get("admin_state_up", True),
                security_groups=list(groups),
                allowed_address_pairs=body.get("allowed_address_pairs", []),
                extra_dhcp_opts=[],
                port_security_enabled=body.get("port_security_enabled", True),
                **{"binding:vnic_type": body.get("binding:vnic_type", "normal")},
            )
            port["description"] = body.get("description", "")
            self.store["ports"][port["id"]] = port
            return port

    def _mac(self) -> str:
        return "fa:16:3e:" + ":".join(f"{self._random.randrange(256):02x}" for _ in range(3))

    def update_port(self, ctx: RequestContext, ident: str, body: dict) -> dict:
        with self.state.lock:
            port = self._owned(ctx, "ports", ident)
            if "fixed_ips" in body:
                body = dict(body)
                self._replace_fixed_ips(port, body.pop("fixed_ips") or [])
            updated = self._update(
                port,
                body,
                (
                    "name",
                    "description",
                    "admin_state_up",
                    "security_groups",
                    "device_id",
                    "device_owner",
                    "allowed_address_pairs",
                    "port_security_enabled",
                    "binding:host_id",
                ),
            )
            if port["device_owner"]:
                port["status"] = "ACTIVE"
            return updated

    def _replace_fixed_ips(self, port: dict[str, Any], requested: Any) -> None:
        """New addresses allocated, the ones asked again kept, the others released."""
        held = {ip["ip_address"]: ip for ip in port["fixed_ips"]}
        network = self.store["networks"][port["network_id"]]
        kept, asked = [], []
        for item in requested if isinstance(requested, list) else [requested]:
            address = item.get("ip_address") if isinstance(item, dict) else None
            if address in held and item.get("subnet_id") in (None, held[address]["subnet_id"]):
                kept.append(held[address])
            else:
                asked.append(item)
        fresh = self._requested_ips(network, asked)
        for address in set(held) - {ip["ip_address"] for ip in kept}:
            self._release_ip(address)
        port["fixed_ips"] = kept + fresh

    def delete_port(self, ctx: RequestContext, ident: str, *, internal: bool = False) -> None:
        with self.state.lock:
            port = self._owned(ctx, "ports", ident)
            if port["device_owner"] == ROUTER_INTERFACE and not internal:
                raise exceptions.conflict(
                    "PortInUse",
                    f"Port {ident} cannot be deleted directly via the port API: "
                    "has device owner network:router_interface.",
                )
            for fip in self.store["floatingips"].values():
                if fip["port_id"] == ident:
                    self._disassociate(fip)
            for ip in port["fixed_ips"]:
                self._release_ip(ip["ip_address"])
            del self.store["ports"][ident]

    def ports_of_device(self, device_id: str) -> list[dict[str, Any]]:
        with self.state.lock:
            return [port for port in self.store["ports"].values() if port["device_id"] == device_id]

    # routers ---------------------------------------------------------------------------
    def create_router(self, ctx: RequestContext, body: dict[str, Any]) -> dict[str, Any]:
        self._check_name(body)
        with self.state.lock:
            owner = self._owner(ctx, body)
            self._check_quota(owner, "router")
            router = self._base(
                owner,
                name=body.get("name", ""),
                status="ACTIVE",
                admin_state_up=body.get("admin_state_up", True),
                external_gateway_info=None,
                routes=[],
                availability_zones=["nova"],
                availability_zone_hints=[],
                flavor_id=None,
            )
            router["description"] = body.get("description", "")
            self.store["routers"][router["id"]] = router
            if body.get("external_gateway_info"):
                self._set_gateway(ctx, router, body["external_gateway_info"])
            return router

    def _set_gateway(self, ctx: RequestContext, router: dict, info: dict | None) -> None:
        for port in list(self.store["ports"].values()):
            if port["device_id"] == router["id"] and port["device_owner"] == ROUTER_GATEWAY:
                for ip in port["fixed_ips"]:
                    self._release_ip(ip["ip_address"])
                del self.store["ports"][port["id"]]
        router["external_gateway_info"] = None
        if not info:
            return
        network_id = info.get("network_id")
        network = self.store["networks"].get(network_id or "")
        if network is None:
            raise exceptions.not_found("Network", str(network_id))
        if not network["router:external"]:
            raise exceptions.bad_request(
                f"Bad router request: Network {network_id} is not a valid external network."
            )
        port = self.create_port(
            ctx,
            {
                "network_id": network_id,
                "device_id": router["id"],
                "device_owner": ROUTER_GATEWAY,
                "project_id": router["project_id"],
                "security_groups": [],
            },
            internal=True,
        )
        router["external_gateway_info"] = {
            "network_id": network_id,
            "enable_snat": info.get("enable_snat", True),
            "external_fixed_ips": port["fixed_ips"],
        }

    def update_router(self, ctx: RequestContext, ident: str, body: dict) -> dict:
        with self.state.lock:
            router = self._owned(ctx, "routers", ident)
            if "external_gateway_info" in body:
                self._set_gateway(ctx, router, body.pop("external_gateway_info"))
            return self._update(router, body, ("name", "description", "admin_state_up", "routes"))

    def add_router_interface(self, ctx: RequestContext, ident: str, body: dict) -> dict:
        with self.state.lock:
            router = self._owned(ctx, "routers", ident)
            if body.get("port_id"):
                port = self._owned(ctx, "ports", body["port_id"])
                if port["device_id"]:
                    raise exceptions.conflict("PortInUse", f"Port {port['id']} is in use.")
                port.update(device_id=router["id"], device_owner=ROUTER_INTERFACE, status="ACTIVE")
            elif body.get("subnet_id"):
                subnet = self.get(ctx, "subnets", body["subnet_id"])
                for other in self.store["ports"].values():
                    if other["device_id"] == router["id"] and any(
                        ip["subnet_id"] == subnet["id"] for ip in other["fixed_ips"]
                    ):
                        raise exceptions.bad_request(
                            f"Bad router request: Router already has a port on subnet "
                            f"{subnet['id']}."
                        )
                port = self.create_port(
                    ctx,
                    {
                        "network_id": subnet["network_id"],
                        "device_id": router["id"],
                        "device_owner": ROUTER_INTERFACE,
                        "project_id": router["project_id"],
                        "security_groups": [],
                        "fixed_ips": [
                            {"subnet_id": subnet["id"], "ip_address": subnet["gateway_ip"]}
                        ],
                    },
                    internal=True,
                )
            else:
                raise exceptions.bad_request(
                    "Bad router request: Either subnet_id or port_id must be specified."
                )
            self._touch(router)
            return {
                "id": router["id"],
                "tenant_id": router["project_id"],
                "project_id": router["project_id"],
                "port_id": port["id"],
                "network_id": port["network_id"],
                "subnet_id": port["fixed_ips"][0]["subnet_id"] if port["fixed_ips"] else None,
                "subnet_ids": [ip["subnet_id"] for ip in port["fixed_ips"]],
                "tags": [],
            }

    def remove_router_interface(self, ctx: RequestContext, ident: str, body: dict) -> dict:
        with self.state.lock:
            router = self._owned(ctx, "routers", ident)
            candidates = [
                port
                for port in self.store["ports"].values()
                if port["device_id"] == router["id"] and port["device_owner"] == ROUTER_INTERFACE
            ]
            if body.get("port_id"):
                candidates = [port for port in candidates if port["id"] == body["port_id"]]
            elif body.get("subnet_id"):
                candidates = [
                    port
                    for port in candidates
                    if any(ip["subnet_id"] == body["subnet_id"] for ip in port["fixed_ips"])
                ]
            else:
                raise exceptions.bad_request(
                    "Bad router request: Either subnet_id or port_id must be specified."
                )
            if not candidates:
                raise exceptions.NeutronError(
                    f"Router {ident} has no interface matching the request.",
                    404,
                    kind="RouterInterfaceNotFound",
                )
            port = candidates[0]
            subnet_ids = [ip["subnet_id"] for ip in port["fixed_ips"]]
            for subnet_id in subnet_ids:
                self._check_no_floating_ips_through(router, subnet_id)
            self.delete_port(ctx, port["id"], internal=True)
            self._touch(router)
            return {
                "id": router["id"],
                "tenant_id": router["project_id"],
                "project_id": router["project_id"],
                "port_id": port["id"],
                "network_id": port["network_id"],
                "subnet_id": subnet_ids[0] if subnet_ids else None,
                "subnet_ids": subnet_ids,
                "tags": [],
            }

    def _check_no_floating_ips_through(self, router: dict, subnet_id: str) -> None:
        for fip in self.store["floatingips"].values():
            if fip["router_id"] == router["id"] and fip["port_id"]:
                port = self.store["ports"].get(fip["port_id"])
                if port and any(ip["subnet_id"] == subnet_id for ip in port["fixed_ips"]):
                    raise exceptions.conflict(
                        "RouterInterfaceInUseByFloatingIP",
                        f"Router interface for subnet {subnet_id} on router {router['id']} "
                        "cannot be deleted, as it is required by one or more floating IPs.",
                    )

    def delete_router(self, ctx: RequestContext, ident: str) -> None:
        with self.state.lock:
            router = self._owned(ctx, "routers", ident)
            if any(
                port["device_id"] == ident and port["device_owner"] == ROUTER_INTERFACE
                for port in self.store["ports"].values()
            ):
                raise exceptions.conflict("RouterInUse", f"Router {ident} still has ports")
            self._set_gateway(ctx, router, None)
            del self.store["routers"][ident]

    # floating IPs ----------------------------------------------------------------------
    def create_floating_ip(self, ctx: RequestContext, body: dict[str, Any]) -> dict[str, Any]:
        with self.state.lock:
            owner = self._owner(ctx, body)
            self._check_quota(owner, "floatingip")
            network_id = body.get("floating_network_id")
            if not network_id:
                raise exceptions.bad_request(
                    "Failed to parse request. Required attribute "
                    "'floating_network_id' not specified"
                )
            network = self.store["networks"].get(network_id)
            if network is None:
                raise exceptions.not_found("Network", network_id)
            if not network["router:external"]:
                raise exceptions.bad_request(
                    f"Bad floatingip request: Network {network_id} is not a valid external network."
                )
            if not network["subnets"]:
                raise exceptions.conflict(
                    "ExternalIpAddressExhausted",
                    f"Unable to find any IP address on external network {network_id}.",
                )
            subnet = self.store["subnets"][network["subnets"][0]]
            address = self._allocate_ip(subnet, body.get("floating_ip_address"))
            fip = self._base(
                owner,
                floating_ip_address=address,
                floating_network_id=network_id,
                router_id=None,
                port_id=None,
                fixed_ip_address=None,
                status="DOWN",
                port_details=None,
            )
            fip["description"] = body.get("description", "")
            self.store["floatingips"][fip["id"]] = fip
            try:
                if body.get("port_id"):
                    self._associate(ctx, fip, body["port_id"], body.get("fixed_ip_address"))
            except Exception:
                del self.store["floatingips"][fip["id"]]
                self._release_ip(address)
                raise
            return fip

    def update_floating_ip(self, ctx: RequestContext, ident: str, body: dict) -> dict:
        with self.state.lock:
            fip = self._owned(ctx, "floatingips", ident)
            if "port_id" in body:
                port_id = body.pop("port_id")
                if port_id:
                    self._associate(ctx, fip, port_id, body.pop("fixed_ip_address", None))
                else:
                    body.pop("fixed_ip_address", None)
                    self._disassociate(fip)
            return self._update(fip, body, ("description",))

    def _associate(
        self, ctx: RequestContext, fip: dict, port_id: str, fixed_ip: str | None
    ) -> None:
        port = self.get(ctx, "ports", port_id)
        if not port["fixed_ips"]:
            raise exceptions.bad_request(
                f"Bad floatingip request: Port {port_id} does not have any IP addresses"
            )
        if fip["port_id"] and fip["port_id"] != port_id:
            raise exceptions.conflict(
                "FloatingIPPortAlreadyAssociated",
                f"Cannot associate floating IP {fip['floating_ip_address']} ({fip['id']}) with "
                f"port {port_id}, as that floating IP is already associated with a port.",
            )
        chosen = fixed_ip or port["fixed_ips"][0]["ip_address"]
        entry = next((ip for ip in port["fixed_ips"] if ip["ip_address"] == chosen), None)
        if entry is None:
            raise exceptions.bad_request(
                f"Bad floatingip request: Port {port_id} does not have fixed ip {chosen}"
            )
        router = self._router_between(fip["floating_network_id"], entry["subnet_id"])
        if router is None:
            raise exceptions.NeutronError(
                f"External network {fip['floating_network_id']} is not reachable from subnet "
                f"{entry['subnet_id']}.  Therefore, cannot associate Port {port_id} with a "
                "Floating IP.",
                404,
                kind="ExternalGatewayForFloatingIPNotFound",
            )
        previous = fip["port_id"]
        fip.update(
            port_id=port_id, fixed_ip_address=chosen, router_id=router["id"], status="ACTIVE"
        )
        self._touch(fip)
        if previous != port_id:
            self.state.on_floating_ip_moved(fip["floating_ip_address"], previous, port_id)

    def _router_between(self, external_network_id: str, subnet_id: str) -> dict | None:
        for router in self.store["routers"].values():
            gateway = router["external_gateway_info"]
            if not gateway or gateway["network_id"] != external_network_id:
                continue
            for port in self.store["ports"].values():
                if (
                    port["device_id"] == router["id"]
                    and port["device_owner"] == ROUTER_INTERFACE
                    and any(ip["subnet_id"] == subnet_id for ip in port["fixed_ips"])
                ):
                    return router
        return None

    def _disassociate(self, fip: dict) -> None:
        previous = fip["port_id"]
        fip.update(port_id=None, fixed_ip_address=None, router_id=None, status="DOWN")
        self._touch(fip)
        if previous:
            self.state.on_floating_ip_moved(fip["floating_ip_address"], previous, None)

    def delete_floating_ip(self, ctx: RequestContext, ident: str) -> None:
        with self.state.lock:
            fip = self._owned(ctx, "floatingips", ident)
            self._disassociate(fip)
            del self.store["floatingips"][ident]
            self._release_ip(fip["floating_ip_address"])

    def floating_ips_of_port(self, port_id: str) -> list[dict[str, Any]]:
        with self.state.lock:
            return [fip for fip in self.store["floatingips"].values() if fip["port_id"] == port_id]

    # security groups -------------------------------------------------------------------
    def default_security_group(self, project_id: str) -> dict[str, Any] | None:
        for group in self.store["security-groups"].values():
            if group["project_id"] == project_id and group["name"] == "default":
                return group
        return None

    def create_security_group(
        self, ctx: RequestContext, body: dict[str, Any], *, default: bool = False
    ) -> dict[str, Any]:
        self._check_name(body)
        with self.state.lock:
            owner = self._owner(ctx, body)
            if body.get("name") == "default" and not default:
                raise exceptions.conflict(
                    "SecurityGroupDefaultAlreadyExists", "Default security group already exists."
                )
            if not default:
                self._check_quota(owner, "security_group")
            group = self._base(
                owner,
                name=body.get("name", ""),
                security_group_rules=[],
                stateful=body.get("stateful", True),
                shared=False,
            )
            group["description"] = body.get("description", "")
            self.store["security-groups"][group["id"]] = group
            for ethertype in ("IPv4", "IPv6"):
                self._add_rule(group, {"direction": "egress", "ethertype": ethertype})
                if default:
                    self._add_rule(
                        group,
                        {
                            "direction": "ingress",
                            "ethertype": ethertype,
                            "remote_group_id": group["id"],
                        },
                    )
            return group

    def update_security_group(self, ctx: RequestContext, ident: str, body: dict) -> dict:
        with self.state.lock:
            group = self._owned(ctx, "security-groups", ident)
            return self._update(group, body, ("name", "description", "stateful"))

    def delete_security_group(self, ctx: RequestContext, ident: str) -> None:
        with self.state.lock:
            group = self._owned(ctx, "security-groups", ident)
            if group["name"] == "default" and not ctx.is_admin:
                raise exceptions.conflict(
                    "SecurityGroupCannotRemoveDefault",
                    "Insufficient rights for removing default security group.",
                )
            if any(ident in port["security_groups"] for port in self.store["ports"].values()):
                raise exceptions.conflict("SecurityGroupInUse", f"Security Group {ident} in use.")
            for rule in group["security_group_rules"]:
                self.store["security-group-rules"].pop(rule["id"], None)
            del self.store["security-groups"][ident]

    def _add_rule(self, group: dict, body: dict[str, Any]) -> dict[str, Any]:
        rule = self._base(
            group["project_id"],
            security_group_id=group["id"],
            direction=body["direction"],
            ethertype=body.get("ethertype", "IPv4"),
            protocol=body.get("protocol"),
            port_range_min=body.get("port_range_min"),
            port_range_max=body.get("port_range_max"),
            remote_ip_prefix=body.get("remote_ip_prefix"),
            remote_group_id=body.get("remote_group_id"),
            remote_address_group_id=None,
            normalized_cidr=body.get("remote_ip_prefix"),
        )
        rule["description"] = body.get("description", "")
        self.store["security-group-rules"][rule["id"]] = rule
        group["security_group_rules"].append(rule)
        return rule

    def create_security_group_rule(self, ctx: RequestContext, body: dict[str, Any]) -> dict:
        with self.state.lock:
            group_id = body.get("security_group_id")
            if not group_id:
                raise exceptions.bad_request(
                    "Failed to parse request. Required attribute 'security_group_id' not specified"
                )
            group = self._owned(ctx, "security-groups", group_id)
            self._check_quota(group["project_id"], "security_group_rule")
            if body.get("direction") not in ("ingress", "egress"):
                raise exceptions.invalid_input(
                    f"{body.get('direction')!r} is not in ['ingress', 'egress']"
                )
            if body.get("ethertype", "IPv4") not in ("IPv4", "IPv6"):
                raise exceptions.invalid_input("ethertype must be IPv4 or IPv6")
            _check_rule_ports(body)
            remote_group = body.get("remote_group_id")
            if remote_group and remote_group not in self.store["security-groups"]:
                raise exceptions.NeutronError(
                    f"Security group {remote_group} does not exist",
                    404,
                    kind="SecurityGroupNotFound",
                )
            if remote_group and body.get("remote_ip_prefix"):
                raise exceptions.bad_request(
                    "Only remote_ip_prefix or remote_group_id may be provided."
                )
            if body.get("remote_ip_prefix"):
                try:
                    ipaddress.ip_network(body["remote_ip_prefix"], strict=False)
                except ValueError:
                    raise exceptions.invalid_input(
                        f"'{body['remote_ip_prefix']}' is not a valid IP prefix"
                    ) from None
            keys = (
                "direction",
                "ethertype",
                "protocol",
                "port_range_min",
                "port_range_max",
                "remote_ip_prefix",
                "remote_group_id",
            )
            wanted = {key: body.get(key, "IPv4" if key == "ethertype" else None) for key in keys}
            for existing in group["security_group_rules"]:
                if all(existing.get(key) == wanted[key] for key in keys):
                    raise exceptions.conflict(
                        "SecurityGroupRuleExists",
                        f"Security group rule already exists. Rule id is {existing['id']}.",
                    )
            rule = self._add_rule(group, {**body, **wanted})
            self._touch(group)
            return rule

    def delete_security_group_rule(self, ctx: RequestContext, ident: str) -> None:
        with self.state.lock:
            rule = self._owned(ctx, "security-group-rules", ident)
            group = self.store["security-groups"].get(rule["security_group_id"])
            if group is not None:
                group["security_group_rules"] = [
                    item for item in group["security_group_rules"] if item["id"] != ident
                ]
            del self.store["security-group-rules"][ident]

    # subnet pools ----------------------------------------------------------------------
    def create_subnetpool(self, ctx: RequestContext, body: dict[str, Any]) -> dict[str, Any]:
        self._check_name(body)
        with self.state.lock:
            owner = self._owner(ctx, body)
            prefixes = body.get("prefixes") or []
            if not prefixes:
                raise exceptions.bad_request(
                    "Failed to parse request. Required attribute 'prefixes' not specified"
                )
            try:
                networks = [ipaddress.ip_network(item) for item in prefixes]
            except ValueError as exc:
                raise exceptions.invalid_input(str(exc)) from None
            version = networks[0].version
            max_len = 32 if version == 4 else 128
            min_len = int(body.get("min_prefixlen", min(item.prefixlen for item in networks)))
            pool = self._base(
                owner,
                name=body.get("name", ""),
                prefixes=[str(item) for item in networks],
                default_prefixlen=int(body.get("default_prefixlen", min_len)),
                min_prefixlen=min_len,
                max_prefixlen=int(body.get("max_prefixlen", max_len)),
                shared=bool(body.get("shared", False)),
                is_default=bool(body.get("is_default", False)),
                ip_version=version,
                default_quota=body.get("default_quota"),
                address_scope_id=None,
            )
            pool["description"] = body.get("description", "")
            self.store["subnetpools"][pool["id"]] = pool
            return pool

    def update_subnetpool(self, ctx: RequestContext, ident: str, body: dict) -> dict:
        with self.state.lock:
            pool = self._owned(ctx, "subnetpools", ident)
            return self._update(
                pool,
                body,
                ("name", "description", "default_prefixlen", "default_quota", "is_default"),
            )

    def delete_subnetpool(self, ctx: RequestContext, ident: str) -> None:
        with self.state.lock:
            self._owned(ctx, "subnetpools", ident)
            if any(item.get("subnetpool_id") == ident for item in self.store["subnets"].values()):
                raise exceptions.conflict(
                    "SubnetPoolInUse", f"Subnet pool {ident} has subnets allocated from it."
                )
            del self.store["subnetpools"][ident]

    # provisioning ----------------------------------------------------------------------
    def provision(self, admin_ctx: RequestContext, spec: NetworkSpec) -> dict[str, Any]:
        """A profile network with its subnet (owned by the admin project)."""
        body = {"name": spec.name, "shared": spec.shared, "router:external": spec.external}
        network = self.create_network(admin_ctx, body)
        self.create_subnet(
            admin_ctx,
            {
                "network_id": network["id"],
                "cidr": spec.cidr,
                "name": f"{spec.name}-subnet",
                "ip_version": 4,
            },
        )
        return network

    def provision_project(self, project: Project, specs: Iterable[NetworkSpec]) -> None:
        """What a new project finds: a default security group and its own private networks."""
        ctx = RequestContext(base_url="", project_id=project.id, roles=("admin",))
        self.create_security_group(
            ctx, {"name": "default", "description": "Default security group"}, default=True
        )
        external = next(
            (net for net in self.store["networks"].values() if net["router:external"]), None
        )
        for spec in specs:
            network = self.create_network(ctx, {"name": spec.name})
            subnet = self.create_subnet(
                ctx,
                {
                    "network_id": network["id"],
                    "cidr": spec.cidr,
                    "name": f"{spec.name}-subnet",
                    "ip_version": 4,
                },
            )
            if external is not None:
                router = self.create_router(
                    ctx,
                    {"name": "router1", "external_gateway_info": {"network_id": external["id"]}},
                )
                self.add_router_interface(ctx, router["id"], {"subnet_id": subnet["id"]})

    def release_all(self) -> None:
        with self.state.lock:
            for port in self.store["ports"].values():
                for ip in port["fixed_ips"]:
                    self._release_ip(ip["ip_address"])
            for fip in self.store["floatingips"].values():
                self._release_ip(fip["floating_ip_address"])


_PAGING = {
    "limit",
    "marker",
    "fields",
    "sort_key",
    "sort_dir",
    "page_reverse",
    "tags",
    "tags-any",
    "not-tags",
    "not-tags-any",
}


def _matches(resource: dict[str, Any], filters: dict[str, list[str]]) -> bool:
    for field, wanted in filters.items():
        if field in _PAGING:
            continue
        if field == "fixed_ips":
            entries = resource.get("fixed_ips", [])
            for condition in wanted:
                key, _, value = condition.partition("=")
                if not any(str(entry.get(key)) == value for entry in entries):
                    return False
            continue
        if field not in resource:
            continue  # Neutron ignores filters on unknown attributes
        actual = resource[field]
        if isinstance(actual, bool):
            actual_text = "true" if actual else "false"
            if not any(item.lower() == actual_text for item in wanted):
                return False
        elif actual is None:
            if not any(item in ("", "None", "null") for item in wanted):
                return False
        elif str(actual) not in wanted:
            return False
    return True


PROTOCOLS = frozenset(
    {"ah", "dccp", "egp", "esp", "gre", "hopopt", "icmp", "igmp", "ipip", "ipv6-encap"}
    | {"ipv6-frag", "ipv6-icmp", "icmpv6", "ipv6-nonxt", "ipv6-opts", "ipv6-route", "ospf"}
    | {"pgm", "rsvp", "sctp", "tcp", "udp", "udplite", "vrrp", "any"}
)
PORTED = frozenset({"tcp", "udp", "sctp", "dccp", "udplite", "6", "17", "132", "33", "136"})
ICMP = frozenset({"icmp", "ipv6-icmp", "icmpv6", "1", "58"})


def _check_rule_ports(body: dict[str, Any]) -> None:
    """Neutron's checks of a rule's protocol and port range (ICMP: type and code)."""
    protocol = body.get("protocol")
    protocol = None if protocol is None else str(protocol).lower()
    known = protocol is None or protocol in PROTOCOLS
    if not known and not (protocol.isdigit() and 0 <= int(protocol) <= 255):
        raise exceptions.bad_request(
            f"Security group rule protocol {protocol} not supported. Only protocol values "
            f"{sorted(PROTOCOLS)} and integer representations [0 to 255] are supported."
        )
    low, high = body.get("port_range_min"), body.get("port_range_max")
    for value in (low, high):
        if value is not None and (
            not str(value).lstrip("-").isdigit() or not 0 <= int(value) <= 65535
        ):
            raise exceptions.invalid_input(f"Invalid value for port {value}")
    low = None if low is None else int(low)
    high = None if high is None else int(high)
    if (low is not None or high is not None) and protocol is None:
        raise exceptions.bad_request("Must also specify protocol if port range is given.")
    if protocol in PORTED:
        if (low is None and high is not None) or (
            low is not None and high is not None and low > high
        ):
            raise exceptions.invalid_input(
                "For TCP/UDP protocols, port_range_min must be <= port_range_max"
            )
    elif protocol in ICMP:
        if low is not None and low > 255:
            raise exceptions.invalid_input(f"Invalid value for ICMP type (port-range-min): {low}")
        if high is not None and high > 255:
            raise exceptions.invalid_input(f"Invalid value for ICMP code (port-range-max): {high}")
        if low is None and high is not None:
            raise exceptions.invalid_input(
                f"ICMP code (port-range-max) {high} is provided but ICMP type "
                "(port-range-min) is missing."
            )
