"""``interop report html REPORT.json [-o PATH]``: render the HTML page from a JSON report."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from pytest_interop.errors import ConfigurationError
from pytest_interop.report.html import write_html
from pytest_interop.report.json_report import load_report, validate_report


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "report", help="render reports from a run's JSON report", description=__doc__
    )
    commands = parser.add_subparsers(dest="report_command", metavar="FORMAT", required=True)
    html = commands.add_parser(
        "html",
        help="one self-contained HTML page: capability matrix, failures, variance",
    )
    html.add_argument("report", metavar="REPORT.json")
    html.add_argument(
        "-o", "--output", metavar="PATH", help="where to write (default: REPORT with .html)"
    )
    html.set_defaults(func=run_html)


def run_html(args: argparse.Namespace) -> int:
    source = Path(args.report)
    try:
        report = load_report(source)
    except (OSError, ValueError) as exc:
        raise ConfigurationError(f"{source}: cannot read the report ({exc})") from None
    problems = validate_report(report)
    if problems:
        raise ConfigurationError(f"{source} is not a valid report: {problems[0]}")
    out = write_html(args.output or source.with_suffix(".html"), report)
    print(f"HTML report written to {out}")
    return 0
