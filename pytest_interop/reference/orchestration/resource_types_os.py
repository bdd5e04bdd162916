"""Nova, Neutron and Cinder resource types, made through the reference cloud's own models:
a stack's server is a real reference server (SSH-reachable), its port a Neutron port."""

from __future__ import annotations

import base64
from typing import TYPE_CHECKING, Any

from pytest_interop.reference.core.errors import ApiError
from pytest_interop.reference.orchestration.exceptions import ResourceFailure
from pytest_interop.reference.orchestration.resource_types import Prop, ResourceType, Run
from pytest_interop.reference.orchestration.resource_types_neutron import NEUTRON_TYPES
from pytest_interop.reference.orchestration.resource_types_neutron import network_id as _network_id

if TYPE_CHECKING:
    from pytest_interop.reference.orchestration.models import Resource

BOOT_TIMEOUT = 300.0
ACTION_TIMEOUT = 120.0


def _api(call: Any, *args: Any, **kwargs: Any) -> Any:
    """A model call; the service's refusal becomes the resource's failure reason."""
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


# --- Nova ---------------------------------------------------------------------------------
class KeyPair(ResourceType):
    name = "OS::Nova::KeyPair"
    description = "A resource for creating Nova key pairs."
    properties = {
        "name": Prop("string", "The name of the key pair.", True),
        "public_key": Prop(
            "string",
            "The optional public key. This allows users to supply the "
            "public key from a pre-existing key pair.",
        ),
        "save_private_key": Prop(
            "boolean",
            "True if the system should remember a generated private key; False otherwise.",
            default=False,
        ),
        "type": Prop("string", "Keypair type.", default="ssh"),
    }
    attributes = {
        "public_key": "The public key.",
        "private_key": "The private key if it has been saved.",
    }

    def create(self, run: Run, resource: Resource) -> None:
        props = resource.properties
        body = {"name": props["name"], "type": props.get("type") or "ssh"}
        if props.get("public_key"):
            body["public_key"] = props["public_key"]
        keypair, private = _api(run.state.compute.create_keypair, run.ctx, body)
        resource.physical_id = keypair.name
        resource.data["public_key"] = keypair.public_key
        resource.data["private_key"] = private if props.get("save_private_key") else ""

    def delete(self, run: Run, resource: Resource) -> None:
        if resource.physical_id:
            _gone(run.state.compute.delete_keypair, run.ctx, resource.physical_id)


