"""``interop report html REPORT.json [-o PATH]``: render the HTML page from a JSON report;
``interop report merge A.json B.json ... -o C.json``: combine runs into one report."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from pytest_interop.errors import ConfigurationError
from pytest_interop.report.html import write_html
from pytest_interop.report.json_report import load_report, validate_report


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "report", help="render or merge runs' JSON reports", description=__doc__
    )
    commands = parser.add_subparsers(dest="report_command", metavar="COMMAND", required=True)
    html = commands.add_parser(
        "html",
        help="one self-contained HTML page: capability matrix, failures, variance",
    )
    html.add_argument("report", metavar="REPORT.json")
    html.add_argument(
        "-o", "--output", metavar="PATH", help="where to write (default: REPORT with .html)"
    )
    html.set_defaults(func=run_html)
    merge = commands.add_parser(
        "merge",
        help="combine runs of the same guidelines on the same clouds (a re-run, --lf, -k parts)",
        description="Combine runs of the same guidelines, target and clouds: the later outcome "
        "of a test wins, each outcome keeps its run, every verdict is recomputed. Exit status "
        "as a run's: 0 compliant, 1 not compliant, 6 incomplete (tests still left out).",
    )
    merge.add_argument("reports", nargs="+", metavar="REPORT.json")
    merge.add_argument("-o", "--output", required=True, metavar="PATH", help="the merged report")
    merge.add_argument(
        "--guideline-dir",
        action="append",
        default=[],
        metavar="DIR",
        dest="guideline_dirs",
        help="where the guideline files the runs used are (default: the shipped ones)",
    )
    merge.set_defaults(func=run_merge)


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


def run_merge(args: argparse.Namespace) -> int:
    from pytest_interop import partial
    from pytest_interop.report.merge import write_merged
    from pytest_interop.report.terminal import summary_lines

    out, merged = write_merged(args.reports, args.output, args.guideline_dirs)
    for line in summary_lines(merged):
        print(line)
    print(f"merged report written to {out}")
    verdicts = [cloud["verdict"] for cloud in merged["clouds"]]
    if "incomplete" in verdicts:
        return partial.EXIT_INCOMPLETE
    return 0 if all(v == "compliant" for v in verdicts) else 1
