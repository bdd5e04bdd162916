"""Naming a cloud: clouds.yaml through openstacksdk, AWS profiles through botocore."""

from __future__ import annotations

import pytest

from pytest_interop.clouds.registry import CloudSpec, public_identity, resolve_cloud
from pytest_interop.errors import CloudNotFound

CLOUDS_YAML = """
clouds:
  mycloud:
    auth:
      auth_url: http://127.0.0.1:5000/v3
      username: demo
      password: very-secret-password
      project_name: demo
    region_name: RegionOne
"""


@pytest.fixture
def clouds_yaml(tmp_path, monkeypatch):
    path = tmp_path / "clouds.yaml"
    path.write_text(CLOUDS_YAML)
    monkeypatch.setenv("OS_CLIENT_CONFIG_FILE", str(path))
    return path


@pytest.fixture
def aws_config(tmp_path, monkeypatch):
    config = tmp_path / "config"
    config.write_text("[profile vendor]\nregion = eu-west-1\n")
    credentials = tmp_path / "credentials"
    credentials.write_text("[vendor]\naws_access_key_id = AKIA\naws_secret_access_key = s3cr3t\n")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(credentials))


def test_a_clouds_yaml_cloud_resolves_to_openstack(clouds_yaml):
    spec = resolve_cloud("mycloud")
    assert spec == CloudSpec("mycloud", "openstack", {"cloud": "mycloud"})


def test_a_region_can_be_chosen(clouds_yaml):
    assert resolve_cloud("mycloud@RegionOne").settings == {
        "cloud": "mycloud",
        "region_name": "RegionOne",
    }


def test_an_unknown_cloud_names_where_it_looked(clouds_yaml):
    with pytest.raises(CloudNotFound) as error:
        resolve_cloud("nowhere")
    message = str(error.value)
    assert "--cloud=nowhere" in message
    assert str(clouds_yaml.parent) in message
    assert "mycloud" in message  # the clouds it knows
    assert message.split("; clouds known")[0].count(str(clouds_yaml.parent)) == 1  # once
    assert "  nowhere:" in message.splitlines()  # the entry to add, not a guess at a vendor
    assert "profile:" not in message


def test_a_vendor_name_gets_the_profile_lines_to_add(clouds_yaml):
    with pytest.raises(CloudNotFound) as error:
        resolve_cloud("dreamcompute")
    lines = str(error.value).splitlines()
    assert lines[0].startswith("--cloud=dreamcompute: no cloud named 'dreamcompute'")
    assert "vendor profile 'dreamcompute'" in lines[0]
    assert lines[1:4] == ["clouds:", "  dreamcompute:", "    profile: dreamcompute"]
    assert "      username: YOUR_USER" in lines
    assert "auth_url" not in str(error.value)  # the vendor profile carries it


def test_aws_profile_and_region(aws_config):
    spec = resolve_cloud("aws:vendor@us-east-2")
    assert spec.provider == "aws"
    assert spec.settings == {"profile": "vendor", "region": "us-east-2"}


def test_aws_default_profile_with_region(aws_config):
    assert resolve_cloud("aws:@us-east-1").settings == {"profile": None, "region": "us-east-1"}


def test_an_unknown_aws_profile_lists_the_known_ones(aws_config):
    with pytest.raises(CloudNotFound) as error:
        resolve_cloud("aws:other@us-east-1")
    assert "vendor" in str(error.value)
    assert "aws configure --profile" in str(error.value)


def test_embedded_clouds_need_a_run():
    with pytest.raises(CloudNotFound):
        resolve_cloud("reference")


def test_identity_and_repr_carry_no_secrets(clouds_yaml):
    spec = CloudSpec(
        "ref",
        "openstack",
        {"config": {"auth": {"auth_url": "http://x", "password": "very-secret-password"}}},
    )
    assert "very-secret-password" not in repr(spec)
    assert "very-secret-password" not in str(public_identity(spec))
    assert public_identity(spec)["auth_url"] == "http://x"
