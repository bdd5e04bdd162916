"""The OpenStack adapter against the reference cloud (profiles default and floating-ip)."""

from __future__ import annotations

import ipaddress
from pathlib import Path

import pytest

from pytest_interop.clouds.base import ResourceNotFound
from pytest_interop.clouds.openstack import OpenStackCloud
from pytest_interop.nodes import Node, generate_keypair, parse_host_key_fingerprints
from pytest_interop.resources import TAG_KEY
from tests.functional.clouds.conftest import live


def _ssh(reachable, key_path: str, user: str, console: str) -> Node:
    node = Node(
        reachable.ip,
        reachable.port,
        private_key_path=key_path,
        usernames=[user],
        host_key_fingerprints=parse_host_key_fingerprints(console) or None,
        timeout=20,
        connect_timeout=5,
    )
    node.connect()
    return node


def test_discovery_picks_image_account_flavor_network_and_records_them(os_cloud, reference):
    image = os_cloud.discover_image()
    flavor = os_cloud.discover_flavor(image)
    network = os_cloud.discover_network()
    findings = os_cloud.findings
    assert image.login_user == "debian"  # Debian-12 sorts before Ubuntu-22.04
    assert flavor.name == "small"  # the smallest of small/medium/large
    if reference.profile.name == "default":
        assert network.name == "public"
        assert findings["login_user_source"] == "image property os_admin_user"
    else:
        assert network.name == "private"
        assert findings["login_user_source"] == "default for os_distro debian"
    assert findings["image"] == image.name and findings["flavor"] == "small"
    assert findings["network"] == network.name


def test_overrides_win_and_are_recorded(reference, ledger):
    config = dict(reference.cloud_config())
    config["interop"] = {
        **config["interop"],
        "image": "Ubuntu-22.04",
        "flavor": "medium",
        "login_user": "admin",
    }
    from pytest_interop.clouds.registry import CloudSpec

    cloud = OpenStackCloud.from_spec(CloudSpec("x", "openstack", {"config": config}), ledger)
    try:
        image = cloud.discover_image()
        assert (image.name, image.login_user) == ("Ubuntu-22.04", "admin")
        assert cloud.discover_flavor(image).name == "medium"
        assert cloud.findings["image_choice"] == "override"
        assert cloud.findings["login_user_source"] == "override"
    finally:
        cloud.close()


def test_keypairs_generate_import_list_and_delete(os_cloud, tmp_path: Path):
    generated = os_cloud.create_keypair()
    assert generated.name.startswith(os_cloud.ledger.prefix)
    assert generated.private_key_path is not None
    assert Path(generated.private_key_path).stat().st_mode & 0o777 == 0o600
    _, public = generate_keypair(tmp_path)
    imported = os_cloud.import_keypair(public)
    assert imported.public_key.split()[:2] == public.split()[:2]
    names = {k.name for k in os_cloud.list_keypairs()}
    assert {generated.name, imported.name} <= names
    assert os_cloud.get_keypair(imported.name).fingerprint == imported.fingerprint
    os_cloud.delete_keypair(imported.name)
    with pytest.raises(ResourceNotFound):
        os_cloud.get_keypair(imported.name)
    assert os_cloud.ledger.totals()["deleted"] == 1


