"""Which of a guideline's capabilities and tests this suite implements.

For our guidelines, a listed test counts when the suite has that node id with that
idempotent id. For a published DefCore guideline (Tempest tests), capabilities are matched
by name with our guidelines: a capability is implemented when one of ours lists it with at
least one test present in the suite.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field

from pytest_interop.guideline.model import Guideline
from pytest_interop.guideline.score import all_statuses
from pytest_interop.guideline.suite import SuiteIndex


@dataclass(frozen=True)
class CapabilityCoverage:
    name: str
    status: str
    tests_listed: int
    tests_implemented: tuple[str, ...]  # suite node ids that implement it
    tests_missing: tuple[str, ...]  # listed tests the suite lacks (ours only)

    @property
    def implemented(self) -> bool:
        return bool(self.tests_implemented)


@dataclass
class CoverageReport:
    guideline: str
    matched_by: str  # "test" (ours) or "capability name" (DefCore)
    capabilities: list[CapabilityCoverage] = field(default_factory=list)

    def summary(self) -> dict[str, dict[str, int]]:
        """Status -> {"capabilities": n, "implemented": m}."""
        out: dict[str, dict[str, int]] = {}
        for cap in self.capabilities:
            entry = out.setdefault(cap.status, {"capabilities": 0, "implemented": 0})
            entry["capabilities"] += 1
            entry["implemented"] += int(cap.implemented)
        return out

    def as_dict(self) -> dict:
        return {
            "guideline": self.guideline,
            "matched_by": self.matched_by,
            "summary": self.summary(),
            "capabilities": [
                {**asdict(c), "implemented": c.implemented} for c in self.capabilities
            ],
        }


def _present(suite: SuiteIndex, name: str, idempotent_id: str | None) -> bool:
    found = suite.tests.get(name)
    return found is not None and found.idempotent_id == idempotent_id


def guideline_coverage(
    guideline: Guideline, suite: SuiteIndex, implementations: Sequence[Guideline] = ()
) -> CoverageReport:
    """``implementations``: our guidelines, used to match a DefCore guideline by name."""
    statuses = all_statuses(guideline)
    if guideline.interop_schema is not None:
        report = CoverageReport(guideline.id, "test")
        for name, status in statuses.items():
            capability = guideline.capabilities.get(name)
            tests = capability.tests if capability else ()
            here = tuple(t.name for t in tests if _present(suite, t.name, t.idempotent_id))
            missing = tuple(t.name for t in tests if t.name not in here)
            report.capabilities.append(CapabilityCoverage(name, status, len(tests), here, missing))
        return report

    ours: dict[str, list[str]] = {}
    for other in implementations:
        for capability, test in other.iter_tests():
            if _present(suite, test.name, test.idempotent_id):
                ours.setdefault(capability.name, [])
                if test.name not in ours[capability.name]:
                    ours[capability.name].append(test.name)
    report = CoverageReport(guideline.id, "capability name")
    for name, status in statuses.items():
        capability = guideline.capabilities.get(name)
        listed = len(capability.tests) if capability else 0
        report.capabilities.append(
            CapabilityCoverage(name, status, listed, tuple(ours.get(name, ())), ())
        )
    return report
