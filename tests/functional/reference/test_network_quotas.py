"""The reference cloud enforces the Neutron quotas it advertises (issue 17), as real Neutron
does: the 11th security group of a project is refused with 409 OverQuota."""

from __future__ import annotations

import openstack.connection
import pytest
from openstack import exceptions as os_exceptions

from pytest_interop.reference import ReferenceCloud


@pytest.fixture
def conn():
    with ReferenceCloud(machines=False, boot_delay=0) as cloud:
        connection = openstack.connection.Connection(**cloud.cloud_config())
        try:
            yield cloud, connection
        finally:
            connection.close()


def test_the_security_group_quota_is_advertised_and_enforced(conn):
    _, connection = conn
    network = connection.network
    quota = network.get("/quotas/" + connection.current_project_id).json()["quota"]
    assert quota["security_group"] == 10
    held = len(list(network.security_groups(project_id=connection.current_project_id)))
    assert held == 1  # the project's default group counts, as in Neutron
    made = [network.create_security_group(name=f"g{n}") for n in range(quota["security_group"] - 1)]
    with pytest.raises(os_exceptions.ConflictException, match="Quota exceeded"):
        network.create_security_group(name="one-too-many")
    network.delete_security_group(made[0])
    network.create_security_group(name="fits-again")


def test_quotas_given_to_a_reference_cloud_apply_to_neutron_too():
    with ReferenceCloud(machines=False, quotas={"security_group": 2, "instances": 3}) as cloud:
        connection = openstack.connection.Connection(**cloud.cloud_config())
        try:
            network = connection.network
            network.create_security_group(name="second")
            with pytest.raises(os_exceptions.ConflictException, match="security_group"):
                network.create_security_group(name="third")
            assert cloud.state.compute.default_quotas["instances"] == 3
        finally:
            connection.close()
