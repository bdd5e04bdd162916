"""compute-keypairs-create-type: key pairs of type ``ssh`` and ``x509`` (Nova 2.2 and later).

A key pair's type says what it is for: an ``ssh`` key logs into Linux guests, an ``x509``
certificate is what Windows guests encrypt their password with. The ssh test reads back the
key pair the run's shared server was booted with (``shared_node`` logs in with it) and checks
that Nova calls it ``ssh``; the x509 test imports a certificate and checks it reads back as
that very certificate, fingerprinted as one, and that neither kind is accepted as the other.
An OpenStack API capability: EC2 key pairs are SSH keys only (no type to choose).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from pytest_interop.clouds.base import Cloud
from pytest_interop.errors import NotApplicable

TYPED = "2.2"  # the first Nova microversion with key pair types


@pytest.fixture
def os_conn(cloud: Cloud) -> Any:
    """Nova's key pairs; not applicable elsewhere, with the reason."""
    if cloud.provider != "openstack":
        raise NotApplicable(
            f"{cloud.name} is {cloud.provider}: its key pairs are SSH keys only (rsa, ed25519), "
            "with no x509 type to choose; key pair types are Nova's (microversion 2.2)"
        )
    return cloud.native


def _get(os_conn: Any, name: str) -> dict[str, Any]:
    answer = os_conn.compute.get(f"/os-keypairs/{name}", microversion=TYPED, raise_exc=False)
    assert answer.status_code == 200, f"GET key pair {name} answered {answer.status_code}"
    return answer.json()["keypair"]


def _import(os_conn: Any, cloud: Cloud, public_key: str, key_type: str) -> tuple[int, str]:
    """Import through Nova 2.2 with an explicit type; (status, name). Tracked for clean-up."""
    name = cloud.resource_name("keypair")
    record = cloud.track_intent("keypair", name)
    answer = os_conn.compute.post(
        "/os-keypairs",
        json={"keypair": {"name": name, "type": key_type, "public_key": public_key}},
        microversion=TYPED,
        raise_exc=False,
    )
    if answer.status_code in (200, 201):
        cloud.track_created(record, name)
    return answer.status_code, name


def _certificate() -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "pytest-interop")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    return cert.public_bytes(serialization.Encoding.PEM).decode()


@pytest.mark.idempotent_id("c344df74-4260-497e-bffe-95a8c055e578")
def test_ssh_type_key_pair_is_an_openssh_key_of_that_type(
    os_conn: Any, cloud: Cloud, shared_keypair: Any, shared_node: Any
) -> None:
    keypair = shared_keypair
    assert shared_node.run(["true"]).ok, "the shared server did not take its key pair's key"
    listed = _get(os_conn, keypair.name)
    assert listed.get("type") == "ssh", f"the login key pair is of type {listed.get('type')!r}"
    serialization.load_ssh_public_key(listed["public_key"].encode())  # an OpenSSH key
    # A certificate is not an SSH key: imported as type ssh it is refused.
    status, _name = _import(os_conn, cloud, _certificate(), "ssh")
    assert status == 400, f"a certificate imported as an ssh key pair answered {status}"


@pytest.mark.idempotent_id("11933cc4-8bd8-4265-9623-3bd92fde8671")
def test_x509_type_key_pair_holds_its_certificate(os_conn: Any, cloud: Cloud, keypair: Any) -> None:
    pem = _certificate()
    status, name = _import(os_conn, cloud, pem, "x509")
    assert status in (200, 201), f"importing an x509 key pair answered {status}"
    try:
        shown = _get(os_conn, name)
        assert shown.get("type") == "x509", f"the certificate reads back as {shown.get('type')!r}"
        cert = x509.load_pem_x509_certificate(shown["public_key"].encode())
        original = x509.load_pem_x509_certificate(pem.encode())
        assert cert == original, "the key pair holds another certificate than the one imported"
        sha1 = ":".join(f"{b:02x}" for b in original.fingerprint(hashes.SHA1()))
        assert shown["fingerprint"].lower() == sha1, "the fingerprint is not the certificate's"
        listing = os_conn.compute.get("/os-keypairs", microversion=TYPED).json()["keypairs"]
        types = {k["keypair"]["name"]: k["keypair"].get("type") for k in listing}
        assert types.get(name) == "x509" and types.get(keypair.name) == "ssh", (
            f"the listing shows types {types.get(name)!r} and {types.get(keypair.name)!r}"
        )
    finally:
        os_conn.compute.delete(f"/os-keypairs/{name}", microversion=TYPED, raise_exc=False)
        cloud.track_deleted("keypair", name)
    # An SSH key is not a certificate: imported as type x509 it is refused.
    status, _name = _import(os_conn, cloud, keypair.public_key, "x509")
    assert status == 400, f"an ssh key imported as an x509 key pair answered {status}"
