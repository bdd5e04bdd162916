"""The incomplete verdict as pure functions: what is left out, and when it is covered."""

from __future__ import annotations

from pytest_interop import compliance, partial
from pytest_interop.compliance import select

from .test_compliance import guideline, outcome


def _verdict(outcomes, deselected, missing=()):
    g = guideline(required=["cap-a"], advisory=["cap-b"])
    (result,) = partial.evaluate(select([g], None), ["x"], outcomes, missing, deselected)
    return result


def test_a_test_left_out_without_an_outcome_makes_the_cloud_incomplete():
    v = _verdict([outcome("a", "passed"), outcome("b", "passed")], {"x": ["t.py::b2[x]"]})
    assert v.verdict == compliance.INCOMPLETE
    assert not v.compliant
    (b,) = [c for c in v.capabilities if c.name == "cap-b"]
    assert [t.result for t in b.tests] == ["passed", "not_run"]  # not run, never missing


def test_incomplete_even_when_what_ran_failed():
    v = _verdict([outcome("a", "failed")], {"x": ["t.py::b", "t.py::b2"]})
    assert v.verdict == compliance.INCOMPLETE


def test_an_outcome_covers_a_left_out_item_and_a_bare_name_covers_every_item():
    done = [outcome("a", "passed"), outcome("b", "passed"), outcome("b2", "passed")]
    assert _verdict(done, {"x": ["t.py::b2[x]"]}).verdict == compliance.COMPLIANT
    assert _verdict(done, {"x": ["t.py::b2"]}).verdict == compliance.COMPLIANT
    assert partial.still_left_out({"x": ["t.py::b2", "t.py::z[x]"]}, done) == {"x": ["t.py::z[x]"]}


def test_deselections_on_another_cloud_do_not_count_here():
    done = [outcome("a", "passed"), outcome("b", "passed"), outcome("b2", "passed")]
    assert _verdict(done, {"y": ["t.py::a[y]"]}).verdict == compliance.COMPLIANT


def test_exit_status_six_only_for_an_incomplete_verdict():
    done = [outcome("a", "passed"), outcome("b", "passed"), outcome("b2", "passed")]
    assert partial.exit_status([_verdict(done, {})]) is None
    assert partial.exit_status([_verdict(done[:1], {"x": ["t.py::b"]})]) == 6


def test_refusal_is_one_line_naming_how_the_run_was_narrowed():
    report = {
        "partial": True,
        "selection": {"deselected": {"x": ["t.py::b[x]", "t.py::b2"]}, "narrowed_by": ["-k a"]},
    }
    line = partial.partial_refusal(report, "r.json")
    assert line.startswith("r.json is a partial run (-k a left out 2 guideline tests;")
    assert "\n" not in line
    assert partial.partial_refusal({"partial": False}, "r.json") is None
