"""``interop submission create | verify | export-refstack | product-template``."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import yaml

from pytest_interop.documents import load_yaml
from pytest_interop.errors import ConfigurationError
from pytest_interop.redaction import Redactor
from pytest_interop.report.json_report import load_report
from pytest_interop.report.refstack import write_refstack
from pytest_interop.submission.bundle import REPORT_NAME, create_submission
from pytest_interop.submission.product import PRODUCT_TEMPLATE
from pytest_interop.submission.signing import PASSPHRASE_ENV
from pytest_interop.submission.verify import verify_submission

VERIFIED, NOT_VERIFIED = 0, 1


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "submission",
        help="bundle, sign and verify certification submissions",
        description="Bundle, sign and verify certification submissions "
        "(format: docs/submission-format.md).",
    )
    commands = parser.add_subparsers(dest="submission_command", metavar="ACTION", required=True)

    create = commands.add_parser(
        "create",
        help="write a signed submission bundle from a report",
        description="Write a signed bundle: report, JUnit XML, guideline files, product "
        f"declaration, redacted log, MANIFEST and its signature. An encrypted key is "
        f"decrypted with ${PASSPHRASE_ENV}.",
    )
    create.add_argument("report", metavar="REPORT.json")
    create.add_argument("--out", required=True, metavar="DIR", help="the bundle directory")
    create.add_argument("--key", required=True, metavar="KEY", help="SSH private key to sign")
    create.add_argument(
        "--product",
        required=True,
        metavar="product.yaml",
        help="the product declaration (`interop submission product-template` prints one)",
    )
    create.add_argument("--junit", metavar="JUNIT.xml", help="pytest's JUnit XML of the run")
    create.add_argument("--log", metavar="RUN.log", help="the run log; secrets are masked")
    create.add_argument(
        "--secrets-from",
        action="append",
        default=[],
        metavar="FILE",
        help="YAML/JSON settings (clouds.yaml, secure.yaml) whose secret values to mask in the log",
    )
    create.add_argument(
        "--guideline-dir", action="append", default=[], metavar="DIR", dest="guideline_dirs"
    )
    create.set_defaults(func=run_create)

    verify = commands.add_parser(
        "verify",
        help="check a bundle's digests, signature, guidelines and recomputed verdicts",
        description="Exit 0 only when every check holds, 1 otherwise.",
    )
    verify.add_argument("bundle", metavar="DIR")
    verify.add_argument("--key", metavar="PUB.pub", help="the public key that must have signed")
    verify.add_argument(
        "--guideline-dir",
        action="append",
        default=[],
        metavar="DIR",
        dest="guideline_dirs",
        help="where the published guidelines are (default: ./guidelines)",
    )
    verify.set_defaults(func=run_verify)

    export = commands.add_parser(
        "export-refstack",
        help="write RefStack's upload format (passed tests of one cloud)",
    )
    export.add_argument("source", metavar="REPORT.json|DIR")
    export.add_argument("--out", required=True, metavar="FILE")
    export.add_argument("--cloud", metavar="NAME", help="needed when the report has several")
    export.add_argument("--cpid", metavar="ID", help="cloud provider id (Keystone service id)")
    export.set_defaults(func=run_export_refstack)

    upload = commands.add_parser(
        "upload",
        help="send a bundle to a results service (`interop results serve`)",
        description="Exit 0 when the service verified and stored the bundle, 1 when it "
        "refused it (the reason is printed).",
    )
    upload.add_argument("bundle", metavar="DIR")
    upload.add_argument("--to", required=True, metavar="URL", help="the results service")
    upload.set_defaults(func=run_upload)

    template = commands.add_parser("product-template", help="print a product.yaml to fill in")
    template.set_defaults(func=lambda args: print(PRODUCT_TEMPLATE, end="") or 0)


def _redactor(paths: list[str]) -> Redactor | None:
    if not paths:
        return None
    settings = []
    for path in paths:
        try:
            settings.append(load_yaml(Path(path).read_text(encoding="utf-8")))
        except (OSError, ValueError, yaml.YAMLError) as exc:
            raise ConfigurationError(f"--secrets-from {path}: cannot read it ({exc})") from None
    return Redactor.from_settings(settings)


def run_create(args: argparse.Namespace) -> int:
    out = create_submission(
        args.report,
        args.out,
        args.key,
        args.product,
        junit_path=args.junit,
        log_path=args.log,
        guideline_dirs=args.guideline_dirs,
        redactor=_redactor(args.secrets_from),
    )
    print(f"submission bundle written to {out}; check it with `interop submission verify {out}`")
    return 0


def run_verify(args: argparse.Namespace) -> int:
    result = verify_submission(args.bundle, args.key, args.guideline_dirs)
    for line in result.lines():
        print(line)
    return VERIFIED if result.ok else NOT_VERIFIED


def run_export_refstack(args: argparse.Namespace) -> int:
    source = Path(args.source)
    report_path = source / REPORT_NAME if source.is_dir() else source
    try:
        report = load_report(report_path)
    except (OSError, ValueError) as exc:
        raise ConfigurationError(f"{report_path}: cannot read the report ({exc})") from None
    out = write_refstack(args.out, report, cloud=args.cloud, cpid=args.cpid)
    print(f"RefStack upload written to {out}")
    return 0


def run_upload(args: argparse.Namespace) -> int:
    from pytest_interop.submission.upload import upload

    answer = upload(args.bundle, args.to)
    if answer.accepted:
        clouds = ", ".join(f"{c['cloud']}: {c['verdict']}" for c in answer.body.get("clouds", []))
        print(f"submission {answer.body.get('id')} stored ({clouds}); {answer.body.get('url')}")
        return 0
    print(f"refused ({answer.status}): {answer.body.get('error')}")
    for detail in answer.body.get("details") or []:
        print(f"  {detail}")
    return 1
