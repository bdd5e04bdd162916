"""Nova's state and rules: flavors, servers and their life cycle, key pairs, quotas."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import ipaddress
import re
import secrets
import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from pytest_interop.reference.addresses import is_reachable
from pytest_interop.reference.compute import exceptions
from pytest_interop.reference.core.wire import RequestContext, utc_now

if TYPE_CHECKING:
    from pytest_interop.reference.profiles import FlavorSpec
    from pytest_interop.reference.state import CloudState

MAX_NAME = 255
MAX_METADATA_KEY = 255
MAX_METADATA_VALUE = 255
MAX_TAGS = 50
DEFAULT_QUOTAS = {
    "instances": 10,
    "cores": 20,
    "ram": 51200,
    "key_pairs": 100,
    "metadata_items": 128,
    "server_groups": 10,
    "server_group_members": 10,
}
KEYPAIR_NAME = re.compile(r"^[A-Za-z0-9 _.@-]+$")
POWER_RUNNING, POWER_SHUTDOWN, POWER_PAUSED, POWER_NOSTATE = 1, 4, 3, 0


@dataclass
class Flavor:
    id: str
    name: str
    vcpus: int
    ram: int
    disk: int
    ephemeral: int = 0
    swap: int = 0
    is_public: bool = True
    description: str | None = None
    extra_specs: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_spec(cls, spec: FlavorSpec) -> Flavor:
        return cls(spec.id, spec.name, spec.vcpus, spec.ram, spec.disk, spec.ephemeral, spec.swap)


@dataclass
class InstanceAction:
    action: str
    request_id: str
    user_id: str
    project_id: str
    start_time: dt.datetime
    updated_at: dt.datetime
    message: str | None = None
    finish_time: dt.datetime | None = None
    result: str = "Success"


@dataclass
class Server:
    id: str
    name: str
    project_id: str
    user_id: str
    image_id: str
    flavor: Flavor
    key_name: str | None
    metadata: dict[str, str]
    availability_zone: str
    port_ids: list[str]
    created: dt.datetime
    updated: dt.datetime
    description: str | None = None
    status: str = "BUILD"
    vm_state: str = "building"
    task_state: str | None = "scheduling"
    power_state: int = POWER_NOSTATE
    launched_at: dt.datetime | None = None
    locked: bool = False
    locked_by: str | None = None  # "owner" or "admin"
    locked_reason: str | None = None
    fault: dict[str, Any] | None = None
    tags: list[str] = field(default_factory=list)
    old_flavor: Flavor | None = None
    security_groups: list[str] = field(default_factory=lambda: ["default"])
    actions: list[InstanceAction] = field(default_factory=list)
    admin_password: str = ""
    user_data: str | None = None
    config_drive: str = ""
    deleted: bool = False
    machine_ready: bool = False
    # accessIPv4/accessIPv6: addresses the user records for the server; Nova assigns nothing
    access_ipv4: str = ""
    access_ipv6: str = ""
    reservation_id: str = ""  # shared by the servers of one multiple create

    @property
    def host_id(self) -> str:
        return hashlib.sha224(f"{self.project_id}reference-host".encode()).hexdigest()


@dataclass
class Keypair:
    name: str
    user_id: str
    public_key: str
    fingerprint: str
    type: str
    created_at: dt.datetime
    id: int


def _x509_fingerprint(certificate: Any) -> str:
    """Nova's fingerprint of an imported X.509 key pair: the SHA-1 of the certificate, as
    colon-separated hex. The reference cloud imports certificates; it does not make them."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes

    if not isinstance(certificate, str):
        raise exceptions.bad_request(
            "Keypair data is invalid: the reference cloud imports x509 certificates only"
        )
    try:
        cert = x509.load_pem_x509_certificate(certificate.strip().encode())
    except ValueError:
        raise exceptions.bad_request(
            "Keypair data is invalid: failed to generate fingerprint"
        ) from None
    return ":".join(f"{byte:02x}" for byte in cert.fingerprint(hashes.SHA1()))


def _fingerprint(public_key: str) -> str:
    parts = public_key.strip().split()
    if len(parts) < 2 or not parts[0].startswith(("ssh-", "ecdsa-")):
        raise exceptions.bad_request("Keypair data is invalid: failed to generate fingerprint")
    try:
        blob = base64.b64decode(parts[1], validate=True)
        serialization.load_ssh_public_key(public_key.strip().encode())
    except Exception:
        raise exceptions.bad_request(
            "Keypair data is invalid: failed to generate fingerprint"
        ) from None
    digest = hashlib.md5(blob, usedforsecurity=False).hexdigest()
    return ":".join(digest[index : index + 2] for index in range(0, len(digest), 2))


