"""Signing a submission's MANIFEST with the vendor's SSH key, and checking the signature.

The signature is an OpenSSH "SSHSIG" signature (the format of ``ssh-keygen -Y sign``), so a
reviewer can check it with OpenSSH alone as well as with ``interop submission verify``. See
``docs/submission-format.md`` for the bytes that are signed.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

import paramiko

from pytest_interop.errors import ConfigurationError

NAMESPACE = "pytest-interop-submission"
HASH_ALGORITHM = "sha512"
MAGIC = b"SSHSIG"
SIG_VERSION = 1
ARMOR_BEGIN = "-----BEGIN SSH SIGNATURE-----"
ARMOR_END = "-----END SSH SIGNATURE-----"
ARMOR_LINE = 70
PASSPHRASE_ENV = "INTEROP_KEY_PASSPHRASE"
# RSA keys sign with SHA-512 (never SHA-1 ``ssh-rsa``); other key types have one algorithm.
RSA_SIGNATURE_ALGORITHMS = frozenset({"rsa-sha2-256", "rsa-sha2-512"})


class SignatureError(Exception):
    """A signature that cannot be read or does not verify; the text says why."""


@dataclass(frozen=True)
class PublicKey:
    """An SSH public key: its type, wire blob and an optional comment."""

    key_type: str
    blob: bytes
    comment: str = ""

    @property
    def fingerprint(self) -> str:
        """``SHA256:`` and the unpadded base64 of the blob's SHA-256, as ``ssh-keygen -l``."""
        digest = base64.b64encode(hashlib.sha256(self.blob).digest()).decode("ascii")
        return "SHA256:" + digest.rstrip("=")

    def openssh_line(self) -> str:
        line = f"{self.key_type} {base64.b64encode(self.blob).decode('ascii')}"
        return f"{line} {self.comment}".rstrip()

    def as_pkey(self) -> paramiko.PKey:
        return paramiko.PKey.from_type_string(self.key_type, self.blob)

    @classmethod
    def parse(cls, text: str, source: str = "public key") -> PublicKey:
        """Read an OpenSSH public key line (``ssh-ed25519 AAAA... comment``)."""
        parts = text.strip().split(None, 2)
        if len(parts) < 2:
            raise SignatureError(f"{source}: not an OpenSSH public key line")
        try:
            blob = base64.b64decode(parts[1], validate=True)
        except (binascii.Error, ValueError):
            raise SignatureError(f"{source}: the key is not valid base64") from None
        inner_type = paramiko.Message(blob).get_text() if len(blob) > 4 else ""
        if inner_type != parts[0]:
            raise SignatureError(f"{source}: key type {parts[0]} does not match its data")
        return cls(parts[0], blob, parts[2] if len(parts) > 2 else "")

    @classmethod
    def from_pkey(cls, key: paramiko.PKey, comment: str = "") -> PublicKey:
        return cls(key.get_name(), key.asbytes(), comment)

    @classmethod
    def from_path(cls, path: str | os.PathLike[str]) -> PublicKey:
        try:
            text = Path(path).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigurationError(f"cannot read public key {path}: {exc}") from None
        try:
            return cls.parse(text, str(path))
        except SignatureError as exc:
            raise ConfigurationError(str(exc)) from None


def load_private_key(path: str | os.PathLike[str]) -> paramiko.PKey:
    """The vendor's private key (Ed25519, ECDSA or RSA), decrypted with
    ``$INTEROP_KEY_PASSPHRASE`` when it is encrypted."""
    passphrase_text = os.environ.get(PASSPHRASE_ENV)
    # cryptography (under paramiko) reads OpenSSH-format passphrases as bytes only.
    passphrase = passphrase_text.encode("utf-8") if passphrase_text else None
    if not Path(path).is_file():
        raise ConfigurationError(f"--key {path}: no such file; pass the vendor's SSH private key")
    try:
        key = paramiko.PKey.from_path(path, passphrase)
    except (paramiko.PasswordRequiredException, TypeError) as exc:
        if isinstance(exc, TypeError) and "password" not in str(exc).lower():
            raise ConfigurationError(f"--key {path}: cannot read the private key") from None
        raise ConfigurationError(
            f"--key {path} is encrypted: set {PASSPHRASE_ENV} to its passphrase"
        ) from None
    except (paramiko.SSHException, ValueError, OSError) as exc:
        # The exception text never holds key material or the passphrase.
        raise ConfigurationError(
            f"--key {path}: cannot read the private key ({type(exc).__name__}); "
            f"use an OpenSSH or PEM Ed25519, ECDSA or RSA key, and check {PASSPHRASE_ENV}"
        ) from None
    if key.get_name() not in ("ssh-ed25519", "ssh-rsa") and not key.get_name().startswith(
        "ecdsa-sha2-"
    ):
        raise ConfigurationError(f"--key {path}: {key.get_name()} keys are not supported")
    return key


