"""Variance profiles: the ways real OpenStack clouds differ, as data.

Each profile says which real behaviour it reproduces. The models read networks, images and
flavors from here; the fault settings give pace and failure rates (knobs override them).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pytest_interop.reference.faults import FaultSettings

LOOPBACK_CIDR = "127.64.0.0/10"  # addresses that reach servers (see addresses.py)


@dataclass(frozen=True)
class ImageSpec:
    name: str
    os_distro: str
    os_version: str
    login_user: str  # the account the key pair is injected for
    os_admin_user: str | None  # the image property; None when the cloud omits it
    root_login: str = "prohibit-password"  # sshd PermitRootLogin once the image booted
    sudo_requires_tty: bool = False
    min_disk: int = 0
    min_ram: int = 0
    size: int = 4096  # bytes of (fake) image data


@dataclass(frozen=True)
class FlavorSpec:
    id: str
    name: str
    vcpus: int
    ram: int  # MiB
    disk: int  # GiB
    ephemeral: int = 0
    swap: int = 0


@dataclass(frozen=True)
class NetworkSpec:
    name: str
    cidr: str
    external: bool = False  # router:external, source of floating IPs
    shared: bool = False
    per_project: bool = False  # each project gets its own copy (with a router to the external)
    reachable: bool = False  # fixed addresses are loopback IPs a tester can connect to


@dataclass(frozen=True)
class Profile:
    name: str
    description: str
    networks: tuple[NetworkSpec, ...]
    boot_network: str  # the network "auto" and a boot without networks use
    images: tuple[ImageSpec, ...]
    flavors: tuple[FlavorSpec, ...]
    faults: FaultSettings = field(default_factory=FaultSettings)
    availability_zones: tuple[str, ...] = ("nova",)
    # The services served and listed in the catalog (identity always); empty: all of them.
    services: tuple[str, ...] = ()

    @property
    def floating_ip_required(self) -> bool:
        boot = next((item for item in self.networks if item.name == self.boot_network), None)
        return boot is not None and not boot.reachable

    def serves(self, service: str) -> bool:
        return not self.services or service in self.services or service in ("identity", "admin")


UBUNTU = ImageSpec("Ubuntu-22.04", "ubuntu", "22.04", "ubuntu", "ubuntu", min_disk=1)
DEBIAN = ImageSpec("Debian-12", "debian", "12", "debian", "debian", min_disk=1)

GENERIC_FLAVORS = (
    FlavorSpec("100", "small", 1, 1024, 10),
    FlavorSpec("101", "medium", 2, 2048, 20),
    FlavorSpec("102", "large", 4, 4096, 40),
)

DEVSTACK_FLAVORS = (
    FlavorSpec("1", "m1.tiny", 1, 512, 1),
    FlavorSpec("2", "m1.small", 1, 2048, 20),
    FlavorSpec("3", "m1.medium", 2, 4096, 40),
    FlavorSpec("4", "m1.large", 4, 8192, 80),
    FlavorSpec("42", "m1.nano", 1, 128, 1),
    FlavorSpec("84", "m1.micro", 1, 192, 1),
)

PUBLIC_AT_BOOT = NetworkSpec("public", LOOPBACK_CIDR, shared=True, reachable=True)
EXTERNAL = NetworkSpec("public", LOOPBACK_CIDR, external=True)
PRIVATE = NetworkSpec("private", "10.0.0.0/24", per_project=True)
# Beside the public network servers boot on: where floating IPs and router gateways come
# from (networks-l3-CRUD, required since 2018.02), as on DreamCompute.
FLOATING_SOURCE = NetworkSpec("ext-net", LOOPBACK_CIDR, external=True)

PROFILES: dict[str, Profile] = {
    profile.name: profile
    for profile in (
        Profile(
            name="default",
            description=(
                "Servers get a public address at boot on a shared 'public' network, as "
                "DreamCompute did: no floating IP needed. Ubuntu and Debian images log in as "
                "'ubuntu'/'debian' (os_admin_user set), root login with a key is allowed "
                "once set up. An external 'ext-net' network gives floating IPs and router "
                "gateways to those who want them. The friendliest cloud."
            ),
            networks=(PUBLIC_AT_BOOT, FLOATING_SOURCE),
            boot_network="public",
            images=(UBUNTU, DEBIAN),
            flavors=GENERIC_FLAVORS,
        ),
        Profile(
            name="floating-ip",
            description=(
                "Servers get only a private 10.x address on the project's own 'private' "
                "network; a floating IP from the external 'public' network must be "
                "associated to reach them, as on most OpenStack clouds of 2016. Images carry "
                "os_distro but no os_admin_user, so clients fall back to distro defaults."
            ),
            networks=(EXTERNAL, PRIVATE),
            boot_network="private",
            images=(
                ImageSpec("Ubuntu-22.04", "ubuntu", "22.04", "ubuntu", None, min_disk=1),
                ImageSpec("Debian-12", "debian", "12", "debian", None, min_disk=1),
            ),
            flavors=GENERIC_FLAVORS,
        ),
        Profile(
            name="rhel",
            description=(
                "RHEL-family images log in as 'cloud-user' (RHEL) or 'centos' (CentOS "
                "Stream), root login is blocked and sudo requires a tty, as Red Hat's cloud "
                "images ship. Servers get a public address at boot."
            ),
            networks=(PUBLIC_AT_BOOT,),
            boot_network="public",
            images=(
                ImageSpec(
                    "RHEL-9",
                    "rhel",
                    "9",
                    "cloud-user",
                    "cloud-user",
                    root_login="no",
                    sudo_requires_tty=True,
                    min_disk=10,
                    min_ram=1024,
                ),
                ImageSpec(
                    "CentOS-Stream-9",
                    "centos",
                    "9",
                    "centos",
                    "centos",
                    root_login="no",
                    sudo_requires_tty=True,
                    min_disk=10,
                ),
            ),
            flavors=GENERIC_FLAVORS,
        ),
        Profile(
            name="devstack",
            description=(
                "Close to a default DevStack: an external 'public' network and each "
                "project's 'private' network behind a router, a cirros image and an Ubuntu "
                "one (os_distro only, no os_admin_user), m1.* flavors (m1.tiny, m1.small, "
                "m1.medium, ...); a floating IP is needed to reach a server."
            ),
            networks=(EXTERNAL, PRIVATE),
            boot_network="private",
            images=(
                ImageSpec("cirros-0.6.2-x86_64-disk", "cirros", "0.6.2", "cirros", None),
                ImageSpec(
                    "ubuntu-22.04-server-cloudimg-amd64",
                    "ubuntu",
                    "22.04",
                    "ubuntu",
                    None,
                    min_disk=3,
                ),
            ),
            flavors=DEVSTACK_FLAVORS,
            # a single-node DevStack boots and deletes noticeably slower than the others
            faults=FaultSettings(boot_delay=0.4, delete_delay=0.1),
        ),
        Profile(
            name="identity-only",
            description=(
                "Keystone alone, as an identity provider shared by other clouds: the catalog "
                "lists only the identity service and no other API is served. Identity tests "
                "must pass here; the others are not applicable."
            ),
            networks=(),
            boot_network="",
            images=(),
            flavors=(),
            services=("identity",),
        ),
    )
}
