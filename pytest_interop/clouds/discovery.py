"""Choosing an image, its login account, a flavor and a network on a cloud never seen before.

Pure functions over the adapters' value objects, shared by every provider. Each returns the
choice and a short reason; the adapter records both as findings. A user override (settings
``interop: {image, flavor, network, login_user}``) always wins, and is recorded as such.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, Generic, TypeVar

from pytest_interop.clouds.base import Flavor, Image, Network
from pytest_interop.errors import ConfigurationError, InfrastructureError

T = TypeVar("T")

# The account cloud images log in with, by distribution, where the image does not say.
LOGIN_USER_BY_DISTRO: Mapping[str, str] = {
    "ubuntu": "ubuntu",
    "centos": "centos",
    "rhel": "cloud-user",
    "fedora": "fedora",
    "debian": "debian",
    "cirros": "cirros",
    "amzn": "ec2-user",
    "sles": "ec2-user",
    "opensuse": "opensuse",
    "rocky": "rocky",
    "almalinux": "almalinux",
    "arch": "arch",
    "coreos": "core",
}

# Words in an image or AMI name that reveal its distribution, most specific first.
_DISTRO_NAME_PATTERNS: Sequence[tuple[str, str]] = (
    (r"amzn|amazon[ -_]?linux|al2023", "amzn"),
    (r"ubuntu", "ubuntu"),
    (r"centos", "centos"),
    (r"rhel|red ?hat", "rhel"),
    (r"fedora", "fedora"),
    (r"debian", "debian"),
    (r"cirros", "cirros"),
    (r"suse-sles|sles", "sles"),
    (r"opensuse", "opensuse"),
    (r"rocky", "rocky"),
    (r"almalinux", "almalinux"),
)
_NOT_LINUX = re.compile(r"windows|freebsd|openbsd|vmware|esxi", re.IGNORECASE)


@dataclass(frozen=True)
class Choice(Generic[T]):
    value: T
    reason: str  # "override", "os_admin_user property", "smallest fitting", ...


def normalise_distro(value: str | None) -> str | None:
    if not value:
        return None
    value = value.strip().lower()
    aliases = {"redhat": "rhel", "red hat": "rhel", "amazon": "amzn", "amazonlinux": "amzn"}
    return aliases.get(value, value)


def distro_from_name(name: str) -> str | None:
    for pattern, distro in _DISTRO_NAME_PATTERNS:
        if re.search(pattern, name, re.IGNORECASE):
            return distro
    return None


def login_user_for(image: Image) -> tuple[str | None, str]:
    """The image's login account and where that came from."""
    props = image.properties
    for key in ("os_admin_user", "login_user", "default_user"):
        user = props.get(key)
        if isinstance(user, str) and user:
            return user, f"image property {key}"
    owner_user = props.get("owner_login_user")  # AWS: the account the AMI's publisher uses
    if isinstance(owner_user, str) and owner_user:
        return owner_user, "AMI owner"
    distro = normalise_distro(image.os_distro or props.get("os_distro"))
    if distro in LOGIN_USER_BY_DISTRO:
        return LOGIN_USER_BY_DISTRO[distro], f"default for os_distro {distro}"
    guessed = distro_from_name(image.name)
    if guessed:
        return LOGIN_USER_BY_DISTRO[guessed], f"default for {guessed}, guessed from the name"
    return None, "unknown"


def is_linux(image: Image) -> bool:
    props = image.properties
    os_type = str(props.get("os_type") or props.get("platform") or "").lower()
    if os_type and os_type not in ("linux", "linux/unix"):
        return False
    return not _NOT_LINUX.search(image.name or "")


def with_login_user(image: Image, override: str | None = None) -> tuple[Image, str]:
    if override:
        return replace(image, login_user=override), "override"
    user, source = login_user_for(image)
    distro = normalise_distro(image.os_distro) or distro_from_name(image.name)
    return replace(image, login_user=user, os_distro=distro), source


