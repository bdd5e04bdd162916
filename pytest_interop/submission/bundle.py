"""Building a signed submission bundle from a finished run's report."""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from pytest_interop import shipped
from pytest_interop.errors import ConfigurationError
from pytest_interop.guideline.loading import available_guidelines
from pytest_interop.outputs import refuse_non_regular
from pytest_interop.partial import partial_refusal
from pytest_interop.redaction import MASK, Redactor
from pytest_interop.report.json_report import load_report, validate_report
from pytest_interop.submission import signing
from pytest_interop.submission.junit import junit_xml
from pytest_interop.submission.manifest import (
    MANIFEST_NAME,
    SIGNATURE_NAME,
    compute_digests,
    render_manifest,
)
from pytest_interop.submission.product import load_product

REPORT_NAME = "report.json"
JUNIT_NAME = "junit.xml"
PRODUCT_NAME = "product.yaml"
LOG_NAME = "run.log"
SIGNER_NAME = "signer.pub"
GUIDELINES_DIR = "guidelines"
# The published guidelines a bundle is checked against, unless a reviewer names others.
DEFAULT_GUIDELINE_DIRS: tuple[str, ...] = (str(shipped.GUIDELINES_DIR),)

# Secrets a log may carry even when the run's settings are not at hand.
_PRIVATE_KEY_BLOCK = re.compile(
    r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----.*?-----END [A-Z0-9 ]*PRIVATE KEY-----", re.DOTALL
)
_SECRET_HEADER = re.compile(
    r"(?P<name>X-Auth-Token|X-Subject-Token|X-Amz-Security-Token|Authorization)"
    r"(?P<sep>[\"']?\s*[:=]\s*[\"']?)(?P<value>[^\s\"',}]+(?: [^\s\"',}]+)?)",
    re.IGNORECASE,
)
_SECRET_ASSIGNMENT = re.compile(
    r"(?P<name>\b\w*(?:password|passwd|secret|token|passphrase|private_key|credential)\w*)"
    r"(?P<sep>[\"']?\s*[:=]\s*[\"']?)(?P<value>[^\s\"',}]{4,})",
    re.IGNORECASE,
)


def redact_log(text: str, redactor: Redactor | None = None) -> str:
    """Mask the run's known secret values, then anything that looks like a credential."""
    if redactor is not None:
        text = redactor(text)
    text = _PRIVATE_KEY_BLOCK.sub(MASK, text)
    text = _SECRET_HEADER.sub(lambda m: f"{m['name']}{m['sep']}{MASK}", text)
    return _SECRET_ASSIGNMENT.sub(lambda m: f"{m['name']}{m['sep']}{MASK}", text)


# A guideline id is a file name stem (``2017.01``, ``hybrid.2017.01``): never a path.
_GUIDELINE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


def bundled_guideline_name(guideline_id: str) -> str:
    """Where a guideline sits in a bundle; ValueError for an id that is not a plain name."""
    if not _GUIDELINE_ID.match(guideline_id) or ".." in guideline_id:
        raise ValueError(f"guideline id {guideline_id!r} is not a plain name")
    return f"{GUIDELINES_DIR}/{guideline_id}.json"


def published_guideline_files(
    report: Mapping[str, Any], guideline_dirs: Sequence[str | os.PathLike[str]]
) -> dict[str, Path]:
    """Guideline id -> the published file of that id whose sha256 the report records.

    Raises ConfigurationError when a guideline is not published in ``guideline_dirs`` or the
    published file differs from the one the run used.
    """
    dirs = [Path(d) for d in guideline_dirs] or [Path(d) for d in DEFAULT_GUIDELINE_DIRS]
    available = available_guidelines(dirs)
    chosen: dict[str, Path] = {}
    for entry in report["guidelines"]:
        try:
            bundled_guideline_name(entry["id"])
        except ValueError as exc:
            raise ConfigurationError(f"the report's {exc}") from None
        path = available.get(entry["id"])
        if path is None:
            searched = ", ".join(str(d) for d in dirs)
            raise ConfigurationError(
                f"guideline {entry['id']} of the report is not in {searched}; "
                "pass --guideline-dir with the directory that holds it"
            )
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        if digest != entry.get("sha256"):
            raise ConfigurationError(
                f"{path}: sha256 {digest[:12]}... differs from the {entry.get('sha256')!s:.12}... "
                f"the run used for guideline {entry['id']}; bundle the report with the guideline "
                "file it ran against"
            )
        chosen[entry["id"]] = path
    return chosen


