"""The verdict logic as pure functions over hand-made guidelines and outcomes."""

from __future__ import annotations

import pytest

from pytest_interop import compliance
from pytest_interop.compliance import TestOutcome, evaluate, select
from pytest_interop.guideline.model import Capability, Component, Flag, Guideline, Platform, TestRef

FLAG = Flag("unreliable", "fix it", "2017-01-01")


def guideline(**statuses: list[str]) -> Guideline:
    tests = {
        "cap-a": (TestRef("t.py::a", "aaaa"),),
        "cap-b": (TestRef("t.py::b", "bbbb"), TestRef("t.py::b2", "b2b2")),
        "cap-flagged": (TestRef("t.py::f", "ffff", flagged=FLAG),),
        "cap-none": (),
    }
    return Guideline(
        id="g",
        schema="2.0",
        platforms={"P": Platform("P", components=("c",))},
        components={"c": Component("c", {k: tuple(v) for k, v in statuses.items()})},
        capabilities={name: Capability(name, tests=t) for name, t in tests.items()},
    )


def outcome(test: str, result: str, cloud: str = "x", test_id: str | None = None) -> TestOutcome:
    return TestOutcome(f"t.py::{test}[{cloud}]", cloud, result, idempotent_id=test_id)


def verdict(g: Guideline, outcomes, missing=()) -> compliance.CloudVerdict:
    (result,) = evaluate(select([g], None), ["x"], outcomes, missing)
    return result


def results(v: compliance.CloudVerdict) -> dict[str, str]:
    return {c.name: c.result for c in v.capabilities}


def test_all_counted_capabilities_passed_is_compliant():
    g = guideline(required=["cap-a"], advisory=["cap-b"])
    v = verdict(g, [outcome("a", "passed"), outcome("b", "failed"), outcome("b2", "passed")])
    assert v.compliant
    assert results(v) == {"cap-a": "passed", "cap-b": "failed"}
    assert v.tally(counted=True) == (1, 1)
    assert v.tally(counted=False) == (0, 1)


def test_deprecated_still_counts():
    g = guideline(required=["cap-a"], deprecated=["cap-b"])
    v = verdict(g, [outcome("a", "passed"), outcome("b", "passed"), outcome("b2", "failed")])
    assert not v.compliant
    assert v.capabilities[1].first_failure().name == "t.py::b2"


def test_removed_capabilities_are_not_judged():
    g = guideline(required=["cap-a"], removed=["cap-b"])
    assert results(verdict(g, [outcome("a", "passed")])) == {"cap-a": "passed"}


def test_only_flagged_tests_pass_whatever_they_did():
    g = guideline(required=["cap-flagged"])
    assert verdict(g, [outcome("f", "failed")]).compliant


def test_missing_differs_from_not_run():
    g = guideline(required=["cap-a", "cap-b"])
    v = verdict(g, [outcome("b", "passed")], missing=["t.py::a"])
    assert results(v) == {"cap-a": "missing", "cap-b": "not_run"}
    assert not v.compliant


def test_a_capability_without_tests_is_missing():
    g = guideline(required=["cap-none"])
    assert results(verdict(g, [])) == {"cap-none": "missing"}


def test_matches_by_idempotent_id_before_name():
    g = guideline(required=["cap-a"])
    renamed = TestOutcome("t.py::new_name[x]", "x", "passed", idempotent_id="AAAA")
    assert verdict(g, [renamed]).compliant


@pytest.mark.parametrize(
    ("outcomes", "expected"),
    [
        (["passed", "not_applicable"], "passed"),
        (["not_applicable", "not_applicable"], "not_applicable"),
        (["passed", "skipped"], "not_run"),
        (["error", "failed"], "failed"),
        (["error", "passed"], "error"),
    ],
)
def test_results_combine_worst_first(outcomes, expected):
    g = guideline(required=["cap-b"])
    v = verdict(g, [outcome("b", outcomes[0]), outcome("b2", outcomes[1])])
    assert results(v) == {"cap-b": expected}


def test_every_cloud_is_judged_on_its_own_outcomes():
    g = guideline(required=["cap-a"])
    found = evaluate(
        select([g], None),
        ["x", "y"],
        [outcome("a", "passed", "x"), outcome("a", "failed", "y")],
    )
    assert [v.verdict for v in found] == ["compliant", "not compliant"]


def test_unknown_target_is_a_key_error():
    with pytest.raises(KeyError):
        select([guideline(required=["cap-a"])], "nowhere")
