"""What changed between two guidelines: capabilities by status, tests by idempotent id."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from pytest_interop.guideline.model import Guideline, TestRef
from pytest_interop.guideline.score import all_statuses

# Higher is stronger; a move up is a promotion (advisory -> required), down a demotion.
STATUS_RANK = {"removed": 0, "advisory": 1, "deprecated": 2, "required": 3}


@dataclass(frozen=True)
class StatusChange:
    capability: str
    old: str
    new: str


@dataclass(frozen=True)
class TestChange:
    __test__ = False

    capability: str
    test: str
    idempotent_id: str | None
    detail: str = ""  # the old name for a rename, the flag reason for a flag


@dataclass
class GuidelineDiff:
    old: str
    new: str
    capabilities_added: list[str] = field(default_factory=list)
    capabilities_removed: list[str] = field(default_factory=list)  # gone from every component
    promoted: list[StatusChange] = field(default_factory=list)
    demoted: list[StatusChange] = field(default_factory=list)
    tests_added: list[TestChange] = field(default_factory=list)
    tests_removed: list[TestChange] = field(default_factory=list)
    tests_renamed: list[TestChange] = field(default_factory=list)
    tests_flagged: list[TestChange] = field(default_factory=list)
    tests_unflagged: list[TestChange] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not any(v for k, v in self.as_dict().items() if k not in ("old", "new"))

    def as_dict(self) -> dict:
        return asdict(self)


def _test_key(test: TestRef) -> str:
    # Idempotent ids survive renames; fall back to the name where a file has none.
    return test.idempotent_id or f"name:{test.name}"


def diff_guidelines(old: Guideline, new: Guideline) -> GuidelineDiff:
    result = GuidelineDiff(old=old.id, new=new.id)
    old_status, new_status = all_statuses(old), all_statuses(new)
    for name, status in new_status.items():
        before = old_status.get(name)
        if before is None:
            result.capabilities_added.append(name)
        elif STATUS_RANK[status] > STATUS_RANK[before]:
            result.promoted.append(StatusChange(name, before, status))
        elif STATUS_RANK[status] < STATUS_RANK[before]:
            result.demoted.append(StatusChange(name, before, status))
    result.capabilities_removed = [name for name in old_status if name not in new_status]

    for name in dict.fromkeys([*old.capabilities, *new.capabilities]):
        old_tests = {_test_key(t): t for t in getattr(old.capabilities.get(name), "tests", ())}
        new_tests = {_test_key(t): t for t in getattr(new.capabilities.get(name), "tests", ())}
        for key, test in new_tests.items():
            before = old_tests.get(key)
            if before is None:
                result.tests_added.append(TestChange(name, test.name, test.idempotent_id))
                continue
            if before.name != test.name:
                result.tests_renamed.append(
                    TestChange(name, test.name, test.idempotent_id, before.name)
                )
            if before.flagged is None and test.flagged is not None:
                result.tests_flagged.append(
                    TestChange(name, test.name, test.idempotent_id, test.flagged.reason)
                )
            elif before.flagged is not None and test.flagged is None:
                result.tests_unflagged.append(TestChange(name, test.name, test.idempotent_id))
        for key, test in old_tests.items():
            if key not in new_tests:
                result.tests_removed.append(TestChange(name, test.name, test.idempotent_id))
    return result