class Server(ResourceType):
    name = "OS::Nova::Server"
    description = "A resource for managing Nova instances."
    properties = {
        "name": Prop("string", "Server name.", update_allowed=True),
        "image": Prop(
            "string", "The ID or name of the image to boot with.", True, update_allowed=True
        ),
        "flavor": Prop(
            "string", "The ID or name of the flavor to boot onto.", True, update_allowed=True
        ),
        "key_name": Prop("string", "Name of keypair to inject into the server."),
        "networks": Prop(
            "list", "An ordered list of nics to be added to this server: network, port, fixed_ip."
        ),
        "security_groups": Prop("list", "List of security group names or IDs."),
        "user_data": Prop("string", "User data script to be executed by cloud-init.", default=""),
        "user_data_format": Prop(
            "string",
            "How the user_data should be formatted for the server.",
            default="HEAT_CFNTOOLS",
        ),
        "metadata": Prop(
            "map", "Arbitrary key/value metadata to store for this server.", update_allowed=True
        ),
        "availability_zone": Prop("string", "Name of the availability zone for server placement."),
        "config_drive": Prop("boolean", "If True, enable config drive on the server."),
        "software_config_transport": Prop(
            "string",
            "How the server should receive the metadata required for software configuration.",
            default="POLL_SERVER_CFN",
        ),
    }
    attributes = {
        "first_address": "Convenience attribute to fetch the first assigned network address.",
        "networks": "A dict of assigned network addresses of the form: {network name: [ips]}.",
        "addresses": "A dict of all network addresses with corresponding port_id and subnets.",
        "name": "Name of the server.",
        "accessIPv4": "The manually assigned alternative public IPv4 address of the server.",
        "instance_name": "AWS compatible instance name.",
    }

    def _image(self, run: Run, ref: Any) -> str:
        images = run.state.image.images
        if ref in images:
            return str(ref)
        named = [
            i["id"]
            for i in images.values()
            if i.get("name") == ref and run.state.image.visible(run.ctx, i)
        ]
        if len(named) != 1:
            raise ResourceFailure(f"Error validating value '{ref}': No images matching {ref}.")
        return named[0]

    def _flavor(self, run: Run, ref: Any) -> str:
        flavors = run.state.compute.flavors
        if str(ref) in flavors:
            return str(ref)
        named = [f.id for f in flavors.values() if f.name == ref]
        if not named:
            raise ResourceFailure(
                f"Error validating value '{ref}': The Flavor ID ({ref}) could not be found."
            )
        return named[0]

    def _wait_active(self, run: Run, server_id: str, what: str) -> None:
        def active() -> bool:
            server = run.state.compute.servers.get(server_id)
            if server is None:
                raise ResourceFailure(f"{what}: the server is gone")
            if server.status == "ERROR":
                message = (server.fault or {}).get("message", "Unknown")
                raise ResourceFailure(f'Went to status ERROR due to "Message: {message}"')
            return server.status == "ACTIVE" and server.task_state is None

        run.wait_until(active, BOOT_TIMEOUT, what)

    def create(self, run: Run, resource: Resource) -> None:
        props = resource.properties
        networks = []
        for nic in props.get("networks") or []:
            if nic.get("port"):
                networks.append({"port": nic["port"]})
            elif nic.get("network"):
                entry = {"uuid": _network_id(run, nic["network"])}
                if nic.get("fixed_ip"):
                    entry["fixed_ip"] = nic["fixed_ip"]
                networks.append(entry)
        body: dict[str, Any] = {
            "name": props.get("name") or resource.physical_name(run.stack),
            "imageRef": self._image(run, props["image"]),
            "flavorRef": self._flavor(run, props["flavor"]),
            "metadata": {str(k): str(v) for k, v in (props.get("metadata") or {}).items()},
        }
        if networks:
            body["networks"] = networks
        if props.get("key_name"):
            body["key_name"] = props["key_name"]
        if props.get("security_groups"):
            body["security_groups"] = [{"name": g} for g in props["security_groups"]]
        if props.get("availability_zone"):
            body["availability_zone"] = props["availability_zone"]
        if props.get("user_data"):
            body["user_data"] = base64.b64encode(str(props["user_data"]).encode()).decode()
        server = _api(run.state.compute.create_server, run.ctx, body)
        resource.physical_id = server.id
        self._wait_active(run, server.id, "Server boot")

    def update(self, run: Run, resource: Resource, old: dict[str, Any]) -> None:
        """What Heat does in place: a new flavor resizes, a new image rebuilds."""
        new, server_id = resource.properties, resource.physical_id or ""
        compute = run.state.compute
        if self._flavor(run, new["flavor"]) != self._flavor(run, old["flavor"]):
            _api(compute.resize, run.ctx, server_id, self._flavor(run, new["flavor"]))
            run.wait_until(
                lambda: compute.servers[server_id].status in ("VERIFY_RESIZE", "ERROR"),
                ACTION_TIMEOUT,
                "Resize",
            )
            _api(compute.confirm_resize, run.ctx, server_id)
            self._wait_active(run, server_id, "Resize")
        if self._image(run, new["image"]) != self._image(run, old["image"]):
            _api(compute.rebuild, run.ctx, server_id, {"imageRef": self._image(run, new["image"])})
            run.wait_until(
                lambda: compute.servers[server_id].status != "REBUILD", ACTION_TIMEOUT, "Rebuild"
            )
            self._wait_active(run, server_id, "Rebuild")
        if new.get("metadata") != old.get("metadata"):
            metadata = {str(k): str(v) for k, v in (new.get("metadata") or {}).items()}
            _api(compute.set_metadata, run.ctx, server_id, metadata, replace=True)
        if new.get("name") and new.get("name") != old.get("name"):
            with run.state.lock:
                compute.servers[server_id].name = new["name"]

    def delete(self, run: Run, resource: Resource) -> None:
        server_id = resource.physical_id
        if not server_id:
            return
        _gone(run.state.compute.delete, run.ctx, server_id)
        run.wait_until(
            lambda: server_id not in run.state.compute.servers, ACTION_TIMEOUT, "Server delete"
        )

    def attribute(self, run: Run | None, resource: Resource, name: str) -> Any:
        if run is None or not resource.physical_id:
            return None
        state = run.state
        with state.lock:
            server = state.compute.servers.get(resource.physical_id)
            if server is None:
                return None
            by_network: dict[str, list[str]] = {}
            addresses: dict[str, list[dict[str, Any]]] = {}
            for port_id in server.port_ids:
                port = state.network.store["ports"].get(port_id)
                if port is None:
                    continue
                network = state.network.store["networks"].get(port["network_id"], {})
                label = network.get("name", port["network_id"])
                ips = [ip["ip_address"] for ip in port["fixed_ips"]]
                ips += [
                    f["floating_ip_address"] for f in state.network.floating_ips_of_port(port_id)
                ]
                by_network.setdefault(label, []).extend(ips)
                addresses.setdefault(label, []).extend(
                    {"addr": ip, "version": 6 if ":" in ip else 4, "port": port_id} for ip in ips
                )
            if name == "first_address":
                return next((ips[0] for ips in by_network.values() if ips), "")
            if name == "networks":
                return by_network
            if name == "addresses":
                return addresses
            if name == "name":
                return server.name
            if name == "accessIPv4":
                return server.access_ipv4
            if name == "instance_name":
                return f"instance-{server.id[:8]}"
        return None


