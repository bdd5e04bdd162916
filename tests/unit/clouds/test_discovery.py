"""Choosing image, login account, flavor and network from what a cloud lists."""

from __future__ import annotations

import pytest

from pytest_interop.clouds import discovery
from pytest_interop.clouds.base import Flavor, Image, Network
from pytest_interop.errors import ConfigurationError, InfrastructureError


@pytest.mark.parametrize(
    ("image", "user", "source"),
    [
        (
            Image("1", "x", properties={"os_admin_user": "admin"}),
            "admin",
            "image property os_admin_user",
        ),
        (Image("1", "x", os_distro="rhel"), "cloud-user", "default for os_distro rhel"),
        (Image("1", "x", os_distro="Ubuntu"), "ubuntu", "default for os_distro ubuntu"),
        (Image("1", "CentOS-Stream-9"), "centos", "default for centos, guessed from the name"),
        (Image("1", "amzn2-ami-hvm-2.0"), "ec2-user", "default for amzn, guessed from the name"),
        (
            Image("1", "fedora-39", properties={"os_distro": "fedora"}),
            "fedora",
            "default for os_distro fedora",
        ),
        (Image("1", "cirros-0.6"), "cirros", "default for cirros, guessed from the name"),
        (Image("1", "debian-12"), "debian", "default for debian, guessed from the name"),
        (Image("1", "mystery"), None, "unknown"),
        (Image("1", "x", properties={"owner_login_user": "ec2-user"}), "ec2-user", "AMI owner"),
    ],
)
def test_login_user(image, user, source):
    assert discovery.login_user_for(image) == (user, source)


def test_choose_image_prefers_an_image_naming_its_account_and_skips_others():
    images = [
        Image("w", "Windows_Server-2016", properties={"platform": "windows"}),
        Image("d", "Debian-12", os_distro="debian"),
        Image("u", "Ubuntu-22.04", properties={"os_admin_user": "ubuntu"}),
        Image("q", "Queued", os_distro="ubuntu", status="queued"),
    ]
    choice, source = discovery.choose_image(images)
    assert (choice.value.id, choice.value.login_user) == ("u", "ubuntu")
    assert source == "image property os_admin_user"
    override, source = discovery.choose_image(images, override="Debian-12", login_user="root")
    assert (override.value.id, override.value.login_user, source) == ("d", "root", "override")
    with pytest.raises(ConfigurationError):
        discovery.choose_image(images, override="nope")
    with pytest.raises(InfrastructureError):
        discovery.choose_image(images[:1])


def test_choose_flavor_is_the_smallest_that_fits():
    flavors = [
        Flavor("1", "tiny", 1, 256, 1),
        Flavor("2", "small", 1, 1024, 10),
        Flavor("3", "medium", 2, 2048, 20),
        Flavor("4", "volume", 1, 1024, 0),  # boot from volume: disk 0 fits anything
    ]
    image = Image("i", "x", min_ram_mb=512, min_disk_gb=5)
    assert discovery.choose_flavor(flavors, image).value.name == "volume"
    assert discovery.choose_flavor(flavors[:3], image).value.name == "small"
    assert discovery.choose_flavor(flavors).value.name == "tiny"
    assert discovery.choose_flavor(flavors, override="3").value.name == "medium"
    with pytest.raises(InfrastructureError):
        discovery.choose_flavor(flavors[:1], image)


def test_choose_network():
    public = Network("p", "public", external=True)
    private = Network("v", "private")
    shared = Network("s", "shared-net", shared=True)
    assert discovery.choose_network([public, private], project_networks={"v"}).value is private
    assert discovery.choose_network([public, shared], project_networks=set()).value is shared
    provider = Network("x", "provider", external=True, shared=True)
    assert discovery.choose_network([provider, private], project_networks={"v"}).value is provider
    assert discovery.choose_network([public], project_networks=set()).value is None
    assert discovery.choose_external_network([private, public]) is public


@pytest.mark.parametrize(
    ("ip", "reachable"),
    [
        ("10.0.0.5", False),
        ("172.16.3.4", False),
        ("192.168.1.1", False),
        ("169.254.0.1", False),
        ("100.64.0.1", False),  # carrier-grade NAT: not global
        ("127.64.1.2", True),
        ("8.8.8.8", True),
        ("2001:db8::1", False),
        ("not-an-ip", False),
    ],
)
def test_only_public_or_loopback_addresses_are_reachable(ip, reachable):
    assert discovery.is_publicly_reachable(ip) is reachable