def _read_report(report_path: str | os.PathLike[str]) -> tuple[dict[str, Any], bytes]:
    try:
        raw = Path(report_path).read_bytes()
        report = load_report(report_path)
    except (OSError, ValueError) as exc:
        raise ConfigurationError(f"report {report_path}: cannot read it ({exc})") from None
    problems = validate_report(report)
    if problems:
        raise ConfigurationError(f"report {report_path} is not a valid report: {problems[0]}")
    return report, raw


def _build(
    staging: Path,
    *,
    report_raw: bytes,
    report: Mapping[str, Any],
    guideline_files: Mapping[str, Path],
    product_text: str,
    junit_path: str | os.PathLike[str] | None,
    log_path: str | os.PathLike[str] | None,
    redactor: Redactor | None,
    key: Any,
) -> None:
    (staging / REPORT_NAME).write_bytes(report_raw)
    (staging / PRODUCT_NAME).write_text(product_text, encoding="utf-8")
    if junit_path is not None:
        shutil.copyfile(junit_path, staging / JUNIT_NAME)
    else:
        (staging / JUNIT_NAME).write_text(junit_xml(report), encoding="utf-8")
    (staging / GUIDELINES_DIR).mkdir()
    for guideline_id, path in guideline_files.items():
        shutil.copyfile(path, staging / bundled_guideline_name(guideline_id))
    if log_path is not None:
        text = Path(log_path).read_text(encoding="utf-8", errors="replace")
        (staging / LOG_NAME).write_text(redact_log(text, redactor), encoding="utf-8")
    public = signing.PublicKey.from_pkey(key, comment="pytest-interop submission signer")
    (staging / SIGNER_NAME).write_text(public.openssh_line() + "\n", encoding="utf-8")
    manifest = render_manifest(compute_digests(staging))
    (staging / MANIFEST_NAME).write_text(manifest, encoding="utf-8")
    (staging / SIGNATURE_NAME).write_text(
        signing.sign(manifest.encode("utf-8"), key), encoding="utf-8"
    )


def _replace_dir(staging: Path, out: Path) -> None:
    """Put ``staging`` at ``out``: readers see the old bundle or the whole new one."""
    if not out.exists():
        os.replace(staging, out)
        return
    if not out.is_dir():
        raise ConfigurationError(f"--out {out} exists and is not a directory")
    if any(out.iterdir()) and not (out / MANIFEST_NAME).is_file():
        raise ConfigurationError(
            f"--out {out} is a non-empty directory that is not a submission bundle; "
            "choose a new or empty directory"
        )
    old = Path(tempfile.mkdtemp(prefix=f".{out.name}.old.", dir=out.parent))
    os.replace(out, old / "bundle")
    try:
        os.replace(staging, out)
    except BaseException:
        os.replace(old / "bundle", out)
        raise
    finally:
        shutil.rmtree(old, ignore_errors=True)


def create_submission(
    report_path: str | os.PathLike[str],
    out_dir: str | os.PathLike[str],
    key_path: str | os.PathLike[str],
    product_path: str | os.PathLike[str],
    junit_path: str | os.PathLike[str] | None = None,
    log_path: str | os.PathLike[str] | None = None,
    guideline_dirs: Sequence[str | os.PathLike[str]] = (),
    redactor: Redactor | None = None,
) -> Path:
    """Write a signed submission bundle to ``out_dir`` and return its path.

    The bundle is built in a temporary directory beside ``out_dir`` and renamed into place.
    Raises ConfigurationError (one line, naming the file) for a bad report, product
    declaration, key, or a guideline that is not the published one.
    """
    out = Path(out_dir)
    report, report_raw = _read_report(report_path)
    refusal = partial_refusal(report, f"report {report_path}")
    if refusal is not None:
        raise ConfigurationError(refusal)
    product_text = load_product(product_path)
    guideline_files = published_guideline_files(report, guideline_dirs)
    key = signing.load_private_key(key_path)
    for given, option in ((junit_path, "--junit"), (log_path, "--log")):
        if given is not None and not Path(given).exists():
            raise ConfigurationError(f"{option} {given}: no such file")
        if given is not None:
            refuse_non_regular(given, option)  # a FIFO would block, a device never end
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.new.", dir=out.parent))
    try:
        _build(
            staging,
            report_raw=report_raw,
            report=report,
            guideline_files=guideline_files,
            product_text=product_text,
            junit_path=junit_path,
            log_path=log_path,
            redactor=redactor,
            key=key,
        )
        staging.chmod(0o755)
        _replace_dir(staging, out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return out
