"""Steps 2 and 3: read what a normal user may use, and pick from it without site knowledge."""

from __future__ import annotations

import pytest

from pytest_interop.clouds import discovery
from pytest_interop.clouds.base import Cloud, Flavor, Image
from pytest_interop.report.variance import NO, PARTIAL, YES
from pytest_interop.resources import NAME_PREFIX

from .steps import StepRecord

# Instance sizes below this are too small for a general-purpose Linux node; an adapter may
# skip them, so a smaller fitting flavor it left out is not counted against its pick.
USABLE_RAM_MB = 512


@pytest.mark.idempotent_id("d0c0fdf9-7a5d-4816-b529-a9536ded8dcf")
def test_read_networks_flavors_images(cloud: Cloud, record_finding) -> None:
    step = StepRecord(record_finding, "hybrid-discovery-read")
    images = [i for i in cloud.list_images() if i.status == "active"]
    flavors = cloud.list_flavors()
    networks = cloud.list_networks()
    step.fact("images", len(images))
    step.fact("flavors", len(flavors))
    step.fact("networks", len(networks))
    roles = _openstack_roles(cloud)
    if roles is not None:
        step.fact("roles", roles)
    missing = [
        kind
        for kind, items in (("active images", images), ("flavors", flavors), ("networks", networks))
        if not items
    ]
    if missing:
        step.fail(NO, f"a normal user sees no {' and no '.join(missing)}")
    broken = [f.name for f in flavors if f.vcpus < 1 or f.ram_mb <= 0]
    if broken:
        step.fail(NO, f"flavors without CPUs or memory: {', '.join(broken[:5])}")
    # Images other tests of this run make come and go while we read: read back one that stays.
    image = next((i for i in images if not i.name.startswith(NAME_PREFIX)), images[0])
    if cloud.get_image(image.id).id != image.id:
        step.fail(NO, f"image {image.id} listed but not readable by id")
    flavor = min(flavors, key=lambda f: (f.ram_mb, f.name))
    read = cloud.get_flavor(flavor.id)
    if (read.vcpus, read.ram_mb) != (flavor.vcpus, flavor.ram_mb):
        step.fail(NO, f"flavor {flavor.name} reads back as {read.vcpus} CPUs, {read.ram_mb} MB")
    step.answer(
        YES, f"{len(images)} active images, {len(flavors)} flavors, {len(networks)} networks"
    )


def _openstack_roles(cloud: Cloud) -> list[str] | None:
    """The roles the run's OpenStack credentials carry (to show the reads were a normal
    user's), or None where the provider or the auth plugin does not tell."""
    if cloud.provider != "openstack":
        return None
    try:
        session = cloud.native.session
        return sorted(session.auth.get_access(session).role_names or [])
    except Exception:  # an auth plugin without an access object: nothing to show
        return None


def _fits(flavor: Flavor, image: Image) -> bool:
    disk_fits = flavor.disk_gb == 0 or flavor.disk_gb >= image.min_disk_gb
    return flavor.ram_mb >= max(image.min_ram_mb, 1) and disk_fits


@pytest.mark.idempotent_id("d2e0b424-adb8-41fa-ac11-9c541674d8c5")
def test_pick_network_flavor_image(cloud: Cloud, record_finding) -> None:
    step = StepRecord(record_finding, "hybrid-discovery-pick")
    image = cloud.discover_image()
    image_choice = cloud.findings.get("image_choice", "")
    login_source = cloud.findings.get("login_user_source", "")
    flavor = cloud.discover_flavor(image)
    flavor_choice = cloud.findings.get("flavor_choice", "")
    network = cloud.discover_network()
    network_choice = cloud.findings.get("network_choice", "")
    step.fact("image", image.name)
    step.fact("image_choice", image_choice)
    step.fact("login_user", image.login_user)
    step.fact("login_user_source", login_source)
    step.fact("flavor", flavor.name)
    step.fact("flavor_choice", flavor_choice)
    step.fact("network", network.name if network else None)
    step.fact("network_choice", network_choice)

    listed_images = {i.id: i for i in cloud.list_images()}
    if image.id not in listed_images or listed_images[image.id].status != "active":
        step.fail(NO, f"picked image {image.name} is not an active image of the cloud")
    if not discovery.is_linux(image):
        step.fail(NO, f"picked image {image.name} is not a Linux image")
    if not image.login_user:
        step.fail(NO, f"picked image {image.name} but found no login account for it")
    flavors = cloud.list_flavors()
    if flavor.id not in {f.id for f in flavors} or not _fits(flavor, image):
        step.fail(NO, f"picked flavor {flavor.name} does not fit image {image.name}")
    floor = min(flavor.ram_mb, USABLE_RAM_MB)
    smaller = [
        f.name
        for f in flavors
        if _fits(f, image) and floor <= f.ram_mb < flavor.ram_mb and f.vcpus <= flavor.vcpus
    ]
    if smaller:
        step.fail(NO, f"picked flavor {flavor.name}, but {smaller[0]} is smaller and fits")
    if network is not None and network.id not in {n.id for n in cloud.list_networks()}:
        step.fail(NO, f"picked network {network.name} is not one the user can see")

    overridden = [
        what
        for what, reason in (
            ("image", image_choice),
            ("login account", login_source),
            ("flavor", flavor_choice),
            ("network", network_choice),
        )
        if reason == "override"
    ]
    picked = (
        f"image {image.name} ({image_choice}; login {image.login_user!r} from {login_source}), "
        f"flavor {flavor.name} ({flavor_choice}), "
        f"network {network.name if network else '(cloud default)'} ({network_choice})"
    )
    if overridden:
        step.fail(
            PARTIAL, f"needed site-specific settings for the {', '.join(overridden)}: {picked}"
        )
    step.answer(YES, picked)
