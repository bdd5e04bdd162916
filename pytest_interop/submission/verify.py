"""Checking a submission bundle: digests, signature, guidelines, and every verdict recomputed.

A reviewer trusts what this module recomputes from the raw outcomes, never the summary the
submitter wrote: a bundle whose summary was edited and re-signed still fails here.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pytest_interop import compliance, partial
from pytest_interop.documents import loads_json
from pytest_interop.errors import GuidelineError
from pytest_interop.guideline.loading import available_guidelines, load_guideline
from pytest_interop.guideline.model import Guideline
from pytest_interop.report.json_report import validate_report
from pytest_interop.report.merge import merged_lines, merged_problems
from pytest_interop.submission import signing
from pytest_interop.submission.bundle import (
    DEFAULT_GUIDELINE_DIRS,
    PRODUCT_NAME,
    REPORT_NAME,
    SIGNER_NAME,
    bundled_guideline_name,
)
from pytest_interop.submission.manifest import (
    MANIFEST_NAME,
    SIGNATURE_NAME,
    ManifestError,
    check_digests,
    parse_manifest,
)
from pytest_interop.submission.product import parse_product


@dataclass
class Check:
    """One thing verification looked at: what, whether it holds, and the details."""

    name: str
    ok: bool
    details: list[str] = field(default_factory=list)


@dataclass
class VerifyResult:
    bundle: Path
    checks: list[Check] = field(default_factory=list)
    signer_fingerprint: str | None = None
    verdicts: dict[str, str] = field(default_factory=dict)  # cloud -> recomputed verdict

    @property
    def ok(self) -> bool:
        return bool(self.checks) and all(c.ok for c in self.checks)

    def add(self, name: str, problems: Sequence[str], good: Sequence[str] = ()) -> bool:
        self.checks.append(Check(name, not problems, list(problems) or list(good)))
        return not problems

    def lines(self) -> list[str]:
        out = [f"submission {self.bundle}"]
        for check in self.checks:
            out.append(f"  {'ok  ' if check.ok else 'FAIL'}  {check.name}")
            out.extend(f"        {detail}" for detail in check.details)
        out.append(
            "verified: every check holds" if self.ok else "NOT VERIFIED: see FAIL lines above"
        )
        return out


# --------------------------------------------------------------------------- recomputation


def _capability_key(capability: Mapping[str, Any]) -> tuple[str, str]:
    return capability["guideline"], capability["name"]


def compare_verdicts(
    report: Mapping[str, Any], guidelines: Sequence[Guideline]
) -> tuple[list[str], dict[str, str]]:
    """Recompute every cloud's verdict from the report's raw outcomes and compare.

    Returns (differences, cloud -> recomputed verdict).
    """
    try:
        selections = compliance.select(guidelines, report["target"])
    except KeyError:
        return [f"target {report['target']!r} is not in the bundled guidelines"], {}
    clouds = [c["name"] for c in report["clouds"]]
    outcomes = [compliance.TestOutcome.from_dict(o) for o in report["outcomes"]]
    recomputed = partial.evaluate(
        selections,
        clouds,
        outcomes,
        report["selection"]["missing"],
        report["selection"].get("deselected"),
    )
    differences = [
        f"outcome {o.nodeid} names cloud {o.cloud!r}, which the report does not list"
        for o in outcomes
        if o.cloud not in clouds
    ]
    verdicts: dict[str, str] = {}
    for claimed, fresh in zip(report["clouds"], recomputed, strict=True):
        name = claimed["name"]
        verdicts[name] = fresh.verdict
        where = f"cloud {name}"
        if claimed["verdict"] != fresh.verdict:
            differences.append(
                f"{where}: report says {claimed['verdict']!r}, recomputed {fresh.verdict!r}"
            )
        for label, counted in (("required", True), ("advisory", False)):
            passed, total = fresh.tally(counted=counted)
            said = claimed[label]
            if (said["passed"], said["total"]) != (passed, total):
                differences.append(
                    f"{where}: report says {label} {said['passed']}/{said['total']} passed, "
                    f"recomputed {passed}/{total}"
                )
        fresh_caps = {(c.guideline, c.name): c for c in fresh.capabilities}
        claimed_caps = {_capability_key(c): c for c in claimed["capabilities"]}
        for key in sorted(set(claimed_caps) - set(fresh_caps)):
            differences.append(f"{where}: capability {key[1]} is not in the guideline's target")
        for key in sorted(set(fresh_caps) - set(claimed_caps)):
            differences.append(f"{where}: capability {key[1]} is left out of the report")
        for key in sorted(set(fresh_caps) & set(claimed_caps)):
            said, got = claimed_caps[key], fresh_caps[key]
            for attribute, expected in (
                ("status", got.status),
                ("counted", got.counted),
                ("result", got.result),
            ):
                if said[attribute] != expected:
                    differences.append(
                        f"{where}: capability {key[1]} {attribute}: report says "
                        f"{said[attribute]!r}, recomputed {expected!r}"
                    )
            claimed_tests = {t["name"]: t for t in said["tests"]}
            for test in got.tests:
                said_test = claimed_tests.get(test.name)
                if said_test is None:
                    differences.append(f"{where}: test {test.name} is left out of the report")
                elif said_test["result"] != test.result:
                    differences.append(
                        f"{where}: test {test.name}: report says {said_test['result']!r}, "
                        f"recomputed {test.result!r}"
                    )
                elif bool(said_test["flagged"]) != (test.flagged is not None):
                    differences.append(f"{where}: test {test.name}: flag differs from guideline")
    return differences, verdicts


# --------------------------------------------------------------------------- the checks


def _check_manifest_and_signature(
    bundle: Path, result: VerifyResult, expected_key: signing.PublicKey | None
) -> None:
    manifest_path = bundle / MANIFEST_NAME
    signature_path = bundle / SIGNATURE_NAME
    try:
        manifest_bytes = manifest_path.read_bytes()
        listed = parse_manifest(manifest_bytes.decode("utf-8"))
    except FileNotFoundError:
        result.add("digests", [f"{MANIFEST_NAME}: missing"])
        result.add("signature", [f"{MANIFEST_NAME}: missing, nothing to check"])
        return
    except (ManifestError, UnicodeDecodeError) as exc:
        listed = None
        result.add("digests", [f"{MANIFEST_NAME}: {exc}"])
    if listed is not None:
        digests = check_digests(bundle, listed)
        result.add("digests", digests.problems(), [f"{len(listed)} files match {MANIFEST_NAME}"])

    problems: list[str] = []
    good: list[str] = []
    try:
        signer = signing.verify(manifest_bytes, signature_path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        problems.append(f"{SIGNATURE_NAME}: missing")
        signer = None
    except (signing.SignatureError, UnicodeDecodeError) as exc:
        problems.append(f"{SIGNATURE_NAME} does not verify over {MANIFEST_NAME}: {exc}")
        signer = None
    if signer is not None:
        result.signer_fingerprint = signer.fingerprint
        good.append(f"{MANIFEST_NAME} signed by {signer.key_type} key {signer.fingerprint}")
        try:
            bundled = signing.PublicKey.parse(
                (bundle / SIGNER_NAME).read_text(encoding="utf-8"), SIGNER_NAME
            )
            if bundled.blob != signer.blob:
                problems.append(f"{SIGNER_NAME}: is not the key that signed {MANIFEST_NAME}")
        except (OSError, UnicodeDecodeError, signing.SignatureError) as exc:
            problems.append(f"{SIGNER_NAME}: {exc}")
        if expected_key is not None:
            if expected_key.blob != signer.blob:
                problems.append(
                    f"signed by {signer.fingerprint}, not by the given key "
                    f"{expected_key.fingerprint}"
                )
            else:
                good.append(f"the signer is the given key {expected_key.fingerprint}")
        else:
            good.append("no --key given: the signer's identity was not checked")
    result.add("signature", problems, good)


def _load_json(path: Path) -> tuple[Any, str | None]:
    try:
        return loads_json(path.read_text(encoding="utf-8")), None
    except FileNotFoundError:
        return None, f"{path.name}: missing"
    except (ValueError, UnicodeDecodeError) as exc:
        return None, f"{path.name}: not valid JSON ({exc})"


def _check_guidelines(
    bundle: Path, report: Mapping[str, Any], guideline_dirs: Sequence[Path], result: VerifyResult
) -> list[Guideline] | None:
    published = available_guidelines(guideline_dirs)
    problems: list[str] = []
    good: list[str] = []
    loaded: list[Guideline] = []
    for entry in report["guidelines"]:
        try:
            name = bundled_guideline_name(entry["id"])
        except ValueError as exc:
            problems.append(f"{REPORT_NAME}: {exc}")
            continue
        path = bundle / name
        if not path.is_file():
            problems.append(f"{name}: missing (the report ran guideline {entry['id']})")
            continue
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        if digest != entry.get("sha256"):
            problems.append(f"{name}: sha256 differs from the one the report records")
        public = published.get(entry["id"])
        if public is None:
            searched = ", ".join(str(d) for d in guideline_dirs)
            problems.append(f"{name}: no published guideline {entry['id']} in {searched}")
        elif hashlib.sha256(public.read_bytes()).hexdigest() != digest:
            problems.append(f"{name}: differs from the published {public}")
        else:
            good.append(f"{name} is the published {public}")
        try:
            loaded.append(load_guideline(path))
        except GuidelineError as exc:
            problems.append(f"{name}: {exc}")
    result.add("guidelines", problems, good)
    return None if problems else loaded


def verify_submission(
    bundle_dir: str | os.PathLike[str],
    public_key_path: str | os.PathLike[str] | None = None,
    guideline_dirs: Sequence[str | os.PathLike[str]] = (),
) -> VerifyResult:
    """Check a bundle; ``result.ok`` only when every check holds. Never raises for a bad
    bundle: each problem is a FAIL detail naming the file. Raises ConfigurationError for an
    unreadable ``public_key_path``."""
    bundle = Path(bundle_dir)
    result = VerifyResult(bundle)
    expected = signing.PublicKey.from_path(public_key_path) if public_key_path else None
    if not bundle.is_dir():
        result.add("bundle", [f"{bundle} is not a directory"])
        return result
    dirs = [Path(d) for d in guideline_dirs] or [Path(d) for d in DEFAULT_GUIDELINE_DIRS]

    _check_manifest_and_signature(bundle, result, expected)

    product_path = bundle / PRODUCT_NAME
    if product_path.is_file():
        product, problems = parse_product(product_path.read_text(encoding="utf-8"), PRODUCT_NAME)
        described = f"{product.get('vendor')} {product.get('product')}" if product else ""
        result.add(
            "product declaration",
            [f"{PRODUCT_NAME}: {p}" for p in problems],
            [f"{described} {product.get('version') if product else ''}".strip()],
        )
    else:
        result.add("product declaration", [f"{PRODUCT_NAME}: missing"])

    report, error = _load_json(bundle / REPORT_NAME)
    if error is None:
        schema_problems = validate_report(report)
        result.add(
            "report",
            [f"{REPORT_NAME}: {p}" for p in schema_problems[:5]]
            + (["(more schema errors left out)"] if len(schema_problems) > 5 else [])
            + ([f"{REPORT_NAME}: the run was interrupted"] if report.get("interrupted") else [])
            + ([partial.partial_refusal(report, REPORT_NAME)] if report.get("partial") else [])
            + [f"{REPORT_NAME}: {p}" for p in ([] if schema_problems else merged_problems(report))],
            [
                f"{REPORT_NAME}: run {report.get('run_id')}, {len(report['outcomes'])} outcomes",
                *merged_lines(report),
            ]
            if not schema_problems
            else [],
        )
        if schema_problems:
            return result
    else:
        result.add("report", [error])
        return result

    guidelines = _check_guidelines(bundle, report, dirs, result)
    if guidelines is None:
        result.add("verdicts", ["not recomputed: the guidelines do not check out"])
        return result
    try:
        differences, verdicts = compare_verdicts(report, guidelines)
    except (KeyError, TypeError, ValueError) as exc:  # schema-valid, yet not recomputable
        differences, verdicts = [f"cannot recompute the verdicts: {type(exc).__name__}: {exc}"], {}
    result.verdicts = verdicts
    result.add(
        "verdicts",
        [f"{REPORT_NAME}: {d}" for d in differences],
        [
            f"{cloud}: {verdict} (recomputed from the raw outcomes)"
            for cloud, verdict in verdicts.items()
        ],
    )
    return result
