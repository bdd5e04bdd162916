"""The AWS adapter: the behavioural interface over boto3's EC2 client.

Servers are instances, flavors are instance types, networks are subnets, metadata are tags,
floating IPs are Elastic IPs. AWS has no server lock, no rebuild and no resize confirmation:
those raise NotApplicable. A resize stops the instance, changes its type and starts it again,
as AWS requires. boto3's own retries are off, so that :mod:`retry` alone decides (and honours
Retry-After).
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, TypeVar

import paramiko

from pytest_interop.clouds import discovery
from pytest_interop.clouds.base import (
    DEFAULT_ACTION_TIMEOUT,
    DEFAULT_BOOT_TIMEOUT,
    DEFAULT_DELETE_TIMEOUT,
    Address,
    Cloud,
    Flavor,
    Image,
    KeyPair,
    Network,
    Reachable,
    ResourceNotFound,
    SecurityRule,
    Server,
)
from pytest_interop.clouds.retry import Failure, RetryPolicy, parse_retry_after, wait_until
from pytest_interop.errors import ConfigurationError, InfrastructureError
from pytest_interop.resources import (
    CREATED_AT_KEY,
    NAME_PREFIX,
    TAG_KEY,
    CleanupSummary,
    LedgerRecord,
    ResourceLedger,
    run_prefix,
)

T = TypeVar("T")

# Instance states in the interface's (Nova's) words.
STATUS_BY_STATE = {
    "pending": "BUILD",
    "running": "ACTIVE",
    "stopping": "STOPPING",
    "stopped": "SHUTOFF",
    "shutting-down": "DELETING",
    "terminated": "DELETED",
}
LOGIN_USER_BY_OWNER = {
    "137112412989": "ec2-user",  # Amazon
    "amazon": "ec2-user",
    "099720109477": "ubuntu",  # Canonical
    "309956199498": "ec2-user",  # Red Hat
    "013907871322": "ec2-user",  # SUSE
    "136693071363": "admin",  # Debian
}
DISCOVERY_OWNERS = ["self", "amazon", "099720109477"]
# Prefer current Amazon Linux, then Ubuntu LTS; older names last.
_AMI_FAMILY_PREFERENCE = (
    "al2023-ami-",
    "amzn2-ami-hvm-",
    "ubuntu/images/hvm-ssd",
    "amzn-ami-hvm-",
)
_TRANSIENT_CODES = {
    "Throttling",
    "ThrottlingException",
    "RequestLimitExceeded",
    "InternalError",
    "InternalFailure",
    "ServiceUnavailable",
    "Unavailable",
}
_NOT_FOUND_SUFFIXES = (".NotFound", ".Malformed")


def _classify(exc: BaseException) -> Failure:
    import botocore.exceptions as bce

    if isinstance(exc, bce.ClientError):
        meta = exc.response.get("ResponseMetadata", {})
        status = int(meta.get("HTTPStatusCode") or 0)
        code = exc.response.get("Error", {}).get("Code", "")
        headers = {k.lower(): v for k, v in (meta.get("HTTPHeaders") or {}).items()}
        transient = status == 429 or status >= 500 or code in _TRANSIENT_CODES
        return Failure(transient, parse_retry_after(headers.get("retry-after")))
    if isinstance(
        exc,
        bce.EndpointConnectionError
        | bce.ConnectionClosedError
        | bce.ReadTimeoutError
        | ConnectionError,
    ):
        return Failure(True)
    return Failure(False)


def _error_code(exc: BaseException) -> str:
    response = getattr(exc, "response", None) or {}
    return str(response.get("Error", {}).get("Code", ""))


def _is_not_found(exc: BaseException) -> bool:
    code = _error_code(exc)
    return code.endswith(_NOT_FOUND_SUFFIXES) or code in ("InvalidKeyPair.NotFound",)


def _tags(items: Sequence[Mapping[str, str]] | None) -> dict[str, str]:
    return {t["Key"]: t["Value"] for t in items or ()}


def _iso(value: Any) -> str | None:
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    return str(value) if value else None


def _epoch(value: Any) -> float | None:
    if isinstance(value, datetime):
        return value.timestamp()
    return None


class AwsCloud(Cloud):
    provider = "aws"
    resize_needs_confirmation = False

    def __init__(
        self,
        name: str,
        session: Any,
        *,
        ledger: ResourceLedger | None = None,
        settings: Mapping[str, Any] | None = None,
        retry: RetryPolicy | None = None,
    ) -> None:
        import botocore.config

        super().__init__(name, ledger)
        self._settings = dict(settings or {})
        self._secrets = [self._settings.get("aws_secret_access_key")]
        interop = self._settings.get("interop") or {}
        self.ssh_port = int(interop.get("ssh_port") or 22)
        self.region = session.region_name
        self.endpoint_url = self._settings.get("endpoint_url")
        config = botocore.config.Config(
            retries={"total_max_attempts": 1, "mode": "standard"},
            connect_timeout=10,
            read_timeout=60,
        )
        self._ec2 = session.client("ec2", endpoint_url=self.endpoint_url, config=config)
        self._retry = retry or RetryPolicy()
        self._instance_types: list[Flavor] | None = None

    @classmethod
    def from_spec(cls, spec: Any, ledger: ResourceLedger | None) -> AwsCloud:
        import boto3

        settings = dict(spec.settings)
        kwargs: dict[str, Any] = {"region_name": settings.get("region") or None}
        if settings.get("profile"):
            kwargs["profile_name"] = settings["profile"]
        if settings.get("aws_access_key_id"):
            kwargs["aws_access_key_id"] = settings["aws_access_key_id"]
            kwargs["aws_secret_access_key"] = settings.get("aws_secret_access_key")
        session = boto3.session.Session(**kwargs)
        if not session.region_name:
            raise ConfigurationError(
                f"--cloud={spec.name}: no AWS region; name one as aws:PROFILE@REGION"
            )
        return cls(spec.name, session, ledger=ledger, settings=settings)

    # -- plumbing --------------------------------------------------------------------------
    def _call(self, call: str, fn: Callable[[], T]) -> T:
        return self._retry.call(f"ec2.{call}", fn, classify=_classify, secrets=self._secrets)

    def _run_tags(self, name: str | None) -> list[dict[str, str]]:
        tags = [{"Key": CREATED_AT_KEY, "Value": str(int(time.time()))}]
        if self.ledger is not None:
            tags.append({"Key": TAG_KEY, "Value": self.ledger.run_id})
        if name:
            tags.append({"Key": "Name", "Value": name})
        return tags

    def _tag_spec(self, resource_type: str, name: str | None) -> list[dict[str, Any]]:
        return [{"ResourceType": resource_type, "Tags": self._run_tags(name)}]

    def _intend(self, kind: str, name: str | None, **detail: Any) -> LedgerRecord | None:
        return self.ledger.intend(kind, name, **detail) if self.ledger is not None else None

    def _created(self, record: LedgerRecord | None, resource_id: str, **detail: Any) -> None:
        if record is not None and self.ledger is not None:
            self.ledger.record_created(record, resource_id, **detail)

    def _forget(self, kind: str, resource_id: str) -> None:
        if self.ledger is not None:
            self.ledger.mark_deleted(kind, resource_id)

    @property
    def native(self) -> Any:
        return self._ec2

    def identity(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "provider": self.provider,
            "region": self.region,
            "endpoint": self.endpoint_url or f"ec2.{self.region}.amazonaws.com",
            "profile": self._settings.get("profile"),
        }

    # -- key pairs -------------------------------------------------------------------------
    def create_keypair(self, name: str | None = None) -> KeyPair:
        name = name or self.resource_name("keypair")
        record = self._intend("keypair", name)
        answer = self._call(
            "create_key_pair",
            lambda: self._ec2.create_key_pair(
                KeyName=name, KeyType="rsa", TagSpecifications=self._tag_spec("key-pair", name)
            ),
        )
        self._created(record, name)
        path = self.write_private_key(name, answer["KeyMaterial"])
        key = paramiko.RSAKey.from_private_key_file(path)
        public = f"{key.get_name()} {key.get_base64()}"
        return KeyPair(name, answer["KeyFingerprint"], public, path)

    def import_keypair(self, public_key: str, name: str | None = None) -> KeyPair:
        name = name or self.resource_name("keypair")
        record = self._intend("keypair", name)
        answer = self._call(
            "import_key_pair",
            lambda: self._ec2.import_key_pair(
                KeyName=name,
                PublicKeyMaterial=public_key.encode(),
                TagSpecifications=self._tag_spec("key-pair", name),
            ),
        )
        self._created(record, name)
        return KeyPair(name, answer["KeyFingerprint"], public_key.strip())

    def _keypairs(self, **kwargs: Any) -> list[dict[str, Any]]:
        try:
            answer = self._call(
                "describe_key_pairs",
                lambda: self._ec2.describe_key_pairs(IncludePublicKey=True, **kwargs),
            )
        except Exception as exc:
            if _is_not_found(exc):
                raise ResourceNotFound(f"key pair {kwargs} not found") from None
            raise
        return answer["KeyPairs"]

    @staticmethod
    def _keypair(item: Mapping[str, Any]) -> KeyPair:
        return KeyPair(
            item["KeyName"], item.get("KeyFingerprint", ""), (item.get("PublicKey") or "").strip()
        )

    def get_keypair(self, name: str) -> KeyPair:
        return self._keypair(self._keypairs(KeyNames=[name])[0])

    def list_keypairs(self) -> list[KeyPair]:
        return [self._keypair(item) for item in self._keypairs()]

    def delete_keypair(self, name: str) -> None:
        self._call("delete_key_pair", lambda: self._ec2.delete_key_pair(KeyName=name))
        self._forget("keypair", name)

    # -- images, instance types, subnets ----------------------------------------------------
    def _image(self, item: Mapping[str, Any]) -> Image:
        properties = {
            "owner_id": item.get("OwnerId"),
            "owner_alias": item.get("ImageOwnerAlias"),
            "platform": item.get("PlatformDetails") or item.get("Platform") or "Linux/UNIX",
            "architecture": item.get("Architecture"),
            "creation_date": item.get("CreationDate"),
        }
        owner_user = LOGIN_USER_BY_OWNER.get(str(item.get("OwnerId"))) or LOGIN_USER_BY_OWNER.get(
            str(item.get("ImageOwnerAlias"))
        )
        if owner_user:
            properties["owner_login_user"] = owner_user
        root = item.get("RootDeviceName")
        min_disk = 0
        for mapping in item.get("BlockDeviceMappings") or ():
            if mapping.get("DeviceName") == root and "Ebs" in mapping:
                min_disk = int(mapping["Ebs"].get("VolumeSize") or 0)
        name = item.get("Name") or item["ImageId"]
        return Image(
            id=item["ImageId"],
            name=name,
            os_distro=discovery.distro_from_name(name),
            min_disk_gb=min_disk,
            properties=properties,
            status=item.get("State", "available").replace("available", "active"),
        )

    def list_images(self) -> list[Image]:
        answer = self._call(
            "describe_images",
            lambda: self._ec2.describe_images(
                Owners=DISCOVERY_OWNERS, Filters=[{"Name": "state", "Values": ["available"]}]
            ),
        )
        return [self._image(item) for item in answer["Images"]]

    def get_image(self, image_id: str) -> Image:
        try:
            answer = self._call(
                "describe_images", lambda: self._ec2.describe_images(ImageIds=[image_id])
            )
        except Exception as exc:
            if _is_not_found(exc):
                raise ResourceNotFound(f"image {image_id} not found") from None
            raise
        if not answer["Images"]:
            raise ResourceNotFound(f"image {image_id} not found")
        return self._image(answer["Images"][0])

    def list_flavors(self) -> list[Flavor]:
        if self._instance_types is None:
            flavors: list[Flavor] = []
            token: str | None = None
            while True:
                kwargs: dict[str, Any] = {
                    "MaxResults": 100,
                    "Filters": [
                        {"Name": "processor-info.supported-architecture", "Values": ["x86_64"]},
                        {"Name": "current-generation", "Values": ["true"]},
                    ],
                }
                if token:
                    kwargs["NextToken"] = token
                answer = self._call(
                    "describe_instance_types",
                    lambda kwargs=kwargs: self._ec2.describe_instance_types(**kwargs),
                )
                for item in answer["InstanceTypes"]:
                    arches = item.get("ProcessorInfo", {}).get("SupportedArchitectures", [])
                    if "x86_64" not in arches or not item.get("CurrentGeneration", True):
                        continue
                    flavors.append(
                        Flavor(
                            id=item["InstanceType"],
                            name=item["InstanceType"],
                            vcpus=int(item.get("VCpuInfo", {}).get("DefaultVCpus", 1)),
                            ram_mb=int(item.get("MemoryInfo", {}).get("SizeInMiB", 0)),
                            disk_gb=0,  # EBS-backed: the root volume is sized by the AMI
                        )
                    )
                token = answer.get("NextToken")
                if not token:
                    break
            self._instance_types = flavors
        return list(self._instance_types)

    def get_flavor(self, flavor_id: str) -> Flavor:
        for flavor in self.list_flavors():
            if flavor.id == flavor_id:
                return flavor
        raise ResourceNotFound(f"instance type {flavor_id} not found")

    def list_networks(self) -> list[Network]:
        answer = self._call("describe_subnets", lambda: self._ec2.describe_subnets())
        return [
            Network(
                id=item["SubnetId"],
                name=_tags(item.get("Tags")).get("Name", item["SubnetId"]),
                external=bool(item.get("MapPublicIpOnLaunch")),
                shared=bool(item.get("DefaultForAz")),
            )
            for item in answer["Subnets"]
        ]

    # -- discovery -------------------------------------------------------------------------
    def _override(self, key: str) -> str | None:
        return discovery.override_of(self._settings, key)

    def discover_image(self) -> Image:
        override = self._override("image")
        login = self._override("login_user")
        if override:
            image = self.get_image(override) if override.startswith("ami-") else None
            images = [image] if image else self.list_images()
            choice, source = discovery.choose_image(images, override=override, login_user=login)
        else:
            images = [
                i
                for i in self.list_images()
                if discovery.is_linux(i) and i.properties.get("architecture") == "x86_64"
            ]

            def preference(image: Image) -> tuple[int, str]:
                for rank, prefix in enumerate(_AMI_FAMILY_PREFERENCE):
                    if image.name.startswith(prefix):
                        # newest first within a family: negate the date's sort order below
                        return (rank, image.properties.get("creation_date") or "")
                return (len(_AMI_FAMILY_PREFERENCE), "")

            ranked = sorted(images, key=lambda i: preference(i)[1], reverse=True)
            ranked = sorted(ranked, key=lambda i: preference(i)[0])
            if not ranked:
                raise InfrastructureError("no Linux AMI found", call="ec2.describe_images")
            chosen, source = discovery.with_login_user(ranked[0], login)
            choice = discovery.Choice(chosen, "preferred AMI family, newest")
        image = choice.value
        self.findings.update(
            image=image.name,
            image_id=image.id,
            image_choice=choice.reason,
            login_user=image.login_user,
            login_user_source=source,
        )
        return image

    def _describe_instance_type(self, instance_type: str) -> list[Flavor]:
        try:
            answer = self._call(
                "describe_instance_types",
                lambda: self._ec2.describe_instance_types(InstanceTypes=[instance_type]),
            )
        except Exception as exc:
            if _error_code(exc).startswith("InvalidInstanceType"):
                return []
            raise
        return [
            Flavor(
                id=item["InstanceType"],
                name=item["InstanceType"],
                vcpus=int(item.get("VCpuInfo", {}).get("DefaultVCpus", 1)),
                ram_mb=int(item.get("MemoryInfo", {}).get("SizeInMiB", 0)),
                disk_gb=0,
            )
            for item in answer["InstanceTypes"]
        ]

    def discover_flavor(self, image: Image | None = None) -> Flavor:
        override = self._override("flavor")
        # An override names one type: ask for it alone rather than page through hundreds.
        flavors = self._describe_instance_type(override) if override else self.list_flavors()
        choice = discovery.choose_flavor(
            [f for f in flavors if f.ram_mb >= 512], image, override=override
        )
        self.findings.update(flavor=choice.value.name, flavor_choice=choice.reason)
        return choice.value

    def discover_network(self) -> Network | None:
        override = self._override("network")
        networks = self.list_networks()
        if override:
            choice = discovery.choose_network(networks, override=override, project_networks=set())
        else:
            public = sorted((n for n in networks if n.external and n.shared), key=lambda n: n.id)
            choice = discovery.Choice(
                public[0] if public else None,
                "default subnet with public IPs" if public else "none found; AWS chooses",
            )
        self.findings.update(
            network=choice.value.name if choice.value else None, network_choice=choice.reason
        )
        return choice.value

    # -- servers ---------------------------------------------------------------------------
    def _describe(self, instance_id: str) -> dict[str, Any]:
        try:
            answer = self._call(
                "describe_instances",
                lambda: self._ec2.describe_instances(InstanceIds=[instance_id]),
            )
        except Exception as exc:
            if _is_not_found(exc):
                raise ResourceNotFound(f"instance {instance_id} not found") from None
            raise
        for reservation in answer["Reservations"]:
            for item in reservation["Instances"]:
                return item
        raise ResourceNotFound(f"instance {instance_id} not found")

    @staticmethod
    def _addresses(item: Mapping[str, Any]) -> tuple[Address, ...]:
        found: list[Address] = []
        subnet = item.get("SubnetId")
        if item.get("PrivateIpAddress"):
            found.append(Address(item["PrivateIpAddress"], "fixed", 4, subnet))
        public = item.get("PublicIpAddress")
        if public:
            found.append(Address(public, "public", 4, subnet))
        return tuple(found)

    def _server(self, item: Mapping[str, Any]) -> Server:
        tags = _tags(item.get("Tags"))
        state = item.get("State", {}).get("Name", "pending")
        return Server(
            id=item["InstanceId"],
            name=tags.get("Name", item["InstanceId"]),
            status=STATUS_BY_STATE.get(state, state.upper()),
            image_id=item.get("ImageId"),
            flavor_id=item.get("InstanceType"),
            key_name=item.get("KeyName"),
            addresses=self._addresses(item),
            metadata=tags,
            locked=None,
            created_at=_iso(item.get("LaunchTime")),
            provider_status=state,
        )

    def create_server(
        self,
        name: str | None = None,
        *,
        image: Image | str | None = None,
        flavor: Flavor | str | None = None,
        network: Network | str | None = None,
        key_name: str | None = None,
        metadata: Mapping[str, str] | None = None,
        security_rule: SecurityRule | None = None,
        wait: bool = True,
        timeout: float = DEFAULT_BOOT_TIMEOUT,
    ) -> Server:
        if image is None and flavor is None and network is None:
            image, flavor, network = self.boot_defaults()
        if image is None:
            image = self.discover_image()
        if flavor is None:
            flavor = self.discover_flavor(image if isinstance(image, Image) else None)
        if network is None:
            network = self.discover_network()
        name = name or self.resource_name("server")
        tags = self._run_tags(name) + [{"Key": k, "Value": v} for k, v in (metadata or {}).items()]
        kwargs: dict[str, Any] = {
            "ImageId": image.id if isinstance(image, Image) else image,
            "InstanceType": flavor.id if isinstance(flavor, Flavor) else flavor,
            "MinCount": 1,
            "MaxCount": 1,
            # The unique name as client token: a retried request cannot boot a second one.
            "ClientToken": name[-64:],  # AWS allows 64 characters
            "TagSpecifications": [{"ResourceType": "instance", "Tags": tags}],
        }
        if key_name:
            kwargs["KeyName"] = key_name
        if network is not None:
            kwargs["SubnetId"] = network.id if isinstance(network, Network) else network
        if security_rule is not None:
            kwargs["SecurityGroupIds"] = [security_rule.group_id]
        record = self._intend("server", name)
        started = time.monotonic()
        answer = self._call("run_instances", lambda: self._ec2.run_instances(**kwargs))
        instance_id = answer["Instances"][0]["InstanceId"]
        self._created(record, instance_id)
        if not wait:
            return self._server(answer["Instances"][0])
        server = self.wait_for_server(instance_id, "ACTIVE", timeout=timeout)
        self.findings["boot_seconds"] = round(time.monotonic() - started, 2)
        return server

    def wait_for_server(
        self, server_id: str, status: str = "ACTIVE", *, timeout: float = DEFAULT_BOOT_TIMEOUT
    ) -> Server:
        def failed(server: Server) -> str | None:
            if server.status == "DELETED" and status != "DELETED":
                return f"instance {server_id} terminated while waiting for {status}"
            return None

        return wait_until(
            f"ec2.describe_instances({server_id}) waiting for {status}",
            lambda: self.get_server(server_id),
            done=lambda s: s.status == status,
            failed=failed,
            timeout=timeout,
            describe=lambda s: s.provider_status or s.status,
        )

    def get_server(self, server_id: str) -> Server:
        return self._server(self._describe(server_id))

    def list_servers(self) -> list[Server]:
        servers: list[Server] = []
        paginator = self._ec2.get_paginator("describe_instances")
        pages = self._call("describe_instances", lambda: list(paginator.paginate()))
        for page in pages:
            for reservation in page["Reservations"]:
                for item in reservation["Instances"]:
                    if item.get("State", {}).get("Name") != "terminated":
                        servers.append(self._server(item))
        return servers

    def delete_server(
        self, server_id: str, *, wait: bool = True, timeout: float = DEFAULT_DELETE_TIMEOUT
    ) -> None:
        self._call(
            "terminate_instances", lambda: self._ec2.terminate_instances(InstanceIds=[server_id])
        )
        if wait:
            with contextlib.suppress(ResourceNotFound):
                self.wait_for_server(server_id, "DELETED", timeout=timeout)
        self._forget("server", server_id)

    def get_server_metadata(self, server_id: str) -> dict[str, str]:
        return dict(self.get_server(server_id).metadata)

    def set_server_metadata(self, server_id: str, metadata: Mapping[str, str]) -> dict[str, str]:
        tags = [{"Key": k, "Value": v} for k, v in metadata.items()]
        self._call("create_tags", lambda: self._ec2.create_tags(Resources=[server_id], Tags=tags))
        return self.get_server_metadata(server_id)

    def delete_server_metadata(self, server_id: str, keys: Sequence[str]) -> None:
        tags = [{"Key": k} for k in keys]
        self._call("delete_tags", lambda: self._ec2.delete_tags(Resources=[server_id], Tags=tags))

    def reboot_server(
        self,
        server_id: str,
        *,
        hard: bool = False,
        wait: bool = True,
        timeout: float = DEFAULT_ACTION_TIMEOUT,
    ) -> Server:
        # EC2 has one kind of reboot; "hard" has no separate meaning there.
        self._call("reboot_instances", lambda: self._ec2.reboot_instances(InstanceIds=[server_id]))
        if wait:
            return self.wait_for_server(server_id, "ACTIVE", timeout=timeout)
        return self.get_server(server_id)

    def stop_server(
        self, server_id: str, *, wait: bool = True, timeout: float = DEFAULT_ACTION_TIMEOUT
    ) -> Server:
        self._call("stop_instances", lambda: self._ec2.stop_instances(InstanceIds=[server_id]))
        if wait:
            return self.wait_for_server(server_id, "SHUTOFF", timeout=timeout)
        return self.get_server(server_id)

    def start_server(
        self, server_id: str, *, wait: bool = True, timeout: float = DEFAULT_ACTION_TIMEOUT
    ) -> Server:
        self._call("start_instances", lambda: self._ec2.start_instances(InstanceIds=[server_id]))
        if wait:
            return self.wait_for_server(server_id, "ACTIVE", timeout=timeout)
        return self.get_server(server_id)

    def resize_server(
        self,
        server_id: str,
        flavor: Flavor | str,
        *,
        wait: bool = True,
        timeout: float = DEFAULT_ACTION_TIMEOUT,
    ) -> Server:
        """Stop, change the instance type, start: EC2 changes types only while stopped."""
        instance_type = flavor.id if isinstance(flavor, Flavor) else flavor
        was_running = self.get_server(server_id).status == "ACTIVE"
        if was_running:
            self.stop_server(server_id, timeout=timeout)
        self._call(
            "modify_instance_attribute",
            lambda: self._ec2.modify_instance_attribute(
                InstanceId=server_id, InstanceType={"Value": instance_type}
            ),
        )
        self.findings["resize_requires_stop"] = True
        if was_running:
            return self.start_server(server_id, wait=wait, timeout=timeout)
        return self.get_server(server_id)

    def confirm_resize(self, server_id: str, **_: Any) -> Server:
        raise self._lacks("resize confirmation (EC2 type changes are final)")

    def revert_resize(self, server_id: str, **_: Any) -> Server:
        raise self._lacks("resize revert (EC2 type changes are final)")

    def rebuild_server(self, server_id: str, image: Image | str | None = None, **_: Any) -> Server:
        raise self._lacks("server rebuild")

    def lock_server(self, server_id: str) -> None:
        raise self._lacks("server lock")

    def unlock_server(self, server_id: str) -> None:
        raise self._lacks("server lock")

    def console_log(self, server_id: str) -> str:
        import base64

        answer = self._call(
            "get_console_output",
            lambda: self._ec2.get_console_output(InstanceId=server_id, Latest=True),
        )
        output = answer.get("Output") or ""
        try:  # the API sends base64; some SDK versions decode it already
            return base64.b64decode(output, validate=True).decode("utf-8", "replace")
        except ValueError:
            return output

    # -- addresses -------------------------------------------------------------------------
    def _elastic_ips_of(self, server_id: str) -> set[str]:
        answer = self._call(
            "describe_addresses",
            lambda: self._ec2.describe_addresses(
                Filters=[{"Name": "instance-id", "Values": [server_id]}]
            ),
        )
        return {item["PublicIp"] for item in answer["Addresses"]}

    def server_addresses(self, server_id: str) -> list[Address]:
        addresses = list(self.get_server(server_id).addresses)
        elastic = self._elastic_ips_of(server_id) if addresses else set()
        return [
            Address(a.ip, "elastic", a.version, a.network) if a.ip in elastic else a
            for a in addresses
        ]

    def reachable_address(self, server: Server | str) -> Reachable:
        server_id = server if isinstance(server, str) else server.id
        for address in self.server_addresses(server_id):
            if address.kind in ("public", "elastic") and discovery.is_publicly_reachable(
                address.ip
            ):
                via = "elastic-ip" if address.kind == "elastic" else "public-ip"
                self.findings["reachable_via"] = via
                return Reachable(address.ip, self.ssh_port, via)
        record = self._intend("elastic_ip", None, server_id=server_id)
        allocation = self._call(
            "allocate_address",
            lambda: self._ec2.allocate_address(
                Domain="vpc", TagSpecifications=self._tag_spec("elastic-ip", None)
            ),
        )
        self._created(record, allocation["AllocationId"], public_ip=allocation["PublicIp"])
        self._call(
            "associate_address",
            lambda: self._ec2.associate_address(
                InstanceId=server_id, AllocationId=allocation["AllocationId"]
            ),
        )
        ip = allocation["PublicIp"]
        if not discovery.is_publicly_reachable(ip):
            raise InfrastructureError(
                f"elastic IP {ip} is not reachable from here", call="ec2.allocate_address"
            )
        self.findings["reachable_via"] = "elastic-ip"
        return Reachable(ip, self.ssh_port, "elastic-ip")

    def allow_ssh(self, remote: str = "0.0.0.0/0") -> SecurityRule:
        name = self.resource_name("ssh")
        vpcs = self._call(
            "describe_vpcs",
            lambda: self._ec2.describe_vpcs(Filters=[{"Name": "is-default", "Values": ["true"]}]),
        )["Vpcs"]
        kwargs: dict[str, Any] = {
            "GroupName": name,
            "Description": "pytest-interop: SSH from the tester",
            "TagSpecifications": self._tag_spec("security-group", name),
        }
        if vpcs:
            kwargs["VpcId"] = vpcs[0]["VpcId"]
        record = self._intend("security_group", name)
        group = self._call(
            "create_security_group", lambda: self._ec2.create_security_group(**kwargs)
        )
        self._created(record, group["GroupId"])
        self._call(
            "authorize_security_group_ingress",
            lambda: self._ec2.authorize_security_group_ingress(
                GroupId=group["GroupId"],
                IpPermissions=[
                    {
                        "IpProtocol": "tcp",
                        "FromPort": 22,
                        "ToPort": 22,
                        "IpRanges": [{"CidrIp": remote}],
                    }
                ],
            ),
        )
        return SecurityRule(group["GroupId"], name, 22, remote)

    # -- clean-up --------------------------------------------------------------------------
    def _release_elastic_ip(self, allocation_id: str) -> bool:
        try:
            found = self._call(
                "describe_addresses",
                lambda: self._ec2.describe_addresses(AllocationIds=[allocation_id]),
            )["Addresses"]
        except Exception as exc:
            if _is_not_found(exc):
                return False
            raise
        if not found:
            return False
        if found[0].get("AssociationId"):
            self._call(
                "disassociate_address",
                lambda: self._ec2.disassociate_address(AssociationId=found[0]["AssociationId"]),
            )
        self._call("release_address", lambda: self._ec2.release_address(AllocationId=allocation_id))
        return True

    def _terminate(self, instance_id: str) -> bool:
        try:
            if self.get_server(instance_id).status == "DELETED":
                return False
        except ResourceNotFound:
            return False
        self._call(
            "terminate_instances",
            lambda: self._ec2.terminate_instances(InstanceIds=[instance_id]),
        )
        with contextlib.suppress(ResourceNotFound):
            self.wait_for_server(instance_id, "DELETED", timeout=DEFAULT_DELETE_TIMEOUT)
        return True

    def _delete_security_group(self, group_id: str) -> bool:
        deadline = time.monotonic() + 120
        while True:
            try:
                self._call(
                    "delete_security_group",
                    lambda: self._ec2.delete_security_group(GroupId=group_id),
                )
                return True
            except Exception as exc:
                if _is_not_found(exc):
                    return False
                # instances still terminating keep the group in use for a while
                if _error_code(exc) != "DependencyViolation" or time.monotonic() > deadline:
                    raise
                time.sleep(2)

    def _delete_keypair_if_there(self, name: str) -> bool:
        try:
            self.get_keypair(name)
        except ResourceNotFound:
            return False
        self._call("delete_key_pair", lambda: self._ec2.delete_key_pair(KeyName=name))
        return True

    def _find_instance_by_name(self, name: str) -> str | None:
        answer = self._call(
            "describe_instances",
            lambda: self._ec2.describe_instances(Filters=[{"Name": "tag:Name", "Values": [name]}]),
        )
        for reservation in answer["Reservations"]:
            for item in reservation["Instances"]:
                if item["State"]["Name"] != "terminated":
                    return item["InstanceId"]
        return None

    def delete_record(self, record: LedgerRecord) -> bool:
        """Delete what one ledger record names; False when it was already gone."""
        resource_id = record.resource_id
        if record.kind == "server":
            resource_id = resource_id or (record.name and self._find_instance_by_name(record.name))
            return bool(resource_id) and self._terminate(resource_id)
        if record.kind == "keypair":
            return bool(record.name) and self._delete_keypair_if_there(record.name)
        if record.kind == "elastic_ip":
            # An intent without an id: the address carries our tag; cleanup_leftovers finds it.
            return bool(resource_id) and self._release_elastic_ip(resource_id)
        if record.kind == "security_group":
            if not resource_id and record.name:
                groups = self._call(
                    "describe_security_groups",
                    lambda: self._ec2.describe_security_groups(
                        Filters=[{"Name": "group-name", "Values": [record.name]}]
                    ),
                )["SecurityGroups"]
                resource_id = groups[0]["GroupId"] if groups else None
            return bool(resource_id) and self._delete_security_group(resource_id)
        raise InfrastructureError(f"no way to delete a {record.kind}", call="cleanup")

    def cleanup_run(self) -> CleanupSummary:
        if self.ledger is None:
            return CleanupSummary()
        return self.ledger.cleanup(self.delete_record)

    def cleanup_leftovers(
        self, *, run_id: str | None = None, older_than_seconds: float | None = None
    ) -> CleanupSummary:
        """Delete what carries our tag and name prefix: one run's, or any run's older ones."""
        if run_id is None and older_than_seconds is None:
            raise ConfigurationError("cleanup needs a run id or an age; it touches nothing else")
        cutoff = time.time() - older_than_seconds if older_than_seconds is not None else None
        prefix = run_prefix(run_id) if run_id else NAME_PREFIX

        def ours(tags: Mapping[str, str], name: str | None, created: float | None) -> bool:
            if TAG_KEY not in tags or (run_id is not None and tags[TAG_KEY] != run_id):
                return False
            if name is not None and not name.startswith(prefix):
                return False
            if cutoff is not None:
                stamp = tags.get(CREATED_AT_KEY)
                when = float(stamp) if stamp and stamp.isdigit() else created
                if when is None or when > cutoff:
                    return False
            return True

        tag_filter = [{"Name": "tag-key", "Values": [TAG_KEY]}]
        summary = CleanupSummary()

        def attempt(label: str, action: Callable[[], bool]) -> None:
            try:
                (summary.deleted if action() else summary.already_gone).append(label)
            except Exception as exc:
                summary.leaked.append(f"{label}: {type(exc).__name__}: {exc}")

        addresses = self._call(
            "describe_addresses", lambda: self._ec2.describe_addresses(Filters=tag_filter)
        )["Addresses"]
        for item in addresses:
            if ours(_tags(item.get("Tags")), None, None):
                allocation = item["AllocationId"]
                attempt(
                    f"elastic_ip {item.get('PublicIp')} ({allocation})",
                    lambda a=allocation: self._release_elastic_ip(a),
                )
        pages = self._call(
            "describe_instances",
            lambda: list(
                self._ec2.get_paginator("describe_instances").paginate(Filters=tag_filter)
            ),
        )
        for page in pages:
            for reservation in page["Reservations"]:
                for item in reservation["Instances"]:
                    tags = _tags(item.get("Tags"))
                    if item["State"]["Name"] == "terminated":
                        continue
                    if ours(tags, tags.get("Name", ""), _epoch(item.get("LaunchTime"))):
                        attempt(
                            f"server {tags.get('Name')} ({item['InstanceId']})",
                            lambda i=item["InstanceId"]: self._terminate(i),
                        )
        for item in self._keypairs(Filters=tag_filter):
            if ours(_tags(item.get("Tags")), item["KeyName"], _epoch(item.get("CreateTime"))):
                attempt(
                    f"keypair {item['KeyName']}",
                    lambda n=item["KeyName"]: self._delete_keypair_if_there(n),
                )
        groups = self._call(
            "describe_security_groups",
            lambda: self._ec2.describe_security_groups(Filters=tag_filter),
        )["SecurityGroups"]
        for item in groups:
            if ours(_tags(item.get("Tags")), item["GroupName"], None):
                attempt(
                    f"security_group {item['GroupName']} ({item['GroupId']})",
                    lambda g=item["GroupId"]: self._delete_security_group(g),
                )
        return summary
