"""Taking in one uploaded bundle: unpack it safely, verify it, check its key, store it.

The bundle travels as a gzip-compressed tar of the bundle directory. It is unpacked into a
temporary directory and checked by :func:`verify_submission`, the code behind
``interop submission verify``; only a bundle that passes every check, is signed by a
registered key that is not revoked, and was not stored before is written, in one
transaction. Anything else raises :class:`Refused` and leaves the database as it was.
"""

from __future__ import annotations

import hashlib
import io
import json
import tarfile
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import Any

import yaml
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from pytest_interop.results.models import (
    CapabilityResult,
    CloudResult,
    Finding,
    Product,
    SigningKey,
    Submission,
    TestResult,
)
from pytest_interop.submission.bundle import PRODUCT_NAME, REPORT_NAME
from pytest_interop.submission.manifest import MANIFEST_NAME, SIGNATURE_NAME
from pytest_interop.submission.verify import verify_submission

MAX_MEMBERS = 2000
MESSAGE_LIMIT = 2000  # characters of a failure message kept per test


@dataclass
class Refused(Exception):
    """An upload the service does not store: the HTTP status, one reason, and details."""

    status: int
    reason: str
    details: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        return self.reason

    def as_dict(self) -> dict[str, Any]:
        return {"error": self.reason, "details": self.details}


@dataclass(frozen=True)
class IntakePolicy:
    max_unpacked_bytes: int
    guideline_dirs: Sequence[str] = ()
    # Trust on first use: an unknown key is registered to the vendor its bundle declares.
    open_registration: bool = False


def _safe_member(member: tarfile.TarInfo) -> str:
    name = member.name.removeprefix("./")
    pure = PurePosixPath(name)
    if not name or pure.is_absolute() or ".." in pure.parts or "\\" in name:
        raise Refused(400, f"the bundle archive holds an unsafe path {member.name!r}")
    if not (member.isfile() or member.isdir()):
        raise Refused(400, f"the bundle archive holds {member.name!r}, which is not a file")
    return name


def unpack(data: bytes, into: Path, max_unpacked_bytes: int) -> None:
    """Unpack a tar.gz bundle into ``into``; Refused for anything that is not one."""
    if not data:
        raise Refused(400, "the upload is empty: send the bundle as a tar.gz archive")
    total = 0
    count = 0
    try:
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as archive:
            for member in archive:
                count += 1
                if count > MAX_MEMBERS:
                    raise Refused(400, f"the bundle archive holds more than {MAX_MEMBERS} entries")
                name = _safe_member(member)
                target = into / name
                if member.isdir():
                    target.mkdir(parents=True, exist_ok=True)
                    continue
                total += member.size
                if total > max_unpacked_bytes:
                    raise Refused(
                        413, f"the bundle unpacks to more than {max_unpacked_bytes} bytes"
                    )
                target.parent.mkdir(parents=True, exist_ok=True)
                source = archive.extractfile(member)
                assert source is not None  # a regular file
                target.write_bytes(source.read())
    except Refused:
        raise
    except (tarfile.TarError, EOFError, OSError, ValueError) as exc:
        raise Refused(
            400,
            "the upload is not a whole tar.gz bundle (truncated or another format): "
            f"{type(exc).__name__}: {exc}",
        ) from None
    if count == 0:
        raise Refused(400, "the bundle archive is empty")


def _root(unpacked: Path) -> Path:
    """The bundle directory: the archive's top, or its one top-level directory."""
    if (unpacked / MANIFEST_NAME).exists():
        return unpacked
    entries = list(unpacked.iterdir())
    if len(entries) == 1 and entries[0].is_dir() and (entries[0] / MANIFEST_NAME).exists():
        return entries[0]
    return unpacked


def _time(value: Any) -> datetime | None:
    try:
        parsed = datetime.fromisoformat(str(value))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def cloud_kind(identity: dict[str, Any]) -> str:
    return str(identity.get("provider") or "unknown")


def is_reference(name: str, identity: dict[str, Any]) -> bool:
    return "reference_profile" in identity or name.startswith("reference")


def _key(session: Session, fingerprint: str, bundle: Path, vendor: str, policy: IntakePolicy):
    key = session.scalar(select(SigningKey).where(SigningKey.fingerprint == fingerprint))
    if key is None:
        if not policy.open_registration:
            raise Refused(
                403,
                f"signing key {fingerprint} is not registered: a reviewer registers it "
                "(POST /api/v1/keys or `interop results keys add`)",
            )
        key = SigningKey(
            fingerprint=fingerprint,
            public_key=(bundle / "signer.pub").read_text(encoding="utf-8").strip(),
            vendor=vendor,
            registered_at=datetime.now(UTC),
        )
        session.add(key)
    if key.revoked:
        raise Refused(403, f"signing key {fingerprint} was revoked: {key.revoked_reason or ''}")
    if key.vendor != vendor:
        raise Refused(
            403,
            f"signing key {fingerprint} is registered to vendor {key.vendor!r}, "
            f"the bundle declares vendor {vendor!r}",
        )
    return key


