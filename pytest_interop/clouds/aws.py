"""The AWS adapter: the behavioural interface over boto3's EC2 client.

Servers are instances, flavors are instance types, networks are subnets, metadata are tags,
floating IPs are Elastic IPs. AWS has no server lock, no rebuild and no resize confirmation:
those raise NotApplicable. A resize stops the instance, changes its type and starts it again,
as AWS requires. boto3's own retries are off, so that :mod:`retry` alone decides (and honours
Retry-After).
"""

from __future__ import annotations

import contextlib
import dataclasses
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, TypeVar

import paramiko

from pytest_interop.clouds import discovery
from pytest_interop.clouds.aws_large_objects import S3LargeObjects
from pytest_interop.clouds.aws_object import CONTAINER_KIND, S3Facet
from pytest_interop.clouds.aws_orchestration import STACK_KIND, CloudFormationFacet
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
    Volume,
    VolumeAttachment,
    VolumeSnapshot,
)
from pytest_interop.clouds.dns import DNS_KINDS, DnsFacet
from pytest_interop.clouds.retry import Failure, RetryPolicy, parse_retry_after, wait_until
from pytest_interop.errors import ConfigurationError, InfrastructureError, NotApplicable
from pytest_interop.redaction import Secrets
from pytest_interop.resources import (
    CREATED_AT_KEY,
    NAME_PREFIX,
    TAG_KEY,
    CleanupSummary,
    LedgerRecord,
    ResourceLedger,
    run_prefix,
    run_started_at,
)

T = TypeVar("T")

# Instance states in the interface's (Nova's) words.
STATUS_BY_STATE = {
    "pending": "BUILD",
    "running": "ACTIVE",
    "stopping": "STOPPING",
    "stopped": "SHUTOFF",
    # Deletion under way: still listed, as Nova shows DELETED briefly before a 404.
    "shutting-down": "DELETED",
    "terminated": "DELETED",
}
# EC2 keeps terminated instances in DescribeInstances for about an hour; the interface says a
# deleted server is gone, so the adapter hides them (get_server: ResourceNotFound, lists: absent).
_GONE_STATE = "terminated"
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


