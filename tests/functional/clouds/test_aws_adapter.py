"""The AWS adapter against the embedded AWS endpoint (moto), over real HTTP and SSH."""

from __future__ import annotations

import ipaddress
import socket
from pathlib import Path

import boto3
import pytest

from pytest_interop.clouds.aws import AwsCloud
from pytest_interop.clouds.base import ResourceNotFound
from pytest_interop.errors import ConfigurationError, NotApplicable
from pytest_interop.nodes import Node, generate_keypair, parse_host_key_fingerprints
from pytest_interop.reference.addresses import REACHABLE_CIDR
from pytest_interop.resources import TAG_KEY
from tests.functional.clouds.conftest import aws_spec


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


def test_endpoint_hands_out_only_loopback_public_addresses(reference_aws):
    settings = reference_aws.settings()
    ec2 = boto3.client(
        "ec2",
        region_name=settings["region"],
        endpoint_url=settings["endpoint_url"],
        aws_access_key_id=settings["aws_access_key_id"],
        aws_secret_access_key=settings["aws_secret_access_key"],
    )
    image = ec2.describe_images(Owners=["amazon"])["Images"][0]["ImageId"]
    reservation = ec2.run_instances(ImageId=image, MinCount=2, MaxCount=2)
    ids = [i["InstanceId"] for i in reservation["Instances"]]
    described = ec2.describe_instances(InstanceIds=ids)["Reservations"][0]["Instances"]
    public = [i["PublicIpAddress"] for i in described]
    eip = ec2.allocate_address(Domain="vpc")["PublicIp"]
    for ip in [*public, eip]:
        assert ipaddress.ip_address(ip) in REACHABLE_CIDR
    assert len(set(public)) == 2
    ec2.terminate_instances(InstanceIds=ids)
    ec2.release_address(AllocationId=ec2.describe_addresses()["Addresses"][0]["AllocationId"])
    assert reference_aws.counters()["machines"] == 0


def test_discovery_on_aws(reference_aws, ledger):
    aws_cloud = AwsCloud.from_spec(aws_spec(reference_aws), ledger)
    image = aws_cloud.discover_image()
    assert image.login_user == "ec2-user"  # Amazon Linux preferred
    assert image.properties["architecture"] == "x86_64"
    flavor = aws_cloud.discover_flavor(image)
    assert flavor.ram_mb >= 512
    assert all(f.ram_mb >= flavor.ram_mb for f in aws_cloud.list_flavors() if f.ram_mb >= 512)
    network = aws_cloud.discover_network()
    assert network is not None and network.external
    assert aws_cloud.findings["login_user_source"] == "AMI owner"
    aws_cloud.close()


def test_a_named_instance_type_must_exist(reference_aws, ledger):
    cloud = AwsCloud.from_spec(aws_spec(reference_aws, flavor="z9.nonsense"), ledger)
    with pytest.raises(ConfigurationError, match=r"z9\.nonsense"):
        cloud.discover_flavor()


def test_ubuntu_ami_logs_in_as_ubuntu(aws_cloud, tmp_path: Path):
    ubuntu = next(i for i in aws_cloud.list_images() if i.name.startswith("ubuntu/images/hvm-ssd"))
    private, public = generate_keypair(tmp_path)
    keypair = aws_cloud.import_keypair(public)
    server = aws_cloud.create_server(image=ubuntu, flavor="t3.micro", key_name=keypair.name)
    reach = aws_cloud.reachable_address(server)
    node = _ssh(reach, str(private), "ubuntu", aws_cloud.console_log(server.id))
    try:
        assert node.run(["whoami"]).stdout.strip() == "ubuntu"
    finally:
        node.close()