def generate_keypair() -> tuple[str, str]:
    """An RSA key pair as Nova generates it: (traditional PEM private key, OpenSSH public)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    ).decode()
    public = (
        key.public_key()
        .public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)
        .decode()
    )
    return private, public + " Generated-by-Nova"


class ComputeModel:
    def __init__(self, state: CloudState) -> None:
        self.state = state
        self.flavors: dict[str, Flavor] = {}
        self.servers: dict[str, Server] = {}
        self.keypairs: dict[tuple[str, str], Keypair] = {}  # (user_id, name)
        self.quotas: dict[str, dict[str, int]] = {}
        self.default_quotas: dict[str, int] = dict(DEFAULT_QUOTAS)  # the cloud's defaults
        self._keypair_ids = 0
        self._nova_ports: set[str] = set()  # ports Nova made for a boot (deleted with it)

    # flavors ---------------------------------------------------------------------------
    def add_flavor(self, spec: FlavorSpec) -> None:
        flavor = Flavor.from_spec(spec)
        self.flavors[flavor.id] = flavor

    def get_flavor(self, flavor_id: str) -> Flavor:
        flavor = self.flavors.get(str(flavor_id))
        if flavor is None:
            raise exceptions.not_found(f"Flavor {flavor_id} could not be found.")
        return flavor

    # lookups ---------------------------------------------------------------------------
    def get_server(self, ctx: RequestContext, server_id: str) -> Server:
        with self.state.lock:
            server = self.servers.get(server_id)
            if server is None or (not ctx.is_admin and server.project_id != ctx.project_id):
                raise exceptions.not_found(f"Instance {server_id} could not be found.")
            return server

    def list_servers(
        self, ctx: RequestContext, *, all_projects: bool = False, project_id: str | None = None
    ) -> list[Server]:
        with self.state.lock:
            servers = list(self.servers.values())
        if not (ctx.is_admin and all_projects):
            servers = [item for item in servers if item.project_id == ctx.project_id]
        elif project_id:
            servers = [item for item in servers if item.project_id == project_id]
        servers.sort(key=lambda item: (item.created, item.id), reverse=True)
        return servers

    # quotas ----------------------------------------------------------------------------
    def quota_limits(self, project_id: str) -> dict[str, int]:
        with self.state.lock:
            return {**self.default_quotas, **self.quotas.get(project_id, {})}

    def quota_usage(self, project_id: str) -> dict[str, int]:
        with self.state.lock:
            servers = [item for item in self.servers.values() if item.project_id == project_id]
            user_ids = {
                user.id
                for user in self.state.identity.users.values()
                if user.default_project_id == project_id
            }
            return {
                "instances": len(servers),
                "cores": sum(item.flavor.vcpus for item in servers),
                "ram": sum(item.flavor.ram for item in servers),
                "key_pairs": sum(1 for (uid, _) in self.keypairs if uid in user_ids),
                "metadata_items": 0,
                "server_groups": 0,
                "server_group_members": 0,
            }

    def set_quotas(self, ctx: RequestContext, project_id: str, values: dict[str, Any]) -> None:
        if not ctx.is_admin:
            raise exceptions.forbidden(
                "Policy doesn't allow os_compute_api:os-quota-sets:update to be performed."
            )
        with self.state.lock:
            for key, value in values.items():
                if key not in DEFAULT_QUOTAS:
                    raise exceptions.bad_request(
                        f"Invalid input for field/attribute quota_set. "
                        f"Additional properties are not allowed ('{key}' "
                        "was unexpected)"
                    )
                if not isinstance(value, int) or value < -1:
                    raise exceptions.bad_request(f"Invalid input for field/attribute {key}.")
                self.quotas.setdefault(project_id, {})[key] = value

    def _check_quota(self, project_id: str, *, instances: int, cores: int, ram: int) -> None:
        limits = self.quota_limits(project_id)
        usage = self.quota_usage(project_id)
        for resource, delta in (("instances", instances), ("cores", cores), ("ram", ram)):
            limit = limits[resource]
            if delta > 0 and limit >= 0 and usage[resource] + delta > limit:
                raise exceptions.quota_exceeded(resource, delta, usage[resource], limit)

    # validation ------------------------------------------------------------------------
    @staticmethod
    def check_name(name: Any, field_name: str = "name") -> str:
        if not isinstance(name, str) or not name.strip():
            raise exceptions.bad_request(
                f"Invalid input for field/attribute {field_name}. Value: {name}. is not valid"
            )
        if len(name) > MAX_NAME:
            raise exceptions.bad_request(
                f"Invalid input for field/attribute {field_name}. Value: {name[:20]}... is too long"
            )
        return name

    @staticmethod
    def check_access_ip(value: Any, version: int) -> str:
        """accessIPv4/accessIPv6 must be an address of that IP version (Nova's schema)."""
        try:
            address = ipaddress.ip_address(value) if isinstance(value, str) else None
        except ValueError:
            address = None
        if address is None or address.version != version:
            raise exceptions.bad_request(
                f"Invalid input for field/attribute accessIPv{version}. Value: {value}. "
                f"'{value}' is not a 'ipv{version}'"
            )
        return str(address)  # Nova keeps the address's canonical (compressed) form

    def check_metadata(self, project_id: str, metadata: Any) -> dict[str, str]:
        if not isinstance(metadata, dict):
            raise exceptions.bad_request(
                "Invalid input for field/attribute metadata. "
                f"Value: {metadata}. is not of type 'object'"
            )
        for key, value in metadata.items():
            if not isinstance(key, str) or not 1 <= len(key) <= MAX_METADATA_KEY:
                raise exceptions.bad_request(
                    "Invalid input for field/attribute metadata. "
                    "Metadata key must be 1 to 255 characters."
                )
            if not isinstance(value, str) or len(value) > MAX_METADATA_VALUE:
                raise exceptions.bad_request(
                    "Invalid input for field/attribute metadata. "
                    "Metadata value must be a string of at most 255 "
                    "characters."
                )
        limit = self.quota_limits(project_id)["metadata_items"]
        if 0 <= limit < len(metadata):
            raise exceptions.forbidden(
                "Quota exceeded for metadata_items: Requested "
                f"{len(metadata)}, but already used 0 of {limit} "
                "metadata_items"
            )
        return dict(metadata)

    def _check_unlocked(self, ctx: RequestContext, server: Server) -> None:
        if server.locked and not ctx.is_admin:
            raise exceptions.conflict(f"Instance {server.id} is locked")

    # create ----------------------------------------------------------------------------
    def create_server(self, ctx: RequestContext, body: dict[str, Any]) -> Server:
        name = self.check_name(body.get("name"))
        image_ref = body.get("imageRef")
        flavor_ref = body.get("flavorRef")
        if not image_ref:
            raise exceptions.bad_request("Invalid input for field/attribute imageRef.")
        if not flavor_ref:
            raise exceptions.bad_request("Invalid input for field/attribute flavorRef.")
        flavor_id = str(flavor_ref).rstrip("/").rsplit("/", 1)[-1]
        image_id = str(image_ref).rstrip("/").rsplit("/", 1)[-1]
        description = body.get("description")
        if description is not None and (
            not isinstance(description, str) or len(description) > MAX_NAME
        ):
            raise exceptions.bad_request("Invalid input for field/attribute description.")
        access = {
            version: self.check_access_ip(body[f"accessIPv{version}"], version)
            for version in (4, 6)
            if f"accessIPv{version}" in body
        }
        with self.state.lock:
            flavor = self.flavors.get(flavor_id)
            if flavor is None:
                raise exceptions.bad_request(f"Flavor {flavor_id} could not be found.")
            image = self.state.image.images.get(image_id)
            if image is None or not self.state.image.visible(ctx, image):
                raise exceptions.bad_request(f"Image {image_id} could not be found.")
            if image["status"] != "active":
                raise exceptions.bad_request(f"Image {image_id} is not active.")
            if flavor.disk and flavor.disk < (image.get("min_disk") or 0):
                raise exceptions.bad_request(
                    "Flavor's disk is too small for requested image. "
                    f"Flavor disk is {flavor.disk * 1024**3} bytes, "
                    f"minimum size is {image['min_disk'] * 1024**3} "
                    "bytes."
                )
            if flavor.ram < (image.get("min_ram") or 0):
                raise exceptions.bad_request("Flavor's memory is too small for requested image.")
            key_name = body.get("key_name")
            if key_name is not None and (ctx.user_id, key_name) not in self.keypairs:
                raise exceptions.bad_request("Invalid key_name provided.")
            zone = body.get("availability_zone") or self.state.profile.availability_zones[0]
            if zone not in self.state.profile.availability_zones:
                raise exceptions.bad_request("The requested availability zone is not available")
            metadata = self.check_metadata(ctx.project_id, body.get("metadata", {}))
            groups = [
                item.get("name")
                for item in body.get("security_groups") or [{"name": "default"}]
                if isinstance(item, dict)
            ]
            for group in groups:
                if not any(
                    sg["name"] == group or sg["id"] == group
                    for sg in self.state.network.list(ctx, "security-groups", {})
                ):
                    raise exceptions.bad_request(
                        f"Security group {group} not found for project {ctx.project_id}."
                    )
            self._check_quota(ctx.project_id, instances=1, cores=flavor.vcpus, ram=flavor.ram)
            now = utc_now()
            server = Server(
                id=str(uuid.uuid4()),
                name=name,
                project_id=ctx.project_id,
                user_id=ctx.user_id,
                image_id=image_id,
                flavor=flavor,
                key_name=key_name,
                metadata=metadata,
                availability_zone=zone,
                port_ids=[],
                created=now,
                updated=now,
                description=description,
                tags=list(body.get("tags", [])),
                security_groups=groups,
                admin_password=str(body.get("adminPass") or secrets.token_urlsafe(12)),
                user_data=body.get("user_data"),
                config_drive="True" if body.get("config_drive") else "",
                access_ipv4=access.get(4, ""),
                access_ipv6=access.get(6, ""),
            )
            server.port_ids = self._plug_networks(ctx, server, body.get("networks"))
            self.servers[server.id] = server
            self._record(ctx, server, "create")
            fails = self.state.faults.boot_fails()
        self.state.scheduler.call_later(
            self.state.faults.settings.boot_delay, lambda: self._finish_boot(server.id, fails)
        )
        return server

    def _plug_networks(self, ctx: RequestContext, server: Server, networks: Any) -> list[str]:
        network_model = self.state.network
        if networks in (None, "auto"):
            boot = self._boot_network(ctx)
            requests = [{"uuid": boot["id"]}] if boot else []
        elif networks == "none":
            requests = []
        elif isinstance(networks, list):
            requests = networks
        else:
            raise exceptions.bad_request("Invalid input for field/attribute networks.")
        port_ids: list[str] = []
        sg_ids = [
            sg["id"]
            for sg in network_model.list(ctx, "security-groups", {})
            if sg["name"] in server.security_groups
        ]
        try:
            for request in requests:
                if not isinstance(request, dict):
                    raise exceptions.bad_request("Invalid input for field/attribute networks.")
                if request.get("port"):
                    port = network_model.store["ports"].get(request["port"])
                    if port is None or not network_model.visible(ctx, "ports", port):
                        raise exceptions.bad_request(f"Port {request['port']} could not be found.")
                    if port["device_id"]:
                        raise exceptions.conflict(f"Port {port['id']} is still in use.")
                    port.update(device_id=server.id, device_owner="compute:nova", status="ACTIVE")
                    port_ids.append(port["id"])
                    continue
                network_id = request.get("uuid")
                network = network_model.store["networks"].get(network_id or "")
                if network is None or not network_model.visible(ctx, "networks", network):
                    raise exceptions.bad_request(f"Network {network_id} could not be found.")
                if network["router:external"] and not network["shared"] and not ctx.is_admin:
                    raise exceptions.forbidden(
                        f"It is not allowed to create an interface on external network {network_id}"
                    )
                body: dict[str, Any] = {
                    "network_id": network_id,
                    "device_id": server.id,
                    "device_owner": "compute:nova",
                    "project_id": ctx.project_id,
                    "security_groups": sg_ids,
                }
                if request.get("fixed_ip"):
                    body["fixed_ips"] = [{"ip_address": request["fixed_ip"]}]
                try:
                    port = network_model.create_port(ctx, body, internal=True)
                except Exception as exc:
                    raise exceptions.bad_request(
                        f"Network {network_id} could not be used: {exc}"
                    ) from None
                self._nova_ports.add(port["id"])
                port_ids.append(port["id"])
        except Exception:
            self._unplug(port_ids, server.id)
            raise
        return port_ids

    def _boot_network(self, ctx: RequestContext) -> dict[str, Any] | None:
        name = self.state.profile.boot_network
        candidates = [net for net in self.state.network.list(ctx, "networks", {"name": [name]})]
        own = [net for net in candidates if net["project_id"] == ctx.project_id]
        return (own or candidates or [None])[0]

    def _unplug(self, port_ids: list[str], server_id: str) -> None:
        network_model = self.state.network
        admin = RequestContext(base_url="", roles=("admin",))
        for port_id in port_ids:
            port = network_model.store["ports"].get(port_id)
            if port is None:
                continue
            if port_id in self._nova_ports:
                self._nova_ports.discard(port_id)
                network_model.delete_port(admin, port_id, internal=True)
            else:
                port.update(device_id="", device_owner="", status="DOWN")

    def _record(self, ctx: RequestContext, server: Server, action: str) -> None:
        now = utc_now()
        server.actions.append(
            InstanceAction(
                action,
                ctx.request_id or f"req-{uuid.uuid4()}",
                ctx.user_id,
                ctx.project_id,
                now,
                now,
                finish_time=now,
            )
        )
        server.updated = now

    # the life cycle run by the scheduler ------------------------------------------------
    def reachable_addresses(self, server: Server) -> list[str]:
        addresses = []
        for port_id in server.port_ids:
            port = self.state.network.store["ports"].get(port_id)
            if port is None:
                continue
            addresses += [
                ip["ip_address"] for ip in port["fixed_ips"] if is_reachable(ip["ip_address"])
            ]
            addresses += [
                fip["floating_ip_address"]
                for fip in self.state.network.floating_ips_of_port(port_id)
            ]
        return addresses

    def _authorized_keys(self, server: Server) -> list[str]:
        keypair = self.keypairs.get((server.user_id, server.key_name or ""))
        return [keypair.public_key] if keypair else []

    def _finish_boot(self, server_id: str, fails: bool) -> None:
        glue = self.state.machines
        with self.state.lock:
            server = self.servers.get(server_id)
            if server is None or server.deleted:
                return
            if fails:
                self._fail(server, "No valid host was found. There are not enough hosts available.")
                self.state.counters.count_boot(failed=True)
                return
            image = self.state.image.images.get(server.image_id, {})
            traits = self.state.image.guest_traits(server.image_id)
            machine_args = dict(
                hostname=_hostname(server.name),
                login_user=traits.login_user,
                authorized_keys=self._authorized_keys(server),
                vcpus=server.flavor.vcpus,
                ram_mb=server.flavor.ram,
                disk_gb=server.flavor.disk,
                image_name=system_name(image, server.image_id),
                image_id=server.image_id,
                image_data=self.state.image.data.get(server.image_id),
                root_login=traits.root_login,
                sudo_requires_tty=traits.sudo_requires_tty,
                user_data=server.user_data,
            )
        created = glue.create(server_id, **machine_args)  # slow (host keys): outside the lock
        with self.state.lock:
            server = self.servers.get(server_id)
            if server is None or server.deleted:
                glue.destroy(server_id)
                return
            if not created:
                self._fail(server, "Build of instance aborted: the machine did not start.")
                self.state.counters.count_boot(failed=True)
                return
            server.machine_ready = True
            server.status, server.vm_state, server.task_state = "ACTIVE", "active", None
            server.power_state = POWER_RUNNING
            server.launched_at = server.updated = utc_now()
            for address in self.reachable_addresses(server):
                glue.listen(server_id, address)
            self.state.counters.count_boot(failed=False)
            user_data = _user_data_text(server.user_data)
        if user_data:  # cloud-init runs it after the boot, as the guest's root
            glue.run_user_data(server_id, user_data)

    def _fail(self, server: Server, message: str) -> None:
        server.status, server.vm_state, server.task_state = "ERROR", "error", None
        server.fault = {"code": 500, "created": utc_now(), "message": message}
        server.updated = utc_now()

    def floating_ip_moved(self, address: str, old_port: str | None, new_port: str | None) -> None:
        """Called by the network model (under the lock) when a floating IP changes port."""
        glue = self.state.machines
        for port_id, method in ((old_port, glue.unlisten), (new_port, glue.listen)):
            if not port_id:
                continue
            port = self.state.network.store["ports"].get(port_id)
            server = self.servers.get(port["device_id"]) if port else None
            if server is not None and server.machine_ready:
                method(server.id, address)

    # actions ---------------------------------------------------------------------------
    def _begin(
        self,
        ctx: RequestContext,
        server: Server,
        action: str,
        *,
        allowed: tuple[str, ...],
        task: str,
        check_lock: bool = True,
    ) -> None:
        if check_lock:
            self._check_unlocked(ctx, server)
        if server.task_state is not None or server.status not in allowed:
            raise exceptions.conflict(
                f"Cannot '{action}' instance {server.id} while it is in vm_state "
                f"{server.vm_state}"
                + (f", task_state {server.task_state}" if server.task_state else "")
            )
        server.task_state = task
        self._record(ctx, server, action)

    def _later(self, server_id: str, finish: Any, delay: float | None = None) -> None:
        def run() -> None:
            with self.state.lock:
                server = self.servers.get(server_id)
                if server is None or server.deleted:
                    return
                finish(server)
                server.task_state = None
                server.updated = utc_now()

        settings = self.state.faults.settings
        self.state.scheduler.call_later(settings.action_delay if delay is None else delay, run)

    def reboot(self, ctx: RequestContext, server_id: str, kind: str) -> None:
        if kind not in ("SOFT", "HARD"):
            raise exceptions.bad_request("Invalid input for field/attribute type.")
        with self.state.lock:
            server = self.get_server(ctx, server_id)
            allowed = ("ACTIVE",) if kind == "SOFT" else ("ACTIVE", "SHUTOFF", "ERROR")
            self._begin(
                ctx,
                server,
                "reboot",
                allowed=allowed,
                task="rebooting" if kind == "SOFT" else "rebooting_hard",
            )
            server.status = "REBOOT" if kind == "SOFT" else "HARD_REBOOT"

            def finish(server: Server) -> None:
                was_off = server.power_state != POWER_RUNNING
                server.status, server.vm_state, server.power_state = "ACTIVE", "active", 1
                if was_off:
                    self.state.machines.power_on(server.id)
                self.state.machines.reboot(server.id)

            # the guest boots again: as long as a boot, not a quick state change
            settings = self.state.faults.settings
            self._later(server.id, finish, max(settings.action_delay, settings.boot_delay))

    def stop(self, ctx: RequestContext, server_id: str) -> None:
        with self.state.lock:
            server = self.get_server(ctx, server_id)
            self._begin(ctx, server, "stop", allowed=("ACTIVE", "ERROR"), task="powering-off")

            def finish(server: Server) -> None:
                server.status, server.vm_state, server.power_state = "SHUTOFF", "stopped", 4
                self.state.machines.power_off(server.id)

            self._later(server.id, finish)

    def start(self, ctx: RequestContext, server_id: str) -> None:
        with self.state.lock:
            server = self.get_server(ctx, server_id)
            self._begin(ctx, server, "start", allowed=("SHUTOFF",), task="powering-on")

            def finish(server: Server) -> None:
                server.status, server.vm_state, server.power_state = "ACTIVE", "active", 1
                self.state.machines.power_on(server.id)

            self._later(server.id, finish)

    def suspend(self, ctx: RequestContext, server_id: str) -> None:
        with self.state.lock:
            server = self.get_server(ctx, server_id)
            self._begin(ctx, server, "suspend", allowed=("ACTIVE",), task="suspending")

            def finish(server: Server) -> None:
                server.status, server.vm_state, server.power_state = "SUSPENDED", "suspended", 4
                self.state.machines.suspend(server.id)  # resume continues the same boot

            self._later(server.id, finish)

    def resume(self, ctx: RequestContext, server_id: str) -> None:
        with self.state.lock:
            server = self.get_server(ctx, server_id)
            self._begin(ctx, server, "resume", allowed=("SUSPENDED",), task="resuming")

            def finish(server: Server) -> None:
                server.status, server.vm_state, server.power_state = "ACTIVE", "active", 1
                self.state.machines.power_on(server.id)

            self._later(server.id, finish)

    def pause(self, ctx: RequestContext, server_id: str) -> None:
        with self.state.lock:
            server = self.get_server(ctx, server_id)
            self._begin(ctx, server, "pause", allowed=("ACTIVE",), task="pausing")

            def finish(server: Server) -> None:
                server.status, server.vm_state, server.power_state = "PAUSED", "paused", 3
                self.state.machines.pause(server.id)

            self._later(server.id, finish)

    def unpause(self, ctx: RequestContext, server_id: str) -> None:
        with self.state.lock:
            server = self.get_server(ctx, server_id)
            self._begin(ctx, server, "unpause", allowed=("PAUSED",), task="unpausing")

            def finish(server: Server) -> None:
                server.status, server.vm_state, server.power_state = "ACTIVE", "active", 1
                self.state.machines.power_on(server.id)

            self._later(server.id, finish)

    def resize(self, ctx: RequestContext, server_id: str, flavor_ref: Any) -> None:
        if not flavor_ref:
            raise exceptions.bad_request("Invalid input for field/attribute flavorRef.")
        flavor_id = str(flavor_ref).rstrip("/").rsplit("/", 1)[-1]
        with self.state.lock:
            server = self.get_server(ctx, server_id)
            flavor = self.flavors.get(flavor_id)
            if flavor is None:
                raise exceptions.bad_request(f"Unable to find flavor {flavor_id}")
            if flavor.id == server.flavor.id:
                raise exceptions.bad_request("When resizing, instances must change flavor!")
            image = self.state.image.images.get(server.image_id, {})
            if flavor.disk and flavor.disk < (image.get("min_disk") or 0):
                raise exceptions.bad_request("Flavor's disk is too small for requested image.")
            self._check_unlocked(ctx, server)
            self._check_quota(
                server.project_id,
                instances=0,
                cores=flavor.vcpus - server.flavor.vcpus,
                ram=flavor.ram - server.flavor.ram,
            )
            self._begin(ctx, server, "resize", allowed=("ACTIVE", "SHUTOFF"), task="resize_prep")
            server.status = "RESIZE"

            def finish(server: Server) -> None:
                server.old_flavor, server.flavor = server.flavor, flavor
                server.status, server.vm_state = "VERIFY_RESIZE", "resized"
                self.state.machines.resize(server.id, flavor.vcpus, flavor.ram, flavor.disk)

            self._later(server.id, finish)

    def confirm_resize(self, ctx: RequestContext, server_id: str) -> None:
        with self.state.lock:
            server = self.get_server(ctx, server_id)
            self._begin(
                ctx, server, "confirmResize", allowed=("VERIFY_RESIZE",), task="resize_confirming"
            )
            server.old_flavor = None
            server.task_state = None
            server.status, server.vm_state = "ACTIVE", "active"

    def revert_resize(self, ctx: RequestContext, server_id: str) -> None:
        with self.state.lock:
            server = self.get_server(ctx, server_id)
            self._begin(
                ctx, server, "revertResize", allowed=("VERIFY_RESIZE",), task="resize_reverting"
            )
            server.status = "REVERT_RESIZE"

            def finish(server: Server) -> None:
                if server.old_flavor is not None:
                    server.flavor, server.old_flavor = server.old_flavor, None
                server.status, server.vm_state = "ACTIVE", "active"
                flavor = server.flavor
                self.state.machines.resize(server.id, flavor.vcpus, flavor.ram, flavor.disk)

            self._later(server.id, finish)

    def rebuild(self, ctx: RequestContext, server_id: str, body: dict[str, Any]) -> Server:
        image_ref = body.get("imageRef")
        if not image_ref:
            raise exceptions.bad_request("Invalid input for field/attribute imageRef.")
        image_id = str(image_ref).rstrip("/").rsplit("/", 1)[-1]
        with self.state.lock:
            server = self.get_server(ctx, server_id)
            image = self.state.image.images.get(image_id)
            if image is None or not self.state.image.visible(ctx, image):
                raise exceptions.bad_request(f"Image {image_id} could not be found.")
            if "name" in body:
                self.check_name(body["name"])
            metadata = (
                self.check_metadata(server.project_id, body["metadata"])
                if "metadata" in body
                else None
            )
            if (
                "key_name" in body
                and body["key_name"] is not None
                and (ctx.user_id, body["key_name"]) not in self.keypairs
            ):
                raise exceptions.bad_request("Invalid key_name provided.")
            self._begin(
                ctx, server, "rebuild", allowed=("ACTIVE", "SHUTOFF", "ERROR"), task="rebuilding"
            )
            server.status = "REBUILD"
            server.image_id = image_id
            server.name = body.get("name", server.name)
            if metadata is not None:
                server.metadata = metadata
            if "key_name" in body:
                server.key_name = body["key_name"]
            if "description" in body:
                server.description = body["description"]
            server.admin_password = body.get("adminPass") or secrets.token_urlsafe(12)

            def finish(server: Server) -> None:
                traits = self.state.image.guest_traits(server.image_id)
                server.status, server.vm_state, server.power_state = "ACTIVE", "active", 1
                server.fault = None
                self.state.machines.rebuild(
                    server.id,
                    system_name(image, image_id),
                    traits.login_user,
                    self._authorized_keys(server),
                )

            self._later(server.id, finish)
            return server

    def lock(self, ctx: RequestContext, server_id: str, reason: str | None) -> None:
        with self.state.lock:
            server = self.get_server(ctx, server_id)
            if reason is not None and (not isinstance(reason, str) or len(reason) > MAX_NAME):
                raise exceptions.bad_request("Invalid input for field/attribute locked_reason.")
            server.locked = True
            server.locked_by = (
                "admin" if ctx.is_admin and server.project_id != ctx.project_id else "owner"
            )
            server.locked_reason = reason
            self._record(ctx, server, "lock")

    def unlock(self, ctx: RequestContext, server_id: str) -> None:
        with self.state.lock:
            server = self.get_server(ctx, server_id)
            if server.locked and server.locked_by == "admin" and not ctx.is_admin:
                raise exceptions.forbidden(
                    "Policy doesn't allow "
                    "os_compute_api:os-lock-server:unlock:unlock_override "
                    "to be performed."
                )
            server.locked, server.locked_by, server.locked_reason = False, None, None
            self._record(ctx, server, "unlock")

    def create_image(
        self, ctx: RequestContext, server_id: str, name: Any, metadata: Any
    ) -> dict[str, Any]:
        self.check_name(name)
        with self.state.lock:
            server = self.get_server(ctx, server_id)
            metadata = self.check_metadata(server.project_id, metadata or {})
            if (
                server.status not in ("ACTIVE", "SHUTOFF", "PAUSED", "SUSPENDED")
                or server.task_state is not None
            ):
                raise exceptions.conflict(
                    f"Cannot 'createImage' instance {server.id} while it "
                    f"is in vm_state {server.vm_state}"
                )
            self._record(ctx, server, "createImage")
            image = self.state.image.create_snapshot(
                ctx, name, server.image_id, server.id, metadata
            )
            source = server.image_id
            server.task_state = "image_snapshot"
        self.state.machines.take_snapshot(server_id, image["id"])  # the disk as it is now

        def finish() -> None:
            self.state.image.finish_snapshot(image["id"], source)
            with self.state.lock:
                current = self.servers.get(server_id)
                if current is not None and current.task_state == "image_snapshot":
                    current.task_state = None

        self.state.scheduler.call_later(self.state.faults.settings.action_delay, finish)
        return image

    def delete(self, ctx: RequestContext, server_id: str, *, force: bool = False) -> None:
        with self.state.lock:
            server = self.get_server(ctx, server_id)
            self._check_unlocked(ctx, server)
            if server.deleted:
                return
            server.deleted = True
            server.task_state = "deleting"
            self._record(ctx, server, "delete")
        delay = self.state.faults.delete_delay()
        self.state.scheduler.call_later(delay, lambda: self._finish_delete(server_id))

    def _finish_delete(self, server_id: str) -> None:
        self.state.machines.destroy(server_id)
        with self.state.lock:
            server = self.servers.pop(server_id, None)
            if server is not None:
                self._unplug(server.port_ids, server.id)
                self.state.volume.server_deleted(server.id)

    # metadata --------------------------------------------------------------------------
    def set_metadata(
        self, ctx: RequestContext, server_id: str, metadata: Any, *, replace: bool
    ) -> dict[str, str]:
        with self.state.lock:
            server = self.get_server(ctx, server_id)
            self._check_unlocked(ctx, server)
            merged = dict(metadata) if replace else {**server.metadata, **(metadata or {})}
            if not isinstance(metadata, dict):
                raise exceptions.bad_request("Invalid input for field/attribute metadata.")
            server.metadata = self.check_metadata(server.project_id, merged)
            server.updated = utc_now()
            return dict(server.metadata)

    def delete_metadata_item(self, ctx: RequestContext, server_id: str, key: str) -> None:
        with self.state.lock:
            server = self.get_server(ctx, server_id)
            self._check_unlocked(ctx, server)
            if key not in server.metadata:
                raise exceptions.not_found("Metadata item was not found")
            del server.metadata[key]

    # tags and security groups ----------------------------------------------------------
    def set_tags(self, ctx: RequestContext, server_id: str, tags: Any) -> list[str]:
        if not isinstance(tags, list) or len(tags) > MAX_TAGS:
            raise exceptions.bad_request(
                f"Invalid input for field/attribute tags: at most {MAX_TAGS} tags."
            )
        for tag in tags:
            self._check_tag(tag)
        with self.state.lock:
            server = self.get_server(ctx, server_id)
            self._check_unlocked(ctx, server)
            server.tags = list(dict.fromkeys(tags))
            server.updated = utc_now()
            return list(server.tags)

    @staticmethod
    def _check_tag(tag: Any) -> None:
        if not isinstance(tag, str) or not 1 <= len(tag) <= 60 or "," in tag or "/" in tag:
            raise exceptions.bad_request(f"Invalid input for field/attribute tag. Value: {tag}.")

    def add_tag(self, ctx: RequestContext, server_id: str, tag: str) -> bool:
        self._check_tag(tag)
        with self.state.lock:
            server = self.get_server(ctx, server_id)
            self._check_unlocked(ctx, server)
            if tag in server.tags:
                return False
            if len(server.tags) >= MAX_TAGS:
                raise exceptions.bad_request(
                    f"The number of tags exceeded the per-server limit {MAX_TAGS}"
                )
            server.tags.append(tag)
            return True

    def remove_tag(self, ctx: RequestContext, server_id: str, tag: str | None) -> None:
        with self.state.lock:
            server = self.get_server(ctx, server_id)
            self._check_unlocked(ctx, server)
            if tag is None:
                server.tags = []
            elif tag not in server.tags:
                raise exceptions.not_found(f"Tag {tag} could not be found for instance {server.id}")
            else:
                server.tags.remove(tag)

    def change_security_group(
        self, ctx: RequestContext, server_id: str, name: Any, *, add: bool
    ) -> None:
        if not isinstance(name, str) or not name:
            raise exceptions.bad_request("Security group name cannot be empty")
        with self.state.lock:
            server = self.get_server(ctx, server_id)
            self._check_unlocked(ctx, server)
            group = next(
                (
                    sg
                    for sg in self.state.network.list(ctx, "security-groups", {})
                    if name in (sg["name"], sg["id"])
                ),
                None,
            )
            if group is None:
                raise exceptions.not_found(
                    f"Security group {name} not found for project {ctx.project_id}."
                )
            if add == (group["name"] in server.security_groups):
                state = "already associated with" if add else "not associated with"
                raise exceptions.bad_request(
                    f"Security group {name} is {state} the instance {server.id}"
                )
            if add:
                server.security_groups.append(group["name"])
            else:
                server.security_groups.remove(group["name"])
            for port_id in server.port_ids:
                port = self.state.network.store["ports"].get(port_id)
                if port is None:
                    continue
                if add and group["id"] not in port["security_groups"]:
                    port["security_groups"].append(group["id"])
                elif not add and group["id"] in port["security_groups"]:
                    port["security_groups"].remove(group["id"])
            self._record(ctx, server, "addSecurityGroup" if add else "removeSecurityGroup")

    # key pairs -------------------------------------------------------------------------
    def create_keypair(
        self, ctx: RequestContext, body: dict[str, Any]
    ) -> tuple[Keypair, str | None]:
        name = body.get("name")
        if (
            not isinstance(name, str)
            or not 1 <= len(name) <= MAX_NAME
            or not KEYPAIR_NAME.match(name)
        ):
            raise exceptions.bad_request(
                "Keypair data is invalid: Keypair name contains unsafe "
                "characters or has the wrong length"
            )
        key_type = body.get("type", "ssh")
        if key_type not in ("ssh", "x509"):
            raise exceptions.bad_request("Invalid input for field/attribute type.")
        user_id = body.get("user_id") or ctx.user_id
        if user_id != ctx.user_id and not ctx.is_admin:
            raise exceptions.forbidden(
                "Policy doesn't allow os_compute_api:os-keypairs:create to be performed."
            )
        private_key = None
        public_key = body.get("public_key")
        if key_type == "x509":
            fingerprint = _x509_fingerprint(public_key)
        else:
            if public_key is None:
                private_key, public_key = generate_keypair()  # slow: outside the lock
            fingerprint = _fingerprint(str(public_key))
        with self.state.lock:
            if (user_id, name) in self.keypairs:
                raise exceptions.conflict(f"Key pair '{name}' already exists.")
            limit = self.quota_limits(ctx.project_id)["key_pairs"]
            owned = sum(1 for (uid, _) in self.keypairs if uid == user_id)
            if 0 <= limit <= owned:
                raise exceptions.forbidden("Quota exceeded, too many key pairs.")
            self._keypair_ids += 1
            keypair = Keypair(
                name,
                user_id,
                str(public_key).strip(),
                fingerprint,
                key_type,
                utc_now(),
                self._keypair_ids,
            )
            self.keypairs[(user_id, name)] = keypair
            return keypair, private_key

    def get_keypair(self, ctx: RequestContext, name: str, user_id: str | None = None) -> Keypair:
        owner = user_id if (user_id and ctx.is_admin) else ctx.user_id
        with self.state.lock:
            keypair = self.keypairs.get((owner, name))
            if keypair is None:
                raise exceptions.not_found(f"Keypair {name} not found for user {owner}")
            return keypair

    def list_keypairs(self, ctx: RequestContext, user_id: str | None = None) -> list[Keypair]:
        owner = user_id if (user_id and ctx.is_admin) else ctx.user_id
        with self.state.lock:
            return sorted(
                (kp for (uid, _), kp in self.keypairs.items() if uid == owner),
                key=lambda kp: kp.name,
            )

    def delete_keypair(self, ctx: RequestContext, name: str, user_id: str | None = None) -> None:
        keypair = self.get_keypair(ctx, name, user_id)
        with self.state.lock:
            self.keypairs.pop((keypair.user_id, keypair.name), None)

    def live_counts(self) -> dict[str, dict[str, int]]:
        with self.state.lock:
            servers: dict[str, int] = {}
            for server in self.servers.values():
                servers[server.project_id] = servers.get(server.project_id, 0) + 1
            keypairs: dict[str, int] = {}
            for keypair in self.keypairs.values():
                user = self.state.identity.users.get(keypair.user_id)
                project = user.default_project_id if user else "unknown"
                keypairs[project] = keypairs.get(project, 0) + 1
            return {"servers": servers, "keypairs": keypairs}


def system_name(image: dict[str, Any], image_id: str) -> str:
    """What tells a machine which system to install: the image's os_distro, which a snapshot
    inherits from its source, before its name, which for a snapshot is whatever the user chose."""
    parts = (image.get("os_distro"), image.get("name") or image_id)
    return " ".join(str(part) for part in parts if part)


def _hostname(name: str) -> str:
    cleaned = re.sub(r"[^a-z0-9-]+", "-", name.lower()).strip("-")
    return (cleaned or "server")[:63]


def _user_data_text(encoded: str | None) -> str:
    """Nova keeps user data base64-encoded, as the API takes it; the guest gets the text."""
    if not encoded:
        return ""
    try:
        return base64.b64decode(encoded, validate=False).decode("utf-8", "replace")
    except ValueError:
        return ""
