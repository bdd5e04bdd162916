"""From test outcomes to capability results to a verdict per cloud.

Pure functions over plain data, no I/O: the plugin calls them at the end of a run, and
``interop submission verify`` calls them again on a bundle's raw outcomes, so a reviewer
trusts the recomputed verdict rather than the submitter's summary.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from pytest_interop.guideline.model import COUNTED_STATUSES, RUN_STATUSES, Guideline, TestRef

# Test outcomes as the plugin records them.
PASSED, FAILED, ERROR, SKIPPED, NOT_APPLICABLE = (
    "passed",
    "failed",
    "error",
    "skipped",
    "not_applicable",
)
# What a guideline test can be for one cloud, beyond a recorded outcome.
MISSING, NOT_RUN = "missing", "not_run"
INFRASTRUCTURE = "infrastructure"

COMPLIANT, NOT_COMPLIANT = "compliant", "not compliant"
INCOMPLETE = "incomplete"  # a partial run: the user left tests out (pytest_interop.partial)
INCONCLUSIVE = "inconclusive"  # only infrastructure errors: see pytest_interop.inconclusive


@dataclass(frozen=True)
class TestOutcome:
    """One executed (or skipped) test item on one cloud."""

    __test__ = False

    nodeid: str  # the item's node id, ending in [cloud]
    cloud: str
    outcome: str  # passed | failed | error | skipped | not_applicable
    idempotent_id: str | None = None
    duration: float = 0.0
    message: str = ""
    findings: Mapping[str, Any] = field(default_factory=dict)
    error_kind: str | None = None  # "infrastructure" when the cloud, not the capability, failed
    call: str | None = None  # the failing cloud call, for infrastructure errors

    @property
    def test_name(self) -> str:
        """The node id a guideline refers to: the item's, without parameters."""
        return self.nodeid.split("[", 1)[0]

    def to_dict(self) -> dict[str, Any]:
        return {
            "nodeid": self.nodeid,
            "cloud": self.cloud,
            "outcome": self.outcome,
            "idempotent_id": self.idempotent_id,
            "duration": round(self.duration, 3),
            "message": self.message,
            "findings": dict(self.findings),
            "error_kind": self.error_kind,
            "call": self.call,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> TestOutcome:
        return cls(
            nodeid=data["nodeid"],
            cloud=data["cloud"],
            outcome=data["outcome"],
            idempotent_id=data.get("idempotent_id"),
            duration=float(data.get("duration") or 0.0),
            message=data.get("message") or "",
            findings=dict(data.get("findings") or {}),
            error_kind=data.get("error_kind"),
            call=data.get("call"),
        )


@dataclass(frozen=True)
class TestResult:
    """A guideline test's result on one cloud (several items when it is parametrized)."""

    __test__ = False

    name: str
    idempotent_id: str | None
    result: str  # an outcome, or missing / not_run
    flagged: Mapping[str, Any] | None = None
    nodeids: tuple[str, ...] = ()
    duration: float = 0.0
    message: str = ""
    findings: Mapping[str, Any] = field(default_factory=dict)
    error_kind: str | None = None
    call: str | None = None

    @property
    def counted(self) -> bool:
        return self.flagged is None


@dataclass(frozen=True)
class CapabilityResult:
    guideline: str
    name: str
    status: str
    result: str  # passed | failed | error | not_run | not_applicable | missing
    tests: tuple[TestResult, ...] = ()

    @property
    def counted(self) -> bool:
        return self.status in COUNTED_STATUSES

    def first_failure(self) -> TestResult | None:
        for test in self.tests:
            if test.counted and test.result != PASSED:
                return test
        return None


@dataclass(frozen=True)
class CloudVerdict:
    cloud: str
    verdict: str
    capabilities: tuple[CapabilityResult, ...]

    @property
    def compliant(self) -> bool:
        return self.verdict == COMPLIANT

    def tally(self, counted: bool) -> tuple[int, int]:
        """(passed, total) over counted (required, deprecated) or advisory capabilities."""
        chosen = [c for c in self.capabilities if c.counted == counted]
        return sum(c.result == PASSED for c in chosen), len(chosen)


@dataclass(frozen=True)
class Selection:
    """What a run must execute: the guideline tests its target needs, by guideline."""

    guideline: Guideline
    statuses: Mapping[str, str]  # capability name -> status, for the chosen target

    def tests_to_run(self) -> list[TestRef]:
        return [
            test
            for name, status in self.statuses.items()
            if status in RUN_STATUSES and name in self.guideline.capabilities
            for test in self.guideline.capabilities[name].tests
        ]


def select(guidelines: Sequence[Guideline], target: str | None) -> list[Selection]:
    """Choose each guideline's capabilities for ``target``.

    The target names a platform or component of the main guideline; add-ons that do not
    name it contribute all their components. Raises KeyError(target) when a guideline that
    is not an add-on lacks the target, or no guideline has it.
    """
    if target is not None and not any(target in g.targets() for g in guidelines):
        raise KeyError(target)
    selections = []
    for guideline in guidelines:
        if target is not None and target in guideline.targets():
            statuses = guideline.capability_statuses(target)
        elif guideline.is_add_on or target is None:
            statuses = guideline.capability_statuses(None)
        else:
            raise KeyError(target)
        selections.append(Selection(guideline, statuses))
    return selections


def _combine(results: Iterable[str]) -> str:
    """One result from several: any failure wins, then errors, then gaps, then n/a."""
    present = set(results)
    for worst in (FAILED, ERROR, MISSING, NOT_RUN):
        if worst in present:
            return worst
    if present == {NOT_APPLICABLE}:  # some results, all of them n/a
        return NOT_APPLICABLE
    if SKIPPED in present:
        return NOT_RUN
    return PASSED


def _test_result(
    test: TestRef,
    outcomes: Sequence[TestOutcome],
    missing: frozenset[str],
) -> TestResult:
    flag = None
    if test.flagged is not None:
        flag = {k: v for k, v in vars(test.flagged).items() if v is not None}
    if not outcomes:
        gone = test.name in missing or (test.idempotent_id or "") in missing
        return TestResult(test.name, test.idempotent_id, MISSING if gone else NOT_RUN, flag)
    if len(outcomes) == 1:  # the common case (one cloud, no other parameters), made directly
        only = outcomes[0]
        result = _combine((only.outcome,))
        return TestResult(
            name=test.name,
            idempotent_id=test.idempotent_id,
            result=result,
            flagged=flag,
            nodeids=(only.nodeid,),
            duration=only.duration,
            message=only.message if result != PASSED else "",
            findings=dict(only.findings),
            error_kind=only.error_kind,
            call=only.call,
        )
    result = _combine([o.outcome for o in outcomes])
    worst = next((o for o in outcomes if o.outcome == result), outcomes[0])
    findings: dict[str, Any] = {}
    for outcome in outcomes:
        findings.update(outcome.findings)
    return TestResult(
        name=test.name,
        idempotent_id=test.idempotent_id,
        result=result,
        flagged=flag,
        nodeids=tuple([o.nodeid for o in outcomes]),
        duration=sum(o.duration for o in outcomes),
        message=worst.message if result != PASSED else "",
        findings=findings,
        error_kind=worst.error_kind,
        call=worst.call,
    )


def evaluate(
    selections: Sequence[Selection],
    clouds: Sequence[str],
    outcomes: Iterable[TestOutcome],
    missing: Iterable[str] = (),
) -> list[CloudVerdict]:
    """Capability results and the verdict for each cloud.

    ``missing`` names the guideline tests (by name or idempotent id) that the suite does
    not contain; a test with no outcome that is not missing was *not run*. A capability
    passes when every counted test passed (one with only flagged tests passes); a cloud is
    compliant when every counted capability of the target passed.
    """
    missing_set = frozenset(missing)
    # Per cloud: idempotent id -> outcomes, test name -> outcomes.
    by_id: dict[str, dict[str, list[TestOutcome]]] = {cloud: {} for cloud in clouds}
    by_name: dict[str, dict[str, list[TestOutcome]]] = {cloud: {} for cloud in clouds}
    for outcome in outcomes:
        if outcome.idempotent_id:
            ids = by_id.setdefault(outcome.cloud, {})
            ids.setdefault(outcome.idempotent_id.lower(), []).append(outcome)
        names = by_name.setdefault(outcome.cloud, {})
        names.setdefault(outcome.test_name, []).append(outcome)

    verdicts = []
    for cloud in clouds:
        cloud_by_id, cloud_by_name = by_id[cloud], by_name[cloud]
        capabilities = []
        for selection in selections:
            guideline = selection.guideline
            for name, status in selection.statuses.items():
                capability = guideline.capabilities.get(name)
                tests = capability.tests if capability else ()
                if status not in RUN_STATUSES:
                    continue
                test_results = []
                for test in tests:
                    found = cloud_by_id.get((test.idempotent_id or "").lower(), ())
                    if not found:
                        found = cloud_by_name.get(test.name, ())
                    test_results.append(_test_result(test, found, missing_set))
                counted = [t.result for t in test_results if t.counted]
                if not test_results:
                    result = MISSING
                elif not counted:
                    result = PASSED  # only flagged tests: they never count against a cloud
                else:
                    result = _combine(counted)
                capabilities.append(
                    CapabilityResult(guideline.id, name, status, result, tuple(test_results))
                )
        compliant = all(c.result == PASSED for c in capabilities if c.counted)
        verdict = COMPLIANT if compliant else NOT_COMPLIANT
        if not compliant and _only_infrastructure(capabilities):
            verdict = INCONCLUSIVE
        verdicts.append(CloudVerdict(cloud, verdict, tuple(capabilities)))
    return verdicts


def _only_infrastructure(capabilities: Sequence[CapabilityResult]) -> bool:
    from pytest_interop.inconclusive import only_infrastructure

    return only_infrastructure(capabilities)
