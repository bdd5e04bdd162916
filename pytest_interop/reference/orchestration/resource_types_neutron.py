"""Neutron resource types, made through the reference cloud's network model."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pytest_interop.reference.core.errors import ApiError
from pytest_interop.reference.orchestration.exceptions import ResourceFailure
from pytest_interop.reference.orchestration.resource_types import Prop, ResourceType, Run

if TYPE_CHECKING:
    from pytest_interop.reference.orchestration.models import Resource

ACTION_TIMEOUT = 120.0


def _api(call: Any, *args: Any, **kwargs: Any) -> Any:
    try:
        return call(*args, **kwargs)
    except ApiError as error:
        raise ResourceFailure(f"{type(error).__name__}: {error.message}") from None


def _gone(call: Any, *args: Any) -> None:
    try:
        call(*args)
    except ApiError as error:
        if error.status != 404:
            raise ResourceFailure(f"{type(error).__name__}: {error.message}") from None


def network_id(run: Run, ref: Any) -> str:
    model = run.state.network
    with run.state.lock:
        if ref in model.store["networks"] and model.visible(
            run.ctx, "networks", model.store["networks"][ref]
        ):
            return str(ref)
        named = model.list(run.ctx, "networks", {"name": [str(ref)]})
    if len(named) != 1:
        raise ResourceFailure(f"Unable to find network with name or id '{ref}'")
    return named[0]["id"]


def _subnet_id(run: Run, ref: Any) -> str:
    model = run.state.network
    with run.state.lock:
        if ref in model.store["subnets"]:
            return str(ref)
        named = model.list(run.ctx, "subnets", {"name": [str(ref)]})
    if len(named) != 1:
        raise ResourceFailure(f"Unable to find subnet with name or id '{ref}'")
    return named[0]["id"]


def _group_ids(run: Run, refs: list[Any]) -> list[str]:
    groups = run.state.network.list(run.ctx, "security-groups", {})
    out = []
    for ref in refs:
        match = [g["id"] for g in groups if ref in (g["id"], g["name"])]
        if not match:
            raise ResourceFailure(f"Unable to find security_group with name or id '{ref}'")
        out.append(match[0])
    return out


# --- Neutron ------------------------------------------------------------------------------
class Net(ResourceType):
    name = "OS::Neutron::Net"
    description = "A resource for managing Neutron net."
    properties = {
        "name": Prop(
            "string", "A string specifying a symbolic name for the network.", update_allowed=True
        ),
        "admin_state_up": Prop(
            "boolean",
            "A boolean value specifying the administrative status of the network.",
            default=True,
            update_allowed=True,
        ),
    }
    attributes = {
        "name": "The name of the network.",
        "subnets": "Subnets of this network.",
        "status": "The status of the network.",
    }

    def create(self, run: Run, resource: Resource) -> None:
        body = {
            "name": resource.properties.get("name") or resource.physical_name(run.stack),
            "admin_state_up": bool(resource.properties.get("admin_state_up", True)),
        }
        resource.physical_id = _api(run.state.network.create_network, run.ctx, body)["id"]

    def update(self, run: Run, resource: Resource, old: dict[str, Any]) -> None:
        body = {
            k: resource.properties[k]
            for k in ("name", "admin_state_up")
            if k in resource.properties
        }
        _api(run.state.network.update_network, run.ctx, resource.physical_id, body)

    def delete(self, run: Run, resource: Resource) -> None:
        if resource.physical_id:
            _gone(run.state.network.delete_network, run.ctx, resource.physical_id)

    def attribute(self, run: Run | None, resource: Resource, name: str) -> Any:
        if run is None:
            return None
        network = run.state.network.store["networks"].get(resource.physical_id or "")
        return network.get(name) if network else None


class Subnet(ResourceType):
    name = "OS::Neutron::Subnet"
    description = "A resource for managing Neutron subnets."
    properties = {
        "network": Prop("string", "The ID or name of the attached network.", True),
        "cidr": Prop("string", "The CIDR.", True),
        "ip_version": Prop("integer", "The IP version, which is 4 or 6.", default=4),
        "name": Prop("string", "The name of the subnet.", update_allowed=True),
        "gateway_ip": Prop("string", "The gateway IP address."),
        "enable_dhcp": Prop(
            "boolean", "Set to true if DHCP is enabled.", default=True, update_allowed=True
        ),
        "dns_nameservers": Prop(
            "list", "A specified set of DNS name servers to be used.", update_allowed=True
        ),
    }
    attributes = {
        "cidr": "CIDR block notation for this subnet.",
        "gateway_ip": "IP of the subnet's gateway.",
        "network_id": "Parent network of the subnet.",
    }

    def create(self, run: Run, resource: Resource) -> None:
        props = resource.properties
        body: dict[str, Any] = {
            "network_id": network_id(run, props["network"]),
            "cidr": props["cidr"],
            "ip_version": int(props.get("ip_version") or 4),
            "name": props.get("name") or resource.physical_name(run.stack),
            "enable_dhcp": bool(props.get("enable_dhcp", True)),
        }
        for key in ("gateway_ip", "dns_nameservers"):
            if props.get(key) is not None:
                body[key] = props[key]
        resource.physical_id = _api(run.state.network.create_subnet, run.ctx, body)["id"]

    def update(self, run: Run, resource: Resource, old: dict[str, Any]) -> None:
        body = {
            k: resource.properties[k]
            for k in ("name", "enable_dhcp", "dns_nameservers")
            if k in resource.properties
        }
        _api(run.state.network.update_subnet, run.ctx, resource.physical_id, body)

    def delete(self, run: Run, resource: Resource) -> None:
        if resource.physical_id:
            _gone(run.state.network.delete_subnet, run.ctx, resource.physical_id)

    def attribute(self, run: Run | None, resource: Resource, name: str) -> Any:
        if run is None:
            return None
        subnet = run.state.network.store["subnets"].get(resource.physical_id or "")
        return subnet.get(name) if subnet else None


class Port(ResourceType):
    name = "OS::Neutron::Port"
    description = "A resource for managing Neutron ports."
    properties = {
        "network": Prop("string", "Network this port belongs to.", True),
        "name": Prop("string", "A symbolic name for this port.", update_allowed=True),
        "fixed_ips": Prop("list", "Desired IPs for this port: subnet, ip_address."),
        "security_groups": Prop(
            "list", "Security group IDs or names to associate with this port.", update_allowed=True
        ),
    }
    attributes = {
        "fixed_ips": "Fixed IP addresses.",
        "mac_address": "MAC address of the port.",
        "network_id": "Unique identifier for the network owning the port.",
    }

    def create(self, run: Run, resource: Resource) -> None:
        props = resource.properties
        body: dict[str, Any] = {
            "network_id": network_id(run, props["network"]),
            "name": props.get("name") or resource.physical_name(run.stack),
        }
        if props.get("fixed_ips"):
            body["fixed_ips"] = [
                {
                    **({"subnet_id": _subnet_id(run, ip["subnet"])} if ip.get("subnet") else {}),
                    **({"ip_address": ip["ip_address"]} if ip.get("ip_address") else {}),
                }
                for ip in props["fixed_ips"]
            ]
        if props.get("security_groups") is not None:
            body["security_groups"] = _group_ids(run, props["security_groups"])
        resource.physical_id = _api(run.state.network.create_port, run.ctx, body)["id"]

    def update(self, run: Run, resource: Resource, old: dict[str, Any]) -> None:
        body: dict[str, Any] = {}
        if "name" in resource.properties:
            body["name"] = resource.properties["name"]
        if resource.properties.get("security_groups") is not None:
            body["security_groups"] = _group_ids(run, resource.properties["security_groups"])
        _api(run.state.network.update_port, run.ctx, resource.physical_id, body)

    def delete(self, run: Run, resource: Resource) -> None:
        if resource.physical_id:
            _gone(run.state.network.delete_port, run.ctx, resource.physical_id)

    def attribute(self, run: Run | None, resource: Resource, name: str) -> Any:
        if run is None:
            return None
        port = run.state.network.store["ports"].get(resource.physical_id or "")
        return port.get(name) if port else None


class Router(ResourceType):
    name = "OS::Neutron::Router"
    description = "A resource that implements Neutron router."
    properties = {
        "name": Prop("string", "The name of the router.", update_allowed=True),
        "external_gateway_info": Prop(
            "map",
            "External network gateway configuration for a router: network.",
            update_allowed=True,
        ),
    }
    attributes = {
        "external_gateway_info": "Gateway network for the router.",
        "status": "The status of the router.",
    }

    def _body(self, run: Run, resource: Resource) -> dict[str, Any]:
        body: dict[str, Any] = {
            "name": resource.properties.get("name") or resource.physical_name(run.stack)
        }
        gateway = resource.properties.get("external_gateway_info") or {}
        if gateway.get("network"):
            body["external_gateway_info"] = {"network_id": network_id(run, gateway["network"])}
        return body

    def create(self, run: Run, resource: Resource) -> None:
        body = self._body(run, resource)
        resource.physical_id = _api(run.state.network.create_router, run.ctx, body)["id"]

    def update(self, run: Run, resource: Resource, old: dict[str, Any]) -> None:
        body = self._body(run, resource)
        _api(run.state.network.update_router, run.ctx, resource.physical_id, body)

    def delete(self, run: Run, resource: Resource) -> None:
        if resource.physical_id:
            _gone(run.state.network.delete_router, run.ctx, resource.physical_id)

    def attribute(self, run: Run | None, resource: Resource, name: str) -> Any:
        if run is None:
            return None
        router = run.state.network.store["routers"].get(resource.physical_id or "")
        return router.get(name) if router else None


class RouterInterface(ResourceType):
    name = "OS::Neutron::RouterInterface"
    description = "A resource for managing Neutron router interfaces."
    properties = {
        "router": Prop("string", "The router.", True),
        "subnet": Prop("string", "The subnet.", True),
    }

    def create(self, run: Run, resource: Resource) -> None:
        router, subnet = (
            resource.properties["router"],
            _subnet_id(run, resource.properties["subnet"]),
        )
        _api(run.state.network.add_router_interface, run.ctx, router, {"subnet_id": subnet})
        resource.physical_id = f"{router}:subnet_id={subnet}"
        resource.data.update(router=router, subnet=subnet)

    def delete(self, run: Run, resource: Resource) -> None:
        if resource.data.get("router"):
            _gone(
                run.state.network.remove_router_interface,
                run.ctx,
                resource.data["router"],
                {"subnet_id": resource.data["subnet"]},
            )


class SecurityGroup(ResourceType):
    name = "OS::Neutron::SecurityGroup"
    description = "A resource for managing Neutron security groups."
    properties = {
        "name": Prop(
            "string",
            "A string specifying a symbolic name for the security group.",
            update_allowed=True,
        ),
        "description": Prop("string", "Description of the security group.", update_allowed=True),
        "rules": Prop(
            "list",
            "List of security group rules: direction, ethertype, protocol, "
            "port_range_min, port_range_max, remote_ip_prefix.",
            update_allowed=True,
        ),
    }

    def _add_rules(self, run: Run, group_id: str, rules: list[dict[str, Any]]) -> None:
        for rule in rules or []:
            body = {
                "security_group_id": group_id,
                "direction": rule.get("direction", "ingress"),
                "ethertype": rule.get("ethertype", "IPv4"),
            }
            for key in ("protocol", "port_range_min", "port_range_max", "remote_ip_prefix"):
                if rule.get(key) is not None:
                    body[key] = rule[key]
            _api(run.state.network.create_security_group_rule, run.ctx, body)

    def create(self, run: Run, resource: Resource) -> None:
        body = {
            "name": resource.properties.get("name") or resource.physical_name(run.stack),
            "description": resource.properties.get("description") or "",
        }
        group = _api(run.state.network.create_security_group, run.ctx, body)
        resource.physical_id = group["id"]
        self._add_rules(run, group["id"], resource.properties.get("rules") or [])

    def update(self, run: Run, resource: Resource, old: dict[str, Any]) -> None:
        group = run.state.network.store["security-groups"][resource.physical_id]
        for rule in [r for r in group["security_group_rules"] if r["direction"] == "ingress"]:
            _gone(run.state.network.delete_security_group_rule, run.ctx, rule["id"])
        self._add_rules(run, group["id"], resource.properties.get("rules") or [])

    def delete(self, run: Run, resource: Resource) -> None:
        group_id = resource.physical_id
        if not group_id:
            return

        def deleted() -> bool:  # ports of servers being deleted may still hold the group
            try:
                run.state.network.delete_security_group(run.ctx, group_id)
            except ApiError as error:
                if error.status == 404:
                    return True
                if error.status != 409:
                    raise ResourceFailure(error.message) from None
                return False
            return True

        run.wait_until(deleted, ACTION_TIMEOUT, "Security group delete")


class FloatingIP(ResourceType):
    name = "OS::Neutron::FloatingIP"
    description = "A resource for managing Neutron floating ips."
    properties = {
        "floating_network": Prop("string", "Network to allocate floating IP from.", True),
        "port_id": Prop(
            "string",
            "ID of an existing port to associate with this floating IP.",
            update_allowed=True,
        ),
    }
    attributes = {
        "floating_ip_address": "The allocated address of this IP.",
        "port_id": "ID of the port associated with this IP.",
    }

    def create(self, run: Run, resource: Resource) -> None:
        body: dict[str, Any] = {
            "floating_network_id": network_id(run, resource.properties["floating_network"])
        }
        if resource.properties.get("port_id"):
            body["port_id"] = resource.properties["port_id"]
        resource.physical_id = _api(run.state.network.create_floating_ip, run.ctx, body)["id"]

    def update(self, run: Run, resource: Resource, old: dict[str, Any]) -> None:
        body = {"port_id": resource.properties.get("port_id")}
        _api(run.state.network.update_floating_ip, run.ctx, resource.physical_id, body)

    def delete(self, run: Run, resource: Resource) -> None:
        if resource.physical_id:
            _gone(run.state.network.delete_floating_ip, run.ctx, resource.physical_id)

    def attribute(self, run: Run | None, resource: Resource, name: str) -> Any:
        if run is None:
            return None
        item = run.state.network.store["floatingips"].get(resource.physical_id or "")
        return item.get(name) if item else None


NEUTRON_TYPES = [
    Net(),
    Subnet(),
    Port(),
    Router(),
    RouterInterface(),
    SecurityGroup(),
    FloatingIP(),
]