def choose_image(
    images: Iterable[Image], *, override: str | None = None, login_user: str | None = None
) -> tuple[Choice[Image], str]:
    """A Linux image with a known login account; returns the choice and the account's source.

    Ranking: an image that names its account (os_admin_user) first, then a known os_distro,
    then a name that reveals the distribution; ties go to the name, for a stable choice.
    """
    candidates = [i for i in images if i.status.lower() == "active"]
    if override:
        for image in candidates:
            if override in (image.id, image.name):
                chosen, source = with_login_user(image, login_user)
                return Choice(chosen, "override"), source
        raise ConfigurationError(f"image {override!r} (from the cloud's settings) is not there")

    def rank(image: Image) -> tuple[int, str]:
        _, source = login_user_for(image)
        if source.startswith("image property"):
            return (0, image.name)
        if source.startswith("default for os_distro"):
            return (1, image.name)
        if source != "unknown":
            return (2, image.name)
        return (3, image.name)

    linux = sorted((i for i in candidates if is_linux(i)), key=rank)
    if not linux:
        raise InfrastructureError(
            "cannot run here: no active Linux image found on this cloud; upload one, or name "
            "one as `interop: {image: NAME}` in the cloud's settings",
            call="images.list",
        )
    best = linux[0]
    chosen, source = with_login_user(best, login_user)
    reason = "names its login account" if rank(best)[0] == 0 else "best-known Linux image"
    return Choice(chosen, reason), source


def choose_flavor(
    flavors: Iterable[Flavor], image: Image | None = None, *, override: str | None = None
) -> Choice[Flavor]:
    """The smallest flavor (RAM, then vCPUs, then disk) that fits the image's minimums."""
    flavors = list(flavors)
    if override:
        for flavor in flavors:
            if override in (flavor.id, flavor.name):
                return Choice(flavor, "override")
        raise ConfigurationError(f"flavor {override!r} (from the cloud's settings) is not there")
    min_ram = image.min_ram_mb if image else 0
    min_disk = image.min_disk_gb if image else 0
    # disk 0 means "as big as the image" on OpenStack (boot from volume); it always fits.
    fitting = [
        f
        for f in flavors
        if f.ram_mb >= max(min_ram, 1) and (f.disk_gb == 0 or f.disk_gb >= min_disk)
    ]
    if not fitting:
        raise InfrastructureError(
            f"cannot run here: no flavor fits min_ram={min_ram} MB, min_disk={min_disk} GB; "
            "name one as `interop: {flavor: NAME}` in the cloud's settings",
            call="flavors.list",
        )
    best = min(fitting, key=lambda f: (f.ram_mb, f.vcpus, f.disk_gb, f.name))
    return Choice(best, f"smallest fitting min_ram={min_ram} MB, min_disk={min_disk} GB")


def choose_network(
    networks: Iterable[Network], *, override: str | None = None, project_networks: set[str]
) -> Choice[Network | None]:
    """The network to boot servers on.

    An override wins. Else a shared or external network that servers may boot on directly
    (its addresses are public: DreamCompute's way), else the project's own network (a
    floating IP will be needed), else None (let the cloud choose).
    """
    networks = list(networks)
    if override:
        for network in networks:
            if override in (network.id, network.name):
                return Choice(network, "override")
        raise ConfigurationError(f"network {override!r} (from the cloud's settings) is not there")
    own = sorted((n for n in networks if n.id in project_networks), key=lambda n: n.name)
    bootable_public = sorted((n for n in networks if n.shared and n.external), key=lambda n: n.name)
    if bootable_public:
        return Choice(bootable_public[0], "shared external network (public addresses)")
    shared = sorted((n for n in networks if n.shared and not n.external), key=lambda n: n.name)
    if own:
        return Choice(own[0], "the project's own network")
    if shared:
        return Choice(shared[0], "a shared network")
    return Choice(None, "none found; the cloud chooses")


def choose_external_network(networks: Iterable[Network]) -> Network | None:
    external = sorted((n for n in networks if n.external), key=lambda n: n.name)
    return external[0] if external else None


def is_publicly_reachable(ip: str) -> bool:
    """May the tester connect to this fixed address? Never a private (RFC 1918) one.

    Loopback counts as reachable: the reference cloud's "public" addresses are loopback.
    """
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return False
    if address.is_loopback:
        return True
    if address.is_private or address.is_link_local or address.is_multicast:
        return False
    if address.is_reserved or address.is_unspecified:
        return False
    return address.is_global


def is_loopback(ip: str) -> bool:
    try:
        return ipaddress.ip_address(ip).is_loopback
    except ValueError:
        return False


def override_of(settings: Mapping[str, Any], key: str) -> str | None:
    interop = settings.get("interop") or {}
    value = interop.get(key) if isinstance(interop, Mapping) else None
    return str(value) if value else None