# --- Cinder -------------------------------------------------------------------------------
class Volume(ResourceType):
    name = "OS::Cinder::Volume"
    description = "A resource that implements Cinder volumes."
    properties = {
        "size": Prop("integer", "The size of the volume in GB.", True, update_allowed=True),
        "name": Prop("string", "A name used to distinguish the volume.", update_allowed=True),
        "description": Prop("string", "A description of the volume.", update_allowed=True),
    }
    attributes = {
        "size": "The size of the volume in GB.",
        "status": "The current status of the volume.",
        "attachments": "The list of attachments of the volume.",
    }

    def create(self, run: Run, resource: Resource) -> None:
        body = {
            "size": int(resource.properties["size"]),
            "name": resource.properties.get("name") or resource.physical_name(run.stack),
            "description": resource.properties.get("description"),
        }
        volume = _api(run.state.volume.create_volume, run.ctx, body)
        resource.physical_id = volume.id
        run.wait_until(
            lambda: volume.status in ("available", "error"), ACTION_TIMEOUT, "Volume create"
        )
        if volume.status == "error":
            raise ResourceFailure('Went to status error due to "Unknown"')

    def update(self, run: Run, resource: Resource, old: dict[str, Any]) -> None:
        model, volume_id = run.state.volume, resource.physical_id or ""
        body = {k: resource.properties.get(k) for k in ("name", "description")}
        _api(model.update_volume, run.ctx, volume_id, body)
        if int(resource.properties["size"]) > int(old["size"]):
            _api(model.extend, run.ctx, volume_id, int(resource.properties["size"]))
            run.wait_until(
                lambda: model.volumes[volume_id].status != "extending",
                ACTION_TIMEOUT,
                "Volume extend",
            )

    def delete(self, run: Run, resource: Resource) -> None:
        volume_id = resource.physical_id
        if not volume_id:
            return
        _gone(run.state.volume.delete_volume, run.ctx, volume_id)
        run.wait_until(
            lambda: volume_id not in run.state.volume.volumes, ACTION_TIMEOUT, "Volume delete"
        )

    def attribute(self, run: Run | None, resource: Resource, name: str) -> Any:
        if run is None:
            return None
        volume = run.state.volume.volumes.get(resource.physical_id or "")
        if volume is None:
            return None
        if name == "attachments":
            return [{"server_id": a.server_id, "device": a.device} for a in volume.attachments]
        return getattr(volume, name, None)


class VolumeAttachment(ResourceType):
    name = "OS::Cinder::VolumeAttachment"
    description = "Resource for associating volume to instance."
    properties = {
        "instance_uuid": Prop("string", "The ID of the server to which the volume attaches.", True),
        "volume_id": Prop("string", "The ID of the volume to be attached.", True),
        "mountpoint": Prop("string", "The location where the volume is exposed on the instance."),
    }

    def create(self, run: Run, resource: Resource) -> None:
        state, props = run.state, resource.properties
        server_id, volume_id = props["instance_uuid"], props["volume_id"]
        volume, device = _api(
            state.volume.begin_nova_attach, run.ctx, server_id, volume_id, props.get("mountpoint")
        )
        state.machines.attach_disk(server_id, device, volume.size, read_only=bool(volume.read_only))
        state.volume.finish_nova_attach(volume_id, server_id, device)
        resource.physical_id = volume_id
        resource.data.update(server=server_id, volume=volume_id, device=device)

    def delete(self, run: Run, resource: Resource) -> None:
        state, data = run.state, resource.data
        if not data.get("volume"):
            return
        try:
            attachment = state.volume.begin_nova_detach(run.ctx, data["server"], data["volume"])
        except ApiError:
            return  # detached already, or the server went first
        state.machines.detach_disk(data["server"], attachment.device)
        state.volume.finish_nova_detach(data["volume"], data["server"])


TYPES = [KeyPair(), Server(), *NEUTRON_TYPES, Volume(), VolumeAttachment()]