def _string(value: bytes) -> bytes:
    return len(value).to_bytes(4, "big") + value


def signed_data(message: bytes) -> bytes:
    """The bytes the key signs: SSHSIG's wrapper around the message's SHA-512."""
    digest = hashlib.new(HASH_ALGORITHM, message).digest()
    return (
        MAGIC
        + _string(NAMESPACE.encode())
        + _string(b"")  # reserved
        + _string(HASH_ALGORITHM.encode())
        + _string(digest)
    )


def sign(message: bytes, key: paramiko.PKey) -> str:
    """An armored SSHSIG signature of ``message`` by ``key``."""
    algorithm = "rsa-sha2-512" if key.get_name() == "ssh-rsa" else None
    signature = key.sign_ssh_data(signed_data(message), algorithm=algorithm).asbytes()
    blob = (
        MAGIC
        + SIG_VERSION.to_bytes(4, "big")
        + _string(key.asbytes())
        + _string(NAMESPACE.encode())
        + _string(b"")
        + _string(HASH_ALGORITHM.encode())
        + _string(signature)
    )
    encoded = base64.b64encode(blob).decode("ascii")
    lines = [encoded[i : i + ARMOR_LINE] for i in range(0, len(encoded), ARMOR_LINE)]
    return "\n".join([ARMOR_BEGIN, *lines, ARMOR_END]) + "\n"


@dataclass(frozen=True)
class ParsedSignature:
    public_key: PublicKey
    namespace: str
    hash_algorithm: str
    signature: bytes  # string(algorithm) + string(signature bytes)

    @property
    def algorithm(self) -> str:
        return paramiko.Message(self.signature).get_text()


def parse_signature(armored: str) -> ParsedSignature:
    text = armored.strip()
    if not (text.startswith(ARMOR_BEGIN) and text.endswith(ARMOR_END)):
        raise SignatureError("not an armored SSH signature")
    body = "".join(text[len(ARMOR_BEGIN) : -len(ARMOR_END)].split())
    try:
        blob = base64.b64decode(body, validate=True)
    except (binascii.Error, ValueError):
        raise SignatureError("the signature is not valid base64") from None
    if not blob.startswith(MAGIC):
        raise SignatureError("not an SSHSIG signature")
    message = paramiko.Message(blob[len(MAGIC) :])
    try:
        version = message.get_int()
        key_blob = message.get_binary()
        namespace = message.get_string().decode()
        message.get_binary()  # reserved
        hash_algorithm = message.get_string().decode()
        signature = message.get_binary()
        key_type = paramiko.Message(key_blob).get_text()
    except Exception:  # paramiko raises several types on truncated data
        raise SignatureError("the signature data is truncated or malformed") from None
    if version != SIG_VERSION:
        raise SignatureError(f"unsupported SSHSIG version {version}")
    return ParsedSignature(PublicKey(key_type, key_blob), namespace, hash_algorithm, signature)


def verify(message: bytes, armored: str) -> PublicKey:
    """Check an armored SSHSIG signature of ``message``; return the signer's public key.

    Raises SignatureError saying what does not hold.
    """
    parsed = parse_signature(armored)
    if parsed.namespace != NAMESPACE:
        raise SignatureError(f"signature namespace is {parsed.namespace!r}, not {NAMESPACE!r}")
    if parsed.hash_algorithm not in ("sha256", "sha512"):
        raise SignatureError(f"unsupported hash algorithm {parsed.hash_algorithm!r}")
    key_type = parsed.public_key.key_type
    try:
        algorithm = parsed.algorithm
    except Exception:
        raise SignatureError("the signature data is truncated or malformed") from None
    if key_type == "ssh-rsa":
        if algorithm not in RSA_SIGNATURE_ALGORITHMS:
            raise SignatureError(f"RSA signature algorithm {algorithm!r} is not accepted")
    elif algorithm != key_type:
        raise SignatureError(f"signature algorithm {algorithm!r} does not match key {key_type}")
    try:
        pkey = parsed.public_key.as_pkey()
    except Exception:
        raise SignatureError(f"cannot read the signer's {key_type} public key") from None
    digest = hashlib.new(parsed.hash_algorithm, message).digest()
    data = (
        MAGIC
        + _string(NAMESPACE.encode())
        + _string(b"")
        + _string(parsed.hash_algorithm.encode())
        + _string(digest)
    )
    try:
        valid = pkey.verify_ssh_sig(data, paramiko.Message(parsed.signature))
    except Exception:
        valid = False
    if not valid:
        raise SignatureError("the signature does not match the signed bytes")
    return parsed.public_key
