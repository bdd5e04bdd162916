from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import paramiko
import pytest

from pytest_interop.errors import ConfigurationError
from pytest_interop.submission import signing
from tests.functional.submission.sample_runs import KEY_KINDS, write_private_key

MESSAGE = b"0123  report.json\n"


@pytest.fixture(scope="module", params=KEY_KINDS)
def key_path(request, tmp_path_factory) -> Path:
    return write_private_key(tmp_path_factory.mktemp(request.param) / "id", request.param)


def test_signature_verifies_and_names_the_signer(key_path):
    key = signing.load_private_key(key_path)
    armored = signing.sign(MESSAGE, key)
    assert armored.startswith(signing.ARMOR_BEGIN + "\n")
    assert armored.endswith(signing.ARMOR_END + "\n")
    signer = signing.verify(MESSAGE, armored)
    expected = signing.PublicKey.from_path(f"{key_path}.pub")
    assert signer.blob == expected.blob
    assert signer.fingerprint == expected.fingerprint


def test_rsa_signs_with_sha512(key_path):
    parsed = signing.parse_signature(signing.sign(MESSAGE, signing.load_private_key(key_path)))
    assert parsed.hash_algorithm == "sha512"
    if parsed.public_key.key_type == "ssh-rsa":
        assert parsed.algorithm == "rsa-sha2-512"
    else:
        assert parsed.algorithm == parsed.public_key.key_type


def test_a_changed_message_does_not_verify(key_path):
    armored = signing.sign(MESSAGE, signing.load_private_key(key_path))
    with pytest.raises(signing.SignatureError, match="does not match"):
        signing.verify(MESSAGE + b"x", armored)


@pytest.mark.skipif(shutil.which("ssh-keygen") is None, reason="OpenSSH's ssh-keygen is absent")
def test_openssh_accepts_the_signature(key_path, tmp_path):
    """The format is OpenSSH's own: `ssh-keygen -Y check-novalidate` checks it too."""
    signature = tmp_path / "MANIFEST.sig"
    signature.write_text(signing.sign(MESSAGE, signing.load_private_key(key_path)))
    checked = subprocess.run(
        ["ssh-keygen", "-Y", "check-novalidate", "-n", signing.NAMESPACE, "-s", str(signature)],
        input=MESSAGE,
        capture_output=True,
        check=False,
        timeout=30,
    )
    assert checked.returncode == 0, checked.stderr
    public = signing.PublicKey.from_path(f"{key_path}.pub")
    assert public.fingerprint in checked.stdout.decode()


def _reencode(parsed: signing.ParsedSignature, **changes) -> str:
    import base64

    fields = {
        "key": parsed.public_key.blob,
        "namespace": parsed.namespace.encode(),
        "hash": parsed.hash_algorithm.encode(),
        "signature": parsed.signature,
    } | changes
    blob = (
        signing.MAGIC
        + (1).to_bytes(4, "big")
        + signing._string(fields["key"])
        + signing._string(fields["namespace"])
        + signing._string(b"")
        + signing._string(fields["hash"])
        + signing._string(fields["signature"])
    )
    return f"{signing.ARMOR_BEGIN}\n{base64.b64encode(blob).decode()}\n{signing.ARMOR_END}\n"


def test_another_namespace_is_refused(tmp_path):
    key = signing.load_private_key(write_private_key(tmp_path / "k", "ed25519"))
    parsed = signing.parse_signature(signing.sign(MESSAGE, key))
    with pytest.raises(signing.SignatureError, match="namespace"):
        signing.verify(MESSAGE, _reencode(parsed, namespace=b"file"))


def test_sha1_rsa_signatures_are_refused(tmp_path):
    key = signing.load_private_key(write_private_key(tmp_path / "k", "rsa"))
    parsed = signing.parse_signature(signing.sign(MESSAGE, key))
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding

    raw = key.key.sign(signing.signed_data(MESSAGE), padding.PKCS1v15(), hashes.SHA1())
    sha1 = signing._string(b"ssh-rsa") + signing._string(raw)
    assert paramiko.Message(sha1).get_text() == "ssh-rsa"
    with pytest.raises(signing.SignatureError, match="not accepted"):
        signing.verify(MESSAGE, _reencode(parsed, signature=sha1))


def test_a_signature_made_by_one_key_but_claiming_another_fails(tmp_path):
    one = signing.load_private_key(write_private_key(tmp_path / "one", "ed25519"))
    other = signing.load_private_key(write_private_key(tmp_path / "other", "ed25519"))
    parsed = signing.parse_signature(signing.sign(MESSAGE, one))
    with pytest.raises(signing.SignatureError):
        signing.verify(MESSAGE, _reencode(parsed, key=other.asbytes()))


@pytest.mark.parametrize(
    "text",
    ["", "hello", f"{signing.ARMOR_BEGIN}\n!!!\n{signing.ARMOR_END}",
     f"{signing.ARMOR_BEGIN}\nU1NIU0lHAAAAAQ==\n{signing.ARMOR_END}"],
)  # fmt: skip
def test_garbage_signatures_are_reported_not_raised(text):
    with pytest.raises(signing.SignatureError):
        signing.verify(MESSAGE, text)


def test_public_key_line_round_trip_and_mismatched_type(tmp_path):
    path = write_private_key(tmp_path / "k", "ecdsa")
    public = signing.PublicKey.from_path(f"{path}.pub")
    assert public.key_type == "ecdsa-sha2-nistp256"
    assert signing.PublicKey.parse(public.openssh_line()) == public
    _, data = public.openssh_line().split()[:2]
    with pytest.raises(signing.SignatureError, match="does not match"):
        signing.PublicKey.parse(f"ssh-ed25519 {data}")


def test_unreadable_key_is_a_configuration_error_without_key_material(tmp_path):
    path = tmp_path / "broken"
    path.write_text("-----BEGIN OPENSSH PRIVATE KEY-----\nc2VjcmV0LW1hdGVyaWFs\n")
    with pytest.raises(ConfigurationError) as failure:
        signing.load_private_key(path)
    assert "c2VjcmV0" not in str(failure.value)
    with pytest.raises(ConfigurationError, match="no such file"):
        signing.load_private_key(tmp_path / "absent")