def test_every_instance_operation_over_http_and_ssh(aws_cloud, reference_aws):
    keypair = aws_cloud.create_keypair()
    assert Path(keypair.private_key_path).stat().st_mode & 0o777 == 0o600
    assert keypair.name in {k.name for k in aws_cloud.list_keypairs()}
    rule = aws_cloud.allow_ssh()
    image = aws_cloud.discover_image()
    server = aws_cloud.create_server(
        image=image, key_name=keypair.name, security_rule=rule, metadata={"purpose": "t"}
    )
    assert server.status == "ACTIVE" and server.metadata[TAG_KEY] == aws_cloud.ledger.run_id
    assert server.id in {s.id for s in aws_cloud.list_servers()}
    private = [a for a in server.addresses if a.kind == "fixed"]
    assert private and not ipaddress.ip_address(private[0].ip).is_loopback

    reach = aws_cloud.reachable_address(server)
    assert reach.via == "public-ip" and reach.port == reference_aws.ssh_port
    console = aws_cloud.console_log(server.id)
    assert parse_host_key_fingerprints(console)
    node = _ssh(reach, keypair.private_key_path, image.login_user, console)
    try:
        assert node.host_key_verified
        boot_id = node.run(["cat", "/proc/sys/kernel/random/boot_id"]).stdout
    finally:
        node.close()

    assert aws_cloud.set_server_metadata(server.id, {"color": "blue"})["color"] == "blue"
    aws_cloud.delete_server_metadata(server.id, ["color"])
    assert "color" not in aws_cloud.get_server_metadata(server.id)

    aws_cloud.reboot_server(server.id)
    node = _ssh(reach, keypair.private_key_path, image.login_user, console)
    try:
        assert node.run(["cat", "/proc/sys/kernel/random/boot_id"]).stdout != boot_id
    finally:
        node.close()

    assert aws_cloud.stop_server(server.id).status == "SHUTOFF"
    with pytest.raises(OSError), socket.create_connection((reach.ip, reach.port), timeout=5):
        pass  # a stopped instance answers no SSH
    resized = aws_cloud.resize_server(server.id, "t3.large")  # while stopped: stays stopped
    assert resized.flavor_id == "t3.large" and resized.status == "SHUTOFF"
    started = aws_cloud.start_server(server.id)
    assert started.status == "ACTIVE"

    # After a stop, the instance's public IP changed; an Elastic IP is the stable way in.
    reach = aws_cloud.reachable_address(server.id)
    node = _ssh(reach, keypair.private_key_path, image.login_user, console)
    try:
        assert node.run(["nproc"]).stdout.strip() == "2"  # t3.large
    finally:
        node.close()

    for lacking in (
        lambda: aws_cloud.lock_server(server.id),
        lambda: aws_cloud.unlock_server(server.id),
        lambda: aws_cloud.confirm_resize(server.id),
        lambda: aws_cloud.revert_resize(server.id),
        lambda: aws_cloud.rebuild_server(server.id),
    ):
        with pytest.raises(NotApplicable):
            lacking()

    aws_cloud.delete_server(server.id)
    with pytest.raises(ResourceNotFound):  # terminated: gone to the interface
        aws_cloud.get_server(server.id)
    summary = aws_cloud.cleanup_run()
    assert summary.ok, summary.leaked
    counters = reference_aws.counters()
    assert counters["live_instances"] == 0 and counters["machines"] == 0
    assert counters["key_pairs"] == 0


def test_an_elastic_ip_when_the_instance_has_no_public_ip(aws_cloud, reference_aws):
    keypair = aws_cloud.create_keypair()
    subnet = aws_cloud.native.create_subnet(
        VpcId=aws_cloud.native.describe_vpcs()["Vpcs"][0]["VpcId"], CidrBlock="172.31.200.0/24"
    )["Subnet"]["SubnetId"]  # MapPublicIpOnLaunch is off on a new subnet
    image = aws_cloud.discover_image()
    server = aws_cloud.create_server(image=image, network=subnet, key_name=keypair.name)
    assert all(a.kind == "fixed" for a in server.addresses)
    reach = aws_cloud.reachable_address(server)
    assert reach.via == "elastic-ip" == aws_cloud.findings["reachable_via"]
    node = _ssh(reach, keypair.private_key_path, image.login_user, aws_cloud.console_log(server.id))
    node.close()
    assert aws_cloud.cleanup_run().ok
    assert reference_aws.counters()["elastic_ips"] == 0
    aws_cloud.native.delete_subnet(SubnetId=subnet)


def test_cleanup_leftovers_by_tag(aws_cloud, reference_aws, run_id):
    aws_cloud.create_keypair()
    aws_cloud.create_server()
    aws_cloud.allow_ssh()
    stranger = aws_cloud.native.run_instances(
        ImageId=aws_cloud.discover_image().id, MinCount=1, MaxCount=1
    )["Instances"][0]["InstanceId"]
    fresh = AwsCloud.from_spec(aws_spec(reference_aws), None)
    assert fresh.cleanup_leftovers(older_than_seconds=3600).deleted == []
    summary = fresh.cleanup_leftovers(run_id=run_id)
    kinds = sorted(line.split()[0] for line in summary.deleted)
    assert kinds == ["keypair", "security_group", "server"]
    assert [s.id for s in fresh.list_servers()] == [stranger]
    fresh.delete_server(stranger)
    with pytest.raises(ResourceNotFound):
        fresh.get_keypair("interop-none")