def test_every_server_operation_over_http_and_ssh(os_cloud, reference):
    image = os_cloud.discover_image()
    flavor = os_cloud.discover_flavor(image)
    keypair = os_cloud.create_keypair()
    rule = os_cloud.allow_ssh()
    server = os_cloud.create_server(
        image=image,
        flavor=flavor,
        network=os_cloud.discover_network(),
        key_name=keypair.name,
        security_rule=rule,
        metadata={"purpose": "adapter-test"},
    )
    assert server.status == "ACTIVE"
    assert server.metadata[TAG_KEY] == os_cloud.ledger.run_id
    assert server.id in {s.id for s in os_cloud.list_servers()}

    reach = os_cloud.reachable_address(server)
    assert ipaddress.ip_address(reach.ip).is_loopback
    assert reach.port == reference.ssh_port
    expected = "public-fixed-address" if reference.profile.name == "default" else "floating-ip"
    assert reach.via == expected == os_cloud.findings["reachable_via"]
    assert os_cloud.reachable_address(server.id) == reach  # idempotent: no second floating IP
    kinds = {a.kind for a in os_cloud.server_addresses(server.id)}
    assert ("floating" in kinds) == (expected == "floating-ip")

    console = os_cloud.console_log(server.id)
    assert parse_host_key_fingerprints(console)
    node = _ssh(reach, keypair.private_key_path, image.login_user, console)
    try:
        assert node.host_key_verified
        assert node.run(["whoami"]).stdout.strip() == image.login_user
        boot_id = node.run(["cat", "/proc/sys/kernel/random/boot_id"]).stdout
    finally:
        node.close()

    assert os_cloud.set_server_metadata(server.id, {"color": "blue"})["color"] == "blue"
    os_cloud.delete_server_metadata(server.id, ["color"])
    assert "color" not in os_cloud.get_server_metadata(server.id)

    assert os_cloud.reboot_server(server.id).status == "ACTIVE"
    node = _ssh(reach, keypair.private_key_path, image.login_user, console)
    try:
        assert node.run(["cat", "/proc/sys/kernel/random/boot_id"]).stdout != boot_id
    finally:
        node.close()

    assert os_cloud.stop_server(server.id).status == "SHUTOFF"
    assert os_cloud.start_server(server.id).status == "ACTIVE"

    bigger = min(
        (f for f in os_cloud.list_flavors() if f.vcpus > flavor.vcpus), key=lambda f: f.vcpus
    )
    assert os_cloud.resize_server(server.id, bigger).status == "VERIFY_RESIZE"
    resized = os_cloud.confirm_resize(server.id)
    assert resized.status == "ACTIVE" and resized.flavor_id in (bigger.id, bigger.name)
    node = _ssh(reach, keypair.private_key_path, image.login_user, console)
    try:
        assert node.run(["nproc"]).stdout.strip() == str(bigger.vcpus)
    finally:
        node.close()
    os_cloud.resize_server(server.id, flavor)
    reverted = os_cloud.revert_resize(server.id)
    assert reverted.flavor_id in (bigger.id, bigger.name)

    assert os_cloud.rebuild_server(server.id).status == "ACTIVE"
    os_cloud.lock_server(server.id)
    assert os_cloud.get_server(server.id).locked is True
    os_cloud.unlock_server(server.id)
    assert os_cloud.get_server(server.id).locked is False

    os_cloud.delete_server(server.id)
    with pytest.raises(ResourceNotFound):
        os_cloud.get_server(server.id)

    summary = os_cloud.cleanup_run()
    assert summary.ok, summary.leaked
    assert live(reference, "servers") == 0
    assert live(reference, "floatingips") == 0
    assert live(reference, "keypairs") == 0
    totals = os_cloud.ledger.totals()
    assert totals["created"] == totals["deleted"] and totals["leaked"] == 0


def test_cleanup_run_removes_in_reverse_order_and_tolerates_deleted(os_cloud, reference):
    keypair = os_cloud.create_keypair()
    server = os_cloud.create_server(key_name=keypair.name)
    os_cloud.reachable_address(server)
    os_cloud.native.compute.delete_keypair(keypair.name)  # gone behind the ledger's back
    summary = os_cloud.cleanup_run()
    assert summary.ok
    assert summary.deleted[-1].startswith("server")  # created after the key, removed before
    assert any(line.startswith("keypair") for line in summary.already_gone)
    assert live(reference, "servers") == 0 and live(reference, "floatingips") == 0
    assert os_cloud.cleanup_run().deleted == []  # nothing twice


def test_an_intent_without_an_id_is_found_by_name(os_cloud, reference):
    """A run killed between the boot request and its answer left only the intent."""
    name = os_cloud.resource_name("server")
    record = os_cloud.ledger.intend("server", name)
    image = os_cloud.discover_image()
    os_cloud.native.compute.create_server(
        name=name,
        image_id=image.id,
        flavor_id=os_cloud.discover_flavor(image).id,
        networks=[{"uuid": os_cloud.discover_network().id}],
    )
    assert live(reference, "servers") == 1
    summary = os_cloud.cleanup_run()
    assert summary.deleted == [record.describe()]
    assert live(reference, "servers") == 0


