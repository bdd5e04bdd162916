"""Infrastructure failure is not non-compliance (issue 17, defect 9).

A run whose only failures are infrastructure errors was NOT COMPLIANT with exit 1, as a
real capability failure is, and pytest counted its call-phase infrastructure errors as
failed tests where the summary said ERROR. Now it is *inconclusive* with exit 7, and
pytest's tallies agree with the summary.
"""

from __future__ import annotations

from pytest_interop import compliance
from pytest_interop.guideline.model import Flag
from pytest_interop.inconclusive import EXIT_INCONCLUSIVE, exit_status, only_infrastructure

from .conftest import load_report


def _verdicts(report):
    return {c["name"]: c["verdict"] for c in report["clouds"]}


def test_only_infrastructure_errors_make_an_inconclusive_verdict_and_exit_7(synth):
    result = synth.runpytest("--guideline=2099.01", "--cloud=memory:broken")
    assert result.ret == EXIT_INCONCLUSIVE == 7
    report = load_report(synth)
    assert _verdicts(report) == {"memory:broken": "inconclusive"}
    # pytest counts the infrastructure errors as errors, as the summary does; the two
    # failures are real ones (a flagged and an advisory test)
    result.assert_outcomes(passed=2, failed=2, errors=2)
    result.stdout.fnmatch_lines(["memory:broken: INCONCLUSIVE *", "*INCONCLUSIVE: every failure*"])


def test_a_real_failure_beside_infrastructure_errors_is_not_compliant(synth):
    result = synth.runpytest(
        "--guideline=2099.01", "--cloud=memory:broken", "--cloud=memory:nolock"
    )
    assert result.ret == 1
    assert _verdicts(load_report(synth)) == {
        "memory:broken": "inconclusive",
        "memory:nolock": "not compliant",
    }


def test_compliant_beside_inconclusive_exits_7(synth):
    result = synth.runpytest("--guideline=2099.01", "--cloud=memory:broken", "--cloud=memory:ok")
    assert result.ret == 7
    assert _verdicts(load_report(synth)) == {
        "memory:broken": "inconclusive",
        "memory:ok": "compliant",
    }


def _capability(result, *tests):
    return compliance.CapabilityResult("g", "cap", "required", result, tuple(tests))


def _test(result, kind=None, flagged=None):
    return compliance.TestResult("t", None, result, flagged=flagged, error_kind=kind)


def test_only_infrastructure_looks_at_every_counted_failure():
    infra = _test(compliance.ERROR, compliance.INFRASTRUCTURE)
    setup_bug = _test(compliance.ERROR)
    failed = _test(compliance.FAILED)
    flagged = _test(compliance.FAILED, flagged=vars(Flag("r", "a", "2099-01-01")))
    passed = _test(compliance.PASSED)
    assert only_infrastructure([_capability(compliance.ERROR, infra, passed, flagged)])
    assert not only_infrastructure([_capability(compliance.ERROR, infra, setup_bug)])
    assert not only_infrastructure(
        [_capability(compliance.ERROR, infra), _capability(compliance.FAILED, failed)]
    )
    assert not only_infrastructure([_capability(compliance.MISSING)])
    assert not only_infrastructure([_capability(compliance.PASSED, passed)])


def test_exit_status_by_verdicts():
    def verdict(kind):
        return compliance.CloudVerdict("c", kind, ())

    assert exit_status([verdict(compliance.COMPLIANT)]) == 0
    assert exit_status([verdict(compliance.INCONCLUSIVE), verdict(compliance.COMPLIANT)]) == 7
    assert exit_status([verdict(compliance.INCONCLUSIVE), verdict(compliance.NOT_COMPLIANT)]) == 1
    assert exit_status([]) == 0