def _store(
    session: Session, bundle: Path, key: SigningKey, verdicts: dict[str, str], size: int
) -> Submission:
    report = json.loads((bundle / REPORT_NAME).read_text(encoding="utf-8"))
    declaration = yaml.safe_load((bundle / PRODUCT_NAME).read_text(encoding="utf-8"))
    manifest = (bundle / MANIFEST_NAME).read_text(encoding="utf-8")
    product = session.scalar(
        select(Product).where(
            Product.vendor == declaration["vendor"], Product.name == declaration["product"]
        )
    )
    if product is None:
        product = Product(
            vendor=declaration["vendor"], name=declaration["product"], kind=declaration["kind"]
        )
        session.add(product)
    submission = Submission(
        manifest_sha256=hashlib.sha256(manifest.encode("utf-8")).hexdigest(),
        run_id=str(report["run_id"]),
        product=product,
        key=key,
        product_version=str(declaration.get("version")),
        received_at=datetime.now(UTC),
        run_started=_time(report.get("started")),
        run_finished=_time(report.get("finished")),
        tool_version=str(report["tool"].get("version")),
        target=report["target"],
        guidelines=[g["id"] for g in report["guidelines"]],
        declaration=declaration,
        manifest=manifest,
        signature=(bundle / SIGNATURE_NAME).read_text(encoding="utf-8"),
        size_bytes=size,
        revoked=False,
    )
    for cloud in report["clouds"]:
        identity = cloud.get("identity") or {}
        row = CloudResult(
            cloud=cloud["name"],
            kind=cloud_kind(identity),
            reference=is_reference(cloud["name"], identity),
            verdict=verdicts[cloud["name"]],  # recomputed; verification made sure they agree
            required_passed=cloud["required"]["passed"],
            required_total=cloud["required"]["total"],
            advisory_passed=cloud["advisory"]["passed"],
            advisory_total=cloud["advisory"]["total"],
        )
        for capability in cloud["capabilities"]:
            row.capabilities.append(
                CapabilityResult(
                    guideline=capability["guideline"],
                    capability=capability["name"],
                    status=capability["status"],
                    counted=bool(capability["counted"]),
                    result=capability["result"],
                )
            )
            for test in capability["tests"]:
                row.tests.append(
                    TestResult(
                        guideline=capability["guideline"],
                        capability=capability["name"],
                        name=test["name"],
                        idempotent_id=test.get("idempotent_id"),
                        result=test["result"],
                        flagged=bool(test.get("flagged")),
                        duration=test.get("duration"),
                        message=(test.get("message") or "")[:MESSAGE_LIMIT],
                    )
                )
                for name, value in (test.get("findings") or {}).items():
                    row.findings.append(Finding(test=test["name"], key=name, value=value))
        submission.clouds.append(row)
    session.add(submission)
    return submission


def _earlier(session: Session, digest: str, run_id: str) -> Submission | None:
    return session.scalar(
        select(Submission).where(
            (Submission.manifest_sha256 == digest) | (Submission.run_id == run_id)
        )
    )


def take(session: Session, data: bytes, policy: IntakePolicy) -> Submission:
    """Verify and store one uploaded bundle (committing), or raise Refused (storing nothing)."""
    with tempfile.TemporaryDirectory(prefix="interop-upload-") as workdir:
        unpack(data, Path(workdir), policy.max_unpacked_bytes)
        bundle = _root(Path(workdir))
        result = verify_submission(bundle, guideline_dirs=policy.guideline_dirs)
        if not result.ok:
            details = [
                f"{check.name}: {detail}"
                for check in result.checks
                if not check.ok
                for detail in check.details
            ]
            unsigned = (
                any(c.name == "signature" and not c.ok for c in result.checks)
                and not result.signer_fingerprint
            )
            reason = (
                "the bundle is not signed (or its signature does not verify)"
                if unsigned
                else "the bundle does not verify"
            )
            raise Refused(422, f"{reason}: {details[0] if details else 'no checks ran'}", details)
        assert result.signer_fingerprint is not None
        manifest = (bundle / MANIFEST_NAME).read_bytes()
        digest = hashlib.sha256(manifest).hexdigest()
        report_run = str(json.loads((bundle / REPORT_NAME).read_text(encoding="utf-8"))["run_id"])
        vendor = yaml.safe_load((bundle / PRODUCT_NAME).read_text(encoding="utf-8"))["vendor"]
        try:
            # the key first: a revoked or unknown key is refused whatever it signed
            key = _key(session, result.signer_fingerprint, bundle, vendor, policy)
            earlier = _earlier(session, digest, report_run)
            if earlier is not None:
                raise Refused(
                    409,
                    f"replayed submission: run {report_run} was stored already as submission "
                    f"{earlier.id}",
                )
            submission = _store(session, bundle, key, result.verdicts, len(data))
            session.commit()
        except IntegrityError:
            session.rollback()
            if _earlier(session, digest, report_run) is None:
                raise
            # a concurrent upload of the same bundle won the race
            raise Refused(
                409, f"replayed submission: run {report_run} was stored already"
            ) from None
        except BaseException:
            session.rollback()
            raise
        return submission