def test_cleanup_leftovers_touches_only_the_tagged_run(os_cloud, reference, run_id):
    mine = os_cloud.create_server()
    os_cloud.create_keypair()
    other_run = os_cloud.native.compute.create_server(
        name=f"interop-other-{run_id}-server",
        image_id=mine.image_id,
        flavor_id=os_cloud.discover_flavor().id,
        networks=[{"uuid": os_cloud.discover_network().id}],
        metadata={TAG_KEY: "other"},
    )
    untagged = os_cloud.native.compute.create_server(
        name=f"{os_cloud.ledger.prefix}lookalike",  # our prefix, but no tag: not ours
        image_id=mine.image_id,
        flavor_id=os_cloud.discover_flavor().id,
        networks=[{"uuid": os_cloud.discover_network().id}],
    )
    fresh = OpenStackCloud(os_cloud.name, os_cloud.native, ledger=None)
    assert fresh.cleanup_leftovers(older_than_seconds=3600).deleted == []  # too young
    summary = fresh.cleanup_leftovers(run_id=run_id)
    assert sorted(line.split()[0] for line in summary.deleted) == ["keypair", "server"]
    remaining = {s.id for s in fresh.list_servers()}
    assert remaining == {other_run.id, untagged.id}
    # Any run's tagged leftovers past an age go; the untagged look-alike stays.
    swept = fresh.cleanup_leftovers(older_than_seconds=0)
    assert swept.deleted == [f"server interop-other-{run_id}-server ({other_run.id})"]
    assert {s.id for s in fresh.list_servers()} == {untagged.id}
    fresh.delete_server(untagged.id)
    assert live(reference, "servers") == 0


def test_lookups_of_missing_things_raise_resource_not_found(os_cloud):
    with pytest.raises(ResourceNotFound):
        os_cloud.get_server("00000000-0000-0000-0000-000000000000")
    with pytest.raises(ResourceNotFound):
        os_cloud.get_keypair("interop-no-such-key")


def test_a_clouds_yaml_entry_with_interop_settings(reference, ledger, tmp_path, monkeypatch):
    """A cloud named in clouds.yaml, resolved by openstacksdk on the worker."""
    import yaml

    from pytest_interop.clouds.registry import CloudSpec

    clouds_yaml = tmp_path / "clouds.yaml"
    clouds_yaml.write_text(yaml.safe_dump({"clouds": {"mine": reference.cloud_config()}}))
    monkeypatch.setenv("OS_CLIENT_CONFIG_FILE", str(clouds_yaml))
    cloud = OpenStackCloud.from_spec(CloudSpec("mine", "openstack", {"cloud": "mine"}), ledger)
    try:
        assert cloud.ssh_port == reference.ssh_port
        assert cloud.identity()["profile"] == reference.profile.name
        assert {f.name for f in cloud.list_flavors()} >= {"small"}
    finally:
        cloud.close()


@pytest.mark.parametrize("profile", ["default", "floating-ip", "rhel", "devstack"])
def test_discovered_defaults_boot_a_server_one_can_log_into(profile, reference_clouds, ledger):
    """Every profile's variance, found without being told: image, account, network, address."""
    from tests.functional.clouds.conftest import openstack_spec, reference_cloud_for

    reference = reference_cloud_for(reference_clouds, profile)
    cloud = OpenStackCloud.from_spec(openstack_spec(reference), ledger)
    try:
        keypair = cloud.create_keypair()
        server = cloud.create_server(key_name=keypair.name)
        image, _, _ = cloud.boot_defaults()
        reach = cloud.reachable_address(server)
        node = _ssh(reach, keypair.private_key_path, image.login_user, cloud.console_log(server.id))
        try:
            assert node.run(["whoami"]).stdout.strip() == image.login_user
        finally:
            node.close()
        expected_via = (
            "floating-ip" if reference.profile.floating_ip_required else ("public-fixed-address")
        )
        assert cloud.findings["reachable_via"] == expected_via
        assert cloud.cleanup_run().ok
        assert live(reference, "servers") == 0 and live(reference, "floatingips") == 0
    finally:
        cloud.close()


def test_cleanup_removes_a_ledgered_image_left_protected(os_cloud, ledger):
    """A test stopped between protecting an image and unprotecting it leaves it protected;
    the run's clean-up still removes it (glance refuses to delete a protected image)."""
    images = os_cloud.native.image
    record = ledger.intend("image", os_cloud.resource_name("image"))
    image = images.create_image(
        name=record.name, disk_format="raw", container_format="bare", visibility="private"
    )
    ledger.record_created(record, image.id)
    images.update_image(image.id, is_protected=True)
    summary = os_cloud.cleanup_run()
    assert summary.ok, summary.describe()
    assert images.find_image(image.id) is None
