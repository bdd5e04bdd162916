"""Secrets in tracebacks' locals and in what libraries log (issue 17, defects 5 and 6)."""

from __future__ import annotations

import pprint

import pytest

from pytest_interop.clouds.retry import Failure, RetryPolicy
from pytest_interop.errors import InfrastructureError
from pytest_interop.redaction import Redactor, Secrets, mask_look_alikes

PASSWORD = "correct-horse-battery"
KEY_BODY = "MIIEowIBAAKCAQEAwJ2sYdZ9ExampleExampleExample"


def test_secrets_are_strings_with_masked_reprs():
    secrets = Secrets([PASSWORD, None, ""])
    secrets.append("another-one")
    secrets.extend([None, "third-secret"])
    assert list(secrets) == [PASSWORD, "another-one", "third-secret"]
    assert "x correct-horse-battery y".replace(secrets[0], "***") == "x *** y"
    for text in (repr(secrets), pprint.pformat(secrets), repr(list(secrets)), str(secrets)):
        assert PASSWORD not in text


def test_the_retry_policys_frame_holds_no_plain_secret():
    """What ``--showlocals`` prints: every local of the frame that raised."""

    def fail() -> None:
        raise ConnectionError(f"refused, password {PASSWORD}")

    policy = RetryPolicy(attempts=2, sleep=lambda _: None)
    with pytest.raises(InfrastructureError) as info:
        policy.call("nova.x", fail, classify=lambda e: Failure(True), secrets=[PASSWORD])
    assert PASSWORD not in str(info.value)
    frames = [entry.frame for entry in info.traceback]
    shown = [pprint.pformat(value) for frame in frames for value in frame.f_locals.values()]
    assert shown and not [text for text in shown if PASSWORD in text]


@pytest.mark.parametrize(
    "logged",
    [
        # keystoneauth's RESP BODY of POST /os-keypairs
        '{"keypair": {"name": "k", "private_key": "-----BEGIN RSA PRIVATE KEY-----\\n'
        + KEY_BODY
        + '\\n-----END RSA PRIVATE KEY-----\\n", "user_id": "u"}}',
        # botocore's body of CreateKeyPair, cut short by a log's truncation
        "b'<keyMaterial>-----BEGIN RSA PRIVATE KEY-----\\n" + KEY_BODY,
        # a Python repr of a resource, over several lines (pytest's --showlocals)
        "key = ('-----BEGIN OPENSSH PRIVATE KEY-----\\n'\n '"
        + KEY_BODY
        + "\\n'\n '-----END OPENSSH PRIVATE KEY-----\\n')",
        '{"server": {"adminPass": "' + KEY_BODY + '"}}',
        '{"credential": {"secret": "' + KEY_BODY + '"}}',
        "<SecretAccessKey>" + KEY_BODY + "</SecretAccessKey>",
        "Password=" + KEY_BODY + "&Action=Login",
        'headers {"X-Subject-Token": "' + KEY_BODY + '"}',
        "Keypair(name='k', private_key='" + KEY_BODY + "')",
    ],
)
def test_look_alike_credentials_are_masked_in_logged_bodies(logged):
    assert KEY_BODY not in mask_look_alikes(logged)
    assert KEY_BODY not in Redactor()(logged)


def test_ordinary_text_is_left_alone():
    text = '{"keypair": {"name": "k", "public_key": "ssh-rsa AAAA", "type": "ssh"}} 3 passed'
    assert mask_look_alikes(text) == text
    assert mask_look_alikes('{"token": {"methods": ["password"]}}') == (
        '{"token": {"methods": ["password"]}}'
    )
