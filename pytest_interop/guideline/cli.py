"""``interop guideline {list,validate,show,tests,diff,score,coverage,lint}``.

Exit codes: 0 ok; 1 findings (validate or lint errors); 2 usage errors (raised as
ConfigurationError/GuidelineError and printed as one line by ``pytest_interop.cli.main``).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from pytest_interop import shipped
from pytest_interop.errors import ConfigurationError, GuidelineError
from pytest_interop.guideline.coverage import guideline_coverage
from pytest_interop.guideline.diff import GuidelineDiff, diff_guidelines
from pytest_interop.guideline.lint import lint_guideline
from pytest_interop.guideline.loading import (
    available_guidelines,
    load_guideline,
    read_document,
    resolve_guideline,
    schema_version,
    validate_document,
)
from pytest_interop.guideline.model import COUNTED_STATUSES, STATUSES, Guideline
from pytest_interop.guideline.score import score_guideline
from pytest_interop.guideline.suite import SuiteIndex, scan_suite

FINDINGS = 1
LOCAL_GUIDELINE_DIR = "guidelines"  # a project's own guideline folder, in the current directory


# --------------------------------------------------------------------------- helpers


def guideline_dirs(args: argparse.Namespace) -> list[Path]:
    """Local ``--guideline-dir`` folders (or ``./guidelines``) first, as they shadow shipped
    ids, then the guidelines the package ships."""
    local = list(args.guideline_dir or ())
    if not local and Path(LOCAL_GUIDELINE_DIR).is_dir():
        local = [LOCAL_GUIDELINE_DIR]
    for directory in local:
        if not Path(directory).is_dir():
            raise ConfigurationError(
                f"--guideline-dir {directory}: no such directory; pass a folder holding "
                "guideline .json files"
            )
    return [*(Path(d) for d in local), shipped.GUIDELINES_DIR]


def _load(ref: str, args: argparse.Namespace) -> Guideline:
    return load_guideline(ref, guideline_dirs(args))


def _emit(args: argparse.Namespace, payload: Any, text: Callable[[], list[str]]) -> None:
    if args.format == "json":
        json.dump(payload, sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        for line in text():
            print(line)


def _statuses(guideline: Guideline, target: str | None) -> dict[str, str]:
    try:
        return guideline.capability_statuses(target)
    except KeyError:
        raise ConfigurationError(
            f"--target {target!r} is not a platform, add-on or component of guideline "
            f"{guideline.id}; choose one of: {', '.join(guideline.targets())}"
        ) from None


def _target_name(guideline: Guideline, target: str | None) -> str:
    return target or guideline.broadest_platform or "all components"


def _scan(args: argparse.Namespace) -> SuiteIndex:
    """The shipped suite (node ids ``pytest_interop/suite/...``) and every local
    ``--suite-dir`` (node ids relative to ``--root``)."""
    index = scan_suite(shipped.PACKAGE_DIR.parent, [shipped.SUITE_DIR])
    root = Path(args.root)
    for entry in args.suite_dir or ():
        suite_dir = Path(entry)
        full = suite_dir if suite_dir.is_absolute() else root / suite_dir
        if not full.exists():
            raise ConfigurationError(
                f"--suite-dir {full}: not found; pass a folder of must-pass tests, relative "
                "to --root DIR"
            )
        local = scan_suite(root, [suite_dir])
        index.tests.update(local.tests)
        index.problems.extend(local.problems)
    return index


def _refs_or_all(refs: Sequence[str], args: argparse.Namespace) -> list[str]:
    if refs:
        return list(refs)
    found = available_guidelines(guideline_dirs(args))
    if not found:
        raise ConfigurationError(
            "no guideline given and none found; pass ID|FILE or --guideline-dir DIR"
        )
    return [str(path) for path in found.values()]


# --------------------------------------------------------------------------- commands


def cmd_list(args: argparse.Namespace) -> int:
    rows = []
    for guideline_id, path in available_guidelines(guideline_dirs(args)).items():
        try:
            guideline = load_guideline(path)
        except GuidelineError as exc:
            rows.append(
                {
                    "id": guideline_id,
                    "status": "invalid",
                    "date": None,
                    "schema": None,
                    "path": str(path),
                    "error": str(exc),
                }
            )
            continue
        schema = guideline.schema + (
            f" ({guideline.interop_schema})" if guideline.interop_schema else ""
        )
        rows.append(
            {
                "id": guideline.id,
                "status": guideline.status,
                "date": guideline.approved,
                "schema": schema,
                "path": str(path),
                "add_on": guideline.is_add_on,
            }
        )

    def text() -> list[str]:
        if not rows:
            return ["no guidelines found (pass --guideline-dir DIR)"]
        out = [f"{'ID':<20} {'STATUS':<11} {'DATE':<11} SCHEMA"]
        for row in rows:
            extra = f"  {row['error']}" if "error" in row else ""
            out.append(
                f"{row['id']:<20} {row['status']:<11} {row['date'] or '-':<11} "
                f"{row['schema'] or '-'}{extra}"
            )
        return out

    _emit(args, rows, text)
    return 0


def cmd_validate(args: argparse.Namespace) -> int:
    results = []
    for ref in _refs_or_all(args.refs, args):
        path = resolve_guideline(ref, guideline_dirs(args))
        try:
            data, _ = read_document(path)
        except GuidelineError as exc:
            results.append(
                {"path": str(path), "schema": None, "errors": [{"path": "$", "message": str(exc)}]}
            )
            continue
        issues = validate_document(data)
        results.append(
            {
                "path": str(path),
                "schema": schema_version(data),
                "errors": [{"path": i.path, "message": i.message} for i in issues],
            }
        )
    failed = sum(1 for r in results if r["errors"])

    def text() -> list[str]:
        out = []
        for r in results:
            if not r["errors"]:
                out.append(f"{r['path']}: ok (schema {r['schema']})")
            for error in r["errors"]:
                out.append(f"{r['path']}: {error['path']}: {error['message']}")
        out.append(f"{len(results)} file(s) checked, {failed} invalid")
        return out

    _emit(args, {"files": results, "invalid": failed}, text)
    return FINDINGS if failed else 0


def cmd_show(args: argparse.Namespace) -> int:
    guideline = _load(args.ref, args)
    statuses = _statuses(guideline, args.target)
    components: dict[str, dict[str, list[dict]]] = {}
    if args.target in guideline.components:
        component_names = [args.target]
    elif args.target in guideline.platforms:
        component_names = list(guideline.platforms[args.target].components)
    elif args.target in guideline.add_ons:
        component_names = list(guideline.add_ons[args.target].components)
    elif guideline.broadest_platform and args.target is None:
        component_names = list(guideline.platforms[guideline.broadest_platform].components)
    else:
        component_names = list(guideline.components)
    for cname in component_names:
        component = guideline.components.get(cname)
        if component is None:
            continue
        by_status: dict[str, list[dict]] = {}
        for status in STATUSES:
            entries = []
            for name in component.capabilities.get(status, ()):
                cap = guideline.capabilities.get(name)
                tests = cap.tests if cap else ()
                entries.append(
                    {
                        "name": name,
                        "tests": len(tests),
                        "flagged": sum(1 for t in tests if t.flagged),
                    }
                )
            by_status[status] = entries
        components[cname] = by_status
    payload = {
        "id": guideline.id,
        "schema": guideline.schema,
        "interop_schema": guideline.interop_schema,
        "status": guideline.status,
        "approved": guideline.approved,
        "replaces": guideline.replaces,
        "path": guideline.path,
        "sha256": guideline.sha256,
        "cutoff_score": guideline.cutoff_score,
        "target": _target_name(guideline, args.target),
        "targets": guideline.targets(),
        "required_platform_components": list(guideline.required_platform_components),
        "capability_count": len(statuses),
        "components": components,
    }

    def text() -> list[str]:
        out = [
            f"guideline {guideline.id} (schema {guideline.schema}"
            + (f", {guideline.interop_schema}" if guideline.interop_schema else "")
            + f"), status {guideline.status}, approved {guideline.approved or '-'}, "
            f"replaces {guideline.replaces or '-'}",
            f"file {guideline.path}  sha256 {guideline.sha256}",
            f"target {payload['target']}: {len(statuses)} capabilities; "
            f"targets: {', '.join(guideline.targets())}",
        ]
        if guideline.required_platform_components:
            out.append(
                "requires platform components: " + ", ".join(guideline.required_platform_components)
            )
        for cname, by_status in components.items():
            out.append(f"component {cname}:")
            for status, entries in by_status.items():
                if not entries:
                    continue
                out.append(f"  {status} ({len(entries)}):")
                for e in entries:
                    flagged = f", {e['flagged']} flagged" if e["flagged"] else ""
                    out.append(f"    {e['name']}  [{e['tests']} tests{flagged}]")
        return out

    _emit(args, payload, text)
    return 0


def cmd_tests(args: argparse.Namespace) -> int:
    guideline = _load(args.ref, args)
    wanted = set(COUNTED_STATUSES) | ({"advisory"} if args.include_advisory else set())
    statuses = _statuses(guideline, args.target)
    entries: dict[str, dict] = {}
    for name, status in statuses.items():
        cap = guideline.capabilities.get(name)
        if status not in wanted or cap is None:
            continue
        for test in cap.tests:
            if args.exclude_flagged and test.flagged:
                continue
            entries.setdefault(
                test.name,
                {
                    "name": test.name,
                    "idempotent_id": test.idempotent_id,
                    "capability": name,
                    "status": status,
                    "flagged": test.flagged is not None,
                },
            )

    def text() -> list[str]:
        # Ours: pytest node ids (run as they are); DefCore: RefStack's name[id-uuid] lines.
        if guideline.interop_schema is not None:
            return list(entries)
        return [
            f"{e['name']}[id-{e['idempotent_id']}]" if e["idempotent_id"] else e["name"]
            for e in entries.values()
        ]

    _emit(args, list(entries.values()), text)
    return 0


def _diff_text(diff: GuidelineDiff) -> list[str]:
    out = [f"diff {diff.old} -> {diff.new}"]
    sections = [
        ("capabilities added", [f"+ {n}" for n in diff.capabilities_added]),
        ("capabilities removed", [f"- {n}" for n in diff.capabilities_removed]),
        ("promoted", [f"^ {c.capability}: {c.old} -> {c.new}" for c in diff.promoted]),
        ("demoted", [f"v {c.capability}: {c.old} -> {c.new}" for c in diff.demoted]),
        ("tests added", [f"+ {t.capability}: {t.test}" for t in diff.tests_added]),
        ("tests removed", [f"- {t.capability}: {t.test}" for t in diff.tests_removed]),
        (
            "tests renamed",
            [f"~ {t.capability}: {t.detail} -> {t.test}" for t in diff.tests_renamed],
        ),
        ("tests flagged", [f"! {t.capability}: {t.test} ({t.detail})" for t in diff.tests_flagged]),
        ("tests unflagged", [f"* {t.capability}: {t.test}" for t in diff.tests_unflagged]),
    ]
    for title, lines in sections:
        if lines:
            out.append(f"{title} ({len(lines)}):")
            out.extend(f"  {line}" for line in lines)
    if diff.empty:
        out.append("no differences in capabilities or tests")
    return out


def cmd_diff(args: argparse.Namespace) -> int:
    diff = diff_guidelines(_load(args.old, args), _load(args.new, args))
    _emit(args, diff.as_dict(), lambda: _diff_text(diff))
    return 0


def cmd_score(args: argparse.Namespace) -> int:
    guideline = _load(args.ref, args)
    if args.results:
        return _score_from_results(args, guideline)
    if args.capability and args.capability not in guideline.capabilities:
        raise ConfigurationError(
            f"capability {args.capability!r} is not defined in guideline {guideline.id}; "
            "run 'interop guideline show' to list its capabilities"
        )
    scores = score_guideline(guideline, args.capability)

    def text() -> list[str]:
        cutoff = "-" if guideline.cutoff_score is None else guideline.cutoff_score
        out = [f"guideline {guideline.id}: cutoff {cutoff}"]
        for s in scores:
            verdict = {True: "ok", False: "BELOW CUTOFF", None: "-"}[s.meets_cutoff]
            out.append(f"{s.name:<40} {s.status or 'unlisted':<10} {s.score:>4}  {verdict}")
            if args.capability:
                out.append(f"  achieves: {', '.join(s.achievements) or '-'}")
                out.append(f"  misses:   {', '.join(s.missed) or '-'}")
                if s.unknown:
                    out.append(f"  unknown criteria: {', '.join(s.unknown)}")
        return out

    _emit(
        args,
        {
            "guideline": guideline.id,
            "cutoff": guideline.cutoff_score,
            "scores": [s.as_dict() for s in scores],
        },
        text,
    )
    return 0


def _score_from_results(args: argparse.Namespace, guideline: Guideline) -> int:
    """``--results``: fill "widely deployed" from stored results and write a proposal."""
    import datetime as dt

    from pytest_interop.results import scoring

    for option, value in (
        ("--threshold", args.threshold),
        ("--flag-threshold", args.flag_threshold),
    ):
        if not 0 < value <= 1:
            raise ConfigurationError(f"{option} {value}: give a share between 0 and 1, e.g. 0.5")
    if args.min_products < 1:
        raise ConfigurationError(f"--min-products {args.min_products}: give 1 or more")
    rule = scoring.Rule(args.threshold, args.min_products, args.flag_threshold)
    evidence = scoring.fetch(args.results)
    proposal = scoring.propose(guideline, evidence, rule, dt.date.today())
    out = scoring.write_proposal(proposal, args.out or f"{guideline.id}.proposal.json")
    _emit(
        args,
        {"guideline": guideline.id, "source": evidence.source, "proposal": str(out[0]),
         "evidence": str(out[1]), **scoring.summary(proposal)},
        lambda: scoring.lines(proposal, evidence.source, out),
    )  # fmt: skip
    return 0


def _our_guidelines(args: argparse.Namespace) -> list[Guideline]:
    ours = []
    for path in available_guidelines(guideline_dirs(args)).values():
        try:
            guideline = load_guideline(path)
        except GuidelineError:
            continue  # validate/lint report broken files; coverage uses the good ones
        if guideline.interop_schema is not None:
            ours.append(guideline)
    return ours


def _uncovered(report: Any) -> list[str]:
    """Capabilities that count or are announced (not removed) but lack a test of the suite,
    or list one it does not hold: for our guidelines only (DefCore ones name Tempest)."""
    if report.matched_by != "test":
        return []
    return [
        cap.name
        for cap in report.capabilities
        if cap.status != "removed" and (not cap.implemented or cap.tests_missing)
    ]


def cmd_coverage(args: argparse.Namespace) -> int:
    suite = _scan(args)
    ours = _our_guidelines(args)
    dirs = guideline_dirs(args)
    reports = [
        guideline_coverage(load_guideline(ref, dirs), suite, ours)
        for ref in _refs_or_all(args.refs, args)
    ]
    uncovered = {r.guideline: _uncovered(r) for r in reports}

    def text() -> list[str]:
        out = []
        for report in reports:
            out.append(
                f"coverage of {report.guideline} by this suite (matched by {report.matched_by}):"
            )
            for status, counts in report.summary().items():
                out.append(
                    f"  {status}: {counts['implemented']}/{counts['capabilities']} capabilities"
                )
            if len(reports) == 1 or args.verbose:
                for cap in report.capabilities:
                    mark = "yes" if cap.implemented else "no "
                    missing = f", {len(cap.tests_missing)} missing" if cap.tests_missing else ""
                    out.append(
                        f"  [{mark}] {cap.name} ({cap.status}): "
                        f"{len(cap.tests_implemented)} implemented{missing}"
                    )
            if report.matched_by == "test":
                names = uncovered[report.guideline]
                out.append(
                    f"  uncovered: {len(names)}" + (f" ({', '.join(names)})" if names else "")
                )
        return out

    # One shape whatever the number of guidelines: scripts read reports[i], never guess.
    payload = {"reports": [r.as_dict() for r in reports], "uncovered": uncovered}
    _emit(args, payload, text)
    return FINDINGS if args.check and any(uncovered.values()) else 0


def cmd_lint(args: argparse.Namespace) -> int:
    dirs = guideline_dirs(args)
    available = available_guidelines(dirs)
    suite: SuiteIndex | None = None
    reports = []
    for ref in _refs_or_all(args.refs, args):
        guideline = load_guideline(ref, dirs)
        previous = None
        if guideline.replaces and guideline.replaces in available:
            previous = load_guideline(available[guideline.replaces])
        if guideline.interop_schema is not None and suite is None:
            suite = _scan(args)
        reports.append(
            lint_guideline(
                guideline, suite=suite, previous=previous, allow_untested=args.allow_untested
            )
        )
    failed = sum(1 for r in reports if not r.ok)

    def text() -> list[str]:
        out = []
        for r in reports:
            for finding in r.findings:
                if finding.severity != "info" or args.verbose:
                    out.append(f"{r.path}: {finding}")
            out.append(
                f"{r.path}: {'ok' if r.ok else 'FAILED'} "
                f"({len(r.errors)} errors, {len(r.warnings)} warnings)"
            )
        return out

    _emit(args, {"reports": [r.as_dict() for r in reports], "failed": failed}, text)
    return FINDINGS if failed else 0


# --------------------------------------------------------------------------- parser


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--format", choices=("text", "json"), default="text", help="output format (default: text)"
    )
    parser.add_argument(
        "--guideline-dir",
        action="append",
        metavar="DIR",
        help="look guideline ids up here before the shipped guidelines (repeatable; "
        "default: ./guidelines if it exists)",
    )


def _suite_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--root",
        default=".",
        metavar="DIR",
        help="project root that node ids are relative to (default: .)",
    )
    parser.add_argument(
        "--suite-dir",
        action="append",
        default=[],
        metavar="DIR",
        help="a local folder of must-pass tests, relative to --root, scanned beside the "
        "shipped suite (repeatable)",
    )


def register(subparsers: argparse._SubParsersAction) -> None:
    group = subparsers.add_parser("guideline", help="read, check and compare guideline files")
    commands = group.add_subparsers(dest="guideline_command", metavar="SUBCOMMAND", required=True)

    p = commands.add_parser("list", help="guidelines found: id, status, date, schema")
    _common(p)
    p.set_defaults(func=cmd_list)

    p = commands.add_parser(
        "validate", help="check files against their JSON Schema (exit 1 on any error)"
    )
    p.add_argument("refs", nargs="*", metavar="ID|FILE", help="default: every guideline found")
    _common(p)
    p.set_defaults(func=cmd_validate)

    p = commands.add_parser("show", help="capabilities by component and status, with test counts")
    p.add_argument("ref", metavar="ID|FILE")
    p.add_argument(
        "--target", help="platform, add-on or component (default: the broadest platform)"
    )
    _common(p)
    p.set_defaults(func=cmd_show)

    p = commands.add_parser("tests", help="the must-pass test list, one per line")
    p.add_argument("ref", metavar="ID|FILE")
    p.add_argument(
        "--target", help="platform, add-on or component (default: the broadest platform)"
    )
    p.add_argument(
        "--include-advisory", action="store_true", help="add advisory capabilities' tests"
    )
    p.add_argument("--exclude-flagged", action="store_true", help="leave flagged tests out")
    _common(p)
    p.set_defaults(func=cmd_tests)

    p = commands.add_parser("diff", help="capabilities and tests changed between two guidelines")
    p.add_argument("old", metavar="OLD")
    p.add_argument("new", metavar="NEW")
    _common(p)
    p.set_defaults(func=cmd_diff)

    p = commands.add_parser("score", help="weighted achievement scores against the cutoff")
    p.add_argument("ref", metavar="ID|FILE")
    p.add_argument("capability", nargs="?", metavar="CAPABILITY")
    p.add_argument(
        "--results",
        metavar="URL|DB",
        help="fill 'widely deployed' from a results service (URL) or its database, and write "
        "a proposal (see --out)",
    )
    p.add_argument("--out", metavar="FILE", help="the proposal (default ID.proposal.json)")
    p.add_argument(
        "--threshold", type=float, default=0.5, metavar="SHARE",
        help="share of products that must pass a capability for 'deployed' (default 0.5)",
    )  # fmt: skip
    p.add_argument(
        "--min-products", type=int, default=2, metavar="N",
        help="products needed before the data decides (default 2)",
    )  # fmt: skip
    p.add_argument(
        "--flag-threshold", type=float, default=0.5, metavar="SHARE",
        help="share of products a required test fails on to become a flag candidate (0.5)",
    )  # fmt: skip
    _common(p)
    p.set_defaults(func=cmd_score)

    p = commands.add_parser("coverage", help="which capabilities and tests this suite implements")
    p.add_argument("refs", nargs="*", metavar="ID|FILE", help="default: every guideline found")
    p.add_argument(
        "--check",
        action="store_true",
        help="exit 1 when a capability of our guidelines (not removed) lacks a suite test",
    )
    p.add_argument("-v", "--verbose", action="store_true", help="list every capability")
    _suite_options(p)
    _common(p)
    p.set_defaults(func=cmd_coverage)

    p = commands.add_parser("lint", help="review checks for a guideline (exit 1 on any error)")
    p.add_argument("refs", nargs="*", metavar="ID|FILE", help="default: every guideline found")
    p.add_argument(
        "--allow-untested",
        action="store_true",
        help="report required capabilities without tests as warnings, not errors",
    )
    p.add_argument("-v", "--verbose", action="store_true", help="also print skipped checks")
    _suite_options(p)
    _common(p)
    p.set_defaults(func=cmd_lint)
