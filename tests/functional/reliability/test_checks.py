"""The adapters' ``check()``: one cheap call before collection, one clear line if it fails."""

from __future__ import annotations

import pytest

from pytest_interop.clouds.aws import AwsCloud
from pytest_interop.clouds.openstack import OpenStackCloud
from pytest_interop.clouds.registry import CloudSpec
from pytest_interop.errors import ConfigurationError
from pytest_interop.reference import ReferenceCloud
from pytest_interop.reference.aws import ReferenceAws

from .test_bad_input import free_loopback_port


def aws_spec(endpoint_url: str, secret: str = "not-a-real-secret-key") -> CloudSpec:
    return CloudSpec(
        "aws-test",
        "aws",
        {
            "region": "us-east-1",
            "endpoint_url": endpoint_url,
            "aws_access_key_id": "AKIAIOSFODNN7EXAMPLE",
            "aws_secret_access_key": secret,
        },
    )


def test_aws_check_passes_against_the_reference_endpoint():
    endpoint = ReferenceAws()
    endpoint.start()
    try:
        cloud = AwsCloud.from_spec(CloudSpec("ref", "aws", endpoint.settings()), None)
        cloud.check()
        cloud.close()
    finally:
        endpoint.stop()


def test_aws_check_names_an_unreachable_endpoint():
    url = f"http://127.0.0.1:{free_loopback_port()}"
    cloud = AwsCloud.from_spec(aws_spec(url), None)
    with pytest.raises(ConfigurationError) as raised:
        cloud.check()
    text = str(raised.value)
    assert text.startswith("--cloud=aws-test (region us-east-1): cannot connect")
    assert "not-a-real-secret-key" not in text
    cloud.close()


@pytest.mark.parametrize("failures", [2, 100])
def test_openstack_check_lets_a_failing_keystone_through(failures):
    """A 503 to the token request is the cloud's hiccup, not bad input: retried a little,
    then the run goes on (its own retries and infrastructure errors deal with it)."""
    reference = ReferenceCloud(machines=False)
    reference.start()
    try:
        app, identity = reference._server.app, reference.state.identity
        issue, answered = identity.issue_token, []

        def issue_token(auth):
            answered.append(len(answered) < failures)
            if answered[-1]:
                raise app._error("identity", "Injected fault: the service failed.", 503)
            return issue(auth)

        identity.issue_token = issue_token
        spec = CloudSpec("ref", "openstack", {"config": reference.cloud_config()})
        cloud = OpenStackCloud.from_spec(spec, None)
        cloud.check()  # no ConfigurationError
        assert answered == [True, True, False] if failures == 2 else [True] * 3
        cloud.close()
    finally:
        reference.stop()
