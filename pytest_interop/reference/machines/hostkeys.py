"""Per-machine SSH host keys, as cloud-init generates them at first boot, and their fingerprints."""

from __future__ import annotations

import base64
import hashlib
import io
from dataclasses import dataclass

import paramiko
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519


@dataclass(frozen=True)
class HostKey:
    """One host key: the paramiko key the server signs with, and how cloud-init prints it."""

    key: paramiko.PKey
    label: str  # the type in the fingerprint line: ED25519, ECDSA, RSA
    bits: int

    @property
    def public_line(self) -> str:
        return f"{self.key.get_name()} {self.key.get_base64()}"

    @property
    def sha256_fingerprint(self) -> str:
        return sha256_fingerprint(self.key.asbytes())

    def __repr__(self) -> str:  # never show key material
        return f"HostKey({self.label}, {self.sha256_fingerprint})"


def sha256_fingerprint(public_blob: bytes) -> str:
    """The fingerprint `ssh-keygen -l` prints: SHA256, base64 without padding."""
    digest = hashlib.sha256(public_blob).digest()
    return "SHA256:" + base64.b64encode(digest).decode("ascii").rstrip("=")


def _ed25519_key() -> paramiko.PKey:
    # paramiko cannot generate ed25519 keys; cryptography can, and paramiko loads its OpenSSH form.
    private = ed25519.Ed25519PrivateKey.generate()
    text = private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.OpenSSH,
        serialization.NoEncryption(),
    ).decode("ascii")
    return paramiko.Ed25519Key.from_private_key(io.StringIO(text))


def _ecdsa_key() -> paramiko.PKey:
    private = ec.generate_private_key(ec.SECP256R1())
    text = private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.OpenSSH,
        serialization.NoEncryption(),
    ).decode("ascii")
    return paramiko.ECDSAKey.from_private_key(io.StringIO(text))


def generate_host_keys() -> list[HostKey]:
    """ECDSA and ED25519 host keys (RSA is left out: generating it costs tens of ms per boot)."""
    return [HostKey(_ecdsa_key(), "ECDSA", 256), HostKey(_ed25519_key(), "ED25519", 256)]
