"""Lint: the review a guideline proposal gets, as a pure function over loaded data.

The JSON Schema checks structure (``validate``); lint checks content. Each finding names
its check, so a reviewer (and a test) can see exactly which rule a proposal breaks:

==========================  =================================================================
check                       fault
==========================  =================================================================
test-missing                a listed test is not in the suite (shipped, or a --suite-dir)
idempotent-id-mismatch      the suite's test carries another idempotent id, or none
duplicate-idempotent-id     one id on two suite tests, or on two different guideline tests
required-untested           a required/deprecated capability has no unflagged test
flag-incomplete             a flag lacks its reason, action or date
below-cutoff                a required/deprecated capability scores under the cutoff (a
                            warning when required since an earlier guideline: DefCore's
                            cutoff gates entry, and "sticky" capabilities stayed; and in
                            an approved or superseded guideline, which records what the
                            committee decided rather than proposes it)
new-not-advisory            a capability absent from the replaced guideline enters as required
conflicting-status          a capability listed under two statuses of one component
undefined-capability        a component lists a capability the guideline does not define
malformed-date              a date that is not YYYY-MM-DD (flags) or YYYY.MM (guideline dates)
malformed-id                a guideline id or idempotent id that is not well formed
unknown-criterion           (warning) an achievement that names no scoring criterion
suite-problem               the suite has an unparsable file or a misplaced/odd mark
check-skipped               (info) a check that could not run, and why
==========================  =================================================================

``required-untested`` is an error; ``allow_untested=True`` (CLI ``--allow-untested``) turns
it into a warning, for a guideline whose tests are still being written.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from collections import defaultdict
from dataclasses import dataclass, field

from pytest_interop.guideline.model import COUNTED_STATUSES, Guideline
from pytest_interop.guideline.score import all_statuses, score_capability
from pytest_interop.guideline.suite import SuiteIndex

ERROR, WARNING, INFO = "error", "warning", "info"
# Guidelines that record a decision: lint reviews proposals, it does not re-open decisions.
DECIDED_STATUSES = ("approved", "superseded")
GUIDELINE_ID = re.compile(r"^(?:[a-z][a-z0-9_-]*\.)?(?:\d{4}\.(?:\d{2}|next)|next)$")
GUIDELINE_DATE = re.compile(r"^(\d{4})\.(\d{2})$")  # required_since: a guideline's date


@dataclass(frozen=True)
class LintFinding:
    check: str
    severity: str
    location: str  # capability / test / JSON-ish position the finding is about
    message: str

    def __str__(self) -> str:
        return f"{self.severity}: [{self.check}] {self.location}: {self.message}"

    def as_dict(self) -> dict:
        return {
            "check": self.check,
            "severity": self.severity,
            "location": self.location,
            "message": self.message,
        }


@dataclass
class LintReport:
    guideline: str
    path: str | None
    findings: list[LintFinding] = field(default_factory=list)

    def add(self, check: str, severity: str, location: str, message: str) -> None:
        self.findings.append(LintFinding(check, severity, location, message))

    @property
    def errors(self) -> list[LintFinding]:
        return [f for f in self.findings if f.severity == ERROR]

    @property
    def warnings(self) -> list[LintFinding]:
        return [f for f in self.findings if f.severity == WARNING]

    @property
    def ok(self) -> bool:
        return not self.errors

    def checks(self, severity: str | None = None) -> set[str]:
        return {f.check for f in self.findings if severity is None or f.severity == severity}

    def as_dict(self) -> dict:
        return {
            "guideline": self.guideline,
            "path": self.path,
            "ok": self.ok,
            "errors": len(self.errors),
            "warnings": len(self.warnings),
            "findings": [f.as_dict() for f in self.findings],
        }


def _is_iso_date(text: str) -> bool:
    try:
        dt.date.fromisoformat(text)
    except ValueError:
        return False
    return re.fullmatch(r"\d{4}-\d{2}-\d{2}", text) is not None


def _is_guideline_date(text: str) -> bool:
    match = GUIDELINE_DATE.fullmatch(text)
    return bool(match) and 1 <= int(match.group(2)) <= 12


def _is_uuid(text: str, *, version4: bool) -> bool:
    try:
        parsed = uuid.UUID(text)
    except ValueError:
        return False
    if version4:
        return str(parsed) == text and parsed.version == 4
    return True


def lint_guideline(
    guideline: Guideline,
    *,
    suite: SuiteIndex | None = None,
    previous: Guideline | None = None,
    allow_untested: bool = False,
) -> LintReport:
    """Review a loaded guideline.

    ``suite``: the scanned must-pass suite (needed for test checks of our guidelines).
    ``previous``: the guideline ``guideline.replaces`` names, for the new-capability check.
    """
    report = LintReport(guideline=guideline.id, path=guideline.path)
    ours = guideline.interop_schema is not None
    _check_ids_and_dates(guideline, report, ours)
    _check_components(guideline, report)
    _check_tests_listed(guideline, report, allow_untested)
    _check_scores(guideline, report)
    _check_new_capabilities(guideline, previous, report)
    if ours:
        _check_suite(guideline, suite, report)
    else:
        report.add(
            "check-skipped",
            INFO,
            guideline.id,
            "tests are Tempest tests (DefCore schema); suite checks apply to our guidelines only",
        )
    return report


def _check_ids_and_dates(guideline: Guideline, report: LintReport, ours: bool) -> None:
    if not GUIDELINE_ID.fullmatch(guideline.id):
        report.add(
            "malformed-id",
            ERROR,
            "metadata.id",
            f"guideline id {guideline.id!r} is not YYYY.MM, next, or <add-on>.YYYY.MM",
        )
    if guideline.approved and not (
        _is_iso_date(guideline.approved) or _is_guideline_date(guideline.approved)
    ):
        report.add(
            "malformed-date",
            ERROR,
            "target_approval",
            f"{guideline.approved!r} is not YYYY-MM-DD or YYYY.MM",
        )
    for capability in guideline.capabilities.values():
        since = capability.required_since
        if since and not _is_guideline_date(since):
            report.add(
                "malformed-date",
                ERROR,
                capability.name,
                f"required_since {since!r} is not a guideline date YYYY.MM",
            )
        for test in capability.tests:
            where = f"{capability.name}: {test.name}"
            if not test.idempotent_id:
                report.add("malformed-id", ERROR, where, "test has no idempotent id")
            elif not _is_uuid(test.idempotent_id, version4=ours):
                kind = "a lower-case uuid4" if ours else "a UUID"
                report.add(
                    "malformed-id",
                    ERROR,
                    where,
                    f"idempotent id {test.idempotent_id!r} is not {kind}",
                )
            flag = test.flagged
            if flag is None:
                continue
            missing = [
                name
                for name, value in (
                    ("reason", flag.reason),
                    ("action", flag.action),
                    ("date", flag.date),
                )
                if not value
            ]
            if missing:
                report.add(
                    "flag-incomplete",
                    ERROR,
                    where,
                    f"flag lacks {', '.join(missing)}; a flag needs reason, action and date",
                )
            if flag.date and not _is_iso_date(flag.date):
                report.add(
                    "malformed-date", ERROR, where, f"flag date {flag.date!r} is not YYYY-MM-DD"
                )


def _check_components(guideline: Guideline, report: LintReport) -> None:
    for component in guideline.components.values():
        seen: dict[str, list[str]] = defaultdict(list)
        for status, names in component.capabilities.items():
            for name in names:
                seen[name].append(status)
                if name not in guideline.capabilities:
                    report.add(
                        "undefined-capability",
                        ERROR,
                        f"components.{component.name}.{status}",
                        f"{name} is listed but not defined under capabilities",
                    )
        for name, statuses in seen.items():
            if len(statuses) > 1:
                report.add(
                    "conflicting-status",
                    ERROR,
                    f"components.{component.name}",
                    f"{name} is listed as {' and '.join(statuses)}; keep one status",
                )
    for capability in guideline.capabilities.values():
        for achievement in capability.achievements:
            if guideline.criteria and achievement not in guideline.criteria:
                report.add(
                    "unknown-criterion",
                    WARNING,
                    capability.name,
                    f"achievement {achievement!r} names no scoring criterion",
                )


def _check_tests_listed(guideline: Guideline, report: LintReport, allow_untested: bool) -> None:
    for name, status in all_statuses(guideline).items():
        capability = guideline.capabilities.get(name)
        if status not in COUNTED_STATUSES or capability is None:
            continue
        if not capability.counted_tests():
            report.add(
                "required-untested",
                WARNING if allow_untested else ERROR,
                name,
                f"{status} capability has no unflagged test; add one or make it advisory",
            )
    # The same idempotent id under two different test names (not aliases of each other).
    names_by_id: dict[str, set[str]] = defaultdict(set)
    aliases: dict[str, set[str]] = defaultdict(set)
    for _capability, test in guideline.iter_tests():
        if test.idempotent_id:
            names_by_id[test.idempotent_id].add(test.name)
            aliases[test.idempotent_id].update(test.aliases)
    for idempotent_id, names in names_by_id.items():
        distinct = names - aliases[idempotent_id]
        if len(distinct) > 1:
            report.add(
                "duplicate-idempotent-id",
                ERROR,
                idempotent_id,
                f"one idempotent id names different tests: {', '.join(sorted(distinct))}",
            )


def _check_scores(guideline: Guideline, report: LintReport) -> None:
    if guideline.cutoff_score is None:
        report.add("check-skipped", INFO, guideline.id, "no cutoff_score: scores not checked")
        return
    for name, status in all_statuses(guideline).items():
        if status not in COUNTED_STATUSES or name not in guideline.capabilities:
            continue
        scored = score_capability(guideline, name)
        if scored.meets_cutoff:
            continue
        since = guideline.capabilities[name].required_since
        if guideline.status in DECIDED_STATUSES:
            report.add(
                "below-cutoff",
                WARNING,
                name,
                f"{status} in this {guideline.status} guideline but scores {scored.score}, "
                f"under the cutoff {guideline.cutoff_score}; the committee decided so",
            )
            continue
        if _required_before(since, guideline):
            # DefCore kept capabilities that were already required ("sticky"): the cutoff
            # gates entry into required, so a grandfathered one is a warning to review.
            report.add(
                "below-cutoff",
                WARNING,
                name,
                f"{status} since {since} but scores {scored.score}, under the cutoff "
                f"{guideline.cutoff_score}; consider deprecating it",
            )
            continue
        report.add(
            "below-cutoff",
            ERROR,
            name,
            f"{status} capability scores {scored.score}, under the cutoff "
            f"{guideline.cutoff_score}; make it advisory or justify more achievements",
        )


def _required_before(since: str | None, guideline: Guideline) -> bool:
    """Whether ``since`` (YYYY.MM) predates the guideline (``next``: any date does)."""
    if not since or not _is_guideline_date(since):
        return False
    own = re.search(r"(\d{4}\.\d{2})$", guideline.id)
    return own is None or since < own.group(1)


def _check_new_capabilities(
    guideline: Guideline, previous: Guideline | None, report: LintReport
) -> None:
    if guideline.replaces is None:
        return
    if previous is None:
        report.add(
            "check-skipped",
            INFO,
            guideline.id,
            f"replaced guideline {guideline.replaces} not found: new-capability check skipped",
        )
        return
    before = all_statuses(previous)
    for name, status in all_statuses(guideline).items():
        if status in COUNTED_STATUSES and name not in before:
            report.add(
                "new-not-advisory",
                ERROR,
                name,
                f"new since {previous.id} but {status}; a new capability enters as advisory",
            )


def _check_suite(guideline: Guideline, suite: SuiteIndex | None, report: LintReport) -> None:
    if suite is None:
        report.add("check-skipped", INFO, guideline.id, "no suite scanned: test checks skipped")
        return
    for problem in suite.problems:
        report.add("suite-problem", ERROR, problem.split(": ", 1)[0], problem.split(": ", 1)[-1])
    for idempotent_id, tests in suite.by_idempotent_id().items():
        if len(tests) > 1:
            report.add(
                "duplicate-idempotent-id",
                ERROR,
                idempotent_id,
                "carried by several suite tests: " + ", ".join(t.node_id for t in tests),
            )
    for capability, test in guideline.iter_tests():
        where = f"{capability.name}: {test.name}"
        found = suite.tests.get(test.name)
        if found is None:
            report.add(
                "test-missing",
                ERROR,
                where,
                "no such test in the suite; check the node id (no [cloud] parameter) and that "
                "the function carries @pytest.mark.idempotent_id",
            )
        elif found.idempotent_id != test.idempotent_id:
            report.add(
                "idempotent-id-mismatch",
                ERROR,
                where,
                f"guideline says {test.idempotent_id}, the test's mark says "
                f"{found.idempotent_id} ({found.path}:{found.line})",
            )