class AwsCloud(S3Facet, S3LargeObjects, CloudFormationFacet, Cloud):
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
        self._secrets = Secrets([self._settings.get("aws_secret_access_key")])
        interop = self._settings.get("interop") or {}
        self.ssh_port = int(interop.get("ssh_port") or 22)
        self.region = session.region_name
        self.endpoint_url = self._settings.get("endpoint_url")
        self._session = session  # S3 (and STS) clients are made from it on first use
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

    def check(self) -> None:
        """One cheap call before any test runs; ConfigurationError with the fix if it fails."""
        import botocore.exceptions as bce

        from pytest_interop.clouds.retry import redact

        where = f"--cloud={self.name} (region {self.region})"
        try:
            self._ec2.describe_availability_zones()
        except bce.ClientError as exc:
            code = _error_code(exc) or "error"
            if code not in ("AuthFailure", "InvalidClientTokenId", "SignatureDoesNotMatch"):
                return  # the cloud is there and answers; the run deals with the rest
            problem = f"the cloud refused the credentials ({code})"
            fix = "fix the access key and secret of this AWS profile"
        except bce.NoCredentialsError:
            problem, fix = "no credentials found", "run `aws configure --profile NAME`"
        except (bce.EndpointConnectionError, bce.ConnectionError) as exc:
            problem = f"cannot connect ({redact(str(exc), self._secrets)[:300]})"
            fix = "check the region and endpoint and that they are reachable from here"
        else:
            return
        raise ConfigurationError(f"{where}: {problem}; {fix}") from None

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
        record = self.track_intent("keypair", name)
        answer = self._call(
            "create_key_pair",
            lambda: self._ec2.create_key_pair(
                KeyName=name, KeyType="rsa", TagSpecifications=self._tag_spec("key-pair", name)
            ),
        )
        self.track_created(record, name)
        path = self.write_private_key(name, answer["KeyMaterial"])
        key = paramiko.RSAKey.from_private_key_file(path)
        public = f"{key.get_name()} {key.get_base64()}"
        return KeyPair(name, answer["KeyFingerprint"], public, path)

    def import_keypair(self, public_key: str, name: str | None = None) -> KeyPair:
        name = name or self.resource_name("keypair")
        record = self.track_intent("keypair", name)
        answer = self._call(
            "import_key_pair",
            lambda: self._ec2.import_key_pair(
                KeyName=name,
                PublicKeyMaterial=public_key.encode(),
                TagSpecifications=self._tag_spec("key-pair", name),
            ),
        )
        self.track_created(record, name)
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
        self.track_deleted("keypair", name)

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
        return self._images()

    def _images(self, *filters: dict[str, Any]) -> list[Image]:
        """Available images of the discovery owners, narrowed server-side by ``filters``."""
        answer = self._call(
            "describe_images",
            lambda: self._ec2.describe_images(
                Owners=DISCOVERY_OWNERS,
                Filters=[{"Name": "state", "Values": ["available"]}, *filters],
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
            self._instance_types = self._x86_instance_types()
        return list(self._instance_types)

    def _x86_instance_types(self, *filters: dict[str, Any]) -> list[Flavor]:
        """Current-generation x86_64 instance types, narrowed server-side by ``filters``."""
        flavors: list[Flavor] = []
        token: str | None = None
        while True:
            kwargs: dict[str, Any] = {
                "MaxResults": 100,
                "Filters": [
                    {"Name": "processor-info.supported-architecture", "Values": ["x86_64"]},
                    {"Name": "current-generation", "Values": ["true"]},
                    *filters,
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
                return flavors

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
            # Only the preferred families can win while one has a Linux x86_64 image: ask for
            # those alone (EC2 has 1,000s of public AMIs); the full list only if none is there.
            images = (
                self._linux_x86_images(
                    {"Name": "name", "Values": [f"{p}*" for p in _AMI_FAMILY_PREFERENCE]},
                    {"Name": "architecture", "Values": ["x86_64"]},
                )
                or self._linux_x86_images()
            )

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

    def _linux_x86_images(self, *filters: dict[str, Any]) -> list[Image]:
        return [
            i
            for i in self._images(*filters)
            if discovery.is_linux(i) and i.properties.get("architecture") == "x86_64"
        ]

    def _smallest_instance_types(self, min_ram_mb: int) -> list[Flavor]:
        """The instance types of fewest RAM digits with at least ``min_ram_mb``: they hold the
        smallest fitting one. EC2 filters match exactly or by wildcard, so "???" asks for
        100-999 MiB; a cloud whose filter takes no wildcard answers none, and the full list
        is read."""
        for digits in range(len(str(min_ram_mb)), 8):
            fitting = [
                f
                for f in self._x86_instance_types(
                    {"Name": "memory-info.size-in-mib", "Values": ["?" * digits]}
                )
                if f.ram_mb >= min_ram_mb
            ]
            if fitting:
                return fitting
        return [f for f in self.list_flavors() if f.ram_mb >= min_ram_mb]

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
        if override:
            flavors = self._describe_instance_type(override)
        elif self._instance_types is not None:
            flavors = self._instance_types
        else:
            # The smallest fitting type wins: ask only for those of its RAM's digit count.
            min_ram = max(512, image.min_ram_mb if image else 0)
            flavors = self._smallest_instance_types(min_ram)
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
        image, flavor, network = self.boot_choices(image, flavor, network)
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
        record = self.track_intent("server", name)
        started = time.monotonic()
        try:
            answer = self._call("run_instances", lambda: self._ec2.run_instances(**kwargs))
        except Exception as exc:
            if _error_code(exc) != "InvalidKeyPair.NotFound":
                raise
            # A refusal, not a broken cloud: the interface's word for a missing key pair.
            if record is not None and self.ledger is not None:
                self.ledger.record_abandoned(record)
            raise ResourceNotFound(f"key pair {key_name} not found") from None
        instance_id = answer["Instances"][0]["InstanceId"]
        self.track_created(record, instance_id)
        if not wait:
            return self._server(answer["Instances"][0])
        server = self.wait_for_server(instance_id, "ACTIVE", timeout=timeout)
        self.findings["boot_seconds"] = round(time.monotonic() - started, 2)
        return server

    def create_servers(
        self,
        count: int,
        name: str | None = None,
        *,
        image: Image | str | None = None,
        flavor: Flavor | str | None = None,
        network: Network | str | None = None,
        key_name: str | None = None,
        security_rule: SecurityRule | None = None,
        timeout: float = DEFAULT_BOOT_TIMEOUT,
    ) -> list[Server]:
        """One ``RunInstances`` with ``MinCount = MaxCount = count``; every instance running.

        EC2 tags every instance of the request alike, so each then gets the Name
        ``<name>-<n>``, as Nova names the servers of one multiple create.
        """
        image, flavor, network = self.boot_choices(image, flavor, network)
        name = name or self.resource_name("server")
        kwargs: dict[str, Any] = {
            "ImageId": image.id if isinstance(image, Image) else image,
            "InstanceType": flavor.id if isinstance(flavor, Flavor) else flavor,
            "MinCount": count,
            "MaxCount": count,
            "ClientToken": name[-64:],
            "TagSpecifications": [{"ResourceType": "instance", "Tags": self._run_tags(name)}],
        }
        if key_name:
            kwargs["KeyName"] = key_name
        if network is not None:
            kwargs["SubnetId"] = network.id if isinstance(network, Network) else network
        if security_rule is not None:
            kwargs["SecurityGroupIds"] = [security_rule.group_id]
        records = [self.track_intent("server", f"{name}-{n}") for n in range(1, count + 1)]
        answer = self._call("run_instances", lambda: self._ec2.run_instances(**kwargs))
        ids = [item["InstanceId"] for item in answer["Instances"]]
        for number, (record, instance_id) in enumerate(zip(records, ids, strict=False), 1):
            self.track_created(record, instance_id)
            self._call(
                "create_tags",
                lambda i=instance_id, n=number: self._ec2.create_tags(
                    Resources=[i], Tags=[{"Key": "Name", "Value": f"{name}-{n}"}]
                ),
            )
        return [self.wait_for_server(instance_id, "ACTIVE", timeout=timeout) for instance_id in ids]

    def wait_for_server(
        self, server_id: str, status: str = "ACTIVE", *, timeout: float = DEFAULT_BOOT_TIMEOUT
    ) -> Server:
        """Poll until ``status``. Waiting for DELETED ends when the instance is terminated
        (gone to the interface) and returns its last view; any other wait fails then."""

        def done(server: Server) -> bool:
            if status == "DELETED":
                return server.provider_status == _GONE_STATE
            return server.status == status

        def failed(server: Server) -> str | None:
            if server.status == "DELETED" and status != "DELETED":
                return f"instance {server_id} terminated while waiting for {status}"
            return None

        return wait_until(
            f"ec2.describe_instances({server_id}) waiting for {status}",
            lambda: self._server(self._describe(server_id)),
            done=done,
            failed=failed,
            timeout=timeout,
            describe=lambda s: s.provider_status or s.status,
        )

    def get_server(self, server_id: str) -> Server:
        server = self._server(self._describe(server_id))
        if server.provider_status == _GONE_STATE:
            raise ResourceNotFound(f"instance {server_id} not found (terminated)")
        return server

    def list_servers(self) -> list[Server]:
        servers: list[Server] = []
        paginator = self._ec2.get_paginator("describe_instances")
        pages = self._call("describe_instances", lambda: list(paginator.paginate()))
        for page in pages:
            for reservation in page["Reservations"]:
                for item in reservation["Instances"]:
                    if item.get("State", {}).get("Name") != _GONE_STATE:
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
        self.track_deleted("server", server_id)

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
        record = self.track_intent("elastic_ip", None, server_id=server_id)
        allocation = self._call(
            "allocate_address",
            lambda: self._ec2.allocate_address(
                Domain="vpc", TagSpecifications=self._tag_spec("elastic-ip", None)
            ),
        )
        self.track_created(record, allocation["AllocationId"], public_ip=allocation["PublicIp"])
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
        record = self.track_intent("security_group", name)
        group = self._call(
            "create_security_group", lambda: self._ec2.create_security_group(**kwargs)
        )
        self.track_created(record, group["GroupId"])
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

    # -- block storage (EBS) ---------------------------------------------------------------
    EBS_NO_READ_ONLY = (
        "EBS has no read-only volume flag: a volume attaches read-write; read-only access is "
        "the guest's mount option, not the cloud's"
    )
    EBS_NO_RESERVE = "EBS has no reservation of a volume for a later attachment"
    EBS_NO_CLONE = "EBS has no volume-from-volume copy; a copy goes through a snapshot"
    EBS_NO_UPLOAD = (
        "EBS has no upload of a volume to an image; an AMI is registered from a snapshot"
    )

    def using_volume_api(self, version: str) -> AwsCloud:
        """EBS has one API; the Cinder v2/v3 distinction does not exist here."""
        return self

    def volume_availability_zones(self) -> list[str]:
        answer = self._call(
            "describe_availability_zones", lambda: self._ec2.describe_availability_zones()
        )
        return [
            zone["ZoneName"]
            for zone in answer["AvailabilityZones"]
            if zone.get("State", "available") == "available"
        ]

    def _default_zone(self) -> str:
        """Where the discovered subnet is, so that volumes can attach to booted instances."""
        network = self.discover_network()
        if network is not None:
            subnets = self._call(
                "describe_subnets",
                lambda: self._ec2.describe_subnets(SubnetIds=[network.id]),
            )["Subnets"]
            if subnets:
                return str(subnets[0]["AvailabilityZone"])
        return self.volume_availability_zones()[0]

    @staticmethod
    def _volume(item: Mapping[str, Any]) -> Volume:
        tags = _tags(item.get("Tags"))
        name = tags.pop("Name", None)
        attachments = tuple(
            VolumeAttachment(entry["InstanceId"], entry.get("Device"), None, item["VolumeId"])
            for entry in item.get("Attachments") or []
            if entry.get("State") in ("attaching", "attached")
        )
        return Volume(
            id=item["VolumeId"],
            name=name,
            status=str(item.get("State") or ""),
            size_gb=int(item.get("Size") or 0),
            availability_zone=item.get("AvailabilityZone"),
            read_only=None,
            metadata=tags,
            attachments=attachments,
            source_snapshot_id=item.get("SnapshotId") or None,
            provider_status=item.get("State"),
        )

    @staticmethod
    def _snapshot(item: Mapping[str, Any]) -> VolumeSnapshot:
        tags = _tags(item.get("Tags"))
        state = str(item.get("State") or "")
        return VolumeSnapshot(
            id=item["SnapshotId"],
            name=tags.pop("Name", None),
            status={"pending": "creating", "completed": "available"}.get(state, state),
            volume_id=item.get("VolumeId") or "",
            size_gb=int(item.get("VolumeSize") or 0),
            metadata=tags,
            provider_status=state,
        )

    def _ami_snapshot(self, image: Image | str) -> tuple[str, int]:
        """The root EBS snapshot of an AMI: what a volume "from an image" is made of on EC2."""
        image_id = image.id if isinstance(image, Image) else image
        images = self._call(
            "describe_images", lambda: self._ec2.describe_images(ImageIds=[image_id])
        )["Images"]
        if not images:
            raise ResourceNotFound(f"image {image_id} not found")
        for mapping in images[0].get("BlockDeviceMappings") or []:
            ebs = mapping.get("Ebs") or {}
            if ebs.get("SnapshotId"):
                return str(ebs["SnapshotId"]), int(ebs.get("VolumeSize") or 1)
        raise NotApplicable(f"AMI {image_id} has no EBS snapshot to make a volume of")

    def create_volume(
        self,
        size_gb: int | None = None,
        name: str | None = None,
        *,
        image: Image | str | None = None,
        snapshot: VolumeSnapshot | str | None = None,
        source_volume: Volume | str | None = None,
        description: str | None = None,
        metadata: Mapping[str, str] | None = None,
        availability_zone: str | None = None,
        wait: bool = True,
        timeout: float = DEFAULT_ACTION_TIMEOUT,
    ) -> Volume:
        if source_volume is not None:
            raise NotApplicable(self.EBS_NO_CLONE)
        snapshot_id = snapshot.id if isinstance(snapshot, VolumeSnapshot) else snapshot
        source_image_id = None
        if image is not None:
            snapshot_id, image_size = self._ami_snapshot(image)
            source_image_id = image.id if isinstance(image, Image) else image
            size_gb = size_gb or image_size
        name = name or self.resource_name("volume")
        tags = self._run_tags(name) + [{"Key": k, "Value": v} for k, v in (metadata or {}).items()]
        kwargs: dict[str, Any] = {
            "AvailabilityZone": availability_zone or self._default_zone(),
            "TagSpecifications": [{"ResourceType": "volume", "Tags": tags}],
        }
        if size_gb is not None:
            kwargs["Size"] = size_gb
        if snapshot_id:
            kwargs["SnapshotId"] = snapshot_id
        record = self.track_intent("ebs_volume", name)
        answer = self._call("create_volume", lambda: self._ec2.create_volume(**kwargs))
        self.track_created(record, answer["VolumeId"])
        volume = self._volume(answer)
        if wait:
            volume = self.wait_for_volume(volume.id, "available", timeout=timeout)
        if source_image_id:
            volume = dataclasses.replace(volume, source_image_id=source_image_id, bootable=True)
        return volume

    def wait_for_volume(
        self, volume_id: str, status: str = "available", *, timeout: float = DEFAULT_ACTION_TIMEOUT
    ) -> Volume:
        return wait_until(
            f"ec2.describe_volumes({volume_id}) waiting for {status}",
            lambda: self.get_volume(volume_id),
            done=lambda v: v.status == status,
            failed=lambda v: f"volume went to {v.status}" if v.status == "error" else None,
            timeout=timeout,
            describe=lambda v: v.status,
        )

    def _describe_volumes(self, **kwargs: Any) -> list[dict[str, Any]]:
        try:
            return self._call("describe_volumes", lambda: self._ec2.describe_volumes(**kwargs))[
                "Volumes"
            ]
        except Exception as exc:
            if _is_not_found(exc):
                raise ResourceNotFound("volume not found") from None
            raise

    def get_volume(self, volume_id: str) -> Volume:
        items = self._describe_volumes(VolumeIds=[volume_id])
        if not items:
            raise ResourceNotFound(f"volume {volume_id} not found")
        return self._volume(items[0])

    def list_volumes(self, **filters: str) -> list[Volume]:
        aws_filters = []
        if "name" in filters:
            aws_filters.append({"Name": "tag:Name", "Values": [filters["name"]]})
        if "status" in filters:
            aws_filters.append({"Name": "status", "Values": [filters["status"]]})
        return [self._volume(item) for item in self._describe_volumes(Filters=aws_filters)]

    def update_volume(
        self, volume_id: str, *, name: str | None = None, description: str | None = None
    ) -> Volume:
        if description is not None:
            raise NotApplicable("EBS volumes have no description; a tag would be a convention")
        if name is not None:
            self._call(
                "create_tags",
                lambda: self._ec2.create_tags(
                    Resources=[volume_id], Tags=[{"Key": "Name", "Value": name}]
                ),
            )
        return self.get_volume(volume_id)

    def _wait_volume_gone(self, volume_id: str, timeout: float) -> None:
        def gone() -> bool:
            try:
                return self.get_volume(volume_id).status == "deleted"
            except ResourceNotFound:
                return True

        wait_until(
            f"ec2.delete_volume({volume_id}) waiting for the volume to go",
            gone,
            done=bool,
            timeout=timeout,
            describe=lambda _: "present",
        )

    def delete_volume(
        self, volume_id: str, *, wait: bool = True, timeout: float = DEFAULT_DELETE_TIMEOUT
    ) -> None:
        try:
            self._call("delete_volume", lambda: self._ec2.delete_volume(VolumeId=volume_id))
        except Exception as exc:
            if _is_not_found(exc):
                raise ResourceNotFound(f"volume {volume_id} not found") from None
            raise
        if wait:
            self._wait_volume_gone(volume_id, timeout)
        self.track_deleted("ebs_volume", volume_id)

    def get_volume_metadata(self, volume_id: str) -> dict[str, str]:
        return dict(self.get_volume(volume_id).metadata)

    def set_volume_metadata(self, volume_id: str, metadata: Mapping[str, str]) -> dict[str, str]:
        self._call(
            "create_tags",
            lambda: self._ec2.create_tags(
                Resources=[volume_id], Tags=[{"Key": k, "Value": v} for k, v in metadata.items()]
            ),
        )
        return self.get_volume_metadata(volume_id)

    def delete_volume_metadata(self, volume_id: str, keys: Sequence[str]) -> None:
        self._call(
            "delete_tags",
            lambda: self._ec2.delete_tags(Resources=[volume_id], Tags=[{"Key": k} for k in keys]),
        )

    def create_volume_snapshot(
        self,
        volume_id: str,
        name: str | None = None,
        *,
        force: bool = False,
        metadata: Mapping[str, str] | None = None,
        wait: bool = True,
        timeout: float = DEFAULT_ACTION_TIMEOUT,
    ) -> VolumeSnapshot:
        # EBS snapshots an attached volume without being forced (crash-consistent).
        name = name or self.resource_name("snapshot")
        tags = self._run_tags(name) + [{"Key": k, "Value": v} for k, v in (metadata or {}).items()]
        record = self.track_intent("ebs_snapshot", name)
        answer = self._call(
            "create_snapshot",
            lambda: self._ec2.create_snapshot(
                VolumeId=volume_id,
                TagSpecifications=[{"ResourceType": "snapshot", "Tags": tags}],
            ),
        )
        self.track_created(record, answer["SnapshotId"])
        snapshot = self._snapshot(answer)
        if not wait:
            return snapshot
        return wait_until(
            f"ec2.describe_snapshots({snapshot.id}) waiting for completed",
            lambda: self.get_volume_snapshot(snapshot.id),
            done=lambda s: s.status == "available",
            failed=lambda s: f"snapshot went to {s.status}" if s.status == "error" else None,
            timeout=timeout,
            describe=lambda s: s.status,
        )

    def _describe_snapshots(self, **kwargs: Any) -> list[dict[str, Any]]:
        try:
            return self._call(
                "describe_snapshots",
                lambda: self._ec2.describe_snapshots(OwnerIds=["self"], **kwargs),
            )["Snapshots"]
        except Exception as exc:
            if _is_not_found(exc):
                raise ResourceNotFound("snapshot not found") from None
            raise

    def get_volume_snapshot(self, snapshot_id: str) -> VolumeSnapshot:
        items = self._describe_snapshots(SnapshotIds=[snapshot_id])
        if not items:
            raise ResourceNotFound(f"snapshot {snapshot_id} not found")
        return self._snapshot(items[0])

    def list_volume_snapshots(self) -> list[VolumeSnapshot]:
        return [self._snapshot(item) for item in self._describe_snapshots()]

    def delete_volume_snapshot(
        self, snapshot_id: str, *, wait: bool = True, timeout: float = DEFAULT_DELETE_TIMEOUT
    ) -> None:
        try:
            self._call("delete_snapshot", lambda: self._ec2.delete_snapshot(SnapshotId=snapshot_id))
        except Exception as exc:
            if _is_not_found(exc):
                raise ResourceNotFound(f"snapshot {snapshot_id} not found") from None
            raise
        if wait:

            def gone() -> bool:
                try:
                    self.get_volume_snapshot(snapshot_id)
                except ResourceNotFound:
                    return True
                return False

            wait_until(
                f"ec2.delete_snapshot({snapshot_id}) waiting for the snapshot to go",
                gone,
                done=bool,
                timeout=timeout,
                describe=lambda _: "present",
            )
        self.track_deleted("ebs_snapshot", snapshot_id)

    def list_server_volumes(self, server_id: str) -> list[VolumeAttachment]:
        item = self._describe(server_id)
        root = item.get("RootDeviceName")
        return [
            VolumeAttachment(server_id, mapping.get("DeviceName"), None, mapping["Ebs"]["VolumeId"])
            for mapping in item.get("BlockDeviceMappings") or []
            if mapping.get("Ebs") and mapping.get("DeviceName") != root
        ]

    def attach_volume(
        self,
        server_id: str,
        volume_id: str,
        device: str | None = None,
        *,
        wait: bool = True,
        timeout: float = DEFAULT_ACTION_TIMEOUT,
    ) -> VolumeAttachment:
        if device is None:
            item = self._describe(server_id)
            used = {m.get("DeviceName") for m in item.get("BlockDeviceMappings") or []}
            device = next(f"/dev/sd{c}" for c in "fghijklmnop" if f"/dev/sd{c}" not in used)
        self._call(
            "attach_volume",
            lambda: self._ec2.attach_volume(
                Device=device, InstanceId=server_id, VolumeId=volume_id
            ),
        )
        if wait:
            wait_until(
                f"ec2.describe_volumes({volume_id}) waiting for in-use on {server_id}",
                lambda: self.get_volume(volume_id),
                done=lambda v: (
                    v.status == "in-use" and any(a.server_id == server_id for a in v.attachments)
                ),
                timeout=timeout,
                describe=lambda v: v.status,
            )
        return VolumeAttachment(server_id, device, None, volume_id)

    def detach_volume(
        self,
        server_id: str,
        volume_id: str,
        *,
        wait: bool = True,
        timeout: float = DEFAULT_ACTION_TIMEOUT,
    ) -> None:
        try:
            self._call(
                "detach_volume",
                lambda: self._ec2.detach_volume(InstanceId=server_id, VolumeId=volume_id),
            )
        except Exception as exc:
            if _is_not_found(exc):
                raise ResourceNotFound(f"volume {volume_id} or {server_id} not found") from None
            raise
        if wait:
            self.wait_for_volume(volume_id, "available", timeout=timeout)

    def set_volume_read_only(self, volume_id: str, read_only: bool) -> None:
        raise NotApplicable(self.EBS_NO_READ_ONLY)

    def reserve_volume(self, volume_id: str) -> None:
        raise NotApplicable(self.EBS_NO_RESERVE)

    def unreserve_volume(self, volume_id: str) -> None:
        raise NotApplicable(self.EBS_NO_RESERVE)

    def upload_volume_to_image(self, volume_id: str, image_name: str | None = None, **_: Any):
        raise NotApplicable(self.EBS_NO_UPLOAD)

    def _delete_ebs_volume_if_there(self, volume_id: str) -> bool:
        try:
            volume = self.get_volume(volume_id)
        except ResourceNotFound:
            return False
        if volume.status == "deleted":
            return False
        for attachment in volume.attachments:
            with contextlib.suppress(ResourceNotFound):
                self.detach_volume(attachment.server_id, volume_id)
        try:
            self.delete_volume(volume_id)
        except ResourceNotFound:
            return False
        return True

    def _delete_ebs_snapshot_if_there(self, snapshot_id: str) -> bool:
        try:
            self.delete_volume_snapshot(snapshot_id)
        except ResourceNotFound:
            return False
        return True

    def _delete_ebs_record(self, record: LedgerRecord) -> bool:
        resource_id = record.resource_id
        if not resource_id and record.name:
            tagged = [{"Name": "tag:Name", "Values": [record.name]}]
            if record.kind == "ebs_volume":
                found = [v["VolumeId"] for v in self._describe_volumes(Filters=tagged)]
            else:
                found = [s["SnapshotId"] for s in self._describe_snapshots(Filters=tagged)]
            resource_id = found[0] if found else None
        if not resource_id:
            return False
        if record.kind == "ebs_volume":
            return self._delete_ebs_volume_if_there(resource_id)
        return self._delete_ebs_snapshot_if_there(resource_id)

    def _volume_leftovers(self, ours: Callable[..., bool], attempt: Callable[..., None]) -> None:
        """Tagged EBS snapshots, then tagged EBS volumes (servers went first)."""
        tag_filter = [{"Name": "tag-key", "Values": [TAG_KEY]}]
        for item in self._describe_snapshots(Filters=tag_filter):
            tags = _tags(item.get("Tags"))
            if ours(tags, tags.get("Name"), _epoch(item.get("StartTime"))):
                attempt(
                    f"ebs_snapshot {tags.get('Name')} ({item['SnapshotId']})",
                    lambda i=item["SnapshotId"]: self._delete_ebs_snapshot_if_there(i),
                )
        for item in self._describe_volumes(Filters=tag_filter):
            tags = _tags(item.get("Tags"))
            if ours(tags, tags.get("Name"), _epoch(item.get("CreateTime"))):
                attempt(
                    f"ebs_volume {tags.get('Name')} ({item['VolumeId']})",
                    lambda i=item["VolumeId"]: self._delete_ebs_volume_if_there(i),
                )

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
            self.get_server(instance_id)  # a terminated instance is not found
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
        if record.kind in ("ebs_volume", "ebs_snapshot"):
            return self._delete_ebs_record(record)
        if record.kind == CONTAINER_KIND:
            return bool(record.resource_id) and self._delete_container_record(record.resource_id)
        if record.kind in DNS_KINDS:
            return self.dns.delete_ledger_record(record)
        if record.kind == STACK_KIND:
            return self._delete_stack_if_there(record)
        raise InfrastructureError(f"no way to delete a {record.kind}", call="cleanup")

    # -- DNS (Route 53: pytest_interop.clouds.aws_dns) ----------------------------------------
    @property
    def dns(self) -> DnsFacet:
        from pytest_interop.clouds.aws_dns import Route53Dns

        if getattr(self, "_dns", None) is None:
            self._dns = Route53Dns(self)
        return self._dns

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
                if when is None:  # no time of its own: the run id in its name has one
                    when = run_started_at(name)
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
        self._volume_leftovers(ours, attempt)
        self._container_leftovers(ours, attempt)
        self.dns.leftovers(ours, attempt)
        return summary
